// Shared helpers for the REAP tests: addresses, seeded randomness, a context
// factory, and a scripted peer that speaks in encoded bytes.

import { expect } from 'vitest';
import {
  ProbeState,
  decode,
  encode,
  ipv6,
  type KeepaliveMessage,
  type ProbeMessage,
  type ProbeReport,
  type ProbeStateValue,
  type Shim6Message,
  type Shim6MessageInput,
} from '../../../src/wire/index.js';
import {
  ReapContext,
  type Arrival,
  type LocalLocator,
  type Pair,
  type PeerLocator,
  type ReapAction,
  type ReapOptions,
  type ReapState,
} from '../../../src/reap/index.js';

export const A1 = ipv6('2001:db8:a1::1');
export const A2 = ipv6('2001:db8:a2::1');
export const B1 = ipv6('2001:db8:b1::1');
export const B2 = ipv6('2001:db8:b2::1');

/** Context tags: ours (A's) and the peer's (B's). */
export const CT_A = 0x0a0a_0a0a_0a0an;
export const CT_B = 0x0b0b_0b0b_0b0bn;

export const SEND_TIMEOUT = 15_000;

/** mulberry32: a tiny seeded PRNG returning u32 values. */
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

/** Uniform [0, 1) from a seed. */
export function seededFloat(seed: number): () => number {
  const u = mulberry32(seed);
  return () => u() / 0x1_0000_0000;
}

/** Nonces 1, 2, 3, … so tests can name them. */
export function counterNonce(start = 1): () => number {
  let n = start;
  return () => n++;
}

export interface MakeOptions {
  now?: number;
  current?: Pair;
  locals?: LocalLocator[];
  peers?: PeerLocator[];
  options?: ReapOptions;
}

/** Host A with locators A1, A2 talking to B1, B2 (all verified), on (A1, B1), no jitter. */
export function makeCtx(m: MakeOptions = {}): ReapContext {
  return new ReapContext({
    peerContextTag: CT_B,
    localContextTag: CT_A,
    current: m.current ?? { local: A1, peer: B1 },
    locals: m.locals ?? [{ addr: A1 }, { addr: A2 }],
    peers: m.peers ?? [
      { addr: B1, verified: true },
      { addr: B2, verified: true },
    ],
    now: m.now ?? 0,
    options: { random: () => 0, nonce: counterNonce(), ...m.options },
  });
}

/** Round trip through the wire codec, as a received message would be. */
export function wire<T extends Shim6Message>(msg: Shim6MessageInput): T {
  const r = decode(encode(msg));
  if (!r.ok || r.msg.kind === 'Payload') throw new Error(`test message does not decode: ${JSON.stringify(r)}`);
  return r.msg as T;
}

export function report(src: Uint8Array, dst: Uint8Array, nonce: number, data = 0): ProbeReport {
  return { src, dst, nonce, data };
}

/** A Probe from the peer (B) to us, with its first sent record on (src → dst). */
export function peerProbe(
  state: ProbeStateValue,
  src: Uint8Array,
  dst: Uint8Array,
  nonce: number,
  received: ProbeReport[] = [],
  data = 0,
): { msg: ProbeMessage; via: Arrival } {
  const msg = wire<ProbeMessage>({
    kind: 'Probe',
    receiverContextTag: CT_A,
    state,
    sent: [report(src, dst, nonce, data)],
    received,
  });
  return { msg, via: { src, dst } };
}

export function peerKeepalive(tag: bigint = CT_A): KeepaliveMessage {
  return wire<KeepaliveMessage>({ kind: 'Keepalive', receiverContextTag: tag });
}

export interface SentProbe {
  src: Uint8Array;
  dst: Uint8Array;
  msg: ProbeMessage;
  purpose: string;
}

/** Decode the probes among `actions` (checking the bytes are a valid Probe). */
export function probes(actions: readonly ReapAction[]): SentProbe[] {
  const out: SentProbe[] = [];
  for (const a of actions) {
    if (a.type !== 'send-probe') continue;
    const r = decode(a.bytes);
    if (!r.ok || r.msg.kind !== 'Probe') throw new Error('send-probe bytes are not a Probe');
    expect(r.msg.receiverContextTag).toBe(CT_B);
    expect(r.msg.state).toBe(a.sta);
    // The first sent record describes this very probe (RFC 5534 §5.2).
    expect(r.msg.sent[0].src).toEqual(a.src);
    expect(r.msg.sent[0].dst).toEqual(a.dst);
    out.push({ src: a.src, dst: a.dst, msg: r.msg, purpose: a.purpose });
  }
  return out;
}

export function keepalives(actions: readonly ReapAction[]): { src: Uint8Array; dst: Uint8Array }[] {
  const out: { src: Uint8Array; dst: Uint8Array }[] = [];
  for (const a of actions) {
    if (a.type !== 'send-keepalive') continue;
    const r = decode(a.bytes);
    if (!r.ok || r.msg.kind !== 'Keepalive') throw new Error('send-keepalive bytes are not a Keepalive');
    expect(r.msg.receiverContextTag).toBe(CT_B);
    out.push({ src: a.src, dst: a.dst });
  }
  return out;
}

export function types(actions: readonly ReapAction[]): string[] {
  return actions.map((a) => a.type);
}

export function stateChanges(actions: readonly ReapAction[]): string[] {
  return actions.flatMap((a) => (a.type === 'state' ? [`${a.from}->${a.to}`] : []));
}

export function switches(actions: readonly ReapAction[]): Pair[] {
  return actions.flatMap((a) => (a.type === 'switch-pair' ? [{ local: a.local, peer: a.peer }] : []));
}

/** Payload counters the way the data plane keeps them. */
export class Traffic {
  tx = 0;
  rx = 0;
  lastTx: number | undefined;
  lastRx: number | undefined;
  send(at: number): this {
    this.tx++;
    this.lastTx = at;
    return this;
  }
  recv(at: number): this {
    this.rx++;
    this.lastRx = at;
    return this;
  }
  sample(): { txPackets: number; rxPackets: number; lastTx?: number; lastRx?: number } {
    return { txPackets: this.tx, rxPackets: this.rx, lastTx: this.lastTx, lastRx: this.lastRx };
  }
}

/**
 * Put a fresh context (see makeCtx) into `state` at time `t0`:
 * Exploring through negative feedback, InboundOk through a peer probe
 * (Sta=Exploring, nonce 900) on B1 → A1.
 */
export function inState(state: ReapState, m: MakeOptions = {}, t0 = 1000): { ctx: ReapContext; t: number } {
  const ctx = makeCtx(m);
  if (state === 'Exploring') ctx.feedback(t0, 'app');
  if (state === 'InboundOk') {
    const { msg, via } = peerProbe(ProbeState.Exploring, B1, A1, 900);
    ctx.receive(t0, msg, via);
  }
  expect(ctx.state).toBe(state);
  return { ctx, t: t0 };
}

/** Run tick at every deadline up to `until`, collecting actions with their times. */
export function runUntil(ctx: ReapContext, until: number): { t: number; a: ReapAction }[] {
  const out: { t: number; a: ReapAction }[] = [];
  for (let guard = 0; guard < 100_000; guard++) {
    const d = ctx.nextDeadline();
    if (d > until) return out;
    for (const a of ctx.tick(d)) out.push({ t: d, a });
  }
  throw new Error('runUntil: too many deadlines');
}
