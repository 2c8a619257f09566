// The host API at its edges: configuration validated once, tag allocation,
// snapshots that are copies, removeContext, and the narrow tag space of
// RFC 5533 Appendix C.

import { describe, expect, it } from 'vitest';
import { DEFAULT_TIMERS, ShimHost, locatorSetFromHbaSet } from '../../../src/context/index.js';
import { A, B, SET_A, ScriptedPeer, constRandom, kinds, makeHost, seededRandom, toEstablished, toEstablishedResponder } from './helpers.js';

describe('configuration', () => {
  const locators = () => locatorSetFromHbaSet(SET_A());

  it('defaults are the RFC 5533 §14 constants (ms) and the §9 teardown advice', () => {
    expect(DEFAULT_TIMERS).toEqual({
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
    expect(makeHost().timers).toEqual(DEFAULT_TIMERS);
  });

  it('rejects bad options up front', () => {
    const random = seededRandom('cfg');
    expect(() => new ShimHost({ random, locators: locators(), tagBits: 1 })).toThrow(RangeError);
    expect(() => new ShimHost({ random, locators: locators(), tagBits: 48 })).toThrow(RangeError);
    expect(() => new ShimHost({ random, locators: locators(), timers: { i1TimeoutMs: 0 } })).toThrow(RangeError);
    expect(() => new ShimHost({ random, locators: locators(), timers: { i2RetriesMax: -1 } })).toThrow(RangeError);
    expect(() => new ShimHost({ random, locators: locators(), keepaliveTimeoutSec: 70_000 })).toThrow(RangeError);
    expect(() => new ShimHost({ random, locators: locators(), minSec: 8 })).toThrow(RangeError);
    expect(() => new ShimHost({ random, locators: { locators: [{ addr: new Uint8Array(4), method: 'none' }] } })).toThrow(TypeError);
    expect(() => new ShimHost({ random, locators: { locators: [{ addr: A(0), method: 'none' }, { addr: A(0), method: 'none' }] } })).toThrow(
      RangeError,
    );
    expect(() => new ShimHost({ random, locators: { locators: [{ addr: A(0), method: 'cga' }] } })).toThrow(/privateKey/);
    expect(() => new ShimHost({ random: (n) => new Uint8Array(n - 1), locators: locators() }).trigger(0, { ulidLocal: A(0), ulidPeer: B(0) })).toThrow(
      RangeError,
    );
  });

  it('rejects bad inputs (caller bugs) with TypeError/RangeError', () => {
    const host = makeHost();
    expect(() => host.trigger(0, { ulidLocal: new Uint8Array(15), ulidPeer: B(0) })).toThrow(TypeError);
    expect(() => host.trigger(0, { ulidLocal: A(0), ulidPeer: B(0), fii: -1 })).toThrow(RangeError);
    expect(() => host.tick(Number.NaN)).toThrow(TypeError);
    expect(() => host.payloadWithUnknownTag(0, { src: B(0), dst: A(0), tag: 1n << 47n })).toThrow(RangeError);
  });
});

describe('context tags (§7.1)', () => {
  it('are non-zero, 47-bit, and unique per host even when the random source repeats itself', () => {
    const host = makeHost({ random: constRandom(0x42) });
    const tags = new Set<bigint>();
    for (let i = 0; i < 50; i++) {
      const peer = new Uint8Array(B(0));
      peer[15] = i;
      host.trigger(i, { ulidLocal: A(0), ulidPeer: peer });
    }
    for (const c of host.contexts()) {
      expect(c.ctLocal).not.toBe(0n);
      expect(c.ctLocal! < 1n << 47n).toBe(true);
      tags.add(c.ctLocal!);
    }
    expect(tags.size).toBe(50);
  });

  it('a narrow tag space (Appendix C) is used up exactly, then triggers are refused', () => {
    const host = makeHost({ tagBits: 3 }); // tags 1..7
    for (let i = 0; i < 9; i++) {
      const peer = new Uint8Array(B(0));
      peer[15] = i;
      host.trigger(i, { ulidLocal: A(0), ulidPeer: peer });
    }
    const tags = host.contexts().map((c) => c.ctLocal);
    expect(new Set(tags).size).toBe(7);
    expect(tags.every((t) => t !== null && t >= 1n && t <= 7n)).toBe(true);
  });
});

describe('snapshots and removal', () => {
  it('snapshots are copies: mutating one changes nothing in the host', () => {
    const d = toEstablished();
    const s = d.host.context({ ctLocal: d.ct })!;
    s.lpPeer.fill(0);
    s.lsPeer[0].addr.fill(0);
    const again = d.host.context({ ctLocal: d.ct })!;
    expect(again.lpPeer).toEqual(B(0));
    expect(again.lsPeer[0].addr).toEqual(B(0));
    expect(d.host.context({ ulidLocal: A(0), ulidPeer: B(0) })).toEqual(again);
  });

  it('removeContext → context-removed (requested); its tag then gets R1bis', () => {
    const d = toEstablishedResponder();
    const acts = d.host.removeContext(3_000, { ctLocal: d.ct });
    expect(acts).toEqual([expect.objectContaining({ type: 'context-removed', reason: 'requested', ctx: expect.objectContaining({ ctLocal: d.ct }) })]);
    expect(d.host.removeContext(3_000, { ctLocal: d.ct })).toEqual([]);
    expect(kinds(d.host.receive(3_100, new ScriptedPeer().keepalive(B(0), A(0), d.ct)))).toEqual(['send:R1bis']);
  });

  it('time never goes backwards inside the core (an earlier `now` is taken as the latest seen)', () => {
    const d = toEstablished();
    d.host.receive(50_000, d.peer.keepalive(B(0), A(0), d.ct));
    d.host.receive(10_000, d.peer.keepalive(B(0), A(0), d.ct));
    expect(d.host.context({ ctLocal: d.ct })!.lastControlAt).toBe(50_000);
  });
});
