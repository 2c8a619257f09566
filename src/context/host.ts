// The Shim6 context core of one host (RFC 5533 §7, §10, §12.4, Appendix B).
//
// Pure: no I/O, no clock, no global randomness. Every input takes `now`
// (milliseconds, non-decreasing) and returns the actions the caller performs
// in order: packets to send, context events for the data plane, REAP
// messages, negative-cache entries and log records.

import {
  CONTEXT_TAG_MAX,
  decodeMessage,
  errorMessageFor,
  isMulticast,
  isUnspecified,
  parseQuotedPacket,
} from '../wire/index.js';
import { ContextState, ICMP_PARAM_PROBLEM_UNRECOGNIZED_NEXT_HEADER, IPV6_HEADER_LENGTH, type TimerConfig } from './consts.js';
import { contextKey } from './context.js';
import { HostCore } from './core.js';
import { onI1, onI2, onI2bis, onR1, onR1bis, onR2, onRetransmitTimer, triggeredResend } from './establish.js';
import { addrKey, checkAddr, normaliseLocalSet, sameAddr } from './locators.js';
import { checkFii, invokingPacket, Out } from './out.js';
import { exportContexts, importContexts } from './persist.js';
import { sendI1, sendR1bis } from './send.js';
import type {
  ContextAction,
  ContextRef,
  ContextSnapshot,
  IcmpParameterProblem,
  ImportResult,
  LocalLocatorSet,
  PersistedContext,
  ReceivedPacket,
  SetPairResult,
  ShimHostConfig,
  TriggerRequest,
  UnknownTagPacket,
} from './types.js';
import { onError, onReap, onUpdateAck, onUpdateRequest, onUpdateTimer, startUpdate } from './update.js';

export class ShimHost {
  readonly #core: HostCore;

  constructor(config: ShimHostConfig) {
    this.#core = new HostCore(config);
  }

  /** The effective timer constants. */
  get timers(): TimerConfig {
    return this.#core.timers;
  }

