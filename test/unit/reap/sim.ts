// A two-peer simulation: hosts A and B, each a ReapContext inside a
// ReapScheduler (as the agent would run it), exchanging encoded Keepalive and
// Probe bytes over a virtual network with per-direction path failures, drops
// and delays, all seeded. Payload is modelled the way the data plane sees it:
// counters and stamps, sampled periodically, sent on the side's current pair.
//
// Invariants checked while running (`violations`):
//   - a side switches payload only to a pair for which the network delivered
//     one of its probes to the peer AND delivered back a peer message
//     reporting that probe (ground truth, not the core's belief), recently;
//   - every probe decodes, its first record describes its own addresses,
//     and a side only sends from its own locators to the peer's.
// `converged()` tells whether both sides are Operational on pairs the network
// currently carries in their sending direction.

import { addrEqual, decode, formatIpv6, ipv6 } from '../../../src/wire/index.js';
import {
  ReapContext,
  ReapScheduler,
  formatPair,
  pairKey,
  type Pair,
  type ReapAction,
  type ReapOptions,
  type TrafficSample,
} from '../../../src/reap/index.js';
import { mulberry32 } from './helpers.js';

export type SideName = 'A' | 'B';
export type TrafficMode = 'bidir' | 'a2b' | 'b2a' | 'none';

export const A_LOCATORS = ['2001:db8:a1::1', '2001:db8:a2::1'] as const;
export const B_LOCATORS = ['2001:db8:b1::1', '2001:db8:b2::1'] as const;

export interface SimConfig {
  readonly seed: number;
  readonly traffic?: TrafficMode;
  /** Payload spacing per sending side (default 200 ms). */
  readonly payloadEveryMs?: number;
  /** How often the agent samples the data-plane counters (default 500 ms). */
  readonly sampleEveryMs?: number;
  /** One-way delay range (default 5–60 ms), uniform per packet. */
  readonly delayMs?: readonly [number, number];
  /** Loss probability per packet, payload and control alike (default 0). */
  readonly dropRate?: number;
  readonly a?: ReapOptions;
  readonly b?: ReapOptions;
  /** Confirmation older than this does not justify a switch (default 120 s). */
  readonly evidenceMaxAgeMs?: number;
  /** Keep every action in `log` (default true). */
  readonly keepLog?: boolean;
  /**
   * Model shim6_sockops' hot-standby switch: the agent stages REAP's
   * `stagedStandby()` after every input, and when a side's payload has gone
   * unanswered for `retransmitAfterMs` (TCP's tail-loss probe or RTO) its
   * data plane moves to the staged pair by itself, once, while it is valid,
   * and REAP hears of it as feedback (default off).
   */
  readonly dataplaneStandby?: boolean;
  /** Payload unanswered this long makes "TCP" retransmit (default 250 ms). */
  readonly retransmitAfterMs?: number;
}

export interface SimEvent {
  readonly t: number;
  readonly side: SideName;
  readonly action: ReapAction;
}

interface Side {
  readonly name: SideName;
  other: Side;
  readonly ctx: ReapContext;
  readonly sched: ReapScheduler<number>;
  readonly locs: Uint8Array[];
  /** The pair the data plane sends payload on. */
  dp: Pair;
  sending: boolean;
  tx: number;
  rx: number;
  lastTx: number | undefined;
  lastRx: number | undefined;
  /** Our probes by nonce: where they went and whether the network delivered them. */
  readonly probes: Map<number, { src: Uint8Array; dst: Uint8Array; delivered: boolean }>;
  /** Pairs proven from us to the peer by a delivered probe and a delivered report of it. */
  readonly evidence: Map<string, number>;
  readonly switches: { t: number; pair: Pair; reason: string }[];
  /** What the agent staged in the data plane (dataplaneStandby). */
  staged: { pair: Pair; validUntil: number } | null;
  /** When "TCP" last retransmitted. */
  lastRetransmit: number;
}

interface QueueItem {
  t: number;
  seq: number;
  run: () => void;
}

/** A binary heap of timed callbacks, FIFO among equal times. */
class EventQueue {
  #h: QueueItem[] = [];
  #seq = 0;

  get size(): number {
    return this.#h.length;
  }

  peek(): number {
    return this.#h.length > 0 ? this.#h[0].t : Infinity;
  }

