// Shim6 options (RFC 5533 §5.15, RFC 5534 §5.3): HIP-style TLVs.
//
//   octets 0–1  Type (15 bits) | C (critical, low bit)
//   octets 2–3  Length of the contents (padding excluded)
//   contents, then 0–7 zero octets so the TLV is a multiple of 8 octets:
//   padding = 7 − ((Length + 3) mod 8)
//
// Received padding is not checked (the RFC says it SHOULD NOT be).

import {
  ADDR_LEN,
  ALLOWED_OPTIONS,
  FII_OPT_LEN,
  KEEPALIVE_TIMEOUT_OPT_LEN,
  LOCATOR_LIST_FIXED_LEN,
  LOCATOR_PREFS_FIXED_LEN,
  OPT_HEADER_LEN,
  OPT_TYPE_MAX,
  OptType,
  SHIM6_CGA_TAG,
  ULID_PAIR_OPT_LEN,
  VerificationMethod,
  ErrorCode,
  type KnownOptKind,
  type MsgKind,
} from './consts.js';
import {
  readAddr,
  readU16,
  readU32,
  writeAddr,
  writeU16,
  writeU32,
  writeU8,
} from './header.js';
import { fail, failWithReply, type DecodeError } from './result.js';

// ------------------------------------------------------------------ types

interface OptionBase {
  /**
   * Set by the decoder: offset of the option's Type field from the start of
   * the Shim6 header (used to build Error Pointers). Ignored by the encoder.
   */
  offset?: number;
}

/** Type 1 (RFC 5533 §5.15.1): opaque to everyone but the responder. */
export interface ResponderValidatorOption extends OptionBase {
  kind: 'ResponderValidator';
  validator: Uint8Array;
}

export interface Locator {
  /** 16-byte IPv6 address. */
  addr: Uint8Array;
  /** Verification method octet (`VerificationMethod`: HBA = 1, CGA = 2); kept raw. */
  method: number;
}

/** Type 2 (RFC 5533 §5.15.2). */
export interface LocatorListOption extends OptionBase {
  kind: 'LocatorList';
  /** u32 Locator List Generation (compare for equality only). */
  generation: number;
  /** In list order: Locator Preferences elements refer to these by index. At most 255. */
  locators: Locator[];
}

/** One Locator Preferences element (RFC 5533 §5.15.3). */
export interface LocatorPreference {
  /** `LocatorFlag` bits (BROKEN 0x01, TRANSIENT 0x02). */
  flags: number;
  /** Present when the element length is ≥ 2 (DNS SRV semantics, lower is preferred). */
  priority?: number;
  /** Present when the element length is ≥ 3 (DNS SRV semantics). */
  weight?: number;
  /** Octets after the first three when the element length is > 3 (undefined format). */
  ext?: Uint8Array;
}

/** Type 3 (RFC 5533 §5.15.3). */
export interface LocatorPreferencesOption extends OptionBase {
  kind: 'LocatorPreferences';
  generation: number;
  /** Octets per element: 1 (flags), 2 (+priority), 3 (+weight); larger values keep that prefix. */
  elementLength: number;
  elements: LocatorPreference[];
}

/** Type 4 (RFC 5533 §5.15.4): the CGA Parameter Data Structure, opaque here. */
export interface CgaPdsOption extends OptionBase {
  kind: 'CgaPds';
  pds: Uint8Array;
}

/** Type 5 (RFC 5533 §5.15.5): PKCS#1 v1.5 signature over `cgaSignedData(...)`, opaque here. */
export interface CgaSignatureOption extends OptionBase {
  kind: 'CgaSignature';
  signature: Uint8Array;
}

/** Type 6 (RFC 5533 §5.15.6), Length 36. */
export interface UlidPairOption extends OptionBase {
  kind: 'UlidPair';
  senderUlid: Uint8Array;
  receiverUlid: Uint8Array;
}

/** Type 7 (RFC 5533 §5.15.7), Length 4. */
export interface ForkedInstanceIdOption extends OptionBase {
  kind: 'ForkedInstanceId';
  fii: number;
}

