// The API server end to end without the agent: a real SEQPACKET socket, real
// TCP/UDP sockets passed with SCM_RIGHTS, the real framing, and the option
// logic of RFC 6316 Table 1 against a fake backend, row by row.
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import dgram from 'node:dgram';
import diagnostics from 'node:diagnostics_channel';
import fs from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { native } from '../../../src/native.js';
import { ApiServer, type ApiRequestRecord } from '../../../src/api/server.js';
import { Attr, Flag, MsgType, bytes, decodeAttrs, decodeFrame, encodeFrame, findAttr, getU32, nested, u32, type FrameAttr } from '../../../src/api/frame.js';
import * as H from '../../../src/api/shim-h.js';
import { decodeInt, decodeLocator, decodeLocators, decodePathexplore, encodeInt, encodeLocator, encodePathexplore, ZERO_LOCATOR } from '../../../src/api/structs.js';
import { socketFd } from '../../../src/client/index.js';
import { FakeBackend, ip, type FakeCtx } from './fake-backend.js';

const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'shim6-api-'));
const apiPath = path.join(dir, 'api.sock');
const backend = new FakeBackend();
const server = new ApiServer({ backend, path: apiPath });

type SockName = 'tcp' | 'udp' | 'udpUnconn' | 'listen' | 'unix' | 'file';
const fds = {} as Record<SockName, number>;
const closers: Array<() => void> = [];
let ctx: FakeCtx;

const loc = (addr: string, prio = 0, weight = 0, family: number = H.AF_INET6, proto = 0) =>
  encodeLocator({ ...ZERO_LOCATOR, family, proto, prio, weight, addr: ip(addr) });

let seq = 100;
/** One raw request; answers { errno name or 0, value, optlen }. */
async function call(type: number, attrs: FrameAttr[], fdList: number[]) {
  const s = ++seq;
  const reply = await native().apiRequest(apiPath, encodeFrame({ type, flags: Flag.REQUEST, seq: s, attrs }), fdList);
  const d = decodeFrame(reply);
  if (!d.ok) throw new Error(d.reason);
  expect(d.frame.seq).toBe(s);
  expect(d.frame.flags & Flag.REPLY).toBeTruthy();
  const e = getU32(d.frame, Attr.ERRNO)!;
  return { errno: e === 0 ? 0 : H.errnoName(e), value: findAttr(d.frame, Attr.OPTVAL), optlen: getU32(d.frame, Attr.OPTLEN) };
}
const get = (sock: SockName, opt: number, optlen = 1024) =>
  call(MsgType.GETSOCKOPT, [u32(Attr.LEVEL, H.SOL_SHIM), u32(Attr.OPTNAME, opt), u32(Attr.OPTLEN, optlen)], [fds[sock]]);
const set = (sock: SockName, opt: number, val: Uint8Array) =>
  call(MsgType.SETSOCKOPT, [u32(Attr.LEVEL, H.SOL_SHIM), u32(Attr.OPTNAME, opt), bytes(Attr.OPTVAL, val)], [fds[sock]]);

beforeAll(async () => {
  await server.listen();
  // TCP over loopback: the client end is the caller's socket.
  const srv = net.createServer((c) => closers.push(() => c.destroy()));
  await new Promise<void>((r) => srv.listen(0, '::1', r));
  const tcp = net.connect((srv.address() as net.AddressInfo).port, '::1');
  await new Promise<void>((r) => tcp.once('connect', () => r()));
  fds.tcp = socketFd(tcp);
  fds.listen = socketFd(srv as unknown as net.Socket);
  closers.push(() => tcp.destroy(), () => srv.close());
  // UDP: one connected, one only bound.
  const peer = dgram.createSocket('udp6');
  await new Promise<void>((r) => peer.bind(0, '::1', r));
  const udp = dgram.createSocket('udp6');
  await new Promise<void>((r) => udp.bind(0, '::1', r));
  await new Promise<void>((r) => udp.connect(peer.address().port, '::1', () => r()));
  const unconn = dgram.createSocket('udp6');
  await new Promise<void>((r) => unconn.bind(0, '::1', r));
  fds.udp = socketFd(udp);
  fds.udpUnconn = socketFd(unconn);
  closers.push(() => peer.close(), () => udp.close(), () => unconn.close());
  // A Unix socket and a file: not for SOL_SHIM.
  const usrv = net.createServer((c) => closers.push(() => c.destroy()));
  await new Promise<void>((r) => usrv.listen(path.join(dir, 'u.sock'), r));
  const u = net.connect(path.join(dir, 'u.sock'));
  await new Promise<void>((r) => u.once('connect', () => r()));
  fds.unix = socketFd(u);
  closers.push(() => u.destroy(), () => usrv.close());
  fds.file = fs.openSync('/dev/null', 'r');
  closers.push(() => fs.closeSync(fds.file));
  backend.hostAddrs.add(Buffer.from(ip('2001:db8:9::1')).toString('hex'));
  backend.hostAddrs.add(Buffer.from(ip('2001:db8:9::2')).toString('hex'));
  backend.hbaOk.add(Buffer.from(ip('2001:db8:9::1')).toString('hex'));
});

afterAll(async () => {
  await server.close();
  for (const c of closers) c();
  expect(fs.existsSync(apiPath)).toBe(false);
  fs.rmSync(dir, { recursive: true, force: true });
});

beforeEach(() => {
  ctx = backend.context({
    ulidLocal: '::1', ulidPeer: '::1',
    local: [{ addr: '::1' }, { addr: '2001:db8:1:a::1', prio: 1 }, { addr: '2001:db8:2:a::1', prio: 2, weight: 5, flags: 2 }],
    peer: [
      { addr: '::1', prio: 3 }, { addr: '2001:db8:1:b::1', prio: 1, weight: 10 },
      { addr: '2001:db8:2:b::1', reach: 'unverified' }, { addr: '2001:db8:3:b::1', reach: 'unreachable' },
    ],
  });
  backend.byCookie.clear();
  backend.policies.clear();
  backend.calls.length = 0;
  backend.reapPresent = true;
  backend.associate(native().socketCookie(fds.tcp), ctx);
});

