import * as crypto from 'node:crypto';
import { beforeAll, describe, expect, it } from 'vitest';
import {
  HbaError,
  SHIM6_CGA_MESSAGE_TAG,
  VERIFICATION_METHOD,
  generateCga,
  generateHbaSet,
  shim6SignedContent,
  signShim6,
  verifyShim6Signature,
  type CgaResult,
  type HbaSet,
} from '../../../src/hba/index.js';
import { flipped, ipv6, prefix64, rsaKeyPair, seededRandom, toHex } from './helpers.js';

const { HBA, CGA } = VERIFICATION_METHOD;
const LOCATORS = [ipv6('2001:db8:a::1'), ipv6('2001:db8:b::2'), ipv6('2001:db8:c::3'), ipv6('2001:db8:d::4')];

describe('Shim6 CGA Signature input (RFC 5533 §5.15.5)', () => {
  it('uses the IANA tag for Shim6', () => {
    expect(toHex(SHIM6_CGA_MESSAGE_TAG)).toBe('4a305662485857 4b3655416f506a6d48'.replace(' ', ''));
    expect(VERIFICATION_METHOD).toEqual({ HBA: 1, CGA: 2 });
  });

  it('is the Locator List Generation then the CGA-method locators in list order', () => {
    const content = shim6SignedContent({ generation: 0x01020304, locators: LOCATORS, methods: [CGA, HBA, CGA, 0] });
    expect(toHex(content)).toBe('01020304' + toHex(LOCATORS[0]) + toHex(LOCATORS[2]));
    expect(toHex(shim6SignedContent({ generation: 0xffffffff, locators: LOCATORS, methods: [HBA, HBA, HBA, HBA] }))).toBe(
      'ffffffff',
    );
    expect(() => shim6SignedContent({ generation: 1, locators: LOCATORS, methods: [CGA] })).toThrow(HbaError);
    expect(() => shim6SignedContent({ generation: 2 ** 32, locators: [], methods: [] })).toThrow(HbaError);
    expect(() => shim6SignedContent({ generation: 1, locators: [new Uint8Array(4)], methods: [CGA] })).toThrow(HbaError);
  });
});

