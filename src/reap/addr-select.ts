// Locator pair ordering for REAP exploration (RFC 5534 §4.3) using the
// default address selection rules of RFC 6724 (which obsoletes RFC 3484).
//
// REAP needs an ordered list of (local, peer) pairs, not one source per
// destination, so the RFC 6724 pair-wise rules are folded into one sort key
// per pair, compared lexicographically (a total order, so the sort is
// consistent). Only the rules that need no routing-table knowledge are used:
//
//   key  rule                                                 RFC 6724
//   ---  ---------------------------------------------------  -----------------
//    0   prefer same address (L = P)                          §5 rule 1
//    1   prefer matching scope (Scope(L) = Scope(P))          §6 rule 2
//    2   appropriate source scope (only among mismatches)     §5 rule 2
//    3   avoid deprecated source                              §5/§6 rule 3
//    4   prefer home (non-TRANSIENT) source                   §5/§6 rule 4
//    5   prefer matching label                                §5 rule 6, §6 rule 5
//    6   prefer higher precedence of P                        §6 rule 6
//    7   prefer smaller scope of P                            §6 rule 8
//    8   Shim6 preferences: peer priority, local priority,
//        peer non-TRANSIENT (lower priority value first)      RFC 5533 §5.15.3
//    9   longest matching prefix CommonPrefixLen(L, P)        §5 rule 8, §6 rule 9
//   10   weights: peer, then local (higher first)             RFC 5533 §5.15.3
//   11   original order: peer list index, then local index    §6 rule 10
//
// Not used (no information here): §6 rule 1 "known unreachable" beyond the
// pruning below, rule 5/5.5 outgoing interface / next hop, rule 7 native
// transport, §5 rule 7 temporary addresses (privacy addresses make poor
// locators). §6 allows rules 9 and 10 to be superseded "if the implementation
// has other means": Shim6 Locator Preferences are such means, so by default
// they come before rule 9 (`preferencesBeforeLongestMatch: false` swaps them).
//
// Pruned (RFC 5534 §4.3 "inappropriate combinations", RFC 6724 §6 rule 1):
// BROKEN or unverified peer locators, BROKEN or non-operational local ones,
// unspecified and multicast addresses, IPv4-mapped mixed with IPv6, and by
// default pairs whose source scope is smaller than the destination's (a
// link-local source toward a global destination).

import { LocatorFlag, addrEqual, ipv6, isMulticast, isUnspecified } from '../wire/index.js';
import type { LocalLocator, Pair, PeerLocator } from './types.js';

/** One row of an RFC 6724 policy table. */
export interface PolicyEntry {
  readonly prefix: Uint8Array;
  readonly length: number;
  readonly precedence: number;
  readonly label: number;
}

function row(prefix: string, length: number, precedence: number, label: number): PolicyEntry {
  return { prefix: ipv6(prefix), length, precedence, label };
}

/** The default policy table of RFC 6724 §2.1. */
export const DEFAULT_POLICY_TABLE: readonly PolicyEntry[] = Object.freeze([
  row('::1', 128, 50, 0),
  row('::', 0, 40, 1),
  row('::ffff:0:0', 96, 35, 4),
  row('2002::', 16, 30, 2),
  row('2001::', 32, 5, 5),
  row('fc00::', 7, 3, 13),
  row('::', 96, 1, 3),
  row('fec0::', 10, 1, 11),
  row('3ffe::', 16, 1, 12),
]);

/** Scope values (RFC 4291 §2.7 multicast scope numbering, RFC 6724 §3.1). */
export const Scope = {
  InterfaceLocal: 0x1,
  LinkLocal: 0x2,
  AdminLocal: 0x4,
  SiteLocal: 0x5,
  OrganizationLocal: 0x8,
  Global: 0xe,
} as const;

/** True for IPv4-mapped addresses (::ffff:0:0/96), RFC 6724's representation of IPv4. */
export function isV4Mapped(a: Uint8Array): boolean {
  for (let i = 0; i < 10; i++) if (a[i] !== 0) return false;
  return a[10] === 0xff && a[11] === 0xff;
}

function isLoopback(a: Uint8Array): boolean {
  for (let i = 0; i < 15; i++) if (a[i] !== 0) return false;
  return a[15] === 1;
}

