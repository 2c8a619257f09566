// Test helpers for the context core: fixtures (HBA sets), deterministic
// random sources, a scripted peer that speaks raw Shim6 bytes, and action
// accessors that decode what the host sends.

import * as crypto from 'node:crypto';
import { expect } from 'vitest';
import { generateHbaSet, type HbaSet, type RandomSource } from '../../../src/hba/index.js';
import {
  decodeMessage,
  encode,
  ipv6,
  formatIpv6,
  IPPROTO_SHIM6,
  VerificationMethod,
  type LocatorPreference,
  type Shim6Message,
  type Shim6MessageInput,
  type Shim6Option,
} from '../../../src/wire/index.js';
import {
  ShimHost,
  locatorSetFromHbaSet,
  type ContextAction,
  type ReceivedPacket,
  type SendAction,
  type ShimHostConfig,
  type TimerConfig,
} from '../../../src/context/index.js';

export { ipv6, formatIpv6 };

// ----------------------------------------------------------------- random

/** Deterministic RandomSource: SHA-256(seed ‖ counter) blocks. */
export function seededRandom(seed: string): RandomSource {
  let counter = 0;
  return (length: number) => {
    const out = new Uint8Array(length);
    let off = 0;
    while (off < length) {
      const block = crypto.createHash('sha256').update(seed).update(String(counter++)).digest();
      out.set(block.subarray(0, Math.min(block.length, length - off)), off);
      off += block.length;
    }
    return out;
  };
}

/** Every octet is `byte`: tags 0x…bbbb, nonces 0xbbbbbbbb, jitter fixed. */
export function constRandom(byte: number): RandomSource {
  return (n) => new Uint8Array(n).fill(byte);
}

/**
 * A source whose jitter draws can be steered: `next` is the u32 returned for
 * the following 4-octet draws (timer jitter and nonces); other sizes come
 * from a seeded source.
 */
export function steerableRandom(seed: string): RandomSource & { u32: number | null } {
  const base = seededRandom(seed);
  const f = ((n: number) => {
    if (n === 4 && f.u32 !== null) {
      const v = f.u32;
      return Uint8Array.of(v >>> 24, (v >>> 16) & 0xff, (v >>> 8) & 0xff, v & 0xff);
    }
    return base(n);
  }) as RandomSource & { u32: number | null };
  f.u32 = null;
  return f;
}

// --------------------------------------------------------------- fixtures

const setCache = new Map<string, HbaSet>();

/** An HBA set (Sec 0, HBA-only) over /64 prefixes, cached per name. */
export function hbaSet(name: string, prefixes: readonly string[]): HbaSet {
  const key = `${name}|${prefixes.join()}`;
  let s = setCache.get(key);
  if (s === undefined) {
    s = generateHbaSet({
      prefixes: prefixes.map((p) => ipv6(p).slice(0, 8)),
      sec: 0,
      random: seededRandom(`hba ${name}`),
    });
    setCache.set(key, s);
  }
  return s;
}

/** Host A: three prefixes; a1 is the ULID. */
export const SET_A = (): HbaSet => hbaSet('A', ['2001:db8:a1::', '2001:db8:a2::', '2001:db8:a3::']);
/** Host B (usually the scripted peer). */
export const SET_B = (): HbaSet => hbaSet('B', ['2001:db8:b1::', '2001:db8:b2::', '2001:db8:b3::']);

export const FAST: Partial<TimerConfig> = {};

export function makeHost(opts: Partial<ShimHostConfig> & { seed?: string; present?: number } = {}): ShimHost {
  const set = SET_A();
  const present = opts.present ?? 2;
  return new ShimHost({
    random: opts.random ?? seededRandom(opts.seed ?? 'host A'),
    locators: opts.locators ?? locatorSetFromHbaSet(set, { present: (_, i) => i < present }),
    ...opts,
  });
}

export const A = (i = 0): Uint8Array => SET_A().addresses[i];
export const B = (i = 0): Uint8Array => SET_B().addresses[i];

// ---------------------------------------------------------------- actions

export function sends(actions: readonly ContextAction[]): SendAction[] {
  return actions.filter((a): a is SendAction => a.type === 'send');
}

/** Decode a sent message, asserting it decodes (checksum included). */
export function msgOf(a: SendAction): Shim6Message {
  const r = decodeMessage(a.bytes);
  if (!r.ok) throw new Error(`host sent an undecodable ${a.kind}: ${r.error.reason}`);
  expect(r.length).toBe(a.bytes.length);
  return r.msg;
}

