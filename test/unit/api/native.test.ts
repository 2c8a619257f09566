// The native side of the API socket (native/src/api.cc): ApiListener,
// socketInfo and apiRequest on their own, and the server under a stream of
// random frames.
import { afterAll, describe, expect, it } from 'vitest';
import fs from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { native } from '../../../src/native.js';
import type { ApiListenerEvent } from '../../../native/index.js';
import { ApiServer } from '../../../src/api/server.js';
import { Attr, decodeFrame, encodeFrame, Flag, getU32, MsgType, u32 } from '../../../src/api/frame.js';
import { FakeBackend } from './fake-backend.js';
import { decodeIdentity, prefetchedPolicy } from '../../../src/api/sockinfo.js';

const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'shim6-native-'));
afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

function until(pred: () => boolean, ms = 2000): Promise<void> {
  return new Promise((resolve, reject) => {
    const t0 = Date.now();
    const tick = () => (pred() ? resolve() : Date.now() - t0 > ms ? reject(new Error('timed out')) : setImmediate(tick));
    tick();
  });
}

describe('ApiListener', () => {
  it('delivers messages with their fds and credentials, answers, and reports the end of a connection', async () => {
    const p = path.join(dir, 'l1.sock');
    const evs: ApiListenerEvent[] = [];
    const l = new (native().ApiListener)({ path: p, mode: 0o600 }, (ev) => {
      evs.push(ev);
      if (ev.data) {
        for (const fd of ev.fds ?? []) native().closeFd(fd);
        l.send(ev.conn, Buffer.from('pong'));
      }
    });
    expect(fs.statSync(p).mode & 0o777).toBe(0o600);
    const f = fs.openSync('/dev/null', 'r');
    const reply = await native().apiRequest(p, Buffer.from('ping'), [f, f]);
    fs.closeSync(f);
    expect(reply.toString()).toBe('pong');
    await until(() => evs.some((e) => e.closed));
    expect(evs[0]).toMatchObject({ data: Buffer.from('ping'), cred: { pid: process.pid, uid: process.getuid!(), gid: process.getgid!() } });
    expect(evs[0].fds).toHaveLength(2);
    expect(evs[1]).toMatchObject({ conn: evs[0].conn, closed: true });
    expect(() => l.send(evs[0].conn, Buffer.from('x'))).toThrow(expect.objectContaining({ code: 'ENOTCONN', syscall: 'send' }));
    expect(l.closeConn(evs[0].conn)).toBe(false);
    l.close();
    expect(fs.existsSync(p)).toBe(false);
  });

  it('delivers the 8 fds apiRequest can pass in one message', async () => {
    const p = path.join(dir, 'l2.sock');
    let ev: ApiListenerEvent | undefined;
    const l = new (native().ApiListener)({ path: p }, (e) => {
      if (!e.data) return;
      ev = e;
      for (const fd of e.fds ?? []) native().closeFd(fd);
      l.send(e.conn, Buffer.from('ok'));
    });
    const f = fs.openSync('/dev/null', 'r');
    await native().apiRequest(p, Buffer.from('x'), [f, f, f, f, f, f, f, f]);
    fs.closeSync(f);
    expect(ev?.fds).toHaveLength(8);
    l.close();
  });

  it('refuses a path in use, a path too long and bad arguments, with Node-shaped errors', () => {
    const p = path.join(dir, 'l3.sock');
    const l = new (native().ApiListener)({ path: p }, () => {});
    expect(() => new (native().ApiListener)({ path: p }, () => {})).toThrow(expect.objectContaining({ code: 'EADDRINUSE', syscall: 'bind' }));
    expect(() => new (native().ApiListener)({ path: path.join(dir, 'x'.repeat(120)) }, () => {})).toThrow(expect.objectContaining({ code: 'ENAMETOOLONG' }));
    expect(() => new (native().ApiListener)({ path: path.join(dir, 'g.sock'), group: 'no-such-group-shim6' }, () => {})).toThrow(expect.objectContaining({ syscall: 'getgrnam_r' }));
    expect(() => new (native().ApiListener)({ path: 3 as unknown as string }, () => {})).toThrow(TypeError);
    expect(() => native().socketInfo('x' as unknown as number)).toThrow(TypeError);
    l.close();
    l.close();
  });

  it('identifies a single passed fd in the receive call (ev.info), reports a non-socket, and reply() closes the fds before sending', async () => {
    const p = path.join(dir, 'l5.sock');
    const evs: ApiListenerEvent[] = [];
    const open: boolean[] = [];
    const l = new (native().ApiListener)({ path: p }, (ev) => {
      if (!ev.data) return;
      evs.push(ev);
      l.reply(ev.conn, Buffer.from('ok'), ev.fds ?? []);
      // Closed by reply(): fstat on the number fails (nothing else opened one in between).
      open.push(...(ev.fds ?? []).map((fd) => { try { fs.fstatSync(fd); return true; } catch { return false; } }));
    });
    // A connected TCP pair over loopback.
    const srv = net.createServer().listen(0, '::1');
    await new Promise((r) => srv.once('listening', r));
    const c = net.connect((srv.address() as net.AddressInfo).port, '::1');
    await new Promise((r) => c.once('connect', r));
    const fd = (c as unknown as { _handle: { fd: number } })._handle.fd;
    const f = fs.openSync('/dev/null', 'r');
    try {
      expect((await native().apiRequest(p, Buffer.from('a'), [fd])).toString()).toBe('ok');
      expect((await native().apiRequest(p, Buffer.from('b'), [f])).toString()).toBe('ok');
      expect((await native().apiRequest(p, Buffer.from('c'), [fd, f])).toString()).toBe('ok');
      expect((await native().apiRequest(p, Buffer.from('d'), [])).toString()).toBe('ok');
    } finally {
      fs.closeSync(f);
    }
    const [a, b, two, none] = evs;
    expect(a.info).toHaveLength(120);
    const id = decodeIdentity(a.info!, false);
    expect(id).toMatchObject({ cookie: native().socketCookie(fd), family: 10, type: 1, protocol: 6, connected: true, listening: false });
    expect(id.local!.address).toBe('::1');
    expect(id.peer!.port).toBe((srv.address() as net.AddressInfo).port);
    expect(prefetchedPolicy(a.info!)).toBeUndefined(); // no setSockMap: not read
    expect(b.info).toBeUndefined();
    expect(b.infoErrno).toBe('ENOTSOCK');
    expect(b.infoError).toMatch(/^ENOTSOCK: .*getsockopt 'SO_COOKIE'/);
    expect(two.info).toBeUndefined();
    expect(two.infoErrno).toBeUndefined();
    expect(none.info).toBeUndefined();
    expect(open).toEqual([false, false, false, false]);
    // Not a BPF map: refused with the syscall's error; a gone connection: ENOTCONN, fds closed anyway.
    expect(() => l.setSockMap(0)).toThrow(expect.objectContaining({ syscall: 'bpf_obj_get_info_by_fd' }));
    const g = fs.openSync('/dev/null', 'r');
    expect(() => l.reply(12345, Buffer.from('x'), [g])).toThrow(expect.objectContaining({ code: 'ENOTCONN' }));
    expect(() => fs.fstatSync(g)).toThrow(expect.objectContaining({ code: 'EBADF' }));
    c.destroy();
    srv.close();
    l.close();
  });

  it('apiRequest times out on a silent server and fails to connect to nobody', async () => {
    const p = path.join(dir, 'l4.sock');
    const l = new (native().ApiListener)({ path: p }, () => {});
    await expect(native().apiRequest(p, Buffer.from('x'), [], 100)).rejects.toMatchObject({ code: 'ETIMEDOUT' });
    l.close();
    await expect(native().apiRequest(p, Buffer.from('x'), [], 100)).rejects.toMatchObject({ code: 'ENOENT', syscall: 'connect' });
  });
});

