// ReapContext options: the tunables, their defaults and their validation
// (once, at the edge, with Shim6Error SHIM6_ERR_USAGE).

import { randomFillSync } from 'node:crypto';

import { Shim6Error } from '../errors.js';
import type { PairOrderOptions } from './addr-select.js';
import {
  DEFAULT_FAILBACK_HOLD_MS,
  DEFAULT_JITTER,
  DEFAULT_KEEPALIVE_FRACTION,
  DEFAULT_KEEPALIVE_TIMEOUT_MS,
  DEFAULT_MAX_RECEIVED_REPORTS,
  DEFAULT_MAX_SENT_REPORTS,
  DEFAULT_SEND_TIMEOUT_MS,
  DEFAULT_VERIFY_TIMEOUT_MS,
  INITIAL_PROBES,
  INITIAL_PROBE_TIMEOUT_MS,
  MAX_PROBE_TIMEOUT_MS,
  MAX_SEND_TIMEOUT_MS,
  MIN_SEND_TIMEOUT_MS,
  PROBE_BACKOFF_FACTOR,
} from './constants.js';

/** Tunables; every field is optional. Validated once, in the constructor. */
export interface ReapOptions {
  /** Our Send Timeout (RFC 5534 §7, default 15 s); also SHIM_APP_TIMEOUT / pe_keepaliveto. */
  readonly sendTimeoutMs?: number;
  /** The peer's Send Timeout as learnt from its Keepalive Timeout option (default 15 s). */
  readonly peerKeepaliveTimeoutMs?: number;
  /** Keepalive Interval / Keepalive Timeout (RFC: 1/3 to 1/2; default 1/3). */
  readonly keepaliveFraction?: number;
  readonly initialProbeTimeoutMs?: number;
  readonly initialProbes?: number;
  readonly maxProbeTimeoutMs?: number;
  readonly backoffFactor?: number;
  /** Timer randomisation: Send Timeout and Keepalive Interval × (1 − jitter × random()). Default 0.1. */
  readonly jitter?: number;
  /** Sent-probe records per Probe, this one included (1–15, default 4). */
  readonly maxSentReports?: number;
  /** Received-probe records per Probe (0–15, default 15). */
  readonly maxReceivedReports?: number;
  /** Keep an alternate pair verified in advance (default false). */
  readonly hotStandby?: boolean;
  /** Interval of verification probes (hot standby, fail-back). Default Send Timeout / 2. */
  readonly verifyIntervalMs?: number;
  /** A verification probe unanswered this long has failed (default 2 s). */
  readonly verifyTimeoutMs?: number;
  /** Return to the pair used before a failure once it works again (default true). */
  readonly failback?: boolean;
  /** How long that pair must be seen working before returning to it (default 30 s). */
  readonly failbackHoldMs?: number;
  /** No payload either way for this long makes the context idle (default 2 × Send Timeout). */
  readonly idleAfterMs?: number;
  /** Uniform [0, 1) for timer jitter (default Math.random). */
  readonly random?: () => number;
  /** u32 probe nonces, RFC 4086 quality (default node:crypto). */
  readonly nonce?: () => number;
  readonly pairOrder?: PairOrderOptions;
}

/** Resolved options; the context changes some at run time (Send Timeout, hot standby). */
export interface Tunables {
  sendTimeout: number;
  peerKeepaliveTimeout: number;
  keepaliveFraction: number;
  initialProbeTimeout: number;
  initialProbes: number;
  maxProbeTimeout: number;
  backoff: number;
  jitter: number;
  maxSent: number;
  maxReceived: number;
  hotStandby: boolean;
  verifyInterval: number | undefined;
  verifyTimeout: number;
  failback: boolean;
  failbackHold: number;
  idleAfter: number | undefined;
  random: () => number;
  nonce: () => number;
  pairOrder: PairOrderOptions;
}

export function usage(msg: string): Shim6Error {
  return new Shim6Error('SHIM6_ERR_USAGE', msg);
}

