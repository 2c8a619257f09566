// Exploration against a scripted peer: probe report contents and Sta,
// switching only after bidirectional confirmation, InboundOk, negative
// feedback, locator changes, and RFC 5534 Appendix A examples 4 and 5.

import { describe, expect, it } from 'vitest';
import { LocatorFlag, ProbeState } from '../../../src/wire/index.js';
import { FEEDBACK_PROBE_GAP_MS, PROBE_DATA_VERIFY, STANDBY_ANSWER_MIN_MS, PROBE_DATA_VERIFY_REPLY, type ReapAction } from '../../../src/reap/index.js';
import {
  A1,
  A2,
  B1,
  B2,
  Traffic,
  inState,
  makeCtx,
  peerKeepalive,
  peerProbe,
  probes,
  report,
  runUntil,
  stateChanges,
  switches,
  types,
} from './helpers.js';

const ST = 15_000;

/** Exploring since t=0 (feedback) with probes 1..4 sent on (A2,B2) (A1,B1) (A2,B1) (A1,B2). */
function exploringWithFourProbes(m: Parameters<typeof makeCtx>[0] = {}): { ctx: ReturnType<typeof makeCtx>; t: number } {
  const ctx = makeCtx(m);
  const sent = [...probes(ctx.feedback(0, 'app')), ...probes(runUntil(ctx, 1500).map((e) => e.a))];
  expect(sent.map((p) => [p.src, p.dst, p.msg.sent[0].nonce])).toEqual([
    [A2, B2, 1], // sharing no /64 with the failed current pair: first
    [A1, B1, 2], // then the current pair
    [A2, B1, 3],
    [A1, B2, 4],
  ]);
  return { ctx, t: 1600 };
}

describe('probe reports and Sta', () => {
  it('received reports are the peer\u2019s probes since the last transition to Exploring, newest first', () => {
    const ctx = makeCtx();
    const first = peerProbe(ProbeState.Exploring, B1, A1, 500);
    let p = probes(ctx.receive(1000, first.msg, first.via));
    expect(p[0].msg.received).toEqual([report(B1, A1, 500)]);
    const second = peerProbe(ProbeState.Exploring, B2, A2, 501);
    p = probes(ctx.receive(1200, second.msg, second.via));
    expect(p[0].msg.state).toBe(ProbeState.InboundOk);
    expect(p[0].msg.received.map((r) => r.nonce)).toEqual([501, 500]);
    // Nothing more from the peer for Send Timeout: back to Exploring, reports cleared.
    const log = runUntil(ctx, 1200 + ST);
    const toExploring = log.filter((e) => e.t === 1200 + ST).map((e) => e.a);
    expect(stateChanges(toExploring)).toEqual(['InboundOk->Exploring']);
    const [explore] = probes(toExploring);
    expect(explore.msg.state).toBe(ProbeState.Exploring);
    expect(explore.msg.received).toEqual([]);
    const third = peerProbe(ProbeState.Exploring, B1, A1, 502);
    p = probes(ctx.receive(1200 + ST + 10, third.msg, third.via));
    expect(p[0].msg.received.map((r) => r.nonce)).toEqual([502]);
  });

  it('probes the peer has reported seeing drop out of Psent', () => {
    const { ctx, t } = exploringWithFourProbes();
    // The peer is exploring too and (MAY, §5.2) reports our probe 1.
    const { msg, via } = peerProbe(ProbeState.Exploring, B1, A2, 600, [report(A2, B2, 1)]);
    const acts = ctx.receive(t, msg, via);
    const [reply] = probes(acts);
    expect(reply.msg.state).toBe(ProbeState.InboundOk);
    expect(reply.msg.sent.map((s) => s.nonce)).toEqual([5, 4, 3, 2]);
    // An Exploring probe never moves payload: no switch, even with reports.
    expect(switches(acts)).toEqual([]);
  });

  it('Sta always states the sender\u2019s state after sending', () => {
    const ctx = makeCtx();
    const all: ReapAction[] = [...ctx.feedback(0, 'app')];
    all.push(...runUntil(ctx, 600).map((e) => e.a));
    const k = peerKeepalive();
    all.push(...ctx.receive(700, k, { src: B1, dst: A1 }));
    const fin = peerProbe(ProbeState.InboundOk, B1, A1, 700);
    all.push(...ctx.receive(800, fin.msg, fin.via));
    let state = 'Operational';
    for (const a of all) {
      if (a.type === 'state') state = a.to;
      if (a.type === 'send-probe') expect(a.sta).toBe(ProbeState[state as keyof typeof ProbeState]);
    }
    expect(state).toBe('Operational');
  });
});

