// shim6ctl report: a recorded demo timeline becomes a well-formed SVG with
// the throughput and locator-pair series, REAP's states, the event markers
// and axes; bad files are usage errors; the command writes where it is told.
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { parseTimeline, renderReport, ticks, xmlEscape, type Timeline } from '../../../src/cli/report.js';
import { parseXml, walk, type XmlElement } from '../../support/xml.js';

const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'shim6-report-'));
afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));
const ctl = path.resolve('dist/src/cli/shim6ctl.js');

function timeline(): Timeline {
  const samples = [];
  for (let t = 2000; t <= 14000; t += 250) {
    const p = t > 6800 && t < 12000 ? 2 : 1;
    samples.push({
      t, path: p, pair: { local: `2001:db8:${p}:a::1`, peer: `2001:db8:${p}:b::1` },
      reap: t > 5000 && t < 6800 ? 'Exploring' : 'Operational', mbps: t > 5000 && t < 6800 ? 0 : 800, gapMs: 10,
    });
  }
  return {
    version: 3, sendTimeoutMs: 3000, summary: { ok: true, sent: 900, echoed: 900, longestPauseMs: 1800 },
    events: [
      { t: 100, kind: 'setup', detail: 'agents up' }, { t: 2000, kind: 'context', detail: 'context <A,B> & more' },
      { t: 5000, kind: 'fail', detail: 'path 1 fails' }, { t: 6800, kind: 'switch', detail: 'to path 2' },
      { t: 9000, kind: 'recover', detail: 'back' }, { t: 12000, kind: 'failback', detail: 'to path 1' }, { t: 14000, kind: 'done', detail: 'ok' },
    ],
    samples, pauses: [{ t: 5000, ms: 1800 }],
  };
}

const byId = (root: XmlElement, id: string): XmlElement => {
  const e = [...walk(root)].find((x) => x.attrs.id === id);
  if (!e) throw new Error(`no element #${id}`);
  return e;
};
const points = (e: XmlElement): Array<[number, number]> => e.attrs.points.trim().split(/\s+/).map((p) => p.split(',').map(Number) as [number, number]);

describe('renderReport', () => {
  const svg = renderReport(timeline());
  const root = parseXml(svg);

  it('is one well-formed SVG document', () => {
    expect(root.name).toBe('svg');
    expect(root.attrs.xmlns).toBe('http://www.w3.org/2000/svg');
    expect(Number(root.attrs.width)).toBeGreaterThan(400);
  });

  it('has the throughput series, one point per sample, inside the plot', () => {
    const line = byId(root, 'throughput').children.find((c) => c.attrs['data-series'] === 'throughput')!;
    const pts = points(line);
    expect(pts).toHaveLength(timeline().samples.length);
    const xs = pts.map(([x]) => x);
    expect(xs).toEqual([...xs].sort((a, b) => a - b));
    // The outage is at the bottom (0 Mbit/s): a larger y than the rest.
    const ys = pts.map(([, y]) => y);
    expect(Math.max(...ys)).toBeGreaterThan(Math.min(...ys) + 100);
  });

  it('has the locator pair as a step series between two lanes, labelled with the addresses', () => {
    const g = byId(root, 'locator-pair');
    const pts = points(g.children.find((c) => c.attrs['data-series'] === 'locator-pair')!);
    expect(new Set(pts.map(([, y]) => y)).size).toBe(2);
    const labels = [...walk(g)].map((e) => e.text).join(' ');
    expect(labels).toContain('2001:db8:1:a::1');
    expect(labels).toContain('2001:db8:2:b::1');
  });

  it('marks the failure, the switch, the recovery and the fail-back, in time order', () => {
    const kinds = [...walk(byId(root, 'events'))].filter((e) => e.attrs.class === 'marker').map((e) => e.attrs['data-kind']);
    expect(kinds).toEqual(['context', 'fail', 'switch', 'recover', 'failback']);
    const xs = [...walk(byId(root, 'events'))].filter((e) => e.attrs.class === 'marker').map((e) => Number(e.attrs.x1));
    expect(xs).toEqual([...xs].sort((a, b) => a - b));
    // Details with markup characters survive escaping.
    expect(svg).toContain('context &lt;A,B&gt; &amp; more');
  });

  it('shades the pause, colors REAP\'s states, and labels both axes', () => {
    expect([...walk(byId(root, 'pauses'))].filter((e) => e.attrs.class === 'pause')).toHaveLength(1);
    const states = [...walk(byId(root, 'reap-state'))].filter((e) => e.attrs.class === 'reap').map((e) => e.attrs['data-state']);
    expect(states).toEqual(['Operational', 'Exploring', 'Operational']);
    const text = [...walk(root)].map((e) => e.text).join('\n');
    expect(text).toContain('time since the start (s)');
    expect(text).toContain('throughput (Mbit/s)');
    expect([...walk(byId(root, 'x-axis'))].filter((e) => e.name === 'text').length).toBeGreaterThan(3);
  });
});

describe('parseTimeline, ticks, xmlEscape', () => {
  it('accepts versions 2 and 3 and refuses anything else with the reason', () => {
    expect(parseTimeline({ version: 2, events: [], samples: [{ t: 1, path: 1, mbps: 3 }] }).pauses).toEqual([]);
    expect(() => parseTimeline({ version: 9, events: [], samples: [] })).toThrow(/version 9/);
    expect(() => parseTimeline({ version: 3, events: [], samples: [{ t: 'x' }] })).toThrow(/samples\[0\]/);
    expect(() => parseTimeline([])).toThrow(/JSON object/);
  });

  it('picks 1-2-5 ticks that cover the range', () => {
    expect(ticks(14)).toEqual([0, 2, 4, 6, 8, 10, 12, 14]);
    expect(ticks(850, 5)).toEqual([0, 200, 400, 600, 800, 1000]);
    expect(ticks(0)).toEqual([0]);
    expect(xmlEscape(`<a href="x">&'`)).toBe('&lt;a href=&quot;x&quot;&gt;&amp;&apos;');
  });
});

describe('shim6ctl report', () => {
  it('writes FILE.svg next to FILE.json by default, or to -o; a bad file exits 64', () => {
    const f = path.join(dir, 'run.json');
    fs.writeFileSync(f, JSON.stringify(timeline()));
    const r = spawnSync(process.execPath, [ctl, 'report', f, '--json'], { encoding: 'utf8' });
    expect(r.status, r.stderr).toBe(0);
    expect(JSON.parse(r.stdout)).toMatchObject({ output: path.join(dir, 'run.svg'), samples: timeline().samples.length, pauses: 1 });
    expect(parseXml(fs.readFileSync(path.join(dir, 'run.svg'), 'utf8')).name).toBe('svg');
    const s = spawnSync(process.execPath, [ctl, 'report', f, '-o', '-'], { encoding: 'utf8' });
    expect(s.status).toBe(0);
    expect(parseXml(s.stdout).name).toBe('svg');
    fs.writeFileSync(path.join(dir, 'bad.json'), '{"version":1}');
    const b = spawnSync(process.execPath, [ctl, 'report', path.join(dir, 'bad.json')], { encoding: 'utf8' });
    expect(b.status).toBe(64);
    expect(b.stderr).toMatch(/not a shim6 demo timeline: version 1/);
    expect(spawnSync(process.execPath, [ctl, 'report', path.join(dir, 'none.json')], { encoding: 'utf8' }).status).toBe(66);
  });
});
