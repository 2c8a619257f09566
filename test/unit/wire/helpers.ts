// Shared test helpers for the wire codec tests: hex conversion, a tiny seeded
// PRNG (mulberry32) and a generator of random valid Shim6 messages.

import {
  ALLOWED_OPTIONS,
  MAX_HDR_LEN,
  OptType,
  encodedLength,
  type MsgKind,
  type Shim6Message,
  type Shim6Option,
  type ProbeReport,
  type LocatorPreference,
} from '../../../src/wire/index.js';

export function unhex(h: string): Uint8Array {
  const s = h.replace(/[\s_]/g, '');
  if (s.length % 2 !== 0) throw new Error(`odd hex length: ${s}`);
  const out = new Uint8Array(s.length / 2);
  for (let i = 0; i < out.length; i++) out[i] = parseInt(s.slice(2 * i, 2 * i + 2), 16);
  return out;
}

export function hex(b: Uint8Array): string {
  let s = '';
  for (const x of b) s += x.toString(16).padStart(2, '0');
  return s;
}

export function concat(...parts: Uint8Array[]): Uint8Array {
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let o = 0;
  for (const p of parts) {
    out.set(p, o);
    o += p.length;
  }
  return out;
}

/** mulberry32: a tiny 32-bit seeded PRNG; returns u32 values. */
export function mulberry32(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return (t ^ (t >>> 14)) >>> 0;
  };
}

export class Rng {
  private readonly next: () => number;
  constructor(seed: number) {
    this.next = mulberry32(seed);
  }
  u32(): number {
    return this.next();
  }
  /** Integer in [0, n). */
  int(n: number): number {
    return n <= 0 ? 0 : this.next() % n;
  }
  bool(p = 0.5): boolean {
    return this.next() / 0x1_0000_0000 < p;
  }
  bytes(n: number): Uint8Array {
    const b = new Uint8Array(n);
    for (let i = 0; i < n; i++) b[i] = this.next() & 0xff;
    return b;
  }
  /** Random 47-bit context tag, biased towards edge values. */
  ct(): bigint {
    switch (this.int(6)) {
      case 0:
        return 0n;
      case 1:
        return (1n << 47n) - 1n;
      default:
        return (BigInt(this.next() & 0x7fff) << 32n) | BigInt(this.next());
    }
  }
  pick<T>(xs: readonly T[]): T {
    return xs[this.int(xs.length)];
  }
}

/** Drop decoder-only `offset` fields so decoded options compare with inputs. */
export function stripOffsets<T extends Shim6Message>(m: T): T {
  if (m.kind === 'Error') return m;
  return { ...m, options: m.options.map(({ offset: _o, ...rest }) => rest as Shim6Option) };
}

const KNOWN_TYPES = new Set<number>(Object.values(OptType));

function randomOption(r: Rng, kind: MsgKind): Shim6Option {
  const allowed = ALLOWED_OPTIONS[kind];
  if (allowed.length === 0 || r.bool(0.25)) {
    // An option this message kind does not recognise, non-critical: kept raw.
    let type: number;
    do type = r.bool(0.5) ? r.int(16) : r.int(0x8000);
    while (allowed.some((k) => OptType[k] === type) || (r.bool(0.5) && KNOWN_TYPES.has(type)));
    return { kind: 'Unknown', type, critical: false, body: r.bytes(r.int(24)) };
  }
  switch (r.pick(allowed)) {
    case 'ResponderValidator':
      return { kind: 'ResponderValidator', validator: r.bytes(r.int(33)) };
    case 'LocatorList': {
      const n = r.int(6);
      const locators = [];
      for (let i = 0; i < n; i++) locators.push({ addr: r.bytes(16), method: r.bool(0.8) ? 1 + r.int(2) : r.int(256) });
      return { kind: 'LocatorList', generation: r.u32(), locators };
    }
    case 'LocatorPreferences': {
      const elementLength = r.bool(0.9) ? 1 + r.int(3) : 4 + r.int(3);
      const n = r.int(7);
      const elements: LocatorPreference[] = [];
      for (let i = 0; i < n; i++) {
        const e: LocatorPreference = { flags: r.int(256) };
        if (elementLength >= 2) e.priority = r.int(256);
        if (elementLength >= 3) e.weight = r.int(256);
        if (elementLength > 3) e.ext = r.bytes(elementLength - 3);
        elements.push(e);
      }
      return { kind: 'LocatorPreferences', generation: r.u32(), elementLength, elements };
    }
    case 'CgaPds':
      return { kind: 'CgaPds', pds: r.bytes(r.int(140)) };
    case 'CgaSignature':
      return { kind: 'CgaSignature', signature: r.bytes(r.int(140)) };
    case 'UlidPair':
      return { kind: 'UlidPair', senderUlid: r.bytes(16), receiverUlid: r.bytes(16) };
    case 'ForkedInstanceId':
      return { kind: 'ForkedInstanceId', fii: r.u32() };
    case 'KeepaliveTimeout':
      return { kind: 'KeepaliveTimeout', timeout: r.int(0x10000) };
  }
}

