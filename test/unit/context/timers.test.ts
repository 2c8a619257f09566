// Timer-driven rows of RFC 5533 Appendix B (retransmissions, E-FAILED,
// NO-SUPPORT), the §7.8/§14 backoff and randomisation, and the rotating
// Responder Validator secret (§7.10, VALIDATOR_MIN_LIFETIME), under
// injected time and randomness.

import { describe, expect, it } from 'vitest';
import { ShimHost, type ContextAction, type SendAction } from '../../../src/context/index.js';
import { encode } from '../../../src/wire/index.js';
import {
  A,
  B,
  ScriptedPeer,
  drops,
  hex,
  hostR1,
  hostR1bis,
  ipv6Packet,
  kinds,
  makeHost,
  msgOf,
  names,
  only,
  opt,
  seededRandom,
  sends,
  steerableRandom,
  toEstablished,
  toI1Sent,
  toI2Sent,
  toI2bisSent,
} from './helpers.js';

/** Run the host's timers until `until`, collecting (time, action). */
function runTimers(host: ShimHost, until: number): { t: number; a: ContextAction }[] {
  const out: { t: number; a: ContextAction }[] = [];
  for (let due = host.nextDeadline(); due !== null && due <= until; due = host.nextDeadline()) {
    for (const a of host.tick(due)) out.push({ t: due, a });
  }
  return out;
}

function sendTimes(events: { t: number; a: ContextAction }[], kind: string): number[] {
  return events.filter((e) => e.a.type === 'send' && (e.a as SendAction).kind === kind).map((e) => e.t);
}

