// The RFC 6316 API served by the agent: ApiBackend (src/api/backend.ts) on
// the context core, REAP and the data-plane maps. The API server calls in
// here only; everything it learns about a socket came from the fd itself.
import { ContextState, type ContextSnapshot, type ShimHost } from '../context/index.js';
import { ApiError, DEFAULT_POLICY, type ApiBackend, type ApiContext, type ApiEvent, type Feedback, type LocatorInfo, type LocatorPref, type ReapKnobs, type ReapView, type Side, type SocketPolicy, type SocketRef } from '../api/backend.js';
import { SHIM_LOC_FLAG_CGA, SHIM_LOC_FLAG_HBA } from '../api/shim-h.js';
import { readSockPolicy, writeSockPolicy, fromDataplanePolicy } from '../api/sock-policy.js';
import { DEFAULT_SEND_TIMEOUT_MS } from '../reap/index.js';
import type { AddressTable } from '../netlink/index.js';
import type { ReapDriver } from './reap.js';

const hex = (b: Uint8Array): string => Buffer.from(b).toString('hex');

/** Application preferences and restrictions of one context (RFC 6316 §11.1: they supersede the peer's). */
export interface AppPrefs {
  local: Map<string, LocatorPref>;
  peer: Map<string, LocatorPref>;
  /** SHIM_LOCLIST_*: only these locators (null: no restriction). */
  localOnly: Set<string> | null;
  peerOnly: Set<string> | null;
}

export interface AgentApiDeps {
  host(): ShimHost;
  reap(): ReapDriver;
  addresses(): AddressTable;
  /** The socket-local storage map shim6_sock (fd). */
  sockMapFd(): number;
  /** The data plane holds this context (it may carry payload). */
  held(ct: bigint): boolean;
  /** Application preferences changed: re-rank REAP's pairs. */
  prefsChanged(ct: bigint): void;
  /** The locator pair the context's latest packet arrived on (data plane), or null before any. */
  rxPair?(ct: bigint): { local: Uint8Array; peer: Uint8Array } | null;
  now(): number;
}

export class AgentApiBackend implements ApiBackend {
  readonly prefs = new Map<bigint, AppPrefs>();
  /** Receive flags live outside the data plane's policy record, by socket cookie. */
  readonly #recv = new Map<bigint, { recvLocal: boolean; recvPeer: boolean }>();

  readonly #listeners = new Set<(ev: ApiEvent) => void>();

  constructor(private readonly d: AgentApiDeps) {}

  /** SUBSCRIBE: the server registers one listener and routes events to subscribed sockets. */
  subscribe(listener: (ev: ApiEvent) => void): () => void {
    this.#listeners.add(listener);
    return () => {
      this.#listeners.delete(listener);
    };
  }

  /** An event for subscribers (call it when it happens: the server stamps the time). */
  emit(ev: ApiEvent): void {
    for (const f of this.#listeners) f(ev);
  }

  #snapshot(ctx: ApiContext): ContextSnapshot {
    const s = this.d.host().context({ ctLocal: ctx.id as bigint });
    if (!s || s.state !== ContextState.Established) throw new ApiError('ENOENT', 'the context is gone');
    return s;
  }

