// Runs kafkajs admin calls for integration/test_admin_kafkajs.py.
// stdin: {"brokers": ["host:port"], "steps": [{"op": "createTopics", "args": {...}}, ...]}
// stdout: {"results": [{"ok": <return value>} | {"error": {...}}, ...]}, one per step, in order.
// An "op" is an admin method name, or "produce" ({topic, messages}) for a
// producer.send. Errors are reported, not thrown, so one run can check
// several error cases; nested errors (KafkaJSAggregateError, retries
// exceeded) are flattened into {name, type, code, message, errors, cause}.
'use strict'

const { Kafka, logLevel } = require('kafkajs')

function describeError (e) {
  const out = { name: e.name, type: e.type, code: e.code, message: e.message }
  if (Array.isArray(e.errors)) out.errors = e.errors.map(describeError)
  if (e.cause) out.cause = describeError(e.cause)
  if (e.originalError) out.cause = describeError(e.originalError)
  return out
}

async function main () {
  const input = JSON.parse(require('fs').readFileSync(0, 'utf8'))
  const kafka = new Kafka({
    brokers: input.brokers,
    logLevel: logLevel.NOTHING,
    retry: { retries: 2, initialRetryTime: 50, maxRetryTime: 200 }
  })
  const admin = kafka.admin()
  await admin.connect()
  const results = []
  for (const step of input.steps) {
    try {
      let value
      if (step.op === 'produce') {
        const producer = kafka.producer()
        await producer.connect()
        try {
          value = await producer.send(step.args)
        } finally {
          await producer.disconnect()
        }
      } else {
        value = await admin[step.op](step.args)
      }
      results.push({ ok: value === undefined ? null : value })
    } catch (e) {
      results.push({ error: describeError(e) })
    }
  }
  await admin.disconnect()
  process.stdout.write(JSON.stringify({ results }))
}

main().catch(e => {
  process.stderr.write(`${e.stack || e}\n`)
  process.exit(1)
})
