// The idle cost of many contexts in a real shim6d (bench-failover's
// "idle_contexts" key): B's agent starts with N established contexts
// restored from its state files, then nothing happens for IDLE_MS. Reported:
// the agent's CPU (utime + stime of its process, % of one core), and the
// control messages it sent (probes + keepalives) per context per minute.
//
// The contexts are real: N initiators with their own HBA sets run
// I1/R1/I2/R2 in memory against a ShimHost holding B's HBA set (the one
// B's agent then loads), and the responder's contexts are written where
// B's agent restores contexts from after a restart.
import crypto from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { generateHbaSet } from '../src/hba/index.js';
import { ShimHost, locatorSetFromHbaSet, type ContextAction, type LocalLocator, type LocalLocatorSet, type SendAction } from '../src/context/index.js';
import { parseIpv6 } from '../src/wire/addr.js';
import { loadOrGenerateHbaSet } from '../src/agent/hba-store.js';
import { parsePrefix } from '../src/agent/config.js';
import { ADDR, Topology, sh } from '../src/lab/topology.js';
import { sleep } from '../src/lab/wait.js';

const random = (n: number): Uint8Array => new Uint8Array(crypto.randomBytes(n));
const r3 = (x: number): number => Math.round(x * 1000) / 1000;

function sendOf(actions: readonly ContextAction[], kind: string): SendAction {
  const s = actions.find((a): a is SendAction => a.type === 'send' && a.kind === kind);
  if (!s) throw new Error(`expected a ${kind}`);
  return s;
}

/** CPU seconds (user + system) of a process so far. */
function cpuSeconds(pid: number): number {
  const f = fs.readFileSync(`/proc/${pid}/stat`, 'utf8');
  const rest = f.slice(f.lastIndexOf(')') + 2).split(' ');
  // fields 14 and 15 (utime, stime), counted from the state field (3) here
  return (Number(rest[11]) + Number(rest[12])) / 100; // USER_HZ = 100
}

export async function idleContexts(n: number, idleMs: number, reap: Record<string, unknown>): Promise<Record<string, number>> {
  const t = Topology.create();
  try {
    const prefixesB = ['2001:db8:1:b::/64', '2001:db8:2:b::/64'];
    const hbaDir = path.join(t.dir, `${t.B.ns}-state`);
    fs.mkdirSync(hbaDir, { recursive: true });
    const { set } = loadOrGenerateHbaSet(hbaDir, prefixesB.map((p) => parsePrefix(p)));
    // B's locator set as its agent will compute it (HBA addresses, then the
    // uplinks' own addresses, preferences explicit): restored contexts then
    // have nothing new to announce.
    const entry = (addr: Uint8Array, method: 'hba' | 'none'): LocalLocator => ({ addr, method, priority: 0, weight: 0, flags: 0 });
    const locators: LocalLocatorSet = {
      locators: [...set.addresses.map((a) => entry(a, 'hba')), entry(parseIpv6(ADDR.B1)!, 'none'), entry(parseIpv6(ADDR.B2)!, 'none')],
      pds: set.addresses.map((addr, i) => ({ addr, params: set.params[i] })),
    };
    const responder = new ShimHost({ random, locators, ...(reap.sendTimeoutMs ? { keepaliveTimeoutSec: Math.floor(Number(reap.sendTimeoutMs) / 1000) } : {}) });
    const t0 = performance.now();
    for (let i = 0; i < n; i++) {
      const p = (a: number): Uint8Array => Uint8Array.of(0x20, 0x01, 0x0d, 0xb8, 0xa0 | a, 0, i >> 8, i & 0xff);
      const s = generateHbaSet({ prefixes: [p(1), p(2)], sec: 0, random });
      const ini = new ShimHost({ random, locators: locatorSetFromHbaSet(s) });
      const now = performance.now();
      const i1 = sendOf(ini.trigger(now, { ulidLocal: s.addresses[0], ulidPeer: set.addresses[0] }), 'I1');
      const r1 = sendOf(responder.receive(now, i1), 'R1');
      const i2 = sendOf(ini.receive(now, r1), 'I2');
      sendOf(responder.receive(now, i2), 'R2');
    }
    const setupS = (performance.now() - t0) / 1000;
    if (process.env.IDLE_DEBUG) process.stderr.write(`idle: ${n} contexts set up in ${setupS.toFixed(1)} s\n`);
    // Where B's agent keeps its contexts: <run-dir>/net-<netns inode>/contexts.json.
    const ino = sh('stat', ['-L', '-c', '%i', `/run/netns/${t.B.ns}`]).trim();
    const runDir = path.join(t.stateDir, `net-${ino}`);
    fs.mkdirSync(runDir, { recursive: true });
    const entries = responder.exportContexts().map((rec, i) => ({ ct: rec.ctLocal.replace(/^0x/, ''), id: 0x4000 + i, rec }));
    fs.writeFileSync(path.join(runDir, 'contexts.json'), JSON.stringify({ version: 2, entries }));
    const cfg = path.join(t.dir, 'reap.json');
    fs.writeFileSync(cfg, JSON.stringify({ reap }));
    // IDLE_CPU_PROF=DIR: the agent writes a V8 CPU profile there when it stops.
    const prof = process.env.IDLE_CPU_PROF;
    const B = t.B.agent({ args: ['--config', cfg], logLevel: 'info', ...(prof ? { nodeArgs: ['--cpu-prof', '--cpu-prof-dir', prof] } : {}) });
    try {
      await B.ready;
      if (process.env.IDLE_DEBUG) process.stderr.write(`idle: agent ready\n`);
      const pid = B.child.pid!;
      // Let the restore settle (routes over netlink, REAP contexts created).
      await sleep(5000);
      const status = (): { contexts: Record<string, number>; counters: { txControl: number; txByKind: Record<string, number> }; reap: { hot: number; scheduled: number } } => B.ctlJson('agent', 'status');
      const s0 = status();
      const c0 = cpuSeconds(pid);
      const w0 = performance.now();
      await sleep(idleMs);
      const c1 = cpuSeconds(pid);
      const wall = (performance.now() - w0) / 1000;
      const s1 = status();
      const held = s1.contexts.ESTABLISHED ?? 0;
      const sent = (k: string): number => (s1.counters.txByKind[k] ?? 0) - (s0.counters.txByKind[k] ?? 0);
      const perCtxMin = (x: number): number => (held > 0 ? r3((x * 60) / wall / held) : -1);
      return {
        contexts: held,
        setup_s: r3(setupS),
        idle_s: r3(wall),
        agent_cpu_pct: r3(((c1 - c0) / wall) * 100),
        probes_per_ctx_min: perCtxMin(sent('Probe')),
        keepalives_per_ctx_min: perCtxMin(sent('Keepalive')),
        control_msgs_per_ctx_min: perCtxMin(s1.counters.txControl - s0.counters.txControl),
        reap_hot: s1.reap.hot,
        reap_scheduled: s1.reap.scheduled,
      };
    } finally {
      await B.stop().catch(() => {});
    }
  } finally {
    t.teardown();
  }
}
