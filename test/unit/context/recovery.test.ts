// RFC 5533 Appendix B, states ESTABLISHED and I2BIS-SENT; context recovery
// (§7.5, R1bis/I2bis) and context confusion (§7.6, §7.15).

import { describe, expect, it } from 'vitest';
import { ShimHost, locatorSetFromHbaSet } from '../../../src/context/index.js';
import { VerificationMethod } from '../../../src/wire/index.js';
import {
  A,
  B,
  ScriptedPeer,
  SET_A,
  drops,
  hbaSet,
  hex,
  hostR1,
  hostR1bis,
  kinds,
  makeHost,
  msgOf,
  names,
  only,
  opt,
  seededRandom,
  sends,
  toEstablished,
  toEstablishedResponder,
  toI1Sent,
  toI2Sent,
  toI2bisSent,
} from './helpers.js';

describe('Appendix B, ESTABLISHED', () => {
  it('ESTABLISHED | Receive I1, compare CT(peer) with received CT → if match, send R2 and stay (the R2 was lost)', () => {
    const d = toEstablishedResponder();
    const acts = d.host.receive(2_000, d.peer.i1(A(0), { nonce: 0x5151 }));
    const { msg } = only(acts, 'R2');
    expect(msg.initiatorNonce).toBe(0x5151);
    expect(msg.responderContextTag).toBe(d.ct);
    expect(d.host.context({ ctLocal: d.ct })!.state).toBe('ESTABLISHED');
  });

  it('ESTABLISHED | Receive I1, compare CT(peer) with received CT → if no match, send R1 and stay (Figure 7), then the I2 replaces CT(peer)', () => {
    const d = toEstablishedResponder();
    const r1 = only(d.host.receive(2_000, d.peer.i1(A(0), { ct: 0x0c0c_0c0cn })), 'R1').send;
    const ctx = d.host.context({ ctLocal: d.ct })!;
    expect(ctx.state).toBe('ESTABLISHED');
    expect(ctx.ctPeer).toBe(d.peer.ct); // an I1 alone must not change anything (§7.6)
    const acts = d.host.receive(2_100, d.peer.i2(r1, { ct: 0x0c0c_0c0cn }));
    expect(kinds(acts)).toEqual(['send:R2', 'context-updated']);
    expect(acts.find((a) => a.type === 'context-updated')).toMatchObject({ changes: ['ct-peer'] });
    const after = d.host.context({ ctLocal: d.ct })!;
    expect(after.ctPeer).toBe(0x0c0c_0c0cn);
    expect(after.state).toBe('ESTABLISHED');
    expect(d.host.contexts()).toHaveLength(1);
  });

  it('ESTABLISHED | Receive I1 with a ULID option from a locator not in Ls(peer) → R1 (§7.9)', () => {
    const d = toEstablishedResponder();
    const acts = d.host.receive(2_000, d.peer.i1(A(0), { src: B(2), ulids: [B(0), A(0)] }));
    expect(kinds(acts)).toEqual(['send:R1']);
    // From a known locator with the matching tag: R2.
    expect(kinds(d.host.receive(2_000, d.peer.i1(A(0), { src: B(1), ulids: [B(0), A(0)] })))).toEqual(['send:R2']);
  });

  it('ESTABLISHED | Receive I2, verify validator and RESP Nonce → if successful, send R2 and stay in ESTABLISHED', () => {
    // An I1 answered by a stateless R1 before our own context got established.
    const host = makeHost();
    const peer = new ScriptedPeer();
    const early = hostR1(host, peer, 1_000);
    const e = toEstablished(toI2Sent(toI1Sent(host, peer, 1_010)));
    const acts = host.receive(1_400, peer.i2(early, { nonce: 0x61 }));
    expect(kinds(acts)).toEqual(['send:R2']);
    expect(only(acts, 'R2').msg.initiatorNonce).toBe(0x61);
    expect(host.context({ ctLocal: e.ct })!.state).toBe('ESTABLISHED');
  });

  it('ESTABLISHED | Receive I2, verify validator and RESP Nonce → otherwise discard and stay in ESTABLISHED', () => {
    const d = toEstablishedResponder();
    const r1 = hostR1(d.host, d.peer, 2_000, { ct: 0x0d0dn });
    expect(drops(d.host.receive(2_100, d.peer.i2(r1, { ct: 0x0e0en })))).toEqual(['bad-validator']);
    expect(d.host.context({ ctLocal: d.ct })!.ctPeer).toBe(d.peer.ct);
  });

  it('ESTABLISHED | Receive I2bis, verify validator and RESP Nonce → if successful, send R2 and stay in ESTABLISHED', () => {
    const d = toEstablishedResponder();
    const r1bis = hostR1bis(d.host, d.peer, 2_000, 0x4242n); // an unknown tag → R1bis
    const acts = d.host.receive(2_100, d.peer.i2bis(r1bis, { ct: 0x0f0fn, nonce: 0x62 }));
    expect(kinds(acts)).toEqual(['send:R2', 'context-updated']);
    expect(only(acts, 'R2').msg.initiatorNonce).toBe(0x62);
    const ctx = d.host.context({ ctLocal: d.ct })!;
    expect(ctx.state).toBe('ESTABLISHED');
    expect(ctx.ctPeer).toBe(0x0f0fn);
  });

  it('ESTABLISHED | Receive I2bis, verify validator and RESP Nonce → otherwise discard and stay in ESTABLISHED', () => {
    const d = toEstablishedResponder();
    const r1bis = hostR1bis(d.host, d.peer, 2_000, 0x4242n);
    const v = opt(msgOf(r1bis), 'ResponderValidator')!.validator.slice();
    v[3] ^= 4;
    expect(drops(d.host.receive(2_100, d.peer.i2bis(r1bis, { validator: v })))).toEqual(['bad-validator']);
    expect(d.host.context({ ctLocal: d.ct })!.ctPeer).toBe(d.peer.ct);
  });

  it('ESTABLISHED | Receive R2 → discard and stay in ESTABLISHED', () => {
    const d = toEstablished();
    const acts = d.host.receive(2_000, d.peer.r2(d.i2!, { ct: 0x0123n }));
    expect(sends(acts)).toEqual([]);
    expect(drops(acts)).toEqual(['wrong-state']);
    expect(d.host.context({ ctLocal: d.ct })!.ctPeer).toBe(d.peer.ct);
  });

  it('ESTABLISHED | Receive R1 → discard and stay in ESTABLISHED', () => {
    const d = toEstablished();
    const acts = d.host.receive(2_000, d.peer.r1(d.i1!));
    expect(sends(acts)).toEqual([]);
    expect(drops(acts)).toEqual(['wrong-state']);
  });

  it('ESTABLISHED | Receive R1bis → send I2bis and move to I2BIS-SENT', () => {
    const d = toEstablished();
    // The packet that triggered the R1bis went from a2 to b2 (say, a probe).
    const acts = d.host.receive(2_000, d.peer.r1bis(A(1), B(1), d.peer.ct, { responderNonce: 0x3333_0042 }));
    expect(kinds(acts)).toEqual(['send:I2bis', 'context-updated']);
    const { send, msg } = only(acts, 'I2bis');
    // Sent on the R1bis's locator pair (§7.18) …
    expect(names([send.src, send.dst])).toEqual(names([A(1), B(1)]));
    const ctx = d.host.context({ ctLocal: d.ct })!;
    expect(ctx.state).toBe('I2BIS-SENT');
    expect(ctx.ctPeer).toBe(d.peer.ct); // unchanged
    expect(msg.initiatorContextTag).toBe(d.ct);
    expect(msg.initiatorNonce).toBe(ctx.initiatorNonce);
    expect(msg.responderNonce).toBe(0x3333_0042);
    expect(msg.packetContextTag).toBe(d.peer.ct);
    // … so it needs the ULID Pair option; then our locators.
    expect(msg.options.map((o) => o.kind)).toEqual(['ResponderValidator', 'UlidPair', 'LocatorList', 'CgaPds']);
    expect(names([opt(msg, 'UlidPair')!.senderUlid, opt(msg, 'UlidPair')!.receiverUlid])).toEqual(names([A(0), B(0)]));
    expect([...opt(msg, 'ResponderValidator')!.validator]).toEqual([0xbb, 9, 9, 9, 9, 9, 9, 9]);
  });

  it('ESTABLISHED | Receive R1bis for another CT or from unknown locators → discarded', () => {
    const d = toEstablished();
    expect(drops(d.host.receive(2_000, d.peer.r1bis(A(0), B(0), d.peer.ct + 1n)))).toEqual(['no-context']);
    expect(drops(d.host.receive(2_000, d.peer.r1bis(A(0), B(2), d.peer.ct)))).toEqual(['no-context']);
    expect(d.host.context({ ctLocal: d.ct })!.state).toBe('ESTABLISHED');
  });

  it('ESTABLISHED | Receive Payload Extension header or other control packet → process and stay in ESTABLISHED', () => {
    const d = toEstablished();
    const ka = d.host.receive(2_000, d.peer.keepalive(B(1), A(1), d.ct));
    expect(kinds(ka)).toEqual(['reap-message']);
    expect(ka[0]).toMatchObject({ type: 'reap-message', msg: { kind: 'Keepalive' }, ctx: { ctLocal: d.ct } });
    const pl = d.host.payloadWithUnknownTag(2_000, { src: B(0), dst: A(0), tag: d.ct });
    expect(sends(pl)).toEqual([]);
    expect(pl).toEqual([expect.objectContaining({ event: 'payload-known-tag' })]);
    // A stale sender (locators outside the sets) gets an R1bis (§10.4, §12.4).
    expect(kinds(d.host.receive(2_000, d.peer.keepalive(B(2), A(0), d.ct)))).toEqual(['send:R1bis']);
    expect(kinds(d.host.payloadWithUnknownTag(2_000, { src: B(2), dst: A(0), tag: d.ct }))).toEqual(['send:R1bis']);
  });

  it('ESTABLISHED | Implementation-specific heuristic (idle for some time) → discard state and go to IDLE', () => {
    const d = toEstablished();
    const idle = d.host.timers.idleTeardownMs;
    expect(idle).toBe(300_000);
    expect(d.host.teardownIdle(d.now + idle - 1)).toEqual([]);
    // Data-plane activity keeps it.
    expect(d.host.teardownIdle(d.now + idle + 10, () => d.now + 20)).toEqual([]);
    // Control traffic keeps it too.
    const t = d.now + idle + 20;
    d.host.receive(t, d.peer.keepalive(B(0), A(0), d.ct));
    expect(d.host.teardownIdle(t + idle - 1)).toEqual([]);
    const acts = d.host.teardownIdle(t + idle);
    expect(acts).toEqual([expect.objectContaining({ type: 'context-removed', reason: 'idle' })]);
    expect(d.host.contexts()).toEqual([]);
    // Its tag is unknown now: payload with it gets an R1bis.
    expect(kinds(d.host.payloadWithUnknownTag(t + idle + 1, { src: B(0), dst: A(0), tag: d.ct }))).toEqual(['send:R1bis']);
  });

  it('ESTABLISHED | idle teardown is configurable', () => {
    const host = makeHost({ timers: { idleTeardownMs: 10_000 } });
    const d = toEstablished(toI2Sent(toI1Sent(host)));
    expect(d.host.teardownIdle(d.now + 10_000)).toHaveLength(1);
  });
});

