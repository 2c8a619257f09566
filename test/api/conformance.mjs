// RFC 6316 conformance through the TypeScript client (dist/src/client)
// against a real agent: the twin of shim6_conformance.c, with the same ids
// (R1..R15: SPEC-DIGEST §1.8; M-<option>-<column>: its §1.3 error matrix)
// and the same "step" protocol. Checks the typed client cannot express (a
// value that is not binary, a bad lc_proto, pe_reserved ≠ 0, a short buffer)
// go through the client's own transport as raw frames.
//
//   node conformance.mjs PEER_ULID LOCAL_ULID TCP_PORT UDP_PORT PEER_LOC2 LOCAL_LOC2 LOCAL_NOT_HBA
import dgram from 'node:dgram';
import net from 'node:net';
import readline from 'node:readline';
import { ShimClient, socketFd } from '../../dist/src/client/index.js';
import { request } from '../../dist/src/client/transport.js';
import { Attr, MsgType, bytes, findAttr, nested, u32 } from '../../dist/src/api/frame.js';
import * as H from '../../dist/src/api/shim-h.js';
import { encodeLocator, encodePathexplore, ZERO_LOCATOR } from '../../dist/src/api/structs.js';
import { parseIpv6 } from '../../dist/src/wire/addr.js';

const [peer, local, tcpPort, udpPort, peer2, local2, notHba] = process.argv.slice(2);
const c = new ShimClient();
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
const lines = readline.createInterface({ input: process.stdin })[Symbol.asyncIterator]();
let n = 0;
let failures = 0;
const check = (id, ok, text) => {
  n++;
  if (!ok) failures++;
  process.stdout.write(`${ok ? 'ok' : 'not ok'} ${n} - [${id}] ${text}\n`);
};
const step = async (name) => {
  process.stdout.write(`step ${name}\n`);
  await lines.next();
};
/** The errno name a call fails with, or 'ok'. */
const err = async (f) => { try { await f(); return 'ok'; } catch (e) { return e.code; } };
/** A raw request with the socket passed: the errno name (0 = success) and the frame. */
const raw = async (type, attrs, sock) => {
  const r = await request(type, attrs, [socketFd(sock)]);
  return { errno: r.errno === 0 ? 'ok' : r.errno, frame: r.frame };
};
const rawSet = (sock, opt, val) => raw(MsgType.SETSOCKOPT, [u32(Attr.LEVEL, H.SOL_SHIM), u32(Attr.OPTNAME, opt), bytes(Attr.OPTVAL, val)], sock);
const rawGet = (sock, opt, optlen, level = H.SOL_SHIM) => raw(MsgType.GETSOCKOPT, [u32(Attr.LEVEL, level), u32(Attr.OPTNAME, opt), u32(Attr.OPTLEN, optlen)], sock);
const int = (v) => { const b = new Uint8Array(4); new DataView(b.buffer).setInt32(0, v, true); return b; };
const loc = (address, f = {}) => encodeLocator({ ...ZERO_LOCATOR, family: H.AF_INET6, addr: parseIpv6(address), ...f });
const cmsg = (type, data) => nested(Attr.CMSG, [u32(Attr.CMSG_LEVEL, H.SOL_SHIM), u32(Attr.CMSG_TYPE, type), bytes(Attr.CMSG_DATA, data)]);

// Sockets: TCP with a context, UDP with one, UDP unconnected, UDP with SHIM_DONTSHIM (no context).
const tcp = await new Promise((res, rej) => { const s = net.connect({ host: peer, port: Number(tcpPort), localAddress: local }, () => res(s)); s.on('error', rej); });
let echoed = 0;
tcp.on('data', (d) => { echoed += d.length; });
const udp = dgram.createSocket('udp6');
await new Promise((r) => udp.bind(0, local, r));
await new Promise((r) => udp.connect(Number(udpPort), peer, r));
udp.on('message', () => {});
const unc = dgram.createSocket('udp6');
await new Promise((r) => unc.bind(0, local, r));
const noctx = dgram.createSocket('udp6');
await new Promise((r) => noctx.bind(0, local, r));
check('R3', (await err(() => c.setsockopt(noctx, 'SHIM_DONTSHIM', true))) === 'ok', 'SHIM_DONTSHIM = 1 before connect() is allowed');
await new Promise((r) => noctx.connect(Number(udpPort), peer, r));
for (let i = 0; i < 100 && (await c.getsockopt(tcp, 'SHIM_ASSOCIATED')) !== 1; i++) { tcp.write('x'); await sleep(50); }

