#!/usr/bin/env node
// Per-step breakdown of context setup from the two agents' critical-path
// stamps (make bench-control with SHIM6_TRACE_DIR=DIR; src/agent/trace.ts):
// for each step of first packet -> trigger -> I1 -> R1 -> I2 -> R2 ->
// ESTABLISHED on both sides, the median time after the data plane's stamp
// of the first packet, and the mean CPU the step's agent used since its
// previous step (load-independent). Iterations where B triggered too
// (crossing I1s) are left out.  Usage: setup-trace.mjs DIR [SKIP=4]
import fs from 'node:fs';
import path from 'node:path';

const dir = process.argv[2];
const skip = Number(process.argv[3] ?? 4);
if (!dir) {
  process.stderr.write('usage: setup-trace.mjs DIR [SKIP]\n');
  process.exit(2);
}
const traces = fs.readdirSync(dir).filter((f) => /^trace-\d+\.json$/.test(f)).map((f) => JSON.parse(fs.readFileSync(path.join(dir, f), 'utf8')));
if (traces.length !== 2) throw new Error(`expected the traces of two agents in ${dir}, found ${traces.length}`);
const firstPacket = (t) => { const i = t.labels.indexOf('pkt'); return i < 0 ? Infinity : t.stamps[i]; };
traces.sort((a, b) => firstPacket(a) - firstPacket(b)); // A (initiator) triggers first
const events = (t) => t.labels.map((l, i) => ({ l, t: t.stamps[i], c: t.cpu?.[i] ?? NaN }));
const side = { A: events(traces[0]), B: events(traces[1]) };
const packets = side.A.filter((e) => e.l === 'pkt').map((e) => e.t);
const STEPS = [
  ['A', 'trigger'], ['A', 'tx-I1'], ['A', 'sent-I1'],
  ['B', 'rx-1'], ['B', 'core'], ['B', 'tx-R1'], ['B', 'sent-R1'],
  ['A', 'rx-2'], ['A', 'core'], ['A', 'persisted'], ['A', 'tx-I2'], ['A', 'sent-I2'],
  ['B', 'rx-3'], ['B', 'core'], ['B', 'persisted'], ['B', 'tx-R2'], ['B', 'sent-R2'], ['B', 'est-logged'], ['B', 'est-synced'],
  ['A', 'rx-4'], ['A', 'core'], ['A', 'persisted'], ['A', 'est-logged'], ['A', 'est-synced'],
];
const at = STEPS.map(() => []), cpu = STEPS.map(() => []);
for (let k = 0; k < packets.length; k++) {
  const lo = packets[k], hi = packets[k + 1] ?? Infinity;
  const win = { A: side.A.filter((e) => e.t >= lo && e.t < hi), B: side.B.filter((e) => e.t >= lo && e.t < hi) };
  if (win.B.some((e) => e.l === 'pkt')) continue;
  const pos = { A: 0, B: 0 }, prev = { A: null, B: null }, t = [], c = [];
  for (const [s, l] of STEPS) {
    let i = pos[s];
    while (i < win[s].length && win[s][i].l !== l) i++;
    if (i >= win[s].length) break;
    pos[s] = i + 1;
    t.push(win[s][i].t - lo);
    c.push(prev[s] === null ? NaN : win[s][i].c - prev[s].c);
    prev[s] = win[s][i];
  }
  if (t.length !== STEPS.length) continue;
  t.forEach((v, i) => at[i].push(v));
  c.forEach((v, i) => cpu[i].push(v));
}
const median = (xs) => { const s = xs.filter(Number.isFinite).sort((a, b) => a - b); return s.length ? s[(s.length - 1) >> 1] : NaN; };
const mean = (xs) => { const s = xs.filter(Number.isFinite); return s.length ? s.reduce((a, b) => a + b, 0) / s.length : NaN; };
console.log(`${at[0].length} iterations (first ${skip} left out)`);
console.log('side step         at ms   (+ms)   cpu ms');
let last = 0;
STEPS.forEach(([s, l], i) => {
  const m = median(at[i].slice(skip));
  console.log(`${s}    ${l.padEnd(11)} ${m.toFixed(3).padStart(7)} ${(m - last >= 0 ? '+' : '') + (m - last).toFixed(3).padStart(6)}  ${mean(cpu[i].slice(skip)).toFixed(3).padStart(6)}`);
  last = m;
});
