// Golden bytes: every message and option, from SPEC-DIGEST §7 (built from the
// RFC figures and checked with tshark there) and from the RFC 5533 / RFC 5534
// figures (derived here; checksums computed independently of src/ with a
// separate script summing 16-bit words).

import { describe, expect, it } from 'vitest';
import {
  ErrorCode,
  LocatorFlag,
  ProbeState,
  VerificationMethod,
  cgaSignedData,
  decode,
  decodeMessage,
  encode,
  encodeOption,
  encodePayloadHeader,
  decodePayloadHeader,
  errorPointer,
  findOption,
  ipv6,
  parseQuotedPacket,
  verifyChecksum,
  type Shim6Message,
  type Shim6Option,
} from '../../../src/wire/index.js';
import { hex, stripOffsets, unhex } from './helpers.js';

const ab20 = new Uint8Array(20).fill(0xab);

interface MsgRow {
  name: string;
  /** Where the layout comes from. */
  source: string;
  hex: string;
  msg: Shim6Message;
}

const I1_HEX = '3b010100562b0123456789abdeadbeef';
const QUOTED_HEX =
  // IPv6 header: version 6, payload length 0x18, next header 140, hop limit 64,
  // src 2001:db8:a::1, dst 2001:db8:b::1 …
  '6000000000188c40' +
  '20010db8000a00000000000000000001' + '20010db8000b00000000000000000001' +
  // … followed by an I1 (CT 0x0123456789ab, nonce deadbeef) carrying option
  // type 100 with C=1 (wire 0x00c9), Length 4 — the invoking packet of an
  // Error code 1 whose Pointer is 40 + 16 = 56.
  '3b020100555d0123456789abdeadbeef00c9000400000000';

