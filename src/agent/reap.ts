// REAP in the agent: one ReapContext per data-plane context, driven by the
// data plane's per-context counters and stamps (sampled, never per packet),
// by the Keepalives and Probes the context core hands over, and by one
// timer shared with the core. Its decisions come back as callbacks: send a
// message, move a context to another pair.
import { ReapContext, ReapScheduler, type ReapAction, type ReapOptions, type ReapState, type TrafficSample } from '../reap/index.js';
import type { LocalLocator as ReapLocal, PeerLocator as ReapPeer, Pair } from '../reap/index.js';
import type { ContextSnapshot, LocalLocatorSet } from '../context/index.js';
import type { KeepaliveMessage, ProbeMessage } from '../wire/index.js';
import { formatIpv6 } from '../wire/index.js';
import type { AppPrefs } from './api-backend.js';

export interface ReapConfig {
  /** Send Timeout (RFC 5534 §7, default 15 s). */
  readonly sendTimeoutMs?: number;
  readonly hotStandby?: boolean;
  readonly failback?: boolean;
  readonly failbackHoldMs?: number;
  /** How often active contexts' counters are read (ms). */
  readonly sampleMs: number;
  /**
   * How often every context's counters are read, idle ones included (ms,
   * default 2000): what notices an idle context becoming active. Timers
   * started by what it finds run from the data plane's stamps, so a late
   * sample delays nothing but the start of verification probes.
   */
  readonly idleSampleMs?: number;
}

/** Default ReapConfig.idleSampleMs. */
export const IDLE_SAMPLE_MS = 2000;

export interface ReapHooks {
  send(src: Uint8Array, dst: Uint8Array, bytes: Uint8Array, kind: 'Probe' | 'Keepalive', ct: bigint): void;
  /** Move the context's payload to this pair (REAP verified it). */
  switchPair(ct: bigint, pair: Pair, reason: string): void;
  /** Fresh counters of a context (null when the data plane has none). */
  sample(ct: bigint): TrafficSample | null;
  /** A failover completed: detection to switch, the pause since the last payload received (when known), probes sent. */
  failover?(ct: bigint, f: { detectToSwitchMs: number; outageMs: number | null; probes: number; reason: string }): void;
  /**
   * Every context whose counters changed since the last call, with its
   * fresh counters (one batched read of the data plane for all of them).
   * Without it, each sampling round reads every context with `sample`.
   */
  changed?(): Iterable<[bigint, TrafficSample]>;
  log(level: 'debug' | 'info' | 'warn', fields: Record<string, unknown>, msg: string): void;
  /** REAP found the path broken / working again (for API subscribers). */
  pathEvent?(ct: bigint, type: 'path-failed' | 'path-recovered'): void;
  /**
   * The hot-standby pair the data plane may switch to by itself (at a TCP
   * retransmission) changed: stage it, valid until `validUntil` (ms, the
   * data plane's clock), or withdraw it (null).
   */
  stage?(ct: bigint, staged: { pair: Pair; validUntil: number } | null): void;
}

export interface ReapView {
  state: ReapState;
  current: { local: string; peer: string };
  standby: { local: string; peer: string } | null;
  failbackTarget: { local: string; peer: string } | null;
  sendTimeoutMs: number;
  hotStandby: boolean;
  lastSwitch: { atMonoMs: number; reason: string; to: { local: string; peer: string } } | null;
  failures: number;
  probesSent: number;
  probesReceived: number;
  keepalivesSent: number;
  history: Array<{ atMonoMs: number; event: string; detail?: string }>;
}

interface Entry {
  ctx: ReapContext;
  ctPeer: bigint;
  lastSwitch: ReapView['lastSwitch'];
  /** The open failure (path-failed, not yet switched): when, probes sent until then, when REAP called it recovered. */
  failedAt?: { atMonoMs: number; probes: number; recoveredAt?: number };
  failures: number;
  probesSent: number;
  probesReceived: number;
  keepalivesSent: number;
  history: ReapView['history'];
  options: ReapOptions;
  /** What is staged in the data plane (pair and validity), '' for nothing. */
  staged: string;
}

const HISTORY = 16;

