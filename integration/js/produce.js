// Produces records to skiff with kafkajs, for integration/test_produce_fetch_kafkajs.py.
//
// Reads one JSON job from stdin:
//   {"brokers": ["127.0.0.1:9092"],
//    "calls": [{"op": "send", "topic": "t", "acks": -1, "compression": "gzip",
//               "messages": [MESSAGE, ...]},
//              {"op": "sendBatch", "acks": -1,
//               "topicMessages": [{"topic": "t", "messages": [MESSAGE, ...]}]}]}
// where MESSAGE is {"key": B64|null, "value": B64|null, "partition": N|null,
//                   "timestamp": "ms"|null, "headers": {"name": B64 | [B64, ...]}|null}
// (B64: base64 bytes). Runs the calls in order with one producer and prints
// {"results": [[RecordMetadata, ...] per call]} as JSON on stdout. Exits 1
// with the error on stderr if anything fails.
'use strict'

const { Kafka, CompressionTypes, logLevel } = require('kafkajs')

const COMPRESSION = { none: CompressionTypes.None, gzip: CompressionTypes.GZIP }

function bytes (b64) {
  return b64 === null || b64 === undefined ? null : Buffer.from(b64, 'base64')
}

function message (m) {
  const out = { key: bytes(m.key), value: bytes(m.value) }
  if (m.partition !== null && m.partition !== undefined) out.partition = m.partition
  if (m.timestamp !== null && m.timestamp !== undefined) out.timestamp = m.timestamp
  if (m.headers) {
    out.headers = {}
    for (const [name, v] of Object.entries(m.headers)) {
      out.headers[name] = Array.isArray(v) ? v.map(bytes) : bytes(v)
    }
  }
  return out
}

async function readStdin () {
  const chunks = []
  for await (const chunk of process.stdin) chunks.push(chunk)
  return JSON.parse(Buffer.concat(chunks).toString('utf8'))
}

async function main () {
  const job = await readStdin()
  const kafka = new Kafka({
    clientId: 'skiff-it-kafkajs',
    brokers: job.brokers,
    logLevel: logLevel.WARN,
    connectionTimeout: 10000,
    requestTimeout: 30000,
    retry: { retries: 5 }
  })
  const producer = kafka.producer({ allowAutoTopicCreation: true })
  await producer.connect()
  const results = []
  try {
    for (const call of job.calls) {
      const common = {
        acks: call.acks === undefined ? -1 : call.acks,
        compression: COMPRESSION[call.compression || 'none']
      }
      if (call.op === 'send') {
        results.push(await producer.send({ ...common, topic: call.topic, messages: call.messages.map(message) }))
      } else if (call.op === 'sendBatch') {
        const topicMessages = call.topicMessages.map(t => ({ topic: t.topic, messages: t.messages.map(message) }))
        results.push(await producer.sendBatch({ ...common, topicMessages }))
      } else {
        throw new Error(`unknown op ${call.op}`)
      }
    }
  } finally {
    await producer.disconnect()
  }
  process.stdout.write(JSON.stringify({ results }) + '\n')
}

main().catch(err => {
  process.stderr.write(`${err.stack || err}\n`)
  process.exit(1)
})
