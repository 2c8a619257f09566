/**
 * CGA Parameters data structure (RFC 3972 §3), its RFC 4581 extension TLVs and the
 * RFC 5535 §5 Multi-Prefix extension. In Shim6 this structure is the "PDS" carried in
 * the CGA Parameter Data Structure option (RFC 5533 §5.15.4).
 *
 *   offset 0   Modifier          16 octets
 *   offset 16  Subnet Prefix      8 octets
 *   offset 24  Collision Count    1 octet  (MUST be 0, 1 or 2)
 *   offset 25  Public Key         DER SubjectPublicKeyInfo, length from its own header
 *   then       Extension Fields   TLVs: u16 type, u16 data length, data (RFC 4581 §2)
 */

import { concatBytes, equalBytes } from './bytes.js';
import { isSingleSequence, readDerElement, TAG_SEQUENCE } from './der.js';
import { invalidArgument } from './errors.js';

export const MODIFIER_LENGTH = 16;
export const PREFIX_LENGTH = 8;
export const ADDRESS_LENGTH = 16;
/** Offset of the collision count octet; the public key starts right after it. */
export const COLLISION_COUNT_OFFSET = 24;
export const PUBLIC_KEY_OFFSET = 25;
/** RFC 3972 §3: the collision count MUST be 0, 1 or 2. */
export const MAX_COLLISION_COUNT = 2;
/** RFC 5535 §10: CGA Extension Type of the Multi-Prefix extension. */
export const MULTI_PREFIX_EXTENSION_TYPE = 0x0012;
const MAX_EXTENSION_DATA = 0xffff;
/** Largest prefix count whose Multi-Prefix Extension Data Length (4 + 8n) fits in 16 bits. */
export const MAX_MULTI_PREFIXES = Math.floor((MAX_EXTENSION_DATA - 4) / 8);

/** One extension field (RFC 4581 §2). `data` excludes the 4-octet type/length header. */
export interface CgaExtension {
  readonly type: number;
  readonly data: Uint8Array;
}

export interface CgaParams {
  /** 128-bit modifier. */
  readonly modifier: Uint8Array;
  /** 64-bit subnet prefix. */
  readonly subnetPrefix: Uint8Array;
  readonly collisionCount: number;
  /** DER-encoded SubjectPublicKeyInfo (or, for HBA-only sets, the encoded Extended Modifier). */
  readonly publicKey: Uint8Array;
  /** Extension fields in wire order (unknown types are kept: they are hashed). */
  readonly extensions: readonly CgaExtension[];
}

export type DecodeFailureReason =
  /** Fewer than 25 octets plus a DER header. */
  | 'params-too-short'
  /** No complete DER SEQUENCE at offset 25. */
  | 'bad-public-key'
  /** The octets after the public key are not a sequence of complete RFC 4581 TLVs. */
  | 'bad-extensions';

export type DecodeResult =
  | { readonly ok: true; readonly params: CgaParams; readonly extensionsOffset: number }
  | { readonly ok: false; readonly reason: DecodeFailureReason; readonly offset: number };

/**
 * Decode a CGA Parameters data structure. Never throws. The result owns copies of the
 * fields (later changes to `bytes` do not show through).
 */
export function decodeCgaParams(bytes: Uint8Array): DecodeResult {
  return parseCgaParams(bytes, true);
}

/**
 * Decode with `copy` = false: fields are views into `bytes` (internal, for callers that
 * already own a private copy).
 */
export function parseCgaParams(bytes: Uint8Array, copy: boolean): DecodeResult {
  const take = (start: number, end: number): Uint8Array => (copy ? bytes.slice(start, end) : bytes.subarray(start, end));
  if (bytes.length < PUBLIC_KEY_OFFSET + 2) return { ok: false, reason: 'params-too-short', offset: 0 };
  const key = readDerElement(bytes, PUBLIC_KEY_OFFSET, TAG_SEQUENCE);
  if (!key.ok) return { ok: false, reason: 'bad-public-key', offset: PUBLIC_KEY_OFFSET };
  const extensions: CgaExtension[] = [];
  let off = key.end;
  while (off < bytes.length) {
    if (off + 4 > bytes.length) return { ok: false, reason: 'bad-extensions', offset: off };
    const type = (bytes[off] << 8) | bytes[off + 1];
    const length = (bytes[off + 2] << 8) | bytes[off + 3];
    if (off + 4 + length > bytes.length) return { ok: false, reason: 'bad-extensions', offset: off };
    extensions.push({ type, data: take(off + 4, off + 4 + length) });
    off += 4 + length;
  }
  return {
    ok: true,
    extensionsOffset: key.end,
    params: {
      modifier: take(0, MODIFIER_LENGTH),
      subnetPrefix: take(MODIFIER_LENGTH, MODIFIER_LENGTH + PREFIX_LENGTH),
      collisionCount: bytes[COLLISION_COUNT_OFFSET],
      publicKey: take(PUBLIC_KEY_OFFSET, key.end),
      extensions,
    },
  };
}

/** A cheap Map key for a 64-bit prefix (two 32-bit halves). */
export function prefixKey(prefix: Uint8Array): string {
  const hi = ((prefix[0] << 24) | (prefix[1] << 16) | (prefix[2] << 8) | prefix[3]) >>> 0;
  const lo = ((prefix[4] << 24) | (prefix[5] << 16) | (prefix[6] << 8) | prefix[7]) >>> 0;
  return `${hi}:${lo}`;
}

