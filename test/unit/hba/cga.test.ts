import { describe, expect, it } from 'vitest';
import {
  HbaError,
  MAX_SEC,
  cgaHash1,
  cgaHash2,
  decodeCgaParams,
  encodeCgaParams,
  generateCga,
  interfaceIdentifier,
  searchModifier,
  secOf,
  verifyCga,
  type CgaExtension,
} from '../../../src/hba/index.js';
import { flipped, hex, ipv6, prefix64, seededRandom, toHex } from './helpers.js';

// RFC 3972 Appendix A: Sec=1, prefix fe80::, RSA-512 public key.
const APPX_KEY = hex(`
  305c 300d 0609 2a86 4886 f70d 0101 0105 0003 4b00 3048 0241
  00c2 c2f1 3730 5454 f10b d9ce a368 44b5 30e9 211a 4b26 2b16
  467c b7df ba1f 595c 0194 f275 be5a 4d38 6f2c 3c23 8250 8773
  c786 7f9b 3b9e 63a0 9c7b c48f 7a54 ebef af02 0301 0001`);
const APPX_MODIFIER_0 = hex('89a8 a8b2 e858 d8b8 f263 3f44 d2d4 ce9a');
const APPX_MODIFIER_1 = hex('89a8 a8b2 e858 d8b8 f263 3f44 d2d4 ce9b');
const APPX_HASH1_INPUT = hex(`
  89a8 a8b2 e858 d8b8 f263 3f44 d2d4 ce9b fe80 0000 0000 0000 00
  305c 300d 0609 2a86 4886 f70d 0101 0105 0003 4b00 3048 0241
  00c2 c2f1 3730 5454 f10b d9ce a368 44b5 30e9 211a 4b26 2b16
  467c b7df ba1f 595c 0194 f275 be5a 4d38 6f2c 3c23 8250 8773
  c786 7f9b 3b9e 63a0 9c7b c48f 7a54 ebef af02 0301 0001`);
const APPX_ADDRESS = ipv6('fe80::3c4a:5bf6:ffb4:ca6c');

describe('RFC 3972 Appendix A', () => {
  it('reproduces both Hash2 values, Hash1, the interface identifier and the address', () => {
    const withModifier = (m: Uint8Array): Uint8Array =>
      encodeCgaParams({ modifier: m, subnetPrefix: prefix64('fe80::'), collisionCount: 0, publicKey: APPX_KEY, extensions: [] });
    expect(APPX_KEY.length).toBe(94);
    expect(toHex(cgaHash2(withModifier(APPX_MODIFIER_0)))).toBe('436b9a70dbfddbf1926e6e6629c0');
    expect(toHex(cgaHash2(withModifier(APPX_MODIFIER_1)))).toBe('000001ca680b83888d0912dffcce');
    expect(toHex(withModifier(APPX_MODIFIER_1))).toBe(toHex(APPX_HASH1_INPUT));
    expect(toHex(cgaHash1(APPX_HASH1_INPUT))).toBe('fd4a5bf6ffb4ca6c');
    expect(toHex(interfaceIdentifier(cgaHash1(APPX_HASH1_INPUT), 1))).toBe('3c4a5bf6ffb4ca6c');
  });

  it('generateCga from the RFC initial modifier finds ...ce9b after 2 Hash2 computations', () => {
    const r = generateCga({ prefix: prefix64('fe80::'), publicKeyDer: APPX_KEY, sec: 1, modifier: APPX_MODIFIER_0 });
    expect(r.iterations).toBe(2);
    expect(toHex(r.modifier)).toBe(toHex(APPX_MODIFIER_1));
    expect(r.collisionCount).toBe(0);
    expect(toHex(r.address)).toBe(toHex(APPX_ADDRESS));
    // "The CGA Parameters data structure associated with the address is the same as the
    // input to Hash1 above" (119 octets).
    expect(r.params.length).toBe(119);
    expect(toHex(r.params)).toBe(toHex(APPX_HASH1_INPUT));
  });

  it('verifies the RFC address against the RFC parameters', () => {
    expect(verifyCga(APPX_ADDRESS, APPX_HASH1_INPUT)).toEqual({ ok: true, sec: 1 });
  });
});

