// Deterministic fuzzing of the decoders: mutated valid messages (bit flips,
// truncations, splices, overwrites, length games), half of them with the
// checksum (and often P/S bits and Hdr Ext Len) repaired so the deeper parser
// is reached. Asserts that decoding never throws and always returns a
// well-formed result, and that whatever decodes re-encodes to a fixpoint.
//
// SHIM6_FUZZ_ITERS (default 1,000,000) and SHIM6_FUZZ_SEED override the run.

import { describe, expect, it } from 'vitest';
import {
  decode,
  decodeMessage,
  decodePayloadHeader,
  encode,
  encodePayloadHeader,
  errorMessageFor,
  writeChecksum,
  type DecodeErrorKind,
  type DecodeResult,
  type Shim6Packet,
} from '../../../src/wire/index.js';
import { MSG_KINDS, Rng, randomMessage, unhex } from './helpers.js';

const ITERS = Number(process.env.SHIM6_FUZZ_ITERS ?? 1_000_000);
const SEED = Number(process.env.SHIM6_FUZZ_SEED ?? 0x5eed);
if (!Number.isSafeInteger(ITERS) || ITERS < 1) throw new Error(`SHIM6_FUZZ_ITERS must be a positive integer, got ${process.env.SHIM6_FUZZ_ITERS}`);
if (!Number.isSafeInteger(SEED)) throw new Error(`SHIM6_FUZZ_SEED must be an integer, got ${process.env.SHIM6_FUZZ_SEED}`);

const ERROR_KINDS: ReadonlySet<DecodeErrorKind> = new Set<DecodeErrorKind>([
  'truncated',
  'bad-length',
  'bad-checksum',
  'wrong-p-bit',
  'not-shim6',
  'unknown-type',
  'critical-option',
  'bad-option',
  'bad-value',
]);
const PACKET_KINDS: ReadonlySet<string> = new Set<string>([...MSG_KINDS, 'Payload']);

const GOLDEN = [
  '3b010100562b0123456789abdeadbeef',
  '3b0402006c8d0000deadbeef0102030400020014' + 'ab'.repeat(20),
  '3b010400647000000000beefdeadbef0',
  '3b010500342000000000beef55667788',
  '3b01410080950123456789ab99999999',
  '3b014200c40e00000000beef00000000',
  '110080000000beef',
];

const INTERESTING = [0x00, 0x01, 0x02, 0x03, 0x04, 0x05, 0x07, 0x08, 0x0f, 0x10, 0x24, 0x3b, 0x40, 0x43, 0x44, 0x7f, 0x80, 0x81, 0xfe, 0xff];
const IPV6_HDR = unhex('6000000000008c40' + '20010db8000a00000000000000000001' + '20010db8000b00000000000000000001');

function buildCorpus(r: Rng): Uint8Array[] {
  const c = GOLDEN.map(unhex);
  for (let i = 0; i < 600; i++) c.push(encode(randomMessage(r)));
  for (let i = 0; i < 20; i++) c.push(encodePayloadHeader({ nextHeader: r.int(256), receiverContextTag: r.ct() }));
  return c;
}

function mutateOnce(r: Rng, b: Uint8Array, corpus: readonly Uint8Array[]): Uint8Array {
  const n = b.length;
  switch (r.int(9)) {
    case 0: {
      // bit flips
      const out = b.slice();
      for (let k = 1 + r.int(4); k > 0 && n > 0; k--) out[r.int(n)] ^= 1 << r.int(8);
      return out;
    }
    case 1:
      // truncation
      return b.slice(0, r.int(n + 1));
    case 2: {
      // splice: head of this one, tail of another
      const o = corpus[r.int(corpus.length)];
      const cut = r.int(n + 1);
      const from = r.int(o.length + 1);
      const out = new Uint8Array(cut + o.length - from);
      out.set(b.subarray(0, cut), 0);
      out.set(o.subarray(from), cut);
      return out;
    }
    case 3: {
      // overwrite bytes with interesting values
      const out = b.slice();
      for (let k = 1 + r.int(4); k > 0 && n > 0; k--) out[r.int(n)] = r.bool(0.7) ? r.pick(INTERESTING) : r.int(256);
      return out;
    }
    case 4: {
      // a 16-bit word (option type/length, counts) somewhere past the fixed part
      const out = b.slice();
      if (n >= 18) {
        const at = 8 + 2 * r.int((n - 8) >> 1);
        const v = r.pick([0, 1, 4, 5, 8, 12, 20, 36, 0x7fff, 0xffff, r.int(0x10000), r.int(64)]);
        out[at] = v >> 8;
        if (at + 1 < n) out[at + 1] = v & 0xff;
      }
      return out;
    }
    case 5: {
      // Hdr Ext Len games
      const out = b.slice();
      if (n >= 2) out[1] = r.bool(0.5) ? r.int(256) : Math.max(0, out[1] + r.int(5) - 2);
      return out;
    }
    case 6: {
      // grow by a few 8-octet units of random or zero bytes
      const extra = 8 * (1 + r.int(3));
      const out = new Uint8Array(n + extra);
      out.set(b, 0);
      if (r.bool(0.5)) out.set(r.bytes(extra), n);
      return out;
    }
    case 7:
      // pure noise
      return r.bytes(r.int(80));
    default: {
      // the message type octet
      const out = b.slice();
      if (n > 2) out[2] = r.bool(0.5) ? r.pick([1, 2, 3, 4, 5, 6, 64, 65, 66, 67, 68]) : r.int(256);
      return out;
    }
  }
}

