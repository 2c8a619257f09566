// The state of one host's context core: configuration, the contexts and
// their indexes (RFC 5533 §12.4 dispatch keys), timers, and the operations
// every handler shares (state changes, announcements, confusion checks).
// Internal: ShimHost (host.ts) is the public face.

import { VerificationCache } from '../hba/index.js';
import { ErrorCode, errorPointer, findOption, type Shim6Option } from '../wire/index.js';
import {
  CONTEXT_TAG_BITS,
  ContextState,
  DEFAULT_TIMERS,
  MIN_CONTEXT_TAG_BITS,
  type TimerConfig,
} from './consts.js';
import { Ctx, contextKey, type Announced, type TimerKind } from './context.js';
import {
  addrKey,
  announcementFor,
  checkAddr,
  choosePeerLocator,
  normaliseLocalSet,
  sameAddr,
  withPreferences,
  type LocalEntry,
  type LocalSet,
  type PeerCheck,
  type PeerEntry,
} from './locators.js';
import { checkFii, checkNow, Out } from './out.js';
import { Draw } from './random.js';
import { sendError, sendI1, sendI2, sendI2bis, sendR1bis } from './send.js';
import { TimerHeap } from './timers.js';
import type {
  ConfusionPolicy,
  ContextChange,
  ContextRef,
  NegativeCacheReason,
  ReceivedPacket,
  RemoveReason,
  ShimHostConfig,
} from './types.js';
import { ValidatorKeeper } from './validator.js';

/** The states with an exchange in progress (the dispatcher delivers R2s to them). */
export const ESTABLISHING: readonly ContextState[] = [ContextState.I1Sent, ContextState.I2Sent, ContextState.I2bisSent];

export class HostCore {
  readonly timers: TimerConfig;
  readonly draw: Draw;
  readonly validators: ValidatorKeeper;
  readonly cache: VerificationCache;
  readonly heap = new TimerHeap<TimerKind, Ctx>();
  readonly tagMask: bigint;
  readonly tagBits: number;
  readonly onConfusion: ConfusionPolicy;
  readonly keepaliveSec: number | undefined;
  readonly minSec: number;
  local: LocalSet;
  now = Number.NEGATIVE_INFINITY;

  readonly byKey = new Map<string, Ctx>();
  readonly byCtLocal = new Map<bigint, Ctx>();
  readonly byCtPeer = new Map<bigint, Set<Ctx>>();
  readonly byNonce = new Map<number, Set<Ctx>>();
  /** ULID(peer) → end of the negative cache (RFC 5533 §7.8). */
  readonly negative = new Map<string, { until: number; reason: NegativeCacheReason }>();

  constructor(config: ShimHostConfig) {
    if (config === null || typeof config !== 'object') throw new TypeError('config must be an object');
    this.draw = new Draw(config.random);
    const timers: TimerConfig = { ...DEFAULT_TIMERS, ...(config.timers ?? {}) };
    for (const [k, v] of Object.entries(timers)) {
      if (typeof v !== 'number' || !Number.isFinite(v) || v < 0) throw new RangeError(`timers.${k} must be a number ≥ 0`);
    }
    for (const k of ['i1TimeoutMs', 'i2TimeoutMs', 'i2bisTimeoutMs', 'updateTimeoutMs', 'validatorMinLifetimeMs'] as const) {
      if (timers[k] <= 0) throw new RangeError(`timers.${k} must be > 0`);
    }
    this.timers = Object.freeze(timers);
    const bits = config.tagBits ?? CONTEXT_TAG_BITS;
    if (!Number.isInteger(bits) || bits < MIN_CONTEXT_TAG_BITS || bits > CONTEXT_TAG_BITS) {
      throw new RangeError(`tagBits must be ${MIN_CONTEXT_TAG_BITS}..${CONTEXT_TAG_BITS}`);
    }
    this.tagBits = bits;
    this.tagMask = (1n << BigInt(bits)) - 1n;
    const policy = config.onConfusion ?? 'discard';
    if (policy !== 'discard' && policy !== 'reestablish') throw new TypeError("onConfusion must be 'discard' or 'reestablish'");
    this.onConfusion = policy;
    if (config.keepaliveTimeoutSec !== undefined) {
      const k = config.keepaliveTimeoutSec;
      if (!Number.isInteger(k) || k < 0 || k > 0xffff) throw new RangeError('keepaliveTimeoutSec must be a u16');
    }
    this.keepaliveSec = config.keepaliveTimeoutSec;
    const minSec = config.minSec ?? 0;
    if (!Number.isInteger(minSec) || minSec < 0 || minSec > 7) throw new RangeError('minSec must be 0..7');
    this.minSec = minSec;
    this.cache = config.verificationCache ?? new VerificationCache({ maxEntries: 256 });
    this.validators = new ValidatorKeeper(this.draw, this.timers.validatorMinLifetimeMs);
    this.local = normaliseLocalSet(config.locators, 1);
  }

