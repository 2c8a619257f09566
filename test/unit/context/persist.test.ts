// Contexts across an agent restart (exportContexts / importContexts): two
// real hosts establish a context, host A is "killed" (only its exported
// records survive, through JSON) and a fresh host A′ imports them. The peer
// must not notice: no R1bis, Updates both ways, the outstanding Update and
// the I2bis exchange resumed. Bad records are rejected one by one.

import { describe, expect, it } from 'vitest';
import {
  ShimHost,
  locatorSetFromHbaSet,
  type ContextAction,
  type ContextSnapshot,
  type LocalLocatorSet,
  type PersistedContext,
  type RandomSource,
} from '../../../src/context/index.js';
import { MAX_IMPORTED_RECORDS } from '../../../src/context/persist.js';
import { A, B, SET_A, SET_B, ScriptedPeer, hex, ipv6, kinds, names, only, opt, seededRandom, sends } from './helpers.js';

// ------------------------------------------------------------------ setup

/** A's locators: the indices of SET_A present (a1 is the ULID). */
const locA = (...present: number[]): LocalLocatorSet =>
  locatorSetFromHbaSet(SET_A(), { present: (_, i) => (present.length === 0 ? i < 2 : present.includes(i)) });
const locB = (n = 2): LocalLocatorSet => locatorSetFromHbaSet(SET_B(), { present: (_, i) => i < n });

/** Hand every message sent in `acts` to `to`; its actions. */
function deliver(to: ShimHost, now: number, acts: readonly ContextAction[]): ContextAction[] {
  return sends(acts).flatMap((s) => to.receive(now, { src: s.src, dst: s.dst, bytes: s.bytes }));
}

/** Run an exchange to quiescence (both ways), returning everything sent. */
function pump(a: ShimHost, b: ShimHost, now: number, fromA: readonly ContextAction[]): ContextAction[] {
  const all: ContextAction[] = [...fromA];
  let acts = fromA;
  for (let i = 0; i < 6 && sends(acts).length > 0; i++) {
    acts = deliver(i % 2 === 0 ? b : a, now + i + 1, acts);
    all.push(...acts);
  }
  return all;
}

/** A ↔ B ESTABLISHED (a1 ↔ b1), both with two locators; A's clock at `t`. */
function establishedPair(fii = 0): { a: ShimHost; b: ShimHost; t: number; ct: bigint } {
  const a = new ShimHost({ random: seededRandom('persist a'), locators: locA() });
  const b = new ShimHost({ random: seededRandom('persist b'), locators: locB() });
  pump(a, b, 1_000, a.trigger(1_000, { ulidLocal: A(0), ulidPeer: B(0), fii }));
  const t = 2_000;
  a.tick(t); // nothing due: only moves A's clock, the reference of the export's ages
  b.tick(t);
  expect(a.contexts().map((c) => c.state)).toEqual(['ESTABLISHED']);
  expect(b.contexts().map((c) => c.state)).toEqual(['ESTABLISHED']);
  return { a, b, t, ct: a.contexts()[0].ctLocal! };
}

/** A is killed: only its exported records survive, through JSON, into a fresh host A′. */
function restart(a: ShimHost, now: number, o: { locators?: LocalLocatorSet; random?: RandomSource } = {}) {
  const records = JSON.parse(JSON.stringify(a.exportContexts())) as PersistedContext[];
  const a2 = new ShimHost({ random: o.random ?? seededRandom('persist a reborn'), locators: o.locators ?? locA() });
  return { a2, records, ...a2.importContexts(now, records) };
}

function shifted(s: ContextSnapshot, by: number): ContextSnapshot {
  const add = (t: number | null) => (t === null ? null : t + by);
  return { ...s, createdAt: s.createdAt + by, stateSince: s.stateSince + by, establishedAt: add(s.establishedAt), lastControlAt: add(s.lastControlAt) };
}

function logged(acts: readonly ContextAction[], event: string): boolean {
  return acts.some((x) => x.type === 'log' && x.event === event);
}

// ------------------------------------------------------------- round trip

