// make bench-failover: the pause an application sees when a path breaks.
// Two agents (A, B) in the namespace topology; an echo client on A sends a
// message every 10 ms over TCP (and UDP) between the HBA ULIDs; path 1 is
// broken (a BPF blackhole on R1, or A's uplink a1 taken down), the longest
// gap in the echo stream is recorded, the path is repaired and the context
// must return before the next run. p50/p99 per profile and failure kind.
//
//   PROFILES=default,fast,standby   which profiles (default: all three)
//   RUNS=20                         runs per profile and kind
//   IDLE_MS=60000                   idle measurements (per profile, and many contexts)
//   IDLE_CONTEXTS=10000             contexts for the agent-CPU measurement (0: skip)
//   LOGS=DIR                        keep both agents' debug logs per profile
//                                   (DIR/<profile>-A.log, -B.log) and every run's
//                                   times (DIR/<profile>-runs.json, wall clock ms)
//
// Profiles: default = RFC 5534 timers (Send Timeout 15 s); fast = Send
// Timeout 3 s (what an application sets with SHIM_APP_TIMEOUT; here by
// agent configuration); standby = fast + hot standby. Fail-back hold is 2 s
// in every profile so runs follow each other quickly.
import fs from 'node:fs';
import path from 'node:path';
import { Topology, type AgentProcess } from '../src/lab/topology.js';
import { sleep, until } from '../src/lab/wait.js';
import type { ContextView } from '../src/agent/agent.js';
import { idleContexts } from './idle.js';

const PROFILES: Record<string, Record<string, unknown>> = {
  default: { failbackHoldMs: 2000 },
  fast: { sendTimeoutMs: 3000, failbackHoldMs: 2000 },
  standby: { sendTimeoutMs: 3000, failbackHoldMs: 2000, hotStandby: true },
};
const wanted = (process.env.PROFILES ?? 'default,fast,standby').split(',').map((s) => s.trim()).filter(Boolean);
const RUNS = Number(process.env.RUNS ?? 20);
const LOGS = process.env.LOGS;
if (LOGS) fs.mkdirSync(LOGS, { recursive: true });
for (const p of wanted) if (!(p in PROFILES)) throw new Error(`unknown profile '${p}' (known: ${Object.keys(PROFILES).join(', ')})`);

const quantile = (xs: number[], q: number): number => {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.max(0, Math.ceil(q * s.length) - 1))];
};
const r3 = (x: number): number => Math.round(x * 1000) / 1000;


interface Kind { name: 'blackhole' | 'linkdown'; break(t: Topology): void; repair(t: Topology): void }
const KINDS: Kind[] = [
  { name: 'blackhole', break: (t) => { t.R1.blackhole('r1a'); t.R1.blackhole('r1b'); }, repair: (t) => { t.R1.unblackhole('r1a'); t.R1.unblackhole('r1b'); } },
  { name: 'linkdown', break: (t) => t.A.ip('link', 'set', 'a1', 'down'), repair: (t) => t.A.uplinkUp('a1') },
];

