/**
 * Everything verification derives from one CGA Parameters data structure, computed at
 * most once (internal). Hash2 does not depend on the subnet prefix or the collision
 * count, and Hash1 depends only on the PDS and the prefix being checked, so a PDS seen
 * again (the Shim6 peer's PDS, checked for every locator of every update) costs a map
 * lookup and an 8-octet compare. VerificationCache keeps these objects between calls.
 */

import * as crypto from 'node:crypto';
import { sha1, sha1Parts, view } from './bytes.js';
import {
  COLLISION_COUNT_OFFSET,
  parseCgaParams,
  prefixKey,
  findMultiPrefix,
  MODIFIER_LENGTH,
  PUBLIC_KEY_OFFSET,
  type CgaParams,
  type DecodeFailureReason,
  type MultiPrefixLookup,
} from './params.js';

/** Mask1 = 0x1cffffffffffffff (RFC 3972 §2): only octet 0 of the IID is masked. */
export const MASK1_OCTET0 = 0x1c;

export type PublicKeyLookup =
  | { readonly ok: true; readonly key: crypto.KeyObject; readonly modulusBits: number }
  | { readonly ok: false; readonly reason: 'unsupported-key' };

export type PdsDecodeFailure = { readonly ok: false; readonly reason: DecodeFailureReason };

/**
 * Hash2 input: the PDS with Subnet Prefix and Collision Count zeroed, i.e.
 * Modifier ‖ 9 zero octets ‖ Public Key ‖ Extension Fields (RFC 3972 §3, §5 step 6).
 */
export function hash2Input(pds: Uint8Array): Uint8Array {
  const input = pds.slice();
  input.fill(0, MODIFIER_LENGTH, PUBLIC_KEY_OFFSET);
  return input;
}

/** Number of leading all-zero 16-bit groups in the 112-bit Hash2 (0..7). */
export function zeroGroups(hash: Uint8Array): number {
  let groups = 0;
  while (groups < 7 && hash[2 * groups] === 0 && hash[2 * groups + 1] === 0) groups++;
  return groups;
}

export class PdsState {
  readonly ok = true;
  /** Private copy of the PDS octets. */
  readonly bytes: Uint8Array;
  readonly params: CgaParams;
  readonly #hash1 = new Map<string, Uint8Array>();
  #zeroGroups: number | undefined;
  #multiPrefix: MultiPrefixLookup | undefined;
  #prefixes: Set<string> | undefined;
  #publicKey: PublicKeyLookup | undefined;

  private constructor(bytes: Uint8Array, params: CgaParams) {
    this.bytes = bytes;
    this.params = params;
  }

  static decode(bytes: Uint8Array): PdsState | PdsDecodeFailure {
    const copy = new Uint8Array(bytes); // typed-array copy (memcpy)
    const decoded = parseCgaParams(copy, false);
    if (!decoded.ok) return { ok: false, reason: decoded.reason };
    return new PdsState(copy, decoded.params);
  }

  get collisionCount(): number {
    return this.bytes[COLLISION_COUNT_OFFSET];
  }

  /**
   * Hash1 of this PDS with `prefix` in the Subnet Prefix field, masked with Mask1.
   * With the PDS's own prefix this is RFC 3972 §5 step 3; with another prefix of the
   * set it is RFC 5535 §7.2 step 1 + 2.3.
   */
  maskedHash1(prefix: Uint8Array): Uint8Array {
    const key = prefixKey(prefix);
    let iid = this.#hash1.get(key);
    if (iid === undefined) {
      const b = this.bytes;
      iid = sha1Parts([b.subarray(0, MODIFIER_LENGTH), prefix, b.subarray(COLLISION_COUNT_OFFSET)]).subarray(0, 8);
      iid[0] &= MASK1_OCTET0;
      this.#hash1.set(key, iid);
    }
    return iid;
  }

  /** The largest Sec whose Hash2 condition this PDS meets (RFC 3972 §5 steps 6–7). */
  hash2ZeroGroups(): number {
    if (this.#zeroGroups === undefined) this.#zeroGroups = zeroGroups(sha1(hash2Input(this.bytes)));
    return this.#zeroGroups;
  }

  multiPrefix(): MultiPrefixLookup {
    if (this.#multiPrefix === undefined) this.#multiPrefix = findMultiPrefix(this.params.extensions);
    return this.#multiPrefix;
  }

  /** Whether `prefix` is one of the Multi-Prefix extension's prefixes (false without one). */
  hasPrefix(prefix: Uint8Array): boolean {
    if (this.#prefixes === undefined) {
      const mp = this.multiPrefix();
      this.#prefixes = new Set(mp.ok ? mp.value.prefixes.map(prefixKey) : []);
    }
    return this.#prefixes.has(prefixKey(prefix));
  }

  /** The RSA public key of the Public Key field, parsed once. */
  publicKey(): PublicKeyLookup {
    if (this.#publicKey === undefined) this.#publicKey = parseRsaSpki(this.params.publicKey);
    return this.#publicKey;
  }
}

export function parseRsaSpki(der: Uint8Array): PublicKeyLookup {
  try {
    const key = crypto.createPublicKey({ key: view(der), format: 'der', type: 'spki' });
    const bits = key.asymmetricKeyDetails?.modulusLength;
    if (key.asymmetricKeyType !== 'rsa' || bits === undefined) return { ok: false, reason: 'unsupported-key' };
    return { ok: true, key, modulusBits: bits };
  } catch {
    return { ok: false, reason: 'unsupported-key' };
  }
}
