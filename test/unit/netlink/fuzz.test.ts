// Deterministic fuzzing of decodeMessages (and AddressTable behind it):
// random buffers, and mutations of real kernel datagrams and hand-built
// messages (bit flips, overwrites, truncation, splices, length-field games on
// nlmsg_len / rta_len). Decoding must never throw and every event must be
// well-formed.
//
// NETLINK_FUZZ_ITERS (default 200,000) and NETLINK_FUZZ_SEED override the run.

import { describe, expect, it } from 'vitest';
import {
  AddressTable,
  IFA_F_PERMANENT,
  IFA_F_TENTATIVE,
  IFF_RUNNING,
  IFF_UP,
  NLM_F_ACK_TLVS,
  NLM_F_MULTI,
  NLMSGERR_ATTR_MSG,
  NetlinkRequests,
  decodeMessages,
  encodeAddrRequest,
  encodeDumpRequest,
  encodeRouteRequest,
  type NetlinkEvent,
} from '../../../src/netlink/index.js';
import * as K from './kernel-fixtures.js';
import { Rng, addrMsg, concat, cstr, doneMsg, errorMsg, i32, ip6, linkMsg, nlmsg, routeMsg, rtattr, unhex } from './helpers.js';
import { CAPTURE } from './route-fixtures.js';

const ITERS = Number(process.env.NETLINK_FUZZ_ITERS ?? 200_000);
const SEED = Number(process.env.NETLINK_FUZZ_SEED ?? 0x6e6c);
if (!Number.isSafeInteger(ITERS) || ITERS < 1) throw new Error(`NETLINK_FUZZ_ITERS must be a positive integer`);

const KINDS = new Set(['addr', 'link', 'route', 'done', 'error', 'overrun', 'ignored', 'malformed']);

const seeds: Uint8Array[] = [
  ...Object.values(K)
    .filter((v): v is readonly string[] => Array.isArray(v))
    .flatMap((grams) => grams.map(unhex)),
  concat(
    addrMsg({ seq: 1, nlFlags: NLM_F_MULTI, ifindex: 2, prefixLen: 64, flags: IFA_F_TENTATIVE, ifaFlags: IFA_F_PERMANENT, address: '2001:db8::1', label: 'eth0', cacheinfo: [1, 2, 3, 4] }),
    linkMsg({ seq: 1, nlFlags: NLM_F_MULTI, ifindex: 2, flags: IFF_UP | IFF_RUNNING, name: 'eth0', mtu: 1500, operstate: 6 }),
    doneMsg(1),
  ),
  addrMsg({ ifindex: 5, prefixLen: 128, address: '2001:db8::ffff', local: '2001:db8::5' }),
  errorMsg(8, -22, concat(encodeDumpRequest('addr', 8), rtattr(NLMSGERR_ATTR_MSG, cstr('nope'))), NLM_F_ACK_TLVS),
  nlmsg(3, concat(i32(-22), rtattr(NLMSGERR_ATTR_MSG, cstr('bad'))), { nlFlags: NLM_F_MULTI | NLM_F_ACK_TLVS }),
  encodeDumpRequest('link', 3),
  // Real route/address request exchanges (route-fixtures.ts): requests, answers, notifications.
  ...CAPTURE.steps.flatMap((st) => [...(st.req ? [st.req] : []), ...st.grams, ...st.mon]).map(unhex),
  concat(
    routeMsg({ seq: 2, nlFlags: NLM_F_MULTI, table: 14010, dstLen: 48, dst: '2001:db8:3::', prefsrc: '2001:db8:1::1', mtu: 1280, priority: 100, oif: 10, protocol: 140, type: 1, cacheinfo: new Uint8Array(32), pref: 0 }),
    routeMsg({ table: 152, dstLen: 48, dst: '2001:db8:7::', src: '2001:db8:8::', srcLen: 64, protocol: 3, type: 1, nexthops: [{ ifindex: 10, gateway: 'fe80::1' }, { ifindex: 11, weight: 3 }] }),
    doneMsg(2),
  ),
  encodeRouteRequest('new', 4, { table: 141, dst: ip6('::'), dstLen: 0, gateway: ip6('fe80::1'), oif: 10, prefsrc: ip6('2001:db8:1::1'), mtu: 1400, priority: 5 }),
  encodeAddrRequest('new', 5, { ifindex: 10, address: ip6('2001:db8:1::1'), prefixLen: 64, flags: 0x202, replace: true }),
];

/** Offsets that look like nlmsghdr / rtattr starts in a (possibly mutated) buffer. */
function lengthFieldOffsets(b: Uint8Array): number[] {
  const out: number[] = [];
  for (let o = 0; o + 4 <= b.length; o += 4) out.push(o);
  return out;
}