// R2, SHIM_ASSOCIATED row.
check('R2', (await c.getsockopt(tcp, 'SHIM_ASSOCIATED')) === 1, 'SHIM_ASSOCIATED with a context: 1');
check('R2', (await c.getsockopt(noctx, 'SHIM_ASSOCIATED')) === 0, 'SHIM_ASSOCIATED without a context: 0');
check('M-ASSOCIATED-uncon', (await c.getsockopt(unc, 'SHIM_ASSOCIATED')) === 2, 'SHIM_ASSOCIATED unconnected: 2');
check('M-ASSOCIATED-noctx', (await c.getsockopt(noctx, 'SHIM_ASSOCIATED')) === 0, 'SHIM_ASSOCIATED without a context: 0, not ENOENT');
check('M-ASSOCIATED-other', (await rawSet(tcp, H.SHIM_ASSOCIATED, int(1))).errno === 'ENOPROTOOPT', 'SHIM_ASSOCIATED is read-only: ENOPROTOOPT');

// R3, SHIM_DONTSHIM row.
check('M-DONTSHIM-uncon', (await err(() => c.setsockopt(unc, 'SHIM_DONTSHIM', false))) === 'ok' && (await c.getsockopt(unc, 'SHIM_DONTSHIM')) === false, 'SHIM_DONTSHIM on an unconnected socket: allowed');
check('R3', (await err(() => c.setsockopt(tcp, 'SHIM_DONTSHIM', true))) === 'EOPNOTSUPP', 'SHIM_DONTSHIM = 1 on a connected socket: EOPNOTSUPP');
check('M-DONTSHIM-other', (await err(() => c.setsockopt(udp, 'SHIM_DONTSHIM', true))) === 'EOPNOTSUPP' && (await c.getsockopt(udp, 'SHIM_DONTSHIM')) === false, 'SHIM_DONTSHIM refused after connect, still 0');
check('M-DONTSHIM-noctx', (await c.getsockopt(noctx, 'SHIM_DONTSHIM')) === true, 'SHIM_DONTSHIM readable without a context');