  /** Snapshots of every context (any state but IDLE). */
  contexts(): ContextSnapshot[] {
    return [...this.#core.byKey.values()].map((c) => c.snapshot());
  }

  context(ref: ContextRef): ContextSnapshot | undefined {
    return this.#core.resolve(ref)?.snapshot();
  }

  /** Earliest timer deadline, or null when no timer is pending. */
  nextDeadline(): number | null {
    return this.#core.heap.peek();
  }

  /** End of the negative cache for ULID(peer), if it is cached at `now`. */
  negativeCacheUntil(now: number, ulidPeer: Uint8Array): number | undefined {
    const n = this.#core.negative.get(addrKey(checkAddr(ulidPeer, 'ulidPeer')));
    return n !== undefined && n.until > now ? n.until : undefined;
  }

  /** The data plane (or the agent's heuristic) wants a context for this ULID pair (§7.7). */
  trigger(now: number, req: TriggerRequest): ContextAction[] {
    now = this.#core.clock(now);
    const out = new Out();
    const ulidLocal = new Uint8Array(checkAddr(req?.ulidLocal, 'ulidLocal'));
    const ulidPeer = new Uint8Array(checkAddr(req.ulidPeer, 'ulidPeer'));
    const fii = checkFii(req.fii);
    const existing = this.#core.byKey.get(contextKey(ulidLocal, ulidPeer, fii));
    if (existing !== undefined && !existing.failed) return out.actions;
    const neg = this.#core.negative.get(addrKey(ulidPeer));
    if (neg !== undefined && neg.until > now) {
      out.log('debug', 'trigger-suppressed', existing ?? null, { detail: { until: neg.until, reason: neg.reason } });
      return out.actions;
    }
    if (!this.#core.local.byKey.has(addrKey(ulidLocal))) {
      out.log('warn', 'trigger-refused', null, { reason: 'not-local' });
      return out.actions;
    }
    if (existing !== undefined) this.#core.remove(out, existing, 'holddown-expired');
    const ctx = this.#core.create(now, ulidLocal, ulidPeer, fii, ContextState.I1Sent);
    if (ctx === null) {
      out.log('warn', 'trigger-refused', null, { detail: { why: 'context tag space exhausted' } });
      return out.actions;
    }
    this.#core.setNonce(ctx, this.#core.draw.u32());
    this.#core.refreshAnnouncement(ctx);
    sendI1(this.#core, out, ctx);
    this.#core.scheduleRetransmit(ctx, now);
    return out.actions;
  }

  /** A Shim6 control message arrived (§12.3, §12.4). */
  receive(now: number, pkt: ReceivedPacket): ContextAction[] {
    now = this.#core.clock(now);
    const out = new Out();
    const src = checkAddr(pkt?.src, 'src');
    const dst = checkAddr(pkt.dst, 'dst');
    if (!(pkt.bytes instanceof Uint8Array)) throw new TypeError('bytes must be a Uint8Array');
    const p: ReceivedPacket = { src: src.slice(), dst: dst.slice(), bytes: pkt.bytes };
    if (isMulticast(src) || isUnspecified(src) || isMulticast(dst) || isUnspecified(dst)) {
      out.drop('bad-address', null);
      return out.actions;
    }
    if (!this.#core.local.byKey.has(addrKey(dst)) && !this.#core.anyContextOwns(dst)) {
      out.drop('not-local', null);
      return out.actions;
    }
    const r = decodeMessage(pkt.bytes);
    if (!r.ok) {
      // Unknown type → Error code 0, unknown critical option → code 1 (§12.3); else silence.
      const err = errorMessageFor(r.error, invokingPacket(src, dst, pkt.bytes), IPV6_HEADER_LENGTH);
      if (err !== null) out.send(dst, src, err, null);
      out.drop('decode', null, { kind: r.error.kind, offset: r.error.offset });
      return out.actions;
    }
    const m = r.msg;
    switch (m.kind) {
      case 'I1':
        onI1(this.#core, now, out, p, m);
        break;
      case 'R1':
        onR1(this.#core, now, out, p, m);
        break;
      case 'I2':
        onI2(this.#core, now, out, p, m);
        break;
      case 'R2':
        onR2(this.#core, now, out, p, m);
        break;
      case 'R1bis':
        onR1bis(this.#core, now, out, p, m);
        break;
      case 'I2bis':
        onI2bis(this.#core, now, out, p, m);
        break;
      case 'UpdateRequest':
        onUpdateRequest(this.#core, now, out, p, m);
        break;
      case 'UpdateAck':
        onUpdateAck(this.#core, now, out, p, m);
        break;
      case 'Keepalive':
      case 'Probe':
        onReap(this.#core, now, out, p, m);
        break;
      case 'Error':
        onError(this.#core, now, out, p, m);
        break;
    }
    return out.actions;
  }

  /** Run the timers due at `now`. Cheap when nothing is due. */
  tick(now: number): ContextAction[] {
    now = this.#core.clock(now);
    const out = new Out();
    for (let t = this.#core.heap.popDue(now); t !== null; t = this.#core.heap.popDue(now)) {
      const ctx = t.owner;
      if (t.kind === 'retransmit') onRetransmitTimer(this.#core, now, out, ctx);
      else if (t.kind === 'update') onUpdateTimer(this.#core, now, out, ctx);
      else this.#core.expireHolddown(now, out, ctx);
    }
    return out.actions;
  }

  /**
   * A payload packet whose tag the data plane did not accept (unknown tag,
   * or locators not in the context's sets). RFC 5533 §12.2 and Appendix B:
   * no matching context → R1bis; I2-SENT → resend I2; I2BIS-SENT → resend
   * I2bis; I1-SENT → discard.
   */
  payloadWithUnknownTag(now: number, pkt: UnknownTagPacket): ContextAction[] {
    now = this.#core.clock(now);
    const out = new Out();
    const p = { src: checkAddr(pkt?.src, 'src').slice(), dst: checkAddr(pkt.dst, 'dst').slice() };
    if (typeof pkt.tag !== 'bigint' || pkt.tag < 0n || pkt.tag > CONTEXT_TAG_MAX) throw new RangeError('tag must be a 47-bit bigint');
    if (isMulticast(p.src) || isUnspecified(p.src) || isMulticast(p.dst) || isUnspecified(p.dst)) {
      out.drop('bad-address', null);
      return out.actions;
    }
    const ctx = this.#core.byCtLocal.get(pkt.tag);
    if (ctx === undefined || !ctx.knowsPeerAddr(p.src) || !ctx.knowsLocalAddr(p.dst)) {
      if (!this.#core.local.byKey.has(addrKey(p.dst))) {
        out.drop('not-local', null);
        return out.actions;
      }
      sendR1bis(this.#core, now, out, p.src, p.dst, pkt.tag);
      return out.actions;
    }
    switch (ctx.state) {
      case ContextState.I1Sent:
        out.drop('wrong-state', ctx, { state: ctx.state });
        break;
      case ContextState.I2Sent:
      case ContextState.I2bisSent:
        triggeredResend(this.#core, now, out, ctx);
        break;
      default:
        out.log('debug', 'payload-known-tag', ctx);
    }
    return out.actions;
  }

  /**
   * An ICMPv6 Parameter Problem. Code 1 (unrecognized Next Header) quoting an
   * I1 this host sent → NO-SUPPORT and a negative cache for
   * ICMP_HOLDDOWN_TIME (§7.8; DESIGN.md). Anything else is not the core's.
   */
  icmpParameterProblem(now: number, icmp: IcmpParameterProblem): ContextAction[] {
    now = this.#core.clock(now);
    const out = new Out();
    if (icmp?.code !== ICMP_PARAM_PROBLEM_UNRECOGNIZED_NEXT_HEADER || !(icmp.packet instanceof Uint8Array)) {
      out.log('debug', 'icmp-ignored', null, { detail: { why: 'not code 1' } });
      return out.actions;
    }
    const q = parseQuotedPacket(icmp.packet);
    const sh = q?.shim6;
    if (q === null || sh === undefined || sh.kind !== 'I1' || sh.contextTag === undefined) {
      out.log('debug', 'icmp-ignored', null, { detail: { why: 'does not quote an I1' } });
      return out.actions;
    }
    const ctx = this.#core.byCtLocal.get(sh.contextTag);
    if (ctx === undefined || ctx.state !== ContextState.I1Sent || !sameAddr(q.src, ctx.lpLocal) || !sameAddr(q.dst, ctx.lpPeer)) {
      out.log('debug', 'icmp-ignored', ctx ?? null, { detail: { why: 'no context in I1-SENT for the quoted I1' } });
      return out.actions;
    }
    // The nonce, when the quote holds it, must be the one we sent (off-path spoofing).
    const quoted = icmp.packet.subarray(sh.offset);
    const d = decodeMessage(quoted, { verifyChecksum: false });
    if (d.ok && d.msg.kind === 'I1' && d.msg.initiatorNonce !== ctx.initNonce) {
      out.log('debug', 'icmp-ignored', ctx, { detail: { why: 'nonce mismatch' } });
      return out.actions;
    }
    this.#core.fail(now, out, ctx, ContextState.NoSupport, this.#core.timers.icmpHolddownMs, 'icmp-no-support');
    return out.actions;
  }

  /**
   * The host's locators changed (§10.1): every ESTABLISHED context whose
   * announcement changes sends an Update Request; contexts still being set
   * up announce the new set in their next I2/I2bis. A current local locator
   * that is gone is replaced.
   */
  localLocatorsChanged(now: number, locators: LocalLocatorSet): ContextAction[] {
    now = this.#core.clock(now);
    const out = new Out();
    this.#core.local = normaliseLocalSet(locators, this.#core.local.version + 1);
    for (const ctx of [...this.#core.byKey.values()]) {
      if (ctx.failed) continue;
      const changes = this.#core.adoptLocalSet(ctx);
      if (ctx.state === ContextState.Established) startUpdate(this.#core, now, out, ctx);
      out.updated(ctx, changes);
    }
    return out.actions;
  }

  /**
   * Tear down ESTABLISHED contexts idle for `timers.idleTeardownMs` (§9).
   * `activity` gives the last data-plane activity (ms) of a context, if any;
   * control messages received for it count too.
   */
  teardownIdle(now: number, activity?: (ctx: ContextSnapshot) => number | undefined): ContextAction[] {
    now = this.#core.clock(now);
    const out = new Out();
    for (const ctx of [...this.#core.byKey.values()]) {
      if (ctx.state !== ContextState.Established) continue;
      const data = activity?.(ctx.snapshot());
      const last = Math.max(ctx.establishedAt ?? ctx.createdAt, ctx.lastControlAt ?? Number.NEGATIVE_INFINITY, data ?? Number.NEGATIVE_INFINITY);
      if (now - last >= this.#core.timers.idleTeardownMs) this.#core.remove(out, ctx, 'idle');
    }
    return out.actions;
  }

  /**
   * Records of the contexts worth keeping across an agent restart
   * (ESTABLISHED, I2BIS-SENT): plain JSON, to be written to the agent's
   * state file before the actions of the call that changed them are
   * performed. Ages are relative to the latest `now` this host has seen.
   */
  exportContexts(only?: ReadonlySet<bigint>): PersistedContext[] {
    return exportContexts(this.#core, only);
  }

  /**
   * Restore exported contexts into this host, whose locator set must already
   * be the current one. Never throws on bad records: each is validated, and
   * checked against the contexts already here, then restored or rejected
   * with a reason. Their CT(local) tags stay reserved; ages are rebased onto
   * `now`; an outstanding Update is resumed, a changed announcement sent,
   * an I2bis resent (see persist.ts).
   */
  importContexts(now: number, records: unknown): ImportResult {
    now = this.#core.clock(now);
    return importContexts(this.#core, now, records);
  }

  /** Discard a context at the caller's request (e.g. no ULP uses it any more). */
  removeContext(now: number, ref: ContextRef): ContextAction[] {
    this.#core.clock(now);
    const out = new Out();
    const ctx = this.#core.resolve(ref);
    if (ctx !== undefined) this.#core.remove(out, ctx, 'requested');
    return out.actions;
  }

  /**
   * Change the current locator pair (REAP's decision). The peer locator must
   * be a usable member of Ls(peer): HBA/CGA-verified, or ULID(peer) (which
   * needs no proof); the local one a member of Ls(local), or ULID(local)
   * while it is one of the host's locators.
   */
  setCurrentPair(now: number, ctLocal: bigint, pair: { local: Uint8Array; peer: Uint8Array }): SetPairResult {
    this.#core.clock(now);
    const ctx = this.#core.byCtLocal.get(ctLocal);
    if (ctx === undefined) return { ok: false, reason: 'no-context' };
    const local = checkAddr(pair?.local, 'local');
    const peer = checkAddr(pair.peer, 'peer');
    const ulidOk = sameAddr(local, ctx.ulidLocal) && this.#core.local.byKey.has(addrKey(local));
    if (!ulidOk && !ctx.lsLocal.some((e) => sameAddr(e.addr, local))) {
      return { ok: false, reason: 'unknown-local' };
    }
    const pk = addrKey(peer);
    const entry = ctx.lsPeer.find((e) => e.key === pk);
    if (entry === undefined) return { ok: false, reason: 'unknown-peer' };
    if (!ctx.usable(entry)) return { ok: false, reason: 'unverified-peer' };
    const out = new Out();
    if (!sameAddr(local, ctx.lpLocal) || !sameAddr(peer, ctx.lpPeer)) {
      ctx.lpLocal = local.slice();
      ctx.lpPeer = peer.slice();
      out.updated(ctx, ['pair']);
    }
    return { ok: true, actions: out.actions };
  }
}
