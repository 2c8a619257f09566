// One test per row of the RFC 5534 §6 state tables (§6.1–§6.9), each cell
// named "event / state: actions". The peer is scripted with encoded bytes;
// what the core sends is decoded and checked.

import { describe, expect, it } from 'vitest';
import { ProbeState } from '../../../src/wire/index.js';
import {
  A1,
  A2,
  B1,
  B2,
  Traffic,
  inState,
  keepalives,
  makeCtx,
  peerKeepalive,
  peerProbe,
  probes,
  report,
  runUntil,
  stateChanges,
  types,
} from './helpers.js';

const ST = 15_000;

describe('§6.1 incoming payload packet', () => {
  it('rx payload / Operational: STOP Send, START Keepalive', () => {
    const ctx = makeCtx();
    const tr = new Traffic();
    ctx.observe(1000, tr.send(1000).sample());
    expect(ctx.snapshot().sendTimer).toBe(1000 + ST);
    expect(ctx.observe(2000, tr.recv(2000).sample())).toEqual([]);
    const s = ctx.snapshot();
    expect(s.sendTimer).toBeNull();
    expect(s.keepalive).toEqual({ next: 2000 + 5000, expires: 2000 + 15_000, interval: 5000 });
    expect(s.state).toBe('Operational');
  });

  it('rx payload / Exploring: SEND Probe InboundOk, START Send, GOTO InboundOk', () => {
    const { ctx, t } = inState('Exploring');
    expect(ctx.snapshot().sendTimer).toBeNull();
    const acts = ctx.observe(t + 100, new Traffic().recv(t + 100).sample());
    expect(stateChanges(acts)).toEqual(['Exploring->InboundOk']);
    const p = probes(acts);
    expect(p).toHaveLength(1);
    expect(p[0].msg.state).toBe(ProbeState.InboundOk);
    expect(ctx.snapshot().sendTimer).toBe(t + 100 + ST);
  });

  it('rx payload / InboundOk: STOP Send', () => {
    const { ctx, t } = inState('InboundOk');
    expect(ctx.snapshot().sendTimer).toBe(t + ST);
    const acts = ctx.observe(t + 100, new Traffic().recv(t + 100).sample());
    expect(acts).toEqual([]);
    expect(ctx.snapshot().sendTimer).toBeNull();
    expect(ctx.state).toBe('InboundOk');
  });
});

describe('§6.2 outgoing payload packet', () => {
  it('tx payload / Operational: START Send, STOP Keepalive', () => {
    const ctx = makeCtx();
    const tr = new Traffic();
    ctx.observe(1000, tr.recv(1000).sample());
    expect(ctx.snapshot().keepalive).not.toBeNull();
    expect(ctx.observe(1500, tr.send(1500).sample())).toEqual([]);
    expect(ctx.snapshot().keepalive).toBeNull();
    expect(ctx.snapshot().sendTimer).toBe(1500 + ST);
    // START only if not running: a later send keeps the deadline.
    ctx.observe(4000, tr.send(4000).sample());
    expect(ctx.snapshot().sendTimer).toBe(1500 + ST);
  });

  it('tx payload / Exploring: no effect', () => {
    const { ctx, t } = inState('Exploring');
    const before = ctx.snapshot();
    expect(ctx.observe(t + 100, new Traffic().send(t + 100).sample())).toEqual([]);
    expect(ctx.snapshot()).toEqual(before);
  });

  it('tx payload / InboundOk: START Send (if not running)', () => {
    const { ctx, t } = inState('InboundOk');
    const tr = new Traffic();
    ctx.observe(t + 100, tr.recv(t + 100).sample()); // STOP Send
    expect(ctx.snapshot().sendTimer).toBeNull();
    expect(ctx.observe(t + 200, tr.send(t + 200).sample())).toEqual([]);
    expect(ctx.snapshot().sendTimer).toBe(t + 200 + ST);
    ctx.observe(t + 300, tr.send(t + 300).sample());
    expect(ctx.snapshot().sendTimer).toBe(t + 200 + ST);
  });
});