/** Scope(A) per RFC 6724 §3.1–§3.4. */
export function scopeOf(a: Uint8Array): number {
  if (isMulticast(a)) return a[1] & 0x0f;
  if (isV4Mapped(a)) {
    // 169.254/16 and 127/8 are link-local; every other IPv4 address is global (§3.2).
    if ((a[12] === 169 && a[13] === 254) || a[12] === 127) return Scope.LinkLocal;
    return Scope.Global;
  }
  if (isLoopback(a)) return Scope.LinkLocal; // §3.4
  if (a[0] === 0xfe && (a[1] & 0xc0) === 0x80) return Scope.LinkLocal; // fe80::/10
  if (a[0] === 0xfe && (a[1] & 0xc0) === 0xc0) return Scope.SiteLocal; // fec0::/10
  return Scope.Global; // including ULAs (§3.1) and undefined format prefixes (§3.4)
}

function prefixMatches(a: Uint8Array, prefix: Uint8Array, length: number): boolean {
  const full = length >>> 3;
  for (let i = 0; i < full; i++) if (a[i] !== prefix[i]) return false;
  const rest = length & 7;
  if (rest === 0) return true;
  const mask = (0xff << (8 - rest)) & 0xff;
  return (a[full] & mask) === (prefix[full] & mask);
}

/** Longest-matching-prefix lookup of `a` in `table` (RFC 6724 §2.1). */
export function policyOf(a: Uint8Array, table: readonly PolicyEntry[] = DEFAULT_POLICY_TABLE): { precedence: number; label: number } {
  let best: PolicyEntry | undefined;
  for (const e of table) {
    if ((best === undefined || e.length > best.length) && prefixMatches(a, e.prefix, e.length)) best = e;
  }
  // A table without ::/0 may match nothing: treat as the lowest precedence, no label.
  return best ? { precedence: best.precedence, label: best.label } : { precedence: -1, label: -1 };
}

/**
 * CommonPrefixLen(S, D) of RFC 6724 §2.2: leading bits in common, up to the
 * length of S's prefix (64 unless told; IPv4-mapped sources count all 128).
 */
export function commonPrefixLen(src: Uint8Array, dst: Uint8Array, srcPrefixLength?: number): number {
  const limit = srcPrefixLength ?? (isV4Mapped(src) ? 128 : 64);
  let n = 0;
  for (let i = 0; i < 16 && n < limit; i++) {
    const x = src[i] ^ dst[i];
    if (x === 0) {
      n += 8;
      continue;
    }
    n += Math.clz32(x) - 24;
    break;
  }
  return Math.min(n, limit);
}

export interface PairOrderOptions {
  /** RFC 6724 policy table (default: §2.1's). */
  readonly policy?: readonly PolicyEntry[];
  /**
   * Drop pairs whose local scope is smaller than the peer's, e.g. a
   * link-local source toward a global destination (RFC 5534 §4.3). Default
   * true; false keeps them, ranked last by the matching-scope rule, as plain
   * RFC 6724 destination ordering does.
   */
  readonly pruneScopeMismatch?: boolean;
  /** Locator priorities before RFC 6724 rule 9 (default true). */
  readonly preferencesBeforeLongestMatch?: boolean;
}

/** Whether a local locator may be used at all. */
export function localUsable(l: LocalLocator): boolean {
  return l.operational !== false && ((l.flags ?? 0) & LocatorFlag.Broken) === 0 && usableAddr(l.addr);
}

/** Whether a peer locator may be probed or used: verified and not BROKEN. */
export function peerUsable(p: PeerLocator): boolean {
  return p.verified && ((p.flags ?? 0) & LocatorFlag.Broken) === 0 && usableAddr(p.addr);
}

function usableAddr(a: Uint8Array): boolean {
  return a instanceof Uint8Array && a.length === 16 && !isUnspecified(a) && !isMulticast(a);
}

/**
 * Candidate pairs Ls(local) × Ls(peer), pruned and ordered as described at
 * the top of this file. The first pair is the most preferred.
 */