const int = (v: Uint8Array | undefined) => decodeInt(v!);
const hex = (a: Uint8Array) => Buffer.from(a).toString('hex');

describe('API server: framing and socket identity', () => {
  it('answers NOOP without a socket', async () => {
    expect((await call(MsgType.NOOP, [], [])).errno).toBe(0);
  });

  it('identifies the passed socket from its fd (cookie, addresses, connected state)', () => {
    const t = native().socketInfo(fds.tcp);
    expect(t).toMatchObject({ family: H.AF_INET6, type: 1, protocol: 6, connected: true, listening: false, tcpState: 1 });
    expect(t.local!.address).toBe('::1');
    expect(t.cookie).toBe(native().socketCookie(fds.tcp));
    expect(native().socketInfo(fds.listen)).toMatchObject({ connected: false, listening: true, peer: null, tcpState: 10 });
    expect(native().socketInfo(fds.udp)).toMatchObject({ type: 2, protocol: 17, connected: true, tcpState: null });
    expect(native().socketInfo(fds.udpUnconn)).toMatchObject({ connected: false, peer: null });
    expect(() => native().socketInfo(fds.file)).toThrow(expect.objectContaining({ code: 'ENOTSOCK', syscall: 'getsockopt' }));
  });

  it('closes every passed fd before answering', async () => {
    const before = fs.readdirSync('/proc/self/fd').length;
    for (let i = 0; i < 20; i++) await get('tcp', H.SHIM_ASSOCIATED);
    await call(MsgType.NOOP, [], [fds.tcp, fds.udp]);
    await get('file', H.SHIM_ASSOCIATED);
    expect(fs.readdirSync('/proc/self/fd').length).toBeLessThanOrEqual(before + 1);
  });

  it('answers malformed and unexpected frames with an errno, and keeps serving', async () => {
    const send = async (buf: Buffer, f: number[] = [fds.tcp]) => {
      const d = decodeFrame(await native().apiRequest(apiPath, buf, f));
      return d.ok ? H.errnoName(getU32(d.frame, Attr.ERRNO)!) : 'undecodable';
    };
    expect(await send(Buffer.alloc(3))).toBe('EBADMSG');
    expect(await send(Buffer.from('14000000100001000100000001000000ff000300', 'hex'))).toBe('EBADMSG');
    expect(await send(Buffer.from('10000000010001000100000009000000', 'hex'))).toBe('EPROTONOSUPPORT');
    expect(await send(Buffer.alloc(70000))).toMatch(/EMSGSIZE/);
    expect(await send(encodeFrame({ type: 0x7777, flags: Flag.REQUEST, seq: 1, attrs: [] }))).toBe('EOPNOTSUPP');
    expect(await send(encodeFrame({ type: MsgType.FORK, flags: Flag.REQUEST, seq: 1, attrs: [] }))).toBe('EOPNOTSUPP');
    expect(await send(encodeFrame({ type: MsgType.RECVMSG, flags: Flag.REQUEST, seq: 1, attrs: [] }), [])).toBe('EBADF');
    expect(await send(encodeFrame({ type: MsgType.SENDMSG, flags: Flag.REQUEST, seq: 1, attrs: [] }))).toBe('EINVAL');
    expect(await send(encodeFrame({ type: MsgType.SENDMSG, flags: Flag.REQUEST, seq: 1, attrs: [bytes(Attr.CMSG, new Uint8Array([9, 0]))] }))).toBe('EBADMSG');
    expect(await send(encodeFrame({ type: MsgType.NOOP, flags: Flag.REPLY, seq: 1, attrs: [] }))).toBe('EBADMSG');
    const getAttrs = [u32(Attr.LEVEL, H.SOL_SHIM), u32(Attr.OPTNAME, H.SHIM_ASSOCIATED), u32(Attr.OPTLEN, 4)];
    expect((await call(MsgType.GETSOCKOPT, getAttrs, [])).errno).toBe('EBADF');
    expect((await call(MsgType.GETSOCKOPT, getAttrs, [fds.tcp, fds.udp])).errno).toBe('EBADF');
    expect((await call(MsgType.GETSOCKOPT, [u32(Attr.LEVEL, 1), u32(Attr.OPTNAME, 1), u32(Attr.OPTLEN, 4)], [fds.tcp])).errno).toBe('ENOPROTOOPT');
    expect((await call(MsgType.GETSOCKOPT, [u32(Attr.LEVEL, H.SOL_SHIM), u32(Attr.OPTLEN, 4)], [fds.tcp])).errno).toBe('EINVAL');
    expect((await call(MsgType.GETSOCKOPT, [u32(Attr.LEVEL, H.SOL_SHIM), u32(Attr.OPTNAME, 1)], [fds.tcp])).errno).toBe('EINVAL');
    expect((await call(MsgType.GETSOCKOPT, [bytes(Attr.OPTNAME, new Uint8Array(2)), u32(Attr.OPTLEN, 4)], [fds.tcp])).errno).toBe('EBADMSG');
    expect((await call(MsgType.SETSOCKOPT, [u32(Attr.LEVEL, H.SOL_SHIM), u32(Attr.OPTNAME, H.SHIM_DONTSHIM)], [fds.tcp])).errno).toBe('EINVAL');
    expect((await get('file', H.SHIM_ASSOCIATED)).errno).toBe('ENOTSOCK');
    expect((await get('tcp', H.SHIM_ASSOCIATED)).errno).toBe(0);
  });

  it('survives a client that leaves before its answer', async () => {
    const s = await import('node:child_process');
    // A process that sends a request and exits at once.
    const script = `const n=require(${JSON.stringify(path.resolve('build/shim6.node'))});` +
      `n.apiRequest(${JSON.stringify(apiPath)}, Buffer.from('10000000010001000100000001000000','hex'), [], 1).catch(()=>{}).finally(()=>process.exit(0));`;
    s.execFileSync(process.execPath, ['-e', script]);
    expect((await call(MsgType.NOOP, [], [])).errno).toBe(0);
  });

  it('publishes each request on the shim6:api:request channel with the caller\'s credentials', async () => {
    const seen: ApiRequestRecord[] = [];
    const fn = (m: unknown) => seen.push(m as ApiRequestRecord);
    diagnostics.subscribe('shim6:api:request', fn);
    await get('tcp', H.SHIM_ASSOCIATED);
    diagnostics.unsubscribe('shim6:api:request', fn);
    expect(seen[0]).toMatchObject({ type: MsgType.GETSOCKOPT, optname: H.SHIM_ASSOCIATED, errno: 0, cookie: native().socketCookie(fds.tcp), cred: { pid: process.pid, uid: process.getuid!() } });
  });

  it('refuses to start over a live server and replaces a stale socket file', async () => {
    await expect(new ApiServer({ backend, path: apiPath }).listen()).rejects.toMatchObject({ code: 'EADDRINUSE' });
    const stale = path.join(dir, 'stale.sock');
    fs.writeFileSync(stale, '');
    const s2 = new ApiServer({ backend, path: stale, mode: 0o600 });
    await s2.listen();
    expect(fs.statSync(stale).mode & 0o777).toBe(0o600);
    expect(fs.statSync(stale).isSocket()).toBe(true);
    await s2.close();
  });
});

