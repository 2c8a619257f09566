// RFC 6316 conformance between real agents: one check per normative rule of
// SPEC-DIGEST §1.8 and per cell of its §1.3 error matrix, through libshim6
// (test/api/shim6_conformance.c, plain getsockopt/setsockopt/sendmsg/recvmsg
// linked with -lshim6) and through the TypeScript client
// (test/api/conformance.mjs); and the RFC's own example code (typos
// corrected, test/api/rfc6316_examples.c) on a real connection.
//
// Ids → rules (every id must pass in both programs):
//   R1  level / cmsg_level MUST be SOL_SHIM           other levels reach the kernel; SOL_SHIM cmsgs carry SOL_SHIM; a request at another level: ENOPROTOOPT
//   R2  SHIM_ASSOCIATED: 2 only unconnected, else 0/1
//   R3  SHIM_DONTSHIM before connect; EOPNOTSUPP after
//   R4  SHIM_LOC_*_RECV, DEFERRED_SETUP binary        2 / -1 → EINVAL; DEFERRED reads 1 (both spellings)
//   R5  LOCLIST set is an array; get buffer big enough   33 bytes → EINVAL; one-locator buffer → ETOOMANYLOCATORS
//   R6  lc_proto 0/UDP, IPv4-mapped, network order, family ≠ 0
//   R7  pe_* as RFC 5534, pe_reserved zero
//   R8  fb_indicator 0 not processed, fb_reserved ignored   (REAP's history read between the steps)
//   R9  zero-filled locator clears *_SEND
//   R10 recvmsg without a context: zero-filled        (C: the shim names no context; TS: a SHIM_DONTSHIM socket)
//   R11 stream sockets: the latest locators
//   R12 *_SEND supersedes *_PREF (on the wire: path 2); app prefs supersede the peer's;
//       forked context deleted on close: test/netns/api-fork.test.ts
//   R13 unknown source locator → EINVALIDLOCATOR (also a host address outside the HBA set: it cannot join Ls(local))
//   R14 unknown destination locator rejected (EINVALIDLOCATOR), options and sendmsg
//   R15 SHIM_MAX_LOCATORS = 32 (33 → ETOOMANYLOCATORS, 32 accepted)
// Error matrix: M-<option>-uncon (EOPNOTSUPP; ASSOCIATED: 2; DONTSHIM: allowed),
// M-<option>-noctx (ENOENT; ASSOCIATED 0, DONTSHIM readable, DEFERRED 1),
// M-<option>-<errno> / -other for the option's own column, M-SENDMSG-* for
// Table 2. Cells two healthy agents cannot show are unit rows of
// test/unit/api/server.test.ts against a fake backend: EUNREACHABLELOCATOR
// (LOC_PEER_PREF, LOC_PEER_SEND, LOCLIST_PEER, sendmsg), EUNVERIFIEDLOCATOR
// (LOC_PEER_SEND, LOCLIST_PEER, sendmsg), APP_TIMEOUT without REAP
// (EOPNOTSUPP).
import path from 'node:path';
import type { ChildProcess } from 'node:child_process';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { AgentProcess, Topology, ADDR } from '../../src/lab/topology.js';
import { projectRoot } from '../../src/native.js';
import type { ContextView } from '../../src/agent/agent.js';
import { cc, BUILD } from '../unit/api/cc.js';

const OPTIONS = ['HOT_STANDBY', 'LOC_LOCAL_PREF', 'LOC_PEER_PREF', 'LOC_LOCAL_RECV', 'LOC_PEER_RECV', 'LOC_LOCAL_SEND', 'LOC_PEER_SEND',
  'LOCLIST_LOCAL', 'LOCLIST_PEER', 'APP_TIMEOUT', 'PATHEXPLORE'];