  push(t: number, run: () => void): void {
    const h = this.#h;
    h.push({ t, seq: this.#seq++, run });
    let i = h.length - 1;
    while (i > 0) {
      const p = (i - 1) >> 1;
      if (!EventQueue.#less(h[i], h[p])) break;
      [h[i], h[p]] = [h[p], h[i]];
      i = p;
    }
  }

  pop(): QueueItem | undefined {
    const h = this.#h;
    const top = h[0];
    const last = h.pop();
    if (h.length > 0 && last) {
      h[0] = last;
      let i = 0;
      for (;;) {
        const l = 2 * i + 1;
        const r = l + 1;
        let m = i;
        if (l < h.length && EventQueue.#less(h[l], h[m])) m = l;
        if (r < h.length && EventQueue.#less(h[r], h[m])) m = r;
        if (m === i) break;
        [h[i], h[m]] = [h[m], h[i]];
        i = m;
      }
    }
    return top;
  }

  static #less(a: QueueItem, b: QueueItem): boolean {
    return a.t < b.t || (a.t === b.t && a.seq < b.seq);
  }
}

function hexAddr(a: Uint8Array): string {
  return formatIpv6(a);
}

export class Sim {
  now = 0;
  readonly A: Side;
  readonly B: Side;
  readonly log: SimEvent[] = [];
  readonly violations: string[] = [];
  readonly stats = { controlSent: 0, controlLost: 0, payloadSent: 0, payloadDelivered: 0, dataplaneSwitches: 0 };
  readonly #cfg: Required<Omit<SimConfig, 'a' | 'b'>>;
  readonly #q = new EventQueue();
  readonly #net: () => number;
  /** Failure counts so overlapping failures heal independently. */
  readonly #downLoc = new Map<string, number>();
  readonly #downDir = new Map<string, number>();

  constructor(cfg: SimConfig) {
    this.#cfg = {
      seed: cfg.seed,
      traffic: cfg.traffic ?? 'bidir',
      payloadEveryMs: cfg.payloadEveryMs ?? 200,
      sampleEveryMs: cfg.sampleEveryMs ?? 500,
      delayMs: cfg.delayMs ?? [5, 60],
      dropRate: cfg.dropRate ?? 0,
      evidenceMaxAgeMs: cfg.evidenceMaxAgeMs ?? 120_000,
      keepLog: cfg.keepLog ?? true,
      dataplaneStandby: cfg.dataplaneStandby ?? false,
      retransmitAfterMs: cfg.retransmitAfterMs ?? 250,
    };
    const u = mulberry32(cfg.seed);
    this.#net = () => u() / 0x1_0000_0000;
    const aLocs = A_LOCATORS.map((t) => ipv6(t));
    const bLocs = B_LOCATORS.map((t) => ipv6(t));
    const mk = (name: SideName, locs: Uint8Array[], peerLocs: Uint8Array[], tagOwn: bigint, tagPeer: bigint, opts: ReapOptions | undefined, k: number): Side => {
      const nonceRng = mulberry32(cfg.seed * 7 + k);
      const floatRng = mulberry32(cfg.seed * 13 + k);
      const ctx = new ReapContext({
        peerContextTag: tagPeer,
        localContextTag: tagOwn,
        current: { local: locs[0], peer: peerLocs[0] },
        locals: locs.map((addr) => ({ addr })),
        peers: peerLocs.map((addr) => ({ addr, verified: true })),
        now: 0,
        options: { nonce: nonceRng, random: () => floatRng() / 0x1_0000_0000, ...opts },
      });
      const sched = new ReapScheduler<number>();
      sched.add(1, ctx);
      const side: Side = {
        name, ctx, sched, locs, dp: { local: locs[0], peer: peerLocs[0] }, sending: false,
        tx: 0, rx: 0, lastTx: undefined, lastRx: undefined,
        probes: new Map(), evidence: new Map(), switches: [], staged: null, lastRetransmit: -Infinity,
        other: undefined as unknown as Side,
      };
      return side;
    };
    this.A = mk('A', aLocs, bLocs, 0x0aaan, 0x0bbbn, cfg.a, 1);
    this.B = mk('B', bLocs, aLocs, 0x0bbbn, 0x0aaan, cfg.b, 2);
    this.A.other = this.B;
    this.B.other = this.A;
    const t = this.#cfg.traffic;
    this.A.sending = t === 'bidir' || t === 'a2b';
    this.B.sending = t === 'bidir' || t === 'b2a';
    for (const s of [this.A, this.B]) {
      const phase = this.#net() * this.#cfg.sampleEveryMs;
      this.#every(phase, this.#cfg.sampleEveryMs, () => this.#sample(s));
      if (s.sending) this.#every(this.#net() * this.#cfg.payloadEveryMs, this.#cfg.payloadEveryMs, () => this.#payload(s));
    }
  }

  side(n: SideName): Side {
    return n === 'A' ? this.A : this.B;
  }

  /** Start or stop a side's application traffic. */
  setSending(at: number, n: SideName, on: boolean): void {
    this.#q.push(at, () => {
      const s = this.side(n);
      if (on && !s.sending) this.#every(this.now, this.#cfg.payloadEveryMs, () => this.#payload(s));
      s.sending = on;
    });
  }

  /** Every packet from or to `addr` is lost in [from, until). */
  failLocator(from: number, addr: string, until = Infinity): void {
    const k = hexAddr(ipv6(addr));
    this.#window(from, until, this.#downLoc, k);
  }

  /** Packets src → dst are lost in [from, until). */
  failDirection(from: number, src: string, dst: string, until = Infinity): void {
    this.#window(from, until, this.#downDir, `${hexAddr(ipv6(src))}>${hexAddr(ipv6(dst))}`);
  }

  /** Both directions between a and b are lost in [from, until). */
  failPair(from: number, a: string, b: string, until = Infinity): void {
    this.failDirection(from, a, b, until);
    this.failDirection(from, b, a, until);
  }

  /** Whether the network currently carries src → dst. */
  up(src: Uint8Array, dst: Uint8Array): boolean {
    const s = hexAddr(src);
    const d = hexAddr(dst);
    return !this.#downLoc.get(s) && !this.#downLoc.get(d) && !this.#downDir.get(`${s}>${d}`);
  }

  run(until: number): void {
    for (;;) {
      const tq = this.#q.peek();
      const ta = this.A.sched.nextDeadline();
      const tb = this.B.sched.nextDeadline();
      const t = Math.min(tq, ta, tb);
      if (t > until) {
        this.now = until;
        return;
      }
      this.now = Math.max(this.now, t);
      if (tq <= t) {
        this.#q.pop()?.run();
        continue;
      }
      for (const s of [this.A, this.B]) {
        if (s.sched.nextDeadline() <= this.now) {
          for (const r of s.sched.tick(this.now, () => this.#traffic(s))) this.#act(s, r.actions);
        }
      }
    }
  }

  /** Both sides Operational, each on a pair the network carries from it to its peer. */
  converged(): { ok: boolean; why: string } {
    for (const s of [this.A, this.B]) {
      if (s.ctx.state !== 'Operational') return { ok: false, why: `${s.name} is ${s.ctx.state}` };
      if (!this.up(s.dp.local, s.dp.peer)) return { ok: false, why: `${s.name} sends on a dead pair ${formatPair(s.dp)}` };
    }
    return { ok: true, why: '' };
  }

  actions(n?: SideName, type?: ReapAction['type']): SimEvent[] {
    return this.log.filter((e) => (n === undefined || e.side === n) && (type === undefined || e.action.type === type));
  }

  // ---------------------------------------------------------------- internals

  #every(first: number, period: number, fn: () => void): void {
    const step = (): void => {
      fn();
      this.#q.push(this.now + period, step);
    };
    this.#q.push(first, step);
  }

  #window(from: number, until: number, m: Map<string, number>, k: string): void {
    this.#q.push(from, () => m.set(k, (m.get(k) ?? 0) + 1));
    if (until !== Infinity) this.#q.push(until, () => m.set(k, (m.get(k) ?? 1) - 1));
  }

  #traffic(s: Side): TrafficSample {
    return { txPackets: s.tx, rxPackets: s.rx, lastTx: s.lastTx, lastRx: s.lastRx };
  }

