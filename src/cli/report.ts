// shim6ctl report FILE: the timeline `make demo ARGS='--record FILE'` wrote,
// drawn as one SVG a person can look at: throughput over time with the
// application's pauses shaded, the locator pair in use (path 1 or path 2,
// with its addresses), REAP's state, and markers for the failure, the
// switch, the recovery and the fail-back. Pure: timeline in, SVG text out.
import { Shim6Error } from '../errors.js';

export interface TimelineSample {
  t: number;              // ms since the start
  path: number;           // 1 or 2
  mbps: number;
  gapMs?: number;
  pair?: { local: string; peer: string };
  reap?: string;
}

export interface TimelineEvent { t: number; kind: string; detail: string }
export interface TimelinePause { t: number; ms: number }

export interface Timeline {
  version: number;
  startedAt?: string;
  sendTimeoutMs?: number;
  summary?: { ok?: boolean; sent?: number; echoed?: number; longestPauseMs?: number };
  paths?: Record<string, string>;
  events: TimelineEvent[];
  samples: TimelineSample[];
  pauses: TimelinePause[];
}

const num = (v: unknown): v is number => typeof v === 'number' && Number.isFinite(v);

/** Validate a parsed timeline file (versions 2 and 3 of the demo's --record). */
export function parseTimeline(v: unknown, file = 'timeline'): Timeline {
  const bad = (why: string): never => {
    throw new Shim6Error('SHIM6_ERR_USAGE', `${file}: not a shim6 demo timeline: ${why}`);
  };
  if (v === null || typeof v !== 'object' || Array.isArray(v)) bad('expected a JSON object');
  const o = v as Record<string, unknown>;
  if (o.version !== 2 && o.version !== 3) bad(`version ${String(o.version)} (this shim6ctl reads 2 and 3)`);
  if (!Array.isArray(o.samples)) bad('"samples" must be a list');
  if (!Array.isArray(o.events)) bad('"events" must be a list');
  const samples = (o.samples as unknown[]).map((x, i): TimelineSample => {
    const s = x as Record<string, unknown>;
    if (!s || !num(s.t) || !num(s.path) || !num(s.mbps)) bad(`samples[${i}] needs numbers t, path and mbps`);
    const out: TimelineSample = { t: s.t as number, path: s.path as number, mbps: s.mbps as number };
    if (num(s.gapMs)) out.gapMs = s.gapMs;
    const p = s.pair as Record<string, unknown> | undefined;
    if (p && typeof p.local === 'string' && typeof p.peer === 'string') out.pair = { local: p.local, peer: p.peer };
    if (typeof s.reap === 'string') out.reap = s.reap;
    return out;
  });
  const events = (o.events as unknown[]).map((x, i): TimelineEvent => {
    const e = x as Record<string, unknown>;
    if (!e || !num(e.t) || typeof e.kind !== 'string') bad(`events[${i}] needs t and kind`);
    return { t: e.t as number, kind: e.kind as string, detail: typeof e.detail === 'string' ? e.detail : '' };
  });
  const pauses = (Array.isArray(o.pauses) ? o.pauses as unknown[] : []).map((x, i): TimelinePause => {
    const p = x as Record<string, unknown>;
    if (!p || !num(p.t) || !num(p.ms)) bad(`pauses[${i}] needs t and ms`);
    return { t: p.t as number, ms: p.ms as number };
  });
  const out: Timeline = { version: o.version as number, events, samples, pauses };
  if (typeof o.startedAt === 'string') out.startedAt = o.startedAt;
  if (num(o.sendTimeoutMs)) out.sendTimeoutMs = o.sendTimeoutMs;
  if (o.summary && typeof o.summary === 'object') out.summary = o.summary as Timeline['summary'];
  if (o.paths && typeof o.paths === 'object') out.paths = o.paths as Record<string, string>;
  return out;
}

export function xmlEscape(s: string): string {
  return s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;').replace(/'/g, '&apos;');
}

