// kafkajs 2.2.4 over TLS and SASL for integration/test_security.py: creates
// a topic, produces 10 records, consumes them in a group, and prints
// "created", "produced:N" and "consumed:FIRST-LAST" (offsets) on stdout.
// Settings from the environment: BROKER (host:port), CA (a PEM file: use
// TLS and trust it; empty: no TLS), MECH (plain, scram-sha-256,
// scram-sha-512, oauthbearer; empty: no SASL), USER, PASS (for
// oauthbearer: USER is the token's sub, an unsecured JWS made here).
'use strict'

const fs = require('fs')
const { Kafka, logLevel } = require('kafkajs')

async function main () {
  const env = process.env
  const config = { clientId: 'skiff-security', brokers: [env.BROKER], logLevel: logLevel.NOTHING }
  if (env.CA) config.ssl = { ca: [fs.readFileSync(env.CA, 'utf8')], servername: 'localhost' }
  if (env.MECH === 'oauthbearer') {
    const b64url = (o) => Buffer.from(JSON.stringify(o)).toString('base64url')
    const now = Math.floor(Date.now() / 1000)
    const token = b64url({ alg: 'none' }) + '.' + b64url({ sub: env.USER, iat: now, exp: now + 3600 }) + '.'
    config.sasl = { mechanism: 'oauthbearer', oauthBearerProvider: async () => ({ value: token }) }
  } else if (env.MECH) {
    config.sasl = { mechanism: env.MECH, username: env.USER, password: env.PASS }
  }
  const kafka = new Kafka(config)
  const topic = 'kjs-' + Date.now()

  const admin = kafka.admin()
  await admin.connect()
  await admin.createTopics({ topics: [{ topic, numPartitions: 1 }], waitForLeaders: true })
  await admin.disconnect()
  console.log('created')

  const producer = kafka.producer()
  await producer.connect()
  const messages = Array.from({ length: 10 }, (_, i) => ({ value: 'm' + i }))
  await producer.send({ topic, messages })
  await producer.disconnect()
  console.log('produced:' + messages.length)

  const consumer = kafka.consumer({ groupId: 'g-' + topic })
  await consumer.connect()
  await consumer.subscribe({ topic, fromBeginning: true })
  const offsets = []
  await new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error('timed out consuming')), 60000)
    consumer.run({
      eachMessage: async ({ message }) => {
        if (message.value.toString() !== 'm' + offsets.length) reject(new Error('unexpected ' + message.value))
        offsets.push(Number(message.offset))
        if (offsets.length === 10) {
          clearTimeout(timer)
          resolve()
        }
      }
    }).catch(reject)
  })
  await consumer.disconnect()
  console.log('consumed:' + offsets[0] + '-' + offsets[offsets.length - 1])
}

main().catch((e) => {
  console.error(e && e.stack ? e.stack : e)
  process.exit(1)
})
