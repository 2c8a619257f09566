// Wire constants for Shim6 (RFC 5533) and REAP (RFC 5534).
//
// This file is the single definition of every number the codecs use: message
// types, option types, error codes, verification methods, flags and lengths.
// Offsets are octets from the first byte of the Shim6 header (its Next Header
// octet); all multi-octet fields are big-endian.

/** IP protocol number assigned to Shim6 (RFC 5533 §5, §17). */
export const IPPROTO_SHIM6 = 140;

/** IPv6 extension header / upper-layer protocol numbers the codec needs. */
export const IPPROTO_HOPOPTS = 0;
export const IPPROTO_ROUTING = 43;
export const IPPROTO_FRAGMENT = 44;
export const IPPROTO_ESP = 50;
export const IPPROTO_AH = 51;
/** NO_NXT_HDR: the Next Header value of every Shim6 control message. */
export const IPPROTO_NONE = 59;
export const IPPROTO_DSTOPTS = 60;

/** Minimum IPv6 MTU; Shim6 signalling packets must fit in it (RFC 5533 §5.1). */
export const IPV6_MIN_MTU = 1280;
/** Length of the fixed IPv6 header. */
export const IPV6_HEADER_LEN = 40;
/**
 * Largest Shim6 control message that keeps the packet within 1280 bytes when
 * only the fixed IPv6 header precedes it (RFC 5533 §5.1). See `fitsMinMtu`
 * when other extension headers sit between the IPv6 and the Shim6 header.
 */
export const MAX_SHIM6_MSG = IPV6_MIN_MTU - IPV6_HEADER_LEN;
/** Largest length Hdr Ext Len can express: (255 + 1) × 8 octets. */
export const MAX_HDR_LEN = 2048;
/** Every Shim6 header is a multiple of this many octets. */
export const HDR_UNIT = 8;

/** Length of the Shim6 Payload Extension header (RFC 5533 §5.2); Hdr Ext Len 0. */
export const PAYLOAD_HEADER_LEN = 8;
/** Octet that carries the P bit (top bit) and the control message Type (low 7 bits). */
export const OFF_TYPE = 2;
/** Octet that carries Reserved1 / Error Code (top 7 bits) and the S bit (low bit). */
export const OFF_TYPE_SPECIFIC = 3;
/** Checksum field (16 bits) of a control message. */
export const OFF_CHECKSUM = 4;
/** First octet after the checksum; 48-bit "R + context tag" field in most messages. */
export const OFF_BODY = 6;

/** Context tags are 47-bit unsigned integers (RFC 5533 §5.2, §7.1). */
export const CONTEXT_TAG_BITS = 47;
export const CONTEXT_TAG_MAX = (1n << 47n) - 1n;

/** Control message types (RFC 5533 §5.3 Table 1, §17; RFC 5534 §5). */
export const MsgType = {
  I1: 1,
  R1: 2,
  I2: 3,
  R2: 4,
  R1bis: 5,
  I2bis: 6,
  UpdateRequest: 64,
  UpdateAck: 65,
  Keepalive: 66,
  Probe: 67,
  Error: 68,
} as const;
export type MsgKind = keyof typeof MsgType;
export type MsgTypeValue = (typeof MsgType)[MsgKind];

/** Types 64–127 trigger an R1bis when no context exists; 0–63 never do (RFC 5533 §5.3). */
export const R1BIS_TRIGGER_TYPE_MIN = 64;
/** Experimental message type ranges (RFC 5533 §17). */
export const EXPERIMENTAL_TYPES: readonly (readonly [number, number])[] = [
  [60, 63],
  [124, 127],
];

/**
 * Length of the fixed part of each message, i.e. where its options start
 * (for Probe: before the probe reports, which add 40 octets each).
 */
export const FIXED_LEN: Readonly<Record<MsgKind, number>> = {
  I1: 16,
  R1: 16,
  I2: 24,
  R2: 16,
  R1bis: 16,
  I2bis: 32,
  UpdateRequest: 16,
  UpdateAck: 16,
  Keepalive: 16,
  Probe: 16,
  Error: 8,
};

/**
 * Minimum Hdr Ext Len per message (RFC 5533 §5.4–§5.14, RFC 5534 §5.2: a
 * Probe always carries at least one sent-probe report, 16 + 40 = 56 octets).
 */
export const MIN_HDR_EXT_LEN: Readonly<Record<MsgKind, number>> = {
  I1: 1,
  R1: 1,
  I2: 2,
  R2: 1,
  R1bis: 1,
  I2bis: 3,
  UpdateRequest: 1,
  UpdateAck: 1,
  Keepalive: 1,
  Probe: 6,
  Error: 1,
};

