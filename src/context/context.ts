// One ULID-pair context (RFC 5533 §6.1): the mutable record the host keeps,
// and the immutable snapshot handed to callers.

import { ContextState } from './consts.js';
import { addrKey, ulidOnly, usablePeer, type Announcement, type LocalEntry, type PeerEntry } from './locators.js';
import type { ContextSnapshot, LocalLocatorState, PeerLocatorState } from './types.js';
import type { Shim6Option, UpdateRequestMessage } from '../wire/index.js';

export type TimerKind = 'retransmit' | 'update' | 'holddown';

/** How many replaced peer generations a context remembers. */
export const REPLACED_GENERATIONS_KEPT = 8;

/** What this context announces (its Ls(local)), under which generation, and what the peer has. */
export interface Announced {
  readonly ann: Announcement;
  /** Host locator-set version it was last checked against. */
  version: number;
  /** Locator List Generation (null: nothing to announce). */
  readonly generation: number | null;
  /** The peer has this list and these preferences (R2 for an I2/I2bis, Update Ack, or sent in an R2). */
  acked: boolean;
  /** The peer has this list (so a preferences-only Update may refer to its generation). */
  listAcked: boolean;
  /** Locator List, Preferences, PDS and Signature options, built (and signed) once. */
  fullOptions: Shim6Option[] | null;
}

export interface OutstandingUpdate {
  readonly nonce: number;
  retransmits: number;
  /** Generation of its Locator List, null for preferences only. */
  readonly generation: number | null;
  /** The message as first sent; retransmissions reuse it (re-addressed if CT(peer) changed). */
  msg: UpdateRequestMessage;
  /** The announcement it carries (becomes acked with it). */
  readonly announced: Announced;
  /**
   * It replaced an unacknowledged request whose copies may still be in
   * flight and overtake it: re-announce after it is acknowledged.
   */
  readonly supersededUnacked: boolean;
}

export function contextKey(ulidLocal: Uint8Array, ulidPeer: Uint8Array, fii: number): string {
  return `${addrKey(ulidLocal)}|${addrKey(ulidPeer)}|${fii}`;
}

export class Ctx {
  alive = true;
  readonly timerGen: Record<TimerKind, number> = { retransmit: 0, update: 0, holddown: 0 };

  readonly key: string;
  readonly ulidPeerKey: string;
  state: ContextState;
  ctLocal: bigint | null = null;
  ctPeer: bigint | null = null;

  /** Ls(local) as last computed for this context. */
  lsLocal: readonly LocalEntry[] = [];
  announced: Announced | null = null;
  /** The peer has our PDS (acknowledged I2/I2bis/Update, or sent in an R2). */
  pdsKnown = false;
  /** The announcement carried by the I2/I2bis in flight (acknowledged by the R2). */
  inFlight: Announced | null = null;

  lsPeer: PeerEntry[];
  peerGeneration: number | null = null;
  /**
   * Peer generations replaced by newer lists (most recent last, a few kept):
   * a list carrying one again is a stale, reordered or duplicated copy.
   */
  readonly replacedPeerGenerations: number[] = [];
  peerPds: Uint8Array | null = null;
  peerKeepaliveTimeout: number | null = null;

  lpLocal: Uint8Array;
  lpPeer: Uint8Array;

  /** INIT nonce of the current exchange (I1/I2 share one; I2bis gets a fresh one). */
  initNonce: number | null = null;
  respNonce: number | null = null;
  validator: Uint8Array | null = null;
  /** I2BIS-SENT: the R1bis Packet Context Tag and the locator pair to send the I2bis on. */
  r1bisTag: bigint | null = null;
  i2bisLocal: Uint8Array | null = null;
  i2bisPeer: Uint8Array | null = null;

  retransmits = 0;
  update: OutstandingUpdate | null = null;
  /** Re-announce under a new generation once the update timer fires (see startUpdate). */
  refreshPending = false;
  /** Last I2/I2bis resend triggered by a received packet (rate limit). */
  lastTriggeredResend = Number.NEGATIVE_INFINITY;

  readonly createdAt: number;
  stateSince: number;
  establishedAt: number | null = null;
  lastControlAt: number | null = null;
  holddownUntil: number | null = null;

