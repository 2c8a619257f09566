// Context forking (RFC 6316 §11.1, Appendix A; RFC 5533 FII option) between
// real agents. Two TCP connections on one ULID pair ask for conflicting
// preferences: the second gets a forked context (new FII, I1/I2/R2 with the
// FII option) used by it alone, so the two run on different paths (counted
// on A's interfaces). On B, the responder, the connection's socket is mapped
// to the fork by its first packets (DESIGN.md: outbound by socket, inbound
// by tag): B's fork carries the echo of that connection only. Closing the
// socket deletes A's fork.
import fs from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { AgentProcess, Topology } from '../../src/lab/topology.js';
import { projectRoot } from '../../src/native.js';
import type { ContextView } from '../../src/agent/agent.js';
import { until } from '../../src/lab/wait.js';

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
const connect = () => new Promise((res, rej) => { const s = net.connect({ host: to, port: Number(port), localAddress: from }, () => res(s)); s.on('error', rej); });
const out = {};
const s1 = await connect();
const s2 = await connect();
s1.write('x');
for (let i = 0; i < 100 && (await c.getsockopt(s1, 'SHIM_ASSOCIATED')) !== 1; i++) await sleep(50);
out.associated = [await c.getsockopt(s1, 'SHIM_ASSOCIATED'), await c.getsockopt(s2, 'SHIM_ASSOCIATED')];
// s1 prefers path 1: it owns the shared context's preferences.
await c.setsockopt(s1, 'SHIM_LOC_PEER_PREF', { address: to, priority: 0, weight: 100 });
await c.setsockopt(s1, 'SHIM_LOC_LOCAL_PREF', { address: from, priority: 0, weight: 100 });
// s2 prefers path 2: a conflict, s2 gets a forked context.
const t0 = Date.now();
await c.setsockopt(s2, 'SHIM_LOC_PEER_PREF', { address: to2, priority: 0, weight: 200 });
out.forkMs = Date.now() - t0;
await c.setsockopt(s2, 'SHIM_LOC_LOCAL_PREF', { address: from2, priority: 0, weight: 200 });
out.associatedAfter = [await c.getsockopt(s1, 'SHIM_ASSOCIATED'), await c.getsockopt(s2, 'SHIM_ASSOCIATED')];
out.pref = [(await c.getsockopt(s1, 'SHIM_LOC_PEER_PREF'))?.address, (await c.getsockopt(s2, 'SHIM_LOC_PEER_PREF'))?.address];
process.stdout.write(JSON.stringify(out) + '\\n');
const got = new Map([[s1, 0], [s2, 0]]);
for (const s of [s1, s2]) s.on('data', (d) => got.set(s, got.get(s) + d.length));
process.stdin.on('data', async (d) => {
  const cmd = d.toString().trim();
  if (cmd === 'close2') { s2.destroy(); process.stdout.write(JSON.stringify({ closed: 2 }) + '\\n'); return; }
  if (cmd === 'bye') { s1.destroy(); s2.destroy(); process.exit(0); }
  const which = cmd === '1' ? s1 : s2;
  const chunk = Buffer.alloc(64 * 1024, 0x5a);
  const start = got.get(which);
  for (let i = 0; i < 48; i++) if (!which.write(chunk)) await new Promise((r) => which.once('drain', r));
  while (got.get(which) - start < 48 * chunk.length) await sleep(20);
  process.stdout.write(JSON.stringify({ sent: 48 * chunk.length }) + '\\n');
});
`;

const contexts = (agent: AgentProcess): ContextView[] => agent.ctlJson<ContextView[]>('contexts');
const forkOf = (agent: AgentProcess): ContextView | undefined => contexts(agent).find((c) => c.fii !== 0 && c.state === 'ESTABLISHED');
const sharedOf = (agent: AgentProcess): ContextView | undefined => contexts(agent).find((c) => c.fii === 0 && c.state === 'ESTABLISHED');

describe('RFC 6316 context forking between two agents', () => {
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

  it('conflicting preferences fork a context: two connections of one ULID pair on two paths, both sides demultiplex, the fork dies with its socket', async () => {
    const sink = t.B.flow('echo-server', { bind: hB[0], port: 7501 });
    await sink.ready;
    const script = path.join(t.dir, 'fork.mjs');
    fs.writeFileSync(script, APP);
    const apiSocket = A.ctlJson<{ apiSocket: string }>('agent', 'status').apiSocket;
    const app = t.A.spawn(process.execPath, [script, hB[0], hA[0], '7501', hB[1], hA[1]], { env: { ...process.env, SHIM6_API_SOCKET: apiSocket } });
    const lines: Array<Record<string, any>> = [];
    let buf = '';
    let stderr = '';
    app.stderr!.on('data', (d: Buffer) => { stderr += d.toString(); });
    app.stdout!.on('data', (d: Buffer) => {
      buf += d.toString();
      for (let i = buf.indexOf('\n'); i >= 0; i = buf.indexOf('\n')) { lines.push(JSON.parse(buf.slice(0, i))); buf = buf.slice(i + 1); }
    });
    const next = async (): Promise<Record<string, any>> => {
      await until('a line from the app', () => lines.length > 0 || app.exitCode !== null, 30_000);
      if (!lines.length) throw new Error(`app exited ${app.exitCode}: ${stderr}`);
      return lines.shift()!;
    };
    try {
      const r = await next();
      expect(r.associated).toEqual([1, 1]);
      expect(r.associatedAfter).toEqual([1, 1]);
      expect(r.pref).toEqual([hB[0], hB[1]]);
      // A: the shared context and a fork (FII ≠ 0) of the same ULID pair.
      const forkA = forkOf(A)!;
      const sharedA = sharedOf(A)!;
      expect(forkA, JSON.stringify(contexts(A))).toBeDefined();
      expect([forkA.ulidLocal, forkA.ulidPeer]).toEqual([sharedA.ulidLocal, sharedA.ulidPeer]);
      expect(forkA.ctLocal).not.toBe(sharedA.ctLocal);
      // B, the responder, holds the same fork (the FII option of I1/I2).
      await until('B holds the fork', () => forkOf(B)?.fii === forkA.fii, 5_000);
      // shim6ctl sockets: both sockets, by the context each one uses.
      const socks = A.ctlJson<Array<{ ctLocal: string; fii: number; options: string[]; pid: number }>>('sockets');
      expect(socks.map((x) => [x.ctLocal, x.fii, x.options]).sort()).toEqual([
        [sharedA.ctLocal, 0, ['SHIM_LOC_PEER_PREF', 'SHIM_LOC_LOCAL_PREF']],
        [forkA.ctLocal, forkA.fii, ['SHIM_LOC_PEER_PREF', 'SHIM_LOC_LOCAL_PREF']],
      ].sort());
      // REAP of each context follows its socket's preferences.
      await until('the fork on path 2', () => { const f = forkOf(A); return f?.lpLocal === hA[1] && f?.lpPeer === hB[1]; }, 10_000);
      await until('the shared context on path 1', () => { const s = sharedOf(A); return s?.lpPeer === hB[0]; }, 10_000);
      // On the wire: s2 (the fork) → path 2; s1 (shared) → path 1.
      const count = (): { a1: number; a2: number } => ({ a1: t.A.counters('a1').txBytes, a2: t.A.counters('a2').txBytes });
      const txOf = (c: ContextView | undefined) => Number(c?.dataplane?.txBytes ?? 0);
      for (const [which, busy, idle] of [['2', 'a2', 'a1'], ['1', 'a1', 'a2']] as const) {
        const c0 = count();
        const b0 = { fork: txOf(forkOf(B)), shared: txOf(sharedOf(B)) };
        app.stdin!.write(`${which}\n`);
        const done = await next();
        const c1 = count();
        const b1 = { fork: txOf(forkOf(B)), shared: txOf(sharedOf(B)) };
        expect(c1[busy] - c0[busy], `conn ${which} on ${busy}`).toBeGreaterThan(done.sent * 0.9);
        expect(c1[idle] - c0[idle], `conn ${which} not on ${idle}`).toBeLessThan(done.sent * 0.1);
        // B's echo of each connection leaves on that connection's context (responder, outbound by socket).
        if (which === '2') expect(b1.fork - b0.fork, 'B echoes conn 2 on the fork').toBeGreaterThan(done.sent * 0.9);
        else expect(b1.fork - b0.fork, 'B echoes conn 1 on the shared context, not the fork').toBeLessThan(done.sent * 0.1);
      }
      // The fork is deleted when its socket closes (A; B's goes when idle).
      app.stdin!.write('close2\n');
      await next();
      await until('A deletes the fork', () => !contexts(A).some((c) => c.fii === forkA.fii), 10_000);
      expect(sharedOf(A)).toBeDefined();
      expect(A.ctlJson<Array<{ fii: number }>>('sockets').map((x) => x.fii)).toEqual([0]);
      app.stdin!.write('bye\n');
    } finally {
      app.kill();
      sink.child.kill();
    }
  }, 120_000);
});
