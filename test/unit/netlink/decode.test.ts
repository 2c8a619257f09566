// decodeMessages on hand-built messages: every event kind, multi-message and
// multi-part buffers, flag handling, and the malformed cases one by one.

import { describe, expect, it } from 'vitest';
import {
  AF_BRIDGE,
  AF_INET,
  AF_INET6,
  IFA_ADDRESS,
  IFA_CACHEINFO,
  IFA_F_DADFAILED,
  IFA_F_DEPRECATED,
  IFA_F_NODAD,
  IFA_F_NOPREFIXROUTE,
  IFA_F_PERMANENT,
  IFA_F_TENTATIVE,
  IFA_FLAGS,
  IFF_LOWER_UP,
  IFF_RUNNING,
  IFF_UP,
  IFLA_IFNAME,
  IF_OPER_UP,
  NLA_F_NESTED,
  NLM_F_ACK_TLVS,
  NLM_F_CAPPED,
  NLM_F_DUMP_INTR,
  NLM_F_MULTI,
  NLMSG_NOOP,
  NLMSG_OVERRUN,
  NLMSGERR_ATTR_MSG,
  RTM_DELADDR,
  RTM_NEWADDR,
  RTM_NEWLINK,
  RTM_DELROUTE,
  RTM_GETROUTE,
  RTM_NEWROUTE,
  RTA_DST,
  RTA_METRICS,
  RTA_MULTIPATH,
  RTA_OIF,
  RTA_TABLE,
  RTAX_MTU,
    addrFlags,
  decodeMessages,
  encodeDumpRequest,
  isDadFailed,
  isDeprecated,
  isLinkUp,
  isTentative,
  linkFlags,
  walkAttrs,
  type NetlinkEvent,
} from '../../../src/netlink/index.js';
import {
  addrMsg,
  concat,
  cstr,
  doneMsg,
  errorMsg,
  i32,
  ifaddrmsg,
  ifinfomsg,
  ip6,
  linkMsg,
  nlmsg,
  readable,
  routeMsg,
  rtattr,
  u32,
  u8,
} from './helpers.js';

const FOREVER = 0xffffffff;
const UP = IFF_UP | IFF_RUNNING | IFF_LOWER_UP;