/** Encode extension fields as RFC 4581 TLVs. Throws HBA_ERR_INVALID_ARGUMENT on bad input. */
export function encodeExtensions(extensions: readonly CgaExtension[]): Uint8Array {
  const parts: Uint8Array[] = [];
  for (const ext of extensions) {
    if (!Number.isInteger(ext.type) || ext.type < 0 || ext.type > 0xffff) {
      throw invalidArgument(`extension type ${ext.type} is not a 16-bit unsigned integer`);
    }
    if (ext.data.length > MAX_EXTENSION_DATA) {
      throw invalidArgument(`extension data of ${ext.data.length} octets exceeds 65535`);
    }
    parts.push(Uint8Array.of(ext.type >> 8, ext.type & 0xff, ext.data.length >> 8, ext.data.length & 0xff), ext.data);
  }
  return concatBytes(parts);
}

export function checkLength(name: string, bytes: Uint8Array, length: number): void {
  if (!(bytes instanceof Uint8Array) || bytes.length !== length) {
    throw invalidArgument(`${name} must be ${length} octets`);
  }
}

export function checkPublicKeyDer(publicKey: Uint8Array): void {
  if (!(publicKey instanceof Uint8Array) || !isSingleSequence(publicKey)) {
    throw invalidArgument('public key must be one DER SEQUENCE (SubjectPublicKeyInfo)');
  }
}

/** Encode a CGA Parameters data structure. Throws HBA_ERR_INVALID_ARGUMENT on bad input. */
export function encodeCgaParams(params: CgaParams): Uint8Array {
  checkLength('modifier', params.modifier, MODIFIER_LENGTH);
  checkLength('subnet prefix', params.subnetPrefix, PREFIX_LENGTH);
  const count = params.collisionCount;
  if (!Number.isInteger(count) || count < 0 || count > MAX_COLLISION_COUNT) {
    throw invalidArgument(`collision count ${count} is not 0, 1 or 2 (RFC 3972 §3)`);
  }
  checkPublicKeyDer(params.publicKey);
  return concatBytes([
    params.modifier,
    params.subnetPrefix,
    Uint8Array.of(count),
    params.publicKey,
    encodeExtensions(params.extensions),
  ]);
}

// ---------------------------------------------------------------------------------------
// Multi-Prefix extension (RFC 5535 §5)
//
//   Extension Type = 0x0012 | Extension Data Length = 4 + 8n
//   P (1 bit) | Reserved (31 bits, zero on send, ignored on receipt)
//   Prefix[1..n], 64 bits each

export interface MultiPrefix {
  /** P flag: a real public key is in the Public Key field (CGA/HBA); false for HBA-only. */
  readonly publicKeyPresent: boolean;
  readonly prefixes: readonly Uint8Array[];
}

export function encodeMultiPrefix(mp: MultiPrefix): CgaExtension {
  if (mp.prefixes.length > MAX_MULTI_PREFIXES) {
    throw invalidArgument(`at most ${MAX_MULTI_PREFIXES} prefixes fit in a Multi-Prefix extension`);
  }
  const data = new Uint8Array(4 + PREFIX_LENGTH * mp.prefixes.length);
  data[0] = mp.publicKeyPresent ? 0x80 : 0;
  mp.prefixes.forEach((p, i) => {
    checkLength(`prefix[${i}]`, p, PREFIX_LENGTH);
    data.set(p, 4 + PREFIX_LENGTH * i);
  });
  return { type: MULTI_PREFIX_EXTENSION_TYPE, data };
}

/** Decode the data of a Multi-Prefix extension. Never throws; reserved bits are ignored. */
export function decodeMultiPrefix(
  ext: CgaExtension,
): { readonly ok: true; readonly value: MultiPrefix } | { readonly ok: false } {
  const d = ext.data;
  if (ext.type !== MULTI_PREFIX_EXTENSION_TYPE || d.length < 4 || (d.length - 4) % PREFIX_LENGTH !== 0) {
    return { ok: false };
  }
  const prefixes: Uint8Array[] = [];
  for (let off = 4; off < d.length; off += PREFIX_LENGTH) prefixes.push(d.slice(off, off + PREFIX_LENGTH));
  return { ok: true, value: { publicKeyPresent: (d[0] & 0x80) !== 0, prefixes } };
}

export type MultiPrefixLookup =
  | { readonly ok: true; readonly value: MultiPrefix }
  | { readonly ok: false; readonly reason: 'no-multi-prefix' | 'multiple-multi-prefix' | 'bad-multi-prefix' };

/**
 * Find the single Multi-Prefix extension among decoded extensions. Two of them make the
 * prefix set ambiguous, so that is reported rather than picking one.
 */
export function findMultiPrefix(extensions: readonly CgaExtension[]): MultiPrefixLookup {
  const found = extensions.filter((e) => e.type === MULTI_PREFIX_EXTENSION_TYPE);
  if (found.length === 0) return { ok: false, reason: 'no-multi-prefix' };
  if (found.length > 1) return { ok: false, reason: 'multiple-multi-prefix' };
  const mp = decodeMultiPrefix(found[0]);
  return mp.ok ? mp : { ok: false, reason: 'bad-multi-prefix' };
}

export function hasDuplicatePrefixes(prefixes: readonly Uint8Array[]): boolean {
  for (let i = 0; i < prefixes.length; i++) {
    for (let j = i + 1; j < prefixes.length; j++) if (equalBytes(prefixes[i], prefixes[j])) return true;
  }
  return false;
}