// Every other option: EOPNOTSUPP unconnected, ENOENT without a context.
const values = {
  SHIM_HOT_STANDBY: true, SHIM_LOC_LOCAL_PREF: { address: local }, SHIM_LOC_PEER_PREF: { address: peer }, SHIM_LOC_LOCAL_RECV: true,
  SHIM_LOC_PEER_RECV: true, SHIM_LOC_LOCAL_SEND: { address: local }, SHIM_LOC_PEER_SEND: { address: peer }, SHIM_LOCLIST_LOCAL: [{ address: local }],
  SHIM_LOCLIST_PEER: [{ address: peer }], SHIM_APP_TIMEOUT: 1, SHIM_PATHEXPLORE: {},
};
for (const opt of [...Object.keys(values), 'SHIM_CONTEXT_DEFERRED_SETUP']) {
  const name = opt === 'SHIM_CONTEXT_DEFERRED_SETUP' ? 'DEFERRED_SETUP' : opt.slice(5);
  check(`M-${name}-uncon`, (await err(() => c.getsockopt(unc, opt))) === 'EOPNOTSUPP', `get ${opt} unconnected: EOPNOTSUPP`);
  if (!(opt in values)) continue;
  check(`M-${name}-uncon`, (await err(() => c.setsockopt(unc, opt, values[opt]))) === 'EOPNOTSUPP', `set ${opt} unconnected: EOPNOTSUPP`);
  check(`M-${name}-noctx`, (await err(() => c.getsockopt(noctx, opt))) === 'ENOENT', `get ${opt} without a context: ENOENT`);
  check(`M-${name}-noctx`, (await err(() => c.setsockopt(noctx, opt, values[opt]))) === 'ENOENT', `set ${opt} without a context: ENOENT`);
}
// R4.
check('M-DEFERRED_SETUP-noctx', (await c.getsockopt(noctx, 'SHIM_CONTEXT_DEFERRED_SETUP')) === true, 'SHIM_DEFERRED_CONTEXT_SETUP without a context: 1');
const deferred = findAttr((await rawGet(tcp, H.SHIM_DEFERRED_CONTEXT_SETUP, 4)).frame, Attr.OPTVAL);
check('R4', deferred?.length === 4 && new DataView(deferred.buffer, deferred.byteOffset, 4).getInt32(0, true) === 1 && (await c.getsockopt(tcp, 'SHIM_CONTEXT_DEFERRED_SETUP')) === true, 'SHIM_DEFERRED_CONTEXT_SETUP is binary: 1');
check('R4', (await rawSet(tcp, H.SHIM_LOC_LOCAL_RECV, int(2))).errno === 'EINVAL' && (await rawSet(tcp, H.SHIM_LOC_PEER_RECV, int(-1))).errno === 'EINVAL', 'SHIM_LOC_*_RECV must be binary: 2, -1 → EINVAL');
await c.setsockopt(tcp, 'SHIM_LOC_LOCAL_RECV', true);
check('M-LOC_LOCAL_RECV-other', (await c.getsockopt(tcp, 'SHIM_LOC_LOCAL_RECV')) === true, 'SHIM_LOC_LOCAL_RECV set 1, get 1');
await c.setsockopt(tcp, 'SHIM_LOC_PEER_RECV', true);
check('M-LOC_PEER_RECV-other', (await c.getsockopt(tcp, 'SHIM_LOC_PEER_RECV')) === true, 'SHIM_LOC_PEER_RECV set 1, get 1');
await c.setsockopt(tcp, 'SHIM_HOT_STANDBY', true);
check('M-HOT_STANDBY-other', (await c.getsockopt(tcp, 'SHIM_HOT_STANDBY')) === true, 'SHIM_HOT_STANDBY set 1, get 1');
await c.setsockopt(tcp, 'SHIM_HOT_STANDBY', false);

// R11 / R10: the latest locators; none without a context.
const e0 = echoed;
tcp.write('y');
for (let i = 0; i < 50 && echoed === e0; i++) await sleep(20);
const rl = await c.receivedLocators(tcp);
check('R11', rl.local === local && rl.peer === peer, `TCP: the latest received locators (${rl.local}, ${rl.peer})`);
const z = await c.receivedLocators(noctx);
check('R10', z.local === null && z.peer === null, 'no context: zero-filled locators');
const rr = await raw(MsgType.RECVMSG, [u32(Attr.RECV_WANT, 3)], tcp);
check('R1', rr.errno === 'ok' && rr.frame.attrs.filter((a) => a.type === Attr.CMSG).length === 2, 'RECVMSG answers SOL_SHIM cmsgs');

// R1: the level must be SOL_SHIM.
check('R1', (await rawGet(tcp, H.SHIM_ASSOCIATED, 4, 1)).errno === 'ENOPROTOOPT', 'a request at level SOL_SOCKET: ENOPROTOOPT');
check('R1', (await raw(MsgType.SENDMSG, [nested(Attr.CMSG, [u32(Attr.CMSG_LEVEL, 41), u32(Attr.CMSG_TYPE, H.SHIM_FEEDBACK), bytes(Attr.CMSG_DATA, new Uint8Array(4))])], udp)).errno === 'EINVAL',
  'a cmsg at another level: EINVAL');

