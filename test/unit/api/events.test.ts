// Context events (SUBSCRIBE/EVENT, a shim6 extension beyond RFC 6316): the
// server routing the fake backend's events to subscribed connections by ULID
// pair and FII, over real SEQPACKET connections with real sockets passed;
// the TypeScript client's subscribe(); and libshim6's shim6_subscribe() /
// shim6_read_event() from a C program.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { spawn } from 'node:child_process';
import dgram from 'node:dgram';
import fs from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import readline from 'node:readline';
import { ApiServer, MAX_SUBSCRIPTIONS_PER_CONN } from '../../../src/api/server.js';
import { Attr, Flag, MsgType, bytes, findAttr, getU32, u32, type Frame, type FrameAttr } from '../../../src/api/frame.js';
import { decodeEvent, encodeEvent, EVENT_TYPE } from '../../../src/api/events.js';
import type { ApiEvent } from '../../../src/api/backend.js';
import * as H from '../../../src/api/shim-h.js';
import { ApiConnection } from '../../../src/client/transport.js';
import { ShimClient, ShimSocketError, socketFd, type ShimEvent } from '../../../src/client/index.js';
import { native } from '../../../src/native.js';
import { FakeBackend, ip, type FakeCtx } from './fake-backend.js';
import { cc, BUILD, ROOT } from './cc.js';

const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'shim6-events-'));
const apiPath = path.join(dir, 'api.sock');
const backend = new FakeBackend();
const server = new ApiServer({ backend, path: apiPath });
const shim = new ShimClient({ path: apiPath });
const closers: Array<() => void> = [];
let tcp: net.Socket, bare: net.Socket, udpUnconn: dgram.Socket;
let ctx: FakeCtx;

function until(pred: () => boolean, ms = 3000): Promise<void> {
  return new Promise((resolve, reject) => {
    const t0 = Date.now();
    const tick = () => (pred() ? resolve() : Date.now() - t0 > ms ? reject(new Error('timed out')) : setTimeout(tick, 2));
    tick();
  });
}
const tick = (ms = 20) => new Promise((r) => setTimeout(r, ms));

async function tcpTo(srv: net.Server): Promise<net.Socket> {
  const s = net.connect((srv.address() as net.AddressInfo).port, '::1');
  await new Promise<void>((r) => s.once('connect', () => r()));
  closers.push(() => s.destroy());
  return s;
}

beforeAll(async () => {
  await server.listen();
  const srv = net.createServer((c) => closers.push(() => c.destroy()));
  await new Promise<void>((r) => srv.listen(0, '::1', r));
  closers.push(() => srv.close());
  tcp = await tcpTo(srv);
  bare = await tcpTo(srv);
  udpUnconn = dgram.createSocket('udp6');
  await new Promise<void>((r) => udpUnconn.bind(0, '::1', r));
  closers.push(() => udpUnconn.close());
  ctx = backend.context({ ulidLocal: '::1', ulidPeer: '::1', local: [{ addr: '::1' }], peer: [{ addr: '::1' }] });
  backend.associate(native().socketCookie(socketFd(tcp)), ctx);
});

afterAll(async () => {
  for (const c of closers.reverse()) c();
  await server.close();
  fs.rmSync(dir, { recursive: true, force: true });
});

const LOOP = { ulidLocal: ip('::1'), ulidPeer: ip('::1'), fii: 0 };
const pairChanged = (local = '2001:db8:1:a::1', peer = '2001:db8:1:b::1', c = LOOP): ApiEvent =>
  ({ type: 'pair-changed', ctx: c, local: ip(local), peer: ip(peer) });

/** A raw API connection collecting the EVENT frames it gets. */
function rawConn(): { conn: ApiConnection; events: Frame[] } {
  const conn = new ApiConnection({ path: apiPath });
  const events: Frame[] = [];
  conn.onMulti = (f) => events.push(f);
  closers.push(() => conn.close());
  return { conn, events };
}
const subscribe = (conn: ApiConnection, fds: number[], attrs: FrameAttr[] = []) => conn.request(MsgType.SUBSCRIBE, attrs, fds);

