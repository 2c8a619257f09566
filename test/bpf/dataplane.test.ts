// Table-driven BPF_PROG_TEST_RUN tests: each row is an input packet, the map
// state set up in beforeAll, the expected verdict, output bytes, drop
// counters, mark and events. Every program must have rows.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { BpfFixture, TC_ACT_OK, TC_ACT_REDIRECT, TC_ACT_SHOT, XDP_DROP, XDP_PASS } from '../support/bpf-fixture.js';
import { buildPacket, diffPackets, l4ChecksumOk, NH, PacketSpec, L4, Ext } from '../support/packet.js';
import { ADDR } from '../../src/lab/topology.js';
import { parseIPv6 } from '../../src/dataplane/addr.js';
import { pairSlot, tagSlot } from '../../src/dataplane/maps.js';
import { contextDel } from '../../src/dataplane/context.js';
import { native } from '../../src/native.js';
import * as L from '../../src/generated/layout.js';

const { A1, A2, B1, B2, R2A } = ADDR;
const C1 = '2001:db8:1:c::1', C2 = '2001:db8:2:c::1', B3 = '2001:db8:2:b::3';
const CT_A = 0xa1a1n, CT_B = 0xb1b1n, CT_INACTIVE = 0xdeadn;
const udp: L4 = { kind: 'udp', payload: Buffer.from('hello shim6') };
const tcp: L4 = { kind: 'tcp', payload: Buffer.from('GET / HTTP/1.1\r\n\r\n') };
const echo: L4 = { kind: 'icmp6', type: 128, rest: Buffer.from([0, 1, 0, 1]), body: Buffer.from('ping') };

/** A packet A sends on the ULIDs, and the same packet shimmed on path 2. */
function ulid(l4: L4, ext: Ext[] = []): PacketSpec { return { src: A1, dst: B1, l4, ext }; }
function shimmed(l4: L4, ext: Ext[], at: number, ct = CT_B): PacketSpec {
  const chain = [...ext.slice(0, at), { kind: 'shim6', ct } as Ext, ...ext.slice(at)];
  return { src: A2, dst: B2, l4, ext: chain, csumSrc: A1, csumDst: B1 };
}

type Prog = 'egress' | 'egress_seg' | 'peer_in' | 'ingress' | 'xdp';
interface Row {
  name: string;
  prog: Prog;
  input: Buffer;
  mark?: number;
  gsoSize?: number;              // run as a GSO packet of this MSS
  verdict: number;
  output?: Buffer;               // default: the input, unchanged
  drops?: Record<string, number>;
  outMark?: number;
  events?: number[];             // event types on the ring buffer
  checksumOk?: boolean;          // L4 checksum valid over the output's addresses
}

const MARK_INS1 = L.MARK_MAGIC | L.MARK_INSERT | 1;