// R5 / R15.
const peers = await c.getsockopt(tcp, 'SHIM_LOCLIST_PEER');
check('R5', peers.length >= 2, `SHIM_LOCLIST_PEER get: an array (${peers.length})`);
const short = await rawGet(tcp, H.SHIM_LOCLIST_PEER, 32);
check('R5', short.errno === 'ETOOMANYLOCATORS', 'SHIM_LOCLIST_PEER get into a one-locator buffer: ETOOMANYLOCATORS');
check('M-LOCLIST_PEER-ETOOMANYLOCATORS', short.errno === 'ETOOMANYLOCATORS', 'small get buffer → ETOOMANYLOCATORS');
check('M-LOCLIST_LOCAL-other', (await c.getsockopt(tcp, 'SHIM_LOCLIST_LOCAL')).length >= 2, 'SHIM_LOCLIST_LOCAL get: Ls(local)');
check('M-LOCLIST_LOCAL-ETOOMANYLOCATORS', (await rawGet(tcp, H.SHIM_LOCLIST_LOCAL, 32)).errno === 'ETOOMANYLOCATORS', 'SHIM_LOCLIST_LOCAL get into a one-locator buffer: ETOOMANYLOCATORS');
check('R5', (await rawSet(tcp, H.SHIM_LOCLIST_PEER, new Uint8Array(33))).errno === 'EINVAL', 'SHIM_LOCLIST_* set: not an array of shim_locator → EINVAL');
check('R15', H.SHIM_MAX_LOCATORS === 32, 'SHIM_MAX_LOCATORS is 32');
const many = (k) => Array.from({ length: k }, (_, i) => ({ address: `2001:db8:ff::${(i + 1).toString(16)}` }));
check('R15', (await err(() => c.setsockopt(tcp, 'SHIM_LOCLIST_PEER', many(33)))) === 'ETOOMANYLOCATORS', '33 locators: ETOOMANYLOCATORS');
check('M-LOCLIST_PEER-ETOOMANYLOCATORS', (await err(() => c.setsockopt(tcp, 'SHIM_LOCLIST_PEER', many(33)))) === 'ETOOMANYLOCATORS', 'LOCLIST_PEER set of 33 → ETOOMANYLOCATORS');
check('M-LOCLIST_LOCAL-ETOOMANYLOCATORS', (await err(() => c.setsockopt(tcp, 'SHIM_LOCLIST_LOCAL', many(33)))) === 'ETOOMANYLOCATORS', 'LOCLIST_LOCAL set of 33 → ETOOMANYLOCATORS');
check('R15', (await err(() => c.setsockopt(tcp, 'SHIM_LOCLIST_PEER', many(32)))) === 'EINVALIDLOCATOR', '32 locators: the size is accepted (then EINVALIDLOCATOR)');

// R6.
check('R6', peers.some((p) => p.address === peer && p.family === 'IPv6'), 'lc_addr in network order, lc_family AF_INET6 (the peer ULID parses back)');
check('R6', (await rawSet(tcp, H.SHIM_LOC_PEER_PREF, loc(peer2, { proto: 6 }))).errno === 'EINVAL', 'lc_proto neither 0 nor IPPROTO_UDP: EINVAL');
check('R6', (await rawSet(tcp, H.SHIM_LOC_PEER_PREF, loc(peer2, { family: 0 }))).errno === 'EINVAL', 'lc_family 0: EINVAL');
check('R6', (await rawSet(tcp, H.SHIM_LOC_PEER_PREF, loc(peer2, { family: H.AF_INET }))).errno === 'EINVAL', 'AF_INET locator not IPv4-mapped: EINVAL');
check('R6', (await err(() => c.setsockopt(tcp, 'SHIM_LOC_PEER_PREF', { address: '192.0.2.1' }))) === 'EINVALIDLOCATOR', 'AF_INET IPv4-mapped locator: EINVALIDLOCATOR for Shim6');
check('R6', (await rawSet(tcp, H.SHIM_LOC_LOCAL_SEND, loc(local2, { proto: 17 }))).errno === 'EINVALIDLOCATOR', 'lc_proto IPPROTO_UDP (NAT): EINVALIDLOCATOR for Shim6');

// R7.
check('R7', (await rawSet(tcp, H.SHIM_PATHEXPLORE, encodePathexplore({ probenum: 4, keepaliveto: 10, keepaliveint: 0, initprobeto: 500, reserved: 1 }))).errno === 'EINVAL', 'pe_reserved not zero: EINVAL');
await c.setsockopt(tcp, 'SHIM_PATHEXPLORE', { probes: 4, keepaliveTimeoutS: 10, initialProbeTimeoutMs: 500 });
const pe = await c.getsockopt(tcp, 'SHIM_PATHEXPLORE');
check('R7', pe.probes === 4 && pe.keepaliveTimeoutS === 10 && pe.initialProbeTimeoutMs === 500, `PATHEXPLORE {4, 10 s, 500 ms} read back (${JSON.stringify(pe)})`);
check('M-PATHEXPLORE-other', pe.keepaliveIntervalS > 0 && pe.keepaliveIntervalS < pe.keepaliveTimeoutS, 'pe_keepaliveint below pe_keepaliveto');
check('M-APP_TIMEOUT-other', (await c.getsockopt(tcp, 'SHIM_APP_TIMEOUT')) === 10, 'SHIM_APP_TIMEOUT follows pe_keepaliveto');
await c.setsockopt(tcp, 'SHIM_APP_TIMEOUT', 0);
check('M-APP_TIMEOUT-other', (await c.getsockopt(tcp, 'SHIM_APP_TIMEOUT')) === 0, 'SHIM_APP_TIMEOUT 0: REAP default again');