/** Type 10 (RFC 5534 §5.3), Length 4. */
export interface KeepaliveTimeoutOption extends OptionBase {
  kind: 'KeepaliveTimeout';
  /** Seconds (u16). */
  timeout: number;
}

/**
 * An option kept as raw bytes: its type is not recognised, or it is a known
 * option that RFC 5533 does not allow in this message type (both are treated
 * the same way, §5.15). Decoded ones always have critical = false (a critical
 * one makes decoding fail with an Error code 1 reply). Encoding one writes
 * type, C bit and body verbatim, whatever the type.
 */
export interface UnknownOption extends OptionBase {
  kind: 'Unknown';
  /** 15-bit option type. */
  type: number;
  critical: boolean;
  body: Uint8Array;
}

export type Shim6Option =
  | ResponderValidatorOption
  | LocatorListOption
  | LocatorPreferencesOption
  | CgaPdsOption
  | CgaSignatureOption
  | UlidPairOption
  | ForkedInstanceIdOption
  | KeepaliveTimeoutOption
  | UnknownOption;

export type OptionKind = Shim6Option['kind'];

// ---------------------------------------------------------------- lengths

/** Padding after `length` content octets (RFC 5533 §5.15). */
export function optionPadding(length: number): number {
  return 7 - ((length + 3) & 7);
}

/** Total TLV length for `length` content octets: 11 + Length − (Length + 3) mod 8. */
export function optionTotalLength(length: number): number {
  return OPT_HEADER_LEN + length + optionPadding(length);
}

/** Internal padding of a Locator List with n locators so the locators start 8-aligned. */
function locatorListPad(n: number): number {
  return 7 - (n & 7);
}

/** Content length (the Length field) of a Locator List option with n locators. */
export function locatorListLength(n: number): number {
  return LOCATOR_LIST_FIXED_LEN + n + locatorListPad(n) + ADDR_LEN * n;
}

/** The Length field value `o` encodes to. Throws for malformed input. */
export function optionContentLength(o: Shim6Option): number {
  switch (o.kind) {
    case 'ResponderValidator':
      return bytesOf(o.validator, 'validator').length;
    case 'LocatorList':
      return locatorListLength(o.locators.length);
    case 'LocatorPreferences':
      return LOCATOR_PREFS_FIXED_LEN + checkElementLength(o.elementLength) * o.elements.length;
    case 'CgaPds':
      return bytesOf(o.pds, 'pds').length;
    case 'CgaSignature':
      return bytesOf(o.signature, 'signature').length;
    case 'UlidPair':
      return ULID_PAIR_OPT_LEN;
    case 'ForkedInstanceId':
      return FII_OPT_LEN;
    case 'KeepaliveTimeout':
      return KEEPALIVE_TIMEOUT_OPT_LEN;
    case 'Unknown':
      return bytesOf(o.body, 'body').length;
    default:
      return unreachable(o);
  }
}

/** Octets the options take on the wire (each TLV padded to 8). */
export function optionsLength(options: readonly Shim6Option[]): number {
  let n = 0;
  for (const o of options) n += optionTotalLength(optionContentLength(o));
  return n;
}

// ---------------------------------------------------------------- encode

function unreachable(x: never): never {
  throw new TypeError(`unknown option kind ${JSON.stringify((x as { kind?: unknown }).kind)}`);
}

function bytesOf(b: Uint8Array, what: string): Uint8Array {
  if (!(b instanceof Uint8Array)) throw new TypeError(`${what} must be a Uint8Array`);
  return b;
}

function checkElementLength(n: number): number {
  if (!Number.isInteger(n) || n < 1 || n > 0xff) {
    throw new RangeError(`elementLength must be 1..255, got ${n}`);
  }
  return n;
}

/**
 * Write option `o` at buf[off]; returns the offset after its padding. `buf`
 * must be zero-filled (padding and reserved fields are not written).
 */
