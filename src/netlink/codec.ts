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
  NLM_F_ACK,
  NLM_F_ACK_TLVS,
  NLM_F_CAPPED,
  NLM_F_CREATE,
  NLM_F_DUMP,
  NLM_F_DUMP_INTR,
  NLM_F_EXCL,
  NLM_F_REPLACE,
  NLM_F_REQUEST,
  NLMSG_ALIGNTO,
  NLMSG_DONE,
  NLMSG_ERROR,
  NLMSG_HDRLEN,
  NLMSG_NOOP,
  NLMSG_OVERRUN,
  NLMSGERR_ATTR_MSG,
  NLMSGERR_LEN,
  RT_SCOPE_NOWHERE,
  RT_SCOPE_UNIVERSE,
  RT_TABLE_UNSPEC,
  RTA_DST,
  RTA_GATEWAY,
  RTA_HDRLEN,
  RTA_METRICS,
  RTA_MULTIPATH,
  RTA_OIF,
  RTA_PREFSRC,
  RTA_PRIORITY,
  RTA_SRC,
  RTA_TABLE,
  RTAX_MTU,
  RTM_DELADDR,
  RTM_DELLINK,
  RTM_DELROUTE,
  RTM_GETADDR,
  RTM_GETLINK,
  RTM_GETROUTE,
  RTM_NEWADDR,
  RTM_NEWLINK,
  RTM_NEWROUTE,
  RTMSG_LEN,
  RTN_BLACKHOLE,
  RTN_UNICAST,
  RTN_UNSPEC,
  RTNEXTHOP_LEN,
  RTPROT_SHIM6,
  RTPROT_UNSPEC,
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

/** One nexthop of a multipath (RTA_MULTIPATH) route. */
export interface RouteNexthop {
  /** rtnh_ifindex. */
  readonly ifindex: number;
  /** RTA_GATEWAY inside the nexthop, 16 bytes. A copy. */
  readonly gateway?: Uint8Array;
  /** rtnh_hops + 1 (ip route's "weight"). */
  readonly weight: number;
  /** rtnh_flags: RTNH_F_DEAD 1, RTNH_F_ONLINK 4, RTNH_F_LINKDOWN 16, ... */
  readonly flags: number;
}

/**
 * An IPv6 route (rtmsg family AF_INET6) was added/replaced ('new') or
 * removed ('del'): a notification, a dump entry, or a request being decoded.
 * Addresses are 16-byte copies. IPv4 and other families' routes stay 'ignored'.
 */