const rows: Row[] = [
  // ---- egress, GSO head mode (the whole fast path in one program) ----
  { name: 'no context: leaves unchanged by the uplink of its source, event', prog: 'egress',
    input: buildPacket({ src: A1, dst: C2, l4: udp }), verdict: TC_ACT_REDIRECT, events: [L.EV_NO_CONTEXT] },
  { name: 'context on its ULIDs: unchanged', prog: 'egress',
    input: buildPacket({ src: A1, dst: C1, l4: udp }), verdict: TC_ACT_REDIRECT },
  { name: 'rewrite + insert, UDP; marked for the uplink route lookup', prog: 'egress', input: buildPacket(ulid(udp)),
    verdict: TC_ACT_REDIRECT, output: buildPacket(shimmed(udp, [], 0)), outMark: L.MARK_MAGIC },
  { name: 'rewrite + insert, TCP', prog: 'egress', input: buildPacket(ulid(tcp)),
    verdict: TC_ACT_REDIRECT, output: buildPacket(shimmed(tcp, [], 0)) },
  { name: 'rewrite + insert, ICMPv6 echo', prog: 'egress', input: buildPacket(ulid(echo)),
    verdict: TC_ACT_REDIRECT, output: buildPacket(shimmed(echo, [], 0)) },
  { name: 'insert after Hop-by-Hop', prog: 'egress', input: buildPacket(ulid(udp, [{ kind: 'hop' }])),
    verdict: TC_ACT_REDIRECT, output: buildPacket(shimmed(udp, [{ kind: 'hop' }], 1)) },
  { name: 'insert after Hop-by-Hop (24 bytes) + Routing', prog: 'egress',
    input: buildPacket(ulid(udp, [{ kind: 'hop', len: 24 }, { kind: 'routing', len: 16 }])), verdict: TC_ACT_REDIRECT,
    output: buildPacket(shimmed(udp, [{ kind: 'hop', len: 24 }, { kind: 'routing', len: 16 }], 2)) },
  { name: 'insert after Destination Options that precede Routing', prog: 'egress',
    input: buildPacket(ulid(udp, [{ kind: 'dest' }, { kind: 'routing' }])), verdict: TC_ACT_REDIRECT,
    output: buildPacket(shimmed(udp, [{ kind: 'dest' }, { kind: 'routing' }], 2)) },
  { name: 'insert before final Destination Options', prog: 'egress',
    input: buildPacket(ulid(udp, [{ kind: 'dest' }])), verdict: TC_ACT_REDIRECT,
    output: buildPacket(shimmed(udp, [{ kind: 'dest' }], 0)) },
  { name: 'insert before Fragment (first fragment)', prog: 'egress',
    input: buildPacket(ulid(udp, [{ kind: 'fragment', more: true }])), verdict: TC_ACT_REDIRECT,
    output: buildPacket(shimmed(udp, [{ kind: 'fragment', more: true }], 0)) },
  { name: 'insert between Hop-by-Hop and Fragment (later fragment)', prog: 'egress',
    input: buildPacket(ulid({ kind: 'raw', nh: NH.UDP, bytes: Buffer.alloc(32, 7) }, [{ kind: 'hop' }, { kind: 'fragment', offset: 100 }])),
    verdict: TC_ACT_REDIRECT,
    output: buildPacket({ ...shimmed({ kind: 'raw', nh: NH.UDP, bytes: Buffer.alloc(32, 7) }, [{ kind: 'hop' }, { kind: 'fragment', offset: 100 }], 1) }) },
  // Payload header right after the fixed header (one store: Payload Length,
  // Next Header, Hop Limit, addresses, header) and behind a routing sublayer
  // (the general insertion): the same bytes either way.
  { name: 'fast insert keeps the Hop Limit', prog: 'egress', input: buildPacket({ ...ulid(udp), hopLimit: 7 }),
    verdict: TC_ACT_REDIRECT, output: buildPacket({ ...shimmed(udp, [], 0), hopLimit: 7 }) },
  { name: 'general insert keeps the Hop Limit', prog: 'egress', input: buildPacket({ ...ulid(udp, [{ kind: 'hop' }]), hopLimit: 7 }),
    verdict: TC_ACT_REDIRECT, output: buildPacket({ ...shimmed(udp, [{ kind: 'hop' }], 1), hopLimit: 7 }) },
  { name: 'head mode, GSO: grown at the head, same bytes as the fast insert', prog: 'egress', input: buildPacket(ulid(tcp)),
    gsoSize: 1000, verdict: TC_ACT_REDIRECT, output: buildPacket(shimmed(tcp, [], 0)), outMark: L.MARK_MAGIC },
  { name: 'Shim6 control message: unchanged', prog: 'egress',
    input: buildPacket({ src: A1, dst: B1, ext: [{ kind: 'shim6', ct: 0n, p: 0 }], l4: { kind: 'raw', nh: NH.NONE, bytes: Buffer.alloc(8) } }),
    verdict: TC_ACT_REDIRECT },
  { name: 'neighbour solicitation: left to the link', prog: 'egress',
    input: buildPacket({ src: A1, dst: B1, l4: { kind: 'icmp6', type: 135, body: Buffer.alloc(16) } }), verdict: TC_ACT_OK },
  { name: 'MLD report behind Hop-by-Hop: left to the link', prog: 'egress',
    input: buildPacket({ src: A1, dst: B1, ext: [{ kind: 'hop' }], l4: { kind: 'icmp6', type: 143 } }), verdict: TC_ACT_OK },
  { name: 'link-local source: left to the link', prog: 'egress',
    input: buildPacket({ src: 'fe80::1', dst: B1, l4: udp }), verdict: TC_ACT_OK },
  { name: 'multicast destination: left to the link', prog: 'egress',
    input: buildPacket({ src: A1, dst: 'ff02::1', l4: udp }), verdict: TC_ACT_OK },
  { name: 'source with no uplink: dropped, counted', prog: 'egress',
    input: buildPacket({ src: C1, dst: C2, l4: udp }), verdict: TC_ACT_SHOT, drops: { no_uplink: 1 }, events: [L.EV_NO_CONTEXT] },
  // (BPF_PROG_TEST_RUN refuses IPv6 frames shorter than Ethernet + IPv6, so
  // the fixed-header bounds check has no row; every later check does.)
  { name: 'truncated extension header: dropped, counted', prog: 'egress',
    input: (() => { const p = buildPacket(ulid(udp, [{ kind: 'hop' }])); return p.subarray(0, 55); })(),
    verdict: TC_ACT_SHOT, drops: { truncated: 1 } },
  { name: 'truncated fragment header: dropped, counted', prog: 'egress',
    input: (() => { const p = buildPacket(ulid(udp, [{ kind: 'fragment' }])); return p.subarray(0, 56); })(),
    verdict: TC_ACT_SHOT, drops: { truncated: 1 } },
  { name: 'extension-header chain too long: dropped, counted', prog: 'egress',
    input: buildPacket(ulid(udp, Array.from({ length: 9 }, () => ({ kind: 'routing' } as Ext)))),
    verdict: TC_ACT_SHOT, drops: { exthdr_chain: 1 } },

  // ---- egress, GSO segment mode: rewrite only, context handed on in the mark ----
  { name: 'segment mode, GSO: rewrite only, marked, sent round to be segmented', prog: 'egress_seg', input: buildPacket(ulid(tcp)),
    gsoSize: 1000, verdict: TC_ACT_REDIRECT, outMark: MARK_INS1,
    output: buildPacket({ src: A2, dst: B2, l4: tcp, csumSrc: A1, csumDst: B1 }) },
  { name: 'segment mode, not GSO: rewrite + insert in place', prog: 'egress_seg', input: buildPacket(ulid(udp)),
    verdict: TC_ACT_REDIRECT, outMark: L.MARK_MAGIC, output: buildPacket(shimmed(udp, [], 0)) },
  { name: 'segment mode, GSO on the ULIDs: unchanged, straight to the uplink', prog: 'egress_seg',
    input: buildPacket({ src: A1, dst: C1, l4: tcp }), gsoSize: 1000, verdict: TC_ACT_REDIRECT, outMark: L.MARK_MAGIC },
  { name: 'segment mode: no context, straight to the uplink', prog: 'egress_seg',
    input: buildPacket({ src: A1, dst: '2001:db8:2:c::9', l4: udp }), verdict: TC_ACT_REDIRECT, outMark: L.MARK_MAGIC, events: [L.EV_NO_CONTEXT] },
  { name: 'no context again within a second: no second event', prog: 'egress',
    input: buildPacket({ src: A1, dst: '2001:db8:2:c::9', l4: udp }), verdict: TC_ACT_REDIRECT },

  // ---- shim peer ingress (segment mode) ----
  { name: 'peer: insert per segment, redirect', prog: 'peer_in', mark: MARK_INS1,
    input: buildPacket({ src: A2, dst: B2, l4: tcp, csumSrc: A1, csumDst: B1 }), verdict: TC_ACT_REDIRECT,
    output: buildPacket(shimmed(tcp, [], 0)) },
  { name: 'peer: insert after Hop-by-Hop', prog: 'peer_in', mark: MARK_INS1,
    input: buildPacket({ src: A2, dst: B2, l4: udp, ext: [{ kind: 'hop' }], csumSrc: A1, csumDst: B1 }), verdict: TC_ACT_REDIRECT,
    output: buildPacket(shimmed(udp, [{ kind: 'hop' }], 1)) },
  { name: 'peer: unmarked packet leaves unchanged', prog: 'peer_in',
    input: buildPacket({ src: A1, dst: C2, l4: udp }), verdict: TC_ACT_REDIRECT },
  { name: 'peer: marked for a vanished context: dropped', prog: 'peer_in', mark: L.MARK_MAGIC | L.MARK_INSERT | 77,
    input: buildPacket(ulid(udp)), verdict: TC_ACT_SHOT, drops: { ctx_inactive: 1 } },
  { name: "peer: the shim device's own link-local traffic ends here", prog: 'peer_in',
    input: buildPacket({ src: 'fe80::1', dst: 'ff02::16', l4: { kind: 'icmp6', type: 143 } }), verdict: TC_ACT_SHOT },

  // ---- ingress on the uplinks (B's side, context 2) ----
  { name: 'strip + restore, UDP', prog: 'ingress', input: buildPacket(shimmed(udp, [], 0)),
    verdict: TC_ACT_OK, output: buildPacket(ulid(udp)), checksumOk: true },
  { name: 'strip + restore, TCP', prog: 'ingress', input: buildPacket(shimmed(tcp, [], 0)),
    verdict: TC_ACT_OK, output: buildPacket(ulid(tcp)), checksumOk: true },
  { name: 'strip + restore behind Hop-by-Hop + Routing', prog: 'ingress',
    input: buildPacket(shimmed(udp, [{ kind: 'hop', len: 16 }, { kind: 'routing' }], 2)),
    verdict: TC_ACT_OK, output: buildPacket(ulid(udp, [{ kind: 'hop', len: 16 }, { kind: 'routing' }])), checksumOk: true },
  // Payload header first (read in place, one store) and behind Hop-by-Hop
  // (walked, general removal): the same result.
  { name: 'strip + restore, ICMPv6 echo, Hop Limit kept', prog: 'ingress', input: buildPacket({ ...shimmed(echo, [], 0), hopLimit: 3 }),
    verdict: TC_ACT_OK, output: buildPacket({ ...ulid(echo), hopLimit: 3 }), checksumOk: true },
  { name: 'strip + restore behind Hop-by-Hop, Hop Limit kept', prog: 'ingress',
    input: buildPacket({ ...shimmed(echo, [{ kind: 'hop' }], 1), hopLimit: 3 }),
    verdict: TC_ACT_OK, output: buildPacket({ ...ulid(echo, [{ kind: 'hop' }]), hopLimit: 3 }), checksumOk: true },
  { name: 'strip before Fragment', prog: 'ingress',
    input: buildPacket(shimmed(udp, [{ kind: 'fragment', more: true }], 0)),
    verdict: TC_ACT_OK, output: buildPacket(ulid(udp, [{ kind: 'fragment', more: true }])) },
  { name: 'control message (P=0): to the stack unchanged', prog: 'ingress',
    input: buildPacket({ src: A2, dst: B2, ext: [{ kind: 'shim6', ct: CT_B, p: 0 }], l4: { kind: 'raw', nh: NH.NONE, bytes: Buffer.alloc(8) } }),
    verdict: TC_ACT_OK },
  { name: 'unknown context tag: to the stack, event for R1bis', prog: 'ingress',
    input: buildPacket(shimmed(udp, [], 0, 0x9999n)), verdict: TC_ACT_OK, events: [L.EV_UNKNOWN_TAG] },
  { name: 'source locator not in Ls(peer): dropped, counted', prog: 'ingress',
    input: buildPacket({ ...shimmed(udp, [], 0), src: C2 }), verdict: TC_ACT_SHOT, drops: { bad_locator: 1 }, events: [L.EV_BAD_LOCATOR] },
  { name: 'destination locator not in Ls(local): dropped, counted', prog: 'ingress',
    input: buildPacket({ ...shimmed(udp, [], 0), dst: B3 }), verdict: TC_ACT_SHOT, drops: { bad_locator: 1 }, events: [L.EV_BAD_LOCATOR] },
  { name: 'context not accepting payload: dropped, counted', prog: 'ingress',
    input: buildPacket(shimmed(udp, [], 0, CT_INACTIVE)), verdict: TC_ACT_SHOT, drops: { ctx_inactive: 1 } },
  { name: 'payload header with Hdr Ext Len 1: dropped, counted', prog: 'ingress',
    input: buildPacket({ src: A2, dst: B2, ext: [{ kind: 'shim6', ct: CT_B, hdrExtLen: 1 }], l4: udp }),
    verdict: TC_ACT_SHOT, drops: { bad_hlen: 1 } },
  { name: 'truncated payload header: dropped, counted', prog: 'ingress',
    input: buildPacket(shimmed(udp, [], 0)).subarray(0, 58), verdict: TC_ACT_SHOT, drops: { truncated: 1 } },
  { name: 'plain packet on the ULIDs: unchanged', prog: 'ingress', input: buildPacket(ulid(udp)), verdict: TC_ACT_OK },
  { name: 'plain packet from elsewhere: unchanged', prog: 'ingress', input: buildPacket({ src: C2, dst: B2, l4: udp }), verdict: TC_ACT_OK },
];

