// RFC 6316 Table 2: the SOL_SHIM ancillary data of sendmsg() and recvmsg().
//
// Send side (SENDMSG, sent by libshim6 before the datagram leaves without its
// SOL_SHIM cmsgs):
//   SHIM_FEEDBACK         → ApiBackend.feedback (§7.3); indicator 0 is not processed
//   SHIM_LOC_LOCAL_SEND / SHIM_LOC_PEER_SEND (one sockaddr_in6 each, DESIGN.md)
//                         → checked as the options are (§7.2: only a verified peer
//                           locator), then pinned in the socket's policy for one
//                           datagram: the reply carries ONESHOT, the caller sends
//                           the datagram, then SENDMSG_DONE puts the previous pins
//                           back. Datagram sockets only (§7.4: a stream has no
//                           datagram to pin; use the SHIM_LOC_*_SEND options).
// Receive side (RECVMSG, sent by libshim6 after recvmsg() returned data on a
// socket that enabled SHIM_LOC_*_RECV):
//   SHIM_LOC_LOCAL_RECV / SHIM_LOC_PEER_RECV → one sockaddr_in6 each: the pair
//   the context's latest packet arrived on (the latest locators, §7.4, for
//   datagrams too), zero-filled without a context (§7.1).
// Applicable to connected sockets only (§7.4: EOPNOTSUPP); ENOENT without a
// context on the send side.
import type { ApiBackend, ApiContext, Feedback, SocketPolicy, SocketRef } from './backend.js';
import { Attr, decodeAttrs, getU32, type FrameAttr } from './frame.js';
import * as H from './shim-h.js';
import { decodeFeedback } from './structs.js';
import { checkLocal, checkPeer, type Call, type OptionResult } from './options.js';

export interface Cmsg {
  readonly level: number;
  readonly type: number;
  readonly data: Uint8Array;
}

/** The CMSG attributes of a SENDMSG request, or null when one is malformed. */
export function cmsgsOf(attrs: readonly FrameAttr[]): Cmsg[] | null {
  const out: Cmsg[] = [];
  for (const a of attrs) {
    if (a.type !== Attr.CMSG) continue;
    const inner = decodeAttrs(a.value);
    if (!inner) return null;
    const f = { type: 0, flags: 0, seq: 0, attrs: inner };
    const level = getU32(f, Attr.CMSG_LEVEL);
    const type = getU32(f, Attr.CMSG_TYPE);
    const data = inner.find((x) => x.type === Attr.CMSG_DATA)?.value;
    if (typeof level !== 'number' || typeof type !== 'number' || !data) return null;
    out.push({ level, type, data });
  }
  return out;
}

const DIRECTION = ['outbound', 'inbound'] as const;
const INDICATOR = [null, 'unable', 'unsatisfactory', 'satisfactory'] as const;

const SOCKADDR_IN6 = 28;
const SOCKADDR_IN = 16;
const SOCK_STREAM = 1;

/** struct sockaddr_in6 (family in host order, port/flowinfo/scope zero) of a locator; zero-filled for null. */
export function encodeSockaddrIn6(addr: Uint8Array | null): Uint8Array {
  const out = new Uint8Array(SOCKADDR_IN6);
  if (!addr) return out;
  new DataView(out.buffer).setUint16(0, H.AF_INET6, true);
  out.set(addr.subarray(0, 16), 8);
  return out;
}

type SendErr = { errno: H.ErrnoName; message: string };

/** The address of a SHIM_LOC_*_SEND cmsg (one sockaddr_in6), null when zero-filled (no override), or an error. */
function sendAddr(c: Cmsg): Uint8Array | null | SendErr {
  const name = c.type === H.SHIM_LOC_LOCAL_SEND ? 'SHIM_LOC_LOCAL_SEND' : 'SHIM_LOC_PEER_SEND';
  if (c.data.length >= 2 && c.data.every((b) => b === 0)) return null;
  const family = c.data.length >= 2 ? new DataView(c.data.buffer, c.data.byteOffset, c.data.length).getUint16(0, true) : -1;
  if (family === H.AF_INET && c.data.length >= SOCKADDR_IN) return { errno: 'EINVALIDLOCATOR', message: `${name}: Shim6 has no IPv4 locators` };
  if (family !== H.AF_INET6 || c.data.length < SOCKADDR_IN6) {
    return { errno: 'EINVAL', message: `${name} takes one sockaddr_in6 (${SOCKADDR_IN6} bytes), not ${c.data.length} bytes of family ${family}` };
  }
  return new Uint8Array(c.data.subarray(8, 24));
}

