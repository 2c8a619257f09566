// Pair ordering: RFC 6724 §10.2 (destination) and §10.1 (source) examples
// where they apply to choosing a locator pair, §10.5's multihomed site with a
// configured policy table, then Shim6 locator preferences.

import { describe, expect, it } from 'vitest';
import { LocatorFlag, formatIpv6, ipv6 } from '../../../src/wire/index.js';
import {
  DEFAULT_POLICY_TABLE,
  Scope,
  commonPrefixLen,
  orderPairs,
  policyOf,
  scopeOf,
  type LocalLocator,
  type PairOrderOptions,
  type PeerLocator,
} from '../../../src/reap/index.js';

/** IPv4 in RFC 6724's IPv4-mapped representation (§3.2). */
function addr(text: string): Uint8Array {
  return text.includes(':') ? ipv6(text) : ipv6(`::ffff:${text}`);
}

function fmt(a: Uint8Array): string {
  const s = formatIpv6(a);
  return s.startsWith('::ffff:') && s.includes('.') ? s.slice(7) : s;
}

interface Src {
  a: string;
  deprecated?: boolean;
  careOf?: boolean;
}

function locals(srcs: (string | Src)[]): LocalLocator[] {
  return srcs.map((s) => {
    const x = typeof s === 'string' ? { a: s } : s;
    return { addr: addr(x.a), deprecated: x.deprecated, flags: x.careOf ? LocatorFlag.Transient : 0 };
  });
}

function peers(dsts: string[]): PeerLocator[] {
  return dsts.map((d) => ({ addr: addr(d), verified: true }));
}

/**
 * RFC 6724 §10.2 reading of a pair list: destinations in the order of their
 * first pair, each with the source of that pair.
 */
function destinationOrder(srcs: (string | Src)[], dsts: string[], opts: PairOrderOptions = {}): string[] {
  const out: string[] = [];
  const seen = new Set<string>();
  for (const p of orderPairs(locals(srcs), peers(dsts), { pruneScopeMismatch: false, ...opts })) {
    const d = fmt(p.peer);
    if (seen.has(d)) continue;
    seen.add(d);
    out.push(`${d} (src ${fmt(p.local)})`);
  }
  return out;
}

/** RFC 6724 §10.1 reading: the source of the first pair toward one destination. */
function sourceFor(dst: string, srcs: (string | Src)[]): string {
  const list = orderPairs(locals(srcs), peers([dst]), { pruneScopeMismatch: false });
  return fmt(list[0].local);
}

describe('RFC 6724 building blocks', () => {
  it('default policy table (§2.1): precedence and label by longest match', () => {
    const cases: [string, number, number][] = [
      ['::1', 50, 0],
      ['2001:db8:1::1', 40, 1],
      ['::ffff:198.51.100.1', 35, 4],
      ['2002:c633:6401::1', 30, 2],
      ['2001:0:1::1', 5, 5],
      ['fd00::1', 3, 13],
      ['::1.2.3.4', 1, 3],
      ['fec0::1', 1, 11],
      ['3ffe::1', 1, 12],
    ];
    for (const [a, precedence, label] of cases) expect(policyOf(ipv6(a)), a).toEqual({ precedence, label });
    expect(DEFAULT_POLICY_TABLE).toHaveLength(9);
  });

  it('scopes (§3.1–§3.4)', () => {
    expect(scopeOf(ipv6('fe80::1'))).toBe(Scope.LinkLocal);
    expect(scopeOf(ipv6('fec0::1'))).toBe(Scope.SiteLocal);
    expect(scopeOf(ipv6('fd00::1'))).toBe(Scope.Global); // ULAs are global
    expect(scopeOf(ipv6('::1'))).toBe(Scope.LinkLocal);
    expect(scopeOf(ipv6('ff05::1'))).toBe(Scope.SiteLocal);
    expect(scopeOf(addr('169.254.13.78'))).toBe(Scope.LinkLocal);
    expect(scopeOf(addr('127.0.0.1'))).toBe(Scope.LinkLocal);
    expect(scopeOf(addr('10.1.2.4'))).toBe(Scope.Global);
  });

  it('CommonPrefixLen (§2.2) stops at the source prefix length', () => {
    expect(commonPrefixLen(ipv6('fe80::1'), ipv6('fe80::2'))).toBe(64);
    expect(commonPrefixLen(ipv6('2001:db8:1::2'), ipv6('2001:db8:3ffe::1'))).toBe(34);
    expect(commonPrefixLen(ipv6('2001:db8:3f44::2'), ipv6('2001:db8:3ffe::1'))).toBe(40);
    expect(commonPrefixLen(ipv6('2001:db8::1'), ipv6('2001:db8::2'), 128)).toBe(126);
  });
});

