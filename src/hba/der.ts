/**
 * The little DER this module needs (internal):
 *  - find where the SubjectPublicKeyInfo in a CGA Parameters data structure ends
 *    (RFC 3972 §3: "The length of this field is determined by the ASN.1 encoding");
 *  - build an RSA SubjectPublicKeyInfo (RFC 3279 §2.3.1 RSAPublicKey inside the
 *    RFC 5280 SPKI) for the RFC 5535 HBA-only "Extended Modifier" pseudo key.
 */

import { concatBytes } from './bytes.js';

const TAG_SEQUENCE = 0x30;
const TAG_INTEGER = 0x02;
const TAG_BIT_STRING = 0x03;

/** AlgorithmIdentifier { rsaEncryption (1.2.840.113549.1.1.1), NULL }. */
const RSA_ALGORITHM_IDENTIFIER = Uint8Array.from([
  0x30, 0x0d, 0x06, 0x09, 0x2a, 0x86, 0x48, 0x86, 0xf7, 0x0d, 0x01, 0x01, 0x01, 0x05, 0x00,
]);

/** Largest length this module accepts in a DER header: 3 length octets (< 16 MiB). */
const MAX_LENGTH_OCTETS = 3;

export type DerElement = { ok: true; headerLength: number; end: number } | { ok: false };

/**
 * Parse the tag and DER length at `offset`; `end` is the offset just past the element.
 * Rejects a different tag, the indefinite form, non-minimal long forms and elements that
 * run past `limit`. Never throws.
 */
export function readDerElement(bytes: Uint8Array, offset: number, tag: number, limit = bytes.length): DerElement {
  if (offset + 2 > limit || bytes[offset] !== tag) return { ok: false };
  const first = bytes[offset + 1];
  let length: number;
  let headerLength: number;
  if (first < 0x80) {
    length = first;
    headerLength = 2;
  } else {
    const n = first & 0x7f;
    if (n === 0 || n > MAX_LENGTH_OCTETS || offset + 2 + n > limit) return { ok: false };
    if (bytes[offset + 2] === 0) return { ok: false }; // non-minimal: leading zero octet
    length = 0;
    for (let i = 0; i < n; i++) length = length * 256 + bytes[offset + 2 + i];
    if (length < 0x80) return { ok: false }; // non-minimal: short form was possible
    headerLength = 2 + n;
  }
  const end = offset + headerLength + length;
  if (end > limit) return { ok: false };
  return { ok: true, headerLength, end };
}

export function encodeDerLength(length: number): Uint8Array {
  if (length < 0x80) return Uint8Array.of(length);
  const octets: number[] = [];
  for (let v = length; v > 0; v = Math.floor(v / 256)) octets.unshift(v & 0xff);
  return Uint8Array.from([0x80 | octets.length, ...octets]);
}

function tlv(tag: number, content: Uint8Array): Uint8Array {
  return concatBytes([Uint8Array.of(tag), encodeDerLength(content.length), content]);
}

/** A non-negative DER INTEGER from big-endian magnitude bytes (minimal encoding). */
export function encodeUnsignedInteger(magnitude: Uint8Array): Uint8Array {
  let start = 0;
  while (start < magnitude.length - 1 && magnitude[start] === 0) start++;
  let body = magnitude.subarray(start);
  if (body.length === 0) body = Uint8Array.of(0);
  if (body[0] & 0x80) body = concatBytes([Uint8Array.of(0), body]);
  return tlv(TAG_INTEGER, body);
}

/**
 * SubjectPublicKeyInfo { rsaEncryption, BIT STRING { RSAPublicKey { modulus, exponent } } }.
 */
export function encodeRsaSpki(modulus: Uint8Array, publicExponent: Uint8Array): Uint8Array {
  const rsaPublicKey = tlv(
    TAG_SEQUENCE,
    concatBytes([encodeUnsignedInteger(modulus), encodeUnsignedInteger(publicExponent)]),
  );
  // BIT STRING content: one octet of unused bits (0), then the RSAPublicKey DER.
  const bitString = tlv(TAG_BIT_STRING, concatBytes([Uint8Array.of(0), rsaPublicKey]));
  return tlv(TAG_SEQUENCE, concatBytes([RSA_ALGORITHM_IDENTIFIER, bitString]));
}

/** True when `der` is exactly one DER SEQUENCE (what a SubjectPublicKeyInfo must be). */
export function isSingleSequence(der: Uint8Array): boolean {
  const el = readDerElement(der, 0, TAG_SEQUENCE);
  return el.ok && el.end === der.length;
}

export { TAG_SEQUENCE };