export function writeOption(buf: Uint8Array, off: number, o: Shim6Option): number {
  const len = optionContentLength(o);
  if (len > 0xffff) throw new RangeError(`option ${o.kind} is too long (${len} octets)`);
  const typeWord =
    o.kind === 'Unknown' ? checkUnknownType(o.type) * 2 + (o.critical ? 1 : 0) : OptType[o.kind] * 2;
  writeU16(buf, off, typeWord, 'option type');
  writeU16(buf, off + 2, len, 'option length');
  const c = off + OPT_HEADER_LEN;
  switch (o.kind) {
    case 'ResponderValidator':
      buf.set(o.validator, c);
      break;
    case 'LocatorList': {
      const n = o.locators.length;
      if (n > 0xff) throw new RangeError(`a Locator List holds at most 255 locators, got ${n}`);
      writeU32(buf, c, o.generation, 'generation');
      buf[c + 4] = n;
      const base = c + LOCATOR_LIST_FIXED_LEN + n + locatorListPad(n);
      for (let i = 0; i < n; i++) {
        const l = o.locators[i];
        writeU8(buf, c + LOCATOR_LIST_FIXED_LEN + i, l.method, 'verification method');
        writeAddr(buf, base + ADDR_LEN * i, l.addr, 'locator');
      }
      break;
    }
    case 'LocatorPreferences': {
      const el = o.elementLength;
      writeU32(buf, c, o.generation, 'generation');
      buf[c + 4] = el;
      let p = c + LOCATOR_PREFS_FIXED_LEN;
      for (const e of o.elements) {
        writeU8(buf, p, e.flags, 'flags');
        if (el >= 2) writeU8(buf, p + 1, requireField(e.priority, 'priority', el), 'priority');
        if (el >= 3) writeU8(buf, p + 2, requireField(e.weight, 'weight', el), 'weight');
        if (e.ext !== undefined) {
          if (!(e.ext instanceof Uint8Array) || e.ext.length !== el - 3) {
            throw new RangeError(`element ext must hold elementLength - 3 = ${el - 3} octets`);
          }
          buf.set(e.ext, p + 3);
        }
        p += el;
      }
      break;
    }
    case 'CgaPds':
      buf.set(o.pds, c);
      break;
    case 'CgaSignature':
      buf.set(o.signature, c);
      break;
    case 'UlidPair':
      // Reserved2 (4 octets) stays zero.
      writeAddr(buf, c + 4, o.senderUlid, 'senderUlid');
      writeAddr(buf, c + 4 + ADDR_LEN, o.receiverUlid, 'receiverUlid');
      break;
    case 'ForkedInstanceId':
      writeU32(buf, c, o.fii, 'fii');
      break;
    case 'KeepaliveTimeout':
      // Reserved (2 octets) stays zero.
      writeU16(buf, c + 2, o.timeout, 'keepalive timeout');
      break;
    case 'Unknown':
      buf.set(o.body, c);
      break;
    default:
      unreachable(o);
  }
  return off + optionTotalLength(len);
}

function checkUnknownType(t: number): number {
  if (!Number.isInteger(t) || t < 0 || t > OPT_TYPE_MAX) {
    throw new RangeError(`option type must be 0..32767, got ${t}`);
  }
  return t;
}

function requireField(v: number | undefined, what: string, el: number): number {
  if (v === undefined) throw new RangeError(`${what} is required when elementLength is ${el}`);
  return v;
}

/** Encode one option TLV on its own (padded to 8 octets). */
export function encodeOption(o: Shim6Option): Uint8Array {
  const out = new Uint8Array(optionTotalLength(optionContentLength(o)));
  writeOption(out, 0, o);
  return out;
}

// ---------------------------------------------------------------- decode

/** Bit (1 << option type) set for each option allowed in a message kind. */
const ALLOWED_MASK: Readonly<Record<MsgKind, number>> = (() => {
  const m = {} as Record<MsgKind, number>;
  for (const k of Object.keys(ALLOWED_OPTIONS) as MsgKind[]) {
    m[k] = ALLOWED_OPTIONS[k].reduce((acc, o: KnownOptKind) => acc | (1 << OptType[o]), 0);
  }
  return m;
})();

type Failure = { ok: false; error: DecodeError };

/**
 * Decode the options in buf[start, end) of a message of kind `kind` (type
 * value `type`). `end - start` is a multiple of 8 for well-formed headers, but
 * anything is handled. Returns the options or a failure.
 */