describe('RFC 6724 §10.2 default destination address selection', () => {
  it('prefer matching scope (1)', () => {
    expect(destinationOrder(['2001:db8:1::2', 'fe80::1', '169.254.13.78'], ['2001:db8:1::1', '198.51.100.121'])).toEqual([
      '2001:db8:1::1 (src 2001:db8:1::2)',
      '198.51.100.121 (src 169.254.13.78)',
    ]);
  });

  it('prefer matching scope (2)', () => {
    expect(destinationOrder(['fe80::1', '198.51.100.117'], ['2001:db8:1::1', '198.51.100.121'])).toEqual([
      '198.51.100.121 (src 198.51.100.117)',
      '2001:db8:1::1 (src fe80::1)',
    ]);
  });

  it('prefer higher precedence (IPv6 over IPv4)', () => {
    expect(destinationOrder(['2001:db8:1::2', 'fe80::1', '10.1.2.4'], ['2001:db8:1::1', '10.1.2.3'])).toEqual([
      '2001:db8:1::1 (src 2001:db8:1::2)',
      '10.1.2.3 (src 10.1.2.4)',
    ]);
  });

  it('prefer smaller scope', () => {
    expect(destinationOrder(['2001:db8:1::2', 'fe80::2'], ['2001:db8:1::1', 'fe80::1'])).toEqual([
      'fe80::1 (src fe80::2)',
      '2001:db8:1::1 (src 2001:db8:1::2)',
    ]);
  });

  it('prefer home address (TRANSIENT locators stand for care-of addresses)', () => {
    const srcs: Src[] = [{ a: '2001:db8:1::2', careOf: true }, { a: '2001:db8:3::1' }, { a: 'fe80::2', careOf: true }];
    expect(destinationOrder(srcs, ['2001:db8:1::1', 'fe80::1'])).toEqual([
      '2001:db8:1::1 (src 2001:db8:3::1)',
      'fe80::1 (src fe80::2)',
    ]);
  });

  it('avoid deprecated addresses', () => {
    expect(destinationOrder(['2001:db8:1::2', { a: 'fe80::2', deprecated: true }], ['2001:db8:1::1', 'fe80::1'])).toEqual([
      '2001:db8:1::1 (src 2001:db8:1::2)',
      'fe80::1 (src fe80::2)',
    ]);
  });

  it('longest matching prefix', () => {
    expect(destinationOrder(['2001:db8:1::2', '2001:db8:3f44::2', 'fe80::2'], ['2001:db8:1::1', '2001:db8:3ffe::1'])).toEqual([
      '2001:db8:1::1 (src 2001:db8:1::2)',
      '2001:db8:3ffe::1 (src 2001:db8:3f44::2)',
    ]);
  });

  it('prefer matching label', () => {
    expect(destinationOrder(['2002:c633:6401::2', 'fe80::2'], ['2002:c633:6401::1', '2001:db8:1::1'])).toEqual([
      '2002:c633:6401::1 (src 2002:c633:6401::2)',
      '2001:db8:1::1 (src 2002:c633:6401::2)',
    ]);
  });

  it('prefer higher precedence (native over 6to4)', () => {
    expect(destinationOrder(['2002:c633:6401::2', '2001:db8:1::2', 'fe80::2'], ['2002:c633:6401::1', '2001:db8:1::1'])).toEqual([
      '2001:db8:1::1 (src 2001:db8:1::2)',
      '2002:c633:6401::1 (src 2002:c633:6401::2)',
    ]);
  });
});