/** Application preferences supersede the peer's (RFC 6316 §11.1); a locator list restricts. */
function applyPrefs<T extends { addr: Uint8Array; priority?: number; weight?: number }>(list: T[], prefs: Map<string, { prio: number; weight: number }> | undefined, only: Set<string> | null): T[] {
  return list
    .filter((l) => !only || only.has(Buffer.from(l.addr).toString('hex')))
    .map((l) => {
      const p = prefs?.get(Buffer.from(l.addr).toString('hex'));
      return p ? { ...l, priority: p.prio, weight: p.weight } : l;
    });
}
const pairText = (p: Pair): { local: string; peer: string } => ({ local: formatIpv6(p.local), peer: formatIpv6(p.peer) });
const hex = (b: Uint8Array): string => Buffer.from(b).toString('hex');

export class ReapDriver {
  readonly #sched = new ReapScheduler<bigint>();
  readonly #entries = new Map<bigint, Entry>();
  #lastSample = -Infinity;
  #lastFull = -Infinity;
  /** Contexts sampled every sampleMs: REAP has a deadline for them, or their counters moved lately (value: when). */
  readonly #hot = new Map<bigint, number>();
  /** Totals over every context ever run (for metrics). */
  readonly totals = { failures: 0, switches: {} as Record<string, number>, probesSent: 0, probesReceived: 0, keepalivesSent: 0 };

  constructor(private readonly cfg: ReapConfig, private readonly hooks: ReapHooks) {}

  get size(): number {
    return this.#entries.size;
  }

