// Test-only rtnetlink encoder of kernel-side messages (the codec encodes requests),
// a seeded PRNG and hex helpers. kernel.test.ts checks that this encoder
// reproduces real kernel messages byte for byte, so hand-built messages in
// the other tests have the kernel's framing and padding.

import {
  AF_INET6,
  AF_UNSPEC,
  IFA_ADDRESS,
  IFA_CACHEINFO,
  IFA_FLAGS,
  IFA_LABEL,
  IFA_LOCAL,
  IFLA_IFNAME,
  IFLA_MTU,
  IFLA_OPERSTATE,
  NLM_F_MULTI,
  NLMSG_DONE,
  NLMSG_ERROR,
  RTM_DELADDR,
  RTM_DELLINK,
  RTM_NEWADDR,
  RTM_NEWLINK,
  RTA_CACHEINFO,
  RTA_DST,
  RTA_GATEWAY,
  RTA_METRICS,
  RTA_MULTIPATH,
  RTA_OIF,
  RTA_PREF,
  RTA_PREFSRC,
  RTA_PRIORITY,
  RTA_SRC,
  RTA_TABLE,
  RTAX_MTU,
  RTM_DELROUTE,
  RTM_NEWROUTE,
  RT_TABLE_COMPAT,
  type NetlinkEvent,
} from '../../../src/netlink/index.js';
import { formatIpv6, parseIpv6 } from '../../../src/wire/addr.js';

const LE = true; // these tests run on little-endian hosts; encode.test.ts asserts it

export function unhex(h: string): Uint8Array {
  const s = h.replace(/[\s_]/g, '');
  if (s.length % 2 !== 0) throw new Error(`odd hex length: ${s}`);
  const out = new Uint8Array(s.length / 2);
  for (let i = 0; i < out.length; i++) out[i] = parseInt(s.slice(2 * i, 2 * i + 2), 16);
  return out;
}

export function hex(b: Uint8Array): string {
  let s = '';
  for (const x of b) s += x.toString(16).padStart(2, '0');
  return s;
}

export function concat(...parts: Uint8Array[]): Uint8Array {
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let o = 0;
  for (const p of parts) {
    out.set(p, o);
    o += p.length;
  }
  return out;
}

export function ip6(text: string): Uint8Array {
  const a = parseIpv6(text);
  if (!a) throw new Error(`bad IPv6 text ${text}`);
  return a;
}

const align4 = (n: number): number => (n + 3) & ~3;

export function u8(v: number): Uint8Array {
  return Uint8Array.of(v & 0xff);
}
export function u32(v: number): Uint8Array {
  const b = new Uint8Array(4);
  new DataView(b.buffer).setUint32(0, v >>> 0, LE);
  return b;
}
export function i32(v: number): Uint8Array {
  const b = new Uint8Array(4);
  new DataView(b.buffer).setInt32(0, v, LE);
  return b;
}
/** NUL-terminated string, as the kernel sends IFLA_IFNAME / IFA_LABEL. */
export function cstr(s: string): Uint8Array {
  return concat(new TextEncoder().encode(s), u8(0));
}

/** One rtattr: rta_len (unpadded) + rta_type + payload, padded to 4 (like nla_put). */
export function rtattr(type: number, payload: Uint8Array, opts: { rtaLen?: number } = {}): Uint8Array {
  const len = 4 + payload.length;
  const out = new Uint8Array(align4(len));
  const dv = new DataView(out.buffer);
  dv.setUint16(0, opts.rtaLen ?? len, LE);
  dv.setUint16(2, type, LE);
  out.set(payload, 4);
  return out;
}

export interface NlmsgOpts {
  /** nlmsg_flags (NLM_F_*). */
  nlFlags?: number;
  seq?: number;
  pid?: number;
  /** Override nlmsg_len (to build broken messages). */
  len?: number;
}

/** nlmsghdr + body; nlmsg_len covers the body padded to 4 (as the kernel's nlmsg_put/nla_put leave it). */
export function nlmsg(type: number, body: Uint8Array, o: NlmsgOpts = {}): Uint8Array {
  const total = 16 + align4(body.length);
  const out = new Uint8Array(total);
  const dv = new DataView(out.buffer);
  dv.setUint32(0, o.len ?? total, LE);
  dv.setUint16(4, type, LE);
  dv.setUint16(6, o.nlFlags ?? 0, LE);
  dv.setUint32(8, o.seq ?? 0, LE);
  dv.setUint32(12, o.pid ?? 0, LE);
  out.set(body, 16);
  return out;
}

export interface IfaddrmsgFields {
  family?: number;
  prefixLen: number;
  flags: number;
  scope: number;
  ifindex: number;
}
export function ifaddrmsg(f: IfaddrmsgFields): Uint8Array {
  const b = new Uint8Array(8);
  b[0] = f.family ?? AF_INET6;
  b[1] = f.prefixLen;
  b[2] = f.flags & 0xff;
  b[3] = f.scope;
  new DataView(b.buffer).setUint32(4, f.ifindex, LE);
  return b;
}