const MESSAGES: MsgRow[] = [
  {
    name: 'I1',
    source: 'SPEC-DIGEST §7 (RFC 5533 §5.4)',
    hex: I1_HEX,
    msg: { kind: 'I1', initiatorContextTag: 0x0123456789abn, initiatorNonce: 0xdeadbeef, options: [] },
  },
  {
    name: 'R1 + Responder Validator (20 octets)',
    source: 'SPEC-DIGEST §7 (RFC 5533 §5.5, §5.15.1)',
    hex: '3b0402006c8d0000deadbeef0102030400020014' + 'ab'.repeat(20),
    msg: {
      kind: 'R1',
      initiatorNonce: 0xdeadbeef,
      responderNonce: 0x01020304,
      options: [{ kind: 'ResponderValidator', validator: ab20 }],
    },
  },
  {
    name: 'R2',
    source: 'SPEC-DIGEST §7 (RFC 5533 §5.7)',
    hex: '3b010400647000000000beefdeadbef0',
    msg: { kind: 'R2', responderContextTag: 0xbeefn, initiatorNonce: 0xdeadbef0, options: [] },
  },
  {
    name: 'R1bis',
    source: 'SPEC-DIGEST §7 (RFC 5533 §5.8)',
    hex: '3b010500342000000000beef55667788',
    msg: { kind: 'R1bis', packetContextTag: 0xbeefn, responderNonce: 0x55667788, options: [] },
  },
  {
    name: 'Update Ack',
    source: 'SPEC-DIGEST §7 (RFC 5533 §5.11)',
    hex: '3b01410080950123456789ab99999999',
    msg: { kind: 'UpdateAck', receiverContextTag: 0x0123456789abn, requestNonce: 0x99999999, options: [] },
  },
  {
    name: 'Keepalive',
    source: 'SPEC-DIGEST §7 (RFC 5534 §5.1)',
    hex: '3b014200c40e00000000beef00000000',
    msg: { kind: 'Keepalive', receiverContextTag: 0xbeefn, options: [] },
  },
  {
    // RFC 5533 §5.6 figure: CT at 6–11, Initiator Nonce 12–15, Responder Nonce
    // 16–19, Reserved2 20–23, options from 24: Responder Validator (copied from
    // the R1 above, 24 octets), ULID Pair (40 octets, §5.15.6) and Keepalive
    // Timeout 20 s (8 octets, RFC 5534 §5.3). 96 octets → Hdr Ext Len 11.
    name: 'I2 + Responder Validator + ULID Pair + Keepalive Timeout',
    source: 'RFC 5533 §5.6, §5.15.1, §5.15.6; RFC 5534 §5.3',
    hex:
      '3b0b03003f7c0123456789abdeadbeef0102030400000000' +
      '00020014' + 'ab'.repeat(20) +
      '000c002400000000' + '20010db8000100000000000000000001' + '20010db8000200000000000000000002' +
      '0014000400000014',
    msg: {
      kind: 'I2',
      initiatorContextTag: 0x0123456789abn,
      initiatorNonce: 0xdeadbeef,
      responderNonce: 0x01020304,
      options: [
        { kind: 'ResponderValidator', validator: ab20 },
        { kind: 'UlidPair', senderUlid: ipv6('2001:db8:1::1'), receiverUlid: ipv6('2001:db8:2::2') },
        { kind: 'KeepaliveTimeout', timeout: 20 },
      ],
    },
  },
  {
    // RFC 5533 §5.9 figure: Initiator CT at 6–11 (the largest 47-bit tag),
    // nonces at 12 and 16, 49 reserved bits (20–25 and the top bit of 26),
    // Packet CT in the low 47 bits of 26–31, options from 32.
    name: 'I2bis + Responder Validator',
    source: 'RFC 5533 §5.9',
    hex:
      '3b0606007893' + '7fffffffffff' + 'cafebabe' + '55667788' + '000000000000' + '00000000beef' +
      '00020014' + 'ab'.repeat(20),
    msg: {
      kind: 'I2bis',
      initiatorContextTag: 0x7fffffffffffn,
      initiatorNonce: 0xcafebabe,
      responderNonce: 0x55667788,
      packetContextTag: 0xbeefn,
      options: [{ kind: 'ResponderValidator', validator: ab20 }],
    },
  },
  {
    // RFC 5533 §5.10 figure with a Locator List (§5.15.2: 2 locators, methods
    // HBA and CGA, 5 octets of internal padding so the locators start at an
    // 8-octet boundary, Length 44) and Locator Preferences (§5.15.3: Element
    // Len 3, Length 11, 1 octet of padding). 80 octets → Hdr Ext Len 9.
    name: 'Update Request + Locator List + Locator Preferences',
    source: 'RFC 5533 §5.10, §5.15.2, §5.15.3',
    hex:
      '3b094000d94c0123456789ab99999999' +
      '0004002c01020304020102' + '0000000000' +
      '20010db8000a00000000000000000001' + '20010db8000b00000000000000000001' +
      '0006000b0102030403' + '000a64' + '010532' + '00',
    msg: {
      kind: 'UpdateRequest',
      receiverContextTag: 0x0123456789abn,
      requestNonce: 0x99999999,
      options: [
        {
          kind: 'LocatorList',
          generation: 0x01020304,
          locators: [
            { addr: ipv6('2001:db8:a::1'), method: VerificationMethod.HBA },
            { addr: ipv6('2001:db8:b::1'), method: VerificationMethod.CGA },
          ],
        },
        {
          kind: 'LocatorPreferences',
          generation: 0x01020304,
          elementLength: 3,
          elements: [
            { flags: 0, priority: 10, weight: 100 },
            { flags: LocatorFlag.Broken, priority: 5, weight: 50 },
          ],
        },
      ],
    },
  },
  {
    // RFC 5534 §5.2 figure: octet 12 = Precvd (high nibble) | Psent (low),
    // octet 13 top two bits = Sta (2 = InboundOk), then Psent sent reports and
    // Precvd received reports of 40 octets (src, dst, nonce, data).
    name: 'Probe (1 sent, 1 received, InboundOk)',
    source: 'RFC 5534 §5.2',
    hex:
      '3b0b4300f34400000000beef11800000' +
      '20010db8000a00000000000000000001' + '20010db8000b00000000000000000001' + '0102030400000000' +
      '20010db8000b00000000000000000002' + '20010db8000a00000000000000000002' + 'a1b2c3d4deadbeef',
    msg: {
      kind: 'Probe',
      receiverContextTag: 0xbeefn,
      state: ProbeState.InboundOk,
      sent: [{ src: ipv6('2001:db8:a::1'), dst: ipv6('2001:db8:b::1'), nonce: 0x01020304, data: 0 }],
      received: [{ src: ipv6('2001:db8:b::2'), dst: ipv6('2001:db8:a::2'), nonce: 0xa1b2c3d4, data: 0xdeadbeef }],
      options: [],
    },
  },
  {
    // RFC 5533 §5.14 figure: octet 3 = Error Code << 1 (code 1: critical
    // option not recognised), Pointer at 6–7 = 56, packet in error from 8.
    name: 'Error code 1 quoting an I1 with a critical unknown option',
    source: 'RFC 5533 §5.14, §12.3',
    hex: '3b08440238db0038' + QUOTED_HEX,
    msg: {
      kind: 'Error',
      code: ErrorCode.CriticalOptionNotRecognized,
      pointer: 56,
      packetInError: unhex(QUOTED_HEX),
    },
  },
];

