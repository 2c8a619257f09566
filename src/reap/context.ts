// The REAP state machine for one Shim6 context (RFC 5534 §6): pure, no I/O,
// no timers. Time is an argument (`now`, ms), randomness is injected, and
// every call returns the actions for the agent to perform (send a probe or
// keepalive, move the context to another locator pair, report an event).
//
// Timers are deadlines kept here; `nextDeadline()` says when `tick(now)` is
// next needed (Infinity: never, e.g. an idle context). `ReapScheduler` keeps
// many contexts in a heap of these deadlines so the agent runs one timer.
//
// The rows of the RFC's tables are implemented by the methods named after
// them below (#rxPayload, #txPayload, #keepaliveTimer, #sendTimerExpired,
// #retransmit, #rxKeepalive, #rxProbe*). README.md lists the decisions taken
// where the RFC is silent or contradicts itself.

import {
  ProbeState,
  addrEqual,
  encode,
  findOption,
  isContextTag,
  type KeepaliveTimeoutOption,
  type ProbeMessage,
  type ProbeReport,
  type ProbeStateValue,
  type Shim6Message,
} from '../wire/index.js';
import { orderPairs } from './addr-select.js';
import {
  DEFAULT_MAX_RECEIVED_REPORTS,
  DEFAULT_SEND_TIMEOUT_MS,
  FEEDBACK_PROBE_GAP_MS,
  STANDBY_ANSWER_MIN_MS,
  PROBE_DATA_EXPLORE,
  PROBE_DATA_VERIFY,
  PROBE_DATA_VERIFY_REPLY,
  SENT_PROBE_MEMORY,
} from './constants.js';
import { checkSendTimeout, resolveOptions, usage, type ReapOptions, type Tunables } from './options.js';
import { pairKey, samePair } from './pair.js';
import type {
  Arrival,
  FeedbackKind,
  LocalLocator,
  Pair,
  PeerLocator,
  ProbePurpose,
  ReapAction,
  ReapState,
  TrafficSample,
} from './types.js';

export interface ReapContextInit {
  /** The peer's context tag: the Receiver Context Tag of what we send. */
  readonly peerContextTag: bigint;
  /** Our context tag: received Keepalives/Probes carrying another are ignored. */
  readonly localContextTag?: bigint;
  /** The current pair at creation (normally the ULID pair). */
  readonly current: Pair;
  readonly locals: readonly LocalLocator[];
  readonly peers: readonly PeerLocator[];
  readonly now: number;
  /** Data-plane counters at creation (default zero). */
  readonly traffic?: TrafficSample;
  readonly options?: ReapOptions;
}

/** A read-only view of the context for diagnostics and tests. */
export interface ReapSnapshot {
  readonly state: ReapState;
  readonly current: Pair;
  readonly sendTimer: number | null;
  readonly keepalive: { readonly next: number; readonly expires: number; readonly interval: number } | null;
  readonly probe: { readonly count: number; readonly next: number } | null;
  readonly standby: Pair | null;
  readonly failbackTarget: Pair | null;
  readonly nextDeadline: number;
}

interface SentProbe {
  readonly src: Uint8Array;
  readonly dst: Uint8Array;
  readonly nonce: number;
  readonly data: number;
  acked: boolean;
}

interface ReceivedProbe {
  readonly report: ProbeReport;
  readonly arrival: Arrival;
}

/** Verification state of a pair probed in advance (hot standby, fail-back). */
interface Monitor {
  readonly pair: Pair;
  readonly key: string;
  nextAt: number | null;
  pending: { nonce: number; sentAt: number; deadline: number } | null;
  /** Send time of the first answered probe of the current run of answered ones. */
  streakStart: number | null;
  lastOk: number | null;
  /** Unanswered probes in a row: the interval doubles with each, up to Max Probe Timeout. */
  misses: number;
  /** Round-trip time of the last answered verification. */
  rtt: number | null;
}

function toBig(v: number | bigint, name: string): bigint {
  if (typeof v === 'bigint') return v;
  if (!Number.isSafeInteger(v) || v < 0) throw usage(`${name} must be a non-negative integer`);
  return BigInt(v);
}

function copyReport(r: ProbeReport): ProbeReport {
  return { src: r.src.slice(), dst: r.dst.slice(), nonce: r.nonce, data: r.data };
}

/** Same /64 (the subnet: one uplink, one peer network). */
function samePrefix(a: Uint8Array, b: Uint8Array): boolean {
  for (let i = 0; i < 8; i++) if (a[i] !== b[i]) return false;
  return true;
}

/**
 * Pairs ordered by how much they share with `from`: neither locator's /64,
 * then differing addresses, then the rest; stable, so the ranking holds
 * within each group. A pair through another uplink to another peer network
 * is the one most likely to survive what broke `from`.
 */
function disjointFirst(pairs: readonly Pair[], from: Pair): Pair[] {
  const score = (p: Pair): number => {
    if (!samePrefix(p.local, from.local) && !samePrefix(p.peer, from.peer)) return 0;
    if (!addrEqual(p.local, from.local) && !addrEqual(p.peer, from.peer)) return 1;
    return 2;
  };
  return [...pairs].sort((a, b) => score(a) - score(b));
}

const STA: Record<ReapState, ProbeStateValue> = {
  Operational: ProbeState.Operational,
  Exploring: ProbeState.Exploring,
  InboundOk: ProbeState.InboundOk,
};

export class ReapContext {
  readonly #o: Tunables;
  readonly #peerTag: bigint;
  readonly #localTag: bigint | undefined;
  #state: ReapState = 'Operational';
  #current: Pair;
  #ranked: Pair[] = [];
  #rank = new Map<string, number>();