/** The only send of `kind` in `actions`, decoded. */
export function only<K extends Shim6Message['kind']>(
  actions: readonly ContextAction[],
  kind: K,
): { send: SendAction; msg: Extract<Shim6Message, { kind: K }> } {
  const s = sends(actions);
  const hits = s.filter((a) => a.kind === kind);
  if (hits.length !== 1) {
    throw new Error(`expected exactly one ${kind}, got sends [${s.map((x) => x.kind).join(', ')}]`);
  }
  return { send: hits[0], msg: msgOf(hits[0]) as Extract<Shim6Message, { kind: K }> };
}

export function kinds(actions: readonly ContextAction[]): string[] {
  return actions.filter((a) => a.type !== 'log').map((a) => (a.type === 'send' ? `send:${a.kind}` : a.type));
}

export function drops(actions: readonly ContextAction[]): string[] {
  return actions.flatMap((a) => (a.type === 'log' && a.event === 'drop' && a.reason !== undefined ? [a.reason] : []));
}

/** The first option of `kind` in a decoded message (undefined for an Error message). */
export function opt<K extends Shim6Option['kind']>(m: Shim6Message | { options: Shim6Option[] }, kind: K): Extract<Shim6Option, { kind: K }> | undefined {
  if (!('options' in m)) return undefined;
  return m.options.find((o) => o.kind === kind) as Extract<Shim6Option, { kind: K }> | undefined;
}

export function hex(b: Uint8Array): string {
  return Buffer.from(b.buffer, b.byteOffset, b.byteLength).toString('hex');
}

export function eqAddr(a: Uint8Array, b: Uint8Array): boolean {
  return hex(a) === hex(b);
}

/** An IPv6 packet (header + Shim6 message) as it would be quoted in an ICMPv6 error. */
export function ipv6Packet(src: Uint8Array, dst: Uint8Array, shim: Uint8Array): Uint8Array {
  const b = new Uint8Array(40 + shim.length);
  b[0] = 0x60;
  b[4] = shim.length >> 8;
  b[5] = shim.length & 0xff;
  b[6] = IPPROTO_SHIM6;
  b[7] = 64;
  b.set(src, 8);
  b.set(dst, 24);
  b.set(shim, 40);
  return b;
}

// ----------------------------------------------------------- scripted peer

export interface PeerOptions {
  set?: HbaSet;
  /** Indices of the set announced (default 0 and 1). */
  announce?: readonly number[];
  ctLocal?: bigint;
}

/**
 * A scripted Shim6 peer ("B"): builds raw messages with the wire codec, as a
 * real peer would, and never looks inside the host.
 */
export class ScriptedPeer {
  readonly set: HbaSet;
  ct: bigint;
  generation = 0x0b0b0001;
  announce: readonly number[];

  constructor(opts: PeerOptions = {}) {
    this.set = opts.set ?? SET_B();
    this.ct = opts.ctLocal ?? 0x0b0b_0b0b_0b0bn;
    this.announce = opts.announce ?? [0, 1];
  }

  get ulid(): Uint8Array {
    return this.set.addresses[0];
  }

  addr(i: number): Uint8Array {
    return this.set.addresses[i];
  }

  /** Locator List + PDS options for the announced addresses. */
  locatorOptions(extra: { prefs?: LocatorPreference[]; methods?: number[]; generation?: number } = {}): Shim6Option[] {
    const gen = extra.generation ?? this.generation;
    const locators = this.announce.map((i, k) => ({ addr: this.set.addresses[i], method: extra.methods?.[k] ?? VerificationMethod.HBA }));
    const out: Shim6Option[] = [{ kind: 'LocatorList', generation: gen, locators }];
    if (extra.prefs !== undefined) out.push({ kind: 'LocatorPreferences', generation: gen, elementLength: 3, elements: extra.prefs });
    out.push({ kind: 'CgaPds', pds: this.set.params[0] });
    return out;
  }

  pkt(src: Uint8Array, dst: Uint8Array, msg: Shim6MessageInput): ReceivedPacket {
    return { src, dst, bytes: encode(msg) };
  }

  i1(dst: Uint8Array, o: { nonce?: number; ct?: bigint; src?: Uint8Array; ulids?: [Uint8Array, Uint8Array]; fii?: number } = {}): ReceivedPacket {
    const options: Shim6Option[] = [];
    if (o.ulids !== undefined) options.push({ kind: 'UlidPair', senderUlid: o.ulids[0], receiverUlid: o.ulids[1] });
    if (o.fii !== undefined) options.push({ kind: 'ForkedInstanceId', fii: o.fii });
    return this.pkt(o.src ?? this.ulid, dst, {
      kind: 'I1',
      initiatorContextTag: o.ct ?? this.ct,
      initiatorNonce: o.nonce ?? 0x1111_0001,
      options,
    });
  }