describe('golden control messages', () => {
  it.each(MESSAGES)('$name ($source) encodes exactly', ({ hex: h, msg }) => {
    expect(hex(encode(msg))).toBe(h);
  });

  it.each(MESSAGES)('$name decodes back', ({ hex: h, msg }) => {
    const bytes = unhex(h);
    expect(verifyChecksum(bytes, bytes.length)).toBe(true);
    const r = decode(bytes);
    expect(r.ok).toBe(true);
    if (!r.ok) return;
    expect(r.length).toBe(bytes.length);
    expect(stripOffsets(r.msg as Shim6Message)).toEqual(msg);
  });

  it('fills in option offsets and Error pointers from the decoded Update Request', () => {
    const row = MESSAGES.find((m) => m.msg.kind === 'UpdateRequest');
    const r = decodeMessage(unhex(row!.hex));
    if (!r.ok || r.msg.kind === 'Error') throw new Error('decode failed');
    const ll = findOption(r.msg.options, 'LocatorList')!;
    const lp = findOption(r.msg.options, 'LocatorPreferences')!;
    expect(ll.offset).toBe(16);
    expect(lp.offset).toBe(64);
    // Error code 2 → the method octet of locator 1: 16 + 4 (TL) + 4 (gen) + 1 (N) + 1.
    expect(errorPointer.verificationMethod(ll, 1)).toBe(26);
    expect(unhex(row!.hex)[26]).toBe(VerificationMethod.CGA);
    // Error code 3 → the generation field; code 4 → the Length field.
    expect(errorPointer.preferencesGeneration(lp)).toBe(68);
    expect(errorPointer.preferencesLength(lp)).toBe(66);
    expect(errorPointer.option(lp)).toBe(64);
  });

  it('reads the quoted packet of the golden Error message', () => {
    const q = parseQuotedPacket(unhex(QUOTED_HEX));
    expect(q).not.toBeNull();
    expect(q!.src).toEqual(ipv6('2001:db8:a::1'));
    expect(q!.dst).toEqual(ipv6('2001:db8:b::1'));
    expect(q!.shim6).toEqual({ offset: 40, payload: false, type: 1, kind: 'I1', contextTag: 0x0123456789abn });
  });
});

describe('golden payload extension header', () => {
  // SPEC-DIGEST §7 / RFC 5533 §5.2: Next Header UDP (17), Hdr Ext Len 0, P=1, CT 0xbeef.
  const PEXT = '110080000000beef';

  it('encodes and decodes', () => {
    expect(hex(encodePayloadHeader({ nextHeader: 17, receiverContextTag: 0xbeefn }))).toBe(PEXT);
    const r = decodePayloadHeader(unhex(PEXT));
    expect(r).toEqual({ ok: true, msg: { kind: 'Payload', nextHeader: 17, receiverContextTag: 0xbeefn }, length: 8 });
    const d = decode(unhex(PEXT + 'deadbeef'));
    expect(d.ok && d.msg.kind === 'Payload' && d.length === 8).toBe(true);
  });

  it('puts the top 7 tag bits next to P', () => {
    expect(hex(encodePayloadHeader({ nextHeader: 6, receiverContextTag: 0x7fffffffffffn }))).toBe('0600ffffffffffff');
    expect(hex(encodePayloadHeader({ nextHeader: 58, receiverContextTag: 0x400000000000n }))).toBe('3a00c00000000000');
  });
});

interface OptRow {
  name: string;
  source: string;
  hex: string;
  opt: Shim6Option;
}

