// Shim6 context constants (RFC 5533 §6.2 states, §14 protocol constants).
//
// Times are milliseconds: the core never reads a clock, callers pass `now`.

/** Context STATEs (RFC 5533 §6.2, Appendix B). IDLE is the absence of a context. */
export const ContextState = {
  Idle: 'IDLE',
  I1Sent: 'I1-SENT',
  I2Sent: 'I2-SENT',
  I2bisSent: 'I2BIS-SENT',
  Established: 'ESTABLISHED',
  EFailed: 'E-FAILED',
  NoSupport: 'NO-SUPPORT',
} as const;
export type ContextState = (typeof ContextState)[keyof typeof ContextState];

/**
 * Timer constants. Defaults are RFC 5533 §14 (and the §9 teardown advice);
 * every one can be overridden per host.
 */
export interface TimerConfig {
  /** I1_TIMEOUT: first I1 retransmission after U[0.5, 1.5] × this. */
  readonly i1TimeoutMs: number;
  /** I1_RETRIES_MAX: I1 retransmissions before E-FAILED. */
  readonly i1RetriesMax: number;
  /** NO_R1_HOLDDOWN_TIME: E-FAILED negative cache lifetime. */
  readonly noR1HolddownMs: number;
  /** ICMP_HOLDDOWN_TIME: NO-SUPPORT negative cache lifetime. */
  readonly icmpHolddownMs: number;
  /** I2_TIMEOUT. */
  readonly i2TimeoutMs: number;
  /** I2_RETRIES_MAX: I2 retransmissions before falling back to I1. */
  readonly i2RetriesMax: number;
  /** I2bis_TIMEOUT. */
  readonly i2bisTimeoutMs: number;
  /** I2bis_RETRIES_MAX. */
  readonly i2bisRetriesMax: number;
  /**
   * VALIDATOR_MIN_LIFETIME: Responder Validators are accepted for at least
   * this long (and at most twice this long): the validator secret rotates
   * every period and the previous one is kept for one more period.
   */
  readonly validatorMinLifetimeMs: number;
  /** UPDATE_TIMEOUT. */
  readonly updateTimeoutMs: number;
  /** MAX_UPDATE_TIMEOUT: the nominal Update backoff stops growing here. */
  readonly maxUpdateTimeoutMs: number;
  /** Idle time after which `teardownIdle` removes an ESTABLISHED context (§9: at least 5 min). */
  readonly idleTeardownMs: number;
  /**
   * Smallest gap between two I2/I2bis resends triggered by received payload
   * or control packets in I2-SENT / I2BIS-SENT (Appendix B "Accept and send
   * I2"), so a burst of packets costs one resend, not one per packet.
   */
  readonly triggeredResendMinIntervalMs: number;
}

export const DEFAULT_TIMERS: TimerConfig = Object.freeze({
  i1TimeoutMs: 4_000,
  i1RetriesMax: 4,
  noR1HolddownMs: 60_000,
  icmpHolddownMs: 600_000,
  i2TimeoutMs: 4_000,
  i2RetriesMax: 2,
  i2bisTimeoutMs: 4_000,
  i2bisRetriesMax: 2,
  validatorMinLifetimeMs: 30_000,
  updateTimeoutMs: 4_000,
  maxUpdateTimeoutMs: 120_000,
  idleTeardownMs: 300_000,
  triggeredResendMinIntervalMs: 1_000,
});

/** Length of the Responder Validators this host issues (HMAC-SHA-256, truncated). */
export const VALIDATOR_LENGTH = 20;
/** Length of each rotating validator secret. */
export const VALIDATOR_SECRET_LENGTH = 32;
/** Context tags are 47 bits (RFC 5533 §5.2). */
export const CONTEXT_TAG_BITS = 47;
/**
 * Smallest tag space a host may be configured with. RFC 5533 Appendix C
 * suggests 7 bits (128 tags) in testing to exercise recovery and confusion.
 */
export const MIN_CONTEXT_TAG_BITS = 2;
/** IPv6 header length (for the invoking packet quoted in Error messages). */
export const IPV6_HEADER_LENGTH = 40;
/** Hop limit written into the reconstructed invoking packet of an Error message. */
export const QUOTED_HOP_LIMIT = 64;
/** ICMPv6 Parameter Problem code "unrecognized Next Header type encountered". */
export const ICMP_PARAM_PROBLEM_UNRECOGNIZED_NEXT_HEADER = 1;
