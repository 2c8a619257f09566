// Dump requests (golden bytes), byte order, and consts.ts against the UAPI
// headers of the machine running the tests.

import { execFileSync } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { endianness, tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import * as C from '../../../src/netlink/consts.js';
import {
  HOST_LITTLE_ENDIAN,
  decodeMessages,
  encodeAddrRequest,
  encodeDumpRequest,
  encodeRouteRequest,
  nlAlign,
  type RouteRequest,
} from '../../../src/netlink/index.js';
import { hex, ip6, readable } from './helpers.js';

/** Under CI=true a missing tool is a failure, not a skip (scripts/deps.sh installs them). */
const CI = process.env.CI === 'true';

describe('encodeDumpRequest', () => {
  it.each([
    // nlmsg_len  type  flags(REQUEST|ROOT|MATCH)  seq  pid | body
    ['addr', 1, undefined, '18000000 1600 0103 01000000 00000000 | 0a000000 00000000'],
    ['addr', 0xdeadbeef, undefined, '18000000 1600 0103 efbeadde 00000000 | 0a000000 00000000'],
    ['addr', 7, C.AF_UNSPEC, '18000000 1600 0103 07000000 00000000 | 00000000 00000000'],
    ['link', 2, undefined, '20000000 1200 0103 02000000 00000000 | 00000000 00000000 00000000 00000000'],
    ['link', 3, C.AF_INET6, '20000000 1200 0103 03000000 00000000 | 0a000000 00000000 00000000 00000000'],
    ['route', 4, undefined, '1c000000 1a00 0103 04000000 00000000 | 0a000000 00000000 00000000'],
    ['route', 5, C.AF_INET, '1c000000 1a00 0103 05000000 00000000 | 02000000 00000000 00000000'],
  ] as const)('%s seq %d family %s', (type, seq, family, golden) => {
    const req = encodeDumpRequest(type, seq, family);
    expect(hex(req)).toBe(golden.replace(/[ |]/g, ''));
    expect(req.length % 4).toBe(0);
    expect(req.length).toBe(16 + nlAlign(type === 'addr' ? C.IFADDRMSG_LEN : type === 'route' ? C.RTMSG_LEN : C.IFINFOMSG_LEN));
  });

  it('wraps seq to u32', () => {
    expect(hex(encodeDumpRequest('addr', 2 ** 32 + 5).subarray(8, 12))).toBe('05000000');
    expect(hex(encodeDumpRequest('addr', -1).subarray(8, 12))).toBe('ffffffff');
  });

  it('is a request the decoder sees as an ignored message of the right type', () => {
    expect(decodeMessages(encodeDumpRequest('addr', 9))).toEqual([{ kind: 'ignored', type: C.RTM_GETADDR, seq: 9 }]);
    expect(decodeMessages(encodeDumpRequest('link', 9))).toEqual([{ kind: 'ignored', type: C.RTM_GETLINK, seq: 9 }]);
    expect(decodeMessages(encodeDumpRequest('route', 9))).toEqual([{ kind: 'ignored', type: C.RTM_GETROUTE, seq: 9 }]);
  });
});

const g = (s: string): string => s.replace(/[ |]/g, '');
const A1 = '20010db8000100000000000000000001';

describe('encodeAddrRequest', () => {
  const spec = { ifindex: 10, address: ip6('2001:db8:1::1'), prefixLen: 64, flags: C.IFA_F_NODAD | C.IFA_F_NOPREFIXROUTE };
  // nlmsghdr (len type flags seq pid) | ifaddrmsg (family plen flags scope index) | IFA_LOCAL | IFA_ADDRESS | IFA_FLAGS
  const attrs = `1400 0200 ${A1} | 1400 0100 ${A1} | 0800 0800 02020000`;

  it('new: RTM_NEWADDR, REQUEST|ACK|CREATE|EXCL', () => {
    expect(hex(encodeAddrRequest('new', 5, spec))).toBe(g(`48000000 1400 0506 05000000 00000000 | 0a 40 02 00 0a000000 | ${attrs}`));
  });
  it('new with replace: REQUEST|ACK|CREATE|REPLACE', () => {
    expect(hex(encodeAddrRequest('new', 6, { ...spec, replace: true }))).toBe(g(`48000000 1400 0505 06000000 00000000 | 0a 40 02 00 0a000000 | ${attrs}`));
  });
  it('del: RTM_DELADDR, REQUEST|ACK only (replace ignored)', () => {
    expect(hex(encodeAddrRequest('del', 7, { ...spec, replace: true }))).toBe(g(`48000000 1500 0500 07000000 00000000 | 0a 40 02 00 0a000000 | ${attrs}`));
  });
  it('defaults: flags 0 (IFA_FLAGS still sent), scope universe; scope and high flag bits as given', () => {
    const bare = encodeAddrRequest('new', 1, { ifindex: 2, address: ip6('2001:db8::5'), prefixLen: 128 });
    expect(hex(bare.subarray(16, 24))).toBe('0a800000' + '02000000');
    expect(hex(bare.subarray(bare.length - 8))).toBe('0800080000000000');
    const x = encodeAddrRequest('new', 1, { ifindex: 2, address: ip6('2001:db8::5'), prefixLen: 64, flags: 0x1234, scope: C.RT_SCOPE_LINK });
    expect(hex(x.subarray(16, 20))).toBe('0a4034fd');
    expect(hex(x.subarray(x.length - 4))).toBe('34120000');
  });
  it('decodes back to the address it describes', () => {
    expect(readable(decodeMessages(encodeAddrRequest('new', 9, spec)))).toEqual([
      { kind: 'addr', op: 'new', seq: 9, ifindex: 10, prefixLen: 64, scope: 0, flags: 0x202, address: '2001:db8:1::1' },
    ]);
  });
  it.each([
    ['address of 4 bytes', { address: new Uint8Array(4) }],
    ['prefixLen 129', { prefixLen: 129 }],
    ['prefixLen 1.5', { prefixLen: 1.5 }],
    ['ifindex 0', { ifindex: 0 }],
    ['ifindex 2^31', { ifindex: 2 ** 31 }],
    ['flags -1', { flags: -1 }],
    ['scope 256', { scope: 256 }],
  ])('RangeError for %s', (_n, bad) => {
    expect(() => encodeAddrRequest('new', 1, { ...spec, ...bad })).toThrow(RangeError);
  });
});

describe('encodeRouteRequest', () => {
  const dst2 = ip6('2001:db8:2::');
  const DST2 = '20010db8000200000000000000000000';
  const r140: RouteRequest = { table: 140, dst: dst2, dstLen: 48, oif: 10, prefsrc: ip6('2001:db8:1::1'), mtu: 1400 };

  it('new in table 140 with oif, prefsrc and mtu (RTA_METRICS { RTAX_MTU }, no NLA_F_NESTED)', () => {
    // rtmsg: family dst_len src_len tos table protocol(140) scope(universe) type(unicast) flags
    expect(hex(encodeRouteRequest('new', 7, r140))).toBe(g(
      `58000000 1800 0506 07000000 00000000 | 0a 30 00 00 8c 8c 00 01 00000000 | 1400 0100 ${DST2} | 0800 0400 0a000000 | 1400 0700 ${A1} | 0c00 0800 0800 0200 78050000`,
    ));
  });
  it('table > 255: rtm_table RT_TABLE_UNSPEC and RTA_TABLE first; priority', () => {
    expect(hex(encodeRouteRequest('new', 8, { table: 14010, dst: ip6('2001:db8:3::'), dstLen: 48, oif: 10, priority: 100 }))).toBe(g(
      '48000000 1800 0506 08000000 00000000 | 0a 30 00 00 00 8c 00 01 00000000 | 0800 0f00 ba360000 | 1400 0100 20010db8000300000000000000000000 | 0800 0400 0a000000 | 0800 0600 64000000',
    ));
    expect(encodeRouteRequest('new', 1, { ...r140, table: 255 })[20]).toBe(255);
    expect(encodeRouteRequest('new', 1, { ...r140, table: 256 }).subarray(20, 21)[0]).toBe(0);
    expect(hex(encodeRouteRequest('new', 1, { ...r140, table: 0xffffffff }).subarray(28, 36))).toBe('08000f00ffffffff');
  });
  it('default route via a gateway: no RTA_DST', () => {
    expect(hex(encodeRouteRequest('new', 9, { table: 141, dst: new Uint8Array(16), dstLen: 0, gateway: ip6('fe80::1'), oif: 10 }))).toBe(g(
      '38000000 1800 0506 09000000 00000000 | 0a 00 00 00 8d 8c 00 01 00000000 | 1400 0500 fe800000000000000000000000000001 | 0800 0400 0a000000',
    ));
  });
  it('replace: REQUEST|ACK|CREATE|REPLACE; blackhole type; explicit protocol', () => {
    const x = encodeRouteRequest('new', 1, { ...r140, replace: true, type: 'blackhole', protocol: C.RTPROT_STATIC });
    expect(hex(x.subarray(4, 8))).toBe('18000505');
    expect(hex(x.subarray(16, 24))).toBe('0a3000008c040006');
  });
  it('del: RTM_DELROUTE, REQUEST|ACK, protocol unspec (any), scope nowhere, type unspec unless given', () => {
    expect(hex(encodeRouteRequest('del', 10, { table: 140, dst: dst2, dstLen: 48, replace: true }))).toBe(g(
      `30000000 1900 0500 0a000000 00000000 | 0a 30 00 00 8c 00 ff 00 00000000 | 1400 0100 ${DST2}`,
    ));
    expect(hex(encodeRouteRequest('del', 1, { table: 140, dst: dst2, dstLen: 48, type: 'blackhole', protocol: C.RTPROT_SHIM6 }).subarray(16, 24))).toBe('0a3000008c8cff06');
    expect(encodeRouteRequest('del', 1, { table: 140, dst: dst2, dstLen: 48, type: 'unicast' })[23]).toBe(C.RTN_UNICAST);
  });
  it('clears host bits beyond dstLen and does not touch the caller\'s arrays', () => {
    const dst = ip6('2001:db8:2:ffff:ffff::1');
    const at = (len: number): string => hex(encodeRouteRequest('new', 1, { table: 1, dst, dstLen: len, oif: 1 }).subarray(32, 48));
    expect(at(48)).toBe(DST2);
    expect(at(52)).toBe('20010db80002f0000000000000000000');
    expect(at(128)).toBe('20010db80002ffffffff000000000001');
    expect(at(127)).toBe('20010db80002ffffffff000000000000');
    expect(hex(dst)).toBe('20010db80002ffffffff000000000001');
  });
  it('decodes back to the route it describes', () => {
    expect(readable(decodeMessages(encodeRouteRequest('new', 3, { ...r140, table: 14010, priority: 7, gateway: ip6('fe80::1') })))).toEqual([
      {
        kind: 'route', op: 'new', seq: 3, table: 14010, dstLen: 48, dst: '2001:db8:2::', srcLen: 0, oif: 10, gateway: 'fe80::1',
        prefsrc: '2001:db8:1::1', priority: 7, mtu: 1400, protocol: C.RTPROT_SHIM6, type: C.RTN_UNICAST, scope: 0, flags: 0,
      },
    ]);
  });
  it('wraps seq to u32', () => {
    expect(hex(encodeRouteRequest('new', 2 ** 32 + 5, r140).subarray(8, 12))).toBe('05000000');
  });
  it.each([
    ['table -1', { table: -1 }],
    ['table 2^32', { table: 2 ** 32 }],
    ['table 1.5', { table: 1.5 }],
    ['dst of 4 bytes', { dst: new Uint8Array(4) }],
    ['dstLen 129', { dstLen: 129 }],
    ['oif 0', { oif: 0 }],
    ['gateway of 4 bytes', { gateway: new Uint8Array(4) }],
    ['prefsrc of 15 bytes', { prefsrc: new Uint8Array(15) }],
    ['mtu 0', { mtu: 0 }],
    ['priority -1', { priority: -1 }],
    ['protocol 256', { protocol: 256 }],
    ['type local', { type: 'local' as 'unicast' }],
  ])('RangeError for %s', (_n, bad) => {
    expect(() => encodeRouteRequest('new', 1, { ...r140, ...bad })).toThrow(RangeError);
  });
});

describe('byte order', () => {
  it('HOST_LITTLE_ENDIAN agrees with os.endianness()', () => {
    expect(HOST_LITTLE_ENDIAN).toBe(endianness() === 'LE');
  });
  it('this test suite assumes a little-endian host (x86-64, arm64)', () => {
    expect(endianness()).toBe('LE');
  });
});

// Every numeric export of consts.ts, compiled against the real headers. Names
// that are not macros/enumerators themselves map to a C expression; null = not UAPI.
const C_EXPR: Record<string, string | null> = {
  NLMSGERR_LEN: 'sizeof(struct nlmsgerr)',
  RTA_HDRLEN: 'sizeof(struct rtattr)',
  IFINFOMSG_LEN: 'sizeof(struct ifinfomsg)',
  IFADDRMSG_LEN: 'sizeof(struct ifaddrmsg)',
  IFA_CACHEINFO_LEN: 'sizeof(struct ifa_cacheinfo)',
  RTMSG_LEN: 'sizeof(struct rtmsg)',
  RTNEXTHOP_LEN: 'sizeof(struct rtnexthop)',
  RTPROT_SHIM6: null, // ours: Shim6's IP protocol number as rtm_protocol
  NLA_TYPE_MASK: '(NLA_TYPE_MASK & 0xffff)',
  INFINITY_LIFE_TIME: null, // include/net/addrconf.h, kernel-internal
};
const HEADERS = ['/usr/include/linux/rtnetlink.h', '/usr/include/linux/if_addr.h', '/usr/include/linux/if_link.h'];
const cc = ['cc', 'gcc', 'clang'].find((c) => {
  try {
    execFileSync(c, ['--version'], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
});

describe('consts.ts matches the UAPI headers', () => {
  it.skipIf(!CI && (!cc || !HEADERS.every((h) => existsSync(h))))('every constant, via the C compiler', () => {
    const names = Object.entries(C)
      .filter(([, v]) => typeof v === 'number')
      .map(([k]) => k)
      .filter((k) => C_EXPR[k] !== null);
    expect(names.length).toBeGreaterThan(90);
    const src = [
      '#include <stdio.h>',
      '#include <sys/socket.h>',
      '#include <linux/netlink.h>',
      '#include <linux/rtnetlink.h>',
      '#include <linux/if_addr.h>',
      '#include <linux/if_link.h>',
      '#include <linux/if.h>',
      'int main(void) {',
      ...names.map((k) => `  printf("%s %lld\\n", "${k}", (long long)(${C_EXPR[k] ?? k}));`),
      '  return 0;',
      '}',
    ].join('\n');
    const dir = mkdtempSync(join(tmpdir(), 'nlconsts-'));
    try {
      writeFileSync(join(dir, 'c.c'), src);
      execFileSync(cc!, ['-o', join(dir, 'c'), join(dir, 'c.c')], { stdio: 'pipe' });
      const out = execFileSync(join(dir, 'c'), { encoding: 'utf8' });
      const fromC = Object.fromEntries(out.trim().split('\n').map((l) => [l.split(' ')[0], Number(l.split(' ')[1])]));
      const fromTs = Object.fromEntries(names.map((k) => [k, (C as Record<string, unknown>)[k]]));
      expect(fromTs).toEqual(fromC);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
