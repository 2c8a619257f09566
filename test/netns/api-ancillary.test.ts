// RFC 6316 Table 2 (ancillary data) between real agents: recvmsg() delivers
// the locators the latest packet arrived on (recorded by the data plane's
// ingress), sendmsg() with SHIM_LOC_*_SEND moves exactly its own datagrams to
// path 2 (counted on A's interfaces), and SHIM_FEEDBACK reaches REAP. Once
// through libshim6 (a C program, test/api/shim6_anc_test.c) and once through
// the TypeScript client.
import path from 'node:path';
import fs from 'node:fs';
import type { ChildProcess } from 'node:child_process';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { AgentProcess, Topology } from '../../src/lab/topology.js';
import { projectRoot } from '../../src/native.js';
import type { ContextView } from '../../src/agent/agent.js';
import { cc, BUILD } from '../unit/api/cc.js';

let t: Topology;
let A: AgentProcess;
let B: AgentProcess;
let hA: string[];
let hB: string[];

/** Line reader over a child's stdout. */
function lines(child: ChildProcess) {
  const q: string[] = [];
  let buf = '';
  let all = '';
  let err = '';
  child.stdout!.on('data', (d: Buffer) => {
    all += d.toString();
    buf += d.toString();
    for (let i = buf.indexOf('\n'); i >= 0; i = buf.indexOf('\n')) { q.push(buf.slice(0, i)); buf = buf.slice(i + 1); }
  });
  child.stderr!.on('data', (d: Buffer) => { err += d.toString(); });
  /** The next line starting with prefix (others are kept in `all`). */
  const next = (prefix: string): Promise<string> => new Promise((resolve, reject) => {
    const tick = (): void => {
      while (q.length) {
        const l = q.shift()!;
        if (l.startsWith(prefix)) return resolve(l);
      }
      if (child.exitCode !== null) return reject(new Error(`exited ${child.exitCode} before "${prefix}":\n${all}\n${err}`));
      setTimeout(tick, 20);
    };
    tick();
  });
  return { next, output: () => all, stderr: () => err };
}

const kv = (line: string): Record<string, string> => Object.fromEntries(line.split(' ').slice(2).map((p) => p.split('=') as [string, string]));
const tx = (): { a1: number; a2: number } => ({ a1: t.A.counters('a1').txBytes, a2: t.A.counters('a2').txBytes });
const established = (agent: AgentProcess): ContextView => agent.ctlJson<ContextView[]>('contexts').find((c) => c.state === 'ESTABLISHED' && c.fii === 0)!;

