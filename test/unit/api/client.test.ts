// The typed Node client (src/client) against the API server with a fake
// backend, on real net.Socket and dgram.Socket objects.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import dgram from 'node:dgram';
import fs from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { ApiServer } from '../../../src/api/server.js';
import { ShimClient, ShimSocketError, socketFd } from '../../../src/client/index.js';
import * as H from '../../../src/api/shim-h.js';
import { FakeBackend, ip, type FakeCtx } from './fake-backend.js';
import { native } from '../../../src/native.js';

const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'shim6-client-'));
const apiPath = path.join(dir, 'api.sock');
const backend = new FakeBackend();
const server = new ApiServer({ backend, path: apiPath });
const shim = new ShimClient({ path: apiPath });
let tcp: net.Socket, srv: net.Server, udp: dgram.Socket, udpPeer: dgram.Socket;
let ctx: FakeCtx;
const cleanup: Array<() => void> = [];

beforeAll(async () => {
  await server.listen();
  srv = net.createServer((c) => cleanup.push(() => c.destroy()));
  await new Promise<void>((r) => srv.listen(0, '::1', r));
  tcp = net.connect((srv.address() as net.AddressInfo).port, '::1');
  await new Promise<void>((r) => tcp.once('connect', () => r()));
  udpPeer = dgram.createSocket('udp6');
  await new Promise<void>((r) => udpPeer.bind(0, '::1', r));
  udp = dgram.createSocket('udp6');
  await new Promise<void>((r) => udp.bind(0, '::1', r));
  ctx = backend.context({
    ulidLocal: '::1', ulidPeer: '::1',
    local: [{ addr: '::1' }, { addr: '2001:db8:1:a::1', prio: 1, flags: 3 }],
    peer: [{ addr: '::1', prio: 3 }, { addr: '2001:db8:1:b::1', prio: 1, weight: 10 }, { addr: '2001:db8:2:b::1', reach: 'unverified' }],
  });
  backend.associate(native().socketCookie(socketFd(tcp)), ctx);
});

afterAll(async () => {
  tcp.destroy();
  srv.close();
  udp.close();
  udpPeer.close();
  for (const c of cleanup) c();
  await server.close();
  fs.rmSync(dir, { recursive: true, force: true });
});