describe('API server: RFC 6316 Table 2 (sendmsg side)', () => {
  const fb = (direction: number, indicator: number, len = 4) => {
    const d = new Uint8Array(len);
    d[0] = direction;
    d[1] = indicator;
    return d;
  };
  const sendmsg = (sock: SockName, ...c: Array<[number, Uint8Array, number?]>) =>
    call(MsgType.SENDMSG, c.map(([type, data, level]) => nested(Attr.CMSG, [u32(Attr.CMSG_LEVEL, level ?? H.SOL_SHIM), u32(Attr.CMSG_TYPE, type), bytes(Attr.CMSG_DATA, data)])), [fds[sock]]);

  it('hands SHIM_FEEDBACK to the backend; indicator 0 is not processed', async () => {
    expect((await sendmsg('tcp', [H.SHIM_FEEDBACK, fb(0, 2)], [H.SHIM_FEEDBACK, fb(1, 0)], [H.SHIM_FEEDBACK, fb(1, 3)])).errno).toBe(0);
    expect(backend.calls).toEqual([['feedback', 'outbound', 'unsatisfactory'], ['feedback', 'inbound', 'satisfactory']]);
  });

  it('answers the errors of §7', async () => {
    expect((await sendmsg('udp', [H.SHIM_FEEDBACK, fb(0, 1)])).errno).toBe('ENOENT');
    expect((await sendmsg('udpUnconn', [H.SHIM_FEEDBACK, fb(0, 1)])).errno).toBe('EOPNOTSUPP');
    expect((await sendmsg('tcp', [H.SHIM_FEEDBACK, fb(0, 1, 2)])).errno).toBe('EINVAL');
    expect((await sendmsg('tcp', [H.SHIM_FEEDBACK, fb(0, 4)])).errno).toBe('EINVAL');
    expect((await sendmsg('tcp', [H.SHIM_FEEDBACK, fb(0, 1), 41])).errno).toBe('EINVAL');
    expect((await sendmsg('tcp', [H.SHIM_LOC_PEER_RECV, new Uint8Array(28)])).errno).toBe('EINVAL');
    expect((await sendmsg('tcp', [H.SHIM_LOC_PEER_SEND, new Uint8Array(28)])).errno).toBe('EOPNOTSUPP');
    expect(backend.calls).toEqual([]);
  });

  const sin6 = (addr: string, family: number = H.AF_INET6, len = 28) => {
    const b = new Uint8Array(len);
    new DataView(b.buffer).setUint16(0, family, true);
    b.set(ip(addr).subarray(0, Math.min(16, len - 8)), 8);
    return b;
  };
  const rawSendmsg = async (sock: SockName, ...c: Array<[number, Uint8Array]>) => {
    const r = await native().apiRequest(apiPath, encodeFrame({
      type: MsgType.SENDMSG, flags: Flag.REQUEST, seq: 7,
      attrs: c.map(([type, data]) => nested(Attr.CMSG, [u32(Attr.CMSG_LEVEL, H.SOL_SHIM), u32(Attr.CMSG_TYPE, type), bytes(Attr.CMSG_DATA, data)])),
    }), [fds[sock]]);
    const d = decodeFrame(r);
    if (!d.ok) throw new Error(d.reason);
    const e = getU32(d.frame, Attr.ERRNO)!;
    return { errno: e === 0 ? 0 : H.errnoName(e), oneShot: getU32(d.frame, Attr.ONESHOT) };
  };
  const udpCookie = () => native().socketCookie(fds.udp);

  it('SHIM_LOC_*_SEND pins one datagram: installed with ONESHOT, the socket\'s own pins back at SENDMSG_DONE', async () => {
    backend.associate(udpCookie(), ctx);
    backend.policies.set(udpCookie(), { ...backend.socketPolicy({ cookie: udpCookie() } as never), sendPeer: ip('::1') });
    const r = await rawSendmsg('udp', [H.SHIM_LOC_PEER_SEND, sin6('2001:db8:1:b::1')], [H.SHIM_LOC_LOCAL_SEND, sin6('2001:db8:1:a::1')]);
    expect(r).toEqual({ errno: 0, oneShot: 1 });
    expect(hex(backend.policies.get(udpCookie())!.sendPeer!)).toBe(hex(ip('2001:db8:1:b::1')));
    expect(hex(backend.policies.get(udpCookie())!.sendLocal!)).toBe(hex(ip('2001:db8:1:a::1')));
    expect((await call(MsgType.SENDMSG_DONE, [], [fds.udp])).errno).toBe(0);
    expect(hex(backend.policies.get(udpCookie())!.sendPeer!)).toBe(hex(ip('::1')));
    expect(backend.policies.get(udpCookie())!.sendLocal).toBeNull();
    // Nothing pending any more.
    expect((await call(MsgType.SENDMSG_DONE, [], [fds.udp])).errno).toBe('ENOENT');
    // A zero-filled sockaddr overrides nothing: no pin, nothing to put back.
    expect(await rawSendmsg('udp', [H.SHIM_LOC_PEER_SEND, new Uint8Array(28)])).toEqual({ errno: 0, oneShot: undefined });
    expect(hex(backend.policies.get(udpCookie())!.sendPeer!)).toBe(hex(ip('::1')));
  });

  it('SHIM_LOC_*_SEND answers the errors of §7.2 and changes nothing', async () => {
    expect((await rawSendmsg('udp', [H.SHIM_LOC_PEER_SEND, sin6('2001:db8:1:b::1')])).errno).toBe('ENOENT');
    expect((await rawSendmsg('udpUnconn', [H.SHIM_LOC_PEER_SEND, sin6('2001:db8:1:b::1')])).errno).toBe('EOPNOTSUPP');
    backend.associate(udpCookie(), ctx);
    expect((await rawSendmsg('udp', [H.SHIM_LOC_PEER_SEND, sin6('2001:db8:ff::1')])).errno).toBe('EINVALIDLOCATOR');
    expect((await rawSendmsg('udp', [H.SHIM_LOC_PEER_SEND, sin6('2001:db8:2:b::1')])).errno).toBe('EUNVERIFIEDLOCATOR');
    expect((await rawSendmsg('udp', [H.SHIM_LOC_PEER_SEND, sin6('2001:db8:3:b::1')])).errno).toBe('EUNREACHABLELOCATOR');
    expect((await rawSendmsg('udp', [H.SHIM_LOC_LOCAL_SEND, sin6('2001:db8:77::1')])).errno).toBe('EINVALIDLOCATOR');
    // On an interface, outside the HBA set: refused too (§14.1.1), after asking the backend.
    expect((await rawSendmsg('udp', [H.SHIM_LOC_LOCAL_SEND, sin6('2001:db8:9::2')])).errno).toBe('EINVALIDLOCATOR');
    expect((await rawSendmsg('udp', [H.SHIM_LOC_LOCAL_SEND, sin6('::ffff:192.0.2.1', H.AF_INET, 16)])).errno).toBe('EINVALIDLOCATOR');
    expect((await rawSendmsg('udp', [H.SHIM_LOC_LOCAL_SEND, sin6('2001:db8:1:a::1', H.AF_INET6, 20)])).errno).toBe('EINVAL');
    expect((await rawSendmsg('udp', [H.SHIM_LOC_LOCAL_SEND, sin6('2001:db8:1:a::1', 99)])).errno).toBe('EINVAL');
    expect(backend.policies.get(udpCookie())).toBeUndefined();
    expect(backend.calls).toEqual([['addLocalLocator', hex(ip('2001:db8:9::2'))]]);
  });
});

