// Types shared by the REAP core, the pair ordering and the scheduler.

import type { KeepaliveTimeoutOption, ProbeStateValue } from '../wire/index.js';

/** The three REAP states (RFC 5534 §6). */
export type ReapState = 'Operational' | 'Exploring' | 'InboundOk';

/** A locator pair as used for sending: our source locator, the peer's destination locator. */
export interface Pair {
  readonly local: Uint8Array;
  readonly peer: Uint8Array;
}

/** One of our locators, with local preferences (RFC 5534 §4.3 "local preferences"). */
export interface LocalLocator {
  readonly addr: Uint8Array;
  /** `LocatorFlag` bits: BROKEN excludes the locator, TRANSIENT ranks it as a care-of address. */
  readonly flags?: number;
  /** Lower is preferred (DNS SRV semantics, as Shim6 Locator Preferences). Default 0. */
  readonly priority?: number;
  /** Higher is preferred among equal priorities. Default 0. */
  readonly weight?: number;
  /** RFC 4862 "deprecated" (RFC 6724 rule 3). */
  readonly deprecated?: boolean;
  /** Prefix length for CommonPrefixLen (default 64). */
  readonly prefixLength?: number;
  /** Locally operational (RFC 5534 §3.2, e.g. from NUD); false excludes it. Default true. */
  readonly operational?: boolean;
}

/** One of the peer's locators, with its Locator Preferences (RFC 5533 §5.15.3). */
export interface PeerLocator {
  readonly addr: Uint8Array;
  /** Verified by HBA/CGA (RFC 5533 §7.2): only verified locators are probed or used. */
  readonly verified: boolean;
  readonly flags?: number;
  readonly priority?: number;
  readonly weight?: number;
}

/**
 * Traffic facts for one context, sampled from the data plane (per-context
 * counters and stamps). Counters count payload packets only — data packets of
 * the context, not Shim6 control messages (those reach the core through
 * `receive` / `controlSent`). Stamps are on the caller's clock, in ms, the
 * same clock as `now`; absent stamps mean "when observed".
 */
export interface TrafficSample {
  readonly txPackets: number | bigint;
  readonly rxPackets: number | bigint;
  /** Time of the last payload packet sent (ms). */
  readonly lastTx?: number;
  /** Time of the last payload packet received (ms). */
  readonly lastRx?: number;
}

/** The addresses a control message arrived with: IPv6 source (a peer locator) and destination (ours). */
export interface Arrival {
  readonly src: Uint8Array;
  readonly dst: Uint8Array;
}

/** Negative feedback that starts exploration at once. */
export type FeedbackKind = 'app' | 'tcp-rto';

/** Why a probe was sent (for logs and tests; not on the wire). */
export type ProbePurpose = 'explore' | 'reply' | 'verify' | 'verify-reply';

export type ReapAction =
  | {
      readonly type: 'send-probe';
      readonly src: Uint8Array;
      readonly dst: Uint8Array;
      /** The encoded Probe message (RFC 5534 §5.2), checksum included. */
      readonly bytes: Uint8Array;
      readonly sta: ProbeStateValue;
      readonly purpose: ProbePurpose;
    }
  | { readonly type: 'send-keepalive'; readonly src: Uint8Array; readonly dst: Uint8Array; readonly bytes: Uint8Array }
  | {
      readonly type: 'switch-pair';
      readonly local: Uint8Array;
      readonly peer: Uint8Array;
      readonly reason: 'exploration' | 'hot-standby' | 'failback';
    }
  | { readonly type: 'path-failed'; readonly reason: 'send-timeout' | 'feedback' | 'locator-lost' }
  | { readonly type: 'path-recovered' }
  | { readonly type: 'state'; readonly from: ReapState; readonly to: ReapState }
  /** Our Send Timeout changed: carry this option in the next Update Request (RFC 5534 §5.3). */
  | { readonly type: 'advertise-keepalive-timeout'; readonly option: KeepaliveTimeoutOption }
  /** The probe interval reached Max Probe Timeout: a hint for context garbage collection (§4.3). */
  | { readonly type: 'gc-hint' };

export type ReapActionType = ReapAction['type'];
