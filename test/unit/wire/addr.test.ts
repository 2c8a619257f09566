// IPv6 text <-> bytes: RFC 4291 §2.2 input forms, RFC 5952 output.

import { describe, expect, it } from 'vitest';
import { addrEqual, formatIpv6, ipv6, isMulticast, isUnspecified, parseIpv6 } from '../../../src/wire/index.js';
import { Rng, hex } from './helpers.js';

describe('formatIpv6 (RFC 5952)', () => {
  it.each([
    // §4.1 leading zeros suppressed; §4.3 lower case
    ['2001:0DB8:0000:0000:0000:0000:0000:0001', '2001:db8::1'],
    ['2001:db8:aaaa:bbbb:cccc:dddd:eeee:0001', '2001:db8:aaaa:bbbb:cccc:dddd:eeee:1'],
    // §4.2.1 "::" used to its maximum capability
    ['2001:db8:0:0:0:0:2:1', '2001:db8::2:1'],
    // §4.2.2 a single 16-bit 0 field is not shortened
    ['2001:db8:0:1:1:1:1:1', '2001:db8:0:1:1:1:1:1'],
    // §4.2.3 longest run wins; on a tie the first one
    ['2001:0:0:1:0:0:0:1', '2001:0:0:1::1'],
    ['2001:db8:0:0:1:0:0:1', '2001:db8::1:0:0:1'],
    ['::', '::'],
    ['0:0:0:0:0:0:0:1', '::1'],
    ['1:0:0:0:0:0:0:0', '1::'],
    ['fe80::1:2', 'fe80::1:2'],
    ['1:2:3:4:5:6:7::', '1:2:3:4:5:6:7:0'],
    ['::2:3:4:5:6:7:8', '0:2:3:4:5:6:7:8'],
    // §5 IPv4-mapped addresses in mixed notation
    ['::ffff:192.0.2.1', '::ffff:192.0.2.1'],
    ['::FFFF:c000:0201', '::ffff:192.0.2.1'],
    // other embedded-IPv4 input forms are printed in hex
    ['::192.0.2.1', '::c000:201'],
    ['64:ff9b::192.0.2.33', '64:ff9b::c000:221'],
  ])('%s → %s', (input, out) => {
    expect(formatIpv6(ipv6(input))).toBe(out);
  });

  it('agrees with the WHATWG URL serializer on random non-mapped addresses', () => {
    const r = new Rng(11);
    for (let i = 0; i < 2000; i++) {
      const a = r.bytes(16);
      // Zero out random groups so runs of zeros are common.
      for (let g = 0; g < 8; g++) if (r.bool(0.5)) a[2 * g] = a[2 * g + 1] = 0;
      if (a[10] === 0xff && a[11] === 0xff) a[11] = 0;
      const text = formatIpv6(a);
      expect(new URL(`http://[${text}]/`).hostname).toBe(`[${text}]`);
      expect(parseIpv6(text)).toEqual(a);
    }
  });
});

describe('parseIpv6', () => {
  it('parses the full, compressed and mixed forms', () => {
    expect(hex(ipv6('2001:db8::1'))).toBe('20010db8000000000000000000000001');
    expect(hex(ipv6('::ffff:1.2.3.4'))).toBe('00000000000000000000ffff01020304');
    expect(hex(ipv6('1:2:3:4:5:6:1.2.3.4'))).toBe('00010002000300040005000601020304');
  });

  it.each([
    '', ':', ':::', '1:2:3:4:5:6:7:8:9', '1:2:3:4:5:6:7', '1::2::3', '1:::2', ':1::2', '1::2:', 'g::1',
    '12345::', '1.2.3.4', '::1.2.3', '::256.1.1.1', '::01.2.3.4', '1.2.3.4::', 'fe80::1%eth0',
    '2001:db8::/32', '1:2:3:4:5:6:7::8', ' ::1', '::1:2:3:4:5:6:1.2.3.4',
  ])('rejects %j', (text) => {
    expect(parseIpv6(text)).toBeNull();
    expect(() => ipv6(text)).toThrow(TypeError);
  });
});

describe('address predicates', () => {
  it('classifies', () => {
    expect(isMulticast(ipv6('ff02::1'))).toBe(true);
    expect(isMulticast(ipv6('fe80::1'))).toBe(false);
    expect(isUnspecified(ipv6('::'))).toBe(true);
    expect(isUnspecified(ipv6('::1'))).toBe(false);
    expect(addrEqual(ipv6('2001:db8::1'), ipv6('2001:DB8:0::0:1'))).toBe(true);
    expect(addrEqual(ipv6('2001:db8::1'), ipv6('2001:db8::2'))).toBe(false);
  });

  it('formatIpv6 refuses non-addresses', () => {
    expect(() => formatIpv6(new Uint8Array(4))).toThrow(TypeError);
  });
});
