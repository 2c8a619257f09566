// The RFC 6316 API between real agents: an application in A's namespace
// uses SOL_SHIM through the TypeScript client (src/client) and through
// libshim6 (C, LD_PRELOAD), on real TCP connections between the hosts' HBA
// ULIDs. Locator pinning is checked on the interfaces.
import fs from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { AgentProcess, Topology } from '../../src/lab/topology.js';
import { projectRoot } from '../../src/native.js';
import type { ContextView } from '../../src/agent/agent.js';

let t: Topology;
let A: AgentProcess;
let B: AgentProcess;
let hA: string[];
let hB: string[];

const APP = `
import net from 'node:net';
import { ShimClient } from ${JSON.stringify(path.join(projectRoot(), 'dist', 'src', 'client', 'index.js'))};
const [to, from, port, to2, from2] = process.argv.slice(2);
const c = new ShimClient();
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
const out = {};
const connect = (lp) => new Promise((res, rej) => { const s = net.connect({ host: to, port: Number(port), localAddress: from }, () => res(s)); s.on('error', rej); });
const err = async (f) => { try { await f(); return 'ok'; } catch (e) { return e.code; } };
const unconnected = new net.Socket();
const s1 = await connect();
const events = [];
await c.subscribe(s1, (ev) => events.push(ev.type));
// The handshake itself may have set the context up before the subscription.
const assocAtSubscribe = await c.getsockopt(s1, 'SHIM_ASSOCIATED');
s1.write(Buffer.alloc(100));
for (let i = 0; i < 100 && (await c.getsockopt(s1, 'SHIM_ASSOCIATED')) !== 1; i++) await sleep(50);
out.associated = await c.getsockopt(s1, 'SHIM_ASSOCIATED');
if (assocAtSubscribe !== 1) for (let i = 0; i < 40 && !events.includes('established'); i++) await sleep(50);
out.assocAtSubscribe = assocAtSubscribe;
out.events = [...events];
out.deferred = await c.getsockopt(s1, 'SHIM_CONTEXT_DEFERRED_SETUP');
out.peers = (await c.getsockopt(s1, 'SHIM_LOCLIST_PEER')).map((l) => ({ address: l.address, hba: l.hba }));
out.locals = (await c.getsockopt(s1, 'SHIM_LOCLIST_LOCAL')).map((l) => l.address);
out.sendPeerBefore = await c.getsockopt(s1, 'SHIM_LOC_PEER_SEND');
out.badLocator = await err(() => c.setsockopt(s1, 'SHIM_LOC_PEER_SEND', { address: '2001:db8:ff::99' }));
out.dontshimAfterConnect = await err(() => c.setsockopt(s1, 'SHIM_DONTSHIM', true));
await c.setsockopt(s1, 'SHIM_APP_TIMEOUT', 5);
out.appTimeout = await c.getsockopt(s1, 'SHIM_APP_TIMEOUT');
// A second connection on the same ULID pair, pinned to path 2.
const s2 = await connect();
await c.setsockopt(s2, 'SHIM_LOC_LOCAL_SEND', { address: from2 });
await c.setsockopt(s2, 'SHIM_LOC_PEER_SEND', { address: to2 });
out.pinned = { local: (await c.getsockopt(s2, 'SHIM_LOC_LOCAL_SEND'))?.address, peer: (await c.getsockopt(s2, 'SHIM_LOC_PEER_SEND'))?.address };
out.s1NotPinned = await c.getsockopt(s1, 'SHIM_LOC_PEER_SEND');
process.stdout.write(JSON.stringify(out) + '\\n');
// Wait for the test to count interfaces while each connection sends.
const got = new Map([[s1, 0], [s2, 0]]);
for (const s of [s1, s2]) s.on('data', (d) => got.set(s, got.get(s) + d.length));
process.stdin.on('data', async (d) => {
  if (d.toString().trim() === 'bye') { s1.destroy(); s2.destroy(); unconnected.destroy(); process.exit(0); }
  if (d.toString().trim() === 'events') {
    for (let i = 0; i < 60 && !events.includes('pair-changed'); i++) await sleep(50);
    process.stdout.write(JSON.stringify({ events }) + '\\n');
    return;
  }
  const which = d.toString().trim() === '1' ? s1 : s2;
  const chunk = Buffer.alloc(64 * 1024, 0x5a);
  const start = got.get(which);
  for (let i = 0; i < 64; i++) if (!which.write(chunk)) await new Promise((r) => which.once('drain', r));
  // Everything echoed back: it all crossed the wire both ways.
  while (got.get(which) - start < 64 * chunk.length) await sleep(20);
  process.stdout.write(JSON.stringify({ sent: 64 * chunk.length }) + '\\n');
});
`;