  // Conceptual timers (RFC 5534 §6): deadlines, null when stopped.
  #sendTimer: number | null = null;
  #ka: { next: number; expires: number; interval: number; start: number } | null = null;
  #probe: { count: number; next: number; capped: boolean } | null = null;
  #cursor = 0;
  /** The exploration tries the current pair first (else the best alternate, then the current pair). */
  #currentFirst = true;

  // Probe reports of the current exploration round.
  #sent: SentProbe[] = [];
  #recvd: ReceivedProbe[] = [];

  /** Answers sent to probes arriving on one path (see #replyPair). */
  #replies: { key: string; n: number } | null = null;

  #failed = false;
  /** The current pair became unusable while the context was idle: explore on the next send. */
  #pendingExplore = false;

  // Last data-plane sample.
  #txCount = 0n;
  #rxCount = 0n;
  #lastTx = -Infinity;
  #lastRx = -Infinity;
  #lastActivity = -Infinity;

  // Hot standby and fail-back.
  #monitors = new Map<string, Monitor>();
  #standby: Pair | null = null;
  #standbySkip = 0;
  /** After a standby failed to answer, the next one is first checked no earlier than this. */
  #standbyHold = -Infinity;
  /** Standbys in a row that did not answer (the hold doubles with each). */
  #standbyMisses = 0;
  #failbackTarget: Pair | null = null;

  #now: number;
  #out: ReapAction[] = [];
  /** When the current state was entered: payload sent before that was sent on an old pair. */
  #stateSince = -Infinity;
  /** When the last exploration ended (Operational entered from Exploring or InboundOk). */
  #exploredUntil = -Infinity;
  /** When the last probe of an exploration (or the transition probe to InboundOk) went out. */
  #lastStreamProbe = -Infinity;

  constructor(init: ReapContextInit) {
    if (!isContextTag(init.peerContextTag)) throw usage('peerContextTag must be a 47-bit bigint');
    if (init.localContextTag !== undefined && !isContextTag(init.localContextTag)) {
      throw usage('localContextTag must be a 47-bit bigint');
    }
    if (!Number.isFinite(init.now)) throw usage('now must be a finite number of milliseconds');
    this.#o = resolveOptions(init.options ?? {});
    this.#peerTag = init.peerContextTag;
    this.#localTag = init.localContextTag;
    this.#current = { local: init.current.local.slice(), peer: init.current.peer.slice() };
    this.#now = init.now;
    if (init.traffic) {
      this.#txCount = toBig(init.traffic.txPackets, 'txPackets');
      this.#rxCount = toBig(init.traffic.rxPackets, 'rxPackets');
      this.#lastTx = init.traffic.lastTx ?? -Infinity;
      this.#lastRx = init.traffic.lastRx ?? -Infinity;
    }
    this.#setLocators(init.locals, init.peers);
    this.#refreshStandby();
  }

  // ------------------------------------------------------------ queries

  get state(): ReapState {
    return this.#state;
  }

  /** The pair payload is sent on. */
  get current(): Pair {
    return this.#current;
  }

  /** Candidate pairs in exploration order (RFC 6724, then preferences). */
  get rankedPairs(): readonly Pair[] {
    return this.#ranked;
  }

  get sendTimeoutMs(): number {
    return this.#o.sendTimeout;
  }

  get peerKeepaliveTimeoutMs(): number {
    return this.#o.peerKeepaliveTimeout;
  }

  get hotStandby(): boolean {
    return this.#o.hotStandby;
  }

