// Prometheus exposition of the agent's counters: format, labels, escaping,
// the --metrics address parser, and the HTTP endpoint.
import { describe, expect, it } from 'vitest';
import { AgentHistograms, Histogram, HISTOGRAMS, parseListen, renderMetrics, serveMetrics, type MetricsSnapshot } from '../../../src/agent/metrics.js';
import { histogramOf, parseExposition } from '../../support/prom.js';

const snap = (over: Partial<MetricsSnapshot> = {}): MetricsSnapshot => ({
  uptimeSeconds: 12,
  contextsByState: { ESTABLISHED: 3, 'I1-SENT': 1 },
  control: { rx: 10, tx: 20, txErrors: 1, icmpParamProblems: 0, triggers: 4 },
  events: { 'no-context': 4, 'tcp-rto': 2 },
  reap: { failures: 2, switches: { exploration: 1, failback: 1 }, probesSent: 9, probesReceived: 7, keepalivesSent: 3 },
  drops: { truncated: 0n, bad_locator: 5n },
  api: { requests: 6, errors: 1, malformed: 0, connections: 2 },
  ...over,
});

describe('renderMetrics', () => {
  const text = renderMetrics(snap());
  it.each([
    ['shim6_contexts{state="ESTABLISHED"} 3'],
    ['shim6_contexts{state="I1-SENT"} 1'],
    ['shim6_control_messages_sent_total 20'],
    ['shim6_dataplane_events_total{type="tcp-rto"} 2'],
    ['shim6_reap_switches_total{reason="failback"} 1'],
    ['shim6_reap_path_failures_total 2'],
    ['shim6_dataplane_drops_total{reason="bad_locator"} 5'],
    ['shim6_api_requests_total 6'],
    ['# TYPE shim6_reap_switches_total counter'],
    ['# TYPE shim6_contexts gauge'],
  ])('has %s', (line) => {
    expect(text.split('\n')).toContain(line);
  });

  it('every sample line belongs to a declared family and ends with a newline', () => {
    const declared = new Set(text.split('\n').filter((l) => l.startsWith('# TYPE ')).map((l) => l.split(' ')[2]));
    for (const l of text.split('\n').filter((x) => x && !x.startsWith('#'))) expect(declared.has(l.split(/[{ ]/)[0])).toBe(true);
    expect(text.endsWith('\n')).toBe(true);
  });

  it('keeps empty families and leaves out the API without a server', () => {
    const t = renderMetrics(snap({ contextsByState: {}, api: null }));
    expect(t).toContain('# TYPE shim6_contexts gauge');
    expect(t).not.toContain('shim6_api_requests_total');
  });

  it('escapes label values', () => {
    const t = renderMetrics(snap({ events: { 'a"b\\c\nd': 1 } }));
    expect(t).toContain('shim6_dataplane_events_total{type="a\\"b\\\\c\\nd"} 1');
  });
});

describe('histograms', () => {
  it('count each observation in the first bucket that holds it, cumulatively', () => {
    const h = new Histogram([0.1, 1, 10]);
    for (const v of [0.05, 0.1, 0.5, 3, 100, NaN]) h.observe(v);
    expect(h.snapshot()).toEqual({ buckets: [[0.1, 2], [1, 3], [10, 4]], sum: 103.65, count: 5 });
    expect(() => new Histogram([1, 1])).toThrow(/ascending/);
    expect(() => new Histogram([])).toThrow(/ascending/);
  });

  it('are exposed in the histogram text format, and a parser accepts them', () => {
    const hs = new AgentHistograms();
    hs.observe('reapFailover', 2.4);
    hs.observe('reapFailover', 0.3);
    hs.observe('reapOutage', 3.1);
    hs.observe('reapProbes', 3);
    hs.observe('contextSetup', 0.004);
    hs.observe('apiRequest', 0.0002);
    const text = renderMetrics(snap({ histograms: hs.snapshot() }));
    const fams = parseExposition(text);
    for (const d of Object.values(HISTOGRAMS)) {
      const f = fams.get(d.name)!;
      expect(f?.type, d.name).toBe('histogram');
      expect(f.help).toBe(d.help);
      const h = histogramOf(f);
      expect(h.buckets.map(([le]) => le)).toEqual([...d.bounds, Infinity]);
    }
    const fo = histogramOf(fams.get('shim6_reap_failover_seconds')!);
    expect(fo.count).toBe(2);
    expect(fo.sum).toBeCloseTo(2.7);
    expect(fo.buckets.find(([le]) => le === 0.5)![1]).toBe(1);
    expect(fo.buckets.find(([le]) => le === 3)![1]).toBe(2);
    expect(text).toContain('shim6_reap_failover_seconds_bucket{le="0.05"} 0');
    expect(text).toContain('shim6_reap_failover_seconds_bucket{le="+Inf"} 2');
    expect(text).toContain('shim6_context_setup_seconds_bucket{le="0.005"} 1');
    expect(histogramOf(fams.get('shim6_api_request_duration_seconds')!).count).toBe(1);
    // Without an API server, no API histogram.
    expect(parseExposition(renderMetrics(snap({ api: null, histograms: hs.snapshot() }))).has('shim6_api_request_duration_seconds')).toBe(false);
  });

  it('the parser refuses what a scraper would', () => {
    expect(() => parseExposition('x 1\n')).toThrow(/no declared family/);
    expect(() => parseExposition('# TYPE h histogram\nh_bucket{le="1"} 2\nh_bucket{le="+Inf"} 1\nh_sum 1\nh_count 1\n')).toThrow(/cumulative/);
    expect(() => parseExposition('# TYPE h histogram\nh_bucket{le="1"} 1\nh_sum 1\nh_count 1\n')).toThrow(/\+Inf/);
  });
});

describe('parseListen', () => {
  it.each([
    ['127.0.0.1:9640', { host: '127.0.0.1', port: 9640 }],
    ['[::1]:9640', { host: '::1', port: 9640 }],
    ['localhost:1', { host: 'localhost', port: 1 }],
  ])('%s', (text, want) => expect(parseListen(text)).toEqual(want));
  it.each(['9640', '::1:9640', '127.0.0.1:0', '127.0.0.1:70000', '[::1]', ''])('refuses %j', (text) => {
    expect(() => parseListen(text)).toThrow(/HOST:PORT/);
  });
});

describe('serveMetrics', () => {
  it('answers GET /metrics with the exposition and anything else with 404', async () => {
    const srv = await serveMetrics({ host: '127.0.0.1', port: 0 }, () => snap());
    const port = (srv.address() as { port: number }).port;
    try {
      const ok = await fetch(`http://127.0.0.1:${port}/metrics`);
      expect(ok.status).toBe(200);
      expect(ok.headers.get('content-type')).toContain('version=0.0.4');
      expect(await ok.text()).toContain('shim6_uptime_seconds 12');
      expect((await fetch(`http://127.0.0.1:${port}/other`)).status).toBe(404);
    } finally {
      srv.close();
    }
  });

  it('a failing snapshot is a 500, not a crash', async () => {
    const srv = await serveMetrics({ host: '127.0.0.1', port: 0 }, () => { throw new Error('maps gone'); });
    const port = (srv.address() as { port: number }).port;
    try {
      const r = await fetch(`http://127.0.0.1:${port}/metrics`);
      expect(r.status).toBe(500);
      expect(await r.text()).toContain('maps gone');
    } finally {
      srv.close();
    }
  });
});
