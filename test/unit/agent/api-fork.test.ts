// Context forking in the agent's ApiBackend (RFC 6316 §11.1): who owns a
// shared context's preferences, what conflicts, the fork's life (FII in the
// socket's policy, established before the answer, EAGAIN otherwise, deleted
// when its socket closes), and the move to the preferred pair. The context
// core, the data plane and /proc/net are stubs; the socket policy lives in a
// Map instead of the BPF map (subclass).
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { AgentApiBackend, type AgentApiDeps } from '../../../src/agent/api-backend.js';
import { DEFAULT_POLICY, type ApiContext, type SocketPolicy, type SocketRef } from '../../../src/api/backend.js';
import { ContextState, type ContextSnapshot } from '../../../src/context/index.js';
import { parseIpv6 } from '../../../src/wire/addr.js';

const ip = (s: string): Uint8Array => parseIpv6(s)!;
const hex = (b: Uint8Array): string => Buffer.from(b).toString('hex');
const UL = ip('2001:db8:1:a::10'), UP = ip('2001:db8:1:b::10');
const L1 = ip('2001:db8:1:a::10'), L2 = ip('2001:db8:2:a::10');
const P1 = ip('2001:db8:1:b::10'), P2 = ip('2001:db8:2:b::10');

class TestBackend extends AgentApiBackend {
  readonly policies = new Map<bigint, SocketPolicy>();
  override socketPolicy(sock: SocketRef): SocketPolicy {
    return this.policies.get(sock.cookie) ?? DEFAULT_POLICY;
  }
  override setSocketPolicy(sock: SocketRef, p: SocketPolicy): void {
    this.policies.set(sock.cookie, p);
  }
}

let contexts: Map<bigint, ContextSnapshot>;
let live: Set<number>;
let removed: bigint[];
let pairs: Array<[bigint, string, string]>;
let establish: boolean;
let nextCt: bigint;
let fds: number[];
let b: TestBackend;
let dir: string;

function snapshot(ct: bigint, fii: number, state: string = ContextState.Established): ContextSnapshot {
  return {
    state, ulidLocal: UL, ulidPeer: UP, fii, ctLocal: ct, ctPeer: ct + 1000n,
    lsLocal: [L1, L2].map((addr) => ({ addr, method: 1, flags: 0, priority: 0, weight: 0 })),
    lsPeer: [P1, P2].map((addr) => ({ addr, method: 1, flags: 0, priority: 0, weight: 0, verification: 'verified', usable: true })),
    localGeneration: 1, peerGeneration: 1, lpLocal: L1, lpPeer: P1, initiatorNonce: null, responderNonce: null, retransmits: 0,
    update: null, peerKeepaliveTimeout: null, createdAt: 0, stateSince: 0, establishedAt: 0, lastControlAt: null, holddownUntil: null,
  } as unknown as ContextSnapshot;
}

/** A socket: a real fd of a file of its own (its inode is what liveness checks), a cookie. */
function sock(cookie: bigint): SocketRef {
  const fd = fs.openSync(path.join(dir, `sock-${cookie}`), 'w');
  fds.push(fd);
  const local = { family: 'IPv6' as const, address: '', port: 1, addr: UL };
  const peer = { family: 'IPv6' as const, address: '', port: 2, addr: UP };
  return { fd, cookie, family: 10, type: 1, protocol: 6, local, peer, connected: true, listening: false, tcpState: 1, cred: { pid: 1, uid: 0, gid: 0 } };
}
const inode = (s: SocketRef): number => fs.fstatSync(s.fd).ino;
const shared = (): ApiContext => ({ id: 1n, ulidLocal: UL, ulidPeer: UP, fii: 0 });

beforeEach(() => {
  contexts = new Map([[1n, snapshot(1n, 0)]]);
  live = new Set();
  removed = [];
  pairs = [];
  establish = true;
  nextCt = 10n;
  fds = [];
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'shim6-fork-'));
  const deps: AgentApiDeps = {
    host: () => ({
      context: (ref: { ctLocal?: bigint; ulidLocal?: Uint8Array; fii?: number }) => (ref.ctLocal !== undefined
        ? contexts.get(ref.ctLocal)
        : [...contexts.values()].find((c) => c.fii === (ref.fii ?? 0))),
    }) as never,
    reap: () => ({}) as never,
    addresses: () => ({ addresses: () => [L1, L2].map((bytes, i) => ({ bytes, ifindex: 2 + i, tentative: false, dadfailed: false })) }) as never,
    sockMapFd: () => -1,
    held: (ct) => contexts.get(ct)?.state === ContextState.Established,
    prefsChanged: () => {},
    now: () => performance.now(),
    trigger: (_l, _p, fii) => {
      const ct = nextCt++;
      contexts.set(ct, snapshot(ct, fii, ContextState.I1Sent));
      if (establish) setTimeout(() => contexts.set(ct, snapshot(ct, fii)), 20);
    },
    removeContext: (ct) => { removed.push(ct); contexts.delete(ct); },
    setPair: (ct, l, p) => { pairs.push([ct, hex(l), hex(p)]); return true; },
    liveSockets: () => live,
  };
  b = new TestBackend(deps);
});

afterEach(() => {
  b.close();
  for (const fd of fds) fs.closeSync(fd);
  fs.rmSync(dir, { recursive: true, force: true });
});