// RFC 3972 Appendix A CGA Parameters (119 octets: modifier, prefix fe80::,
// collision count 0, 94-octet RSA public key), used as an opaque PDS.
const RFC3972_PDS =
  '89a8a8b2e858d8b8f2633f44d2d4ce9b' + 'fe80000000000000' + '00' +
  '305c300d06092a864886f70d0101010500034b003048024100c2c2f137305454f10bd9cea36844b530' +
  'e9211a4b262b16467cb7dfba1f595c0194f275be5a4d386f2c3c2382508773c7867f9b3b9e63a09c7b' +
  'c48f7a54ebefaf0203010001';

const OPTIONS: OptRow[] = [
  {
    name: 'Responder Validator, 20 octets (no padding)',
    source: 'RFC 5533 §5.15.1',
    hex: '00020014' + 'ab'.repeat(20),
    opt: { kind: 'ResponderValidator', validator: ab20 },
  },
  {
    name: 'Responder Validator, 5 octets (7 octets of padding)',
    source: 'RFC 5533 §5.15 padding = 7 - ((5 + 3) mod 8)',
    hex: '000200050102030405' + '00000000000000',
    opt: { kind: 'ResponderValidator', validator: unhex('0102030405') },
  },
  {
    name: 'Responder Validator, empty (4 octets of padding)',
    source: 'RFC 5533 §5.15: Total Length = 11 + 0 - 3',
    hex: '0002000000000000',
    opt: { kind: 'ResponderValidator', validator: new Uint8Array(0) },
  },
  {
    name: 'Locator List, 2 locators (HBA, CGA)',
    source: 'RFC 5533 §5.15.2: Length = 5 + N + (7 - N mod 8) + 16N = 44',
    hex:
      '0004002c01020304020102' + '0000000000' +
      '20010db8000a00000000000000000001' + '20010db8000b00000000000000000001',
    opt: {
      kind: 'LocatorList',
      generation: 0x01020304,
      locators: [
        { addr: ipv6('2001:db8:a::1'), method: VerificationMethod.HBA },
        { addr: ipv6('2001:db8:b::1'), method: VerificationMethod.CGA },
      ],
    },
  },
  {
    name: 'Locator List, 8 locators (7 octets of internal padding)',
    source: 'RFC 5533 §5.15.2: Length = 5 + 8 + 7 + 128 = 148',
    hex:
      '00040094' + 'fffffffe' + '08' + '0101010101010101' + '00000000000000' +
      Array.from({ length: 8 }, (_, i) => `20010db8000000000000000000000${(i + 1).toString(16).padStart(3, '0')}`).join(''),
    opt: {
      kind: 'LocatorList',
      generation: 0xfffffffe,
      locators: Array.from({ length: 8 }, (_, i) => ({ addr: ipv6(`2001:db8::${(i + 1).toString(16)}`), method: 1 })),
    },
  },
  {
    name: 'Locator List, empty',
    source: 'RFC 5533 §5.15.2 with N = 0: Length 12',
    hex: '0004000c0000000100' + '00000000000000',
    opt: { kind: 'LocatorList', generation: 1, locators: [] },
  },
  {
    name: 'Locator Preferences, Element Len 1 (flags)',
    source: 'RFC 5533 §5.15.3 (the depicted case)',
    hex: '000600070000000701' + '0102' + '0000000000',
    opt: {
      kind: 'LocatorPreferences',
      generation: 7,
      elementLength: 1,
      elements: [{ flags: LocatorFlag.Broken }, { flags: LocatorFlag.Transient }],
    },
  },
  {
    name: 'Locator Preferences, Element Len 2 (flags, priority)',
    source: 'RFC 5533 §5.15.3',
    hex: '000600090000000702' + '000a' + '0114' + '000000',
    opt: {
      kind: 'LocatorPreferences',
      generation: 7,
      elementLength: 2,
      elements: [
        { flags: 0, priority: 10 },
        { flags: LocatorFlag.Broken, priority: 20 },
      ],
    },
  },
  {
    name: 'Locator Preferences, Element Len 3 (flags, priority, weight)',
    source: 'RFC 5533 §5.15.3',
    hex: '0006000e0000000703' + '000164' + '020132' + '01ff00' + '000000000000',
    opt: {
      kind: 'LocatorPreferences',
      generation: 7,
      elementLength: 3,
      elements: [
        { flags: 0, priority: 1, weight: 100 },
        { flags: LocatorFlag.Transient, priority: 1, weight: 50 },
        { flags: LocatorFlag.Broken, priority: 255, weight: 0 },
      ],
    },
  },
  {
    name: 'Locator Preferences, Element Len 4 (future format keeps the first 3 octets)',
    source: 'RFC 5533 §5.15.3 last paragraph',
    hex: '000600090000000704' + '010203ee' + '000000',
    opt: {
      kind: 'LocatorPreferences',
      generation: 7,
      elementLength: 4,
      elements: [{ flags: 1, priority: 2, weight: 3, ext: unhex('ee') }],
    },
  },
  {
    name: 'CGA Parameter Data Structure (RFC 3972 App. A, 119 octets)',
    source: 'RFC 5533 §5.15.4; RFC 3972 Appendix A',
    hex: '00080077' + RFC3972_PDS + '0000000000',
    opt: { kind: 'CgaPds', pds: unhex(RFC3972_PDS) },
  },
  {
    name: 'CGA Signature (3 octets, 1 octet of padding)',
    source: 'RFC 5533 §5.15.5',
    hex: '000a00030a0b0c00',
    opt: { kind: 'CgaSignature', signature: unhex('0a0b0c') },
  },
  {
    name: 'ULID Pair',
    source: 'RFC 5533 §5.15.6: Length 36, Reserved2 then the two ULIDs',
    hex: '000c002400000000' + '20010db8000100000000000000000001' + '20010db8000200000000000000000002',
    opt: { kind: 'UlidPair', senderUlid: ipv6('2001:db8:1::1'), receiverUlid: ipv6('2001:db8:2::2') },
  },
  {
    name: 'Forked Instance Identifier',
    source: 'RFC 5533 §5.15.7: Length 4',
    hex: '000e000400000005',
    opt: { kind: 'ForkedInstanceId', fii: 5 },
  },
  {
    name: 'Keepalive Timeout 20 s',
    source: 'SPEC-DIGEST §7 (RFC 5534 §5.3)',
    hex: '0014000400000014',
    opt: { kind: 'KeepaliveTimeout', timeout: 20 },
  },
  {
    name: 'unknown option type 16384 (experimental), C=1, kept raw',
    source: 'RFC 5533 §5.15: wire word = (type << 1) | C',
    hex: '80010002beef0000',
    opt: { kind: 'Unknown', type: 16384, critical: true, body: unhex('beef') },
  },
];

