// rtnetlink codec: dump requests out, NetlinkEvents in. Pure: no sockets, no
// clock. Netlink headers and attributes are in host byte order; the codec
// reads and writes with HOST_LITTLE_ENDIAN (detected once, below), so it is
// right on big-endian hosts too.
//
// decodeMessages() never throws: every read is bounds-checked, and anything
// that does not fit becomes a { kind: 'malformed' } event.

import {
  AF_INET6,
  AF_UNSPEC,
  IFA_ADDRESS,
  IFA_CACHEINFO,
  IFA_CACHEINFO_LEN,
  IFA_F_DADFAILED,
  IFA_F_DEPRECATED,
  IFA_F_NODAD,
  IFA_F_NOPREFIXROUTE,
  IFA_F_OPTIMISTIC,
  IFA_F_PERMANENT,
  IFA_F_TEMPORARY,
  IFA_F_TENTATIVE,
  IFA_FLAGS,
  IFA_LABEL,
  IFA_LOCAL,
  IFADDRMSG_LEN,
  IFF_LOWER_UP,
  IFF_RUNNING,
  IFF_UP,
  IFINFOMSG_LEN,
  IFLA_IFNAME,
  IFLA_MTU,
  IFLA_OPERSTATE,
  NLA_TYPE_MASK,
  NLM_F_ACK_TLVS,
  NLM_F_CAPPED,
  NLM_F_DUMP,
  NLM_F_DUMP_INTR,
  NLM_F_REQUEST,
  NLMSG_ALIGNTO,
  NLMSG_DONE,
  NLMSG_ERROR,
  NLMSG_HDRLEN,
  NLMSG_NOOP,
  NLMSG_OVERRUN,
  NLMSGERR_ATTR_MSG,
  NLMSGERR_LEN,
  RTA_HDRLEN,
  RTM_DELADDR,
  RTM_DELLINK,
  RTM_GETADDR,
  RTM_GETLINK,
  RTM_NEWADDR,
  RTM_NEWLINK,
} from './consts.js';

/** True on little-endian hosts (x86, arm64): netlink is host byte order. */
export const HOST_LITTLE_ENDIAN: boolean = new Uint8Array(new Uint16Array([1]).buffer)[0] === 1;
const LE = HOST_LITTLE_ENDIAN;

/** NLMSG_ALIGN / RTA_ALIGN: round up to a multiple of 4. */
export function nlAlign(len: number): number {
  return (len + NLMSG_ALIGNTO - 1) & ~(NLMSG_ALIGNTO - 1);
}

// ---------------------------------------------------------------------------
// Events

/** An IPv6 address was added/updated ('new') or removed ('del'). */
export interface AddrEvent {
  readonly kind: 'addr';
  readonly op: 'new' | 'del';
  readonly seq: number;
  readonly ifindex: number;
  readonly prefixLen: number;
  /** ifa_scope: RT_SCOPE_UNIVERSE 0 (global), RT_SCOPE_LINK 253, RT_SCOPE_HOST 254. */
  readonly scope: number;
  /** IFA_F_* flags: the 32-bit IFA_FLAGS attribute when present, else the ifa_flags byte. */
  readonly flags: number;
  /** 16 bytes: IFA_LOCAL when present, else IFA_ADDRESS. A copy, not a view. */
  readonly address: Uint8Array;
  readonly label?: string;
  /** ifa_cacheinfo.ifa_prefered, seconds; 0xffffffff (INFINITY_LIFE_TIME) = forever. */
  readonly preferredLft?: number;
  /** ifa_cacheinfo.ifa_valid, seconds; 0xffffffff (INFINITY_LIFE_TIME) = forever. */
  readonly validLft?: number;
}

/** A link (AF_UNSPEC ifinfomsg) appeared/changed ('new') or was removed ('del'). */
export interface LinkEvent {
  readonly kind: 'link';
  readonly op: 'new' | 'del';
  readonly seq: number;
  readonly ifindex: number;
  /** ifi_flags: IFF_UP 0x1, IFF_RUNNING 0x40, IFF_LOWER_UP 0x10000, ... */
  readonly flags: number;
  /** ifi_type: ARPHRD_* (1 ethernet, 772 loopback). */
  readonly linkType: number;
  /** IFLA_IFNAME; '' if the kernel sent none (it always does). */
  readonly name: string;
  /** IFLA_OPERSTATE, IF_OPER_* (6 up, 2 down, 0 unknown). */
  readonly operstate?: number;
  /** IFLA_MTU. */
  readonly mtu?: number;
}