describe('well-formed messages', () => {
  const cases: Array<[string, Uint8Array, unknown[]]> = [
    [
      'RTM_NEWADDR global, cacheinfo, IFA_FLAGS',
      addrMsg({ seq: 4, ifindex: 2, prefixLen: 64, flags: IFA_F_PERMANENT, ifaFlags: IFA_F_PERMANENT, address: '2001:db8::1', cacheinfo: [FOREVER, FOREVER] }),
      [{ kind: 'addr', op: 'new', seq: 4, ifindex: 2, prefixLen: 64, scope: 0, flags: 0x80, address: '2001:db8::1', preferredLft: FOREVER, validLft: FOREVER }],
    ],
    [
      'RTM_DELADDR link-local, no cacheinfo',
      addrMsg({ op: 'del', ifindex: 3, prefixLen: 64, scope: 253, address: 'fe80::1' }),
      [{ kind: 'addr', op: 'del', seq: 0, ifindex: 3, prefixLen: 64, scope: 253, flags: 0, address: 'fe80::1' }],
    ],
    [
      'IFA_LOCAL wins over IFA_ADDRESS (point-to-point: IFA_ADDRESS is the peer)',
      addrMsg({ ifindex: 5, prefixLen: 128, address: '2001:db8::ffff', local: '2001:db8::5' }),
      [{ kind: 'addr', op: 'new', seq: 0, ifindex: 5, prefixLen: 128, scope: 0, flags: 0, address: '2001:db8::5' }],
    ],
    [
      'IFA_LOCAL alone',
      addrMsg({ ifindex: 5, prefixLen: 128, local: '2001:db8::6' }),
      [{ kind: 'addr', op: 'new', seq: 0, ifindex: 5, prefixLen: 128, scope: 0, flags: 0, address: '2001:db8::6' }],
    ],
    [
      'IFA_LABEL and finite lifetimes',
      addrMsg({ ifindex: 2, prefixLen: 64, address: '2001:db8::7', label: 'eth0:x', cacheinfo: [1800, 3600, 5, 6] }),
      [{ kind: 'addr', op: 'new', seq: 0, ifindex: 2, prefixLen: 64, scope: 0, flags: 0, address: '2001:db8::7', label: 'eth0:x', preferredLft: 1800, validLft: 3600 }],
    ],
    [
      'AF_INET address: ignored',
      addrMsg({ family: AF_INET, ifindex: 1, prefixLen: 8, address: Uint8Array.of(127, 0, 0, 1) }),
      [{ kind: 'ignored', type: RTM_NEWADDR, seq: 0 }],
    ],
    [
      'RTM_NEWLINK with name, mtu, operstate',
      linkMsg({ seq: 9, ifindex: 2, flags: UP | 0x1000, name: 'eth0', mtu: 1500, operstate: IF_OPER_UP }),
      [{ kind: 'link', op: 'new', seq: 9, ifindex: 2, flags: UP | 0x1000, linkType: 1, name: 'eth0', operstate: IF_OPER_UP, mtu: 1500 }],
    ],
    [
      'RTM_DELLINK, name only',
      linkMsg({ op: 'del', ifindex: 7, flags: 0, name: 'veth0' }),
      [{ kind: 'link', op: 'del', seq: 0, ifindex: 7, flags: 0, linkType: 1, name: 'veth0' }],
    ],
    [
      'IFLA_IFNAME without NUL, 15 characters',
      linkMsg({ ifindex: 8, flags: 0, extra: [rtattr(IFLA_IFNAME, new TextEncoder().encode('abcdefghijklmno'))] }),
      [{ kind: 'link', op: 'new', seq: 0, ifindex: 8, flags: 0, linkType: 1, name: 'abcdefghijklmno' }],
    ],
    [
      'AF_BRIDGE RTM_DELLINK (port left a bridge): ignored, the link still exists',
      linkMsg({ op: 'del', family: AF_BRIDGE, ifindex: 6, flags: 0, name: 'v2' }),
      [{ kind: 'ignored', type: 17, seq: 0 }],
    ],
    ['NLMSG_DONE', doneMsg(12), [{ kind: 'done', seq: 12, errno: 0, interrupted: false }]],
    ['NLMSG_DONE, dump interrupted', doneMsg(12, 0, NLM_F_MULTI | NLM_F_DUMP_INTR), [{ kind: 'done', seq: 12, errno: 0, interrupted: true }]],
    ['NLMSG_DONE with -EINVAL', doneMsg(13, -22), [{ kind: 'done', seq: 13, errno: 22, interrupted: false }]],
    ['NLMSG_DONE without status int (lenient)', nlmsg(3, new Uint8Array(0), { seq: 1 }), [{ kind: 'done', seq: 1, errno: 0, interrupted: false }]],
    [
      'NLMSG_DONE with ext-ack message',
      nlmsg(3, concat(i32(-22), rtattr(NLMSGERR_ATTR_MSG, cstr('bad header'))), { seq: 2, nlFlags: NLM_F_MULTI | NLM_F_ACK_TLVS }),
      [{ kind: 'done', seq: 2, errno: 22, interrupted: false, message: 'bad header' }],
    ],
    ['NLMSG_ERROR -EPERM', errorMsg(5, -1), [{ kind: 'error', seq: 5, errno: 1, requestType: 0x12 }]],
    ['NLMSG_ERROR 0 is an ACK', errorMsg(6, 0), [{ kind: 'error', seq: 6, errno: 0, requestType: 0x12 }]],
    ['NLMSG_ERROR without echoed header', nlmsg(2, i32(-16), { seq: 7 }), [{ kind: 'error', seq: 7, errno: 16 }]],
    [
      'NLMSG_ERROR, request echoed in full, then ext-ack TLVs',
      errorMsg(8, -22, concat(encodeDumpRequest('addr', 8), rtattr(NLMSGERR_ATTR_MSG, cstr('nope'))), NLM_F_ACK_TLVS),
      [{ kind: 'error', seq: 8, errno: 22, requestType: 0x16, message: 'nope' }],
    ],
    [
      'NLMSG_ERROR, capped: only the request header, then ext-ack TLVs',
      errorMsg(8, -22, concat(encodeDumpRequest('addr', 8).subarray(0, 16), rtattr(NLMSGERR_ATTR_MSG, cstr('capped'))), NLM_F_ACK_TLVS | NLM_F_CAPPED),
      [{ kind: 'error', seq: 8, errno: 22, requestType: 0x16, message: 'capped' }],
    ],
    ['NLMSG_NOOP', nlmsg(NLMSG_NOOP, new Uint8Array(0), { seq: 3 }), [{ kind: 'ignored', type: NLMSG_NOOP, seq: 3 }]],
    ['NLMSG_OVERRUN', nlmsg(NLMSG_OVERRUN, new Uint8Array(0), { seq: 3 }), [{ kind: 'overrun', seq: 3 }]],
    ['RTM_NEWROUTE family AF_UNSPEC: ignored', nlmsg(RTM_NEWROUTE, new Uint8Array(12)), [{ kind: 'ignored', type: RTM_NEWROUTE, seq: 0 }]],
    ['empty buffer', new Uint8Array(0), []],
  ];
  it.each(cases)('%s', (_name, buf, want) => {
    expect(readable(decodeMessages(buf))).toEqual(want);
  });

  it('returns a copy of the address, not a view of the datagram', () => {
    const buf = addrMsg({ ifindex: 1, prefixLen: 64, address: '2001:db8::1' });
    const ev = decodeMessages(buf)[0];
    buf.fill(0);
    expect(ev.kind === 'addr' && ev.address).toEqual(ip6('2001:db8::1'));
  });

  it('works on a subarray at an odd byteOffset of a larger buffer', () => {
    const msg = addrMsg({ ifindex: 4, prefixLen: 48, address: '2001:db8:1::' });
    const big = new Uint8Array(msg.length + 7);
    big.set(msg, 3);
    expect(readable(decodeMessages(big.subarray(3, 3 + msg.length)))).toEqual([
      { kind: 'addr', op: 'new', seq: 0, ifindex: 4, prefixLen: 48, scope: 0, flags: 0, address: '2001:db8:1::' },
    ]);
  });

  it('masks NLA_F_NESTED / NLA_F_NET_BYTEORDER off attribute types', () => {
    const buf = linkMsg({ ifindex: 2, flags: 0, extra: [rtattr(IFLA_IFNAME | NLA_F_NESTED, cstr('x0'))] });
    expect(decodeMessages(buf)).toMatchObject([{ kind: 'link', name: 'x0' }]);
  });

  it('last duplicate attribute wins (as nla_parse)', () => {
    const buf = addrMsg({ ifindex: 2, prefixLen: 64, address: '2001:db8::1', extra: [rtattr(IFA_ADDRESS, ip6('2001:db8::2'))] });
    expect(readable(decodeMessages(buf))).toMatchObject([{ address: '2001:db8::2' }]);
  });
});