describe('SUBSCRIBE/EVENT on the wire', () => {
  it('agrees with the header on the event bits', () => {
    expect(H.SHIM_EVENT_ALL).toBe(Object.values(EVENT_TYPE).reduce((m, t) => m | (1 << t), 0));
    const raw = encodeEvent(pairChanged(), { dropped: 2, timeNs: 5n, monoNs: 7n });
    expect(raw.length).toBe(H.Shim6EventLayout.size);
    expect(decodeEvent(raw)).toMatchObject({ type: H.SHIM_EVENT_PAIR_CHANGED, dropped: 2, timeNs: 5n, monoNs: 7n, local: { family: H.AF_INET6 } });
    expect(decodeEvent(raw.subarray(1))).toBeNull();
  });

  it('registers a subscription, answers with its id, then sends EVENT frames (F_MULTI, the SUBSCRIBE\'s seq)', async () => {
    const { conn, events } = rawConn();
    const r = await subscribe(conn, [socketFd(tcp)]);
    expect(r.errno).toBe(0);
    const id = getU32(r.frame, Attr.SUB_ID);
    expect(id).toBeGreaterThan(0);
    const before = process.hrtime.bigint();
    backend.emit(pairChanged());
    await until(() => events.length === 1);
    const f = events[0];
    expect(f).toMatchObject({ type: MsgType.EVENT, flags: Flag.MULTI, seq: r.frame.seq });
    expect(getU32(f, Attr.SUB_ID)).toBe(id);
    const ev = decodeEvent(findAttr(f, Attr.EVENT)!)!;
    expect(ev.type).toBe(H.SHIM_EVENT_PAIR_CHANGED);
    expect(Buffer.from(ev.ulidLocal)).toEqual(Buffer.from(ip('::1')));
    expect(Buffer.from(ev.local.addr)).toEqual(Buffer.from(ip('2001:db8:1:a::1')));
    expect(Buffer.from(ev.peer.addr)).toEqual(Buffer.from(ip('2001:db8:1:b::1')));
    expect(ev.monoNs).toBeGreaterThanOrEqual(before);
    expect(Math.abs(Number(ev.timeNs / 1_000_000n) - Date.now())).toBeLessThan(5000);
    conn.close();
    await until(() => server.subscriptions === 0);
  });

  it('stamps an event with when it happened (atNs: the data plane\'s switch), never with a future time', async () => {
    const { conn, events } = rawConn();
    expect((await subscribe(conn, [socketFd(tcp)])).errno).toBe(0);
    const at = process.hrtime.bigint() - 3_000_000n;
    backend.emit({ ...pairChanged(), atNs: at });
    backend.emit({ ...pairChanged(), atNs: process.hrtime.bigint() + 10_000_000_000n });
    await until(() => events.length === 2);
    const [a, b] = events.map((f) => decodeEvent(findAttr(f, Attr.EVENT)!)!);
    expect(a.monoNs).toBe(at);
    // The realtime stamp is moved back as far (3 ms, within the clocks' reading gap).
    expect(Math.abs(Number(a.timeNs / 1_000_000n) - (Date.now() - 3))).toBeLessThan(1000);
    expect(b.monoNs).toBeLessThanOrEqual(process.hrtime.bigint());
    expect(b.monoNs).toBeGreaterThan(at);
    conn.close();
    await until(() => server.subscriptions === 0);
  });

  it('routes by ULID pair and FII, and filters by the event mask', async () => {
    const a = rawConn();
    const b = rawConn();
    expect((await subscribe(a.conn, [socketFd(tcp)])).errno).toBe(0);
    const bit = (t: number) => 1 << t;
    expect((await subscribe(b.conn, [socketFd(tcp)], [u32(Attr.EVENT_MASK, bit(H.SHIM_EVENT_LOST) | bit(H.SHIM_EVENT_PATH_FAILED))])).errno).toBe(0);
    backend.emit(pairChanged('2001:db8::1', '2001:db8::2', { ulidLocal: ip('2001:db8::1'), ulidPeer: ip('2001:db8::2'), fii: 0 }));
    backend.emit({ type: 'established', ctx: { ...LOOP, fii: 7 } });
    backend.emit({ type: 'path-failed', ctx: ctx, local: ip('::1'), peer: ip('::1') });
    backend.emit({ type: 'path-recovered', ctx: LOOP });
    backend.emit({ type: 'lost', ctx: LOOP });
    await until(() => a.events.length === 3 && b.events.length === 2);
    await tick();
    const types = (fs: Frame[]) => fs.map((f) => decodeEvent(findAttr(f, Attr.EVENT)!)!.type);
    expect(types(a.events)).toEqual([H.SHIM_EVENT_PATH_FAILED, H.SHIM_EVENT_PATH_RECOVERED, H.SHIM_EVENT_LOST]);
    expect(types(b.events)).toEqual([H.SHIM_EVENT_PATH_FAILED, H.SHIM_EVENT_LOST]);
    // Events that name no pair have zero-filled locators.
    expect(decodeEvent(findAttr(a.events[2], Attr.EVENT)!)!.local.family).toBe(0);
    a.conn.close();
    b.conn.close();
    await until(() => server.subscriptions === 0);
  });

  it('keys a socket without a context by its addresses and its FII, so it sees the context come', async () => {
    const { conn, events } = rawConn();
    backend.policies.set(native().socketCookie(socketFd(bare)), { ...(await import('../../../src/api/backend.js')).DEFAULT_POLICY, fii: 3 });
    expect((await subscribe(conn, [socketFd(bare)])).errno).toBe(0);
    backend.emit({ type: 'established', ctx: LOOP });
    backend.emit({ type: 'established', ctx: { ...LOOP, fii: 3 } });
    await until(() => events.length === 1);
    await tick();
    expect(events).toHaveLength(1);
    expect(decodeEvent(findAttr(events[0], Attr.EVENT)!)!.fii).toBe(3);
    backend.policies.clear();
    conn.close();
  });

  it('UNSUBSCRIBE ends one subscription; several live on one connection', async () => {
    const { conn, events } = rawConn();
    const r1 = await subscribe(conn, [socketFd(tcp)]);
    const r2 = await subscribe(conn, [socketFd(tcp)], [u32(Attr.EVENT_MASK, 1 << H.SHIM_EVENT_LOST)]);
    const id1 = getU32(r1.frame, Attr.SUB_ID)!;
    const id2 = getU32(r2.frame, Attr.SUB_ID)!;
    expect(id1).not.toBe(id2);
    backend.emit({ type: 'lost', ctx: LOOP });
    await until(() => events.length === 2);
    expect(new Set(events.map((f) => getU32(f, Attr.SUB_ID)))).toEqual(new Set([id1, id2]));
    expect((await conn.request(MsgType.UNSUBSCRIBE, [u32(Attr.SUB_ID, id1)], [])).errno).toBe(0);
    expect((await conn.request(MsgType.UNSUBSCRIBE, [u32(Attr.SUB_ID, id1)], [])).errno).toBe('ENOENT');
    expect((await conn.request(MsgType.UNSUBSCRIBE, [], [])).errno).toBe('EINVAL');
    expect((await conn.request(MsgType.UNSUBSCRIBE, [bytes(Attr.SUB_ID, new Uint8Array(2))], [])).errno).toBe('EBADMSG');
    backend.emit({ type: 'lost', ctx: LOOP });
    await until(() => events.length === 3);
    await tick();
    expect(getU32(events[2], Attr.SUB_ID)).toBe(id2);
    // Another connection cannot end it.
    const other = rawConn();
    expect((await other.conn.request(MsgType.UNSUBSCRIBE, [u32(Attr.SUB_ID, id2)], [])).errno).toBe('ENOENT');
    conn.close();
    other.conn.close();
    await until(() => server.subscriptions === 0);
  });

  it('answers the errors: no socket, not a socket, unconnected, not IP, bad mask', async () => {
    const { conn } = rawConn();
    const f = fs.openSync('/dev/null', 'r');
    closers.push(() => fs.closeSync(f));
    expect((await subscribe(conn, [])).errno).toBe('EBADF');
    expect((await subscribe(conn, [socketFd(tcp), socketFd(tcp)])).errno).toBe('EBADF');
    expect((await subscribe(conn, [f])).errno).toBe('ENOTSOCK');
    expect((await subscribe(conn, [socketFd(udpUnconn)])).errno).toBe('EOPNOTSUPP');
    expect((await subscribe(conn, [conn.fd()])).errno).toBe('EOPNOTSUPP'); // a Unix socket
    expect((await subscribe(conn, [socketFd(tcp)], [u32(Attr.EVENT_MASK, 0)])).errno).toBe('EINVAL');
    expect((await subscribe(conn, [socketFd(tcp)], [u32(Attr.EVENT_MASK, 1)])).errno).toBe('EINVAL');
    expect((await subscribe(conn, [socketFd(tcp)], [bytes(Attr.EVENT_MASK, new Uint8Array(1))])).errno).toBe('EBADMSG');
    expect(server.subscriptions).toBe(0);
    conn.close();
  });

  it('answers EOPNOTSUPP when the backend has no events', async () => {
    const quiet = Object.assign(new FakeBackend(), { subscribe: undefined });
    const s2 = new ApiServer({ backend: quiet, path: path.join(dir, 'quiet.sock') });
    await s2.listen();
    const conn = new ApiConnection({ path: s2.path });
    expect((await subscribe(conn, [socketFd(tcp)])).errno).toBe('EOPNOTSUPP');
    conn.close();
    await s2.close();
  });

  it('drops events for a client that does not read, and tells it how many with the next one', async () => {
    const { conn, events } = rawConn();
    expect((await subscribe(conn, [socketFd(tcp)])).errno).toBe(0);
    // The client shares this thread: it cannot read while the loop below runs.
    for (let i = 0; i < 20000 && server.counters.eventsDropped === 0; i++) backend.emit({ type: 'path-recovered', ctx: LOOP });
    const dropped = server.counters.eventsDropped;
    expect(dropped).toBeGreaterThan(0);
    const queued = server.counters.eventsSent;
    await until(() => events.length >= 1);
    await tick(50);
    backend.emit({ type: 'lost', ctx: LOOP });
    await until(() => decodeEvent(findAttr(events[events.length - 1], Attr.EVENT)!)!.type === H.SHIM_EVENT_LOST);
    const last = decodeEvent(findAttr(events[events.length - 1], Attr.EVENT)!)!;
    expect(last.dropped).toBe(dropped);
    expect(events.length).toBeGreaterThan(1);
    expect(queued).toBeGreaterThan(0);
    conn.close();
  });

  it('caps the subscriptions of one connection', async () => {
    const { conn } = rawConn();
    for (let i = 0; i < MAX_SUBSCRIPTIONS_PER_CONN; i += 32) {
      const rs = await Promise.all(Array.from({ length: 32 }, () => subscribe(conn, [socketFd(tcp)])));
      expect(rs.every((r) => r.errno === 0)).toBe(true);
    }
    expect(server.subscriptions).toBe(MAX_SUBSCRIPTIONS_PER_CONN);
    expect((await subscribe(conn, [socketFd(tcp)])).errno).toBe('ENOBUFS');
    conn.close();
    await until(() => server.subscriptions === 0);
  });
});