  /** Contexts, those sampled at the fast rate, and those with a REAP deadline. */
  load(): { contexts: number; hot: number; scheduled: number } {
    return { contexts: this.#entries.size, hot: this.#hot.size, scheduled: this.#sched.scheduled };
  }

  /** Earliest REAP deadline, or the next sampling round when contexts exist. */
  nextDeadline(): number {
    const d = this.#sched.nextDeadline();
    if (this.#entries.size === 0) return d;
    const full = this.#lastFull + this.#idleSampleMs();
    return Math.min(d, full, this.#hot.size > 0 ? this.#lastSample + this.cfg.sampleMs : Infinity);
  }

  #idleSampleMs(): number {
    return Math.max(this.cfg.sampleMs, this.cfg.idleSampleMs ?? IDLE_SAMPLE_MS);
  }

  /**
   * The local locators REAP may use for a context. Locators without a
   * verification method ('none': the uplinks' own addresses next to the
   * HBA set) are never announced, so the peer drops a probe from them
   * (unknown locator, answered with R1bis): they are candidates only as the
   * context's own ULID or current locator (`keep`).
   */
  static locals(set: LocalLocatorSet, keep: readonly Uint8Array[] = []): ReapLocal[] {
    const kept = new Set(keep.map(hex));
    return set.locators
      .filter((l) => l.method !== 'none' || kept.has(hex(l.addr)))
      .map((l) => ({ addr: l.addr, flags: l.flags ?? 0, priority: l.priority ?? 0, weight: l.weight ?? 0, deprecated: (l.priority ?? 0) > 0 }));
  }

  static peers(s: ContextSnapshot): ReapPeer[] {
    const out: ReapPeer[] = [];
    const seen = new Set<string>();
    for (const p of s.lsPeer) {
      if (p.verification === 'failed') continue;
      out.push({ addr: p.addr, verified: p.usable, flags: p.flags, priority: p.priority ?? 0, weight: p.weight ?? 0 });
      seen.add(hex(p.addr));
    }
    if (!seen.has(hex(s.ulidPeer))) out.unshift({ addr: s.ulidPeer, verified: true });
    return out;
  }

  /**
   * The core says this context is (still) ESTABLISHED with this state.
   * Creates its REAP context, or brings it up to date. When the core moved
   * the pair by itself (its local locator went away), REAP keeps its own
   * view: the lost pair is no longer a candidate, so REAP explores, switches
   * to a verified pair, and remembers the lost one for fail-back.
   */
  sync(now: number, s: ContextSnapshot, locals: LocalLocatorSet, app?: AppPrefs): void {
    if (s.ctLocal === null || s.ctPeer === null) return;
    const ct = s.ctLocal;
    const e = this.#entries.get(ct);
    const current = { local: s.lpLocal, peer: s.lpPeer };
    const ls = applyPrefs(ReapDriver.locals(locals, [s.ulidLocal, s.lpLocal]), app?.local, app?.localOnly ?? null);
    const ps = applyPrefs(ReapDriver.peers(s), app?.peer, app?.peerOnly ?? null);
    if (e && e.ctPeer === s.ctPeer) {
      this.#perform(ct, this.#sched.update(ct, (c) => c.locatorsChanged(now, ls, ps)));
      if (s.peerKeepaliveTimeout !== null && s.peerKeepaliveTimeout * 1000 !== e.ctx.peerKeepaliveTimeoutMs) {
        this.#perform(ct, this.#sched.update(ct, (c) => c.setPeerKeepaliveTimeout(now, s.peerKeepaliveTimeout! * 1000)));
      }
      // The core moved the pair by itself (a locator went away) while REAP
      // was idle; the locator is back before REAP explored: REAP's pair is a
      // candidate again and stays authoritative.
      const rc = e.ctx.current;
      const usable = (p: Pair): boolean => ls.some((l) => hex(l.addr) === hex(p.local)) && ps.some((q) => q.verified && hex(q.addr) === hex(p.peer));
      if ((hex(rc.local) !== hex(current.local) || hex(rc.peer) !== hex(current.peer)) && e.ctx.state === 'Operational' && usable(rc)) {
        this.#note(e, now, 'restore', `${formatIpv6(rc.local)} -> ${formatIpv6(rc.peer)}`);
        this.hooks.switchPair(ct, { local: rc.local, peer: rc.peer }, 'restore');
      }
      return;
    }
    const options: ReapOptions = e?.options ?? {
      ...(this.cfg.sendTimeoutMs !== undefined ? { sendTimeoutMs: this.cfg.sendTimeoutMs } : {}),
      ...(this.cfg.hotStandby !== undefined ? { hotStandby: this.cfg.hotStandby } : {}),
      ...(this.cfg.failback !== undefined ? { failback: this.cfg.failback } : {}),
      ...(this.cfg.failbackHoldMs !== undefined ? { failbackHoldMs: this.cfg.failbackHoldMs } : {}),
      ...(s.peerKeepaliveTimeout !== null ? { peerKeepaliveTimeoutMs: s.peerKeepaliveTimeout * 1000 } : {}),
    };
    const ctx = new ReapContext({
      peerContextTag: s.ctPeer,
      localContextTag: ct,
      current,
      locals: ls,
      peers: ps,
      now,
      traffic: this.hooks.sample(ct) ?? undefined,
      options,
    });
    if (e) this.#sched.remove(ct);
    this.#sched.add(ct, ctx);
    const entry: Entry = e ?? { ctx, ctPeer: s.ctPeer, lastSwitch: null, failures: 0, probesSent: 0, probesReceived: 0, keepalivesSent: 0, history: [], options, staged: '' };
    entry.ctx = ctx;
    entry.ctPeer = s.ctPeer;
    this.#entries.set(ct, entry);
    this.#hot.set(ct, now); // a new context is about to carry traffic
    this.#note(entry, now, e ? 'restarted' : 'started', `${formatIpv6(current.local)} -> ${formatIpv6(current.peer)}`);
  }

  remove(ct: bigint): void {
    const e = this.#entries.get(ct);
    this.#sched.remove(ct);
    this.#entries.delete(ct);
    this.#hot.delete(ct);
    if (e?.staged) this.hooks.stage?.(ct, null);
  }

  /**
   * The data plane moved the context to its staged standby pair by itself
   * (a TCP socket of the context retransmitted). REAP takes it as negative
   * feedback: from Operational it switches to the same pre-verified standby
   * and explores on it (RFC 5534 §4.2 feedback, hot standby).
   */
  dataplaneSwitched(now: number, ct: bigint, pair: Pair): boolean {
    const e = this.#entries.get(ct);
    if (!e) return false;
    e.staged = ''; // the data plane used it up
    this.#note(e, now, 'dataplane-standby', `${formatIpv6(pair.local)} -> ${formatIpv6(pair.peer)}`);
    this.#perform(ct, this.#sched.feedback(now, ct, 'tcp-rto'));
    return true;
  }

  has(ct: bigint): boolean {
    return this.#entries.has(ct);
  }

  /** A Keepalive or Probe for this context (from the core's reap-message action). */
  receive(now: number, ct: bigint, msg: KeepaliveMessage | ProbeMessage, via: { src: Uint8Array; dst: Uint8Array }): void {
    const e = this.#entries.get(ct);
    if (!e) return;
    if (msg.kind === 'Probe') {
      e.probesReceived++;
      this.totals.probesReceived++;
    }
    this.#perform(ct, this.#sched.receive(now, ct, msg, via));
  }

  /** Negative feedback (application, TCP RTO): explore now. */
  feedback(now: number, ct: bigint, kind: 'app' | 'tcp-rto'): boolean {
    const e = this.#entries.get(ct);
    if (!e) return false;
    if (e.ctx.state === 'Operational') this.#note(e, now, 'feedback', kind);
    this.#perform(ct, this.#sched.feedback(now, ct, kind));
    return true;
  }

  setSendTimeout(now: number, ct: bigint, ms: number): boolean {
    const e = this.#entries.get(ct);
    if (!e) return false;
    e.options = { ...e.options, sendTimeoutMs: ms };
    this.#perform(ct, this.#sched.update(ct, (c) => c.setSendTimeout(now, ms)));
    return true;
  }

  setHotStandby(now: number, ct: bigint, on: boolean): boolean {
    const e = this.#entries.get(ct);
    if (!e) return false;
    e.options = { ...e.options, hotStandby: on };
    this.#perform(ct, this.#sched.update(ct, (c) => c.setHotStandby(now, on)));
    return true;
  }

  /**
   * Sample counters when due, then run due timers. Contexts REAP has a
   * deadline for, or whose counters moved in the last two idle rounds, are
   * read every sampleMs; every context, idle ones included, every
   * idleSampleMs (one batched read with `changed`): ten thousand idle
   * contexts cost one read every two seconds, not fifty thousand a second.
   */
  tick(now: number): void {
    if (now - this.#lastFull >= this.#idleSampleMs()) {
      this.#lastFull = now;
      this.#lastSample = now;
      if (this.hooks.changed) {
        // Contexts with nothing new (idle ones) cost a byte comparison.
        for (const [ct, s] of this.hooks.changed()) {
          if (!this.#entries.has(ct)) continue;
          this.#hot.set(ct, now);
          this.#perform(ct, this.#sched.observe(now, ct, s));
        }
      } else {
        for (const ct of [...this.#entries.keys()]) {
          const s = this.hooks.sample(ct);
          if (s) this.#perform(ct, this.#sched.observe(now, ct, s));
        }
      }
    } else if (now - this.#lastSample >= this.cfg.sampleMs) {
      this.#lastSample = now;
      for (const [ct, since] of [...this.#hot]) {
        const e = this.#entries.get(ct);
        if (!e) {
          this.#hot.delete(ct);
          continue;
        }
        const s = this.hooks.sample(ct);
        if (s) this.#perform(ct, this.#sched.observe(now, ct, s));
        if (now - since > 2 * this.#idleSampleMs() && e.ctx.nextDeadline() === Infinity) this.#hot.delete(ct);
      }
    }
    for (const { id, actions } of this.#sched.tick(now, (ct) => this.hooks.sample(ct) ?? undefined)) this.#perform(id, actions);
  }

  view(ct: bigint): ReapView | null {
    const e = this.#entries.get(ct);
    if (!e) return null;
    const s = e.ctx.snapshot();
    return {
      state: s.state,
      current: pairText(s.current),
      standby: s.standby ? pairText(s.standby) : null,
      failbackTarget: s.failbackTarget ? pairText(s.failbackTarget) : null,
      sendTimeoutMs: e.ctx.sendTimeoutMs,
      hotStandby: e.ctx.hotStandby,
      lastSwitch: e.lastSwitch,
      failures: e.failures,
      probesSent: e.probesSent,
      probesReceived: e.probesReceived,
      keepalivesSent: e.keepalivesSent,
      history: e.history,
    };
  }

  #note(e: Entry, now: number, event: string, detail?: string): void {
    e.history.push(detail === undefined ? { atMonoMs: now, event } : { atMonoMs: now, event, detail });
    if (e.history.length > HISTORY) e.history.shift();
  }

  #perform(ct: bigint, actions: readonly ReapAction[]): void {
    const e = this.#entries.get(ct);
    if (!e) return;
    this.#act(ct, e, actions);
    this.#stage(ct, e);
    if (e.ctx.nextDeadline() !== Infinity) this.#hot.set(ct, this.#hot.get(ct) ?? this.#clock());
  }

  /** Keep the data plane's staged standby equal to what REAP would switch to. */
  #stage(ct: bigint, e: Entry): void {
    if (!this.hooks.stage) return;
    const st = e.ctx.stagedStandby();
    const key = st ? `${hex(st.pair.local)}/${hex(st.pair.peer)}/${st.validUntil}` : '';
    if (key === e.staged) return;
    e.staged = key;
    this.hooks.stage(ct, st);
  }

  #act(ct: bigint, e: Entry, actions: readonly ReapAction[]): void {
    for (const a of actions) {
      switch (a.type) {
        case 'send-probe':
          e.probesSent++;
          this.totals.probesSent++;
          this.hooks.send(a.src, a.dst, a.bytes, 'Probe', ct);
          this.hooks.log('debug', { event: 'probe', purpose: a.purpose, sta: a.sta, src: formatIpv6(a.src), dst: formatIpv6(a.dst) }, 'REAP probe');
          break;
        case 'send-keepalive':
          e.keepalivesSent++;
          this.totals.keepalivesSent++;
          this.hooks.send(a.src, a.dst, a.bytes, 'Keepalive', ct);
          break;
        case 'switch-pair': {
          const to = pairText(a);
          this.totals.switches[a.reason] = (this.totals.switches[a.reason] ?? 0) + 1;
          e.lastSwitch = { atMonoMs: this.#clock(), reason: a.reason, to };
          this.#note(e, this.#clock(), 'switch', `${a.reason}: ${to.local} -> ${to.peer}`);
          this.hooks.log('info', { event: 'switch', reason: a.reason, local: to.local, peer: to.peer }, 'REAP moved the context');
          // REAP reports the recovery just before the switch that comes with
          // it (same batch); a recovery long before is one without a switch.
          if (e.failedAt?.recoveredAt !== undefined && this.#clock() - e.failedAt.recoveredAt > 50) e.failedAt = undefined;
          if (e.failedAt && a.reason !== 'failback') {
            const now = this.#clock();
            const lastRx = this.hooks.sample(ct)?.lastRx;
            this.hooks.failover?.(ct, {
              detectToSwitchMs: now - e.failedAt.atMonoMs, probes: e.probesSent - e.failedAt.probes, reason: a.reason,
              outageMs: lastRx !== undefined && lastRx <= now ? now - lastRx : null,
            });
            e.failedAt = undefined;
          }
          this.hooks.switchPair(ct, { local: a.local, peer: a.peer }, a.reason);
          break;
        }
        case 'path-failed':
          e.failures++;
          this.totals.failures++;
          if (!e.failedAt || e.failedAt.recoveredAt !== undefined) e.failedAt = { atMonoMs: this.#clock(), probes: e.probesSent };
          this.#note(e, this.#clock(), 'path-failed', a.reason);
          this.hooks.log('info', { event: 'path-failed', reason: a.reason }, 'REAP: path failed, exploring');
          this.hooks.pathEvent?.(ct, 'path-failed');
          break;
        case 'path-recovered':
          if (e.failedAt) e.failedAt.recoveredAt = this.#clock();
          this.#note(e, this.#clock(), 'path-recovered');
          this.hooks.log('info', { event: 'path-recovered' }, 'REAP: path recovered');
          this.hooks.pathEvent?.(ct, 'path-recovered');
          break;
        case 'state':
          this.#note(e, this.#clock(), 'state', `${a.from} -> ${a.to}`);
          this.hooks.log('debug', { event: 'reap-state', from: a.from, to: a.to }, 'REAP state');
          break;
        case 'advertise-keepalive-timeout':
          this.hooks.log('debug', { event: 'keepalive-timeout', seconds: a.option.timeout }, 'REAP Keepalive Timeout changed');
          break;
        case 'gc-hint':
          this.hooks.log('info', { event: 'reap-gc-hint' }, 'REAP probing at the maximum interval');
          break;
      }
    }
  }

  #clock(): number {
    return Number(process.hrtime.bigint()) / 1e6;
  }
}