/** NLMSG_DONE: end of the multi-part dump with this seq. */
export interface DoneEvent {
  readonly kind: 'done';
  readonly seq: number;
  /** Positive errno the dump ended with (the int after the header, negated); 0 normally. */
  readonly errno: number;
  /** NLM_F_DUMP_INTR: the kernel state changed during the dump; dump again. */
  readonly interrupted: boolean;
  /** NLMSGERR_ATTR_MSG extended-ACK text, when the dump failed on a NETLINK_EXT_ACK socket. */
  readonly message?: string;
}

/** NLMSG_ERROR: errno 0 is an ACK, otherwise the request with this seq failed. */
export interface ErrorEvent {
  readonly kind: 'error';
  readonly seq: number;
  /** Positive errno (nlmsgerr.error negated); 0 = ACK. */
  readonly errno: number;
  /** nlmsg_type of the request being answered, when the echoed header is present. */
  readonly requestType?: number;
  /** NLMSGERR_ATTR_MSG extended-ACK text (only with NETLINK_EXT_ACK). */
  readonly message?: string;
}

/** NLMSG_OVERRUN: data lost, the caller should re-dump. */
export interface OverrunEvent {
  readonly kind: 'overrun';
  readonly seq: number;
}

/** A well-formed message the codec does not interpret (NLMSG_NOOP, IPv4 addresses, routes, ...). */
export interface IgnoredEvent {
  readonly kind: 'ignored';
  readonly type: number;
  readonly seq: number;
}

/**
 * Input the codec could not parse. `offset` is the byte offset (in the
 * buffer given to decodeMessages) of the offending header or attribute.
 * When `type` is set the problem was inside one message and decoding went
 * on with the next; without it the message walk stopped here.
 */
export interface MalformedEvent {
  readonly kind: 'malformed';
  readonly offset: number;
  readonly reason: string;
  /** nlmsg_type of the message at fault, when the problem was inside one message. */
  readonly type?: number;
  /** nlmsg_seq of the message at fault, when its header was readable. */
  readonly seq?: number;
}

export type NetlinkEvent =
  | AddrEvent
  | LinkEvent
  | DoneEvent
  | ErrorEvent
  | OverrunEvent
  | IgnoredEvent
  | MalformedEvent;

// ---------------------------------------------------------------------------
// Flag helpers

/** The IFA_F_* bits an address user cares about, as booleans. */
export interface AddrFlagSet {
  readonly tentative: boolean;
  readonly deprecated: boolean;
  readonly dadfailed: boolean;
  readonly nodad: boolean;
  readonly permanent: boolean;
  readonly noprefixroute: boolean;
  readonly optimistic: boolean;
  readonly temporary: boolean;
}

export function addrFlags(flags: number): AddrFlagSet {
  return {
    tentative: (flags & IFA_F_TENTATIVE) !== 0,
    deprecated: (flags & IFA_F_DEPRECATED) !== 0,
    dadfailed: (flags & IFA_F_DADFAILED) !== 0,
    nodad: (flags & IFA_F_NODAD) !== 0,
    permanent: (flags & IFA_F_PERMANENT) !== 0,
    noprefixroute: (flags & IFA_F_NOPREFIXROUTE) !== 0,
    optimistic: (flags & IFA_F_OPTIMISTIC) !== 0,
    temporary: (flags & IFA_F_TEMPORARY) !== 0,
  };
}

export const isTentative = (flags: number): boolean => (flags & IFA_F_TENTATIVE) !== 0;
export const isDeprecated = (flags: number): boolean => (flags & IFA_F_DEPRECATED) !== 0;
export const isDadFailed = (flags: number): boolean => (flags & IFA_F_DADFAILED) !== 0;

