/**
 * Cryptographically Generated Addresses, RFC 3972: Hash1/Hash2, the Sec hash
 * extension, interface identifier formation, generation (§4) and verification (§5).
 *
 * Sec (0..7) is the three leftmost bits of the interface identifier; an address is a
 * CGA for a PDS when Hash1 & Mask1 == IID & Mask1 (Mask1 = 0x1cffffffffffffff, i.e. Sec
 * and the u/g bits are ignored) and the 16·Sec leftmost bits of Hash2 are zero.
 * This module implements the SHA-1 procedure of RFC 3972 for every Sec value: RFC 3972
 * §5 says verifiers MUST process Sec 0..7. (RFC 4982's CGA SEC registry ties only Sec
 * 0, 1 and 2 to RFC 3972; no other entry exists. RFC 5535 HBA is restricted to 0..2,
 * see hba.ts.)
 */

import { concatBytes, equalBytes, incrementInPlace, sha1 } from './bytes.js';
import { resolvePds, type VerificationCache } from './cache.js';
import { HbaError, invalidArgument } from './errors.js';
import {
  ADDRESS_LENGTH,
  checkLength,
  checkPublicKeyDer,
  encodeCgaParams,
  encodeExtensions,
  MAX_COLLISION_COUNT,
  MODIFIER_LENGTH,
  PREFIX_LENGTH,
  PUBLIC_KEY_OFFSET,
  type CgaExtension,
  type DecodeFailureReason,
} from './params.js';
import { hash2Input, MASK1_OCTET0, parseRsaSpki, zeroGroups, type PdsState } from './pds-state.js';

export const MAX_SEC = 7;
/** Hash1 is the leftmost 64 bits of SHA-1, Hash2 the leftmost 112 bits. */
export const HASH1_LENGTH = 8;
export const HASH2_LENGTH = 14;

/** Injected randomness: returns `length` fresh random octets (e.g. crypto.randomBytes). */
export type RandomSource = (length: number) => Uint8Array;

export type VerifyFailureReason =
  | DecodeFailureReason
  /** The address is not 16 octets. */
  | 'bad-address'
  /** RFC 3972 §5 step 1: collision count not 0, 1 or 2. */
  | 'collision-count'
  /** RFC 3972 §5 step 2: PDS subnet prefix ≠ address prefix. */
  | 'prefix-mismatch'
  /** RFC 3972 §5 steps 3–4: Hash1 ≠ IID outside the five ignored bits. */
  | 'hash1-mismatch'
  /** RFC 3972 §5 steps 6–7: the 16·Sec leftmost bits of Hash2 are not all zero. */
  | 'hash2-zero-bits'
  /** Local policy (`minSec`): the address claims a smaller Sec than required. */
  | 'sec-below-minimum'
  /** RFC 5535 §7.2 / RFC 5533 §7.2: the PDS has no Multi-Prefix extension. */
  | 'no-multi-prefix'
  /** More than one Multi-Prefix extension: the prefix set is ambiguous. */
  | 'multiple-multi-prefix'
  /** The Multi-Prefix extension's length is not 4 + 8n. */
  | 'bad-multi-prefix'
  /** RFC 5535 §7.2 step 1: the address prefix is not in the Multi-Prefix set. */
  | 'prefix-not-in-set'
  /** RFC 5535 §7: HBA verification is only defined for Sec 0, 1 and 2. */
  | 'sec-unsupported';

export type VerifyResult =
  | { readonly ok: true; /** Sec read from the address (RFC 3972 §5 step 5). */ readonly sec: number }
  | { readonly ok: false; readonly reason: VerifyFailureReason };

export interface VerifyOptions {
  /** Reuse work across calls for the same PDS octets. */
  readonly cache?: VerificationCache;
  /**
   * Local policy: reject addresses whose Sec bits are below this value. RFC 3972 §7.1:
   * lowering the Sec bits of a CGA does not invalidate it (4·(Sec+1) addresses match
   * one PDS), so only a verifier that expects a minimum can notice. Default 0.
   */
  readonly minSec?: number;
}

// ---------------------------------------------------------------------------------------
// Hashes

