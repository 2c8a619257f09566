// Error rows: every way a received header can be rejected, and what the
// caller gets to answer with (RFC 5533 §5.14, §5.15, §12.3).

import { describe, expect, it } from 'vitest';
import {
  ErrorCode,
  MAX_ERROR_QUOTE,
  MAX_SHIM6_MSG,
  decode,
  decodeMessage,
  decodePayloadHeader,
  encode,
  encodeOption,
  encodedLength,
  errorMessageFor,
  fitsMinMtu,
  ipv6,
  makeErrorMessage,
  parseQuotedPacket,
  writeChecksum,
  type DecodeResult,
  type Shim6Message,
  type Shim6Packet,
} from '../../../src/wire/index.js';
import { Rng, concat, hex, randomMessage, unhex } from './helpers.js';

/** Message bytes with Hdr Ext Len set from the length and the checksum fixed up. */
function seal(b: Uint8Array): Uint8Array {
  const out = b.slice();
  out[1] = out.length / 8 - 1;
  writeChecksum(out, out.length);
  return out;
}

function errOf<T>(r: DecodeResult<T>) {
  if (r.ok) throw new Error('expected a decode failure');
  return r.error;
}

const I1 = unhex('3b010100562b0123456789abdeadbeef');
const KA = unhex('3b014200c40e00000000beef00000000');
const PEXT = unhex('110080000000beef');
const i1Head = I1.slice(0, 16);

describe('truncation', () => {
  const r = new Rng(7);
  const samples: Uint8Array[] = [I1, KA];
  for (let i = 0; i < 40; i++) samples.push(encode(randomMessage(r)));

  it('rejects every proper prefix of a message as truncated', () => {
    for (const m of samples) {
      for (let n = 0; n < m.length; n++) {
        const e = errOf(decode(m.subarray(0, n)));
        expect(e.kind, `${hex(m)} cut at ${n}`).toBe('truncated');
        expect(e.errorCode).toBeUndefined();
      }
    }
  });

  it('rejects every proper prefix of a payload extension header', () => {
    for (let n = 0; n < 8; n++) expect(errOf(decodePayloadHeader(PEXT.subarray(0, n))).kind).toBe('truncated');
  });

  it('ignores octets after the length Hdr Ext Len gives', () => {
    const r2 = decode(concat(I1, unhex('0102030405060708')));
    expect(r2.ok && r2.length).toBe(16);
  });
});

describe('Hdr Ext Len', () => {
  it.each([
    ['I2', 3, 1],
    ['I2bis', 6, 2],
    ['Probe', 67, 5],
  ] as const)('%s (type %i) with Hdr Ext Len %i is below the minimum', (_k, type, hel) => {
    const b = new Uint8Array((hel + 1) * 8);
    b[0] = 59;
    b[2] = type;
    b[12] = 0x01; // Probe: Psent = 1
    const e = errOf(decode(seal(b)));
    expect(e.kind).toBe('bad-length');
    expect(e.offset).toBe(1);
  });

  it('Hdr Ext Len 0 is below every message minimum', () => {
    const b = seal(I1.slice(0, 8));
    expect(errOf(decode(b)).kind).toBe('bad-length');
  });

  it('a Hdr Ext Len claiming more than the buffer is truncation', () => {
    const b = I1.slice();
    b[1] = 2;
    expect(errOf(decode(b)).kind).toBe('truncated');
  });

  it('a Probe whose reports overrun Hdr Ext Len is bad-length', () => {
    const ok = encode({
      kind: 'Probe',
      receiverContextTag: 1n,
      state: 0,
      sent: [{ src: ipv6('::1'), dst: ipv6('::2'), nonce: 1, data: 2 }],
      received: [],
    });
    const b = ok.slice();
    b[12] = 0x21; // claims 2 received reports that are not there
    expect(errOf(decode(seal(b))).kind).toBe('bad-length');
  });

  it('a payload extension header must have Hdr Ext Len 0', () => {
    const b = PEXT.slice();
    b[1] = 1;
    expect(errOf(decodePayloadHeader(concat(b, new Uint8Array(8)))).kind).toBe('bad-length');
    expect(errOf(decode(concat(b, new Uint8Array(8)))).kind).toBe('bad-length');
  });
});