describe('RFC 6316 API on real sockets between two agents', () => {
  beforeAll(async () => {
    t = Topology.create();
    A = t.A.agent({ logLevel: 'info' });
    B = t.B.agent({ logLevel: 'info' });
    await Promise.all([A.ready, B.ready]);
    hA = A.hbaAddresses();
    hB = B.hbaAddresses();
  }, 60_000);
  afterAll(async () => {
    await Promise.all([A?.stop(), B?.stop()]).catch(() => {});
    t?.teardown();
  });

  it('TS client: associated, locator lists, errors, app timeout, and per-socket pinning on the wire', async () => {
    const sink = t.B.flow('echo-server', { bind: hB[0], port: 7301 });
    await sink.ready;
    const script = path.join(t.dir, 'app.mjs');
    fs.writeFileSync(script, APP);
    const apiSocket = A.ctlJson<{ apiSocket: string }>('agent', 'status').apiSocket;
    const app = t.A.spawn(process.execPath, [script, hB[0], hA[0], '7301', hB[1], hA[1]], { env: { ...process.env, SHIM6_API_SOCKET: apiSocket } });
    const lines: Array<Record<string, any>> = [];
    let buf = '';
    let stderr = '';
    let raw = '';
    app.stderr!.on('data', (d: Buffer) => { stderr += d.toString(); });
    const next = (): Promise<Record<string, any>> => new Promise((resolve, reject) => {
      const tick = (): void => {
        if (lines.length) return resolve(lines.shift()!);
        if (app.exitCode !== null) return reject(new Error(`app exited ${app.exitCode}: ${stderr} ${raw}`));
        setTimeout(tick, 50);
      };
      tick();
    });
    app.stdout!.on('data', (d: Buffer) => {
      raw += d.toString();
      buf += d.toString();
      for (let i = buf.indexOf('\n'); i >= 0; i = buf.indexOf('\n')) { lines.push(JSON.parse(buf.slice(0, i))); buf = buf.slice(i + 1); }
    });
    const r = await next();
    expect(r.associated).toBe(1);
    // Subscribed before the context existed: the agent's event reached the application.
    if (r.assocAtSubscribe !== 1) expect(r.events).toContain('established');
    expect(r.deferred).toBe(true);
    expect(r.peers.map((p: { address: string }) => p.address).sort()).toEqual([...hB].sort());
    expect(r.peers.every((p: { hba: boolean }) => p.hba)).toBe(true);
    expect(r.locals.sort()).toEqual([...hA].sort());
    expect(r.sendPeerBefore).toBeNull();
    expect(r.badLocator).toBe('EINVALIDLOCATOR');
    expect(r.dontshimAfterConnect).toBe('EOPNOTSUPP');
    expect(r.appTimeout).toBe(5);
    expect(r.pinned).toEqual({ local: hA[1], peer: hB[1] });
    expect(r.s1NotPinned).toBeNull();
    // REAP of the context took the application's Send Timeout.
    const ctx = A.ctlJson<ContextView[]>('contexts').find((c) => c.state === 'ESTABLISHED')!;
    expect(ctx.reap?.sendTimeoutMs).toBe(5000);
    // Pinned connection (s2) → path 2; the other (s1) stays on path 1.
    const count = (): { a1: number; a2: number } => ({ a1: t.A.counters('a1').txBytes, a2: t.A.counters('a2').txBytes });
    for (const [which, busy, idle] of [['2', 'a2', 'a1'], ['1', 'a1', 'a2']] as const) {
      const c0 = count();
      app.stdin!.write(`${which}\n`);
      const done = await next();
      const c1 = count();
      expect(c1[busy] - c0[busy], `conn ${which} on ${busy}`).toBeGreaterThan(done.sent * 0.9);
      expect(c1[idle] - c0[idle], `conn ${which} not on ${idle}`).toBeLessThan(done.sent * 0.1);
    }
    // The operator moves the context: the subscribed application hears of it.
    A.ctlJson('agent', 'set-pair', ctx.ctLocal!, '--local', hA[1], '--peer', hB[1]);
    app.stdin!.write('events\n');
    const ev = await next();
    expect(ev.events).toContain('pair-changed');
    app.stdin!.write('bye\n');
    sink.child.kill();
  }, 60_000);
});
