// make bench-api: the cost of the RFC 6316 API as a C program sees it.
//
// SHIM6_BENCH_BACKEND=agent (the default; root): two shim6d agents in network
// namespaces (src/lab/topology.ts). The C clients run in A's namespace on TCP
// connections to an echo server on B, between the hosts' HBA ULIDs, whose
// context the agents set up first: every call crosses libshim6, the API
// socket, shim6d's server, its backend (context core, REAP, the data plane's
// socket-policy map). Events are real pair changes: the operator moves the
// context between the two paths (shim6ctl agent set-pair) and the clients
// time the pair-changed event from the agent's stamp — when the data plane's
// maps took the new pair — to their read.
//
// SHIM6_BENCH_BACKEND=fake: an ApiServer runs in this process with a backend shaped like the agent's
// (contexts keyed by ULID pair + FII in a Map, locator lists with effective
// preferences, application preferences stored per context; no BPF map reads,
// which the agent adds: ~1 µs per socket policy lookup). C clients
// (bench/api_client.c, linked with libshim6, built by `make bench-api`) each
// open a loopback TCP connection, whose ULID pair ::1/::1 has a context, and:
//   assoc    shim6_getsockopt(SHIM_ASSOCIATED) per-call latency (p50/p99 µs)
//   pref     shim6_setsockopt(SHIM_LOC_PEER_PREF) per-call latency
//   native   getsockopt(TCP_NODELAY) per-call latency: the floor
//   tput     SHIM_ASSOCIATED calls/s, 1 and 8 client processes at once
//   events   shim6_subscribe() + poll + shim6_read_event(): ms from the
//            backend's emit (ev_mono_ns, CLOCK_MONOTONIC) to the read, events
//            emitted every SHIM6_BENCH_EVENT_GAP_MS (default 5)
// Every figure is the median over SHIM6_BENCH_ROUNDS rounds (default 5).
// Prints one JSON line on stdout; per-round details go to stderr.
// Environment: SHIM6_BENCH_ROUNDS, SHIM6_BENCH_CALLS (per latency run, default
// 5000), SHIM6_BENCH_TPUT_SECS (default 2), SHIM6_BENCH_EVENTS (default 200),
// SHIM6_BENCH_EVENT_GAP_MS; SHIM6_BENCH_EVENTS=0 skips the events (null).
// Profiling (agent mode): SHIM6_BENCH_CPU_PROF=DIR (agent A writes a V8 CPU
// profile there on exit), SHIM6_BENCH_STRACE=FILE (strace -c -f on agent A
// during each 1-client throughput run; the syscall counts go to FILE.<round>),
// SHIM6_BENCH_TRACE_CMD='perf record -g -o /tmp/p{round}.data -p {pid}' (any
// command, stopped with SIGINT, around the same run).
import { spawn, execFileSync, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { ApiServer } from '../src/api/server.js';
import {
  DEFAULT_POLICY, type ApiBackend, type ApiContext, type ApiEvent, type LocatorInfo, type LocatorPref, type ReapKnobs, type ReapView,
  type Side, type SocketPolicy, type SocketRef,
} from '../src/api/backend.js';
import { parseIpv6 } from '../src/wire/addr.js';
import { projectRoot } from '../src/native.js';
import { Topology, type AgentProcess } from '../src/lab/topology.js';
import type { ContextView } from '../src/agent/agent.js';
import { controlRequest } from '../src/agent/control.js';

const ROUNDS = Number(process.env.SHIM6_BENCH_ROUNDS ?? 5);
const CALLS = Number(process.env.SHIM6_BENCH_CALLS ?? 5000);
const TPUT_SECS = Number(process.env.SHIM6_BENCH_TPUT_SECS ?? 2);
const BACKEND = process.env.SHIM6_BENCH_BACKEND ?? 'agent';
const EVENTS = Number(process.env.SHIM6_BENCH_EVENTS ?? 200);
const EVENT_GAP_MS = Number(process.env.SHIM6_BENCH_EVENT_GAP_MS ?? 5);

const ROOT = projectRoot();
const BUILD = path.join(ROOT, 'build');
const hex = (b: Uint8Array): string => Buffer.from(b.buffer, b.byteOffset, b.length).toString('hex');
const ip = (s: string): Uint8Array => parseIpv6(s)!;
const log = (...a: unknown[]): void => { process.stderr.write(`${a.map((x) => (typeof x === 'string' ? x : JSON.stringify(x))).join(' ')}\n`); };

// ------------------------------------------------------------------ backend

interface BenchCtx extends ApiContext {
  local: LocatorInfo[];
  peer: LocatorInfo[];
  prefs: { local: Map<string, LocatorPref>; peer: Map<string, LocatorPref> };
  reap: ReapKnobs;
}

/** The agent's ApiBackend minus the data plane: Map lookups keyed as the agent keys them. */
class BenchBackend implements ApiBackend {
  readonly contexts = new Map<string, BenchCtx>();
  readonly policies = new Map<bigint, SocketPolicy>();
  readonly listeners = new Set<(ev: ApiEvent) => void>();
  prefChanges = 0;

  add(ulidLocal: string, ulidPeer: string, local: string[], peer: string[]): BenchCtx {
    const c: BenchCtx = {
      id: BigInt(this.contexts.size + 1), ulidLocal: ip(ulidLocal), ulidPeer: ip(ulidPeer), fii: 0,
      local: local.map((a, i) => ({ addr: ip(a), flags: 1, prio: i, weight: 0, ifindex: 2 + i })),
      peer: peer.map((a, i) => ({ addr: ip(a), flags: 1, prio: i, weight: 0, reach: 'verified' as const })),
      prefs: { local: new Map(), peer: new Map() },
      reap: { sendTimeoutS: 0, keepaliveIntervalS: 0, initialProbes: 0, initialProbeTimeoutMs: 0, hotStandby: false },
    };
    this.contexts.set(`${hex(c.ulidLocal)}/${hex(c.ulidPeer)}/0`, c);
    return c;
  }

  lookupContext(sock: SocketRef): ApiContext | null {
    if (!sock.local || !sock.peer || sock.local.family !== 'IPv6' || sock.peer.family !== 'IPv6') return null;
    const fii = this.policies.get(sock.cookie)?.fii ?? 0;
    return this.contexts.get(`${hex(sock.local.addr)}/${hex(sock.peer.addr)}/${fii}`) ?? null;
  }
  locators(ctx: ApiContext, side: Side): LocatorInfo[] {
    const c = ctx as BenchCtx;
    return c[side].map((l) => {
      const p = c.prefs[side].get(hex(l.addr));
      return p ? { ...l, prio: p.prio, weight: p.weight } : l;
    });
  }
  isLocalAddress(addr: Uint8Array): boolean {
    return hex(addr) === hex(ip('::1'));
  }
  addLocalLocator(): boolean {
    return false;
  }
  setPreference(ctx: ApiContext, side: Side, pref: LocatorPref): void {
    (ctx as BenchCtx).prefs[side].set(hex(pref.addr), pref);
    this.prefChanges++; // the agent re-ranks REAP's pairs here
  }
  setLocatorList(ctx: ApiContext, side: Side, list: readonly LocatorPref[]): void {
    const m = (ctx as BenchCtx).prefs[side];
    m.clear();
    for (const l of list) m.set(hex(l.addr), l);
  }
  socketPolicy(sock: SocketRef): SocketPolicy {
    return this.policies.get(sock.cookie) ?? DEFAULT_POLICY;
  }
  setSocketPolicy(sock: SocketRef, policy: SocketPolicy): void {
    this.policies.set(sock.cookie, policy);
  }
  reap(ctx: ApiContext): ReapView {
    const r = (ctx as BenchCtx).reap;
    return { requested: r, effective: { sendTimeoutS: 15, keepaliveIntervalS: 5, initialProbes: 4, initialProbeTimeoutMs: 500, hotStandby: r.hotStandby } };
  }
  setReap(ctx: ApiContext, changes: Partial<ReapKnobs>): void {
    const c = ctx as BenchCtx;
    c.reap = { ...c.reap, ...changes };
  }
  deferredSetup(): boolean {
    return true;
  }
  subscribe(listener: (ev: ApiEvent) => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }
  emit(ev: ApiEvent): void {
    for (const l of this.listeners) l(ev);
  }
}

// ------------------------------------------------------------------ clients

interface Child {
  readonly lines: string[];
  readonly done: Promise<number>;
  write(s: string): void;
  waitLine(pred: (l: string) => boolean): Promise<void>;
}

/** CPU time (µs) of the process serving the API: this one, or the agent (agent mode, /proc/PID/stat at 100 Hz). */
let serverCpuUs = (): number => { const u = process.cpuUsage(); return u.user + u.system; };

/** The agent's pid (agent mode): strace attaches to it. */
let agentPid = 0;

/** How clients are started: here, or in host A's namespace (agent mode). */
let spawner = (bin: string, args: string[], env: Record<string, string>): ChildProcess => spawn(bin, args, { env: { ...process.env, ...env }, stdio: ['pipe', 'pipe', 'pipe'] });

function start(bin: string, args: string[], env: Record<string, string>): Child {
  const p = spawner(bin, args, env);
  const lines: string[] = [];
  const waiters: Array<{ pred: (l: string) => boolean; resolve: () => void }> = [];
  let buf = '';
  let err = '';
  p.stdout!.on('data', (d: Buffer) => {
    buf += d.toString();
    let i;
    while ((i = buf.indexOf('\n')) >= 0) {
      const l = buf.slice(0, i);
      buf = buf.slice(i + 1);
      lines.push(l);
      for (const w of [...waiters]) if (w.pred(l)) { waiters.splice(waiters.indexOf(w), 1); w.resolve(); }
    }
  });
  p.stderr!.on('data', (d: Buffer) => { err += d.toString(); });
  const done = new Promise<number>((resolve, reject) => {
    p.on('error', reject);
    p.on('close', (code) => {
      if (code !== 0) reject(new Error(`${path.basename(bin)} ${args.join(' ')} exited ${code}: ${err.trim()}`));
      else resolve(code);
    });
  });
  return {
    lines, done,
    write: (s) => p.stdin!.write(s),
    waitLine: (pred) => (lines.some(pred) ? Promise.resolve() : new Promise<void>((resolve, reject) => {
      waiters.push({ pred, resolve });
      done.then(() => reject(new Error('exited before the line')), reject);
    })),
  };
}

const lastJson = (c: Child): Record<string, number> => JSON.parse(c.lines.filter((l) => l.startsWith('{')).pop()!);

async function runJson(bin: string, args: string[], env: Record<string, string>): Promise<Record<string, number>> {
  const c = start(bin, args, env);
  await c.done;
  return lastJson(c);
}

/** Calls/s of k clients at once, and this process's CPU time per call (µs: the server's cost). */
async function throughput(bin: string, env: Record<string, string>, k: number): Promise<{ rate: number; cpuUs: number }> {
  const cs = Array.from({ length: k }, () => start(bin, ['tput', String(TPUT_SECS)], env));
  await Promise.all(cs.map((c) => c.waitLine((l) => l === 'ready')));
  const cpu0 = serverCpuUs();
  for (const c of cs) c.write('go\n');
  await Promise.all(cs.map((c) => c.done));
  const cpu = serverCpuUs() - cpu0;
  const rs = cs.map(lastJson);
  const calls = rs.reduce((s, r) => s + r.calls, 0);
  return { rate: rs.reduce((s, r) => s + r.calls / r.secs, 0), cpuUs: cpu / calls };
}

async function events(bin: string, env: Record<string, string>, backend: BenchBackend, ctx: BenchCtx): Promise<Record<string, number>> {
  const c = start(bin, ['events', String(EVENTS)], env);
  await c.waitLine((l) => l === 'ready');
  const kinds: ApiEvent[] = [
    { type: 'path-failed', ctx, local: ctx.local[0].addr, peer: ctx.peer[0].addr },
    { type: 'pair-changed', ctx, local: ctx.local[1].addr, peer: ctx.peer[1].addr },
    { type: 'path-recovered', ctx, local: ctx.local[1].addr, peer: ctx.peer[1].addr },
    { type: 'pair-changed', ctx, local: ctx.local[0].addr, peer: ctx.peer[0].addr },
  ];
  for (let i = 0; i < EVENTS; i++) {
    await new Promise((r) => setTimeout(r, EVENT_GAP_MS));
    backend.emit(kinds[i % kinds.length]);
  }
  await c.done;
  return lastJson(c);
}

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2;
}
const r1 = (x: number): number => Math.round(x * 10) / 10;
const r3 = (x: number): number => Math.round(x * 1000) / 1000;

