// Public types of the Shim6 context core: host configuration, inputs,
// context snapshots and the actions the caller performs.

import type { KeyObject } from 'node:crypto';
import type { RandomSource, VerificationCache } from '../hba/index.js';
import type { KeepaliveMessage, MsgKind, ProbeMessage } from '../wire/index.js';
import type { ContextState, TimerConfig } from './consts.js';

export type { RandomSource };

// ------------------------------------------------------------ local locators

/**
 * How the peer is to verify a local locator (RFC 5533 §7.2, §5.15.2):
 *  - 'hba': the locator belongs to the HBA set of the context's PDS;
 *  - 'cga': the locator is signed with `LocalLocatorSet.privateKey`;
 *  - 'none': never announced in a Locator List (plain, unverifiable).
 */
export type LocalVerification = 'hba' | 'cga' | 'none';

export interface LocalLocator {
  /** 16-byte IPv6 address. */
  readonly addr: Uint8Array;
  readonly method: LocalVerification;
  /** Locator Preferences flags (BROKEN 0x01, TRANSIENT 0x02); default 0. */
  readonly flags?: number;
  /** DNS SRV-style priority (lower is preferred). */
  readonly priority?: number;
  /** DNS SRV-style weight. */
  readonly weight?: number;
}

/** A CGA Parameter Data Structure and the address it generates. */
export interface LocalPds {
  readonly addr: Uint8Array;
  readonly params: Uint8Array;
}

/**
 * The host's locators and what is needed to prove them to a peer. A context
 * announces the locators that verify against the PDS of its ULID(local)
 * (exact address match, else any PDS of the same HBA set). With no PDS for a
 * ULID, its contexts announce nothing and run on the ULIDs alone.
 */
export interface LocalLocatorSet {
  /** Locators in Locator List order. */
  readonly locators: readonly LocalLocator[];
  /** PDS per address (`HbaSet.params[i]` for `HbaSet.addresses[i]`). */
  readonly pds?: readonly LocalPds[];
  /** RSA private key of the PDS public key: needed for locators with method 'cga'. */
  readonly privateKey?: KeyObject;
}

// ------------------------------------------------------------------- config

/** What to do with an old context found confused with a new one (RFC 5533 §7.15). */
export type ConfusionPolicy = 'discard' | 'reestablish';

export interface ShimHostConfig {
  /** Injected randomness: `random(n)` returns n fresh random octets. */
  readonly random: RandomSource;
  readonly locators: LocalLocatorSet;
  /** Overrides of the RFC 5533 §14 constants. */
  readonly timers?: Partial<TimerConfig>;
  /**
   * Width of the context tag space, 2..47 (default 47). RFC 5533 Appendix C
   * suggests a narrow space in testing so tags are reused.
   */
  readonly tagBits?: number;
  /** Default 'discard' (RFC 5533 §7.6: re-creation is optional). */
  readonly onConfusion?: ConfusionPolicy;
  /** Send a Keepalive Timeout option (RFC 5534 §5.3, seconds) in I2, I2bis, R2 and Update Request. */
  readonly keepaliveTimeoutSec?: number;
  /** Minimum Sec accepted for peer HBAs/CGAs (default 0). */
  readonly minSec?: number;
  /** Shared verification cache (default: a private one of 256 entries). */
  readonly verificationCache?: VerificationCache;
}

// ------------------------------------------------------------------- inputs

/** A Shim6 control message from the raw socket. */
export interface ReceivedPacket {
  /** IPv6 source address (16 bytes). */
  readonly src: Uint8Array;
  /** IPv6 destination address (16 bytes). */
  readonly dst: Uint8Array;
  /** From the Shim6 header on (Next Header 140 payload). */
  readonly bytes: Uint8Array;
}

export interface TriggerRequest {
  readonly ulidLocal: Uint8Array;
  readonly ulidPeer: Uint8Array;
  /** Forked Instance Identifier; 0 (default context) when absent. */
  readonly fii?: number;
}

/** A payload packet whose context tag the data plane did not accept. */
export interface UnknownTagPacket {
  readonly src: Uint8Array;
  readonly dst: Uint8Array;
  readonly tag: bigint;
}

/** An ICMPv6 Parameter Problem (type 4) received by the host. */
export interface IcmpParameterProblem {
  readonly code: number;
  /** The quoted invoking packet, from its IPv6 header on. */
  readonly packet: Uint8Array;
}

/** Identifies a context: by CT(local), or by ULID pair and FII. */
export type ContextRef =
  | { readonly ctLocal: bigint }
  | { readonly ulidLocal: Uint8Array; readonly ulidPeer: Uint8Array; readonly fii?: number };

// ---------------------------------------------------------------- snapshots

/** Verification state of a peer locator (RFC 5533 §6.1). */
export type PeerVerification = 'unverified' | 'hba' | 'cga' | 'failed';