  r1(i1: SendAction, o: { responderNonce?: number; validator?: Uint8Array } = {}): ReceivedPacket {
    const m = msgOf(i1);
    if (m.kind !== 'I1') throw new Error('r1() needs an I1');
    return this.pkt(i1.dst, i1.src, {
      kind: 'R1',
      initiatorNonce: m.initiatorNonce,
      responderNonce: o.responderNonce ?? 0x2222_0001,
      options: [{ kind: 'ResponderValidator', validator: o.validator ?? Uint8Array.of(0xbb, 1, 2, 3, 4, 5, 6, 7) }],
    });
  }

  /** I2 answering the host's R1 (validator copied), from the I1's locators. */
  i2(
    r1: SendAction,
    o: { nonce?: number; ct?: bigint; locators?: boolean; options?: Shim6Option[]; validator?: Uint8Array; ulids?: [Uint8Array, Uint8Array]; fii?: number } = {},
  ): ReceivedPacket {
    const m = msgOf(r1);
    if (m.kind !== 'R1') throw new Error('i2() needs an R1');
    const rv = opt(m, 'ResponderValidator');
    const options: Shim6Option[] = [{ kind: 'ResponderValidator', validator: o.validator ?? rv!.validator }];
    if (o.ulids !== undefined) options.push({ kind: 'UlidPair', senderUlid: o.ulids[0], receiverUlid: o.ulids[1] });
    if (o.fii !== undefined) options.push({ kind: 'ForkedInstanceId', fii: o.fii });
    options.push(...(o.options ?? (o.locators === false ? [] : this.locatorOptions())));
    return this.pkt(r1.dst, r1.src, {
      kind: 'I2',
      initiatorContextTag: o.ct ?? this.ct,
      initiatorNonce: o.nonce ?? 0x1111_0002,
      responderNonce: m.responderNonce,
      options,
    });
  }

  /** R2 answering the host's I1/I2/I2bis (Initiator Nonce copied). */
  r2(to: SendAction, o: { ct?: bigint; locators?: boolean; options?: Shim6Option[]; nonce?: number } = {}): ReceivedPacket {
    const m = msgOf(to);
    if (m.kind !== 'I1' && m.kind !== 'I2' && m.kind !== 'I2bis') throw new Error('r2() needs an I1/I2/I2bis');
    return this.pkt(to.dst, to.src, {
      kind: 'R2',
      responderContextTag: o.ct ?? this.ct,
      initiatorNonce: o.nonce ?? m.initiatorNonce,
      options: o.options ?? (o.locators === false ? [] : this.locatorOptions()),
    });
  }

  /** R1bis for a packet this peer got from (src → dst) with `tag`. */
  r1bis(src: Uint8Array, dst: Uint8Array, tag: bigint, o: { responderNonce?: number } = {}): ReceivedPacket {
    return this.pkt(dst, src, {
      kind: 'R1bis',
      packetContextTag: tag,
      responderNonce: o.responderNonce ?? 0x3333_0001,
      options: [{ kind: 'ResponderValidator', validator: Uint8Array.of(0xbb, 9, 9, 9, 9, 9, 9, 9) }],
    });
  }

  /** I2bis answering the host's R1bis. */
  i2bis(r1bis: SendAction, o: { nonce?: number; ct?: bigint; locators?: boolean; ulids?: [Uint8Array, Uint8Array]; validator?: Uint8Array } = {}): ReceivedPacket {
    const m = msgOf(r1bis);
    if (m.kind !== 'R1bis') throw new Error('i2bis() needs an R1bis');
    const rv = opt(m, 'ResponderValidator');
    const options: Shim6Option[] = [{ kind: 'ResponderValidator', validator: o.validator ?? rv!.validator }];
    if (o.ulids !== undefined) options.push({ kind: 'UlidPair', senderUlid: o.ulids[0], receiverUlid: o.ulids[1] });
    if (o.locators !== false) options.push(...this.locatorOptions());
    return this.pkt(r1bis.dst, r1bis.src, {
      kind: 'I2bis',
      initiatorContextTag: o.ct ?? this.ct,
      initiatorNonce: o.nonce ?? 0x1111_0003,
      responderNonce: m.responderNonce,
      packetContextTag: m.packetContextTag,
      options,
    });
  }