describe('API server: RFC 6316 Table 2 (recvmsg side)', () => {
  const recvmsg = async (sock: SockName, want?: number) => {
    const r = await native().apiRequest(apiPath, encodeFrame({
      type: MsgType.RECVMSG, flags: Flag.REQUEST, seq: 9, attrs: want === undefined ? [] : [u32(Attr.RECV_WANT, want)],
    }), [fds[sock]]);
    const d = decodeFrame(r);
    if (!d.ok) throw new Error(d.reason);
    const e = getU32(d.frame, Attr.ERRNO)!;
    const cmsgs = d.frame.attrs.filter((a) => a.type === Attr.CMSG).map((a) => {
      const f = { type: 0, flags: 0, seq: 0, attrs: decodeAttrs(a.value)! };
      return { level: getU32(f, Attr.CMSG_LEVEL), type: getU32(f, Attr.CMSG_TYPE), data: findAttr(f, Attr.CMSG_DATA)! };
    });
    return { errno: e === 0 ? 0 : H.errnoName(e), cmsgs };
  };
  const sin6Of = (d: Uint8Array) => ({ family: new DataView(d.buffer, d.byteOffset).getUint16(0, true), addr: hex(d.subarray(8, 24)), len: d.length });

  it('delivers the enabled SHIM_LOC_*_RECV as one sockaddr_in6 each: the latest received pair', async () => {
    backend.received = { local: ip('2001:db8:1:a::1'), peer: ip('2001:db8:1:b::1') };
    expect((await recvmsg('tcp')).cmsgs).toEqual([]);
    backend.policies.set(native().socketCookie(fds.tcp), { ...backend.socketPolicy({ cookie: native().socketCookie(fds.tcp) } as never), recvPeer: true });
    const r = await recvmsg('tcp');
    expect(r.errno).toBe(0);
    expect(r.cmsgs.map((c) => ({ level: c.level, type: c.type, ...sin6Of(c.data) }))).toEqual([
      { level: H.SOL_SHIM, type: H.SHIM_LOC_PEER_RECV, family: H.AF_INET6, addr: hex(ip('2001:db8:1:b::1')), len: 28 },
    ]);
    const both = await recvmsg('tcp', 3);
    expect(both.cmsgs.map((c) => [c.type, sin6Of(c.data).addr])).toEqual([
      [H.SHIM_LOC_LOCAL_RECV, hex(ip('2001:db8:1:a::1'))], [H.SHIM_LOC_PEER_RECV, hex(ip('2001:db8:1:b::1'))],
    ]);
  });

  it('zero-fills without a context (§7.1); unconnected → EOPNOTSUPP; bad RECV_WANT → EINVAL', async () => {
    const r = await recvmsg('udp', 3);
    expect(r.errno).toBe(0);
    expect(r.cmsgs.map((c) => [c.type, c.data.length, c.data.every((b) => b === 0)])).toEqual([
      [H.SHIM_LOC_LOCAL_RECV, 28, true], [H.SHIM_LOC_PEER_RECV, 28, true],
    ]);
    expect((await recvmsg('udpUnconn', 3)).errno).toBe('EOPNOTSUPP');
    expect((await recvmsg('tcp', 4)).errno).toBe('EINVAL');
    expect((await recvmsg('unix', 3)).errno).toBe('EOPNOTSUPP');
  });
});