/** Option types (RFC 5533 §5.15 Table 3, §17; RFC 5534 §5.3). */
export const OptType = {
  ResponderValidator: 1,
  LocatorList: 2,
  LocatorPreferences: 3,
  CgaPds: 4,
  CgaSignature: 5,
  UlidPair: 6,
  ForkedInstanceId: 7,
  KeepaliveTimeout: 10,
} as const;
export type KnownOptKind = keyof typeof OptType;
export type OptTypeValue = (typeof OptType)[KnownOptKind];
/** Option Type is 15 bits; the C (critical) bit is the low bit of the 16-bit word. */
export const OPT_TYPE_MAX = 0x7fff;
/** Type + Length. */
export const OPT_HEADER_LEN = 4;
/** Fixed content lengths (RFC 5533 §5.15.6, §5.15.7; RFC 5534 §5.3). */
export const ULID_PAIR_OPT_LEN = 36;
export const FII_OPT_LEN = 4;
export const KEEPALIVE_TIMEOUT_OPT_LEN = 4;
/** Generation (4) + Num Locators / Element Len (1). */
export const LOCATOR_LIST_FIXED_LEN = 5;
export const LOCATOR_PREFS_FIXED_LEN = 5;

/**
 * Options each message may carry (RFC 5533 §5.4–§5.11, RFC 5534 §5.3 for
 * Keepalive Timeout). Any other option is handled by its C bit exactly like
 * an unknown one (RFC 5533 §5.15): C=0 ignored, C=1 answered with Error 1.
 */
export const ALLOWED_OPTIONS: Readonly<Record<MsgKind, readonly KnownOptKind[]>> = {
  I1: ['UlidPair', 'ForkedInstanceId'],
  R1: ['ResponderValidator'],
  I2: [
    'ResponderValidator',
    'UlidPair',
    'ForkedInstanceId',
    'LocatorList',
    'LocatorPreferences',
    'CgaPds',
    'CgaSignature',
    'KeepaliveTimeout',
  ],
  R2: ['LocatorList', 'LocatorPreferences', 'CgaPds', 'CgaSignature', 'KeepaliveTimeout'],
  R1bis: ['ResponderValidator'],
  I2bis: [
    'ResponderValidator',
    'UlidPair',
    'ForkedInstanceId',
    'LocatorList',
    'LocatorPreferences',
    'CgaPds',
    'CgaSignature',
    'KeepaliveTimeout',
  ],
  UpdateRequest: ['LocatorList', 'LocatorPreferences', 'CgaPds', 'CgaSignature', 'KeepaliveTimeout'],
  UpdateAck: [],
  Keepalive: [],
  Probe: [],
  Error: [],
};

/** Shim6 Error codes (RFC 5533 §5.14 Table 2, §17). */
export const ErrorCode = {
  /** Pointer: first octet of the message type (octet 2 of the Shim6 header). */
  UnknownMessageType: 0,
  /** Pointer: first octet of the Option Type field. */
  CriticalOptionNotRecognized: 1,
  /** Pointer: the inconsistent verification-method octet in the Locator List. */
  LocatorVerificationFailed: 2,
  /** Pointer: first octet of the generation field in the Locator Preferences option. */
  GenerationOutOfSync: 3,
  /** Pointer: first octet of the Length field of the Locator Preferences option. */
  WrongPreferenceCount: 4,
} as const;
export type ErrorCodeValue = (typeof ErrorCode)[keyof typeof ErrorCode];
/** Error codes 120–127 are reserved for debugging (RFC 5533 §5.14). */
export const ERROR_CODE_DEBUG_MIN = 120;
export const ERROR_CODE_MAX = 127;

/**
 * Locator verification methods. RFC 5533 §5.15.2 Table 4 says HBA = 1,
 * CGA = 2; §17 swaps them. DESIGN.md decides for Table 4 (as do Wireshark and
 * LinShim6).
 */
export const VerificationMethod = {
  HBA: 1,
  CGA: 2,
} as const;

/** Locator Preferences flags (RFC 5533 §5.15.3). */
export const LocatorFlag = {
  Broken: 0x01,
  Transient: 0x02,
} as const;

/** Probe "Sta" field values (RFC 5534 §5.2); 3 is not defined. */
export const ProbeState = {
  Operational: 0,
  Exploring: 1,
  InboundOk: 2,
} as const;
export type ProbeStateValue = (typeof ProbeState)[keyof typeof ProbeState];

/** Each probe report: source (16), destination (16), nonce (4), data (4). */
export const PROBE_REPORT_LEN = 40;
/** Psent and Precvd are 4-bit counts. */
export const MAX_PROBE_REPORTS = 15;

/** Length of an IPv6 address. */
export const ADDR_LEN = 16;

/**
 * CGA Message Type tag for Shim6 (RFC 5533 §5.15.5, §17): the first 16 octets
 * of the data signed by the CGA Signature option.
 */
export const SHIM6_CGA_TAG: readonly number[] = [
  0x4a, 0x30, 0x56, 0x62, 0x48, 0x58, 0x57, 0x4b, 0x36, 0x55, 0x41, 0x6f, 0x50, 0x6a, 0x6d, 0x48,
];