export function orderPairs(
  locals: readonly LocalLocator[],
  peers: readonly PeerLocator[],
  opts: PairOrderOptions = {},
): Pair[] {
  // Every context of a host ranks the same few locator sets: with the
  // default policy table the order is remembered by what it depends on
  // (addresses, flags, preferences), as indexes into the caller's lists.
  if (opts.policy !== undefined) return rankPairs(locals, peers, opts).map((r) => r.pair);
  const key = orderKey(locals, peers, opts);
  let order = orderMemo.get(key);
  if (order === undefined) {
    order = rankPairs(locals, peers, opts).map((r) => [r.li, r.pi] as const);
    if (orderMemo.size >= ORDER_MEMO_MAX) orderMemo.delete(orderMemo.keys().next().value!);
    orderMemo.set(key, order);
  }
  return order.map(([li, pi]) => ({ local: locals[li].addr, peer: peers[pi].addr }));
}

const ORDER_MEMO_MAX = 256;
const orderMemo = new Map<string, ReadonlyArray<readonly [number, number]>>();

function orderKey(locals: readonly LocalLocator[], peers: readonly PeerLocator[], opts: PairOrderOptions): string {
  const addr = (a: Uint8Array): string => (a instanceof Uint8Array ? Buffer.from(a.buffer, a.byteOffset, a.byteLength).toString('hex') : '?');
  let k = `${opts.pruneScopeMismatch !== false ? 1 : 0}${opts.preferencesBeforeLongestMatch !== false ? 1 : 0}`;
  for (const l of locals) k += `|${addr(l.addr)},${l.flags ?? 0},${l.priority ?? 0},${l.weight ?? 0},${l.deprecated === true ? 1 : 0},${l.prefixLength ?? ''},${l.operational !== false ? 1 : 0}`;
  k += '#';
  for (const p of peers) k += `|${addr(p.addr)},${p.verified ? 1 : 0},${p.flags ?? 0},${p.priority ?? 0},${p.weight ?? 0}`;
  return k;
}

function rankPairs(
  locals: readonly LocalLocator[],
  peers: readonly PeerLocator[],
  opts: PairOrderOptions,
): Array<{ pair: Pair; li: number; pi: number }> {
  const policy = opts.policy ?? DEFAULT_POLICY_TABLE;
  const prune = opts.pruneScopeMismatch !== false;
  const prefsFirst = opts.preferencesBeforeLongestMatch !== false;
  const lInfo = locals.map((l) => ({ l, scope: scopeOf(l.addr), pol: policyOf(l.addr, policy), v4: isV4Mapped(l.addr) }));
  const pInfo = peers.map((p) => ({ p, scope: scopeOf(p.addr), pol: policyOf(p.addr, policy), v4: isV4Mapped(p.addr) }));
  const keyed: { pair: Pair; key: number[]; li: number; pi: number }[] = [];
  for (let pi = 0; pi < pInfo.length; pi++) {
    const P = pInfo[pi];
    if (!peerUsable(P.p)) continue;
    for (let li = 0; li < lInfo.length; li++) {
      const L = lInfo[li];
      if (!localUsable(L.l)) continue;
      if (L.v4 !== P.v4) continue; // no IPv4 source for an IPv6 destination or vice versa
      if (prune && L.scope < P.scope) continue;
      const matching = L.scope === P.scope;
      const transientL = ((L.l.flags ?? 0) & LocatorFlag.Transient) !== 0;
      const transientP = ((P.p.flags ?? 0) & LocatorFlag.Transient) !== 0;
      const prefs = [P.p.priority ?? 0, L.l.priority ?? 0, transientP ? 1 : 0];
      const cpl = -commonPrefixLen(L.l.addr, P.p.addr, L.l.prefixLength);
      const key = [
        addrEqual(L.l.addr, P.p.addr) ? 0 : 1,
        matching ? 0 : 1,
        matching ? 0 : L.scope >= P.scope ? L.scope : 1000 - L.scope,
        L.l.deprecated === true ? 1 : 0,
        transientL ? 1 : 0,
        L.pol.label === P.pol.label ? 0 : 1,
        -P.pol.precedence,
        P.scope,
        ...(prefsFirst ? [...prefs, cpl] : [cpl, ...prefs]),
        -(P.p.weight ?? 0),
        -(L.l.weight ?? 0),
        pi,
        li,
      ];
      keyed.push({ pair: { local: L.l.addr, peer: P.p.addr }, key, li, pi });
    }
  }
  keyed.sort((a, b) => {
    for (let i = 0; i < a.key.length; i++) if (a.key[i] !== b.key[i]) return a.key[i] - b.key[i];
    return 0;
  });
  return keyed;
}
