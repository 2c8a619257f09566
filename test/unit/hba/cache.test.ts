import { describe, expect, it } from 'vitest';
import {
  HbaError,
  VerificationCache,
  generateHbaSet,
  verifyCga,
  verifyHba,
  verifyShim6Signature,
  signShim6,
  shim6SignedContent,
  VERIFICATION_METHOD,
} from '../../../src/hba/index.js';
import { flipped, prefix64, rsaKeyPair, seededRandom } from './helpers.js';

const PREFIXES = [prefix64('2001:db8:a::'), prefix64('2001:db8:b::'), prefix64('2001:db8:c::')];

describe('VerificationCache', () => {
  it('second verification of the same PDS is a hit and gives the same answers', () => {
    const set = generateHbaSet({ prefixes: PREFIXES, sec: 1, random: seededRandom('cache') });
    const cache = new VerificationCache({ maxEntries: 4 });
    const pds = set.params[0];
    expect(verifyHba(set.addresses[0], pds, { cache })).toEqual({ ok: true, sec: 1 });
    expect(cache.stats).toMatchObject({ hits: 0, misses: 1, size: 1 });
    for (const a of set.addresses) expect(verifyHba(a, pds, { cache })).toEqual({ ok: true, sec: 1 });
    expect(cache.stats).toMatchObject({ hits: 3, misses: 1, size: 1 });
    // A copy of the same octets is the same key.
    expect(verifyCga(set.addresses[0], Uint8Array.from(pds), { cache })).toEqual({ ok: true, sec: 1 });
    expect(cache.stats.hits).toBe(4);

    // Failures come out the same with and without the cache, in step order.
    const bad = flipped(set.addresses[1], 15);
    expect(verifyHba(bad, pds, { cache })).toEqual(verifyHba(bad, pds));
    expect(verifyHba(bad, pds, { cache })).toEqual({ ok: false, reason: 'hash1-mismatch' });
    const raised = set.addresses[1].slice();
    raised[8] |= 0x40; // Sec 1 → 3
    expect(verifyCga(raised, set.params[1], { cache })).toEqual(verifyCga(raised, set.params[1]));
    expect(verifyCga(set.addresses[1], pds, { cache })).toEqual({ ok: false, reason: 'prefix-mismatch' });
  });

  it('owns a copy: changing the caller’s buffer afterwards neither poisons nor hits the entry', () => {
    const set = generateHbaSet({ prefixes: PREFIXES, sec: 0, random: seededRandom('copy') });
    const cache = new VerificationCache({ maxEntries: 4 });
    const buf = set.params[0].slice();
    expect(verifyHba(set.addresses[0], buf, { cache }).ok).toBe(true);
    buf[0] ^= 1;
    expect(verifyHba(set.addresses[0], buf, { cache })).toEqual({ ok: false, reason: 'hash1-mismatch' });
    expect(cache.stats).toMatchObject({ hits: 0, misses: 2, size: 2 });
    expect(verifyHba(set.addresses[0], set.params[0], { cache }).ok).toBe(true);
    expect(cache.stats.hits).toBe(1);
  });

  it('evicts the least recently used entry at the bound', () => {
    const sets = [0, 1, 2, 3].map((i) => generateHbaSet({ prefixes: PREFIXES, sec: 0, random: seededRandom(`lru${i}`) }));
    const cache = new VerificationCache({ maxEntries: 3 });
    const check = (i: number): void => {
      expect(verifyHba(sets[i].addresses[0], sets[i].params[0], { cache }).ok).toBe(true);
    };
    check(0);
    check(1);
    check(2);
    expect(cache.stats).toMatchObject({ size: 3, misses: 3, evictions: 0 });
    check(0); // 0 becomes most recent; 1 is now the oldest
    check(3); // evicts 1
    expect(cache.stats).toMatchObject({ size: 3, misses: 4, hits: 1, evictions: 1 });
    expect(cache.has(sets[1].params[0])).toBe(false);
    expect(cache.has(sets[0].params[0])).toBe(true);
    check(1); // a miss again, evicts 2
    expect(cache.stats).toMatchObject({ size: 3, misses: 5, evictions: 2 });
    expect(cache.has(sets[2].params[0])).toBe(false);
    cache.clear();
    expect(cache.stats.size).toBe(0);
  });

  it('does not cache undecodable PDS; rejects a bad bound', () => {
    const cache = new VerificationCache({ maxEntries: 2 });
    expect(verifyCga(new Uint8Array(16), new Uint8Array(10), { cache })).toEqual({ ok: false, reason: 'params-too-short' });
    expect(cache.stats).toMatchObject({ size: 0, misses: 1 });
    expect(() => new VerificationCache({ maxEntries: 0 })).toThrow(HbaError);
    expect(() => new VerificationCache({ maxEntries: 1.5 })).toThrow(HbaError);
  });

  it('also serves signature verification (parsed key kept with the entry)', () => {
    const keys = rsaKeyPair(1024);
    const set = generateHbaSet({ prefixes: PREFIXES, sec: 0, publicKeyDer: keys.publicKeyDer, random: seededRandom('sig') });
    const message = shim6SignedContent({
      generation: 1,
      locators: set.addresses,
      methods: [VERIFICATION_METHOD.CGA, VERIFICATION_METHOD.HBA, VERIFICATION_METHOD.CGA],
    });
    const signature = signShim6(keys.privateKey, message);
    const cache = new VerificationCache({ maxEntries: 8 });
    for (let i = 0; i < 3; i++) {
      const v = verifyShim6Signature({ address: set.addresses[0], params: set.params[0], message, signature, cache });
      expect(v).toEqual({ ok: true, sec: 0 });
    }
    expect(cache.stats).toMatchObject({ misses: 1, hits: 2 });
  });
});