describe('round trip: A is restarted from its state file, B notices nothing', () => {
  it('the snapshot after import equals the one before export, times rebased onto the import’s now', () => {
    const { a, t, ct } = establishedPair();
    a.trigger(t, { ulidLocal: A(0), ulidPeer: ipv6('2001:db8:c1::1') }); // I1-SENT: not worth keeping
    const before = a.context({ ctLocal: ct })!;
    const exported = a.exportContexts();
    expect(JSON.parse(JSON.stringify(exported))).toEqual(exported); // plain JSON: no bigint, no bytes
    expect(exported).toHaveLength(1);
    expect(exported[0]).toMatchObject({
      state: 'ESTABLISHED',
      ctLocal: ct.toString(16),
      announced: { acked: true, listAcked: true },
      peer: { pds: hex(SET_B().params[0]) },
      update: null,
    });
    const { restored, rejected, actions, a2 } = restart(a, t + 5_000);
    expect(rejected).toEqual([]);
    expect(actions).toEqual([]); // nothing to resend, nothing changed
    expect(restored).toEqual([shifted(before, 5_000)]);
    expect(a2.contexts()).toEqual(restored);
    expect(a2.exportContexts()).toEqual(exported); // ages are unchanged by the move
    // Some contexts by tag (what the agent journals per call): the same records.
    const i1 = a.contexts().find((c) => c.state === 'I1-SENT')!;
    expect(i1.ctLocal).not.toBeNull();
    expect(a.exportContexts(new Set([ct]))).toEqual(exported);
    expect(a.exportContexts(new Set([i1.ctLocal!]))).toEqual([]); // held only from ESTABLISHED on
    expect(a.exportContexts(new Set([ct, i1.ctLocal!, 0x1234n]))).toEqual(exported);
    expect(a.exportContexts(new Set())).toEqual([]);
  });

  it('A′ announces a new locator: Update Request, B acknowledges, both agree on Ls(A)', () => {
    const { a, b, t, ct } = establishedPair();
    const { a2 } = restart(a, t + 1_000);
    const all = pump(a2, b, t + 2_000, a2.localLocatorsChanged(t + 2_000, locA(0, 1, 2)));
    expect(kinds(all).filter((k) => k.startsWith('send:'))).toEqual(['send:UpdateRequest', 'send:UpdateAck']);
    expect(logged(all, 'update-acked')).toBe(true);
    const atA = a2.context({ ctLocal: ct })!;
    const atB = b.contexts()[0];
    expect(atA.update).toBeNull();
    expect(names(atB.lsPeer.map((l) => l.addr))).toEqual(names([A(0), A(1), A(2)]));
    expect(atB.lsPeer.every((l) => l.verification === 'hba')).toBe(true);
    expect(atB.peerGeneration).toBe(atA.localGeneration);
  });

  it('B’s Update (without its PDS: A has it) is verified by A′ with the restored peer PDS, and acknowledged', () => {
    const { a, b, t, ct } = establishedPair();
    const { a2 } = restart(a, t + 1_000);
    const fromB = b.localLocatorsChanged(t + 2_000, locB(3));
    const u = only(fromB, 'UpdateRequest').msg;
    expect(opt(u, 'CgaPds')).toBeUndefined();
    const atA = a2.receive(t + 2_010, sends(fromB)[0]);
    expect(kinds(atA)).toEqual(['send:UpdateAck', 'context-updated']);
    const ctx = a2.context({ ctLocal: ct })!;
    expect(names(ctx.lsPeer.map((l) => l.addr))).toEqual(names([B(0), B(1), B(2)]));
    expect(ctx.lsPeer.map((l) => l.verification)).toEqual(['hba', 'hba', 'hba']);
    expect(logged(deliver(b, t + 2_020, atA), 'update-acked')).toBe(true);
    expect(b.contexts()[0].update).toBeNull();
  });

  it('payload and REAP messages with the restored CT(local) are accepted: no R1bis', () => {
    const { a, b, t, ct } = establishedPair();
    const { a2 } = restart(a, t + 1_000);
    const ctx = a2.context({ ctLocal: ct })!;
    const payload = a2.payloadWithUnknownTag(t + 1_100, { src: ctx.lpPeer, dst: ctx.lpLocal, tag: ct });
    expect(sends(payload)).toEqual([]);
    expect(logged(payload, 'payload-known-tag')).toBe(true);
    // A host without the context would have answered R1bis.
    const blank = new ShimHost({ random: seededRandom('blank'), locators: locA() });
    expect(kinds(blank.payloadWithUnknownTag(t + 1_100, { src: ctx.lpPeer, dst: ctx.lpLocal, tag: ct }))).toEqual(['send:R1bis']);
    // A Keepalive to A′ goes to REAP, as it would have before the restart.
    const ka = a2.receive(t + 1_200, new ScriptedPeer().keepalive(ctx.lpPeer, ctx.lpLocal, ct));
    expect(kinds(ka)).toEqual(['reap-message']);
    expect(b.contexts()[0].ctPeer).toBe(ct);
  });

  it('a new context on A′ never gets a restored tag, even when the random source offers it', () => {
    const { a, t, ct } = establishedPair();
    const base = seededRandom('persist a reborn');
    const tagBytes = Uint8Array.from(Buffer.from(ct.toString(16).padStart(12, '0'), 'hex'));
    const random: RandomSource = (n) => (n === 6 ? tagBytes.slice() : base(n)); // every tag draw: the restored tag
    // Control: a host that did not import takes exactly that tag.
    const blank = new ShimHost({ random, locators: locA() });
    expect(only(blank.trigger(t, { ulidLocal: A(0), ulidPeer: ipv6('2001:db8:c1::1') }), 'I1').send.ctLocal).toBe(ct);
    const { a2 } = restart(a, t + 1_000, { random });
    const acts = a2.trigger(t + 1_100, { ulidLocal: A(0), ulidPeer: ipv6('2001:db8:c1::1') });
    const fresh = only(acts, 'I1').send.ctLocal!;
    expect(fresh).not.toBe(ct);
    expect(new Set(a2.contexts().map((c) => c.ctLocal)).size).toBe(2);
  });
});

