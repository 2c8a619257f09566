// Locator updates (RFC 5533 §10), and the other control messages that are
// dispatched by CT(local): Keepalive/Probe (handed to REAP) and Error.

import {
  ErrorCode,
  MAX_SHIM6_MSG,
  encodedLength,
  errorPointer,
  findOption,
  parseQuotedPacket,
  type ErrorMessage,
  type KeepaliveMessage,
  type ProbeMessage,
  type Shim6Option,
  type UpdateAckMessage,
  type UpdateRequestMessage,
} from '../wire/index.js';
import { ContextState } from './consts.js';
import type { Announced, Ctx } from './context.js';
import { peerListKey, type HostCore } from './core.js';
import {
  announcementOptions,
  checkPeerLocators,
  choosePeerLocator,
  pdsBinding,
  preferencesOption,
  withPreferences,
  type PeerEntry,
} from './locators.js';
import type { Out } from './out.js';
import { keepaliveOption, sendError } from './send.js';
import type { ContextChange, ReceivedPacket } from './types.js';

/**
 * Start (or restart, abandoning the outstanding one) an Update Request (§10.1,
 * §10.3). `superseding`: an earlier request may be in flight although none is
 * outstanding here (a context restored from an agent's state file).
 */
export function startUpdate(core: HostCore, now: number, out: Out, ctx: Ctx, superseding = false): void {
  if (ctx.state !== ContextState.Established || ctx.ctPeer === null) return;
  const a = core.refreshAnnouncement(ctx);
  if (a.acked) {
    if (ctx.update !== null && ctx.update.announced !== a) core.cancelUpdate(ctx);
    return;
  }
  if (ctx.update !== null && ctx.update.announced === a) return; // already in flight
  const supersededUnacked = superseding || ctx.update !== null || ctx.refreshPending;
  ctx.refreshPending = false;
  if (a.ann.entries.length === 0) {
    a.acked = true; // nothing to announce
    core.cancelUpdate(ctx);
    return;
  }
  const sendList = !a.listAcked;
  let nonce = core.draw.u32();
  if (ctx.update !== null && nonce === ctx.update.nonce) nonce = (nonce + 1) >>> 0;
  const msg = updateRequestFor(core, ctx, a, sendList, nonce);
  if (encodedLength(msg) > MAX_SHIM6_MSG) {
    out.log('warn', 'locators-omitted', ctx, { detail: { why: 'the locator list does not fit 1280 octets; no Update sent' } });
    a.acked = true;
    return;
  }
  ctx.update = { nonce, retransmits: 0, generation: sendList ? a.generation : null, msg, announced: a, supersededUnacked };
  out.send(ctx.lpLocal, ctx.lpPeer, msg, ctx);
  core.heap.schedule(ctx, 'update', now + updateInterval(core, 0));
}

/** The Update Request announcing `a`: its Locator List (and PDS if the peer lacks it), or only its preferences. */
export function updateRequestFor(core: HostCore, ctx: Ctx, a: Announced, sendList: boolean, nonce: number): UpdateRequestMessage {
  const options: Shim6Option[] = sendList
    ? announcementOptions(a.ann, a.generation as number, !ctx.pdsKnown, core.local.privateKey)
    : [preferencesOption(a.ann, a.generation as number)];
  return {
    kind: 'UpdateRequest',
    receiverContextTag: ctx.ctPeer as bigint,
    requestNonce: nonce,
    options: [...options, ...keepaliveOption(core)],
  };
}

/** U[0.5, 1.5] × min(UPDATE_TIMEOUT · 2^n, MAX_UPDATE_TIMEOUT): retransmissions go on forever (§10.2). */
export function updateInterval(core: HostCore, n: number): number {
  const nominal = Math.min(core.timers.updateTimeoutMs * 2 ** Math.min(n, 40), core.timers.maxUpdateTimeoutMs);
  return nominal * core.draw.jitter();
}

export function onUpdateTimer(core: HostCore, now: number, out: Out, ctx: Ctx): void {
  if (ctx.update === null && ctx.refreshPending) {
    refreshAnnouncement(core, now, out, ctx);
    return;
  }
  const u = ctx.update;
  if (u === null || ctx.state !== ContextState.Established || ctx.ctPeer === null) return;
  if (u.announced.acked) {
    // The peer got it another way meanwhile (our R2 to its new I2 carried it).
    core.cancelUpdate(ctx);
    return;
  }
  u.retransmits++;
  // Same nonce and content; but CT(peer) may have changed since (the peer
  // rebuilt its context), and a request to the old tag would only earn R1bis.
  if (u.msg.receiverContextTag !== ctx.ctPeer) u.msg = { ...u.msg, receiverContextTag: ctx.ctPeer };
  out.send(ctx.lpLocal, ctx.lpPeer, u.msg, ctx);
  core.heap.schedule(ctx, 'update', now + updateInterval(core, u.retransmits));
}

