// The API socket's frames (src/api/README.md; lib/shim6_api.h is the C side).
// Pure: no I/O. decodeFrame never throws on any input: a malformed frame
// comes back as { ok: false, errno } and the server answers with that errno.
import os from 'node:os';

export const API_VERSION = 1;
export const HDR_LEN = 16;
export const ATTR_HDR_LEN = 4;
export const MAX_FRAME = 16384;

/** Message types; a reply has the request's type and F_REPLY. */
export const MsgType = {
  NOOP: 0x01,
  GETSOCKOPT: 0x10,
  SETSOCKOPT: 0x11,
  SENDMSG: 0x12,
  RECVMSG: 0x13,    // the latest received locators (SHIM_LOC_*_RECV ancillary data)
  SENDMSG_DONE: 0x14, // the datagram of a SENDMSG answered ONESHOT has left: restore the socket's pins
  SUBSCRIBE: 0x20,  // one socket's context events on this connection (EVENT frames follow)
  EVENT: 0x21,      // agent → client, F_MULTI, seq of the SUBSCRIBE
  UNSUBSCRIBE: 0x22,
  FORK: 0x30,       // reserved
} as const;

export const Flag = { REQUEST: 0x1, REPLY: 0x2, MULTI: 0x4 } as const;

export const Attr = {
  ERRNO: 1,
  LEVEL: 2,
  OPTNAME: 3,
  OPTLEN: 4,
  OPTVAL: 5,
  MESSAGE: 6,
  CMSG: 7,
  CMSG_LEVEL: 8,
  CMSG_TYPE: 9,
  CMSG_DATA: 10,
  EVENT_MASK: 11,   // u32: 1 << SHIM_EVENT_* bits (absent: all)
  EVENT: 12,        // struct shim6_event, as <shim6/shim.h> lays it out
  SUB_ID: 13,       // u32: subscription id (SUBSCRIBE reply, EVENT, UNSUBSCRIBE)
  ONESHOT: 15,      // u32 1: SENDMSG reply: pins installed for one datagram, send SENDMSG_DONE after it
  RECV_WANT: 14,    // u32: RECVMSG: 1 = SHIM_LOC_LOCAL_RECV, 2 = SHIM_LOC_PEER_RECV (absent: the socket's settings)
} as const;

/** Host byte order, as netlink: both ends are on one machine. */
export const LITTLE_ENDIAN = os.endianness() === 'LE';

export interface FrameAttr {
  readonly type: number;
  readonly value: Uint8Array;
}

export interface Frame {
  readonly type: number;
  readonly flags: number;
  readonly seq: number;
  readonly version?: number; // default API_VERSION
  readonly attrs: readonly FrameAttr[];
}

export type DecodeResult =
  | { readonly ok: true; readonly frame: Frame & { readonly version: number } }
  | { readonly ok: false; readonly errno: 'EBADMSG' | 'EPROTONOSUPPORT' | 'EMSGSIZE'; readonly reason: string; readonly seq?: number; readonly type?: number };

const align4 = (n: number): number => (n + 3) & ~3;

export function u32(type: number, v: number): FrameAttr {
  // Byte by byte: a DataView would move this small array off the V8 heap (an allocation per call).
  const value = new Uint8Array(4);
  const x = v >>> 0;
  if (LITTLE_ENDIAN) {
    value[0] = x & 0xff; value[1] = (x >>> 8) & 0xff; value[2] = (x >>> 16) & 0xff; value[3] = x >>> 24;
  } else {
    value[3] = x & 0xff; value[2] = (x >>> 8) & 0xff; value[1] = (x >>> 16) & 0xff; value[0] = x >>> 24;
  }
  return { type, value };
}

export function bytes(type: number, v: Uint8Array): FrameAttr {
  return { type, value: v };
}

export function text(type: number, s: string): FrameAttr {
  return { type, value: new Uint8Array(Buffer.from(s, 'utf8')) };
}

/** Encoded size of a frame. */
export function frameSize(f: Frame): number {
  let n = HDR_LEN;
  for (const a of f.attrs) n += align4(ATTR_HDR_LEN + a.value.length);
  return n;
}

/** Encode a frame. Throws a RangeError only on a programming error (attribute or frame too large). */
export function encodeFrame(f: Frame): Buffer {
  const len = frameSize(f);
  if (len > MAX_FRAME) throw new RangeError(`frame of ${len} bytes exceeds ${MAX_FRAME}`);
  // From Buffer's pool (no allocation of its own); every byte is written below, padding included.
  const buf = Buffer.allocUnsafe(len);
  const dv = new DataView(buf.buffer, buf.byteOffset, buf.length);
  dv.setUint32(0, len, LITTLE_ENDIAN);
  dv.setUint16(4, f.type, LITTLE_ENDIAN);
  dv.setUint16(6, f.flags, LITTLE_ENDIAN);
  dv.setUint32(8, f.seq >>> 0, LITTLE_ENDIAN);
  dv.setUint16(12, f.version ?? API_VERSION, LITTLE_ENDIAN);
  dv.setUint16(14, 0, LITTLE_ENDIAN);
  let off = HDR_LEN;
  for (const a of f.attrs) {
    const alen = ATTR_HDR_LEN + a.value.length;
    if (alen > 0xffff) throw new RangeError(`attribute ${a.type} of ${alen} bytes`);
    dv.setUint16(off, alen, LITTLE_ENDIAN);
    dv.setUint16(off + 2, a.type, LITTLE_ENDIAN);
    buf.set(a.value, off + ATTR_HDR_LEN);
    for (let i = off + alen; i < off + align4(alen); i++) buf[i] = 0;
    off += align4(alen);
  }
  return buf;
}