describe('switching only after bidirectional confirmation', () => {
  it('an InboundOk probe reporting one of our probes moves payload to that pair', () => {
    const { ctx, t } = exploringWithFourProbes();
    const { msg, via } = peerProbe(ProbeState.InboundOk, B2, A2, 700, [report(A2, B2, 1)]);
    const acts = ctx.receive(t, msg, via);
    expect(types(acts)).toEqual(['state', 'path-recovered', 'switch-pair', 'send-probe']);
    expect(switches(acts)).toEqual([{ local: A2, peer: B2 }]);
    expect(acts.find((a) => a.type === 'switch-pair')).toMatchObject({ reason: 'exploration' });
    const [reply] = probes(acts);
    expect([reply.src, reply.dst, reply.msg.state]).toEqual([A2, B2, ProbeState.Operational]);
    expect(reply.msg.received).toEqual([report(B2, A2, 700)]);
    expect(ctx.current).toEqual({ local: A2, peer: B2 });
  });

  it('no report, a report of a nonce we never sent, or one with other addresses: the pair stays', () => {
    const cases = [[], [report(A2, B2, 999)], [report(A2, B1, 2)]];
    for (const received of cases) {
      const { ctx, t } = exploringWithFourProbes();
      const { msg, via } = peerProbe(ProbeState.InboundOk, B2, A2, 700, received);
      const acts = ctx.receive(t, msg, via);
      expect(stateChanges(acts)).toEqual(['Exploring->Operational']);
      expect(switches(acts)).toEqual([]);
      expect(ctx.current).toEqual({ local: A1, peer: B1 });
    }
  });

  it('a confirmed pair whose peer locator is no longer verified is not used', () => {
    const { ctx, t } = exploringWithFourProbes();
    ctx.locatorsChanged(t, [{ addr: A1 }, { addr: A2 }], [
      { addr: B1, verified: true },
      { addr: B2, verified: false },
    ]);
    const { msg, via } = peerProbe(ProbeState.InboundOk, B1, A2, 700, [report(A2, B2, 1)]);
    expect(switches(ctx.receive(t + 1, msg, via))).toEqual([]);
  });

  it('the current pair is kept when it is among the confirmed ones', () => {
    const { ctx, t } = exploringWithFourProbes();
    const { msg, via } = peerProbe(ProbeState.InboundOk, B1, A1, 700, [report(A2, B2, 1), report(A1, B1, 2)]);
    expect(switches(ctx.receive(t, msg, via))).toEqual([]);
  });

  it('a current pair confirmed one way only gives way to a pair proven both ways', () => {
    // Our probe on (A1, B1) reached the peer before (B1 -> A1) broke; the peer's
    // probes reach us on (B2 -> A2) only, and it confirms both our probes.
    const { ctx, t } = exploringWithFourProbes();
    const acts = ctx.receive(t, ...(({ msg, via }) => [msg, via] as const)(peerProbe(ProbeState.InboundOk, B2, A2, 700, [report(A1, B1, 2), report(A2, B2, 1)])));
    expect(switches(acts)).toEqual([{ local: A2, peer: B2 }]);
    expect(acts.find((a) => a.type === 'switch-pair')).toMatchObject({ reason: 'exploration' });
  });

  it('among confirmed pairs, one the peer\u2019s probes also came back on is preferred', () => {
    const { ctx, t } = exploringWithFourProbes();
    // The peer's probe reached us on B2 -> A2 (we go InboundOk) ...
    const seen = peerProbe(ProbeState.Exploring, B2, A2, 800);
    ctx.receive(t, seen.msg, seen.via);
    // ... then it confirms (A1,B2) (ranked higher) and (A2,B2).
    const fin = peerProbe(ProbeState.InboundOk, B1, A1, 801, [report(A1, B2, 4), report(A2, B2, 1)]);
    expect(switches(ctx.receive(t + 100, fin.msg, fin.via))).toEqual([{ local: A2, peer: B2 }]);
  });
});

