// make bench-dataplane: BPF_PROG_TEST_RUN cost of each program path against
// an empty program, all measured in this one run so ratios hold on a noisy
// machine. Prints JSON on the last line.
//
// Each sample is one test run of one packet (repeat = 1: the shim paths change
// the packet, so it cannot be run twice), which includes the kernel's fixed
// test-run cost (~60 ns here) in every case alike, and every packet is
// 14 + 40 + 20 + 1000 bytes on the ULIDs (+ 8 when shimmed). Cases are
// interleaved in ROUNDS rounds so drift hits them alike. The kernel clock
// ticks in ~10 ns steps here, so a median moves by whole ticks: ratios use the
// interquartile mean (mean of the middle half of the samples), and
// *_ratio_spread gives the lowest and highest ratio over the rounds.
// warm_*_ns: the same pass-through packets run 1000 times in one test run
// (unchanged packets only), i.e. with warm caches and TLB; context, not goals.
import { BpfFixture } from '../test/support/bpf-fixture.js';
import { buildPacket } from '../test/support/packet.js';
import { parseIPv6 } from '../src/dataplane/addr.js';
import * as L from '../src/generated/layout.js';

const A1 = '2001:db8:1:a::1', A2 = '2001:db8:2:a::1', B1 = '2001:db8:1:b::1', B2 = '2001:db8:2:b::1', C1 = '2001:db8:1:c::1';
const N = Number(process.env.SHIM6_BENCH_N ?? 20000);
const ROUNDS = 10;
const WARM_REPEAT = 1000;

const fx = BpfFixture.create();
try {
  const m = fx.maps, a = parseIPv6;
  m.uplinkPut(a(A1), { ifindex: 1, flags: 0 });
  m.uplinkPut(a(A2), { ifindex: 1, flags: 0 });
  const base = { fii: 0, pad: 0, ifindex: 1, flags: L.CTX_F_ACTIVE | L.CTX_F_INBOUND };
  m.ctxPut(1, { ...base, ulidLocal: a(A1), ulidPeer: a(B1), lpLocal: a(A2), lpPeer: a(B2), ctLocal: 0xa1n, ctPeer: 0xb1n });
  m.ctxPut(2, { ...base, ulidLocal: a(B1), ulidPeer: a(A1), lpLocal: a(B2), lpPeer: a(A2), ctLocal: 0xb1n, ctPeer: 0xa1n });
  m.ctxPut(3, { ...base, ulidLocal: a(A1), ulidPeer: a(C1), lpLocal: a(A1), lpPeer: a(C1), ctLocal: 0xc1n, ctPeer: 0xc2n });
  m.ulidPut({ ulidLocal: a(A1), ulidPeer: a(B1), fii: 0 }, 1);
  m.ulidPut({ ulidLocal: a(B1), ulidPeer: a(A1), fii: 0 }, 2);
  m.ulidPut({ ulidLocal: a(A1), ulidPeer: a(C1), fii: 0 }, 3);
  m.tagPut(0xa1n, 1); m.tagPut(0xb1n, 2);
  for (const x of [B1, B2]) m.locPut({ ctxId: 2, side: L.SIDE_LOCAL, addr: a(x) }, { flags: 1, pad: 0 });
  for (const x of [A1, A2]) m.locPut({ ctxId: 2, side: L.SIDE_PEER, addr: a(x) }, { flags: 1, pad: 0 });

  const payload = Buffer.alloc(1000, 0x42);
  const ulidPkt = buildPacket({ src: A1, dst: B1, l4: { kind: 'tcp', payload } });
  const passPkt = buildPacket({ src: A1, dst: C1, l4: { kind: 'tcp', payload } });
  const shimPkt = buildPacket({ src: A2, dst: B2, ext: [{ kind: 'shim6', ct: 0xb1n }], l4: { kind: 'tcp', payload }, csumSrc: A1, csumDst: B1 });
  const plainIn = buildPacket({ src: C1, dst: B1, l4: { kind: 'tcp', payload } });
  const cases: Record<string, [number, Buffer]> = {
    empty_ns: [fx.progs.head.shim6_empty, ulidPkt],
    egress_pass_ns: [fx.progs.segment.shim6_egress, passPkt],
    egress_shim_ns: [fx.progs.segment.shim6_egress, ulidPkt],
    ingress_pass_ns: [fx.progs.head.shim6_ingress, plainIn],
    ingress_shim_ns: [fx.progs.head.shim6_ingress, shimPkt],
  };
  const keys = Object.keys(cases);
  const rounds: Record<string, number[][]> = Object.fromEntries(keys.map((k) => [k, []]));
  // Interleave rounds so drift hits every case alike.
  for (let r = 0; r < ROUNDS; r++) {
    for (const [k, [prog, pkt]] of Object.entries(cases)) {
      const xs: number[] = [];
      for (let i = 0; i < N / ROUNDS; i++) xs.push(fx.run(prog, pkt).durationNs);
      rounds[k].push(xs);
    }
  }
  const sorted = (xs: number[]) => [...xs].sort((x, y) => x - y);
  const median = (xs: number[]) => sorted(xs)[Math.floor(xs.length / 2)];
  const iqm = (xs: number[]) => {
    const s = sorted(xs), mid = s.slice(Math.floor(s.length / 4), Math.ceil((3 * s.length) / 4));
    return mid.reduce((x, y) => x + y, 0) / mid.length;
  };
  const r2 = (x: number) => Math.round(x * 100) / 100;
  const out: Record<string, number> = {};
  const iq: Record<string, number> = {};
  for (const k of keys) {
    out[k] = median(rounds[k].flat());
    iq[k] = iqm(rounds[k].flat());
  }
  const ratio = (k: string) => r2(iq[k] / iq.empty_ns);
  const spread = (k: string) => {
    const rs = rounds[k].map((xs, i) => iqm(xs) / iqm(rounds.empty_ns[i]));
    return [r2(Math.min(...rs)), r2(Math.max(...rs))];
  };
  const warm: Record<string, number> = {};
  for (const k of ['empty_ns', 'egress_pass_ns', 'ingress_pass_ns']) {
    const [prog, pkt] = cases[k];
    warm[`warm_${k}`] = median(Array.from({ length: 21 }, () => fx.run(prog, pkt, { repeat: WARM_REPEAT }).durationNs));
  }
  const result: Record<string, unknown> = { bench: 'dataplane', runs_per_case: N, rounds: ROUNDS, ...out };
  for (const k of keys) result[k.replace(/_ns$/, '_iqm_ns')] = Math.round(iq[k] * 10) / 10;
  for (const k of keys.filter((k) => k !== 'empty_ns')) {
    result[k.replace(/_ns$/, '_ratio')] = ratio(k);
    result[k.replace(/_ns$/, '_ratio_spread')] = spread(k);
  }
  Object.assign(result, warm, { goals: { pass_ratio_max: 1.3, shim_ratio_max: 2.5 } });
  process.stdout.write(JSON.stringify(result) + '\n');
} finally {
  fx.close();
}
