// Timers under injected time: Send Timeout, keepalives driven by the peer's
// Keepalive Timeout option, the exact probe schedule (RFC 5534 §7, §4.3) and
// the Keepalive Timeout option we advertise.

import { describe, expect, it } from 'vitest';
import { encodeOption, type UpdateRequestMessage } from '../../../src/wire/index.js';
import {
  DEFAULT_SEND_TIMEOUT_MS,
  INITIAL_PROBES,
  INITIAL_PROBE_TIMEOUT_MS,
  MAX_PROBE_TIMEOUT_MS,
} from '../../../src/reap/index.js';
import { hex } from '../wire/helpers.js';
import { A1, B1, B2, CT_A, Traffic, inState, makeCtx, peerKeepalive, peerProbe, probes, runUntil, seededFloat, wire } from './helpers.js';
import { ProbeState } from '../../../src/wire/index.js';

const ST = 15_000;

describe('Send Timeout', () => {
  it('RFC 5534 §7 constants', () => {
    expect(DEFAULT_SEND_TIMEOUT_MS).toBe(15_000);
    expect(INITIAL_PROBE_TIMEOUT_MS).toBe(500);
    expect(INITIAL_PROBES).toBe(4);
    expect(MAX_PROBE_TIMEOUT_MS).toBe(60_000);
  });

  it('fires Send Timeout after a payload send with nothing received, not a millisecond earlier', () => {
    const ctx = makeCtx();
    ctx.observe(1500, new Traffic().send(1000).sample()); // sampled late: the stamp counts
    expect(ctx.nextDeadline()).toBe(1000 + ST);
    expect(ctx.tick(1000 + ST - 1)).toEqual([]);
    expect(ctx.tick(1000 + ST).map((a) => a.type)).toEqual(['state', 'path-failed', 'send-probe']);
  });

  it('a send sampled after an exploration ended but stamped before it starts the timer at the transition', () => {
    // The data plane's last-sent stamp can predate the return to Operational
    // (a retransmission into the dead path): the Send Timer must not count
    // time spent exploring, or a fresh pair fails on a stale packet.
    const { ctx, t } = inState('Exploring', {}, 1000);
    const { msg, via } = peerProbe(ProbeState.Operational, B1, A1, 84);
    ctx.receive(t + 2000, msg, via);
    expect(ctx.state).toBe('Operational');
    ctx.observe(t + 2100, new Traffic().send(t + 1500).sample());
    expect(ctx.nextDeadline()).toBe(t + 2000 + ST);
    expect(ctx.tick(t + 1500 + ST)).toEqual([]);
  });

  it('does not fire when something came back within Send Timeout', () => {
    const ctx = makeCtx();
    const tr = new Traffic();
    ctx.observe(1000, tr.send(1000).sample());
    ctx.observe(15_999, tr.recv(15_999).sample());
    expect(runUntil(ctx, 600_000).filter((e) => e.a.type === 'send-probe')).toEqual([]);
    expect(ctx.state).toBe('Operational');
  });

  it('a Keepalive from the peer also stops it; the next send starts it again', () => {
    const ctx = makeCtx();
    const tr = new Traffic();
    ctx.observe(1000, tr.send(1000).sample());
    ctx.receive(6000, peerKeepalive(), { src: B1, dst: A1 });
    expect(ctx.nextDeadline()).toBe(Infinity);
    ctx.observe(7000, tr.send(7000).sample());
    expect(ctx.nextDeadline()).toBe(7000 + ST);
  });

  it('never fires for an idle context, nor for one that only receives', () => {
    const idle = makeCtx();
    expect(idle.nextDeadline()).toBe(Infinity);
    const rxOnly = makeCtx();
    const tr = new Traffic();
    for (let t = 0; t < 300_000; t += 1000) rxOnly.observe(t, tr.recv(t).sample());
    expect(rxOnly.state).toBe('Operational');
  });

  it('bidirectional traffic sampled every second for 10 minutes: no keepalive, no probe', () => {
    const ctx = makeCtx();
    const tr = new Traffic();
    const acts = [];
    for (let t = 0; t < 600_000; t += 1000) {
      tr.send(t + 100).recv(t + 300);
      acts.push(...ctx.observe(t + 500, tr.sample()));
      acts.push(...ctx.tick(t + 500));
    }
    expect(acts).toEqual([]);
  });

  it('a one-way stream kept alive by the peer keeps us Operational; when the keepalives stop, exploration starts Send Timeout after the first unanswered send', () => {
    const ctx = makeCtx();
    const tr = new Traffic();
    const acts = [];
    for (let t = 0; t <= 60_000; t += 1000) {
      acts.push(...ctx.observe(t, tr.send(t).sample()));
      if (t % 5000 === 3000) ctx.receive(t, peerKeepalive(), { src: B1, dst: A1 });
      acts.push(...ctx.tick(t));
    }
    expect(acts).toEqual([]);
    // Last keepalive at 58 s; the next send (59 s) starts the timer.
    let fired = -1;
    for (let t = 61_000; t <= 90_000 && fired < 0; t += 1000) {
      ctx.observe(t, tr.send(t).sample());
      if (ctx.tick(t).some((a) => a.type === 'send-probe')) fired = t;
    }
    expect(fired).toBe(59_000 + ST);
  });

  it('is randomised by the injected random source, only ever shortened by up to the jitter', () => {
    const seen = new Set<number>();
    for (let seed = 1; seed <= 50; seed++) {
      const ctx = makeCtx({ options: { random: seededFloat(seed), jitter: 0.1 } });
      ctx.observe(0, new Traffic().send(0).sample());
      const d = ctx.nextDeadline();
      expect(d).toBeGreaterThanOrEqual(0.9 * ST);
      expect(d).toBeLessThanOrEqual(ST);
      seen.add(Math.round(d));
    }
    expect(seen.size).toBeGreaterThan(40);
  });
});

