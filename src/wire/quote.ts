// Reading the packet quoted in a Shim6 Error message ("packet in error") or
// in an ICMPv6 error: RFC 5533 §12.4 dispatches those on the quoted IPv6
// source/destination and the context tag in the quoted Shim6 header. Quotes
// are usually truncated, so this is tolerant: it never throws and returns
// what it could read.

import {
  ADDR_LEN,
  IPPROTO_AH,
  IPPROTO_DSTOPTS,
  IPPROTO_FRAGMENT,
  IPPROTO_HOPOPTS,
  IPPROTO_ROUTING,
  IPPROTO_SHIM6,
  IPV6_HEADER_LEN,
  MsgType,
  type MsgKind,
} from './consts.js';
import { readContextTag } from './header.js';

export interface QuotedShim6 {
  /** Offset of the Shim6 header in the quoted packet. */
  offset: number;
  /** True for a Payload Extension header (P = 1). */
  payload: boolean;
  /** Control message type (P = 0), when the octet is present. */
  type?: number;
  /** Control message kind, if `type` is a known one. */
  kind?: MsgKind;
  /**
   * The 47-bit tag at the tag position of this header, when present and
   * complete: the Receiver Context Tag for payload headers, Update Request/
   * Ack, Keepalive and Probe; the Initiator tag for I1/I2/I2bis; the
   * Responder tag for R2; the Packet tag for R1bis. R1 and Error have none.
   */
  contextTag?: bigint;
}

export interface QuotedPacket {
  /** IPv6 source address of the quoted packet. */
  src: Uint8Array;
  /** IPv6 destination address of the quoted packet. */
  dst: Uint8Array;
  /** The Shim6 header found after the IPv6 header and any extension headers, if any. */
  shim6?: QuotedShim6;
}

const HAS_TAG_AT_6 = new Set<number>([
  MsgType.I1,
  MsgType.I2,
  MsgType.R2,
  MsgType.R1bis,
  MsgType.I2bis,
  MsgType.UpdateRequest,
  MsgType.UpdateAck,
  MsgType.Keepalive,
  MsgType.Probe,
]);

const KIND_BY_TYPE = new Map<number, MsgKind>(
  (Object.keys(MsgType) as MsgKind[]).map((k) => [MsgType[k], k] as const),
);

/**
 * Parse a quoted IPv6 packet: addresses, then walk Hop-by-Hop, Routing,
 * Destination Options, Fragment (first fragment only) and AH headers to find
 * a Shim6 header. Returns null if not even the IPv6 header is there or the
 * version is not 6.
 */
export function parseQuotedPacket(pkt: Uint8Array): QuotedPacket | null {
  if (!(pkt instanceof Uint8Array) || pkt.length < IPV6_HEADER_LEN || pkt[0] >>> 4 !== 6) return null;
  const b = pkt.constructor === Uint8Array ? pkt : new Uint8Array(pkt.buffer, pkt.byteOffset, pkt.byteLength);
  const out: QuotedPacket = { src: b.slice(8, 8 + ADDR_LEN), dst: b.slice(24, 24 + ADDR_LEN) };
  let nh = b[6];
  let off = IPV6_HEADER_LEN;
  for (let hops = 0; hops < 16; hops++) {
    if (nh === IPPROTO_SHIM6) {
      if (off + 3 > b.length) return out;
      const payload = (b[off + 2] & 0x80) !== 0;
      const s: QuotedShim6 = { offset: off, payload };
      if (payload) {
        if (off + 8 <= b.length) s.contextTag = readContextTag(b, off + 2);
      } else {
        const type = b[off + 2] & 0x7f;
        s.type = type;
        const kind = KIND_BY_TYPE.get(type);
        if (kind !== undefined) s.kind = kind;
        if (HAS_TAG_AT_6.has(type)) {
          if (off + 12 <= b.length) s.contextTag = readContextTag(b, off + 6);
        }
      }
      out.shim6 = s;
      return out;
    }
    if (off + 2 > b.length) return out;
    if (nh === IPPROTO_HOPOPTS || nh === IPPROTO_ROUTING || nh === IPPROTO_DSTOPTS) {
      const next = b[off];
      off += (b[off + 1] + 1) * 8;
      nh = next;
    } else if (nh === IPPROTO_FRAGMENT) {
      if (off + 4 > b.length) return out;
      // Only the first fragment (offset 0) holds the following headers.
      if (((b[off + 2] << 8) | b[off + 3]) >>> 3 !== 0) return out;
      nh = b[off];
      off += 8;
    } else if (nh === IPPROTO_AH) {
      const next = b[off];
      off += (b[off + 1] + 2) * 4;
      nh = next;
    } else {
      return out;
    }
  }
  return out;
}
