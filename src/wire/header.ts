// Field helpers shared by the codecs, and the 8-octet Shim6 Payload Extension
// header (RFC 5533 §5.2):
//
//   octet 0    Next Header
//   octet 1    Hdr Ext Len = 0
//   octet 2    P = 1 (top bit) | Receiver Context Tag bits 46..40
//   octets 3–7 Receiver Context Tag bits 39..0

import {
  ADDR_LEN,
  CONTEXT_TAG_MAX,
  OFF_TYPE,
  PAYLOAD_HEADER_LEN,
} from './consts.js';
import { fail, type DecodeResult } from './result.js';

const TWO32 = 0x1_0000_0000;

// ---------------------------------------------------------------- readers

export function readU16(b: Uint8Array, o: number): number {
  return (b[o] << 8) | b[o + 1];
}

export function readU32(b: Uint8Array, o: number): number {
  return b[o] * 0x100_0000 + ((b[o + 1] << 16) | (b[o + 2] << 8) | b[o + 3]);
}

/**
 * Read a 47-bit context tag stored in the low 47 bits of the 48-bit field at
 * b[o..o+5]. The top bit (the R bit of control messages, the P bit of the
 * payload header) is not part of the tag and is ignored.
 */
export function readContextTag(b: Uint8Array, o: number): bigint {
  const hi = ((b[o] & 0x7f) << 8) | b[o + 1];
  // hi·2^32 + lo < 2^47 is exact in a double: one BigInt conversion.
  return BigInt(hi * TWO32 + readU32(b, o + 2));
}

export function readAddr(b: Uint8Array, o: number): Uint8Array {
  return b.slice(o, o + ADDR_LEN);
}

// ---------------------------------------------------------------- writers
// Writers validate their input and throw RangeError/TypeError: a bad value
// here is a bug in the caller, not a property of received data.

export function writeU8(b: Uint8Array, o: number, v: number, what: string): void {
  if (!Number.isInteger(v) || v < 0 || v > 0xff) throw new RangeError(`${what} must be a u8, got ${v}`);
  b[o] = v;
}

export function writeU16(b: Uint8Array, o: number, v: number, what: string): void {
  if (!Number.isInteger(v) || v < 0 || v > 0xffff) throw new RangeError(`${what} must be a u16, got ${v}`);
  b[o] = v >>> 8;
  b[o + 1] = v & 0xff;
}

export function writeU32(b: Uint8Array, o: number, v: number, what: string): void {
  if (!Number.isInteger(v) || v < 0 || v > 0xffff_ffff) throw new RangeError(`${what} must be a u32, got ${v}`);
  b[o] = v >>> 24;
  b[o + 1] = (v >>> 16) & 0xff;
  b[o + 2] = (v >>> 8) & 0xff;
  b[o + 3] = v & 0xff;
}

/** True if `ct` is a valid 47-bit context tag. */
export function isContextTag(ct: unknown): ct is bigint {
  return typeof ct === 'bigint' && ct >= 0n && ct <= CONTEXT_TAG_MAX;
}

/**
 * Write a 47-bit context tag into the low 47 bits of b[o..o+5], keeping the
 * top bit of b[o] as it is (R = 0 in a fresh buffer; P is set by the caller).
 */
export function writeContextTag(b: Uint8Array, o: number, ct: bigint, what: string): void {
  if (!isContextTag(ct)) throw new RangeError(`${what} must be a 47-bit bigint, got ${String(ct)}`);
  const n = Number(ct);
  const hi = Math.floor(n / TWO32);
  const lo = n - hi * TWO32;
  b[o] = (b[o] & 0x80) | (hi >>> 8);
  b[o + 1] = hi & 0xff;
  b[o + 2] = lo >>> 24;
  b[o + 3] = (lo >>> 16) & 0xff;
  b[o + 4] = (lo >>> 8) & 0xff;
  b[o + 5] = lo & 0xff;
}

export function writeAddr(b: Uint8Array, o: number, a: Uint8Array, what: string): void {
  if (!(a instanceof Uint8Array) || a.length !== ADDR_LEN) {
    throw new TypeError(`${what} must be a 16-byte Uint8Array`);
  }
  b.set(a, o);
}

// ------------------------------------------------- payload extension header

export interface PayloadHeader {
  kind: 'Payload';
  /** Protocol of what follows (the real ULP or next extension header). */
  nextHeader: number;
  /** 47-bit tag allocated by the receiver of the packet, i.e. CT(peer) at the sender. */
  receiverContextTag: bigint;
}

export type PayloadHeaderInput = Omit<PayloadHeader, 'kind'> & { kind?: 'Payload' };

/** True if the octet at offset 2 has P = 1 (payload extension header). */
export function isPayloadHeader(buf: Uint8Array): boolean {
  return buf.length > OFF_TYPE && (buf[OFF_TYPE] & 0x80) !== 0;
}

/** Write the 8-octet payload extension header into `dst` at `offset`. */
export function writePayloadHeader(dst: Uint8Array, offset: number, h: PayloadHeaderInput): void {
  writeU8(dst, offset, h.nextHeader, 'nextHeader');
  dst[offset + 1] = 0;
  dst[offset + 2] = 0x80;
  writeContextTag(dst, offset + 2, h.receiverContextTag, 'receiverContextTag');
}

/** Encode the 8-octet payload extension header. */
export function encodePayloadHeader(h: PayloadHeaderInput): Uint8Array {
  const out = new Uint8Array(PAYLOAD_HEADER_LEN);
  writePayloadHeader(out, 0, h);
  return out;
}

/**
 * Decode a payload extension header at the start of `buf` (what follows it is
 * the payload and is ignored). Requires P = 1 and Hdr Ext Len = 0.
 */
export function decodePayloadHeader(buf: Uint8Array): DecodeResult<PayloadHeader> {
  if (buf.length < PAYLOAD_HEADER_LEN) {
    return fail('truncated', buf.length, 'payload extension header needs 8 octets');
  }
  if ((buf[OFF_TYPE] & 0x80) === 0) return fail('wrong-p-bit', OFF_TYPE, 'P = 0: a control message');
  if (buf[1] !== 0) return fail('bad-length', 1, 'payload extension header Hdr Ext Len must be 0');
  return {
    ok: true,
    msg: { kind: 'Payload', nextHeader: buf[0], receiverContextTag: readContextTag(buf, OFF_TYPE) },
    length: PAYLOAD_HEADER_LEN,
  };
}
