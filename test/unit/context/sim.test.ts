// Runs the deterministic simulation (sim.ts) over many seeds. A failing seed
// is reported with its number and the tail of its trace; replay it with
//   SHIM6_SIM_SEED=<n> npx vitest run --project unit test/unit/context/sim.test.ts
// SHIM6_SIM_SEEDS sets how many seeds CI runs (default 300).

import { describe, expect, it } from 'vitest';
import { runSimulation, type SimResult, type SimStats } from './sim.js';

const single = process.env.SHIM6_SIM_SEED;
const count = Number(process.env.SHIM6_SIM_SEEDS ?? 300);

function report(r: SimResult): string {
  return [
    `simulation seed ${r.seed} failed (${r.hosts} hosts${r.legacy ? ', one legacy' : ''}, ${r.tagBits}-bit tags):`,
    ...r.violations.slice(0, 10).map((v) => `  - ${v}`),
    `replay: SHIM6_SIM_SEED=${r.seed} npx vitest run --project unit test/unit/context/sim.test.ts`,
    'trace (last events):',
    ...r.trace.map((t) => `  ${t}`),
  ].join('\n');
}

describe('simulation: hosts over a lossy, duplicating, reordering network', () => {
  if (single !== undefined) {
    it(`seed ${single}`, () => {
      const r = runSimulation({ seed: Number(single), traceLength: 5_000 });
      if (r.violations.length > 0) throw new Error(report(r));
      console.log(JSON.stringify({ seed: r.seed, hosts: r.hosts, legacy: r.legacy, tagBits: r.tagBits, stats: r.stats }));
    });
    return;
  }

  it(`${count} seeds: invariants hold throughout, contexts converge or fail cleanly`, () => {
    const total: Partial<Record<keyof SimStats, number>> = {};
    const failures: string[] = [];
    for (let seed = 1; seed <= count; seed++) {
      const r = runSimulation({ seed });
      if (r.violations.length > 0) failures.push(report(r));
      for (const [k, v] of Object.entries(r.stats) as [keyof SimStats, number][]) total[k] = (total[k] ?? 0) + v;
    }
    if (failures.length > 0) throw new Error(`${failures.length} of ${count} seeds failed; first:\n${failures[0]}`);
    // The runs exercise what they are meant to.
    for (const k of ['established', 'i2bisSent', 'confusions', 'failed', 'noSupport', 'updatesAcked', 'forgedRejected', 'crashes', 'dropped', 'duplicated'] as const) {
      expect(total[k], k).toBeGreaterThan(0);
    }
    console.log(`simulation totals over ${count} seeds: ${JSON.stringify(total)}`);
  }, Math.max(60_000, count * 200));

  it('a run is a pure function of its seed', () => {
    const a = runSimulation({ seed: 4242 });
    const b = runSimulation({ seed: 4242 });
    expect(b.trace).toEqual(a.trace);
    expect(b.stats).toEqual(a.stats);
  });
});
