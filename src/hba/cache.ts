/**
 * Bounded verification cache keyed by the exact octets of a CGA Parameters data
 * structure. A hit returns the PdsState built the first time (decoded fields, Hash2,
 * per-prefix Hash1, parsed public key), so verifying another locator against a known
 * PDS costs a Map lookup. Least recently used entries are evicted beyond `maxEntries`.
 *
 * The key is the PDS itself (as a one-char-per-octet string), not a digest of it: a
 * lookup needs no hashing of ours, and no collision argument is needed. Memory per entry
 * is about 3× the PDS length plus 8 octets per prefix verified; Shim6 control messages
 * are at most 1280 octets (RFC 5533 §5), so a PDS from the wire is smaller than that.
 * A PDS that does not decode is not cached (rejecting it costs no hashing).
 */

import { bytesKey } from './bytes.js';
import { invalidArgument } from './errors.js';
import { PdsState, type PdsDecodeFailure } from './pds-state.js';

export interface VerificationCacheOptions {
  /** Maximum number of PDS entries kept (integer ≥ 1). */
  readonly maxEntries: number;
}

export interface VerificationCacheStats {
  readonly hits: number;
  readonly misses: number;
  readonly evictions: number;
  readonly size: number;
  readonly maxEntries: number;
}

export class VerificationCache {
  readonly maxEntries: number;
  readonly #entries = new Map<string, PdsState>();
  #hits = 0;
  #misses = 0;
  #evictions = 0;

  constructor(options: VerificationCacheOptions) {
    const max = options.maxEntries;
    if (!Number.isSafeInteger(max) || max < 1) throw invalidArgument('maxEntries must be an integer ≥ 1');
    this.maxEntries = max;
  }

  get stats(): VerificationCacheStats {
    return {
      hits: this.#hits,
      misses: this.#misses,
      evictions: this.#evictions,
      size: this.#entries.size,
      maxEntries: this.maxEntries,
    };
  }

  /** Whether these exact PDS octets are cached (does not touch LRU order or counters). */
  has(pds: Uint8Array): boolean {
    return this.#entries.has(bytesKey(pds));
  }

  clear(): void {
    this.#entries.clear();
  }

  /** @internal Look up or decode a PDS. */
  resolve(pds: Uint8Array): PdsState | PdsDecodeFailure {
    const key = bytesKey(pds);
    const cached = this.#entries.get(key);
    if (cached !== undefined) {
      this.#hits++;
      this.#entries.delete(key); // re-insert: Map order is recency order
      this.#entries.set(key, cached);
      return cached;
    }
    this.#misses++;
    const state = PdsState.decode(pds);
    if (!state.ok) return state;
    this.#entries.set(key, state);
    while (this.#entries.size > this.maxEntries) {
      const oldest = this.#entries.keys().next();
      if (oldest.done === true) break;
      this.#entries.delete(oldest.value);
      this.#evictions++;
    }
    return state;
  }
}

export function resolvePds(pds: Uint8Array, cache: VerificationCache | undefined): PdsState | PdsDecodeFailure {
  return cache !== undefined ? cache.resolve(pds) : PdsState.decode(pds);
}
