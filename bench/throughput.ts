// make bench-throughput: TCP bulk (iperf3) between the ULIDs of A and B in
// the namespace topology: without programs, with programs and the context on
// the ULIDs, and with the context failed over to path 2 (payload header on
// every packet). Interleaved rounds, medians; JSON on the last line.
// The programs run with tc ingress only (xdp off) and with shim6_xdp on the
// uplinks (SHIM6_BENCH_XDP, default native): keys ulid_*/shimmed_* are the
// loader's default (SHIM6_XDP, else off), *_xdp_* the XDP figures.
import { Topology, ADDR } from '../src/lab/topology.js';
import { DEFAULT_XDP } from '../src/dataplane/loader.js';

const ROUNDS = Number(process.env.SHIM6_BENCH_ROUNDS ?? 3);
const SECS = Number(process.env.SHIM6_BENCH_SECS ?? 3);
const GSO = (process.env.SHIM6_GSO ?? 'segment') as 'segment' | 'head';
const XDP = (process.env.SHIM6_BENCH_XDP ?? 'native') as 'native' | 'generic';

async function iperf(t: Topology): Promise<number> {
  const srv = t.B.spawn('iperf3', ['-s', '-1', '-B', ADDR.B1]);
  await new Promise((r) => setTimeout(r, 300));
  try {
    const out = t.A.exec('iperf3', ['-c', ADDR.B1, '-B', ADDR.A1, '-t', String(SECS), '-J']);
    return JSON.parse(out).end.sum_received.bits_per_second / 1e9;
  } finally {
    srv.kill();
  }
}

const median = (xs: number[]) => { const s = [...xs].sort((a, b) => a - b); return s[Math.floor(s.length / 2)]; };

const t = Topology.create();
try {
  const res = { baseline: [] as number[], segmented: [] as number[], ulid: [] as number[], shimmed: [] as number[], ulid_xdp: [] as number[], shimmed_xdp: [] as number[] };
  const down = () => { t.A.ctl('dataplane', 'down'); t.B.ctl('dataplane', 'down'); };
  for (let r = 0; r < ROUNDS; r++) {
    res.baseline.push(await iperf(t));
    // No programs, but A's uplink segments in software: MSS-sized packets on
    // the wire, as with any payload header. The ceiling for a failed-over
    // context in this lab (veth carries GSO packets whole otherwise).
    t.A.exec('ethtool', ['-K', 'a1', 'tso', 'off']);
    res.segmented.push(await iperf(t));
    t.A.exec('ethtool', ['-K', 'a1', 'tso', 'on']);
    // Alternate which variant goes first, so neither always follows the baseline.
    for (const x of r % 2 ? ['xdp', 'default'] : ['default', 'xdp']) {
      t.shimBoth({ gso: GSO, pair: 1, ...(x === 'xdp' ? { xdp: XDP } : {}) });
      (x === 'xdp' ? res.ulid_xdp : res.ulid).push(await iperf(t));
      t.switchPath(2);
      (x === 'xdp' ? res.shimmed_xdp : res.shimmed).push(await iperf(t));
      down();
    }
  }
  const b = median(res.baseline), u = median(res.ulid), s = median(res.shimmed);
  const ux = median(res.ulid_xdp), sx = median(res.shimmed_xdp), g = median(res.segmented);
  const r2 = (x: number) => Math.round(x * 100) / 100;
  process.stdout.write(JSON.stringify({
    bench: 'throughput', gso: GSO, xdp_default: process.env.SHIM6_XDP || DEFAULT_XDP, xdp: XDP, rounds: ROUNDS, secs: SECS,
    baseline_gbps: r2(b), ulid_gbps: r2(u), shimmed_gbps: r2(s),
    ulid_ratio: r2(u / b), shimmed_ratio: r2(s / b),
    segmented_gbps: r2(g), segmented_ratio: r2(g / b), shimmed_of_segmented: r2(s / g),
    ulid_xdp_gbps: r2(ux), shimmed_xdp_gbps: r2(sx), ulid_xdp_ratio: r2(ux / b), shimmed_xdp_ratio: r2(sx / b),
    samples: res, goals: { ulid_ratio_min: 0.97, shimmed_ratio_min: 0.8 },
  }) + '\n');
} finally {
  t.teardown();
}