describe('answers', () => {
  it('a peer that keeps probing on the same path gets each answer on the next pair: a dead reverse path cannot stall the handshake', () => {
    const ctx = makeCtx();
    const got: string[] = [];
    for (let i = 0; i < 4; i++) {
      const { msg, via } = peerProbe(ProbeState.InboundOk, B2, A2, 300 + i);
      const [reply] = probes(ctx.receive(1000 + i * 500, msg, via));
      expect(reply.msg.state).toBe(ProbeState.Operational);
      got.push(`${reply.src[5].toString(16)}>${reply.dst[5].toString(16)}`);
    }
    // Back along the path, then the current pair, then the ranked list.
    expect(got).toEqual(['a2>b2', 'a1>b1', 'a2>b1', 'a1>b2']);
    // A probe on another path is answered back along that path first.
    const other = peerProbe(ProbeState.InboundOk, B1, A2, 400);
    expect(probes(ctx.receive(4000, other.msg, other.via))[0]).toMatchObject({ src: A2, dst: B1 });
  });

  it('a new exploration by the peer is answered back along its path first, whatever answers on that path did in an earlier one', () => {
    const ctx = makeCtx();
    // An earlier exploration: the peer kept arriving on B2 -> A2, our answers moved down the list.
    for (let i = 0; i < 2; i++) {
      const { msg, via } = peerProbe(ProbeState.InboundOk, B2, A2, 300 + i);
      ctx.receive(1000 + i * 500, msg, via);
    }
    // Seconds later the peer explores again on the same path (its hot standby):
    // we answer back along it, not on our current pair (A1, B1), which may be the broken one.
    const ex = peerProbe(ProbeState.Exploring, B2, A2, 500);
    const acts = ctx.receive(9000, ex.msg, ex.via);
    expect(stateChanges(acts)).toEqual(['Operational->InboundOk']);
    const [answer] = probes(acts);
    expect(answer).toMatchObject({ src: A2, dst: B2 });
    // Within this exploration, a second probe on the same path gets the next pair.
    const again = peerProbe(ProbeState.Exploring, B2, A2, 501);
    expect(probes(ctx.receive(9500, again.msg, again.via))[0]).toMatchObject({ src: A1, dst: B1 });
    // The peer's InboundOk probe reporting our answer on (A2, B2) ends it there ...
    const fin = peerProbe(ProbeState.InboundOk, B2, A2, 502, [report(A2, B2, answer.msg.sent[0].nonce)]);
    const done = ctx.receive(9600, fin.msg, fin.via);
    expect(stateChanges(done)).toEqual(['InboundOk->Operational']);
    expect(switches(done)).toEqual([{ local: A2, peer: B2 }]);
    // ... and the next exploration starts over: back along the arrival path.
    const next = peerProbe(ProbeState.Exploring, B1, A1, 600);
    const r = ctx.receive(20_000, next.msg, next.via);
    expect(probes(r)[0]).toMatchObject({ src: A1, dst: B1 });
    const next2 = peerProbe(ProbeState.InboundOk, B1, A1, 601, [report(A1, B1, probes(r)[0].msg.sent[0].nonce)]);
    ctx.receive(20_100, next2.msg, next2.via);
    const later = peerProbe(ProbeState.Exploring, B1, A1, 700);
    expect(probes(ctx.receive(40_000, later.msg, later.via))[0]).toMatchObject({ src: A1, dst: B1 });
  });
});