describe('TypeScript client', () => {
  it('finds the fd of net.Socket, dgram.Socket and accepts a raw fd', () => {
    expect(socketFd(tcp)).toBeGreaterThan(2);
    expect(socketFd(udp)).toBeGreaterThan(2);
    expect(socketFd(7)).toBe(7);
    expect(() => socketFd(new net.Socket())).toThrow(TypeError);
  });

  it('reads typed values on a net.Socket with a context', async () => {
    expect(await shim.getsockopt(tcp, 'SHIM_ASSOCIATED')).toBe(1);
    expect(await shim.getsockopt(tcp, 'SHIM_DONTSHIM')).toBe(false);
    expect(await shim.getsockopt(tcp, 'SHIM_CONTEXT_DEFERRED_SETUP')).toBe(true);
    const peers = await shim.getsockopt(tcp, 'SHIM_LOCLIST_PEER');
    expect(peers.map((l) => l.address)).toEqual(['::1', '2001:db8:1:b::1', '2001:db8:2:b::1']);
    expect(peers[1]).toMatchObject({ family: 'IPv6', priority: 1, weight: 10, hba: true, cga: false });
    const locals = await shim.getsockopt(tcp, 'SHIM_LOCLIST_LOCAL');
    expect(locals[1]).toMatchObject({ address: '2001:db8:1:a::1', hba: true, cga: true, ifindex: 3 });
    expect(await shim.getsockopt(tcp, 'SHIM_LOC_PEER_SEND')).toBeNull();
    expect(await shim.getsockopt(tcp, 'SHIM_PATHEXPLORE')).toEqual({ probes: 4, keepaliveTimeoutS: 15, keepaliveIntervalS: 5, initialProbeTimeoutMs: 500 });
  });

  it('sets values, and forced locators read back as locator objects', async () => {
    await shim.setsockopt(tcp, 'SHIM_LOC_PEER_SEND', { address: '2001:db8:1:b::1' });
    expect((await shim.getsockopt(tcp, 'SHIM_LOC_PEER_SEND'))?.address).toBe('2001:db8:1:b::1');
    await shim.setsockopt(tcp, 'SHIM_LOC_PEER_SEND', null);
    expect(await shim.getsockopt(tcp, 'SHIM_LOC_PEER_SEND')).toBeNull();
    await shim.setsockopt(tcp, 'SHIM_LOC_PEER_PREF', { address: ip('2001:db8:1:b::1'), priority: 0, weight: 99 });
    expect(await shim.getsockopt(tcp, 'SHIM_LOC_PEER_PREF')).toMatchObject({ address: '2001:db8:1:b::1', priority: 0, weight: 99 });
    await shim.setsockopt(tcp, 'SHIM_APP_TIMEOUT', 20);
    expect(await shim.getsockopt(tcp, 'SHIM_APP_TIMEOUT')).toBe(20);
    await shim.setsockopt(tcp, 'SHIM_PATHEXPLORE', { probes: 3, keepaliveTimeoutS: 12 });
    expect(await shim.getsockopt(tcp, 'SHIM_PATHEXPLORE')).toMatchObject({ probes: 3, keepaliveTimeoutS: 12, keepaliveIntervalS: 5 });
    await shim.setsockopt(tcp, 'SHIM_HOT_STANDBY', true);
    expect(await shim.getsockopt(tcp, 'SHIM_HOT_STANDBY')).toBe(true);
    await shim.setsockopt(tcp, 'SHIM_LOC_PEER_RECV', true);
    expect(await shim.getsockopt(tcp, 'SHIM_LOC_PEER_RECV')).toBe(true);
    await shim.setsockopt(tcp, 'SHIM_LOCLIST_PEER', [{ address: '2001:db8:1:b::1' }, { address: '::1', priority: 2 }]);
    expect((await shim.getsockopt(tcp, 'SHIM_LOCLIST_PEER')).map((l) => [l.address, l.priority])).toEqual([['2001:db8:1:b::1', 0], ['::1', 2]]);
  });

  it('rejects with errors carrying the errno name, number and syscall', async () => {
    const e = await shim.setsockopt(tcp, 'SHIM_LOC_PEER_SEND', { address: '2001:db8:7::1' }).catch((x: unknown) => x);
    expect(e).toBeInstanceOf(ShimSocketError);
    expect(e).toMatchObject({ code: 'EINVALIDLOCATOR', errno: -H.EINVALIDLOCATOR, syscall: 'setsockopt', option: 'SHIM_LOC_PEER_SEND' });
    expect((e as Error).message).toMatch(/^EINVALIDLOCATOR: Invalid locator, setsockopt SHIM_LOC_PEER_SEND/);
    await expect(shim.setsockopt(tcp, 'SHIM_DONTSHIM', true)).rejects.toMatchObject({ code: 'EOPNOTSUPP' });
    await expect(shim.setsockopt(tcp, 'SHIM_LOC_LOCAL_SEND', { address: '192.0.2.1' })).rejects.toMatchObject({ code: 'EINVALIDLOCATOR' });
    await expect(shim.setsockopt(tcp, 'SHIM_LOC_PEER_SEND', { address: 'nonsense' })).rejects.toThrow(TypeError);
  });

  it('works on dgram sockets: unconnected, then connected', async () => {
    expect(await shim.getsockopt(udp, 'SHIM_ASSOCIATED')).toBe(2);
    await shim.setsockopt(udp, 'SHIM_DONTSHIM', true);
    expect(await shim.getsockopt(udp, 'SHIM_DONTSHIM')).toBe(true);
    await expect(shim.getsockopt(udp, 'SHIM_LOCLIST_PEER')).rejects.toMatchObject({ code: 'EOPNOTSUPP', syscall: 'getsockopt' });
    await new Promise<void>((r) => udp.connect(udpPeer.address().port, '::1', () => r()));
    expect(await shim.getsockopt(udp, 'SHIM_ASSOCIATED')).toBe(0);
    await expect(shim.getsockopt(udp, 'SHIM_HOT_STANDBY')).rejects.toMatchObject({ code: 'ENOENT' });
  });

  it('reports a missing agent as ENOPROTOOPT, as libshim6 does', async () => {
    const none = new ShimClient({ path: path.join(dir, 'nobody.sock') });
    await expect(none.getsockopt(tcp, 'SHIM_ASSOCIATED')).rejects.toMatchObject({ code: 'ENOPROTOOPT', syscall: 'getsockopt' });
  });

  it('reports ETOOMANYLOCATORS with the size needed when the list outgrows its buffer', async () => {
    for (let i = 0; i < 40; i++) ctx.peer.push({ addr: ip(`2001:db8:5::${i + 1}`), flags: 0, prio: 5, weight: 0, reach: 'verified' });
    await expect(shim.getsockopt(tcp, 'SHIM_LOCLIST_PEER')).rejects.toMatchObject({ code: 'ETOOMANYLOCATORS', needed: (ctx.peer.length) * 32 });
  });
});