const peerPref = (addr: Uint8Array, weight: number) => ({ side: 'peer' as const, prefs: [{ addr, prio: 0, weight }], list: false });

describe('context forking (RFC 6316 §11.1)', () => {
  it('the first socket owns the shared context\'s preferences; the same socket changes them freely', async () => {
    const s1 = sock(1n);
    live.add(inode(s1));
    expect(await b.preferenceContext(s1, shared(), peerPref(P1, 100))).toEqual(shared());
    b.setPreference(shared(), 'peer', { addr: P1, prio: 0, weight: 100 });
    expect(await b.preferenceContext(s1, shared(), peerPref(P2, 500))).toEqual(shared());
    expect(b.forks.size).toBe(0);
  });

  it('another socket whose change keeps the owner\'s best locator does not fork', async () => {
    const s1 = sock(1n), s2 = sock(2n);
    live.add(inode(s1)).add(inode(s2));
    await b.preferenceContext(s1, shared(), peerPref(P1, 100));
    b.setPreference(shared(), 'peer', { addr: P1, prio: 0, weight: 100 });
    // P2 at a lower weight: P1 stays the best.
    expect(await b.preferenceContext(s2, shared(), peerPref(P2, 50))).toEqual(shared());
    expect(b.forks.size).toBe(0);
  });

  it('a conflicting change while the owner is open forks a context for the socket: FII in its policy, established, prefs inherited', async () => {
    const s1 = sock(1n), s2 = sock(2n);
    live.add(inode(s1)).add(inode(s2));
    await b.preferenceContext(s1, shared(), peerPref(P1, 100));
    b.setPreference(shared(), 'peer', { addr: P1, prio: 0, weight: 100 });
    const f = await b.preferenceContext(s2, shared(), peerPref(P2, 500));
    expect(f.fii).not.toBe(0);
    expect(f.id).toBe(10n);
    expect(b.policies.get(2n)?.fii).toBe(f.fii);
    expect(b.policies.get(1n)).toBeUndefined();
    expect(contexts.get(10n)?.state).toBe(ContextState.Established);
    expect([...b.forks.keys()]).toEqual([10n]);
    // The fork starts from the shared context's application preferences.
    expect(b.prefs.get(10n)?.peer.get(hex(P1))?.weight).toBe(100);
    // The change applied to the fork moves it to its preferred pair; the shared context stays.
    b.setPreference(f, 'peer', { addr: P2, prio: 0, weight: 500 });
    expect(pairs).toEqual([[10n, hex(L1), hex(P2)]]);
  });

  it('a list that differs from the owner\'s forks too', async () => {
    const s1 = sock(1n), s2 = sock(2n);
    live.add(inode(s1)).add(inode(s2));
    await b.preferenceContext(s1, shared(), peerPref(P1, 100));
    const f = await b.preferenceContext(s2, shared(), { side: 'peer', prefs: [{ addr: P2, prio: 0, weight: 0 }], list: true });
    expect(f.fii).not.toBe(0);
  });

  it('an owner that closed its socket lets the next socket take over without a fork', async () => {
    const s1 = sock(1n), s2 = sock(2n);
    live.add(inode(s2));
    await b.preferenceContext(s1, shared(), peerPref(P1, 100));
    b.setPreference(shared(), 'peer', { addr: P1, prio: 0, weight: 100 });
    expect(await b.preferenceContext(s2, shared(), peerPref(P2, 500))).toEqual(shared());
    // s2 owns them now: s1 (were it open) would fork.
    live.add(inode(s1));
    b.setPreference(shared(), 'peer', { addr: P2, prio: 0, weight: 500 });
    expect((await b.preferenceContext(s1, shared(), peerPref(P1, 900))).fii).not.toBe(0);
  });

  it('a fork that does not establish: EAGAIN, the socket back on FII 0, the context removed', async () => {
    const s1 = sock(1n), s2 = sock(2n);
    live.add(inode(s1)).add(inode(s2));
    establish = false;
    await b.preferenceContext(s1, shared(), peerPref(P1, 100));
    b.setPreference(shared(), 'peer', { addr: P1, prio: 0, weight: 100 });
    const now = performance.now;
    let skew = 0;
    performance.now = () => now.call(performance) + skew;
    setTimeout(() => { skew = 10_000; }, 30);
    try {
      await expect(b.preferenceContext(s2, shared(), peerPref(P2, 500))).rejects.toMatchObject({ errno: 'EAGAIN' });
    } finally {
      performance.now = now;
    }
    expect(b.policies.get(2n)?.fii).toBe(0);
    expect(removed).toEqual([10n]);
    expect(b.forks.size).toBe(0);
  });

  it('the fork is deleted when its socket closes; a fork that went away by itself is forgotten', async () => {
    const s1 = sock(1n), s2 = sock(2n);
    live.add(inode(s1)).add(inode(s2));
    await b.preferenceContext(s1, shared(), peerPref(P1, 100));
    b.setPreference(shared(), 'peer', { addr: P1, prio: 0, weight: 100 });
    await b.preferenceContext(s2, shared(), peerPref(P2, 500));
    b.sweepForks();
    expect(removed).toEqual([]);
    live.delete(inode(s2));
    b.sweepForks();
    expect(removed).toEqual([10n]);
    expect(b.forks.size).toBe(0);
    expect(contexts.has(1n)).toBe(true);
  });
});
