// Address and route requests against a real kernel, from the recorded
// exchange in route-fixtures.ts (route-scenario.ts played by
// route_capture.py in a fresh network namespace; route-live.test.ts replays
// it when run as root). No privileges needed here.

import { describe, expect, it } from 'vitest';
import {
  IFA_F_NODAD,
  IFA_F_NOPREFIXROUTE,
  IFA_F_PERMANENT,
  NetlinkError,
  NetlinkRequests,
  RT_TABLE_COMPAT,
  RT_TABLE_LOCAL,
  RT_TABLE_MAIN,
  RTA_CACHEINFO,
  RTA_PREF,
  RTM_DELADDR,
  RTM_DELROUTE,
  RTM_NEWADDR,
  RTM_NEWROUTE,
  RTN_BLACKHOLE,
  RTN_LOCAL,
  RTN_MULTICAST,
  RTN_UNICAST,
  RTPROT_BOOT,
  RTPROT_KERNEL,
  RTPROT_SHIM6,
  decodeMessages,
  encodeRouteRequest,
  walkAttrs,
  type NetlinkEvent,
  type RouteEvent,
} from '../../../src/netlink/index.js';
import { hex, readable, routeMsg, unhex } from './helpers.js';
import { answerOf, checkCapture, decodeAll, dumpedRoutes, stepOf } from './route-check.js';
import { CAPTURE } from './route-fixtures.js';
import { A1, A2, A3, ROUTE_14010, ROUTE_140, ROUTE_DEFAULT, SEQ0, V0, V1, scenario } from './route-scenario.js';

const C = CAPTURE;
const routesOf = (evs: NetlinkEvent[]): RouteEvent[] => evs.filter((e): e is RouteEvent => e.kind === 'route');

