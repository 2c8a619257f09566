#!/usr/bin/env node
// Summarise a V8 .cpuprofile (make bench-control with SHIM6_BENCH_CPU_PROF=DIR):
//   cpuprofile-summary.mjs FILE [N]                 self and total ms by function, top N
//   cpuprofile-summary.mjs FILE --under REGEX [DEPTH] [MIN_MS]
//                                                   call tree below functions named REGEX
import fs from 'node:fs';

const [file, ...rest] = process.argv.slice(2);
if (!file) {
  process.stderr.write('usage: cpuprofile-summary.mjs FILE [N] | FILE --under REGEX [DEPTH] [MIN_MS]\n');
  process.exit(2);
}
const p = JSON.parse(fs.readFileSync(file, 'utf8'));
const byId = new Map(p.nodes.map((n) => [n.id, n]));
const selfUs = new Map();
for (let i = 0; i < p.samples.length; i++) selfUs.set(p.samples[i], (selfUs.get(p.samples[i]) ?? 0) + (p.timeDeltas[i] ?? 0));
const name = (n) => `${n.callFrame.functionName || '(anon)'} ${n.callFrame.url.replace(/^.*\/(dist|node_modules)\//, '$1/')}:${n.callFrame.lineNumber + 1}`;
const totals = new Map();
const total = (n) => {
  if (!totals.has(n.id)) totals.set(n.id, (selfUs.get(n.id) ?? 0) + (n.children ?? []).reduce((s, c) => s + total(byId.get(c)), 0));
  return totals.get(n.id);
};
const ms = (us) => (us / 1000).toFixed(1).padStart(8);
const root = p.nodes[0];

if (rest[0] === '--under') {
  const re = new RegExp(rest[1] ?? '.');
  const maxDepth = Number(rest[2] ?? 4), minMs = Number(rest[3] ?? 1);
  const tree = { kids: new Map() };
  const add = (n, into, depth) => {
    const k = name(n);
    let m = into.kids.get(k);
    if (!m) into.kids.set(k, (m = { k, t: 0, self: 0, kids: new Map() }));
    m.t += total(n);
    m.self += selfUs.get(n.id) ?? 0;
    if (depth < maxDepth) for (const c of n.children ?? []) add(byId.get(c), m, depth + 1);
  };
  const visit = (n, inside) => {
    const hit = !inside && re.test(n.callFrame.functionName);
    if (hit) add(n, tree, 0);
    for (const c of n.children ?? []) visit(byId.get(c), inside || hit);
  };
  visit(root, false);
  const print = (m, indent) => {
    for (const c of [...m.kids.values()].sort((a, b) => b.t - a.t)) {
      if (c.t / 1000 < minMs) continue;
      console.log(`${ms(c.t)} (self ${(c.self / 1000).toFixed(1)}) ${' '.repeat(indent)}${c.k}`);
      print(c, indent + 2);
    }
  };
  print(tree, 0);
} else {
  const N = Number(rest[0] ?? 30);
  const self = new Map(), tot = new Map();
  let all = 0;
  for (const [id, us] of selfUs) {
    all += us;
    const k = name(byId.get(id));
    self.set(k, (self.get(k) ?? 0) + us);
  }
  const walk = (n, onStack) => {
    const k = name(n);
    if (!onStack.has(k)) tot.set(k, (tot.get(k) ?? 0) + total(n));
    const next = new Set(onStack).add(k);
    for (const c of n.children ?? []) walk(byId.get(c), next);
  };
  walk(root, new Set());
  const idle = self.get('(idle) :0') ?? 0;
  console.log(`sampled ${ms(all)} ms, idle ${ms(idle)} ms, busy ${ms(all - idle)} ms`);
  const show = (m, title) => {
    console.log(`--- ${title}`);
    [...m].filter(([k]) => !k.startsWith('(idle)') && !k.startsWith('(root)')).sort((a, b) => b[1] - a[1]).slice(0, N)
      .forEach(([k, v]) => console.log(ms(v), k));
  };
  show(self, 'self ms');
  show(tot, 'total ms');
}