export function decodeOptions(
  buf: Uint8Array,
  start: number,
  end: number,
  kind: MsgKind,
  type: number,
): Shim6Option[] | Failure {
  const out: Shim6Option[] = [];
  const allowed = ALLOWED_MASK[kind];
  let off = start;
  while (off < end) {
    if (end - off < OPT_HEADER_LEN) return fail('bad-option', off, 'option header overruns the message', type);
    const word = readU16(buf, off);
    const otype = word >>> 1;
    const critical = (word & 1) === 1;
    const len = readU16(buf, off + 2);
    const known = otype < 31 && (allowed & (1 << otype)) !== 0;
    if (!known && critical) {
      return failWithReply(
        'critical-option',
        off,
        `critical option type ${otype} not recognised in this message`,
        type,
        ErrorCode.CriticalOptionNotRecognized,
        off,
      );
    }
    const total = optionTotalLength(len);
    if (total > end - off) return fail('bad-option', off, `option type ${otype} overruns the message`, type);
    const c = off + OPT_HEADER_LEN;
    let opt: Shim6Option | Failure;
    if (!known) {
      opt = { kind: 'Unknown', type: otype, critical: false, body: buf.slice(c, c + len), offset: off };
    } else {
      opt = decodeKnown(buf, off, c, len, otype, type);
      if ('ok' in opt) return opt;
    }
    out.push(opt);
    off += total;
  }
  return out;
}

function decodeKnown(
  buf: Uint8Array,
  off: number,
  c: number,
  len: number,
  otype: number,
  type: number,
): Shim6Option | Failure {
  switch (otype) {
    case OptType.ResponderValidator:
      return { kind: 'ResponderValidator', validator: buf.slice(c, c + len), offset: off };
    case OptType.LocatorList: {
      if (len < LOCATOR_LIST_FIXED_LEN) return fail('bad-option', off, 'Locator List shorter than 5 octets', type);
      const n = buf[c + 4];
      if (len !== locatorListLength(n)) {
        return fail('bad-option', off + 2, `Locator List Length ${len} does not fit ${n} locators`, type);
      }
      const generation = readU32(buf, c);
      const base = c + LOCATOR_LIST_FIXED_LEN + n + locatorListPad(n);
      const locators: Locator[] = new Array<Locator>(n);
      for (let i = 0; i < n; i++) {
        locators[i] = { addr: readAddr(buf, base + ADDR_LEN * i), method: buf[c + LOCATOR_LIST_FIXED_LEN + i] };
      }
      return { kind: 'LocatorList', generation, locators, offset: off };
    }
    case OptType.LocatorPreferences: {
      if (len < LOCATOR_PREFS_FIXED_LEN) {
        return fail('bad-option', off, 'Locator Preferences shorter than 5 octets', type);
      }
      const el = buf[c + 4];
      const rest = len - LOCATOR_PREFS_FIXED_LEN;
      if (el === 0) return fail('bad-option', c + 4, 'Locator Preferences Element Len is 0', type);
      if (rest % el !== 0) {
        return fail('bad-option', off + 2, `Locator Preferences Length ${len} is not 5 + k × ${el}`, type);
      }
      const count = rest / el;
      const elements: LocatorPreference[] = new Array<LocatorPreference>(count);
      let p = c + LOCATOR_PREFS_FIXED_LEN;
      for (let i = 0; i < count; i++, p += el) {
        const e: LocatorPreference = { flags: buf[p] };
        if (el >= 2) e.priority = buf[p + 1];
        if (el >= 3) e.weight = buf[p + 2];
        if (el > 3) e.ext = buf.slice(p + 3, p + el);
        elements[i] = e;
      }
      return { kind: 'LocatorPreferences', generation: readU32(buf, c), elementLength: el, elements, offset: off };
    }
    case OptType.CgaPds:
      return { kind: 'CgaPds', pds: buf.slice(c, c + len), offset: off };
    case OptType.CgaSignature:
      return { kind: 'CgaSignature', signature: buf.slice(c, c + len), offset: off };
    case OptType.UlidPair:
      if (len !== ULID_PAIR_OPT_LEN) return fail('bad-option', off + 2, `ULID Pair Length ${len} != 36`, type);
      return {
        kind: 'UlidPair',
        senderUlid: readAddr(buf, c + 4),
        receiverUlid: readAddr(buf, c + 4 + ADDR_LEN),
        offset: off,
      };
    case OptType.ForkedInstanceId:
      if (len !== FII_OPT_LEN) return fail('bad-option', off + 2, `FII Length ${len} != 4`, type);
      return { kind: 'ForkedInstanceId', fii: readU32(buf, c), offset: off };
    case OptType.KeepaliveTimeout:
      if (len !== KEEPALIVE_TIMEOUT_OPT_LEN) {
        return fail('bad-option', off + 2, `Keepalive Timeout Length ${len} != 4`, type);
      }
      return { kind: 'KeepaliveTimeout', timeout: readU16(buf, c + 2), offset: off };
    default:
      // Only reachable if ALLOWED_OPTIONS lists a type without a decoder.
      return { kind: 'Unknown', type: otype, critical: false, body: buf.slice(c, c + len), offset: off };
  }
}