/** Tick positions covering [0, max] (the last one ≥ max): a 1-2-5 step giving at most `target` intervals. */
export function ticks(max: number, target = 8): number[] {
  if (!(max > 0)) return [0];
  const raw = max / target;
  const p = 10 ** Math.floor(Math.log10(raw));
  const step = [1, 2, 5, 10].map((m) => m * p).find((s) => s >= raw) ?? 10 * p;
  const out: number[] = [];
  for (let i = 0; ; i++) {
    const v = Number((i * step).toPrecision(12));
    out.push(v);
    if (v >= max * (1 - 1e-9)) return out;
  }
}

const EVENT_STYLE: Record<string, { color: string; label: string }> = {
  fail: { color: '#d62728', label: 'path 1 fails' },
  switch: { color: '#ff7f0e', label: 'REAP switch' },
  recover: { color: '#2ca02c', label: 'path 1 back' },
  failback: { color: '#1f77b4', label: 'fail-back' },
  context: { color: '#7f7f7f', label: 'context up' },
};

const REAP_COLOR: Record<string, string> = {
  Operational: '#c7e9c0', Exploring: '#fdae6b', InboundOk: '#fdd0a2',
};

const PATH_COLOR: Record<number, string> = { 1: '#1f77b4', 2: '#9467bd' };

