// Scripted scenarios on the two-peer simulator: hot standby, fail-back
// hysteresis, a three-hour outage, unidirectional paths, idle contexts.

import { describe, expect, it } from 'vitest';
import { formatIpv6 } from '../../../src/wire/index.js';
import { formatPair } from '../../../src/reap/index.js';
import { Sim, type SimEvent } from './sim.js';

const A1 = '2001:db8:a1::1';
const A2 = '2001:db8:a2::1';
const B1 = '2001:db8:b1::1';
const B2 = '2001:db8:b2::1';
const S = 1000;
const MIN = 60 * S;
const HOUR = 60 * MIN;

function probesOf(events: SimEvent[], purpose?: string): SimEvent[] {
  return events.filter((e) => e.action.type === 'send-probe' && (purpose === undefined || e.action.purpose === purpose));
}

describe('hot standby', () => {
  it('a failure switches at once to the alternate verified in advance: zero exploration delay', () => {
    const sim = new Sim({ seed: 1, delayMs: [20, 20], a: { hotStandby: true }, b: { hotStandby: true } });
    sim.failLocator(60 * S, A1); // A's first uplink dies for good
    sim.run(60 * S);
    // Before the failure: low-rate verification of the standby (A2, B2), every Send Timeout / 2.
    const verify = probesOf(sim.actions('A'), 'verify');
    expect(verify.length).toBeGreaterThanOrEqual(7);
    expect(verify.length).toBeLessThanOrEqual(9);
    for (const e of verify) expect(e.action).toMatchObject({ src: new Uint8Array(sim.A.locs[1]) });
    expect(sim.A.ctx.snapshot().standby).toEqual({ local: sim.A.locs[1], peer: sim.B.locs[1] });
    sim.run(120 * S);
    // Whichever side's Send Timer fires first detects the failure (the other
    // one is told by its Probe); the detecting side switches at that instant,
    // before any exploration probe has been answered.
    const detectors = (['A', 'B'] as const).filter((side) => sim.actions(side, 'path-failed').length > 0);
    expect(detectors.length).toBeGreaterThanOrEqual(1);
    for (const side of detectors) {
      const failed = sim.actions(side, 'path-failed');
      const switched = sim.actions(side, 'switch-pair');
      expect(failed).toHaveLength(1);
      expect(switched[0].action).toMatchObject({ reason: 'hot-standby' });
      expect(switched[0].t).toBe(failed[0].t);
      const firstProbe = probesOf(sim.actions(side)).find((e) => e.t >= failed[0].t);
      expect(firstProbe?.t).toBe(failed[0].t);
    }
    expect(sim.converged()).toEqual({ ok: true, why: '' });
    expect(formatPair(sim.A.dp)).toBe(`${A2} -> ${B2}`);
    expect(formatPair(sim.B.dp)).toBe(`${B2} -> ${A2}`);
    expect(sim.violations).toEqual([]);
  });

  it('without hot standby the same failure needs an exploration round trip first', () => {
    const sim = new Sim({ seed: 1, delayMs: [20, 20] });
    sim.failLocator(60 * S, A1);
    sim.run(120 * S);
    // Whichever side detects it first explores; its peer may move on the
    // probes' reports without ever failing itself.
    const detectors = (['A', 'B'] as const).filter((side) => sim.actions(side, 'path-failed').length > 0);
    expect(detectors.length).toBeGreaterThanOrEqual(1);
    for (const side of detectors) {
      const failed = sim.actions(side, 'path-failed')[0];
      const switched = sim.actions(side, 'switch-pair')[0];
      expect(switched.action).toMatchObject({ reason: 'exploration' });
      expect(switched.t).toBeGreaterThan(failed.t);
    }
    expect(sim.converged().ok).toBe(true);
  });

  it('when no alternate answers, the search for a standby backs off to one probe a minute', () => {
    const sim = new Sim({ seed: 9, a: { hotStandby: true } });
    sim.failLocator(0, A2);
    sim.failLocator(0, B2);
    sim.run(10 * MIN);
    const verify = probesOf(sim.actions('A'), 'verify');
    expect(verify.length).toBeGreaterThan(5);
    expect(verify.length).toBeLessThan(20);
    expect(sim.A.switches).toEqual([]);
    expect(sim.converged().ok).toBe(true);
  });

  it('verification stops when the context goes idle', () => {
    const sim = new Sim({ seed: 2, a: { hotStandby: true }, b: { hotStandby: true } });
    sim.setSending(60 * S, 'A', false);
    sim.setSending(60 * S, 'B', false);
    sim.run(HOUR);
    const late = sim.log.filter((e) => e.t > 60 * S + 31 * S);
    expect(late).toEqual([]);
  });
});

