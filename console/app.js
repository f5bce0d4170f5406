/* skiff console: pages fed by skiff's HTTP API only (docs/console.md). No
 * framework, no build step; every text goes in through textContent. */
'use strict';

let cluster = '';
let timer = null;          /* the current page's refresh */
const history = {};        /* chart series kept across refreshes of a page */

/* ---- Helpers -------------------------------------------------------------- */

function h(tag, attrs, ...kids) {
  const e = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs || {})) {
    if (k.startsWith('on')) e.addEventListener(k.slice(2), v);
    else if (v === true) e.setAttribute(k, '');
    else if (v !== false && v != null) e.setAttribute(k, v);
  }
  for (const k of kids.flat()) if (k != null) e.append(k instanceof Node ? k : String(k));
  return e;
}

/* With skiff.http.token set, the API answers 401 until the page sends it. */
let token = sessionStorage.getItem('skiff-token') || '';

async function api(method, path, body, raw) {
  const opts = { method, headers: {} };
  if (token) opts.headers.Authorization = `Bearer ${token}`;
  if (body !== undefined) {
    opts.body = raw ? body : JSON.stringify(body);
    opts.headers['Content-Type'] = 'application/json';
  }
  const res = await fetch(path, opts);
  const text = await res.text();
  let data = null;
  try { data = text ? JSON.parse(text) : null; } catch (e) { data = text; }
  if (res.status === 401) {
    const given = prompt('This skiff needs its HTTP token (skiff.http.token):');
    if (given) {
      token = given;
      sessionStorage.setItem('skiff-token', token);
      return api(method, path, body, raw);
    }
  }
  if (!res.ok) {
    const msg = data && (data.message || data.detail) ? (data.message || data.detail) : res.statusText;
    const kafka = data && data.kafka_error ? ` (${data.kafka_error})` : '';
    throw new Error(`${res.status}: ${msg}${kafka}`);
  }
  return data;
}

function say(msg, bad) {
  const box = document.getElementById('status');
  const d = h('div', { class: bad ? 'bad' : '' }, msg);
  box.append(d);
  setTimeout(() => d.remove(), bad ? 8000 : 3500);
}

function fmtBytes(n) {
  const u = ['B', 'KiB', 'MiB', 'GiB', 'TiB'];
  let i = 0;
  while (n >= 1024 && i < u.length - 1) { n /= 1024; i++; }
  return `${n.toFixed(i && n < 10 ? 1 : 0)} ${u[i]}`;
}
const fmtNum = n => Number(n).toLocaleString('en-US');
const v3 = p => `/v3/clusters/${encodeURIComponent(cluster)}${p}`;
const enc = encodeURIComponent;

function table(headers, rows, numeric) {
  numeric = numeric || [];
  return h('table', {},
    h('thead', {}, h('tr', {}, headers.map((t, i) => h('th', { scope: 'col', class: numeric.includes(i) ? 'num' : '' },
      t || h('span', { class: 'sr-only' }, 'Actions'))))), /* a column of buttons: named for screen readers */
    h('tbody', {}, rows.length ? rows.map(r => h('tr', {}, r.map((c, i) => h('td', { class: numeric.includes(i) ? 'num' : '' }, c))))
      : h('tr', {}, h('td', { colspan: headers.length, class: 'muted' }, 'None'))));
}

function field(label, input) { return h('label', {}, label, input); }

/* Bytes from base64, and as text, pretty JSON or hex. */
function b64bytes(s) { const bin = atob(s); const a = new Uint8Array(bin.length); for (let i = 0; i < bin.length; i++) a[i] = bin.charCodeAt(i); return a; }
function bytesb64(a) { let s = ''; for (let i = 0; i < a.length; i++) s += String.fromCharCode(a[i]); return btoa(s); }
function show(data, how) {
  if (data == null) return h('span', { class: 'muted' }, 'null');
  const a = b64bytes(data.data);
  let text;
  if (how === 'hex') {
    text = Array.from(a, (b, i) => b.toString(16).padStart(2, '0') + ((i + 1) % 16 ? ' ' : '\n')).join('');
  } else {
    text = new TextDecoder('utf-8', { fatal: false }).decode(a);
    if (how === 'json') { try { text = JSON.stringify(JSON.parse(text), null, 2); } catch (e) { /* not JSON: as text */ } }
  }
  return h('pre', {}, text);
}

