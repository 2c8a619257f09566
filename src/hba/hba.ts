/**
 * Hash-Based Addresses, RFC 5535: HBA-set generation (§6) over a vector of /64
 * prefixes, and HBA verification of a locator against a CGA Parameters data structure
 * carrying the Multi-Prefix extension (§7.2).
 *
 * Two kinds of set (RFC 5535 §4):
 *  - CGA/HBA ("CGA-compatible"): a real public key is in the PDS, the Multi-Prefix P flag
 *    is 1, and the addresses are also CGAs usable for CGA signatures (RFC 5533 §5.15.5).
 *  - HBA-only: no key. The Public Key field holds the 384-bit random "Extended Modifier"
 *    encoded as an RSA SubjectPublicKeyInfo (rsaEncryption, RSAPublicKey per RFC 3279
 *    §2.3.1), and the P flag is 0. Nothing can be signed with it.
 * The procedures are only defined for Sec 0, 1 and 2 (RFC 5535 §6, §7).
 */

import { concatBytes, sha1 } from './bytes.js';
import { resolvePds } from './cache.js';
import {
  checkCollisionCount,
  checkMinSec,
  checkRsaKey,
  checkSec,
  findModifier,
  initialModifier,
  interfaceIdentifier,
  randomOctets,
  verifySteps,
  type RandomSource,
  type VerifyOptions,
  type VerifyResult,
} from './cga.js';
import { encodeRsaSpki } from './der.js';
import { HbaError, invalidArgument } from './errors.js';
import {
  ADDRESS_LENGTH,
  checkLength,
  checkPublicKeyDer,
  encodeCgaParams,
  encodeMultiPrefix,
  hasDuplicatePrefixes,
  MAX_COLLISION_COUNT,
  MULTI_PREFIX_EXTENSION_TYPE,
  PREFIX_LENGTH,
  type CgaExtension,
} from './params.js';
import type { PdsState } from './pds-state.js';

/** RFC 5535 §6 and §7: HBA procedures exist for Sec 0, 1 and 2 only. */
export const HBA_MAX_SEC = 2;
/** RFC 5535 §6: "The random nonce length is 384 bits." */
export const EXTENDED_MODIFIER_LENGTH = 48;
/** RFC 5533 §16: RSA keys used to generate CGAs MUST be at least 1024 bits. */
export const SHIM6_MIN_RSA_BITS = 1024;
/**
 * publicExponent of the HBA-only pseudo key. RFC 5535 asks for an RSAPublicKey but
 * names no exponent; 65537 makes it look like an ordinary key. Verifiers only hash it.
 */
const PSEUDO_KEY_EXPONENT = Uint8Array.of(0x01, 0x00, 0x01);

/**
 * Encode the 384-bit Extended Modifier as RFC 5535 §6 step 2 asks: a DER
 * SubjectPublicKeyInfo with algorithm rsaEncryption whose RSAPublicKey modulus is the
 * nonce (minimal DER INTEGER) and whose exponent is 65537.
 */
export function encodeExtendedModifier(nonce: Uint8Array): Uint8Array {
  checkLength('extended modifier', nonce, EXTENDED_MODIFIER_LENGTH);
  return encodeRsaSpki(nonce, PSEUDO_KEY_EXPONENT);
}

export interface GenerateHbaSetOptions {
  /** The n 64-bit prefixes (8 octets each), in Multi-Prefix order; n ≥ 1, no duplicates. */
  readonly prefixes: readonly Uint8Array[];
  /** 0, 1 or 2. */
  readonly sec: number;
  /** DER SubjectPublicKeyInfo for a CGA/HBA set; absent for an HBA-only set. */
  readonly publicKeyDer?: Uint8Array;
  /** Further extension fields, placed after the Multi-Prefix extension. */
  readonly ext?: readonly CgaExtension[];
  /** Initial modifier (step 2); drawn from `random` when absent. */
  readonly modifier?: Uint8Array;
  /** The 48-octet Extended Modifier for an HBA-only set; drawn from `random` when absent. */
  readonly extendedModifier?: Uint8Array;
  /** Starting collision count (0..2). */
  readonly collisionCount?: number;
  /**
   * DAD outcome per address (step 6.4). A collision on any address increments the
   * collision count and restarts step 6 for the whole set; three collisions throw
   * HBA_ERR_COLLISIONS.
   */
  readonly isDuplicate?: (address: Uint8Array) => boolean;
  readonly random?: RandomSource;
  readonly maxIterations?: number;
  /** Minimum RSA key size when `publicKeyDer` is given. Default 1024 (RFC 5533 §16). */
  readonly minRsaBits?: number;
}

export interface HbaSet {
  /** HBA[i] for Prefix[i]. */
  readonly addresses: readonly Uint8Array[];
  /** PDS[i] for HBA[i]: same modifier, key and extensions; Subnet Prefix = Prefix[i]. */
  readonly params: readonly Uint8Array[];
  readonly modifier: Uint8Array;
  readonly collisionCount: number;
  /** The public key, or the encoded Extended Modifier of an HBA-only set. */
  readonly publicKeyDer: Uint8Array;
  /** True when a real public key is in the PDS (P flag set). */
  readonly cgaCompatible: boolean;
  /** Hash2 computations spent in the modifier search. */
  readonly iterations: number;
}

