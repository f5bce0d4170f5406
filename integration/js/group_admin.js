// Group offset administration through kafkajs 2.2.4's admin client, for
// integration/test_group_admin_clients.py: fetchOffsets (OffsetFetch v4),
// setOffsets and resetOffsets (kafkajs joins the group with a consumer of
// its own and commits with its generation), deleteGroups (DeleteGroups v1),
// describeGroups (DescribeGroups v2), listGroups (ListGroups v2).
//
// stdin: {"brokers": ["host:port"], "steps": [{"op": ..., "args": ...}, ...]}
// stdout: {"results": [{"ok": <value>} | {"error": {...}}, ...]}, one per
// step, in order. An op is an admin method name (called with args as its
// one argument; describeGroups and deleteGroups take an array), or one of
//   "consumer.start" {name, groupId, topic}: a group consumer (eachMessage,
//       auto-commit, from the beginning); the step ends once it has joined
//       and answers its assignment;
//   "consumer.wait" {name, count}: waits until it has read count records;
//   "consumer.stop" {name}: disconnects it (LeaveGroup) and answers the
//       offsets it read, {partition: [offsets]}.
// describeGroups answers the members' metadata and assignment decoded with
// kafkajs's AssignerProtocol. Errors are reported, not thrown, flattened
// into {name, type, code, message, groups, cause}; KafkaJSDeleteGroupsError
// lists each failed group's {groupId, errorCode, type}.
'use strict'

const { Kafka, logLevel, AssignerProtocol } = require('kafkajs')

const WAIT_MS = 30000

function describeError (e) {
  const out = { name: e.name, type: e.type, code: e.code, message: e.message }
  if (Array.isArray(e.groups)) {
    out.groups = e.groups.map(g => ({ groupId: g.groupId, errorCode: g.errorCode, type: g.error && g.error.type }))
  }
  if (e.cause) out.cause = describeError(e.cause)
  if (e.originalError) out.cause = describeError(e.originalError)
  return out
}

function decodeGroups ({ groups }) {
  return {
    groups: groups.map(g => ({
      ...g,
      members: g.members.map(m => ({
        memberId: m.memberId,
        clientId: m.clientId,
        clientHost: m.clientHost,
        memberMetadata: m.memberMetadata.length ? AssignerProtocol.MemberMetadata.decode(m.memberMetadata) : null,
        memberAssignment: m.memberAssignment.length
          ? AssignerProtocol.MemberAssignment.decode(m.memberAssignment).assignment
          : null
      }))
    }))
  }
}

function until (cond, what) {
  return new Promise((resolve, reject) => {
    const deadline = Date.now() + WAIT_MS
    const check = () => {
      if (cond()) return resolve()
      if (Date.now() > deadline) return reject(new Error(`timed out waiting for ${what}`))
      setTimeout(check, 20)
    }
    check()
  })
}

async function startConsumer (kafka, consumers, { name, groupId, topic }) {
  const consumer = kafka.consumer({ groupId, sessionTimeout: 10000, heartbeatInterval: 300, maxWaitTimeInMs: 100 })
  const state = { consumer, read: {}, count: 0, assignment: null }
  consumers[name] = state
  consumer.on(consumer.events.GROUP_JOIN, e => { state.assignment = e.payload.memberAssignment })
  await consumer.connect()
  await consumer.subscribe({ topic, fromBeginning: true })
  await consumer.run({
    eachMessage: async ({ partition, message }) => {
      (state.read[partition] = state.read[partition] || []).push(Number(message.offset))
      state.count++
    }
  })
  await until(() => state.assignment !== null, `${name} to join`)
  return state.assignment
}

async function step (kafka, admin, consumers, { op, args }) {
  switch (op) {
    case 'consumer.start':
      return startConsumer(kafka, consumers, args)
    case 'consumer.wait': {
      const state = consumers[args.name]
      await until(() => state.count >= args.count, `${args.name} to read ${args.count} records`)
      return state.count
    }
    case 'consumer.stop': {
      const state = consumers[args.name]
      delete consumers[args.name]
      await state.consumer.disconnect()
      return state.read
    }
    case 'describeGroups':
      return decodeGroups(await admin.describeGroups(args))
    default:
      return admin[op](args)
  }
}

async function main () {
  const input = JSON.parse(require('fs').readFileSync(0, 'utf8'))
  const kafka = new Kafka({
    clientId: 'skiff-it-group-admin',
    brokers: input.brokers,
    logLevel: logLevel.NOTHING,
    retry: { retries: 2, initialRetryTime: 50, maxRetryTime: 200 }
  })
  const admin = kafka.admin()
  await admin.connect()
  const consumers = {}
  const results = []
  for (const s of input.steps) {
    try {
      const value = await step(kafka, admin, consumers, s)
      results.push({ ok: value === undefined ? null : value })
    } catch (e) {
      results.push({ error: describeError(e) })
    }
  }
  for (const state of Object.values(consumers)) await state.consumer.disconnect()
  await admin.disconnect()
  process.stdout.write(JSON.stringify({ results }))
}

main().catch(e => {
  process.stderr.write(`${e.stack || e}\n`)
  process.exit(1)
})
