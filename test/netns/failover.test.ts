// REAP between two agents: an echo application sends a message every 10 ms
// over TCP and over UDP between the hosts' HBA ULIDs; path 1 is broken by a
// BPF blackhole on R1, then by taking A's uplink a1 down, and restored each
// time. Traffic moves to path 2 by itself, nothing is reset or lost, and it
// returns to path 1 per the fail-back policy without a second outage.
import fs from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { AgentProcess, Topology } from '../../src/lab/topology.js';
import { sleep, until } from '../../src/lab/wait.js';
import { histogramOf, parseExposition } from '../support/prom.js';
import type { ContextView } from '../../src/agent/agent.js';

const SEND_TIMEOUT = 3000;
const FAILBACK_HOLD = 2000;

let t: Topology;
let A: AgentProcess;
let B: AgentProcess;
let hA: string[];
let hB: string[];



const ctx = (a: AgentProcess): ContextView | undefined => a.ctlJson<ContextView[]>('contexts').find((c) => c.state === 'ESTABLISHED');
const onPath = (c: ContextView | undefined, p: 1 | 2): boolean => !!c && c.lpLocal.startsWith(`2001:db8:${p}:`) && c.lpPeer.startsWith(`2001:db8:${p}:`);
/** A sends from its path-p uplink and B sends to A's path-p locator. */
const aOn = (a: ContextView | undefined, b: ContextView | undefined, p: 1 | 2): boolean =>
  !!a && !!b && a.lpLocal.startsWith(`2001:db8:${p}:`) && b.lpPeer.startsWith(`2001:db8:${p}:`);

interface EchoResult { sent: number; echoed: number; corrupt: number; maxGapMs: number; error: string | null; udp: { sent: number; got: number; maxGapMs: number } }