describe('InboundOk', () => {
  it('keeps retransmitting Probe InboundOk (with a received report) until the peer answers', () => {
    const { ctx, t } = inState('InboundOk');
    const log = runUntil(ctx, t + 10_000);
    const ps = probes(log.map((e) => e.a));
    expect(ps.length).toBeGreaterThanOrEqual(6);
    for (const p of ps) {
      expect(p.msg.state).toBe(ProbeState.InboundOk);
      expect(p.msg.received.length).toBeGreaterThanOrEqual(1);
    }
    const fin = peerProbe(ProbeState.Operational, B1, A1, 901, [report(ps[0].src, ps[0].dst, ps[0].msg.sent[0].nonce)]);
    expect(stateChanges(ctx.receive(t + 10_001, fin.msg, fin.via))).toEqual(['InboundOk->Operational']);
    expect(ctx.snapshot().probe).toBeNull();
  });

  it('entered through payload or a keepalive, before any probe arrived: Precvd = 0 (RFC gap, see README)', () => {
    const { ctx, t } = inState('Exploring');
    const [p] = probes(ctx.observe(t + 1, new Traffic().recv(t + 1).sample()));
    expect(p.msg.state).toBe(ProbeState.InboundOk);
    expect(p.msg.received).toEqual([]);
  });
});

describe('negative feedback', () => {
  it('SHIM_FEEDBACK or a TCP RTO starts exploration at once, Send Timer or not', () => {
    for (const kind of ['app', 'tcp-rto'] as const) {
      const ctx = makeCtx();
      ctx.observe(1000, new Traffic().send(1000).sample());
      const acts = ctx.feedback(1200, kind);
      expect(types(acts)).toEqual(['state', 'path-failed', 'send-probe']);
      expect(acts[1]).toEqual({ type: 'path-failed', reason: 'feedback' });
      expect(probes(acts)[0].msg.state).toBe(ProbeState.Exploring);
      expect(ctx.nextDeadline()).toBe(1700);
    }
  });

  it('is a no-op while exploring', () => {
    const { ctx, t } = inState('Exploring');
    expect(ctx.feedback(t + 1, 'tcp-rto')).toEqual([]);
    expect(ctx.feedback(t + 300, 'app')).toEqual([]);
  });

  it('in InboundOk sends the next exploration probe at once, at most one per FEEDBACK_PROBE_GAP_MS, and keeps the state', () => {
    const { ctx, t } = inState('InboundOk'); // transition probe at t (reply on A1 -> B1)
    expect(ctx.feedback(t + 1, 'tcp-rto')).toEqual([]); // the transition probe just left
    const acts = ctx.feedback(t + FEEDBACK_PROBE_GAP_MS, 'tcp-rto');
    const [p] = probes(acts);
    expect(types(acts)).toEqual(['send-probe']);
    expect([p.msg.state, p.purpose]).toEqual([ProbeState.InboundOk, 'explore']);
    expect(p.msg.received.map((r) => r.nonce)).toEqual([900]);
    expect(ctx.state).toBe('InboundOk');
    // The stream goes on from there: the next probe one interval later, on the next pair.
    expect(ctx.nextDeadline()).toBe(t + FEEDBACK_PROBE_GAP_MS + 500);
    expect(ctx.feedback(t + FEEDBACK_PROBE_GAP_MS + 50, 'app')).toEqual([]);
    const [q] = probes(ctx.feedback(t + 2 * FEEDBACK_PROBE_GAP_MS, 'app'));
    expect(`${q.src[5].toString(16)}>${q.dst[5].toString(16)}`).not.toBe(`${p.src[5].toString(16)}>${p.dst[5].toString(16)}`);
  });
});

