// Exact bytes of key messages the core sends, with fixed randomness. The
// expected octets are written out field by field here, with an independent
// checksum and an independent HMAC, not produced by the wire encoder.

import * as crypto from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { ShimHost, locatorSetFromHbaSet } from '../../../src/context/index.js';
import { encode, ipv6 } from '../../../src/wire/index.js';
import { A, SET_A, constRandom, hex, only } from './helpers.js';

const LA = ipv6('2001:db8::a');
const LB = ipv6('2001:db8::b');

/**
 * Octets from hex (whitespace ignored, `#` starts a comment to the end of the
 * line); `cccc` at octets 4–5 is replaced by the one's complement checksum.
 */
function msg(text: string): string {
  const h = text.replace(/#.*$/gm, '').replace(/\s/g, '');
  expect(h).toMatch(/^[0-9a-fc]*$/);
  const b = Buffer.from(h, 'hex');
  expect(h.slice(8, 12)).toBe('cccc');
  b[4] = 0;
  b[5] = 0;
  let sum = 0;
  for (let i = 0; i < b.length; i += 2) sum += (b[i] << 8) | (b[i + 1] ?? 0);
  while (sum > 0xffff) sum = (sum & 0xffff) + (sum >>> 16);
  const c = ~sum & 0xffff;
  b[4] = c >> 8;
  b[5] = c & 0xff;
  return b.toString('hex');
}

function plainHost(): ShimHost {
  // All randomness is 0x11: CT = 0x111111111111, nonces 0x11111111, generation 0x11111111.
  return new ShimHost({ random: constRandom(0x11), locators: { locators: [{ addr: LA, method: 'none' }] } });
}

function hmac(secret: Uint8Array, parts: Uint8Array[]): string {
  const h = crypto.createHmac('sha256', secret);
  for (const p of parts) h.update(p);
  return h.digest().subarray(0, 20).toString('hex');
}

const SECRET = new Uint8Array(32).fill(0x11);
const u32 = (v: number) => Uint8Array.of(v >>> 24, (v >>> 16) & 0xff, (v >>> 8) & 0xff, v & 0xff);
const tag = (t: bigint) => Uint8Array.from(Buffer.from(t.toString(16).padStart(12, '0'), 'hex'));

describe('golden bytes with fixed randomness', () => {
  it('I1', () => {
    const { send } = only(plainHost().trigger(0, { ulidLocal: LA, ulidPeer: LB }), 'I1');
    expect(hex(send.bytes)).toBe(
      msg(`
        3b 01 01 00 cccc
        11 11 11 11 11 11   # R=0, Initiator Context Tag 0x111111111111
        11 11 11 11         # Initiator Nonce
      `),
    );
  });

  it('R1: Responder Nonce = epoch 0 ‖ 24 random bits, validator = HMAC-SHA-256(S, label ‖ fields)[0..20]', () => {
    const host = plainHost();
    const i1 = encode({ kind: 'I1', initiatorContextTag: 0x0b0b_0b0b_0b0bn, initiatorNonce: 0xcafe_f00d });
    const { send } = only(host.receive(0, { src: LB, dst: LA, bytes: i1 }), 'R1');
    const v = hmac(SECRET, [
      Buffer.from('shim6 R1 validator\0'),
      u32(0x0011_1111),
      tag(0x0b0b_0b0b_0b0bn),
      LB, // sender ULID
      LA, // receiver ULID
      LB, // IPv6 source of the I1
      LA, // IPv6 destination
      u32(0), // FII
    ]);
    expect(hex(send.bytes)).toBe(
      msg(`
        3b 04 02 00 cccc
        00 00               # Reserved2
        ca fe f0 0d         # Initiator Nonce (copied)
        00 11 11 11         # Responder Nonce
        0002 0014 ${v}      # Responder Validator, 20 octets: 24 in all, no padding
      `),
    );
  });

  it('R1bis', () => {
    const host = plainHost();
    const { send } = only(host.payloadWithUnknownTag(0, { src: LB, dst: LA, tag: 0x4242n }), 'R1bis');
    const v = hmac(SECRET, [Buffer.from('shim6 R1bis validator\0'), u32(0x0011_1111), tag(0x4242n), LB, LA]);
    expect(hex(send.bytes)).toBe(
      msg(`
        3b 04 05 00 cccc
        00 00 00 00 42 42   # Packet Context Tag
        00 11 11 11         # Responder Nonce
        0002 0014 ${v}
      `),
    );
  });

  it('I2 with the HBA locator list and PDS', () => {
    const set = SET_A();
    const host = new ShimHost({ random: constRandom(0x11), locators: locatorSetFromHbaSet(set, { present: (_, i) => i < 2 }) });
    const i1 = only(host.trigger(0, { ulidLocal: A(0), ulidPeer: LB }), 'I1').send;
    const r1 = encode({
      kind: 'R1',
      initiatorNonce: 0x1111_1111,
      responderNonce: 0x0102_0304,
      options: [{ kind: 'ResponderValidator', validator: Uint8Array.of(0xaa, 0xbb, 0xcc) }],
    });
    const { send } = only(host.receive(10, { src: i1.dst, dst: i1.src, bytes: r1 }), 'I2');
    const pds = set.params[0];
    const pdsPad = 7 - ((pds.length + 3) % 8);
    const len = 24 + 8 + (4 + 5 + 2 + 5 + 32) + (4 + pds.length + pdsPad);
    expect(hex(send.bytes)).toBe(
      msg(`
        3b ${(len / 8 - 1).toString(16).padStart(2, '0')} 03 00 cccc
        11 11 11 11 11 11   # Initiator Context Tag
        11 11 11 11         # Initiator Nonce
        01 02 03 04         # Responder Nonce (copied)
        00 00 00 00         # Reserved2
        0002 0003 aabbcc 00           # Responder Validator (copied), padded to 8
        0004 002c                     # Locator List, Length 5 + 2 + 5 + 32 = 44
        11 11 11 11 02 01 01 0000000000   # generation, N = 2, HBA, HBA, 5 padding
        ${hex(A(0))} ${hex(A(1))}
        0008 ${pds.length.toString(16).padStart(4, '0')} ${hex(pds)} ${'00'.repeat(pdsPad)}   # CGA PDS
      `),
    );
  });

  it('R2 answering an I1 in I1-SENT (crossing), and the Update Ack', () => {
    const host = plainHost();
    host.trigger(0, { ulidLocal: LA, ulidPeer: LB });
    const i1 = encode({ kind: 'I1', initiatorContextTag: 0x0b0bn, initiatorNonce: 0x0a0b_0c0d });
    const { send } = only(host.receive(5, { src: LB, dst: LA, bytes: i1 }), 'R2');
    expect(hex(send.bytes)).toBe(
      msg(`
        3b 01 04 00 cccc
        11 11 11 11 11 11   # Responder Context Tag
        0a 0b 0c 0d         # Initiator Nonce (copied); no locators to announce
      `),
    );
    // The peer's R2 completes it; then an Update Request gets this Ack.
    host.receive(6, {
      src: LB,
      dst: LA,
      bytes: encode({ kind: 'R2', responderContextTag: 0x0b0bn, initiatorNonce: 0x1111_1111 }),
    });
    const up = encode({ kind: 'UpdateRequest', receiverContextTag: 0x1111_1111_1111n, requestNonce: 0x0102_0304 });
    const ack = only(host.receive(7, { src: LB, dst: LA, bytes: up }), 'UpdateAck').send;
    expect(hex(ack.bytes)).toBe(
      msg(`
        3b 01 41 00 cccc
        00 00 00 00 0b 0b   # Receiver Context Tag = CT(peer)
        01 02 03 04         # Request Nonce (copied)
      `),
    );
  });
});