// ------------------------------------------------------ resumed exchanges

describe('exchanges in progress at export time are resumed', () => {
  it('an outstanding Update is retransmitted with its nonce at import, then backs off; a late Ack of the first copy completes it', () => {
    const { a, b, t, ct } = establishedPair();
    const first = only(a.localLocatorsChanged(t, locA(0, 1, 2)), 'UpdateRequest'); // lost: B never sees it
    const { a2, actions, restored } = restart(a, t + 3_000, { locators: locA(0, 1, 2) });
    const again = only(actions, 'UpdateRequest');
    expect(hex(again.send.bytes)).toBe(hex(first.send.bytes)); // same nonce, generation and list
    expect(restored[0].update).toMatchObject({ nonce: first.msg.requestNonce, retransmits: 1 });
    // The next retransmission: UPDATE_TIMEOUT × 2 × U[0.5, 1.5) after the import.
    const due = a2.nextDeadline()!;
    expect(due).toBeGreaterThanOrEqual(t + 3_000 + 4_000);
    expect(due).toBeLessThan(t + 3_000 + 12_000);
    expect(sends(a2.tick(due - 1))).toEqual([]);
    const third = only(a2.tick(due), 'UpdateRequest');
    expect(third.msg.requestNonce).toBe(first.msg.requestNonce);
    expect(a2.context({ ctLocal: ct })!.update!.retransmits).toBe(2);
    // B finally gets the copy sent before the restart; its Ack matches the resumed Update.
    const ack = deliver(b, due + 10, [first.send]);
    expect(kinds(ack)).toEqual(['send:UpdateAck', 'context-updated']);
    expect(logged(deliver(a2, due + 20, ack), 'update-acked')).toBe(true);
    expect(a2.context({ ctLocal: ct })!.update).toBeNull();
    expect(a2.nextDeadline()).toBeNull();
    expect(names(b.contexts()[0].lsPeer.map((l) => l.addr))).toEqual(names([A(0), A(1), A(2)]));
  });

  it('an outstanding Update whose list changed meanwhile is superseded, and re-announced once acknowledged', () => {
    const { a, b, t, ct } = establishedPair();
    const first = only(a.localLocatorsChanged(t, locA(0, 1, 2)), 'UpdateRequest');
    const { a2, actions } = restart(a, t + 3_000, { locators: locA(0, 2) });
    const next = only(actions, 'UpdateRequest');
    expect(next.msg.requestNonce).not.toBe(first.msg.requestNonce);
    const list = opt(next.msg, 'LocatorList')!;
    expect(names(list.locators.map((l) => l.addr))).toEqual(names([A(0), A(2)]));
    expect(list.generation).not.toBe(opt(first.msg, 'LocatorList')!.generation);
    const acked = deliver(a2, t + 3_020, deliver(b, t + 3_010, actions));
    expect(logged(acked, 'update-acked')).toBe(true);
    // The first request may still be in flight: the same list again, under a new generation, after a guard time.
    const guard = only(a2.tick(a2.nextDeadline()!), 'UpdateRequest');
    expect(opt(guard.msg, 'LocatorList')!.generation).not.toBe(list.generation);
    expect(a2.context({ ctLocal: ct })!.lsLocal.map((l) => l.addr)).toEqual([A(0), A(2)]);
  });

  it('I2BIS-SENT: the I2bis is resent at import (same nonce, validator and list), and the peer’s R2 completes recovery', () => {
    const { a, t, ct } = establishedPair();
    const b2 = new ShimHost({ random: seededRandom('persist b reborn'), locators: locB() }); // B lost its state
    const ctx = a.context({ ctLocal: ct })!;
    const r1bis = b2.payloadWithUnknownTag(t, { src: ctx.lpLocal, dst: ctx.lpPeer, tag: ctx.ctPeer! });
    const i2bis = only(a.receive(t + 10, sends(r1bis)[0]), 'I2bis');
    const { a2, actions, restored, records } = restart(a, t + 1_000);
    expect(records[0]).toMatchObject({ state: 'I2BIS-SENT', i2bis: { retransmits: 0 } });
    expect(restored[0]).toMatchObject({ state: 'I2BIS-SENT', retransmits: 1 });
    const again = only(actions, 'I2bis');
    expect(hex(again.send.bytes)).toBe(hex(i2bis.send.bytes));
    const r2 = deliver(b2, t + 1_010, actions);
    expect(kinds(r2)).toEqual(['send:R2', 'context-established']);
    expect(kinds(deliver(a2, t + 1_020, r2))).toEqual(['context-established']);
    const done = a2.context({ ctLocal: ct })!;
    expect(done.state).toBe('ESTABLISHED');
    expect(done.ctPeer).toBe(b2.contexts()[0].ctLocal);
    expect(b2.contexts()[0].ctPeer).toBe(ct);
  });
});