describe('locator changes', () => {
  it('losing the current local locator while active explores at once, over the remaining pairs', () => {
    const ctx = makeCtx();
    ctx.observe(1000, new Traffic().send(1000).recv(1000).sample());
    const acts = ctx.locatorsChanged(2000, [{ addr: A2 }], [
      { addr: B1, verified: true },
      { addr: B2, verified: true },
    ]);
    expect(acts[1]).toEqual({ type: 'path-failed', reason: 'locator-lost' });
    const all = [...probes(acts), ...probes(runUntil(ctx, 4000).map((e) => e.a))];
    for (const p of all) expect(p.src).toEqual(A2);
  });

  it('a pair left because its locator went away is returned to once the locator is back and verified', () => {
    const ctx = makeCtx({ options: { failbackHoldMs: 1000, verifyIntervalMs: 500 } });
    const tr = new Traffic();
    ctx.observe(1000, tr.send(1000).recv(1000).sample());
    const acts = ctx.locatorsChanged(2000, [{ addr: A2 }], [
      { addr: B1, verified: true },
      { addr: B2, verified: true },
    ]);
    // The peer answers our first probe from A2: exploration ends on that pair.
    const [first] = probes(acts);
    const answer = peerProbe(ProbeState.Operational, first.dst, first.src, 77, [report(first.src, first.dst, first.msg.sent[0].nonce)]);
    const sw = switches(ctx.receive(2050, answer.msg, answer.via));
    expect(sw).toEqual([{ local: A2, peer: first.dst }]);
    expect(ctx.snapshot().failbackTarget).toEqual({ local: A1, peer: B1 });
    // A1 returns; the left pair is verified, and after the hold payload goes back.
    ctx.locatorsChanged(5000, [{ addr: A1 }, { addr: A2 }], [
      { addr: B1, verified: true },
      { addr: B2, verified: true },
    ]);
    let back: ReapAction[] = [];
    for (let t = 5000; t < 12_000 && back.length === 0; t += 100) {
      ctx.observe(t, tr.send(t).recv(t).sample());
      for (const p of probes(ctx.tick(t))) {
        if (p.purpose !== 'verify' || p.src[5] !== A1[5]) continue;
        const v = peerProbe(ProbeState.Operational, p.dst, p.src, 500 + t, [report(p.src, p.dst, p.msg.sent[0].nonce, p.msg.sent[0].data)], PROBE_DATA_VERIFY_REPLY);
        back = ctx.receive(t + 10, v.msg, v.via).filter((a) => a.type === 'switch-pair');
      }
    }
    expect(back).toEqual([{ type: 'switch-pair', local: A1, peer: B1, reason: 'failback' }]);
  });

  it('losing it while idle sends nothing until payload is sent', () => {
    const ctx = makeCtx();
    const acts = ctx.locatorsChanged(2000, [{ addr: A2 }], [{ addr: B1, verified: true }]);
    expect(acts).toEqual([]);
    expect(ctx.nextDeadline()).toBe(Infinity);
    const later = ctx.observe(500_000, new Traffic().send(500_000).sample());
    expect(stateChanges(later)).toEqual(['Operational->Exploring']);
    expect(probes(later)[0]).toMatchObject({ src: A2, dst: B1 });
  });

  it('unverified and BROKEN peer locators are never probed; a locator verified later is', () => {
    const ctx = makeCtx({
      peers: [
        { addr: B1, verified: true },
        { addr: B2, verified: false },
        { addr: A2.map((x, i) => (i === 5 ? 0xb3 : x)), verified: true, flags: LocatorFlag.Broken },
      ],
    });
    ctx.feedback(0, 'app');
    let ps = probes(runUntil(ctx, 20_000).map((e) => e.a));
    for (const p of ps) expect(p.dst).toEqual(B1);
    ctx.locatorsChanged(20_001, [{ addr: A1 }, { addr: A2 }], [
      { addr: B1, verified: true },
      { addr: B2, verified: true },
    ]);
    ps = probes(runUntil(ctx, 200_000).map((e) => e.a));
    expect(ps.some((p) => p.dst[5] === 0xb2)).toBe(true);
  });
});

describe('verification probes (hot standby / fail-back extension)', () => {
  it('are answered back along their path, in Operational only, without touching REAP state', () => {
    const ctx = makeCtx();
    ctx.observe(1000, new Traffic().send(1000).sample()); // Send Timer running
    const v = peerProbe(ProbeState.Operational, B2, A2, 42, [], PROBE_DATA_VERIFY);
    const acts = ctx.receive(2000, v.msg, v.via);
    const [reply] = probes(acts);
    expect(reply.purpose).toBe('verify-reply');
    expect([reply.src, reply.dst, reply.msg.state]).toEqual([A2, B2, ProbeState.Operational]);
    expect(reply.msg.received).toEqual([report(B2, A2, 42, PROBE_DATA_VERIFY)]);
    // Unlike a plain Sta=Operational probe, it neither stops the Send Timer nor starts keepalives.
    expect(ctx.snapshot().sendTimer).toBe(1000 + ST);
    expect(ctx.snapshot().keepalive).toBeNull();
    const { ctx: exploring, t } = inState('Exploring');
    expect(exploring.receive(t + 1, v.msg, v.via)).toEqual([]);
    expect(exploring.state).toBe('Exploring');
  });
});