export interface IfinfomsgFields {
  family?: number;
  type?: number;
  ifindex: number;
  flags: number;
  change?: number;
}
export function ifinfomsg(f: IfinfomsgFields): Uint8Array {
  const b = new Uint8Array(16);
  const dv = new DataView(b.buffer);
  b[0] = f.family ?? AF_UNSPEC;
  dv.setUint16(2, f.type ?? 1, LE);
  dv.setInt32(4, f.ifindex, LE);
  dv.setUint32(8, f.flags >>> 0, LE);
  dv.setUint32(12, (f.change ?? 0) >>> 0, LE);
  return b;
}

export interface AddrMsgSpec extends NlmsgOpts {
  op?: 'new' | 'del';
  family?: number;
  ifindex: number;
  prefixLen: number;
  scope?: number;
  /** The ifa_flags byte (only the low 8 bits are sent there). */
  flags?: number;
  /** IFA_FLAGS attribute; omitted when undefined. */
  ifaFlags?: number;
  address?: string | Uint8Array;
  local?: string | Uint8Array;
  label?: string;
  /** [preferred, valid, cstamp, tstamp] */
  cacheinfo?: [number, number, number?, number?];
  /** Extra raw attributes appended. */
  extra?: Uint8Array[];
}

const addrBytes = (a: string | Uint8Array): Uint8Array => (typeof a === 'string' ? ip6(a) : a);

/** RTM_NEWADDR / RTM_DELADDR with attributes in the kernel's order (inet6_fill_ifaddr). */
export function addrMsg(s: AddrMsgSpec): Uint8Array {
  const attrs: Uint8Array[] = [];
  if (s.address !== undefined) attrs.push(rtattr(IFA_ADDRESS, addrBytes(s.address)));
  if (s.local !== undefined) attrs.push(rtattr(IFA_LOCAL, addrBytes(s.local)));
  if (s.label !== undefined) attrs.push(rtattr(IFA_LABEL, cstr(s.label)));
  if (s.cacheinfo) {
    const [p, v, c = 0, t = 0] = s.cacheinfo;
    attrs.push(rtattr(IFA_CACHEINFO, concat(u32(p), u32(v), u32(c), u32(t))));
  }
  if (s.ifaFlags !== undefined) attrs.push(rtattr(IFA_FLAGS, u32(s.ifaFlags)));
  attrs.push(...(s.extra ?? []));
  const body = concat(
    ifaddrmsg({ family: s.family, prefixLen: s.prefixLen, flags: s.flags ?? 0, scope: s.scope ?? 0, ifindex: s.ifindex }),
    ...attrs,
  );
  return nlmsg(s.op === 'del' ? RTM_DELADDR : RTM_NEWADDR, body, s);
}

export interface LinkMsgSpec extends NlmsgOpts {
  op?: 'new' | 'del';
  family?: number;
  ifindex: number;
  flags: number;
  linkType?: number;
  name?: string;
  mtu?: number;
  operstate?: number;
  extra?: Uint8Array[];
}

/** RTM_NEWLINK / RTM_DELLINK. */
export function linkMsg(s: LinkMsgSpec): Uint8Array {
  const attrs: Uint8Array[] = [];
  if (s.name !== undefined) attrs.push(rtattr(IFLA_IFNAME, cstr(s.name)));
  if (s.mtu !== undefined) attrs.push(rtattr(IFLA_MTU, u32(s.mtu)));
  if (s.operstate !== undefined) attrs.push(rtattr(IFLA_OPERSTATE, u8(s.operstate)));
  attrs.push(...(s.extra ?? []));
  const body = concat(ifinfomsg({ family: s.family, type: s.linkType, ifindex: s.ifindex, flags: s.flags }), ...attrs);
  return nlmsg(s.op === 'del' ? RTM_DELLINK : RTM_NEWLINK, body, s);
}

export interface RouteMsgSpec extends NlmsgOpts {
  op?: 'new' | 'del';
  family?: number;
  /** The table id; rtm_table gets it when < 256, else RT_TABLE_COMPAT, and RTA_TABLE always (rt6_fill_node). */
  table: number;
  dstLen: number;
  srcLen?: number;
  protocol: number;
  scope?: number;
  type: number;
  /** rtm_flags. */
  flags?: number;
  dst?: string | Uint8Array;
  src?: string | Uint8Array;
  prefsrc?: string | Uint8Array;
  mtu?: number;
  priority?: number;
  gateway?: string | Uint8Array;
  oif?: number;
  nexthops?: ReadonlyArray<{ ifindex: number; gateway?: string | Uint8Array; weight?: number; flags?: number }>;
  /** Raw struct rta_cacheinfo (32 bytes for IPv6 routes). */
  cacheinfo?: Uint8Array;
  /** RTA_PREF (u8). */
  pref?: number;
  extra?: Uint8Array[];
}