// ---------------------------------------------------------------- helpers

/** First option of the given kind, typed. */
export function findOption<K extends OptionKind>(
  options: readonly Shim6Option[],
  kind: K,
): Extract<Shim6Option, { kind: K }> | undefined {
  for (const o of options) if (o.kind === kind) return o as Extract<Shim6Option, { kind: K }>;
  return undefined;
}

/** All options of the given kind, in message order. */
export function findOptions<K extends OptionKind>(
  options: readonly Shim6Option[],
  kind: K,
): Extract<Shim6Option, { kind: K }>[] {
  const out: Extract<Shim6Option, { kind: K }>[] = [];
  for (const o of options) if (o.kind === kind) out.push(o as Extract<Shim6Option, { kind: K }>);
  return out;
}

/**
 * The octets the CGA Signature option signs (RFC 5533 §5.15.5): the Shim6 CGA
 * Message Type tag, the Locator List Generation, then every locator whose
 * method is CGA, in list order.
 */
export function cgaSignedData(list: Pick<LocatorListOption, 'generation' | 'locators'>): Uint8Array {
  let n = 0;
  for (const l of list.locators) if (l.method === VerificationMethod.CGA) n++;
  const out = new Uint8Array(SHIM6_CGA_TAG.length + 4 + ADDR_LEN * n);
  out.set(SHIM6_CGA_TAG, 0);
  writeU32(out, SHIM6_CGA_TAG.length, list.generation, 'generation');
  let p = SHIM6_CGA_TAG.length + 4;
  for (const l of list.locators) {
    if (l.method !== VerificationMethod.CGA) continue;
    writeAddr(out, p, l.addr, 'locator');
    p += ADDR_LEN;
  }
  return out;
}

function offsetOf(o: OptionBase): number {
  if (o.offset === undefined) throw new TypeError('option has no offset (it was not produced by the decoder)');
  return o.offset;
}

/**
 * Shim6 Error Pointers for the semantic errors found above the codec
 * (RFC 5533 §5.14, §7.2, §10.4), counted from the start of the Shim6 header
 * like `DecodeError.pointer`. The options must come from the decoder.
 */
export const errorPointer = {
  /** Error code 1: first octet of the Option Type field. */
  option(o: Shim6Option): number {
    return offsetOf(o);
  },
  /** Error code 2: the verification-method octet of locator `index`. */
  verificationMethod(list: LocatorListOption, index: number): number {
    if (!Number.isInteger(index) || index < 0 || index >= list.locators.length) {
      throw new RangeError(`locator index ${index} out of range`);
    }
    return offsetOf(list) + OPT_HEADER_LEN + LOCATOR_LIST_FIXED_LEN + index;
  },
  /** Error code 3: first octet of the generation field of the Locator Preferences option. */
  preferencesGeneration(p: LocatorPreferencesOption): number {
    return offsetOf(p) + OPT_HEADER_LEN;
  },
  /** Error code 4: first octet of the Length field of the Locator Preferences option. */
  preferencesLength(p: LocatorPreferencesOption): number {
    return offsetOf(p) + 2;
  },
} as const;
