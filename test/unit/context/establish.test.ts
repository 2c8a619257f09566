// RFC 5533 Appendix B, states IDLE, I1-SENT and I2-SENT: one test per row,
// against a scripted peer exchanging raw bytes.

import { describe, expect, it } from 'vitest';
import { VerificationMethod, encode, type Shim6Option } from '../../../src/wire/index.js';
import {
  A,
  B,
  ScriptedPeer,
  drops,
  eqAddr,
  hex,
  hostR1,
  hostR1bis,
  kinds,
  makeHost,
  msgOf,
  names,
  only,
  opt,
  sends,
  SET_A,
  toEstablished,
  toI1Sent,
  toI2Sent,
} from './helpers.js';

describe('Appendix B, IDLE', () => {
  it('IDLE | Receive I1 → send R1 and stay in IDLE (stateless R1)', () => {
    const host = makeHost();
    const peer = new ScriptedPeer();
    const acts = host.receive(1_000, peer.i1(A(0), { nonce: 0xdead_beef }));
    expect(kinds(acts)).toEqual(['send:R1']);
    const { send, msg } = only(acts, 'R1');
    expect(names([send.src, send.dst])).toEqual(names([A(0), B(0)]));
    expect(send.ctLocal).toBeNull();
    expect(msg.initiatorNonce).toBe(0xdead_beef);
    expect(msg.options.map((o) => o.kind)).toEqual(['ResponderValidator']);
    expect(opt(msg, 'ResponderValidator')?.validator.length).toBe(20);
    // No state at all: no context, no timer.
    expect(host.contexts()).toEqual([]);
    expect(host.nextDeadline()).toBeNull();
  });

  it('IDLE | Receive I1 → R1: no state however many I1s arrive, each validator bound to its I1', () => {
    const host = makeHost();
    const peer = new ScriptedPeer();
    const validators = new Set<string>();
    for (let i = 0; i < 500; i++) {
      const { msg } = only(host.receive(1_000 + i, peer.i1(A(0), { ct: BigInt(i + 1), nonce: i })), 'R1');
      validators.add(hex(opt(msg, 'ResponderValidator')!.validator));
    }
    expect(validators.size).toBe(500);
    expect(host.contexts()).toEqual([]);
    expect(host.nextDeadline()).toBeNull();
  });

  it('IDLE | Receive I1 for a ULID that is not ours → dropped, no R1', () => {
    const host = makeHost();
    const peer = new ScriptedPeer();
    const acts = host.receive(1_000, peer.i1(A(0), { ulids: [B(0), A(2)] })); // a3 is not configured
    expect(sends(acts)).toEqual([]);
    expect(drops(acts)).toEqual(['not-local']);
  });

  it('IDLE | Heuristics trigger a new context establishment → send I1 and move to I1-SENT', () => {
    const host = makeHost();
    const acts = host.trigger(5_000, { ulidLocal: A(0), ulidPeer: B(0) });
    const { send, msg } = only(acts, 'I1');
    const ctx = host.contexts()[0];
    expect(ctx.state).toBe('I1-SENT');
    expect(names([send.src, send.dst])).toEqual(names([A(0), B(0)]));
    expect(msg.initiatorContextTag).toBe(ctx.ctLocal);
    expect(msg.initiatorNonce).toBe(ctx.initiatorNonce);
    // Sent on the ULIDs, default context: no ULID Pair, no FII option (§7.7).
    expect(msg.options).toEqual([]);
    expect(ctx.ctLocal).not.toBe(0n);
    expect(ctx.ctLocal! < 1n << 47n).toBe(true);
    expect(send.ctLocal).toBe(ctx.ctLocal);
    // Deferred setup: the current pair is the ULID pair, traffic flows meanwhile.
    expect(names([ctx.lpLocal, ctx.lpPeer])).toEqual(names([A(0), B(0)]));
    const due = host.nextDeadline()!;
    expect(due).toBeGreaterThanOrEqual(5_000 + 2_000);
    expect(due).toBeLessThanOrEqual(5_000 + 6_000);
    // A second trigger for the same pair does nothing.
    expect(host.trigger(5_001, { ulidLocal: A(0), ulidPeer: B(0) })).toEqual([]);
  });

  it('IDLE | Heuristics trigger for a forked context → the I1 carries the FII option', () => {
    const host = makeHost();
    const { msg } = only(host.trigger(5_000, { ulidLocal: A(0), ulidPeer: B(0), fii: 7 }), 'I1');
    expect(msg.options).toEqual([expect.objectContaining({ kind: 'ForkedInstanceId', fii: 7 })]);
    expect(host.contexts()[0].fii).toBe(7);
  });

  it('IDLE | Heuristics trigger for a ULID that is not local → refused', () => {
    const host = makeHost();
    const acts = host.trigger(5_000, { ulidLocal: A(2), ulidPeer: B(0) });
    expect(sends(acts)).toEqual([]);
    expect(acts).toEqual([expect.objectContaining({ type: 'log', event: 'trigger-refused' })]);
  });

  it('IDLE | Receive I2, verify validator and RESP Nonce → if successful, send R2 and move to ESTABLISHED', () => {
    const host = makeHost();
    const peer = new ScriptedPeer();
    const r1 = hostR1(host, peer, 1_000);
    const acts = host.receive(1_500, peer.i2(r1, { nonce: 0x1234_5678 }));
    expect(kinds(acts)).toEqual(['send:R2', 'context-established']);
    const { send, msg } = only(acts, 'R2');
    const ctx = host.contexts()[0];
    expect(ctx.state).toBe('ESTABLISHED');
    expect(names([send.src, send.dst])).toEqual(names([A(0), B(0)]));
    expect(msg.responderContextTag).toBe(ctx.ctLocal);
    expect(msg.initiatorNonce).toBe(0x1234_5678);
    // R2 carries our locator list with the HBA proof (§7.14).
    expect(msg.options.map((o) => o.kind)).toEqual(['LocatorList', 'CgaPds']);
    const list = opt(msg, 'LocatorList')!;
    expect(names(list.locators.map((l) => l.addr))).toEqual(names([A(0), A(1)]));
    expect(list.locators.map((l) => l.method)).toEqual([VerificationMethod.HBA, VerificationMethod.HBA]);
    expect(list.generation).toBe(ctx.localGeneration);
    expect(hex(opt(msg, 'CgaPds')!.pds)).toBe(hex(SET_A().params[0]));
    // The context records CT(peer) and the verified Ls(peer).
    expect(ctx.ctPeer).toBe(peer.ct);
    expect(ctx.lsPeer.map((l) => [l.verification, l.usable])).toEqual([
      ['hba', true],
      ['hba', true],
    ]);
    expect(ctx.peerGeneration).toBe(peer.generation);
    expect(names([ctx.lpLocal, ctx.lpPeer])).toEqual(names([A(0), B(0)]));
    const est = acts.find((a) => a.type === 'context-established');
    expect(est).toMatchObject({ ctx: { state: 'ESTABLISHED', ctPeer: peer.ct } });
  });

  it('IDLE | Receive I2, verify validator and RESP Nonce → if it fails, stay in IDLE', () => {
    const host = makeHost();
    const peer = new ScriptedPeer();
    const r1 = hostR1(host, peer, 1_000);
    const v = opt(msgOf(r1), 'ResponderValidator')!.validator.slice();
    v[7] ^= 1;
    const cases = [
      peer.i2(r1, { validator: v }), // forged validator
      peer.i2(r1, { ct: peer.ct + 1n }), // validator bound to the I1's tag
      peer.i2(r1, { fii: 3 }), // … and FII
      { ...peer.i2(r1), src: B(1) }, // … and locators
    ];
    const m = msgOf(r1);
    if (m.kind !== 'R1') throw new Error('R1');
    // … and Responder Nonce
    const i2 = peer.pkt(r1.dst, r1.src, {
      kind: 'I2',
      initiatorContextTag: peer.ct,
      initiatorNonce: 1,
      responderNonce: (m.responderNonce + 1) >>> 0,
      options: [{ kind: 'ResponderValidator', validator: opt(m, 'ResponderValidator')!.validator }],
    });
    for (const pkt of [...cases, i2]) {
      const acts = host.receive(1_500, pkt);
      expect(sends(acts)).toEqual([]);
      expect(drops(acts)).toEqual(['bad-validator']);
    }
    // Without the validator option at all.
    const noRv = peer.pkt(r1.dst, r1.src, { kind: 'I2', initiatorContextTag: peer.ct, initiatorNonce: 1, responderNonce: m.responderNonce });
    expect(drops(host.receive(1_500, noRv))).toEqual(['no-validator']);
    expect(host.contexts()).toEqual([]);
  });

  it('IDLE | Receive I2 whose PDS does not belong to ULID(peer) → silently dropped (§7.13)', () => {
    const host = makeHost();
    const peer = new ScriptedPeer();
    const r1 = hostR1(host, peer, 1_000);
    const foreign: Shim6Option[] = [
      { kind: 'LocatorList', generation: 1, locators: [{ addr: B(0), method: VerificationMethod.HBA }] },
      { kind: 'CgaPds', pds: SET_A().params[0] }, // someone else's PDS
    ];
    const acts = host.receive(1_500, peer.i2(r1, { options: foreign }));
    expect(sends(acts)).toEqual([]);
    expect(drops(acts)).toEqual(['pds-mismatch']);
    expect(host.contexts()).toEqual([]);
  });

  it('IDLE | Receive I2 with an unsupported verification method → ignored, Error code 2 (§7.2)', () => {
    const host = makeHost();
    const peer = new ScriptedPeer();
    const r1 = hostR1(host, peer, 1_000);
    const pkt = peer.i2(r1, { options: peer.locatorOptions({ methods: [VerificationMethod.HBA, 77] }) });
    const acts = host.receive(1_500, pkt);
    const { send, msg } = only(acts, 'Error');
    expect(names([send.src, send.dst])).toEqual(names([A(0), B(0)]));
    expect(msg.code).toBe(2);
    // Pointer: IPv6 header (40) + I2 fixed part (24) + validator option (24)
    // + option header (4) + generation (4) + count (1) + index 1.
    expect(msg.pointer).toBe(40 + 24 + 24 + 4 + 5 + 1);
    expect(msg.packetInError[40 + msg.pointer - 40]).toBe(77);
    expect(host.contexts()).toEqual([]);
  });

  it('IDLE | Receive I2bis, verify validator and RESP Nonce → if successful, send R2 and move to ESTABLISHED', () => {
    const host = makeHost();
    const peer = new ScriptedPeer();
    const lostTag = 0x55n;
    const r1bis = hostR1bis(host, peer, 1_000, lostTag);
    const acts = host.receive(1_200, peer.i2bis(r1bis, { nonce: 0xabcd }));
    expect(kinds(acts)).toEqual(['send:R2', 'context-established']);
    const { msg } = only(acts, 'R2');
    const ctx = host.contexts()[0];
    expect(msg.initiatorNonce).toBe(0xabcd);
    expect(msg.responderContextTag).toBe(ctx.ctLocal);
    // A new random CT(local), not the Packet Context Tag (§7.20).
    expect(ctx.ctLocal).not.toBe(lostTag);
    expect(ctx.ctPeer).toBe(peer.ct);
    expect(ctx.state).toBe('ESTABLISHED');
  });

  it('IDLE | Receive I2bis, verify validator and RESP Nonce → if it fails, stay in IDLE', () => {
    const host = makeHost();
    const peer = new ScriptedPeer();
    const r1bis = hostR1bis(host, peer, 1_000, 0x55n);
    const m = msgOf(r1bis);
    if (m.kind !== 'R1bis') throw new Error('R1bis');
    const wrongTag = peer.pkt(r1bis.dst, r1bis.src, {
      kind: 'I2bis',
      initiatorContextTag: peer.ct,
      initiatorNonce: 1,
      responderNonce: m.responderNonce,
      packetContextTag: 0x56n,
      options: [{ kind: 'ResponderValidator', validator: opt(m, 'ResponderValidator')!.validator }],
    });
    const otherLocator = { ...peer.i2bis(r1bis), src: B(1) };
    for (const pkt of [wrongTag, otherLocator]) {
      const acts = host.receive(1_200, pkt);
      expect(sends(acts)).toEqual([]);
      expect(drops(acts)).toEqual(['bad-validator']);
    }
    expect(host.contexts()).toEqual([]);
  });

  it('IDLE | R1, R1bis, R2 → N/A: the dispatcher finds no context, silently discarded', () => {
    const host = makeHost();
    const peer = new ScriptedPeer();
    const r1 = peer.pkt(B(0), A(0), {
      kind: 'R1',
      initiatorNonce: 7,
      responderNonce: 8,
      options: [{ kind: 'ResponderValidator', validator: new Uint8Array(8) }],
    });
    const r2 = peer.pkt(B(0), A(0), { kind: 'R2', responderContextTag: 9n, initiatorNonce: 7 });
    const r1bis = peer.r1bis(A(0), B(0), 10n);
    for (const pkt of [r1, r2, r1bis]) {
      const acts = host.receive(1_000, pkt);
      expect(sends(acts)).toEqual([]);
      expect(drops(acts)).toEqual(['no-context']);
    }
    expect(host.contexts()).toEqual([]);
  });

  it('IDLE | Receive Payload Extension header or other control packet → send R1bis and stay in IDLE', () => {
    const host = makeHost();
    const peer = new ScriptedPeer();
    const tag = 0x1234_5678_9an;
    const a1 = host.payloadWithUnknownTag(1_000, { src: B(1), dst: A(1), tag });
    const { send, msg } = only(a1, 'R1bis');
    expect(names([send.src, send.dst])).toEqual(names([A(1), B(1)]));
    expect(msg.packetContextTag).toBe(tag);
    expect(msg.options.map((o) => o.kind)).toEqual(['ResponderValidator']);
    for (const pkt of [
      peer.updateRequest(B(0), A(0), tag, []),
      peer.pkt(B(0), A(0), { kind: 'UpdateAck', receiverContextTag: tag, requestNonce: 1 }),
      peer.keepalive(B(0), A(0), tag),
      peer.pkt(B(0), A(0), {
        kind: 'Probe',
        receiverContextTag: tag,
        state: 1,
        sent: [{ src: B(0), dst: A(0), nonce: 1, data: 2 }],
        received: [],
      }),
    ]) {
      const r = only(host.receive(1_000, pkt), 'R1bis');
      expect(r.msg.packetContextTag).toBe(tag);
    }
    expect(host.contexts()).toEqual([]);
    expect(host.nextDeadline()).toBeNull();
  });

  it('IDLE | malformed or unknown control messages: Error code 0 for an unknown type, nothing else (§12.3)', () => {
    const host = makeHost();
    const bytes = encode({ kind: 'Keepalive', receiverContextTag: 1n });
    bytes[2] = 100; // unknown type 100
    bytes[4] = 0;
    bytes[5] = 0;
    // Fix the checksum for the modified header.
    let sum = 0;
    for (let i = 0; i < bytes.length; i += 2) sum += (bytes[i] << 8) | bytes[i + 1];
    while (sum > 0xffff) sum = (sum & 0xffff) + (sum >>> 16);
    const c = ~sum & 0xffff;
    bytes[4] = c >> 8;
    bytes[5] = c & 0xff;
    const { msg } = only(host.receive(1_000, { src: B(0), dst: A(0), bytes }), 'Error');
    expect(msg.code).toBe(0);
    expect(msg.pointer).toBe(42);
    const bad = encode({ kind: 'Keepalive', receiverContextTag: 1n });
    bad[10] ^= 0xff; // checksum now wrong
    expect(sends(host.receive(1_000, { src: B(0), dst: A(0), bytes: bad }))).toEqual([]);
    // Multicast/unspecified source: dropped (§12.3).
    const mc = new Uint8Array(16);
    mc[0] = 0xff;
    expect(drops(host.receive(1_000, { src: mc, dst: A(0), bytes: encode({ kind: 'Keepalive', receiverContextTag: 1n }) }))).toEqual([
      'bad-address',
    ]);
  });
});