export function onUpdateRequest(core: HostCore, now: number, out: Out, p: ReceivedPacket, m: UpdateRequestMessage): void {
  const ctx = core.byReceiverTag(now, out, p, m.receiverContextTag);
  if (ctx === undefined) return;
  const pdsOpt = findOption(m.options, 'CgaPds');
  if (pdsOpt !== undefined && pdsBinding(ctx.ulidPeer, pdsOpt.pds, core.cache, core.minSec) === null) {
    out.drop('pds-mismatch', ctx, { msg: 'UpdateRequest' });
    return;
  }
  if (!core.controlInSetup(now, out, ctx, 'UpdateRequest')) return;
  if (ctx.ctPeer === null) {
    // I2-SENT before any R2/I2 from the peer: the Ack needs CT(peer); the
    // peer retransmits and the Update is processed once ESTABLISHED.
    ctx.lastControlAt = now;
    out.log('debug', 'update-deferred', ctx, { reason: 'no-ct-peer' });
    return;
  }
  const list = findOption(m.options, 'LocatorList');
  const prefs = findOption(m.options, 'LocatorPreferences');
  let entries: PeerEntry[] = ctx.lsPeer;
  let generation = ctx.peerGeneration;
  let pds = ctx.peerPds;
  if (list !== undefined && list.generation !== ctx.peerGeneration && ctx.replacedPeerGenerations.includes(list.generation)) {
    // A list this one already replaced: a late copy (reordered or duplicated).
    // Acknowledge it (the sender ignores stale acks) without going back.
    ctx.lastControlAt = now;
    out.send(p.dst, p.src, { kind: 'UpdateAck', receiverContextTag: ctx.ctPeer, requestNonce: m.requestNonce }, ctx);
    out.log('debug', 'update-stale', ctx, { detail: { generation: list.generation } });
    return;
  }
  if (list !== undefined) {
    const check = checkPeerLocators(ctx.ulidPeer, m.options, ctx.peerPds, core.cache, core.minSec);
    if (check.kind === 'pds-mismatch') {
      out.drop('pds-mismatch', ctx, { msg: 'UpdateRequest' });
      return;
    }
    // §10.4: a list that cannot be verified → Error code 2, no further processing.
    const bad = check.kind === 'bad-method' ? check.index : check.kind === 'list' ? check.firstFailed : null;
    if (bad !== null) {
      sendError(out, p, ErrorCode.LocatorVerificationFailed, errorPointer.verificationMethod(list, bad), ctx);
      out.log('warn', 'update-rejected', ctx, { reason: 'locator-method', detail: { index: bad } });
      return;
    }
    if (check.kind === 'list') {
      entries = check.entries;
      generation = check.generation;
      pds = check.pds;
    }
  }
  if (prefs !== undefined) {
    if (generation === null || prefs.generation !== generation) {
      sendError(out, p, ErrorCode.GenerationOutOfSync, errorPointer.preferencesGeneration(prefs), ctx);
      out.log('warn', 'update-rejected', ctx, { detail: { why: 'generation out of sync' } });
      return;
    }
    if (prefs.elements.length !== entries.length) {
      sendError(out, p, ErrorCode.WrongPreferenceCount, errorPointer.preferencesLength(prefs), ctx);
      out.log('warn', 'update-rejected', ctx, { detail: { why: 'wrong number of preferences' } });
      return;
    }
    entries = withPreferences(entries, prefs);
  }
  const changes: ContextChange[] = [];
  if (list !== undefined) {
    if (peerListKey(entries) !== peerListKey(ctx.lsPeer)) changes.push('ls-peer');
    ctx.lsPeer = entries;
    ctx.setPeerGeneration(generation);
    ctx.peerPds = pds;
  } else if (prefs !== undefined) {
    ctx.lsPeer = entries;
  }
  if (prefs !== undefined) changes.push('preferences');
  const ka = findOption(m.options, 'KeepaliveTimeout');
  if (ka !== undefined) ctx.peerKeepaliveTimeout = ka.timeout;
  ctx.lastControlAt = now; // a rejected Update leaves the context untouched, this included
  const ack: UpdateAckMessage = { kind: 'UpdateAck', receiverContextTag: ctx.ctPeer, requestNonce: m.requestNonce, options: [] };
  out.send(p.dst, p.src, ack, ctx);
  if (!ctx.usable(core.peerEntry(ctx, ctx.lpPeer))) {
    // The current destination left Ls(peer): fall back to a proven one.
    ctx.lpPeer = choosePeerLocator(ctx.lsPeer, ctx.ulidPeer);
    changes.push('pair');
    out.log('info', 'locator-pair-changed', ctx);
  }
  if (changes.includes('ls-peer')) core.checkConfusion(now, out, ctx);
  out.updated(ctx, changes);
}