describe('CGA Parameters codec', () => {
  it('round-trips with extension fields, unknown ones included', () => {
    const ext: CgaExtension[] = [
      { type: 0xfffd, data: hex('0102030405') },
      { type: 0x1234, data: new Uint8Array(0) },
    ];
    const bytes = encodeCgaParams({
      modifier: APPX_MODIFIER_1,
      subnetPrefix: prefix64('2001:db8::'),
      collisionCount: 2,
      publicKey: APPX_KEY,
      extensions: ext,
    });
    expect(bytes.length).toBe(25 + 94 + 4 + 5 + 4);
    const d = decodeCgaParams(bytes);
    expect(d.ok).toBe(true);
    if (!d.ok) return;
    expect(d.extensionsOffset).toBe(25 + 94);
    expect(toHex(d.params.modifier)).toBe(toHex(APPX_MODIFIER_1));
    expect(toHex(d.params.subnetPrefix)).toBe('20010db800000000');
    expect(d.params.collisionCount).toBe(2);
    expect(toHex(d.params.publicKey)).toBe(toHex(APPX_KEY));
    expect(d.params.extensions.map((e) => [e.type, toHex(e.data)])).toEqual([
      [0xfffd, '0102030405'],
      [0x1234, ''],
    ]);
    expect(toHex(encodeCgaParams(d.params))).toBe(toHex(bytes));
  });

  it('reports structural failures with a reason and never throws', () => {
    expect(decodeCgaParams(new Uint8Array(10))).toMatchObject({ ok: false, reason: 'params-too-short' });
    expect(decodeCgaParams(flipped(APPX_HASH1_INPUT, 25, 0xff))).toMatchObject({ ok: false, reason: 'bad-public-key' });
    // Truncated key, then a dangling partial TLV header, then a TLV overrunning the end.
    expect(decodeCgaParams(APPX_HASH1_INPUT.subarray(0, 118))).toMatchObject({ ok: false, reason: 'bad-public-key' });
    const withTail = (tail: string): Uint8Array => Uint8Array.from([...APPX_HASH1_INPUT, ...hex(tail)]);
    expect(decodeCgaParams(withTail('0012'))).toMatchObject({ ok: false, reason: 'bad-extensions', offset: 119 });
    expect(decodeCgaParams(withTail('00120005 01020304'))).toMatchObject({ ok: false, reason: 'bad-extensions' });
    // Indefinite and non-minimal DER lengths are not DER.
    const badLen = APPX_HASH1_INPUT.slice();
    badLen[26] = 0x80;
    expect(decodeCgaParams(badLen)).toMatchObject({ ok: false, reason: 'bad-public-key' });
    const nonMinimal = Uint8Array.from([...APPX_HASH1_INPUT.subarray(0, 26), 0x81, ...APPX_HASH1_INPUT.subarray(26)]);
    expect(decodeCgaParams(nonMinimal)).toMatchObject({ ok: false, reason: 'bad-public-key' });

    const random = seededRandom('decode-fuzz');
    for (let i = 0; i < 2000; i++) {
      const len = random(1)[0];
      const junk = random(len);
      if (len > 26 && i % 2 === 0) junk[25] = 0x30; // make the key header plausible half the time
      expect(() => decodeCgaParams(junk)).not.toThrow();
      expect(() => verifyCga(APPX_ADDRESS, junk)).not.toThrow();
    }
    for (let n = 0; n <= APPX_HASH1_INPUT.length; n++) {
      const r = decodeCgaParams(APPX_HASH1_INPUT.subarray(0, n));
      expect(r.ok).toBe(n === APPX_HASH1_INPUT.length);
    }
  });

  it('rejects out-of-range fields when encoding', () => {
    const base = { modifier: APPX_MODIFIER_1, subnetPrefix: prefix64('fe80::'), publicKey: APPX_KEY, extensions: [] };
    expect(() => encodeCgaParams({ ...base, collisionCount: 3 })).toThrow(HbaError);
    expect(() => encodeCgaParams({ ...base, collisionCount: 0, modifier: new Uint8Array(15) })).toThrow(/modifier/);
    expect(() => encodeCgaParams({ ...base, collisionCount: 0, publicKey: APPX_KEY.subarray(1) })).toThrow(/SEQUENCE/);
    expect(() =>
      encodeCgaParams({ ...base, collisionCount: 0, extensions: [{ type: 0x10000, data: new Uint8Array(0) }] }),
    ).toThrow(/16-bit/);
  });
});