describe('Appendix B, I1-SENT', () => {
  it('I1-SENT | Receive R1, verify INIT Nonce → if successful, send I2 and move to I2-SENT', () => {
    const d = toI1Sent();
    const r1 = d.peer.r1(d.i1!, { responderNonce: 0x2222_0042, validator: Uint8Array.of(9, 8, 7, 6, 5, 4, 3, 2, 1) });
    const acts = d.host.receive(1_100, r1);
    const { send, msg } = only(acts, 'I2');
    const ctx = d.host.context({ ctLocal: d.ct })!;
    expect(ctx.state).toBe('I2-SENT');
    expect(names([send.src, send.dst])).toEqual(names([A(0), B(0)]));
    expect(msg.initiatorContextTag).toBe(d.ct);
    expect(msg.initiatorNonce).toBe(ctx.initiatorNonce);
    expect(msg.responderNonce).toBe(0x2222_0042);
    // Options: the R1's validator verbatim, then our locators and their proof (§7.11).
    expect(msg.options.map((o) => o.kind)).toEqual(['ResponderValidator', 'LocatorList', 'CgaPds']);
    expect([...opt(msg, 'ResponderValidator')!.validator]).toEqual([9, 8, 7, 6, 5, 4, 3, 2, 1]);
    expect(ctx.responderNonce).toBe(0x2222_0042);
    expect(acts.find((a) => a.type === 'context-updated')).toMatchObject({ changes: ['state'] });
  });

  it('I1-SENT | Receive R1, verify INIT Nonce → if it fails, discard and stay in I1-SENT', () => {
    const d = toI1Sent();
    const m = msgOf(d.i1!);
    if (m.kind !== 'I1') throw new Error('I1');
    const wrongNonce = d.peer.pkt(B(0), A(0), {
      kind: 'R1',
      initiatorNonce: (m.initiatorNonce + 1) >>> 0,
      responderNonce: 1,
      options: [{ kind: 'ResponderValidator', validator: new Uint8Array(4) }],
    });
    const fromStranger = { ...d.peer.r1(d.i1!), src: B(2) }; // not a locator of the peer we know
    const noValidator = d.peer.pkt(B(0), A(0), { kind: 'R1', initiatorNonce: m.initiatorNonce, responderNonce: 1 });
    expect(drops(d.host.receive(1_100, wrongNonce))).toEqual(['no-context']);
    expect(drops(d.host.receive(1_100, fromStranger))).toEqual(['no-context']);
    expect(drops(d.host.receive(1_100, noValidator))).toEqual(['no-validator']);
    expect(d.host.context({ ctLocal: d.ct })!.state).toBe('I1-SENT');
  });

  it('I1-SENT | Receive I1 → send R2 and stay in I1-SENT (crossing I1s, Figure 4)', () => {
    const d = toI1Sent();
    const acts = d.host.receive(1_100, d.peer.i1(A(0), { nonce: 0x7777 }));
    const { send, msg } = only(acts, 'R2');
    expect(names([send.src, send.dst])).toEqual(names([A(0), B(0)]));
    expect(msg.responderContextTag).toBe(d.ct);
    expect(msg.initiatorNonce).toBe(0x7777);
    expect(opt(msg, 'LocatorList')).toBeDefined();
    const ctx = d.host.context({ ctLocal: d.ct })!;
    expect(ctx.state).toBe('I1-SENT');
    expect(ctx.ctPeer).toBeNull(); // CT(peer) unchanged (§7.9)
  });

  it('I1-SENT | Receive R2, verify INIT Nonce → if successful, move to ESTABLISHED', () => {
    const d = toI1Sent();
    const acts = d.host.receive(1_100, d.peer.r2(d.i1!));
    // The peer never saw our locators (no I2, no R2 from us): an Update follows.
    expect(kinds(acts)).toEqual(['context-established', 'send:UpdateRequest']);
    const ctx = d.host.context({ ctLocal: d.ct })!;
    expect(ctx.state).toBe('ESTABLISHED');
    expect(ctx.ctPeer).toBe(d.peer.ct);
    expect(ctx.lsPeer.map((l) => l.verification)).toEqual(['hba', 'hba']);
    const { msg } = only(acts, 'UpdateRequest');
    expect(msg.receiverContextTag).toBe(d.peer.ct);
    expect(msg.options.map((o) => o.kind)).toEqual(['LocatorList', 'CgaPds']);
    // Only the Update timer is pending: the I1 timer is gone.
    expect(d.host.nextDeadline()).toBeGreaterThanOrEqual(1_100 + 2_000);
    expect(d.host.nextDeadline()).toBeLessThanOrEqual(1_100 + 6_000);
  });

  it('I1-SENT | Receive R2, verify INIT Nonce → if it fails, discard and stay in I1-SENT', () => {
    const d = toI1Sent();
    const acts = d.host.receive(1_100, d.peer.r2(d.i1!, { nonce: 1 }));
    expect(sends(acts)).toEqual([]);
    expect(drops(acts)).toEqual(['no-context']);
    // An R2 whose PDS does not belong to ULID(peer) is dropped too (§7.16).
    const forged = d.peer.r2(d.i1!, {
      options: [
        { kind: 'LocatorList', generation: 1, locators: [{ addr: B(0), method: VerificationMethod.HBA }] },
        { kind: 'CgaPds', pds: SET_A().params[1] },
      ],
    });
    expect(drops(d.host.receive(1_100, forged))).toEqual(['pds-mismatch']);
    expect(d.host.context({ ctLocal: d.ct })!.state).toBe('I1-SENT');
  });

  it('I1-SENT | Receive I2, verify validator and RESP Nonce → if successful, send R2 and move to ESTABLISHED (Figure 5)', () => {
    const host = makeHost();
    const peer = new ScriptedPeer();
    const r1 = hostR1(host, peer, 1_000); // the peer's I1 got a stateless R1
    const d = toI1Sent(host, peer, 1_010); // then our ULP wanted a context too
    const acts = host.receive(1_020, peer.i2(r1, { nonce: 0x4242 }));
    expect(kinds(acts)).toEqual(['send:R2', 'context-established']);
    expect(only(acts, 'R2').msg.initiatorNonce).toBe(0x4242);
    const ctx = host.context({ ctLocal: d.ct })!;
    expect(ctx.state).toBe('ESTABLISHED');
    expect(ctx.ctPeer).toBe(peer.ct);
    expect(host.contexts()).toHaveLength(1);
    expect(host.nextDeadline()).toBeNull();
    // Our I1 then reaches the peer, which answers R2 with our nonce: ignored.
    const late = host.receive(1_030, peer.r2(d.i1!));
    expect(sends(late)).toEqual([]);
    expect(drops(late)).toEqual(['wrong-state']);
  });

  it('I1-SENT | Receive I2, verify validator and RESP Nonce → if it fails, discard and stay in I1-SENT', () => {
    const host = makeHost();
    const peer = new ScriptedPeer();
    const r1 = hostR1(host, peer, 1_000);
    const d = toI1Sent(host, peer, 1_010);
    const v = opt(msgOf(r1), 'ResponderValidator')!.validator.slice();
    v[0] ^= 0x80;
    expect(drops(host.receive(1_020, peer.i2(r1, { validator: v })))).toEqual(['bad-validator']);
    expect(host.context({ ctLocal: d.ct })!.state).toBe('I1-SENT');
  });

  it('I1-SENT | Receive I2bis, verify validator and RESP Nonce → if successful, send R2 and move to ESTABLISHED', () => {
    const host = makeHost();
    const peer = new ScriptedPeer();
    const r1bis = hostR1bis(host, peer, 1_000, 0x99n); // host lost the old context, answered R1bis
    const d = toI1Sent(host, peer, 1_010);
    const acts = host.receive(1_020, peer.i2bis(r1bis, { nonce: 0x31 }));
    expect(kinds(acts)).toEqual(['send:R2', 'context-established']);
    expect(only(acts, 'R2').msg.initiatorNonce).toBe(0x31);
    const ctx = host.context({ ctLocal: d.ct })!;
    expect(ctx.state).toBe('ESTABLISHED');
    expect(ctx.ctPeer).toBe(peer.ct);
  });

  it('I1-SENT | Receive I2bis, verify validator and RESP Nonce → if it fails, discard and stay in I1-SENT', () => {
    const host = makeHost();
    const peer = new ScriptedPeer();
    const r1bis = hostR1bis(host, peer, 1_000, 0x99n);
    const d = toI1Sent(host, peer, 1_010);
    expect(drops(host.receive(1_020, peer.i2bis(r1bis, { validator: new Uint8Array(20) })))).toEqual(['bad-validator']);
    expect(host.context({ ctLocal: d.ct })!.state).toBe('I1-SENT');
  });

  it('I1-SENT | Receive I2 from a locator that is neither known nor proven → discard (§7.13)', () => {
    const host = makeHost();
    const peer = new ScriptedPeer({ announce: [0] });
    // The peer's I1 came from b2 (a locator we do not know) carrying the ULID pair.
    const r1 = hostR1(host, peer, 1_000, { src: B(1), ulids: [B(0), A(0)] });
    const d = toI1Sent(host, peer, 1_010);
    const acts = host.receive(1_020, peer.i2(r1, { ulids: [B(0), A(0)] })); // list has only b1
    expect(drops(acts)).toEqual(['unknown-locator']);
    expect(host.context({ ctLocal: d.ct })!.state).toBe('I1-SENT');
  });

  it('I1-SENT | R1bis → N/A: the dispatcher does not deliver it (CT(peer) is not set)', () => {
    const d = toI1Sent();
    const acts = d.host.receive(1_100, d.peer.r1bis(A(0), B(0), d.peer.ct));
    expect(sends(acts)).toEqual([]);
    expect(drops(acts)).toEqual(['no-context']);
    expect(d.host.context({ ctLocal: d.ct })!.state).toBe('I1-SENT');
  });

  it('I1-SENT | Receive Payload Extension header or other control packet → discard and stay in I1-SENT', () => {
    const d = toI1Sent();
    const p1 = d.host.payloadWithUnknownTag(1_100, { src: B(0), dst: A(0), tag: d.ct });
    expect(sends(p1)).toEqual([]);
    expect(drops(p1)).toEqual(['wrong-state']);
    for (const pkt of [
      d.peer.updateRequest(B(0), A(0), d.ct, []),
      d.peer.keepalive(B(0), A(0), d.ct),
      d.peer.pkt(B(0), A(0), { kind: 'UpdateAck', receiverContextTag: d.ct, requestNonce: 5 }),
    ]) {
      const acts = d.host.receive(1_100, pkt);
      expect(sends(acts)).toEqual([]);
      expect(drops(acts)).toEqual(['wrong-state']);
    }
    expect(d.host.context({ ctLocal: d.ct })!.state).toBe('I1-SENT');
  });
});