export interface PeerLocatorState {
  readonly addr: Uint8Array;
  /** Verification method octet from the Locator List (0 when the peer sent no list). */
  readonly method: number;
  readonly verification: PeerVerification;
  /**
   * May be used as a destination: verified by HBA/CGA, or ULID(peer) itself
   * (which needs no verification, RFC 5533 §7.2).
   */
  readonly usable: boolean;
  readonly flags: number;
  readonly priority?: number;
  readonly weight?: number;
}

export interface LocalLocatorState {
  readonly addr: Uint8Array;
  /** Verification method octet announced (0: not announced). */
  readonly method: number;
  readonly flags: number;
  readonly priority?: number;
  readonly weight?: number;
}

export interface UpdateState {
  readonly nonce: number;
  readonly retransmits: number;
  /** Generation of the Locator List in this Update, null for preferences only. */
  readonly generation: number | null;
}

/** An immutable copy of a context's state (RFC 5533 §6.1). */
export interface ContextSnapshot {
  readonly state: ContextState;
  readonly ulidLocal: Uint8Array;
  readonly ulidPeer: Uint8Array;
  readonly fii: number;
  /** CT(local); null once the context has failed (E-FAILED, NO-SUPPORT). */
  readonly ctLocal: bigint | null;
  /** CT(peer); set only in ESTABLISHED and I2BIS-SENT (and I2-SENT after a crossing I2). */
  readonly ctPeer: bigint | null;
  readonly lsLocal: readonly LocalLocatorState[];
  readonly lsPeer: readonly PeerLocatorState[];
  /** Generation of the Locator List last sent. */
  readonly localGeneration: number | null;
  /** Generation of the last verified peer Locator List. */
  readonly peerGeneration: number | null;
  /** Current locator pair. */
  readonly lpLocal: Uint8Array;
  readonly lpPeer: Uint8Array;
  readonly initiatorNonce: number | null;
  readonly responderNonce: number | null;
  /** Retransmissions of the current I1 / I2 / I2bis. */
  readonly retransmits: number;
  /** Outstanding Update Request, if any. */
  readonly update: UpdateState | null;
  /** Keepalive Timeout (seconds) the peer advertised. */
  readonly peerKeepaliveTimeout: number | null;
  readonly createdAt: number;
  readonly stateSince: number;
  readonly establishedAt: number | null;
  /** Last control message received for this context. */
  readonly lastControlAt: number | null;
  /** End of the negative-cache hold-down (E-FAILED, NO-SUPPORT). */
  readonly holddownUntil: number | null;
}

// ------------------------------------------------------------------ actions

export type ContextChange = 'state' | 'ct-peer' | 'ls-peer' | 'ls-local' | 'pair' | 'preferences';

export type RemoveReason = 'idle' | 'confusion' | 'holddown-expired' | 'requested';

export type NegativeCacheReason = 'no-r1' | 'icmp-no-support';

/** Why a received packet or request was dropped (log detail). */
export type DropReason =
  | 'decode'
  | 'bad-address'
  | 'not-local'
  | 'no-context'
  | 'wrong-state'
  | 'no-validator'
  | 'bad-validator'
  | 'pds-mismatch'
  | 'locator-method'
  | 'unknown-locator'
  | 'no-ct-peer'
  | 'not-for-shim6';

export type LogEvent =
  | 'drop'
  | 'confusion'
  | 'update-acked'
  | 'update-stale-ack'
  | 'update-stale'
  | 'update-rejected'
  | 'update-deferred'
  | 'locators-omitted'
  | 'peer-error'
  | 'trigger-suppressed'
  | 'trigger-refused'
  | 'locator-pair-changed'
  | 'payload-known-tag'
  | 'icmp-ignored';

export interface SendAction {
  readonly type: 'send';
  readonly src: Uint8Array;
  readonly dst: Uint8Array;
  /** The encoded Shim6 message (to follow an IPv6 header with Next Header 140). */
  readonly bytes: Uint8Array;
  /** Message kind, for logs. */
  readonly kind: MsgKind;
  /** CT(local) of the context it belongs to, if any (stateless replies have none). */
  readonly ctLocal: bigint | null;
}

export interface EstablishedAction {
  readonly type: 'context-established';
  readonly ctx: ContextSnapshot;
}

export interface UpdatedAction {
  readonly type: 'context-updated';
  readonly ctx: ContextSnapshot;
  readonly changes: readonly ContextChange[];
}

export interface RemovedAction {
  readonly type: 'context-removed';
  readonly ctx: ContextSnapshot;
  readonly reason: RemoveReason;
}

export interface NegativeCacheAction {
  readonly type: 'negative-cache';
  /** ULID(peer) not to try again before `until`. */
  readonly peer: Uint8Array;
  readonly until: number;
  readonly reason: NegativeCacheReason;
}

/** A REAP message (Keepalive, Probe) for the context's REAP state machine. */
export interface ReapMessageAction {
  readonly type: 'reap-message';
  readonly ctx: ContextSnapshot;
  readonly src: Uint8Array;
  readonly dst: Uint8Array;
  readonly msg: KeepaliveMessage | ProbeMessage;
}

