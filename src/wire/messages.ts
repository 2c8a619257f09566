// Shim6 control messages (RFC 5533 §5.3–§5.14, RFC 5534 §5.1–§5.2).
//
// Common control header (octets from the Next Header octet):
//   0      Next Header (59, NO_NXT_HDR)
//   1      Hdr Ext Len: total length = (Hdr Ext Len + 1) × 8
//   2      P = 0 (top bit) | Type (7 bits)
//   3      Type-specific (7 bits: Reserved1, or the Error Code) | S = 0 (low bit)
//   4–5    Checksum
//   6…     type-specific fields, then options
//
// "R + context tag" fields are 48 bits: a reserved R bit (0 on send, ignored
// on receipt) and a 47-bit tag. Reserved fields are written as zero and
// ignored when decoding, as the RFC says. Decoders never throw; encoders throw
// RangeError/TypeError on values that cannot be encoded (caller bugs).

import {
  FIXED_LEN,
  HDR_UNIT,
  IPPROTO_NONE,
  IPV6_HEADER_LEN,
  IPV6_MIN_MTU,
  MAX_HDR_LEN,
  MAX_PROBE_REPORTS,
  MAX_SHIM6_MSG,
  MIN_HDR_EXT_LEN,
  MsgType,
  ErrorCode,
  ERROR_CODE_MAX,
  OFF_BODY,
  OFF_TYPE,
  OFF_TYPE_SPECIFIC,
  PROBE_REPORT_LEN,
  ADDR_LEN,
  type MsgKind,
  type ProbeStateValue,
} from './consts.js';
import { verifyChecksum, writeChecksum } from './checksum.js';
import {
  decodePayloadHeader,
  readAddr,
  readContextTag,
  readU16,
  readU32,
  writeAddr,
  writeContextTag,
  writeU16,
  writeU32,
  type PayloadHeader,
} from './header.js';
import { decodeOptions, optionsLength, writeOption, type Shim6Option } from './options.js';
import { fail, failWithReply, type DecodeError, type DecodeResult } from './result.js';

// ------------------------------------------------------------------ types

interface WithOptions {
  /** Options in message order (unknown C=0 ones kept as `Unknown`). */
  options: Shim6Option[];
}

/** Type 1 (RFC 5533 §5.4). Options: ULID Pair, Forked Instance Identifier. */
export interface I1Message extends WithOptions {
  kind: 'I1';
  initiatorContextTag: bigint;
  initiatorNonce: number;
}

/** Type 2 (RFC 5533 §5.5). No context tag. Options: Responder Validator. */
export interface R1Message extends WithOptions {
  kind: 'R1';
  /** Copied from the I1. */
  initiatorNonce: number;
  responderNonce: number;
}

/** Type 3 (RFC 5533 §5.6). */
export interface I2Message extends WithOptions {
  kind: 'I2';
  initiatorContextTag: bigint;
  initiatorNonce: number;
  /** Copied from the R1. */
  responderNonce: number;
}

/** Type 4 (RFC 5533 §5.7). */
export interface R2Message extends WithOptions {
  kind: 'R2';
  responderContextTag: bigint;
  /** Copied from the I2 / I2bis / I1. */
  initiatorNonce: number;
}

/** Type 5 (RFC 5533 §5.8). Options: Responder Validator. */
export interface R1bisMessage extends WithOptions {
  kind: 'R1bis';
  /** The context tag of the packet that triggered this R1bis. */
  packetContextTag: bigint;
  responderNonce: number;
}

/** Type 6 (RFC 5533 §5.9). */
export interface I2bisMessage extends WithOptions {
  kind: 'I2bis';
  initiatorContextTag: bigint;
  initiatorNonce: number;
  /** Copied from the R1bis. */
  responderNonce: number;
  /** Copied from the R1bis. */
  packetContextTag: bigint;
}

/** Type 64 (RFC 5533 §5.10). */
export interface UpdateRequestMessage extends WithOptions {
  kind: 'UpdateRequest';
  receiverContextTag: bigint;
  requestNonce: number;
}

/** Type 65 (RFC 5533 §5.11). No options defined. */
export interface UpdateAckMessage extends WithOptions {
  kind: 'UpdateAck';
  receiverContextTag: bigint;
  /** Copied from the Update Request. */
  requestNonce: number;
}