describe('Appendix B, I2BIS-SENT', () => {
  it('I2BIS-SENT | Receive R2, verify INIT Nonce → if successful, move to ESTABLISHED', () => {
    const d = toI2bisSent();
    const acts = d.host.receive(d.now + 50, d.peer.r2(d.i2bis, { ct: 0x0a0a_0a0an }));
    expect(kinds(acts)).toEqual(['context-established']);
    const ctx = d.host.context({ ctLocal: d.ct })!;
    expect(ctx.state).toBe('ESTABLISHED');
    expect(ctx.ctPeer).toBe(0x0a0a_0a0an); // the peer's new tag
    expect(d.host.nextDeadline()).toBeNull();
  });

  it('I2BIS-SENT | Receive R2, verify INIT Nonce → if it fails, stay in I2BIS-SENT', () => {
    const d = toI2bisSent();
    // The nonce of the first I2 is no longer the one in use.
    expect(drops(d.host.receive(d.now + 50, d.peer.r2(d.i2!)))).toEqual(['no-context']);
    expect(d.host.context({ ctLocal: d.ct })!.state).toBe('I2BIS-SENT');
  });

  it('I2BIS-SENT | Receive I1 → send R2 and stay in I2BIS-SENT', () => {
    const d = toI2bisSent();
    expect(kinds(d.host.receive(d.now + 50, d.peer.i1(A(0), { ct: 0x1n })))).toEqual(['send:R2']);
    expect(d.host.context({ ctLocal: d.ct })!.state).toBe('I2BIS-SENT');
  });

  it('I2BIS-SENT | Receive I2, verify validator and RESP Nonce → send R2 and stay in I2BIS-SENT', () => {
    // An I1 answered by a stateless R1 before the context existed.
    const host = makeHost();
    const peer = new ScriptedPeer();
    const early = hostR1(host, peer, 1_000, { ct: 0x0a0an });
    const e = toI2bisSent(toEstablished(toI2Sent(toI1Sent(host, peer, 1_010))));
    const acts = host.receive(e.now + 10, peer.i2(early, { ct: 0x0a0an }));
    expect(kinds(acts)).toEqual(['send:R2', 'context-updated']);
    const ctx = host.context({ ctLocal: e.ct })!;
    expect(ctx.state).toBe('I2BIS-SENT');
    expect(ctx.ctPeer).toBe(0x0a0an);
  });

  it('I2BIS-SENT | Receive I2bis, verify validator and RESP Nonce → send R2 and stay in I2BIS-SENT', () => {
    const d = toI2bisSent();
    const r1bis = hostR1bis(d.host, d.peer, d.now + 10, 0x6666n);
    const acts = d.host.receive(d.now + 20, d.peer.i2bis(r1bis, { ct: 0x0b0bn }));
    expect(kinds(acts)).toEqual(['send:R2', 'context-updated']);
    expect(d.host.context({ ctLocal: d.ct })!.state).toBe('I2BIS-SENT');
  });

  it('I2BIS-SENT | Receive R1 → discard and stay in I2BIS-SENT', () => {
    const d = toI2bisSent();
    expect(drops(d.host.receive(d.now + 10, d.peer.r1(d.i1!)))).toEqual(['no-context']);
    expect(d.host.context({ ctLocal: d.ct })!.state).toBe('I2BIS-SENT');
  });

  it('I2BIS-SENT | R1bis → discarded (only ESTABLISHED contexts answer an R1bis, §7.18)', () => {
    const d = toI2bisSent();
    const acts = d.host.receive(d.now + 10, d.peer.r1bis(A(0), B(0), d.peer.ct));
    expect(sends(acts)).toEqual([]);
    expect(drops(acts)).toEqual(['wrong-state']);
    expect(d.host.context({ ctLocal: d.ct })!.state).toBe('I2BIS-SENT');
  });

  it('I2BIS-SENT | Receive Payload Extension header or other control packet → accept and send I2bis', () => {
    const d = toI2bisSent();
    const p = only(d.host.payloadWithUnknownTag(d.now + 10, { src: B(0), dst: A(0), tag: d.ct }), 'I2bis');
    expect(hex(p.send.bytes)).toBe(hex(d.i2bis.bytes));
    const up = d.host.receive(d.now + 2_000, d.peer.updateRequest(B(0), A(0), d.ct, d.peer.locatorOptions(), 0x77));
    // I2bis, then the Update is processed: CT(peer) is known in I2BIS-SENT.
    expect(kinds(up)).toEqual(['send:I2bis', 'send:UpdateAck']);
    expect(only(up, 'UpdateAck').msg).toMatchObject({ receiverContextTag: d.peer.ct, requestNonce: 0x77 });
    const ka = d.host.receive(d.now + 4_000, d.peer.keepalive(B(0), A(0), d.ct));
    expect(kinds(ka)).toEqual(['send:I2bis', 'reap-message']);
  });
});

