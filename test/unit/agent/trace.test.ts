// SHIM6_TRACE_DIR: critical-path stamps written at stop, nothing without it.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterEach, describe, expect, it, vi } from 'vitest';

describe('agent trace (SHIM6_TRACE_DIR)', () => {
  afterEach(() => {
    vi.unstubAllEnvs();
    vi.resetModules();
  });

  it('records labels with increasing time and CPU, and writes them to DIR/trace-<pid>.json', async () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'shim6-trace-'));
    try {
      vi.stubEnv('SHIM6_TRACE_DIR', dir);
      vi.resetModules();
      const t = await import('../../../src/agent/trace.js');
      expect(t.tracing).toBe(true);
      t.traceAt('pkt', 1.5);
      t.trace('a');
      for (let x = 0, i = 0; i < 1e5; i++) x += i; // some time and CPU between the stamps
      t.trace('b');
      t.traceFlush();
      const got = JSON.parse(fs.readFileSync(path.join(dir, `trace-${process.pid}.json`), 'utf8'));
      expect(got.labels).toEqual(['pkt', 'a', 'b']);
      expect(got.stamps[0]).toBe(1.5);
      expect(got.stamps[2]).toBeGreaterThanOrEqual(got.stamps[1]);
      expect(got.cpu[0]).toBeNull(); // NaN in JSON: not measured
      expect(got.cpu[2]).toBeGreaterThanOrEqual(got.cpu[1]);
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });

  it('is off without the variable', async () => {
    vi.stubEnv('SHIM6_TRACE_DIR', '');
    vi.resetModules();
    const t = await import('../../../src/agent/trace.js');
    expect(t.tracing).toBe(false);
    t.trace('a');
    t.traceFlush(); // nowhere to write: a no-op
  });
});
