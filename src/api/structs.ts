// Codecs for the option values of RFC 6316 (struct shim_locator, struct
// shim_pathexplore, struct shim_feedback, int), in host byte order except
// lc_addr (network order), as include/shim6/shim.h lays them out.
// Decoders take exact-size input and never throw; callers check lengths.
import { LITTLE_ENDIAN as LE } from './frame.js';
import { ShimLocatorLayout as LL, ShimPathexploreLayout as PL, ShimFeedbackLayout as FL, SIZEOF_INT } from './shim-h.js';

const view = (b: Uint8Array): DataView => new DataView(b.buffer, b.byteOffset, b.length);

/** struct shim_locator, field by field (lc_addr: 16 bytes, network order). */
export interface ShimLocator {
  family: number;
  proto: number;
  port: number;
  prio: number;
  weight: number;
  ifidx: number;
  addr: Uint8Array;
  flags: number;
}

export const ZERO_LOCATOR: Readonly<ShimLocator> = Object.freeze({
  family: 0, proto: 0, port: 0, prio: 0, weight: 0, ifidx: 0, addr: new Uint8Array(16), flags: 0,
});

export function encodeLocator(l: ShimLocator, out: Uint8Array = new Uint8Array(LL.size), off = 0): Uint8Array {
  const dv = new DataView(out.buffer, out.byteOffset + off, LL.size);
  dv.setUint8(LL.lc_family, l.family);
  dv.setUint8(LL.lc_proto, l.proto);
  dv.setUint16(LL.lc_port, l.port, LE);
  dv.setUint16(LL.lc_prio, l.prio, LE);
  dv.setUint16(LL.lc_weight, l.weight, LE);
  dv.setUint32(LL.lc_ifidx, l.ifidx >>> 0, LE);
  out.set(l.addr.subarray(0, 16), off + LL.lc_addr);
  dv.setUint16(LL.lc_flags, l.flags, LE);
  dv.setUint16(30, 0, LE);
  return out;
}

export function decodeLocator(b: Uint8Array, off = 0): ShimLocator {
  const dv = new DataView(b.buffer, b.byteOffset + off, LL.size);
  return {
    family: dv.getUint8(LL.lc_family),
    proto: dv.getUint8(LL.lc_proto),
    port: dv.getUint16(LL.lc_port, LE),
    prio: dv.getUint16(LL.lc_prio, LE),
    weight: dv.getUint16(LL.lc_weight, LE),
    ifidx: dv.getUint32(LL.lc_ifidx, LE),
    addr: new Uint8Array(b.subarray(off + LL.lc_addr, off + LL.lc_addr + 16)),
    flags: dv.getUint16(LL.lc_flags, LE),
  };
}

export function encodeLocators(ls: readonly ShimLocator[]): Uint8Array {
  const out = new Uint8Array(ls.length * LL.size);
  ls.forEach((l, i) => encodeLocator(l, out, i * LL.size));
  return out;
}

/** A whole array (length a multiple of 32; the caller checks). */
export function decodeLocators(b: Uint8Array): ShimLocator[] {
  const out: ShimLocator[] = [];
  for (let off = 0; off + LL.size <= b.length; off += LL.size) out.push(decodeLocator(b, off));
  return out;
}

/** Zero-filled (RFC 6316 §6.8: inactivates a *_SEND setting), ignoring the tail padding. */
export function isZeroLocator(b: Uint8Array): boolean {
  for (let i = 0; i < 30 && i < b.length; i++) if (b[i] !== 0) return false;
  return true;
}

export interface ShimPathexplore {
  probenum: number;
  keepaliveto: number;
  keepaliveint: number;
  initprobeto: number;
  reserved: number;
}

export function encodePathexplore(p: ShimPathexplore): Uint8Array {
  const out = new Uint8Array(PL.size);
  const dv = view(out);
  dv.setUint16(PL.pe_probenum, p.probenum, LE);
  dv.setUint16(PL.pe_keepaliveto, p.keepaliveto, LE);
  dv.setUint16(PL.pe_keepaliveint, p.keepaliveint, LE);
  dv.setUint16(PL.pe_initprobeto, p.initprobeto, LE);
  dv.setUint32(PL.pe_reserved, p.reserved >>> 0, LE);
  return out;
}

export function decodePathexplore(b: Uint8Array): ShimPathexplore {
  const dv = view(b);
  return {
    probenum: dv.getUint16(PL.pe_probenum, LE),
    keepaliveto: dv.getUint16(PL.pe_keepaliveto, LE),
    keepaliveint: dv.getUint16(PL.pe_keepaliveint, LE),
    initprobeto: dv.getUint16(PL.pe_initprobeto, LE),
    reserved: dv.getUint32(PL.pe_reserved, LE),
  };
}

export interface ShimFeedback {
  direction: number;
  indicator: number;
}

export function encodeFeedback(f: ShimFeedback): Uint8Array {
  const out = new Uint8Array(FL.size);
  out[FL.fb_direction] = f.direction;
  out[FL.fb_indicator] = f.indicator;
  return out;
}

export function decodeFeedback(b: Uint8Array): ShimFeedback {
  return { direction: b[FL.fb_direction], indicator: b[FL.fb_indicator] };
}

export function encodeInt(v: number): Uint8Array {
  // Byte by byte: a DataView would move this small array off the V8 heap (an allocation per call).
  const out = new Uint8Array(SIZEOF_INT);
  const x = v | 0;
  for (let i = 0; i < 4; i++) out[LE ? i : 3 - i] = (x >>> (8 * i)) & 0xff;
  return out;
}

export function decodeInt(b: Uint8Array): number {
  return view(b).getInt32(0, LE);
}