export interface LogAction {
  readonly type: 'log';
  readonly level: 'debug' | 'info' | 'warn';
  readonly event: LogEvent;
  readonly ctLocal?: bigint;
  readonly reason?: DropReason;
  readonly detail?: Readonly<Record<string, string | number | boolean>>;
}

export type ContextAction =
  | SendAction
  | EstablishedAction
  | UpdatedAction
  | RemovedAction
  | NegativeCacheAction
  | ReapMessageAction
  | LogAction;

export type SetPairResult =
  | { readonly ok: true; readonly actions: ContextAction[] }
  | { readonly ok: false; readonly reason: 'no-context' | 'unknown-local' | 'unknown-peer' | 'unverified-peer' };

// -------------------------------------------------------------- persistence

/**
 * A local locator as announced to the peer: a Locator List entry (RFC 5533
 * §5.15.1) with its preferences (§5.15.3).
 */
export interface PersistedLocalLocator {
  /** RFC 5952 text. */
  readonly addr: string;
  /** Verification method octet announced: 1 (HBA) or 2 (CGA). */
  readonly method: number;
  readonly flags: number;
  readonly priority?: number;
  readonly weight?: number;
}

export interface PersistedPeerLocator {
  /** RFC 5952 text. */
  readonly addr: string;
  /** Verification method octet of the peer's list (0 when it sent none). */
  readonly method: number;
  readonly verification: PeerVerification;
  readonly flags: number;
  readonly priority?: number;
  readonly weight?: number;
}

/**
 * A context as written to the agent's state file (`ShimHost.exportContexts`):
 * plain JSON, nothing secret. Tags and byte strings are lower-case hex,
 * addresses RFC 5952 text, times ages in ms before the export (see `ageMs`).
 */
export interface PersistedContext {
  /** Record format version. */
  readonly v: 1;
  readonly state: typeof ContextState.Established | typeof ContextState.I2bisSent;
  readonly ulidLocal: string;
  readonly ulidPeer: string;
  readonly fii: number;
  /** CT(local), hex: reserved again on import. */
  readonly ctLocal: string;
  /** CT(peer), hex. */
  readonly ctPeer: string;
  /** Ls(local) as announced to the peer (empty with generation null: nothing announced). */
  readonly announced: {
    readonly generation: number | null;
    readonly locators: readonly PersistedLocalLocator[];
    /** The peer has this list and these preferences. */
    readonly acked: boolean;
    /** The peer has this list (a preferences-only Update may refer to its generation). */
    readonly listAcked: boolean;
  };
  /** The peer has our CGA PDS (later Updates leave it out). */
  readonly pdsKnown: boolean;
  /** The Update Request outstanding (ESTABLISHED only), resumed with the same nonce. */
  readonly update: {
    readonly nonce: number;
    readonly retransmits: number;
    /** The announced generation when it carries the Locator List; null for preferences only. */
    readonly generation: number | null;
    /** It replaced an unacknowledged request (re-announce once it is acknowledged). */
    readonly supersededUnacked: boolean;
  } | null;
  /** A guarded re-announcement under a new generation is due. */
  readonly refreshPending: boolean;
  readonly peer: {
    /** Ls(peer) with its verification state. */
    readonly locators: readonly PersistedPeerLocator[];
    readonly generation: number | null;
    /** Generations its newer lists replaced (late copies are recognised). */
    readonly replacedGenerations: readonly number[];
    /** The peer's CGA PDS, hex: verifies the locators of its later Updates. */
    readonly pds: string | null;
    readonly keepaliveTimeoutSec: number | null;
  };
  /** Current locator pair. */
  readonly lpLocal: string;
  readonly lpPeer: string;
  /** Initiator Nonce of our last I1/I2/I2bis (late R2s are recognised by it). */
  readonly initiatorNonce: number | null;
  /** I2BIS-SENT only: the exchange in progress (RFC 5533 §7.18). */
  readonly i2bis: {
    readonly responderNonce: number;
    /** The peer's Responder Validator, hex. */
    readonly validator: string;
    /** Packet Context Tag of the R1bis, hex. */
    readonly packetTag: string;
    /** The locator pair the I2bis goes on (the R1bis's destination and source). */
    readonly local: string;
    readonly peer: string;
    readonly retransmits: number;
  } | null;
  /**
   * Ages in ms at the export, relative to the latest `now` the exporting
   * host had seen; the import rebases them onto its own `now`.
   */
  readonly ageMs: {
    readonly created: number;
    readonly stateSince: number;
    readonly established: number;
    readonly lastControl: number | null;
  };
}

export interface ImportResult {
  /** Snapshots of the restored contexts, after the import's own actions. */
  readonly restored: ContextSnapshot[];
  /** Records not restored; index -1 when `records` as a whole is refused. */
  readonly rejected: Array<{ readonly index: number; readonly reason: string }>;
  /** Update Requests / I2bis to send, context-updated for moved pairs, in order. */
  readonly actions: ContextAction[];
}