export function onUpdateAck(core: HostCore, now: number, out: Out, p: ReceivedPacket, m: UpdateAckMessage): void {
  const ctx = core.byReceiverTag(now, out, p, m.receiverContextTag);
  if (ctx === undefined) return;
  if (!core.controlInSetup(now, out, ctx, 'UpdateAck')) return;
  ctx.lastControlAt = now;
  const u = ctx.update;
  if (u === null || u.nonce !== m.requestNonce) {
    out.log('debug', 'update-stale-ack', ctx);
    return;
  }
  u.announced.acked = true;
  u.announced.listAcked = true;
  if (u.msg.options.some((o) => o.kind === 'CgaPds')) ctx.pdsKnown = true;
  core.cancelUpdate(ctx);
  out.log('info', 'update-acked', ctx, { detail: { nonce: m.requestNonce } });
  if (u.supersededUnacked) {
    // An abandoned request may still be in flight and overtake this one at
    // the peer, which cannot order random generations: announce once more,
    // under a new generation, after a guard time.
    ctx.refreshPending = true;
    core.heap.schedule(ctx, 'update', now + updateInterval(core, 0));
    return;
  }
  startUpdate(core, now, out, ctx);
}

/** The guarded re-announcement: the same list under a new generation. */
function refreshAnnouncement(core: HostCore, now: number, out: Out, ctx: Ctx): void {
  const a = ctx.announced;
  if (ctx.state !== ContextState.Established || a === null || a.generation === null) {
    ctx.refreshPending = false;
    return;
  }
  ctx.announced = { ...a, generation: core.newGeneration(a.generation), acked: false, listAcked: false, fullOptions: null };
  ctx.refreshPending = false;
  startUpdate(core, now, out, ctx);
}

export function onReap(core: HostCore, now: number, out: Out, p: ReceivedPacket, m: KeepaliveMessage | ProbeMessage): void {
  const ctx = core.byReceiverTag(now, out, p, m.receiverContextTag);
  if (ctx === undefined) return;
  if (!core.controlInSetup(now, out, ctx, m.kind)) return;
  ctx.lastControlAt = now;
  out.actions.push({ type: 'reap-message', ctx: ctx.snapshot(), src: p.src.slice(), dst: p.dst.slice(), msg: m });
}

/** A Shim6 Error message: dispatched on the packet in error (§12.4). */
export function onError(core: HostCore, now: number, out: Out, p: ReceivedPacket, m: ErrorMessage): void {
  const q = parseQuotedPacket(m.packetInError);
  const sh = q?.shim6;
  let ctx: Ctx | undefined;
  if (q !== null && sh !== undefined && sh.contextTag !== undefined) {
    if (sh.kind === 'I1' || sh.kind === 'I2' || sh.kind === 'I2bis' || sh.kind === 'R2') {
      ctx = core.byCtLocal.get(sh.contextTag); // the quoted tag is ours
    } else {
      ctx = [...(core.byCtPeer.get(sh.contextTag) ?? [])].find(
        (c) => c.knowsLocalAddr(q.src) && c.knowsPeerAddr(q.dst),
      );
    }
  }
  if (ctx === undefined) {
    out.drop('no-context', null, { msg: 'Error', code: m.code });
    return;
  }
  ctx.lastControlAt = now;
  out.log('warn', 'peer-error', ctx, { detail: { code: m.code, pointer: m.pointer, quoted: sh?.kind ?? 'payload' } });
  if (m.code === ErrorCode.GenerationOutOfSync && sh?.kind === 'UpdateRequest' && ctx.announced !== null) {
    // The peer does not have our list: send it again with a new generation.
    ctx.announced = { ...ctx.announced, generation: core.newGeneration(ctx.announced.generation), acked: false, listAcked: false, fullOptions: null };
    core.cancelUpdate(ctx);
    startUpdate(core, now, out, ctx);
  }
}
