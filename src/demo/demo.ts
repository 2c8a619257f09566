#!/usr/bin/env node
// make demo: two multihomed hosts (A, B) and two ISPs in network namespaces.
// Both run shim6d. A streams to B between their HBA ULIDs; the agents set
// up a Shim6 context by themselves; path 1 dies; REAP notices, explores and
// moves the context to path 2, and the connection lives on; path 1 returns
// and REAP fails back once it has proven itself. Ctrl-C cleans up.
import fs from 'node:fs';
import path from 'node:path';
import { Command } from 'commander';
import { Topology, type AgentProcess } from '../lab/topology.js';
import { sleep, until } from '../lab/wait.js';
import type { ContextView } from '../agent/agent.js';
import { controlRequest } from '../agent/control.js';

// The recorded timeline (--record FILE, read by `shim6ctl report FILE`):
// times in ms since the demo started; one sample per 250 ms.
interface Sample { t: number; path: 1 | 2; pair: { local: string; peer: string }; reap: string; mbps: number; gapMs: number; echoed: number }
interface Event { t: number; kind: string; detail: string }
/** A pause of the echo stream longer than PAUSE_MS: from the last echo before it, for `ms`. */
interface Pause { t: number; ms: number }
const PAUSE_MS = 250;

const program = new Command('demo')
  .description('shim6 demo: a TCP stream survives the death of its path')
  .option('--ci', 'headless: no live status line, shorter phases, JSON summary, non-zero exit on failure')
  .option('--record <file>', 'write the timeline as JSON (samples: locator pair, REAP state, throughput; pauses; events); plot it with shim6ctl report FILE')
  .option('--logs <dir>', "write both agents' JSON logs (debug level) to DIR/A.log and DIR/B.log on exit")
  .option('--phase-ms <ms>', 'length of the calm phases', (v) => Number(v))
  .option('--send-timeout <ms>', 'REAP Send Timeout of the agents (RFC default 15000)', (v) => Number(v), 3000)
  .parse(process.argv);
const opts = program.opts<{ ci?: boolean; record?: string; logs?: string; phaseMs?: number; sendTimeout: number }>();
const phase = opts.phaseMs ?? (opts.ci ? 1500 : 3000);
const tty = process.stdout.isTTY && !opts.ci;

const events: Event[] = [];
const samples: Sample[] = [];
const pauses: Pause[] = [];
let openPause: Pause | null = null;
let flowOffset = Infinity;
let t0 = Date.now();
let topo: Topology | undefined;
let agents: AgentProcess[] = [];
let onPath: 1 | 2 = 1;
let lastProgress = { t: 0, echoed: 0, gapMs: 0 };
let maxGapMs = 0;

const say = (s: string) => {
  if (tty) process.stdout.write('\r\x1b[K');
  process.stdout.write(s + '\n');
};
/** Record an event at `at` (ms since the start; default now), and say it. */
const event = (kind: string, detail: string, at?: number) => {
  const t = at ?? Date.now() - t0;
  events.push({ t, kind, detail });
  say(`[${(t / 1000).toFixed(1).padStart(5)}s] ${detail}`);
};

function cleanup(): void {
  const dir = opts.logs;
  if (dir) {
    fs.mkdirSync(dir, { recursive: true });
    agents.forEach((a, i) => fs.writeFileSync(path.join(dir, `${'AB'[i]}.log`), a.logs.map((l) => JSON.stringify(l)).join('\n') + '\n'));
  }
  for (const a of agents) a.child.kill('SIGKILL');
  agents = [];
  topo?.teardown();
  topo = undefined;
}
process.on('SIGINT', () => { say('interrupted: cleaning up'); cleanup(); process.exit(130); });
process.on('SIGTERM', () => { cleanup(); process.exit(143); });


