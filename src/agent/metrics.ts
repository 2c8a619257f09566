// Prometheus text exposition (format 0.0.4) of the agent's counters, on an
// opt-in local HTTP endpoint (`--metrics 127.0.0.1:9640`). Pure rendering
// here; the agent supplies a snapshot per scrape.
import http from 'node:http';

// ---------------------------------------------------------------- histograms

export interface HistogramSnapshot {
  /** Cumulative counts per upper bound (ascending); +Inf is `count`. */
  buckets: Array<[le: number, cumulative: number]>;
  sum: number;
  count: number;
}

/** A Prometheus histogram: fixed upper bounds, observations counted in the first bucket that holds them. */
export class Histogram {
  readonly #counts: number[];
  #sum = 0;
  #count = 0;

  constructor(readonly bounds: readonly number[]) {
    if (bounds.length === 0 || bounds.some((b, i) => !Number.isFinite(b) || (i > 0 && b <= bounds[i - 1]))) {
      throw new RangeError('histogram bounds must be finite and strictly ascending');
    }
    this.#counts = bounds.map(() => 0);
  }

  observe(v: number): void {
    if (!Number.isFinite(v)) return;
    const i = this.bounds.findIndex((b) => v <= b);
    if (i >= 0) this.#counts[i]++;
    this.#sum += v;
    this.#count++;
  }

