// Context establishment and recovery (RFC 5533 §7, Appendix B): I1, R1,
// I2, R2, R1bis, I2bis, and the I1/I2/I2bis retransmission timer.

import { findOption, type I1Message, type I2Message, type I2bisMessage, type R1Message, type R1bisMessage, type R2Message } from '../wire/index.js';
import { ContextState } from './consts.js';
import { contextKey, type Ctx } from './context.js';
import { ESTABLISHING, type HostCore } from './core.js';
import { addrKey, checkPeerLocators } from './locators.js';
import { initiatorIds, type Out } from './out.js';
import { sendI1, sendI2, sendI2bis, sendR2 } from './send.js';
import type { ReceivedPacket } from './types.js';
import { startUpdate } from './update.js';

export function onI1(core: HostCore, now: number, out: Out, p: ReceivedPacket, m: I1Message): void {
  const ids = initiatorIds(m.options, p);
  if (!core.local.byKey.has(addrKey(ids.ulidLocal))) {
    out.drop('not-local', null, { msg: 'I1' });
    return;
  }
  const ctx = core.live(contextKey(ids.ulidLocal, ids.ulidPeer, ids.fii));
  if (ctx === undefined) {
    sendR1(core, now, out, p, m, ids);
    return;
  }
  ctx.lastControlAt = now;
  if (ctx.state === ContextState.Established) {
    // §7.9: with a ULID option the initiator's locator must be in Ls(peer).
    if (ids.explicit && !ctx.knowsPeerAddr(p.src)) sendR1(core, now, out, p, m, ids);
    else if (ctx.ctPeer === m.initiatorContextTag) sendR2(core, out, ctx, m.initiatorNonce, p);
    else sendR1(core, now, out, p, m, ids); // the peer lost the context (Figure 7)
    return;
  }
  // I1-SENT, I2-SENT, I2BIS-SENT: concurrent establishment (§7.4); CT(peer) unchanged.
  sendR2(core, out, ctx, m.initiatorNonce, p);
}

/** Stateless R1 (§7.10): nothing is stored. */
export function sendR1(
  core: HostCore,
  now: number,
  out: Out,
  p: ReceivedPacket,
  m: I1Message,
  ids: { ulidLocal: Uint8Array; ulidPeer: Uint8Array; fii: number },
): void {
  const { nonce, validator } = core.validators.issueR1(now, {
    initiatorTag: m.initiatorContextTag,
    senderUlid: ids.ulidPeer,
    receiverUlid: ids.ulidLocal,
    src: p.src,
    dst: p.dst,
    fii: ids.fii,
  });
  const r1: R1Message = {
    kind: 'R1',
    initiatorNonce: m.initiatorNonce,
    responderNonce: nonce,
    options: [{ kind: 'ResponderValidator', validator }],
  };
  out.send(p.dst, p.src, r1, null);
}

export function onR1(core: HostCore, now: number, out: Out, p: ReceivedPacket, m: R1Message): void {
  const ctx = core.byInitiatorNonce(m.initiatorNonce, p);
  if (ctx === undefined) {
    out.drop('no-context', null, { msg: 'R1' });
    return;
  }
  if (ctx.state !== ContextState.I1Sent) {
    out.drop('wrong-state', ctx, { msg: 'R1', state: ctx.state }); // a reply to a retransmitted I1 (§7.11)
    return;
  }
  const rv = findOption(m.options, 'ResponderValidator');
  if (rv === undefined) {
    out.drop('no-validator', ctx, { msg: 'R1' });
    return;
  }
  ctx.lastControlAt = now;
  ctx.respNonce = m.responderNonce;
  ctx.validator = rv.validator.slice();
  core.setState(now, ctx, ContextState.I2Sent);
  sendI2(core, out, ctx);
  core.scheduleRetransmit(ctx, now);
  out.updated(ctx, ['state']);
}

export function onI2(core: HostCore, now: number, out: Out, p: ReceivedPacket, m: I2Message): void {
  const ids = initiatorIds(m.options, p);
  if (!core.local.byKey.has(addrKey(ids.ulidLocal))) {
    out.drop('not-local', null, { msg: 'I2' });
    return;
  }
  const rv = findOption(m.options, 'ResponderValidator');
  if (rv === undefined) {
    out.drop('no-validator', null, { msg: 'I2' });
    return;
  }
  const ok = core.validators.checkR1(now, m.responderNonce, rv.validator, {
    initiatorTag: m.initiatorContextTag,
    senderUlid: ids.ulidPeer,
    receiverUlid: ids.ulidLocal,
    src: p.src,
    dst: p.dst,
    fii: ids.fii,
  });
  if (!ok) {
    out.drop('bad-validator', null, { msg: 'I2' });
    return;
  }
  acceptInitiator(core, now, out, p, m, ids, null);
}

