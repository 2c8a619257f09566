// Decode results. Decoders never throw: they return either the message or a
// description of why it was rejected, including — when RFC 5533 asks for one —
// the Shim6 Error code and Pointer to answer with.

export type DecodeErrorKind =
  /** The buffer ends before the header, a fixed field or the length Hdr Ext Len claims. */
  | 'truncated'
  /** Hdr Ext Len below the minimum for the message type (or not 0 for a payload header). */
  | 'bad-length'
  /** The one's complement sum over the header is not 0xffff. */
  | 'bad-checksum'
  /** P bit is not what the caller asked for (control vs payload extension header). */
  | 'wrong-p-bit'
  /** S bit is 1: a HIP message, not Shim6 (RFC 5533 §5.3). */
  | 'not-shim6'
  /** Unrecognised message type: answer with Error code 0 (RFC 5533 §12.3). */
  | 'unknown-type'
  /** Unrecognised (or not-allowed-here) option with C=1: answer with Error code 1. */
  | 'critical-option'
  /** An option TLV overruns the message, or a known option has an impossible length/content. */
  | 'bad-option'
  /** A field holds a value the RFC rules out (e.g. Psent = 0, Sta = 3). */
  | 'bad-value';

export interface DecodeError {
  kind: DecodeErrorKind;
  /** Octet offset from the start of the Shim6 header where the problem was found. */
  offset: number;
  /** Human-readable reason for logs; not stable. */
  reason: string;
  /** Message type octet value (low 7 bits), when it could be read. */
  type?: number;
  /**
   * Present exactly when the receiver is to answer with a Shim6 Error
   * message: its Error Code (RFC 5533 §5.14). Otherwise drop silently.
   */
  errorCode?: number;
  /**
   * With `errorCode`: the Pointer, counted from the start of the Shim6
   * header. The Pointer on the wire counts from the start of the invoking
   * packet (its IPv6 header), so add the Shim6 header's offset in that packet
   * (see `errorMessageFor`).
   */
  pointer?: number;
}

export type DecodeResult<T> =
  | { ok: true; msg: T; /** Octets of the buffer the header occupies. */ length: number }
  | { ok: false; error: DecodeError };

/** Build a failed result. */
export function fail(
  kind: DecodeErrorKind,
  offset: number,
  reason: string,
  type?: number,
): { ok: false; error: DecodeError } {
  const error: DecodeError = { kind, offset, reason };
  if (type !== undefined) error.type = type;
  return { ok: false, error };
}

/** Build a failed result that asks for a Shim6 Error reply. */
export function failWithReply(
  kind: DecodeErrorKind,
  offset: number,
  reason: string,
  type: number,
  errorCode: number,
  pointer: number,
): { ok: false; error: DecodeError } {
  return { ok: false, error: { kind, offset, reason, type, errorCode, pointer } };
}