// R13 / R14.
const unknownLocal = '2001:db8:77::1', unknownPeer = '2001:db8:ff::99';
check('R13', (await err(() => c.setsockopt(tcp, 'SHIM_LOC_LOCAL_SEND', { address: unknownLocal }))) === 'EINVALIDLOCATOR', 'LOC_LOCAL_SEND of an address on no interface: EINVALIDLOCATOR');
check('M-LOC_LOCAL_SEND-EINVALIDLOCATOR', (await err(() => c.setsockopt(tcp, 'SHIM_LOC_LOCAL_SEND', { address: unknownLocal }))) === 'EINVALIDLOCATOR', 'LOC_LOCAL_SEND unknown → EINVALIDLOCATOR');
check('M-LOC_LOCAL_PREF-EINVALIDLOCATOR', (await err(() => c.setsockopt(tcp, 'SHIM_LOC_LOCAL_PREF', { address: unknownLocal }))) === 'EINVALIDLOCATOR', 'LOC_LOCAL_PREF unknown → EINVALIDLOCATOR');
check('M-LOCLIST_LOCAL-EINVALIDLOCATOR', (await err(() => c.setsockopt(tcp, 'SHIM_LOCLIST_LOCAL', [{ address: unknownLocal }]))) === 'EINVALIDLOCATOR', 'LOCLIST_LOCAL with an unknown locator → EINVALIDLOCATOR');
check('R13', (await err(() => c.setsockopt(tcp, 'SHIM_LOC_LOCAL_PREF', { address: notHba }))) === 'EINVALIDLOCATOR', 'a host address outside the HBA set: EINVALIDLOCATOR');
check('R14', (await err(() => c.setsockopt(tcp, 'SHIM_LOC_PEER_PREF', { address: unknownPeer }))) === 'EINVALIDLOCATOR', 'LOC_PEER_PREF of an unknown destination: EINVALIDLOCATOR');
check('M-LOC_PEER_PREF-EINVALIDLOCATOR', (await err(() => c.setsockopt(tcp, 'SHIM_LOC_PEER_PREF', { address: unknownPeer }))) === 'EINVALIDLOCATOR', 'LOC_PEER_PREF unknown → EINVALIDLOCATOR');
check('M-LOC_PEER_SEND-EINVALIDLOCATOR', (await err(() => c.setsockopt(tcp, 'SHIM_LOC_PEER_SEND', { address: unknownPeer }))) === 'EINVALIDLOCATOR', 'LOC_PEER_SEND unknown → EINVALIDLOCATOR');
check('M-LOCLIST_PEER-EINVALIDLOCATOR', (await err(() => c.setsockopt(tcp, 'SHIM_LOCLIST_PEER', [{ address: unknownPeer }]))) === 'EINVALIDLOCATOR', 'LOCLIST_PEER unknown → EINVALIDLOCATOR');
check('R14', (await err(() => c.sendmsg(udp, { peer: unknownPeer }, Buffer.from('x')))) === 'EINVALIDLOCATOR', 'sendmsg SHIM_LOC_PEER_SEND of an unknown locator: EINVALIDLOCATOR');