async function profile(name: string): Promise<{ result: Record<string, { p50_s: number; p99_s: number; runs: number; udp_p50_s: number }>; idle: Record<string, number> }> {
  const t = Topology.create();
  let A: AgentProcess | undefined;
  let B: AgentProcess | undefined;
  const runs: Array<Record<string, unknown>> = [];
  try {
    const cfg = path.join(t.dir, 'reap.json');
    fs.writeFileSync(cfg, JSON.stringify({ reap: PROFILES[name] }));
    const logLevel = LOGS ? 'debug' : 'info';
    A = t.A.agent({ args: ['--config', cfg], logLevel });
    B = t.B.agent({ args: ['--config', cfg], logLevel });
    await Promise.all([A.ready, B.ready]);
    const hA = A.hbaAddresses();
    const hB = B.hbaAddresses();
    const ctxA = (): ContextView | undefined => A!.ctlJson<ContextView[]>('contexts').find((c) => c.state === 'ESTABLISHED');
    const ctxB = (): ContextView | undefined => B!.ctlJson<ContextView[]>('contexts').find((c) => c.state === 'ESTABLISHED');
    const onPath1 = (): boolean => {
      const a = ctxA(), b = ctxB();
      return !!a && !!b && a.lpLocal.startsWith('2001:db8:1:') && b.lpPeer.startsWith('2001:db8:1:');
    };
    const sendTimeout = Number(PROFILES[name].sendTimeoutMs ?? 15_000);
    const result: Record<string, { p50_s: number; p99_s: number; runs: number; udp_p50_s: number }> = {};
    let port = 7200;
    for (const kind of KINDS) {
      const gaps: number[] = [];
      const udpGaps: number[] = [];
      for (let run = 0; run < RUNS; run++) {
        port++;
        const server = t.B.flow('echo-server', { bind: hB[0], port, 'udp-port': port });
        await server.ready;
        const breakAt = 2000, outage = sendTimeout + 6000;
        // Traffic runs until the context is back on path 1: fail-back verifies
        // only active contexts, and a second outage there would count too.
        const client = t.A.flow('echo-client', { to: hB[0], port, 'udp-port': port, from: hA[0], 'interval-ms': 10, 'duration-ms': 300_000 });
        await until('context on path 1', onPath1, 60_000);
        await sleep(breakAt);
        const brokenAt = Date.now();
        kind.break(t);
        const brokeAt = Date.now();
        await sleep(outage);
        const repairedAt = Date.now();
        kind.repair(t);
        await until('fail-back to path 1', onPath1, 120_000).catch((e: Error) => {
          const view = (c: ContextView | undefined): unknown => c && { lp: `${c.lpLocal} -> ${c.lpPeer}`, peers: c.lsPeer.map((p) => p.addr), reap: c.reap && { ...c.reap, history: c.reap.history.slice(-6) } };
          throw new Error(`${e.message}: A ${JSON.stringify(view(ctxA()))} B ${JSON.stringify(view(ctxB()))}`);
        });
        client.child.kill('SIGUSR1');
        const r = (await client.done) as { maxGapMs: number; maxGapAt: number; error: string | null; echoed: number; sent: number; udp: { maxGapMs: number } };
        server.child.kill();
        if (r.error || r.echoed !== r.sent) throw new Error(`${name}/${kind.name} run ${run}: the echo stream broke (${r.error ?? `${r.echoed}/${r.sent} echoed`})`);
        runs.push({ kind: kind.name, run: run + 1, port, breakStart: brokenAt, breakDone: brokeAt, repair: repairedAt, gapMs: r.maxGapMs, gapFrom: r.maxGapAt, udpGapMs: r.udp.maxGapMs });
        gaps.push(r.maxGapMs / 1000);
        udpGaps.push(r.udp.maxGapMs / 1000);
        process.stderr.write(`${name} ${kind.name} run ${run + 1}/${RUNS}: gap ${r.maxGapMs} ms (udp ${r.udp.maxGapMs} ms)\n`);
      }
      result[kind.name] = { p50_s: r3(quantile(gaps, 0.5)), p99_s: r3(quantile(gaps, 0.99)), runs: gaps.length, udp_p50_s: r3(quantile(udpGaps, 0.5)) };
    }
    // Idle cost: no traffic on the established context (after the traffic
    // stops: IDLE_MS, a minute by default, of which the first Send Timeout ×
    // 2 is the transition to idle, counted too). Per context per minute.
    type Status = { counters: { txControl: number; txByKind: Record<string, number> } };
    const st0 = A.ctlJson<Status>('agent', 'status').counters;
    const idleMs = Number(process.env.IDLE_MS ?? 60_000);
    await sleep(idleMs);
    const st1 = A.ctlJson<Status>('agent', 'status').counters;
    const perMin = (k: string): number => r3((((st1.txByKind[k] ?? 0) - (st0.txByKind[k] ?? 0)) * 60_000) / idleMs);
    return { result, idle: { probes_per_min: perMin('Probe'), keepalives_per_min: perMin('Keepalive'), control_msgs_per_min: r3(((st1.txControl - st0.txControl) * 60_000) / idleMs) } };
  } finally {
    await Promise.all([A?.stop(), B?.stop()]).catch(() => {});
    if (LOGS) {
      for (const [n, a] of [['A', A], ['B', B]] as const) if (a) fs.writeFileSync(path.join(LOGS, `${name}-${n}.log`), a.logs.map((l) => JSON.stringify(l)).join('\n') + '\n');
      fs.writeFileSync(path.join(LOGS, `${name}-runs.json`), JSON.stringify(runs, null, 1) + '\n');
    }
    t.teardown();
  }
}

const out: Record<string, unknown> = {};
const idle: Record<string, unknown> = {};
for (const p of wanted) {
  const r = await profile(p);
  out[p] = r.result;
  idle[p] = r.idle;
}
// Agent CPU with many idle contexts (IDLE_CONTEXTS, default 10,000; 0 skips),
// with the last profile's REAP settings.
const IDLE_CONTEXTS = Number(process.env.IDLE_CONTEXTS ?? 10_000);
const many = IDLE_CONTEXTS > 0 ? await idleContexts(IDLE_CONTEXTS, Number(process.env.IDLE_MS ?? 60_000), PROFILES[wanted[wanted.length - 1] ?? 'default']) : null;
process.stdout.write(JSON.stringify({
  bench: 'failover', runs: RUNS, profiles: out, idle_per_context: idle, idle_contexts: many,
  goals: { standby: { p50_s: 0.25, p99_s: 0.4 }, fast: { p50_s: 1 }, default: { p50_s: 16 }, idle_contexts: { agent_cpu_pct: 2 } },
}) + '\n');