/** RFC 5535 §6 HBA-set generation. Throws HbaError on bad options. */
export function generateHbaSet(options: GenerateHbaSetOptions): HbaSet {
  const { prefixes, sec } = options;
  if (!Array.isArray(prefixes) || prefixes.length === 0) throw invalidArgument('at least one prefix is needed');
  prefixes.forEach((p, i) => checkLength(`prefixes[${i}]`, p, PREFIX_LENGTH));
  if (hasDuplicatePrefixes(prefixes)) throw invalidArgument('prefixes must be distinct');
  checkSec(sec, HBA_MAX_SEC);
  const others = options.ext ?? [];
  if (others.some((e) => e.type === MULTI_PREFIX_EXTENSION_TYPE)) {
    throw invalidArgument('ext must not contain a Multi-Prefix extension; it is built from prefixes');
  }
  const cgaCompatible = options.publicKeyDer !== undefined;
  if (cgaCompatible && options.extendedModifier !== undefined) {
    throw invalidArgument('extendedModifier is only for HBA-only sets (no publicKeyDer)');
  }
  if (options.publicKeyDer !== undefined) {
    checkPublicKeyDer(options.publicKeyDer);
    checkRsaKey(options.publicKeyDer, options.minRsaBits ?? SHIM6_MIN_RSA_BITS);
  }
  let count = options.collisionCount ?? 0;
  checkCollisionCount(count);

  // Step 1: Multi-Prefix extension, P = 1 iff a public key is given.
  const extensions = [encodeMultiPrefix({ publicKeyPresent: cgaCompatible, prefixes }), ...others];
  // Step 2: modifier, and the Extended Modifier in the key position for HBA-only.
  const start = initialModifier(options.modifier, options.random);
  let publicKeyDer: Uint8Array;
  if (options.publicKeyDer !== undefined) {
    publicKeyDer = options.publicKeyDer;
  } else {
    const nonce =
      options.extendedModifier ?? randomOctets(options.random, EXTENDED_MODIFIER_LENGTH, 'extended modifier');
    publicKeyDer = encodeExtendedModifier(nonce);
  }
  // Steps 3–4: one modifier search for the whole set.
  const { modifier, iterations } = findModifier({
    modifier: start,
    publicKeyDer,
    extensions,
    sec,
    maxIterations: options.maxIterations,
  });
  // Steps 5–6.
  for (;;) {
    const params = prefixes.map((subnetPrefix) =>
      encodeCgaParams({ modifier, subnetPrefix, collisionCount: count, publicKey: publicKeyDer, extensions }),
    );
    const addresses = params.map((pds, i) => concatBytes([prefixes[i], interfaceIdentifier(sha1(pds), sec)]));
    const collided = options.isDuplicate !== undefined && addresses.some(options.isDuplicate);
    if (!collided) return { addresses, params, modifier, collisionCount: count, publicKeyDer, cgaCompatible, iterations };
    // Step 6.4 "go back to step (6)": every HBA of a set shares one collision count, or
    // the §7.2 check of one HBA against another's PDS could not succeed.
    if (count >= MAX_COLLISION_COUNT) {
      throw new HbaError('HBA_ERR_COLLISIONS', 'address collision with collision counts 0, 1 and 2');
    }
    count++;
  }
}

/**
 * RFC 5535 §7.2: does `address` belong to the HBA set of this PDS? Checks that the
 * address prefix is in the Multi-Prefix set, substitutes it for the PDS Subnet Prefix
 * and runs RFC 3972 §5 (steps 2.1–2.7). Never throws on wire input.
 *
 * For an HBA checked against its own PDS this is the same as verifyCga (§7.1) except
 * that the Multi-Prefix extension is required and Sec is limited to 0..2.
 */
export function verifyHba(address: Uint8Array, paramsBytes: Uint8Array, options: VerifyOptions = {}): VerifyResult {
  const minSec = checkMinSec(options.minSec);
  if (!(address instanceof Uint8Array) || address.length !== ADDRESS_LENGTH) return { ok: false, reason: 'bad-address' };
  const state = resolvePds(paramsBytes, options.cache);
  return state.ok ? verifyHbaState(state, address, minSec) : state;
}

/** RFC 5535 §7.2 on a decoded PDS and a 16-octet address (internal). */
export function verifyHbaState(state: PdsState, address: Uint8Array, minSec: number): VerifyResult {
  // Step 1: the prefix must be in the set; then it replaces the Subnet Prefix field.
  const mp = state.multiPrefix();
  if (!mp.ok) return mp;
  const prefix = address.subarray(0, PREFIX_LENGTH);
  if (!state.hasPrefix(prefix)) return { ok: false, reason: 'prefix-not-in-set' };
  // Step 2.1.
  if (state.collisionCount > MAX_COLLISION_COUNT) return { ok: false, reason: 'collision-count' };
  // Step 2.2 holds by construction; steps 2.3–2.7.
  return verifySteps(state, address, prefix, HBA_MAX_SEC, minSec);
}