/** Decode one frame (one SEQPACKET message). Never throws. Attribute values are views of `input`. */
export function decodeFrame(input: Uint8Array): DecodeResult {
  if (!(input instanceof Uint8Array)) return { ok: false, errno: 'EBADMSG', reason: 'not bytes' };
  if (input.length > MAX_FRAME) return { ok: false, errno: 'EMSGSIZE', reason: `frame of ${input.length} bytes exceeds ${MAX_FRAME}` };
  if (input.length < HDR_LEN) return { ok: false, errno: 'EBADMSG', reason: `frame of ${input.length} bytes is shorter than the ${HDR_LEN}-byte header` };
  const dv = new DataView(input.buffer, input.byteOffset, input.length);
  const len = dv.getUint32(0, LITTLE_ENDIAN);
  const type = dv.getUint16(4, LITTLE_ENDIAN);
  const flags = dv.getUint16(6, LITTLE_ENDIAN);
  const seq = dv.getUint32(8, LITTLE_ENDIAN);
  const version = dv.getUint16(12, LITTLE_ENDIAN);
  const bad = (reason: string): DecodeResult => ({ ok: false, errno: 'EBADMSG', reason, seq, type });
  if (len !== input.length) return bad(`header length ${len} but ${input.length} bytes received`);
  if (len % 4 !== 0) return bad(`frame length ${len} is not a multiple of 4`);
  if (version !== API_VERSION) return { ok: false, errno: 'EPROTONOSUPPORT', reason: `protocol version ${version}, this agent speaks ${API_VERSION}`, seq, type };
  const attrs: FrameAttr[] = [];
  let off = HDR_LEN;
  while (off < len) {
    if (len - off < ATTR_HDR_LEN) return bad(`truncated attribute header at offset ${off}`);
    const alen = dv.getUint16(off, LITTLE_ENDIAN);
    const atype = dv.getUint16(off + 2, LITTLE_ENDIAN);
    if (alen < ATTR_HDR_LEN) return bad(`attribute at offset ${off} has length ${alen}`);
    if (align4(alen) > len - off) return bad(`attribute at offset ${off} (length ${alen}) runs past the frame`);
    // A plain Uint8Array view of the input (even when the input is a Buffer): no copy, no allocation
    // of its own. The values share the input's memory: do not reuse the input while they are in use.
    attrs.push({ type: atype, value: new Uint8Array(input.buffer, input.byteOffset + off + ATTR_HDR_LEN, alen - ATTR_HDR_LEN) });
    off += align4(alen);
  }
  return { ok: true, frame: { type, flags, seq, version, attrs } };
}

/** A nested attribute's value as a frame of attributes (e.g. CMSG), or null when malformed. Never throws. */
export function decodeAttrs(value: Uint8Array): FrameAttr[] | null {
  const attrs: FrameAttr[] = [];
  const dv = new DataView(value.buffer, value.byteOffset, value.length);
  let off = 0;
  while (off < value.length) {
    if (value.length - off < ATTR_HDR_LEN) return null;
    const alen = dv.getUint16(off, LITTLE_ENDIAN);
    if (alen < ATTR_HDR_LEN || alen > value.length - off) return null;
    attrs.push({ type: dv.getUint16(off + 2, LITTLE_ENDIAN), value: new Uint8Array(value.subarray(off + ATTR_HDR_LEN, off + alen)) });
    off += Math.min(align4(alen), value.length - off);
  }
  return attrs;
}

/** A nested attribute holding attributes. */
export function nested(type: number, attrs: readonly FrameAttr[]): FrameAttr {
  const inner = encodeFrame({ type: 0, flags: 0, seq: 0, attrs }).subarray(HDR_LEN);
  return { type, value: new Uint8Array(inner) };
}

/** First attribute of a type. */
export function findAttr(f: Frame, type: number): Uint8Array | undefined {
  return f.attrs.find((a) => a.type === type)?.value;
}

/** A u32 attribute: undefined when absent, null when present with the wrong size. */
export function getU32(f: Frame, type: number): number | null | undefined {
  const v = findAttr(f, type);
  if (v === undefined) return undefined;
  if (v.length !== 4) return null;
  return new DataView(v.buffer, v.byteOffset, 4).getUint32(0, LITTLE_ENDIAN);
}