describe('flags', () => {
  // ifa_flags byte, IFA_FLAGS attribute (or undefined), resulting flags
  const cases: Array<[string, number, number | undefined, number]> = [
    ['byte only', IFA_F_TENTATIVE | IFA_F_PERMANENT, undefined, 0xc0],
    ['IFA_FLAGS overrides the byte (DAD done, byte stale)', IFA_F_TENTATIVE, IFA_F_PERMANENT, 0x80],
    ['IFA_FLAGS carries bits above 0xff', IFA_F_PERMANENT, IFA_F_PERMANENT | IFA_F_NOPREFIXROUTE, 0x280],
    ['IFA_FLAGS 0 clears everything', 0xff, 0, 0],
    ['kernel style: byte = low 8 bits of IFA_FLAGS', 0x82 & 0xff, 0x282, 0x282],
  ];
  it.each(cases)('%s', (_n, byte, attr, want) => {
    const [ev] = decodeMessages(addrMsg({ ifindex: 1, prefixLen: 64, address: '2001:db8::1', flags: byte, ifaFlags: attr }));
    expect(ev).toMatchObject({ kind: 'addr', flags: want });
  });

  it('addrFlags / predicates', () => {
    expect(addrFlags(0)).toEqual({
      tentative: false, deprecated: false, dadfailed: false, nodad: false,
      permanent: false, noprefixroute: false, optimistic: false, temporary: false,
    });
    const all = addrFlags(IFA_F_TENTATIVE | IFA_F_DEPRECATED | IFA_F_DADFAILED | IFA_F_NODAD | IFA_F_PERMANENT | IFA_F_NOPREFIXROUTE);
    expect(all).toMatchObject({ tentative: true, deprecated: true, dadfailed: true, nodad: true, permanent: true, noprefixroute: true, optimistic: false });
    expect([isTentative(0x40), isDeprecated(0x20), isDadFailed(0x08), isTentative(0x80)]).toEqual([true, true, true, false]);
  });

  it.each([
    [IFF_UP | IFF_RUNNING | IFF_LOWER_UP, true],
    [IFF_UP | IFF_RUNNING, true],
    [IFF_UP | 0x1000, false], // admin up, no carrier
    [IFF_RUNNING, false],
    [0, false],
  ])('isLinkUp(%s) = %s', (flags, up) => {
    expect(isLinkUp(flags)).toBe(up);
    expect(linkFlags(flags).up).toBe((flags & IFF_UP) !== 0);
  });
});