/** Type 66 (RFC 5534 §5.1). No options defined. */
export interface KeepaliveMessage extends WithOptions {
  kind: 'Keepalive';
  receiverContextTag: bigint;
}

/** One sent- or received-probe report in a Probe (RFC 5534 §5.2), 40 octets. */
export interface ProbeReport {
  src: Uint8Array;
  dst: Uint8Array;
  /** u32 */
  nonce: number;
  /** u32, echoed back unchanged. */
  data: number;
}

/** Type 67 (RFC 5534 §5.2). No options defined. */
export interface ProbeMessage extends WithOptions {
  kind: 'Probe';
  receiverContextTag: bigint;
  /** Sta: the sender's REAP state after sending (`ProbeState`). */
  state: ProbeStateValue;
  /** 1–15 reports; the first describes this probe itself. */
  sent: ProbeReport[];
  /** 0–15 copies of probes received from the peer. */
  received: ProbeReport[];
}

/** Type 68 (RFC 5533 §5.14). Has no options field. */
export interface ErrorMessage {
  kind: 'Error';
  /** 7-bit Error Code (`ErrorCode`). */
  code: number;
  /** Octet offset within the invoking packet (which starts at its IPv6 header). */
  pointer: number;
  /**
   * As much of the invoking packet as fits. The encoder zero-pads it to a
   * multiple of 8 octets (the header length rule), so a decoded one may end
   * in padding.
   */
  packetInError: Uint8Array;
}

export type Shim6Message =
  | I1Message
  | R1Message
  | I2Message
  | R2Message
  | R1bisMessage
  | I2bisMessage
  | UpdateRequestMessage
  | UpdateAckMessage
  | KeepaliveMessage
  | ProbeMessage
  | ErrorMessage;

/** Anything that can follow an IPv6 header with Next Header 140. */
export type Shim6Packet = Shim6Message | PayloadHeader;

type OptionalOptions<M> = M extends WithOptions ? Omit<M, 'options'> & { options?: Shim6Option[] } : M;
/** Encoder input: a message whose `options` may be omitted. */
export type Shim6MessageInput = OptionalOptions<Shim6Message>;

export interface DecodeOptions {
  /** Verify the checksum (default true). Off for quoted packets in errors. */
  verifyChecksum?: boolean;
}

// ---------------------------------------------------------------- sizing

function roundUp8(n: number): number {
  return (n + 7) & ~7;
}

/** Octets `msg` encodes to (always a multiple of 8). Throws like `encode` on bad input. */
export function encodedLength(msg: Shim6MessageInput): number {
  if (msg.kind === 'Error') {
    return FIXED_LEN.Error + Math.max(HDR_UNIT, roundUp8(bytesLen(msg.packetInError)));
  }
  const fixed = FIXED_LEN[msg.kind];
  if (fixed === undefined) throw new TypeError(`unknown message kind ${JSON.stringify((msg as { kind: unknown }).kind)}`);
  const reports = msg.kind === 'Probe' ? PROBE_REPORT_LEN * (msg.sent.length + msg.received.length) : 0;
  return fixed + reports + (msg.options ? optionsLength(msg.options) : 0);
}

function bytesLen(b: Uint8Array): number {
  if (!(b instanceof Uint8Array)) throw new TypeError('packetInError must be a Uint8Array');
  return b.length;
}

/**
 * True if a Shim6 message of `msgLength` octets fits the 1280-octet rule
 * (RFC 5533 §5.1) given `headersBetween` octets of extension headers between
 * the IPv6 header and the Shim6 header.
 */
export function fitsMinMtu(msgLength: number, headersBetween = 0): boolean {
  return IPV6_HEADER_LEN + headersBetween + msgLength <= IPV6_MIN_MTU;
}

// ---------------------------------------------------------------- encode

/**
 * Encode a control message, checksum included. Throws RangeError/TypeError
 * on values that cannot be encoded (out-of-range numbers, tags wider than 47
 * bits, addresses that are not 16 bytes, more than 2048 octets in total). It
 * does not enforce the 1280-octet rule: check `fitsMinMtu` or `MAX_SHIM6_MSG`.
 */