/** The IFF_* bits that say whether a link can carry traffic, as booleans. */
export interface LinkFlagSet {
  /** IFF_UP: administratively up. */
  readonly up: boolean;
  /** IFF_RUNNING: operationally up (RFC 2863 OPER_UP). */
  readonly running: boolean;
  /** IFF_LOWER_UP: carrier. */
  readonly lowerUp: boolean;
}

export function linkFlags(flags: number): LinkFlagSet {
  return {
    up: (flags & IFF_UP) !== 0,
    running: (flags & IFF_RUNNING) !== 0,
    lowerUp: (flags & IFF_LOWER_UP) !== 0,
  };
}

/**
 * A link is usable when it is administratively up and running (IFF_UP and
 * IFF_RUNNING). Carrier loss clears IFF_RUNNING but not IFF_UP. lo reports
 * operstate UNKNOWN yet sets IFF_RUNNING, so operstate is not used here.
 */
export function isLinkUp(flags: number): boolean {
  return (flags & (IFF_UP | IFF_RUNNING)) === (IFF_UP | IFF_RUNNING);
}

// ---------------------------------------------------------------------------
// Encoding

/**
 * An RTM_GETADDR (family AF_INET6 by default) or RTM_GETLINK (AF_UNSPEC by
 * default) dump request: nlmsghdr with NLM_F_REQUEST | NLM_F_DUMP, pid 0
 * (the kernel fills in the sender), then a zeroed ifaddrmsg (8 bytes) or
 * ifinfomsg (16 bytes) carrying only the family. The full struct rather
 * than a 1-byte rtgenmsg keeps NETLINK_GET_STRICT_CHK sockets happy.
 */
export function encodeDumpRequest(type: 'addr' | 'link', seq: number, family?: number): Uint8Array {
  const isAddr = type === 'addr';
  const bodyLen = isAddr ? IFADDRMSG_LEN : IFINFOMSG_LEN;
  const len = NLMSG_HDRLEN + nlAlign(bodyLen);
  const out = new Uint8Array(len);
  const dv = new DataView(out.buffer);
  dv.setUint32(0, len, LE); // nlmsg_len
  dv.setUint16(4, isAddr ? RTM_GETADDR : RTM_GETLINK, LE); // nlmsg_type
  dv.setUint16(6, NLM_F_REQUEST | NLM_F_DUMP, LE); // nlmsg_flags
  dv.setUint32(8, seq >>> 0, LE); // nlmsg_seq
  dv.setUint32(12, 0, LE); // nlmsg_pid
  // ifa_family / ifi_family is the first byte of both bodies.
  out[NLMSG_HDRLEN] = (family ?? (isAddr ? AF_INET6 : AF_UNSPEC)) & 0xff;
  return out;
}

// ---------------------------------------------------------------------------
// Attribute walking

/** One rtattr: type with NLA_F_NESTED/NLA_F_NET_BYTEORDER masked off; payload bounds in the buffer. */
export interface Attr {
  readonly type: number;
  /** Offset of the rtattr header. */
  readonly offset: number;
  /** Payload start (offset + 4) and length (rta_len - 4, unpadded). */
  readonly start: number;
  readonly len: number;
}

/** Result of walkAttrs: the attributes read, and the first problem if any. */
export interface AttrWalk {
  readonly attrs: Attr[];
  readonly error?: { readonly offset: number; readonly reason: string };
}

/**
 * Walk rtattrs in buf[start, end) (RTA_OK / RTA_NEXT semantics). Works for
 * nested attributes too: pass an attribute's payload bounds. Stops at the
 * first rta_len < 4 or rta_len past `end`; fewer than 4 bytes left over at
 * the end are ignored, as RTA_OK does.
 */