/* A line chart in SVG: series [{name, color, values}] over the last N samples. */
function chart(title, series, unit) {
  const W = 600, H = 180, L = 58, B = 22;
  const n = Math.max(2, ...series.map(s => s.values.length));
  const max = Math.max(unit === 'bytes' ? 1024 : 1, ...series.flatMap(s => s.values)); /* no "1 B" on every tick */
  const svg = document.createElementNS('http://www.w3.org/2000/svg', 'svg');
  svg.setAttribute('viewBox', `0 0 ${W} ${H}`);
  svg.setAttribute('role', 'img');
  svg.setAttribute('aria-label', `${title}: ` + series.map(s => `${s.name} ${fmtNum(Math.round(s.values[s.values.length - 1] || 0))}`).join(', '));
  const add = (tag, at) => { const e = document.createElementNS(svg.namespaceURI, tag); for (const k in at) e.setAttribute(k, at[k]); svg.append(e); return e; };
  for (let i = 0; i <= 4; i++) {
    const y = 6 + (H - B - 6) * i / 4;
    add('line', { x1: L, x2: W - 4, y1: y, y2: y, stroke: '#c9d0da' });
    const t = add('text', { x: L - 6, y: y + 4, 'text-anchor': 'end', 'font-size': 11, fill: '#4a5360' });
    const v = max * (4 - i) / 4;
    t.textContent = unit === 'bytes' ? fmtBytes(v) : max < 10 ? v.toFixed(1) : fmtNum(Math.round(v));
  }
  const lbl = add('text', { x: W - 4, y: H - 6, 'text-anchor': 'end', 'font-size': 11, fill: '#4a5360' });
  lbl.textContent = `last ${n} samples, 2 s apart`;
  for (const s of series) {
    const pts = s.values.map((v, i) => `${L + (W - L - 4) * (i + n - s.values.length) / (n - 1)},${6 + (H - B - 6) * (1 - v / max)}`);
    add('polyline', { points: pts.join(' '), fill: 'none', stroke: s.color, 'stroke-width': 2 });
  }
  return h('figure', { class: 'chart' }, h('figcaption', {}, h('strong', {}, title)), svg,
    h('div', { class: 'legend' }, series.map(s => h('span', { class: `sw-${s.color.slice(6, 8)}` }, s.name))));
}

/* Keeps `key`'s last 60 values of each counter as per-second rates. */
function rates(key, counters) {
  const now = Date.now();
  const st = history[key] || (history[key] = { last: null, at: 0, series: {} });
  if (st.last) {
    const dt = (now - st.at) / 1000;
    for (const k of Object.keys(counters)) {
      const arr = st.series[k] || (st.series[k] = []);
      arr.push(Math.max(0, (counters[k] - st.last[k]) / dt));
      if (arr.length > 60) arr.shift();
    }
  }
  st.last = counters; st.at = now;
  return k => st.series[k] || [];
}
function gauge(key, name, value) {
  const st = history[key] || (history[key] = { series: {} });
  const arr = st.series[name] || (st.series[name] = []);
  arr.push(value);
  if (arr.length > 60) arr.shift();
  return arr;
}

/* ---- Pages ---------------------------------------------------------------- */

