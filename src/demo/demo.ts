#!/usr/bin/env node
// make demo: two multihomed hosts (A, B) and two ISPs in network namespaces.
// A streams to B between their ULIDs; path 1 dies; the context moves to
// path 2 and the connection lives on; path 1 returns and traffic fails back.
// (Until the agent's REAP lands, shim6ctl moves the context, as an operator
// or the agent would.) Ctrl-C cleans up.
import fs from 'node:fs';
import { Command } from 'commander';
import { Topology, ADDR } from '../lab/topology.js';

interface Sample { t: number; path: 1 | 2; mbps: number; gapMs: number; echoed: number }
interface Event { t: number; kind: string; detail: string }

const program = new Command('demo')
  .description('shim6 demo: a TCP stream survives the death of its path')
  .option('--ci', 'headless: no live status line, shorter phases, JSON summary, non-zero exit on failure')
  .option('--record <file>', 'write the timeline (samples and events) as JSON')
  .option('--phase-ms <ms>', 'length of each phase', (v) => Number(v))
  .parse(process.argv);
const opts = program.opts<{ ci?: boolean; record?: string; phaseMs?: number }>();
const phase = opts.phaseMs ?? (opts.ci ? 1500 : 3000);
const tty = process.stdout.isTTY && !opts.ci;

const events: Event[] = [];
const samples: Sample[] = [];
let t0 = Date.now();
let topo: Topology | undefined;
let path: 1 | 2 = 1;
let lastProgress = { t: 0, echoed: 0, gapMs: 0 };
let maxGapMs = 0;

const say = (s: string) => {
  if (tty) process.stdout.write('\r\x1b[K');
  process.stdout.write(s + '\n');
};
const event = (kind: string, detail: string) => {
  const t = Date.now() - t0;
  events.push({ t, kind, detail });
  say(`[${(t / 1000).toFixed(1).padStart(5)}s] ${detail}`);
};
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

function cleanup(): void {
  topo?.teardown();
  topo = undefined;
}
process.on('SIGINT', () => { say('interrupted: cleaning up'); cleanup(); process.exit(130); });
process.on('SIGTERM', () => { cleanup(); process.exit(143); });

async function main(): Promise<number> {
  t0 = Date.now();
  say('shim6 demo: hosts A and B, each with an uplink to ISP 1 (R1) and to ISP 2 (R2).');
  say(`  A's ULID ${ADDR.A1} (locators ${ADDR.A1}, ${ADDR.A2})`);
  say(`  B's ULID ${ADDR.B1} (locators ${ADDR.B1}, ${ADDR.B2})`);
  topo = Topology.create();
  const t = topo;
  t.shimBoth({ pair: 1 });
  event('setup', 'data plane up on A and B; context A1<->B1 on path 1 (ISP 1)');

  const sink = t.B.flow('tcp-sink', { bind: ADDR.B1, port: 7001 });
  const echoSrv = t.B.flow('echo-server', { bind: ADDR.B1, port: 7002 });
  await Promise.all([sink.ready, echoSrv.ready]);
  const total = 7 * phase;
  const bulk = t.A.flow('tcp-send', { to: ADDR.B1, port: 7001, from: ADDR.A1, bytes: 2 ** 40, 'pace-ms': 20, 'pace-bytes': 2 << 20, seed: 'demo' });
  const echo = t.A.flow('echo-client', { to: ADDR.B1, port: 7002, from: ADDR.A1, 'interval-ms': 10, 'duration-ms': total, progress: 1 },
    (p) => { lastProgress = p as typeof lastProgress; maxGapMs = Math.max(maxGapMs, p.gapMs); });
  await echo.ready;
  event('stream', 'A streams to B (bulk TCP, paced) and echoes a message every 10 ms (TCP)');

  let lastBytes = 0n, lastT = Date.now();
  const sampler = setInterval(() => {
    try {
      const ctx = t.A.ctlJson<Array<{ stats: { txBytes: string }; lpLocal: string }>>('context', 'list')[0];
      const bytes = BigInt(ctx.stats.txBytes), now = Date.now();
      const mbps = Number(bytes - lastBytes) * 8 / ((now - lastT) / 1000) / 1e6;
      lastBytes = bytes; lastT = now;
      path = ctx.lpLocal === ADDR.A2 ? 2 : 1;
      const s: Sample = { t: now - t0, path, mbps: Math.round(mbps), gapMs: lastProgress.gapMs, echoed: lastProgress.echoed };
      samples.push(s);
      if (tty) process.stdout.write(`\r\x1b[K  path ${path} (${path === 1 ? `${ADDR.A1} -> ${ADDR.B1}` : `${ADDR.A2} -> ${ADDR.B2}`})  ${String(s.mbps).padStart(5)} Mbit/s  echo gap ${String(s.gapMs).padStart(5)} ms  longest ${maxGapMs} ms`);
    } catch { /* the stream is ending */ }
  }, 250);

  await sleep(2 * phase);
  t.R1.blackhole('r1a'); t.R1.blackhole('r1b');
  event('fail', 'path 1 fails: ISP 1 black-holes every packet (BPF on R1)');
  await sleep(phase / 3);
  t.switchPath(2);
  event('switch', `context moved to path 2: ${ADDR.A2} -> ${ADDR.B2} (payload header carries the context tag)`);
  await sleep(2 * phase);
  t.R1.unblackhole('r1a'); t.R1.unblackhole('r1b');
  event('recover', 'path 1 is back');
  await sleep(phase / 2);
  t.switchPath(1);
  event('failback', 'context back on path 1 (the ULIDs, no header)');
  const [echoRes] = await Promise.all([echo.done]);
  clearInterval(sampler);
  bulk.child.kill();
  const ok = echoRes.error === null && echoRes.corrupt === 0 && echoRes.echoed === echoRes.sent;
  const summary = {
    ok, sent: echoRes.sent, echoed: echoRes.echoed, corrupt: echoRes.corrupt, error: echoRes.error,
    longestPauseMs: echoRes.maxGapMs, pathsSeen: [...new Set(samples.map((s) => s.path))],
  };
  event('done', ok
    ? `the connection survived: ${echoRes.echoed}/${echoRes.sent} echoes, longest pause ${echoRes.maxGapMs} ms, no reset`
    : `FAILED: ${JSON.stringify(summary)}`);
  if (opts.record) {
    fs.writeFileSync(opts.record, JSON.stringify({ version: 1, phaseMs: phase, summary, events, samples }, null, 2) + '\n');
    say(`timeline written to ${opts.record}`);
  }
  if (opts.ci) process.stdout.write(JSON.stringify(summary) + '\n');
  return ok ? 0 : 1;
}

main()
  .then((code) => { cleanup(); process.exit(code); })
  .catch((err) => { say(`demo failed: ${err instanceof Error ? err.message : String(err)}`); cleanup(); process.exit(1); });