  cancelUpdate(ctx: Ctx): void {
    ctx.update = null;
    ctx.refreshPending = false;
    this.heap.cancel(ctx, 'update');
  }

  /** Binary exponential backoff, then U[0.5, 1.5] (§7.8, §14). */
  scheduleRetransmit(ctx: Ctx, now: number): void {
    const base =
      ctx.state === ContextState.I1Sent
        ? this.timers.i1TimeoutMs
        : ctx.state === ContextState.I2Sent
          ? this.timers.i2TimeoutMs
          : this.timers.i2bisTimeoutMs;
    this.heap.schedule(ctx, 'retransmit', now + base * 2 ** ctx.retransmits * this.draw.jitter());
  }

  /** I2/I2bis retries exhausted, or confusion re-creation: back to I1-SENT (§7.12, §7.19, §7.15). */
  restartWithI1(now: number, out: Out, ctx: Ctx): void {
    const changes: ContextChange[] = ['state'];
    if (ctx.ctPeer !== null) changes.push('ct-peer');
    this.setCtPeer(ctx, null);
    this.clearSetup(ctx);
    this.cancelUpdate(ctx);
    ctx.inFlight = null;
    this.setNonce(ctx, this.draw.u32());
    this.setState(now, ctx, ContextState.I1Sent);
    ctx.retransmits = 0;
    sendI1(this, out, ctx);
    this.scheduleRetransmit(ctx, now);
    out.updated(ctx, changes);
  }

  /** E-FAILED / NO-SUPPORT: keep only the ULIDs, negative-cache the peer (§7.8). */
  fail(now: number, out: Out, ctx: Ctx, state: ContextState, holdMs: number, reason: NegativeCacheReason): void {
    this.heap.cancel(ctx, 'retransmit');
    this.cancelUpdate(ctx);
    this.setCtLocal(ctx, null);
    this.setCtPeer(ctx, null);
    this.setNonce(ctx, null);
    this.clearSetup(ctx);
    this.setState(now, ctx, state);
    const until = now + holdMs;
    ctx.holddownUntil = until;
    this.heap.schedule(ctx, 'holddown', until);
    const prev = this.negative.get(ctx.ulidPeerKey);
    if (prev === undefined || prev.until < until) this.negative.set(ctx.ulidPeerKey, { until, reason });
    out.actions.push({ type: 'negative-cache', peer: ctx.ulidPeer.slice(), until, reason });
    out.updated(ctx, ['state']);
  }

  /** E-FAILED / NO-SUPPORT hold-down over: back to IDLE, and the negative cache entry goes too. */
  expireHolddown(now: number, out: Out, ctx: Ctx): void {
    const neg = this.negative.get(ctx.ulidPeerKey);
    if (neg !== undefined && neg.until <= now) this.negative.delete(ctx.ulidPeerKey);
    this.remove(out, ctx, 'holddown-expired');
  }

  /**
   * Recompute what `ctx` announces from the host's current locator set. The
   * generation stays when the list (addresses, methods) is unchanged; a new
   * list gets a new random generation (§10.1).
   */
  refreshAnnouncement(ctx: Ctx): Announced {
    const prev = ctx.announced;
    if (prev !== null && prev.version === this.local.version) return prev;
    const ann = announcementFor(this.local, ctx.ulidLocal, this.cache);
    ctx.lsLocal = ann.entries.length > 0 ? ann.entries : this.ulidLocalEntry(ctx);
    if (prev !== null && prev.ann.listKey === ann.listKey && prev.ann.prefsKey === ann.prefsKey) {
      prev.version = this.local.version;
      return prev;
    }
    const sameList = prev !== null && prev.ann.listKey === ann.listKey;
    const generation =
      ann.entries.length === 0 ? null : sameList && prev.generation !== null ? prev.generation : this.newGeneration(prev?.generation ?? null);
    const next: Announced = {
      ann,
      version: this.local.version,
      generation,
      acked: ann.entries.length === 0,
      listAcked: sameList ? prev.listAcked : ann.entries.length === 0,
      fullOptions: null,
    };
    ctx.announced = next;
    return next;
  }