async function overview(main) {
  const [o, cl, brokers] = await Promise.all([api('GET', '/v1/overview'), api('GET', v3('')), api('GET', v3('/brokers'))]);
  const r = rates('overview', o.counters);
  const controller = cl.controller.related.split('/').pop();
  main.replaceChildren(
    h('h1', {}, 'Overview'),
    h('div', { class: 'cards' },
      [['Version', o.version], ['Node id', o.node_id], ['Uptime', `${Math.floor(o.uptime_s / 3600)} h ${Math.floor(o.uptime_s / 60) % 60} min ${Math.floor(o.uptime_s % 60)} s`],
        ['Topics', fmtNum(o.totals.topics)], ['Partitions', fmtNum(o.totals.partitions)], ['Messages', fmtNum(o.totals.messages)],
        ['Size', fmtBytes(o.totals.size_bytes)], ['Consumer groups', fmtNum(o.totals.groups)], ['Connections', fmtNum(o.totals.connections)]]
        .map(([k, v]) => h('div', { class: 'card' }, h('div', { class: 'k' }, k), h('div', { class: 'v' }, v)))),
    h('h2', {}, 'Brokers'),
    table(['Broker id', 'Address for Kafka clients', 'Rack', 'Role'], brokers.data.map(b => [b.broker_id, `${b.host}:${b.port}`, b.rack || '',
      [String(b.broker_id) === controller ? 'controller' : '', b.broker_id === o.node_id ? 'serves this console' : ''].filter(Boolean).join(', ')]), [0]),
    h('h2', {}, 'Listeners'),
    table(['Kind', 'Address'], [['Kafka (configured)', o.listeners.kafka], ['Kafka (bound)', o.listeners.bound.join(', ')], ['Advertised', o.listeners.advertised || '(the address each client connected to)'], ['HTTP', o.listeners.http]]),
    h('h2', {}, 'Throughput'),
    h('div', { class: 'charts' },
      chart('Messages per second', [{ name: 'in (offsets appended)', color: 'var(--c1)', values: r('messages_in') },
        { name: 'out (offsets committed by groups)', color: 'var(--c2)', values: r('consumed') }]),
      chart('Bytes per second', [{ name: 'in (produced record batches)', color: 'var(--c3)', values: r('bytes_in') },
        { name: 'out (fetched record batches)', color: 'var(--c4)', values: r('bytes_out') }], 'bytes')));
}

async function topics(main) {
  const t = await api('GET', '/v1/topics');
  const rows = t.topics.filter(x => !x.internal || document.getElementById('internal')?.checked).map(x => [
    h('a', { href: `#/topics/${enc(x.topic)}` }, x.topic), x.partition_count, fmtNum(x.messages), fmtBytes(x.size_bytes),
    x.internal ? 'internal' : h('button', { class: 'danger', 'aria-label': `Delete topic ${x.topic}`, onclick: () => deleteTopic(x.topic) }, 'Delete')]);
  const form = h('form', { class: 'inline', 'aria-label': 'Create a topic', onsubmit: createTopic },
    field('Name', h('input', { name: 'name', required: true, pattern: '[a-zA-Z0-9._\\-]+', id: 'new-topic' })),
    field('Partitions', h('input', { name: 'partitions', type: 'number', min: 1, value: 1, required: true })),
    field('Configs (name=value per line)', h('textarea', { name: 'configs', placeholder: 'retention.ms=86400000' })),
    h('button', { type: 'submit' }, 'Create topic'));
  const showInternal = document.getElementById('internal')?.checked || false;
  main.replaceChildren(h('h1', {}, 'Topics'), form,
    h('label', { class: 'check' },
      h('input', { type: 'checkbox', id: 'internal', checked: showInternal, onchange: () => route() }), 'Show internal topics'),
    table(['Topic', 'Partitions', 'Messages', 'Size', ''], rows, [1, 2, 3]));
}

async function createTopic(ev) {
  ev.preventDefault();
  const f = ev.target;
  const configs = f.configs.value.split('\n').map(l => l.trim()).filter(Boolean).map(l => {
    const i = l.indexOf('=');
    return { name: l.slice(0, i).trim(), value: l.slice(i + 1).trim() };
  });
  try {
    await api('POST', v3('/topics'), { topic_name: f.name.value, partitions_count: Number(f.partitions.value), configs });
    say(`Created topic ${f.name.value}`);
    location.hash = `#/topics/${enc(f.name.value)}`;
  } catch (e) { say(e.message, true); }
}

async function deleteTopic(name) {
  if (!confirm(`Delete topic ${name} and all its records?`)) return;
  try { await api('DELETE', v3(`/topics/${enc(name)}`)); say(`Deleted topic ${name}`); route(); } catch (e) { say(e.message, true); }
}