describe('golden options', () => {
  it.each(OPTIONS)('$name ($source) encodes exactly', ({ hex: h, opt }) => {
    const enc = encodeOption(opt);
    expect(enc.length % 8).toBe(0);
    expect(hex(enc)).toBe(h);
  });

  // Decode each allowed option inside an I2 or an Update Request (which allow
  // every known option between them) to check the option decoders.
  it.each(OPTIONS.filter((o) => o.opt.kind !== 'Unknown'))('$name decodes back inside a message', ({ opt }) => {
    const kind = opt.kind === 'ResponderValidator' || opt.kind === 'UlidPair' || opt.kind === 'ForkedInstanceId' ? 'I2' : 'UpdateRequest';
    const msg: Shim6Message =
      kind === 'I2'
        ? { kind, initiatorContextTag: 1n, initiatorNonce: 2, responderNonce: 3, options: [opt] }
        : { kind, receiverContextTag: 1n, requestNonce: 2, options: [opt] };
    const r = decodeMessage(encode(msg));
    expect(r.ok).toBe(true);
    if (!r.ok) return;
    expect(stripOffsets(r.msg)).toEqual(msg);
  });

  it('builds the CGA Signature input (RFC 5533 §5.15.5): tag, generation, CGA locators in order', () => {
    const data = cgaSignedData({
      generation: 0x01020304,
      locators: [
        { addr: ipv6('2001:db8:a::1'), method: VerificationMethod.HBA },
        { addr: ipv6('2001:db8:b::1'), method: VerificationMethod.CGA },
        { addr: ipv6('2001:db8:c::1'), method: VerificationMethod.CGA },
      ],
    });
    expect(hex(data)).toBe(
      '4a305662485857 4b3655416f506a6d48'.replace(/ /g, '') +
        '01020304' +
        '20010db8000b00000000000000000001' +
        '20010db8000c00000000000000000001',
    );
  });
});
