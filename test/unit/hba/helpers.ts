// Test helpers for the HBA/CGA unit tests.
import * as crypto from 'node:crypto';
import type { RandomSource } from '../../../src/hba/index.js';

/** Octets from hex; spaces, colons and newlines are ignored. */
export function hex(text: string): Uint8Array {
  const clean = text.replace(/[\s:]/g, '');
  if (clean.length % 2 !== 0 || /[^0-9a-f]/i.test(clean)) throw new Error(`bad hex: ${text}`);
  return Uint8Array.from(Buffer.from(clean, 'hex'));
}

export function toHex(bytes: Uint8Array): string {
  return Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString('hex');
}

/** Parse a textual IPv6 address (no embedded IPv4) into 16 octets. */
export function ipv6(text: string): Uint8Array {
  const halves = text.split('::');
  if (halves.length > 2) throw new Error(`bad IPv6 address: ${text}`);
  const groups = (s: string): number[] => (s === '' ? [] : s.split(':').map((g) => parseInt(g, 16)));
  const head = groups(halves[0]);
  const tail = halves.length === 2 ? groups(halves[1]) : [];
  const fill = halves.length === 2 ? 8 - head.length - tail.length : 0;
  const all = [...head, ...new Array<number>(fill).fill(0), ...tail];
  if (all.length !== 8 || all.some((g) => !(g >= 0 && g <= 0xffff))) throw new Error(`bad IPv6 address: ${text}`);
  const out = new Uint8Array(16);
  all.forEach((g, i) => {
    out[2 * i] = g >> 8;
    out[2 * i + 1] = g & 0xff;
  });
  return out;
}

/** The /64 prefix (8 octets) of a textual IPv6 address or prefix such as "2001:db8:1::". */
export function prefix64(text: string): Uint8Array {
  return ipv6(text).slice(0, 8);
}

/** Deterministic RandomSource: SHA-256(seed ‖ counter) blocks. */
export function seededRandom(seed: string): RandomSource {
  let counter = 0;
  return (length: number) => {
    const out = new Uint8Array(length);
    let off = 0;
    while (off < length) {
      const block = crypto.createHash('sha256').update(seed).update(String(counter++)).digest();
      out.set(block.subarray(0, Math.min(block.length, length - off)), off);
      off += block.length;
    }
    return out;
  };
}

export function rsaKeyPair(bits: number): { privateKey: crypto.KeyObject; publicKeyDer: Uint8Array } {
  const { privateKey, publicKey } = crypto.generateKeyPairSync('rsa', { modulusLength: bits });
  return { privateKey, publicKeyDer: Uint8Array.from(publicKey.export({ type: 'spki', format: 'der' })) };
}

export function flipped(bytes: Uint8Array, index: number, mask = 0x01): Uint8Array {
  const copy = bytes.slice();
  copy[index] ^= mask;
  return copy;
}