describe('checksum', () => {
  it('rejects a single flipped bit anywhere in the header', () => {
    for (let bit = 0; bit < I1.length * 8; bit++) {
      const b = I1.slice();
      b[bit >> 3] ^= 0x80 >> (bit & 7);
      if (bit >> 3 === 1) continue; // Hdr Ext Len: becomes truncation
      if (bit === 16) continue; // P bit: becomes a payload extension header
      expect(errOf(decodeMessage(b)).kind).toBe('bad-checksum');
    }
  });

  it('can be skipped for quoted packets', () => {
    const b = I1.slice();
    b[4] ^= 0xff;
    expect(decodeMessage(b, { verifyChecksum: false }).ok).toBe(true);
  });

  it('accepts 0xffff in place of a computed 0x0000 (one\'s complement -0)', () => {
    // Find a nonce that makes the computed checksum 0, then store 0xffff.
    const b = I1.slice();
    for (let n = 0; n < 0x10000; n++) {
      b[14] = n >> 8;
      b[15] = n & 0xff;
      writeChecksum(b, 16);
      if (b[4] === 0 && b[5] === 0) break;
    }
    expect(b[4] | b[5]).toBe(0);
    b[4] = b[5] = 0xff;
    expect(decodeMessage(b).ok).toBe(true);
  });
});

describe('common header fields', () => {
  it('S = 1 is a HIP message, not Shim6', () => {
    const b = I1.slice();
    b[3] |= 1;
    expect(errOf(decode(seal(b))).kind).toBe('not-shim6');
  });

  it('P = 1 is refused by decodeMessage and P = 0 by decodePayloadHeader', () => {
    expect(errOf(decodeMessage(PEXT)).kind).toBe('wrong-p-bit');
    expect(errOf(decodePayloadHeader(I1)).kind).toBe('wrong-p-bit');
  });

  it('ignores the R bit, Reserved1, Reserved2 and the Next Header value', () => {
    const b = KA.slice();
    b[0] = 17; // Next Header other than 59
    b[3] = 0xfe; // Reserved1 all ones, S = 0
    b[6] |= 0x80; // R
    b.fill(0xff, 12, 16); // Reserved2
    const r = decode(seal(b));
    expect(r.ok && r.msg).toEqual({ kind: 'Keepalive', receiverContextTag: 0xbeefn, options: [] });
  });

  it('ignores the I2bis 49-bit Reserved2 (including the top bit of octet 26)', () => {
    const m: Shim6Message = {
      kind: 'I2bis',
      initiatorContextTag: 5n,
      initiatorNonce: 6,
      responderNonce: 7,
      packetContextTag: 0x7fffffffffffn,
      options: [],
    };
    const b = encode(m);
    b.fill(0xff, 20, 26);
    b[26] |= 0x80;
    const r = decode(seal(b));
    expect(r.ok && r.msg).toEqual(m);
  });
});

describe('unknown message type → Error code 0, Pointer at the type octet', () => {
  it.each([0, 7, 59, 60, 63, 69, 100, 124, 127])('type %i', (type) => {
    const b = i1Head.slice();
    b[2] = type;
    const e = errOf(decode(seal(b)));
    expect(e).toMatchObject({ kind: 'unknown-type', type, errorCode: ErrorCode.UnknownMessageType, pointer: 2 });
  });

  it('builds the Error reply with the Pointer counted from the IPv6 header', () => {
    const b = i1Head.slice();
    b[2] = 100;
    const shim = seal(b);
    const ip6 = unhex('6000000000108c40' + '20010db8000a00000000000000000001' + '20010db8000b00000000000000000001');
    const invoking = concat(ip6, shim);
    const reply = errorMessageFor(errOf(decode(shim)), invoking, 40);
    expect(reply).toEqual({ kind: 'Error', code: 0, pointer: 42, packetInError: invoking });
    const wire = encode(reply!);
    expect(hex(wire.subarray(0, 8)).slice(0, 8)).toBe('3b074400');
    expect(hex(wire.subarray(6, 8))).toBe('002a');
    const back = decode(wire);
    expect(back.ok && back.msg).toEqual(reply);
  });
});