// ------------------------------------------------- local locators changed

describe('import when the host’s locators changed meanwhile', () => {
  // [case, locators of A′, Lp(local) at export, expected announcement (null: no Update), expected Lp(local)]
  const cases: [string, number[], number, number[] | null, number][] = [
    ['unchanged', [0, 1], 0, null, 0],
    ['a3 added', [0, 1, 2], 0, [0, 1, 2], 0],
    ['a2 gone, Lp(local) was a2 → ULID(local)', [0, 2], 1, [0, 2], 0],
    ['a2 gone, Lp(local) a1 stays', [0, 2], 0, [0, 2], 0],
    ['ULID(local) a1 gone, Lp(local) was a1 → a2', [1, 2], 0, [1, 2], 1],
  ];
  it.each(cases)('%s', (_, present, lp, announced, lpAfter) => {
    const { a, b, t, ct } = establishedPair();
    if (lp !== 0) expect(a.setCurrentPair(t, ct, { local: A(lp), peer: B(lp) }).ok).toBe(true);
    const { a2, actions, restored } = restart(a, t + 1_000, { locators: locA(...present) });
    expect(names([restored[0].lpLocal])).toEqual(names([A(lpAfter)]));
    if (announced === null) {
      expect(actions).toEqual([]);
      return;
    }
    const u = only(actions, 'UpdateRequest');
    expect(names(opt(u.msg, 'LocatorList')!.locators.map((l) => l.addr))).toEqual(names(announced.map((i) => A(i))));
    expect(names([u.send.src])).toEqual(names([A(lpAfter)]));
    const updated = actions.find((x) => x.type === 'context-updated');
    expect(updated).toMatchObject({ changes: lpAfter !== lp ? ['ls-local', 'pair'] : ['ls-local'] });
    // B takes it, and both ends converge.
    const all = pump(a2, b, t + 1_010, actions);
    expect(logged(all, 'update-acked')).toBe(true);
    expect(names(b.contexts()[0].lsPeer.map((l) => l.addr))).toEqual(names(announced.map((i) => A(i))));
    expect(a2.context({ ctLocal: ct })!.update).toBeNull();
  });
});