  #prefs(ct: bigint): AppPrefs {
    let p = this.prefs.get(ct);
    if (!p) {
      p = { local: new Map(), peer: new Map(), localOnly: null, peerOnly: null };
      this.prefs.set(ct, p);
    }
    return p;
  }

  lookupContext(sock: SocketRef): ApiContext | null {
    if (!sock.local || !sock.peer || sock.local.family !== 'IPv6' || sock.peer.family !== 'IPv6') return null;
    let fii = 0;
    try {
      fii = readSockPolicy(this.d.sockMapFd(), sock.fd)?.fii ?? 0;
    } catch { /* no policy */ }
    const s = this.d.host().context({ ulidLocal: sock.local.addr, ulidPeer: sock.peer.addr, fii });
    if (!s || s.ctLocal === null || s.state !== ContextState.Established || !this.d.held(s.ctLocal)) return null;
    return { id: s.ctLocal, ulidLocal: s.ulidLocal, ulidPeer: s.ulidPeer, fii: s.fii };
  }

  locators(ctx: ApiContext, side: Side): LocatorInfo[] {
    const s = this.#snapshot(ctx);
    const prefs = this.prefs.get(ctx.id as bigint);
    const methodFlags = (m: number): number => (m === 1 ? SHIM_LOC_FLAG_HBA : m === 2 ? SHIM_LOC_FLAG_CGA : 0);
    if (side === 'local') {
      const addrs = this.d.addresses().addresses();
      const rows = s.lsLocal.length > 0 ? s.lsLocal : [{ addr: s.ulidLocal, method: 0, flags: 0, priority: 0, weight: 0 }];
      return rows.filter((l) => !prefs?.localOnly || prefs.localOnly.has(hex(l.addr))).map((l) => {
        const app = prefs?.local.get(hex(l.addr));
        return {
          addr: l.addr,
          flags: methodFlags(l.method),
          prio: app?.prio ?? l.priority ?? 0,
          weight: app?.weight ?? l.weight ?? 0,
          ifindex: addrs.find((a) => hex(a.bytes) === hex(l.addr))?.ifindex ?? 0,
        };
      });
    }
    return s.lsPeer.filter((p) => !prefs?.peerOnly || prefs.peerOnly.has(hex(p.addr))).map((p) => {
      const app = prefs?.peer.get(hex(p.addr));
      return {
        addr: p.addr,
        flags: methodFlags(p.method),
        prio: app?.prio ?? p.priority ?? 0,
        weight: app?.weight ?? p.weight ?? 0,
        reach: p.verification === 'failed' ? 'unreachable' : p.usable ? 'verified' : 'unverified',
      };
    });
  }

  isLocalAddress(addr: Uint8Array): boolean {
    const k = hex(addr);
    return this.d.addresses().addresses().some((a) => hex(a.bytes) === k && !a.tentative && !a.dadfailed);
  }

  /** A host address outside Ls(local): only HBA-set members may be announced, and those already are. */
  addLocalLocator(): boolean {
    return false;
  }

  setPreference(ctx: ApiContext, side: Side, pref: LocatorPref): void {
    this.#snapshot(ctx);
    const p = this.#prefs(ctx.id as bigint);
    (side === 'local' ? p.local : p.peer).set(hex(pref.addr), pref);
    this.d.prefsChanged(ctx.id as bigint);
  }

  setLocatorList(ctx: ApiContext, side: Side, list: readonly LocatorPref[]): void {
    this.#snapshot(ctx);
    const p = this.#prefs(ctx.id as bigint);
    const m = side === 'local' ? p.local : p.peer;
    m.clear();
    for (const l of list) m.set(hex(l.addr), l);
    if (side === 'local') p.localOnly = new Set(list.map((l) => hex(l.addr)));
    else p.peerOnly = new Set(list.map((l) => hex(l.addr)));
    this.d.prefsChanged(ctx.id as bigint);
  }

  socketPolicy(sock: SocketRef): SocketPolicy {
    const v = readSockPolicy(this.d.sockMapFd(), sock.fd);
    if (!v) return { ...DEFAULT_POLICY, ...(this.#recv.get(sock.cookie) ?? {}) };
    return fromDataplanePolicy(v, this.#recv.get(sock.cookie));
  }

  setSocketPolicy(sock: SocketRef, policy: SocketPolicy): void {
    writeSockPolicy(this.d.sockMapFd(), sock.fd, policy);
    if (policy.recvLocal || policy.recvPeer) this.#recv.set(sock.cookie, { recvLocal: policy.recvLocal, recvPeer: policy.recvPeer });
    else this.#recv.delete(sock.cookie);
  }

  reap(ctx: ApiContext): ReapView | null {
    this.#snapshot(ctx);
    const v = this.d.reap().view(ctx.id as bigint);
    if (!v) return null;
    const effective: ReapKnobs = {
      sendTimeoutS: Math.round(v.sendTimeoutMs / 1000),
      keepaliveIntervalS: Math.max(1, Math.round(v.sendTimeoutMs / 3000)),
      initialProbes: 4,
      initialProbeTimeoutMs: 500,
      hotStandby: v.hotStandby,
    };
    const requested: ReapKnobs = {
      sendTimeoutS: v.sendTimeoutMs === DEFAULT_SEND_TIMEOUT_MS ? 0 : effective.sendTimeoutS,
      keepaliveIntervalS: 0,
      initialProbes: 0,
      initialProbeTimeoutMs: 0,
      hotStandby: v.hotStandby,
    };
    return { requested, effective };
  }

  setReap(ctx: ApiContext, changes: Partial<ReapKnobs>): void {
    this.#snapshot(ctx);
    const ct = ctx.id as bigint;
    const now = this.d.now();
    if (changes.sendTimeoutS !== undefined) {
      const ms = changes.sendTimeoutS === 0 ? DEFAULT_SEND_TIMEOUT_MS : changes.sendTimeoutS * 1000;
      if (!this.d.reap().setSendTimeout(now, ct, ms)) throw new ApiError('EOPNOTSUPP', 'no REAP instance for this context');
    }
    if (changes.hotStandby !== undefined && !this.d.reap().setHotStandby(now, ct, changes.hotStandby)) {
      throw new ApiError('EOPNOTSUPP', 'no REAP instance for this context');
    }
  }

  deferredSetup(): boolean {
    return true;
  }

  feedback(ctx: ApiContext, fb: Feedback): void {
    if (fb.indicator === 'satisfactory') return;
    this.d.reap().feedback(this.d.now(), ctx.id as bigint, 'app');
  }

  /** SHIM_LOC_*_RECV: the pair of the latest packet received, else the pair in use. */
  receivedLocators(ctx: ApiContext): { local: Uint8Array; peer: Uint8Array } {
    const s = this.#snapshot(ctx);
    return this.d.rxPair?.(ctx.id as bigint) ?? { local: s.lpLocal, peer: s.lpPeer };
  }

  /** A context went away: its application state too. */
  forget(ct: bigint): void {
    this.prefs.delete(ct);
  }
}
