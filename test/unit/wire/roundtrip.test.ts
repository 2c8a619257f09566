// Property tests over random valid messages from a seeded PRNG: encode →
// decode gives the message back, and re-encoding gives the same bytes.

import { describe, expect, it } from 'vitest';
import {
  computeChecksum,
  decode,
  decodePayloadHeader,
  encode,
  encodePayloadHeader,
  encodedLength,
  onesComplementSum,
  verifyChecksum,
  type Shim6Message,
} from '../../../src/wire/index.js';
import { MSG_KINDS, Rng, randomMessage, stripOffsets } from './helpers.js';

const ROUNDS = 400;

describe('round trip', () => {
  it.each(MSG_KINDS.map((k, i) => [k, 1000 + i] as const))('%s (seed %i)', (kind, seed) => {
    const r = new Rng(seed);
    for (let i = 0; i < ROUNDS; i++) {
      const m = randomMessage(r, kind);
      const bytes = encode(m);
      expect(bytes.length).toBe(encodedLength(m));
      expect(bytes.length % 8).toBe(0);
      expect(bytes[1]).toBe(bytes.length / 8 - 1);
      expect(verifyChecksum(bytes, bytes.length)).toBe(true);
      const d = decode(bytes);
      if (!d.ok) throw new Error(`seed ${seed} round ${i}: ${d.error.kind} ${d.error.reason}`);
      expect(d.length).toBe(bytes.length);
      expect(stripOffsets(d.msg as Shim6Message)).toEqual(m);
      expect(encode(d.msg as Shim6Message)).toEqual(bytes);
    }
  });

  it('option offsets point at each option Type field', () => {
    const r = new Rng(99);
    for (let i = 0; i < ROUNDS; i++) {
      const bytes = encode(randomMessage(r));
      const d = decode(bytes);
      if (!d.ok || d.msg.kind === 'Payload' || d.msg.kind === 'Error') continue;
      let expected = d.msg.options.length ? d.msg.options[0].offset! : bytes.length;
      for (const o of d.msg.options) {
        expect(o.offset).toBe(expected);
        expected += 4 + ((bytes[o.offset! + 2] << 8) | bytes[o.offset! + 3]);
        expected = (expected + 7) & ~7;
      }
      expect(expected).toBe(bytes.length);
    }
  });

  it('payload extension headers', () => {
    const r = new Rng(5);
    for (let i = 0; i < ROUNDS; i++) {
      const h = { nextHeader: r.int(256), receiverContextTag: r.ct() };
      const b = encodePayloadHeader(h);
      expect(b[1]).toBe(0);
      expect(b[2] & 0x80).toBe(0x80);
      expect(decodePayloadHeader(b)).toEqual({ ok: true, msg: { kind: 'Payload', ...h }, length: 8 });
    }
  });
});

describe('checksum', () => {
  /** Reference: RFC 1071 style, 32-bit accumulator with carries folded per word. */
  function reference(b: Uint8Array): number {
    let s = 0;
    for (let i = 0; i < b.length; i += 2) {
      s += (b[i] << 8) + (i + 1 < b.length ? b[i + 1] : 0);
      s = (s & 0xffff) + (s >>> 16);
    }
    return s;
  }

  it('matches a reference sum on random buffers', () => {
    const r = new Rng(3);
    for (let i = 0; i < 500; i++) {
      const b = r.bytes(r.int(2049));
      expect(onesComplementSum(b, 0, b.length)).toBe(reference(b));
    }
  });

  it('makes the sum over a sealed header 0xffff regardless of the field content', () => {
    const r = new Rng(4);
    for (let i = 0; i < 500; i++) {
      const b = r.bytes(8 * (1 + r.int(256)));
      const c = computeChecksum(b, b.length);
      b[4] = c >> 8;
      b[5] = c & 0xff;
      expect(reference(b)).toBe(0xffff);
      expect(computeChecksum(b, b.length)).toBe(c);
    }
  });
});