/** Render the timeline as a self-contained SVG document. */
export function renderReport(tl: Timeline, opts: { title?: string } = {}): string {
  const W = 1000, H = 600;
  const L = 80, R = 200, plotW = W - L - R;
  const tp = { top: 100, h: 220 };         // throughput panel
  const pp = { top: 370, h: 90 };          // locator pair panel
  const rp = { top: 480, h: 22 };          // REAP state strip
  const axisY = rp.top + rp.h + 8;
  const tEnd = Math.max(1, ...tl.samples.map((s) => s.t), ...tl.events.map((e) => e.t), ...tl.pauses.map((p) => p.t + p.ms));
  const xt = ticks(tEnd / 1000, 10);
  const xmax = xt.at(-1)! * 1000;
  const x = (t: number): number => L + (t / xmax) * plotW;
  const ymaxData = Math.max(1, ...tl.samples.map((s) => s.mbps));
  const yt = ticks(ymaxData, 5);
  const ymax = yt.at(-1)!;
  const y = (v: number): number => tp.top + tp.h - (v / ymax) * tp.h;
  const laneY = (path: number): number => pp.top + (path === 1 ? 0.25 : 0.75) * pp.h;
  const f = (v: number): string => (Math.round(v * 10) / 10).toString();
  const out: string[] = [];
  const title = opts.title ?? 'shim6: a TCP stream survives the death of its path';
  const s = tl.summary ?? {};
  const sub = [
    s.echoed !== undefined && s.sent !== undefined ? `${s.echoed}/${s.sent} echoes` : null,
    s.longestPauseMs !== undefined ? `longest pause ${s.longestPauseMs} ms` : null,
    tl.sendTimeoutMs !== undefined ? `REAP Send Timeout ${tl.sendTimeoutMs} ms` : null,
    s.ok === undefined ? null : s.ok ? 'connection survived' : 'FAILED',
    tl.startedAt ? `recorded ${tl.startedAt}` : null,
  ].filter(Boolean).join(' · ');

  out.push(`<?xml version="1.0" encoding="UTF-8"?>`);
  out.push(`<svg xmlns="http://www.w3.org/2000/svg" width="${W}" height="${H}" viewBox="0 0 ${W} ${H}" font-family="sans-serif" font-size="12">`);
  out.push(`<title>${xmlEscape(title)}</title>`);
  out.push(`<rect x="0" y="0" width="${W}" height="${H}" fill="#ffffff"/>`);
  out.push(`<text x="${L}" y="28" font-size="18" font-weight="bold">${xmlEscape(title)}</text>`);
  out.push(`<text x="${L}" y="48" fill="#555555">${xmlEscape(sub)}</text>`);

  // Grid and y axis of the throughput panel.
  out.push(`<g id="y-axis">`);
  for (const v of yt) {
    out.push(`<line x1="${L}" y1="${f(y(v))}" x2="${L + plotW}" y2="${f(y(v))}" stroke="#eeeeee"/>`);
    out.push(`<text x="${L - 6}" y="${f(y(v) + 4)}" text-anchor="end">${v}</text>`);
  }
  out.push(`<line x1="${L}" y1="${tp.top}" x2="${L}" y2="${tp.top + tp.h}" stroke="#000000"/>`);
  out.push(`<text x="20" y="${tp.top + tp.h / 2}" transform="rotate(-90 20 ${tp.top + tp.h / 2})" text-anchor="middle">throughput (Mbit/s)</text>`);
  out.push(`</g>`);

  // Pauses the application saw (shaded), under the series.
  out.push(`<g id="pauses">`);
  for (const p of tl.pauses) {
    out.push(`<rect class="pause" x="${f(x(p.t))}" y="${tp.top}" width="${f(Math.max(1, x(p.t + p.ms) - x(p.t)))}" height="${tp.h}" fill="#d62728" fill-opacity="0.15"><title>pause ${p.ms} ms</title></rect>`);
    out.push(`<text x="${f(x(p.t) + 3)}" y="${tp.top + 14}" fill="#d62728">pause ${p.ms} ms</text>`);
  }
  out.push(`</g>`);

  // Throughput: one polyline, colored per path segment.
  out.push(`<g id="throughput">`);
  const pts = tl.samples.map((sm) => `${f(x(sm.t))},${f(y(sm.mbps))}`).join(' ');
  out.push(`<polyline class="series" data-series="throughput" fill="none" stroke="#333333" stroke-width="1.5" points="${pts}"/>`);
  for (const sm of tl.samples) out.push(`<circle cx="${f(x(sm.t))}" cy="${f(y(sm.mbps))}" r="2" fill="${PATH_COLOR[sm.path] ?? '#333333'}"/>`);
  out.push(`</g>`);

  // Locator pair: two lanes, a step line between them.
  out.push(`<g id="locator-pair">`);
  out.push(`<text x="20" y="${pp.top + pp.h / 2}" transform="rotate(-90 20 ${pp.top + pp.h / 2})" text-anchor="middle">locator pair</text>`);
  for (const path of [1, 2]) {
    const first = tl.samples.find((sm) => sm.path === path && sm.pair);
    const name = tl.paths?.[String(path)] ?? `path ${path}`;
    out.push(`<line x1="${L}" y1="${f(laneY(path))}" x2="${L + plotW}" y2="${f(laneY(path))}" stroke="#dddddd" stroke-dasharray="2,3"/>`);
    out.push(`<text x="${L - 6}" y="${f(laneY(path) + 4)}" text-anchor="end" fill="${PATH_COLOR[path]}">path ${path}</text>`);
    out.push(`<text class="lane-label" x="${L + plotW + 8}" y="${f(laneY(path) - 4)}" fill="${PATH_COLOR[path]}">${xmlEscape(name)}</text>`);
    if (first?.pair) out.push(`<text class="lane-label" x="${L + plotW + 8}" y="${f(laneY(path) + 10)}" font-size="9" fill="#555555">${xmlEscape(`${first.pair.local} →`)}</text>`,
      `<text class="lane-label" x="${L + plotW + 8}" y="${f(laneY(path) + 21)}" font-size="9" fill="#555555">${xmlEscape(first.pair.peer)}</text>`);
  }
  const step: string[] = [];
  tl.samples.forEach((sm, i) => {
    if (i > 0) step.push(`${f(x(sm.t))},${f(laneY(tl.samples[i - 1].path))}`);
    step.push(`${f(x(sm.t))},${f(laneY(sm.path))}`);
  });
  out.push(`<polyline class="series" data-series="locator-pair" fill="none" stroke="#000000" stroke-width="3" points="${step.join(' ')}"/>`);
  out.push(`</g>`);

  // REAP state strip.
  out.push(`<g id="reap-state">`);
  out.push(`<text x="${L - 6}" y="${rp.top + 15}" text-anchor="end">REAP</text>`);
  const runs: Array<{ from: number; to: number; state: string }> = [];
  for (const sm of tl.samples) {
    const st = sm.reap ?? 'unknown';
    const last = runs.at(-1);
    if (last && last.state === st) last.to = sm.t;
    else {
      if (last) last.to = sm.t;
      runs.push({ from: sm.t, to: sm.t, state: st });
    }
  }
  for (const r of runs) {
    const w = Math.max(1, x(r.to) - x(r.from));
    out.push(`<rect class="reap" data-state="${xmlEscape(r.state)}" x="${f(x(r.from))}" y="${rp.top}" width="${f(w)}" height="${rp.h}" fill="${REAP_COLOR[r.state] ?? '#eeeeee'}"><title>${xmlEscape(r.state)}</title></rect>`);
    if (w > 60) out.push(`<text x="${f(x(r.from) + 4)}" y="${rp.top + 15}" font-size="10">${xmlEscape(r.state)}</text>`);
  }
  out.push(`</g>`);

  // Time axis.
  out.push(`<g id="x-axis">`);
  out.push(`<line x1="${L}" y1="${axisY}" x2="${L + plotW}" y2="${axisY}" stroke="#000000"/>`);
  for (const v of xt) {
    out.push(`<line x1="${f(x(v * 1000))}" y1="${axisY}" x2="${f(x(v * 1000))}" y2="${axisY + 5}" stroke="#000000"/>`);
    out.push(`<text x="${f(x(v * 1000))}" y="${axisY + 18}" text-anchor="middle">${v}</text>`);
  }
  out.push(`<text x="${L + plotW / 2}" y="${axisY + 38}" text-anchor="middle">time since the start (s)</text>`);
  out.push(`</g>`);

  // Event markers across every panel.
  out.push(`<g id="events">`);
  // Labels on the first of three rows above the plot where they overlap no other (≈ 6.5 px a character).
  const rows: Array<Array<[number, number]>> = [[], [], []];
  for (const e of [...tl.events].sort((p, q) => p.t - q.t)) {
    const st = EVENT_STYLE[e.kind];
    if (!st) continue;
    const ex = f(x(e.t));
    const half = (st.label.length * 6.5) / 2 + 4;
    const span: [number, number] = [x(e.t) - half, x(e.t) + half];
    let row = rows.findIndex((r) => r.every(([a, b]) => span[1] < a || span[0] > b));
    if (row < 0) row = rows.length - 1;
    rows[row].push(span);
    const ly = tp.top - 8 - row * 14;
    out.push(`<line class="marker" data-kind="${xmlEscape(e.kind)}" x1="${ex}" y1="${ly + 4}" x2="${ex}" y2="${rp.top + rp.h}" stroke="${st.color}" stroke-width="1.5" stroke-dasharray="5,3"><title>${xmlEscape(`${(e.t / 1000).toFixed(1)} s: ${e.detail}`)}</title></line>`);
    out.push(`<text x="${ex}" y="${ly}" text-anchor="middle" fill="${st.color}">${xmlEscape(st.label)}</text>`);
  }
  out.push(`</g>`);

  // Legend.
  const lx = L + plotW + 8;
  out.push(`<g id="legend">`);
  let ly = tp.top;
  const item = (sw: string, text: string): void => {
    out.push(sw.replace(/\{x\}/g, String(lx)).replace(/\{y\}/g, String(ly)), `<text x="${lx + 22}" y="${ly + 4}">${xmlEscape(text)}</text>`);
    ly += 18;
  };
  item(`<line x1="{x}" y1="{y}" x2="${lx + 16}" y2="{y}" stroke="#333333" stroke-width="1.5"/>`, 'throughput A → B');
  for (const p of [1, 2]) item(`<circle cx="${lx + 8}" cy="{y}" r="3" fill="${PATH_COLOR[p]}"/>`, `sample on path ${p}`);
  item(`<rect x="{x}" y="${ly - 6}" width="16" height="12" fill="#d62728" fill-opacity="0.15"/>`, 'application pause');
  for (const [kind, st] of Object.entries(EVENT_STYLE)) {
    if (!tl.events.some((e) => e.kind === kind)) continue;
    item(`<line x1="{x}" y1="{y}" x2="${lx + 16}" y2="{y}" stroke="${st.color}" stroke-width="1.5" stroke-dasharray="5,3"/>`, st.label);
  }
  out.push(`</g>`);
  out.push(`</svg>`);
  return out.join('\n') + '\n';
}
