// Shim6 wire codecs (RFC 5533, RFC 5534): pure functions, no I/O.
//
//   consts.ts    every number (types, options, error codes, lengths)
//   addr.ts      IPv6 text <-> 16 bytes (RFC 5952 output)
//   checksum.ts  the Shim6 one's complement checksum
//   header.ts    field helpers and the 8-octet Payload Extension header
//   options.ts   option TLVs
//   messages.ts  control messages, encode/decode, Error message builders
//   quote.ts     reading the packet quoted in Shim6/ICMPv6 errors
//   result.ts    decode result and error types

export * from './consts.js';
export * from './addr.js';
export { onesComplementSum, computeChecksum, writeChecksum, verifyChecksum } from './checksum.js';
export {
  isContextTag,
  isPayloadHeader,
  encodePayloadHeader,
  writePayloadHeader,
  decodePayloadHeader,
  type PayloadHeader,
  type PayloadHeaderInput,
} from './header.js';
export {
  optionPadding,
  optionTotalLength,
  locatorListLength,
  optionContentLength,
  optionsLength,
  encodeOption,
  findOption,
  findOptions,
  cgaSignedData,
  errorPointer,
  type Shim6Option,
  type OptionKind,
  type ResponderValidatorOption,
  type LocatorListOption,
  type Locator,
  type LocatorPreferencesOption,
  type LocatorPreference,
  type CgaPdsOption,
  type CgaSignatureOption,
  type UlidPairOption,
  type ForkedInstanceIdOption,
  type KeepaliveTimeoutOption,
  type UnknownOption,
} from './options.js';
export {
  encode,
  encodedLength,
  fitsMinMtu,
  decode,
  decodeMessage,
  makeErrorMessage,
  errorMessageFor,
  MAX_ERROR_QUOTE,
  type Shim6Message,
  type Shim6MessageInput,
  type Shim6Packet,
  type DecodeOptions,
  type I1Message,
  type R1Message,
  type I2Message,
  type R2Message,
  type R1bisMessage,
  type I2bisMessage,
  type UpdateRequestMessage,
  type UpdateAckMessage,
  type KeepaliveMessage,
  type ProbeMessage,
  type ProbeReport,
  type ErrorMessage,
} from './messages.js';
export { parseQuotedPacket, type QuotedPacket, type QuotedShim6 } from './quote.js';
export type { DecodeError, DecodeErrorKind, DecodeResult } from './result.js';