function clientBinary(): string {
  const bin = path.join(BUILD, 'api_client');
  const src = path.join(ROOT, 'bench/api_client.c');
  if (!fs.existsSync(bin) || fs.statSync(bin).mtimeMs < fs.statSync(src).mtimeMs) {
    execFileSync('gcc', ['-std=gnu11', '-O2', '-Wall', '-Werror', `-I${path.join(ROOT, 'include')}`, src, '-o', bin,
      `-L${BUILD}`, '-lshim6', `-Wl,-rpath,${BUILD}`], { stdio: 'inherit' });
  }
  return bin;
}

/** Events from real pair changes: the operator moves A's context between the paths. */
async function agentEvents(bin: string, env: Record<string, string>, A: AgentProcess, hA: string[], hB: string[]): Promise<Record<string, number>> {
  const c = start(bin, ['events', String(EVENTS)], env);
  await c.waitLine((l) => l === 'ready');
  const ct = A.ctlJson<ContextView[]>('contexts').find((x) => x.state === 'ESTABLISHED' && x.fii === 0)!.ctLocal!;
  // Through the control socket itself (what shim6ctl sends): a shim6ctl
  // process per switch would be starting up on the CPU the woken client needs.
  for (let i = 0; i < EVENTS; i++) {
    const p = (i + 1) % 2;
    await controlRequest(A.socket, 'set-pair', { ct, local: hA[p], peer: hB[p] });
    await new Promise((r) => setTimeout(r, EVENT_GAP_MS));
  }
  await c.done;
  return lastJson(c);
}