describe('several messages in one datagram', () => {
  it('multi-part dump ending in NLMSG_DONE', () => {
    const f = { nlFlags: NLM_F_MULTI, seq: 77 };
    const buf = concat(
      addrMsg({ ...f, ifindex: 1, prefixLen: 128, scope: 254, flags: 0x80, address: '::1' }),
      addrMsg({ ...f, ifindex: 2, prefixLen: 64, scope: 0, flags: 0x80, address: '2001:db8::2' }),
      addrMsg({ ...f, family: AF_INET, ifindex: 2, prefixLen: 24, address: Uint8Array.of(192, 0, 2, 1) }),
      linkMsg({ ...f, ifindex: 2, flags: UP, name: 'eth0' }),
      doneMsg(77),
    );
    expect(readable(decodeMessages(buf)).map((e) => (e as { kind: string }).kind)).toEqual(['addr', 'addr', 'ignored', 'link', 'done']);
    expect(decodeMessages(buf).every((e) => (e as { seq?: number }).seq === 77)).toBe(true);
  });

  it('a dump split over datagrams decodes the same as in one', () => {
    const msgs = [1, 2, 3].map((i) => addrMsg({ seq: 5, nlFlags: NLM_F_MULTI, ifindex: i, prefixLen: 64, address: `2001:db8::${i}` }));
    const whole = decodeMessages(concat(...msgs, doneMsg(5)));
    const parts = [...msgs, doneMsg(5)].flatMap((m) => decodeMessages(m));
    expect(parts).toEqual(whole);
  });

  it('unpadded last message (nlmsg_len not a multiple of 4) is accepted', () => {
    const m = nlmsg(RTM_GETROUTE, new Uint8Array(3), { len: 19 });
    expect(decodeMessages(m.subarray(0, 19))).toEqual([{ kind: 'ignored', type: RTM_GETROUTE, seq: 0 }]);
    // ... and in the middle the next header starts at the aligned offset.
    expect(decodeMessages(concat(m, doneMsg(1)))).toEqual([
      { kind: 'ignored', type: RTM_GETROUTE, seq: 0 },
      { kind: 'done', seq: 1, errno: 0, interrupted: false },
    ]);
  });
});