  updateRequest(src: Uint8Array, dst: Uint8Array, hostTag: bigint, options: Shim6Option[], nonce = 0x4444_0001): ReceivedPacket {
    return this.pkt(src, dst, { kind: 'UpdateRequest', receiverContextTag: hostTag, requestNonce: nonce, options });
  }

  /** Update Ack for the host's Update Request; the receiver (host) tag is CT(peer) from here. */
  updateAck(update: SendAction, hostTag: bigint): ReceivedPacket {
    const m = msgOf(update);
    if (m.kind !== 'UpdateRequest') throw new Error('updateAck() needs an UpdateRequest');
    return this.pkt(update.dst, update.src, { kind: 'UpdateAck', receiverContextTag: hostTag, requestNonce: m.requestNonce });
  }

  keepalive(src: Uint8Array, dst: Uint8Array, hostTag: bigint): ReceivedPacket {
    return this.pkt(src, dst, { kind: 'Keepalive', receiverContextTag: hostTag });
  }
}

// ------------------------------------------------ driving the host to states

export interface Driven {
  host: ShimHost;
  peer: ScriptedPeer;
  now: number;
  ct: bigint;
  last: ContextAction[];
  i1?: SendAction;
  i2?: SendAction;
}

/** Host in I1-SENT towards the scripted peer's ULID (ULIDs a1 ↔ b1). */
export function toI1Sent(host = makeHost(), peer = new ScriptedPeer(), now = 1_000): Driven {
  const acts = host.trigger(now, { ulidLocal: A(0), ulidPeer: peer.ulid });
  const { send } = only(acts, 'I1');
  const ct = host.contexts()[0].ctLocal as bigint;
  return { host, peer, now, ct, last: acts, i1: send };
}

/** Host in I2-SENT: I1 answered by a scripted R1. */
export function toI2Sent(d = toI1Sent()): Driven {
  const now = d.now + 100;
  const acts = d.host.receive(now, d.peer.r1(d.i1 as SendAction));
  const { send } = only(acts, 'I2');
  return { ...d, now, last: acts, i2: send };
}

/** Host ESTABLISHED as initiator: I1, R1, I2, R2 (with the peer's locators). */
export function toEstablished(d = toI2Sent(), o: { locators?: boolean } = {}): Driven {
  const now = d.now + 100;
  const acts = d.host.receive(now, d.peer.r2(d.i2 as SendAction, { locators: o.locators }));
  expect(d.host.context({ ctLocal: d.ct })?.state).toBe('ESTABLISHED');
  return { ...d, now, last: acts };
}

/** Host ESTABLISHED as responder: the peer's I1 → R1 → I2 → R2. */
export function toEstablishedResponder(host = makeHost(), peer = new ScriptedPeer(), now = 1_000): Driven {
  const r1 = only(host.receive(now, peer.i1(A(0))), 'R1').send;
  const acts = host.receive(now + 50, peer.i2(r1));
  only(acts, 'R2');
  const ctx = host.contexts()[0];
  expect(ctx.state).toBe('ESTABLISHED');
  return { host, peer, now: now + 50, ct: ctx.ctLocal as bigint, last: acts };
}

/** Host in I2BIS-SENT: ESTABLISHED, then an R1bis for a packet it sent with CT(peer). */
export function toI2bisSent(d = toEstablished()): Driven & { i2bis: SendAction } {
  const now = d.now + 100;
  const ctx = d.host.context({ ctLocal: d.ct });
  const acts = d.host.receive(now, d.peer.r1bis(ctx!.lpLocal, ctx!.lpPeer, ctx!.ctPeer as bigint));
  const { send } = only(acts, 'I2bis');
  return { ...d, now, last: acts, i2bis: send };
}

/** An R1 from the host for a scripted I1 (for I2s the host will accept). */
export function hostR1(host: ShimHost, peer: ScriptedPeer, now: number, o: Parameters<ScriptedPeer['i1']>[1] = {}, dst = A(0)): SendAction {
  const acts = host.receive(now, peer.i1(dst, o));
  return only(acts, 'R1').send;
}

/** An R1bis from the host for a payload with `tag` from the peer. */
export function hostR1bis(host: ShimHost, peer: ScriptedPeer, now: number, tag: bigint, src = peer.ulid, dst = A(0)): SendAction {
  const acts = host.payloadWithUnknownTag(now, { src, dst, tag });
  return only(acts, 'R1bis').send;
}

export function names(addrs: readonly Uint8Array[]): string[] {
  return addrs.map(formatIpv6);
}