describe('signShim6 / verifyShim6Signature', () => {
  let keys: { privateKey: crypto.KeyObject; publicKeyDer: Uint8Array };
  let ulid: CgaResult;
  let message: Uint8Array;
  let signature: Uint8Array;

  beforeAll(() => {
    keys = rsaKeyPair(1024);
    ulid = generateCga({ prefix: prefix64('2001:db8:a::'), publicKeyDer: keys.publicKeyDer, sec: 0, random: seededRandom('ulid') });
    message = shim6SignedContent({ generation: 7, locators: LOCATORS, methods: [CGA, CGA, HBA, CGA] });
    signature = signShim6(keys.privateKey, message);
  });

  it('round-trips; the signature is RSASSA-PKCS1-v1_5/SHA-1 over tag ‖ message', () => {
    expect(signature.length).toBe(128);
    expect(verifyShim6Signature({ address: ulid.address, params: ulid.params, message, signature })).toEqual({
      ok: true,
      sec: 0,
    });
    // Independent check with node:crypto directly.
    const data = Buffer.concat([SHIM6_CGA_MESSAGE_TAG, message]);
    expect(crypto.verify('sha1', data, crypto.createPublicKey(keys.privateKey), signature)).toBe(true);
    expect(crypto.verify('sha256', data, crypto.createPublicKey(keys.privateKey), signature)).toBe(false);
    // Deterministic (PKCS#1 v1.5).
    expect(toHex(signShim6(keys.privateKey, message))).toBe(toHex(signature));
  });

  it('fails for any flipped octet of signature or message, and without the tag', () => {
    for (let i = 0; i < signature.length; i += 7) {
      const v = verifyShim6Signature({ address: ulid.address, params: ulid.params, message, signature: flipped(signature, i) });
      expect(v).toEqual({ ok: false, reason: 'bad-signature' });
    }
    for (let i = 0; i < message.length; i++) {
      const v = verifyShim6Signature({ address: ulid.address, params: ulid.params, message: flipped(message, i), signature });
      expect(v).toEqual({ ok: false, reason: 'bad-signature' });
    }
    const untagged = crypto.sign('sha1', message, keys.privateKey);
    expect(verifyShim6Signature({ address: ulid.address, params: ulid.params, message, signature: untagged })).toEqual({
      ok: false,
      reason: 'bad-signature',
    });
    // Truncated / empty signatures are reported, not thrown.
    expect(
      verifyShim6Signature({ address: ulid.address, params: ulid.params, message, signature: signature.subarray(1) }),
    ).toEqual({ ok: false, reason: 'bad-signature' });
    expect(
      verifyShim6Signature({ address: ulid.address, params: ulid.params, message, signature: new Uint8Array(0) }),
    ).toEqual({ ok: false, reason: 'bad-signature' });
  });

  it('requires the CGA check of the address first (RFC 3972 §6)', () => {
    const other = flipped(ulid.address, 12);
    expect(verifyShim6Signature({ address: other, params: ulid.params, message, signature })).toEqual({
      ok: false,
      reason: 'hash1-mismatch',
    });
    expect(verifyShim6Signature({ address: ulid.address, params: flipped(ulid.params, 3), message, signature })).toEqual({
      ok: false,
      reason: 'hash1-mismatch',
    });
    // A signature by another key, with a PDS/CGA of that other key, does not carry over.
    const mallory = rsaKeyPair(1024);
    const forged = signShim6(mallory.privateKey, message);
    expect(verifyShim6Signature({ address: ulid.address, params: ulid.params, message, signature: forged })).toEqual({
      ok: false,
      reason: 'bad-signature',
    });
  });

  it('rejects RSA keys below 1024 bits (RFC 5533 §16) on both sides', () => {
    const weak = rsaKeyPair(512);
    try {
      signShim6(weak.privateKey, message);
      expect.unreachable();
    } catch (e) {
      expect(e).toBeInstanceOf(HbaError);
      expect((e as HbaError).code).toBe('HBA_ERR_KEY_TOO_SHORT');
    }
    // A peer with a 512-bit CGA (valid per RFC 3972) and a signature made outside signShim6.
    const weakCga = generateCga({ prefix: prefix64('2001:db8:e::'), publicKeyDer: weak.publicKeyDer, sec: 0, random: seededRandom('w') });
    const weakSig = crypto.sign('sha1', Buffer.concat([SHIM6_CGA_MESSAGE_TAG, message]), weak.privateKey);
    expect(verifyShim6Signature({ address: weakCga.address, params: weakCga.params, message, signature: weakSig })).toEqual({
      ok: false,
      reason: 'key-too-short',
    });
  });

  it('rejects non-RSA keys', () => {
    const ec = crypto.generateKeyPairSync('ec', { namedCurve: 'prime256v1' });
    expect(() => signShim6(ec.privateKey, message)).toThrow(/RSA/);
    const ecDer = Uint8Array.from(ec.publicKey.export({ type: 'spki', format: 'der' }));
    const ecCga = generateCga({ prefix: prefix64('2001:db8:e::'), publicKeyDer: ecDer, sec: 0, random: seededRandom('ec') });
    const sig = crypto.sign('sha1', Buffer.concat([SHIM6_CGA_MESSAGE_TAG, message]), ec.privateKey);
    expect(verifyShim6Signature({ address: ecCga.address, params: ecCga.params, message, signature: sig })).toEqual({
      ok: false,
      reason: 'unsupported-key',
    });
    expect(() => signShim6(crypto.createPublicKey(keys.privateKey), message)).toThrow(/private/);
  });

  describe('with HBA sets', () => {
    let cgaHba: HbaSet;
    let hbaOnly: HbaSet;
    beforeAll(() => {
      const prefixes = [prefix64('2001:db8:a::'), prefix64('2001:db8:b::')];
      cgaHba = generateHbaSet({ prefixes, sec: 0, publicKeyDer: keys.publicKeyDer, random: seededRandom('s1') });
      hbaOnly = generateHbaSet({ prefixes, sec: 0, random: seededRandom('s2') });
    });

    it('a CGA/HBA address signs; binding "hba-set" accepts a sibling PDS, "cga" does not', () => {
      const [a0, a1] = cgaHba.addresses;
      expect(verifyShim6Signature({ address: a0, params: cgaHba.params[0], message, signature })).toEqual({ ok: true, sec: 0 });
      expect(verifyShim6Signature({ address: a1, params: cgaHba.params[0], message, signature })).toEqual({
        ok: false,
        reason: 'prefix-mismatch',
      });
      expect(
        verifyShim6Signature({ address: a1, params: cgaHba.params[0], message, signature, binding: 'hba-set' }),
      ).toEqual({ ok: true, sec: 0 });
    });

    it('an HBA-only PDS (P = 0) has no key to verify with', () => {
      const [a0] = hbaOnly.addresses;
      expect(verifyShim6Signature({ address: a0, params: hbaOnly.params[0], message, signature })).toEqual({
        ok: false,
        reason: 'no-public-key',
      });
    });
  });
});