describe(`address and route requests against kernel ${C.kernel} (${C.iproute2})`, () => {
  it('the recorded requests are what the encoders produce today; answers and ip output as expected', () => {
    checkCapture(scenario(), C);
  });

  it('ACKs: NLMSG_ERROR 0 echoing the request type', () => {
    const acks = ['addrAdd', 'addrReplace', 'routeAdd', 'routeAddBigTable', 'routeAddDefault', 'routeReplace', 'routeBlackhole',
      'routeDel', 'routeDelBigTable', 'routeDelDefault', 'routeDelBlackhole', 'routeDelTwin', 'addrDel'];
    expect(Object.fromEntries(acks.map((n) => [n, answerOf(C, n)]))).toMatchObject(
      Object.fromEntries(acks.map((n) => [n, { kind: 'error', errno: 0, requestType: n.startsWith('addr') ? (n === 'addrDel' ? RTM_DELADDR : RTM_NEWADDR) : n.startsWith('routeDel') ? RTM_DELROUTE : RTM_NEWROUTE }])),
    );
    // An ACK carries no message and is one datagram of its own.
    for (const n of acks) expect(stepOf(C, n).grams).toHaveLength(1);
  });

  it('refusals: errno, name and extended-ACK text through NetlinkRequests', async () => {
    const cases: Array<[string, string, string | undefined]> = [
      ['addrAddAgain', 'EEXIST', 'ipv6: address already assigned'],
      ['addrNoDev', 'ENODEV', 'ipv6: Unable to find the interface'],
      ['routeAddAgain', 'EEXIST', undefined],
      ['routeNoDev', 'ENODEV', undefined],
      ['routeBadPrefsrc', 'EINVAL', 'Invalid source address'],
      ['routeNoNexthop', 'ENODEV', undefined],
      ['routeGwOffLink', 'EHOSTUNREACH', undefined],
      ['routeDelAgain', 'ESRCH', undefined],
      ['routeDelWrongProto', 'ESRCH', undefined],
      ['addrDelAgain', 'EADDRNOTAVAIL', 'ipv6: address not found'],
      ['addrDelWrongLen', 'EADDRNOTAVAIL', 'ipv6: address not found'],
    ];
    const reqs = new NetlinkRequests(SEQ0);
    const results: Array<Promise<unknown>> = [];
    for (const [name] of cases) {
      const seq = answerOf(C, name).seq;
      results.push(reqs.expect(seq).then(() => 'ack', (e: unknown) => e));
    }
    for (const [name] of cases) expect(reqs.handle(decodeAll(stepOf(C, name).grams))).toEqual([]);
    expect(reqs.pending).toBe(0);
    const errs = (await Promise.all(results)) as NetlinkError[];
    expect(errs.map((e, i) => [cases[i][0], e instanceof NetlinkError, e.code, e.extack])).toEqual(cases.map(([n, code, text]) => [n, true, code, text]));
    expect(errs[4].message).toBe(`RTM_NEWROUTE (seq ${answerOf(C, 'routeBadPrefsrc').seq}) failed: EINVAL (errno 22): Invalid source address`);
    expect(errs[0]).toMatchObject({ errno: 17, code: 'EEXIST', requestType: RTM_NEWADDR, seq: answerOf(C, 'addrAddAgain').seq });
  });

  it('a route whose prefsrc is a nodad address added just before, in the same datagram, is accepted', () => {
    expect([answerOf(C, 'addrThenRoute', 0), answerOf(C, 'addrThenRoute', 1)]).toMatchObject([
      { errno: 0, requestType: RTM_NEWADDR },
      { errno: 0, requestType: RTM_NEWROUTE },
    ]);
    expect(readable(routesOf(decodeAll(stepOf(C, 'addrThenRoute').mon)).filter((r) => r.table === 143))).toMatchObject([
      { op: 'new', seq: answerOf(C, 'addrThenRoute', 1).seq, dst: '2001:db8:6::', prefsrc: A3, protocol: RTPROT_SHIM6 },
    ]);
  });

  it('the kernel echoes the whole refused request (no NETLINK_CAP_ACK) before the extended-ACK TLVs', () => {
    const s = stepOf(C, 'routeBadPrefsrc');
    const answer = unhex(s.grams[0]);
    expect(hex(answer.subarray(20, 20 + unhex(s.req!).length))).toBe(s.req);
  });

  it('addresses: ours and iproute2\'s (nodad noprefixroute) are alike: flags PERMANENT|NODAD|NOPREFIXROUTE', () => {
    const addrs = decodeAll(stepOf(C, 'addrDump').grams).filter((e) => e.kind === 'addr' && e.ifindex === V0 && e.scope === 0);
    expect(readable(addrs).map((a) => (a as { address: string }).address).sort()).toEqual([A1, A2]);
    for (const a of addrs) expect(a).toMatchObject({ prefixLen: 64, flags: IFA_F_PERMANENT | IFA_F_NODAD | IFA_F_NOPREFIXROUTE, preferredLft: 0xffffffff, validLft: 0xffffffff });
    expect(stepOf(C, 'addrShow').out).toContain(`inet6 ${A1}/64 scope global nodad noprefixroute \n       valid_lft forever preferred_lft forever\n`);
    expect(stepOf(C, 'addrShowAfter').out).not.toContain(A1);
  });

  it('ip -6 route show: mtu, src, metric and proto 140 exactly as for the iproute2-made twins', () => {
    expect(stepOf(C, 'show140').out).toBe('2001:db8:2::/48 dev v0 proto 140 src 2001:db8:1::1 metric 1024 mtu 1400 pref medium\n');
    expect(stepOf(C, 'show14010').out).toBe('2001:db8:3::/48 dev v0 proto 140 src 2001:db8:1::1 metric 100 mtu 1280 pref medium\n');
    expect(stepOf(C, 'show141').out).toBe('default via fe80::1 dev v0 proto 140 src 2001:db8:1::1 metric 1024 pref medium\n');
    expect(stepOf(C, 'show140Replaced').out).toBe('2001:db8:2::/48 dev v0 proto 140 src 2001:db8:1::1 metric 1024 mtu 1300 pref medium\n');
    // A blackhole route gets lo as its device.
    expect(stepOf(C, 'show140Blackhole').out).toContain('blackhole 2001:db8:4::/48 dev lo proto 140 metric 1024 pref medium\n');
  });

  it('route dump: our routes, the iproute2 twins, a multipath route, and the kernel\'s own', () => {
    const routes = readable(dumpedRoutes(C, 'routeDump') as unknown as NetlinkEvent[]);
    const common = { kind: 'route', op: 'new', srcLen: 0, scope: 0, flags: 0 };
    expect(routes.filter((r) => [140, 14010, 141, 152].includes((r as RouteEvent).table))).toEqual([
      { ...common, table: 140, dstLen: 48, dst: '2001:db8:2::', oif: V0, prefsrc: A1, priority: 1024, mtu: 1400, protocol: RTPROT_SHIM6, type: RTN_UNICAST },
      { ...common, table: 141, dstLen: 0, oif: V0, gateway: 'fe80::1', prefsrc: A1, priority: 1024, protocol: RTPROT_SHIM6, type: RTN_UNICAST },
      {
        ...common, table: 152, dstLen: 48, dst: '2001:db8:7::', priority: 1024, protocol: RTPROT_BOOT, type: RTN_UNICAST,
        nexthops: [{ ifindex: V0, gateway: 'fe80::1', weight: 1, flags: 0 }, { ifindex: V1, gateway: 'fe80::2', weight: 3, flags: 0 }],
      },
      { ...common, table: 14010, dstLen: 48, dst: '2001:db8:3::', oif: V0, prefsrc: A1, priority: 100, mtu: 1280, protocol: RTPROT_SHIM6, type: RTN_UNICAST },
    ]);
    // Kernel routes: fe80::/64 in main, local and multicast routes in local.
    const kernel = dumpedRoutes(C, 'routeDump').filter((r) => r.protocol === RTPROT_KERNEL);
    expect(new Set(kernel.map((r) => `${r.table}/${r.type}`))).toEqual(new Set([`${RT_TABLE_MAIN}/${RTN_UNICAST}`, `${RT_TABLE_LOCAL}/${RTN_LOCAL}`, `${RT_TABLE_LOCAL}/${RTN_MULTICAST}`]));
    // Tables above 255 are dumped with rtm_table RT_TABLE_COMPAT (252) and the id in RTA_TABLE.
    const rtmTables = new Map<number, number>();
    for (const g of stepOf(C, 'routeDump').grams) {
      const buf = unhex(g);
      for (let off = 0; off < buf.length; off += (new DataView(buf.buffer, off).getUint32(0, true) + 3) & ~3) {
        const [ev] = decodeMessages(buf.subarray(off, off + new DataView(buf.buffer, off).getUint32(0, true)));
        if (ev.kind === 'route') rtmTables.set(ev.table, buf[off + 16 + 4]);
      }
    }
    expect([14010, 15010, 140, 141, RT_TABLE_MAIN].map((t) => rtmTables.get(t))).toEqual([RT_TABLE_COMPAT, RT_TABLE_COMPAT, 140, 141, RT_TABLE_MAIN]);
  });

  it('route notifications of our requests carry the request\'s seq; address ones seq 0, and later', () => {
    const seqOf = (n: string): number => answerOf(C, n).seq;
    expect(readable(decodeAll(stepOf(C, 'routeAdd').mon))).toEqual([
      { kind: 'route', op: 'new', seq: seqOf('routeAdd'), table: 140, dstLen: 48, dst: '2001:db8:2::', srcLen: 0, oif: V0, prefsrc: A1, priority: 1024, mtu: 1400, protocol: RTPROT_SHIM6, type: RTN_UNICAST, scope: 0, flags: 0 },
    ]);
    expect(routesOf(decodeAll(stepOf(C, 'routeReplace').mon))).toMatchObject([{ op: 'new', seq: seqOf('routeReplace'), table: 140, mtu: 1300 }]);
    expect(routesOf(decodeAll(stepOf(C, 'routeBlackhole').mon))).toMatchObject([{ op: 'new', table: 140, type: RTN_BLACKHOLE, oif: 1 }]);
    for (const n of ['routeDel', 'routeDelBigTable', 'routeDelDefault', 'routeDelBlackhole', 'routeDelTwin']) {
      expect(routesOf(decodeAll(stepOf(C, n).mon)).map((r) => [r.op, r.seq]), n).toEqual([['del', seqOf(n)]]);
    }
    // Refused requests notify nothing.
    for (const n of ['routeAddAgain', 'routeNoDev', 'routeBadPrefsrc', 'routeDelAgain', 'addrNoDev']) expect(stepOf(C, n).mon, n).toEqual([]);
    // RTM_NEWADDR (and its local route) is sent from addrconf's DAD work, with seq 0, before or after the
    // ACK (the work takes the RTNL lock between requests): look for it anywhere after the request.
    const after = (n: string): NetlinkEvent[] => C.steps.slice(C.steps.findIndex((s) => s.name === n)).flatMap((s) => decodeAll(s.mon));
    const newA1 = readable(after('addrAdd')).filter((e) => (e as { kind: string; address?: string }).kind === 'addr' && (e as { address: string }).address === A1);
    expect(newA1.length).toBeGreaterThanOrEqual(2); // the add and the replace
    expect(newA1.slice(0, 2)).toMatchObject([
      { op: 'new', seq: 0, flags: IFA_F_PERMANENT | IFA_F_NODAD | IFA_F_NOPREFIXROUTE },
      { op: 'new', seq: 0, flags: IFA_F_PERMANENT | IFA_F_NODAD | IFA_F_NOPREFIXROUTE },
    ]);
    expect(readable(routesOf(after('addrAdd')))).toContainEqual(expect.objectContaining({ seq: 0, table: RT_TABLE_LOCAL, dst: A1, type: RTN_LOCAL }));
    for (const s of C.steps) for (const e of decodeAll(s.mon)) if (e.kind === 'addr') expect(e.seq, s.name).toBe(0);
    // Deleting the address: RTM_DELADDR and the local route's RTM_DELROUTE, synchronously.
    expect(routesOf(decodeAll(stepOf(C, 'addrDel').mon))).toMatchObject([{ op: 'del', seq: 0, table: RT_TABLE_LOCAL, type: RTN_LOCAL, protocol: RTPROT_KERNEL }]);
  });

  it('every kernel route message re-encodes byte for byte from its decoded fields (round trip)', () => {
    let n = 0;
    for (const s of C.steps) {
      for (const g of [...s.grams, ...s.mon]) {
        const buf = unhex(g);
        let off = 0;
        const evs = decodeMessages(buf);
        let i = 0;
        while (off < buf.length) {
          const m = buf.subarray(off, off + new DataView(buf.buffer, off).getUint32(0, true));
          const dv = new DataView(m.buffer, m.byteOffset, m.byteLength);
          const ev = evs[i++];
          off += (m.length + 3) & ~3;
          if (ev.kind !== 'route') continue;
          const attrs = walkAttrs(m, 28, m.length).attrs;
          const raw = (t: number): Uint8Array | undefined => {
            const a = attrs.find((x) => x.type === t);
            return a && m.subarray(a.start, a.start + a.len);
          };
          const rebuilt = routeMsg({
            op: ev.op, nlFlags: dv.getUint16(6, true), seq: ev.seq, pid: dv.getUint32(12, true),
            table: ev.table, dstLen: ev.dstLen, srcLen: ev.srcLen, protocol: ev.protocol, scope: ev.scope, type: ev.type, flags: ev.flags,
            dst: ev.dst, src: ev.src, prefsrc: ev.prefsrc, mtu: ev.mtu, priority: ev.priority, gateway: ev.gateway, oif: ev.oif, nexthops: ev.nexthops,
            cacheinfo: raw(RTA_CACHEINFO), pref: raw(RTA_PREF)?.[0],
          });
          expect(hex(rebuilt)).toBe(hex(m));
          n++;
        }
      }
    }
    expect(n).toBeGreaterThan(30);
  });

  it('a dumped route fed back to encodeRouteRequest describes the same route', () => {
    const dumped = dumpedRoutes(C, 'routeDump');
    for (const want of [ROUTE_140, ROUTE_14010, ROUTE_DEFAULT]) {
      const r = dumped.find((x) => x.table === want.table)!;
      const req = encodeRouteRequest('new', 1, {
        table: r.table, dst: r.dst ?? new Uint8Array(16), dstLen: r.dstLen, oif: r.oif, gateway: r.gateway, prefsrc: r.prefsrc,
        mtu: r.mtu, priority: r.priority, protocol: r.protocol,
      });
      // The request decodes (the decoder reads requests too) to the dumped route.
      const [ev] = decodeMessages(req);
      expect(ev).toEqual({ ...r, seq: 1 });
      // And matches the scenario's request apart from the explicit priority.
      const orig = encodeRouteRequest('new', 1, { ...want, priority: r.priority });
      expect(hex(req)).toBe(hex(orig));
    }
  });
});
