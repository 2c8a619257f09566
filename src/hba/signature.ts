/**
 * CGA Signature for Shim6.
 *
 * RFC 5533 §5.15.5 (CGA Signature Option Format): "A variable-length field containing a
 * PKCS#1 v1.5 signature, constructed by using the sender's private key over the
 * following sequence of octets:
 *   1. The 128-bit CGA Message Type tag [CGA] value for Shim6:
 *      0x4A 30 5662 4858 574B 3655 416F 506A 6D48.
 *   2. The Locator List Generation number of the correspondent Locator List option.
 *   3. The subset of locators included in the correspondent Locator List option whose
 *      verification method is set to CGA. The locators MUST be included in the order in
 *      which they are listed in the Locator List Option."
 * So the signed "message" is NOT the whole Shim6 control message: it is the Locator List
 * Generation (32 bits, network order, as in the Locator List option, §5.15.2) followed by
 * the CGA-method locators. shim6SignedContent() builds it; signShim6() prepends the tag.
 *
 * RFC 5533 does not restate the hash; it defers to [CGA] = RFC 3972 §6, which specifies
 * RSASSA-PKCS1-v1_5 with SHA-1 over (type tag ‖ message), and says the verifier MUST
 * accept the signature only if both the CGA verification and the signature verification
 * succeed. RFC 5533 §16: RSA keys used for CGAs MUST be at least 1024 bits.
 */

import * as crypto from 'node:crypto';
import { concatBytes, view } from './bytes.js';
import { resolvePds } from './cache.js';
import { checkMinSec, verifyCgaState, type VerifyFailureReason, type VerifyOptions } from './cga.js';
import { HbaError, invalidArgument } from './errors.js';
import { SHIM6_MIN_RSA_BITS, verifyHbaState } from './hba.js';
import { ADDRESS_LENGTH } from './params.js';

const TAG = Uint8Array.of(0x4a, 0x30, 0x56, 0x62, 0x48, 0x58, 0x57, 0x4b, 0x36, 0x55, 0x41, 0x6f, 0x50, 0x6a, 0x6d, 0x48);

/**
 * CGA Message Type tag for Shim6 (RFC 5533 §5.15.5, §17; IANA CGA Message Type
 * registry). A copy: signing uses a private one, so changing this cannot break it.
 */
export const SHIM6_CGA_MESSAGE_TAG: Uint8Array = TAG.slice();

/**
 * Locator verification methods (RFC 5533 §5.15.2, Table 4). §17 swaps them; the project
 * follows Table 4 (HBA = 1, CGA = 2), as Wireshark and LinShim6 do.
 */
export const VERIFICATION_METHOD = { HBA: 1, CGA: 2 } as const;

const HASH = 'sha1';

export interface Shim6LocatorList {
  /** Locator List Generation (32-bit unsigned). */
  readonly generation: number;
  /** The N locators of the Locator List option, in order (16 octets each). */
  readonly locators: readonly Uint8Array[];
  /** The N verification method octets, same order. */
  readonly methods: ArrayLike<number>;
}

/**
 * The octets RFC 5533 §5.15.5 signs after the tag: Locator List Generation ‖ the
 * locators whose method is CGA, in list order. Throws HBA_ERR_INVALID_ARGUMENT.
 */
export function shim6SignedContent(list: Shim6LocatorList): Uint8Array {
  const { generation, locators, methods } = list;
  if (!Number.isInteger(generation) || generation < 0 || generation > 0xffffffff) {
    throw invalidArgument('Locator List Generation must be a 32-bit unsigned integer');
  }
  if (methods.length !== locators.length) throw invalidArgument('one verification method per locator');
  const parts: Uint8Array[] = [];
  const gen = new Uint8Array(4);
  new DataView(gen.buffer).setUint32(0, generation);
  parts.push(gen);
  locators.forEach((loc, i) => {
    if (!(loc instanceof Uint8Array) || loc.length !== ADDRESS_LENGTH) {
      throw invalidArgument(`locator ${i} must be 16 octets`);
    }
    if (methods[i] === VERIFICATION_METHOD.CGA) parts.push(loc);
  });
  return concatBytes(parts);
}