describe('RFC 6724 §10.1 default source address selection (as pair choice)', () => {
  it('prefer appropriate scope: a global source for a global destination', () => {
    expect(sourceFor('2001:db8:1::1', ['2001:db8:3::1', 'fe80::1'])).toBe('2001:db8:3::1');
  });

  it('prefer same address', () => {
    expect(sourceFor('2001:db8:1::1', [{ a: '2001:db8:1::1', deprecated: true }, '2001:db8:2::1'])).toBe('2001:db8:1::1');
  });

  it('prefer appropriate scope before avoiding deprecated addresses', () => {
    expect(sourceFor('fe80::1', [{ a: 'fe80::2', deprecated: true }, '2001:db8:1::1'])).toBe('fe80::2');
  });

  it('longest matching prefix', () => {
    expect(sourceFor('2001:db8:1::1', ['2001:db8:1::2', '2001:db8:3::2'])).toBe('2001:db8:1::2');
  });

  it('prefer home address', () => {
    expect(sourceFor('2001:db8:1::1', [{ a: '2001:db8:1::2', careOf: true }, '2001:db8:3::2'])).toBe('2001:db8:3::2');
  });

  it('prefer matching label', () => {
    // RFC 5952 text: a single zero group is not shortened to "::".
    expect(sourceFor('2002:c633:6401::1', ['2002:c633:6401::d5e3:7953:13eb:22e8', '2001:db8:1::2'])).toBe(
      '2002:c633:6401:0:d5e3:7953:13eb:22e8',
    );
  });
});

describe('RFC 6724 §10.5 a multihomed site', () => {
  const srcs = ['2001:db8:1aaa::a', '2001:db8:70aa::a', 'fe80::a'];
  const siteTable = [
    ...DEFAULT_POLICY_TABLE,
    { prefix: ipv6('2001:db8:1aaa::'), length: 48, precedence: 43, label: 6 },
    { prefix: ipv6('2001:db8:1bbb::'), length: 48, precedence: 43, label: 6 },
  ];

  it('default table: the longest matching prefix picks the normal ISP', () => {
    expect(destinationOrder(srcs, ['2001:db8:1bbb::b', '2001:db8:70bb::b'])).toEqual([
      '2001:db8:70bb::b (src 2001:db8:70aa::a)',
      '2001:db8:1bbb::b (src 2001:db8:1aaa::a)',
    ]);
    expect(destinationOrder(srcs, ['2001:db8:1ccc::c', '2001:db8:6ccc::c'])).toEqual([
      '2001:db8:1ccc::c (src 2001:db8:1aaa::a)',
      '2001:db8:6ccc::c (src 2001:db8:70aa::a)',
    ]);
  });

  it('configured table: the high-performance prefixes only between the two sites', () => {
    expect(destinationOrder(srcs, ['2001:db8:1bbb::b', '2001:db8:70bb::b'], { policy: siteTable })).toEqual([
      '2001:db8:1bbb::b (src 2001:db8:1aaa::a)',
      '2001:db8:70bb::b (src 2001:db8:70aa::a)',
    ]);
    expect(destinationOrder(srcs, ['2001:db8:1ccc::c', '2001:db8:6ccc::c'], { policy: siteTable })).toEqual([
      '2001:db8:6ccc::c (src 2001:db8:70aa::a)',
      '2001:db8:1ccc::c (src 2001:db8:70aa::a)',
    ]);
  });
});