// ---- Table 1, row by row ----------------------------------------------------------

type Row = {
  name: string;
  sock?: SockName;
  setup?: () => void;
  get?: number;
  optlen?: number;
  set?: [number, Uint8Array];
  errno?: string;
  check?: (v: Uint8Array | undefined, optlen: number | null | undefined) => void;
  after?: () => void;
};

const policyOf = () => backend.policies.get(native().socketCookie(fds.tcp));
const I = encodeInt;

const ROWS: Row[] = [
  // 1. unknown / read-only
  { name: 'unknown option → ENOPROTOOPT', get: 99, errno: 'ENOPROTOOPT' },
  { name: 'set of read-only SHIM_ASSOCIATED → ENOPROTOOPT', set: [H.SHIM_ASSOCIATED, I(1)], errno: 'ENOPROTOOPT' },
  { name: 'set of read-only SHIM_DEFERRED_CONTEXT_SETUP → ENOPROTOOPT', set: [H.SHIM_DEFERRED_CONTEXT_SETUP, I(1)], errno: 'ENOPROTOOPT' },
  // 2. not an IP socket
  { name: 'Unix socket → EOPNOTSUPP', sock: 'unix', get: H.SHIM_ASSOCIATED, errno: 'EOPNOTSUPP' },
  // 3. lengths
  { name: 'int option set with 2 bytes → EINVAL', set: [H.SHIM_HOT_STANDBY, new Uint8Array(2)], errno: 'EINVAL' },
  { name: 'int option set with 8 bytes → EINVAL', set: [H.SHIM_APP_TIMEOUT, new Uint8Array(8)], errno: 'EINVAL' },
  { name: 'int option get into 2 bytes → EINVAL', get: H.SHIM_ASSOCIATED, optlen: 2, errno: 'EINVAL' },
  { name: 'locator set with 31 bytes → EINVAL', set: [H.SHIM_LOC_PEER_SEND, new Uint8Array(31)], errno: 'EINVAL' },
  { name: 'locator get into 16 bytes → EINVAL', get: H.SHIM_LOC_LOCAL_PREF, optlen: 16, errno: 'EINVAL' },
  { name: 'pathexplore set with 8 bytes → EINVAL', set: [H.SHIM_PATHEXPLORE, new Uint8Array(8)], errno: 'EINVAL' },
  { name: 'locator list set with 40 bytes → EINVAL', set: [H.SHIM_LOCLIST_LOCAL, new Uint8Array(40)], errno: 'EINVAL' },
  { name: 'empty locator list → EINVAL', set: [H.SHIM_LOCLIST_PEER, new Uint8Array(0)], errno: 'EINVAL' },
  // SHIM_ASSOCIATED
  { name: 'ASSOCIATED on a connected socket with a context → 1', get: H.SHIM_ASSOCIATED, check: (v) => expect(int(v)).toBe(1) },
  { name: 'ASSOCIATED on a connected socket without one → 0', sock: 'udp', get: H.SHIM_ASSOCIATED, check: (v) => expect(int(v)).toBe(0) },
  { name: 'ASSOCIATED on an unconnected UDP socket → 2', sock: 'udpUnconn', get: H.SHIM_ASSOCIATED, check: (v) => expect(int(v)).toBe(2) },
  { name: 'ASSOCIATED on a listening socket → 2', sock: 'listen', get: H.SHIM_ASSOCIATED, check: (v) => expect(int(v)).toBe(2) },
  // SHIM_DONTSHIM
  { name: 'DONTSHIM get (default 0)', get: H.SHIM_DONTSHIM, check: (v) => expect(int(v)).toBe(0) },
  { name: 'DONTSHIM get on an unconnected socket', sock: 'udpUnconn', get: H.SHIM_DONTSHIM, check: (v) => expect(int(v)).toBe(0) },
  { name: 'DONTSHIM set 1 on an unconnected socket', sock: 'udpUnconn', set: [H.SHIM_DONTSHIM, I(1)],
    after: () => expect(backend.policies.get(native().socketCookie(fds.udpUnconn))?.dontShim).toBe(true) },
  { name: 'DONTSHIM set 1 on a connected socket → EOPNOTSUPP', set: [H.SHIM_DONTSHIM, I(1)], errno: 'EOPNOTSUPP' },
  { name: 'DONTSHIM set 1 on a listening socket → EOPNOTSUPP', sock: 'listen', set: [H.SHIM_DONTSHIM, I(1)], errno: 'EOPNOTSUPP' },
  { name: 'DONTSHIM set 0 on a connected socket (no change) → ok', set: [H.SHIM_DONTSHIM, I(0)] },
  { name: 'DONTSHIM set 2 → EINVAL', sock: 'udpUnconn', set: [H.SHIM_DONTSHIM, I(2)], errno: 'EINVAL' },
  { name: 'a DONTSHIM socket has no context: ASSOCIATED 0', setup: () => backend.policies.set(native().socketCookie(fds.tcp), { ...policyOfDefault(), dontShim: true }),
    get: H.SHIM_ASSOCIATED, check: (v) => expect(int(v)).toBe(0) },
  { name: 'a DONTSHIM socket has no context: HOT_STANDBY → ENOENT', setup: () => backend.policies.set(native().socketCookie(fds.tcp), { ...policyOfDefault(), dontShim: true }),
    get: H.SHIM_HOT_STANDBY, errno: 'ENOENT' },
  // 4/5. unconnected / no context, for every context option
  ...([H.SHIM_HOT_STANDBY, H.SHIM_LOC_LOCAL_PREF, H.SHIM_LOC_PEER_PREF, H.SHIM_LOC_LOCAL_RECV, H.SHIM_LOC_PEER_RECV, H.SHIM_LOC_LOCAL_SEND,
    H.SHIM_LOC_PEER_SEND, H.SHIM_LOCLIST_LOCAL, H.SHIM_LOCLIST_PEER, H.SHIM_APP_TIMEOUT, H.SHIM_PATHEXPLORE, H.SHIM_DEFERRED_CONTEXT_SETUP] as number[])
    .flatMap((o): Row[] => [
      { name: `${H.optionName(o)} get on an unconnected socket → EOPNOTSUPP`, sock: 'udpUnconn', get: o, errno: 'EOPNOTSUPP' },
      ...(o === H.SHIM_DEFERRED_CONTEXT_SETUP ? [] : [
        { name: `${H.optionName(o)} get without a context → ENOENT`, sock: 'udp' as const, get: o, errno: 'ENOENT' },
      ]),
    ]),
  { name: 'LOC_PEER_SEND set on an unconnected socket → EOPNOTSUPP', sock: 'udpUnconn', set: [H.SHIM_LOC_PEER_SEND, loc('2001:db8:1:b::1')], errno: 'EOPNOTSUPP' },
  { name: 'LOC_PEER_SEND set without a context → ENOENT', sock: 'udp', set: [H.SHIM_LOC_PEER_SEND, loc('2001:db8:1:b::1')], errno: 'ENOENT' },
  { name: 'HOT_STANDBY set without a context → ENOENT', sock: 'udp', set: [H.SHIM_HOT_STANDBY, I(1)], errno: 'ENOENT' },
  // SHIM_DEFERRED_CONTEXT_SETUP
  { name: 'DEFERRED_CONTEXT_SETUP → 1, no context needed', sock: 'udp', get: H.SHIM_DEFERRED_CONTEXT_SETUP, check: (v) => expect(int(v)).toBe(1) },
  // SHIM_HOT_STANDBY
  { name: 'HOT_STANDBY default 0', get: H.SHIM_HOT_STANDBY, check: (v) => expect(int(v)).toBe(0) },
  { name: 'HOT_STANDBY set 1', set: [H.SHIM_HOT_STANDBY, I(1)], after: () => expect(ctx.requested.hotStandby).toBe(true) },
  { name: 'HOT_STANDBY set 7 → EINVAL', set: [H.SHIM_HOT_STANDBY, I(7)], errno: 'EINVAL' },
  // SHIM_LOC_*_PREF
  { name: 'LOC_LOCAL_PREF get: the most preferred local locator', get: H.SHIM_LOC_LOCAL_PREF,
    check: (v) => expect(decodeLocator(v!)).toMatchObject({ family: H.AF_INET6, prio: 0, ifidx: 3, addr: ip('::1'), flags: 1 }) },
  { name: 'LOC_PEER_PREF get: lowest prio, then highest weight', get: H.SHIM_LOC_PEER_PREF,
    check: (v) => expect(decodeLocator(v!)).toMatchObject({ prio: 0, weight: 0, addr: ip('2001:db8:2:b::1'), ifidx: 0 }) },
  { name: 'LOC_PEER_PREF set: the application\'s preference supersedes the peer\'s', set: [H.SHIM_LOC_PEER_PREF, loc('2001:db8:1:b::1', 0, 50)],
    after: () => expect(ctx.peer.find((l) => hex(l.addr) === hex(ip('2001:db8:1:b::1')))).toMatchObject({ prio: 0, weight: 50 }) },
  { name: 'LOC_PEER_PREF set on an unverified locator → ok', set: [H.SHIM_LOC_PEER_PREF, loc('2001:db8:2:b::1', 1)] },
  { name: 'LOC_PEER_PREF set on an unreachable locator → EUNREACHABLELOCATOR', set: [H.SHIM_LOC_PEER_PREF, loc('2001:db8:3:b::1', 1)], errno: 'EUNREACHABLELOCATOR' },
  { name: 'LOC_PEER_PREF set on an unknown locator → EINVALIDLOCATOR', set: [H.SHIM_LOC_PEER_PREF, loc('2001:db8:7::1', 1)], errno: 'EINVALIDLOCATOR' },
  { name: 'LOC_LOCAL_PREF set on a locator of Ls(local)', set: [H.SHIM_LOC_LOCAL_PREF, loc('2001:db8:2:a::1', 0, 9)],
    after: () => expect(backend.calls).toContainEqual(['setPreference', 'local', hex(ip('2001:db8:2:a::1')), 0, 9]) },
  { name: 'LOC_LOCAL_PREF set on an address not on this host → EINVALIDLOCATOR', set: [H.SHIM_LOC_LOCAL_PREF, loc('2001:db8:7::1')], errno: 'EINVALIDLOCATOR' },
  { name: 'LOC_LOCAL_PREF set on a host address outside the HBA set → EINVALIDLOCATOR', set: [H.SHIM_LOC_LOCAL_PREF, loc('2001:db8:9::2')], errno: 'EINVALIDLOCATOR' },
  { name: 'LOC_LOCAL_PREF set on a host address not yet in Ls(local): locator update, then ok', set: [H.SHIM_LOC_LOCAL_PREF, loc('2001:db8:9::1', 1)],
    after: () => expect(backend.calls.map((c) => c[0])).toEqual(['addLocalLocator', 'setPreference']) },
  { name: 'locator with lc_family 0 → EINVAL', set: [H.SHIM_LOC_LOCAL_PREF, loc('::1', 0, 0, 0)], errno: 'EINVAL' },
  { name: 'IPv4 locator → EINVALIDLOCATOR (Shim6 is IPv6 only)', set: [H.SHIM_LOC_PEER_PREF, loc('::ffff:192.0.2.1', 0, 0, H.AF_INET)], errno: 'EINVALIDLOCATOR' },
  { name: 'AF_INET locator not IPv4-mapped → EINVAL', set: [H.SHIM_LOC_PEER_PREF, loc('2001:db8::1', 0, 0, H.AF_INET)], errno: 'EINVAL' },
  { name: 'NAT locator (lc_proto UDP) → EINVALIDLOCATOR', set: [H.SHIM_LOC_LOCAL_SEND, loc('::1', 0, 0, H.AF_INET6, 17)], errno: 'EINVALIDLOCATOR' },
  { name: 'lc_proto TCP → EINVAL', set: [H.SHIM_LOC_LOCAL_SEND, loc('::1', 0, 0, H.AF_INET6, 6)], errno: 'EINVAL' },
  // SHIM_LOC_*_RECV
  { name: 'LOC_LOCAL_RECV default 0', get: H.SHIM_LOC_LOCAL_RECV, check: (v) => expect(int(v)).toBe(0) },
  { name: 'LOC_PEER_RECV set 1', set: [H.SHIM_LOC_PEER_RECV, I(1)], after: () => expect(policyOf()).toMatchObject({ recvPeer: true, recvLocal: false }) },
  { name: 'LOC_LOCAL_RECV set 2 → EINVAL (MUST be binary)', set: [H.SHIM_LOC_LOCAL_RECV, I(2)], errno: 'EINVAL' },
  // SHIM_LOC_*_SEND
  { name: 'LOC_PEER_SEND get, nothing forced: zero-filled', get: H.SHIM_LOC_PEER_SEND, check: (v) => expect(v!.every((x) => x === 0)).toBe(true) },
  { name: 'LOC_PEER_SEND set on a verified locator pins it', set: [H.SHIM_LOC_PEER_SEND, loc('2001:db8:1:b::1')],
    after: () => expect(hex(policyOf()!.sendPeer!)).toBe(hex(ip('2001:db8:1:b::1'))) },
  { name: 'LOC_PEER_SEND get returns the forced locator', setup: () => backend.policies.set(native().socketCookie(fds.tcp), { ...policyOfDefault(), sendPeer: ip('2001:db8:1:b::1') }),
    get: H.SHIM_LOC_PEER_SEND, check: (v) => expect(decodeLocator(v!)).toMatchObject({ family: H.AF_INET6, addr: ip('2001:db8:1:b::1'), prio: 1, weight: 10 }) },
  { name: 'LOC_PEER_SEND zero-filled locator clears it', setup: () => backend.policies.set(native().socketCookie(fds.tcp), { ...policyOfDefault(), sendPeer: ip('2001:db8:1:b::1'), sendLocal: ip('::1') }),
    set: [H.SHIM_LOC_PEER_SEND, new Uint8Array(32)], after: () => expect(policyOf()).toMatchObject({ sendPeer: null, sendLocal: ip('::1') }) },
  { name: 'LOC_PEER_SEND set on an unverified locator → EUNVERIFIEDLOCATOR', set: [H.SHIM_LOC_PEER_SEND, loc('2001:db8:2:b::1')], errno: 'EUNVERIFIEDLOCATOR' },
  { name: 'LOC_PEER_SEND set on an unreachable locator → EUNREACHABLELOCATOR', set: [H.SHIM_LOC_PEER_SEND, loc('2001:db8:3:b::1')], errno: 'EUNREACHABLELOCATOR' },
  { name: 'LOC_PEER_SEND set on an unknown locator → EINVALIDLOCATOR', set: [H.SHIM_LOC_PEER_SEND, loc('2001:db8:7::1')], errno: 'EINVALIDLOCATOR' },
  { name: 'LOC_LOCAL_SEND set on a local locator pins it', set: [H.SHIM_LOC_LOCAL_SEND, loc('2001:db8:2:a::1')],
    after: () => expect(hex(policyOf()!.sendLocal!)).toBe(hex(ip('2001:db8:2:a::1'))) },
  { name: 'LOC_LOCAL_SEND set on an unknown address → EINVALIDLOCATOR', set: [H.SHIM_LOC_LOCAL_SEND, loc('2001:db8:7::1')], errno: 'EINVALIDLOCATOR' },
  // SHIM_LOCLIST_*
  { name: 'LOCLIST_PEER get: the whole list', get: H.SHIM_LOCLIST_PEER, check: (v, n) => {
    expect(n).toBe(4 * 32);
    expect(decodeLocators(v!).map((l) => hex(l.addr))).toEqual(ctx.peer.map((l) => hex(l.addr)));
  } },
  { name: 'LOCLIST_PEER get into a buffer for 3 → ETOOMANYLOCATORS, with the size needed', get: H.SHIM_LOCLIST_PEER, optlen: 96, errno: 'ETOOMANYLOCATORS',
    check: (_v, n) => expect(n).toBe(128) },
  { name: 'LOCLIST_LOCAL set 33 locators → ETOOMANYLOCATORS', set: [H.SHIM_LOCLIST_LOCAL, new Uint8Array(33 * 32)], errno: 'ETOOMANYLOCATORS' },
  { name: 'LOCLIST_LOCAL set: a subset, with preferences', set: [H.SHIM_LOCLIST_LOCAL, Buffer.concat([loc('::1', 0), loc('2001:db8:2:a::1', 1, 3)])],
    after: () => expect(ctx.local.map((l) => [hex(l.addr), l.prio, l.weight])).toEqual([[hex(ip('::1')), 0, 0], [hex(ip('2001:db8:2:a::1')), 1, 3]]) },
  { name: 'LOCLIST_LOCAL set with an invalid entry → EINVALIDLOCATOR, nothing changed', set: [H.SHIM_LOCLIST_LOCAL, Buffer.concat([loc('::1'), loc('2001:db8:7::1')])],
    errno: 'EINVALIDLOCATOR', after: () => expect(backend.calls.filter((c) => c[0] === 'setLocatorList')).toEqual([]) },
  { name: 'LOCLIST_LOCAL set with a duplicate → EINVAL', set: [H.SHIM_LOCLIST_LOCAL, Buffer.concat([loc('::1'), loc('::1')])], errno: 'EINVAL' },
  { name: 'LOCLIST_PEER set with an unverified entry → EUNVERIFIEDLOCATOR', set: [H.SHIM_LOCLIST_PEER, Buffer.concat([loc('::1'), loc('2001:db8:2:b::1')])], errno: 'EUNVERIFIEDLOCATOR' },
  { name: 'LOCLIST_PEER set with an unreachable entry → EUNREACHABLELOCATOR', set: [H.SHIM_LOCLIST_PEER, loc('2001:db8:3:b::1')], errno: 'EUNREACHABLELOCATOR' },
  { name: 'LOCLIST_PEER set with an unknown entry → EINVALIDLOCATOR', set: [H.SHIM_LOCLIST_PEER, loc('2001:db8:7::1')], errno: 'EINVALIDLOCATOR' },
  { name: 'LOCLIST_PEER set: verified entries', set: [H.SHIM_LOCLIST_PEER, Buffer.concat([loc('2001:db8:1:b::1', 0, 1), loc('::1', 1)])],
    after: () => expect(backend.calls).toContainEqual(['setLocatorList', 'peer', [hex(ip('2001:db8:1:b::1')), hex(ip('::1'))]]) },
  // SHIM_APP_TIMEOUT / SHIM_PATHEXPLORE
  { name: 'APP_TIMEOUT default 0 (REAP default)', get: H.SHIM_APP_TIMEOUT, check: (v) => expect(int(v)).toBe(0) },
  { name: 'APP_TIMEOUT set 15', set: [H.SHIM_APP_TIMEOUT, I(15)], after: () => expect(ctx.requested.sendTimeoutS).toBe(15) },
  { name: 'APP_TIMEOUT set -1 → EINVAL', set: [H.SHIM_APP_TIMEOUT, I(-1)], errno: 'EINVAL' },
  { name: 'APP_TIMEOUT without a REAP instance → EOPNOTSUPP', setup: () => { backend.reapPresent = false; }, get: H.SHIM_APP_TIMEOUT, errno: 'EOPNOTSUPP' },
  { name: 'PATHEXPLORE get: REAP defaults', get: H.SHIM_PATHEXPLORE,
    check: (v) => expect(decodePathexplore(v!)).toEqual({ probenum: 4, keepaliveto: 15, keepaliveint: 5, initprobeto: 500, reserved: 0 }) },
  { name: 'PATHEXPLORE set (RFC example values) also sets APP_TIMEOUT', set: [H.SHIM_PATHEXPLORE, encodePathexplore({ probenum: 4, keepaliveto: 10, keepaliveint: 3, initprobeto: 500, reserved: 0 })],
    after: () => expect(ctx.requested).toMatchObject({ sendTimeoutS: 10, keepaliveIntervalS: 3, initialProbes: 4, initialProbeTimeoutMs: 500 }) },
  { name: 'PATHEXPLORE set with pe_reserved ≠ 0 → EINVAL', set: [H.SHIM_PATHEXPLORE, encodePathexplore({ probenum: 4, keepaliveto: 10, keepaliveint: 3, initprobeto: 500, reserved: 1 })], errno: 'EINVAL' },
  { name: 'PATHEXPLORE set with interval ≥ timeout → EINVAL', set: [H.SHIM_PATHEXPLORE, encodePathexplore({ probenum: 4, keepaliveto: 10, keepaliveint: 10, initprobeto: 500, reserved: 0 })], errno: 'EINVAL' },
];

