import * as crypto from 'node:crypto';
import { beforeAll, describe, expect, it } from 'vitest';
import {
  HbaError,
  MULTI_PREFIX_EXTENSION_TYPE,
  cgaHash2,
  decodeCgaParams,
  decodeMultiPrefix,
  encodeCgaParams,
  encodeExtendedModifier,
  encodeMultiPrefix,
  findMultiPrefix,
  generateHbaSet,
  secOf,
  verifyCga,
  verifyHba,
  type HbaSet,
} from '../../../src/hba/index.js';
import { flipped, hex, ipv6, prefix64, rsaKeyPair, seededRandom, toHex } from './helpers.js';

const PREFIXES = [prefix64('2001:db8:a::'), prefix64('2001:db8:b::'), prefix64('2001:db8:c::')];

function errorCode(f: () => unknown): string | undefined {
  try {
    f();
  } catch (e) {
    return e instanceof HbaError ? e.code : String(e);
  }
  return undefined;
}

describe('Multi-Prefix extension (RFC 5535 §5)', () => {
  it('encodes type 0x0012, length 4 + 8n, P flag, prefixes', () => {
    const ext = encodeMultiPrefix({ publicKeyPresent: true, prefixes: PREFIXES });
    expect(ext.type).toBe(0x0012);
    expect(ext.data.length).toBe(4 + 8 * 3);
    expect(toHex(ext.data)).toBe('80000000' + '20010db8000a0000' + '20010db8000b0000' + '20010db8000c0000');
    const noKey = encodeMultiPrefix({ publicKeyPresent: false, prefixes: PREFIXES.slice(0, 1) });
    expect(toHex(noKey.data)).toBe('00000000' + '20010db8000a0000');
  });

  it('decodes, ignoring reserved bits; rejects lengths that are not 4 + 8n', () => {
    const data = hex('ffffffff 20010db8000a0000');
    const d = decodeMultiPrefix({ type: 0x0012, data });
    expect(d.ok && d.value.publicKeyPresent).toBe(true);
    expect(d.ok && d.value.prefixes.map(toHex)).toEqual(['20010db8000a0000']);
    expect(decodeMultiPrefix({ type: 0x0012, data: hex('000000') }).ok).toBe(false);
    expect(decodeMultiPrefix({ type: 0x0012, data: hex('00000000 0102') }).ok).toBe(false);
    expect(decodeMultiPrefix({ type: 0x0013, data: hex('00000000') }).ok).toBe(false);
    expect(findMultiPrefix([])).toEqual({ ok: false, reason: 'no-multi-prefix' });
    const one = encodeMultiPrefix({ publicKeyPresent: false, prefixes: PREFIXES });
    expect(findMultiPrefix([one, one])).toEqual({ ok: false, reason: 'multiple-multi-prefix' });
  });
});

describe('HBA-only pseudo key (RFC 5535 §6 step 2)', () => {
  it('is an rsaEncryption SubjectPublicKeyInfo whose RSAPublicKey modulus is the 384-bit nonce', () => {
    const nonce = hex('8' + '1'.repeat(95)); // high bit set → INTEGER gets a 0x00 octet
    const spki = encodeExtendedModifier(nonce);
    expect(toHex(spki)).toBe(
      '304c' + '300d06092a864886f70d0101010500' + '033b' + '00' + '3038' + '0231' + '00' + toHex(nonce) + '0203010001',
    );
    // Node's own DER parser reads it as a 384-bit RSA key with exponent 65537.
    const parsed = crypto.createPublicKey({ key: Buffer.from(spki), format: 'der', type: 'spki' });
    expect(parsed.asymmetricKeyType).toBe('rsa');
    expect(parsed.asymmetricKeyDetails).toEqual({ modulusLength: 384, publicExponent: 65537n });
    const small = new Uint8Array(48);
    small[47] = 5; // leading zero octets are dropped (minimal DER INTEGER)
    expect(toHex(encodeExtendedModifier(small))).toBe('301c300d06092a864886f70d0101010500030b0030080201050203010001');
  });
});

