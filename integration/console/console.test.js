// Drives skiff's web console in Debian's chromium (playwright-core, no
// downloaded browser): creates a topic, produces from the page and sees the
// message, watches a consumer group's lag fall while a real client
// (kafkajs) consumes, resets its offsets, adds and removes a fault rule.
// Checks each page with axe-core (no serious or critical violation) and
// saves a screenshot of it in OUT. Run by integration/test_console.py:
//   SKIFF_HTTP=http://127.0.0.1:PORT SKIFF_BOOTSTRAP=127.0.0.1:PORT OUT=dir node console.test.js
'use strict';

const assert = require('node:assert/strict');
const fs = require('node:fs');
const os = require('node:os');
const path = require('node:path');
const { chromium } = require('playwright-core');
const { Kafka, logLevel } = require('../js/node_modules/kafkajs');

const BASE = process.env.SKIFF_HTTP;
const BOOTSTRAP = process.env.SKIFF_BOOTSTRAP;
const OUT = process.env.OUT;
const CHROMIUM = process.env.CHROMIUM || '/usr/bin/chromium';
const TIMEOUT = 30000;

const started = Date.now();
function step(name) { console.log(`step: ${name} (at ${((Date.now() - started) / 1000).toFixed(1)} s)`); }

async function api(method, p, body) {
  const res = await fetch(BASE + p, { method, body: body && JSON.stringify(body), headers: { 'Content-Type': 'application/json' } });
  const text = await res.text();
  assert.ok(res.ok, `${method} ${p}: ${res.status} ${text}`);
  return text ? JSON.parse(text) : null;
}

/* The number in #id, once the page has redrawn. */
async function numberIn(page, sel) {
  return Number((await page.locator(sel).textContent()).replace(/,/g, ''));
}

/* axe-core, put in the page by the debugger protocol (page.evaluate of its
 * source), which the page's Content-Security-Policy does not govern. */
const AXE = fs.readFileSync(require.resolve('axe-core/axe.min.js'), 'utf8');

/* Runs axe-core's WCAG 2.x A and AA rules (and its best practices) on the
 * page as shown; returns the violations of serious or critical impact and
 * prints every violation found. */
async function accessibility(page, name) {
  if (!await page.evaluate(() => typeof window.axe !== 'undefined')) await page.evaluate(AXE);
  const found = await page.evaluate(async () => {
    const r = await window.axe.run(document, { resultTypes: ['violations'] });
    return r.violations.map(v => ({ id: v.id, impact: v.impact, help: v.help,
      nodes: v.nodes.map(n => n.target.join(' ') + (n.failureSummary ? ': ' + n.failureSummary.replace(/\s+/g, ' ') : '')) }));
  });
  for (const v of found) console.log(`axe on ${name}: ${v.impact} ${v.id} (${v.help}): ${v.nodes.join('; ')}`);
  console.log(`axe on ${name}: ${found.length} violations`);
  return found.filter(v => v.impact === 'serious' || v.impact === 'critical').map(v => `${name}: ${v.id}`);
}