describe('§6.3 Keepalive Timeout', () => {
  it('Keepalive Timer expires / Operational: SEND Keepalive (one last one)', () => {
    const ctx = makeCtx();
    ctx.observe(0, new Traffic().recv(0).sample());
    const log = runUntil(ctx, 120_000);
    const kas = log.filter((e) => e.a.type === 'send-keepalive');
    // Every Keepalive Interval (15 s / 3) while the timer runs; the one at 15 s is the expiry's.
    expect(kas.map((e) => e.t)).toEqual([5000, 10_000, 15_000]);
    expect(keepalives(kas.map((e) => e.a))).toEqual([
      { src: A1, dst: B1 },
      { src: A1, dst: B1 },
      { src: A1, dst: B1 },
    ]);
    expect(ctx.snapshot().keepalive).toBeNull();
    expect(ctx.nextDeadline()).toBe(Infinity);
  });

  it('Keepalive Timer expires / Exploring, InboundOk: not running (—)', () => {
    for (const state of ['Exploring', 'InboundOk'] as const) {
      const { ctx, t } = inState(state);
      ctx.observe(t + 10, new Traffic().recv(t + 10).sample());
      expect(ctx.snapshot().keepalive).toBeNull();
      const log = runUntil(ctx, t + 60_000);
      expect(log.filter((e) => e.a.type === 'send-keepalive')).toEqual([]);
    }
  });
});

describe('§6.4 Send Timeout', () => {
  it('Send Timer expires / Operational: SEND Probe Exploring, GOTO Exploring', () => {
    const ctx = makeCtx();
    ctx.observe(1000, new Traffic().send(1000).sample());
    expect(ctx.tick(1000 + ST - 1)).toEqual([]);
    const acts = ctx.tick(1000 + ST);
    expect(types(acts)).toEqual(['state', 'path-failed', 'send-probe']);
    expect(stateChanges(acts)).toEqual(['Operational->Exploring']);
    const [p] = probes(acts);
    expect(p.msg.state).toBe(ProbeState.Exploring);
    expect([p.src, p.dst]).toEqual([A2, B2]); // the current pair failed: the best alternate sharing no /64 with it first
  });

  it('Send Timer expires / InboundOk: SEND Probe Exploring, GOTO Exploring', () => {
    const { ctx, t } = inState('InboundOk');
    const log = runUntil(ctx, t + ST);
    const at = log.filter((e) => e.t === t + ST).map((e) => e.a);
    expect(stateChanges(at)).toEqual(['InboundOk->Exploring']);
    const p = probes(at);
    expect(p.map((x) => x.msg.state)).toEqual([ProbeState.Exploring]);
    // Before that, the retransmissions said InboundOk.
    const earlier = probes(log.filter((e) => e.t < t + ST).map((e) => e.a));
    expect(earlier.length).toBeGreaterThan(0);
    for (const x of earlier) expect(x.msg.state).toBe(ProbeState.InboundOk);
  });

  it('Send Timer / Exploring: not running (—)', () => {
    const { ctx, t } = inState('Exploring');
    ctx.observe(t + 1, new Traffic().send(t + 1).sample());
    expect(ctx.snapshot().sendTimer).toBeNull();
  });
});

describe('§6.5 retransmission', () => {
  it('probe timer / Exploring: SEND Probe Exploring', () => {
    const { ctx, t } = inState('Exploring');
    const acts = ctx.tick(t + 500);
    expect(probes(acts).map((p) => p.msg.state)).toEqual([ProbeState.Exploring]);
    expect(ctx.state).toBe('Exploring');
  });

  it('probe timer / InboundOk: SEND Probe InboundOk, START Send', () => {
    const { ctx, t } = inState('InboundOk');
    ctx.observe(t + 100, new Traffic().recv(t + 100).sample()); // STOP Send
    expect(ctx.snapshot().sendTimer).toBeNull();
    const acts = ctx.tick(t + 500);
    const p = probes(acts);
    expect(p.map((x) => x.msg.state)).toEqual([ProbeState.InboundOk]);
    // An InboundOk sender MUST report at least one inbound probe (§5.2).
    expect(p[0].msg.received.map((r) => r.nonce)).toEqual([900]);
    expect(ctx.snapshot().sendTimer).toBe(t + 500 + ST);
  });

  it('probe timer / Operational: none (—)', () => {
    const ctx = makeCtx();
    expect(ctx.nextDeadline()).toBe(Infinity);
    expect(ctx.tick(1_000_000)).toEqual([]);
  });
});

