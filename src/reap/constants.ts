// REAP numbers (RFC 5534 §7, §4.3) and this implementation's defaults.
//
// Everything is in milliseconds. The RFC constants are fixed by the RFC; the
// "defaults" are variables the RFC lets a node choose (Send Timeout) or that
// this implementation adds (hot standby, fail-back). See README.md.

/** Initial Probe Timeout: interval between the initial probes (RFC 5534 §7). */
export const INITIAL_PROBE_TIMEOUT_MS = 500;
/** Number of Initial Probes sent at the fixed rate before back-off (RFC 5534 §7). */
export const INITIAL_PROBES = 4;
/** Max Probe Timeout: the probe interval never grows beyond this (RFC 5534 §4.3). */
export const MAX_PROBE_TIMEOUT_MS = 60_000;
/** Back-off multiplier after the initial probes ("typically doubles", §4.3). */
export const PROBE_BACKOFF_FACTOR = 2;

/**
 * Negative feedback in InboundOk sends the next exploration probe at once,
 * but never sooner than this after the previous one (feedback can come in
 * bursts: one per TCP socket, or an application calling SHIM_FEEDBACK).
 */
export const FEEDBACK_PROBE_GAP_MS = 100;

/** Default Send Timeout (RFC 5534 §7: 15 seconds). */
export const DEFAULT_SEND_TIMEOUT_MS = 15_000;
/** Keepalive Timeout when the peer sent no Keepalive Timeout option (RFC 5534 §7). */
export const DEFAULT_KEEPALIVE_TIMEOUT_MS = 15_000;
/**
 * Keepalive Interval as a fraction of the Keepalive Timeout. The RFC
 * recommends one-half to one-third (§4.1); one-third lets one keepalive be
 * lost without the peer's Send Timer expiring.
 */
export const DEFAULT_KEEPALIVE_FRACTION = 1 / 3;
/** Recommended bounds for an alternate Send Timeout (RFC 5534 §7). */
export const RECOMMENDED_MIN_SEND_TIMEOUT_MS = 10_000;
export const RECOMMENDED_MAX_SEND_TIMEOUT_MS = 100_000;
/** The Keepalive Timeout option carries whole seconds in 16 bits (RFC 5534 §5.3). */
export const MAX_SEND_TIMEOUT_MS = 0xffff * 1000;
export const MIN_SEND_TIMEOUT_MS = 1000;

/**
 * Timers are scaled by (1 − jitter × random()) so contexts do not
 * synchronise (RFC 5534 §4.1: "SHOULD be randomized"). Only shortens timers.
 */
export const DEFAULT_JITTER = 0.1;

/** Sent-probe records per Probe: this probe plus up to 3 earlier unreported ones. */
export const DEFAULT_MAX_SENT_REPORTS = 4;
/** Received-probe records per Probe (the 4-bit Precvd field's maximum). */
export const DEFAULT_MAX_RECEIVED_REPORTS = 15;
/** Sent probes remembered per exploration round (for matching the peer's reports). */
export const SENT_PROBE_MEMORY = 64;

/** Fail-back: the preferred pair must be seen working this long before returning to it. */
export const DEFAULT_FAILBACK_HOLD_MS = 30_000;
/**
 * A hot standby with a verification out stops counting as verified when the
 * answer is this late (or four round trips of the last answer, if more;
 * never beyond the verification timeout).
 */
export const STANDBY_ANSWER_MIN_MS = 250;
/** A verification probe unanswered after this long counts as a failure. */
export const DEFAULT_VERIFY_TIMEOUT_MS = 2_000;

/**
 * Probe Data values of this implementation's verification probes (hot
 * standby and fail-back checks). RFC 5534 §5.2 gives Data no fixed meaning
 * ("future flags may define a use"); these two values mark probes that must
 * not change REAP state at the receiver (see README.md). Exploration probes
 * carry Data = 0.
 */
export const PROBE_DATA_EXPLORE = 0;
export const PROBE_DATA_VERIFY = 0x5336_7601; // "S6v" 1
export const PROBE_DATA_VERIFY_REPLY = 0x5336_7602; // "S6v" 2
