// Two REAP cores over a simulated network: a few hundred seeded scenarios of
// path failures, recoveries, loss and delay.

import { describe, expect, it } from 'vitest';
import { Sim, randomScenario } from './sim.js';

const SEEDS = 300;
/** After the network stops changing: a full Max Probe Timeout cycle and then some. */
const SETTLE_MS = 240_000;

describe('two-peer simulation', () => {
  it(`${SEEDS} seeded scenarios: switches only to verified pairs; both sides converge once a pair works`, () => {
    const bad: string[] = [];
    let switches = 0;
    let explorations = 0;
    for (let seed = 1; seed <= SEEDS; seed++) {
      const sc = randomScenario(seed);
      const sim = new Sim(sc.config);
      sc.apply(sim);
      const end = sc.stableFrom + SETTLE_MS;
      sim.run(end);
      const c = sim.converged();
      const before = { a: sim.A.rx, b: sim.B.rx };
      sim.run(end + 20_000);
      const after = sim.converged();
      const flowsToB = sim.A.sending ? sim.B.rx > before.b : true;
      const flowsToA = sim.B.sending ? sim.A.rx > before.a : true;
      switches += sim.A.switches.length + sim.B.switches.length;
      explorations += sim.A.ctx.state === 'Operational' ? 0 : 1;
      const why = [
        ...sim.violations,
        ...(c.ok ? [] : [`not converged: ${c.why}`]),
        ...(after.ok ? [] : [`not stable: ${after.why}`]),
        ...(flowsToB && flowsToA ? [] : ['payload does not flow']),
      ];
      if (why.length > 0) bad.push(`seed ${seed} [${sc.describe.join('; ')}]: ${why.join(' | ')}`);
    }
    expect(bad).toEqual([]);
    expect(switches).toBeGreaterThan(SEEDS / 2);
    expect(explorations).toBe(0);
  });
});

describe('two-peer simulation with the data plane switching to the staged standby', () => {
  it(`${SEEDS} seeded scenarios, hot standby both sides: the data plane only ever moves to a pair REAP verified; both sides converge`, () => {
    const bad: string[] = [];
    let dataplane = 0;
    for (let seed = 1; seed <= SEEDS; seed++) {
      const sc = randomScenario(seed);
      const sim = new Sim({ ...sc.config, a: { hotStandby: true }, b: { hotStandby: true }, dataplaneStandby: true });
      sc.apply(sim);
      const end = sc.stableFrom + SETTLE_MS;
      sim.run(end);
      // With loss and long delays "TCP" retransmits spuriously now and then,
      // and each retransmission is feedback that starts a short exploration:
      // converged means Operational on working pairs at the end or within
      // the next 5 s (one exploration), not at one instant.
      let c = sim.converged();
      for (let t = end + 100; !c.ok && t <= end + 5000; t += 100) {
        sim.run(t);
        c = sim.converged();
      }
      const before = { a: sim.A.rx, b: sim.B.rx };
      sim.run(end + 20_000);
      const flowsToB = sim.A.sending ? sim.B.rx > before.b : true;
      const flowsToA = sim.B.sending ? sim.A.rx > before.a : true;
      dataplane += sim.stats.dataplaneSwitches;
      const why = [...sim.violations, ...(c.ok ? [] : [`not converged: ${c.why}`]), ...(flowsToB && flowsToA ? [] : ['payload does not flow'])];
      if (why.length > 0) bad.push(`seed ${seed} [${sc.describe.join('; ')}]: ${why.join(' | ')}`);
    }
    expect(bad).toEqual([]);
    // The runs exercise the data-plane switch.
    expect(dataplane).toBeGreaterThan(SEEDS / 4);
  });

  it('a failed pair is left at the first retransmission, long before the Send Timeout, and returned to after it heals', () => {
    const S = 1000;
    const sim = new Sim({ seed: 3, delayMs: [10, 10], payloadEveryMs: 20, a: { hotStandby: true, failbackHoldMs: 5 * S }, b: { hotStandby: true, failbackHoldMs: 5 * S }, dataplaneStandby: true });
    sim.failPair(60 * S, '2001:db8:a1::1', '2001:db8:b1::1', 90 * S);
    sim.run(60 * S);
    expect(sim.A.staged?.pair).toEqual({ local: sim.A.locs[1], peer: sim.B.locs[1] });
    sim.run(200 * S);
    // The first side to retransmit moves by itself; its probes move the other.
    const first = [...sim.A.switches, ...sim.B.switches].filter((w) => w.t >= 60 * S).sort((x, y) => x.t - y.t)[0];
    expect(first.reason).toBe('dataplane-standby');
    expect(first.t - 60 * S).toBeLessThanOrEqual(250 + 20 + 20);
    for (const side of [sim.A, sim.B]) expect(side.switches.find((w) => w.t >= 60 * S)!.t - 60 * S).toBeLessThan(1000);
    // Fail-back once the pair has worked for the hold time, no violation, converged.
    expect(sim.A.switches.some((w) => w.t > 90 * S && w.reason === 'failback')).toBe(true);
    expect(sim.violations).toEqual([]);
    expect(sim.converged()).toEqual({ ok: true, why: '' });
  });
});