describe('REAP failover between two agents', () => {
  beforeAll(async () => {
    t = Topology.create();
    const cfg = path.join(t.dir, 'reap.json');
    fs.writeFileSync(cfg, JSON.stringify({ reap: { sendTimeoutMs: SEND_TIMEOUT, failbackHoldMs: FAILBACK_HOLD } }));
    A = t.A.agent({ args: ['--config', cfg, '--metrics', '[::1]:9640'], logLevel: 'info' });
    B = t.B.agent({ args: ['--config', cfg, '--metrics', '[::1]:9640'], logLevel: 'info' });
    await Promise.all([A.ready, B.ready]);
    hA = A.hbaAddresses();
    hB = B.hbaAddresses();
  }, 60_000);
  afterAll(async () => {
    await Promise.all([A?.stop(), B?.stop()]).catch(() => {});
    t?.teardown();
  });

  async function outage(name: string, port: number, breakPath: () => void, repair: () => void, checkSwitched: (a: ContextView, b: ContextView) => void): Promise<{ r: EchoResult; switchedAfterMs: number }> {
    const server = t.B.flow('echo-server', { bind: hB[0], port, 'udp-port': port });
    await server.ready;
    const client = t.A.flow('echo-client', { to: hB[0], port, 'udp-port': port, from: hA[0], 'interval-ms': 10, 'duration-ms': 14_000 });
    await until('context on path 1', () => onPath(ctx(A), 1) && onPath(ctx(B), 1), 10_000);
    await sleep(1000);
    const t0 = Date.now();
    breakPath();
    await until(`${name}: A off path 1`, () => aOn(ctx(A), ctx(B), 2), SEND_TIMEOUT + 5000);
    const switchedAfterMs = Date.now() - t0;
    checkSwitched(ctx(A)!, ctx(B)!);
    await sleep(2000);
    repair();
    // Fail-back after the old pair has answered verification probes for FAILBACK_HOLD.
    await until(`${name}: back on path 1`, () => aOn(ctx(A), ctx(B), 1), FAILBACK_HOLD + SEND_TIMEOUT + 10_000);
    const r = (await client.done) as unknown as EchoResult;
    server.child.kill();
    return { r, switchedAfterMs };
  }

  it('blackhole on R1: moves to path 2 by itself, loses nothing, fails back', async () => {
    const { r, switchedAfterMs } = await outage('blackhole', 7101, () => {
      t.R1.blackhole('r1a');
      t.R1.blackhole('r1b');
    }, () => {
      t.R1.unblackhole('r1a');
      t.R1.unblackhole('r1b');
    }, (a, b) => {
      // REAP found the failure and moved payload after exploring. Either end
      // may detect it first (TCP feedback, Send Timer); the other follows
      // the exploration it sees (RFC 5534 InboundOk).
      expect((a.reap?.failures ?? 0) + (b.reap?.failures ?? 0)).toBeGreaterThanOrEqual(1);
      expect(a.reap?.lastSwitch?.reason).toBe('exploration');
    });
    expect(switchedAfterMs).toBeLessThan(SEND_TIMEOUT + 3000);
    expect(r.error).toBeNull();
    expect(r.corrupt).toBe(0);
    expect(r.echoed).toBe(r.sent);
    // UDP keeps flowing after the switch (a few datagrams die in the outage).
    expect(r.udp.got).toBeGreaterThan(r.udp.sent * 0.5);
    // The application's longest pause: detection + exploration + TCP's own backoff.
    expect(r.maxGapMs).toBeLessThan(SEND_TIMEOUT + 8000);
    console.log(JSON.stringify({ outage: 'blackhole', switchedAfterMs, maxGapMs: r.maxGapMs, udpMaxGapMs: r.udp.maxGapMs }));
    // The operator sees it in Prometheus: a failure, the switch and the fail-back.
    const scrape = (h: typeof t.A): string => h.exec(process.execPath, ['-e', "fetch('http://[::1]:9640/metrics').then((r) => r.text()).then((t) => process.stdout.write(t))"]);
    const [mA, mB] = [scrape(t.A), scrape(t.B)];
    const value = (metrics: string, line: string): number => Number(metrics.split('\n').find((l) => l.startsWith(line + ' '))?.split(' ')[1] ?? NaN);
    // The failure was detected by one end or both; A switched by exploring and failed back.
    expect(value(mA, 'shim6_reap_path_failures_total') + value(mB, 'shim6_reap_path_failures_total')).toBeGreaterThanOrEqual(1);
    expect(value(mA, 'shim6_reap_switches_total{reason="exploration"}')).toBeGreaterThanOrEqual(1);
    expect(value(mA, 'shim6_reap_switches_total{reason="failback"}')).toBeGreaterThanOrEqual(1);
    expect(value(mA, 'shim6_contexts{state="ESTABLISHED"}')).toBe(1);
    // Histograms, on each end: a failover it detected (detection → switch)
    // within the Send Timeout's reach, the probes it took; the setup.
    let failovers = 0;
    for (const metrics of [mA, mB]) {
      const fams = parseExposition(metrics);
      const fo = histogramOf(fams.get('shim6_reap_failover_seconds')!);
      failovers += fo.count;
      if (fo.count > 0) expect(fo.sum / fo.count).toBeLessThan((SEND_TIMEOUT + 3000) / 1000);
      expect(histogramOf(fams.get('shim6_reap_exploration_probes')!).count).toBe(fo.count);
      expect(histogramOf(fams.get('shim6_reap_outage_seconds')!).count).toBeLessThanOrEqual(fo.count);
      expect(histogramOf(fams.get('shim6_context_setup_seconds')!).count).toBeGreaterThanOrEqual(1);
      console.log(JSON.stringify({ histograms: { failoverMeanS: fo.count ? fo.sum / fo.count : null, outage: histogramOf(fams.get('shim6_reap_outage_seconds')!) } }));
    }
    expect(failovers).toBeGreaterThanOrEqual(1);
  }, 60_000);

  it('link down on A: moves to path 2 by itself, loses nothing, fails back after the link returns', async () => {
    const spurious = (): number => t.A.snmp().TcpExtTCPSpuriousRtxHostQueues ?? 0;
    const spurious0 = spurious();
    const routeGet = (): string => t.A.exec('ip', ['-6', 'route', 'get', hB[0], 'from', hA[0], 'mark', '0x5e600000', 'oif', 'a1'], { allowFail: true });
    expect(routeGet()).toContain('dev a1'); // while the link is up
    let deadUplinkRoute = '';
    const { r, switchedAfterMs } = await outage('link down', 7102, () => {
      t.A.ip('link', 'set', 'a1', 'down');
      // A packet the data plane redirects to the dead uplink finds no route
      // (its uplink table ends in unreachable): dropped at once, not queued
      // on the dead device's neighbour entry for the other uplink's gateway.
      deadUplinkRoute = routeGet();
    }, () => {
      // The link returns, and its routes with it (as router advertisements would bring them).
      t.A.uplinkUp('a1');
    }, (_a, b) => {
      // A's address on a1 left its locator list (rtnetlink → Update): B no longer lists it.
      expect(b.lsPeer.map((p) => p.addr)).not.toContain(hA[0]);
    });
    expect(switchedAfterMs).toBeLessThan(SEND_TIMEOUT + 3000);
    expect(r.error).toBeNull();
    expect(r.corrupt).toBe(0);
    expect(r.echoed).toBe(r.sent);
    expect(r.maxGapMs).toBeLessThan(SEND_TIMEOUT + 8000);
    console.log(JSON.stringify({ outage: 'linkdown', switchedAfterMs, maxGapMs: r.maxGapMs, udpMaxGapMs: r.udp.maxGapMs }));
    expect(deadUplinkRoute).toBe('');
    // TCP never had to wait for a segment held in a host queue (the 3 s stall).
    expect(spurious() - spurious0).toBe(0);
  }, 60_000);
});