describe('malformed input', () => {
  const good = addrMsg({ seq: 1, ifindex: 1, prefixLen: 64, address: '2001:db8::1' });
  const goodEv = { kind: 'addr', seq: 1, ifindex: 1 };
  const set16 = (b: Uint8Array, at: number, v: number): Uint8Array => {
    const c = b.slice();
    new DataView(c.buffer).setUint16(at, v, true);
    return c;
  };
  const set32 = (b: Uint8Array, at: number, v: number): Uint8Array => {
    const c = b.slice();
    new DataView(c.buffer).setUint32(at, v, true);
    return c;
  };
  // After the 16-byte header and 8-byte ifaddrmsg, the first rtattr (IFA_ADDRESS) is at 24.
  const cases: Array<[string, Uint8Array, unknown[]]> = [
    ['3 bytes', Uint8Array.of(1, 2, 3), [{ kind: 'malformed', offset: 0, reason: expect.stringMatching(/trailing/) }]],
    ['15 bytes', good.subarray(0, 15), [{ kind: 'malformed', offset: 0, reason: expect.stringMatching(/too short/) }]],
    ['nlmsg_len 0', set32(good, 0, 0), [{ kind: 'malformed', offset: 0, reason: 'nlmsg_len 0 < 16', seq: 1 }]],
    ['nlmsg_len 15', set32(good, 0, 15), [{ kind: 'malformed', offset: 0, reason: 'nlmsg_len 15 < 16', seq: 1 }]],
    ['nlmsg_len beyond buffer', set32(good, 0, good.length + 4), [{ kind: 'malformed', offset: 0, reason: expect.stringMatching(/beyond buffer/), seq: 1 }]],
    ['nlmsg_len 0xffffffff', set32(good, 0, 0xffffffff), [{ kind: 'malformed', offset: 0, reason: expect.stringMatching(/beyond buffer/), seq: 1 }]],
    ['truncated datagram', good.subarray(0, good.length - 4), [{ kind: 'malformed', offset: 0, reason: expect.stringMatching(/beyond buffer/), seq: 1 }]],
    [
      'good message then stray bytes',
      concat(good, Uint8Array.of(0, 0, 0, 0, 0, 0)),
      [goodEv, { kind: 'malformed', offset: good.length, reason: expect.stringMatching(/6 trailing bytes/) }],
    ],
    [
      'bad second header stops the walk after the first message',
      concat(good, set32(good, 0, 8), good),
      [goodEv, { kind: 'malformed', offset: good.length, reason: 'nlmsg_len 8 < 16', seq: 1 }],
    ],
    [
      'ifaddrmsg truncated: malformed for the message, next message still decoded',
      concat(nlmsg(RTM_NEWADDR, Uint8Array.of(10, 64, 0, 0), { seq: 2 }), good),
      [{ kind: 'malformed', offset: 0, reason: expect.stringMatching(/ifaddrmsg truncated/), type: RTM_NEWADDR, seq: 2 }, goodEv],
    ],
    [
      'ifinfomsg truncated',
      concat(nlmsg(RTM_NEWLINK, new Uint8Array(12)), good),
      [{ kind: 'malformed', offset: 0, reason: expect.stringMatching(/ifinfomsg truncated/), type: RTM_NEWLINK, seq: 0 }, goodEv],
    ],
    [
      'rta_len 3',
      concat(set16(good, 24, 3), good),
      [{ kind: 'malformed', offset: 24, reason: 'rta_len 3 < 4', type: RTM_NEWADDR, seq: 1 }, goodEv],
    ],
    [
      'rta_len 0',
      concat(set16(good, 24, 0), good),
      [{ kind: 'malformed', offset: 24, reason: 'rta_len 0 < 4', type: RTM_NEWADDR, seq: 1 }, goodEv],
    ],
    [
      'rta_len beyond the message (but inside the buffer)',
      concat(set16(good, 24, 24), good),
      [{ kind: 'malformed', offset: 24, reason: expect.stringMatching(/beyond message/), type: RTM_NEWADDR, seq: 1 }, goodEv],
    ],
    [
      'IPv6 address of 4 bytes',
      addrMsg({ ifindex: 1, prefixLen: 64, address: Uint8Array.of(1, 2, 3, 4) }),
      [{ kind: 'malformed', offset: 24, reason: 'IPv6 address attribute of 4 bytes', type: RTM_NEWADDR, seq: 0 }],
    ],
    [
      'no address attribute',
      addrMsg({ ifindex: 1, prefixLen: 64 }),
      [{ kind: 'malformed', offset: 0, reason: expect.stringMatching(/without IFA_ADDRESS/), type: RTM_NEWADDR, seq: 0 }],
    ],
    [
      'IFA_FLAGS of 2 bytes',
      addrMsg({ ifindex: 1, prefixLen: 64, address: '2001:db8::1', extra: [rtattr(IFA_FLAGS, Uint8Array.of(1, 2))] }),
      [{ kind: 'malformed', offset: 44, reason: 'IFA_FLAGS of 2 bytes', type: RTM_NEWADDR, seq: 0 }],
    ],
    [
      'IFA_CACHEINFO of 8 bytes',
      addrMsg({ ifindex: 1, prefixLen: 64, address: '2001:db8::1', extra: [rtattr(IFA_CACHEINFO, new Uint8Array(8))] }),
      [{ kind: 'malformed', offset: 44, reason: 'IFA_CACHEINFO of 8 bytes', type: RTM_NEWADDR, seq: 0 }],
    ],
    [
      'NLMSG_ERROR without its error code',
      concat(nlmsg(2, new Uint8Array(0), { seq: 4 }), good),
      [{ kind: 'malformed', offset: 0, reason: expect.stringMatching(/NLMSG_ERROR/), type: 2, seq: 4 }, goodEv],
    ],
    [
      'NLMSG_ERROR with ext-ack flag but garbage TLVs: error still reported',
      nlmsg(2, concat(i32(-5), new Uint8Array(16), Uint8Array.of(0xff, 0xff, 1, 0)), { seq: 4, nlFlags: NLM_F_ACK_TLVS | NLM_F_CAPPED }),
      [{ kind: 'error', seq: 4, errno: 5, requestType: 0 }],
    ],
  ];
  it.each(cases)('%s', (_name, buf, want) => {
    expect(decodeMessages(buf)).toMatchObject(want);
    expect(decodeMessages(buf)).toHaveLength(want.length);
  });

  it('non-Uint8Array input is reported, not thrown', () => {
    expect(decodeMessages(null as unknown as Uint8Array)).toEqual([{ kind: 'malformed', offset: 0, reason: 'not a Uint8Array' }]);
    expect(decodeMessages('x' as unknown as Uint8Array)).toMatchObject([{ kind: 'malformed' }]);
  });

  it('a Buffer (Uint8Array subclass, pooled) decodes', () => {
    const b = Buffer.from(good);
    expect(decodeMessages(b)).toMatchObject([goodEv]);
  });
});