/** Where one-shot pins wait for SENDMSG_DONE: the pins they replaced, by socket cookie. */
export type OneShotTable = Map<bigint, Pick<SocketPolicy, 'sendLocal' | 'sendPeer'>>;

export interface SendmsgResult {
  readonly result: OptionResult;
  /** Pins were installed for one datagram: the caller must send SENDMSG_DONE after it. */
  readonly oneShot?: boolean;
}

export async function handleSendmsg(backend: ApiBackend, sock: SocketRef, cmsgs: readonly Cmsg[], oneShots?: OneShotTable): Promise<SendmsgResult> {
  const no = (errno: H.ErrnoName, message: string): SendmsgResult => ({ result: { ok: false, errno, message: `sendmsg: ${message}` } });
  if (cmsgs.length === 0) return no('EINVAL', 'no SOL_SHIM ancillary data');
  if (sock.family !== H.AF_INET6 && sock.family !== H.AF_INET) return no('EOPNOTSUPP', 'not an IPv4 or IPv6 socket');
  const feedback: Feedback[] = [];
  let local: Uint8Array | null = null;
  let peer: Uint8Array | null = null;
  let pins = false;
  for (const c of cmsgs) {
    if (c.level !== H.SOL_SHIM) return no('EINVAL', `cmsg_level ${c.level} is not SOL_SHIM`);
    if (c.type === H.SHIM_FEEDBACK) {
      if (c.data.length < H.ShimFeedbackLayout.size) return no('EINVAL', `SHIM_FEEDBACK takes ${H.ShimFeedbackLayout.size} bytes, not ${c.data.length}`);
      const fb = decodeFeedback(c.data);
      if (fb.direction > 1 || fb.indicator > 3) return no('EINVAL', `bad shim_feedback (direction ${fb.direction}, indicator ${fb.indicator})`);
      const indicator = INDICATOR[fb.indicator];
      // §8.3: indicator 0 (default) MUST NOT be processed; fb_reserved is ignored.
      if (indicator) feedback.push({ direction: DIRECTION[fb.direction], indicator });
    } else if (c.type === H.SHIM_LOC_LOCAL_SEND || c.type === H.SHIM_LOC_PEER_SEND) {
      const a = sendAddr(c);
      if (a && 'errno' in a) return no(a.errno, a.message);
      if (c.type === H.SHIM_LOC_LOCAL_SEND) local = a;
      else peer = a;
      pins = true;
    } else {
      return no('EINVAL', `cmsg_type ${c.type} is not a sendmsg() type of Table 2`);
    }
  }
  if (!sock.connected) return no('EOPNOTSUPP', 'shim ancillary data needs a connected socket');
  if (pins && sock.type === SOCK_STREAM) return no('EOPNOTSUPP', 'SHIM_LOC_*_SEND ancillary data applies to one datagram: use the SHIM_LOC_*_SEND options on a stream socket');
  try {
    const policy = await backend.socketPolicy(sock);
    if (policy.dontShim) return no('ENOENT', 'no shim context is associated with the socket');
    const ctx = await backend.lookupContext(sock);
    if (!ctx) return no('ENOENT', 'no shim context is associated with the socket');
    if (feedback.length > 0 && !backend.feedback) return no('EOPNOTSUPP', 'this agent takes no feedback');
    let oneShot = false;
    if (local || peer) {
      const call: Call = {
        backend, sock, policy: async () => policy, ctx: async () => ctx, ctxOrNull: async () => ctx,
      };
      // §7.2: override only with a verified pair; unknown → EINVALIDLOCATOR.
      if (local) await checkLocal(call, ctx, local);
      if (peer) await checkPeer(call, ctx, peer, false);
      if (!oneShots) return no('EOPNOTSUPP', 'per-datagram locators need a server that can restore the socket policy');
      // A second SENDMSG before the DONE of the first keeps the first's saved pins.
      if (!oneShots.has(sock.cookie)) oneShots.set(sock.cookie, { sendLocal: policy.sendLocal, sendPeer: policy.sendPeer });
      await backend.setSocketPolicy(sock, { ...policy, sendLocal: local ?? policy.sendLocal, sendPeer: peer ?? policy.sendPeer });
      oneShot = true;
    }
    for (const fb of feedback) await backend.feedback!(ctx, fb);
    return { result: { ok: true }, oneShot };
  } catch (err) {
    const e = err as { errno?: H.ErrnoName; message?: string };
    if (err instanceof Error && err.name === 'ApiError' && e.errno) return no(e.errno, e.message ?? e.errno);
    return { result: { ok: false, errno: 'EIO', message: `sendmsg: ${e?.message ?? String(err)}`, cause: err } };
  }
}

