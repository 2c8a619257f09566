// `make demo` headless: the recorded timeline shows the agents setting up the
// context, REAP moving the stream to path 2 when path 1 fails, then failing back.
import { describe, expect, it } from 'vitest';
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';

describe('demo', () => {
  it('runs headless and records a timeline that shows the failover', () => {
    const rec = path.join(fs.mkdtempSync(path.join(os.tmpdir(), 'shim6-demo-')), 'timeline.json');
    const r = spawnSync(process.execPath, [path.resolve('dist/src/demo/demo.js'), '--ci', '--record', rec, '--phase-ms', '1000'], { encoding: 'utf8', timeout: 170_000 });
    expect(r.status, r.stdout + r.stderr).toBe(0);
    const tl = JSON.parse(fs.readFileSync(rec, 'utf8'));
    expect(tl.summary).toMatchObject({ ok: true, corrupt: 0, error: null });
    expect(tl.summary.echoed).toBe(tl.summary.sent);
    expect(tl.events.map((e: { kind: string }) => e.kind)).toEqual(['setup', 'stream', 'context', 'fail', 'switch', 'recover', 'failback', 'done']);
    // REAP found the failure by itself: TCP's first RTO (sock_ops feedback) or
    // the Send Timeout (3 s), then one exploration.
    const detect = tl.events.find((e: { kind: string }) => e.kind === 'switch').t - tl.events.find((e: { kind: string }) => e.kind === 'fail').t;
    expect(detect).toBeGreaterThan(150);
    expect(detect).toBeLessThan(6000);
    const at = (k: string) => tl.events.find((e: { kind: string }) => e.kind === k).t;
    const between = tl.samples.filter((s: { t: number }) => s.t > at('switch') + 300 && s.t < at('recover'));
    expect(between.length).toBeGreaterThan(0);
    expect(between.every((s: { path: number }) => s.path === 2)).toBe(true);
    const after = tl.samples.filter((s: { t: number }) => s.t > at('failback') + 300);
    expect(after.every((s: { path: number }) => s.path === 1)).toBe(true);
    // Traffic flowed on path 2 (not just the context record).
    expect(between.some((s: { mbps: number }) => s.mbps > 0)).toBe(true);
  }, 180_000);
});