/** RTM_NEWROUTE / RTM_DELROUTE for IPv6 with attributes in the kernel's order (rt6_fill_node). */
export function routeMsg(s: RouteMsgSpec): Uint8Array {
  const rtm = new Uint8Array(12);
  rtm[0] = s.family ?? AF_INET6;
  rtm[1] = s.dstLen;
  rtm[2] = s.srcLen ?? 0;
  rtm[4] = s.table < 256 ? s.table : RT_TABLE_COMPAT;
  rtm[5] = s.protocol;
  rtm[6] = s.scope ?? 0;
  rtm[7] = s.type;
  new DataView(rtm.buffer).setUint32(8, (s.flags ?? 0) >>> 0, LE);
  const attrs: Uint8Array[] = [rtattr(RTA_TABLE, u32(s.table))];
  if (s.dst !== undefined) attrs.push(rtattr(RTA_DST, addrBytes(s.dst)));
  if (s.src !== undefined) attrs.push(rtattr(RTA_SRC, addrBytes(s.src)));
  if (s.prefsrc !== undefined) attrs.push(rtattr(RTA_PREFSRC, addrBytes(s.prefsrc)));
  if (s.mtu !== undefined) attrs.push(rtattr(RTA_METRICS, rtattr(RTAX_MTU, u32(s.mtu))));
  if (s.priority !== undefined) attrs.push(rtattr(RTA_PRIORITY, u32(s.priority)));
  if (s.nexthops) {
    attrs.push(
      rtattr(
        RTA_MULTIPATH,
        concat(
          ...s.nexthops.map((nh) => {
            const gw = nh.gateway !== undefined ? rtattr(RTA_GATEWAY, addrBytes(nh.gateway)) : new Uint8Array(0);
            const h = new Uint8Array(8);
            const dv = new DataView(h.buffer);
            dv.setUint16(0, 8 + gw.length, LE);
            h[2] = nh.flags ?? 0;
            h[3] = (nh.weight ?? 1) - 1;
            dv.setInt32(4, nh.ifindex, LE);
            return concat(h, gw);
          }),
        ),
      ),
    );
  } else {
    if (s.gateway !== undefined) attrs.push(rtattr(RTA_GATEWAY, addrBytes(s.gateway)));
    if (s.oif !== undefined) attrs.push(rtattr(RTA_OIF, u32(s.oif)));
  }
  if (s.cacheinfo) attrs.push(rtattr(RTA_CACHEINFO, s.cacheinfo));
  if (s.pref !== undefined) attrs.push(rtattr(RTA_PREF, u8(s.pref)));
  attrs.push(...(s.extra ?? []));
  return nlmsg(s.op === 'del' ? RTM_DELROUTE : RTM_NEWROUTE, concat(rtm, ...attrs), s);
}

/** NLMSG_DONE as netlink_dump_done() sends it: NLM_F_MULTI, an int status. */
export function doneMsg(seq: number, status = 0, flags = NLM_F_MULTI): Uint8Array {
  return nlmsg(NLMSG_DONE, i32(status), { seq, nlFlags: flags });
}

/** NLMSG_ERROR: int error (negative errno) + the request's header (capped). */
export function errorMsg(seq: number, error: number, request: Uint8Array = nlmsg(0x12, new Uint8Array(0), { seq }), flags = 0): Uint8Array {
  return nlmsg(NLMSG_ERROR, concat(i32(error), request), { seq, nlFlags: flags });
}

/** mulberry32: a tiny 32-bit seeded PRNG. */
export class Rng {
  #a: number;
  constructor(seed: number) {
    this.#a = seed >>> 0;
  }
  u32(): number {
    this.#a = (this.#a + 0x6d2b79f5) >>> 0;
    let t = this.#a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return (t ^ (t >>> 14)) >>> 0;
  }
  /** Integer in [0, n). */
  int(n: number): number {
    return n <= 0 ? 0 : this.u32() % n;
  }
  bytes(n: number): Uint8Array {
    const b = new Uint8Array(n);
    for (let i = 0; i < n; i++) b[i] = this.u32() & 0xff;
    return b;
  }
  pick<T>(xs: readonly T[]): T {
    return xs[this.int(xs.length)];
  }
}

/** Events with Uint8Array addresses turned into text, for readable assertions. */
export function readable(evs: NetlinkEvent[]): unknown[] {
  return evs.map((e) => {
    if (e.kind === 'addr') return { ...e, address: formatIpv6(e.address) };
    if (e.kind !== 'route') return e;
    const out: Record<string, unknown> = { ...e };
    for (const k of ['dst', 'src', 'gateway', 'prefsrc'] as const) if (e[k]) out[k] = formatIpv6(e[k]);
    if (e.nexthops) out.nexthops = e.nexthops.map((nh) => (nh.gateway ? { ...nh, gateway: formatIpv6(nh.gateway) } : nh));
    return out;
  });
}