describe('I1 retransmission (§7.8, §14) and E-FAILED', () => {
  it('I1-SENT | Timeout, increment timeout counter → resend I1 while counter ≤ I1_RETRIES_MAX, then E-FAILED (windows U[0.5,1.5] × 4 s × 2^n)', () => {
    const seen: number[][] = [[], [], [], [], []];
    for (let seed = 0; seed < 200; seed++) {
      const host = makeHost({ random: seededRandom(`i1 ${seed}`) });
      const t0 = 10_000;
      const i1 = only(host.trigger(t0, { ulidLocal: A(0), ulidPeer: B(0) }), 'I1').send;
      const ev = runTimers(host, t0 + 1_000_000);
      const times = [t0, ...sendTimes(ev, 'I1')];
      expect(times).toHaveLength(5); // the I1 and I1_RETRIES_MAX = 4 retransmissions
      for (let k = 0; k < 4; k++) {
        const gap = times[k + 1] - times[k];
        const nominal = 4_000 * 2 ** k;
        expect(gap).toBeGreaterThanOrEqual(0.5 * nominal);
        expect(gap).toBeLessThan(1.5 * nominal);
        seen[k].push(gap / nominal);
      }
      // Retransmissions are the same I1 (same tag, same nonce).
      for (const e of ev.filter((x) => x.a.type === 'send')) expect(hex((e.a as SendAction).bytes)).toBe(hex(i1.bytes));
      // The fifth timeout: E-FAILED, negative cache for NO_R1_HOLDDOWN_TIME.
      const fail = ev.find((e) => e.a.type === 'negative-cache')!;
      const gap = fail.t - times[4];
      expect(gap).toBeGreaterThanOrEqual(0.5 * 64_000);
      expect(gap).toBeLessThan(1.5 * 64_000);
      seen[4].push(gap / 64_000);
      expect(fail.a).toMatchObject({ type: 'negative-cache', until: fail.t + 60_000, reason: 'no-r1' });
      expect(host.contexts()).toEqual([]); // removed after the hold-down
    }
    // The randomisation really spans the window.
    for (const s of seen) {
      expect(Math.min(...s)).toBeLessThan(0.55);
      expect(Math.max(...s)).toBeGreaterThan(1.45);
    }
  });

  it('the jitter is exactly 0.5× and ~1.5× at the ends of the random range', () => {
    for (const [u32, factor] of [
      [0, 0.5],
      [0xffff_ffff, 1.5],
    ] as const) {
      const rnd = steerableRandom('ends');
      const host = makeHost({ random: rnd });
      rnd.u32 = u32;
      host.trigger(0, { ulidLocal: A(0), ulidPeer: B(0) });
      const times = [0, ...sendTimes(runTimers(host, 1e9), 'I1')];
      const gaps = times.slice(1).map((t, k) => t - times[k]);
      gaps.forEach((g, k) => expect(g).toBeCloseTo(factor * 4_000 * 2 ** k, 3));
    }
  });

  it('E-FAILED | Wait for NO_R1_HOLDDOWN_TIME → go to IDLE (and triggers are suppressed meanwhile)', () => {
    const host = makeHost({ random: seededRandom('efail') });
    const t0 = 0;
    host.trigger(t0, { ulidLocal: A(0), ulidPeer: B(0) });
    let failed: number | null = null;
    for (let due = host.nextDeadline(); due !== null && failed === null; due = host.nextDeadline()) {
      if (host.tick(due).some((a) => a.type === 'negative-cache')) failed = due;
    }
    const ctx = host.contexts()[0];
    expect(ctx).toMatchObject({ state: 'E-FAILED', ctLocal: null, ctPeer: null, holddownUntil: failed! + 60_000 });
    expect(host.negativeCacheUntil(failed! + 1, B(0))).toBe(failed! + 60_000);
    // Suppressed, also for another local ULID towards the same peer ULID.
    expect(kinds(host.trigger(failed! + 1, { ulidLocal: A(0), ulidPeer: B(0) }))).toEqual([]);
    expect(host.trigger(failed! + 1, { ulidLocal: A(1), ulidPeer: B(0) })).toEqual([
      expect.objectContaining({ type: 'log', event: 'trigger-suppressed' }),
    ]);
    expect(host.nextDeadline()).toBe(failed! + 60_000);
    const acts = host.tick(failed! + 60_000);
    expect(acts).toEqual([expect.objectContaining({ type: 'context-removed', reason: 'holddown-expired' })]);
    expect(host.contexts()).toEqual([]);
    expect(host.negativeCacheUntil(failed! + 60_000, B(0))).toBeUndefined();
    expect(kinds(host.trigger(failed! + 60_001, { ulidLocal: A(0), ulidPeer: B(0) }))).toEqual(['send:I1']);
  });

  it('E-FAILED | Any packet → process as in IDLE', () => {
    const host = makeHost({ random: seededRandom('efail2') });
    const peer = new ScriptedPeer();
    host.trigger(0, { ulidLocal: A(0), ulidPeer: B(0) });
    // Until E-FAILED (the I1 retries take at most 1.5 × 124 s), not until the hold-down ends.
    for (let due = host.nextDeadline(); host.contexts()[0].state === 'I1-SENT'; due = host.nextDeadline()) host.tick(due!);
    const state = host.contexts()[0]?.state;
    expect(state).toBe('E-FAILED');
    const t = host.contexts()[0].stateSince + 1;
    // I1 → R1 (stateless), payload → R1bis, R2 → no context.
    const r1 = only(host.receive(t, peer.i1(A(0))), 'R1').send;
    expect(kinds(host.payloadWithUnknownTag(t, { src: B(0), dst: A(0), tag: 5n }))).toEqual(['send:R1bis']);
    // I2 → a new ESTABLISHED context replaces the E-FAILED record, and the peer is no longer negative-cached.
    const acts = host.receive(t + 1, peer.i2(r1));
    expect(kinds(acts)).toEqual(['context-removed', 'send:R2', 'context-established']);
    expect(host.contexts().map((c) => c.state)).toEqual(['ESTABLISHED']);
    expect(host.negativeCacheUntil(t + 1, B(0))).toBeUndefined();
  });
});