async function topicPage(main, name) {
  const [t, cfg, prod] = await Promise.all([api('GET', `/v1/topics/${enc(name)}`), api('GET', v3(`/topics/${enc(name)}/configs`)),
    api('GET', `/v1/topics/${enc(name)}/producers`).catch(() => null)]);
  const end = t.partitions.reduce((s, p) => s + p.high_watermark, 0);
  const r = rates(`topic:${name}`, { messages: end });
  const producers = [];
  for (const tp of (prod && prod.topics) || [])
    for (const p of tp.partitions || [])
      for (const s of p.active_producers || [])
        producers.push([p.partition_index, s.producer_id, s.producer_epoch, s.last_sequence, s.current_txn_start_offset]);
  main.replaceChildren(h('h1', {}, `Topic ${name}`),
    h('p', {}, h('a', { href: `#/messages/${enc(name)}/0` }, 'Browse messages'), ' · ', t.partition_count, ' partitions'),
    chart('Messages per second', [{ name: 'appended', color: 'var(--c1)', values: r('messages') }]),
    h('h2', {}, 'Partitions'),
    table(['Partition', 'Log start offset', 'High watermark', 'Last stable offset', 'Segments', 'Size'],
      t.partitions.map(p => [h('a', { href: `#/messages/${enc(name)}/${p.partition}` }, p.partition), fmtNum(p.log_start_offset), fmtNum(p.high_watermark),
        fmtNum(p.last_stable_offset), p.segments, fmtBytes(p.size_bytes)]), [1, 2, 3, 4, 5]),
    h('h2', {}, 'Configs'),
    table(['Name', 'Value', 'Source', ''], cfg.data.map(c => {
      const input = h('input', { value: c.value ?? '', 'aria-label': `Value of ${c.name}`, disabled: c.is_read_only, size: 28 });
      return [c.name, input, c.source,
        c.is_read_only ? '' : h('span', {},
          h('button', { class: 'secondary', onclick: () => alterConfig(name, c.name, 'SET', input.value) }, 'Save'), ' ',
          c.source === 'DYNAMIC_TOPIC_CONFIG' ? h('button', { class: 'secondary', onclick: () => alterConfig(name, c.name, 'DELETE') }, 'Reset') : null)];
    })),
    h('h2', {}, 'Producers (idempotent and transactional)'),
    table(['Partition', 'Producer id', 'Epoch', 'Last sequence', 'Open transaction from'], producers, [0, 1, 2, 3, 4]));
}

async function alterConfig(topic, name, operation, value) {
  try {
    await api('POST', v3(`/topics/${enc(topic)}/configs:alter`), { data: [{ name, operation, value }] });
    say(`${name} ${operation === 'SET' ? 'set' : 'reset'}`);
    route();
  } catch (e) { say(e.message, true); }
}

const browse = { how: 'text', mode: 'newest', at: '20' };

async function messages(main, topic, partition) {
  const list = await api('GET', '/v1/topics');
  const names = list.topics.filter(t => !t.internal).map(t => t.topic);
  topic = topic || names[0];
  partition = Number(partition || 0);
  const picker = h('form', { class: 'inline', 'aria-label': 'What to show', onsubmit: ev => {
    ev.preventDefault();
    const f = ev.target;
    Object.assign(browse, { how: f.how.value, mode: f.mode.value, at: f.at.value });
    location.hash = `#/messages/${enc(f.topic.value)}/${f.partition.value}`;
    route();
  } },
  field('Topic', h('select', { name: 'topic' }, names.map(n => h('option', { selected: n === topic }, n)))),
  field('Partition', h('input', { name: 'partition', type: 'number', min: 0, value: partition })),
  field('From', h('select', { name: 'mode' }, [['newest', 'Newest N'], ['offset', 'Offset'], ['timestamp', 'Timestamp (ms or ISO)']]
    .map(([v, t]) => h('option', { value: v, selected: browse.mode === v }, t)))),
  field('N / offset / time', h('input', { name: 'at', value: browse.at })),
  field('Show as', h('select', { name: 'how' }, [['text', 'Text'], ['json', 'JSON (pretty)'], ['hex', 'Hex']]
    .map(([v, t]) => h('option', { value: v, selected: browse.how === v }, t)))),
  h('button', { type: 'submit' }, 'Show'));
  const produce = h('form', { class: 'inline', 'aria-label': 'Produce a message', onsubmit: ev => produceOne(ev, topic) },
    field('Key', h('input', { name: 'key', placeholder: '(null)' })),
    field('Value', h('textarea', { name: 'value', id: 'produce-value' })),
    field('Headers (name=value per line)', h('textarea', { name: 'headers' })),
    field('Partition', h('input', { name: 'partition', type: 'number', min: 0, placeholder: 'by key', size: 6 })),
    h('button', { type: 'submit' }, 'Produce'));
  if (!topic) { main.replaceChildren(h('h1', {}, 'Messages'), h('p', {}, 'No topics yet.')); return; }
  let q = `max_count=200`;
  if (browse.mode === 'newest') q += `&newest=${enc(browse.at || 20)}`;
  else if (browse.mode === 'offset') q += `&offset=${enc(browse.at || 0)}`;
  else q += `&timestamp=${/^\d+$/.test(browse.at) ? browse.at : Date.parse(browse.at)}`;
  let body;
  try {
    const rec = await api('GET', v3(`/topics/${enc(topic)}/partitions/${partition}/records?${q}`));
    body = [h('p', { class: 'muted' }, `Partition ${partition}: log start offset ${rec.log_start_offset}, high watermark ${rec.high_watermark}; ${rec.records.length} records shown`),
      table(['Offset', 'Timestamp', 'Key', 'Value', 'Headers'], rec.records.map(m => [m.offset, h('span', { title: `${m.timestamp_ms} (${m.timestamp_type})` }, m.timestamp),
        show(m.key, browse.how), show(m.value, browse.how),
        h('pre', {}, m.headers.map(x => `${x.name}=${x.value == null ? 'null' : new TextDecoder().decode(b64bytes(x.value))}`).join('\n'))]), [0])];
  } catch (e) { body = [h('p', { class: 'err' }, e.message)]; }
  main.replaceChildren(h('h1', {}, `Messages of ${topic}`), picker, h('h2', {}, 'Produce a message'), produce, h('h2', {}, 'Records'), ...body);
}