describe('keepalives from the peer\u2019s Keepalive Timeout', () => {
  it('default Keepalive Timeout 15 s: Keepalive Interval 5 s after the first payload received', () => {
    const ctx = makeCtx();
    ctx.observe(10_000, new Traffic().recv(10_000).sample());
    const log = runUntil(ctx, 100_000);
    expect(log.map((e) => [e.t, e.a.type])).toEqual([
      [15_000, 'send-keepalive'],
      [20_000, 'send-keepalive'],
      [25_000, 'send-keepalive'],
    ]);
  });

  it('the peer\u2019s Keepalive Timeout option (in an Update Request) sets the interval: 30 s → every 10 s', () => {
    const ctx = makeCtx();
    const upd = wire<UpdateRequestMessage>({
      kind: 'UpdateRequest',
      receiverContextTag: CT_A,
      requestNonce: 5,
      options: [{ kind: 'KeepaliveTimeout', timeout: 30 }],
    });
    // An Update Request is itself a payload reception (§6.1).
    ctx.receive(0, upd, { src: B1, dst: A1 });
    expect(ctx.peerKeepaliveTimeoutMs).toBe(30_000);
    const log = runUntil(ctx, 100_000);
    expect(log.map((e) => e.t)).toEqual([10_000, 20_000, 30_000]);
  });

  it('keepalive fraction 1/2 (the RFC\u2019s other bound) gives one keepalive at half, the last at the timeout', () => {
    const ctx = makeCtx({ options: { keepaliveFraction: 1 / 2 } });
    ctx.observe(0, new Traffic().recv(0).sample());
    expect(runUntil(ctx, 100_000).map((e) => e.t)).toEqual([7500, 15_000]);
  });

  it('no keepalive when we sent payload within the interval', () => {
    const ctx = makeCtx();
    const tr = new Traffic();
    ctx.observe(0, tr.recv(0).sample());
    ctx.observe(4000, tr.send(4000).sample());
    const kas = runUntil(ctx, 100_000).filter((e) => e.a.type === 'send-keepalive');
    expect(kas).toEqual([]);
  });

  it('a continuous one-way stream from the peer: a keepalive every interval (plus one packet gap), the peer\u2019s 15 s Send Timer never starves', () => {
    const ctx = makeCtx();
    const tr = new Traffic();
    const times: number[] = [];
    for (let t = 0; t <= 120_000; t += 250) {
      ctx.observe(t, tr.recv(t).sample());
      for (const a of ctx.tick(t)) if (a.type === 'send-keepalive') times.push(t);
    }
    expect(times.length).toBeGreaterThan(20);
    // The Keepalive Timer runs from the first unanswered packet for Keepalive
    // Timeout, then the next packet starts it again: gaps are the interval,
    // or the interval plus the packet spacing across a restart.
    for (let i = 1; i < times.length; i++) expect(times[i] - times[i - 1]).toBeLessThanOrEqual(5000 + 250);
  });

  it('keepalives use the current pair', () => {
    const ctx = makeCtx({ current: { local: A1, peer: B2 } });
    ctx.observe(0, new Traffic().recv(0).sample());
    const [first] = runUntil(ctx, 5000);
    expect(first.a).toMatchObject({ type: 'send-keepalive', src: A1, dst: B2 });
  });
});