interface Target {
  readonly env: Record<string, string>;
  events(bin: string, env: Record<string, string>): Promise<Record<string, number>>;
  close(): Promise<void>;
  errors(): number;
}

async function fakeTarget(): Promise<Target> {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'shim6-bench-api-'));
  const backend = new BenchBackend();
  const ctx = backend.add('::1', '::1', ['::1', '2001:db8:1:a::1'], ['::1', '2001:db8:1:b::1', '2001:db8:2:b::1']);
  const server = new ApiServer({ backend, path: path.join(dir, 'api.sock') });
  await server.listen();
  return {
    env: { SHIM6_API_SOCKET: server.path },
    events: (bin, env) => events(bin, env, backend, ctx),
    close: async () => {
      await server.close();
      fs.rmSync(dir, { recursive: true, force: true });
    },
    errors: () => server.counters.errors,
  };
}

async function agentTarget(): Promise<Target> {
  const t = Topology.create();
  try {
    // 'info': the agent's ready line is an info record.
    const profDir = process.env.SHIM6_BENCH_CPU_PROF;
    const A = t.A.agent({ logLevel: 'info', nodeArgs: profDir ? ['--cpu-prof', '--cpu-prof-dir', profDir] : [] });
    const B = t.B.agent({ logLevel: 'info' });
    for (const sig of ['SIGINT', 'SIGTERM'] as const) {
      process.once(sig, () => {
        t.teardown();
        process.exit(130);
      });
    }
    await Promise.all([A.ready, B.ready]);
    const hba = (x: AgentProcess) => x.hbaAddresses();
    const hA = hba(A), hB = hba(B);
    const echo = t.B.flow('echo-server', { bind: hB[0], port: 7701 });
    await echo.ready;
    const apiSocket = A.ctlJson<{ apiSocket: string }>('agent', 'status').apiSocket;
    spawner = (bin, args, env) => t.A.spawn(bin, args, { env: { ...process.env, ...env } });
    const pid = A.child.pid!; // ip netns exec execs node: the agent itself
    agentPid = pid;
    serverCpuUs = () => {
      const f = fs.readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1].split(' ');
      return (Number(f[11]) + Number(f[12])) * 10_000;
    };
    const errors0 = A.ctlJson<{ api: { errors: number } | null }>('agent', 'status').api?.errors ?? 0;
    log('agent mode', { ulids: [hA[0], hB[0]] });
    return {
      env: { SHIM6_API_SOCKET: apiSocket, SHIM6_BENCH_PEER: hB[0], SHIM6_BENCH_LOCAL: hA[0], SHIM6_BENCH_PORT: '7701', SHIM6_BENCH_PREF: hB[1] },
      events: (bin, env) => agentEvents(bin, env, A, hA, hB),
      close: async () => {
        await Promise.all([A.stop(), B.stop()]).catch(() => {});
        t.teardown();
      },
      errors: () => (A.ctlJson<{ api: { errors: number } | null }>('agent', 'status').api?.errors ?? 0) - errors0,
    };
  } catch (err) {
    t.teardown();
    throw err;
  }
}

