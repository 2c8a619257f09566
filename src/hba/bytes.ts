/** Small byte helpers shared by the HBA/CGA module (internal). */

import * as crypto from 'node:crypto';

/** Build a Buffer view over a Uint8Array without copying. */
export function view(bytes: Uint8Array): Buffer {
  return Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
}

export function equalBytes(a: Uint8Array, b: Uint8Array): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}

export function concatBytes(parts: readonly Uint8Array[]): Uint8Array {
  let total = 0;
  for (const p of parts) total += p.length;
  const out = new Uint8Array(total);
  let off = 0;
  for (const p of parts) {
    out.set(p, off);
    off += p.length;
  }
  return out;
}

/** Exact-bytes string key (one char per byte) for Map lookups. */
export function bytesKey(bytes: Uint8Array): string {
  return view(bytes).toString('latin1');
}

/**
 * Increment a big-endian unsigned integer in place (the 128-bit Modifier, RFC 3972 §4
 * step 3). Wraps to zero at 2^(8·length); the RFC does not say, and 2^128 iterations
 * are never reached.
 */
export function incrementInPlace(bytes: Uint8Array, offset: number, length: number): void {
  for (let i = offset + length - 1; i >= offset; i--) {
    bytes[i] = (bytes[i] + 1) & 0xff;
    if (bytes[i] !== 0) return;
  }
}

type Sha1 = (data: Uint8Array) => Buffer;

/** One-shot SHA-1: `crypto.hash` (Node ≥ 20.12) when present, else createHash. */
export const sha1: Sha1 =
  typeof crypto.hash === 'function'
    ? (data) => crypto.hash('sha1', view(data), 'buffer')
    : (data) => crypto.createHash('sha1').update(data).digest();

/** SHA-1 over several parts without concatenating them first. */
export function sha1Parts(parts: readonly Uint8Array[]): Buffer {
  const h = crypto.createHash('sha1');
  for (const p of parts) h.update(p);
  return h.digest();
}