describe('probe schedule (RFC 5534 §4.3, §7)', () => {
  it('4 initial probes 0.5 s apart, then doubling, capped at 60 s and kept there', () => {
    const ctx = makeCtx();
    const acts = ctx.feedback(0, 'tcp-rto');
    const times = [0];
    const log = runUntil(ctx, 400_000);
    for (const e of log) if (e.a.type === 'send-probe') times.push(e.t);
    expect(probes(acts)).toHaveLength(1);
    expect(times.slice(0, 15)).toEqual([
      0, 500, 1000, 1500, // Number of Initial Probes at Initial Probe Timeout
      2000, 3000, 5000, 9000, 17_000, 33_000, // back-off 1, 2, 4, 8, 16 s
      65_000, // 32 s
      125_000, 185_000, 245_000, 305_000, // Max Probe Timeout
    ]);
    // The GC hint comes once, when the interval reaches the maximum.
    const hints = log.filter((e) => e.a.type === 'gc-hint').map((e) => e.t);
    expect(hints).toEqual([65_000]);
  });

  it('pairs are probed sequentially: the best pair sharing no /64 with the failed current pair first, then the current pair, then RFC 6724 / preference order, cycling', () => {
    const ctx = makeCtx();
    const first = probes(ctx.feedback(0, 'app'));
    const rest = probes(runUntil(ctx, 5000).map((e) => e.a));
    const seq = [...first, ...rest].map((p) => `${p.src[5].toString(16)}>${p.dst[5].toString(16)}`);
    // (a1,b1) is current. Every pair ties up to CommonPrefixLen (35 bits each),
    // so RFC 6724 rule 10 keeps the original order: peer list, then local list;
    // (a2,b2), through neither of the current pair's networks, goes first.
    expect(seq).toEqual(['a2>b2', 'a1>b1', 'a2>b1', 'a1>b2', 'a2>b2', 'a1>b1', 'a2>b1']);
  });

  it('Psent carries this probe and up to 3 earlier unreported ones; nonces from the injected source', () => {
    const ctx = makeCtx();
    const p0 = probes(ctx.feedback(0, 'app'));
    const later = probes(runUntil(ctx, 2000).map((e) => e.a));
    const all = [...p0, ...later];
    expect(all.map((p) => p.msg.sent.map((s) => s.nonce))).toEqual([[1], [2, 1], [3, 2, 1], [4, 3, 2, 1], [5, 4, 3, 2]]);
    for (const p of all) expect(p.msg.received).toEqual([]);
  });
});

describe('Keepalive Timeout option (RFC 5534 §5.3)', () => {
  it('not needed with the default Send Timeout', () => {
    expect(makeCtx().keepaliveTimeoutOption()).toBeNull();
  });

  it('a non-default Send Timeout is advertised (20 s encodes as 0014 0004 0000 0014) and used', () => {
    const ctx = makeCtx({ options: { sendTimeoutMs: 20_000 } });
    const opt = ctx.keepaliveTimeoutOption();
    expect(opt).toEqual({ kind: 'KeepaliveTimeout', timeout: 20 });
    expect(hex(encodeOption(opt!))).toBe('0014000400000014');
    ctx.observe(0, new Traffic().send(0).sample());
    expect(ctx.nextDeadline()).toBe(20_000);
  });

  it('setSendTimeout (SHIM_APP_TIMEOUT / pe_keepaliveto) asks for an Update carrying the option', () => {
    const ctx = makeCtx();
    expect(ctx.setSendTimeout(0, 30_000)).toEqual([
      { type: 'advertise-keepalive-timeout', option: { kind: 'KeepaliveTimeout', timeout: 30 } },
    ]);
    expect(ctx.setSendTimeout(0, 30_000)).toEqual([]);
    expect(ctx.sendTimeoutMs).toBe(30_000);
    ctx.observe(1000, new Traffic().send(1000).sample());
    expect(ctx.nextDeadline()).toBe(31_000);
    // Fractional seconds are advertised rounded down, so the peer is early rather than late.
    expect(ctx.setSendTimeout(0, 12_500)[0]).toMatchObject({ option: { timeout: 12 } });
  });

  it('rejects Send Timeouts the option cannot carry', () => {
    const ctx = makeCtx();
    expect(() => ctx.setSendTimeout(0, 999)).toThrow(/send timeout/);
    expect(() => ctx.setSendTimeout(0, 70_000_000)).toThrow(/send timeout/);
    expect(() => makeCtx({ options: { initialProbes: 0 } })).toThrow(/initialProbes/);
  });
});
