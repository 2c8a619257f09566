// struct shim6_event (<shim6/shim.h>): the value of an EVENT frame's EVENT
// attribute. Host byte order except the addresses (network order), as the
// header lays it out (Shim6EventLayout, checked by test/unit/api/shim-h.test.ts).
import type { ApiEvent, ApiEventType } from './backend.js';
import { LITTLE_ENDIAN as LE } from './frame.js';
import * as H from './shim-h.js';
import { decodeLocator, encodeLocator, ZERO_LOCATOR, type ShimLocator } from './structs.js';

const EL = H.Shim6EventLayout;

export const EVENT_TYPE: Record<ApiEventType, number> = {
  'established': H.SHIM_EVENT_ESTABLISHED,
  'pair-changed': H.SHIM_EVENT_PAIR_CHANGED,
  'path-failed': H.SHIM_EVENT_PATH_FAILED,
  'path-recovered': H.SHIM_EVENT_PATH_RECOVERED,
  'lost': H.SHIM_EVENT_LOST,
};

const NAMES = new Map<number, ApiEventType>(Object.entries(EVENT_TYPE).map(([k, v]) => [v, k as ApiEventType]));

export function eventTypeName(n: number): ApiEventType | undefined {
  return NAMES.get(n);
}

/** The fields of struct shim6_event. */
export interface ShimEvent {
  readonly type: number;
  readonly fii: number;
  readonly ulidLocal: Uint8Array;
  readonly ulidPeer: Uint8Array;
  readonly local: ShimLocator;   // zero-filled when the event names none
  readonly peer: ShimLocator;
  readonly dropped: number;
  readonly timeNs: bigint;       // CLOCK_REALTIME
  readonly monoNs: bigint;       // CLOCK_MONOTONIC
}

const loc = (addr: Uint8Array | undefined): ShimLocator =>
  (addr && addr.length === 16 ? { ...ZERO_LOCATOR, family: H.AF_INET6, addr } : ZERO_LOCATOR);

/** An ApiEvent as struct shim6_event (throws only on an unknown type: a backend bug). */
export function encodeEvent(ev: ApiEvent, stamp: { dropped: number; timeNs: bigint; monoNs: bigint }): Uint8Array {
  const type = EVENT_TYPE[ev.type];
  if (type === undefined) throw new RangeError(`unknown event type ${String(ev.type)}`);
  const out = new Uint8Array(EL.size);
  const dv = new DataView(out.buffer);
  dv.setUint32(EL.ev_type, type, LE);
  dv.setUint32(EL.ev_fii, ev.ctx.fii >>> 0, LE);
  out.set(ev.ctx.ulidLocal.subarray(0, 16), EL.ev_ulid_local);
  out.set(ev.ctx.ulidPeer.subarray(0, 16), EL.ev_ulid_peer);
  encodeLocator(loc(ev.local), out, EL.ev_local);
  encodeLocator(loc(ev.peer), out, EL.ev_peer);
  dv.setUint32(EL.ev_dropped, stamp.dropped >>> 0, LE);
  dv.setBigUint64(EL.ev_time_ns, stamp.timeNs, LE);
  dv.setBigUint64(EL.ev_mono_ns, stamp.monoNs, LE);
  return out;
}

/** struct shim6_event (exactly 128 bytes, else null). */
export function decodeEvent(b: Uint8Array): ShimEvent | null {
  if (b.length !== EL.size) return null;
  const dv = new DataView(b.buffer, b.byteOffset, b.length);
  return {
    type: dv.getUint32(EL.ev_type, LE),
    fii: dv.getUint32(EL.ev_fii, LE),
    ulidLocal: new Uint8Array(b.subarray(EL.ev_ulid_local, EL.ev_ulid_local + 16)),
    ulidPeer: new Uint8Array(b.subarray(EL.ev_ulid_peer, EL.ev_ulid_peer + 16)),
    local: decodeLocator(b, EL.ev_local),
    peer: decodeLocator(b, EL.ev_peer),
    dropped: dv.getUint32(EL.ev_dropped, LE),
    timeNs: dv.getBigUint64(EL.ev_time_ns, LE),
    monoNs: dv.getBigUint64(EL.ev_mono_ns, LE),
  };
}