export function encode(msg: Shim6MessageInput): Uint8Array {
  const len = encodedLength(msg);
  if (len > MAX_HDR_LEN) throw new RangeError(`message is ${len} octets; Hdr Ext Len allows at most ${MAX_HDR_LEN}`);
  const b = new Uint8Array(len);
  b[0] = IPPROTO_NONE;
  b[1] = len / HDR_UNIT - 1;
  b[OFF_TYPE] = MsgType[msg.kind];
  let off = FIXED_LEN[msg.kind];
  switch (msg.kind) {
    case 'I1':
      writeContextTag(b, 6, msg.initiatorContextTag, 'initiatorContextTag');
      writeU32(b, 12, msg.initiatorNonce, 'initiatorNonce');
      break;
    case 'R1':
      writeU32(b, 8, msg.initiatorNonce, 'initiatorNonce');
      writeU32(b, 12, msg.responderNonce, 'responderNonce');
      break;
    case 'I2':
      writeContextTag(b, 6, msg.initiatorContextTag, 'initiatorContextTag');
      writeU32(b, 12, msg.initiatorNonce, 'initiatorNonce');
      writeU32(b, 16, msg.responderNonce, 'responderNonce');
      break;
    case 'R2':
      writeContextTag(b, 6, msg.responderContextTag, 'responderContextTag');
      writeU32(b, 12, msg.initiatorNonce, 'initiatorNonce');
      break;
    case 'R1bis':
      writeContextTag(b, 6, msg.packetContextTag, 'packetContextTag');
      writeU32(b, 12, msg.responderNonce, 'responderNonce');
      break;
    case 'I2bis':
      writeContextTag(b, 6, msg.initiatorContextTag, 'initiatorContextTag');
      writeU32(b, 12, msg.initiatorNonce, 'initiatorNonce');
      writeU32(b, 16, msg.responderNonce, 'responderNonce');
      // Octets 20–25 and the top bit of 26: Reserved2 (49 bits).
      writeContextTag(b, 26, msg.packetContextTag, 'packetContextTag');
      break;
    case 'UpdateRequest':
    case 'UpdateAck':
      writeContextTag(b, 6, msg.receiverContextTag, 'receiverContextTag');
      writeU32(b, 12, msg.requestNonce, 'requestNonce');
      break;
    case 'Keepalive':
      writeContextTag(b, 6, msg.receiverContextTag, 'receiverContextTag');
      break;
    case 'Probe': {
      writeContextTag(b, 6, msg.receiverContextTag, 'receiverContextTag');
      const ns = msg.sent.length;
      const nr = msg.received.length;
      if (ns < 1 || ns > MAX_PROBE_REPORTS) throw new RangeError(`a Probe carries 1..15 sent reports, got ${ns}`);
      if (nr > MAX_PROBE_REPORTS) throw new RangeError(`a Probe carries 0..15 received reports, got ${nr}`);
      const sta = msg.state;
      if (sta !== 0 && sta !== 1 && sta !== 2) throw new RangeError(`Probe state must be 0, 1 or 2, got ${String(sta)}`);
      b[12] = (nr << 4) | ns;
      b[13] = sta << 6;
      for (const r of msg.sent) off = writeReport(b, off, r);
      for (const r of msg.received) off = writeReport(b, off, r);
      break;
    }
    case 'Error': {
      const code = msg.code;
      if (!Number.isInteger(code) || code < 0 || code > ERROR_CODE_MAX) {
        throw new RangeError(`Error code must be 0..127, got ${code}`);
      }
      b[OFF_TYPE_SPECIFIC] = code << 1;
      writeU16(b, 6, msg.pointer, 'pointer');
      b.set(msg.packetInError, 8);
      writeChecksum(b, len);
      return b;
    }
    default: {
      const never: never = msg;
      throw new TypeError(`unknown message kind ${JSON.stringify((never as { kind: unknown }).kind)}`);
    }
  }
  if (msg.options) for (const o of msg.options) off = writeOption(b, off, o);
  writeChecksum(b, len);
  return b;
}

function writeReport(b: Uint8Array, off: number, r: ProbeReport): number {
  writeAddr(b, off, r.src, 'probe src');
  writeAddr(b, off + ADDR_LEN, r.dst, 'probe dst');
  writeU32(b, off + 2 * ADDR_LEN, r.nonce, 'probe nonce');
  writeU32(b, off + 2 * ADDR_LEN + 4, r.data, 'probe data');
  return off + PROBE_REPORT_LEN;
}