describe('ICMP "unrecognized Next Header" and NO-SUPPORT', () => {
  it('I1-SENT | Receive ICMP payload unknown error → NO-SUPPORT with ICMP_HOLDDOWN_TIME (DESIGN.md)', () => {
    const d = toI1Sent();
    const quoted = ipv6Packet(d.i1!.src, d.i1!.dst, d.i1!.bytes);
    const acts = d.host.icmpParameterProblem(2_000, { code: 1, packet: quoted });
    expect(kinds(acts)).toEqual(['negative-cache', 'context-updated']);
    expect(acts[0]).toMatchObject({ until: 2_000 + 600_000, reason: 'icmp-no-support' });
    expect(names([(acts[0] as { peer: Uint8Array }).peer])).toEqual(names([B(0)]));
    const ctx = d.host.contexts()[0];
    expect(ctx.state).toBe('NO-SUPPORT');
    expect(ctx.holddownUntil).toBe(602_000);
    // No more I1s: the only timer is the hold-down.
    expect(d.host.nextDeadline()).toBe(602_000);
    expect(kinds(d.host.trigger(3_000, { ulidLocal: A(0), ulidPeer: B(0) }))).toEqual([]);
  });

  it('ICMP that is not code 1, quotes no I1 of ours, or carries another nonce → ignored', () => {
    const d = toI1Sent();
    const good = ipv6Packet(d.i1!.src, d.i1!.dst, d.i1!.bytes);
    const otherNonce = d.i1!.bytes.slice();
    otherNonce[15] ^= 1;
    const cases = [
      { code: 0, packet: good },
      { code: 1, packet: ipv6Packet(d.i1!.src, B(1), d.i1!.bytes) },
      { code: 1, packet: ipv6Packet(d.i1!.src, d.i1!.dst, otherNonce) },
      { code: 1, packet: ipv6Packet(A(0), B(0), encode({ kind: 'Keepalive', receiverContextTag: d.ct })) },
      { code: 1, packet: good.subarray(0, 30) },
    ];
    for (const c of cases) {
      const acts = d.host.icmpParameterProblem(2_000, c);
      expect(acts.map((a) => a.type)).toEqual(['log']);
    }
    expect(d.host.contexts()[0].state).toBe('I1-SENT');
  });

  it('NO-SUPPORT | Wait for ICMP_HOLDDOWN_TIME → go to IDLE', () => {
    const d = toI1Sent();
    d.host.icmpParameterProblem(2_000, { code: 1, packet: ipv6Packet(d.i1!.src, d.i1!.dst, d.i1!.bytes) });
    expect(d.host.tick(601_999)).toEqual([]);
    expect(d.host.tick(602_000)).toEqual([expect.objectContaining({ type: 'context-removed', reason: 'holddown-expired' })]);
    expect(kinds(d.host.trigger(602_001, { ulidLocal: A(0), ulidPeer: B(0) }))).toEqual(['send:I1']);
  });

  it('NO-SUPPORT | Any packet → process as in IDLE', () => {
    const d = toI1Sent();
    d.host.icmpParameterProblem(2_000, { code: 1, packet: ipv6Packet(d.i1!.src, d.i1!.dst, d.i1!.bytes) });
    expect(kinds(d.host.receive(3_000, d.peer.i1(A(0))))).toEqual(['send:R1']);
    const r1bis = hostR1bis(d.host, d.peer, 3_000, 0x44n);
    const acts = d.host.receive(3_010, d.peer.i2bis(r1bis));
    expect(kinds(acts)).toEqual(['context-removed', 'send:R2', 'context-established']);
    expect(d.host.contexts()[0].state).toBe('ESTABLISHED');
  });
});