/** SENDMSG_DONE: the datagram has left; put back the pins the one-shot replaced. */
export async function handleSendmsgDone(backend: ApiBackend, sock: SocketRef, oneShots: OneShotTable): Promise<OptionResult> {
  const saved = oneShots.get(sock.cookie);
  if (!saved) return { ok: false, errno: 'ENOENT', message: 'sendmsg: no per-datagram locators pending on this socket' };
  oneShots.delete(sock.cookie);
  try {
    const policy = await backend.socketPolicy(sock);
    await backend.setSocketPolicy(sock, { ...policy, ...saved });
    return { ok: true };
  } catch (err) {
    const e = err as { errno?: H.ErrnoName; message?: string };
    if (err instanceof Error && err.name === 'ApiError' && e.errno) return { ok: false, errno: e.errno, message: `sendmsg: ${e.message}` };
    return { ok: false, errno: 'EIO', message: `sendmsg: ${e?.message ?? String(err)}`, cause: err };
  }
}

export const RECV_LOCAL = 1;
export const RECV_PEER = 2;

/**
 * RECVMSG: the SHIM_LOC_*_RECV cmsgs for the data just received on a socket:
 * those `want` names (absent: the ones the socket enabled), each one
 * sockaddr_in6, zero-filled without a context (§7.1).
 */
export async function handleRecvmsg(backend: ApiBackend, sock: SocketRef, want?: number): Promise<{ ok: true; cmsgs: Cmsg[] } | Extract<OptionResult, { ok: false }>> {
  const no = (errno: H.ErrnoName, message: string) => ({ ok: false as const, errno, message: `recvmsg: ${message}` });
  if (sock.family !== H.AF_INET6 && sock.family !== H.AF_INET) return no('EOPNOTSUPP', 'not an IPv4 or IPv6 socket');
  if (want !== undefined && (want & ~(RECV_LOCAL | RECV_PEER)) !== 0) return no('EINVAL', `RECV_WANT ${want}`);
  if (!sock.connected) return no('EOPNOTSUPP', 'shim ancillary data needs a connected socket');
  try {
    const policy = await backend.socketPolicy(sock);
    const w = want ?? ((policy.recvLocal ? RECV_LOCAL : 0) | (policy.recvPeer ? RECV_PEER : 0));
    if (w === 0) return { ok: true, cmsgs: [] };
    const ctx: ApiContext | null = policy.dontShim ? null : await backend.lookupContext(sock);
    let pair: { local: Uint8Array | null; peer: Uint8Array | null } = { local: null, peer: null };
    if (ctx) pair = backend.receivedLocators ? await backend.receivedLocators(ctx) : { local: ctx.ulidLocal, peer: ctx.ulidPeer };
    const cmsgs: Cmsg[] = [];
    if (w & RECV_LOCAL) cmsgs.push({ level: H.SOL_SHIM, type: H.SHIM_LOC_LOCAL_RECV, data: encodeSockaddrIn6(pair.local) });
    if (w & RECV_PEER) cmsgs.push({ level: H.SOL_SHIM, type: H.SHIM_LOC_PEER_RECV, data: encodeSockaddrIn6(pair.peer) });
    return { ok: true, cmsgs };
  } catch (err) {
    const e = err as { errno?: H.ErrnoName; message?: string };
    if (err instanceof Error && err.name === 'ApiError' && e.errno) return no(e.errno, e.message ?? e.errno);
    return { ok: false, errno: 'EIO', message: `recvmsg: ${e?.message ?? String(err)}`, cause: err };
  }
}