describe('the peer\u2019s answer after our exploration ended', () => {
  it('a Sta=Operational probe within one Initial Probe Timeout of the end still chooses the pair from its reports; later it does not', () => {
    for (const [dt, moved] of [[400, true], [600, false]] as const) {
      const ctx = makeCtx();
      // The peer explores on (B2 -> A2): we go InboundOk and answer back along it.
      const ex = peerProbe(ProbeState.Exploring, B2, A2, 900);
      const [answer] = probes(ctx.receive(1000, ex.msg, ex.via));
      expect(answer).toMatchObject({ src: A2, dst: B2 });
      // Its InboundOk probe ends our exploration before it saw our answer: nothing confirmed, the pair stays.
      const early = peerProbe(ProbeState.InboundOk, B2, A2, 901);
      const acts = ctx.receive(1010, early.msg, early.via);
      expect(stateChanges(acts)).toEqual(['InboundOk->Operational']);
      expect(switches(acts)).toEqual([]);
      // Then its Sta=Operational answer reports our probe on (A2, B2).
      const fin = peerProbe(ProbeState.Operational, B2, A2, 902, [answer.msg.sent[0]]);
      const late = ctx.receive(1010 + dt, fin.msg, fin.via);
      expect(switches(late)).toEqual(moved ? [{ local: A2, peer: B2 }] : []);
      expect(ctx.state).toBe('Operational');
    }
  });
});

describe('hot standby with a verification out', () => {
  it('counts as verified only until the answer is overdue (4 round trips, at least STANDBY_ANSWER_MIN_MS): staged validity and the switch at a failure', () => {
    const ctx = makeCtx({ options: { hotStandby: true, sendTimeoutMs: 3000 } });
    const tr = new Traffic();
    ctx.observe(1000, tr.send(1000).recv(1000).sample());
    // The standby (A2, B2) is verified at once; its answer comes 10 ms later.
    const [v1] = probes(ctx.tick(1000));
    expect([v1.src, v1.dst, v1.purpose]).toEqual([A2, B2, 'verify']);
    const ans = (v: typeof v1, nonce: number) => peerProbe(ProbeState.Operational, B2, A2, nonce, [v.msg.sent[0]], PROBE_DATA_VERIFY_REPLY);
    const a1 = ans(v1, 50);
    ctx.receive(1010, a1.msg, a1.via);
    const fresh = 2 * 1500 + 2000; // 2 x verify interval + verify timeout
    expect(ctx.stagedStandby()).toEqual({ pair: { local: A2, peer: B2 }, validUntil: 1010 + fresh });
    // The next verification leaves at 2500 (traffic goes on); while it is out the
    // standby is valid until 2500 + max(250, 4 x 10 ms).
    ctx.observe(2400, tr.send(2400).recv(2400).sample());
    const [v2] = probes(ctx.tick(2500));
    expect(v2.purpose).toBe('verify');
    expect(ctx.stagedStandby()).toEqual({ pair: { local: A2, peer: B2 }, validUntil: 2500 + STANDBY_ANSWER_MIN_MS });
    // Answered in time: valid again for the full freshness window.
    const a2 = ans(v2, 51);
    ctx.receive(2510, a2.msg, a2.via);
    expect(ctx.stagedStandby()?.validUntil).toBe(2510 + fresh);
    // The third is never answered: a failure after its answer is overdue
    // explores without switching to the standby first.
    ctx.observe(3900, tr.send(3900).recv(3900).sample());
    const [v3] = probes(ctx.tick(4000));
    expect(v3.purpose).toBe('verify');
    const acts = ctx.feedback(4000 + STANDBY_ANSWER_MIN_MS + 1, 'tcp-rto');
    expect(types(acts)).toEqual(['state', 'path-failed', 'send-probe']);
    expect(switches(acts)).toEqual([]);
  });

  it('switches to it at a failure while its answer is not yet overdue', () => {
    const ctx = makeCtx({ options: { hotStandby: true, sendTimeoutMs: 3000 } });
    const tr = new Traffic();
    ctx.observe(1000, tr.send(1000).recv(1000).sample());
    const [v1] = probes(ctx.tick(1000));
    const a1 = peerProbe(ProbeState.Operational, B2, A2, 50, [v1.msg.sent[0]], PROBE_DATA_VERIFY_REPLY);
    ctx.receive(1010, a1.msg, a1.via);
    ctx.observe(2400, tr.send(2400).recv(2400).sample());
    probes(ctx.tick(2500));
    const acts = ctx.feedback(2500 + STANDBY_ANSWER_MIN_MS - 1, 'tcp-rto');
    expect(switches(acts)).toEqual([{ local: A2, peer: B2 }]);
    expect(acts.find((a) => a.type === 'switch-pair')).toMatchObject({ reason: 'hot-standby' });
    // The exploration starts on the standby, now current: the peer follows it there.
    expect(probes(acts).map((p) => [p.src, p.dst, p.purpose])).toEqual([[A2, B2, 'explore']]);
  });
});

