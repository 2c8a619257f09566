// Locator updates (RFC 5533 §10): sending with backoff and one outstanding
// request, receiving with HBA/CGA verification, preferences, Error codes 2–4.

import { describe, expect, it } from 'vitest';
import { locatorSetFromHbaSet, type ContextAction, type SendAction } from '../../../src/context/index.js';
import { LocatorFlag, VerificationMethod, encode, type Shim6Option } from '../../../src/wire/index.js';
import {
  A,
  B,
  ScriptedPeer,
  SET_A,
  SET_B,
  drops,
  hex,
  ipv6Packet,
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
} from './helpers.js';

const threeLocators = () => locatorSetFromHbaSet(SET_A()); // a1, a2, a3
const onlyA1A3 = () => locatorSetFromHbaSet(SET_A(), { present: (_, i) => i !== 1 });

describe('sending Update Requests (§10.1–§10.3)', () => {
  it('a new local locator set → Update Request with a new random generation, on the current pair, no PDS again', () => {
    const d = toEstablished();
    const before = d.host.context({ ctLocal: d.ct })!;
    const acts = d.host.localLocatorsChanged(5_000, threeLocators());
    expect(kinds(acts)).toEqual(['send:UpdateRequest', 'context-updated']);
    const { send, msg } = only(acts, 'UpdateRequest');
    expect(names([send.src, send.dst])).toEqual(names([A(0), B(0)]));
    expect(msg.receiverContextTag).toBe(d.peer.ct);
    // The PDS went with the I2 (and was acknowledged by the R2): not repeated.
    expect(msg.options.map((o) => o.kind)).toEqual(['LocatorList']);
    const list = opt(msg, 'LocatorList')!;
    expect(names(list.locators.map((l) => l.addr))).toEqual(names([A(0), A(1), A(2)]));
    expect(list.generation).not.toBe(before.localGeneration);
    const after = d.host.context({ ctLocal: d.ct })!;
    expect(after.localGeneration).toBe(list.generation);
    expect(after.update).toEqual({ nonce: msg.requestNonce, retransmits: 0, generation: list.generation });
    expect(acts.find((a) => a.type === 'context-updated')).toMatchObject({ changes: ['ls-local'] });
  });

  it('retransmits with binary exponential backoff capped at MAX_UPDATE_TIMEOUT, randomised, forever, until acknowledged', () => {
    for (let seed = 0; seed < 20; seed++) {
      const d = toEstablished(toI2Sent(toI1Sent(makeHost({ random: seededRandom(`upd ${seed}`) }))));
      const first = only(d.host.localLocatorsChanged(5_000, threeLocators()), 'UpdateRequest').send;
      const times = [5_000];
      let last: SendAction = first;
      for (let i = 0; i < 14; i++) {
        const due = d.host.nextDeadline()!;
        last = only(d.host.tick(due), 'UpdateRequest').send;
        times.push(due);
        expect(hex(last.bytes)).toBe(hex(first.bytes)); // same nonce, same content
      }
      for (let k = 0; k < 14; k++) {
        const nominal = Math.min(4_000 * 2 ** k, 120_000);
        const gap = times[k + 1] - times[k];
        expect(gap).toBeGreaterThanOrEqual(0.5 * nominal);
        expect(gap).toBeLessThan(1.5 * nominal);
      }
      expect(d.host.context({ ctLocal: d.ct })!.update?.retransmits).toBe(14);
      const acked = d.host.receive(times[14] + 1, d.peer.updateAck(last, d.ct));
      expect(acked).toEqual([expect.objectContaining({ event: 'update-acked' })]);
      expect(d.host.context({ ctLocal: d.ct })!.update).toBeNull();
      expect(d.host.nextDeadline()).toBeNull();
    }
  });

  it('at most one outstanding: newer information abandons the old request (new nonce, new generation); its ack is ignored', () => {
    const d = toEstablished();
    const u1 = only(d.host.localLocatorsChanged(5_000, threeLocators()), 'UpdateRequest').send;
    const u2 = only(d.host.localLocatorsChanged(5_100, onlyA1A3()), 'UpdateRequest').send;
    const m1 = msgOf(u1);
    const m2 = msgOf(u2);
    if (m1.kind !== 'UpdateRequest' || m2.kind !== 'UpdateRequest') throw new Error('UpdateRequest');
    expect(m2.requestNonce).not.toBe(m1.requestNonce);
    expect(opt(m2, 'LocatorList')!.generation).not.toBe(opt(m1, 'LocatorList')!.generation);
    expect(names(opt(m2, 'LocatorList')!.locators.map((l) => l.addr))).toEqual(names([A(0), A(2)]));
    // Only one timer, for u2.
    const due = d.host.nextDeadline()!;
    expect(sends(d.host.tick(due)).map((s) => hex(s.bytes))).toEqual([hex(u2.bytes)]);
    const stale = d.host.receive(due + 1, d.peer.updateAck(u1, d.ct));
    expect(stale).toEqual([expect.objectContaining({ event: 'update-stale-ack' })]);
    expect(d.host.context({ ctLocal: d.ct })!.update).not.toBeNull();
    expect(d.host.receive(due + 2, d.peer.updateAck(u2, d.ct))).toEqual([expect.objectContaining({ event: 'update-acked' })]);
    expect(d.host.context({ ctLocal: d.ct })!.update).toBeNull();
  });

  it('after acknowledging a request that abandoned an unacknowledged one, the list is announced once more under a new generation', () => {
    const d = toEstablished();
    only(d.host.localLocatorsChanged(5_000, threeLocators()), 'UpdateRequest');
    const u2 = only(d.host.localLocatorsChanged(5_100, onlyA1A3()), 'UpdateRequest');
    // u1 may still be in flight and reach the peer after u2: the peer cannot
    // order random generations, so the ack of u2 is not the end of it.
    expect(d.host.receive(5_200, d.peer.updateAck(u2.send, d.ct))).toEqual([expect.objectContaining({ event: 'update-acked' })]);
    const due = d.host.nextDeadline()!;
    expect(due).toBeGreaterThanOrEqual(5_200 + 2_000);
    expect(due).toBeLessThanOrEqual(5_200 + 6_000);
    const u3 = only(d.host.tick(due), 'UpdateRequest');
    const l2 = opt(u2.msg, 'LocatorList')!;
    const l3 = opt(u3.msg, 'LocatorList')!;
    expect(l3.locators).toEqual(l2.locators);
    expect(l3.generation).not.toBe(l2.generation);
    expect(u3.msg.requestNonce).not.toBe(u2.msg.requestNonce);
    d.host.receive(due + 10, d.peer.updateAck(u3.send, d.ct));
    expect(d.host.nextDeadline()).toBeNull(); // and that is all
    expect(d.host.context({ ctLocal: d.ct })!.localGeneration).toBe(l3.generation);
  });

  it('preferences only: a Locator Preferences option with the acknowledged list generation', () => {
    const d = toEstablished();
    const gen = d.host.context({ ctLocal: d.ct })!.localGeneration;
    const withPrefs = locatorSetFromHbaSet(SET_A(), {
      present: (_, i) => i < 2,
      preferences: (_, i) => (i === 1 ? { flags: LocatorFlag.Broken } : undefined),
    });
    const { msg } = only(d.host.localLocatorsChanged(5_000, withPrefs), 'UpdateRequest');
    expect(msg.options.map((o) => o.kind)).toEqual(['LocatorPreferences']);
    expect(opt(msg, 'LocatorPreferences')).toMatchObject({ generation: gen, elementLength: 1, elements: [{ flags: 0 }, { flags: 1 }] });
    expect(d.host.context({ ctLocal: d.ct })!.update?.generation).toBeNull();
    // Priority/weight → 3-octet elements.
    const withPrio = locatorSetFromHbaSet(SET_A(), { present: (_, i) => i < 2, preferences: (_, i) => ({ priority: i, weight: 10 }) });
    const m2 = only(d.host.localLocatorsChanged(5_100, withPrio), 'UpdateRequest').msg;
    expect(opt(m2, 'LocatorPreferences')).toMatchObject({
      elementLength: 3,
      elements: [
        { flags: 0, priority: 0, weight: 10 },
        { flags: 0, priority: 1, weight: 10 },
      ],
    });
  });

  it('an unchanged set sends nothing', () => {
    const d = toEstablished();
    const acts = d.host.localLocatorsChanged(5_000, locatorSetFromHbaSet(SET_A(), { present: (_, i) => i < 2 }));
    expect(acts).toEqual([]);
  });

  it('the current local locator disappears → the context moves to ULID(local), and the Update goes from there', () => {
    const d = toEstablished();
    expect(d.host.setCurrentPair(2_000, d.ct, { local: A(1), peer: B(1) }).ok).toBe(true);
    const acts = d.host.localLocatorsChanged(5_000, onlyA1A3());
    const { send } = only(acts, 'UpdateRequest');
    expect(names([send.src, send.dst])).toEqual(names([A(0), B(1)]));
    expect(acts.find((a) => a.type === 'context-updated')).toMatchObject({ changes: ['ls-local', 'pair'] });
  });

  it('contexts being set up do not send Updates; the list goes in their next I2, and an older one is updated once ESTABLISHED', () => {
    const d = toI2Sent();
    expect(sends(d.host.localLocatorsChanged(1_150, threeLocators()))).toEqual([]);
    // The R2 answers the I2 sent before the change.
    const acts = d.host.receive(1_200, d.peer.r2(d.i2!));
    expect(kinds(acts)).toEqual(['context-established', 'send:UpdateRequest']);
    expect(names(opt(only(acts, 'UpdateRequest').msg, 'LocatorList')!.locators.map((l) => l.addr))).toEqual(names([A(0), A(1), A(2)]));
    // Whereas an I2 retransmitted after the change carries the new list itself.
    const e = toI2Sent();
    e.host.localLocatorsChanged(1_150, threeLocators());
    const i2 = only(e.host.tick(e.host.nextDeadline()!), 'I2');
    expect(opt(i2.msg, 'LocatorList')!.locators).toHaveLength(3);
    expect(kinds(e.host.receive(20_000, e.peer.r2(i2.send)))).toEqual(['context-established']);
  });

  it('Update Ack in I2BIS-SENT → resend I2bis, then process (DESIGN.md)', () => {
    const d = toEstablished();
    const u = only(d.host.localLocatorsChanged(5_000, threeLocators()), 'UpdateRequest').send;
    const ctx = d.host.context({ ctLocal: d.ct })!;
    // The peer lost state; recovery starts and abandons the Update.
    const r = d.host.receive(5_010, d.peer.r1bis(ctx.lpLocal, ctx.lpPeer, ctx.ctPeer!));
    const i2bis = only(r, 'I2bis');
    expect(opt(i2bis.msg, 'LocatorList')!.locators).toHaveLength(3); // the I2bis carries the new list
    expect(d.host.context({ ctLocal: d.ct })!.update).toBeNull();
    const acts = d.host.receive(5_020, d.peer.updateAck(u, d.ct));
    expect(kinds(acts)).toEqual(['send:I2bis']);
    expect(acts.some((a) => a.type === 'log' && a.event === 'update-stale-ack')).toBe(true);
  });

  it('a peer Error code 3 (generation out of sync) for our Update → the full list again under a new generation', () => {
    const d = toEstablished();
    const withPrefs = locatorSetFromHbaSet(SET_A(), { present: (_, i) => i < 2, preferences: () => ({ flags: LocatorFlag.Transient }) });
    const u = only(d.host.localLocatorsChanged(5_000, withPrefs), 'UpdateRequest');
    const quoted = ipv6Packet(u.send.src, u.send.dst, u.send.bytes);
    const err = d.peer.pkt(B(0), A(0), { kind: 'Error', code: 3, pointer: 40 + 16 + 4, packetInError: quoted });
    const acts = d.host.receive(5_100, err);
    expect(acts[0]).toMatchObject({ type: 'log', event: 'peer-error', detail: { code: 3, quoted: 'UpdateRequest' } });
    const again = only(acts, 'UpdateRequest').msg;
    expect(again.options.map((o) => o.kind)).toEqual(['LocatorList', 'LocatorPreferences']);
    expect(opt(again, 'LocatorList')!.generation).not.toBe(opt(u.msg, 'LocatorPreferences')!.generation);
    expect(opt(again, 'LocatorPreferences')!.generation).toBe(opt(again, 'LocatorList')!.generation);
  });
});

