// The action list of one call, and small helpers shared by the handlers.

import { IPPROTO_SHIM6, encode, findOption, type Shim6MessageInput, type Shim6Option } from '../wire/index.js';
import { IPV6_HEADER_LENGTH, QUOTED_HOP_LIMIT } from './consts.js';
import type { Ctx } from './context.js';
import type {
  ContextAction,
  ContextChange,
  DropReason,
  LogAction,
  LogEvent,
  ReceivedPacket,
  RemoveReason,
} from './types.js';

/** Collects the actions of one call, in order. */
export class Out {
  readonly actions: ContextAction[] = [];

  send(src: Uint8Array, dst: Uint8Array, msg: Shim6MessageInput, ctx: Ctx | null): void {
    this.actions.push({
      type: 'send',
      src: src.slice(),
      dst: dst.slice(),
      bytes: encode(msg),
      kind: msg.kind,
      ctLocal: ctx?.ctLocal ?? null,
    });
  }

  established(ctx: Ctx): void {
    this.actions.push({ type: 'context-established', ctx: ctx.snapshot() });
  }

  updated(ctx: Ctx, changes: readonly ContextChange[]): void {
    if (changes.length === 0) return;
    this.actions.push({ type: 'context-updated', ctx: ctx.snapshot(), changes: [...new Set(changes)] });
  }

  removed(ctx: Ctx, reason: RemoveReason): void {
    this.actions.push({ type: 'context-removed', ctx: ctx.snapshot(), reason });
  }

  log(level: LogAction['level'], event: LogEvent, ctx: Ctx | null, extra?: Omit<LogAction, 'type' | 'level' | 'event'>): void {
    const a: { -readonly [K in keyof LogAction]: LogAction[K] } = { type: 'log', level, event, ...extra };
    if (ctx?.ctLocal !== null && ctx?.ctLocal !== undefined) a.ctLocal = ctx.ctLocal;
    this.actions.push(a);
  }

  drop(reason: DropReason, ctx: Ctx | null, detail?: LogAction['detail']): void {
    this.log('debug', 'drop', ctx, detail === undefined ? { reason } : { reason, detail });
  }
}

/** The invoking packet of an Error message: a plain IPv6 header, then the Shim6 message. */
export function invokingPacket(src: Uint8Array, dst: Uint8Array, bytes: Uint8Array): Uint8Array {
  const b = new Uint8Array(IPV6_HEADER_LENGTH + bytes.length);
  b[0] = 0x60;
  b[4] = bytes.length >>> 8;
  b[5] = bytes.length & 0xff;
  b[6] = IPPROTO_SHIM6;
  b[7] = QUOTED_HOP_LIMIT;
  b.set(src, 8);
  b.set(dst, 24);
  b.set(bytes, IPV6_HEADER_LENGTH);
  return b;
}

/** ULID pair and FII of an I1/I2/I2bis: from the options, else the IPv6 header (§7.9). */
export function initiatorIds(
  options: readonly Shim6Option[],
  p: ReceivedPacket,
): { ulidLocal: Uint8Array; ulidPeer: Uint8Array; explicit: boolean; fii: number } {
  const pair = findOption(options, 'UlidPair');
  const fii = findOption(options, 'ForkedInstanceId')?.fii ?? 0;
  return pair === undefined
    ? { ulidLocal: p.dst, ulidPeer: p.src, explicit: false, fii }
    : { ulidLocal: pair.receiverUlid, ulidPeer: pair.senderUlid, explicit: true, fii };
}

export function checkFii(fii: number | undefined): number {
  const v = fii ?? 0;
  if (!Number.isInteger(v) || v < 0 || v > 0xffff_ffff) throw new RangeError('fii must be a u32');
  return v;
}

export function checkNow(now: number): number {
  if (typeof now !== 'number' || !Number.isFinite(now)) throw new TypeError('now must be a finite number of milliseconds');
  return now;
}

