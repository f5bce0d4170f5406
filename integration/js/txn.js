// Transactions and idempotence through kafkajs 2.2.4, for
// integration/test_txn_kafkajs.py (InitProducerId, AddPartitionsToTxn,
// AddOffsetsToTxn, TxnOffsetCommit and EndTxn v1, Produce v7).
//
// Reads one JSON job from stdin:
//   {"brokers": ["127.0.0.1:9092"],
//    "steps": [{"op": "idempotent", "topic": "t", "messages": [MESSAGE, ...]},
//              {"op": "txn", "transactionalId": "x", "sends": [{"topic": "t", "messages": [...]}],
//               "offsets": {"consumerGroupId": "g", "topics": [{"topic": "t",
//                           "partitions": [{"partition": 0, "offset": "5"}]}]} | null,
//               "end": "commit" | "abort"}]}
// where MESSAGE is {"key": STRING|null, "value": STRING, "partition": N|null}.
// Runs the steps in order (a new producer per step) and prints
// {"results": [[RecordMetadata, ...] per step]} as JSON on stdout. Exits 1
// with the error on stderr if anything fails.
'use strict'

const { Kafka, logLevel } = require('kafkajs')

function message (m) {
  const out = { key: m.key, value: m.value }
  if (m.partition !== null && m.partition !== undefined) out.partition = m.partition
  return out
}

async function readStdin () {
  const chunks = []
  for await (const chunk of process.stdin) chunks.push(chunk)
  return JSON.parse(Buffer.concat(chunks).toString('utf8'))
}

async function idempotent (kafka, step) {
  const producer = kafka.producer({ idempotent: true, maxInFlightRequests: 1, allowAutoTopicCreation: true })
  await producer.connect()
  try {
    const out = []
    for (const m of step.messages) {
      out.push(...await producer.send({ topic: step.topic, acks: -1, messages: [message(m)] }))
    }
    return out
  } finally {
    await producer.disconnect()
  }
}

async function transaction (kafka, step) {
  const producer = kafka.producer({
    transactionalId: step.transactionalId,
    idempotent: true,
    maxInFlightRequests: 1,
    allowAutoTopicCreation: true
  })
  await producer.connect()
  try {
    const txn = await producer.transaction()
    const out = []
    for (const s of step.sends) {
      out.push(...await txn.send({ topic: s.topic, messages: s.messages.map(message) }))
    }
    if (step.offsets) await txn.sendOffsets(step.offsets)
    if (step.end === 'commit') await txn.commit()
    else await txn.abort()
    return out
  } finally {
    await producer.disconnect()
  }
}

async function main () {
  const job = await readStdin()
  const kafka = new Kafka({
    clientId: 'skiff-it-kafkajs-txn',
    brokers: job.brokers,
    logLevel: logLevel.WARN,
    connectionTimeout: 10000,
    requestTimeout: 30000
  })
  const results = []
  for (const step of job.steps) {
    if (step.op === 'idempotent') results.push(await idempotent(kafka, step))
    else if (step.op === 'txn') results.push(await transaction(kafka, step))
    else throw new Error(`unknown op ${step.op}`)
  }
  process.stdout.write(JSON.stringify({ results }) + '\n')
}

main().catch(err => {
  process.stderr.write(`${err.stack || err}\n`)
  process.exit(1)
})