describe('HBA sets (RFC 5535 §6) and HBA verification (§7.2)', () => {
  let key: { publicKeyDer: Uint8Array };
  let cgaSet: HbaSet;
  let hbaOnly: HbaSet;
  let otherSet: HbaSet;

  beforeAll(() => {
    key = rsaKeyPair(1024);
    cgaSet = generateHbaSet({ prefixes: PREFIXES, sec: 0, publicKeyDer: key.publicKeyDer, random: seededRandom('set-a') });
    hbaOnly = generateHbaSet({ prefixes: PREFIXES, sec: 0, random: seededRandom('set-b') });
    otherSet = generateHbaSet({ prefixes: PREFIXES, sec: 0, random: seededRandom('set-c') });
  });

  it('one modifier, one key and extension for all; per-prefix PDS and IIDs', () => {
    for (const set of [cgaSet, hbaOnly]) {
      expect(set.addresses).toHaveLength(3);
      expect(set.params).toHaveLength(3);
      expect(set.collisionCount).toBe(0);
      const decoded = set.params.map((p) => decodeCgaParams(p));
      decoded.forEach((d, i) => {
        expect(d.ok).toBe(true);
        if (!d.ok) return;
        expect(toHex(d.params.modifier)).toBe(toHex(set.modifier));
        expect(toHex(d.params.subnetPrefix)).toBe(toHex(PREFIXES[i]));
        expect(toHex(d.params.publicKey)).toBe(toHex(set.publicKeyDer));
        expect(d.params.extensions).toHaveLength(1);
        expect(d.params.extensions[0].type).toBe(MULTI_PREFIX_EXTENSION_TYPE);
        const mp = decodeMultiPrefix(d.params.extensions[0]);
        expect(mp.ok && mp.value.publicKeyPresent).toBe(set.cgaCompatible);
        expect(mp.ok && mp.value.prefixes.map(toHex)).toEqual(PREFIXES.map(toHex));
        expect(toHex(set.addresses[i].subarray(0, 8))).toBe(toHex(PREFIXES[i]));
        expect(secOf(set.addresses[i])).toBe(0);
        expect(set.addresses[i][8] & 0x03).toBe(0);
      });
      // Hash2 is the same for every PDS of the set (prefix-independent).
      expect(new Set(set.params.map((p) => toHex(cgaHash2(p)))).size).toBe(1);
      expect(new Set(set.addresses.map((a) => toHex(a.subarray(8)))).size).toBe(3);
    }
    expect(cgaSet.cgaCompatible).toBe(true);
    expect(toHex(cgaSet.publicKeyDer)).toBe(toHex(key.publicKeyDer));
    expect(hbaOnly.cgaCompatible).toBe(false);
    const pseudo = crypto.createPublicKey({ key: Buffer.from(hbaOnly.publicKeyDer), format: 'der', type: 'spki' });
    expect(pseudo.asymmetricKeyType).toBe('rsa');
    expect(pseudo.asymmetricKeyDetails?.modulusLength).toBeLessThanOrEqual(384);
  });

  it('every address verifies against every PDS of its set (§7.2), and against its own as a CGA (§7.1)', () => {
    for (const set of [cgaSet, hbaOnly]) {
      set.addresses.forEach((address, i) => {
        expect(verifyCga(address, set.params[i])).toEqual({ ok: true, sec: 0 });
        for (const pds of set.params) expect(verifyHba(address, pds)).toEqual({ ok: true, sec: 0 });
        // Plain CGA verification against a sibling's PDS fails at step 2, as §7.2 explains.
        const sibling = set.params[(i + 1) % 3];
        expect(verifyCga(address, sibling)).toEqual({ ok: false, reason: 'prefix-mismatch' });
      });
    }
  });

  it('changing any PDS octet fails; the Subnet Prefix field is replaced by §7.2 step 1 and so is not bound', () => {
    for (const set of [cgaSet, hbaOnly]) {
      const pds = set.params[0];
      for (let i = 0; i < pds.length; i++) {
        for (const mask of [0x01, 0x80]) {
          const bad = flipped(pds, i, mask);
          const own = verifyCga(set.addresses[0], bad);
          expect(own.ok, `CGA octet ${i} mask ${mask}`).toBe(false);
          if (!own.ok) expect(typeof own.reason).toBe('string');
          for (const address of set.addresses) {
            const v = verifyHba(address, bad);
            if (i >= 16 && i < 24) expect(v).toEqual({ ok: true, sec: 0 });
            else expect(v.ok, `HBA octet ${i} mask ${mask}`).toBe(false);
          }
        }
      }
    }
  });

  it('gives the step that failed', () => {
    const [a0] = cgaSet.addresses;
    const pds = cgaSet.params[0];
    const count3 = pds.slice();
    count3[24] = 3;
    expect(verifyHba(a0, count3)).toEqual({ ok: false, reason: 'collision-count' });
    expect(verifyHba(ipv6('2001:db8:d::1'), pds)).toEqual({ ok: false, reason: 'prefix-not-in-set' });
    expect(verifyHba(a0.subarray(0, 8), pds)).toEqual({ ok: false, reason: 'bad-address' });
    expect(verifyHba(a0, pds.subarray(0, 20))).toEqual({ ok: false, reason: 'params-too-short' });
    // The Multi-Prefix Extension Type changed → no Multi-Prefix extension (RFC 5533 §7.2:
    // the HBA method is then inconsistent with the PDS).
    const typeIndex = pds.length - (4 + 24 + 4) + 1;
    expect(pds[typeIndex]).toBe(0x12);
    expect(verifyHba(a0, flipped(pds, typeIndex))).toEqual({ ok: false, reason: 'no-multi-prefix' });
    // Length field no longer 4 + 8n but still a valid TLV sequence → bad-multi-prefix.
    const d = decodeCgaParams(pds);
    if (!d.ok) throw new Error('decode');
    const mp = d.params.extensions[0];
    const shortened = encodeCgaParams({ ...d.params, extensions: [{ type: mp.type, data: mp.data.subarray(0, 27) }] });
    expect(verifyHba(a0, shortened)).toEqual({ ok: false, reason: 'bad-multi-prefix' });
    const doubled = encodeCgaParams({ ...d.params, extensions: [mp, mp] });
    expect(verifyHba(a0, doubled)).toEqual({ ok: false, reason: 'multiple-multi-prefix' });
    // Own-PDS CGA verification does not need the extension.
    const plainCga = encodeCgaParams({ ...d.params, extensions: [] });
    expect(verifyHba(a0, plainCga)).toEqual({ ok: false, reason: 'no-multi-prefix' });
  });

  it('a changed address prefix fails (not in set, or in set with the wrong IID)', () => {
    const [a0, a1] = cgaSet.addresses;
    const moved = Uint8Array.from([...PREFIXES[1], ...a0.subarray(8)]);
    for (const pds of cgaSet.params) {
      expect(verifyHba(moved, pds)).toEqual({ ok: false, reason: 'hash1-mismatch' });
      expect(verifyHba(flipped(a1, 3), pds)).toEqual({ ok: false, reason: 'prefix-not-in-set' });
    }
  });

  it('a PDS built with the prefix list in another order fails', () => {
    const d = decodeCgaParams(cgaSet.params[0]);
    if (!d.ok) throw new Error('decode');
    const swappedExt = encodeMultiPrefix({ publicKeyPresent: true, prefixes: [PREFIXES[1], PREFIXES[0], PREFIXES[2]] });
    const swapped = encodeCgaParams({ ...d.params, extensions: [swappedExt] });
    for (const address of cgaSet.addresses) {
      expect(verifyHba(address, swapped)).toEqual({ ok: false, reason: 'hash1-mismatch' });
    }
    // Generating with the swapped order gives a different set.
    const regen = generateHbaSet({
      prefixes: [PREFIXES[1], PREFIXES[0], PREFIXES[2]],
      sec: 0,
      publicKeyDer: key.publicKeyDer,
      modifier: cgaSet.modifier,
    });
    expect(toHex(regen.addresses[1])).not.toBe(toHex(cgaSet.addresses[0]));
  });

  it('an address of another set fails against this set', () => {
    for (const foreign of otherSet.addresses) {
      for (const pds of [...hbaOnly.params, ...cgaSet.params]) {
        expect(verifyHba(foreign, pds)).toEqual({ ok: false, reason: 'hash1-mismatch' });
      }
    }
  });

  it('is reproducible from injected randomness and changes when a prefix is added', () => {
    const again = generateHbaSet({ prefixes: PREFIXES, sec: 0, random: seededRandom('set-b') });
    expect(again.addresses.map(toHex)).toEqual(hbaOnly.addresses.map(toHex));
    const four = generateHbaSet({
      prefixes: [...PREFIXES, prefix64('2001:db8:d::')],
      sec: 0,
      random: seededRandom('set-b'),
    });
    // RFC 5535 §8: adding a prefix renumbers every address of the set.
    for (let i = 0; i < 3; i++) expect(toHex(four.addresses[i])).not.toBe(toHex(hbaOnly.addresses[i]));
  });

  it('Sec=1: one search for the set; every PDS meets the Hash2 condition; raising Sec is caught', () => {
    const set = generateHbaSet({ prefixes: PREFIXES, sec: 1, random: seededRandom('sec1-set') });
    expect(set.iterations).toBeGreaterThan(0);
    for (const pds of set.params) expect(toHex(cgaHash2(pds)).slice(0, 4)).toBe('0000');
    for (const address of set.addresses) {
      expect(secOf(address)).toBe(1);
      for (const pds of set.params) expect(verifyHba(address, pds)).toEqual({ ok: true, sec: 1 });
      const raised = address.slice();
      raised[8] = (raised[8] & 0x1f) | (2 << 5);
      expect(verifyHba(raised, set.params[0])).toEqual({ ok: false, reason: 'hash2-zero-bits' });
      const lowered = address.slice();
      lowered[8] &= 0x1f;
      expect(verifyHba(lowered, set.params[0])).toEqual({ ok: true, sec: 0 });
      expect(verifyHba(lowered, set.params[0], { minSec: 1 })).toEqual({ ok: false, reason: 'sec-below-minimum' });
      // Sec 3..7 have no HBA procedure (RFC 5535 §7), checked after Hash1 like step 2.5.
      const sec3 = address.slice();
      sec3[8] = (sec3[8] & 0x1f) | (3 << 5);
      expect(verifyHba(sec3, set.params[0])).toEqual({ ok: false, reason: 'sec-unsupported' });
    }
  });

  it('DAD collision on any address bumps the count for the whole set (step 6.4)', () => {
    const base = generateHbaSet({ prefixes: PREFIXES, sec: 0, random: seededRandom('dad-set') });
    const hit = toHex(base.addresses[2]);
    const set = generateHbaSet({
      prefixes: PREFIXES,
      sec: 0,
      random: seededRandom('dad-set'),
      isDuplicate: (a) => toHex(a) === hit,
    });
    expect(set.collisionCount).toBe(1);
    for (const pds of set.params) expect(pds[24]).toBe(1);
    for (let i = 0; i < 3; i++) expect(toHex(set.addresses[i])).not.toBe(toHex(base.addresses[i]));
    for (const a of set.addresses) for (const pds of set.params) expect(verifyHba(a, pds).ok).toBe(true);
    expect(
      errorCode(() => generateHbaSet({ prefixes: PREFIXES, sec: 0, random: seededRandom('x'), isDuplicate: () => true })),
    ).toBe('HBA_ERR_COLLISIONS');
  });

  it('validates options', () => {
    const r = seededRandom('opts');
    expect(errorCode(() => generateHbaSet({ prefixes: [], sec: 0, random: r }))).toBe('HBA_ERR_INVALID_ARGUMENT');
    expect(errorCode(() => generateHbaSet({ prefixes: [PREFIXES[0], PREFIXES[0]], sec: 0, random: r }))).toBe(
      'HBA_ERR_INVALID_ARGUMENT',
    );
    expect(errorCode(() => generateHbaSet({ prefixes: PREFIXES, sec: 3, random: r }))).toBe('HBA_ERR_INVALID_ARGUMENT');
    expect(errorCode(() => generateHbaSet({ prefixes: [ipv6('2001:db8::')], sec: 0, random: r }))).toBe(
      'HBA_ERR_INVALID_ARGUMENT',
    );
    expect(errorCode(() => generateHbaSet({ prefixes: PREFIXES, sec: 0 }))).toBe('HBA_ERR_RANDOM_REQUIRED');
    expect(
      errorCode(() =>
        generateHbaSet({ prefixes: PREFIXES, sec: 0, random: r, ext: [{ type: 0x0012, data: new Uint8Array(4) }] }),
      ),
    ).toBe('HBA_ERR_INVALID_ARGUMENT');
    expect(
      errorCode(() =>
        generateHbaSet({
          prefixes: PREFIXES,
          sec: 0,
          random: r,
          publicKeyDer: key.publicKeyDer,
          extendedModifier: new Uint8Array(48),
        }),
      ),
    ).toBe('HBA_ERR_INVALID_ARGUMENT');
    const small = rsaKeyPair(512);
    expect(errorCode(() => generateHbaSet({ prefixes: PREFIXES, sec: 0, random: r, publicKeyDer: small.publicKeyDer }))).toBe(
      'HBA_ERR_KEY_TOO_SHORT',
    );
  });

  it('keeps further extensions after the Multi-Prefix extension and hashes them', () => {
    const set = generateHbaSet({
      prefixes: PREFIXES,
      sec: 0,
      random: seededRandom('set-b'),
      ext: [{ type: 0xfffd, data: hex('cafe') }],
    });
    const d = decodeCgaParams(set.params[0]);
    expect(d.ok && d.params.extensions.map((e) => e.type)).toEqual([0x0012, 0xfffd]);
    expect(toHex(set.addresses[0])).not.toBe(toHex(hbaOnly.addresses[0]));
    for (const a of set.addresses) expect(verifyHba(a, set.params[1]).ok).toBe(true);
  });
});