async function main() {
  const profile = fs.mkdtempSync(path.join(os.tmpdir(), 'skiff-console-'));
  const ctx = await chromium.launchPersistentContext(profile, {
    executablePath: CHROMIUM,
    headless: true,
    args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update',
      '--disable-sync', '--no-first-run'],
    viewport: { width: 1280, height: 860 },
  });
  const page = ctx.pages()[0] || await ctx.newPage();
  page.setDefaultTimeout(TIMEOUT);
  const foreign = [];
  const failures = [];
  page.on('request', r => { if (!r.url().startsWith(BASE)) foreign.push(r.url()); });
  page.on('pageerror', e => failures.push(String(e)));
  page.on('console', m => { if (m.type() === 'error') failures.push(m.text()); }); /* CSP violations, failed loads */
  page.on('dialog', d => d.accept());
  const inaccessible = [];
  const shot = async name => {
    inaccessible.push(...await accessibility(page, name));
    await page.evaluate(() => document.getElementById('status').replaceChildren()); /* no toasts in pictures */
    await page.screenshot({ path: path.join(OUT, `${name}.png`), fullPage: true });
  };
  let consumer = null;
  try {
    step('overview');
    await page.goto(`${BASE}/`);
    await page.getByRole('heading', { name: 'Overview' }).waitFor();
    await page.getByText('Version').waitFor();
    // Keyboard: the first Tab reaches the skip link, then the navigation.
    await page.keyboard.press('Tab');
    assert.equal(await page.evaluate(() => document.activeElement.className), 'skip');
    await page.keyboard.press('Tab');
    await page.keyboard.press('Tab');
    await page.keyboard.press('Enter'); // the second link: Topics
    await page.getByRole('heading', { name: 'Topics' }).waitFor();

    step('create a topic');
    await page.getByLabel('Name', { exact: true }).fill('console-topic');
    await page.getByLabel('Partitions', { exact: true }).fill('2');
    await page.getByLabel('Configs (name=value per line)').fill('retention.ms=3600000');
    await page.getByRole('button', { name: 'Create topic' }).click();
    await page.getByRole('heading', { name: 'Topic console-topic' }).waitFor();
    const parts = await api('GET', '/v1/topics/console-topic');
    assert.equal(parts.partition_count, 2);
    const retention = page.getByLabel('Value of retention.ms');
    assert.equal(await retention.inputValue(), '3600000');
    await retention.fill('7200000');
    await page.getByRole('row', { name: /^retention\.ms/ }).getByRole('button', { name: 'Save' }).click();
    await page.getByText('retention.ms set').waitFor();
    const clusterId = (await api('GET', '/v3/clusters')).data[0].cluster_id;
    const configs = await api('GET', `/v3/clusters/${clusterId}/topics/console-topic/configs`);
    assert.equal(configs.data.find(c => c.name === 'retention.ms').value, '7200000');

    step('produce from the page');
    await page.goto(`${BASE}/console/#/messages/console-topic/1`);
    await page.getByRole('heading', { name: 'Messages of console-topic' }).waitFor();
    const produce = page.getByRole('form', { name: 'Produce a message' });
    await produce.getByLabel('Key', { exact: true }).fill('user-1');
    await produce.getByLabel('Value', { exact: true }).fill('{"hello":"world","n":[1,2]}');
    await produce.getByLabel('Headers (name=value per line)').fill('source=console');
    await produce.getByLabel('Partition', { exact: true }).fill('1');
    await produce.getByRole('button', { name: 'Produce' }).click();
    await page.getByRole('cell', { name: 'user-1' }).waitFor();
    await page.getByRole('cell', { name: 'source=console' }).waitFor();
    const stored = await api('GET', `/v3/clusters/${(await api('GET', '/v3/clusters')).data[0].cluster_id}/topics/console-topic/partitions/1/records`);
    assert.equal(stored.records.length, 1);
    assert.equal(Buffer.from(stored.records[0].value.data, 'base64').toString(), '{"hello":"world","n":[1,2]}');
    await page.locator('select[name=how]').selectOption('json');
    await page.getByRole('button', { name: 'Show' }).click();
    await page.getByText('"hello": "world"').waitFor();
    await shot('messages');
    await page.locator('select[name=how]').selectOption('hex');
    await page.getByRole('button', { name: 'Show' }).click();
    await page.getByText('7b 22 68 65 6c 6c 6f').waitFor();

    step('topic pages');
    await page.goto(`${BASE}/console/#/topics`);
    await page.getByRole('link', { name: 'console-topic' }).waitFor();
    await shot('topics');
    await page.getByRole('link', { name: 'console-topic' }).click();
    await page.getByRole('heading', { name: 'Partitions' }).waitFor();

    step('a group whose lag falls while kafkajs consumes');
    const cluster = (await api('GET', '/v3/clusters')).data[0].cluster_id;
    await api('POST', `/v3/clusters/${cluster}/topics`, { topic_name: 'lagging', partitions_count: 1 });
    const N = 300;
    const body = Array.from({ length: N }, (_, i) => JSON.stringify({ value: { type: 'STRING', data: `m${i}` } })).join('\n');
    const res = await fetch(`${BASE}/v3/clusters/${cluster}/topics/lagging/records`, { method: 'POST', body });
    assert.equal(res.status, 200);
    await api('POST', '/v1/groups/console-group/offsets/reset', { to: 'earliest', topic: 'lagging' });
    await page.goto(`${BASE}/console/#/groups`);
    await page.getByRole('link', { name: 'console-group' }).click();
    await page.locator('#total-lag', { hasText: String(N) }).waitFor();
    const kafka = new Kafka({ clientId: 'console-test', brokers: [BOOTSTRAP], logLevel: logLevel.NOTHING });
    consumer = kafka.consumer({ groupId: 'console-group' });
    await consumer.connect();
    await consumer.subscribe({ topic: 'lagging', fromBeginning: true });
    let consumed = 0;
    await consumer.run({
      autoCommitInterval: 300,
      eachMessage: async () => { consumed++; await new Promise(r => setTimeout(r, 15)); },
    });
    const seen = [N];
    for (;;) {
      await page.waitForFunction(prev => document.querySelector('#total-lag') &&
        Number(document.querySelector('#total-lag').textContent.replace(/,/g, '')) !== prev, seen[seen.length - 1], { timeout: 3 * TIMEOUT }); /* the consumer joins, then commits */
      const v = await numberIn(page, '#total-lag');
      seen.push(v);
      if (v > 0 && v < N && seen.length === 2) await shot('group');
      if (v === 0) break;
    }
    for (let i = 1; i < seen.length; i++) assert.ok(seen[i] <= seen[i - 1], `lag went up: ${seen}`);
    assert.equal(consumed >= N, true);
    console.log(`lag seen by the page: ${seen.join(' -> ')}`);
    await page.getByRole('cell', { name: 'console-test' }).first().waitFor();
    if (seen.length === 2) await shot('group');

    step('reset the offsets of the inactive group');
    await consumer.disconnect();
    consumer = null;
    await page.locator('#group-state', { hasText: 'Empty' }).waitFor();
    await page.locator('select[name=to]').selectOption('earliest');
    await page.getByRole('button', { name: 'Reset offsets' }).click();
    await page.locator('#total-lag', { hasText: String(N) }).waitFor();
    const lag = await api('GET', `/v3/clusters/${cluster}/consumer-groups/console-group/lag-summary`);
    assert.equal(lag.total_lag, N);
    await page.locator('select[name=to]').selectOption('offset');
    await page.getByLabel('Timestamp (ms or ISO) or offset').fill('250');
    await page.getByRole('button', { name: 'Reset offsets' }).click();
    await page.locator('#total-lag', { hasText: '50' }).waitFor();
    await shot('group-reset');
    await page.goto(`${BASE}/console/#/groups`);
    await page.getByRole('link', { name: 'console-group' }).waitFor();
    await shot('groups');

    step('an open transaction and its producer');
    const txProducer = kafka.producer({ transactionalId: 'console-txn', idempotent: true, maxInFlightRequests: 1 });
    await txProducer.connect();
    const tx = await txProducer.transaction();
    await tx.send({ topic: 'console-topic', messages: [{ partition: 0, value: 'in a transaction' }] });
    await page.goto(`${BASE}/console/#/transactions`);
    await page.getByRole('cell', { name: 'console-txn' }).waitFor();
    await page.getByRole('cell', { name: 'Ongoing' }).waitFor();
    await page.getByText('console-topic: 0').waitFor();
    await shot('transactions');
    await page.goto(`${BASE}/console/#/topics/console-topic`);
    await page.getByRole('heading', { name: 'Producers (idempotent and transactional)' }).waitFor();
    const lso = await api('GET', '/v1/topics/console-topic');
    assert.equal(lso.partitions[0].last_stable_offset, 0); /* the open transaction holds it */
    await shot('topic');
    await tx.abort();
    await txProducer.disconnect();
    await page.goto(`${BASE}/console/#/transactions`);
    await page.getByRole('cell', { name: 'CompleteAbort' }).waitFor();

    step('faults: add and remove a rule');
    await page.goto(`${BASE}/console/#/faults`);
    await page.getByLabel('API', { exact: true }).fill('Produce');
    await page.getByLabel('Error', { exact: true }).fill('NOT_LEADER_OR_FOLLOWER');
    await page.getByLabel('Times (0 = always)').fill('2');
    await page.getByRole('button', { name: 'Add rule' }).click();
    await page.getByRole('button', { name: /Remove rule/ }).waitFor();
    assert.equal((await api('GET', '/v1/faults')).rules.length, 1);
    await shot('faults');
    await page.getByRole('button', { name: /Remove rule/ }).click();
    await page.getByRole('cell', { name: 'None' }).waitFor();
    assert.equal((await api('GET', '/v1/faults')).rules.length, 0);

    step('delete a topic');
    await api('POST', `/v3/clusters/${cluster}/topics`, { topic_name: 'doomed', partitions_count: 1 });
    await page.goto(`${BASE}/console/#/topics`);
    await page.getByRole('button', { name: 'Delete topic doomed' }).click();
    await page.getByRole('link', { name: 'doomed' }).waitFor({ state: 'detached' });
    assert.equal((await api('GET', '/v1/topics')).topics.some(t => t.topic === 'doomed'), false);

    step('overview with traffic');
    await page.goto(`${BASE}/console/#/overview`);
    await page.getByRole('heading', { name: 'Throughput' }).waitFor();
    // Records keep coming over HTTP until the chart has drawn a few samples
    // and the messages-in rate of the last one is above 0.
    let sent = 0;
    const traffic = setInterval(() => {
      const batch = Array.from({ length: 20 }, () => JSON.stringify({ value: { type: 'STRING', data: `t${sent++}` } })).join('\n');
      fetch(`${BASE}/v3/clusters/${cluster}/topics/lagging/records`, { method: 'POST', body: batch }).then(r => r.text());
    }, 250);
    try {
      await page.waitForFunction(() => {
        const line = document.querySelector('polyline');
        const label = document.querySelector('svg[role=img]');
        return line && line.getAttribute('points').split(' ').length >= 4 && /in \(offsets appended\) [1-9]/.test(label.getAttribute('aria-label'));
      }, null, { timeout: 3 * TIMEOUT });
    } finally {
      clearInterval(traffic);
    }
    await shot('overview');

    assert.deepEqual(inaccessible, [], 'serious or critical accessibility violations (axe-core)');
    assert.deepEqual(foreign, [], 'requests outside skiff');
    assert.deepEqual(failures, [], 'page errors');
    console.log('console test passed');
  } finally {
    if (consumer) await consumer.disconnect().catch(() => {});
    await ctx.close();
    fs.rmSync(profile, { recursive: true, force: true });
  }
}

main().catch(e => { console.error(e); process.exit(1); });