describe('Context recovery (§7.5): the peer lost its state', () => {
  it('payload → R1bis → I2bis → R2: both ends ESTABLISHED again, host keeps its CT(local)', () => {
    // Two real hosts this time: A established with B, then B reboots.
    const setA = SET_A();
    const setB = hbaSet('B', ['2001:db8:b1::', '2001:db8:b2::', '2001:db8:b3::']);
    const a = new ShimHost({ random: seededRandom('a'), locators: locatorSetFromHbaSet(setA, { present: (_, i) => i < 2 }) });
    let b = new ShimHost({ random: seededRandom('b'), locators: locatorSetFromHbaSet(setB, { present: (_, i) => i < 2 }) });
    const deliver = (to: ShimHost, now: number, acts: ReturnType<ShimHost['receive']>): ReturnType<ShimHost['receive']> =>
      sends(acts).flatMap((s) => to.receive(now, { src: s.src, dst: s.dst, bytes: s.bytes }));
    let t = 1_000;
    let fromA = a.trigger(t, { ulidLocal: setA.addresses[0], ulidPeer: setB.addresses[0] });
    for (let i = 0; i < 4; i++) {
      const fromB = deliver(b, (t += 10), fromA);
      fromA = deliver(a, (t += 10), fromB);
    }
    const ctxA = a.contexts()[0];
    expect(ctxA.state).toBe('ESTABLISHED');
    expect(b.contexts()[0].state).toBe('ESTABLISHED');
    expect(b.contexts()[0].ctLocal).toBe(ctxA.ctPeer);

    b = new ShimHost({ random: seededRandom('b reborn'), locators: locatorSetFromHbaSet(setB, { present: (_, i) => i < 2 }) });
    // A sends payload with CT(peer); B's data plane does not know the tag.
    const r1bis = b.payloadWithUnknownTag((t += 10), { src: ctxA.lpLocal, dst: ctxA.lpPeer, tag: ctxA.ctPeer! });
    const i2bis = a.receive((t += 10), sends(r1bis)[0]);
    expect(a.contexts()[0].state).toBe('I2BIS-SENT');
    const r2 = deliver(b, (t += 10), i2bis);
    expect(kinds(r2)).toEqual(['send:R2', 'context-established']);
    const done = deliver(a, (t += 10), r2);
    expect(kinds(done)).toEqual(['context-established']);
    const a2 = a.contexts()[0];
    const b2 = b.contexts()[0];
    expect(a2.state).toBe('ESTABLISHED');
    expect(a2.ctLocal).toBe(ctxA.ctLocal);
    expect(a2.ctPeer).toBe(b2.ctLocal);
    expect(b2.ctPeer).toBe(a2.ctLocal);
    expect(b2.ctLocal).not.toBe(ctxA.ctPeer === b2.ctLocal ? -1n : ctxA.ctPeer); // a fresh tag (almost surely different)
    expect(names(b2.lsPeer.map((l) => l.addr))).toEqual(names([setA.addresses[0], setA.addresses[1]]));
  });
});