const IDS = [
  ...Array.from({ length: 15 }, (_, i) => `R${i + 1}`),
  'M-ASSOCIATED-uncon', 'M-ASSOCIATED-noctx', 'M-ASSOCIATED-other',
  'M-DONTSHIM-uncon', 'M-DONTSHIM-noctx', 'M-DONTSHIM-other',
  ...OPTIONS.flatMap((o) => [`M-${o}-uncon`, `M-${o}-noctx`]),
  'M-DEFERRED_SETUP-uncon', 'M-DEFERRED_SETUP-noctx',
  'M-HOT_STANDBY-other', 'M-LOC_LOCAL_RECV-other', 'M-LOC_PEER_RECV-other',
  'M-LOC_LOCAL_PREF-EINVALIDLOCATOR', 'M-LOC_LOCAL_PREF-other', 'M-LOC_PEER_PREF-EINVALIDLOCATOR', 'M-LOC_PEER_PREF-other',
  'M-LOC_LOCAL_SEND-EINVALIDLOCATOR', 'M-LOC_LOCAL_SEND-other', 'M-LOC_PEER_SEND-EINVALIDLOCATOR', 'M-LOC_PEER_SEND-other',
  'M-LOCLIST_LOCAL-EINVALIDLOCATOR', 'M-LOCLIST_LOCAL-ETOOMANYLOCATORS', 'M-LOCLIST_LOCAL-other',
  'M-LOCLIST_PEER-EINVALIDLOCATOR', 'M-LOCLIST_PEER-ETOOMANYLOCATORS',
  'M-APP_TIMEOUT-other', 'M-PATHEXPLORE-other',
  'M-SENDMSG-uncon', 'M-SENDMSG-noctx', 'M-SENDMSG-other',
];

let t: Topology;
let A: AgentProcess;
let B: AgentProcess;
let hA: string[];
let hB: string[];
let apiSocket: string;
const TCP_PORT = 7601;
const UDP_PORT = 7602;

const shared = (): ContextView => A.ctlJson<ContextView[]>('contexts').find((c) => c.state === 'ESTABLISHED' && c.fii === 0)!;
const lastFeedback = (): number => Math.max(0, ...(shared().reap?.history ?? []).filter((h) => h.event === 'feedback' && h.detail === 'app').map((h) => h.atMonoMs));
const tx = (): { a1: number; a2: number } => ({ a1: t.A.counters('a1').txBytes, a2: t.A.counters('a2').txBytes });

/** Run a conformance program: answer its steps, return its output; check every id. */
async function conformance(child: ChildProcess): Promise<string> {
  let out = '';
  let err = '';
  let buf = '';
  const steps: string[] = [];
  child.stderr!.on('data', (d: Buffer) => { err += d.toString(); });
  child.stdout!.on('data', (d: Buffer) => {
    out += d.toString();
    buf += d.toString();
    for (let i = buf.indexOf('\n'); i >= 0; i = buf.indexOf('\n')) {
      const l = buf.slice(0, i);
      buf = buf.slice(i + 1);
      if (l.startsWith('step ')) steps.push(l.slice(5));
    }
  });
  const exited = new Promise<number>((r) => child.on('exit', (code) => r(code ?? -1)));
  let fb0 = 0;
  let c0 = tx();
  for (;;) {
    const s = await Promise.race([
      (async () => { while (!steps.length && child.exitCode === null) await new Promise((r) => setTimeout(r, 20)); return steps.shift(); })(),
      exited.then(() => undefined),
    ]);
    if (s === undefined) break;
    const [name, ...kv] = s.split(' ');
    const args = Object.fromEntries(kv.map((p) => p.split('=')));
    if (name === 'fb-before') fb0 = lastFeedback();
    else if (name === 'fb-after0') expect(lastFeedback(), 'R8: indicator 0 is not processed').toBe(fb0);
    else if (name === 'fb-after1') expect(lastFeedback(), `R8: indicator 1 reaches REAP (fb_reserved ignored); REAP: ${JSON.stringify(shared().reap)}; ${out.split('\n').slice(-4).join(' | ')}`).toBeGreaterThan(fb0);
    else if (name === 'wire-start') c0 = tx();
    else if (name === 'wire-done') {
      const c1 = tx();
      const bytes = Number(args.bytes);
      expect(c1.a2 - c0.a2, 'R12: *_SEND pins the data to path 2').toBeGreaterThan(bytes);
      expect(c1.a1 - c0.a1, 'R12: nothing on path 1 although *_PREF prefers it').toBeLessThan(bytes * 0.1);
    } else if (name === 'end') break;
    child.stdin!.write('\n');
  }
  const code = await exited;
  expect(out, err).not.toMatch(/^not ok/m);
  const passed = new Set([...out.matchAll(/^ok \d+ - \[([^\]]+)\]/gm)].map((m) => m[1]));
  expect(IDS.filter((id) => !passed.has(id)), 'ids without a passing check').toEqual([]);
  expect(code, out + err).toBe(0);
  return out;
}