describe('§6.6 reception of the Keepalive message', () => {
  it('rx Keepalive / Operational: STOP Send', () => {
    const ctx = makeCtx();
    ctx.observe(1000, new Traffic().send(1000).sample());
    expect(ctx.receive(2000, peerKeepalive(), { src: B1, dst: A1 })).toEqual([]);
    expect(ctx.snapshot().sendTimer).toBeNull();
    expect(ctx.state).toBe('Operational');
  });

  it('rx Keepalive / Exploring: SEND Probe InboundOk, START Send, GOTO InboundOk', () => {
    const { ctx, t } = inState('Exploring');
    const acts = ctx.receive(t + 100, peerKeepalive(), { src: B2, dst: A2 });
    expect(stateChanges(acts)).toEqual(['Exploring->InboundOk']);
    const p = probes(acts);
    expect(p).toHaveLength(1);
    expect(p[0].msg.state).toBe(ProbeState.InboundOk);
    expect([p[0].src, p[0].dst]).toEqual([A2, B2]); // back along the path the keepalive took
    expect(ctx.snapshot().sendTimer).toBe(t + 100 + ST);
  });

  it('rx Keepalive / InboundOk: STOP Send', () => {
    const { ctx, t } = inState('InboundOk');
    expect(ctx.receive(t + 100, peerKeepalive(), { src: B1, dst: A1 })).toEqual([]);
    expect(ctx.snapshot().sendTimer).toBeNull();
    expect(ctx.state).toBe('InboundOk');
  });

  it('a Keepalive for another context tag is ignored', () => {
    const ctx = makeCtx();
    ctx.observe(1000, new Traffic().send(1000).sample());
    ctx.receive(2000, peerKeepalive(0x777n), { src: B1, dst: A1 });
    expect(ctx.snapshot().sendTimer).toBe(1000 + ST);
  });
});

describe('§6.7 reception of the Probe message State=Exploring', () => {
  it('rx Probe Exploring / Operational: SEND Probe InboundOk, STOP Keepalive, RESTART Send, GOTO InboundOk', () => {
    const ctx = makeCtx();
    const tr = new Traffic();
    ctx.observe(1000, tr.send(1000).sample());
    ctx.observe(1100, tr.recv(1100).sample()); // Keepalive Timer running, Send stopped
    expect(ctx.snapshot().keepalive).not.toBeNull();
    const { msg, via } = peerProbe(ProbeState.Exploring, B2, A1, 77);
    const acts = ctx.receive(3000, msg, via);
    expect(stateChanges(acts)).toEqual(['Operational->InboundOk']);
    const [p] = probes(acts);
    expect(p.msg.state).toBe(ProbeState.InboundOk);
    expect([p.src, p.dst]).toEqual([A1, B2]);
    expect(p.msg.received).toEqual([report(B2, A1, 77)]);
    expect(ctx.snapshot().keepalive).toBeNull();
    expect(ctx.snapshot().sendTimer).toBe(3000 + ST);
  });

  it('rx Probe Exploring / Exploring: SEND Probe InboundOk, START Send, GOTO InboundOk', () => {
    const { ctx, t } = inState('Exploring');
    const { msg, via } = peerProbe(ProbeState.Exploring, B1, A2, 78);
    const acts = ctx.receive(t + 200, msg, via);
    expect(stateChanges(acts)).toEqual(['Exploring->InboundOk']);
    const [p] = probes(acts);
    expect(p.msg.state).toBe(ProbeState.InboundOk);
    expect(p.msg.received).toEqual([report(B1, A2, 78)]);
    expect(ctx.snapshot().sendTimer).toBe(t + 200 + ST);
  });

  it('rx Probe Exploring / InboundOk: SEND Probe InboundOk, RESTART Send', () => {
    const { ctx, t } = inState('InboundOk');
    const { msg, via } = peerProbe(ProbeState.Exploring, B2, A2, 79);
    const acts = ctx.receive(t + 5000, msg, via);
    expect(stateChanges(acts)).toEqual([]);
    const [p] = probes(acts);
    expect(p.msg.state).toBe(ProbeState.InboundOk);
    expect([p.src, p.dst]).toEqual([A2, B2]);
    expect(p.msg.received.map((r) => r.nonce).sort()).toEqual([79, 900]);
    expect(ctx.snapshot().sendTimer).toBe(t + 5000 + ST);
  });
});