describe('TypeScript client: subscribe()', () => {
  it('delivers typed events until unsubscribed', async () => {
    const got: ShimEvent[] = [];
    const stop = await shim.subscribe(tcp, (ev) => got.push(ev));
    expect(server.subscriptions).toBe(1);
    backend.emit({ type: 'established', ctx: LOOP, local: ip('::1'), peer: ip('::1') });
    backend.emit(pairChanged());
    backend.emit({ type: 'lost', ctx: LOOP });
    await until(() => got.length === 3);
    expect(got.map((e) => e.type)).toEqual(['established', 'pair-changed', 'lost']);
    expect(got[1]).toMatchObject({ ulidLocal: '::1', ulidPeer: '::1', fii: 0, dropped: 0, local: { address: '2001:db8:1:a::1' }, peer: { address: '2001:db8:1:b::1' } });
    expect(got[2].local).toBeNull();
    expect(got[0].time).toBeInstanceOf(Date);
    expect(typeof got[0].monoNs).toBe('bigint');
    stop();
    stop();
    await until(() => server.subscriptions === 0);
    backend.emit({ type: 'lost', ctx: LOOP });
    await tick();
    expect(got).toHaveLength(3);
  });

  it('filters by event type', async () => {
    const got: ShimEvent[] = [];
    const stop = await shim.subscribe(tcp, (ev) => got.push(ev), { events: ['path-failed'] });
    backend.emit({ type: 'lost', ctx: LOOP });
    backend.emit({ type: 'path-failed', ctx: LOOP });
    await until(() => got.length === 1);
    await tick();
    expect(got.map((e) => e.type)).toEqual(['path-failed']);
    stop();
    await expect(shim.subscribe(tcp, () => {}, { events: ['nonsense' as 'lost'] })).rejects.toThrow(TypeError);
  });

  it('rejects like getsockopt: EOPNOTSUPP on an unconnected socket, ENOPROTOOPT without an agent', async () => {
    const e = await shim.subscribe(udpUnconn, () => {}).catch((x: unknown) => x);
    expect(e).toBeInstanceOf(ShimSocketError);
    expect(e).toMatchObject({ code: 'EOPNOTSUPP', syscall: 'subscribe' });
    const none = new ShimClient({ path: path.join(dir, 'nobody.sock') });
    await expect(none.subscribe(tcp, () => {})).rejects.toMatchObject({ code: 'ENOPROTOOPT', syscall: 'subscribe' });
    expect(server.subscriptions).toBe(0);
  });

  it('tells onEnd when the agent goes away', async () => {
    const b2 = new FakeBackend();
    const s2 = new ApiServer({ backend: b2, path: path.join(dir, 'end.sock') });
    await s2.listen();
    let ended = false;
    const got: ShimEvent[] = [];
    await new ShimClient({ path: s2.path }).subscribe(tcp, (ev) => got.push(ev), { onEnd: () => { ended = true; } });
    b2.emit({ type: 'lost', ctx: LOOP });
    await until(() => got.length === 1);
    await s2.close();
    await until(() => ended);
  });
});