function checkPrivateKey(privateKey: crypto.KeyObject): void {
  if (!(privateKey instanceof crypto.KeyObject) || privateKey.type !== 'private') {
    throw invalidArgument('privateKey must be a private KeyObject');
  }
  if (privateKey.asymmetricKeyType !== 'rsa') {
    throw new HbaError('HBA_ERR_UNSUPPORTED_KEY', 'CGA signatures need an RSA key (RSASSA-PKCS1-v1_5)');
  }
  const bits = privateKey.asymmetricKeyDetails?.modulusLength ?? 0;
  if (bits < SHIM6_MIN_RSA_BITS) {
    throw new HbaError('HBA_ERR_KEY_TOO_SHORT', `RSA key of ${bits} bits is below ${SHIM6_MIN_RSA_BITS} (RFC 5533 §16)`);
  }
}

/**
 * Sign `message` (normally shim6SignedContent(...)) as a Shim6 CGA Signature:
 * RSASSA-PKCS1-v1_5 / SHA-1 over SHIM6_CGA_MESSAGE_TAG ‖ message. Returns the
 * signature octets for the CGA Signature option. Throws HbaError for a non-RSA key or
 * one shorter than 1024 bits.
 */
export function signShim6(privateKey: crypto.KeyObject, message: Uint8Array): Uint8Array {
  checkPrivateKey(privateKey);
  const data = concatBytes([TAG, message]);
  const sig = crypto.sign(HASH, data, { key: privateKey, padding: crypto.constants.RSA_PKCS1_PADDING });
  return new Uint8Array(sig.buffer, sig.byteOffset, sig.byteLength);
}

export type SignatureFailureReason =
  | VerifyFailureReason
  /** HBA-only PDS (Multi-Prefix P flag 0, or an unreadable Multi-Prefix): no key to check. */
  | 'no-public-key'
  /** The Public Key field is not an RSA SubjectPublicKeyInfo. */
  | 'unsupported-key'
  /** RSA key shorter than 1024 bits (RFC 5533 §16). */
  | 'key-too-short'
  | 'bad-signature';

export type SignatureVerifyResult =
  | { readonly ok: true; readonly sec: number }
  | { readonly ok: false; readonly reason: SignatureFailureReason };

export interface VerifyShim6SignatureOptions extends VerifyOptions {
  /** The address the PDS belongs to: the peer's ULID. */
  readonly address: Uint8Array;
  /** The peer's PDS (CGA Parameter Data Structure option content). */
  readonly params: Uint8Array;
  /** The signed content without the tag (shim6SignedContent of the received list). */
  readonly message: Uint8Array;
  /** The CGA Signature option content. */
  readonly signature: Uint8Array;
  /**
   * How `address` is bound to the PDS: 'cga' = RFC 3972 §5 against the PDS as is
   * (default); 'hba-set' = RFC 5535 §7.2, when the PDS is that of another address of
   * the peer's CGA/HBA set.
   */
  readonly binding?: 'cga' | 'hba-set';
}

/**
 * RFC 3972 §6 verification for Shim6: the address must verify against the PDS, the PDS
 * must carry a real RSA key of ≥ 1024 bits, and the signature over tag ‖ message must
 * verify with it. Never throws on wire input.
 */
export function verifyShim6Signature(options: VerifyShim6SignatureOptions): SignatureVerifyResult {
  const minSec = checkMinSec(options.minSec);
  const address = options.address;
  if (!(address instanceof Uint8Array) || address.length !== ADDRESS_LENGTH) return { ok: false, reason: 'bad-address' };
  const state = resolvePds(options.params, options.cache);
  if (!state.ok) return state;
  // RFC 3972 §6 first bullet: verify the CGA (or, for a CGA/HBA set, the HBA binding).
  const bound =
    options.binding === 'hba-set' ? verifyHbaState(state, address, minSec) : verifyCgaState(state, address, minSec);
  if (!bound.ok) return bound;
  // An HBA-only PDS holds the Extended Modifier, not a key (RFC 5535 §4, §5 P flag).
  const mp = state.multiPrefix();
  if (mp.ok ? !mp.value.publicKeyPresent : mp.reason !== 'no-multi-prefix') return { ok: false, reason: 'no-public-key' };
  const key = state.publicKey();
  if (!key.ok) return key;
  if (key.modulusBits < SHIM6_MIN_RSA_BITS) return { ok: false, reason: 'key-too-short' };
  let valid = false;
  try {
    const data = concatBytes([TAG, options.message]);
    valid = crypto.verify(
      HASH,
      data,
      { key: key.key, padding: crypto.constants.RSA_PKCS1_PADDING },
      view(options.signature),
    );
  } catch {
    valid = false;
  }
  return valid ? bound : { ok: false, reason: 'bad-signature' };
}