// ---- shim6_xdp on the uplinks (B's side, context 2): what it strips comes
// out with 4 bytes of metadata (SHIM6_XDP_META) in front; everything it does
// not handle goes on to tc ingress unchanged and uncounted.
const xdpMeta = (pkt: Buffer) => { const m = Buffer.alloc(4); m.writeUInt32LE(L.XDP_META); return Buffer.concat([m, pkt]); };
const ipv4 = (() => { const b = Buffer.from(buildPacket(ulid(udp))); b.writeUInt16BE(0x0800, 12); return b; })();
const shortPayload = (() => { const b = Buffer.from(buildPacket(shimmed(tcp, [], 0))); b.writeUInt16BE(b.readUInt16BE(18) + 1, 18); return b; })();
rows.push(
  { name: 'xdp: strip + restore, TCP (metadata marks it for tc)', prog: 'xdp', input: buildPacket(shimmed(tcp, [], 0)),
    verdict: XDP_PASS, output: xdpMeta(buildPacket(ulid(tcp))), checksumOk: true },
  { name: 'xdp: strip + restore, UDP, Hop Limit and flow label kept', prog: 'xdp', input: buildPacket({ ...shimmed(udp, [], 0), hopLimit: 3, flowLabel: 0x12345 }),
    verdict: XDP_PASS, output: xdpMeta(buildPacket({ ...ulid(udp), hopLimit: 3, flowLabel: 0x12345 })), checksumOk: true },
  { name: 'xdp: strip + restore, ICMPv6 echo', prog: 'xdp', input: buildPacket(shimmed(echo, [], 0)),
    verdict: XDP_PASS, output: xdpMeta(buildPacket(ulid(echo))), checksumOk: true },
  { name: 'xdp: payload header behind Hop-by-Hop: left to tc', prog: 'xdp',
    input: buildPacket(shimmed(udp, [{ kind: 'hop' }], 1)), verdict: XDP_PASS },
  { name: 'xdp: control message (P=0): left to tc', prog: 'xdp',
    input: buildPacket({ src: A2, dst: B2, ext: [{ kind: 'shim6', ct: CT_B, p: 0 }], l4: { kind: 'raw', nh: NH.NONE, bytes: Buffer.alloc(8) } }),
    verdict: XDP_PASS },
  { name: 'xdp: unknown context tag: left to tc (which sends the event), no event here', prog: 'xdp',
    input: buildPacket(shimmed(udp, [], 0, 0x9999n)), verdict: XDP_PASS },
  { name: 'xdp: source locator not in Ls(peer): dropped, counted, event', prog: 'xdp',
    input: buildPacket({ ...shimmed(tcp, [], 0), src: C2 }), verdict: XDP_DROP, drops: { bad_locator: 1 }, events: [L.EV_BAD_LOCATOR] },
  { name: 'xdp: destination locator not in Ls(local): dropped, counted, event', prog: 'xdp',
    input: buildPacket({ ...shimmed(tcp, [], 0), dst: B3 }), verdict: XDP_DROP, drops: { bad_locator: 1 }, events: [L.EV_BAD_LOCATOR] },
  { name: 'xdp: context not accepting payload: dropped, counted', prog: 'xdp',
    input: buildPacket(shimmed(udp, [], 0, CT_INACTIVE)), verdict: XDP_DROP, drops: { ctx_inactive: 1 } },
  { name: 'xdp: payload header with Hdr Ext Len 1: dropped, counted', prog: 'xdp',
    input: buildPacket({ src: A2, dst: B2, ext: [{ kind: 'shim6', ct: CT_B, hdrExtLen: 1 }], l4: udp }),
    verdict: XDP_DROP, drops: { bad_hlen: 1 } },
  { name: 'xdp: truncated payload header: left to tc (which counts it)', prog: 'xdp',
    input: buildPacket(shimmed(udp, [], 0)).subarray(0, 58), verdict: XDP_PASS },
  { name: 'xdp: truncated IPv6 header: left to tc', prog: 'xdp',
    input: buildPacket(shimmed(udp, [], 0)).subarray(0, 40), verdict: XDP_PASS },
  { name: 'xdp: shorter than its Payload Length: left to tc', prog: 'xdp', input: shortPayload, verdict: XDP_PASS },
  { name: 'xdp: plain packet on the ULIDs: left to tc', prog: 'xdp', input: buildPacket(ulid(tcp)), verdict: XDP_PASS },
  { name: 'xdp: not IPv6: left alone', prog: 'xdp', input: ipv4, verdict: XDP_PASS },
);

