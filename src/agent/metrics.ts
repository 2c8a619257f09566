// Prometheus text exposition (format 0.0.4) of the agent's counters, on an
// opt-in local HTTP endpoint (`--metrics 127.0.0.1:9640`). Pure rendering
// here; the agent supplies a snapshot per scrape.
import http from 'node:http';

export interface MetricsSnapshot {
  uptimeSeconds: number;
  contextsByState: Record<string, number>;
  control: { rx: number; tx: number; txErrors: number; icmpParamProblems: number; triggers: number };
  events: Record<string, number>;
  reap: { failures: number; switches: Record<string, number>; probesSent: number; probesReceived: number; keepalivesSent: number };
  drops: Record<string, bigint>;
  api: { requests: number; errors: number; malformed: number; connections: number } | null;
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