function policyOfDefault() {
  return { dontShim: false, sendLocal: null, sendPeer: null, recvLocal: false, recvPeer: false, fii: 0 };
}

describe('API server: RFC 6316 Table 1', () => {
  it.each(ROWS.map((r) => [r.name, r] as const))('%s', async (_n, r) => {
    r.setup?.();
    const sock = r.sock ?? 'tcp';
    const res = r.set ? await set(sock, r.set[0], r.set[1]) : await get(sock, r.get!, r.optlen ?? 1024);
    expect(res.errno).toBe(r.errno ?? 0);
    if (r.get !== undefined && !r.errno) expect(res.optlen).toBe(res.value?.length);
    r.check?.(res.value, res.optlen);
    r.after?.();
  });

  it('covers every option of Table 1 for get, and every settable one for set', () => {
    const names = ROWS.map((r) => r.name).join('\n');
    for (const n of Object.keys(H.OPTION_NAMES)) {
      if (n === 'SHIM_FEEDBACK' || n === 'SHIM_DEFERRED_CONTEXT_SETUP' || n === 'SHIM_CONTEXT_DEFERRED_SETUP') continue;
      expect(names, n).toContain(n.replace(/^SHIM_/, ''));
    }
  });

  it('never leaves a failed set half-applied to the socket policy', async () => {
    await set('tcp', H.SHIM_LOC_PEER_SEND, loc('2001:db8:2:b::1'));
    await set('tcp', H.SHIM_DONTSHIM, I(1));
    expect(backend.calls).toEqual([]);
  });
});