describe('fail-back with hysteresis', () => {
  it('returns to the preferred pair only after it has worked for the hold time', () => {
    const sim = new Sim({ seed: 3, delayMs: [10, 30] });
    sim.failPair(30 * S, A1, B1, 100 * S);
    sim.run(300 * S);
    const sw = sim.A.switches.map((s) => ({ t: s.t, to: formatPair(s.pair), reason: s.reason }));
    expect(sw).toHaveLength(2);
    expect(sw[0].reason).toBe('exploration');
    expect(sw[1]).toMatchObject({ to: `${A1} -> ${B1}`, reason: 'failback' });
    // Verification of the pair we left backs off while it stays dead (7.5, 15,
    // 30, 60 s), so noticing its return takes up to one Max Probe Timeout;
    // then it must be seen working for the 30 s hold.
    expect(sw[1].t).toBeGreaterThanOrEqual(100 * S + 30 * S);
    expect(sw[1].t).toBeLessThanOrEqual(100 * S + 60 * S + 30 * S + 7.5 * S + 1 * S);
    expect(sim.violations).toEqual([]);
    expect(sim.converged().ok).toBe(true);
  });

  /** (A1, B1) down 30–100 s, then 20 s up / 20 s down until 500 s (down phases outlast Send Timeout). */
  function flap(sim: Sim): void {
    sim.failPair(30 * S, A1, B1, 100 * S);
    for (let t = 120 * S; t < 500 * S; t += 40 * S) sim.failPair(t, A1, B1, t + 20 * S);
  }

  it('a flapping preferred path causes no ping-pong; fail-back comes once it is stable', () => {
    const sim = new Sim({ seed: 4, delayMs: [10, 30] });
    flap(sim);
    sim.run(800 * S);
    for (const side of [sim.A, sim.B]) {
      expect(side.switches.map((s) => s.reason)).toEqual(['exploration', 'failback']);
      expect(side.switches[1].t).toBeGreaterThanOrEqual(500 * S + 30 * S);
    }
    expect(sim.violations).toEqual([]);
    expect(sim.converged().ok).toBe(true);
  });

  it('control: with no hold time the same flapping path makes the pair ping-pong', () => {
    const sim = new Sim({ seed: 4, delayMs: [10, 30], a: { failbackHoldMs: 0 }, b: { failbackHoldMs: 0 } });
    flap(sim);
    sim.run(800 * S);
    expect(sim.A.switches.length).toBeGreaterThan(4);
    expect(sim.violations).toEqual([]);
  });
});

describe('long outages', () => {
  it('a three-hour outage: probing backs off to one per minute and keeps going; the path returns, traffic resumes', () => {
    const sim = new Sim({ seed: 5, delayMs: [10, 40], keepLog: true });
    const start = 60 * S;
    const end = start + 3 * HOUR;
    sim.failLocator(start, B1, end);
    sim.failLocator(start, B2, end);
    sim.run(end);
    for (const side of ['A', 'B'] as const) {
      const explore = probesOf(sim.actions(side)).filter((e) => e.t > start).map((e) => e.t);
      const gaps = explore.slice(1).map((t, i) => t - explore[i]);
      // Backed off to Max Probe Timeout, never beyond it, and still probing at the end.
      expect(Math.max(...gaps)).toBeLessThanOrEqual(60 * S + 1);
      expect(gaps.slice(-100).every((g) => g > 59 * S)).toBe(true);
      expect(end - explore[explore.length - 1]).toBeLessThanOrEqual(60 * S);
      // About one probe a minute for three hours, plus the initial burst.
      expect(explore.length).toBeGreaterThan(170);
      expect(explore.length).toBeLessThan(200);
      expect(sim.actions(side, 'gc-hint')).toHaveLength(1);
      expect(sim.side(side).ctx.state).not.toBe('Operational');
    }
    const rx = { a: sim.A.rx, b: sim.B.rx };
    sim.run(end + 90 * S);
    expect(sim.converged()).toEqual({ ok: true, why: '' });
    expect(sim.A.rx).toBeGreaterThan(rx.a);
    expect(sim.B.rx).toBeGreaterThan(rx.b);
    for (const side of ['A', 'B'] as const) expect(sim.actions(side, 'path-recovered').length).toBe(1);
    // Recovered within one Max Probe Timeout (plus a handshake) of the path's return.
    const recovered = Math.max(...sim.actions(undefined, 'path-recovered').map((e) => e.t));
    expect(recovered - end).toBeLessThanOrEqual(62 * S);
    expect(sim.violations).toEqual([]);
  });
});

describe('unidirectional paths (RFC 5534 §3.3)', () => {
  it('A -> B works only via (A1, B1) and B -> A only via (B2, A2): each side ends on its working direction', () => {
    const sim = new Sim({ seed: 6, delayMs: [10, 30] });
    const t = 20 * S;
    sim.failDirection(t, A1, B2);
    sim.failDirection(t, A2, B1);
    sim.failDirection(t, A2, B2);
    sim.failDirection(t, B1, A1);
    sim.failDirection(t, B1, A2);
    sim.failDirection(t, B2, A1);
    sim.run(200 * S);
    expect(sim.converged()).toEqual({ ok: true, why: '' });
    expect(formatPair(sim.A.dp)).toBe(`${A1} -> ${B1}`);
    expect(formatPair(sim.B.dp)).toBe(`${B2} -> ${A2}`);
    expect(sim.violations).toEqual([]);
  });
});

describe('idle contexts', () => {
  it('no traffic either way: not one packet in an hour, hot standby or not', () => {
    for (const hot of [false, true]) {
      const sim = new Sim({ seed: 7, traffic: 'none', a: { hotStandby: hot }, b: { hotStandby: hot } });
      sim.failLocator(10 * MIN, A1);
      sim.run(HOUR);
      expect(sim.log).toEqual([]);
      expect(sim.stats.controlSent).toBe(0);
    }
  });

  it('traffic that stops: one or two keepalives at the transition to idle, then silence (RFC 5534 §9)', () => {
    const sim = new Sim({ seed: 8, traffic: 'a2b' });
    sim.setSending(30 * S, 'A', false);
    sim.run(HOUR);
    const after = sim.log.filter((e) => e.t > 31 * S);
    expect(after.every((e) => e.side === 'B' && e.action.type === 'send-keepalive')).toBe(true);
    expect(after.length).toBeLessThanOrEqual(3);
    expect(after.every((e) => e.t < 50 * S)).toBe(true);
    expect(formatIpv6(sim.B.dp.local)).toBe(B1);
  });
});