  #sample(s: Side): void {
    this.#act(s, s.sched.observe(this.now, 1, this.#traffic(s)));
  }

  #payload(s: Side): void {
    if (!s.sending) return;
    this.#retransmit(s);
    s.tx++;
    s.lastTx = this.now;
    this.stats.payloadSent++;
    this.#carry(s.dp.local, s.dp.peer, () => {
      const o = s.other;
      o.rx++;
      o.lastRx = this.now;
      this.stats.payloadDelivered++;
    });
  }

  /**
   * dataplaneStandby: payload unanswered for retransmitAfterMs is what makes
   * TCP retransmit (at most every 200 ms, like the events); the data plane
   * then moves to the staged standby, if still valid, and consumes it.
   */
  #retransmit(s: Side): void {
    // TCP: payload both ways (data and ACKs); one-way payload here is UDP-like.
    if (!this.#cfg.dataplaneStandby || !s.other.sending) return;
    const since = Math.max(s.lastRx ?? 0, s.lastRetransmit + 200);
    if (this.now - since < this.#cfg.retransmitAfterMs || s.lastTx === undefined || s.lastTx < (s.lastRx ?? 0)) return;
    s.lastRetransmit = this.now;
    const st = s.staged;
    if (!st || this.now > st.validUntil) return;
    s.staged = null;
    const seen = s.evidence.get(pairKey(st.pair));
    if (seen === undefined || this.now - seen > this.#cfg.evidenceMaxAgeMs) {
      this.violations.push(`${this.now}: ${s.name}'s data plane switched to unverified pair ${formatPair(st.pair)} (staged)`);
    }
    s.dp = { local: st.pair.local, peer: st.pair.peer };
    s.switches.push({ t: this.now, pair: s.dp, reason: 'dataplane-standby' });
    this.stats.dataplaneSwitches++;
    this.#act(s, s.sched.feedback(this.now, 1, 'tcp-rto'));
    // The agent rewrites the maps from what REAP decided.
    s.dp = { local: s.ctx.current.local, peer: s.ctx.current.peer };
  }

  /** The agent keeps the data plane's staged standby equal to REAP's. */
  #restage(s: Side): void {
    if (!this.#cfg.dataplaneStandby) return;
    const st = s.ctx.stagedStandby();
    s.staged = st ? { pair: { local: st.pair.local, peer: st.pair.peer }, validUntil: st.validUntil } : null;
  }

  /** Send one packet: lost if the path is down or by chance, else delivered after a delay. */
  #carry(src: Uint8Array, dst: Uint8Array, deliver: () => void): boolean {
    if (!this.up(src, dst) || this.#net() < this.#cfg.dropRate) return false;
    const [lo, hi] = this.#cfg.delayMs;
    this.#q.push(this.now + lo + (hi - lo) * this.#net(), deliver);
    return true;
  }

  #act(s: Side, actions: readonly ReapAction[]): void {
    this.#actions(s, actions);
    this.#restage(s);
  }

  #actions(s: Side, actions: readonly ReapAction[]): void {
    for (const a of actions) {
      if (this.#cfg.keepLog) this.log.push({ t: this.now, side: s.name, action: a });
      switch (a.type) {
        case 'send-probe':
        case 'send-keepalive':
          this.#control(s, a.src, a.dst, a.bytes);
          break;
        case 'switch-pair': {
          const pair = { local: a.local, peer: a.peer };
          const seen = s.evidence.get(pairKey(pair));
          if (seen === undefined || this.now - seen > this.#cfg.evidenceMaxAgeMs) {
            this.violations.push(`${this.now}: ${s.name} switched to unverified pair ${formatPair(pair)} (${a.reason})`);
          }
          s.dp = pair;
          s.switches.push({ t: this.now, pair, reason: a.reason });
          break;
        }
        default:
          break;
      }
    }
  }

  #control(s: Side, src: Uint8Array, dst: Uint8Array, bytes: Uint8Array): void {
    this.stats.controlSent++;
    if (!s.locs.some((l) => addrEqual(l, src)) || !s.other.locs.some((l) => addrEqual(l, dst))) {
      this.violations.push(`${this.now}: ${s.name} sent from ${hexAddr(src)} to ${hexAddr(dst)}`);
    }
    const r = decode(bytes);
    if (!r.ok || (r.msg.kind !== 'Probe' && r.msg.kind !== 'Keepalive')) {
      this.violations.push(`${this.now}: ${s.name} sent bytes that do not decode as Keepalive/Probe`);
      return;
    }
    const msg = r.msg;
    if (msg.kind === 'Probe') {
      const first = msg.sent[0];
      if (!addrEqual(first.src, src) || !addrEqual(first.dst, dst)) {
        this.violations.push(`${this.now}: ${s.name} probe's first record is not its own addresses`);
      }
      s.probes.set(first.nonce, { src, dst, delivered: false });
    }
    const ok = this.#carry(src, dst, () => {
      const to = s.other;
      if (msg.kind === 'Probe') {
        const mine = s.probes.get(msg.sent[0].nonce);
        if (mine) mine.delivered = true;
        // The peer reports our probes: ground-truth evidence that they reached it.
        for (const rep of msg.received) {
          const p = to.probes.get(rep.nonce);
          if (p && p.delivered && addrEqual(p.src, rep.src) && addrEqual(p.dst, rep.dst)) {
            to.evidence.set(pairKey({ local: rep.src, peer: rep.dst }), this.now);
          }
        }
      }
      const back = decode(bytes); // the receiver decodes its own copy of the bytes
      if (!back.ok || back.msg.kind === 'Payload') throw new Error('unreachable');
      this.#act(to, to.sched.receive(this.now, 1, back.msg, { src, dst }));
    });
    if (!ok) this.stats.controlLost++;
  }
}

