// IPv6 addresses as 16-byte Uint8Arrays: text parsing (RFC 4291 §2.2) and
// canonical formatting (RFC 5952), written here instead of using node:net so
// the output is exactly RFC 5952 and the code stays pure.

import { ADDR_LEN } from './consts.js';

const HEX = '0123456789abcdef';

/** True if `x` is a 16-byte Uint8Array (the codec's address representation). */
export function isAddr(x: unknown): x is Uint8Array {
  return x instanceof Uint8Array && x.length === ADDR_LEN;
}

function hexValue(c: number): number {
  if (c >= 0x30 && c <= 0x39) return c - 0x30;
  if (c >= 0x61 && c <= 0x66) return c - 0x57;
  if (c >= 0x41 && c <= 0x46) return c - 0x37;
  return -1;
}

/** Parse dotted-quad IPv4 text into out[at..at+3]; false if invalid. */
function parseIpv4Into(s: string, out: Uint8Array, at: number): boolean {
  const parts = s.split('.');
  if (parts.length !== 4) return false;
  for (let i = 0; i < 4; i++) {
    const p = parts[i];
    if (p.length === 0 || p.length > 3) return false;
    // No leading zeros: "01" is ambiguous (octal in some parsers).
    if (p.length > 1 && p.charCodeAt(0) === 0x30) return false;
    let v = 0;
    for (let j = 0; j < p.length; j++) {
      const c = p.charCodeAt(j) - 0x30;
      if (c < 0 || c > 9) return false;
      v = v * 10 + c;
    }
    if (v > 255) return false;
    out[at + i] = v;
  }
  return true;
}

/** Parse colon-separated hex groups (and a trailing IPv4 part if allowed) into 16-bit words. */
function parseGroups(s: string, allowV4: boolean, words: number[]): boolean {
  if (s.length === 0) return true;
  const parts = s.split(':');
  for (let i = 0; i < parts.length; i++) {
    const p = parts[i];
    if (allowV4 && i === parts.length - 1 && p.includes('.')) {
      const v4 = new Uint8Array(4);
      if (!parseIpv4Into(p, v4, 0)) return false;
      words.push((v4[0] << 8) | v4[1], (v4[2] << 8) | v4[3]);
      continue;
    }
    if (p.length === 0 || p.length > 4) return false;
    let v = 0;
    for (let j = 0; j < p.length; j++) {
      const h = hexValue(p.charCodeAt(j));
      if (h < 0) return false;
      v = (v << 4) | h;
    }
    words.push(v);
  }
  return true;
}

/**
 * Parse IPv6 text (RFC 4291 §2.2: full, "::"-compressed, or with a trailing
 * dotted IPv4 part) into 16 bytes. Returns null for anything else, including
 * zone identifiers ("%eth0") and prefix lengths. Never throws.
 */
export function parseIpv6(text: string): Uint8Array | null {
  if (typeof text !== 'string' || text.length < 2 || text.length > 45) return null;
  const dbl = text.indexOf('::');
  const head: number[] = [];
  const tail: number[] = [];
  if (dbl < 0) {
    if (!parseGroups(text, true, head) || head.length !== 8) return null;
  } else {
    if (text.indexOf('::', dbl + 1) >= 0) return null;
    const left = text.slice(0, dbl);
    const right = text.slice(dbl + 2);
    if (!parseGroups(left, false, head) || !parseGroups(right, true, tail)) return null;
    // "::" stands for at least one group of zeros.
    if (head.length + tail.length > 7) return null;
  }
  const out = new Uint8Array(ADDR_LEN);
  for (let i = 0; i < head.length; i++) {
    out[2 * i] = head[i] >> 8;
    out[2 * i + 1] = head[i] & 0xff;
  }
  const base = 8 - tail.length;
  for (let i = 0; i < tail.length; i++) {
    out[2 * (base + i)] = tail[i] >> 8;
    out[2 * (base + i) + 1] = tail[i] & 0xff;
  }
  return out;
}

/** Like `parseIpv6` but throws a TypeError on invalid text (for constants and tests). */
export function ipv6(text: string): Uint8Array {
  const a = parseIpv6(text);
  if (a === null) throw new TypeError(`invalid IPv6 address: ${JSON.stringify(text)}`);
  return a;
}

function hex16(v: number): string {
  if (v === 0) return '0';
  let s = '';
  while (v > 0) {
    s = HEX[v & 0xf] + s;
    v >>>= 4;
  }
  return s;
}

/**
 * Format 16 bytes as RFC 5952 text: lower-case hex, no leading zeros, the
 * longest run (first on a tie) of two or more zero groups as "::", and
 * IPv4-mapped addresses (::ffff:0:0/96) in mixed notation (RFC 5952 §5).
 * Throws a TypeError if `addr` is not a 16-byte Uint8Array.
 */
export function formatIpv6(addr: Uint8Array): string {
  if (!isAddr(addr)) throw new TypeError('address must be a 16-byte Uint8Array');
  let mapped = addr[10] === 0xff && addr[11] === 0xff;
  for (let i = 0; mapped && i < 10; i++) if (addr[i] !== 0) mapped = false;
  if (mapped) return `::ffff:${addr[12]}.${addr[13]}.${addr[14]}.${addr[15]}`;

  const w = new Array<number>(8);
  for (let i = 0; i < 8; i++) w[i] = (addr[2 * i] << 8) | addr[2 * i + 1];
  let bestStart = -1;
  let bestLen = 1; // a single zero group is never compressed
  for (let i = 0; i < 8; ) {
    if (w[i] !== 0) {
      i++;
      continue;
    }
    let j = i;
    while (j < 8 && w[j] === 0) j++;
    if (j - i > bestLen) {
      bestStart = i;
      bestLen = j - i;
    }
    i = j;
  }
  if (bestStart < 0) return w.map(hex16).join(':');
  const left = w.slice(0, bestStart).map(hex16).join(':');
  const right = w.slice(bestStart + bestLen).map(hex16).join(':');
  return `${left}::${right}`;
}

/** Byte-wise equality of two addresses (or any two byte arrays). */
export function addrEqual(a: Uint8Array, b: Uint8Array): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}

/** ff00::/8 (RFC 4291 §2.7). */
export function isMulticast(addr: Uint8Array): boolean {
  return addr[0] === 0xff;
}

/** :: (RFC 4291 §2.5.2). */
export function isUnspecified(addr: Uint8Array): boolean {
  for (let i = 0; i < ADDR_LEN; i++) if (addr[i] !== 0) return false;
  return true;
}