  /**
   * Recompute Ls(local) from the host's current set and replace Lp(local) if
   * it is gone (§10.1). Returns what changed; the Update is the caller's.
   */
  adoptLocalSet(ctx: Ctx): ContextChange[] {
    const before = ctx.lsLocal;
    this.refreshAnnouncement(ctx);
    const changes: ContextChange[] = [];
    if (before.map((e) => e.key).join() !== ctx.lsLocal.map((e) => e.key).join()) changes.push('ls-local');
    if (!this.local.byKey.has(addrKey(ctx.lpLocal))) {
      const next = this.chooseLocalLocator(ctx, before);
      if (next !== null && !sameAddr(next, ctx.lpLocal)) {
        ctx.lpLocal = next;
        changes.push('pair');
      }
    }
    return changes;
  }

  ulidLocalEntry(ctx: Ctx): LocalEntry[] {
    const key = addrKey(ctx.ulidLocal);
    const e = this.local.byKey.get(key);
    return [e ?? { addr: ctx.ulidLocal, key, method: 'none', flags: 0 }];
  }

  newGeneration(prev: number | null): number {
    let g = this.draw.u32();
    if (g === prev) g = (g + 1) >>> 0;
    return g;
  }

  /** A replacement Lp(local): ULID(local), else one the peer already knew, else any. */
  chooseLocalLocator(ctx: Ctx, before: readonly LocalEntry[]): Uint8Array | null {
    const present = (k: string): boolean => this.local.byKey.has(k);
    if (present(addrKey(ctx.ulidLocal))) return ctx.ulidLocal;
    const known = before.find((e) => present(e.key) && ctx.lsLocal.some((x) => x.key === e.key));
    if (known !== undefined) return known.addr;
    return ctx.lsLocal.find((e) => present(e.key))?.addr ?? null;
  }

  /**
   * The Ls(peer) entry of `addr`, or a synthetic failed one: an address the
   * peer no longer lists is no destination, not even its ULID (its list
   * without the ULID says that address is gone).
   */
  peerEntry(ctx: Ctx, addr: Uint8Array): PeerEntry {
    const k = addrKey(addr);
    return ctx.lsPeer.find((e) => e.key === k) ?? { addr, key: k, method: 0, verification: 'failed', flags: 0 };
  }

  /** Lp(peer) for a context just set up from a packet from `src`: src if usable, else a proven one. */
  peerDestination(ctx: Ctx, src: Uint8Array): Uint8Array {
    if (ctx.usable(this.peerEntry(ctx, src))) return src.slice();
    return choosePeerLocator(ctx.lsPeer, ctx.ulidPeer);
  }

  /**
   * Record CT(peer) and the peer's locator information of an I2/I2bis/R2.
   * Returns what changed.
   */
  applyPeerInfo(ctx: Ctx, check: PeerCheck, options: readonly Shim6Option[], ctPeer: bigint): ContextChange[] {
    const changes: ContextChange[] = [];
    if (ctx.ctPeer !== ctPeer) {
      this.setCtPeer(ctx, ctPeer);
      changes.push('ct-peer');
    }
    if (check.kind === 'list') {
      let entries = check.entries;
      const prefs = findOption(options, 'LocatorPreferences');
      if (prefs !== undefined && prefs.generation === check.generation && prefs.elements.length === entries.length) {
        entries = withPreferences(entries, prefs);
      }
      if (peerListKey(entries) !== peerListKey(ctx.lsPeer)) changes.push('ls-peer');
      ctx.lsPeer = entries;
      ctx.setPeerGeneration(check.generation);
    }
    if (check.kind !== 'pds-mismatch' && check.kind !== 'bad-method' && check.pds !== null) ctx.peerPds = check.pds;
    const ka = findOption(options, 'KeepaliveTimeout');
    if (ka !== undefined) ctx.peerKeepaliveTimeout = ka.timeout;
    return changes;
  }

