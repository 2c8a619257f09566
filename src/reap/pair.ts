// Small helpers for locator pairs.

import { addrEqual, formatIpv6 } from '../wire/index.js';
import type { Pair } from './types.js';

const HEX: string[] = Array.from({ length: 256 }, (_, i) => i.toString(16).padStart(2, '0'));

function hex(a: Uint8Array): string {
  let s = '';
  for (let i = 0; i < a.length; i++) s += HEX[a[i]];
  return s;
}

/** A string key for maps: the 32 address octets in hex. */
export function pairKey(p: Pair): string {
  return hex(p.local) + hex(p.peer);
}

export function samePair(a: Pair, b: Pair): boolean {
  return addrEqual(a.local, b.local) && addrEqual(a.peer, b.peer);
}

/** "local -> peer" in RFC 5952 text, for logs. */
export function formatPair(p: Pair): string {
  return `${formatIpv6(p.local)} -> ${formatIpv6(p.peer)}`;
}
