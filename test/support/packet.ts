// Packet builder and parser for data-plane tests: Ethernet + IPv6 + an
// extension-header chain + UDP/TCP/ICMPv6 (checksums over the addresses
// given, i.e. the ULIDs) + the Shim6 payload header, and a layer-by-layer
// description used to print readable diffs when bytes differ.
import { parseIPv6, formatIPv6 } from '../../src/dataplane/addr.js';

export const NH = { HOP: 0, TCP: 6, UDP: 17, ROUTING: 43, FRAGMENT: 44, ICMPV6: 58, NONE: 59, DEST: 60, SHIM6: 140 } as const;

export type Ext =
  | { kind: 'hop' | 'dest' | 'routing'; len?: number }                 // len: total bytes (multiple of 8), default 8
  | { kind: 'fragment'; offset?: number; more?: boolean; id?: number }
  | { kind: 'shim6'; ct: bigint; p?: 1 | 0; hdrExtLen?: number };

export type L4 =
  | { kind: 'udp'; sport?: number; dport?: number; payload?: Uint8Array }
  | { kind: 'tcp'; sport?: number; dport?: number; seq?: number; payload?: Uint8Array }
  | { kind: 'icmp6'; type: number; code?: number; rest?: Uint8Array; body?: Uint8Array }
  | { kind: 'raw'; nh: number; bytes: Uint8Array };

export interface PacketSpec {
  src: string;
  dst: string;
  ext?: Ext[];
  l4: L4;
  hopLimit?: number;
  /** traffic class and flow label: the low 28 bits of the first word */
  flowLabel?: number;
  /** addresses for the L4 pseudo-header (default src/dst) */
  csumSrc?: string;
  csumDst?: string;
  /** leave the L4 checksum as the bytes say (for raw) */
}

const ETH = Buffer.from('02000000000202000000000186dd', 'hex'); // dst, src, 0x86dd

export function onesSum(buf: Uint8Array, init = 0): number {
  let s = init;
  for (let i = 0; i + 1 < buf.length; i += 2) s += (buf[i] << 8) | buf[i + 1];
  if (buf.length & 1) s += buf[buf.length - 1] << 8;
  while (s > 0xffff) s = (s & 0xffff) + (s >>> 16);
  return s;
}

export function l4Checksum(src: Uint8Array, dst: Uint8Array, nh: number, l4: Uint8Array): number {
  const ph = Buffer.alloc(40);
  Buffer.from(src).copy(ph, 0); Buffer.from(dst).copy(ph, 16);
  ph.writeUInt32BE(l4.length, 32); ph[39] = nh;
  const s = onesSum(l4, onesSum(ph));
  const c = (~s) & 0xffff;
  return c === 0 ? 0xffff : c;
}

function ulpNh(l4: L4): number {
  return l4.kind === 'udp' ? NH.UDP : l4.kind === 'tcp' ? NH.TCP : l4.kind === 'icmp6' ? NH.ICMPV6 : l4.nh;
}

export function buildL4(spec: PacketSpec): Buffer {
  const src = parseIPv6(spec.csumSrc ?? spec.src), dst = parseIPv6(spec.csumDst ?? spec.dst);
  const l4 = spec.l4;
  if (l4.kind === 'raw') return Buffer.from(l4.bytes);
  if (l4.kind === 'udp') {
    const p = Buffer.from(l4.payload ?? Buffer.from('shim6 test payload'));
    const b = Buffer.alloc(8 + p.length);
    b.writeUInt16BE(l4.sport ?? 40000, 0); b.writeUInt16BE(l4.dport ?? 7, 2); b.writeUInt16BE(b.length, 4);
    p.copy(b, 8);
    b.writeUInt16BE(l4Checksum(src, dst, NH.UDP, b), 6);
    return b;
  }
  if (l4.kind === 'tcp') {
    const p = Buffer.from(l4.payload ?? Buffer.from('shim6 tcp payload'));
    const b = Buffer.alloc(20 + p.length);
    b.writeUInt16BE(l4.sport ?? 40000, 0); b.writeUInt16BE(l4.dport ?? 80, 2);
    b.writeUInt32BE(l4.seq ?? 1, 4); b.writeUInt32BE(0, 8);
    b[12] = 5 << 4; b[13] = 0x18; b.writeUInt16BE(65535, 14);
    p.copy(b, 20);
    b.writeUInt16BE(l4Checksum(src, dst, NH.TCP, b), 16);
    return b;
  }
  const rest = Buffer.from(l4.rest ?? Buffer.alloc(4));
  const body = Buffer.from(l4.body ?? Buffer.alloc(0));
  const b = Buffer.concat([Buffer.from([l4.type, l4.code ?? 0, 0, 0]), rest, body]);
  b.writeUInt16BE(l4Checksum(src, dst, NH.ICMPV6, b), 2);
  return b;
}

function buildExt(e: Ext, next: number): Buffer {
  if (e.kind === 'fragment') {
    const b = Buffer.alloc(8);
    b[0] = next;
    b.writeUInt16BE(((e.offset ?? 0) << 3) | (e.more ? 1 : 0), 2);
    b.writeUInt32BE(e.id ?? 0x1234, 4);
    return b;
  }
  if (e.kind === 'shim6') {
    const b = Buffer.alloc(8);
    b[0] = next; b[1] = e.hdrExtLen ?? 0;
    const ct = e.ct;
    b[2] = ((e.p ?? 1) << 7) | Number((ct >> 40n) & 0x7fn);
    for (let i = 0; i < 5; i++) b[3 + i] = Number((ct >> BigInt(8 * (4 - i))) & 0xffn);
    return b;
  }
  const len = e.len ?? 8;
  const b = Buffer.alloc(len);
  b[0] = next; b[1] = len / 8 - 1;
  if (e.kind === 'routing') { b[2] = 0; b[3] = 0; } // type 0 header, segments left 0
  else { b[2] = 1; b[3] = len - 4; } // PadN filling the header
  return b;
}