  /** Handle the failing outcomes of a locator check: true when the message may be processed. */
  passesLocatorCheck(out: Out, p: ReceivedPacket, check: PeerCheck, ctx: Ctx | null, kind: string): check is Exclude<PeerCheck, { kind: 'pds-mismatch' | 'bad-method' }> {
    if (check.kind === 'pds-mismatch') {
      out.drop('pds-mismatch', ctx, { msg: kind });
      return false;
    }
    if (check.kind === 'bad-method') {
      // §7.2: ignore the list and the message; SHOULD send Error code 2.
      sendError(out, p, ErrorCode.LocatorVerificationFailed, errorPointer.verificationMethod(check.list, check.index), ctx);
      out.drop('locator-method', ctx, { msg: kind, index: check.index });
      return false;
    }
    return true;
  }

  /**
   * RFC 5533 §7.15: after CT(peer) or Ls(peer) of `ctx` changed, any other
   * context in ESTABLISHED or I2BIS-SENT with the same CT(peer) and an
   * overlapping Ls(peer) belongs to a peer that lost it: it must not be used.
   */
  checkConfusion(now: number, out: Out, ctx: Ctx): void {
    if (ctx.ctPeer === null) return;
    const mine = ctx.peerKeys();
    for (const other of [...(this.byCtPeer.get(ctx.ctPeer) ?? [])]) {
      if (other === ctx || !other.hasPeerState) continue;
      let overlap = false;
      for (const k of other.peerKeys()) if (mine.has(k)) overlap = true;
      if (!overlap) continue;
      out.log('warn', 'confusion', other, { detail: { ctPeer: String(ctx.ctPeer), policy: this.onConfusion } });
      if (this.onConfusion === 'reestablish') this.restartWithI1(now, out, other);
      else this.remove(out, other, 'confusion');
    }
  }

  /** A context that is not failed (E-FAILED / NO-SUPPORT are handled as IDLE). */
  live(key: string): Ctx | undefined {
    const c = this.byKey.get(key);
    return c !== undefined && !c.failed ? c : undefined;
  }

  resolve(ref: ContextRef): Ctx | undefined {
    if (ref !== null && typeof ref === 'object' && 'ctLocal' in ref) return this.byCtLocal.get(ref.ctLocal);
    const r = ref as { ulidLocal: Uint8Array; ulidPeer: Uint8Array; fii?: number };
    return this.byKey.get(contextKey(checkAddr(r.ulidLocal, 'ulidLocal'), checkAddr(r.ulidPeer, 'ulidPeer'), checkFii(r.fii)));
  }

  /** R1/R2 dispatch (§12.4): Initiator Nonce, src a known peer locator, dst ours. */
  byInitiatorNonce(nonce: number, p: ReceivedPacket): Ctx | undefined {
    for (const c of this.byNonce.get(nonce) ?? []) {
      if (c.knowsPeerAddr(p.src) && c.knowsLocalAddr(p.dst)) return c;
    }
    return undefined;
  }

  /**
   * Update/Keepalive/Probe dispatch (§12.4, §10.4): by CT(local), then src ∈
   * Ls(peer) and dst ∈ Ls(local); otherwise answer R1bis.
   */
  byReceiverTag(now: number, out: Out, p: ReceivedPacket, tag: bigint): Ctx | undefined {
    const ctx = this.byCtLocal.get(tag);
    if (ctx !== undefined && ctx.knowsPeerAddr(p.src) && ctx.knowsLocalAddr(p.dst)) return ctx;
    sendR1bis(this, now, out, p.src, p.dst, tag);
    out.drop(ctx === undefined ? 'no-context' : 'unknown-locator', ctx ?? null);
    return undefined;
  }

  /**
   * State rules for control messages other than the setup ones (§10.4, §10.5,
   * §12.2, Appendix B): ESTABLISHED → process; I1-SENT → discard; I2-SENT →
   * resend I2 and process; I2BIS-SENT → resend I2bis and process. An Update
   * Ack in I2-SENT/I2BIS-SENT resends I2/I2bis too (DESIGN.md; §10.5 says R2).
   */
  controlInSetup(now: number, out: Out, ctx: Ctx, kind: string): boolean {
    switch (ctx.state) {
      case ContextState.Established:
        return true;
      case ContextState.I2Sent:
        ctx.lastTriggeredResend = now;
        sendI2(this, out, ctx);
        return true;
      case ContextState.I2bisSent:
        ctx.lastTriggeredResend = now;
        sendI2bis(this, out, ctx);
        return true;
      default:
        out.drop('wrong-state', ctx, { msg: kind, state: ctx.state });
        return false;
    }
  }

