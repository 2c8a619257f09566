// An ApiBackend over plain objects, recording every change, for the API tests.
import {
  DEFAULT_POLICY, type ApiBackend, type ApiEvent, type Feedback, type ApiContext, type LocatorInfo, type LocatorPref, type ReapKnobs, type ReapView, type Side,
  type SocketPolicy, type SocketRef,
} from '../../../src/api/backend.js';
import { parseIpv6 } from '../../../src/wire/addr.js';

export const ip = (s: string): Uint8Array => parseIpv6(s)!;
const key = (a: Uint8Array): string => Buffer.from(a).toString('hex');

export interface FakeCtx extends ApiContext {
  local: LocatorInfo[];
  peer: LocatorInfo[];
  requested: ReapKnobs;
}

export const REAP_DEFAULTS: ReapKnobs = { sendTimeoutS: 15, keepaliveIntervalS: 5, initialProbes: 4, initialProbeTimeoutMs: 500, hotStandby: false };
const NONE: ReapKnobs = { sendTimeoutS: 0, keepaliveIntervalS: 0, initialProbes: 0, initialProbeTimeoutMs: 0, hotStandby: false };

export class FakeBackend implements ApiBackend {
  /** Contexts by socket cookie (tests associate their sockets explicitly). */
  readonly byCookie = new Map<bigint, FakeCtx>();
  readonly policies = new Map<bigint, SocketPolicy>();
  readonly hostAddrs = new Set<string>();
  /** Host addresses that addLocalLocator accepts into a context. */
  readonly hbaOk = new Set<string>();
  reapPresent = true;
  /** When set, decides the context of sockets not associated by cookie. */
  ctxFor: ((sock: SocketRef) => FakeCtx | null) | null = null;
  readonly calls: Array<[string, ...unknown[]]> = [];

  context(opts: { ulidLocal: string; ulidPeer: string; local: Array<Partial<LocatorInfo> & { addr: string }>; peer: Array<Partial<LocatorInfo> & { addr: string }> }): FakeCtx {
    const mk = (l: Partial<LocatorInfo> & { addr: string }, peer: boolean): LocatorInfo => ({
      flags: 1, prio: 0, weight: 0, ...(peer ? { reach: 'verified' as const } : { ifindex: 3 }), ...l, addr: ip(l.addr),
    });
    return {
      id: Symbol('ctx'), ulidLocal: ip(opts.ulidLocal), ulidPeer: ip(opts.ulidPeer), fii: 0,
      local: opts.local.map((l) => mk(l, false)), peer: opts.peer.map((l) => mk(l, true)), requested: { ...NONE },
    };
  }

  associate(cookie: bigint, ctx: FakeCtx): void {
    this.byCookie.set(cookie, ctx);
  }

  lookupContext(sock: SocketRef): ApiContext | null {
    return this.byCookie.get(sock.cookie) ?? this.ctxFor?.(sock) ?? null;
  }
  locators(ctx: ApiContext, side: Side): readonly LocatorInfo[] {
    return (ctx as FakeCtx)[side];
  }
  isLocalAddress(addr: Uint8Array): boolean {
    return this.hostAddrs.has(key(addr));
  }
  addLocalLocator(ctx: ApiContext, addr: Uint8Array): boolean {
    this.calls.push(['addLocalLocator', key(addr)]);
    if (!this.hbaOk.has(key(addr))) return false;
    (ctx as FakeCtx).local.push({ addr, flags: 1, prio: 0, weight: 0, ifindex: 4 });
    return true;
  }
  setPreference(ctx: ApiContext, side: Side, pref: LocatorPref): void {
    this.calls.push(['setPreference', side, key(pref.addr), pref.prio, pref.weight]);
    const c = ctx as FakeCtx;
    // The application's preference supersedes the peer's.
    c[side] = c[side].map((l) => (key(l.addr) === key(pref.addr) ? { ...l, prio: pref.prio, weight: pref.weight } : l));
  }
  setLocatorList(ctx: ApiContext, side: Side, list: readonly LocatorPref[]): void {
    this.calls.push(['setLocatorList', side, list.map((p) => key(p.addr))]);
    const c = ctx as FakeCtx;
    c[side] = list.map((p) => ({ ...c[side].find((l) => key(l.addr) === key(p.addr))!, prio: p.prio, weight: p.weight }));
  }
  socketPolicy(sock: SocketRef): SocketPolicy {
    return this.policies.get(sock.cookie) ?? DEFAULT_POLICY;
  }
  setSocketPolicy(sock: SocketRef, policy: SocketPolicy): void {
    if (!(sock.fd >= 0)) throw new Error('no fd');
    this.calls.push(['setSocketPolicy', policy]);
    this.policies.set(sock.cookie, policy);
  }
  reap(ctx: ApiContext): ReapView | null {
    if (!this.reapPresent) return null;
    const r = (ctx as FakeCtx).requested;
    const eff = (k: keyof ReapKnobs) => (r[k] ? r[k] : REAP_DEFAULTS[k]);
    return {
      requested: r,
      effective: {
        sendTimeoutS: eff('sendTimeoutS') as number, keepaliveIntervalS: eff('keepaliveIntervalS') as number,
        initialProbes: eff('initialProbes') as number, initialProbeTimeoutMs: eff('initialProbeTimeoutMs') as number, hotStandby: r.hotStandby,
      },
    };
  }
  setReap(ctx: ApiContext, changes: Partial<ReapKnobs>): void {
    this.calls.push(['setReap', changes]);
    const c = ctx as FakeCtx;
    c.requested = { ...c.requested, ...changes };
  }
  feedback(ctx: ApiContext, fb: Feedback): void {
    this.calls.push(['feedback', fb.direction, fb.indicator]);
  }
  deferredSetup(): boolean {
    return true;
  }
  /** What receivedLocators answers (null: the context's ULIDs). */
  received: { local: Uint8Array; peer: Uint8Array } | null = null;
  receivedLocators(ctx: ApiContext): { local: Uint8Array; peer: Uint8Array } {
    return this.received ?? { local: ctx.ulidLocal, peer: ctx.ulidPeer };
  }

  /** Event listeners (the API server subscribes once when it listens). */
  readonly listeners = new Set<(ev: ApiEvent) => void>();
  subscribe(listener: (ev: ApiEvent) => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }
  /** What the agent does on a context change. */
  emit(ev: ApiEvent): void {
    for (const l of this.listeners) l(ev);
  }
}