describe('REAP pair list (RFC 5534 §4.3): pruning and Shim6 preferences', () => {
  const L1 = ipv6('2001:db8:1::a');
  const L2 = ipv6('2001:db8:2::a');
  const P1 = ipv6('2001:db8:1::b');
  const P2 = ipv6('2001:db8:2::b');
  const P3 = ipv6('2001:db8:3::b');
  const show = (ps: { local: Uint8Array; peer: Uint8Array }[]): string[] => ps.map((p) => `${fmt(p.local)}>${fmt(p.peer)}`);

  it('all pairs, longest matching prefix first, when no preferences are given', () => {
    expect(show(orderPairs([{ addr: L1 }, { addr: L2 }], [{ addr: P1, verified: true }, { addr: P2, verified: true }]))).toEqual([
      '2001:db8:1::a>2001:db8:1::b',
      '2001:db8:2::a>2001:db8:2::b',
      '2001:db8:2::a>2001:db8:1::b',
      '2001:db8:1::a>2001:db8:2::b',
    ]);
  });

  it('unverified and BROKEN peer locators, BROKEN and non-operational local ones are never candidates', () => {
    const list = orderPairs(
      [{ addr: L1 }, { addr: L2, flags: LocatorFlag.Broken }, { addr: ipv6('2001:db8:9::a'), operational: false }],
      [
        { addr: P1, verified: true },
        { addr: P2, verified: false },
        { addr: P3, verified: true, flags: LocatorFlag.Broken },
      ],
    );
    expect(show(list)).toEqual(['2001:db8:1::a>2001:db8:1::b']);
  });

  it('a link-local source toward a global destination is pruned; IPv4 never pairs with IPv6', () => {
    const list = orderPairs([{ addr: ipv6('fe80::a') }, { addr: addr('192.0.2.1') }], [{ addr: P1, verified: true }]);
    expect(list).toEqual([]);
  });

  it('peer priority beats the longest matching prefix, then local priority, then weights', () => {
    const ls: LocalLocator[] = [{ addr: L1 }, { addr: L2 }];
    const ps: PeerLocator[] = [
      { addr: P1, verified: true, priority: 2 },
      { addr: P2, verified: true, priority: 1 },
    ];
    expect(show(orderPairs(ls, ps))).toEqual([
      '2001:db8:2::a>2001:db8:2::b',
      '2001:db8:1::a>2001:db8:2::b',
      '2001:db8:1::a>2001:db8:1::b',
      '2001:db8:2::a>2001:db8:1::b',
    ]);
    const lsPref: LocalLocator[] = [{ addr: L1, priority: 5 }, { addr: L2, priority: 1 }];
    const same: PeerLocator[] = [{ addr: P1, verified: true }];
    expect(show(orderPairs(lsPref, same))).toEqual(['2001:db8:2::a>2001:db8:1::b', '2001:db8:1::a>2001:db8:1::b']);
    const weighted: PeerLocator[] = [
      { addr: P2, verified: true, priority: 1, weight: 10 },
      { addr: P3, verified: true, priority: 1, weight: 50 },
    ];
    expect(show(orderPairs([{ addr: ipv6('2001:db8:7::a') }], weighted))).toEqual([
      '2001:db8:7::a>2001:db8:3::b',
      '2001:db8:7::a>2001:db8:2::b',
    ]);
  });

  it('preferencesBeforeLongestMatch: false puts RFC 6724 rule 9 first', () => {
    const ls: LocalLocator[] = [{ addr: L1 }];
    const ps: PeerLocator[] = [
      { addr: P1, verified: true, priority: 2 },
      { addr: P2, verified: true, priority: 1 },
    ];
    expect(show(orderPairs(ls, ps, { preferencesBeforeLongestMatch: false }))).toEqual([
      '2001:db8:1::a>2001:db8:1::b',
      '2001:db8:1::a>2001:db8:2::b',
    ]);
  });

  it('RFC 6724 rules still come before preferences (a ULA destination loses to a global one)', () => {
    const ls: LocalLocator[] = [{ addr: L1 }, { addr: ipv6('fd00:1::a') }];
    const ps: PeerLocator[] = [
      { addr: ipv6('fd00:1::b'), verified: true, priority: 0 },
      { addr: P2, verified: true, priority: 9 },
    ];
    expect(show(orderPairs(ls, ps))[0]).toBe('2001:db8:1::a>2001:db8:2::b');
  });
});