// ICMPv6 errors reaching A that quote a packet A sent shimmed (context 1).
function icmpError(type: number, rest: Buffer, quoted: PacketSpec): Buffer {
  const q = buildPacket(quoted).subarray(14);
  return buildPacket({ src: R2A, dst: A2, l4: { kind: 'icmp6', type, rest, body: q } });
}
const mtu = (n: number) => { const b = Buffer.alloc(4); b.writeUInt32BE(n); return b; };
const sentShimmed: PacketSpec = { src: A2, dst: B2, l4: udp, ext: [{ kind: 'shim6', ct: CT_B }], csumSrc: A1, csumDst: B1 };
rows.push(
  { name: 'ICMPv6 Packet Too Big quoting a shimmed packet: ULIDs restored, MTU - 8', prog: 'ingress',
    input: icmpError(2, mtu(1400), sentShimmed), verdict: TC_ACT_OK,
    output: (() => { const q = buildPacket(ulid(udp)).subarray(14); return buildPacket({ src: R2A, dst: A2, l4: { kind: 'icmp6', type: 2, rest: mtu(1392), body: q } }); })(),
    checksumOk: true },
  { name: 'ICMPv6 Destination Unreachable quoting a shimmed packet: ULIDs restored', prog: 'ingress',
    input: icmpError(1, Buffer.alloc(4), sentShimmed), verdict: TC_ACT_OK,
    output: (() => { const q = buildPacket(ulid(udp)).subarray(14); return buildPacket({ src: R2A, dst: A2, l4: { kind: 'icmp6', type: 1, rest: Buffer.alloc(4), body: q } }); })(),
    checksumOk: true },
  { name: 'ICMPv6 error quoting an unshimmed packet: unchanged', prog: 'ingress',
    input: icmpError(1, Buffer.alloc(4), ulid(udp)), verdict: TC_ACT_OK },
  { name: 'ICMPv6 error quoting a packet with an unknown tag: unchanged', prog: 'ingress',
    input: icmpError(2, mtu(1400), { ...sentShimmed, ext: [{ kind: 'shim6', ct: 0x4444n }] }), verdict: TC_ACT_OK },
  { name: 'ICMPv6 error with a quote cut inside the payload header: unchanged', prog: 'ingress',
    input: (() => { const p = icmpError(2, mtu(1400), sentShimmed); const cut = p.subarray(0, 14 + 40 + 8 + 40 + 4); const b = Buffer.from(cut); b.writeUInt16BE(b.length - 54, 18); return b; })(),
    verdict: TC_ACT_OK },
);

let fx: BpfFixture;
const events: number[] = [];
let ring: InstanceType<ReturnType<typeof native>['RingBuffer']>;

function progFd(p: Prog): number {
  switch (p) {
    case 'egress': return fx.progs.head.shim6_egress;
    case 'egress_seg': return fx.progs.segment.shim6_egress;
    case 'peer_in': return fx.progs.segment.shim6_peer_in;
    case 'ingress': return fx.progs.head.shim6_ingress;
    case 'xdp': return fx.progs.head.shim6_xdp;
  }
}

beforeAll(() => {
  fx = BpfFixture.create();
  const m = fx.maps;
  const a = parseIPv6;
  ring = new (native().RingBuffer)(m.fds.shim6_events, (rec) => events.push(rec.readUInt32LE(0)));
  m.uplinkPut(a(A1), { ifindex: 1, flags: 0 });
  m.uplinkPut(a(A2), { ifindex: 1, flags: 0 });
  const base = { fii: 0, pad: 0, ifindex: 1, flags: L.CTX_F_ACTIVE | L.CTX_F_INBOUND };
  // 1: A's context with B, on path 2.
  m.ctxPut(1, { ...base, ulidLocal: a(A1), ulidPeer: a(B1), lpLocal: a(A2), lpPeer: a(B2), ctLocal: CT_A, ctPeer: CT_B });
  // 2: B's context with A, on path 2 (ingress rows run "on B").
  m.ctxPut(2, { ...base, ulidLocal: a(B1), ulidPeer: a(A1), lpLocal: a(B2), lpPeer: a(A2), ctLocal: CT_B, ctPeer: CT_A });
  // 3: A's context with C, on its ULIDs.
  m.ctxPut(3, { ...base, ulidLocal: a(A1), ulidPeer: a(C1), lpLocal: a(A1), lpPeer: a(C1), ctLocal: 0xc3n, ctPeer: 0xc4n });
  // 4: a context that accepts nothing yet.
  m.ctxPut(4, { ...base, flags: 0, ulidLocal: a(A1), ulidPeer: a('2001:db8:1:d::1'), lpLocal: a(A1), lpPeer: a('2001:db8:1:d::1'), ctLocal: CT_INACTIVE, ctPeer: 0xd4n });
  m.ulidPut({ ulidLocal: a(A1), ulidPeer: a(B1), fii: 0 }, 1);
  m.ulidPut({ ulidLocal: a(B1), ulidPeer: a(A1), fii: 0 }, 2);
  m.ulidPut({ ulidLocal: a(A1), ulidPeer: a(C1), fii: 0 }, 3);
  for (const [id, ct] of [[1, CT_A], [2, CT_B], [3, 0xc3n], [4, CT_INACTIVE]] as const) m.tagPut(ct, id);
  m.ptagPut(CT_B, 1);
  const loc = { flags: L.LOC_F_VERIFIED, pad: 0 };
  for (const x of [A1, A2]) m.locPut({ ctxId: 1, side: L.SIDE_LOCAL, addr: a(x) }, loc);
  for (const x of [B1, B2]) m.locPut({ ctxId: 1, side: L.SIDE_PEER, addr: a(x) }, loc);
  for (const x of [B1, B2]) m.locPut({ ctxId: 2, side: L.SIDE_LOCAL, addr: a(x) }, loc);
  for (const x of [A1, A2]) m.locPut({ ctxId: 2, side: L.SIDE_PEER, addr: a(x) }, loc);
});

