// The address/route scenario against the running kernel, in a fresh network
// namespace (unshare --net, gone when python exits). Needs root, unshare,
// python3 and iproute2; skipped otherwise: route.test.ts checks the same
// things on the recorded fixture without privileges.
//
// NETLINK_CAPTURE=1 also rewrites route-fixtures.ts from this run.

import { execFileSync } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { checkCapture, renderFixture, type Capture } from './route-check.js';
import { scenario, scenarioJson } from './route-scenario.js';

/** Under CI=true a missing tool is a failure, not a skip (scripts/deps.sh installs them). */
const CI = process.env.CI === 'true';

const here = dirname(fileURLToPath(import.meta.url));

function canRun(): boolean {
  if (process.platform !== 'linux' || process.getuid?.() !== 0) return false;
  try {
    execFileSync('unshare', ['--net', 'ip', '-V'], { stdio: 'ignore' });
    execFileSync('python3', ['--version'], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
}

describe.skipIf(!CI && !canRun())('live kernel (root): address and route requests', () => {
  it('every request answered as expected; our routes show exactly like iproute2 ones', () => {
    const steps = scenario();
    const out = execFileSync('unshare', ['--net', 'python3', join(here, 'route_capture.py')], {
      input: scenarioJson(steps),
      encoding: 'utf8',
      stdio: ['pipe', 'pipe', 'pipe'],
      timeout: 30_000,
    });
    const raw = JSON.parse(out) as { kernel: string; iproute2: string; steps: Array<{ name: string; grams: string[]; mon: string[]; out?: string }> };
    const capture: Capture = {
      kernel: raw.kernel,
      iproute2: raw.iproute2,
      steps: raw.steps.map((s, i) => {
        const step = steps[i];
        return { name: s.name, ...('send' in step ? { req: Buffer.from(step.send).toString('hex') } : {}), grams: s.grams, mon: s.mon, ...(s.out !== undefined ? { out: s.out } : {}) };
      }),
    };
    if (process.env.NETLINK_CAPTURE === '1') writeFileSync(join(here, 'route-fixtures.ts'), renderFixture(steps, capture));
    expect(capture.steps).toHaveLength(steps.length);
    checkCapture(steps, capture);
  });
});