export function walkAttrs(buf: Uint8Array, start: number, end: number): AttrWalk {
  const attrs: Attr[] = [];
  const dv = new DataView(buf.buffer, buf.byteOffset, buf.byteLength);
  end = Math.min(end, buf.length);
  let off = start;
  while (end - off >= RTA_HDRLEN) {
    const rtaLen = dv.getUint16(off, LE);
    const rtaType = dv.getUint16(off + 2, LE);
    if (rtaLen < RTA_HDRLEN) return { attrs, error: { offset: off, reason: `rta_len ${rtaLen} < 4` } };
    if (rtaLen > end - off) {
      return { attrs, error: { offset: off, reason: `rta_len ${rtaLen} beyond message (${end - off} left)` } };
    }
    attrs.push({ type: rtaType & NLA_TYPE_MASK, offset: off, start: off + RTA_HDRLEN, len: rtaLen - RTA_HDRLEN });
    off += nlAlign(rtaLen);
  }
  return { attrs };
}

/** Last attribute of `type` (the kernel's nla_parse keeps the last duplicate). */
function findAttr(attrs: readonly Attr[], type: number): Attr | undefined {
  for (let i = attrs.length - 1; i >= 0; i--) if (attrs[i].type === type) return attrs[i];
  return undefined;
}

/** A NUL-terminated (or unterminated) string payload; bytes above 0x7f decoded as UTF-8. */
function readCString(buf: Uint8Array, start: number, len: number): string {
  let end = start;
  const stop = start + len;
  while (end < stop && buf[end] !== 0) end++;
  return textDecoder.decode(buf.subarray(start, end));
}
const textDecoder = new TextDecoder('utf-8', { fatal: false });

// ---------------------------------------------------------------------------
// Decoding

/**
 * Decode every netlink message in one received datagram. Never throws.
 * The header walk stops (with a 'malformed' event) at nlmsg_len < 16, a
 * message running past the buffer, or 1..15 stray bytes after the last
 * message; a problem inside a message's body or attributes yields a
 * 'malformed' event carrying the message type, and decoding continues with
 * the next message.
 */
export function decodeMessages(buf: Uint8Array): NetlinkEvent[] {
  const events: NetlinkEvent[] = [];
  try {
    if (!(buf instanceof Uint8Array)) {
      events.push({ kind: 'malformed', offset: 0, reason: 'not a Uint8Array' });
      return events;
    }
    walkMessages(buf, events);
  } catch (e) {
    // Unreachable by construction (every read is bounds-checked); kept so
    // the never-throws contract holds even if that reasoning is ever wrong.
    events.push({ kind: 'malformed', offset: 0, reason: `internal error: ${String(e)}` });
  }
  return events;
}

function walkMessages(buf: Uint8Array, events: NetlinkEvent[]): void {
  const dv = new DataView(buf.buffer, buf.byteOffset, buf.byteLength);
  let off = 0;
  while (off < buf.length) {
    const left = buf.length - off;
    if (left < NLMSG_HDRLEN) {
      events.push({ kind: 'malformed', offset: off, reason: `${left} trailing bytes, too short for nlmsghdr` });
      return;
    }
    const len = dv.getUint32(off, LE);
    const type = dv.getUint16(off + 4, LE);
    const flags = dv.getUint16(off + 6, LE);
    const seq = dv.getUint32(off + 8, LE);
    if (len < NLMSG_HDRLEN) {
      events.push({ kind: 'malformed', offset: off, reason: `nlmsg_len ${len} < 16`, seq });
      return;
    }
    if (len > left) {
      events.push({ kind: 'malformed', offset: off, reason: `nlmsg_len ${len} beyond buffer (${left} left)`, seq });
      return;
    }
    decodeOne(buf, dv, off, len, type, flags, seq, events);
    // NLMSG_NEXT: the next header starts at the aligned length. Padding of the
    // last message may be missing from the datagram; that is not an error.
    off += Math.min(nlAlign(len), left);
  }
}