describe('CGA generation and verification (RFC 3972 §4, §5)', () => {
  const prefix = prefix64('2001:db8:1:2::');

  it('Sec=0: no search, Sec bits 000, u/g zero, verifies', () => {
    const r = generateCga({ prefix, publicKeyDer: APPX_KEY, sec: 0, random: seededRandom('sec0') });
    expect(r.iterations).toBe(0);
    expect(secOf(r.address)).toBe(0);
    expect(r.address[8] & 0x03).toBe(0);
    expect(toHex(r.address.subarray(0, 8))).toBe(toHex(prefix));
    expect(verifyCga(r.address, r.params)).toEqual({ ok: true, sec: 0 });
  });

  it('Sec=1: Hash2 has 16 leading zero bits and verification checks it', () => {
    const r = generateCga({ prefix, publicKeyDer: APPX_KEY, sec: 1, random: seededRandom('sec1') });
    expect(secOf(r.address)).toBe(1);
    expect(toHex(cgaHash2(r.params)).slice(0, 4)).toBe('0000');
    expect(r.iterations).toBeGreaterThan(0);
    expect(verifyCga(r.address, r.params)).toEqual({ ok: true, sec: 1 });

    // Raising Sec in the address is caught at steps 6–7 (unless Hash2 happens to have
    // 32 zero bits, which this seed does not).
    expect(toHex(cgaHash2(r.params)).slice(0, 8)).not.toBe('00000000');
    const raised = r.address.slice();
    raised[8] = (raised[8] & 0x1f) | (2 << 5);
    expect(verifyCga(raised, r.params)).toEqual({ ok: false, reason: 'hash2-zero-bits' });
    for (let sec = 2; sec <= MAX_SEC; sec++) {
      const a = r.address.slice();
      a[8] = (a[8] & 0x1f) | (sec << 5);
      expect(verifyCga(a, r.params)).toEqual({ ok: false, reason: 'hash2-zero-bits' });
    }

    // A Sec=1 modifier found from a start whose Hash2 fails: the previous modifier fails.
    const prev = r.params.slice();
    let i = 15;
    while (prev[i] === 0) prev[i--] = 0xff;
    prev[i]--;
    expect(toHex(cgaHash2(prev)).slice(0, 4)).not.toBe('0000');
  });

  it('decreasing Sec or flipping u/g does not invalidate (RFC 3972 §7.1: 4·(Sec+1) addresses); minSec policy catches the decrease', () => {
    const r = generateCga({ prefix, publicKeyDer: APPX_KEY, sec: 1, random: seededRandom('sec1') });
    let accepted = 0;
    for (let sec = 0; sec <= MAX_SEC; sec++) {
      for (let ug = 0; ug < 4; ug++) {
        const a = r.address.slice();
        a[8] = (sec << 5) | (a[8] & 0x1c) | ug;
        const v = verifyCga(a, r.params);
        if (v.ok) {
          accepted++;
          expect(v.sec).toBe(sec); // the verifier reports the Sec it read (step 5)
        }
      }
    }
    expect(accepted).toBe(4 * (1 + 1));

    const lowered = r.address.slice();
    lowered[8] &= 0x1f; // Sec 1 → 0
    expect(verifyCga(lowered, r.params)).toEqual({ ok: true, sec: 0 });
    expect(verifyCga(lowered, r.params, { minSec: 1 })).toEqual({ ok: false, reason: 'sec-below-minimum' });
    expect(verifyCga(r.address, r.params, { minSec: 1 })).toEqual({ ok: true, sec: 1 });
  });

  it('follows the RFC 3972 §5 step order with a reason for each failure', () => {
    const r = generateCga({ prefix, publicKeyDer: APPX_KEY, sec: 0, random: seededRandom('steps') });
    expect(verifyCga(r.address.subarray(0, 15), r.params)).toEqual({ ok: false, reason: 'bad-address' });
    // Step 1: count 3 fails before anything is hashed, even with a wrong prefix too.
    const count3 = r.params.slice();
    count3[24] = 3;
    expect(verifyCga(r.address, count3)).toEqual({ ok: false, reason: 'collision-count' });
    expect(verifyCga(ipv6('2001:db8:9::1'), count3)).toEqual({ ok: false, reason: 'collision-count' });
    // Step 2.
    const other = r.address.slice();
    other[7] ^= 1;
    expect(verifyCga(other, r.params)).toEqual({ ok: false, reason: 'prefix-mismatch' });
    // Step 4: any hashed IID bit.
    for (const [octet, mask] of [
      [8, 0x04], [8, 0x08], [8, 0x10], [9, 0x01], [15, 0x80],
    ] as const) {
      expect(verifyCga(flipped(r.address, octet, mask), r.params)).toEqual({ ok: false, reason: 'hash1-mismatch' });
    }
    // Any changed PDS octet fails (count 0→1 changes Hash1; key header octets break decoding).
    for (let i = 0; i < r.params.length; i++) {
      const v = verifyCga(r.address, flipped(r.params, i));
      expect(v.ok, `octet ${i}`).toBe(false);
    }
  });

  it('hashes extension fields, including unknown ones', () => {
    const random = seededRandom('ext');
    const modifier = random(16);
    const plain = generateCga({ prefix, publicKeyDer: APPX_KEY, sec: 0, modifier });
    const ext = [{ type: 0xfffe, data: hex('deadbeef') }];
    const withExt = generateCga({ prefix, publicKeyDer: APPX_KEY, sec: 0, modifier, ext });
    expect(toHex(withExt.address)).not.toBe(toHex(plain.address));
    expect(verifyCga(withExt.address, withExt.params)).toEqual({ ok: true, sec: 0 });
    expect(verifyCga(plain.address, withExt.params)).toEqual({ ok: false, reason: 'hash1-mismatch' });
    expect(verifyCga(withExt.address, flipped(withExt.params, withExt.params.length - 1))).toEqual({
      ok: false,
      reason: 'hash1-mismatch',
    });
  });

  it('collision count: DAD collisions bump it (step 8), a third one throws', () => {
    const modifier = seededRandom('dad')(16);
    const seen: string[] = [];
    const r = generateCga({
      prefix,
      publicKeyDer: APPX_KEY,
      sec: 0,
      modifier,
      isDuplicate: (a) => {
        seen.push(toHex(a));
        return seen.length <= 2;
      },
    });
    expect(r.collisionCount).toBe(2);
    expect(new Set(seen).size).toBe(3);
    expect(r.params[24]).toBe(2);
    expect(verifyCga(r.address, r.params)).toEqual({ ok: true, sec: 0 });
    // Re-generating with the returned modifier and count+1 is the manual equivalent.
    const again = generateCga({ prefix, publicKeyDer: APPX_KEY, sec: 0, modifier, collisionCount: 1 });
    expect(toHex(again.address)).toBe(seen[1]);
    try {
      generateCga({ prefix, publicKeyDer: APPX_KEY, sec: 0, modifier, isDuplicate: () => true });
      expect.unreachable();
    } catch (e) {
      expect(e).toBeInstanceOf(HbaError);
      expect((e as HbaError).code).toBe('HBA_ERR_COLLISIONS');
    }
  });

  it('validates options at the edge', () => {
    const code = (f: () => unknown): string | undefined => {
      try {
        f();
      } catch (e) {
        return e instanceof HbaError ? e.code : 'other';
      }
      return undefined;
    };
    expect(code(() => generateCga({ prefix, publicKeyDer: APPX_KEY, sec: 0 }))).toBe('HBA_ERR_RANDOM_REQUIRED');
    expect(code(() => generateCga({ prefix, publicKeyDer: APPX_KEY, sec: 8, random: seededRandom('x') }))).toBe(
      'HBA_ERR_INVALID_ARGUMENT',
    );
    expect(code(() => generateCga({ prefix: ipv6('::1'), publicKeyDer: APPX_KEY, sec: 0, random: seededRandom('x') }))).toBe(
      'HBA_ERR_INVALID_ARGUMENT',
    );
    expect(
      code(() => generateCga({ prefix, publicKeyDer: APPX_KEY, sec: 0, random: seededRandom('x'), minRsaBits: 1024 })),
    ).toBe('HBA_ERR_KEY_TOO_SHORT');
    expect(code(() => generateCga({ prefix, publicKeyDer: APPX_KEY, sec: 0, random: () => new Uint8Array(3) }))).toBe(
      'HBA_ERR_INVALID_ARGUMENT',
    );
    expect(code(() => verifyCga(APPX_ADDRESS, APPX_HASH1_INPUT, { minSec: 9 }))).toBe('HBA_ERR_INVALID_ARGUMENT');
  });
});

