// Dump requests (golden bytes), byte order, and consts.ts against the UAPI
// headers of the machine running the tests.

import { execFileSync } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { endianness, tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import * as C from '../../../src/netlink/consts.js';
import { HOST_LITTLE_ENDIAN, decodeMessages, encodeDumpRequest, nlAlign } from '../../../src/netlink/index.js';
import { hex } from './helpers.js';

describe('encodeDumpRequest', () => {
  it.each([
    // nlmsg_len  type  flags(REQUEST|ROOT|MATCH)  seq  pid | body
    ['addr', 1, undefined, '18000000 1600 0103 01000000 00000000 | 0a000000 00000000'],
    ['addr', 0xdeadbeef, undefined, '18000000 1600 0103 efbeadde 00000000 | 0a000000 00000000'],
    ['addr', 7, C.AF_UNSPEC, '18000000 1600 0103 07000000 00000000 | 00000000 00000000'],
    ['link', 2, undefined, '20000000 1200 0103 02000000 00000000 | 00000000 00000000 00000000 00000000'],
    ['link', 3, C.AF_INET6, '20000000 1200 0103 03000000 00000000 | 0a000000 00000000 00000000 00000000'],
  ] as const)('%s seq %d family %s', (type, seq, family, golden) => {
    const req = encodeDumpRequest(type, seq, family);
    expect(hex(req)).toBe(golden.replace(/[ |]/g, ''));
    expect(req.length % 4).toBe(0);
    expect(req.length).toBe(16 + nlAlign(type === 'addr' ? C.IFADDRMSG_LEN : C.IFINFOMSG_LEN));
  });

  it('wraps seq to u32', () => {
    expect(hex(encodeDumpRequest('addr', 2 ** 32 + 5).subarray(8, 12))).toBe('05000000');
    expect(hex(encodeDumpRequest('addr', -1).subarray(8, 12))).toBe('ffffffff');
  });

  it('is a request the decoder sees as an ignored message of the right type', () => {
    expect(decodeMessages(encodeDumpRequest('addr', 9))).toEqual([{ kind: 'ignored', type: C.RTM_GETADDR, seq: 9 }]);
    expect(decodeMessages(encodeDumpRequest('link', 9))).toEqual([{ kind: 'ignored', type: C.RTM_GETLINK, seq: 9 }]);
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
  it.skipIf(!cc || !HEADERS.every((h) => existsSync(h)))('every constant, via the C compiler', () => {
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