function decodeOne(
  buf: Uint8Array,
  dv: DataView,
  off: number,
  len: number,
  type: number,
  flags: number,
  seq: number,
  events: NetlinkEvent[],
): void {
  const body = off + NLMSG_HDRLEN;
  const end = off + len;
  switch (type) {
    case NLMSG_NOOP:
      events.push({ kind: 'ignored', type, seq });
      return;
    case NLMSG_OVERRUN:
      events.push({ kind: 'overrun', seq });
      return;
    case NLMSG_DONE: {
      // The kernel always sends an int (the dump's status); be lenient if
      // absent. A dump that fails (e.g. a strict-checking rejection) reports
      // -errno here, not in NLMSG_ERROR, with extended-ACK TLVs after it.
      const status = end - body >= 4 ? dv.getInt32(body, LE) : 0;
      const done: DoneEvent = {
        kind: 'done',
        seq,
        errno: status < 0 ? -status : 0,
        interrupted: (flags & NLM_F_DUMP_INTR) !== 0,
      };
      const message = (flags & NLM_F_ACK_TLVS) !== 0 && end - body >= 4 ? extAckMessage(buf, body + 4, end) : undefined;
      events.push(message === undefined ? done : { ...done, message });
      return;
    }
    case NLMSG_ERROR:
      decodeError(buf, dv, off, len, flags, seq, events);
      return;
    case RTM_NEWADDR:
    case RTM_DELADDR:
      decodeAddr(buf, dv, off, len, type, seq, events);
      return;
    case RTM_NEWLINK:
    case RTM_DELLINK:
      decodeLink(buf, dv, off, len, type, seq, events);
      return;
    default:
      events.push({ kind: 'ignored', type, seq });
  }
}

function decodeError(
  buf: Uint8Array,
  dv: DataView,
  off: number,
  len: number,
  flags: number,
  seq: number,
  events: NetlinkEvent[],
): void {
  const body = off + NLMSG_HDRLEN;
  const end = off + len;
  if (end - body < 4) {
    events.push({ kind: 'malformed', offset: off, reason: 'NLMSG_ERROR shorter than its error code', type: NLMSG_ERROR, seq });
    return;
  }
  const error = dv.getInt32(body, LE);
  const errno = error < 0 ? -error : error;
  let requestType: number | undefined;
  let message: string | undefined;
  if (end - body >= NLMSGERR_LEN) {
    requestType = dv.getUint16(body + 4 + 4, LE);
    if ((flags & NLM_F_ACK_TLVS) !== 0) {
      // TLVs follow the echoed request: only its header if NLM_F_CAPPED or
      // an ACK (error 0), else the whole request, NLMSG_ALIGNed.
      const echoedLen = dv.getUint32(body + 4, LE);
      const capped = (flags & NLM_F_CAPPED) !== 0 || error === 0;
      const tlvStart = body + 4 + (capped ? NLMSG_HDRLEN : nlAlign(Math.max(echoedLen, NLMSG_HDRLEN)));
      if (tlvStart <= end) message = extAckMessage(buf, tlvStart, end);
    }
  }
  const ev: ErrorEvent = { kind: 'error', seq, errno };
  events.push(
    requestType === undefined && message === undefined
      ? ev
      : { ...ev, ...(requestType !== undefined ? { requestType } : {}), ...(message !== undefined ? { message } : {}) },
  );
}

/** NLMSGERR_ATTR_MSG from extended-ACK TLVs in buf[start, end), if any. */
function extAckMessage(buf: Uint8Array, start: number, end: number): string | undefined {
  const msg = findAttr(walkAttrs(buf, start, end).attrs, NLMSGERR_ATTR_MSG);
  return msg ? readCString(buf, msg.start, msg.len) : undefined;
}