describe('RFC 6316 ancillary data on real sockets between two agents', () => {
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

  it('C (libshim6): recvmsg locators, per-datagram pins on the wire, feedback to REAP', async () => {
    const echo = t.B.flow('udp-echo', { bind: hB[0], port: 7401 });
    await echo.ready;
    const bin = cc('shim6_anc_test', [path.join(projectRoot(), 'test/api/shim6_anc_test.c')], [`-L${BUILD}`, '-lshim6', `-Wl,-rpath,${BUILD}`]);
    const apiSocket = A.ctlJson<{ apiSocket: string }>('agent', 'status').apiSocket;
    const app = t.A.spawn(bin, [hB[0], hA[0], '7401', hB[1], hA[1]], { env: { ...process.env, SHIM6_API_SOCKET: apiSocket } });
    const r = lines(app);
    try {
      // Rule 11 (latest locators): the context runs on path 1 (the ULIDs).
      const recv1 = kv(await r.next('step recv1'));
      expect(recv1).toEqual({ local: hA[0], peer: hB[0] });
      app.stdin!.write('\n');
      // Pinned datagrams: path 2 only.
      await r.next('step pinned');
      const c0 = tx();
      app.stdin!.write('\n');
      const bytes = Number(kv(await r.next('step pinned-done')).bytes);
      const c1 = tx();
      expect(c1.a2 - c0.a2, 'pinned datagrams on a2').toBeGreaterThan(bytes);
      expect(c1.a1 - c0.a1, 'pinned datagrams not on a1').toBeLessThan(bytes * 0.1);
      app.stdin!.write('\n');
      // The same socket without cmsgs: back on path 1 (one datagram each, not a setting).
      const plain = Number(kv(await r.next('step plain-done')).bytes);
      const c2 = tx();
      expect(c2.a1 - c1.a1, 'plain datagrams on a1').toBeGreaterThan(plain);
      expect(c2.a2 - c1.a2, 'plain datagrams not on a2').toBeLessThan(plain * 0.1);
      app.stdin!.write('\n');
      // SHIM_FEEDBACK (unable) reached REAP of A's context.
      await r.next('step feedback');
      const ctxA = established(A);
      expect(ctxA.reap?.history.some((h) => h.event === 'feedback' && h.detail === 'app')).toBe(true);
      // B moves its side of the context to path 2: what A receives arrives on it.
      const ctxB = established(B);
      B.ctlJson('agent', 'set-pair', ctxB.ctLocal!, '--local', hB[1], '--peer', hA[1]);
      app.stdin!.write('\n');
      const recv2 = kv(await r.next('step recv2'));
      expect(recv2).toEqual({ local: hA[1], peer: hB[1] });
      app.stdin!.write('\n');
      const end = kv(await r.next('step end'));
      expect(end.failures, r.output()).toBe('0');
      expect(r.output()).not.toMatch(/^not ok/m);
    } finally {
      app.kill();
      echo.child.kill();
      // Put B back on path 1 for the next test.
      const ctxB = established(B);
      if (ctxB) B.ctlJson('agent', 'set-pair', ctxB.ctLocal!, '--local', hB[0], '--peer', hA[0]);
    }
  }, 90_000);

  it('TS client: receivedLocators, sendmsg with pins for one datagram, feedback, and the errors', async () => {
    const echo = t.B.flow('udp-echo', { bind: hB[0], port: 7402 });
    await echo.ready;
    const script = path.join(t.dir, 'anc.mjs');
    fs.writeFileSync(script, `
import dgram from 'node:dgram';
import { ShimClient } from ${JSON.stringify(path.join(projectRoot(), 'dist', 'src', 'client', 'index.js'))};
const [to, from, port, to2, from2] = process.argv.slice(2);
const c = new ShimClient();
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
const err = async (f) => { try { await f(); return 'ok'; } catch (e) { return e.code; } };
const s = dgram.createSocket('udp6');
await new Promise((r) => s.bind(0, from, r));
await new Promise((r) => s.connect(Number(port), to, r));
let echoes = 0;
s.on('message', () => { echoes++; });
for (let i = 0; i < 100 && (await c.getsockopt(s, 'SHIM_ASSOCIATED')) !== 1; i++) { s.send('x'); await sleep(100); }
const out = { associated: await c.getsockopt(s, 'SHIM_ASSOCIATED') };
// One round trip now, so the latest packet received is this one's echo.
const e0 = echoes;
s.send('x');
for (let i = 0; i < 50 && echoes === e0; i++) await sleep(20);
out.received = await c.receivedLocators(s);
out.errUnknown = await err(() => c.sendmsg(s, { peer: '2001:db8:ff::99' }, Buffer.alloc(10)));
out.errNoData = await err(() => c.sendmsg(s, { peer: to2 }));
// A socket that bypasses the shim has no context: zero-filled (null) locators (rule 10), ENOENT on sendmsg.
const d = dgram.createSocket('udp6');
await new Promise((r) => d.bind(0, from, r));
await c.setsockopt(d, 'SHIM_DONTSHIM', true);
await new Promise((r) => d.connect(Number(port), to, r));
out.dontshimReceived = await c.receivedLocators(d);
out.dontshimSend = await err(() => c.sendmsg(d, { feedback: { direction: 'outbound', indicator: 'unable' } }));
d.close();
process.stdout.write(JSON.stringify(out) + '\\n');
process.stdin.once('data', async () => {
  for (let i = 0; i < 200; i++) await c.sendmsg(s, { local: from2, peer: to2 }, Buffer.alloc(1000));
  out.pinAfter = await c.getsockopt(s, 'SHIM_LOC_PEER_SEND');
  await c.sendmsg(s, { feedback: { direction: 'inbound', indicator: 'unsatisfactory' } });
  process.stdout.write(JSON.stringify({ sent: 200000, pinAfter: out.pinAfter }) + '\\n');
  s.close();
  process.exit(0);
});
`);
    const apiSocket = A.ctlJson<{ apiSocket: string }>('agent', 'status').apiSocket;
    const app = t.A.spawn(process.execPath, [script, hB[0], hA[0], '7402', hB[1], hA[1]], { env: { ...process.env, SHIM6_API_SOCKET: apiSocket } });
    const r = lines(app);
    try {
      const o = JSON.parse(await r.next('{'));
      expect(o.associated).toBe(1);
      expect(o.received).toEqual({ local: hA[0], peer: hB[0] });
      expect(o.errUnknown).toBe('EINVALIDLOCATOR');
      expect(o.errNoData).toBe('ERR_INVALID_ARG_TYPE');
      expect(o.dontshimReceived).toEqual({ local: null, peer: null });
      expect(o.dontshimSend).toBe('ENOENT');
      const c0 = tx();
      app.stdin!.write('go\n');
      const done = JSON.parse(await r.next('{'));
      const c1 = tx();
      expect(c1.a2 - c0.a2, 'pinned datagrams on a2').toBeGreaterThan(done.sent);
      expect(c1.a1 - c0.a1, 'pinned datagrams not on a1').toBeLessThan(done.sent * 0.1);
      expect(done.pinAfter).toBeNull();
    } finally {
      app.kill();
      echo.child.kill();
    }
  }, 90_000);
});