describe('options', () => {
  const unknownCritical = unhex('00c9000400000000'); // type 100, C=1, Length 4
  const unknownPlain = unhex('00c8000201020000'); // type 100, C=0, Length 2
  const fii = encodeOption({ kind: 'ForkedInstanceId', fii: 9 });

  it('unknown critical option → Error code 1, Pointer at its Type field', () => {
    const e = errOf(decode(seal(concat(i1Head, unknownCritical))));
    expect(e).toMatchObject({ kind: 'critical-option', errorCode: ErrorCode.CriticalOptionNotRecognized, pointer: 16, offset: 16 });
  });

  it('the Pointer follows the option position, and stops processing there', () => {
    const e = errOf(decode(seal(concat(i1Head, fii, unknownPlain, unknownCritical, unhex('ffff')))));
    expect(e.pointer).toBe(32);
  });

  it('keeps an unknown non-critical option as raw bytes and goes on', () => {
    const r = decode(seal(concat(i1Head, unknownPlain, fii)));
    expect(r.ok).toBe(true);
    if (!r.ok || r.msg.kind !== 'I1') return;
    expect(r.msg.options).toEqual([
      { kind: 'Unknown', type: 100, critical: false, body: unhex('0102'), offset: 16 },
      { kind: 'ForkedInstanceId', fii: 9, offset: 24 },
    ]);
  });

  it('a known option not allowed in this message is handled like an unknown one (§5.15)', () => {
    // A Keepalive Timeout option in an I1: with C=0 kept raw, with C=1 an error.
    const kat = encodeOption({ kind: 'KeepaliveTimeout', timeout: 20 });
    const r = decode(seal(concat(i1Head, kat)));
    expect(r.ok && r.msg.kind === 'I1' && r.msg.options).toEqual([
      { kind: 'Unknown', type: 10, critical: false, body: unhex('00000014'), offset: 16 },
    ]);
    const crit = kat.slice();
    crit[1] |= 1;
    expect(errOf(decode(seal(concat(i1Head, crit))))).toMatchObject({ errorCode: 1, pointer: 16 });
  });

  it('a known, allowed option with C=1 is decoded normally', () => {
    const f = fii.slice();
    f[1] |= 1;
    const r = decode(seal(concat(i1Head, f)));
    expect(r.ok && r.msg.kind === 'I1' && r.msg.options).toEqual([{ kind: 'ForkedInstanceId', fii: 9, offset: 16 }]);
  });

  it('does not check the value of padding octets (RFC 5533 §5.15 SHOULD NOT)', () => {
    const p = unknownPlain.slice();
    p.fill(0xee, 6, 8);
    expect(decode(seal(concat(i1Head, p))).ok).toBe(true);
  });

  it.each([
    ['Length past the end of the message', '00c800ff00000000'],
    ['Length one octet too long for the last option (needs 16 with padding, 8 left)', '00c8000500000000'],
    ['second option overruns', '00c8000000000000', '00c8000900000000'],
  ])('option overflow: %s', (_name, ...parts) => {
    const body = concat(...parts.map(unhex));
    const e = errOf(decode(seal(concat(i1Head, body))));
    expect(e.kind).toBe('bad-option');
    expect(e.errorCode).toBeUndefined();
  });

  // Known options whose contents are impossible: silently dropped (no Error code exists).
  it.each([
    ['ULID Pair with Length 32', 'I2', '000c0020' + '00'.repeat(36)],
    ['FII with Length 8', 'I1', '000e0008' + '00'.repeat(12)],
    ['Keepalive Timeout with Length 2', 'I2', '0014000200000000'],
    ['Locator List shorter than 5', 'I2', '0004000400000000'],
    ['Locator List Length not matching N', 'I2', '0004000d' + '0000000101' + '0100000000000000'],
    ['Locator Preferences with Element Len 0', 'I2', '0006000500000001' + '0000000000000000'],
    ['Locator Preferences Length not a multiple of Element Len', 'I2', '0006000700000001' + '0301020000000000'],
  ])('%s', (_name, kind, opt) => {
    const head = kind === 'I1' ? i1Head : encode({ kind: 'I2', initiatorContextTag: 1n, initiatorNonce: 2, responderNonce: 3 });
    const e = errOf(decode(seal(concat(head, unhex(opt)))));
    expect(e.kind).toBe('bad-option');
  });
});

