// Consume-transform-produce with kafkajs 2.2.4 transactions, written to
// survive broker crashes, for integration/test_crash_loop.py.
//
// Reads one JSON job from stdin:
//   {"brokers": ["127.0.0.1:9092"], "input": "in", "output": "out",
//    "groupId": "g", "transactionalId": "x", "total": 1200, "perTransaction": 5,
//    "budgetFile": "/path"}
// Copies `total` records of `input` to the same partition of `output`, at
// most perTransaction records per transaction, each transaction also
// committing the group's offsets (sendOffsets). When a transaction fails
// (the broker went away), it aborts what it can, starts a new producer with
// the same transactional id (which fences the old one) and asks the group's
// committed offset whether the transaction got through before retrying the
// records after it: the way an application keeps exactly-once across
// crashes. It starts no transaction while COPIED is at or past the number
// in budgetFile (the test paces it so). Prints "commit N COPIED" after each
// commit and "done COPIED" at the end; exits 1 with the error on stderr if
// something else fails.
'use strict'

const fs = require('fs')
const { Kafka, logLevel } = require('kafkajs')

const RETRY_MS = 300

async function readStdin () {
  const chunks = []
  for await (const chunk of process.stdin) chunks.push(chunk)
  return JSON.parse(Buffer.concat(chunks).toString('utf8'))
}

const sleep = ms => new Promise(resolve => setTimeout(resolve, ms))

// Runs fn until it succeeds, logging each failure.
async function retried (what, fn) {
  for (;;) {
    try {
      return await fn()
    } catch (e) {
      console.error(`${what}: ${e.name}: ${e.message}`)
      await sleep(RETRY_MS)
    }
  }
}

async function main () {
  const job = await readStdin()
  const kafka = new Kafka({ clientId: 'crash-copy', brokers: job.brokers, logLevel: logLevel.NOTHING })
  let producer = null
  const newProducer = async () => {
    if (producer) await producer.disconnect().catch(() => {})
    producer = kafka.producer({ transactionalId: job.transactionalId, idempotent: true, maxInFlightRequests: 1 })
    await producer.connect()
  }
  await retried('connect', newProducer)
  const admin = kafka.admin()
  await retried('admin', () => admin.connect())
  const committedOffset = async (topic, partition) => {
    const res = await admin.fetchOffsets({ groupId: job.groupId, topics: [topic] })
    return BigInt(res[0].partitions.find(p => p.partition === partition).offset)
  }

  // Copies `msgs` of one partition in one transaction; on failure finds
  // out from the committed offset which of them still need copying.
  const copy = async (topic, partition, msgs) => {
    while (msgs.length > 0) {
      let txn = null
      try {
        txn = await producer.transaction()
        await txn.send({ topic: job.output, messages: msgs.map(m => ({ value: m.value, partition })) })
        const next = (BigInt(msgs[msgs.length - 1].offset) + 1n).toString()
        await txn.sendOffsets({
          consumerGroupId: job.groupId,
          topics: [{ topic, partitions: [{ partition, offset: next }] }]
        })
        await txn.commit()
        return
      } catch (e) {
        console.error(`transaction: ${e.name}: ${e.message}`)
        if (txn) await txn.abort().catch(() => {})
        await retried('new producer', newProducer)
        const committed = await retried('committed offset', () => committedOffset(topic, partition))
        msgs = msgs.filter(m => BigInt(m.offset) >= committed)
      }
    }
  }

  const consumer = kafka.consumer({ groupId: job.groupId, readUncommitted: false })
  await consumer.connect()
  await consumer.subscribe({ topic: job.input, fromBeginning: true })
  let copied = 0
  let commits = 0
  let finish
  const finished = new Promise(resolve => { finish = resolve })
  await consumer.run({
    autoCommit: false,
    eachBatchAutoResolve: false,
    eachBatch: async ({ batch, resolveOffset, heartbeat, isRunning }) => {
      for (let i = 0; i < batch.messages.length && isRunning(); i += job.perTransaction) {
        const msgs = batch.messages.slice(i, i + job.perTransaction)
        while (copied >= Number(fs.readFileSync(job.budgetFile, 'utf8'))) {
          await sleep(10)
          await heartbeat().catch(() => {})
        }
        await copy(batch.topic, batch.partition, msgs)
        resolveOffset(msgs[msgs.length - 1].offset)
        copied += msgs.length
        console.log(`commit ${++commits} ${copied}`)
        await heartbeat().catch(() => {})
        if (copied >= job.total) finish()
      }
    }
  })
  await finished
  await consumer.disconnect()
  await producer.disconnect()
  await admin.disconnect()
  console.log(`done ${copied}`)
}

main().catch(e => {
  console.error(e)
  process.exit(1)
})
