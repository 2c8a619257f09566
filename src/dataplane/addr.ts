// IPv6 addresses as 16-byte arrays, for the map layouts.
import net from 'node:net';
import { Shim6Error } from '../errors.js';

export function parseIPv6(text: string): Uint8Array {
  const s = text.trim().replace(/%.*$/, '');
  if (net.isIPv6(s) === false) throw new Shim6Error('SHIM6_ERR_USAGE', `not an IPv6 address: '${text}'`);
  let head = s, tail = '';
  const dbl = s.indexOf('::');
  if (dbl >= 0) { head = s.slice(0, dbl); tail = s.slice(dbl + 2); }
  const groups = (part: string): number[] => {
    if (!part) return [];
    const out: number[] = [];
    for (const g of part.split(':')) {
      if (g.includes('.')) {
        const v4 = g.split('.').map(Number);
        out.push((v4[0] << 8) | v4[1], (v4[2] << 8) | v4[3]);
      } else out.push(parseInt(g, 16));
    }
    return out;
  };
  const h = groups(head), t = groups(tail);
  const all = dbl >= 0 ? [...h, ...new Array(8 - h.length - t.length).fill(0), ...t] : h;
  const b = new Uint8Array(16);
  all.forEach((g, i) => { b[2 * i] = g >> 8; b[2 * i + 1] = g & 0xff; });
  return b;
}

/** RFC 5952 text form. */
export function formatIPv6(b: Uint8Array): string {
  if (b.length !== 16) throw new RangeError('IPv6 address must be 16 bytes');
  const g: number[] = [];
  for (let i = 0; i < 8; i++) g.push((b[2 * i] << 8) | b[2 * i + 1]);
  let best = -1, bestLen = 0;
  for (let i = 0; i < 8;) {
    if (g[i] !== 0) { i++; continue; }
    let j = i;
    while (j < 8 && g[j] === 0) j++;
    if (j - i > bestLen && j - i >= 2) { best = i; bestLen = j - i; }
    i = j;
  }
  const hex = (xs: number[]) => xs.map((x) => x.toString(16)).join(':');
  if (best < 0) return hex(g);
  return `${hex(g.slice(0, best))}::${hex(g.slice(best + bestLen))}`;
}

export const ZERO_ADDR = new Uint8Array(16);

export function addrEq(a: Uint8Array, b: Uint8Array): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}