function checkParamsBytes(pds: Uint8Array): void {
  if (!(pds instanceof Uint8Array) || pds.length < PUBLIC_KEY_OFFSET) {
    throw invalidArgument(`CGA Parameters must be at least ${PUBLIC_KEY_OFFSET} octets`);
  }
}

/** Hash1 (64 bits) of an encoded CGA Parameters data structure (RFC 3972 §3). */
export function cgaHash1(pds: Uint8Array): Uint8Array {
  checkParamsBytes(pds);
  return new Uint8Array(sha1(pds).subarray(0, HASH1_LENGTH));
}

/** Hash2 (112 bits): SHA-1 of the PDS with prefix and collision count zeroed (RFC 3972 §3). */
export function cgaHash2(pds: Uint8Array): Uint8Array {
  checkParamsBytes(pds);
  return new Uint8Array(sha1(hash2Input(pds)).subarray(0, HASH2_LENGTH));
}

/** Sec of an address or interface identifier: the three leftmost bits of the IID. */
export function secOf(address: Uint8Array): number {
  return address[address.length - 8] >> 5;
}

/**
 * Interface identifier from Hash1 (RFC 3972 §4 step 6): write Sec into bits 0–2, set
 * bits 6 and 7 (u and g) to zero.
 */
export function interfaceIdentifier(hash1: Uint8Array, sec: number): Uint8Array {
  checkSec(sec, MAX_SEC);
  if (hash1.length < HASH1_LENGTH) throw invalidArgument('Hash1 must be at least 8 octets');
  const iid = new Uint8Array(hash1.subarray(0, HASH1_LENGTH));
  iid[0] = (sec << 5) | (iid[0] & MASK1_OCTET0);
  return iid;
}

// ---------------------------------------------------------------------------------------
// Modifier search (RFC 3972 §4 steps 2–3; RFC 5535 §6 steps 3–4)

export function checkSec(sec: number, max: number): void {
  if (!Number.isInteger(sec) || sec < 0 || sec > max) throw invalidArgument(`Sec ${sec} is not in 0..${max}`);
}

export interface ModifierSearchOptions {
  /** Initial modifier (16 octets); not modified. */
  readonly modifier: Uint8Array;
  readonly publicKeyDer: Uint8Array;
  /** Extension fields, already in the order they will appear in the PDS. */
  readonly extensions?: readonly CgaExtension[];
  readonly sec: number;
  /** Stop after this many Hash2 computations (default: no limit). */
  readonly maxIterations?: number;
}

export type ModifierSearchResult =
  | { readonly found: true; readonly modifier: Uint8Array; readonly iterations: number }
  /** Not found within maxIterations; resume from `next` to continue the same search. */
  | { readonly found: false; readonly next: Uint8Array; readonly iterations: number };

/**
 * Increment the modifier until the 16·Sec leftmost bits of Hash2 are zero. Expected
 * 2^(16·Sec) iterations: about 65 536 SHA-1s for Sec 1, 2^32 for Sec 2. Synchronous; a
 * caller that must not block can bound `maxIterations` and resume from `next`.
 */
export function searchModifier(options: ModifierSearchOptions): ModifierSearchResult {
  checkLength('modifier', options.modifier, MODIFIER_LENGTH);
  checkPublicKeyDer(options.publicKeyDer);
  checkSec(options.sec, MAX_SEC);
  const max = options.maxIterations ?? Number.POSITIVE_INFINITY;
  if (!(max >= 0)) throw invalidArgument('maxIterations must be ≥ 0');
  if (options.sec === 0) return { found: true, modifier: new Uint8Array(options.modifier), iterations: 0 };
  // Modifier ‖ 9 zero octets ‖ public key ‖ extensions; only the modifier changes.
  const input = concatBytes([
    options.modifier,
    new Uint8Array(PUBLIC_KEY_OFFSET - MODIFIER_LENGTH),
    options.publicKeyDer,
    encodeExtensions(options.extensions ?? []),
  ]);
  let iterations = 0;
  while (iterations < max) {
    iterations++;
    if (zeroGroups(sha1(input)) >= options.sec) {
      return { found: true, modifier: input.slice(0, MODIFIER_LENGTH), iterations };
    }
    incrementInPlace(input, 0, MODIFIER_LENGTH);
  }
  return { found: false, next: input.slice(0, MODIFIER_LENGTH), iterations };
}