describe('Probe field values', () => {
  const probe = encode({
    kind: 'Probe',
    receiverContextTag: 1n,
    state: 1,
    sent: [{ src: ipv6('2001:db8::1'), dst: ipv6('2001:db8::2'), nonce: 3, data: 4 }],
    received: [],
  });

  it('Psent = 0 is rejected (the first sent report is mandatory)', () => {
    const b = probe.slice();
    b[12] = 0x00;
    expect(errOf(decode(seal(b)))).toMatchObject({ kind: 'bad-value', offset: 12 });
  });

  it('Sta = 3 is rejected', () => {
    const b = probe.slice();
    b[13] = 0xc0;
    expect(errOf(decode(seal(b)))).toMatchObject({ kind: 'bad-value', offset: 13 });
  });

  it('ignores the 22 reserved bits after Sta', () => {
    const b = probe.slice();
    b[13] |= 0x3f;
    b[14] = b[15] = 0xff;
    const r = decode(seal(b));
    expect(r.ok && r.msg.kind === 'Probe' && r.msg.state).toBe(1);
  });
});

describe('encoder input checks (caller bugs throw)', () => {
  const base = { kind: 'I1', initiatorContextTag: 1n, initiatorNonce: 1 } as const;
  it.each([
    ['tag of 48 bits', { ...base, initiatorContextTag: 1n << 47n }],
    ['negative tag', { ...base, initiatorContextTag: -1n }],
    ['nonce above u32', { ...base, initiatorNonce: 2 ** 32 }],
    ['fractional nonce', { ...base, initiatorNonce: 1.5 }],
    ['15-byte ULID', { ...base, options: [{ kind: 'UlidPair', senderUlid: new Uint8Array(15), receiverUlid: new Uint8Array(16) }] }],
    ['Element Len 0', { kind: 'R2', responderContextTag: 1n, initiatorNonce: 1, options: [{ kind: 'LocatorPreferences', generation: 1, elementLength: 0, elements: [] }] }],
    ['missing priority', { kind: 'R2', responderContextTag: 1n, initiatorNonce: 1, options: [{ kind: 'LocatorPreferences', generation: 1, elementLength: 2, elements: [{ flags: 0 }] }] }],
    ['option type above 15 bits', { ...base, options: [{ kind: 'Unknown', type: 0x8000, critical: false, body: new Uint8Array(0) }] }],
    ['Probe with no sent report', { kind: 'Probe', receiverContextTag: 1n, state: 0, sent: [], received: [] }],
    ['Probe with 16 received reports', {
      kind: 'Probe', receiverContextTag: 1n, state: 0,
      sent: [{ src: new Uint8Array(16), dst: new Uint8Array(16), nonce: 0, data: 0 }],
      received: Array.from({ length: 16 }, () => ({ src: new Uint8Array(16), dst: new Uint8Array(16), nonce: 0, data: 0 })),
    }],
    ['Probe with Sta 3', { kind: 'Probe', receiverContextTag: 1n, state: 3, sent: [{ src: new Uint8Array(16), dst: new Uint8Array(16), nonce: 0, data: 0 }], received: [] }],
    ['Error code 128', { kind: 'Error', code: 128, pointer: 0, packetInError: new Uint8Array(8) }],
    ['more than 2048 octets', { kind: 'R1', initiatorNonce: 1, responderNonce: 2, options: [{ kind: 'ResponderValidator', validator: new Uint8Array(2040) }] }],
  ])('%s', (_name, msg) => {
    expect(() => encode(msg as Shim6Message)).toThrow();
  });
});