describe('receiving Update Requests (§10.4)', () => {
  function established() {
    const d = toEstablishedResponder();
    return { ...d, before: d.host.context({ ctLocal: d.ct })! };
  }

  it('a verifiable new list → Update Ack (nonce copied, Receiver CT = CT(peer)); Ls(peer) and the generation replaced', () => {
    const { host, peer, ct } = established();
    peer.announce = [0, 1, 2];
    peer.generation = 0x777;
    const acts = host.receive(3_000, peer.updateRequest(B(1), A(0), ct, peer.locatorOptions(), 0x5eed));
    expect(kinds(acts)).toEqual(['send:UpdateAck', 'context-updated']);
    const { send, msg } = only(acts, 'UpdateAck');
    expect(names([send.src, send.dst])).toEqual(names([A(0), B(1)]));
    expect(msg).toMatchObject({ receiverContextTag: peer.ct, requestNonce: 0x5eed, options: [] });
    const ctx = host.context({ ctLocal: ct })!;
    expect(names(ctx.lsPeer.map((l) => l.addr))).toEqual(names([B(0), B(1), B(2)]));
    expect(ctx.lsPeer.every((l) => l.verification === 'hba')).toBe(true);
    expect(ctx.peerGeneration).toBe(0x777);
    // The retransmission of the same request: acknowledged again, nothing changes.
    const again = host.receive(3_100, peer.updateRequest(B(1), A(0), ct, peer.locatorOptions(), 0x5eed));
    expect(kinds(again)).toEqual(['send:UpdateAck']);
  });

  it('a late copy of a list already replaced (reordered or duplicated) → acknowledged, not applied', () => {
    const { host, peer, ct } = established();
    peer.announce = [0];
    const old = peer.updateRequest(B(0), A(0), ct, peer.locatorOptions({ generation: 0x100 }), 1);
    expect(kinds(host.receive(3_000, old))).toEqual(['send:UpdateAck', 'context-updated']);
    peer.announce = [0, 1, 2];
    expect(kinds(host.receive(3_100, peer.updateRequest(B(0), A(0), ct, peer.locatorOptions({ generation: 0x200 }), 2)))).toEqual([
      'send:UpdateAck',
      'context-updated',
    ]);
    const late = host.receive(3_200, old);
    expect(kinds(late)).toEqual(['send:UpdateAck']);
    expect(only(late, 'UpdateAck').msg.requestNonce).toBe(1);
    expect(late.some((a) => a.type === 'log' && a.event === 'update-stale')).toBe(true);
    const ctx = host.context({ ctLocal: ct })!;
    expect(ctx.peerGeneration).toBe(0x200);
    expect(ctx.lsPeer).toHaveLength(3);
  });

  it('a forged (unverifiable) locator → Error code 2 at its method octet, no Ack, context untouched', () => {
    const { host, ct, before } = established();
    const forged = new Uint8Array(B(2));
    forged[15] ^= 0x40; // right prefix, wrong interface identifier
    const options: Shim6Option[] = [
      {
        kind: 'LocatorList',
        generation: 0x999,
        locators: [
          { addr: B(0), method: VerificationMethod.HBA },
          { addr: forged, method: VerificationMethod.HBA },
        ],
      },
    ];
    const bytes = encode({ kind: 'UpdateRequest', receiverContextTag: ct, requestNonce: 1, options });
    const acts = host.receive(3_000, { src: B(0), dst: A(0), bytes });
    expect(kinds(acts)).toEqual(['send:Error']);
    const { msg } = only(acts, 'Error');
    expect(msg.code).toBe(2);
    // IPv6 header + Update fixed part (16) + option header (4) + generation (4) + count (1) + index 1.
    expect(msg.pointer).toBe(40 + 16 + 4 + 5 + 1);
    expect(hex(msg.packetInError.subarray(40, 40 + bytes.length))).toBe(hex(bytes));
    expect(acts.some((a) => a.type === 'log' && a.event === 'update-rejected')).toBe(true);
    expect(host.context({ ctLocal: ct })).toEqual(before);
  });

  it('an unsupported verification method → Error code 2, context untouched', () => {
    const { host, peer, ct, before } = established();
    const acts = host.receive(3_000, peer.updateRequest(B(0), A(0), ct, peer.locatorOptions({ methods: [1, 0] })));
    expect(only(acts, 'Error').msg.code).toBe(2);
    expect(host.context({ ctLocal: ct })).toEqual(before);
  });

  it('a PDS that is not ULID(peer)\u2019s → silently discarded, context untouched', () => {
    const { host, peer, ct, before } = established();
    const options: Shim6Option[] = [
      { kind: 'LocatorList', generation: 3, locators: [{ addr: A(1), method: 1 }] },
      { kind: 'CgaPds', pds: SET_A().params[1] },
    ];
    const acts = host.receive(3_000, peer.updateRequest(B(0), A(0), ct, options));
    expect(sends(acts)).toEqual([]);
    expect(drops(acts)).toEqual(['pds-mismatch']);
    expect(host.context({ ctLocal: ct })).toEqual(before);
  });

  it('an HBA list with no PDS ever received → cannot be verified: Error code 2', () => {
    const host = makeHost();
    const peer = new ScriptedPeer();
    const r1 = only(host.receive(1_000, peer.i1(A(0))), 'R1').send;
    host.receive(1_100, peer.i2(r1, { locators: false }));
    const ct = host.contexts()[0].ctLocal!;
    const before = host.context({ ctLocal: ct });
    const list = peer.locatorOptions().filter((o) => o.kind !== 'CgaPds');
    const acts = host.receive(2_000, peer.updateRequest(B(0), A(0), ct, list));
    expect(only(acts, 'Error').msg.code).toBe(2);
    expect(host.context({ ctLocal: ct })).toEqual(before);
    // With the PDS it works, and later Updates may omit it.
    const ok = host.receive(2_100, peer.updateRequest(B(0), A(0), ct, peer.locatorOptions(), 2));
    expect(kinds(ok)).toEqual(['send:UpdateAck', 'context-updated']);
    peer.announce = [0, 2];
    peer.generation++;
    const later = host.receive(2_200, peer.updateRequest(B(0), A(0), ct, peer.locatorOptions().filter((o) => o.kind !== 'CgaPds'), 3));
    expect(kinds(later)).toEqual(['send:UpdateAck', 'context-updated']);
  });

  it('Locator Preferences with another generation → Error code 3; with the wrong count → Error code 4; context untouched', () => {
    const { host, peer, ct, before } = established();
    const prefs = (generation: number, n: number): Shim6Option => ({
      kind: 'LocatorPreferences',
      generation,
      elementLength: 1,
      elements: Array.from({ length: n }, () => ({ flags: 0 })),
    });
    const e3 = only(host.receive(3_000, peer.updateRequest(B(0), A(0), ct, [prefs(peer.generation + 1, 2)])), 'Error').msg;
    expect(e3.code).toBe(3);
    expect(e3.pointer).toBe(40 + 16 + 4); // the generation field
    const e4 = only(host.receive(3_000, peer.updateRequest(B(0), A(0), ct, [prefs(peer.generation, 3)])), 'Error').msg;
    expect(e4.code).toBe(4);
    expect(e4.pointer).toBe(40 + 16 + 2); // the Length field
    expect(host.context({ ctLocal: ct })).toEqual(before);
  });

  it('Locator Preferences with the right generation → recorded; BROKEN on Lp(peer) is left to REAP', () => {
    const { host, peer, ct } = established();
    const prefs: Shim6Option = {
      kind: 'LocatorPreferences',
      generation: peer.generation,
      elementLength: 3,
      elements: [
        { flags: LocatorFlag.Broken, priority: 5, weight: 1 },
        { flags: 0, priority: 1, weight: 9 },
      ],
    };
    const acts = host.receive(3_000, peer.updateRequest(B(0), A(0), ct, [prefs]));
    expect(kinds(acts)).toEqual(['send:UpdateAck', 'context-updated']);
    expect(acts.find((a) => a.type === 'context-updated')).toMatchObject({ changes: ['preferences'] });
    const ctx = host.context({ ctLocal: ct })!;
    expect(ctx.lsPeer.map((l) => [l.flags, l.priority, l.weight])).toEqual([
      [1, 5, 1],
      [0, 1, 9],
    ]);
    expect(names([ctx.lpPeer])).toEqual(names([B(0)])); // unchanged: REAP must confirm another pair first
  });

  it('a list without the current Lp(peer) → Lp(peer) moves to a usable locator', () => {
    const { host, peer, ct } = established();
    expect(host.setCurrentPair(3_000, ct, { local: A(0), peer: B(1) }).ok).toBe(true);
    peer.announce = [0, 2];
    peer.generation++;
    const acts = host.receive(3_100, peer.updateRequest(B(0), A(0), ct, peer.locatorOptions()));
    expect(acts.find((a) => a.type === 'context-updated')).toMatchObject({ changes: ['ls-peer', 'pair'] });
    expect(names([host.context({ ctLocal: ct })!.lpPeer])).toEqual(names([B(0)]));
  });

  it('from a source not in Ls(peer), or for an unknown CT → R1bis, context untouched (§10.4)', () => {
    const { host, peer, ct, before } = established();
    const r = host.receive(3_000, peer.updateRequest(B(2), A(0), ct, peer.locatorOptions()));
    expect(kinds(r)).toEqual(['send:R1bis']);
    expect(only(r, 'R1bis').msg.packetContextTag).toBe(ct);
    expect(host.context({ ctLocal: ct })).toEqual(before);
    expect(kinds(host.receive(3_000, peer.updateRequest(B(0), A(0), ct + 1n, [])))).toEqual(['send:R1bis']);
    expect(kinds(host.receive(3_000, peer.updateRequest(B(0), A(2), ct, [])))).toEqual([]); // a3 is not ours at all
  });

  it('the Keepalive Timeout option is recorded for REAP; a host configured with one announces it', () => {
    const { host, peer, ct } = established();
    host.receive(3_000, peer.updateRequest(B(0), A(0), ct, [{ kind: 'KeepaliveTimeout', timeout: 15 }]));
    expect(host.context({ ctLocal: ct })!.peerKeepaliveTimeout).toBe(15);
    const h2 = makeHost({ keepaliveTimeoutSec: 20 });
    const d = toI2Sent(toI1Sent(h2));
    expect(opt(msgOf(d.i2!) as { options: Shim6Option[] }, 'KeepaliveTimeout')?.timeout).toBe(20);
  });

  it('CGA-signed updates: a new signature over the new generation is required', async () => {
    const { rsaKeyPair } = await import('../hba/helpers.js');
    const { generateHbaSet, shim6SignedContent, signShim6 } = await import('../../../src/hba/index.js');
    const { privateKey, publicKeyDer } = rsaKeyPair(1024);
    const set = generateHbaSet({ prefixes: [SET_B().addresses[0].slice(0, 8)], sec: 0, publicKeyDer, random: seededRandom('cga upd') });
    const ulid = set.addresses[0];
    const roaming = Uint8Array.from([0x20, 1, 0x0d, 0xb8, 0xee, 0xee, 0, 0, 0, 0, 0, 0, 0, 0, 0, 7]);
    const peer = new ScriptedPeer({ set: { ...set, addresses: [ulid], params: set.params }, announce: [0] });
    const d = toEstablishedResponder(makeHost(), peer);
    const signed = (generation: number, sigGeneration = generation): Shim6Option[] => [
      { kind: 'LocatorList', generation, locators: [{ addr: ulid, method: 1 }, { addr: roaming, method: 2 }] },
      {
        kind: 'CgaSignature',
        signature: signShim6(privateKey, shim6SignedContent({ generation: sigGeneration, locators: [ulid, roaming], methods: [1, 2] })),
      },
    ];
    const replay = d.host.receive(3_000, peer.updateRequest(ulid, A(0), d.ct, signed(0x10, 0x0f)));
    expect(only(replay, 'Error').msg.code).toBe(2);
    const ok = d.host.receive(3_100, peer.updateRequest(ulid, A(0), d.ct, signed(0x10)));
    expect(kinds(ok)).toEqual(['send:UpdateAck', 'context-updated']);
    expect(d.host.context({ ctLocal: d.ct })!.lsPeer.map((l) => l.verification)).toEqual(['hba', 'cga']);
  });
});