async function produceOne(ev, topic) {
  ev.preventDefault();
  const f = ev.target;
  const utf8 = s => bytesb64(new TextEncoder().encode(s));
  const rec = { value: { type: 'STRING', data: f.value.value } };
  if (f.key.value) rec.key = { type: 'STRING', data: f.key.value };
  if (f.partition.value !== '') rec.partition_id = Number(f.partition.value);
  const hs = f.headers.value.split('\n').map(l => l.trim()).filter(Boolean);
  if (hs.length) rec.headers = hs.map(l => { const i = l.indexOf('='); return i < 0 ? { name: l, value: null } : { name: l.slice(0, i), value: utf8(l.slice(i + 1)) }; });
  try {
    const res = await api('POST', v3(`/topics/${enc(topic)}/records`), rec);
    say(`Produced to ${topic}-${res.partition_id} at offset ${res.offset}`);
    browse.mode = 'newest';
    location.hash = `#/messages/${enc(topic)}/${res.partition_id}`;
    route();
  } catch (e) { say(e.message, true); }
}

async function groups(main) {
  const g = await api('GET', v3('/consumer-groups'));
  const lags = await Promise.all(g.data.map(x => api('GET', v3(`/consumer-groups/${enc(x.consumer_group_id)}/lag-summary`)).catch(() => null)));
  main.replaceChildren(h('h1', {}, 'Consumer groups'),
    table(['Group', 'State', 'Type', 'Total lag'], g.data.map((x, i) => [h('a', { href: `#/groups/${enc(x.consumer_group_id)}` }, x.consumer_group_id),
      h('span', { class: `state-${x.state}` }, x.state), x.type, lags[i] ? fmtNum(lags[i].total_lag) : '']), [3]));
}