  snapshot(): HistogramSnapshot {
    let acc = 0;
    return { buckets: this.bounds.map((b, i) => [b, (acc += this.#counts[i])]), sum: this.#sum, count: this.#count };
  }
}

const SECONDS_FAILOVER = [0.05, 0.1, 0.25, 0.5, 1, 2, 3, 5, 10, 20, 30, 60, 120];

/** The agent's histograms: name, help and bounds, defined once. */
export const HISTOGRAMS = {
  reapFailover: {
    name: 'shim6_reap_failover_seconds', bounds: SECONDS_FAILOVER,
    help: 'REAP: from detecting a path failure (Send Timeout, feedback, locator lost) to the switch to a working pair.',
  },
  reapOutage: {
    name: 'shim6_reap_outage_seconds', bounds: SECONDS_FAILOVER,
    help: 'REAP: from the last payload received on the failed pair to the switch (the pause applications saw, at least).',
  },
  reapProbes: {
    name: 'shim6_reap_exploration_probes', bounds: [1, 2, 3, 4, 6, 8, 12, 16, 32, 64],
    help: 'REAP: probes sent per exploration, from the failure to the switch.',
  },
  contextSetup: {
    name: 'shim6_context_setup_seconds', bounds: [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30],
    help: 'Context establishment: from the first packet of a ULID pair (or the I1/I2 received) to ESTABLISHED.',
  },
  apiRequest: {
    name: 'shim6_api_request_duration_seconds', bounds: [0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 1],
    help: 'RFC 6316 API requests: from the message to the answer sent.',
  },
} as const;

export type HistogramName = keyof typeof HISTOGRAMS;

export class AgentHistograms {
  readonly #h = Object.fromEntries(Object.entries(HISTOGRAMS).map(([k, d]) => [k, new Histogram(d.bounds)])) as Record<HistogramName, Histogram>;

  observe(name: HistogramName, v: number): void {
    this.#h[name].observe(v);
  }

  snapshot(): Record<HistogramName, HistogramSnapshot> {
    return Object.fromEntries(Object.entries(this.#h).map(([k, h]) => [k, h.snapshot()])) as Record<HistogramName, HistogramSnapshot>;
  }
}

/** Go's strconv 'g'-like text for a bound: 0.005, 1, 120 (never 1e-3). */
function leText(v: number): string {
  return String(Number(v.toPrecision(12)));
}

function histogramFamily(out: string[], name: string, help: string, h: HistogramSnapshot): void {
  out.push(`# HELP ${name} ${help}`, `# TYPE ${name} histogram`);
  for (const [le, n] of h.buckets) out.push(`${name}_bucket{le="${leText(le)}"} ${n}`);
  out.push(`${name}_bucket{le="+Inf"} ${h.count}`, `${name}_sum ${Number(h.sum.toPrecision(12))}`, `${name}_count ${h.count}`);
}

export interface MetricsSnapshot {
  uptimeSeconds: number;
  contextsByState: Record<string, number>;
  control: { rx: number; tx: number; txErrors: number; icmpParamProblems: number; triggers: number };
  events: Record<string, number>;
  reap: { failures: number; switches: Record<string, number>; probesSent: number; probesReceived: number; keepalivesSent: number };
  drops: Record<string, bigint>;
  api: { requests: number; errors: number; malformed: number; connections: number } | null;
  /** Histograms (the API's only with an API server). */
  histograms?: Record<HistogramName, HistogramSnapshot>;
}

type Sample = [labels: Record<string, string>, value: number | bigint];

function escapeLabel(v: string): string {
  return v.replace(/\\/g, '\\\\').replace(/"/g, '\\"').replace(/\n/g, '\\n');
}

function family(out: string[], name: string, type: 'counter' | 'gauge', help: string, samples: Sample[]): void {
  out.push(`# HELP ${name} ${help}`, `# TYPE ${name} ${type}`);
  for (const [labels, v] of samples) {
    const l = Object.entries(labels).map(([k, x]) => `${k}="${escapeLabel(x)}"`).join(',');
    out.push(`${name}${l ? `{${l}}` : ''} ${v.toString()}`);
  }
}

/** Render one scrape. Every family is present even when empty, so dashboards see a stable set. */
export function renderMetrics(m: MetricsSnapshot): string {
  const out: string[] = [];
  family(out, 'shim6_uptime_seconds', 'gauge', 'Seconds since the agent started.', [[{}, m.uptimeSeconds]]);
  family(out, 'shim6_contexts', 'gauge', 'Shim6 contexts by state (RFC 5533).',
    Object.entries(m.contextsByState).map(([state, n]) => [{ state }, n]));
  family(out, 'shim6_control_messages_received_total', 'counter', 'Shim6 control messages received.', [[{}, m.control.rx]]);
  family(out, 'shim6_control_messages_sent_total', 'counter', 'Shim6 control messages sent (incl. REAP probes and keepalives).', [[{}, m.control.tx]]);
  family(out, 'shim6_control_send_errors_total', 'counter', 'Control messages the kernel refused to send.', [[{}, m.control.txErrors]]);
  family(out, 'shim6_icmp_parameter_problems_total', 'counter', 'ICMPv6 Parameter Problems received.', [[{}, m.control.icmpParamProblems]]);
  family(out, 'shim6_triggers_total', 'counter', 'First packets of a ULID pair with no context.', [[{}, m.control.triggers]]);
  family(out, 'shim6_dataplane_events_total', 'counter', 'Ring-buffer events from the data plane, by type.',
    Object.entries(m.events).map(([type, n]) => [{ type }, n]));
  family(out, 'shim6_reap_path_failures_total', 'counter', 'REAP path failures detected (Send Timeout, feedback, locator lost).', [[{}, m.reap.failures]]);
  family(out, 'shim6_reap_switches_total', 'counter', 'Locator pair switches by REAP, by reason.',
    Object.entries(m.reap.switches).map(([reason, n]) => [{ reason }, n]));
  family(out, 'shim6_reap_probes_sent_total', 'counter', 'REAP probes sent.', [[{}, m.reap.probesSent]]);
  family(out, 'shim6_reap_probes_received_total', 'counter', 'REAP probes received.', [[{}, m.reap.probesReceived]]);
  family(out, 'shim6_reap_keepalives_sent_total', 'counter', 'REAP keepalives sent.', [[{}, m.reap.keepalivesSent]]);
  family(out, 'shim6_dataplane_drops_total', 'counter', 'Packets the data plane dropped, by reason.',
    Object.entries(m.drops).map(([reason, n]) => [{ reason }, n]));
  if (m.api) {
    family(out, 'shim6_api_requests_total', 'counter', 'RFC 6316 API requests.', [[{}, m.api.requests]]);
    family(out, 'shim6_api_errors_total', 'counter', 'RFC 6316 API requests answered with an errno.', [[{}, m.api.errors]]);
    family(out, 'shim6_api_malformed_total', 'counter', 'Malformed RFC 6316 API frames.', [[{}, m.api.malformed]]);
  }
  if (m.histograms) {
    for (const [k, d] of Object.entries(HISTOGRAMS) as Array<[HistogramName, (typeof HISTOGRAMS)[HistogramName]]>) {
      if (k === 'apiRequest' && !m.api) continue;
      histogramFamily(out, d.name, d.help, m.histograms[k]);
    }
  }
  return out.join('\n') + '\n';
}

/** Parse `HOST:PORT` / `[V6]:PORT` for --metrics. Local addresses only is the operator's choice. */
export function parseListen(text: string): { host: string; port: number } {
  const m = /^(?:\[([0-9a-fA-F:.]+)\]|([^:]+)):(\d{1,5})$/.exec(text);
  const port = m ? Number(m[3]) : NaN;
  if (!m || port < 1 || port > 65535) throw new Error(`'${text}' is not HOST:PORT (e.g. 127.0.0.1:9640 or [::1]:9640)`);
  return { host: m[1] ?? m[2], port };
}

/** Serve GET /metrics; anything else is 404. */
export function serveMetrics(listen: { host: string; port: number }, snapshot: () => MetricsSnapshot): Promise<http.Server> {
  const srv = http.createServer((req, res) => {
    if (req.method !== 'GET' || (req.url ?? '').split('?')[0] !== '/metrics') {
      res.writeHead(404, { 'content-type': 'text/plain' }).end('not found: GET /metrics\n');
      return;
    }
    let body: string;
    try {
      body = renderMetrics(snapshot());
    } catch (err) {
      res.writeHead(500, { 'content-type': 'text/plain' }).end(`${(err as Error).message}\n`);
      return;
    }
    res.writeHead(200, { 'content-type': 'text/plain; version=0.0.4' }).end(body);
  });
  return new Promise((resolve, reject) => {
    srv.once('error', reject);
    srv.listen(listen.port, listen.host, () => {
      srv.off('error', reject);
      resolve(srv);
    });
  });
}
