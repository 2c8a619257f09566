// Draws from the injected random source. Every random choice of the core
// (tags, nonces, generations, secrets, timer jitter) goes through here, so a
// deterministic source gives a deterministic host.

import type { RandomSource } from './types.js';

export class Draw {
  readonly #source: RandomSource;

  constructor(source: RandomSource) {
    if (typeof source !== 'function') throw new TypeError('random must be a function (n) => Uint8Array');
    this.#source = source;
  }

  bytes(n: number): Uint8Array {
    const b = this.#source(n);
    if (!(b instanceof Uint8Array) || b.length !== n) {
      throw new RangeError(`random source returned ${b instanceof Uint8Array ? b.length : typeof b} octets, ${n} were asked`);
    }
    return b;
  }

  /** Uniform u32. */
  u32(): number {
    const b = this.bytes(4);
    return ((b[0] << 24) | (b[1] << 16) | (b[2] << 8) | b[3]) >>> 0;
  }

  /** Uniform integer in [0, 2^bits) for bits ≤ 48. */
  bits(bits: number): bigint {
    const b = this.bytes(6);
    let v = 0n;
    for (const x of b) v = (v << 8n) | BigInt(x);
    return v & ((1n << BigInt(bits)) - 1n);
  }

  /** Timer randomisation factor, uniform in [0.5, 1.5) (RFC 5533 §7.8, §14). */
  jitter(): number {
    return 0.5 + this.u32() / 0x1_0000_0000;
  }
}