describe('Appendix B, I2-SENT', () => {
  it('I2-SENT | Receive R2, verify INIT Nonce → if successful, move to ESTABLISHED', () => {
    const d = toI2Sent();
    const acts = d.host.receive(1_200, d.peer.r2(d.i2!));
    expect(kinds(acts)).toEqual(['context-established']);
    const ctx = d.host.context({ ctLocal: d.ct })!;
    expect(ctx.state).toBe('ESTABLISHED');
    expect(ctx.ctPeer).toBe(d.peer.ct);
    expect(names(ctx.lsPeer.map((l) => l.addr))).toEqual(names([B(0), B(1)]));
    expect(ctx.responderNonce).toBeNull();
    expect(d.host.nextDeadline()).toBeNull();
    // The R2 acknowledged the list our I2 carried: no Update follows.
    expect(ctx.update).toBeNull();
  });

  it('I2-SENT | Receive R2, verify INIT Nonce → if it fails, stay in I2-SENT', () => {
    const d = toI2Sent();
    expect(drops(d.host.receive(1_200, d.peer.r2(d.i2!, { nonce: 3 })))).toEqual(['no-context']);
    const fromStranger = { ...d.peer.r2(d.i2!), src: B(2) };
    expect(drops(d.host.receive(1_200, fromStranger))).toEqual(['no-context']);
    expect(d.host.context({ ctLocal: d.ct })!.state).toBe('I2-SENT');
  });

  it('I2-SENT | Receive I1 → send R2 and stay in I2-SENT', () => {
    const d = toI2Sent();
    const { msg } = only(d.host.receive(1_200, d.peer.i1(A(0), { nonce: 0x88 })), 'R2');
    expect(msg.initiatorNonce).toBe(0x88);
    expect(msg.responderContextTag).toBe(d.ct);
    expect(d.host.context({ ctLocal: d.ct })!.state).toBe('I2-SENT');
  });

  it('I2-SENT | Receive I2, verify validator and RESP Nonce → send R2 and stay in I2-SENT', () => {
    const host = makeHost();
    const peer = new ScriptedPeer();
    const r1 = hostR1(host, peer, 1_000);
    const d = toI2Sent(toI1Sent(host, peer, 1_010));
    const acts = host.receive(1_300, peer.i2(r1, { nonce: 0x99 }));
    expect(only(acts, 'R2').msg.initiatorNonce).toBe(0x99);
    const ctx = host.context({ ctLocal: d.ct })!;
    expect(ctx.state).toBe('I2-SENT');
    expect(ctx.ctPeer).toBe(peer.ct); // recorded (§7.13), state unchanged
  });

  it('I2-SENT | Receive I2bis, verify validator and RESP Nonce → send R2 and stay in I2-SENT', () => {
    const host = makeHost();
    const peer = new ScriptedPeer();
    const r1bis = hostR1bis(host, peer, 1_000, 0x77n);
    const d = toI2Sent(toI1Sent(host, peer, 1_010));
    const acts = host.receive(1_300, peer.i2bis(r1bis, { nonce: 0x98 }));
    expect(only(acts, 'R2').msg.initiatorNonce).toBe(0x98);
    expect(host.context({ ctLocal: d.ct })!.state).toBe('I2-SENT');
  });

  it('I2-SENT | Receive R1 → discard and stay in I2-SENT', () => {
    const d = toI2Sent();
    const acts = d.host.receive(1_300, d.peer.r1(d.i1!)); // a reply to a retransmitted I1
    expect(sends(acts)).toEqual([]);
    expect(drops(acts)).toEqual(['wrong-state']);
    expect(d.host.context({ ctLocal: d.ct })!.state).toBe('I2-SENT');
  });

  it('I2-SENT | R1bis → N/A: the dispatcher does not deliver it (CT(peer) is not set)', () => {
    const d = toI2Sent();
    expect(drops(d.host.receive(1_300, d.peer.r1bis(A(0), B(0), d.peer.ct)))).toEqual(['no-context']);
    expect(d.host.context({ ctLocal: d.ct })!.state).toBe('I2-SENT');
  });

  it('I2-SENT | Receive Payload Extension header or other control packet → accept and send I2 (the R2 was lost)', () => {
    const d = toI2Sent();
    const first = only(d.host.payloadWithUnknownTag(1_300, { src: B(0), dst: A(0), tag: d.ct }), 'I2');
    expect(hex(first.send.bytes)).toBe(hex(d.i2!.bytes)); // the same I2 again
    // A burst of payload costs one resend, not one per packet.
    expect(sends(d.host.payloadWithUnknownTag(1_400, { src: B(0), dst: A(0), tag: d.ct }))).toEqual([]);
    expect(sends(d.host.payloadWithUnknownTag(2_400, { src: B(0), dst: A(0), tag: d.ct }))).toHaveLength(1);
    // A Keepalive: I2, and the message goes to REAP.
    const ka = d.host.receive(2_500, d.peer.keepalive(B(0), A(0), d.ct));
    expect(kinds(ka)).toEqual(['send:I2', 'reap-message']);
    // An Update Request: I2; it cannot be acknowledged before CT(peer) is known.
    const up = d.host.receive(2_600, d.peer.updateRequest(B(0), A(0), d.ct, d.peer.locatorOptions()));
    expect(kinds(up)).toEqual(['send:I2']);
    expect(up.some((a) => a.type === 'log' && a.event === 'update-deferred')).toBe(true);
    // An Update Ack: I2 (DESIGN.md: not the R2 of §10.5).
    const ack = d.host.receive(2_700, d.peer.pkt(B(0), A(0), { kind: 'UpdateAck', receiverContextTag: d.ct, requestNonce: 1 }));
    expect(kinds(ack)).toEqual(['send:I2']);
    expect(d.host.context({ ctLocal: d.ct })!.state).toBe('I2-SENT');
  });

  it('I2-SENT | control packet from a locator not in Ls(peer) → R1bis, not I2 (§12.4)', () => {
    const d = toI2Sent();
    const acts = d.host.receive(1_300, d.peer.keepalive(B(2), A(0), d.ct));
    expect(kinds(acts)).toEqual(['send:R1bis']);
  });

  it('ESTABLISHED after I2-SENT: the current pair is the ULID pair, so data keeps flowing unmodified', () => {
    const d = toEstablished();
    const ctx = d.host.context({ ctLocal: d.ct })!;
    expect(eqAddr(ctx.lpLocal, ctx.ulidLocal) && eqAddr(ctx.lpPeer, ctx.ulidPeer)).toBe(true);
  });
});