  anyContextOwns(dst: Uint8Array): boolean {
    for (const c of this.byKey.values()) if (c.knowsLocalAddr(dst)) return true;
    return false;
  }

  clock(now: number): number {
    checkNow(now);
    if (now > this.now) this.now = now;
    return this.now;
  }

  /** New context with a fresh CT(local), or null if the tag space is full. */
  create(now: number, ulidLocal: Uint8Array, ulidPeer: Uint8Array, fii: number, state: ContextState, avoidTag: bigint | null = null): Ctx | null {
    const tag = this.allocateTag(avoidTag);
    if (tag === null) return null;
    const ctx = new Ctx(ulidLocal, ulidPeer, fii, state, now);
    this.byKey.set(ctx.key, ctx);
    this.setCtLocal(ctx, tag);
    return ctx;
  }

  /**
   * A random non-zero tag not in use as CT(local) (§7.1). With a narrow tag
   * space (tests), fall back to a scan from a random start.
   */
  allocateTag(avoid: bigint | null): bigint | null {
    for (let i = 0; i < 32; i++) {
      const t = this.draw.bits(this.tagBits);
      if (t !== 0n && t !== avoid && !this.byCtLocal.has(t)) return t;
    }
    const size = 1n << BigInt(this.tagBits);
    if (BigInt(this.byCtLocal.size) >= size - 2n) {
      // Nearly full: only the avoided tag might be left.
      for (let t = 1n; t < size; t++) if (!this.byCtLocal.has(t) && t !== avoid) return t;
      return null;
    }
    let t = this.draw.bits(this.tagBits);
    for (;;) {
      t = (t + 1n) & this.tagMask;
      if (t !== 0n && t !== avoid && !this.byCtLocal.has(t)) return t;
    }
  }

  setCtLocal(ctx: Ctx, tag: bigint | null): void {
    if (ctx.ctLocal !== null && this.byCtLocal.get(ctx.ctLocal) === ctx) this.byCtLocal.delete(ctx.ctLocal);
    ctx.ctLocal = tag;
    if (tag !== null) this.byCtLocal.set(tag, ctx);
  }

  setCtPeer(ctx: Ctx, tag: bigint | null): void {
    if (ctx.ctPeer !== null) {
      const s = this.byCtPeer.get(ctx.ctPeer);
      s?.delete(ctx);
      if (s !== undefined && s.size === 0) this.byCtPeer.delete(ctx.ctPeer);
    }
    ctx.ctPeer = tag;
    if (tag !== null) {
      let s = this.byCtPeer.get(tag);
      if (s === undefined) this.byCtPeer.set(tag, (s = new Set()));
      s.add(ctx);
    }
  }

  setNonce(ctx: Ctx, nonce: number | null): void {
    if (ctx.initNonce !== null) {
      const s = this.byNonce.get(ctx.initNonce);
      s?.delete(ctx);
      if (s !== undefined && s.size === 0) this.byNonce.delete(ctx.initNonce);
    }
    ctx.initNonce = nonce;
    if (nonce !== null) {
      let s = this.byNonce.get(nonce);
      if (s === undefined) this.byNonce.set(nonce, (s = new Set()));
      s.add(ctx);
    }
  }

  setState(now: number, ctx: Ctx, state: ContextState): void {
    if (ctx.state !== state) {
      ctx.state = state;
      ctx.stateSince = now;
    }
  }

  /** Forget the R1/R1bis data of a finished exchange. */
  clearSetup(ctx: Ctx): void {
    ctx.respNonce = null;
    ctx.validator = null;
    ctx.r1bisTag = null;
    ctx.i2bisLocal = null;
    ctx.i2bisPeer = null;
  }

  remove(out: Out, ctx: Ctx, reason: RemoveReason): void {
    if (!ctx.alive) return;
    out.removed(ctx, reason);
    ctx.alive = false; // all its timers die with it
    if (this.byKey.get(ctx.key) === ctx) this.byKey.delete(ctx.key);
    this.setCtLocal(ctx, null);
    this.setCtPeer(ctx, null);
    this.setNonce(ctx, null);
    ctx.update = null;
  }
}

/** Identity of a peer locator list (addresses, verification, preferences). */
export function peerListKey(entries: readonly PeerEntry[]): string {
  return entries.map((e) => `${e.key}/${e.verification}/${e.flags}/${e.priority ?? ''}/${e.weight ?? ''}`).join(',');
}