describe('§6.8 reception of the Probe message State=InboundOk', () => {
  it('rx Probe InboundOk / Operational: SEND Probe Operational, RESTART Send, STOP Keepalive', () => {
    const ctx = makeCtx();
    ctx.observe(1000, new Traffic().recv(1000).sample());
    const { msg, via } = peerProbe(ProbeState.InboundOk, B1, A1, 80);
    const acts = ctx.receive(2000, msg, via);
    expect(stateChanges(acts)).toEqual([]);
    const [p] = probes(acts);
    expect(p.msg.state).toBe(ProbeState.Operational);
    expect(p.msg.received.map((r) => r.nonce)).toEqual([80]);
    expect(ctx.snapshot().keepalive).toBeNull();
    expect(ctx.snapshot().sendTimer).toBe(2000 + ST);
  });

  it('rx Probe InboundOk / Exploring: SEND Probe Operational, RESTART Send, GOTO Operational', () => {
    const { ctx, t } = inState('Exploring');
    const { msg, via } = peerProbe(ProbeState.InboundOk, B1, A1, 81);
    const acts = ctx.receive(t + 300, msg, via);
    expect(stateChanges(acts)).toEqual(['Exploring->Operational']);
    expect(types(acts)).toContain('path-recovered');
    expect(probes(acts).map((p) => p.msg.state)).toEqual([ProbeState.Operational]);
    expect(ctx.snapshot().sendTimer).toBe(t + 300 + ST);
    expect(ctx.snapshot().probe).toBeNull();
  });

  it('rx Probe InboundOk / InboundOk: SEND Probe Operational, RESTART Send, GOTO Operational', () => {
    const { ctx, t } = inState('InboundOk');
    const { msg, via } = peerProbe(ProbeState.InboundOk, B1, A1, 82);
    const acts = ctx.receive(t + 400, msg, via);
    expect(stateChanges(acts)).toEqual(['InboundOk->Operational']);
    expect(probes(acts).map((p) => p.msg.state)).toEqual([ProbeState.Operational]);
    expect(ctx.snapshot().sendTimer).toBe(t + 400 + ST);
  });
});

describe('§6.9 reception of the Probe message State=Operational', () => {
  it('rx Probe Operational / Operational: STOP Send, START Keepalive', () => {
    const ctx = makeCtx();
    ctx.observe(1000, new Traffic().send(1000).sample());
    const { msg, via } = peerProbe(ProbeState.Operational, B1, A1, 83);
    const acts = ctx.receive(2000, msg, via);
    expect(acts).toEqual([]); // no reply: this ends an exploration
    expect(ctx.snapshot().sendTimer).toBeNull();
    expect(ctx.snapshot().keepalive?.expires).toBe(2000 + 15_000);
  });

  it('rx Probe Operational / Exploring: STOP Send, START Keepalive, GOTO Operational', () => {
    const { ctx, t } = inState('Exploring');
    const { msg, via } = peerProbe(ProbeState.Operational, B1, A1, 84);
    const acts = ctx.receive(t + 100, msg, via);
    expect(stateChanges(acts)).toEqual(['Exploring->Operational']);
    expect(probes(acts)).toEqual([]);
    expect(ctx.snapshot().sendTimer).toBeNull();
    expect(ctx.snapshot().keepalive).not.toBeNull();
  });

  it('rx Probe Operational / InboundOk: STOP Send, START Keepalive, GOTO Operational', () => {
    const { ctx, t } = inState('InboundOk');
    const { msg, via } = peerProbe(ProbeState.Operational, B1, A1, 85);
    const acts = ctx.receive(t + 100, msg, via);
    expect(stateChanges(acts)).toEqual(['InboundOk->Operational']);
    expect(probes(acts)).toEqual([]);
    expect(ctx.snapshot().sendTimer).toBeNull();
    expect(ctx.snapshot().keepalive).not.toBeNull();
  });
});
