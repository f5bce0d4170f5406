// An idempotent kafkajs producer for integration/test_cluster.py: sends one
// record at a time, round robin over the partitions, until the file named
// `stopFile` exists, and prints {"acked": [[partition, value, offset], ...],
// "failed": [message, ...]} as JSON on stdout.
//
// Takes one JSON job as its argument:
//   {"brokers": ["127.0.0.1:9092", ...], "topic": "t", "partitions": 3,
//    "stopFile": "/tmp/x/stop"}
'use strict'

const fs = require('fs')
const { Kafka, logLevel } = require('kafkajs')

async function main () {
  const job = JSON.parse(process.argv[2])
  const kafka = new Kafka({
    clientId: 'skiff-it-idempotent',
    brokers: job.brokers,
    logLevel: logLevel.NOTHING,
    retry: { initialRetryTime: 50, maxRetryTime: 1000, retries: 30 }
  })
  const producer = kafka.producer({ idempotent: true, maxInFlightRequests: 1 })
  await producer.connect()
  const acked = []
  const failed = []
  for (let i = 0; !fs.existsSync(job.stopFile); i++) {
    const partition = i % job.partitions
    try {
      const [md] = await producer.send({ topic: job.topic, acks: -1, messages: [{ partition, value: String(i) }] })
      acked.push([partition, i, Number(md.baseOffset)])
    } catch (e) {
      failed.push(`${i}: ${e.message}`)
    }
  }
  await producer.disconnect()
  process.stdout.write(JSON.stringify({ acked, failed }))
}

main().catch(e => {
  process.stderr.write(`${e.stack || e}\n`)
  process.exit(1)
})