describe('Context confusion (§7.6, §7.15)', () => {
  /** Host has <a1,b1> with CT(peer) = X; the peer lost it and reuses X for <a2,b2>. */
  function confused(onConfusion: 'discard' | 'reestablish') {
    const host = makeHost({ onConfusion });
    const peer = new ScriptedPeer();
    const old = toEstablishedResponder(host, peer);
    const r1 = only(host.receive(2_000, peer.i1(A(1), { src: B(1), ct: peer.ct, nonce: 0x71 })), 'R1').send;
    expect(host.contexts()).toHaveLength(1); // the I1 with the duplicate tag removes nothing yet
    const acts = host.receive(2_100, peer.i2(r1, { nonce: 0x72 }));
    return { host, peer, old, acts };
  }

  it('an I2 creating a context with the same CT(peer) and overlapping Ls(peer) → the old context is discarded before the R2', () => {
    const { host, peer, old, acts } = confused('discard');
    expect(kinds(acts)).toEqual(['context-removed', 'send:R2', 'context-established']);
    expect(acts[0]).toMatchObject({ type: 'log', event: 'confusion', ctLocal: old.ct });
    expect(acts.find((a) => a.type === 'context-removed')).toMatchObject({ reason: 'confusion', ctx: { ctLocal: old.ct } });
    const all = host.contexts();
    expect(all).toHaveLength(1);
    expect(names([all[0].ulidLocal, all[0].ulidPeer])).toEqual(names([A(1), B(1)]));
    expect(all[0].ctPeer).toBe(peer.ct);
    // The old tag is gone: the peer's payloads with it get an R1bis.
    expect(kinds(host.payloadWithUnknownTag(2_200, { src: B(0), dst: A(0), tag: old.ct }))).toEqual(['send:R1bis']);
  });

  it('policy "reestablish": the old context goes back to I1-SENT and sends an I1 (§7.15 MAY)', () => {
    const host = makeHost({ onConfusion: 'reestablish' });
    const peer = new ScriptedPeer();
    const old = toEstablishedResponder(host, peer);
    // Move the old context off its ULIDs so its I1 needs the ULID Pair option.
    expect(host.setCurrentPair(2_000, old.ct, { local: A(1), peer: B(1) }).ok).toBe(true);
    const r1 = only(host.receive(2_000, peer.i1(A(1), { src: B(1), ct: peer.ct })), 'R1').send;
    const acts = host.receive(2_100, peer.i2(r1));
    expect(kinds(acts)).toEqual(['send:I1', 'context-updated', 'send:R2', 'context-established']);
    const i1 = sends(acts)[0];
    const m = msgOf(i1);
    expect(names([i1.src, i1.dst])).toEqual(names([A(1), B(1)]));
    if (m.kind !== 'I1') throw new Error('I1');
    expect(m.initiatorContextTag).toBe(old.ct);
    expect(names([opt(m, 'UlidPair')!.senderUlid, opt(m, 'UlidPair')!.receiverUlid])).toEqual(names([A(0), B(0)]));
    const oldNow = host.context({ ctLocal: old.ct })!;
    expect(oldNow.state).toBe('I1-SENT');
    expect(oldNow.ctPeer).toBeNull();
    const established = host.contexts().filter((c) => c.state === 'ESTABLISHED');
    expect(established).toHaveLength(1);
  });

  it('an R2 bringing the same CT(peer) with overlapping locators → the old context is discarded', () => {
    const host = makeHost();
    const peer = new ScriptedPeer();
    const old = toEstablishedResponder(host, peer);
    const trig = host.trigger(3_000, { ulidLocal: A(1), ulidPeer: B(1) });
    const i1 = only(trig, 'I1').send;
    const acts = host.receive(3_100, peer.r2(i1, { ct: peer.ct }));
    expect(acts.find((a) => a.type === 'context-removed')).toMatchObject({ reason: 'confusion', ctx: { ctLocal: old.ct } });
    expect(host.contexts().map((c) => c.state)).toEqual(['ESTABLISHED']);
  });

  it('the same CT(peer) with disjoint locator sets (another peer host) is no confusion', () => {
    const host = makeHost();
    const peerB = new ScriptedPeer();
    toEstablishedResponder(host, peerB);
    const peerC = new ScriptedPeer({ set: hbaSet('C', ['2001:db8:c1::', '2001:db8:c2::']), ctLocal: peerB.ct });
    toEstablishedResponder(host, peerC, 5_000);
    expect(host.contexts().map((c) => [c.state, c.ctPeer])).toEqual([
      ['ESTABLISHED', peerB.ct],
      ['ESTABLISHED', peerB.ct],
    ]);
  });

  it('an Update making Ls(peer) overlap another context with the same CT(peer) → that one is discarded', () => {
    const host = makeHost();
    const peerB = new ScriptedPeer({ announce: [0] });
    const ctxB = toEstablishedResponder(host, peerB);
    // A second context whose peer announces b2 only, with the same tag.
    const peerB2 = new ScriptedPeer({ announce: [1], ctLocal: peerB.ct });
    const r1 = only(host.receive(5_000, peerB2.i1(A(1), { src: B(1), ulids: [B(1), A(1)] })), 'R1').send;
    host.receive(5_010, peerB2.i2(r1, { ulids: [B(1), A(1)] }));
    expect(host.contexts().filter((c) => c.state === 'ESTABLISHED')).toHaveLength(2);
    // Now <a1,b1>'s peer says it also has b2.
    peerB.announce = [0, 1];
    peerB.generation++;
    const acts = host.receive(5_100, peerB.updateRequest(B(0), A(0), ctxB.ct, peerB.locatorOptions()));
    expect(kinds(acts)).toEqual(['send:UpdateAck', 'context-removed', 'context-updated']);
    expect(host.contexts().filter((c) => c.state === 'ESTABLISHED')).toHaveLength(1);
  });
});