export function onI2bis(core: HostCore, now: number, out: Out, p: ReceivedPacket, m: I2bisMessage): void {
  const ids = initiatorIds(m.options, p);
  if (!core.local.byKey.has(addrKey(ids.ulidLocal))) {
    out.drop('not-local', null, { msg: 'I2bis' });
    return;
  }
  const rv = findOption(m.options, 'ResponderValidator');
  if (rv === undefined) {
    out.drop('no-validator', null, { msg: 'I2bis' });
    return;
  }
  const ok = core.validators.checkR1bis(now, m.responderNonce, rv.validator, {
    packetTag: m.packetContextTag,
    src: p.src,
    dst: p.dst,
  });
  if (!ok) {
    out.drop('bad-validator', null, { msg: 'I2bis' });
    return;
  }
  acceptInitiator(core, now, out, p, m, ids, m.packetContextTag);
}

/**
 * The common part of I2 (§7.13) and I2bis (§7.20) processing, after the
 * validator check. `packetTag` is the I2bis Packet Context Tag (a new
 * context must not reuse it as CT(local)).
 */
export function acceptInitiator(
  core: HostCore,
  now: number,
  out: Out,
  p: ReceivedPacket,
  m: I2Message | I2bisMessage,
  ids: { ulidLocal: Uint8Array; ulidPeer: Uint8Array; fii: number },
  packetTag: bigint | null,
): void {
  const key = contextKey(ids.ulidLocal, ids.ulidPeer, ids.fii);
  const existing = core.live(key);
  const check = checkPeerLocators(ids.ulidPeer, m.options, existing?.peerPds ?? null, core.cache, core.minSec);
  if (!core.passesLocatorCheck(out, p, check, existing ?? null, m.kind)) return;

  if (existing === undefined) {
    // IDLE (or E-FAILED / NO-SUPPORT, handled as IDLE): a new context, ESTABLISHED.
    const stale = core.byKey.get(key);
    if (stale !== undefined) core.remove(out, stale, 'holddown-expired');
    const ctx = core.create(now, new Uint8Array(ids.ulidLocal), new Uint8Array(ids.ulidPeer), ids.fii, ContextState.Established, packetTag);
    if (ctx === null) {
      out.log('warn', 'trigger-refused', null, { detail: { why: 'context tag space exhausted' } });
      return;
    }
    core.negative.delete(ctx.ulidPeerKey); // it does speak Shim6
    ctx.lastControlAt = now;
    ctx.establishedAt = now;
    core.refreshAnnouncement(ctx);
    core.applyPeerInfo(ctx, check, m.options, m.initiatorContextTag);
    ctx.lpLocal = ctx.knowsLocalAddr(p.dst) ? p.dst.slice() : ctx.ulidLocal;
    ctx.lpPeer = core.peerDestination(ctx, p.src);
    core.checkConfusion(now, out, ctx);
    sendR2(core, out, ctx, m.initiatorNonce, p);
    out.established(ctx);
    return;
  }

  // I1-SENT, I2-SENT, I2BIS-SENT, ESTABLISHED: the source locator must be known or proven.
  const srcKey = addrKey(p.src);
  const proven = check.kind === 'list' && check.entries.some((e) => e.key === srcKey && (e.verification === 'hba' || e.verification === 'cga'));
  if (!existing.knowsPeerAddr(p.src) && !proven) {
    out.drop('unknown-locator', existing, { msg: m.kind });
    return;
  }
  existing.lastControlAt = now;
  const changes = core.applyPeerInfo(existing, check, m.options, m.initiatorContextTag);
  const wasI1 = existing.state === ContextState.I1Sent;
  if (wasI1) {
    core.heap.cancel(existing, 'retransmit');
    core.setState(now, existing, ContextState.Established);
    existing.establishedAt = now;
    existing.retransmits = 0;
  }
  if (!existing.usable(core.peerEntry(existing, existing.lpPeer))) {
    existing.lpPeer = core.peerDestination(existing, p.src);
    changes.push('pair');
  }
  core.checkConfusion(now, out, existing);
  sendR2(core, out, existing, m.initiatorNonce, p);
  if (wasI1) {
    out.established(existing);
    startUpdate(core, now, out, existing);
  } else {
    out.updated(existing, changes);
  }
}