describe('walkAttrs (nested)', () => {
  it('walks a nested attribute inside an attribute', () => {
    const inner = concat(rtattr(1, u32(7)), rtattr(2, u8(9)));
    const outer = concat(rtattr(26 | NLA_F_NESTED, inner), rtattr(3, cstr('lo')));
    const top = walkAttrs(outer, 0, outer.length);
    expect(top.error).toBeUndefined();
    expect(top.attrs.map((a) => [a.type, a.len])).toEqual([[26, 16], [3, 3]]);
    const nested = walkAttrs(outer, top.attrs[0].start, top.attrs[0].start + top.attrs[0].len);
    expect(nested.attrs.map((a) => [a.type, a.offset, a.len])).toEqual([[1, 4, 4], [2, 12, 1]]);
  });

  it('a nested rta_len past its parent is an error even if the buffer goes on', () => {
    const inner = concat(rtattr(1, u32(7)), rtattr(2, u8(9)));
    inner[8] = 200; // second inner attribute claims 200 bytes
    const outer = concat(rtattr(26, inner), rtattr(3, cstr('lo')));
    const top = walkAttrs(outer, 0, outer.length);
    const nested = walkAttrs(outer, top.attrs[0].start, top.attrs[0].start + top.attrs[0].len);
    expect(nested.attrs).toHaveLength(1);
    expect(nested.error).toEqual({ offset: 12, reason: expect.stringMatching(/beyond message/) });
  });

  it('end beyond the buffer is clamped', () => {
    const b = rtattr(1, u32(1));
    expect(walkAttrs(b, 0, 1000).attrs).toHaveLength(1);
    expect(walkAttrs(b, 0, 1000).error).toBeUndefined();
  });

  it('1..3 leftover bytes are ignored (RTA_OK)', () => {
    const b = concat(rtattr(1, u32(1)), Uint8Array.of(1, 2, 3));
    expect(walkAttrs(b, 0, b.length)).toEqual({ attrs: [{ type: 1, offset: 0, start: 4, len: 4 }] });
  });
});