describe('remembered orders (default policy table)', () => {
  it('equal the order computed afresh when any one field of one locator changes, with the caller\'s own addresses', () => {
    const pool = ['2001:db8:1::a', '2001:db8:2::a', 'fe80::a', '2001:db8:1::d', '10.0.0.1', '2001:db8:1::b', '2001:db8:2::b', '2001:db8:1::c', '10.0.0.2', 'fd00:1::b'];
    let seed = 7;
    const rnd = (n: number): number => ((seed = (seed * 1103515245 + 12345) >>> 0) >>> 8) % n;
    const pick = <T>(xs: readonly T[]): T => xs[rnd(xs.length)];
    const show = (ps: ReturnType<typeof orderPairs>) => ps.map((p) => `${fmt(p.local)}>${fmt(p.peer)}`);
    const check = (ls: LocalLocator[], ps: PeerLocator[], opts: PairOrderOptions) => {
      // An explicit table is never remembered: the reference.
      const fresh = orderPairs(ls, ps, { ...opts, policy: DEFAULT_POLICY_TABLE });
      const got = orderPairs(ls, ps, opts);
      expect(show(got)).toEqual(show(fresh));
      for (const p of got) {
        expect(ls.some((l) => l.addr === p.local)).toBe(true);
        expect(ps.some((q) => q.addr === p.peer)).toBe(true);
      }
    };
    const localEdits: Array<(l: LocalLocator) => LocalLocator> = [
      (l) => ({ ...l, flags: (l.flags ?? 0) ^ LocatorFlag.Broken }), (l) => ({ ...l, flags: (l.flags ?? 0) ^ LocatorFlag.Transient }),
      (l) => ({ ...l, priority: (l.priority ?? 0) + 1 }), (l) => ({ ...l, weight: (l.weight ?? 0) + 1 }),
      (l) => ({ ...l, deprecated: !l.deprecated }), (l) => ({ ...l, operational: l.operational === false }),
      (l) => ({ ...l, prefixLength: l.prefixLength === 16 ? 64 : 16 }), (l) => ({ ...l, addr: addr(pick(pool.slice(0, 5))) }),
    ];
    const peerEdits: Array<(p: PeerLocator) => PeerLocator> = [
      (p) => ({ ...p, verified: !p.verified }), (p) => ({ ...p, flags: (p.flags ?? 0) ^ LocatorFlag.Broken }),
      (p) => ({ ...p, flags: (p.flags ?? 0) ^ LocatorFlag.Transient }), (p) => ({ ...p, priority: (p.priority ?? 0) + 1 }),
      (p) => ({ ...p, weight: (p.weight ?? 0) + 1 }), (p) => ({ ...p, addr: addr(pick(pool.slice(5))) }),
    ];
    // Weights break ties only: two peers (and two locals) of one /64.
    for (const [w1, w2] of [[1, 2], [2, 1]]) {
      check([{ addr: addr('2001:db8:1::a') }], [{ addr: addr('2001:db8:1::b'), verified: true, weight: w1 }, { addr: addr('2001:db8:1::c'), verified: true, weight: w2 }], {});
      check([{ addr: addr('2001:db8:1::a'), weight: w1 }, { addr: addr('2001:db8:1::d'), weight: w2 }], [{ addr: addr('2001:db8:2::b'), verified: true }], {});
    }
    for (let i = 0; i < 200; i++) {
      const ls: LocalLocator[] = Array.from({ length: 1 + rnd(4) }, () => ({
        addr: addr(pick(pool.slice(0, 5))), flags: pick([0, 0, LocatorFlag.Transient, LocatorFlag.Broken]), priority: rnd(3), weight: rnd(3),
        deprecated: rnd(4) === 0, operational: rnd(6) !== 0, ...(rnd(3) === 0 ? { prefixLength: pick([48, 64, 128]) } : {}),
      }));
      const ps: PeerLocator[] = Array.from({ length: 1 + rnd(4) }, () => ({
        addr: addr(pick(pool.slice(5))), verified: rnd(5) !== 0, flags: pick([0, 0, LocatorFlag.Transient, LocatorFlag.Broken]), priority: rnd(3), weight: rnd(3),
      }));
      const opts = { pruneScopeMismatch: rnd(2) === 0, preferencesBeforeLongestMatch: rnd(2) === 0 };
      check(ls, ps, opts);
      check(ls.map((l) => ({ ...l, addr: l.addr.slice() })), ps.map((p) => ({ ...p, addr: p.addr.slice() })), opts); // remembered
      check(ls, ps, { ...opts, pruneScopeMismatch: !opts.pruneScopeMismatch });
      check(ls, ps, { ...opts, preferencesBeforeLongestMatch: !opts.preferencesBeforeLongestMatch });
      for (const e of localEdits) { const j = rnd(ls.length); check(ls.map((l, k) => (k === j ? e(l) : l)), ps, opts); }
      for (const e of peerEdits) { const j = rnd(ps.length); check(ls, ps.map((p, k) => (k === j ? e(p) : p)), opts); }
    }
  });
});