describe('modifier search for any Sec', () => {
  it('is resumable and bounded; the same search split in chunks ends at the same modifier', () => {
    const start = seededRandom('search')(16);
    const whole = searchModifier({ modifier: start, publicKeyDer: APPX_KEY, sec: 1 });
    expect(whole.found).toBe(true);
    if (!whole.found) return;
    let next = start;
    let total = 0;
    for (;;) {
      const part = searchModifier({ modifier: next, publicKeyDer: APPX_KEY, sec: 1, maxIterations: 10_000 });
      total += part.iterations;
      if (part.found) {
        expect(toHex(part.modifier)).toBe(toHex(whole.modifier));
        break;
      }
      next = part.next;
    }
    expect(total).toBe(whole.iterations);
  });

  it('Sec 2..7 run the same loop (bounded here: 2^32+ iterations are out of reach in a test)', () => {
    for (let sec = 2; sec <= MAX_SEC; sec++) {
      const r = searchModifier({ modifier: new Uint8Array(16), publicKeyDer: APPX_KEY, sec, maxIterations: 100 });
      expect(r.found).toBe(false);
      if (r.found) continue;
      expect(r.iterations).toBe(100);
      expect(toHex(r.next)).toBe('00000000000000000000000000000064');
    }
    try {
      generateCga({ prefix: prefix64('fe80::'), publicKeyDer: APPX_KEY, sec: 2, modifier: new Uint8Array(16), maxIterations: 10 });
      expect.unreachable();
    } catch (e) {
      expect((e as HbaError).code).toBe('HBA_ERR_SEARCH_EXHAUSTED');
    }
  });

  it('the modifier increments as a 128-bit integer with carry', () => {
    const start = hex('000000000000000000000000000000ff');
    const r = searchModifier({ modifier: start, publicKeyDer: APPX_KEY, sec: 7, maxIterations: 2 });
    expect(r.found).toBe(false);
    if (!r.found) expect(toHex(r.next)).toBe('00000000000000000000000000000101');
    expect(toHex(start)).toBe('000000000000000000000000000000ff'); // input untouched
  });
});