describe('1280-octet rule (RFC 5533 §5.1)', () => {
  it('MAX_SHIM6_MSG leaves room for the IPv6 header', () => {
    expect(MAX_SHIM6_MSG).toBe(1240);
    expect(fitsMinMtu(1240)).toBe(true);
    expect(fitsMinMtu(1248)).toBe(false);
    expect(fitsMinMtu(1240, 8)).toBe(false);
  });

  it('tells the caller when a Locator List makes an Update too big', () => {
    const list = (n: number): Shim6Message => ({
      kind: 'UpdateRequest',
      receiverContextTag: 1n,
      requestNonce: 1,
      options: [{ kind: 'LocatorList', generation: 1, locators: Array.from({ length: n }, () => ({ addr: new Uint8Array(16), method: 1 })) }],
    });
    // 16 + 4 + 5 + n + (7 - n mod 8) + 16n: 71 locators make 1232 octets, 72 make 1256.
    expect(encodedLength(list(71))).toBeLessThanOrEqual(MAX_SHIM6_MSG);
    expect(encodedLength(list(72))).toBeGreaterThan(MAX_SHIM6_MSG);
    expect(encode(list(72)).length).toBe(1256);
  });

  it('truncates the packet in error so the Error message fits', () => {
    const big = new Uint8Array(1500).fill(7);
    const e = makeErrorMessage(ErrorCode.UnknownMessageType, 42, big);
    expect(e.packetInError.length).toBe(MAX_ERROR_QUOTE);
    expect(encode(e).length).toBe(MAX_SHIM6_MSG);
  });

  it('pads a packet in error to 8 octets', () => {
    const wire = encode({ kind: 'Error', code: 1, pointer: 3, packetInError: unhex('0102030405') });
    expect(hex(wire.subarray(8))).toBe('0102030405000000');
    const wire0 = encode({ kind: 'Error', code: 1, pointer: 3, packetInError: new Uint8Array(0) });
    expect(wire0.length).toBe(16);
  });

  it('no reply for failures that are dropped silently', () => {
    const b = I1.slice();
    b[5] ^= 1;
    expect(errorMessageFor(errOf(decode(b)), b, 40)).toBeNull();
  });
});

describe('quoted packets', () => {
  const ip6 = (nh: number, plen: number) =>
    unhex(`60000000${plen.toString(16).padStart(4, '0')}${nh.toString(16).padStart(2, '0')}40` +
      '20010db8000a00000000000000000001' + '20010db8000b00000000000000000001');

  it('finds a payload extension header behind Hop-by-Hop and Destination Options headers', () => {
    const hbh = unhex('3c00010400000000'); // next: Destination Options
    const dst = unhex('8c00010400000000'); // next: Shim6
    const pkt = concat(ip6(0, 24), hbh, dst, PEXT);
    expect(parseQuotedPacket(pkt)!.shim6).toEqual({ offset: 56, payload: true, contextTag: 0xbeefn });
  });

  it('reads what it can of a truncated quote', () => {
    const pkt = concat(ip6(140, 16), KA).subarray(0, 45);
    expect(parseQuotedPacket(pkt)!.shim6).toEqual({ offset: 40, payload: false, type: 66, kind: 'Keepalive' });
    expect(parseQuotedPacket(pkt.subarray(0, 39))).toBeNull();
  });

  it('stops at a non-first fragment and at upper-layer protocols', () => {
    const frag = unhex('8c00000800000001'); // offset 1 × 8
    expect(parseQuotedPacket(concat(ip6(44, 24), frag, KA))!.shim6).toBeUndefined();
    expect(parseQuotedPacket(concat(ip6(17, 8), new Uint8Array(8)))!.shim6).toBeUndefined();
  });
});

describe('decode accepts Buffers and never aliases them', () => {
  it('copies fields out of a pooled Buffer', () => {
    const buf = Buffer.concat([Buffer.alloc(3), Buffer.from(encodeOption({ kind: 'ResponderValidator', validator: new Uint8Array(0) }))]);
    const msg = encode({ kind: 'R1', initiatorNonce: 1, responderNonce: 2, options: [{ kind: 'ResponderValidator', validator: unhex('aabbcc') }] });
    const pooled = Buffer.from(msg);
    const r: DecodeResult<Shim6Packet> = decode(pooled);
    expect(r.ok).toBe(true);
    if (!r.ok || r.msg.kind !== 'R1') return;
    const v = r.msg.options[0];
    expect(v.kind === 'ResponderValidator' && v.validator.constructor).toBe(Uint8Array);
    pooled.fill(0);
    expect(v.kind === 'ResponderValidator' && hex(v.validator)).toBe('aabbcc');
    expect(buf.length).toBeGreaterThan(0);
  });

  it('returns a failure (not a throw) for non-Uint8Array input', () => {
    expect(decode('nope' as unknown as Uint8Array).ok).toBe(false);
  });
});