  /**
   * The Keepalive Timeout option to put in I2, I2bis, R2 or an Update Request
   * (RFC 5534 §5.3): present when our Send Timeout is not the default (then
   * the RFC says MUST), null otherwise.
   */
  keepaliveTimeoutOption(): KeepaliveTimeoutOption | null {
    if (this.#o.sendTimeout === DEFAULT_SEND_TIMEOUT_MS) return null;
    return this.#advertised();
  }

  /** When `tick` is next needed; Infinity when nothing is scheduled. */
  nextDeadline(): number {
    let d = Infinity;
    if (this.#state !== 'Exploring' && this.#sendTimer !== null) d = Math.min(d, this.#sendTimer);
    if (this.#state === 'Operational' && this.#ka) d = Math.min(d, this.#ka.next);
    if (this.#state !== 'Operational' && this.#probe) d = Math.min(d, this.#probe.next);
    for (const m of this.#monitors.values()) {
      if (m.pending) d = Math.min(d, m.pending.deadline);
      if (m.nextAt !== null) d = Math.min(d, m.nextAt);
    }
    return d;
  }

  /**
   * The hot-standby pair a failure would move payload to at once, and until
   * when (same clock as `now`) it counts as verified: what the agent stages
   * in the data plane so that a TCP retransmission can switch to it without
   * waiting for the agent. Null unless hot standby is on, the context is
   * Operational and the standby answered its verification recently.
   */
  stagedStandby(): { pair: Pair; validUntil: number } | null {
    if (!this.#o.hotStandby || this.#state !== 'Operational') return null;
    const s = this.#freshStandby();
    if (!s) return null;
    const m = this.#monitors.get(pairKey(s));
    if (!m || m.lastOk === null) return null;
    // While a verification is out, the pair counts only until its answer is overdue.
    const until = m.pending ? Math.min(m.lastOk + this.#freshFor(), m.pending.sentAt + this.#answerDue(m)) : m.lastOk + this.#freshFor();
    return { pair: s, validUntil: until };
  }

  snapshot(): ReapSnapshot {
    return {
      state: this.#state,
      current: this.#current,
      sendTimer: this.#sendTimer,
      keepalive: this.#ka ? { next: this.#ka.next, expires: this.#ka.expires, interval: this.#ka.interval } : null,
      probe: this.#probe ? { count: this.#probe.count, next: this.#probe.next } : null,
      standby: this.#o.hotStandby ? this.#standby : null,
      failbackTarget: this.#failbackTarget,
      nextDeadline: this.nextDeadline(),
    };
  }

  // ------------------------------------------------------------ inputs

  /**
   * Traffic facts sampled from the data plane. Payload sent / received since
   * the previous sample are derived from the counters and stamps and applied
   * in stamp order (a receive stamped at the same time as a send counts as
   * the later one).
   */
  observe(now: number, sample: TrafficSample): ReapAction[] {
    return this.#run(now, () => {
      const tx = toBig(sample.txPackets, 'txPackets');
      const rx = toBig(sample.rxPackets, 'rxPackets');
      if (tx < this.#txCount || rx < this.#rxCount) {
        // Counters went back (data-plane entry re-created): new baseline, no event.
        this.#txCount = tx;
        this.#rxCount = rx;
        this.#lastTx = sample.lastTx ?? -Infinity;
        this.#lastRx = sample.lastRx ?? -Infinity;
        return;
      }
      const txNew = tx > this.#txCount || (sample.lastTx !== undefined && sample.lastTx > this.#lastTx);
      const rxNew = rx > this.#rxCount || (sample.lastRx !== undefined && sample.lastRx > this.#lastRx);
      this.#txCount = tx;
      this.#rxCount = rx;
      const txAt = txNew ? Math.min(sample.lastTx ?? this.#now, this.#now) : -Infinity;
      const rxAt = rxNew ? Math.min(sample.lastRx ?? this.#now, this.#now) : -Infinity;
      if (txNew) this.#lastTx = Math.max(this.#lastTx, sample.lastTx ?? this.#now);
      if (rxNew) this.#lastRx = Math.max(this.#lastRx, sample.lastRx ?? this.#now);
      if (txNew && rxNew && rxAt < txAt) {
        this.#rxPayload(rxAt);
        this.#txPayload(txAt);
      } else {
        if (txNew) this.#txPayload(txAt);
        if (rxNew) this.#rxPayload(rxAt);
      }
    });
  }

  /** We sent a Shim6 control message other than Keepalive/Probe: a payload send (§4.1). */
  controlSent(now: number): ReapAction[] {
    return this.#run(now, () => this.#txPayload(this.#now));
  }

  /**
   * A control message from the peer, decoded, with the addresses it arrived
   * on. Keepalive and Probe drive the state machine; any other message counts
   * as payload received (RFC 5534 §6.1) and its Keepalive Timeout option, if
   * any, is adopted (§5.3).
   */
  receive(now: number, msg: Shim6Message, via: Arrival): ReapAction[] {
    return this.#run(now, () => {
      if ((msg.kind === 'Keepalive' || msg.kind === 'Probe' || msg.kind === 'UpdateRequest' || msg.kind === 'UpdateAck') &&
        this.#localTag !== undefined && msg.receiverContextTag !== this.#localTag) {
        return;
      }
      if (msg.kind !== 'Error') {
        const kt = findOption(msg.options, 'KeepaliveTimeout');
        if (kt && kt.timeout > 0) this.#setPeerKeepaliveTimeout(kt.timeout * 1000);
      }
      if (msg.kind === 'Keepalive') this.#rxKeepalive(via);
      else if (msg.kind === 'Probe') this.#rxProbe(msg, via);
      else this.#rxPayload(this.#now);
    });
  }

  /**
   * Negative feedback (SHIM_FEEDBACK from an application, a TCP RTO):
   * explore now. In InboundOk (the peer reaches us, our packets evidently do
   * not reach it) the next probe of the exploration goes out now instead of
   * at its retransmission time, at most one per FEEDBACK_PROBE_GAP_MS; in
   * Exploring it changes nothing.
   */
  feedback(now: number, _kind: FeedbackKind): ReapAction[] {
    return this.#run(now, () => {
      if (this.#state === 'Operational') this.#enterExploring('feedback');
      else if (this.#state === 'InboundOk' && this.#probe && this.#now - this.#lastStreamProbe >= FEEDBACK_PROBE_GAP_MS) this.#retransmit();
    });
  }

  /** Run the timers due at `now`. */
  tick(now: number): ReapAction[] {
    return this.#run(now, () => {
      if (this.#state !== 'Exploring' && this.#sendTimer !== null && this.#sendTimer <= this.#now) {
        this.#sendTimer = null;
        this.#sendTimerExpired();
      }
      if (this.#state === 'Operational') this.#keepaliveTimer();
      if (this.#state !== 'Operational' && this.#probe && this.#probe.next <= this.#now) this.#retransmit();
      this.#monitorTimers();
    });
  }

  /**
   * Change our Send Timeout (SHIM_APP_TIMEOUT / pe_keepaliveto). Returns the
   * Keepalive Timeout option to advertise in an Update Request. A running
   * Send Timer keeps its deadline; the next one uses the new value.
   */
  setSendTimeout(now: number, ms: number): ReapAction[] {
    checkSendTimeout('send timeout', ms);
    return this.#run(now, () => {
      if (ms === this.#o.sendTimeout) return;
      this.#o.sendTimeout = ms;
      this.#out.push({ type: 'advertise-keepalive-timeout', option: this.#advertised() });
    });
  }

  /** The peer's Keepalive Timeout option value, in ms (also taken from received messages). */
  setPeerKeepaliveTimeout(now: number, ms: number): ReapAction[] {
    checkSendTimeout('peer keepalive timeout', ms);
    return this.#run(now, () => this.#setPeerKeepaliveTimeout(ms));
  }

  setHotStandby(now: number, on: boolean): ReapAction[] {
    return this.#run(now, () => {
      this.#o.hotStandby = on;
      this.#standbySkip = 0;
      this.#refreshStandby();
    });
  }

  /**
   * New locator sets (addresses, preferences, verification). If the current
   * pair is no longer usable, exploration starts at once when the context is
   * active, or on the next payload send when it is idle.
   */
  locatorsChanged(now: number, locals: readonly LocalLocator[], peers: readonly PeerLocator[]): ReapAction[] {
    return this.#run(now, () => {
      this.#setLocators(locals, peers);
      this.#standbySkip = 0;
      this.#refreshStandby();
      if (this.#state === 'Operational' && !this.#isCandidate(this.#current)) {
        if (this.#active()) this.#enterExploring('locator-lost');
        else this.#pendingExplore = true;
      } else if (this.#isCandidate(this.#current)) {
        this.#pendingExplore = false;
      }
    });
  }