afterAll(() => {
  ring?.close();
  fx?.close();
});

describe('BPF_PROG_TEST_RUN rows', () => {
  it('has rows for every program', () => {
    for (const p of ['egress', 'egress_seg', 'peer_in', 'ingress', 'xdp'] as const) {
      expect(rows.filter((r) => r.prog === p).length, `rows for ${p}`).toBeGreaterThan(2);
    }
  });

  it.each(rows.map((r) => [r.name, r] as const))('%s', (_name, row) => {
    const before = fx.maps.drops();
    ring.consume();
    events.length = 0;
    const r = row.prog === 'xdp'
      ? fx.runXdp(progFd(row.prog), row.input)
      : fx.run(progFd(row.prog), row.input, { mark: row.mark, gsoSize: row.gsoSize, gsoSegs: row.gsoSize ? 2 : 0 });
    ring.consume();
    expect(r.verdict, 'verdict').toBe(row.verdict);
    const want = row.output ?? row.input;
    const diff = diffPackets(r.data, want);
    expect(diff, `output bytes\n${diff}`).toBe('');
    const after = fx.maps.drops();
    for (const [reason, n] of Object.entries(after)) {
      expect(Number(n - before[reason]), `drop counter ${reason}`).toBe(row.drops?.[reason] ?? 0);
    }
    if (row.outMark !== undefined) expect(r.mark >>> 0, 'mark').toBe(row.outMark >>> 0);
    expect(events, 'events').toEqual(row.events ?? []);
    if (row.checksumOk) expect(l4ChecksumOk(row.prog === 'xdp' ? r.data.subarray(4) : r.data), 'L4 checksum over the output addresses').toBe(true);
  });
});

describe('round trip egress -> ingress', () => {
  const cases: Array<[string, L4, Ext[]]> = [
    ['udp', udp, []], ['tcp', tcp, []], ['icmp echo', echo, []],
    ['udp behind hop-by-hop', udp, [{ kind: 'hop', len: 16 }]],
    ['tcp with dest opts', tcp, [{ kind: 'dest' }]],
    ['udp first fragment', udp, [{ kind: 'fragment', more: true }]],
    ['large udp', { kind: 'udp', payload: Buffer.alloc(1400, 0x5a) }, []],
  ];
  it.each(cases)('%s: byte-exact, checksum valid over the ULIDs, different on the wire', (_n, l4, ext) => {
    const input = buildPacket(ulid(l4, ext));
    const out = fx.run(fx.progs.head.shim6_egress, input);
    expect(out.verdict).toBe(TC_ACT_REDIRECT);
    expect(out.data.length).toBe(input.length + 8);
    const back = fx.run(fx.progs.head.shim6_ingress, out.data);
    expect(back.verdict).toBe(TC_ACT_OK);
    expect(diffPackets(back.data, input)).toBe('');
    if (!ext.some((e) => e.kind === 'fragment')) expect(l4ChecksumOk(back.data)).toBe(true);
  });

  it('a wrong ULID at the receiver breaks the checksum (negative control)', () => {
    const input = buildPacket(ulid(udp));
    const out = fx.run(fx.progs.head.shim6_egress, input);
    const wrong = Buffer.from(out.data);
    // Tag of the inactive context's neighbour: use context 3's tag, whose ULIDs differ.
    wrong[14 + 40 + 7] = 0xc3; wrong[14 + 40 + 6] = 0; wrong[14 + 40 + 5] = 0;
    fx.maps.locPut({ ctxId: 3, side: L.SIDE_PEER, addr: parseIPv6(A2) }, { flags: 1, pad: 0 });
    fx.maps.locPut({ ctxId: 3, side: L.SIDE_LOCAL, addr: parseIPv6(B2) }, { flags: 1, pad: 0 });
    const back = fx.run(fx.progs.head.shim6_ingress, wrong);
    expect(back.verdict).toBe(TC_ACT_OK);
    expect(l4ChecksumOk(back.data)).toBe(false);
  });
});

describe('per-context traffic facts', () => {
  it('egress and ingress stamp last-sent / last-received and count', () => {
    fx.maps.statsReset(1);
    fx.maps.statsReset(2);
    const input = buildPacket(ulid(udp));
    const out = fx.run(fx.progs.head.shim6_egress, input);
    fx.run(fx.progs.head.shim6_ingress, out.data);
    const s1 = fx.maps.stats(1), s2 = fx.maps.stats(2);
    expect(s1.txPackets).toBe(1n);
    expect(s1.txBytes).toBe(BigInt(input.length));
    expect(s1.lastTxNs).toBeGreaterThan(0n);
    expect(s2.rxPackets).toBe(1n);
    expect(s2.lastRxNs).toBeGreaterThanOrEqual(s1.lastTxNs);
  });

  // Ingress takes TCP/UDP right after the fixed header straight to the
  // ULID-pair lookup; anything else walks the chain first. Same facts.
  it.each([
    ['tcp, no extension header (direct)', ulid(tcp)],
    ['udp, no extension header (direct)', ulid(udp)],
    ['udp behind Destination Options (walked)', ulid(udp, [{ kind: 'dest' }])],
    ['icmp echo (walked)', ulid(echo)],
  ] as const)('an unmodified packet on the ULIDs counts as received: %s', (_n, spec) => {
    // Context 2 is B's: the packet travels A1 -> B1 and arrives at B.
    fx.maps.statsReset(2);
    const input = buildPacket(spec);
    const r = fx.run(fx.progs.head.shim6_ingress, input);
    expect(r.verdict).toBe(TC_ACT_OK);
    expect(diffPackets(r.data, input)).toBe('');
    const s = fx.maps.stats(2);
    expect(s.rxPackets).toBe(1n);
    expect(s.rxBytes).toBe(BigInt(input.length));
    expect(s.lastRxNs).toBeGreaterThan(0n);
  });

  it('a plain packet from a host with no context counts nowhere', () => {
    for (const id of [1, 2, 3]) fx.maps.statsReset(id);
    fx.run(fx.progs.head.shim6_ingress, buildPacket({ src: C2, dst: B1, l4: tcp }));
    for (const id of [1, 2, 3]) expect(fx.maps.stats(id).rxPackets).toBe(0n);
  });
});