async function groupPage(main, id) {
  const [g, lags] = await Promise.all([api('GET', `/v1/groups/${enc(id)}`), api('GET', v3(`/consumer-groups/${enc(id)}/lags`))]);
  const total = lags.data.reduce((s, x) => s + x.lag, 0);
  const series = gauge(`group:${id}`, 'lag', total);
  /* The lag of each partition too, for the first three (the chart has four colours). */
  const perPartition = lags.data.slice(0, 3).map((x, i) => ({ name: `${x.topic_name}-${x.partition_id}`, color: `var(--c${[1, 3, 4][i]})`,
    values: gauge(`group:${id}`, `${x.topic_name}-${x.partition_id}`, x.lag) }));
  const assigned = m => m.assignment ? Object.entries(m.assignment).map(([t, ps]) => `${t}: ${ps.join(', ')}`).join('\n') : '';
  const reset = h('form', { class: 'inline', 'aria-label': 'Reset offsets', onsubmit: ev => resetOffsets(ev, id) },
    field('Reset to', h('select', { name: 'to' }, ['earliest', 'latest', 'timestamp', 'offset'].map(v => h('option', {}, v)))),
    field('Timestamp (ms or ISO) or offset', h('input', { name: 'at' })),
    field('Topic (all when empty)', h('input', { name: 'topic' })),
    h('button', { type: 'submit' }, 'Reset offsets'),
    h('button', { type: 'button', class: 'danger', onclick: () => deleteGroup(id) }, 'Delete group'));
  main.replaceChildren(h('h1', {}, `Consumer group ${id}`),
    h('div', { class: 'cards' }, [['State', h('span', { class: `state-${g.state}`, id: 'group-state' }, g.state)],
      ['Protocol', h('span', { id: 'group-type' }, g.type === 'consumer' ? 'consumer (KIP-848)' : `classic (${g.protocol_type || 'simple'})`)],
      [g.type === 'consumer' ? 'Server assignor' : 'Assignor', g.protocol || '—'], [g.type === 'consumer' ? 'Group epoch' : 'Generation', g.generation_id],
      ['Members', g.member_count], ['Total lag', h('span', { id: 'total-lag' }, fmtNum(total))]]
      .map(([k, v]) => h('div', { class: 'card' }, h('div', { class: 'k' }, k), h('div', { class: 'v' }, v)))),
    chart('Lag', [{ name: 'total: messages behind the high watermarks', color: 'var(--c2)', values: series }].concat(lags.data.length > 1 ? perPartition : [])),
    h('h2', {}, 'Members'),
    table(['Member id', 'Instance id', 'Client id', 'Host', 'Assignment'], (g.members || []).map(m => [m.member_id, m.group_instance_id || '', m.client_id, m.client_host, h('pre', {}, assigned(m))])),
    h('h2', {}, 'Committed offsets and lag'),
    table(['Topic', 'Partition', 'Committed offset', 'High watermark', 'Lag', 'Consumer'],
      lags.data.map(x => [x.topic_name, x.partition_id, fmtNum(x.current_offset), fmtNum(x.log_end_offset), fmtNum(x.lag), x.client_id || '']), [1, 2, 3, 4]),
    h('h2', {}, 'Reset offsets (group must be inactive)'), reset);
}

async function resetOffsets(ev, id) {
  ev.preventDefault();
  const f = ev.target;
  const body = { to: f.to.value };
  if (f.to.value === 'timestamp') body.timestamp = /^\d+$/.test(f.at.value) ? Number(f.at.value) : Date.parse(f.at.value);
  if (f.to.value === 'offset') body.offset = Number(f.at.value);
  if (f.topic.value) body.topic = f.topic.value;
  try { await api('POST', `/v1/groups/${enc(id)}/offsets/reset`, body); say(`Offsets of ${id} reset to ${f.to.value}`); route(); } catch (e) { say(e.message, true); }
}

async function deleteGroup(id) {
  if (!confirm(`Delete consumer group ${id} and its committed offsets?`)) return;
  try { await api('DELETE', `/v1/groups/${enc(id)}`); say(`Deleted group ${id}`); location.hash = '#/groups'; } catch (e) { say(e.message, true); }
}

async function transactions(main) {
  const d = await api('GET', '/v1/transactions');
  const now = Date.now();
  main.replaceChildren(h('h1', {}, 'Transactions'),
    table(['Transactional id', 'State', 'Producer id', 'Epoch', 'Timeout', 'Age', 'Partitions'],
      (d.transaction_states || []).map(t => [t.transactional_id, t.transaction_state, t.producer_id, t.producer_epoch, `${t.transaction_timeout_ms} ms`,
        t.transaction_start_time_ms > 0 ? `${((now - t.transaction_start_time_ms) / 1000).toFixed(1)} s` : '',
        h('pre', {}, (t.topics || []).map(x => `${x.topic}: ${x.partitions.join(', ')}`).join('\n'))]), [2, 3]),
    h('p', { class: 'muted' }, 'Producer ids and epochs of each partition are on its topic page.'));
}