// ---------------------------------------------------------------- decode

/** Message kind for each 7-bit type value (undefined: not recognised). */
const KIND_BY_TYPE: readonly (MsgKind | undefined)[] = (() => {
  const t = new Array<MsgKind | undefined>(128).fill(undefined);
  for (const k of Object.keys(MsgType) as MsgKind[]) t[MsgType[k]] = k;
  return t;
})();

/** Plain Uint8Array view of `buf` (so slices copy and are plain Uint8Arrays even for Buffers). */
function plain(buf: Uint8Array): Uint8Array {
  return buf.constructor === Uint8Array ? buf : new Uint8Array(buf.buffer, buf.byteOffset, buf.byteLength);
}

/**
 * Decode whatever follows an IPv6 header with Next Header 140: a Payload
 * Extension header (P = 1) or a control message (P = 0). Never throws.
 */
export function decode(buf: Uint8Array, opts?: DecodeOptions): DecodeResult<Shim6Packet> {
  if (!(buf instanceof Uint8Array)) return fail('truncated', 0, 'input is not a Uint8Array');
  if (buf.length > OFF_TYPE && (buf[OFF_TYPE] & 0x80) !== 0) return decodePayloadHeader(plain(buf));
  return decodeMessage(buf, opts);
}

/**
 * Decode a Shim6 control message at the start of `buf`. Octets after the
 * length given by Hdr Ext Len are ignored (Next Header is 59). Checks, in
 * order: length ≥ 8, P = 0, buffer holds Hdr Ext Len, checksum, S = 0, known
 * type (else Error code 0, Pointer 2), Hdr Ext Len ≥ the type's minimum, the
 * fixed fields, then each option (unknown critical → Error code 1). Never
 * throws.
 */