// The fast-path records (bpf/shim6_types.h: shim6_tx at the pair's home
// slot, shim6_rx by id with inline locator sets): the cases the common path
// does not exercise.
describe('fast-path records', () => {
  const E1 = '2001:db8:1:e::1';
  /** A peer ULID whose (A1, peer, 0) shares the home slot of (A1, E1, 0). */
  function collidingPeer(): string {
    const home = pairSlot({ ulidLocal: parseIPv6(A1), ulidPeer: parseIPv6(E1), fii: 0 });
    for (let i = 2; i < 1 << 22; i++) {
      const p = `2001:db8:1:e::${(i >> 16).toString(16)}:${(i & 0xffff).toString(16)}`;
      if (pairSlot({ ulidLocal: parseIPv6(A1), ulidPeer: parseIPv6(p), fii: 0 }) === home) return p;
    }
    throw new Error('no colliding pair found');
  }

  it('a pair whose home slot another pair holds lives in shim6_ulid and is found there', () => {
    const m = fx.maps, a = parseIPv6;
    const E2 = collidingPeer();
    const base = { fii: 0, pad: 0, ifindex: 1, flags: L.CTX_F_ACTIVE | L.CTX_F_INBOUND, lpLocal: a(A2), ctLocal: 0xe1n };
    m.ctxPut(11, { ...base, ulidLocal: a(A1), ulidPeer: a(E1), lpPeer: a(E1), ctPeer: 0xe11n });
    m.ctxPut(12, { ...base, ulidLocal: a(A1), ulidPeer: a(E2), lpPeer: a(E2), ctLocal: 0xe2n, ctPeer: 0xe22n });
    m.ulidPut({ ulidLocal: a(A1), ulidPeer: a(E1), fii: 0 }, 11);
    m.ulidPut({ ulidLocal: a(A1), ulidPeer: a(E2), fii: 0 }, 12);
    expect(native().mapKeys(m.fds.shim6_ulid).length).toBe(1);
    for (const [peer, ct] of [[E1, 0xe11n], [E2, 0xe22n]] as const) {
      const input = buildPacket({ src: A1, dst: peer, l4: udp });
      const r = fx.run(fx.progs.head.shim6_egress, input);
      expect(r.verdict).toBe(TC_ACT_REDIRECT);
      expect(diffPackets(r.data, buildPacket({ src: A2, dst: peer, ext: [{ kind: 'shim6', ct }], l4: udp, csumSrc: A1, csumDst: peer }))).toBe('');
    }
    expect(m.stats(12).txPackets).toBe(1n);
    expect(m.ulidGet({ ulidLocal: a(A1), ulidPeer: a(E2), fii: 0 })).toBe(12);
    // The holder of the home slot goes: the other pair is still found.
    expect(m.ulidDel({ ulidLocal: a(A1), ulidPeer: a(E1), fii: 0 })).toBe(true);
    expect(fx.run(fx.progs.head.shim6_egress, buildPacket({ src: A1, dst: E2, l4: udp })).data.length).toBe(buildPacket({ src: A1, dst: E2, l4: udp }).length + 8);
    expect(m.ulidDel({ ulidLocal: a(A1), ulidPeer: a(E2), fii: 0 })).toBe(true);
    expect(native().mapKeys(m.fds.shim6_ulid).length).toBe(0);
    expect(m.ulidGet({ ulidLocal: a(A1), ulidPeer: a(E2), fii: 0 })).toBeUndefined();
    for (const id of [11, 12]) m.ctxDel(id);
  });

  it('a locator beyond the inline ones is checked in shim6_loc; a removed one is refused', () => {
    const m = fx.maps, a = parseIPv6;
    const extra = Array.from({ length: L.RX_LOCS + 2 }, (_, i) => `2001:db8:3:a::${i + 1}`);
    for (const x of extra) m.locPut({ ctxId: 2, side: L.SIDE_PEER, addr: a(x) }, { flags: L.LOC_F_VERIFIED, pad: 0 });
    const rx = m.rxGet(2);
    expect(rx.nPeer).toBe(L.RX_LOCS);
    expect(rx.more & L.RX_MORE_PEER).toBe(L.RX_MORE_PEER);
    const last = extra[extra.length - 1];
    const input = buildPacket({ ...shimmed(udp, [], 0), src: last });
    expect(fx.run(fx.progs.head.shim6_ingress, input).verdict).toBe(TC_ACT_OK);
    m.locDel({ ctxId: 2, side: L.SIDE_PEER, addr: a(last) });
    const before = m.drops().bad_locator;
    expect(fx.run(fx.progs.head.shim6_ingress, input).verdict).toBe(TC_ACT_SHOT);
    expect(m.drops().bad_locator - before).toBe(1n);
    for (const x of extra) m.locDel({ ctxId: 2, side: L.SIDE_PEER, addr: a(x) });
    expect(m.rxGet(2).nPeer).toBe(2);
  });

  it('a context whose id is its tag slot is found without shim6_tag; a deleted tag is unknown', () => {
    const m = fx.maps, a = parseIPv6;
    const ct = 0x5eed0042n, id = tagSlot(ct);
    m.ctxPut(id, { fii: 0, pad: 0, ifindex: 1, flags: L.CTX_F_ACTIVE | L.CTX_F_INBOUND, ulidLocal: a(B1), ulidPeer: a(C1), lpLocal: a(B2), lpPeer: a(C2), ctLocal: ct, ctPeer: 0x77n });
    for (const x of [B1, B2]) m.locPut({ ctxId: id, side: L.SIDE_LOCAL, addr: a(x) }, { flags: L.LOC_F_VERIFIED, pad: 0 });
    for (const x of [C1, C2]) m.locPut({ ctxId: id, side: L.SIDE_PEER, addr: a(x) }, { flags: L.LOC_F_VERIFIED, pad: 0 });
    const input = buildPacket({ src: C2, dst: B2, ext: [{ kind: 'shim6', ct }], l4: udp, csumSrc: C1, csumDst: B1 });
    const r = fx.run(fx.progs.head.shim6_ingress, input);
    expect(r.verdict).toBe(TC_ACT_OK);
    expect(diffPackets(r.data, buildPacket({ src: C1, dst: B1, l4: udp }))).toBe('');
    expect(m.tagGet(ct)).toBe(id);
    m.tagPut(ct, id);
    expect(m.tagDel(ct)).toBe(true);
    ring.consume();
    events.length = 0;
    expect(fx.run(fx.progs.head.shim6_ingress, input).data.length).toBe(input.length);
    ring.consume();
    expect(events).toEqual([L.EV_UNKNOWN_TAG]);
    m.ctxDel(id);
  });

  it('ctxCreate writes exactly what the one-by-one writes do (home slot, overflow, tag slot, locators beyond the inline ones)', () => {
    const m = fx.maps, a = parseIPv6, n = native();
    const E2 = collidingPeer();
    const idx = (v: number) => Buffer.from(new Uint32Array([v]).buffer);
    const tag = (t: bigint) => { const b = Buffer.alloc(8); b.writeBigUInt64LE(t); return b; };
    /** Every record the maps hold for context id of key (raw bytes, hex). */
    const dump = (id: number, key: L.Shim6UlidKey, ct: bigint, ctPeer: bigint) => ({
      ctx: n.mapLookup(m.fds.shim6_ctx, idx(id))?.toString('hex'),
      rx: n.mapLookup(m.fds.shim6_rx, idx(id))?.toString('hex'),
      txHome: n.mapLookup(m.fds.shim6_tx, idx(pairSlot(key)))?.toString('hex'),
      ulid: n.mapKeys(m.fds.shim6_ulid).map((k) => `${k.toString('hex')}=${n.mapLookup(m.fds.shim6_ulid, k)?.toString('hex')}`).sort(),
      tag: n.mapLookup(m.fds.shim6_tag, tag(ct))?.toString('hex'),
      ptag: n.mapLookup(m.fds.shim6_ptag, tag(ctPeer))?.toString('hex'),
      locs: m.locs(id).map((l) => `${l.key.side}/${Buffer.from(l.key.addr).toString('hex')}/${l.loc.flags}`).sort(),
    });
    // The holder of E2's home slot: E2's record overflows into shim6_ulid.
    const base = { fii: 0, pad: 0, ifindex: 1, flags: L.CTX_F_ACTIVE | L.CTX_F_INBOUND };
    m.ctxPut(11, { ...base, ulidLocal: a(A1), ulidPeer: a(E1), lpLocal: a(A2), lpPeer: a(E1), ctLocal: 0xe1n, ctPeer: 0xe11n });
    m.ulidPut({ ulidLocal: a(A1), ulidPeer: a(E1), fii: 0 }, 11);
    const many = Array.from({ length: L.RX_LOCS + 2 }, (_, i) => `2001:db8:3:b::${i + 1}`);
    const cases = [
      { id: 21, peer: '2001:db8:1:d::1', ct: 0x2121n, ctPeer: 0x2222n, locals: [A1, A2], peers: ['2001:db8:1:d::1', '2001:db8:2:d::1'], fii: 0 },
      { id: 22, peer: E2, ct: 0x2323n, ctPeer: 0x2424n, locals: [A1, A2], peers: [E2, ...many], fii: 0 },
      { id: tagSlot(0x5eed0099n), peer: '2001:db8:1:d::2', ct: 0x5eed0099n, ctPeer: 0x2626n, locals: [A1, A2, A1], peers: ['2001:db8:1:d::2'], fii: 7 },
    ];
    for (const c of cases) {
      const key = { ulidLocal: a(A1), ulidPeer: a(c.peer), fii: c.fii };
      const ctx: L.Shim6Ctx = { ...base, fii: c.fii, ulidLocal: a(A1), ulidPeer: a(c.peer), lpLocal: a(A2), lpPeer: a(c.peers[c.peers.length - 1]), ctLocal: c.ct, ctPeer: c.ctPeer };
      const locs = [
        ...c.locals.map((x) => ({ key: { ctxId: c.id, side: L.SIDE_LOCAL, addr: a(x) }, loc: { flags: L.LOC_F_VERIFIED, pad: 0 } })),
        ...c.peers.map((x, i) => ({ key: { ctxId: c.id, side: L.SIDE_PEER, addr: a(x) }, loc: { flags: i === 1 ? 0 : L.LOC_F_VERIFIED, pad: 0 } })),
      ];
      // One by one, as the context was written before ctxCreate.
      for (const l of locs) m.locPut(l.key, l.loc);
      m.statsReset(c.id);
      m.ctxPut(c.id, ctx);
      m.tagPut(c.ct, c.id);
      m.ptagPut(c.ctPeer, c.id);
      m.ulidPut(key, c.id);
      const stepwise = dump(c.id, key, c.ct, c.ctPeer);
      expect(stepwise.ctx).toBeDefined();
      expect(stepwise.locs.length).toBe(new Set(locs.map((l) => `${l.key.side}${l.key.addr}`)).size);
      contextDel(m, undefined, c.id);
      expect(m.ctxGet(c.id)).toBeUndefined();
      m.ctxCreate(c.id, ctx, locs);
      expect(dump(c.id, key, c.ct, c.ctPeer)).toEqual(stepwise);
      expect(m.ulidGet(key)).toBe(c.id);
      expect(m.tagGet(c.ct)).toBe(c.id);
      // Its locator keys: from the inline sets, or (overflowed) a walk of shim6_loc.
      const keyText = (k: L.Shim6LocKey) => `${k.ctxId}/${k.side}/${Buffer.from(k.addr).toString('hex')}`;
      const walked = () => m.locs(c.id).map((l) => keyText(l.key)).sort();
      expect(m.ctxLocKeys(c.id).map(keyText).sort()).toEqual(walked());
      m.locDel(locs[0].key);
      m.locDel(locs[locs.length - 1].key);
      expect(m.ctxLocKeys(c.id).map(keyText).sort()).toEqual(walked());
      contextDel(m, undefined, c.id);
      expect(m.locs(c.id)).toEqual([]);
    }
    expect(() => m.ctxCreate(30, m.ctxGet(11)!, [{ key: { ctxId: 31, side: L.SIDE_LOCAL, addr: a(A1) }, loc: { flags: 0, pad: 0 } }])).toThrow(/context 31/);
    m.ulidDel({ ulidLocal: a(A1), ulidPeer: a(E1), fii: 0 });
    m.ctxDel(11);
    expect(n.mapKeys(m.fds.shim6_ulid).length).toBe(0);
  });

  it('the socket-policy gate marks every egress record, present and future, and survives ctxPut', () => {
    const m = fx.maps, a = parseIPv6;
    expect(m.gates() & L.GATE_SOCK_POLICY).toBe(0);
    const key = { ulidLocal: a(A1), ulidPeer: a(B1), fii: 0 };
    const flagsOf = (k: typeof key) => L.decodeShim6Tx(native().mapLookup(m.fds.shim6_tx, Buffer.from(new Uint32Array([pairSlot(k)]).buffer))!).flags;
    expect(flagsOf(key) & L.CTX_F_SOCK_POLICY).toBe(0);
    m.openSockPolicyGate();
    expect(flagsOf(key) & L.CTX_F_SOCK_POLICY).toBe(L.CTX_F_SOCK_POLICY);
    m.ctxPut(1, m.ctxGet(1)!);
    expect(flagsOf(key) & L.CTX_F_SOCK_POLICY).toBe(L.CTX_F_SOCK_POLICY);
    const k2 = { ulidLocal: a(A1), ulidPeer: a('2001:db8:1:f::1'), fii: 0 };
    m.ulidPut(k2, 3);
    expect(flagsOf(k2) & L.CTX_F_SOCK_POLICY).toBe(L.CTX_F_SOCK_POLICY);
    m.ulidDel(k2);
    // Egress behaves the same with the gate open (test runs carry a socket without storage).
    const r = fx.run(fx.progs.head.shim6_egress, buildPacket(ulid(udp)));
    expect(diffPackets(r.data, buildPacket(shimmed(udp, [], 0)))).toBe('');
  });
});