describe('Locator verification in I2/R2 (§7.2)', () => {
  it('a locator failing HBA verification is recorded as failed and never becomes the current pair', () => {
    const host = makeHost();
    const peer = new ScriptedPeer();
    const r1 = hostR1(host, peer, 1_000);
    const forged = new Uint8Array(B(1));
    forged[15] ^= 1;
    const acts = host.receive(1_100, peer.i2(r1, {
      options: [
        { kind: 'LocatorList', generation: 5, locators: [{ addr: B(0), method: 1 }, { addr: forged, method: 1 }] },
        { kind: 'CgaPds', pds: peer.set.params[0] },
      ],
    }));
    expect(kinds(acts)).toEqual(['send:R2', 'context-established']);
    const ctx = host.contexts()[0];
    expect(ctx.lsPeer.map((l) => [l.verification, l.usable])).toEqual([
      ['hba', true],
      ['failed', false],
    ]);
    expect(host.setCurrentPair(1_200, ctx.ctLocal!, { local: A(0), peer: forged })).toEqual({ ok: false, reason: 'unverified-peer' });
    expect(host.setCurrentPair(1_200, ctx.ctLocal!, { local: A(0), peer: B(2) })).toEqual({ ok: false, reason: 'unknown-peer' });
    expect(host.setCurrentPair(1_200, ctx.ctLocal!, { local: A(2), peer: B(0) })).toEqual({ ok: false, reason: 'unknown-local' });
  });

  it('a peer that sends no locator list: Ls(peer) = {ULID(peer)}, unverified but usable', () => {
    const host = makeHost();
    const peer = new ScriptedPeer();
    const r1 = hostR1(host, peer, 1_000);
    host.receive(1_100, peer.i2(r1, { locators: false }));
    const ctx = host.contexts()[0];
    expect(ctx.lsPeer).toEqual([expect.objectContaining({ method: 0, verification: 'unverified', usable: true })]);
  });

  it('a peer whose I2 comes from a non-ULID verified locator: it becomes Lp(peer)', () => {
    const host = makeHost();
    const peer = new ScriptedPeer();
    const r1 = hostR1(host, peer, 1_000, { src: B(1), ulids: [B(0), A(0)] });
    host.receive(1_100, peer.i2(r1, { ulids: [B(0), A(0)] }));
    const ctx = host.contexts()[0];
    expect(names([ctx.lpLocal, ctx.lpPeer])).toEqual(names([A(0), B(1)]));
    expect(ctx.lsPeer.find((l) => hex(l.addr) === hex(B(1)))).toMatchObject({ verification: 'hba', usable: true });
  });

  it('CGA-method locators are accepted with a valid signature only (signature over generation and CGA locators)', async () => {
    const { rsaKeyPair } = await import('../hba/helpers.js');
    const { generateHbaSet, shim6SignedContent, signShim6 } = await import('../../../src/hba/index.js');
    const { privateKey, publicKeyDer } = rsaKeyPair(1024);
    const set = generateHbaSet({
      prefixes: [new Uint8Array([0x20, 1, 0x0d, 0xb8, 0, 0xd1, 0, 0])],
      sec: 0,
      publicKeyDer,
      random: seededRandom('cga peer'),
    });
    const ulid = set.addresses[0];
    const other = Uint8Array.from([0x20, 1, 0x0d, 0xb8, 0, 0xd9, 0, 0, 0, 0, 0, 0, 0, 0, 0, 9]); // not in the set
    const peer = new ScriptedPeer({ set: { ...set, addresses: [ulid, other], params: set.params } });
    const list = { generation: 0x51, locators: [ulid, other], methods: [VerificationMethod.HBA, VerificationMethod.CGA] };
    const signature = signShim6(privateKey, shim6SignedContent(list));
    const opts = (sig: Uint8Array) => [
      { kind: 'LocatorList' as const, generation: 0x51, locators: [{ addr: ulid, method: 1 }, { addr: other, method: 2 }] },
      { kind: 'CgaPds' as const, pds: set.params[0] },
      { kind: 'CgaSignature' as const, signature: sig },
    ];
    const host = makeHost();
    const r1 = hostR1(host, peer, 1_000);
    host.receive(1_100, peer.i2(r1, { options: opts(signature) }));
    expect(host.contexts()[0].lsPeer.map((l) => l.verification)).toEqual(['hba', 'cga']);

    const host2 = makeHost();
    const r1b = hostR1(host2, peer, 1_000);
    const bad = signature.slice();
    bad[5] ^= 1;
    host2.receive(1_100, peer.i2(r1b, { options: opts(bad) }));
    expect(host2.contexts()[0].lsPeer.map((l) => l.verification)).toEqual(['hba', 'failed']);

    // A CGA locator without any signature option is inconsistent: Error 2, message ignored.
    const host3 = makeHost();
    const r1c = hostR1(host3, peer, 1_000);
    const acts = host3.receive(1_100, peer.i2(r1c, { options: opts(signature).slice(0, 2) }));
    expect(only(acts, 'Error').msg.code).toBe(2);
    expect(host3.contexts()).toEqual([]);
  });
});