export interface RouteEvent {
  readonly kind: 'route';
  readonly op: 'new' | 'del';
  readonly seq: number;
  /** RTA_TABLE when present (the kernel always sends it), else rtm_table. */
  readonly table: number;
  /** rtm_dst_len, 0..128. */
  readonly dstLen: number;
  /** RTA_DST; absent for the default route (dstLen 0). */
  readonly dst?: Uint8Array;
  /** rtm_src_len: nonzero only for source-specific ("from") routes. */
  readonly srcLen: number;
  /** RTA_SRC. */
  readonly src?: Uint8Array;
  /** RTA_OIF (absent for multipath routes: see nexthops). */
  readonly oif?: number;
  /** RTA_GATEWAY. */
  readonly gateway?: Uint8Array;
  /** RTA_PREFSRC ("src" in ip route). */
  readonly prefsrc?: Uint8Array;
  /** RTA_PRIORITY ("metric" in ip route). */
  readonly priority?: number;
  /** RTAX_MTU from RTA_METRICS. */
  readonly mtu?: number;
  /** RTA_MULTIPATH entries, when the route has several nexthops. */
  readonly nexthops?: readonly RouteNexthop[];
  /** rtm_protocol: RTPROT_KERNEL 2, RTPROT_BOOT 3, RTPROT_RA 9, RTPROT_SHIM6 140, ... */
  readonly protocol: number;
  /** rtm_type: RTN_UNICAST 1, RTN_LOCAL 2, RTN_MULTICAST 5, RTN_BLACKHOLE 6, ... */
  readonly type: number;
  /** rtm_scope (RT_SCOPE_UNIVERSE 0 for every IPv6 route the kernel reports). */
  readonly scope: number;
  /** rtm_flags: RTM_F_CLONED 0x200, RTNH_F_* of single-nexthop routes, ... */
  readonly flags: number;
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

/** A well-formed message the codec does not interpret (NLMSG_NOOP, IPv4 addresses and routes, requests, ...). */
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
  | RouteEvent
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
 * A dump request: RTM_GETADDR (family AF_INET6 by default), RTM_GETLINK
 * (AF_UNSPEC by default) or RTM_GETROUTE (AF_INET6 by default). nlmsghdr
 * with NLM_F_REQUEST | NLM_F_DUMP, pid 0 (the kernel fills in the sender),
 * then a zeroed ifaddrmsg (8 bytes), ifinfomsg (16) or rtmsg (12) carrying
 * only the family. The full struct rather than a 1-byte rtgenmsg keeps
 * NETLINK_GET_STRICT_CHK sockets happy. A route dump covers every table.
 */
export function encodeDumpRequest(type: 'addr' | 'link' | 'route', seq: number, family?: number): Uint8Array {
  const [msgType, bodyLen, defaultFamily] =
    type === 'addr'
      ? [RTM_GETADDR, IFADDRMSG_LEN, AF_INET6]
      : type === 'route'
        ? [RTM_GETROUTE, RTMSG_LEN, AF_INET6]
        : [RTM_GETLINK, IFINFOMSG_LEN, AF_UNSPEC];
  const out = new Uint8Array(NLMSG_HDRLEN + nlAlign(bodyLen));
  writeHeader(out, msgType, NLM_F_REQUEST | NLM_F_DUMP, seq);
  // ifa_family / ifi_family / rtm_family is the first byte of every body.
  out[NLMSG_HDRLEN] = (family ?? defaultFamily) & 0xff;
  return out;
}

/** nlmsghdr at the start of `out`, whose length is the message length. */
function writeHeader(out: Uint8Array, type: number, flags: number, seq: number): void {
  const dv = new DataView(out.buffer, out.byteOffset, out.byteLength);
  dv.setUint32(0, out.length, LE); // nlmsg_len
  dv.setUint16(4, type, LE); // nlmsg_type
  dv.setUint16(6, flags, LE); // nlmsg_flags
  dv.setUint32(8, seq >>> 0, LE); // nlmsg_seq
  dv.setUint32(12, 0, LE); // nlmsg_pid: the kernel fills in the sender
}

/** An attribute to encode: type and payload (padding is added). */
type AttrSpec = readonly [type: number, payload: Uint8Array];

function attrsLength(attrs: readonly AttrSpec[]): number {
  let n = 0;
  for (const [, p] of attrs) n += nlAlign(RTA_HDRLEN + p.length);
  return n;
}

/** Write rtattrs at `off` (rta_len unpadded, payload padded to 4 with zeros); returns the end offset. */
function writeAttrs(out: Uint8Array, off: number, attrs: readonly AttrSpec[]): number {
  const dv = new DataView(out.buffer, out.byteOffset, out.byteLength);
  for (const [type, payload] of attrs) {
    dv.setUint16(off, RTA_HDRLEN + payload.length, LE);
    dv.setUint16(off + 2, type, LE);
    out.set(payload, off + RTA_HDRLEN);
    off += nlAlign(RTA_HDRLEN + payload.length);
  }
  return off;
}

/** nlmsghdr + fixed header (padded) + attributes, as one new Uint8Array. */
function buildMessage(type: number, flags: number, seq: number, fixed: Uint8Array, attrs: readonly AttrSpec[]): Uint8Array {
  const out = new Uint8Array(NLMSG_HDRLEN + nlAlign(fixed.length) + attrsLength(attrs));
  writeHeader(out, type, flags, seq);
  out.set(fixed, NLMSG_HDRLEN);
  writeAttrs(out, NLMSG_HDRLEN + nlAlign(fixed.length), attrs);
  return out;
}

function u32Bytes(v: number): Uint8Array {
  const b = new Uint8Array(4);
  new DataView(b.buffer).setUint32(0, v >>> 0, LE);
  return b;
}

function checkUint(name: string, v: unknown, max: number, min = 0): asserts v is number {
  if (typeof v !== 'number' || !Number.isInteger(v) || v < min || v > max) {
    throw new RangeError(`${name} must be an integer in [${min}, ${max}], got ${String(v)}`);
  }
}

function checkIpv6(name: string, a: unknown): asserts a is Uint8Array {
  if (!(a instanceof Uint8Array) || a.length !== 16) throw new RangeError(`${name} must be a 16-byte Uint8Array`);
}

/** `addr` with the bits beyond `len` cleared (a copy). */
function maskPrefix(addr: Uint8Array, len: number): Uint8Array {
  const out = addr.slice();
  for (let i = 0; i < 16; i++) {
    const keep = Math.max(0, Math.min(8, len - 8 * i));
    out[i] &= (0xff00 >> keep) & 0xff;
  }
  return out;
}

/** RTM_NEWADDR / RTM_DELADDR for one IPv6 address. */
export interface AddrRequest {
  /** Interface index (> 0). */
  readonly ifindex: number;
  /** 16 bytes; sent as both IFA_LOCAL and IFA_ADDRESS. */
  readonly address: Uint8Array;
  /** 0..128. RTM_DELADDR must name the address's prefix length (else EADDRNOTAVAIL). */
  readonly prefixLen: number;
  /**
   * IFA_F_* (IFA_F_NODAD 0x02, IFA_F_NOPREFIXROUTE 0x200, ...), default 0.
   * Sent as the 32-bit IFA_FLAGS attribute, the low 8 bits also in ifa_flags.
   * The kernel adds IFA_F_PERMANENT itself (no lifetimes are sent).
   */
  readonly flags?: number;
  /** ifa_scope, default RT_SCOPE_UNIVERSE. The kernel derives IPv6 scope from the address anyway. */
  readonly scope?: number;
  /** 'new' only: NLM_F_CREATE|NLM_F_REPLACE (create or update) instead of NLM_F_CREATE|NLM_F_EXCL (EEXIST if present). */
  readonly replace?: boolean;
}

/**
 * RTM_NEWADDR ('new', like `ip -6 addr add`, or `replace` with replace) or
 * RTM_DELADDR ('del') for an AF_INET6 address, with NLM_F_REQUEST|NLM_F_ACK
 * and the caller's seq: the kernel answers with NLMSG_ERROR (errno 0 = ACK).
 * Attributes: IFA_LOCAL, IFA_ADDRESS, IFA_FLAGS (u32). Throws RangeError on
 * out-of-range arguments (caller bugs); never produces a malformed message.
 */
export function encodeAddrRequest(op: 'new' | 'del', seq: number, req: AddrRequest): Uint8Array {
  checkUint('ifindex', req.ifindex, 0x7fffffff, 1);
  checkIpv6('address', req.address);
  checkUint('prefixLen', req.prefixLen, 128);
  const flags = req.flags ?? 0;
  checkUint('flags', flags, 0xffffffff);
  const scope = req.scope ?? RT_SCOPE_UNIVERSE;
  checkUint('scope', scope, 255);
  const ifa = new Uint8Array(IFADDRMSG_LEN);
  ifa[0] = AF_INET6; // ifa_family
  ifa[1] = req.prefixLen; // ifa_prefixlen
  ifa[2] = flags & 0xff; // ifa_flags (IFA_FLAGS, when present, overrides it)
  ifa[3] = scope; // ifa_scope
  new DataView(ifa.buffer).setUint32(4, req.ifindex, LE); // ifa_index
  const address = req.address.slice();
  const attrs: AttrSpec[] = [
    [IFA_LOCAL, address],
    [IFA_ADDRESS, address],
    [IFA_FLAGS, u32Bytes(flags)],
  ];
  const nlFlags =
    NLM_F_REQUEST | NLM_F_ACK | (op === 'new' ? NLM_F_CREATE | (req.replace ? NLM_F_REPLACE : NLM_F_EXCL) : 0);
  return buildMessage(op === 'new' ? RTM_NEWADDR : RTM_DELADDR, nlFlags, seq, ifa, attrs);
}

/** RTM_NEWROUTE / RTM_DELROUTE for one IPv6 route. */
export interface RouteRequest {
  /** Routing table id, 0..2^32-1 (0 = main). Ids above 255 go in RTA_TABLE with rtm_table RT_TABLE_UNSPEC, as iproute2 does. */
  readonly table: number;
  /** 16 bytes; bits beyond dstLen are cleared. Not sent when dstLen is 0 (the default route). */
  readonly dst: Uint8Array;
  /** 0..128. */
  readonly dstLen: number;
  /** RTA_OIF: output interface. Required by the kernel for unicast routes without a gateway. */
  readonly oif?: number;
  /** RTA_GATEWAY, 16 bytes (link-local gateways need oif). */
  readonly gateway?: Uint8Array;
  /** RTA_PREFSRC, 16 bytes: must be a local address already (else EINVAL). */
  readonly prefsrc?: Uint8Array;
  /** RTAX_MTU inside RTA_METRICS. */
  readonly mtu?: number;
  /** RTA_PRIORITY (metric). The kernel uses 1024 for IPv6 routes without one. */
  readonly priority?: number;
  /** rtm_type: RTN_UNICAST (default for 'new') or RTN_BLACKHOLE. 'del' sends RTN_UNSPEC unless given. */
  readonly type?: 'unicast' | 'blackhole';
  /** 'new' only: NLM_F_CREATE|NLM_F_REPLACE instead of NLM_F_CREATE|NLM_F_EXCL (EEXIST if present). */
  readonly replace?: boolean;
  /**
   * rtm_protocol. Default for 'new': RTPROT_SHIM6 (140). Default for 'del':
   * RTPROT_UNSPEC, which deletes a matching route whatever its protocol (as
   * `ip route del` does); a nonzero value only deletes routes with that protocol.
   */
  readonly protocol?: number;
}

/**
 * RTM_NEWROUTE ('new', like `ip -6 route add`, or `replace` with replace) or
 * RTM_DELROUTE ('del') for an AF_INET6 route, with NLM_F_REQUEST|NLM_F_ACK
 * and the caller's seq. rtmsg: rtm_table (see RouteRequest.table),
 * rtm_protocol (default RTPROT_SHIM6 on 'new'), rtm_scope RT_SCOPE_UNIVERSE
 * ('del': RT_SCOPE_NOWHERE, as iproute2), rtm_type. Attributes in this order
 * when given: RTA_TABLE, RTA_DST, RTA_GATEWAY, RTA_OIF, RTA_PREFSRC,
 * RTA_PRIORITY, RTA_METRICS { RTAX_MTU } (nested, without NLA_F_NESTED, as
 * iproute2 sends it). On 'del' the kernel matches dst/dstLen and table,
 * plus oif, gateway, priority and protocol when given. Throws RangeError on
 * out-of-range arguments.
 */
export function encodeRouteRequest(op: 'new' | 'del', seq: number, req: RouteRequest): Uint8Array {
  checkUint('table', req.table, 0xffffffff);
  checkIpv6('dst', req.dst);
  checkUint('dstLen', req.dstLen, 128);
  if (req.oif !== undefined) checkUint('oif', req.oif, 0x7fffffff, 1);
  if (req.gateway !== undefined) checkIpv6('gateway', req.gateway);
  if (req.prefsrc !== undefined) checkIpv6('prefsrc', req.prefsrc);
  if (req.mtu !== undefined) checkUint('mtu', req.mtu, 0xffffffff, 1);
  if (req.priority !== undefined) checkUint('priority', req.priority, 0xffffffff);
  if (req.type !== undefined && req.type !== 'unicast' && req.type !== 'blackhole') {
    throw new RangeError(`type must be 'unicast' or 'blackhole', got ${String(req.type)}`);
  }
  const isNew = op === 'new';
  const protocol = req.protocol ?? (isNew ? RTPROT_SHIM6 : RTPROT_UNSPEC);
  checkUint('protocol', protocol, 255);
  const rtm = new Uint8Array(RTMSG_LEN);
  rtm[0] = AF_INET6; // rtm_family
  rtm[1] = req.dstLen; // rtm_dst_len
  rtm[2] = 0; // rtm_src_len
  rtm[3] = 0; // rtm_tos
  rtm[4] = req.table <= 255 ? req.table : RT_TABLE_UNSPEC; // rtm_table
  rtm[5] = protocol; // rtm_protocol
  rtm[6] = isNew ? RT_SCOPE_UNIVERSE : RT_SCOPE_NOWHERE; // rtm_scope
  rtm[7] = req.type === 'blackhole' ? RTN_BLACKHOLE : req.type === 'unicast' || isNew ? RTN_UNICAST : RTN_UNSPEC; // rtm_type
  // rtm_flags (u32 at 8) stays 0.
  const attrs: AttrSpec[] = [];
  if (req.table > 255) attrs.push([RTA_TABLE, u32Bytes(req.table)]);
  if (req.dstLen > 0) attrs.push([RTA_DST, maskPrefix(req.dst, req.dstLen)]);
  if (req.gateway !== undefined) attrs.push([RTA_GATEWAY, req.gateway.slice()]);
  if (req.oif !== undefined) attrs.push([RTA_OIF, u32Bytes(req.oif)]);
  if (req.prefsrc !== undefined) attrs.push([RTA_PREFSRC, req.prefsrc.slice()]);
  if (req.priority !== undefined) attrs.push([RTA_PRIORITY, u32Bytes(req.priority)]);
  if (req.mtu !== undefined) {
    const metrics: AttrSpec[] = [[RTAX_MTU, u32Bytes(req.mtu)]];
    const nested = new Uint8Array(attrsLength(metrics));
    writeAttrs(nested, 0, metrics);
    attrs.push([RTA_METRICS, nested]);
  }
  const nlFlags = NLM_F_REQUEST | NLM_F_ACK | (isNew ? NLM_F_CREATE | (req.replace ? NLM_F_REPLACE : NLM_F_EXCL) : 0);
  return buildMessage(isNew ? RTM_NEWROUTE : RTM_DELROUTE, nlFlags, seq, rtm, attrs);
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
    case RTM_NEWROUTE:
    case RTM_DELROUTE:
      decodeRoute(buf, dv, off, len, type, seq, events);
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

function decodeRoute(
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
  const bad = (offset: number, reason: string): void => {
    events.push({ kind: 'malformed', offset, reason, type, seq });
  };
  if (end - body < RTMSG_LEN) {
    bad(off, `rtmsg truncated (${end - body} bytes)`);
    return;
  }
  if (buf[body] !== AF_INET6) {
    // AF_INET, RTNL_FAMILY_IP6MR, AF_MPLS, ...: not ours.
    events.push({ kind: 'ignored', type, seq });
    return;
  }
  const dstLen = buf[body + 1];
  const srcLen = buf[body + 2];
  if (dstLen > 128 || srcLen > 128) {
    bad(off, `IPv6 route with prefix length ${dstLen > 128 ? dstLen : srcLen}`);
    return;
  }
  const walk = walkAttrs(buf, body + nlAlign(RTMSG_LEN), end);
  if (walk.error) {
    bad(walk.error.offset, walk.error.reason);
    return;
  }
  const a = walk.attrs;
  // Fixed-size attributes: a wrong size is malformed, not silently skipped.
  const addr = (t: number, name: string): Uint8Array | undefined | null => {
    const at = findAttr(a, t);
    if (!at) return undefined;
    if (at.len !== 16) {
      bad(at.offset, `${name} of ${at.len} bytes`);
      return null;
    }
    return buf.slice(at.start, at.start + 16);
  };
  const u32 = (t: number, name: string): number | undefined | null => {
    const at = findAttr(a, t);
    if (!at) return undefined;
    if (at.len < 4) {
      bad(at.offset, `${name} of ${at.len} bytes`);
      return null;
    }
    return dv.getUint32(at.start, LE);
  };
  const dst = addr(RTA_DST, 'RTA_DST');
  const src = addr(RTA_SRC, 'RTA_SRC');
  const gateway = addr(RTA_GATEWAY, 'RTA_GATEWAY');
  const prefsrc = addr(RTA_PREFSRC, 'RTA_PREFSRC');
  const table = u32(RTA_TABLE, 'RTA_TABLE');
  const oif = u32(RTA_OIF, 'RTA_OIF');
  const priority = u32(RTA_PRIORITY, 'RTA_PRIORITY');
  if (dst === null || src === null || gateway === null || prefsrc === null || table === null || oif === null || priority === null) return;
  let mtu: number | undefined;
  const metrics = findAttr(a, RTA_METRICS);
  if (metrics) {
    const mw = walkAttrs(buf, metrics.start, metrics.start + metrics.len);
    if (mw.error) {
      bad(mw.error.offset, `RTA_METRICS: ${mw.error.reason}`);
      return;
    }
    const m = findAttr(mw.attrs, RTAX_MTU);
    if (m) {
      if (m.len < 4) {
        bad(m.offset, `RTAX_MTU of ${m.len} bytes`);
        return;
      }
      mtu = dv.getUint32(m.start, LE);
    }
  }
  let nexthops: RouteNexthop[] | undefined;
  const mp = findAttr(a, RTA_MULTIPATH);
  if (mp) {
    nexthops = [];
    const mpEnd = mp.start + mp.len;
    let o = mp.start;
    // RTNH_OK / RTNH_NEXT: rtnexthop headers, each followed by its own rtattrs.
    while (mpEnd - o >= RTNEXTHOP_LEN) {
      const nhLen = dv.getUint16(o, LE);
      if (nhLen < RTNEXTHOP_LEN || nhLen > mpEnd - o) {
        bad(o, `rtnh_len ${nhLen} (${mpEnd - o} left)`);
        return;
      }
      const nw = walkAttrs(buf, o + RTNEXTHOP_LEN, o + nhLen);
      if (nw.error) {
        bad(nw.error.offset, `RTA_MULTIPATH: ${nw.error.reason}`);
        return;
      }
      let nh: RouteNexthop = { ifindex: dv.getInt32(o + 4, LE), weight: buf[o + 3] + 1, flags: buf[o + 2] };
      const gw = findAttr(nw.attrs, RTA_GATEWAY);
      if (gw) {
        if (gw.len !== 16) {
          bad(gw.offset, `nexthop RTA_GATEWAY of ${gw.len} bytes`);
          return;
        }
        nh = { ...nh, gateway: buf.slice(gw.start, gw.start + 16) };
      }
      nexthops.push(nh);
      o += nlAlign(nhLen);
    }
  }
  const ev: RouteEvent = {
    kind: 'route',
    op: type === RTM_NEWROUTE ? 'new' : 'del',
    seq,
    table: table ?? buf[body + 4],
    dstLen,
    ...(dst !== undefined ? { dst } : {}),
    srcLen,
    ...(src !== undefined ? { src } : {}),
    ...(oif !== undefined ? { oif } : {}),
    ...(gateway !== undefined ? { gateway } : {}),
    ...(prefsrc !== undefined ? { prefsrc } : {}),
    ...(priority !== undefined ? { priority } : {}),
    ...(mtu !== undefined ? { mtu } : {}),
    ...(nexthops !== undefined ? { nexthops } : {}),
    protocol: buf[body + 5],
    type: buf[body + 7],
    scope: buf[body + 6],
    flags: dv.getUint32(body + 8, LE),
  };
  events.push(ev);
}