/** Run the search to the end or throw HBA_ERR_SEARCH_EXHAUSTED. */
export function findModifier(options: ModifierSearchOptions): { modifier: Uint8Array; iterations: number } {
  const r = searchModifier(options);
  if (!r.found) {
    throw new HbaError('HBA_ERR_SEARCH_EXHAUSTED', `no Sec ${options.sec} modifier in ${r.iterations} iterations`);
  }
  return r;
}

export function initialModifier(modifier: Uint8Array | undefined, random: RandomSource | undefined): Uint8Array {
  if (modifier !== undefined) {
    checkLength('modifier', modifier, MODIFIER_LENGTH);
    return modifier;
  }
  return randomOctets(random, MODIFIER_LENGTH, 'modifier');
}

export function randomOctets(random: RandomSource | undefined, length: number, what: string): Uint8Array {
  if (random === undefined) throw new HbaError('HBA_ERR_RANDOM_REQUIRED', `no random source to draw the ${what}`);
  const out = random(length);
  if (!(out instanceof Uint8Array) || out.length !== length) {
    throw invalidArgument(`random source returned ${out?.length} octets, ${length} were asked`);
  }
  return new Uint8Array(out);
}

export function checkCollisionCount(count: number): void {
  if (!Number.isInteger(count) || count < 0 || count > MAX_COLLISION_COUNT) {
    throw invalidArgument(`collision count ${count} is not 0, 1 or 2`);
  }
}

/** Check an RSA SubjectPublicKeyInfo is at least `minBits` long (throws HbaError). */
export function checkRsaKey(publicKeyDer: Uint8Array, minBits: number): void {
  const key = parseRsaSpki(publicKeyDer);
  if (!key.ok) throw new HbaError('HBA_ERR_UNSUPPORTED_KEY', 'public key is not an RSA SubjectPublicKeyInfo');
  if (key.modulusBits < minBits) {
    throw new HbaError('HBA_ERR_KEY_TOO_SHORT', `RSA key of ${key.modulusBits} bits is below ${minBits}`);
  }
}

// ---------------------------------------------------------------------------------------
// Generation (RFC 3972 §4)

export interface GenerateCgaOptions {
  /** 64-bit subnet prefix (8 octets). */
  readonly prefix: Uint8Array;
  /** DER SubjectPublicKeyInfo of the address owner. */
  readonly publicKeyDer: Uint8Array;
  /** Security parameter 0..7. */
  readonly sec: number;
  /** Extension fields to append after the public key (RFC 4581 TLVs). */
  readonly ext?: readonly CgaExtension[];
  /** Initial modifier (step 1). Drawn from `random` when absent. */
  readonly modifier?: Uint8Array;
  /** Starting collision count (0..2). Re-generate with count+1 after a DAD collision. */
  readonly collisionCount?: number;
  /**
   * Optional duplicate address detection outcome (step 8): when it returns true the
   * collision count is incremented and Hash1 recomputed; a third collision throws
   * HBA_ERR_COLLISIONS.
   */
  readonly isDuplicate?: (address: Uint8Array) => boolean;
  readonly random?: RandomSource;
  /** Bound on Hash2 computations (throws HBA_ERR_SEARCH_EXHAUSTED). */
  readonly maxIterations?: number;
  /**
   * If set, require an RSA key of at least this many bits. Not set by default: RFC 3972
   * allows 384-bit keys (its Appendix A uses 512). Shim6 callers pass 1024 (RFC 5533 §16).
   */
  readonly minRsaBits?: number;
}

export interface CgaResult {
  /** The CGA (16 octets). */
  readonly address: Uint8Array;
  /** The encoded CGA Parameters data structure. */
  readonly params: Uint8Array;
  /** Final modifier; reuse it for another prefix without a new search (RFC 3972 §4). */
  readonly modifier: Uint8Array;
  readonly collisionCount: number;
  /** Hash2 computations spent in the modifier search. */
  readonly iterations: number;
}