function randomOptions(r: Rng, kind: MsgKind): Shim6Option[] {
  const n = r.int(5);
  const out: Shim6Option[] = [];
  for (let i = 0; i < n; i++) out.push(randomOption(r, kind));
  return out;
}

function report(r: Rng): ProbeReport {
  return { src: r.bytes(16), dst: r.bytes(16), nonce: r.u32(), data: r.u32() };
}

export const MSG_KINDS: readonly MsgKind[] = [
  'I1', 'R1', 'I2', 'R2', 'R1bis', 'I2bis', 'UpdateRequest', 'UpdateAck', 'Keepalive', 'Probe', 'Error',
];

function randomMessageOnce(r: Rng, kind: MsgKind): Shim6Message {
  switch (kind) {
    case 'I1':
      return { kind, initiatorContextTag: r.ct(), initiatorNonce: r.u32(), options: randomOptions(r, kind) };
    case 'R1':
      return { kind, initiatorNonce: r.u32(), responderNonce: r.u32(), options: randomOptions(r, kind) };
    case 'I2':
      return { kind, initiatorContextTag: r.ct(), initiatorNonce: r.u32(), responderNonce: r.u32(), options: randomOptions(r, kind) };
    case 'R2':
      return { kind, responderContextTag: r.ct(), initiatorNonce: r.u32(), options: randomOptions(r, kind) };
    case 'R1bis':
      return { kind, packetContextTag: r.ct(), responderNonce: r.u32(), options: randomOptions(r, kind) };
    case 'I2bis':
      return {
        kind,
        initiatorContextTag: r.ct(),
        initiatorNonce: r.u32(),
        responderNonce: r.u32(),
        packetContextTag: r.ct(),
        options: randomOptions(r, kind),
      };
    case 'UpdateRequest':
    case 'UpdateAck':
      return { kind, receiverContextTag: r.ct(), requestNonce: r.u32(), options: randomOptions(r, kind) };
    case 'Keepalive':
      return { kind, receiverContextTag: r.ct(), options: randomOptions(r, kind) };
    case 'Probe': {
      const sent: ProbeReport[] = [];
      const received: ProbeReport[] = [];
      const ns = 1 + r.int(r.bool(0.2) ? 15 : 3);
      const nr = r.int(r.bool(0.2) ? 16 : 3);
      for (let i = 0; i < ns; i++) sent.push(report(r));
      for (let i = 0; i < nr; i++) received.push(report(r));
      return { kind, receiverContextTag: r.ct(), state: r.pick([0, 1, 2] as const), sent, received, options: randomOptions(r, kind) };
    }
    case 'Error':
      // A multiple of 8 octets so the round trip is exact (the encoder pads).
      return { kind, code: r.int(128), pointer: r.int(0x10000), packetInError: r.bytes(8 * (1 + r.int(20))) };
  }
}

/** A random valid message of `kind` (or of a random kind) that fits Hdr Ext Len. */
export function randomMessage(r: Rng, kind: MsgKind = r.pick(MSG_KINDS)): Shim6Message {
  for (;;) {
    const m = randomMessageOnce(r, kind);
    if (encodedLength(m) <= MAX_HDR_LEN) return m;
  }
}