  // ------------------------------------------------------------ plumbing

  #run(now: number, body: () => void): ReapAction[] {
    if (typeof now !== 'number' || Number.isNaN(now)) throw usage('now must be a number of milliseconds');
    // Time never goes back for the state machine.
    this.#now = Math.max(this.#now, now);
    const out: ReapAction[] = [];
    this.#out = out;
    body();
    this.#syncMonitors();
    this.#out = [];
    return out;
  }

  #setLocators(locals: readonly LocalLocator[], peers: readonly PeerLocator[]): void {
    this.#ranked = orderPairs(locals, peers, this.#o.pairOrder).map((p) => ({ local: p.local.slice(), peer: p.peer.slice() }));
    this.#rank = new Map(this.#ranked.map((p, i) => [pairKey(p), i]));
  }

  #isCandidate(p: Pair): boolean {
    return this.#rank.has(pairKey(p));
  }

  #jittered(ms: number): number {
    return ms * (1 - this.#o.jitter * this.#o.random());
  }

  #startSendTimer(at: number): void {
    // A send sampled late may predate the current state (sent while exploring,
    // on a pair since abandoned): its answer was never due, so the timer runs
    // from the transition.
    this.#sendTimer = Math.max(at, this.#stateSince) + this.#jittered(this.#o.sendTimeout);
  }

  #startKeepaliveTimer(at: number): void {
    const kt = this.#o.peerKeepaliveTimeout;
    const interval = this.#jittered(kt * this.#o.keepaliveFraction);
    this.#ka = { start: at, interval, expires: at + kt, next: Math.min(at + interval, at + kt) };
  }

  #setPeerKeepaliveTimeout(ms: number): void {
    this.#o.peerKeepaliveTimeout = ms;
    const ka = this.#ka;
    if (ka) {
      ka.interval = this.#jittered(ms * this.#o.keepaliveFraction);
      ka.expires = ka.start + ms;
      ka.next = Math.min(ka.next, this.#now + ka.interval, ka.expires);
    }
  }

  #advertised(): KeepaliveTimeoutOption {
    // Whole seconds, rounded down: the peer then keeps alive a little early, never late.
    return { kind: 'KeepaliveTimeout', timeout: Math.max(1, Math.floor(this.#o.sendTimeout / 1000)) };
  }

  /** How long after its last answer a standby still counts as verified. */
  #freshFor(): number {
    return 2 * this.#verifyInterval() + this.#o.verifyTimeout;
  }

  #verifyInterval(): number {
    return this.#o.verifyInterval ?? this.#o.sendTimeout / 2;
  }

  #idleAfter(): number {
    return this.#o.idleAfter ?? 2 * this.#o.sendTimeout;
  }

  #active(): boolean {
    return this.#now - this.#lastActivity < this.#idleAfter();
  }

  #setState(to: ReapState): void {
    const from = this.#state;
    if (from === to) return;
    this.#state = to;
    this.#stateSince = this.#now;
    this.#out.push({ type: 'state', from, to });
    if (to === 'Operational') {
      this.#exploredUntil = this.#now;
      this.#probe = null;
      this.#replies = null; // the exploration is over: the next one answers back along its path first
      if (this.#failed) {
        this.#failed = false;
        this.#out.push({ type: 'path-recovered' });
      }
    } else {
      // Verification probes run only in Operational.
      for (const m of this.#monitors.values()) {
        m.nextAt = null;
        m.pending = null;
      }
    }
  }

  /**
   * A new exploration round: forget the reports of the previous one, and
   * which paths our answers went on (a path that lost answers in an earlier
   * round says nothing about this one).
   */
  #newRound(): void {
    this.#sent = [];
    this.#recvd = [];
    this.#replies = null;
  }

  // ------------------------------------------------------------ RFC 5534 §6 rows

  /** §6.1 Incoming payload packet (and control messages other than Keepalive/Probe). */
  #rxPayload(at: number): void {
    this.#lastActivity = Math.max(this.#lastActivity, at);
    switch (this.#state) {
      case 'Operational':
        this.#sendTimer = null; // STOP Send
        if (!this.#ka) this.#startKeepaliveTimer(at); // START Keepalive
        break;
      case 'Exploring':
        this.#enterInboundOk(null); // SEND Probe InboundOk, START Send, GOTO InboundOk
        break;
      case 'InboundOk':
        this.#sendTimer = null; // STOP Send
        break;
    }
  }

  /** §6.2 Outgoing payload packet. */
  #txPayload(at: number): void {
    this.#lastActivity = Math.max(this.#lastActivity, at);
    switch (this.#state) {
      case 'Operational':
        if (this.#pendingExplore) {
          this.#enterExploring('locator-lost');
          return;
        }
        this.#ka = null; // STOP Keepalive
        if (this.#sendTimer === null) this.#startSendTimer(at); // START Send
        break;
      case 'Exploring':
        break; // no effect
      case 'InboundOk':
        if (this.#sendTimer === null) this.#startSendTimer(at); // START Send
        break;
    }
  }

  /**
   * §4.1 item 5 and §6.3: while the Keepalive Timer runs, a Keepalive every
   * Keepalive Interval; when it expires, one last Keepalive. Operational only.
   */
  #keepaliveTimer(): void {
    const ka = this.#ka;
    if (!ka || ka.next > this.#now) return;
    this.#sendKeepalive();
    if (this.#now >= ka.expires) {
      this.#ka = null;
      return;
    }
    let next = ka.next + ka.interval;
    while (next <= this.#now) next += ka.interval; // a late tick sends one keepalive, not a burst
    ka.next = Math.min(next, ka.expires);
  }

  /** §6.4 Send Timeout (Operational, InboundOk): SEND Probe Exploring, GOTO Exploring. */
  #sendTimerExpired(): void {
    this.#enterExploring('send-timeout');
  }

  /** §6.5 Retransmission: Exploring → Probe Exploring; InboundOk → Probe InboundOk, START Send. */
  #retransmit(): void {
    this.#streamProbe();
    if (this.#state === 'InboundOk' && this.#sendTimer === null) this.#startSendTimer(this.#now);
  }

  /** §6.6 Reception of the Keepalive message. */
  #rxKeepalive(via: Arrival): void {
    switch (this.#state) {
      case 'Operational':
      case 'InboundOk':
        this.#sendTimer = null; // STOP Send
        break;
      case 'Exploring':
        this.#enterInboundOk(this.#replyPair(via)); // SEND Probe InboundOk, START Send, GOTO InboundOk
        break;
    }
  }

  #rxProbe(msg: ProbeMessage, via: Arrival): void {
    const first = msg.sent[0];
    if (msg.state === ProbeState.Operational && first.data === PROBE_DATA_VERIFY && msg.received.length === 0) {
      this.#answerVerify(msg, via);
      return;
    }
    if (msg.state === ProbeState.Operational && first.data === PROBE_DATA_VERIFY_REPLY) {
      this.#verifyAnswered(msg);
      return;
    }
    if (msg.state === ProbeState.Exploring) this.#rxProbeExploring(msg, via);
    else if (msg.state === ProbeState.InboundOk) this.#rxProbeInboundOk(msg, via);
    else this.#rxProbeOperational(msg, via);
  }

  /** §6.7 Reception of the Probe message State=Exploring. */
  #rxProbeExploring(msg: ProbeMessage, via: Arrival): void {
    if (this.#state === 'Operational') this.#newRound();
    this.#record(msg, via);
    this.#processReports(msg);
    switch (this.#state) {
      case 'Operational': // SEND Probe InboundOk, STOP Keepalive, RESTART Send, GOTO InboundOk
      case 'Exploring': // SEND Probe InboundOk, START Send, GOTO InboundOk
        this.#enterInboundOk(this.#replyPair(via));
        break;
      case 'InboundOk': {
        // SEND Probe InboundOk, RESTART Send
        const pair = this.#replyPair(via);
        if (pair) this.#sendProbe(pair, ProbeState.InboundOk, 'reply');
        this.#startSendTimer(this.#now);
        break;
      }
    }
  }

  /**
   * §6.8 Reception of the Probe message State=InboundOk: SEND Probe
   * Operational, RESTART Send, STOP Keepalive, GOTO Operational, and choose
   * the current pair from the received-probe reports of this message.
   */
  #rxProbeInboundOk(msg: ProbeMessage, via: Arrival): void {
    this.#record(msg, via);
    const confirmed = this.#processReports(msg);
    this.#ka = null;
    this.#setState('Operational');
    // Answer on a pair the reports just proved to work from us to the peer
    // (the new current pair); without one, back along the probe's path.
    const proven = this.#chooseFrom(confirmed);
    this.#startSendTimer(this.#now);
    const pair = proven ?? this.#replyPair(via);
    if (pair) this.#sendProbe(pair, ProbeState.Operational, 'reply');
  }

  /**
   * §6.9 Reception of the Probe message State=Operational: STOP Send, START
   * Keepalive, GOTO Operational (no reply: this ends the exploration). When
   * it ends our exploration, its reports choose the current pair as in §6.8
   * (RFC 5534 Appendix A, example 4).
   */
  #rxProbeOperational(msg: ProbeMessage, via: Arrival): void {
    this.#record(msg, via);
    const confirmed = this.#processReports(msg);
    const wasOperational = this.#state === 'Operational';
    this.#sendTimer = null;
    this.#setState('Operational');
    if (!this.#ka) this.#startKeepaliveTimer(this.#now);
    // The peer's answer to the probe that ended our exploration (§6.8) may
    // come after it: within one Initial Probe Timeout it still belongs to
    // that exploration, and its reports choose the pair as if it had ended it.
    if (!wasOperational || this.#now - this.#exploredUntil <= this.#o.initialProbeTimeout) this.#chooseFrom(confirmed);
  }

  // ------------------------------------------------------------ exploration

  #enterExploring(reason: 'send-timeout' | 'feedback' | 'locator-lost'): void {
    const from = this.#state;
    if (from === 'Exploring') return;
    if (from === 'Operational') this.#newRound();
    // Received reports are those "since the last transition to Exploring" (§5.2).
    this.#recvd = [];
    this.#pendingExplore = false;
    // Before leaving Operational, which drops the verifications in flight.
    const standby = this.#o.hotStandby ? this.#freshStandby() : null;
    this.#setState('Exploring');
    this.#sendTimer = null;
    this.#ka = null;
    if (!this.#failed) {
      this.#failed = true;
      this.#out.push({ type: 'path-failed', reason });
    }
    if (standby) this.#switchTo(standby, 'hot-standby');
    // The current pair is the one that failed, unless we just moved to the
    // verified standby: then the alternate least likely to share its fate is
    // tried first, and the peer is led there by the first probe.
    this.#currentFirst = standby !== null;
    this.#probe = { count: 0, next: this.#now, capped: false };
    this.#cursor = 0;
    this.#streamProbe();
  }

  /** To InboundOk, sending the transition probe on `replyPair` (or the next pair to explore). */
  #enterInboundOk(replyPair: Pair | null): void {
    this.#setState('InboundOk');
    this.#ka = null;
    this.#startSendTimer(this.#now);
    this.#probe = { count: 0, next: this.#now, capped: false };
    this.#cursor = 0;
    this.#currentFirst = true;
    if (replyPair) {
      this.#sendProbe(replyPair, ProbeState.InboundOk, 'reply');
      this.#lastStreamProbe = this.#now;
      this.#probe.count = 1;
      this.#probe.next = this.#now + this.#probeInterval(1);
    } else {
      this.#streamProbe();
    }
  }

  /**
   * Interval after the k-th probe of an exploration (1-based): the Initial
   * Probe Timeout for the Number of Initial Probes, then multiplied by the
   * back-off factor for each further probe, capped at Max Probe Timeout.
   * Defaults: probes at 0, 0.5, 1, 1.5, 2, 3, 5, 9, 17, 33, 65 s, then every 60 s.
   */
  #probeInterval(k: number): number {
    const o = this.#o;
    if (k <= o.initialProbes) return o.initialProbeTimeout;
    return Math.min(o.initialProbeTimeout * o.backoff ** (k - o.initialProbes), o.maxProbeTimeout);
  }

  /** One probe of the exploration stream on the next pair in order, then schedule the next. */
  #streamProbe(): void {
    const p = this.#probe;
    if (!p) return;
    const pair = this.#nextExplorePair();
    if (pair) this.#sendProbe(pair, STA[this.#state], 'explore');
    this.#lastStreamProbe = this.#now;
    p.count++;
    const iv = this.#probeInterval(p.count);
    p.next = this.#now + iv;
    if (iv >= this.#o.maxProbeTimeout && !p.capped) {
      p.capped = true;
      this.#out.push({ type: 'gc-hint' });
    }
  }

  /**
   * Pairs are tried sequentially (§4.3): the current pair first, then the
   * ranked list, cycling. Within the ranked list, pairs that share no
   * prefix with the current pair come first (a local preference, §4.3 step
   * 3): when the current pair failed, a pair through the same uplink or to
   * the same peer network is the likeliest to have failed with it.
   */
  #nextExplorePair(): Pair | null {
    const seq: Pair[] = [];
    for (const p of disjointFirst(this.#ranked, this.#current)) if (!samePair(p, this.#current)) seq.push(p);
    if (this.#isCandidate(this.#current)) seq.splice(this.#currentFirst ? 0 : Math.min(1, seq.length), 0, this.#current);
    if (seq.length === 0) return null;
    const pair = seq[this.#cursor % seq.length];
    this.#cursor++;
    return pair;
  }

  /** The reverse of the pair a message arrived on, if we may send on it. */
  #reverse(via: Arrival): Pair | null {
    const p: Pair = { local: via.dst, peer: via.src };
    return this.#isCandidate(p) ? p : null;
  }

  /**
   * Where to answer a probe or keepalive: back along its path first
   * (Appendix A, examples 4 and 5), then the current pair, then the ranked
   * pairs. When the peer keeps arriving on the same path, our earlier answers
   * there were evidently lost, so each further answer moves one step down
   * that list: a dead reverse path cannot stall the handshake.
   */
  #replyPair(via: Arrival): Pair | null {
    const back = this.#reverse(via);
    const seq: Pair[] = [];
    if (back) seq.push(back);
    if (this.#isCandidate(this.#current) && !(back && samePair(back, this.#current))) seq.push(this.#current);
    for (const p of this.#ranked) if (!seq.some((q) => samePair(p, q))) seq.push(p);
    if (seq.length === 0) return null;
    const key = pairKey({ local: via.dst, peer: via.src });
    const r = this.#replies;
    if (r && r.key === key) r.n++;
    else this.#replies = { key, n: 0 };
    return seq[(this.#replies?.n ?? 0) % seq.length];
  }

  #sendProbe(pair: Pair, sta: ProbeStateValue, purpose: ProbePurpose): void {
    const rec: SentProbe = { src: pair.local, dst: pair.peer, nonce: this.#o.nonce() >>> 0, data: PROBE_DATA_EXPLORE, acked: false };
    const sent: ProbeReport[] = [{ src: rec.src, dst: rec.dst, nonce: rec.nonce, data: rec.data }];
    for (let i = this.#sent.length - 1; i >= 0 && sent.length < this.#o.maxSent; i--) {
      const s = this.#sent[i];
      if (!s.acked) sent.push({ src: s.src, dst: s.dst, nonce: s.nonce, data: s.data });
    }
    const received: ProbeReport[] = [];
    for (let i = this.#recvd.length - 1; i >= 0 && received.length < this.#o.maxReceived; i--) {
      received.push(this.#recvd[i].report);
    }
    this.#sent.push(rec);
    if (this.#sent.length > SENT_PROBE_MEMORY) this.#sent.shift();
    const bytes = encode({ kind: 'Probe', receiverContextTag: this.#peerTag, state: sta, sent, received });
    this.#out.push({ type: 'send-probe', src: pair.local, dst: pair.peer, bytes, sta, purpose });
  }

  #sendKeepalive(): void {
    const bytes = encode({ kind: 'Keepalive', receiverContextTag: this.#peerTag });
    this.#out.push({ type: 'send-keepalive', src: this.#current.local, dst: this.#current.peer, bytes });
  }

  /** Keep a copy of the peer's probe (its first sent record) for our received reports. */
  #record(msg: ProbeMessage, via: Arrival): void {
    const r = msg.sent[0];
    if (this.#recvd.some((x) => x.report.nonce === r.nonce && addrEqual(x.report.src, r.src) && addrEqual(x.report.dst, r.dst))) return;
    this.#recvd.push({ report: copyReport(r), arrival: { src: via.src.slice(), dst: via.dst.slice() } });
    if (this.#recvd.length > DEFAULT_MAX_RECEIVED_REPORTS) this.#recvd.shift();
  }

  /**
   * Match the peer's received-probe reports against the probes we sent this
   * round: each match proves that pair works from us to the peer (and the
   * message carrying it proves the peer reaches us).
   */
  #processReports(msg: ProbeMessage): Pair[] {
    const out: Pair[] = [];
    for (const r of msg.received) {
      for (const s of this.#sent) {
        if (s.nonce === r.nonce && addrEqual(s.src, r.src) && addrEqual(s.dst, r.dst)) {
          s.acked = true;
          if (!out.some((p) => addrEqual(p.local, s.src) && addrEqual(p.peer, s.dst))) out.push({ local: s.src, peer: s.dst });
          break;
        }
      }
    }
    return out;
  }

  /**
   * Choose the current pair among confirmed ones: pairs whose reverse also
   * carried a probe to us this round (proven both ways) first, then the
   * current pair, then the ranking. A current pair confirmed one way only
   * gives way to one proven both ways: its confirmation may be a probe sent
   * before the rest of its path failed (a path breaking one direction after
   * the other). Returns the (possibly unchanged) current pair when a
   * confirmed one was found, null when the pair stays unconfirmed.
   */
  #chooseFrom(confirmed: Pair[]): Pair | null {
    const usable = confirmed.filter((p) => this.#isCandidate(p));
    if (usable.length === 0) return null;
    const both = (p: Pair): number =>
      this.#recvd.some((r) => addrEqual(r.arrival.src, p.peer) && addrEqual(r.arrival.dst, p.local)) ? 0 : 1;
    const cur = (p: Pair): number => (samePair(p, this.#current) ? 0 : 1);
    usable.sort((a, b) => both(a) - both(b) || cur(a) - cur(b) || (this.#rank.get(pairKey(a)) ?? 0) - (this.#rank.get(pairKey(b)) ?? 0));
    this.#switchTo(usable[0], 'exploration');
    return this.#current;
  }

  #switchTo(pair: Pair, reason: 'exploration' | 'hot-standby' | 'failback'): void {
    if (samePair(pair, this.#current)) return;
    const old = this.#current;
    // The pair left behind is the one to return to, even when it left
    // because a locator went away (link down): it is verified again, and
    // returned to, once it is a candidate again (#syncMonitors).
    if (reason !== 'failback' && this.#o.failback && this.#failbackTarget === null) {
      this.#failbackTarget = old;
    }
    if (this.#failbackTarget && samePair(this.#failbackTarget, pair)) this.#failbackTarget = null;
    this.#current = { local: pair.local.slice(), peer: pair.peer.slice() };
    this.#out.push({ type: 'switch-pair', local: this.#current.local, peer: this.#current.peer, reason });
    this.#standbySkip = 0;
    this.#refreshStandby();
  }

  // ------------------------------------------------------------ hot standby, fail-back

  /** The alternate pair to keep verified: differing in both locators if possible, then by rank. */
  #refreshStandby(): void {
    if (!this.#o.hotStandby) {
      this.#standby = null;
      return;
    }
    const cur = this.#current;
    const alts = disjointFirst(this.#ranked, cur).filter((p) => !samePair(p, cur));
    this.#standby = alts.length > 0 ? alts[this.#standbySkip % alts.length] : null;
  }

  #freshStandby(): Pair | null {
    const s = this.#standby;
    if (!s) return null;
    const m = this.#monitors.get(pairKey(s));
    if (!m || m.lastOk === null || m.streakStart === null) return null;
    if (this.#now - m.lastOk > this.#freshFor()) return null;
    if (m.pending && this.#now > m.pending.sentAt + this.#answerDue(m)) return null;
    return this.#isCandidate(s) ? s : null;
  }

  /**
   * How long a verification's answer may take before the pair stops counting
   * as verified: four round trips of the last answer, at least
   * STANDBY_ANSWER_MIN_MS, at most the verification timeout. A standby whose
   * path broke after its last answer then stops being used within a few
   * round trips of the next verification, not seconds later.
   */
  #answerDue(m: Monitor): number {
    return Math.min(this.#o.verifyTimeout, Math.max(STANDBY_ANSWER_MIN_MS, 4 * (m.rtt ?? this.#o.verifyTimeout)));
  }

  /** Make the monitor set match the standby and fail-back target; arm them when useful. */
  #syncMonitors(): void {
    const want = new Map<string, Pair>();
    if (this.#o.hotStandby && this.#standby) want.set(pairKey(this.#standby), this.#standby);
    const fb = this.#failbackTarget;
    if (fb && !samePair(fb, this.#current) && this.#isCandidate(fb)) want.set(pairKey(fb), fb);
    for (const k of this.#monitors.keys()) if (!want.has(k)) this.#monitors.delete(k);
    const armed = this.#state === 'Operational' && this.#active();
    for (const [k, pair] of want) {
      let m = this.#monitors.get(k);
      if (!m) {
        m = { pair, key: k, nextAt: null, pending: null, streakStart: null, lastOk: null, misses: 0, rtt: null };
        this.#monitors.set(k, m);
      }
      if (armed && m.nextAt === null) {
        // A standby is verified at once (unless the previous one just failed);
        // the pair we just left is given one interval to heal.
        const isStandby = this.#standby !== null && samePair(pair, this.#standby);
        m.nextAt = isStandby ? Math.max(this.#now, this.#standbyHold) : this.#now + this.#verifyInterval();
      }
    }
  }

  #monitorTimers(): void {
    let rotate = false;
    for (const m of this.#monitors.values()) {
      if (m.pending && m.pending.deadline <= this.#now) {
        m.pending = null;
        m.streakStart = null;
        m.misses++;
        if (this.#standby && samePair(m.pair, this.#standby)) rotate = true;
      }
      if (m.nextAt !== null && m.nextAt <= this.#now) {
        if (this.#state === 'Operational' && this.#active()) {
          this.#sendVerify(m);
          const backoff = Math.min(this.#verifyInterval() * this.#o.backoff ** m.misses, this.#o.maxProbeTimeout);
          m.nextAt = this.#now + Math.max(backoff, this.#verifyInterval());
        } else {
          m.nextAt = null; // idle: sleep until traffic re-arms it
        }
      }
    }
    if (rotate) {
      // The standby did not answer: try the next alternate, one verification
      // interval later, backing off while none answers.
      this.#standbyHold = this.#now + Math.min(this.#verifyInterval() * this.#o.backoff ** this.#standbyMisses, this.#o.maxProbeTimeout);
      this.#standbyMisses++;
      this.#standbySkip++;
      this.#refreshStandby();
    }
  }

  #sendVerify(m: Monitor): void {
    if (m.pending) m.streakStart = null; // the previous one is still unanswered
    const nonce = this.#o.nonce() >>> 0;
    const bytes = encode({
      kind: 'Probe',
      receiverContextTag: this.#peerTag,
      state: ProbeState.Operational,
      sent: [{ src: m.pair.local, dst: m.pair.peer, nonce, data: PROBE_DATA_VERIFY }],
      received: [],
    });
    const timeout = Math.min(this.#o.verifyTimeout, this.#verifyInterval());
    m.pending = { nonce, sentAt: this.#now, deadline: this.#now + timeout };
    this.#out.push({ type: 'send-probe', src: m.pair.local, dst: m.pair.peer, bytes, sta: ProbeState.Operational, purpose: 'verify' });
  }

  /** The peer checks a pair in advance: answer along the reverse path; no state change. */
  #answerVerify(msg: ProbeMessage, via: Arrival): void {
    if (this.#state !== 'Operational') return;
    const back = this.#reverse(via);
    if (!back) return;
    const bytes = encode({
      kind: 'Probe',
      receiverContextTag: this.#peerTag,
      state: ProbeState.Operational,
      sent: [{ src: back.local, dst: back.peer, nonce: this.#o.nonce() >>> 0, data: PROBE_DATA_VERIFY_REPLY }],
      received: [copyReport(msg.sent[0])],
    });
    this.#out.push({ type: 'send-probe', src: back.local, dst: back.peer, bytes, sta: ProbeState.Operational, purpose: 'verify-reply' });
  }

  /** An answer to one of our verification probes: the pair works both ways. No state change. */
  #verifyAnswered(msg: ProbeMessage): void {
    for (const r of msg.received) {
      for (const m of this.#monitors.values()) {
        const p = m.pending;
        if (!p || p.nonce !== r.nonce || !addrEqual(m.pair.local, r.src) || !addrEqual(m.pair.peer, r.dst)) continue;
        m.pending = null;
        m.lastOk = this.#now;
        m.rtt = this.#now - p.sentAt;
        if (this.#standby && samePair(m.pair, this.#standby)) this.#standbyMisses = 0;
        if (m.misses > 0) {
          // Back to the base rate to measure the hold time.
          m.misses = 0;
          if (m.nextAt !== null) m.nextAt = Math.min(m.nextAt, this.#now + this.#verifyInterval());
        }
        if (m.streakStart === null) m.streakStart = p.sentAt;
        const fb = this.#failbackTarget;
        if (
          fb && samePair(fb, m.pair) && this.#state === 'Operational' &&
          this.#now - m.streakStart >= this.#o.failbackHold && this.#isCandidate(fb)
        ) {
          this.#switchTo(fb, 'failback');
        }
        return;
      }
    }
  }
}