function extNh(e: Ext): number {
  return e.kind === 'hop' ? NH.HOP : e.kind === 'dest' ? NH.DEST : e.kind === 'routing' ? NH.ROUTING : e.kind === 'fragment' ? NH.FRAGMENT : NH.SHIM6;
}

/** Ethernet + IPv6 + chain + L4, as tc programs see it. */
export function buildPacket(spec: PacketSpec): Buffer {
  const exts = spec.ext ?? [];
  const l4 = buildL4(spec);
  const parts: Buffer[] = [];
  for (let i = 0; i < exts.length; i++) {
    const next = i + 1 < exts.length ? extNh(exts[i + 1]) : ulpNh(spec.l4);
    parts.push(buildExt(exts[i], next));
  }
  const payload = Buffer.concat([...parts, l4]);
  const ip = Buffer.alloc(40);
  ip.writeUInt32BE((0x60000000 | ((spec.flowLabel ?? 0) & 0x0fffffff)) >>> 0, 0);
  ip.writeUInt16BE(payload.length, 4);
  ip[6] = exts.length ? extNh(exts[0]) : ulpNh(spec.l4);
  ip[7] = spec.hopLimit ?? 64;
  Buffer.from(parseIPv6(spec.src)).copy(ip, 8);
  Buffer.from(parseIPv6(spec.dst)).copy(ip, 24);
  return Buffer.concat([ETH, ip, payload]);
}

export interface Layer { name: string; off: number; len: number; fields: Record<string, string | number> }

/** Describe a packet layer by layer (for diffs and assertions). */
export function describe(pkt: Uint8Array): Layer[] {
  const b = Buffer.from(pkt);
  const layers: Layer[] = [{ name: 'eth', off: 0, len: 14, fields: { type: b.readUInt16BE(12).toString(16) } }];
  if (b.length < 54) return [...layers, { name: 'truncated', off: 14, len: b.length - 14, fields: {} }];
  layers.push({ name: 'ipv6', off: 14, len: 40, fields: {
    plen: b.readUInt16BE(18), nh: b[20], hlim: b[21],
    src: formatIPv6(b.subarray(22, 38)), dst: formatIPv6(b.subarray(38, 54)) } });
  let nh = b[20], off = 54;
  for (let i = 0; i < 10 && off < b.length; i++) {
    if (nh === NH.HOP || nh === NH.DEST || nh === NH.ROUTING) {
      const len = (b[off + 1] + 1) * 8;
      layers.push({ name: nh === NH.HOP ? 'hop' : nh === NH.DEST ? 'dest' : 'routing', off, len, fields: { nh: b[off] } });
      nh = b[off]; off += len;
    } else if (nh === NH.FRAGMENT) {
      layers.push({ name: 'fragment', off, len: 8, fields: { nh: b[off], offset: b.readUInt16BE(off + 2) >> 3, more: b[off + 3] & 1 } });
      nh = b[off]; off += 8;
    } else if (nh === NH.SHIM6) {
      const p = b[off + 2] >> 7;
      const ct = (BigInt(b[off + 2] & 0x7f) << 40n) | BigInt(b.readUIntBE(off + 3, 5));
      const len = (b[off + 1] + 1) * 8;
      layers.push({ name: 'shim6', off, len, fields: { nh: b[off], hlen: b[off + 1], p, ct: `0x${ct.toString(16)}` } });
      if (!p) break;
      nh = b[off]; off += len;
    } else break;
  }
  if (off < b.length) layers.push({ name: `l4(${nh})`, off, len: b.length - off, fields: { bytes: b.subarray(off, Math.min(b.length, off + 24)).toString('hex') } });
  return layers;
}

/** A readable diff of two packets, layer by layer; '' when equal. */
export function diffPackets(got: Uint8Array, want: Uint8Array): string {
  if (Buffer.compare(Buffer.from(got), Buffer.from(want)) === 0) return '';
  const g = describe(got), w = describe(want);
  const lines = [`length got ${got.length} want ${want.length}`];
  for (let i = 0; i < Math.max(g.length, w.length); i++) {
    const a = JSON.stringify(g[i] ?? null), c = JSON.stringify(w[i] ?? null);
    lines.push(`${a === c ? '  ' : '! '}got  ${a}`);
    if (a !== c) lines.push(`  want ${c}`);
  }
  const first = Array.from({ length: Math.min(got.length, want.length) }, (_, i) => i).find((i) => got[i] !== want[i]);
  if (first !== undefined) lines.push(`first differing byte at offset ${first}`);
  return lines.join('\n');
}

/** Verify the L4 checksum of a packet (no shim header in the chain) over its own addresses. */
export function l4ChecksumOk(pkt: Uint8Array): boolean {
  const layers = describe(pkt);
  const l4 = layers[layers.length - 1];
  const m = /^l4\((\d+)\)$/.exec(l4.name);
  if (!m) return false;
  const b = Buffer.from(pkt);
  const seg = b.subarray(l4.off);
  const ph = Buffer.alloc(40);
  b.copy(ph, 0, 22, 54); ph.writeUInt32BE(seg.length, 32); ph[39] = Number(m[1]);
  return onesSum(seg, onesSum(ph)) === 0xffff;
}