async function main(): Promise<void> {
  if (!fs.existsSync(path.join(BUILD, 'libshim6.so'))) throw new Error('build/libshim6.so missing: make lib');
  const bin = clientBinary();
  if (BACKEND !== 'agent' && BACKEND !== 'fake') throw new Error(`SHIM6_BENCH_BACKEND must be agent or fake, not ${BACKEND}`);
  const target = BACKEND === 'agent' ? await agentTarget() : await fakeTarget();
  const env = target.env;
  let errors = 0;
  const runs: Array<Record<string, number>> = [];
  try {
    for (let r = 0; r < ROUNDS; r++) {
      const assoc = await runJson(bin, ['lat', 'assoc', String(CALLS)], env);
      const pref = await runJson(bin, ['lat', 'pref', String(CALLS)], env);
      const nat = await runJson(bin, ['lat', 'native', String(CALLS)], env);
      const straceFile = process.env.SHIM6_BENCH_STRACE;
      const traceCmd = process.env.SHIM6_BENCH_TRACE_CMD;
      const st = !agentPid ? null
        : straceFile ? spawn('strace', ['-c', '-f', '-o', `${straceFile}.${r + 1}`, '-p', String(agentPid)], { stdio: 'ignore' })
        : traceCmd ? spawn('sh', ['-c', `exec ${traceCmd.replaceAll('{pid}', String(agentPid)).replaceAll('{round}', String(r + 1))}`], { stdio: 'ignore' })
        : null;
      if (st) await new Promise((res) => setTimeout(res, 500));
      const t1 = await throughput(bin, env, 1);
      if (st) {
        st.kill('SIGINT');
        await new Promise((res) => st.once('close', res));
      }
      const t8 = await throughput(bin, env, 8);
      const ev = EVENTS > 0 ? await target.events(bin, env) : { p50: NaN, p99: NaN, max: NaN };
      const run = {
        assoc_p50_us: assoc.p50, assoc_p99_us: assoc.p99, pref_p50_us: pref.p50, pref_p99_us: pref.p99,
        calls_per_s_1: t1.rate, calls_per_s_8: t8.rate, native_p50_us: nat.p50, event_ms_p99: ev.p99,
      };
      runs.push(run);
      log(`round ${r + 1}/${ROUNDS}`, { ...run, assoc_p90_us: assoc.p90, assoc_max_us: assoc.max, native_p99_us: nat.p99, server_cpu_us_per_call_1: t1.cpuUs, server_cpu_us_per_call_8: t8.cpuUs, event_ms_p50: ev.p50, event_ms_max: ev.max });
    }
    errors = target.errors();
  } finally {
    await target.close();
  }
  if (errors !== 0) throw new Error(`${errors} API requests failed`);
  const m = (k: string) => median(runs.map((x) => x[k]));
  const out = {
    backend: BACKEND,
    assoc_p50_us: r1(m('assoc_p50_us')),
    assoc_p99_us: r1(m('assoc_p99_us')),
    pref_p50_us: r1(m('pref_p50_us')),
    pref_p99_us: r1(m('pref_p99_us')),
    calls_per_s_1: Math.round(m('calls_per_s_1')),
    calls_per_s_8: Math.round(m('calls_per_s_8')),
    native_p50_us: r3(m('native_p50_us')),
    event_ms_p99: r3(m('event_ms_p99')),
  };
  process.stdout.write(`${JSON.stringify(out)}\n`);
}

main().catch((err) => {
  process.stderr.write(`bench-api: ${err instanceof Error ? err.stack : String(err)}\n`);
  process.exit(1);
});