describe('libshim6: shim6_subscribe() and shim6_read_event()', () => {
  it('a C program polls its event descriptor and reads each event of its socket\'s context', async () => {
    const LIB = path.join(BUILD, 'libshim6.so');
    if (!fs.existsSync(LIB)) throw new Error(`${LIB} is not built: run 'make lib'`);
    const b3 = new FakeBackend();
    b3.ctxFor = (sock) => (sock.type === 1 ? ctx : null);
    const s3 = new ApiServer({ backend: b3, path: path.join(dir, 'c.sock') });
    await s3.listen();
    const bin = cc('shim6_event_test', [path.join(ROOT, 'test/api/shim6_event_test.c')], ['-L', BUILD, '-lshim6', `-Wl,-rpath,${BUILD}`]);
    const child = spawn(bin, [], { env: { ...process.env, SHIM6_API_SOCKET: s3.path } });
    let out = '';
    child.stderr.on('data', (d) => { out += d; });
    const exited = new Promise<number>((r) => child.on('exit', (code) => r(code ?? -1)));
    for await (const line of readline.createInterface({ input: child.stdout })) {
      out += `${line}\n`;
      if (line === 'ready') {
        b3.emit(pairChanged('2001:db8::1', '2001:db8::2', { ulidLocal: ip('2001:db8::1'), ulidPeer: ip('2001:db8::2'), fii: 0 }));
        b3.emit({ type: 'established', ctx: LOOP, local: ip('::1'), peer: ip('::1') });
        b3.emit(pairChanged());
        b3.emit({ type: 'path-failed', ctx: LOOP, local: ip('2001:db8:1:a::1'), peer: ip('2001:db8:1:b::1') });
        b3.emit({ type: 'path-recovered', ctx: LOOP, local: ip('::1'), peer: ip('::1') });
        b3.emit({ type: 'lost', ctx: LOOP });
      }
      if (line === 'stop') await s3.close();
    }
    const code = await exited;
    expect(out).not.toMatch(/^not ok/m);
    expect(out).toMatch(/\d+ tests, 0 failures/);
    expect(out.match(/^ok /gm)!.length).toBeGreaterThanOrEqual(30);
    expect(code).toBe(0);
  });
});