describe('I2 / I2bis retransmission (§7.12, §7.19)', () => {
  it('I2-SENT | Timeout → resend I2 while counter ≤ I2_RETRIES_MAX, then send I1 and go to I1-SENT', () => {
    for (let seed = 0; seed < 50; seed++) {
      const d = toI2Sent(toI1Sent(makeHost({ random: seededRandom(`i2 ${seed}`) })));
      const ev: { t: number; a: ContextAction }[] = [];
      while (!ev.some((e) => e.a.type === 'send' && (e.a as SendAction).kind === 'I1')) {
        const due = d.host.nextDeadline()!;
        for (const a of d.host.tick(due)) ev.push({ t: due, a });
      }
      const i2s = sendTimes(ev, 'I2');
      expect(i2s).toHaveLength(2); // I2_RETRIES_MAX = 2
      const times = [d.now, ...i2s, sendTimes(ev, 'I1')[0]];
      for (let k = 0; k < 3; k++) {
        const gap = times[k + 1] - times[k];
        expect(gap).toBeGreaterThanOrEqual(0.5 * 4_000 * 2 ** k);
        expect(gap).toBeLessThan(1.5 * 4_000 * 2 ** k);
      }
      for (const e of ev.filter((x) => x.a.type === 'send' && (x.a as SendAction).kind === 'I2')) {
        expect(hex((e.a as SendAction).bytes)).toBe(hex(d.i2!.bytes));
      }
      const ctx = d.host.context({ ctLocal: d.ct })!;
      expect(ctx.state).toBe('I1-SENT');
      expect(ctx.retransmits).toBe(0);
      const i1 = msgOf(ev.find((e) => e.a.type === 'send' && (e.a as SendAction).kind === 'I1')!.a as SendAction);
      if (i1.kind !== 'I1') throw new Error('I1');
      expect(i1.initiatorContextTag).toBe(d.ct);
      expect(i1.initiatorNonce).toBe(ctx.initiatorNonce);
      // A late R2 answering the old I2 nonce is not delivered any more.
      expect(drops(d.host.receive(times[3] + 1, d.peer.r2(d.i2!)))).toEqual(['no-context']);
    }
  });

  it('I2BIS-SENT | Timeout → resend I2bis while counter ≤ I2_RETRIES_MAX, then send I1 and go to I1-SENT', () => {
    const d = toI2bisSent(toEstablished(toI2Sent(toI1Sent(makeHost({ random: seededRandom('i2bis') })))));
    // Move the current pair off the ULIDs first: the fallback I1 then needs the ULID Pair option.
    const ev: { t: number; a: ContextAction }[] = [];
    while (!ev.some((e) => e.a.type === 'send' && (e.a as SendAction).kind === 'I1')) {
      const due = d.host.nextDeadline()!;
      for (const a of d.host.tick(due)) ev.push({ t: due, a });
    }
    const times = [d.now, ...sendTimes(ev, 'I2bis'), sendTimes(ev, 'I1')[0]];
    expect(times).toHaveLength(4);
    for (let k = 0; k < 3; k++) {
      const gap = times[k + 1] - times[k];
      expect(gap).toBeGreaterThanOrEqual(0.5 * 4_000 * 2 ** k);
      expect(gap).toBeLessThan(1.5 * 4_000 * 2 ** k);
    }
    const upd = ev.find((e) => e.a.type === 'context-updated')!.a;
    expect(upd).toMatchObject({ changes: ['state', 'ct-peer'], ctx: { state: 'I1-SENT', ctPeer: null } });
  });

  it('I2BIS-SENT → I1 fallback on a non-ULID pair carries the ULID Pair option (§7.7)', () => {
    const e = toEstablished(toI2Sent(toI1Sent(makeHost({ random: seededRandom('i2bis-ulid') }))));
    expect(e.host.setCurrentPair(e.now, e.ct, { local: A(1), peer: B(1) }).ok).toBe(true);
    const d = toI2bisSent(e);
    let i1: SendAction | undefined;
    while (i1 === undefined) {
      i1 = sends(d.host.tick(d.host.nextDeadline()!)).find((s) => s.kind === 'I1');
    }
    expect(names([i1.src, i1.dst])).toEqual(names([A(1), B(1)]));
    const m = msgOf(i1);
    if (m.kind !== 'I1') throw new Error('I1');
    expect(m.options.map((o) => o.kind)).toEqual(['UlidPair']);
    expect(names([opt(m, 'UlidPair')!.senderUlid, opt(m, 'UlidPair')!.receiverUlid])).toEqual(names([A(0), B(0)]));
  });

  it('custom timer constants are honoured', () => {
    const host = makeHost({ random: steerableRandom('custom'), timers: { i1TimeoutMs: 100, i1RetriesMax: 1, noR1HolddownMs: 1_000 } });
    host.trigger(0, { ulidLocal: A(0), ulidPeer: B(0) });
    const ev = runTimers(host, 10_000);
    expect(sendTimes(ev, 'I1')).toHaveLength(1);
    const neg = ev.find((e) => e.a.type === 'negative-cache')!;
    expect(neg.t).toBeLessThan(0 + 1.5 * 100 + 1.5 * 200);
    expect(neg.a).toMatchObject({ until: neg.t + 1_000 });
  });
});