describe('RFC 6316 conformance between two agents', () => {
  beforeAll(async () => {
    t = Topology.create();
    A = t.A.agent({ logLevel: 'info' });
    B = t.B.agent({ logLevel: 'info' });
    await Promise.all([A.ready, B.ready]);
    hA = A.hbaAddresses();
    hB = B.hbaAddresses();
    apiSocket = A.ctlJson<{ apiSocket: string }>('agent', 'status').apiSocket;
    const tcp = t.B.flow('echo-server', { bind: hB[0], port: TCP_PORT });
    const udp = t.B.flow('udp-echo', { bind: hB[0], port: UDP_PORT });
    await Promise.all([tcp.ready, udp.ready]);
  }, 60_000);
  afterAll(async () => {
    await Promise.all([A?.stop(), B?.stop()]).catch(() => {});
    t?.teardown();
  });

  // R11 expects the latest received locators to be the ULIDs (path 1). A
  // client run ends with SHIM_FEEDBACK checks, which start REAP explorations
  // that may leave the context on path 2: the next run starts on the ULIDs.
  const onUlids = (): void => {
    for (const X of [A, B]) {
      for (const c of X.ctlJson<ContextView[]>('contexts')) {
        if (c.state !== 'ESTABLISHED' || c.fii !== 0 || !c.ctLocal || (c.lpLocal === c.ulidLocal && c.lpPeer === c.ulidPeer)) continue;
        X.ctlJson('agent', 'set-pair', c.ctLocal, '--local', c.ulidLocal, '--peer', c.ulidPeer);
      }
    }
    for (const X of [A, B]) {
      const moved = X.ctlJson<ContextView[]>('contexts').filter((c) => c.state === 'ESTABLISHED' && c.fii === 0 && (c.lpLocal !== c.ulidLocal || c.lpPeer !== c.ulidPeer));
      expect(moved, 'contexts back on their ULIDs').toEqual([]);
    }
  };

  const args = (): string[] => [hB[0], hA[0], String(TCP_PORT), String(UDP_PORT), hB[1], hA[1], ADDR.A1];

  it('the RFC 6316 example code (typos corrected) runs on a real connection', async () => {
    const bin = cc('rfc6316_examples', [path.join(projectRoot(), 'test/api/rfc6316_examples.c')], [`-L${BUILD}`, '-lshim6', `-Wl,-rpath,${BUILD}`]);
    const child = t.A.spawn(bin, [hB[0], hA[0], String(TCP_PORT), hA[1]], { env: { ...process.env, SHIM6_API_SOCKET: apiSocket } });
    let out = '';
    child.stdout!.on('data', (d: Buffer) => { out += d.toString(); });
    const code = await new Promise<number>((r) => child.on('exit', (c) => r(c ?? -1)));
    expect(out).not.toMatch(/^not ok/m);
    expect(out.match(/^ok /gm)?.length, out).toBe(13);
    expect(code, out).toBe(0);
  }, 60_000);

  it('through libshim6 (C): every rule and every matrix cell', async () => {
    onUlids();
    const bin = cc('shim6_conformance', [path.join(projectRoot(), 'test/api/shim6_conformance.c')], [`-L${BUILD}`, '-lshim6', `-Wl,-rpath,${BUILD}`]);
    await conformance(t.A.spawn(bin, args(), { env: { ...process.env, SHIM6_API_SOCKET: apiSocket } }));
  }, 120_000);

  it('through the TypeScript client: every rule and every matrix cell', async () => {
    onUlids();
    const script = path.join(projectRoot(), 'test/api/conformance.mjs');
    await conformance(t.A.spawn(process.execPath, [script, ...args()], { env: { ...process.env, SHIM6_API_SOCKET: apiSocket } }));
  }, 120_000);
});
