// The RFC 6316 API served by the agent: ApiBackend (src/api/backend.ts) on
// the context core, REAP and the data-plane maps. The API server calls in
// here only; everything it learns about a socket came from the fd itself.
import crypto from 'node:crypto';
import fs from 'node:fs';
import { ContextState, type ContextSnapshot, type ShimHost } from '../context/index.js';
import {
  ApiError, DEFAULT_POLICY, type ApiBackend, type ApiContext, type ApiEvent, type Feedback, type LocatorInfo, type LocatorPref, type PreferenceChange,
  type ReapKnobs, type ReapView, type Side, type SocketPolicy, type SocketRef,
} from '../api/backend.js';
import { SHIM_LOC_FLAG_CGA, SHIM_LOC_FLAG_HBA } from '../api/shim-h.js';
import { readSockPolicy, writeSockPolicy, fromDataplanePolicy } from '../api/sock-policy.js';
import * as L from '../generated/layout.js';
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
  /** Start a context for (ULID pair, FII) (a fork: I1 with the FII option). */
  trigger?(ulidLocal: Uint8Array, ulidPeer: Uint8Array, fii: number): void;
  /** Delete a context (a fork whose socket closed). */
  removeContext?(ct: bigint): void;
  /** Move a context to this pair now (false: the core refused it). */
  setPair?(ct: bigint, local: Uint8Array, peer: Uint8Array): boolean;
  /** Inodes of this network namespace's TCP/UDP sockets (default: /proc/net/{tcp,udp}{,6}). */
  liveSockets?(): Set<number>;
  now(): number;
}

/** A socket, as the forking code remembers it: its cookie and its inode (for liveness, /proc/net). */
interface SocketId {
  readonly cookie: bigint;
  readonly ino: number;
}

/** A socket that set an option (shim6ctl sockets). */
export interface SocketView {
  cookie: string;
  pid: number;
  uid: number;
  local: string | null;
  peer: string | null;
  /** The context it uses now (CT(local)), null without one. */
  ctLocal: string | null;
  fii: number;
  /** Options (and sendmsg ancillary data) it set, in order of first use. */
  options: string[];
  lastSetAgoS: number;
}

/** Sockets remembered for shim6ctl sockets (the oldest go first). */
export const MAX_SOCKETS = 4096;

/** How long a fork may take to establish before the setsockopt fails (EAGAIN). */
export const FORK_ESTABLISH_MS = 5000;
/** How often forks are checked for a closed socket. */
export const FORK_SWEEP_MS = 500;

/** Inodes of the sockets in /proc/net/{tcp,tcp6,udp,udp6} (this network namespace). */
export function procSocketInodes(): Set<number> {
  const out = new Set<number>();
  for (const f of ['tcp6', 'udp6', 'tcp', 'udp']) {
    let text: string;
    try {
      text = fs.readFileSync(`/proc/net/${f}`, 'utf8');
    } catch {
      continue;
    }
    const rows = text.split('\n');
    for (let i = 1; i < rows.length; i++) {
      const cols = rows[i].trim().split(/\s+/);
      const ino = Number(cols[9]);
      if (ino > 0) out.add(ino);
    }
  }
  return out;
}

export class AgentApiBackend implements ApiBackend {
  readonly prefs = new Map<bigint, AppPrefs>();
  /** Receive flags live outside the data plane's policy record, by socket cookie. */
  readonly #recv = new Map<bigint, { recvLocal: boolean; recvPeer: boolean }>();

  readonly #listeners = new Set<(ev: ApiEvent) => void>();
  /** Who set the application preferences of a shared context (RFC 6316 §11.1), by context. */
  readonly #prefOwner = new Map<bigint, SocketId>();
  /** SHIM_APP_TIMEOUT / pe_keepaliveto as the application set them, by context. */
  readonly #appTimeout = new Map<bigint, number>();
  /** Forked contexts (by CT(local)) and the socket each one serves. */
  readonly forks = new Map<bigint, SocketId & { readonly fii: number }>();
  #sweep: NodeJS.Timeout | null = null;
  /** Sockets that set options, by cookie (shim6ctl sockets). */
  readonly #sockets = new Map<bigint, { ref: SocketId; pid: number; uid: number; local: string | null; peer: string | null; ulidLocal: Uint8Array | null; ulidPeer: Uint8Array | null; options: string[]; at: number }>();