describe('API server under random frames', () => {
  it('answers every one with an errno, never throws, keeps no fd', async () => {
    const backend = new FakeBackend();
    const server = new ApiServer({ backend, path: path.join(dir, 'fuzz.sock') });
    await server.listen();
    const fdsBefore = fs.readdirSync('/proc/self/fd').length;
    const f = fs.openSync('/dev/null', 'r');
    let seed = 42;
    const rnd = (n: number) => { seed = (seed * 1103515245 + 12345) >>> 0; return seed % n; };
    const valid = encodeFrame({ type: MsgType.GETSOCKOPT, flags: Flag.REQUEST, seq: 9, attrs: [u32(Attr.LEVEL, 6316), u32(Attr.OPTNAME, 1), u32(Attr.OPTLEN, 4)] });
    for (let i = 0; i < 300; i++) {
      let b: Buffer;
      if (i % 3 === 0) b = Buffer.from(Array.from({ length: rnd(64) + 1 }, () => rnd(256)));
      else {
        b = Buffer.from(valid);
        for (let k = 0; k < 1 + rnd(4); k++) b[rnd(b.length)] = rnd(256);
      }
      const r = decodeFrame(await native().apiRequest(server.path, b, i % 2 ? [f] : []));
      expect(r.ok).toBe(true);
      if (r.ok) expect(getU32(r.frame, Attr.ERRNO)).toBeTypeOf('number');
    }
    fs.closeSync(f);
    expect(server.counters.requests).toBe(300);
    await server.close();
    expect(fs.readdirSync('/proc/self/fd').length).toBeLessThanOrEqual(fdsBefore);
  });
});