describe('received locators (RFC 6316 SHIM_LOC_*_RECV: shim6_rx last pair, shim6_tx stamp)', () => {
  const hex = (b: Uint8Array | undefined) => (b ? Buffer.from(b).toString('hex') : 'none');
  it('a payload header packet records the locators it arrived on; a plain one the ULIDs; other contexts untouched', async () => {
    for (const id of [1, 2, 3]) fx.maps.statsReset(id);
    expect(fx.maps.rxPair(2)).toBeNull();
    // Shimmed on path 2 (A2 -> B2), arriving at B: context 2 records (local B2, peer A2).
    const r = fx.run(fx.progs.head.shim6_ingress, buildPacket(shimmed(udp, [], 0)));
    expect(r.verdict).toBe(TC_ACT_OK);
    expect([hex(fx.maps.rxPair(2)?.local), hex(fx.maps.rxPair(2)?.peer)]).toEqual([hex(parseIPv6(B2)), hex(parseIPv6(A2))]);
    // Then a plain packet on the ULIDs (the peer moved back to path 1), in a
    // later tick: the stamps that order the two have the coarse clock's resolution.
    await new Promise((r) => setTimeout(r, 20));
    fx.run(fx.progs.head.shim6_ingress, buildPacket(ulid(tcp)));
    expect([hex(fx.maps.rxPair(2)?.local), hex(fx.maps.rxPair(2)?.peer)]).toEqual([hex(parseIPv6(B1)), hex(parseIPv6(A1))]);
    expect(fx.maps.rxPair(1)).toBeNull();
    expect(fx.maps.rxPair(3)).toBeNull();
  });

  it('a packet dropped for a bad locator records nothing', () => {
    fx.maps.statsReset(2);
    const bad = buildPacket({ ...shimmed(udp, [], 0), src: B3 });
    fx.run(fx.progs.head.shim6_ingress, bad);
    expect(fx.maps.rxPair(2)).toBeNull();
  });
});

