// Building and sending the messages a context originates (RFC 5533 §5,
// §7.7, §7.11, §7.14, §7.17, §7.18): which options go in which message.

import {
  MAX_SHIM6_MSG,
  encodedLength,
  makeErrorMessage,
  type ErrorMessage,
  type I1Message,
  type I2Message,
  type I2bisMessage,
  type R1bisMessage,
  type R2Message,
  type Shim6Message,
  type Shim6Option,
} from '../wire/index.js';
import { IPV6_HEADER_LENGTH } from './consts.js';
import type { Announced, Ctx } from './context.js';
import type { HostCore } from './core.js';
import { announcementOptions, sameAddr } from './locators.js';
import { invokingPacket, type Out } from './out.js';
import type { ReceivedPacket } from './types.js';

export function sendI1(core: HostCore, out: Out, ctx: Ctx): void {
  const src = ctx.lpLocal;
  const dst = ctx.lpPeer;
  const msg: I1Message = {
    kind: 'I1',
    initiatorContextTag: ctx.ctLocal as bigint,
    initiatorNonce: ctx.initNonce as number,
    options: [...ulidOption(ctx, src, dst), ...fiiOption(ctx)],
  };
  out.send(src, dst, msg, ctx);
}

export function sendI2(core: HostCore, out: Out, ctx: Ctx): void {
  const src = ctx.lpLocal;
  const dst = ctx.lpPeer;
  const a = core.refreshAnnouncement(ctx);
  const build = (withLocators: boolean): I2Message => ({
    kind: 'I2',
    initiatorContextTag: ctx.ctLocal as bigint,
    initiatorNonce: ctx.initNonce as number,
    responderNonce: ctx.respNonce as number,
    options: [
      { kind: 'ResponderValidator', validator: ctx.validator as Uint8Array },
      ...ulidOption(ctx, src, dst),
      ...fiiOption(ctx),
      ...(withLocators ? fullAnnouncement(core, a) : []),
      ...keepaliveOption(core),
    ],
  });
  const msg = fit(out, ctx, build);
  ctx.inFlight = msg.options.some((o) => o.kind === 'LocatorList') ? a : null;
  out.send(src, dst, msg, ctx);
}

export function sendI2bis(core: HostCore, out: Out, ctx: Ctx): void {
  const src = ctx.i2bisLocal ?? ctx.lpLocal;
  const dst = ctx.i2bisPeer ?? ctx.lpPeer;
  const a = core.refreshAnnouncement(ctx);
  const build = (withLocators: boolean): I2bisMessage => ({
    kind: 'I2bis',
    initiatorContextTag: ctx.ctLocal as bigint,
    initiatorNonce: ctx.initNonce as number,
    responderNonce: ctx.respNonce as number,
    packetContextTag: ctx.r1bisTag as bigint,
    options: [
      { kind: 'ResponderValidator', validator: ctx.validator as Uint8Array },
      ...ulidOption(ctx, src, dst),
      ...fiiOption(ctx),
      ...(withLocators ? fullAnnouncement(core, a) : []),
      ...keepaliveOption(core),
    ],
  });
  const msg = fit(out, ctx, build);
  ctx.inFlight = msg.options.some((o) => o.kind === 'LocatorList') ? a : null;
  out.send(src, dst, msg, ctx);
}

export function sendR2(core: HostCore, out: Out, ctx: Ctx, initiatorNonce: number, p: { src: Uint8Array; dst: Uint8Array }): void {
  if (ctx.ctLocal === null) return;
  const a = core.refreshAnnouncement(ctx);
  const build = (withLocators: boolean): R2Message => ({
    kind: 'R2',
    responderContextTag: ctx.ctLocal as bigint,
    initiatorNonce,
    options: [...(withLocators ? fullAnnouncement(core, a) : []), ...keepaliveOption(core)],
  });
  const msg = fit(out, ctx, build);
  if (msg.options.some((o) => o.kind === 'LocatorList')) {
    // R2 is never retransmitted nor acknowledged: if it is lost the peer
    // retransmits its I2/I2bis/I1 and gets another one.
    a.acked = true;
    a.listAcked = true;
    ctx.pdsKnown = true;
  }
  out.send(p.dst, p.src, msg, ctx);
}

/** Stateless R1bis (§7.17) answering a packet (src → dst) carrying `tag`. */
export function sendR1bis(core: HostCore, now: number, out: Out, src: Uint8Array, dst: Uint8Array, tag: bigint): void {
  const { nonce, validator } = core.validators.issueR1bis(now, { packetTag: tag, src, dst });
  const msg: R1bisMessage = {
    kind: 'R1bis',
    packetContextTag: tag,
    responderNonce: nonce,
    options: [{ kind: 'ResponderValidator', validator }],
  };
  out.send(dst, src, msg, null);
}

export function sendError(out: Out, p: ReceivedPacket, code: number, shimPointer: number, ctx: Ctx | null): void {
  const err = makeErrorMessage(code, IPV6_HEADER_LENGTH + shimPointer, invokingPacket(p.src, p.dst, p.bytes));
  out.send(p.dst, p.src, err, ctx);
}

/** Build with the locator options; without them if that would exceed 1280 octets (§5.1). */
function fit<M extends Exclude<Shim6Message, ErrorMessage>>(out: Out, ctx: Ctx, build: (withLocators: boolean) => M): M {
  const full = build(true);
  if (encodedLength(full) <= MAX_SHIM6_MSG) return full;
  out.log('warn', 'locators-omitted', ctx, { detail: { why: 'the locator list does not fit 1280 octets' } });
  return build(false);
}

export function ulidOption(ctx: Ctx, src: Uint8Array, dst: Uint8Array): Shim6Option[] {
  return sameAddr(src, ctx.ulidLocal) && sameAddr(dst, ctx.ulidPeer)
    ? []
    : [{ kind: 'UlidPair', senderUlid: ctx.ulidLocal, receiverUlid: ctx.ulidPeer }];
}

export function fiiOption(ctx: Ctx): Shim6Option[] {
  return ctx.fii === 0 ? [] : [{ kind: 'ForkedInstanceId', fii: ctx.fii }];
}

export function keepaliveOption(core: HostCore): Shim6Option[] {
  return core.keepaliveSec === undefined ? [] : [{ kind: 'KeepaliveTimeout', timeout: core.keepaliveSec }];
}

/** Locator List (+ Preferences, PDS, Signature) of an announcement, signed once. */
export function fullAnnouncement(core: HostCore, a: Announced): Shim6Option[] {
  if (a.generation === null) return [];
  a.fullOptions ??= announcementOptions(a.ann, a.generation, true, core.local.privateKey);
  return a.fullOptions;
}