async function faults(main) {
  const d = await api('GET', '/v1/faults');
  const form = h('form', { class: 'inline', 'aria-label': 'Add a fault rule', onsubmit: addFault },
    field('API', h('input', { name: 'api', required: true, placeholder: 'Produce' })),
    field('Error', h('input', { name: 'error', placeholder: 'NOT_LEADER_OR_FOLLOWER' })),
    field('Delay (ms)', h('input', { name: 'delay_ms', type: 'number', min: 0 })),
    field('Topic', h('input', { name: 'topic' })),
    field('Times (0 = always)', h('input', { name: 'times', type: 'number', min: 0, value: 0 })),
    h('button', { type: 'submit' }, 'Add rule'));
  main.replaceChildren(h('h1', {}, 'Fault rules'), form,
    table(['Id', 'Rule', 'Matched', 'Fired', 'Active', ''], d.rules.map(r => {
      const spec = Object.fromEntries(Object.entries(r).filter(([k]) => !['id', 'api_key', 'matched', 'fired', 'active'].includes(k)));
      return [r.id, h('pre', {}, JSON.stringify(spec)), r.matched, r.fired, r.active ? 'yes' : 'no',
        h('button', { class: 'danger', 'aria-label': `Remove rule ${r.id}`, onclick: async () => {
          try { await api('DELETE', `/v1/faults/${r.id}`); route(); } catch (e) { say(e.message, true); } } }, 'Remove')];
    }), [0, 2, 3]));
}

async function addFault(ev) {
  ev.preventDefault();
  const f = ev.target;
  const rule = { api: f.api.value };
  if (f.error.value) rule.error = /^-?\d+$/.test(f.error.value) ? Number(f.error.value) : f.error.value;
  if (f.delay_ms.value) rule.delay_ms = Number(f.delay_ms.value);
  if (f.topic.value) rule.topic = f.topic.value;
  if (Number(f.times.value) > 0) rule.times = Number(f.times.value);
  try { await api('POST', '/v1/faults', rule); say('Rule added'); route(); } catch (e) { say(e.message, true); }
}

/* ---- Router --------------------------------------------------------------- */

const pages = [
  [/^#\/overview$/, overview, true],
  [/^#\/topics$/, topics, false],
  [/^#\/topics\/([^/]+)$/, topicPage, true],
  [/^#\/messages(?:\/([^/]+)(?:\/(\d+))?)?$/, messages, false],
  [/^#\/groups$/, groups, true],
  [/^#\/groups\/([^/]+)$/, groupPage, true],
  [/^#\/transactions$/, transactions, true],
  [/^#\/faults$/, faults, false],
];

let busy = false;
async function route(auto) {
  if (busy && auto) return;
  const hash = location.hash || '#/overview';
  const main = document.getElementById('main');
  for (const a of document.querySelectorAll('header nav a')) {
    if (hash.startsWith(a.getAttribute('href'))) a.setAttribute('aria-current', 'page'); else a.removeAttribute('aria-current');
  }
  for (const [re, fn, live] of pages) {
    const m = hash.match(re);
    if (!m) continue;
    clearTimeout(timer);
    if (auto && main.contains(document.activeElement) && document.activeElement.matches('input, textarea, select')) {
      timer = setTimeout(() => route(true), 2000); /* do not redraw under the user's typing */
      return;
    }
    busy = true;
    try {
      await fn(main, ...m.slice(1).map(x => x && decodeURIComponent(x)));
      main.dataset.page = re.source;
      main.dataset.updated = String(Date.now());
    } catch (e) {
      main.replaceChildren(h('h1', {}, 'Error'), h('p', { class: 'err' }, e.message));
    } finally { busy = false; }
    if (live) timer = setTimeout(() => route(true), 2000);
    return;
  }
  location.hash = '#/overview';
}

window.addEventListener('hashchange', () => { route(); document.getElementById('main').focus({ preventScroll: true }); });
window.addEventListener('DOMContentLoaded', async () => {
  try {
    const c = await api('GET', '/v3/clusters');
    cluster = c.data[0].cluster_id;
    document.getElementById('cluster').textContent = `cluster ${cluster}`;
  } catch (e) { say(e.message, true); }
  route();
});
