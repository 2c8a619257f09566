// `make demo` headless: the recorded timeline shows the agents setting up the
// context, REAP moving the stream to path 2 when path 1 fails, then failing
// back; `shim6ctl report` turns it into an SVG that parses and has the series.
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
    // The story in order (pauses the application saw are events too, where they happen).
    expect(tl.events.map((e: { kind: string }) => e.kind).filter((k: string) => k !== 'pause')).toEqual(['setup', 'stream', 'context', 'fail', 'switch', 'recover', 'failback', 'done']);
    expect(tl.version).toBe(3);
    expect(tl.sendTimeoutMs).toBe(3000);
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
    // Each sample names the locator pair and REAP's state: path 2's pair is in ISP 2's prefixes.
    expect(between.every((s: { pair: { local: string; peer: string } }) => s.pair.local.startsWith('2001:db8:2:') && s.pair.peer.startsWith('2001:db8:2:'))).toBe(true);
    expect(tl.samples.every((s: { reap: unknown }) => typeof s.reap === 'string')).toBe(true);
    // Pauses (echoes later than 250 ms) are recorded where they happen: around
    // the failure, none longer than the summary says. A failover quicker than
    // that leaves none (TCP feedback and hot standby often manage it).
    if (tl.summary.longestPauseMs > 250) {
      expect(tl.pauses.length).toBeGreaterThan(0);
      const longest = Math.max(...tl.pauses.map((p: { ms: number }) => p.ms));
      expect(longest).toBeLessThanOrEqual(tl.summary.longestPauseMs);
      expect(tl.pauses.some((p: { t: number; ms: number }) => p.t + p.ms >= at('fail') && p.t <= at('switch') + 1000)).toBe(true);
    } else {
      expect(tl.pauses).toEqual([]);
    }

    // shim6ctl report: a well-formed SVG (python3's XML parser) with both series, the markers and the pause.
    const svgPath = rec.replace(/\.json$/, '.svg');
    const rep = spawnSync(process.execPath, [path.resolve('dist/src/cli/shim6ctl.js'), 'report', rec, '--json'], { encoding: 'utf8' });
    expect(rep.status, rep.stderr).toBe(0);
    expect(JSON.parse(rep.stdout).output).toBe(svgPath);
    const py = `import sys, json, xml.etree.ElementTree as E
ns = {"s": "http://www.w3.org/2000/svg"}
r = E.parse(sys.argv[1]).getroot()
g = {e.get("id"): e for e in r.iter() if e.get("id")}
print(json.dumps({
  "root": r.tag,
  "series": [e.get("data-series") for e in r.iter() if e.get("data-series")],
  "throughputPoints": len(g["throughput"].find("s:polyline", ns).get("points").split()),
  "markers": [e.get("data-kind") for e in g["events"].iter() if e.get("class") == "marker"],
  "pauses": len([e for e in g["pauses"].iter() if e.get("class") == "pause"]),
  "reap": sorted({e.get("data-state") for e in g["reap-state"].iter() if e.get("class") == "reap"}),
  "axes": [t.text for t in g["x-axis"].iter("{http://www.w3.org/2000/svg}text")][-1],
}))`;
    const parsed = spawnSync('python3', ['-c', py, svgPath], { encoding: 'utf8' });
    expect(parsed.status, parsed.stderr).toBe(0);
    const svg = JSON.parse(parsed.stdout);
    expect(svg.root).toBe('{http://www.w3.org/2000/svg}svg');
    expect(svg.series).toEqual(['throughput', 'locator-pair']);
    expect(svg.throughputPoints).toBe(tl.samples.length);
    expect(svg.markers).toEqual(['context', 'fail', 'switch', 'recover', 'failback']);
    expect(svg.pauses).toBe(tl.pauses.length);
    expect(svg.reap).toContain('Operational');
    expect(svg.axes).toBe('time since the start (s)');
  }, 180_000);
});