  constructor(private readonly d: AgentApiDeps) {}

  /** Stop the fork sweep (agent stop). */
  close(): void {
    if (this.#sweep) clearInterval(this.#sweep);
    this.#sweep = null;
  }

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

  /**
   * Snapshots taken during one request, by the ApiContext lookupContext made
   * for it (one per request): a request reads its context several times and
   * a snapshot copies every locator. Forgotten when the request moves the
   * context (setPair); a fork has an ApiContext of its own.
   */
  readonly #snaps = new WeakMap<ApiContext, ContextSnapshot>();

  #snapshot(ctx: ApiContext): ContextSnapshot {
    const cached = this.#snaps.get(ctx);
    if (cached) return cached;
    const s = this.d.host().context({ ctLocal: ctx.id as bigint });
    if (!s || s.state !== ContextState.Established) throw new ApiError('ENOENT', 'the context is gone');
    this.#snaps.set(ctx, s);
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
      fii = this.socketPolicy(sock).fii;
    } catch { /* no policy */ }
    const s = this.d.host().context({ ulidLocal: sock.local.addr, ulidPeer: sock.peer.addr, fii });
    if (!s || s.ctLocal === null || s.state !== ContextState.Established || !this.d.held(s.ctLocal)) return null;
    const ctx: ApiContext = { id: s.ctLocal, ulidLocal: s.ulidLocal, ulidPeer: s.ulidPeer, fii: s.fii };
    this.#snaps.set(ctx, s);
    return ctx;
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
    const m = side === 'local' ? p.local : p.peer;
    const k = hex(pref.addr);
    const old = m.get(k);
    // The same preference again changes nothing: no re-ranking, no data-plane write.
    if (old && old.prio === pref.prio && old.weight === pref.weight) return;
    m.set(k, pref);
    this.d.prefsChanged(ctx.id as bigint);
    this.#moveToPreferred(ctx);
  }

  /**
   * The application's preferences choose among candidate locators (RFC 6316
   * §6.4/§6.5, superseding the peer's): when they name a better pair than
   * the one in use — the most preferred local locator on an interface and
   * the most preferred verified peer locator — the context moves to it.
   */
  #moveToPreferred(ctx: ApiContext): void {
    if (!this.d.setPair) return;
    const s = this.#snapshot(ctx);
    const key = (l: LocatorInfo) => l.prio * 0x10000 + (0xffff - l.weight);
    const pick = (ls: LocatorInfo[]) => ls.reduce<LocatorInfo | undefined>((b, l) => (!b || key(l) < key(b) ? l : b), undefined);
    const local = pick(this.locators(ctx, 'local').filter((l) => this.isLocalAddress(l.addr)));
    const peer = pick(this.locators(ctx, 'peer').filter((l) => l.reach === 'verified'));
    if (!local || !peer || (hex(local.addr) === hex(s.lpLocal) && hex(peer.addr) === hex(s.lpPeer))) return;
    this.#snaps.delete(ctx);
    this.d.setPair(ctx.id as bigint, local.addr, peer.addr);
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
    this.#moveToPreferred(ctx);
  }

  /** Policies read during one request (a SocketRef lives for one request): one map lookup per request. */
  readonly #policyOf = new WeakMap<SocketRef, SocketPolicy>();

  /** Sockets whose policy this backend wrote during the request: the server's prefetched record is stale. */
  readonly #written = new WeakSet<SocketRef>();

  socketPolicy(sock: SocketRef): SocketPolicy {
    const cached = this.#policyOf.get(sock);
    if (cached) return cached;
    const pre = this.#written.has(sock) ? undefined : sock.prefetchedPolicy;
    const v = pre !== undefined ? (pre && L.decodeShim6SockPolicy(pre)) : readSockPolicy(this.d.sockMapFd(), sock.fd);
    const p = v ? fromDataplanePolicy(v, this.#recv.get(sock.cookie)) : { ...DEFAULT_POLICY, ...(this.#recv.get(sock.cookie) ?? {}) };
    this.#policyOf.set(sock, p);
    return p;
  }

  setSocketPolicy(sock: SocketRef, policy: SocketPolicy): void {
    this.#policyOf.delete(sock);
    this.#written.add(sock);
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
      // What the application set (RFC 6316 §6.12 reads back its value, 15 included), else 0 when REAP runs its default.
      sendTimeoutS: this.#appTimeout.get(ctx.id as bigint) ?? (v.sendTimeoutMs === DEFAULT_SEND_TIMEOUT_MS ? 0 : effective.sendTimeoutS),
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
      if (changes.sendTimeoutS === 0) this.#appTimeout.delete(ct);
      else this.#appTimeout.set(ct, changes.sendTimeoutS);
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

  /** A socket set an option: remember it for shim6ctl sockets (while its fd is open). */
  noteSocket(sock: SocketRef, what: string): void {
    let r = this.#sockets.get(sock.cookie);
    if (!r) {
      if (this.#sockets.size >= MAX_SOCKETS) this.#sockets.delete(this.#sockets.keys().next().value!);
      const text = (a: SocketRef['local']) => (a ? (a.family === 'IPv6' ? `[${a.address}]:${a.port}` : `${a.address}:${a.port}`) : null);
      r = {
        ref: { cookie: sock.cookie, ino: fs.fstatSync(sock.fd).ino }, pid: sock.cred.pid, uid: sock.cred.uid,
        local: text(sock.local), peer: text(sock.peer), ulidLocal: sock.local?.addr ?? null, ulidPeer: sock.peer?.addr ?? null, options: [], at: 0,
      };
      this.#sockets.set(sock.cookie, r);
    }
    if (!r.options.includes(what)) r.options.push(what);
    r.at = this.d.now();
  }

  /** The open sockets that set options, with the context each one uses (shim6ctl sockets). */
  socketsView(): SocketView[] {
    const live = (this.d.liveSockets ?? procSocketInodes)();
    const out: SocketView[] = [];
    for (const [cookie, r] of [...this.#sockets]) {
      if (!live.has(r.ref.ino)) {
        this.#sockets.delete(cookie);
        continue;
      }
      const fork = [...this.forks].find(([, f]) => f.cookie === cookie);
      const fii = fork?.[1].fii ?? 0;
      const s = r.ulidLocal && r.ulidPeer ? this.d.host().context(fork ? { ctLocal: fork[0] } : { ulidLocal: r.ulidLocal, ulidPeer: r.ulidPeer, fii: 0 }) : undefined;
      out.push({
        cookie: cookie.toString(), pid: r.pid, uid: r.uid, local: r.local, peer: r.peer,
        ctLocal: s?.ctLocal != null ? `0x${s.ctLocal.toString(16)}` : null, fii, options: r.options,
        lastSetAgoS: Math.round((this.d.now() - r.at) / 100) / 10,
      });
    }
    return out;
  }

  /** A context went away: its application state too. */
  forget(ct: bigint): void {
    this.prefs.delete(ct);
    this.#prefOwner.delete(ct);
    this.#appTimeout.delete(ct);
  }

  /**
   * RFC 6316 §11.1. The first socket to set preferences on a shared context
   * owns them; another socket's change that would alter what the owner gets
   * (the most preferred locator on that side, or the list) while the owner is
   * open forks a context for the changing socket. A fork's own socket changes
   * its fork. SHIM_LOC_*_SEND never forks: pins are per socket already.
   */
  async preferenceContext(sock: SocketRef, ctx: ApiContext, change: PreferenceChange): Promise<ApiContext> {
    const ct = ctx.id as bigint;
    if (ctx.fii !== 0) return ctx;
    const owner = this.#prefOwner.get(ct);
    const live = (id: SocketId): boolean => (this.d.liveSockets ?? procSocketInodes)().has(id.ino);
    const me = (): SocketId => ({ cookie: sock.cookie, ino: fs.fstatSync(sock.fd).ino });
    if (!owner || owner.cookie === sock.cookie || !live(owner) || !this.#conflicts(ctx, change)) {
      if (!owner || owner.cookie !== sock.cookie) this.#prefOwner.set(ct, me());
      return ctx;
    }
    if (!this.d.trigger || !this.d.removeContext) return ctx;
    return this.#fork(sock, ctx, me());
  }

  /** Would the change alter what the shared context's owner gets? */
  #conflicts(ctx: ApiContext, change: PreferenceChange): boolean {
    const now = this.locators(ctx, change.side);
    const key = (l: { prio: number; weight: number }) => l.prio * 0x10000 + (0xffff - l.weight);
    const best = (ls: ReadonlyArray<{ addr: Uint8Array; prio: number; weight: number }>) =>
      ls.reduce<{ addr: Uint8Array; prio: number; weight: number } | undefined>((b, l) => (!b || key(l) < key(b) ? l : b), undefined);
    let after: ReadonlyArray<{ addr: Uint8Array; prio: number; weight: number }>;
    if (change.list) {
      const mine = new Set(change.prefs.map((p) => hex(p.addr)));
      if (mine.size !== now.length || now.some((l) => !mine.has(hex(l.addr)))) return true;
      after = change.prefs;
    } else {
      const p = change.prefs[0];
      after = now.map((l) => (hex(l.addr) === hex(p.addr) ? { ...l, prio: p.prio, weight: p.weight } : l));
    }
    const b0 = best(now), b1 = best(after);
    return !!b0 && !!b1 && hex(b0.addr) !== hex(b1.addr);
  }

  /** Fork ctx for this socket: a new FII in its policy, I1 with the FII option, wait for ESTABLISHED. */
  async #fork(sock: SocketRef, ctx: ApiContext, owner: SocketId): Promise<ApiContext> {
    const policy = this.socketPolicy(sock);
    let fii = 0;
    while (fii === 0 || this.d.host().context({ ulidLocal: ctx.ulidLocal, ulidPeer: ctx.ulidPeer, fii })) fii = crypto.randomInt(1, 0xffff_ffff);
    this.setSocketPolicy(sock, { ...policy, fii });
    this.d.trigger!(ctx.ulidLocal, ctx.ulidPeer, fii);
    const s0 = this.d.host().context({ ulidLocal: ctx.ulidLocal, ulidPeer: ctx.ulidPeer, fii });
    const fail = (why: string): never => {
      if (s0?.ctLocal != null) this.d.removeContext!(s0.ctLocal);
      this.setSocketPolicy(sock, policy);
      throw new ApiError('EAGAIN', `context fork (FII ${fii}) ${why}`);
    };
    if (!s0 || s0.ctLocal === null) return fail('not started');
    const ct = s0.ctLocal;
    this.forks.set(ct, { ...owner, fii });
    this.#startSweep();
    const deadline = this.d.now() + FORK_ESTABLISH_MS;
    for (;;) {
      const s = this.d.host().context({ ctLocal: ct });
      if (s && s.state === ContextState.Established && this.d.held(ct)) break;
      if (!s || this.d.now() > deadline) {
        this.forks.delete(ct);
        return fail(s ? 'not established in time' : 'failed');
      }
      await new Promise((r) => setTimeout(r, 10));
    }
    // The fork starts from the shared context's application preferences.
    const shared = this.prefs.get(ctx.id as bigint);
    if (shared) {
      this.prefs.set(ct, {
        local: new Map(shared.local), peer: new Map(shared.peer),
        localOnly: shared.localOnly && new Set(shared.localOnly), peerOnly: shared.peerOnly && new Set(shared.peerOnly),
      });
    }
    this.#prefOwner.set(ct, owner);
    return { id: ct, ulidLocal: ctx.ulidLocal, ulidPeer: ctx.ulidPeer, fii };
  }

  #startSweep(): void {
    if (this.#sweep) return;
    this.#sweep = setInterval(() => this.sweepForks(), FORK_SWEEP_MS);
    this.#sweep.unref();
  }

  /** Delete the forks whose socket has closed (RFC 6316 §11.1: SHOULD). */
  sweepForks(): void {
    if (this.forks.size === 0) {
      this.close();
      return;
    }
    const live = (this.d.liveSockets ?? procSocketInodes)();
    for (const [ct, f] of [...this.forks]) {
      if (!this.d.host().context({ ctLocal: ct })) {
        this.forks.delete(ct); // gone by itself (lost, idle)
        continue;
      }
      if (live.has(f.ino)) continue;
      this.forks.delete(ct);
      this.d.removeContext!(ct);
    }
  }
}