describe('forked contexts (RFC 6316 §11.1)', () => {
  it('egress: a packet without a socket uses FII 0, and a forked context of the same ULID pair does not capture it', () => {
    const a = parseIPv6;
    // 5: a fork of A's context with B (FII 7) on path 1; only sockets with FII 7 in their policy use it.
    fx.maps.ctxPut(5, { fii: 7, pad: 0, ifindex: 1, flags: L.CTX_F_ACTIVE | L.CTX_F_INBOUND, ulidLocal: a(A1), ulidPeer: a(B1), lpLocal: a(A1), lpPeer: a(B1), ctLocal: 0xf5n, ctPeer: 0xf6n });
    fx.maps.ulidPut({ ulidLocal: a(A1), ulidPeer: a(B1), fii: 7 }, 5);
    try {
      const out = fx.run(fx.progs.head.shim6_egress, buildPacket(ulid(udp)));
      expect(diffPackets(out.data, buildPacket(shimmed(udp, [], 0)))).toBe('');
    } finally {
      fx.maps.ulidDel({ ulidLocal: a(A1), ulidPeer: a(B1), fii: 7 });
      fx.maps.ctxDel(5);
    }
  });
});

// How the agent samples many contexts (src/agent/agent.ts #snapshot): the
// counters read in the mapped arrays must be what stats(id) reads record by
// record, and live (no copy).
describe('counters read in place (countersView / statsFrom)', () => {
  it('agree with stats(id) after traffic both ways; a record not at the given slot is not taken', () => {
    const m = fx.maps;
    fx.run(fx.progs.head.shim6_egress, buildPacket(ulid(udp)));
    fx.run(fx.progs.head.shim6_ingress, buildPacket(shimmed(udp, [], 0)));
    fx.run(fx.progs.head.shim6_ingress, buildPacket({ src: B1, dst: A1, l4: udp }));
    const snap = m.countersView();
    const slotOf = (id: number) => {
      const c = m.ctxGet(id)!;
      return pairSlot({ ulidLocal: c.ulidLocal, ulidPeer: c.ulidPeer, fii: c.fii });
    };
    for (const id of [1, 2, 3]) expect(m.statsFrom(snap, id, slotOf(id))).toEqual(m.stats(id));
    expect(m.stats(1).txPackets).toBeGreaterThan(0n);
    expect(m.stats(1).rxPackets).toBeGreaterThan(0n);
    expect(m.stats(2).rxPackets).toBeGreaterThan(0n);
    expect(m.statsFrom(snap, 1, (slotOf(1) + 1) % L.TX_SLOTS)).toBeUndefined();
    const before = m.statsFrom(snap, 1, slotOf(1))!.txPackets;
    fx.run(fx.progs.head.shim6_egress, buildPacket(ulid(udp)));
    expect(m.statsFrom(snap, 1, slotOf(1))!.txPackets).toBe(before + 1n);
  });

  it('an overflowed pair (home slot taken) is found in shim6_ulid by its cached key, with the ingress record read in place', () => {
    const m = fx.maps;
    const a = parseIPv6;
    const home = { ulidLocal: a(A1), ulidPeer: a(B1), fii: 0 };
    let fii = 1;
    while (pairSlot({ ...home, fii }) !== pairSlot(home)) fii++;
    const key = { ...home, fii };
    m.ctxPut(20, { fii, pad: 0, ifindex: 1, flags: L.CTX_F_ACTIVE | L.CTX_F_INBOUND, ulidLocal: a(A1), ulidPeer: a(B1), lpLocal: a(A2), lpPeer: a(B2), ctLocal: 0x2020n, ctPeer: 0x2021n });
    m.ulidPut(key, 20);
    try {
      const snap = m.countersView();
      expect(m.statsFrom(snap, 20, pairSlot(key))).toBeUndefined(); // its home slot holds context 1
      expect(m.txRecord(snap, 20, pairSlot(key))).toBeUndefined();
      const tx = m.txRecord(snap, 20, pairSlot(key), L.encodeShim6UlidKey(key));
      expect(tx?.off).toBe(0);
      expect(tx!.buf.readUInt32LE(L.Shim6TxLayout.fields.id.offset)).toBe(20);
      expect(m.statsAt(snap, 20, tx)).toEqual(m.stats(20));
      // The home slot's own context is still read in place.
      expect(m.txRecord(snap, 1, pairSlot(home), L.encodeShim6UlidKey(home))?.buf).toBe(snap.tx);
    } finally {
      m.ulidDel(key);
      m.ctxDel(20);
    }
  });
});
