// Responder Validators for stateless R1 and R1bis (RFC 5533 §5.15.1, §7.10.1,
// §7.17.1).
//
// Time is cut into epochs of VALIDATOR_MIN_LIFETIME. Each epoch has its own
// random secret S; the host keeps the current and the previous one. The
// Responder Nonce plays the role of the RFC's counter C: its top 8 bits are
// the epoch number (mod 256), the low 24 bits are random. A validator is
// HMAC-SHA-256(S_epoch, label ‖ fields), truncated to 20 octets, over:
//   R1:    Responder Nonce, Initiator Context Tag, sender ULID, receiver ULID,
//          IPv6 source and destination of the I1, FII (0 when absent)
//   R1bis: Responder Nonce, Packet Context Tag, IPv6 source and destination
//          of the packet that triggered it
// The Initiator Nonce is left out on purpose: the I2 may carry a fresh one
// (§7.11). An I2/I2bis is accepted iff its nonce names the current or the
// previous epoch and the validator recomputes: every validator is accepted
// for at least one lifetime and none after two.

import { createHmac, timingSafeEqual } from 'node:crypto';
import { VALIDATOR_LENGTH, VALIDATOR_SECRET_LENGTH } from './consts.js';
import type { Draw } from './random.js';

interface Epoch {
  readonly index: number;
  readonly secret: Uint8Array;
}

export interface R1Fields {
  readonly initiatorTag: bigint;
  readonly senderUlid: Uint8Array;
  readonly receiverUlid: Uint8Array;
  readonly src: Uint8Array;
  readonly dst: Uint8Array;
  readonly fii: number;
}

export interface R1bisFields {
  readonly packetTag: bigint;
  readonly src: Uint8Array;
  readonly dst: Uint8Array;
}

const LABEL_R1 = Buffer.from('shim6 R1 validator\0');
const LABEL_R1BIS = Buffer.from('shim6 R1bis validator\0');

function u32(v: number): Uint8Array {
  return Uint8Array.of(v >>> 24, (v >>> 16) & 0xff, (v >>> 8) & 0xff, v & 0xff);
}

function tag48(t: bigint): Uint8Array {
  const b = new Uint8Array(6);
  let v = t;
  for (let i = 5; i >= 0; i--) {
    b[i] = Number(v & 0xffn);
    v >>= 8n;
  }
  return b;
}

export class ValidatorKeeper {
  readonly #draw: Draw;
  readonly #lifetime: number;
  #origin: number | null = null;
  #current: Epoch | null = null;
  #previous: Epoch | null = null;

  constructor(draw: Draw, lifetimeMs: number) {
    this.#draw = draw;
    this.#lifetime = lifetimeMs;
  }

  /** Issue a Responder Nonce and validator for an R1 answering an I1. */
  issueR1(now: number, f: R1Fields): { nonce: number; validator: Uint8Array } {
    const epoch = this.#epochAt(now);
    const nonce = (((epoch.index & 0xff) << 24) | (this.#draw.u32() & 0xffffff)) >>> 0;
    return { nonce, validator: this.#macR1(epoch.secret, nonce, f) };
  }

  /** Check the Responder Nonce and validator echoed in an I2. */
  checkR1(now: number, nonce: number, validator: Uint8Array, f: R1Fields): boolean {
    const epoch = this.#epochFor(now, nonce);
    return epoch !== null && equal(validator, this.#macR1(epoch.secret, nonce, f));
  }

  /** Issue a Responder Nonce and validator for an R1bis. */
  issueR1bis(now: number, f: R1bisFields): { nonce: number; validator: Uint8Array } {
    const epoch = this.#epochAt(now);
    const nonce = (((epoch.index & 0xff) << 24) | (this.#draw.u32() & 0xffffff)) >>> 0;
    return { nonce, validator: this.#macR1bis(epoch.secret, nonce, f) };
  }

  /** Check the Responder Nonce and validator echoed in an I2bis. */
  checkR1bis(now: number, nonce: number, validator: Uint8Array, f: R1bisFields): boolean {
    const epoch = this.#epochFor(now, nonce);
    return epoch !== null && equal(validator, this.#macR1bis(epoch.secret, nonce, f));
  }

  #macR1(secret: Uint8Array, nonce: number, f: R1Fields): Uint8Array {
    const h = createHmac('sha256', secret);
    h.update(LABEL_R1).update(u32(nonce)).update(tag48(f.initiatorTag));
    h.update(f.senderUlid).update(f.receiverUlid).update(f.src).update(f.dst).update(u32(f.fii));
    return new Uint8Array(h.digest().subarray(0, VALIDATOR_LENGTH));
  }

  #macR1bis(secret: Uint8Array, nonce: number, f: R1bisFields): Uint8Array {
    const h = createHmac('sha256', secret);
    h.update(LABEL_R1BIS).update(u32(nonce)).update(tag48(f.packetTag)).update(f.src).update(f.dst);
    return new Uint8Array(h.digest().subarray(0, VALIDATOR_LENGTH));
  }

  /** Advance to the epoch containing `now` (drawing its secret) and return it. */
  #epochAt(now: number): Epoch {
    if (this.#origin === null) this.#origin = now;
    const index = Math.floor((now - this.#origin) / this.#lifetime);
    const cur = this.#current;
    if (cur === null || index > cur.index) {
      this.#previous = cur !== null && index === cur.index + 1 ? cur : null;
      this.#current = { index, secret: new Uint8Array(this.#draw.bytes(VALIDATOR_SECRET_LENGTH)) };
    }
    return this.#current as Epoch;
  }

  /** The kept epoch a nonce was issued in, if it is still acceptable at `now`. */
  #epochFor(now: number, nonce: number): Epoch | null {
    if (this.#current === null || this.#origin === null) return null; // nothing was ever issued
    const index = Math.floor((now - this.#origin) / this.#lifetime);
    const cur = this.#current;
    // Without drawing a secret: the current epoch object may lag behind `now`.
    const prev = index === cur.index ? this.#previous : index === cur.index + 1 ? cur : null;
    const curNow = index === cur.index ? cur : null;
    const tag = nonce >>> 24;
    if (curNow !== null && (curNow.index & 0xff) === tag) return curNow;
    if (prev !== null && (prev.index & 0xff) === tag && prev.index === index - 1) return prev;
    return null;
  }
}

function equal(a: Uint8Array, b: Uint8Array): boolean {
  return a.length === b.length && timingSafeEqual(a, b);
}
