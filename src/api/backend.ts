// What the RFC 6316 API server needs from the rest of the agent, and nothing
// more. The server (server.ts) and the option logic (options.ts) talk to the
// agent only through ApiBackend; the agent implements it with its context
// core, REAP and the data-plane maps; tests implement it with a fake.
//
// Every method may answer synchronously or with a promise. A method may throw
// an ApiError to answer the caller with that errno; any other exception is
// answered with EIO (and logged).
import type { ErrnoName } from './shim-h.js';

export type MaybePromise<T> = T | Promise<T>;

/** An address as the API sees it: 16 bytes (IPv4 as ::ffff:a.b.c.d), plus its text and port. */
export interface SockAddr {
  readonly family: 'IPv6' | 'IPv4';
  readonly address: string;
  readonly port: number;
  readonly addr: Uint8Array;
}

/**
 * The caller's socket, identified from the fd it passed (SCM_RIGHTS). `fd` is
 * valid only until the handler's promise settles: the server closes it before
 * answering. Use it synchronously (e.g. to write socket-local storage).
 */
export interface SocketRef {
  readonly fd: number;
  readonly cookie: bigint;
  readonly family: number;    // AF_INET6, AF_INET, ...
  readonly type: number;      // SOCK_STREAM, SOCK_DGRAM, ...
  readonly protocol: number;  // IPPROTO_TCP, IPPROTO_UDP, ...
  readonly local: SockAddr | null;
  readonly peer: SockAddr | null;
  /** Bound to one peer: TCP after the handshake, UDP after connect(). */
  readonly connected: boolean;
  readonly listening: boolean;
  readonly tcpState: number | null;
  /** The calling process (SO_PEERCRED), for audit. */
  readonly cred: { readonly pid: number; readonly uid: number; readonly gid: number };
  /**
   * The socket's struct shim6_sock_policy as the server read it when the
   * request arrived (null: none; undefined: not read): a backend may use it
   * instead of reading the map again, until it writes the policy itself.
   */
  readonly prefetchedPolicy?: Uint8Array | null;
}

/** A shim context as the API names it. `id` is the backend's own handle, opaque here. */
export interface ApiContext {
  readonly id: unknown;
  readonly ulidLocal: Uint8Array;
  readonly ulidPeer: Uint8Array;
  readonly fii: number;
}

/** Reachability of a peer locator, as RFC 6316's errors need it. */
export type PeerReachability = 'verified' | 'unverified' | 'unreachable';

/** One locator of a context (Ls(local) or Ls(peer)) with its effective preference. */
export interface LocatorInfo {
  readonly addr: Uint8Array;
  /** SHIM_LOC_FLAG_HBA / SHIM_LOC_FLAG_CGA: how the locator is (or was) proven. */
  readonly flags: number;
  /** Effective preference (application's if set, else the peer's Locator Preferences, else 0). Lower is preferred. */
  readonly prio: number;
  /** Higher is preferred among equal priorities. */
  readonly weight: number;
  /** Local locators: the interface that carries it (0 when unknown). */
  readonly ifindex?: number;
  /** Peer locators: REAP/HBA state. Absent on local locators. */
  readonly reach?: PeerReachability;
}

export type Side = 'local' | 'peer';

/** A preference change as the forking decision sees it: one locator (PREF), or a whole list (LOCLIST). */
export interface PreferenceChange {
  readonly side: Side;
  readonly prefs: readonly LocatorPref[];
  readonly list: boolean;
}

/** A locator and the preference the application asks for. */
export interface LocatorPref {
  readonly addr: Uint8Array;
  readonly prio: number;
  readonly weight: number;
}

/**
 * Per-socket settings of the API. The backend stores them (the data-plane
 * part — dontShim, sendLocal, sendPeer, fii — in shim6_sock_policy in the
 * socket-local storage map shim6_sock, keyed by `sock.fd`; the rest wherever
 * it likes, e.g. spare flag bits), so they die with the socket.
 */