describe('body sanity', () => {
  it('ifaddrmsg/ifinfomsg helpers lay out the UAPI structs', () => {
    expect(Array.from(ifaddrmsg({ prefixLen: 64, flags: 0x80, scope: 0, ifindex: 2 }))).toEqual([AF_INET6, 64, 0x80, 0, 2, 0, 0, 0]);
    expect(Array.from(ifinfomsg({ ifindex: 1, flags: 0x10049, type: 772 }))).toEqual([0, 0, 4, 3, 1, 0, 0, 0, 0x49, 0, 1, 0, 0, 0, 0, 0]);
  });

  it('DELADDR events keep op del even with flags', () => {
    const evs: NetlinkEvent[] = decodeMessages(addrMsg({ op: 'del', ifindex: 1, prefixLen: 64, address: '2001:db8::1', flags: IFA_F_DEPRECATED }));
    expect(evs).toMatchObject([{ kind: 'addr', op: 'del', flags: IFA_F_DEPRECATED }]);
    expect(RTM_DELADDR).toBe(21);
    expect(IFA_F_DADFAILED | IFA_F_NODAD).toBe(0x0a);
  });
});

describe('route messages', () => {
  const base = { seq: 4, table: 140, dstLen: 48, dst: '2001:db8:2::', protocol: 140, type: 1, oif: 10 };
  const want = { kind: 'route', op: 'new', seq: 4, table: 140, dstLen: 48, dst: '2001:db8:2::', srcLen: 0, oif: 10, protocol: 140, type: 1, scope: 0, flags: 0 };
  const rtm = (o: { family?: number; dstLen?: number; srcLen?: number; table?: number } = {}): Uint8Array =>
    Uint8Array.of(o.family ?? AF_INET6, o.dstLen ?? 48, o.srcLen ?? 0, 0, o.table ?? 140, 140, 0, 1, 0, 0, 0, 0);
  const dst = rtattr(RTA_DST, ip6('2001:db8:2::'));

  it('RTM_NEWROUTE / RTM_DELROUTE for AF_INET6', () => {
    expect(readable(decodeMessages(routeMsg(base)))).toEqual([want]);
    expect(readable(decodeMessages(routeMsg({ ...base, op: 'del' })))).toEqual([{ ...want, op: 'del' }]);
  });
  it('every field', () => {
    const m = routeMsg({
      ...base, table: 100000, srcLen: 64, src: '2001:db8:8::', prefsrc: '2001:db8:1::1', gateway: 'fe80::1', priority: 7, mtu: 1280,
      scope: 200, flags: 0x200, cacheinfo: new Uint8Array(32), pref: 0,
    });
    expect(readable(decodeMessages(m))).toEqual([
      { ...want, table: 100000, srcLen: 64, src: '2001:db8:8::', gateway: 'fe80::1', prefsrc: '2001:db8:1::1', priority: 7, mtu: 1280, scope: 200, flags: 0x200 },
    ]);
  });
  it('multipath: nexthops with weight and flags, with and without gateway', () => {
    const m = routeMsg({ ...base, oif: undefined, nexthops: [{ ifindex: 10, gateway: 'fe80::1', flags: 4 }, { ifindex: 11, weight: 256 }] });
    expect(readable(decodeMessages(m))).toEqual([
      { ...want, oif: undefined, nexthops: [{ ifindex: 10, gateway: 'fe80::1', weight: 1, flags: 4 }, { ifindex: 11, weight: 256, flags: 0 }] },
    ].map(({ oif: _o, ...r }) => r));
  });
  it('table: RTA_TABLE when present, else rtm_table', () => {
    expect(decodeMessages(nlmsg(RTM_NEWROUTE, concat(rtm({ table: 77 }), dst, rtattr(RTA_OIF, u32(3)))))).toMatchObject([{ kind: 'route', table: 77, oif: 3 }]);
    expect(decodeMessages(nlmsg(RTM_NEWROUTE, concat(rtm({ table: 252 }), rtattr(RTA_TABLE, u32(14010)), dst)))).toMatchObject([{ kind: 'route', table: 14010 }]);
  });
  it('default route: no dst; metrics without RTAX_MTU: no mtu', () => {
    const m = nlmsg(RTM_NEWROUTE, concat(rtm({ dstLen: 0 }), rtattr(RTA_METRICS, rtattr(8 /* RTAX_ADVMSS */, u32(1220)))));
    expect(decodeMessages(m)).toEqual([{ kind: 'route', op: 'new', seq: 0, table: 140, dstLen: 0, srcLen: 0, protocol: 140, type: 1, scope: 0, flags: 0 }]);
  });
  it('RTA_METRICS with NLA_F_NESTED set decodes the same', () => {
    const m = nlmsg(RTM_NEWROUTE, concat(rtm(), dst, rtattr(RTA_METRICS | NLA_F_NESTED, rtattr(RTAX_MTU, u32(1400)))));
    expect(decodeMessages(m)).toMatchObject([{ kind: 'route', mtu: 1400 }]);
  });
  it.each([
    ['AF_INET', AF_INET],
    ['RTNL_FAMILY_IP6MR', 129],
    ['AF_UNSPEC', 0],
  ])('%s routes are ignored', (_n, family) => {
    expect(decodeMessages(nlmsg(RTM_DELROUTE, concat(rtm({ family }), rtattr(RTA_DST, u32(0x0a000000)))))).toEqual([{ kind: 'ignored', type: RTM_DELROUTE, seq: 0 }]);
  });
  it.each([
    ['rtmsg truncated', nlmsg(RTM_NEWROUTE, rtm().subarray(0, 10), { len: 26 }), 0, 'rtmsg truncated (10 bytes)'],
    ['dst_len 129', nlmsg(RTM_NEWROUTE, concat(rtm({ dstLen: 129 }), dst)), 0, 'IPv6 route with prefix length 129'],
    ['src_len 200', nlmsg(RTM_NEWROUTE, concat(rtm({ srcLen: 200 }), dst)), 0, 'IPv6 route with prefix length 200'],
    ['RTA_DST of 4 bytes', nlmsg(RTM_NEWROUTE, concat(rtm(), rtattr(RTA_DST, u32(1)))), 28, 'RTA_DST of 4 bytes'],
    ['RTA_OIF of 2 bytes', nlmsg(RTM_NEWROUTE, concat(rtm(), dst, rtattr(RTA_OIF, Uint8Array.of(1, 0)))), 48, 'RTA_OIF of 2 bytes'],
    ['rta_len past the message', nlmsg(RTM_NEWROUTE, concat(rtm(), rtattr(RTA_DST, ip6('2001:db8::'), { rtaLen: 200 }))), 28, 'rta_len 200 beyond message (20 left)'],
    ['bad RTA_METRICS nest', nlmsg(RTM_NEWROUTE, concat(rtm(), rtattr(RTA_METRICS, Uint8Array.of(2, 0, 2, 0)))), 32, 'RTA_METRICS: rta_len 2 < 4'],
    ['RTAX_MTU of 2 bytes', nlmsg(RTM_NEWROUTE, concat(rtm(), rtattr(RTA_METRICS, rtattr(RTAX_MTU, Uint8Array.of(1, 2))))), 32, 'RTAX_MTU of 2 bytes'],
    ['rtnh_len 4', nlmsg(RTM_NEWROUTE, concat(rtm(), rtattr(RTA_MULTIPATH, Uint8Array.of(4, 0, 0, 0, 1, 0, 0, 0)))), 32, 'rtnh_len 4 (8 left)'],
    ['nexthop gateway of 4 bytes', nlmsg(RTM_NEWROUTE, concat(rtm(), rtattr(RTA_MULTIPATH, concat(Uint8Array.of(16, 0, 0, 0, 1, 0, 0, 0), rtattr(5, u32(1)))))), 40, 'nexthop RTA_GATEWAY of 4 bytes'],
  ])('malformed: %s', (_n, m, offset, reason) => {
    expect(decodeMessages(concat(m, doneMsg(4)))).toEqual([
      { kind: 'malformed', offset, reason, type: RTM_NEWROUTE, seq: 0 },
      { kind: 'done', seq: 4, errno: 0, interrupted: false },
    ]);
  });
  it('returns copies of addresses, not views of the datagram', () => {
    const buf = routeMsg({ ...base, gateway: 'fe80::1', prefsrc: '2001:db8:1::1' });
    const [ev] = decodeMessages(buf);
    buf.fill(0);
    expect(readable([ev])).toEqual([{ ...want, gateway: 'fe80::1', prefsrc: '2001:db8:1::1' }]);
  });
});