function decodeAddr(
  buf: Uint8Array,
  dv: DataView,
  off: number,
  len: number,
  type: number,
  seq: number,
  events: NetlinkEvent[],
): void {
  const body = off + NLMSG_HDRLEN;
  const end = off + len;
  if (end - body < IFADDRMSG_LEN) {
    events.push({ kind: 'malformed', offset: off, reason: `ifaddrmsg truncated (${end - body} bytes)`, type, seq });
    return;
  }
  const family = buf[body];
  if (family !== AF_INET6) {
    // AF_INET and anything else: not ours.
    events.push({ kind: 'ignored', type, seq });
    return;
  }
  const prefixLen = buf[body + 1];
  const byteFlags = buf[body + 2];
  const scope = buf[body + 3];
  const ifindex = dv.getUint32(body + 4, LE);
  const walk = walkAttrs(buf, body + nlAlign(IFADDRMSG_LEN), end);
  if (walk.error) {
    events.push({ kind: 'malformed', offset: walk.error.offset, reason: walk.error.reason, type, seq });
    return;
  }
  const addrAttr = findAttr(walk.attrs, IFA_LOCAL) ?? findAttr(walk.attrs, IFA_ADDRESS);
  if (!addrAttr) {
    events.push({ kind: 'malformed', offset: off, reason: 'IPv6 address message without IFA_ADDRESS/IFA_LOCAL', type, seq });
    return;
  }
  if (addrAttr.len !== 16) {
    events.push({ kind: 'malformed', offset: addrAttr.offset, reason: `IPv6 address attribute of ${addrAttr.len} bytes`, type, seq });
    return;
  }
  let flags = byteFlags;
  const flagsAttr = findAttr(walk.attrs, IFA_FLAGS);
  if (flagsAttr) {
    if (flagsAttr.len < 4) {
      events.push({ kind: 'malformed', offset: flagsAttr.offset, reason: `IFA_FLAGS of ${flagsAttr.len} bytes`, type, seq });
      return;
    }
    // if_addr.h: "If present, the value from struct ifaddrmsg will be ignored."
    flags = dv.getUint32(flagsAttr.start, LE);
  }
  let ev: AddrEvent = {
    kind: 'addr',
    op: type === RTM_NEWADDR ? 'new' : 'del',
    seq,
    ifindex,
    prefixLen,
    scope,
    flags,
    address: buf.slice(addrAttr.start, addrAttr.start + 16),
  };
  const label = findAttr(walk.attrs, IFA_LABEL);
  if (label) ev = { ...ev, label: readCString(buf, label.start, label.len) };
  const ci = findAttr(walk.attrs, IFA_CACHEINFO);
  if (ci) {
    if (ci.len < IFA_CACHEINFO_LEN) {
      events.push({ kind: 'malformed', offset: ci.offset, reason: `IFA_CACHEINFO of ${ci.len} bytes`, type, seq });
      return;
    }
    ev = { ...ev, preferredLft: dv.getUint32(ci.start, LE), validLft: dv.getUint32(ci.start + 4, LE) };
  }
  events.push(ev);
}

function decodeLink(
  buf: Uint8Array,
  dv: DataView,
  off: number,
  len: number,
  type: number,
  seq: number,
  events: NetlinkEvent[],
): void {
  const body = off + NLMSG_HDRLEN;
  const end = off + len;
  if (end - body < IFINFOMSG_LEN) {
    events.push({ kind: 'malformed', offset: off, reason: `ifinfomsg truncated (${end - body} bytes)`, type, seq });
    return;
  }
  const family = buf[body];
  if (family !== AF_UNSPEC) {
    // AF_BRIDGE RTM_DELLINK means "port left its bridge", not "link gone";
    // AF_INET6 RTM_NEWLINK is per-link IPv6 state (RTNLGRP_IPV6_IFINFO).
    // Neither describes the link itself.
    events.push({ kind: 'ignored', type, seq });
    return;
  }
  const linkType = dv.getUint16(body + 2, LE);
  const ifindex = dv.getInt32(body + 4, LE);
  const flags = dv.getUint32(body + 8, LE);
  const walk = walkAttrs(buf, body + nlAlign(IFINFOMSG_LEN), end);
  if (walk.error) {
    events.push({ kind: 'malformed', offset: walk.error.offset, reason: walk.error.reason, type, seq });
    return;
  }
  const nameAttr = findAttr(walk.attrs, IFLA_IFNAME);
  let ev: LinkEvent = {
    kind: 'link',
    op: type === RTM_NEWLINK ? 'new' : 'del',
    seq,
    ifindex,
    flags,
    linkType,
    name: nameAttr ? readCString(buf, nameAttr.start, nameAttr.len) : '',
  };
  const oper = findAttr(walk.attrs, IFLA_OPERSTATE);
  if (oper && oper.len >= 1) ev = { ...ev, operstate: buf[oper.start] };
  const mtu = findAttr(walk.attrs, IFLA_MTU);
  if (mtu && mtu.len >= 4) ev = { ...ev, mtu: dv.getUint32(mtu.start, LE) };
  events.push(ev);
}