// -------------------------------------------------------------------- scenarios

export interface Scenario {
  readonly config: SimConfig;
  readonly describe: string[];
  readonly apply: (sim: Sim) => void;
  /** From this time on the network no longer changes. */
  readonly stableFrom: number;
}

/** A random, seeded scenario: traffic mode, loss, delay, 1–3 transient failures, maybe one permanent. */
export function randomScenario(seed: number): Scenario {
  const u = mulberry32(seed ^ 0x5eed_cafe);
  const f = (): number => u() / 0x1_0000_0000;
  const pick = <T>(xs: readonly T[]): T => xs[Math.floor(f() * xs.length)];
  const traffic = pick<TrafficMode>(['bidir', 'bidir', 'a2b', 'b2a']);
  const dropRate = pick([0, 0, 0.01, 0.05]);
  const lo = 2 + f() * 20;
  const delayMs: [number, number] = [lo, lo + f() * 100];
  const hot = f() < 0.3;
  const config: SimConfig = { seed, traffic, dropRate, delayMs, a: { hotStandby: hot }, b: { hotStandby: f() < 0.3 }, keepLog: false };
  const describe: string[] = [`traffic ${traffic}, drop ${dropRate}, delay ${lo.toFixed(0)}–${delayMs[1].toFixed(0)} ms, hot standby A ${hot}`];
  const steps: ((sim: Sim) => void)[] = [];
  let stableFrom = 0;
  const n = 1 + Math.floor(f() * 3);
  for (let i = 0; i < n; i++) {
    const from = 5000 + f() * 115_000;
    const until = from + 1000 + f() * 239_000;
    stableFrom = Math.max(stableFrom, until);
    const kind = pick(['locator', 'direction', 'pair'] as const);
    const a = pick(A_LOCATORS);
    const b = pick(B_LOCATORS);
    if (kind === 'locator') {
      const l = pick([...A_LOCATORS, ...B_LOCATORS]);
      describe.push(`locator ${l} down ${(from / 1000).toFixed(1)}–${(until / 1000).toFixed(1)} s`);
      steps.push((sim) => sim.failLocator(from, l, until));
    } else if (kind === 'direction') {
      const [src, dst] = f() < 0.5 ? [a, b] : [b, a];
      describe.push(`${src} -> ${dst} down ${(from / 1000).toFixed(1)}–${(until / 1000).toFixed(1)} s`);
      steps.push((sim) => sim.failDirection(from, src, dst, until));
    } else {
      describe.push(`${a} <-> ${b} down ${(from / 1000).toFixed(1)}–${(until / 1000).toFixed(1)} s`);
      steps.push((sim) => sim.failPair(from, a, b, until));
    }
  }
  if (f() < 0.25) {
    const l = pick([...A_LOCATORS, ...B_LOCATORS]);
    const from = 5000 + f() * 115_000;
    stableFrom = Math.max(stableFrom, from);
    describe.push(`locator ${l} down for good from ${(from / 1000).toFixed(1)} s`);
    steps.push((sim) => sim.failLocator(from, l));
  }
  return { config, describe, stableFrom, apply: (sim) => steps.forEach((s) => s(sim)) };
}
