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