export function decodeMessage(input: Uint8Array, opts?: DecodeOptions): DecodeResult<Shim6Message> {
  if (!(input instanceof Uint8Array)) return fail('truncated', 0, 'input is not a Uint8Array');
  const b = plain(input);
  if (b.length < HDR_UNIT) return fail('truncated', b.length, 'a Shim6 header is at least 8 octets');
  if ((b[OFF_TYPE] & 0x80) !== 0) return fail('wrong-p-bit', OFF_TYPE, 'P = 1: a payload extension header');
  const len = (b[1] + 1) * HDR_UNIT;
  const type = b[OFF_TYPE];
  if (b.length < len) return fail('truncated', b.length, `Hdr Ext Len says ${len} octets, only ${b.length} present`, type);
  if (opts?.verifyChecksum !== false && !verifyChecksum(b, len)) {
    return fail('bad-checksum', 4, 'checksum mismatch', type);
  }
  if ((b[OFF_TYPE_SPECIFIC] & 1) !== 0) return fail('not-shim6', OFF_TYPE_SPECIFIC, 'S = 1: a HIP message', type);
  const kind = KIND_BY_TYPE[type];
  if (kind === undefined) {
    return failWithReply('unknown-type', OFF_TYPE, `unknown message type ${type}`, type, ErrorCode.UnknownMessageType, OFF_TYPE);
  }
  if (b[1] < MIN_HDR_EXT_LEN[kind]) {
    return fail('bad-length', 1, `Hdr Ext Len ${b[1]} below ${MIN_HDR_EXT_LEN[kind]} for ${kind}`, type);
  }
  let msg: Exclude<Shim6Message, ErrorMessage>;
  let optStart = FIXED_LEN[kind];
  switch (kind) {
    case 'I1':
      msg = { kind, initiatorContextTag: readContextTag(b, 6), initiatorNonce: readU32(b, 12), options: [] };
      break;
    case 'R1':
      msg = { kind, initiatorNonce: readU32(b, 8), responderNonce: readU32(b, 12), options: [] };
      break;
    case 'I2':
      msg = {
        kind,
        initiatorContextTag: readContextTag(b, 6),
        initiatorNonce: readU32(b, 12),
        responderNonce: readU32(b, 16),
        options: [],
      };
      break;
    case 'R2':
      msg = { kind, responderContextTag: readContextTag(b, 6), initiatorNonce: readU32(b, 12), options: [] };
      break;
    case 'R1bis':
      msg = { kind, packetContextTag: readContextTag(b, 6), responderNonce: readU32(b, 12), options: [] };
      break;
    case 'I2bis':
      msg = {
        kind,
        initiatorContextTag: readContextTag(b, 6),
        initiatorNonce: readU32(b, 12),
        responderNonce: readU32(b, 16),
        packetContextTag: readContextTag(b, 26),
        options: [],
      };
      break;
    case 'UpdateRequest':
    case 'UpdateAck':
      msg = { kind, receiverContextTag: readContextTag(b, 6), requestNonce: readU32(b, 12), options: [] };
      break;
    case 'Keepalive':
      msg = { kind, receiverContextTag: readContextTag(b, 6), options: [] };
      break;
    case 'Probe': {
      const ns = b[12] & 0x0f;
      const nr = b[12] >>> 4;
      const sta = b[13] >>> 6;
      if (ns === 0) return fail('bad-value', 12, 'Probe Psent is 0 (the first sent report is mandatory)', type);
      if (sta === 3) return fail('bad-value', 13, 'Probe Sta 3 is undefined', type);
      const end = FIXED_LEN.Probe + PROBE_REPORT_LEN * (ns + nr);
      if (end > len) {
        return fail('bad-length', 1, `Probe with ${ns}+${nr} reports needs ${end} octets, header has ${len}`, type);
      }
      const sent = new Array<ProbeReport>(ns);
      const received = new Array<ProbeReport>(nr);
      let p = FIXED_LEN.Probe;
      for (let i = 0; i < ns; i++, p += PROBE_REPORT_LEN) sent[i] = readReport(b, p);
      for (let i = 0; i < nr; i++, p += PROBE_REPORT_LEN) received[i] = readReport(b, p);
      msg = { kind, receiverContextTag: readContextTag(b, 6), state: sta as ProbeStateValue, sent, received, options: [] };
      optStart = end;
      break;
    }
    case 'Error':
      return {
        ok: true,
        msg: {
          kind,
          code: b[OFF_TYPE_SPECIFIC] >>> 1,
          pointer: readU16(b, OFF_BODY),
          packetInError: b.slice(FIXED_LEN.Error, len),
        },
        length: len,
      };
  }
  const options = decodeOptions(b, optStart, len, kind, type);
  if (!Array.isArray(options)) return options;
  msg.options = options;
  return { ok: true, msg, length: len };
}

function readReport(b: Uint8Array, o: number): ProbeReport {
  return {
    src: readAddr(b, o),
    dst: readAddr(b, o + ADDR_LEN),
    nonce: readU32(b, o + 2 * ADDR_LEN),
    data: readU32(b, o + 2 * ADDR_LEN + 4),
  };
}

// ---------------------------------------------------------------- errors

/** Largest "packet in error" that keeps an Error message within MAX_SHIM6_MSG. */
export const MAX_ERROR_QUOTE = MAX_SHIM6_MSG - FIXED_LEN.Error;

/**
 * An Error message quoting `invokingPacket` (from its IPv6 header on),
 * truncated so the Error message with a plain IPv6 header fits 1280 octets
 * (RFC 5533 §5.14). `pointer` counts from the start of `invokingPacket`.
 */
export function makeErrorMessage(code: number, pointer: number, invokingPacket: Uint8Array): ErrorMessage {
  const n = Math.min(invokingPacket.length, MAX_ERROR_QUOTE);
  return { kind: 'Error', code, pointer, packetInError: invokingPacket.slice(0, n) };
}

/**
 * The Error message that answers a failed decode, or null when the failure is
 * to be dropped silently. `invokingPacket` is the received packet from its
 * IPv6 header on, and `shimOffset` is where the Shim6 header starts in it
 * (40 with no extension headers in between): the decoder's Pointer counts
 * from the Shim6 header, the Error's Pointer from the invoking packet.
 */
export function errorMessageFor(
  error: DecodeError,
  invokingPacket: Uint8Array,
  shimOffset: number = IPV6_HEADER_LEN,
): ErrorMessage | null {
  if (error.errorCode === undefined || error.pointer === undefined) return null;
  return makeErrorMessage(error.errorCode, shimOffset + error.pointer, invokingPacket);
}