function mutate(r: Rng, src: Uint8Array): Uint8Array {
  let b: Uint8Array = src.slice();
  const n = 1 + r.int(4);
  for (let k = 0; k < n; k++) {
    switch (r.int(9)) {
      case 0: // bit flips
        for (let i = 0, m = 1 + r.int(8); i < m && b.length; i++) b[r.int(b.length)] ^= 1 << r.int(8);
        break;
      case 1: // random byte overwrite
        for (let i = 0, m = 1 + r.int(4); i < m && b.length; i++) b[r.int(b.length)] = r.int(256);
        break;
      case 2: // truncate
        b = b.subarray(0, r.int(b.length + 1)).slice();
        break;
      case 3: // splice with another seed
        {
          const o = r.pick(seeds);
          const cut = r.int(b.length + 1);
          b = concat(b.subarray(0, cut), o.subarray(r.int(o.length + 1)));
        }
        break;
      case 4: // nlmsg_len / rta_len games (u32 or u16 at an aligned offset)
        {
          const offs = lengthFieldOffsets(b);
          if (!offs.length) break;
          const o = r.pick(offs);
          const dv = new DataView(b.buffer, b.byteOffset, b.byteLength);
          const v = r.pick([0, 1, 3, 4, 5, 15, 16, 17, 19, 20, 24, 0xffff, 0xffffffff, b.length, b.length - o, b.length - o + 1, r.u32()]);
          if (r.int(2)) dv.setUint32(o, v >>> 0, true);
          else dv.setUint16(o, v & 0xffff, true);
        }
        break;
      case 5: // insert random bytes
        {
          const at = r.int(b.length + 1);
          b = concat(b.subarray(0, at), r.bytes(1 + r.int(8)), b.subarray(at));
        }
        break;
      case 6: // delete bytes
        {
          const at = r.int(b.length + 1);
          b = concat(b.subarray(0, at), b.subarray(Math.min(b.length, at + 1 + r.int(8))));
        }
        break;
      case 7: // change message type to an interesting one
        if (b.length >= 6) new DataView(b.buffer, b.byteOffset).setUint16(4, r.pick([1, 2, 3, 4, 16, 17, 20, 21, 24, 25, 0xffff]), true);
        break;
      default: // change family byte
        if (b.length >= 17) b[16] = r.pick([0, 2, 7, 10, 255]);
    }
  }
  return b;
}

function check(evs: NetlinkEvent[], len: number): void {
  if (!Array.isArray(evs)) throw new Error('not an array');
  for (const e of evs) {
    if (!KINDS.has(e.kind)) throw new Error(`bad kind ${String(e.kind)}`);
    if (e.kind === 'addr' && (!(e.address instanceof Uint8Array) || e.address.length !== 16 || e.prefixLen > 255)) throw new Error('bad addr');
    if (e.kind === 'malformed' && (e.offset < 0 || e.offset > len || typeof e.reason !== 'string')) throw new Error(`bad malformed ${JSON.stringify(e)}`);
    if (e.kind === 'link' && typeof e.name !== 'string') throw new Error('bad link');
    if (e.kind === 'route') checkRoute(e);
    if ((e.kind === 'error' || e.kind === 'done') && (e.errno < 0 || !Number.isInteger(e.errno))) throw new Error('bad errno');
  }
}

const isAddr = (a: unknown): boolean => a instanceof Uint8Array && a.length === 16;
const isU32 = (n: unknown): boolean => typeof n === 'number' && Number.isInteger(n) && n >= 0 && n <= 0xffffffff;

function checkRoute(e: Extract<NetlinkEvent, { kind: 'route' }>): void {
  const bad = (why: string): never => {
    throw new Error(`bad route (${why}) ${JSON.stringify(e)}`);
  };
  if (e.op !== 'new' && e.op !== 'del') bad('op');
  if (!isU32(e.table) || !isU32(e.flags)) bad('table/flags');
  if (e.dstLen > 128 || e.srcLen > 128) bad('prefix length');
  for (const k of ['dst', 'src', 'gateway', 'prefsrc'] as const) if (e[k] !== undefined && !isAddr(e[k])) bad(k);
  for (const k of ['oif', 'priority', 'mtu'] as const) if (e[k] !== undefined && !isU32(e[k])) bad(k);
  for (const k of ['protocol', 'type', 'scope'] as const) if (!(e[k] >= 0 && e[k] <= 255)) bad(k);
  if (e.nexthops) for (const nh of e.nexthops) if ((nh.gateway !== undefined && !isAddr(nh.gateway)) || !(nh.weight >= 1 && nh.weight <= 256)) bad('nexthop');
}

describe('decodeMessages fuzz', () => {
  it(`${ITERS} random and mutated buffers: never throws, always well-formed events`, () => {
    const r = new Rng(SEED);
    const table = new AddressTable();
    const reqs = new NetlinkRequests();
    const counts: Record<string, number> = {};
    for (let i = 0; i < ITERS; i++) {
      const buf = i % 4 === 0 ? r.bytes(r.int(320)) : mutate(r, r.pick(seeds));
      let evs: NetlinkEvent[];
      try {
        evs = decodeMessages(buf);
        check(evs, buf.length);
        if (i % 16 === 0) table.applyAll(evs);
        if (i % 16 === 8) {
          for (const e of evs) if (e.kind === 'error') reqs.expect(e.seq).catch(() => undefined);
          if (reqs.handle(evs).some((e) => e.kind === 'error' && reqs.isPending(e.seq))) throw new Error('handle() left an answer');
        }
      } catch (e) {
        throw new Error(`iteration ${i} (seed ${SEED}) buffer ${Buffer.from(buf).toString('hex')}: ${String(e)}`);
      }
      for (const e of evs) counts[e.kind] = (counts[e.kind] ?? 0) + 1;
    }
    // The mutations reach every decoder path, not just the header check.
    for (const k of KINDS) expect(counts[k] ?? 0, k).toBeGreaterThan(ITERS >= 10_000 ? 50 : 0);
    expect(() => table.addresses()).not.toThrow();
  });

  it('unmutated seeds decode without malformed events', () => {
    for (const s of seeds) expect(decodeMessages(s).filter((e) => e.kind === 'malformed')).toEqual([]);
  });
});