export interface SocketPolicy {
  /** SHIM_DONTSHIM (SHIM6_SOCK_F_DONTSHIM). */
  readonly dontShim: boolean;
  /** SHIM_LOC_LOCAL_SEND: pinned source locator (SHIM6_SOCK_F_PIN_LOCAL, lp_local), null: none. */
  readonly sendLocal: Uint8Array | null;
  /** SHIM_LOC_PEER_SEND: pinned destination locator (SHIM6_SOCK_F_PIN_PEER, lp_peer), null: none. */
  readonly sendPeer: Uint8Array | null;
  /** SHIM_LOC_LOCAL_RECV / SHIM_LOC_PEER_RECV (RECVMSG ancillary data). */
  readonly recvLocal: boolean;
  readonly recvPeer: boolean;
  /** Forked context instance this socket uses (0: the default context). */
  readonly fii: number;
}

export const DEFAULT_POLICY: SocketPolicy = Object.freeze({
  dontShim: false, sendLocal: null, sendPeer: null, recvLocal: false, recvPeer: false, fii: 0,
});

/**
 * REAP knobs of one context (RFC 6316 §6.3, §6.12, §6.13). 0 means "REAP's
 * default" in `requested`; `effective` holds the values in force.
 * sendTimeoutS is both SHIM_APP_TIMEOUT and pe_keepaliveto (DESIGN.md: setting
 * one sets the other; it is advertised with the Keepalive Timeout option).
 */
export interface ReapKnobs {
  readonly sendTimeoutS: number;
  readonly keepaliveIntervalS: number;
  readonly initialProbes: number;
  readonly initialProbeTimeoutMs: number;
  readonly hotStandby: boolean;
}

export interface ReapView {
  readonly requested: ReapKnobs;
  readonly effective: ReapKnobs;
}

/** Application feedback (SHIM_FEEDBACK, RFC 6316 §7.3; used once ancillary data lands). */
export interface Feedback {
  readonly direction: 'outbound' | 'inbound';
  readonly indicator: 'unable' | 'unsatisfactory' | 'satisfactory';
}

export type ApiEventType = 'established' | 'pair-changed' | 'path-failed' | 'path-recovered' | 'lost';

/**
 * A context event for subscribers (SUBSCRIBE, src/api/README.md). The server
 * routes it by the context's ULID pair and FII to the connections that
 * subscribed with a socket of that pair, and stamps it with the time of the
 * listener call: call the listener when the event happens.
 *   established     the context reached ESTABLISHED; local/peer: the locator pair in use
 *   pair-changed    REAP (or the application) moved the context to a new pair: local/peer (required)
 *   path-failed     REAP found the current pair failed and is exploring; local/peer: the failed pair
 *   path-recovered  REAP has a working pair again; local/peer: that pair
 *   lost            the context is gone (removed, or its peer unreachable for good)
 * Only ulidLocal, ulidPeer and fii of ctx are read.
 */
export type ApiEvent = (
  | { readonly type: 'pair-changed'; readonly ctx: ApiEventContext; readonly local: Uint8Array; readonly peer: Uint8Array }
  | { readonly type: 'path-failed' | 'path-recovered' | 'established' | 'lost'; readonly ctx: ApiEventContext; readonly local?: Uint8Array; readonly peer?: Uint8Array }
) & {
  /**
   * When it happened (CLOCK_MONOTONIC ns), e.g. when the data plane's maps
   * took the new pair or its packet moved the context (ring-buffer stamp):
   * the event's ev_mono_ns. Absent: when the server routes it.
   */
  readonly atNs?: bigint;
};

/** The part of a context an event names (an ApiContext will do). */
export type ApiEventContext = Pick<ApiContext, 'ulidLocal' | 'ulidPeer' | 'fii'>;

export interface ApiBackend {
  /**
   * The context a connected socket's traffic belongs to: its ULID pair (local
   * and peer address of the socket) and FII (0, or its forked instance), or
   * null when there is none.
   */
  lookupContext(sock: SocketRef): MaybePromise<ApiContext | null>;

  /** Ls(local) and Ls(peer) of a context, with effective preferences and (peer) reachability. */
  locators(ctx: ApiContext, side: Side): MaybePromise<readonly LocatorInfo[]>;

  /** Whether an address is configured on one of this host's interfaces (RFC 6316 §14.1.1). */
  isLocalAddress(addr: Uint8Array): MaybePromise<boolean>;