// -------------------------------------------------------------- rejection

describe('bad records are rejected one by one, with a reason', () => {
  /** Two good records: A ↔ B with FII 0 and FII 1 (different CT(local), CT(peer)). */
  function twoRecords(): [PersistedContext, PersistedContext] {
    const { a, b, t } = establishedPair();
    pump(a, b, t, a.trigger(t, { ulidLocal: A(0), ulidPeer: B(0), fii: 1 }));
    const recs = JSON.parse(JSON.stringify(a.exportContexts())) as PersistedContext[];
    expect(recs.map((r) => r.fii)).toEqual([0, 1]);
    return [recs[0], recs[1]];
  }
  const good = twoRecords();

  type M = Record<string, any>;
  const rows: [string, (r: M) => unknown, RegExp][] = [
    ['unknown version', (r) => ((r.v = 2), r), /^v:/],
    ['unknown state', (r) => ((r.state = 'BOGUS'), r), /^state:/],
    ['state not kept (I2-SENT)', (r) => ((r.state = 'I2-SENT'), r), /^state:/],
    ['ULID not a string', (r) => ((r.ulidLocal = 42), r), /^ulidLocal:/],
    ['address with too many groups', (r) => ((r.ulidPeer = '2001:db8:1:2:3:4:5:6:7'), r), /^ulidPeer:/],
    ['address with too few groups', (r) => ((r.lpLocal = '2001:db8:1'), r), /^lpLocal:/],
    ['address as hex of 15 octets', (r) => ((r.lpPeer = 'ab'.repeat(15)), r), /^lpPeer:/],
    ['multicast ULID', (r) => ((r.ulidLocal = 'ff02::1'), r), /^ulidLocal: must be a unicast/],
    ['tag 0', (r) => ((r.ctLocal = '0'), r), /^ctLocal: must not be 0/],
    ['tag of 48 bits', (r) => ((r.ctLocal = '800000000000'), r), /^ctLocal: more than 47 bits/],
    ['tag of 13 digits', (r) => ((r.ctPeer = '1000000000000'), r), /^ctPeer:/],
    ['tag as a number', (r) => ((r.ctLocal = 12345), r), /^ctLocal:/],
    ['tag in upper case', (r) => ((r.ctLocal = r.ctLocal.toUpperCase().replace(/^[0-9]*$/, 'A')), r), /^ctLocal:/],
    ['FII not an integer', (r) => ((r.fii = 1.5), r), /^fii:/],
    ['FII over 32 bits', (r) => ((r.fii = 2 ** 32), r), /^fii:/],
    ['announced method 3', (r) => ((r.announced.locators[0].method = 3), r), /^announced\.locators\[0\]\.method/],
    ['announced flags 256', (r) => ((r.announced.locators[1].flags = 256), r), /^announced\.locators\[1\]\.flags/],
    ['announced duplicate', (r) => (r.announced.locators.push(r.announced.locators[0]), r), /duplicate address/],
    ['announced generation missing', (r) => ((r.announced.generation = null), r), /^announced\.generation/],
    ['acked not a boolean', (r) => ((r.announced.acked = 'yes'), r), /^announced\.acked/],
    ['peer verification unknown', (r) => ((r.peer.locators[0].verification = 'trusted'), r), /^peer\.locators\[0\]\.verification/],
    ['peer list of 256', (r) => ((r.peer.locators = Array(256).fill(r.peer.locators[0])), r), /more than 255/],
    ['9 replaced generations', (r) => ((r.peer.replacedGenerations = Array(9).fill(1)), r), /more than 8/],
    ['peer PDS missing for HBA locators', (r) => ((r.peer.pds = null), r), /^peer\.pds: required/],
    ['peer PDS not hex', (r) => ((r.peer.pds = 'zz'.repeat(40)), r), /^peer\.pds:/],
    ['peer PDS of another host', (r) => ((r.peer.pds = hex(SET_A().params[0])), r), /does not bind ULID\(peer\)/],
    ['peer locator that is no HBA of the PDS', (r) => ((r.peer.locators[1].addr = '2001:db8:b2::1'), r), /^peer\.locators\[1\]: does not verify/],
    ['keepalive over 16 bits', (r) => ((r.peer.keepaliveTimeoutSec = 70_000), r), /^peer\.keepaliveTimeoutSec/],
    ['Lp(peer) not in Ls(peer)', (r) => ((r.lpPeer = '2001:db8:b9::1'), r), /^lpPeer: not a usable/],
    ['update for an acknowledged list', (r) => ((r.update = { nonce: 1, retransmits: 0, generation: r.announced.generation, supersededUnacked: false }), r), /^update:/],
    ['i2bis in ESTABLISHED', (r) => ((r.i2bis = { responderNonce: 1, validator: 'aa', packetTag: '1', local: r.lpLocal, peer: r.lpPeer, retransmits: 0 }), r), /^i2bis:/],
    ['negative age', (r) => ((r.ageMs.created = -1), r), /^ageMs\.created/],
    ['age NaN', (r) => ((r.ageMs.lastControl = Number.NaN), r), /^ageMs\.lastControl/],
    ['established before created', (r) => ((r.ageMs.established = r.ageMs.created + 1), r), /^ageMs: created/],
    ['refreshPending not a boolean', (r) => ((r.refreshPending = 1), r), /^refreshPending/],
    ['peer missing', (r) => (delete r.peer, r), /^peer: must be an object/],
    ['duplicate CT(local)', (r) => ((r.fii = 7), r), /^duplicate CT\(local\)$/],
    ['duplicate ULID pair and FII', (r) => ((r.ctLocal = '123'), r), /^duplicate ULID pair and FII$/],
    ['confused with a restored context', (r) => ((r.fii = 7), (r.ctLocal = '123'), r), /^confused/],
    ['a getter that throws', () => ({ get v(): number { throw new Error('boom'); } }), /^boom$/],
  ];

  it.each(rows)('%s', (_, mutate, reason) => {
    const bad = mutate(structuredClone(good[0]));
    const host = new ShimHost({ random: seededRandom('importer'), locators: locA() });
    const r = host.importContexts(10_000, [good[0], bad, good[1]]);
    expect(r.rejected).toEqual([{ index: 1, reason: expect.stringMatching(reason) }]);
    expect(r.restored.map((c) => c.fii)).toEqual([0, 1]);
    expect(host.contexts().map((c) => c.ctLocal)).toEqual([BigInt(`0x${good[0].ctLocal}`), BigInt(`0x${good[1].ctLocal}`)]);
  });

  it('a tag outside a narrow tag space (tagBits) is rejected', () => {
    const host = new ShimHost({ random: seededRandom('narrow'), locators: locA(), tagBits: 3 });
    const r = host.importContexts(10_000, [{ ...good[0], ctLocal: '8' }]);
    expect(r.rejected).toEqual([{ index: 0, reason: expect.stringMatching(/tag space/) }]);
  });

  // Garbage never throws: the container is refused as a whole (index -1), or each element.
  const garbage: [string, unknown, number][] = [
    ['null', null, -1],
    ['undefined', undefined, -1],
    ['a number', 42, -1],
    ['a string', 'contexts', -1],
    ['an object', { 0: good[0], length: 1 }, -1],
    ['more than MAX_IMPORTED_RECORDS', new Array(MAX_IMPORTED_RECORDS + 1), -1],
    ['an array of junk', [null, 1, 'x', [], {}, { v: 1 }, [good[0]]], 7],
    ['a huge sparse array', new Array(20_000), 20_000],
    ['a proxy that throws on every access', new Proxy([], { get: () => { throw new Error('trap'); } }), -1],
  ];
  it.each(garbage)('garbage: %s', (_, input, rejectedCount) => {
    const host = new ShimHost({ random: seededRandom('importer'), locators: locA() });
    const r = host.importContexts(10_000, input);
    expect(r.restored).toEqual([]);
    expect(r.actions).toEqual([]);
    expect(r.rejected).toHaveLength(rejectedCount === -1 ? 1 : rejectedCount);
    if (rejectedCount === -1) expect(r.rejected[0].index).toBe(-1);
    else expect(r.rejected.map((x) => x.index)).toEqual([...Array(rejectedCount).keys()]);
    expect(host.contexts()).toEqual([]);
  });
});