describe('Responder Validator rotation (§7.10.1, VALIDATOR_MIN_LIFETIME)', () => {
  function i2At(issueAt: number, useAt: number, seed: string): boolean {
    const host = makeHost({ random: seededRandom(seed) });
    const peer = new ScriptedPeer();
    host.receive(0, peer.i1(A(0), { ct: 0x1n })); // the secret's epochs start at t = 0
    const r1 = hostR1(host, peer, issueAt);
    const acts = host.receive(useAt, peer.i2(r1));
    return acts.some((a) => a.type === 'context-established');
  }

  it('an I2 whose validator came from the previous secret is accepted within its lifetime', () => {
    expect(i2At(25_000, 40_000, 'v1')).toBe(true); // issued in epoch 0, used in epoch 1, 15 s old
    expect(i2At(29_999, 59_999, 'v2')).toBe(true); // 30 s old, previous secret
    expect(i2At(0, 59_999, 'v3')).toBe(true); // at most twice the lifetime
  });

  it('older validators are rejected', () => {
    expect(i2At(0, 60_000, 'v4')).toBe(false); // two rotations later
    expect(i2At(29_999, 60_000, 'v5')).toBe(false);
    expect(i2At(10_000, 500_000, 'v6')).toBe(false);
  });

  it('any validator no older than VALIDATOR_MIN_LIFETIME is accepted, none older than twice it', () => {
    for (let i = 0; i < 60; i++) {
      const issue = (i * 7_919) % 100_000;
      const age = (i * 104_729) % 30_001;
      expect(i2At(issue, issue + age, `age ${i}`)).toBe(true);
      expect(i2At(issue, issue + 60_000 + (i % 7), `old ${i}`)).toBe(false);
    }
  });

  it('the same holds for R1bis validators and I2bis', () => {
    const run = (issueAt: number, useAt: number): boolean => {
      const host = makeHost({ random: seededRandom('bis') });
      const peer = new ScriptedPeer();
      host.payloadWithUnknownTag(0, { src: B(0), dst: A(0), tag: 0x1n });
      const r1bis = hostR1bis(host, peer, issueAt, 0x42n);
      return host.receive(useAt, peer.i2bis(r1bis)).some((a) => a.type === 'context-established');
    };
    expect(run(25_000, 40_000)).toBe(true);
    expect(run(0, 60_000)).toBe(false);
  });

  it('a validator issued for an R1 is not accepted as an R1bis validator (and vice versa)', () => {
    const host = makeHost();
    const peer = new ScriptedPeer();
    const r1 = msgOf(hostR1(host, peer, 1_000));
    if (r1.kind !== 'R1') throw new Error('R1');
    const fake = peer.pkt(B(0), A(0), {
      kind: 'I2bis',
      initiatorContextTag: peer.ct,
      initiatorNonce: 1,
      responderNonce: r1.responderNonce,
      packetContextTag: peer.ct,
      options: [{ kind: 'ResponderValidator', validator: opt(r1, 'ResponderValidator')!.validator }],
    });
    expect(drops(host.receive(1_100, fake))).toEqual(['bad-validator']);
  });
});

describe('tick()', () => {
  it('is cheap when nothing is due: no randomness drawn, no actions', () => {
    let draws = 0;
    const base = seededRandom('cheap');
    const host = makeHost({
      random: (n) => {
        draws++;
        return base(n);
      },
    });
    host.trigger(0, { ulidLocal: A(0), ulidPeer: B(0) });
    const before = draws;
    const due = host.nextDeadline()!;
    for (let t = 1; t < due; t += 97) expect(host.tick(t)).toEqual([]);
    expect(draws).toBe(before);
    expect(host.nextDeadline()).toBe(due);
  });

  it('nextDeadline() follows cancellations (an R2 cancels the I1 timer)', () => {
    const d = toI1Sent();
    expect(d.host.nextDeadline()).not.toBeNull();
    d.host.receive(1_100, d.peer.r2(d.i1!));
    // Only the Update timer now (the peer had not got our list).
    const ctx = d.host.context({ ctLocal: d.ct })!;
    expect(ctx.update).not.toBeNull();
    const due = d.host.nextDeadline()!;
    const acts = d.host.receive(due + 1, d.peer.updateAck(sends(d.host.tick(due))[0], d.ct));
    expect(acts).toEqual([expect.objectContaining({ type: 'log', event: 'update-acked' })]);
    expect(d.host.nextDeadline()).toBeNull();
  });
});
