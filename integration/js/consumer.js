// Drives kafkajs 2.2.4 group consumers for integration/test_kafkajs_groups.py
// (FindCoordinator v2, JoinGroup v5, SyncGroup v3, Heartbeat v3, LeaveGroup
// up to v3, OffsetCommit v5, OffsetFetch v4, Fetch v11).
//
// Interactive: one JSON command per line on stdin, one JSON event per line
// on stdout, so the test can start and stop consumers (and the broker)
// while others keep running.
//   {"op": "start", "name": "c1", "brokers": ["127.0.0.1:9092"], "groupId": "g",
//    "topics": ["t"], "mode": "eachMessage" | "eachBatch",
//    "commitBelow": N | null, "sessionTimeout": ms, "heartbeatInterval": ms}
//       commitBelow null: kafkajs's auto-commit (after every batch);
//       N: auto-commit off, and offset+1 is committed with commitOffsets for
//       every record whose offset is below N (eachBatch: once per batch).
//   {"op": "stop", "name": "c1"}      consumer.disconnect() (LeaveGroup)
//   {"op": "exit"}                    waits for the commands under way, disconnects
//                                     every consumer and exits 0
// Events: {"event": "ready"}, then per consumer "started", "join" (GROUP_JOIN:
// memberId, leaderId, isLeader, assignment {topic: [partitions]}), "message"
// (topic, partition, offset, key, value, headers: base64 strings or null;
// repeated headers as lists), "commit" (COMMIT_OFFSETS: topics), "crash"
// (CRASH: error, restart), "stopped", and "error" for a failed command.
'use strict'

const readline = require('readline')
const { Kafka, logLevel } = require('kafkajs')

const consumers = {}

function emit (event) {
  process.stdout.write(JSON.stringify(event) + '\n')
}

function b64 (buf) {
  if (buf === null || buf === undefined) return null
  return Buffer.from(buf).toString('base64')
}

function headers (h) {
  const out = {}
  for (const [name, v] of Object.entries(h || {})) {
    out[name] = Array.isArray(v) ? v.map(b64) : b64(v)
  }
  return out
}

function messageEvent (name, topic, partition, m) {
  return {
    event: 'message',
    name,
    topic,
    partition,
    offset: Number(m.offset),
    key: b64(m.key),
    value: b64(m.value),
    headers: headers(m.headers),
    timestamp: Number(m.timestamp)
  }
}

function describeError (e) {
  return { name: e.name, type: e.type, code: e.code, message: e.message }
}

async function start (cmd) {
  const { name } = cmd
  const kafka = new Kafka({
    clientId: `skiff-it-${name}`,
    brokers: cmd.brokers,
    logLevel: logLevel.NOTHING,
    retry: { retries: 8, initialRetryTime: 100, maxRetryTime: 2000 }
  })
  const commitBelow = cmd.commitBelow === undefined ? null : cmd.commitBelow
  const consumer = kafka.consumer({
    groupId: cmd.groupId,
    sessionTimeout: cmd.sessionTimeout || 10000,
    heartbeatInterval: cmd.heartbeatInterval || 300,
    maxWaitTimeInMs: 100
  })
  consumers[name] = consumer
  const { GROUP_JOIN, COMMIT_OFFSETS, CRASH } = consumer.events
  consumer.on(GROUP_JOIN, e => emit({
    event: 'join',
    name,
    memberId: e.payload.memberId,
    leaderId: e.payload.leaderId,
    isLeader: e.payload.isLeader,
    assignment: e.payload.memberAssignment
  }))
  consumer.on(COMMIT_OFFSETS, e => emit({ event: 'commit', name, topics: e.payload.topics }))
  consumer.on(CRASH, e => emit({ event: 'crash', name, error: describeError(e.payload.error), restart: e.payload.restart }))

  await consumer.connect()
  for (const topic of cmd.topics) {
    await consumer.subscribe({ topic, fromBeginning: true })
  }
  const commit = (topic, partition, offset) =>
    consumer.commitOffsets([{ topic, partition, offset: String(offset + 1) }])
  const run = { autoCommit: commitBelow === null }
  if (cmd.mode === 'eachBatch') {
    run.eachBatch = async ({ batch, resolveOffset, heartbeat }) => {
      let last = null
      for (const m of batch.messages) {
        emit(messageEvent(name, batch.topic, batch.partition, m))
        resolveOffset(m.offset)
        if (commitBelow !== null && Number(m.offset) < commitBelow) last = Number(m.offset)
      }
      if (last !== null) await commit(batch.topic, batch.partition, last)
      await heartbeat()
    }
  } else {
    run.eachMessage = async ({ topic, partition, message }) => {
      emit(messageEvent(name, topic, partition, message))
      if (commitBelow !== null && Number(message.offset) < commitBelow) {
        await commit(topic, partition, Number(message.offset))
      }
    }
  }
  await consumer.run(run)
  emit({ event: 'started', name })
}

async function stop (cmd) {
  const consumer = consumers[cmd.name]
  delete consumers[cmd.name]
  await consumer.disconnect()
  emit({ event: 'stopped', name: cmd.name })
}

// Commands run concurrently (several consumers start at once, as kafkajs
// users start them); the commands for one name run in order.
const pending = {}

function handle (cmd) {
  const run = async () => {
    try {
      if (cmd.op === 'start') await start(cmd)
      else if (cmd.op === 'stop') await stop(cmd)
      else throw new Error(`unknown op ${cmd.op}`)
    } catch (e) {
      emit({ event: 'error', op: cmd.op, name: cmd.name, error: describeError(e) })
    }
  }
  pending[cmd.name] = (pending[cmd.name] || Promise.resolve()).then(run)
}

async function main () {
  const lines = readline.createInterface({ input: process.stdin })
  emit({ event: 'ready' })
  for await (const line of lines) {
    if (!line.trim()) continue
    const cmd = JSON.parse(line)
    if (cmd.op === 'exit') break
    handle(cmd)
  }
  await Promise.all(Object.values(pending))
  await Promise.all(Object.keys(consumers).map(name => stop({ name })))
}

main().then(() => process.exit(0), err => {
  process.stderr.write(`${err.stack || err}\n`)
  process.exit(1)
})
