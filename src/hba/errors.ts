/**
 * Errors thrown by the HBA/CGA module. Only *generation* and *signing* throw (bad
 * arguments, an exhausted search, a key that is too short); decoding and verification
 * never throw, they return a result object with a stable `reason`.
 */

export type HbaErrorCode =
  /** An option has the wrong type, length or range. */
  | 'HBA_ERR_INVALID_ARGUMENT'
  /** Randomness was needed (no modifier / extended modifier given) but no source was injected. */
  | 'HBA_ERR_RANDOM_REQUIRED'
  /** The Hash2 modifier search hit `maxIterations` before finding 16*Sec zero bits. */
  | 'HBA_ERR_SEARCH_EXHAUSTED'
  /** Duplicate address detection reported a collision three times (RFC 3972 §4 step 8). */
  | 'HBA_ERR_COLLISIONS'
  /** The public key is not an RSA SubjectPublicKeyInfo this module can use. */
  | 'HBA_ERR_UNSUPPORTED_KEY'
  /** The RSA key is shorter than required (RFC 5533 §16: at least 1024 bits). */
  | 'HBA_ERR_KEY_TOO_SHORT';

export class HbaError extends Error {
  readonly code: HbaErrorCode;

  constructor(code: HbaErrorCode, message: string) {
    super(message);
    this.name = 'HbaError';
    this.code = code;
  }
}

export function invalidArgument(message: string): HbaError {
  return new HbaError('HBA_ERR_INVALID_ARGUMENT', message);
}