  /**
   * A host address that is not in Ls(local) was named by the application
   * (RFC 6316 §14.1.1: SHOULD start a locator list update). Add it to Ls(local)
   * and start the Update, returning true; or return false when it cannot be a
   * locator of this context (e.g. not in its HBA set) — the caller gets
   * EINVALIDLOCATOR.
   */
  addLocalLocator(ctx: ApiContext, addr: Uint8Array): MaybePromise<boolean>;

  /**
   * Application preference for one locator (SHIM_LOC_*_PREF). It supersedes
   * the peer's Locator Preferences (RFC 6316 §11.1) for this context's
   * locator selection until replaced. Local preferences are also announced to
   * the peer (Locator Preferences option).
   */
  setPreference(ctx: ApiContext, side: Side, pref: LocatorPref): MaybePromise<void>;

  /**
   * SHIM_LOCLIST_*: the application restricts the context to these locators
   * with these preferences (every entry already checked: known, valid,
   * verified/reachable for the peer side). Local: announce the new Ls(local)
   * (Update Request). Peer: use only these peer locators.
   */
  setLocatorList(ctx: ApiContext, side: Side, list: readonly LocatorPref[]): MaybePromise<void>;

  /** The socket's policy (DEFAULT_POLICY when it has none). */
  socketPolicy(sock: SocketRef): MaybePromise<SocketPolicy>;

  /** Replace the socket's policy (write shim6_sock_policy for `sock.fd` now: the fd closes afterwards). */
  setSocketPolicy(sock: SocketRef, policy: SocketPolicy): MaybePromise<void>;

  /** REAP knobs of the context, or null when there is no REAP instance on this system (→ EOPNOTSUPP). */
  reap(ctx: ApiContext): MaybePromise<ReapView | null>;

  /** Change some REAP knobs (0 = back to REAP's default). */
  setReap(ctx: ApiContext, changes: Partial<ReapKnobs>): MaybePromise<void>;

  /** SHIM_DEFERRED_CONTEXT_SETUP: true for Shim6. */
  deferredSetup(): boolean;

  /**
   * Context forking (RFC 6316 §11.1): the context a preference change of
   * this socket (SHIM_LOC_*_PREF, SHIM_LOCLIST_*) applies to. `ctx` itself,
   * unless the change conflicts with preferences another live socket set on
   * it: then a forked context (new FII) for this socket only, established
   * before this resolves, its FII in the socket's policy, deleted when the
   * socket closes. Without it, changes apply to the shared context.
   */
  preferenceContext?(sock: SocketRef, ctx: ApiContext, change: PreferenceChange): MaybePromise<ApiContext>;

  /**
   * A set (SETSOCKOPT, or SENDMSG ancillary data) of this socket succeeded
   * (for `shim6ctl sockets`). Called while the passed fd is still open.
   */
  noteSocket?(sock: SocketRef, what: string): void;

  /** SHIM_FEEDBACK from sendmsg (RFC 6316 §7.3). */
  feedback?(ctx: ApiContext, fb: Feedback): MaybePromise<void>;

  /**
   * The locator pair the context's latest packet arrived on (RFC 6316 §7.1,
   * SHIM_LOC_*_RECV ancillary data): local = its destination, peer = its
   * source. Before any packet: the pair in use. Without it, RECVMSG answers
   * with the ULID pair.
   */
  receivedLocators?(ctx: ApiContext): MaybePromise<{ readonly local: Uint8Array; readonly peer: Uint8Array }>;

  /**
   * Context events (SUBSCRIBE). The server subscribes once, when it starts
   * listening, and routes events to its clients itself; the returned function
   * unsubscribes (server close). Without it, SUBSCRIBE answers EOPNOTSUPP.
   * The listener never throws and does its sends without blocking.
   */
  subscribe?(listener: (ev: ApiEvent) => void): () => void;
}

/** An error the API answers with its errno (RFC 6316 names included). */
export class ApiError extends Error {
  constructor(readonly errno: ErrnoName, message?: string) {
    super(message ?? errno);
    this.name = 'ApiError';
  }
}