export function onR2(core: HostCore, now: number, out: Out, p: ReceivedPacket, m: R2Message): void {
  const ctx = core.byInitiatorNonce(m.initiatorNonce, p);
  if (ctx === undefined) {
    out.drop('no-context', null, { msg: 'R2' });
    return;
  }
  if (ctx.state === ContextState.Established) {
    out.drop('wrong-state', ctx, { msg: 'R2', state: ctx.state }); // a reply to a retransmitted I2 (§7.16)
    return;
  }
  if (!ESTABLISHING.includes(ctx.state)) {
    out.drop('wrong-state', ctx, { msg: 'R2', state: ctx.state });
    return;
  }
  const check = checkPeerLocators(ctx.ulidPeer, m.options, ctx.peerPds, core.cache, core.minSec);
  if (!core.passesLocatorCheck(out, p, check, ctx, 'R2')) return;
  ctx.lastControlAt = now;
  core.applyPeerInfo(ctx, check, m.options, m.responderContextTag);
  core.heap.cancel(ctx, 'retransmit');
  if (ctx.inFlight !== null) {
    ctx.inFlight.acked = true;
    ctx.inFlight.listAcked = true;
    if (ctx.inFlight.ann.pds !== null) ctx.pdsKnown = true;
    ctx.inFlight = null;
  }
  core.clearSetup(ctx);
  core.setState(now, ctx, ContextState.Established);
  ctx.establishedAt = now;
  ctx.retransmits = 0;
  if (!ctx.usable(core.peerEntry(ctx, ctx.lpPeer))) ctx.lpPeer = core.peerDestination(ctx, p.src);
  core.checkConfusion(now, out, ctx);
  out.established(ctx);
  startUpdate(core, now, out, ctx);
}

export function onR1bis(core: HostCore, now: number, out: Out, p: ReceivedPacket, m: R1bisMessage): void {
  const candidates = [...(core.byCtPeer.get(m.packetContextTag) ?? [])].filter(
    (c) => c.knowsPeerAddr(p.src) && c.knowsLocalAddr(p.dst),
  );
  const ctx = candidates.find((c) => c.state === ContextState.Established);
  if (ctx === undefined) {
    // I1-SENT / I2-SENT / I2BIS-SENT: discard (§7.18); none: IDLE, discard.
    out.drop(candidates.length > 0 ? 'wrong-state' : 'no-context', candidates[0] ?? null, { msg: 'R1bis' });
    return;
  }
  const rv = findOption(m.options, 'ResponderValidator');
  if (rv === undefined) {
    out.drop('no-validator', ctx, { msg: 'R1bis' });
    return;
  }
  ctx.lastControlAt = now;
  // The peer lost the context: keep CT(peer), recover with I2bis (§7.18).
  core.cancelUpdate(ctx);
  ctx.respNonce = m.responderNonce;
  ctx.validator = rv.validator.slice();
  ctx.r1bisTag = m.packetContextTag;
  ctx.i2bisLocal = p.dst.slice();
  ctx.i2bisPeer = p.src.slice();
  core.setNonce(ctx, core.draw.u32());
  core.setState(now, ctx, ContextState.I2bisSent);
  ctx.retransmits = 0;
  sendI2bis(core, out, ctx);
  core.scheduleRetransmit(ctx, now);
  out.updated(ctx, ['state']);
}

export function onRetransmitTimer(core: HostCore, now: number, out: Out, ctx: Ctx): void {
  ctx.retransmits++;
  switch (ctx.state) {
    case ContextState.I1Sent:
      if (ctx.retransmits > core.timers.i1RetriesMax) {
        core.fail(now, out, ctx, ContextState.EFailed, core.timers.noR1HolddownMs, 'no-r1');
        return;
      }
      sendI1(core, out, ctx);
      break;
    case ContextState.I2Sent:
      if (ctx.retransmits > core.timers.i2RetriesMax) {
        core.restartWithI1(now, out, ctx);
        return;
      }
      sendI2(core, out, ctx);
      break;
    case ContextState.I2bisSent:
      if (ctx.retransmits > core.timers.i2bisRetriesMax) {
        core.restartWithI1(now, out, ctx);
        return;
      }
      sendI2bis(core, out, ctx);
      break;
    default:
      return;
  }
  core.scheduleRetransmit(ctx, now);
}

/** I2-SENT / I2BIS-SENT got a payload or control packet: resend I2 / I2bis (Appendix B). */
export function triggeredResend(core: HostCore, now: number, out: Out, ctx: Ctx): void {
  if (now - ctx.lastTriggeredResend < core.timers.triggeredResendMinIntervalMs) return;
  ctx.lastTriggeredResend = now;
  if (ctx.state === ContextState.I2Sent) sendI2(core, out, ctx);
  else if (ctx.state === ContextState.I2bisSent) sendI2bis(core, out, ctx);
}