/** Repair what guards the deeper parser: P/S bits, Hdr Ext Len, checksum. */
function fixUp(r: Rng, b: Uint8Array): void {
  if (b.length < 8) return;
  if (r.bool(0.8)) {
    b[2] &= 0x7f;
    b[3] &= 0xfe;
  }
  if (r.bool(0.6) && (b.length & 7) === 0) b[1] = b.length / 8 - 1;
  const len = (b[1] + 1) * 8;
  if (len <= b.length) writeChecksum(b, len);
}

function bytesEqual(a: Uint8Array, b: Uint8Array): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}

/** Returns a description of what is wrong with `res`, or null if it is well-formed. */
function problemWith(b: Uint8Array, res: DecodeResult<Shim6Packet>): string | null {
  if (res === null || typeof res !== 'object') return 'result is not an object';
  if (res.ok === true) {
    const { msg, length } = res;
    if (!Number.isInteger(length) || length < 8 || length > b.length || (length & 7) !== 0) return `bad length ${length}`;
    if (!PACKET_KINDS.has(msg.kind)) return `bad kind ${String(msg.kind)}`;
    if (msg.kind !== 'Payload' && length !== (b[1] + 1) * 8) return 'length does not match Hdr Ext Len';
    // Whatever decodes must re-encode, and that encoding must be a fixpoint.
    const e1 = msg.kind === 'Payload' ? encodePayloadHeader(msg) : encode(msg);
    const d2 = decode(e1);
    if (!d2.ok) return `re-encoded message does not decode: ${d2.error.kind}`;
    const e2 = d2.msg.kind === 'Payload' ? encodePayloadHeader(d2.msg) : encode(d2.msg);
    if (!bytesEqual(e1, e2)) return 're-encoding is not a fixpoint';
    return null;
  }
  if (res.ok !== false) return 'ok is not a boolean';
  const e = res.error;
  if (!ERROR_KINDS.has(e.kind)) return `unknown error kind ${String(e.kind)}`;
  if (!Number.isInteger(e.offset) || e.offset < 0 || e.offset > b.length) return `bad offset ${e.offset}`;
  if (typeof e.reason !== 'string' || e.reason.length === 0) return 'missing reason';
  if ((e.errorCode === undefined) !== (e.pointer === undefined)) return 'errorCode without pointer or vice versa';
  if (e.errorCode !== undefined) {
    const p = e.pointer!;
    if (!Number.isInteger(p) || p < 0 || p >= Math.min(b.length, (b[1] + 1) * 8)) return `pointer ${p} outside the message`;
    if (e.errorCode === 0 && (e.kind !== 'unknown-type' || p !== 2)) return 'code 0 must point at the type octet';
    if (e.errorCode === 1 && (e.kind !== 'critical-option' || (b[p + 1] & 1) !== 1)) return 'code 1 must point at a critical option';
    if (e.errorCode > 1) return `unexpected error code ${e.errorCode}`;
    const reply = errorMessageFor(e, new Uint8Array([...IPV6_HDR, ...b]), 40);
    if (reply === null || encode(reply).length > 1240) return 'bad Error reply';
  }
  return null;
}

describe('fuzz', () => {
  it(`decoders survive ${ITERS} mutated inputs (seed ${SEED})`, () => {
    const r = new Rng(SEED);
    const corpus = buildCorpus(r);
    const seenErrors = new Map<string, number>();
    const seenOk = new Map<string, number>();
    let failure: string | null = null;
    const t0 = performance.now();
    for (let i = 0; i < ITERS && failure === null; i++) {
      let b = corpus[r.int(corpus.length)];
      for (let k = 1 + (r.bool(0.3) ? r.int(3) : 0); k > 0; k--) b = mutateOnce(r, b, corpus);
      // Every mutation returns a fresh array, so fixing up never touches the corpus.
      if (r.bool(0.5)) fixUp(r, b);
      const which = r.int(16);
      let res: DecodeResult<Shim6Packet>;
      try {
        res = which === 0 ? decodeMessage(b) : which === 1 ? decodePayloadHeader(b) : decode(b);
      } catch (err) {
        failure = `iteration ${i}: threw ${String(err)} on ${Buffer.from(b).toString('hex')}`;
        break;
      }
      let problem: string | null;
      try {
        problem = problemWith(b, res);
      } catch (err) {
        problem = `checking the result threw ${String(err)}`;
      }
      if (problem !== null) failure = `iteration ${i}: ${problem} on ${Buffer.from(b).toString('hex')}`;
      else if (res.ok) seenOk.set(res.msg.kind, (seenOk.get(res.msg.kind) ?? 0) + 1);
      else seenErrors.set(res.error.kind, (seenErrors.get(res.error.kind) ?? 0) + 1);
    }
    const ms = performance.now() - t0;
    if (process.env.SHIM6_FUZZ_VERBOSE) {
      console.log(`fuzz: ${ITERS} inputs in ${ms.toFixed(0)} ms (${((ITERS / ms) * 1000).toFixed(0)}/s)`);
      console.log('fuzz ok:', Object.fromEntries(seenOk), 'errors:', Object.fromEntries(seenErrors));
    }
    expect(failure).toBeNull();
    if (ITERS >= 100_000) {
      // The run reached every outcome, so the mutations do get past each guard.
      expect([...seenErrors.keys()].sort()).toEqual([...ERROR_KINDS].sort());
      expect([...seenOk.keys()].sort()).toEqual([...PACKET_KINDS].sort());
    }
  });
});