function checkNumber(name: string, v: number | undefined, min: number, max: number, integer = false): void {
  if (v === undefined) return;
  if (typeof v !== 'number' || !Number.isFinite(v) || v < min || v > max || (integer && !Number.isInteger(v))) {
    throw usage(`${name} must be ${integer ? 'an integer' : 'a number'} in [${min}, ${max}], got ${String(v)}`);
  }
}

export function checkSendTimeout(name: string, v: number | undefined): void {
  checkNumber(name, v, MIN_SEND_TIMEOUT_MS, MAX_SEND_TIMEOUT_MS);
}

function defaultNonce(): () => number {
  // The system CSPRNG (RFC 4086 quality), drawn 64 nonces at a time.
  const buf = new Uint32Array(64);
  let i = buf.length;
  return () => {
    if (i === buf.length) {
      randomFillSync(buf);
      i = 0;
    }
    return buf[i++];
  };
}

export function resolveOptions(o: ReapOptions): Tunables {
  checkSendTimeout('sendTimeoutMs', o.sendTimeoutMs);
  checkSendTimeout('peerKeepaliveTimeoutMs', o.peerKeepaliveTimeoutMs);
  checkNumber('keepaliveFraction', o.keepaliveFraction, 0.01, 1);
  checkNumber('initialProbeTimeoutMs', o.initialProbeTimeoutMs, 1, 3_600_000);
  checkNumber('initialProbes', o.initialProbes, 1, 1000, true);
  checkNumber('maxProbeTimeoutMs', o.maxProbeTimeoutMs, o.initialProbeTimeoutMs ?? INITIAL_PROBE_TIMEOUT_MS, 86_400_000);
  checkNumber('backoffFactor', o.backoffFactor, 1, 16);
  checkNumber('jitter', o.jitter, 0, 0.5);
  checkNumber('maxSentReports', o.maxSentReports, 1, 15, true);
  checkNumber('maxReceivedReports', o.maxReceivedReports, 0, 15, true);
  checkNumber('verifyIntervalMs', o.verifyIntervalMs, 10, 86_400_000);
  checkNumber('verifyTimeoutMs', o.verifyTimeoutMs, 1, 86_400_000);
  checkNumber('failbackHoldMs', o.failbackHoldMs, 0, 86_400_000);
  checkNumber('idleAfterMs', o.idleAfterMs, 1, 86_400_000);
  if (o.random !== undefined && typeof o.random !== 'function') throw usage('random must be a function');
  if (o.nonce !== undefined && typeof o.nonce !== 'function') throw usage('nonce must be a function');
  return {
    sendTimeout: o.sendTimeoutMs ?? DEFAULT_SEND_TIMEOUT_MS,
    peerKeepaliveTimeout: o.peerKeepaliveTimeoutMs ?? DEFAULT_KEEPALIVE_TIMEOUT_MS,
    keepaliveFraction: o.keepaliveFraction ?? DEFAULT_KEEPALIVE_FRACTION,
    initialProbeTimeout: o.initialProbeTimeoutMs ?? INITIAL_PROBE_TIMEOUT_MS,
    initialProbes: o.initialProbes ?? INITIAL_PROBES,
    maxProbeTimeout: o.maxProbeTimeoutMs ?? MAX_PROBE_TIMEOUT_MS,
    backoff: o.backoffFactor ?? PROBE_BACKOFF_FACTOR,
    jitter: o.jitter ?? DEFAULT_JITTER,
    maxSent: o.maxSentReports ?? DEFAULT_MAX_SENT_REPORTS,
    maxReceived: o.maxReceivedReports ?? DEFAULT_MAX_RECEIVED_REPORTS,
    hotStandby: o.hotStandby ?? false,
    verifyInterval: o.verifyIntervalMs,
    verifyTimeout: o.verifyTimeoutMs ?? DEFAULT_VERIFY_TIMEOUT_MS,
    failback: o.failback ?? true,
    failbackHold: o.failbackHoldMs ?? DEFAULT_FAILBACK_HOLD_MS,
    idleAfter: o.idleAfterMs,
    random: o.random ?? Math.random,
    nonce: o.nonce ?? defaultNonce(),
    pairOrder: o.pairOrder ?? {},
  };
}