describe('RFC 5534 Appendix A', () => {
  it('example 4 (failure scenario), seen from A: B\u2019s retransmission on B2 leads A to B2', () => {
    // A has one address; the current pair (A, B1) broke both ways.
    const ctx = makeCtx({ locals: [{ addr: A1 }] });
    const tr = new Traffic();
    ctx.observe(0, tr.send(0).recv(0).sample());
    // (B1,A) Probe p is lost; (B2,A) Probe q, state=exploring, arrives.
    const q = peerProbe(ProbeState.Exploring, B2, A1, 0x71);
    let acts = ctx.receive(16_000, q.msg, q.via);
    expect(stateChanges(acts)).toEqual(['Operational->InboundOk']);
    const [r] = probes(acts);
    // (A, B2) Probe r, state=inboundok, received probe q.
    expect([r.src, r.dst, r.msg.state]).toEqual([A1, B2, ProbeState.InboundOk]);
    expect(r.msg.received).toEqual([report(B2, A1, 0x71)]);
    // (B2,A) Probe s, state=operational, received probe r.
    const s = peerProbe(ProbeState.Operational, B2, A1, 0x73, [r.msg.sent[0]]);
    acts = ctx.receive(16_050, s.msg, s.via);
    expect(stateChanges(acts)).toEqual(['InboundOk->Operational']);
    expect(switches(acts)).toEqual([{ local: A1, peer: B2 }]);
    expect(probes(acts)).toEqual([]);
  });

  it('example 5 (one-way failure), seen from A: answers on the reverse pairs, ends on (A2, B2)', () => {
    const ctx = makeCtx();
    const tr = new Traffic();
    ctx.observe(0, tr.send(0).recv(0).sample());
    // (B1,A1) Probe p, state=exploring.
    const p = peerProbe(ProbeState.Exploring, B1, A1, 0x70);
    const [q] = probes(ctx.receive(20_000, p.msg, p.via));
    expect([q.src, q.dst, q.msg.state]).toEqual([A1, B1, ProbeState.InboundOk]);
    expect(q.msg.received.map((x) => x.nonce)).toEqual([0x70]);
    // q is lost (A1 -> B1 is broken). (B2,A2) Probe r, state=exploring.
    const r = peerProbe(ProbeState.Exploring, B2, A2, 0x72);
    const [s] = probes(ctx.receive(20_500, r.msg, r.via));
    // (A2, B2) Probe s, state=inboundok, received probes p, r.
    expect([s.src, s.dst, s.msg.state]).toEqual([A2, B2, ProbeState.InboundOk]);
    expect(s.msg.received.map((x) => x.nonce).sort()).toEqual([0x70, 0x72]);
    // (B2,A2) Probe t, state=operational, received probe s.
    const t = peerProbe(ProbeState.Operational, B2, A2, 0x74, [s.msg.sent[0]]);
    const acts = ctx.receive(20_550, t.msg, t.via);
    expect(switches(acts)).toEqual([{ local: A2, peer: B2 }]);
    expect(ctx.state).toBe('Operational');
  });
});