async function main(): Promise<number> {
  t0 = Date.now();
  say('shim6 demo: hosts A and B, each with an uplink to ISP 1 (R1) and to ISP 2 (R2), each running shim6d.');
  topo = Topology.create();
  const t = topo;
  const cfg = path.join(t.dir, 'demo.json');
  fs.writeFileSync(cfg, JSON.stringify({ reap: { sendTimeoutMs: opts.sendTimeout, failbackHoldMs: phase } }));
  const logLevel = opts.logs ? 'debug' : 'info';
  const A = t.A.agent({ args: ['--config', cfg], logLevel });
  const B = t.B.agent({ args: ['--config', cfg], logLevel });
  agents = [A, B];
  await Promise.all([A.ready, B.ready]);
  const hA = A.hbaAddresses();
  const hB = B.hbaAddresses();
  event('setup', `agents up; HBA sets: A ${hA.join(', ')}; B ${hB.join(', ')}`);
  // The agents' control sockets, in process (no shim6ctl per sample: the event loop stays free).
  const established = async (x: AgentProcess): Promise<ContextView | undefined> =>
    (await controlRequest<ContextView[]>(x.socket, 'contexts')).find((c) => c.state === 'ESTABLISHED');
  const ctxA = (): Promise<ContextView | undefined> => established(A);
  const ctxB = (): Promise<ContextView | undefined> => established(B);
  // The agents stamp switches on CLOCK_MONOTONIC, as process.hrtime here: to ms since the start.
  const sinceStart = (monoMs: number): number => Date.now() - t0 - (Number(process.hrtime.bigint()) / 1e6 - monoMs);
  /** When both sides had moved (the later of their last switches), if it falls after `after`; else now. */
  const switchedAt = (after: number): number => {
    const ts = [current.a.reap?.lastSwitch?.atMonoMs, current.b?.reap?.lastSwitch?.atMonoMs].filter((x): x is number => x !== undefined).map(sinceStart);
    const t = ts.length ? Math.max(...ts) : NaN;
    const now = Date.now() - t0;
    return Number.isFinite(t) && t > after && t <= now ? Math.round(t) : now;
  };
  const pathOf = (a: ContextView | undefined, b: ContextView | undefined): 1 | 2 | 0 => {
    if (!a || !b) return 0;
    const p = (x: string): number => (x.startsWith('2001:db8:1:') ? 1 : 2);
    return p(a.lpLocal) === 1 && p(b.lpPeer) === 1 ? 1 : p(a.lpLocal) === 2 && p(b.lpPeer) === 2 ? 2 : 0;
  };

  const sink = t.B.flow('tcp-sink', { bind: hB[0], port: 7001 });
  const echoSrv = t.B.flow('echo-server', { bind: hB[0], port: 7002 });
  await Promise.all([sink.ready, echoSrv.ready]);
  const bulk = t.A.flow('tcp-send', { to: hB[0], port: 7001, from: hA[0], bytes: 2 ** 40, 'pace-ms': 20, 'pace-bytes': 2 << 20, seed: 'demo' });
  const echo = t.A.flow('echo-client', { to: hB[0], port: 7002, from: hA[0], 'interval-ms': 10, 'duration-ms': 600_000, progress: 1 },
    (p) => {
      lastProgress = p as typeof lastProgress;
      maxGapMs = Math.max(maxGapMs, p.gapMs);
      // A pause is open while echoes are late; it ends with the first echo back.
      // Times on the flow's clock (its progress lines wait while the sampler
      // blocks): offset = the smallest lag seen between the two clocks.
      flowOffset = Math.min(flowOffset, Date.now() - t0 - p.t);
      const now = flowOffset + p.t;
      if (p.gapMs > PAUSE_MS) {
        if (!openPause) openPause = { t: now - p.gapMs, ms: p.gapMs };
        openPause.ms = Math.max(openPause.ms, p.gapMs);
      } else if (openPause) {
        pauses.push(openPause);
        event('pause', `the application waited ${openPause.ms} ms for an echo`);
        openPause = null;
      }
    });
  await echo.ready;
  event('stream', `A streams to B (${hA[0]} -> ${hB[0]}: bulk TCP, paced) and echoes a message every 10 ms`);
  await until('the context', async () => !!(await ctxA()) && !!(await ctxB()), 10_000);
  const c0 = (await ctxA())!;
  event('context', `Shim6 context established by the agents (tags ${c0.ctLocal} / ${c0.ctPeer}), B's locators verified by HBA`);

  let lastBytes = 0n, lastT = Date.now();
  let reapState = 'Operational';
  let current = { a: c0, b: await ctxB() };
  let busy = false;
  const sampler = setInterval(() => {
    if (busy) return;
    busy = true;
    void sample().finally(() => { busy = false; });
  }, 250);
  async function sample(): Promise<void> {
    try {
      const [a, b] = await Promise.all([ctxA(), ctxB()]);
      if (!a || !a.dataplane) return;
      current = { a, b };
      const bytes = BigInt(a.dataplane.txBytes), now = Date.now();
      const mbps = Number(bytes - lastBytes) * 8 / ((now - lastT) / 1000) / 1e6;
      lastBytes = bytes; lastT = now;
      const p = pathOf(a, b);
      if (p !== 0) onPath = p;
      reapState = a.reap?.state ?? '-';
      const s: Sample = {
        t: now - t0, path: onPath, pair: { local: a.lpLocal, peer: a.lpPeer }, reap: reapState,
        mbps: Math.round(mbps * 10) / 10, gapMs: lastProgress.gapMs, echoed: lastProgress.echoed,
      };
      samples.push(s);
      if (tty) process.stdout.write(`\r\x1b[K  path ${onPath} (${a.lpLocal} -> ${a.lpPeer})  REAP ${reapState.padEnd(11)} ${String(s.mbps).padStart(5)} Mbit/s  echo gap ${String(s.gapMs).padStart(5)} ms  longest ${maxGapMs} ms`);
    } catch { /* an agent is busy or the stream is ending */ }
  }

  await sleep(2 * phase);
  const tFail = Date.now() - t0;
  t.R1.blackhole('r1a'); t.R1.blackhole('r1b');
  event('fail', 'path 1 fails: ISP 1 black-holes every packet (BPF on R1)', tFail);
  await until('REAP to move the context', () => onPath === 2, opts.sendTimeout + 10_000);
  event('switch', `REAP moved the context to path 2: ${current.a.lpLocal} -> ${current.a.lpPeer} (payload header carries the context tag)`, switchedAt(tFail));
  await sleep(2 * phase);
  const tRecover = Date.now() - t0;
  t.R1.unblackhole('r1a'); t.R1.unblackhole('r1b');
  event('recover', 'path 1 is back', tRecover);
  await until('fail-back', () => onPath === 1, opts.sendTimeout + 6 * phase + 20_000);
  event('failback', `REAP returned the context to path 1 after verifying it (${current.a.lpLocal} -> ${current.a.lpPeer})`, switchedAt(tRecover));
  await sleep(phase);
  echo.child.kill('SIGUSR1');
  const echoRes = await echo.done;
  clearInterval(sampler);
  await until('the last sample', () => !busy, 5000);
  bulk.child.kill();
  const ok = echoRes.error === null && echoRes.corrupt === 0 && echoRes.echoed === echoRes.sent;
  const summary = {
    ok, sent: echoRes.sent, echoed: echoRes.echoed, corrupt: echoRes.corrupt, error: echoRes.error,
    longestPauseMs: echoRes.maxGapMs, pathsSeen: [...new Set(samples.map((x) => x.path))], sendTimeoutMs: opts.sendTimeout,
  };
  if (openPause) pauses.push(openPause);
  event('done', ok
    ? `the connection survived: ${echoRes.echoed}/${echoRes.sent} echoes, longest pause ${echoRes.maxGapMs} ms, no reset`
    : `FAILED: ${JSON.stringify(summary)}`);
  if (opts.record) {
    const timeline = {
      version: 3, tool: 'shim6 demo', startedAt: new Date(t0).toISOString(), phaseMs: phase, sendTimeoutMs: opts.sendTimeout,
      hosts: { A: hA, B: hB }, paths: { 1: 'ISP 1 (2001:db8:1::/48)', 2: 'ISP 2 (2001:db8:2::/48)' },
      summary, events: [...events].sort((x, y) => x.t - y.t), samples, pauses,
    };
    fs.writeFileSync(opts.record, JSON.stringify(timeline, null, 2) + '\n');
    say(`timeline written to ${opts.record}; plot it with: shim6ctl report ${opts.record}`);
  }
  if (opts.ci) process.stdout.write(JSON.stringify(summary) + '\n');
  return ok ? 0 : 1;
}

main()
  .then((code) => { cleanup(); process.exit(code); })
  .catch((err) => { say(`demo failed: ${err instanceof Error ? err.message : String(err)}`); cleanup(); process.exit(1); });