describe('hosts announcing CGA-signed locators', () => {
  it('a host with a CGA-compatible set signs its list; the signature verifies', async () => {
    const { rsaKeyPair } = await import('../hba/helpers.js');
    const { generateHbaSet, verifyShim6Signature, shim6SignedContent } = await import('../../../src/hba/index.js');
    const { privateKey, publicKeyDer } = rsaKeyPair(1024);
    const set = generateHbaSet({ prefixes: [A(0).slice(0, 8)], sec: 0, publicKeyDer, random: seededRandom('cga host') });
    const extra = Uint8Array.from([0x20, 1, 0x0d, 0xb8, 0xaa, 0xaa, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1]);
    const locators = locatorSetFromHbaSet(set, { privateKey, extra: [{ addr: extra, method: 'cga' }] });
    const host = makeHost({ locators });
    const peer = new ScriptedPeer();
    const r1 = only(host.receive(1_000, peer.i1(set.addresses[0])), 'R1').send;
    const acts: ContextAction[] = host.receive(1_100, peer.i2(r1));
    const { msg } = only(acts, 'R2');
    expect(msg.options.map((o) => o.kind)).toEqual(['LocatorList', 'CgaPds', 'CgaSignature']);
    const list = opt(msg, 'LocatorList')!;
    expect(list.locators.map((l) => l.method)).toEqual([1, 2]);
    const r = verifyShim6Signature({
      address: set.addresses[0],
      params: opt(msg, 'CgaPds')!.pds,
      message: shim6SignedContent({ generation: list.generation, locators: list.locators.map((l) => l.addr), methods: list.locators.map((l) => l.method) }),
      signature: opt(msg, 'CgaSignature')!.signature,
    });
    expect(r.ok).toBe(true);
  });
});