  constructor(
    readonly ulidLocal: Uint8Array,
    readonly ulidPeer: Uint8Array,
    readonly fii: number,
    state: ContextState,
    now: number,
  ) {
    this.key = contextKey(ulidLocal, ulidPeer, fii);
    this.ulidPeerKey = addrKey(ulidPeer);
    this.state = state;
    this.lsPeer = ulidOnly(ulidPeer);
    this.lpLocal = ulidLocal;
    this.lpPeer = ulidPeer;
    this.createdAt = now;
    this.stateSince = now;
  }

  /** Record a new peer Locator List generation, remembering the one it replaces. */
  setPeerGeneration(g: number | null): void {
    if (this.peerGeneration !== null && g !== this.peerGeneration) {
      this.replacedPeerGenerations.push(this.peerGeneration);
      if (this.replacedPeerGenerations.length > REPLACED_GENERATIONS_KEPT) this.replacedPeerGenerations.shift();
    }
    this.peerGeneration = g;
  }

  /** CT(peer), Ls(peer) are meaningful (RFC 5533 §11: ESTABLISHED and I2BIS-SENT). */
  get hasPeerState(): boolean {
    return this.state === ContextState.Established || this.state === ContextState.I2bisSent;
  }

  get failed(): boolean {
    return this.state === ContextState.EFailed || this.state === ContextState.NoSupport;
  }

  usable(e: PeerEntry): boolean {
    return usablePeer(e, this.ulidPeerKey);
  }

  /** Keys of the non-failed peer locators plus ULID(peer): what confusion checks compare. */
  peerKeys(): Set<string> {
    const s = new Set<string>([this.ulidPeerKey]);
    for (const e of this.lsPeer) if (e.verification !== 'failed') s.add(e.key);
    return s;
  }

  /** src may be the peer: a non-failed member of Ls(peer), or Lp(peer). */
  knowsPeerAddr(src: Uint8Array): boolean {
    const k = addrKey(src);
    if (k === addrKey(this.lpPeer)) return true;
    return this.lsPeer.some((e) => e.key === k && e.verification !== 'failed');
  }

  /** dst is ours for this context: Ls(local), Lp(local) or ULID(local). */
  knowsLocalAddr(dst: Uint8Array): boolean {
    const k = addrKey(dst);
    if (k === addrKey(this.lpLocal) || k === addrKey(this.ulidLocal)) return true;
    return this.lsLocal.some((e) => e.key === k);
  }

  snapshot(): ContextSnapshot {
    const lsLocal: LocalLocatorState[] = this.lsLocal.map((e) => {
      const ann = this.announced?.ann.entries.find((a) => a.key === e.key);
      const s: { -readonly [K in keyof LocalLocatorState]: LocalLocatorState[K] } = {
        addr: e.addr.slice(),
        method: ann?.octet ?? 0,
        flags: e.flags,
      };
      if (e.priority !== undefined) s.priority = e.priority;
      if (e.weight !== undefined) s.weight = e.weight;
      return s;
    });
    const lsPeer: PeerLocatorState[] = this.lsPeer.map((e) => {
      const s: { -readonly [K in keyof PeerLocatorState]: PeerLocatorState[K] } = {
        addr: e.addr.slice(),
        method: e.method,
        verification: e.verification,
        usable: this.usable(e),
        flags: e.flags,
      };
      if (e.priority !== undefined) s.priority = e.priority;
      if (e.weight !== undefined) s.weight = e.weight;
      return s;
    });
    return {
      state: this.state,
      ulidLocal: this.ulidLocal.slice(),
      ulidPeer: this.ulidPeer.slice(),
      fii: this.fii,
      ctLocal: this.ctLocal,
      ctPeer: this.ctPeer,
      lsLocal,
      lsPeer,
      localGeneration: this.announced?.generation ?? null,
      peerGeneration: this.peerGeneration,
      lpLocal: this.lpLocal.slice(),
      lpPeer: this.lpPeer.slice(),
      initiatorNonce: this.initNonce,
      responderNonce: this.respNonce,
      retransmits: this.retransmits,
      update:
        this.update === null
          ? null
          : { nonce: this.update.nonce, retransmits: this.update.retransmits, generation: this.update.generation },
      peerKeepaliveTimeout: this.peerKeepaliveTimeout,
      createdAt: this.createdAt,
      stateSince: this.stateSince,
      establishedAt: this.establishedAt,
      lastControlAt: this.lastControlAt,
      holddownUntil: this.holddownUntil,
    };
  }
}