// Table 2 send side.
const fbUnable = { feedback: { direction: 'outbound', indicator: 'unable' } };
check('M-SENDMSG-uncon', (await err(() => c.sendmsg(unc, fbUnable))) === 'EOPNOTSUPP', 'sendmsg SOL_SHIM cmsg unconnected: EOPNOTSUPP');
check('M-SENDMSG-noctx', (await err(() => c.sendmsg(noctx, fbUnable))) === 'ENOENT', 'sendmsg SHIM_FEEDBACK without a context: ENOENT');
check('M-SENDMSG-noctx', (await err(() => c.sendmsg(noctx, { peer: peer2 }, Buffer.from('x')))) === 'ENOENT', 'sendmsg SHIM_LOC_PEER_SEND without a context: ENOENT');
check('M-SENDMSG-other', (await err(() => c.sendmsg(udp, { peer: peer2 }, Buffer.from('x')))) === 'ok', 'sendmsg SHIM_LOC_PEER_SEND of a verified locator: sent');

// R12: application beats peer.
await c.setsockopt(tcp, 'SHIM_LOC_PEER_PREF', { address: peer2, priority: 7, weight: 3 });
check('M-LOC_PEER_PREF-other', true, 'LOC_PEER_PREF of a known locator');
const p2 = (await c.getsockopt(tcp, 'SHIM_LOCLIST_PEER')).find((p) => p.address === peer2);
check('R12', p2?.priority === 7 && p2?.weight === 3, 'application preferences supersede the peer\'s (Ls(peer) shows prio 7 weight 3)');
await c.setsockopt(tcp, 'SHIM_LOC_PEER_PREF', { address: peer, priority: 0, weight: 500 });
const best = await c.getsockopt(tcp, 'SHIM_LOC_PEER_PREF');
check('M-LOC_PEER_PREF-other', best?.address === peer && best?.weight === 500, 'LOC_PEER_PREF get: the most preferred peer locator');
check('M-LOC_LOCAL_PREF-other', (await err(() => c.setsockopt(tcp, 'SHIM_LOC_LOCAL_PREF', { address: local, weight: 500 }))) === 'ok', 'LOC_LOCAL_PREF of Ls(local)');

// R9.
await c.setsockopt(tcp, 'SHIM_LOC_PEER_SEND', { address: peer2 });
check('R9', (await c.getsockopt(tcp, 'SHIM_LOC_PEER_SEND'))?.address === peer2, 'SHIM_LOC_PEER_SEND set, read back');
await c.setsockopt(tcp, 'SHIM_LOC_PEER_SEND', null);
check('R9', (await c.getsockopt(tcp, 'SHIM_LOC_PEER_SEND')) === null, 'a zero-filled locator inactivates it');
check('M-LOC_PEER_SEND-other', true, 'LOC_PEER_SEND set/get/clear (above)');

// R8.
await step('fb-before');
check('R8', (await err(() => c.sendmsg(tcp, { feedback: { direction: 'outbound', indicator: 'default' } }))) === 'ok', 'SHIM_FEEDBACK indicator 0 accepted');
await step('fb-after0');
const fb = new Uint8Array([0, 1, 0xff, 0xff]);
check('R8', (await raw(MsgType.SENDMSG, [cmsg(H.SHIM_FEEDBACK, fb)], tcp)).errno === 'ok', 'SHIM_FEEDBACK indicator 1 with fb_reserved 0xffff accepted');
await step('fb-after1');

// R12: SEND supersedes PREF, on the wire.
await c.setsockopt(tcp, 'SHIM_LOC_PEER_SEND', { address: peer2 });
await c.setsockopt(tcp, 'SHIM_LOC_LOCAL_SEND', { address: local2 });
check('R12', true, 'SHIM_LOC_*_SEND pinned to path 2 while SHIM_LOC_*_PREF prefer path 1');
check('M-LOC_LOCAL_SEND-other', (await c.getsockopt(tcp, 'SHIM_LOC_LOCAL_SEND'))?.address === local2, 'LOC_LOCAL_SEND of Ls(local)');
await step('wire-start');
const chunk = Buffer.alloc(64 * 1024, 0x5a);
const start = echoed;
for (let i = 0; i < 16; i++) if (!tcp.write(chunk)) await new Promise((r) => tcp.once('drain', r));
while (echoed - start < 16 * chunk.length) await sleep(20);
check('R12', true, `${16 * chunk.length} bytes sent and echoed`);
await step(`wire-done bytes=${16 * chunk.length}`);
tcp.destroy();
udp.close();
unc.close();
noctx.close();
process.stdout.write(`step end failures=${failures} checks=${n}\n`);
process.exit(failures);