export function generateCga(options: GenerateCgaOptions): CgaResult {
  checkLength('prefix', options.prefix, PREFIX_LENGTH);
  checkPublicKeyDer(options.publicKeyDer);
  checkSec(options.sec, MAX_SEC);
  if (options.minRsaBits !== undefined) checkRsaKey(options.publicKeyDer, options.minRsaBits);
  const extensions = options.ext ?? [];
  let count = options.collisionCount ?? 0;
  checkCollisionCount(count);
  // Steps 1–3.
  const start = initialModifier(options.modifier, options.random);
  const { modifier, iterations } = findModifier({
    modifier: start,
    publicKeyDer: options.publicKeyDer,
    extensions,
    sec: options.sec,
    maxIterations: options.maxIterations,
  });
  // Steps 4–9.
  for (;;) {
    const params = encodeCgaParams({
      modifier,
      subnetPrefix: options.prefix,
      collisionCount: count,
      publicKey: options.publicKeyDer,
      extensions,
    });
    const address = concatBytes([options.prefix, interfaceIdentifier(sha1(params), options.sec)]);
    if (options.isDuplicate === undefined || !options.isDuplicate(address)) {
      return { address, params, modifier, collisionCount: count, iterations };
    }
    if (count >= MAX_COLLISION_COUNT) {
      throw new HbaError('HBA_ERR_COLLISIONS', 'address collision with collision counts 0, 1 and 2');
    }
    count++;
  }
}

// ---------------------------------------------------------------------------------------
// Verification (RFC 3972 §5)

export function checkMinSec(minSec: number | undefined): number {
  const v = minSec ?? 0;
  checkSec(v, MAX_SEC);
  return v;
}

/**
 * RFC 3972 §5 steps 1 and 3–7 for a decoded PDS whose prefix already matches (step 2 is
 * the caller's: CGA compares, HBA substitutes). Stops at the first failing step.
 */
export function verifySteps(
  state: PdsState,
  address: Uint8Array,
  prefix: Uint8Array,
  maxSec: number,
  minSec: number,
): VerifyResult {
  const iid = address.subarray(PREFIX_LENGTH);
  // Steps 3–4: Hash1 vs IID, ignoring Sec (bits 0–2) and u/g (bits 6–7).
  const expected = state.maskedHash1(prefix);
  if ((iid[0] & MASK1_OCTET0) !== expected[0] || !equalBytes(iid.subarray(1), expected.subarray(1))) {
    return { ok: false, reason: 'hash1-mismatch' };
  }
  // Step 5.
  const sec = iid[0] >> 5;
  if (sec > maxSec) return { ok: false, reason: 'sec-unsupported' };
  // Steps 6–7 (skipped for Sec 0, as the RFC allows).
  if (sec > 0 && state.hash2ZeroGroups() < sec) return { ok: false, reason: 'hash2-zero-bits' };
  if (sec < minSec) return { ok: false, reason: 'sec-below-minimum' };
  return { ok: true, sec };
}

/**
 * CGA verification (RFC 3972 §5) of `address` against the encoded CGA Parameters.
 * Never throws on wire input; `minSec` out of 0..7 is a programming error and throws.
 */
export function verifyCga(address: Uint8Array, paramsBytes: Uint8Array, options: VerifyOptions = {}): VerifyResult {
  const minSec = checkMinSec(options.minSec);
  if (!(address instanceof Uint8Array) || address.length !== ADDRESS_LENGTH) return { ok: false, reason: 'bad-address' };
  const state = resolvePds(paramsBytes, options.cache);
  return state.ok ? verifyCgaState(state, address, minSec) : state;
}

/** RFC 3972 §5 on a decoded PDS and a 16-octet address (internal). */
export function verifyCgaState(state: PdsState, address: Uint8Array, minSec: number): VerifyResult {
  // Step 1.
  if (state.collisionCount > MAX_COLLISION_COUNT) return { ok: false, reason: 'collision-count' };
  // Step 2.
  const prefix = address.subarray(0, PREFIX_LENGTH);
  if (!equalBytes(prefix, state.params.subnetPrefix)) return { ok: false, reason: 'prefix-mismatch' };
  return verifySteps(state, address, prefix, MAX_SEC, minSec);
}
