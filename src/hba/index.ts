/**
 * HBA/CGA for Shim6 (pure: no I/O, randomness injected).
 *  - RFC 3972 CGA: params codec, generation, verification      (params.ts, cga.ts)
 *  - RFC 5535 HBA: Multi-Prefix extension, sets, verification   (params.ts, hba.ts)
 *  - RFC 5533 §5.15.5 CGA Signature with the Shim6 type tag     (signature.ts)
 *  - bounded per-PDS verification cache                         (cache.ts)
 */

export { HbaError, type HbaErrorCode } from './errors.js';
export {
  ADDRESS_LENGTH,
  MAX_COLLISION_COUNT,
  MAX_MULTI_PREFIXES,
  MODIFIER_LENGTH,
  MULTI_PREFIX_EXTENSION_TYPE,
  PREFIX_LENGTH,
  PUBLIC_KEY_OFFSET,
  decodeCgaParams,
  decodeMultiPrefix,
  encodeCgaParams,
  encodeExtensions,
  encodeMultiPrefix,
  findMultiPrefix,
  type CgaExtension,
  type CgaParams,
  type DecodeFailureReason,
  type DecodeResult,
  type MultiPrefix,
  type MultiPrefixLookup,
} from './params.js';
export {
  HASH1_LENGTH,
  HASH2_LENGTH,
  MAX_SEC,
  cgaHash1,
  cgaHash2,
  generateCga,
  interfaceIdentifier,
  searchModifier,
  secOf,
  verifyCga,
  type CgaResult,
  type GenerateCgaOptions,
  type ModifierSearchOptions,
  type ModifierSearchResult,
  type RandomSource,
  type VerifyFailureReason,
  type VerifyOptions,
  type VerifyResult,
} from './cga.js';
export {
  EXTENDED_MODIFIER_LENGTH,
  HBA_MAX_SEC,
  SHIM6_MIN_RSA_BITS,
  encodeExtendedModifier,
  generateHbaSet,
  verifyHba,
  type GenerateHbaSetOptions,
  type HbaSet,
} from './hba.js';
export {
  SHIM6_CGA_MESSAGE_TAG,
  VERIFICATION_METHOD,
  shim6SignedContent,
  signShim6,
  verifyShim6Signature,
  type Shim6LocatorList,
  type SignatureFailureReason,
  type SignatureVerifyResult,
  type VerifyShim6SignatureOptions,
} from './signature.js';
export { VerificationCache, type VerificationCacheOptions, type VerificationCacheStats } from './cache.js';
