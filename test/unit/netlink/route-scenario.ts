// The address/route request scenario played against a real kernel by
// route_capture.py (in a fresh network namespace, see route-live.test.ts)
// and recorded in route-fixtures.ts. The requests are the codec's own output,
// so route.test.ts can check that today's encoders still produce the bytes
// the kernel accepted.
//
// Namespace: lo (1) and a veth pair v0 (ifindex 10) / v1 (11) with fixed MACs,
// both up, DAD off (so nothing happens asynchronously), documentation
// addresses 2001:db8::/32 only. Our routes go in tables 140, 14010
// (14000 + ifindex of v0) and 141; iproute2 adds the same routes in tables
// 150, 15010 and 151 (proto 140 too) so `ip -6 route show` and the decoded
// dumps can be compared.

import {
  IFA_F_NODAD,
  IFA_F_NOPREFIXROUTE,
  RTPROT_BOOT,
  encodeAddrRequest,
  encodeDumpRequest,
  encodeRouteRequest,
  type AddrRequest,
  type RouteRequest,
} from '../../../src/netlink/index.js';
import { concat, ip6 } from './helpers.js';

export const V0 = 10;
export const V1 = 11;
export const SEQ0 = 100;

export const A1 = '2001:db8:1::1';
export const A2 = '2001:db8:1::2';
export const A3 = '2001:db8:1::3';

export interface SendStep {
  readonly name: string;
  /** What the step does, for the fixture's comments. */
  readonly doc: string;
  /** One datagram: one request, or several back to back. */
  readonly send: Uint8Array;
  /** Expected errno of the NLMSG_ERROR answer to each request in it (0 = ACK); undefined for dumps. */
  readonly errno?: number;
}
export interface ShStep {
  readonly name: string;
  readonly doc: string;
  readonly sh: string;
  /** Seconds to wait after the command. */
  readonly settle?: number;
}
export type Step = SendStep | ShStep;

export const ADDR_A1: AddrRequest = { ifindex: V0, address: ip6(A1), prefixLen: 64, flags: IFA_F_NODAD | IFA_F_NOPREFIXROUTE };

export const ROUTE_140: RouteRequest = { table: 140, dst: ip6('2001:db8:2::'), dstLen: 48, oif: V0, prefsrc: ip6(A1), mtu: 1400 };
export const ROUTE_140_REPLACED: RouteRequest = { ...ROUTE_140, mtu: 1300, replace: true };
export const ROUTE_14010: RouteRequest = {
  table: 14000 + V0, dst: ip6('2001:db8:3::'), dstLen: 48, oif: V0, prefsrc: ip6(A1), mtu: 1280, priority: 100,
};
export const ROUTE_DEFAULT: RouteRequest = { table: 141, dst: ip6('::'), dstLen: 0, gateway: ip6('fe80::1'), oif: V0, prefsrc: ip6(A1) };
export const ROUTE_BLACKHOLE: RouteRequest = { table: 140, dst: ip6('2001:db8:4::'), dstLen: 48, type: 'blackhole' };

/** The iproute2 commands that add the same routes (in table + 10 / + 1000). */
export const IP_TWINS = [
  'ip -6 route add 2001:db8:2::/48 dev v0 table 150 proto 140 src 2001:db8:1::1 mtu 1400',
  'ip -6 route add 2001:db8:3::/48 dev v0 table 15010 proto 140 src 2001:db8:1::1 metric 100 mtu 1280',
  'ip -6 route add default via fe80::1 dev v0 table 151 proto 140 src 2001:db8:1::1',
];

/** [our table, iproute2's table] pairs whose `ip -6 route show` must match. */
export const TWIN_TABLES: ReadonlyArray<readonly [number, number]> = [
  [140, 150],
  [14010, 15010],
  [141, 151],
];

export function scenario(): Step[] {
  let seq = SEQ0;
  const steps: Step[] = [];
  const send = (name: string, doc: string, req: (seq: number) => Uint8Array, errno?: number): void => {
    const s = seq++;
    steps.push({ name, doc, send: req(s), ...(errno !== undefined ? { errno } : {}) });
  };
  const sh = (name: string, doc: string, cmd: string, settle?: number): void => {
    steps.push({ name, doc, sh: cmd, ...(settle ? { settle } : {}) });
  };

  sh(
    'setup',
    'lo up; veth v0 (10) / v1 (11) up, DAD off',
    [
      'sysctl -qw net.ipv6.conf.all.accept_dad=0 net.ipv6.conf.default.accept_dad=0',
      'ip link set lo up',
      'ip link add v0 index 10 address 02:00:00:00:00:01 type veth peer name v1 index 11 address 02:00:00:00:00:02',
      'ip link set v0 up',
      'ip link set v1 up',
    ].join(' && '),
    2,
  );

  // --- addresses ------------------------------------------------------------
  send('addrAdd', `RTM_NEWADDR ${A1}/64 nodad noprefixroute on v0`, (s) => encodeAddrRequest('new', s, ADDR_A1), 0);
  send('addrAddAgain', 'the same RTM_NEWADDR again (NLM_F_EXCL)', (s) => encodeAddrRequest('new', s, ADDR_A1), 17);
  send('addrReplace', 'the same address with replace (NLM_F_REPLACE)', (s) => encodeAddrRequest('new', s, { ...ADDR_A1, replace: true }), 0);
  send('addrNoDev', 'RTM_NEWADDR on ifindex 9999', (s) => encodeAddrRequest('new', s, { ...ADDR_A1, ifindex: 9999 }), 19);
  sh('addrTwin', 'iproute2 adds A2 the same way', `ip -6 addr add ${A2}/64 dev v0 nodad noprefixroute`);
  sh('addrShow', 'ip -6 addr show dev v0', 'ip -6 addr show dev v0');
  send('addrDump', 'RTM_GETADDR dump', (s) => encodeDumpRequest('addr', s));

  // --- routes ---------------------------------------------------------------
  send('routeAdd', 'RTM_NEWROUTE 2001:db8:2::/48 dev v0 src A1 mtu 1400 table 140', (s) => encodeRouteRequest('new', s, ROUTE_140), 0);
  send('routeAddAgain', 'the same RTM_NEWROUTE again (NLM_F_EXCL)', (s) => encodeRouteRequest('new', s, ROUTE_140), 17);
  send('routeAddBigTable', 'RTM_NEWROUTE 2001:db8:3::/48 dev v0 src A1 metric 100 mtu 1280 table 14010 (RTA_TABLE)', (s) => encodeRouteRequest('new', s, ROUTE_14010), 0);
  send('routeAddDefault', 'RTM_NEWROUTE default via fe80::1 dev v0 src A1 table 141', (s) => encodeRouteRequest('new', s, ROUTE_DEFAULT), 0);
  sh('routeTwins', 'iproute2 adds the same three routes in tables 150, 15010, 151', IP_TWINS.join(' && '));
  sh(
    'routeMultipath',
    'iproute2 adds a multipath route in table 152',
    'ip -6 route add 2001:db8:7::/48 table 152 nexthop via fe80::1 dev v0 weight 1 nexthop via fe80::2 dev v1 weight 3',
  );
  for (const [ours, theirs] of TWIN_TABLES) {
    sh(`show${ours}`, `ip -6 route show table ${ours}`, `ip -6 route show table ${ours}`);
    sh(`show${theirs}`, `ip -6 route show table ${theirs}`, `ip -6 route show table ${theirs}`);
  }
  send('routeDump', 'RTM_GETROUTE AF_INET6 dump (every table)', (s) => encodeDumpRequest('route', s));
  // A route whose prefsrc is an address added in the same datagram, just before it.
  steps.push({
    name: 'addrThenRoute',
    doc: `RTM_NEWADDR ${A3}/64 nodad noprefixroute, then in the same datagram RTM_NEWROUTE 2001:db8:6::/48 dev v0 src ${A3} table 143`,
    send: concat(
      encodeAddrRequest('new', seq, { ...ADDR_A1, address: ip6(A3) }),
      encodeRouteRequest('new', seq + 1, { table: 143, dst: ip6('2001:db8:6::'), dstLen: 48, oif: V0, prefsrc: ip6(A3) }),
    ),
    errno: 0,
  });
  seq += 2;
  send('routeReplace', 'RTM_NEWROUTE table 140 route again with mtu 1300 and NLM_F_REPLACE', (s) => encodeRouteRequest('new', s, ROUTE_140_REPLACED), 0);
  sh('show140Replaced', 'ip -6 route show table 140', 'ip -6 route show table 140');
  send('routeBlackhole', 'RTM_NEWROUTE blackhole 2001:db8:4::/48 table 140', (s) => encodeRouteRequest('new', s, ROUTE_BLACKHOLE), 0);
  sh('show140Blackhole', 'ip -6 route show table 140', 'ip -6 route show table 140');

  // --- refused routes -------------------------------------------------------
  send('routeNoDev', 'RTM_NEWROUTE via oif 9999', (s) => encodeRouteRequest('new', s, { ...ROUTE_140, dst: ip6('2001:db8:5::'), oif: 9999 }), 19);
  send('routeBadPrefsrc', 'RTM_NEWROUTE with a prefsrc that is not local', (s) => encodeRouteRequest('new', s, { ...ROUTE_140, dst: ip6('2001:db8:5::'), prefsrc: ip6('2001:db8:9::9') }), 22);
  send('routeNoNexthop', 'RTM_NEWROUTE unicast with neither oif nor gateway', (s) => encodeRouteRequest('new', s, { table: 140, dst: ip6('2001:db8:5::'), dstLen: 48 }));
  send('routeGwOffLink', 'RTM_NEWROUTE default via 2001:db8:5::1 dev v0 (no route to the gateway)', (s) => encodeRouteRequest('new', s, { table: 142, dst: ip6('::'), dstLen: 0, gateway: ip6('2001:db8:5::1'), oif: V0 }));

  // --- deletions ------------------------------------------------------------
  send('routeDel', 'RTM_DELROUTE of the replaced table 140 route, same fields as the replace', (s) => encodeRouteRequest('del', s, ROUTE_140_REPLACED), 0);
  send('routeDelAgain', 'the same RTM_DELROUTE again', (s) => encodeRouteRequest('del', s, ROUTE_140_REPLACED), 3);
  send('routeDelBigTable', 'RTM_DELROUTE table 14010', (s) => encodeRouteRequest('del', s, ROUTE_14010), 0);
  send('routeDelDefault', 'RTM_DELROUTE default table 141', (s) => encodeRouteRequest('del', s, ROUTE_DEFAULT), 0);
  send('routeDelBlackhole', 'RTM_DELROUTE blackhole table 140', (s) => encodeRouteRequest('del', s, ROUTE_BLACKHOLE), 0);
  send('routeDelWrongProto', 'RTM_DELROUTE of the iproute2 twin in table 150 with protocol RTPROT_BOOT (it is 140)', (s) => encodeRouteRequest('del', s, { ...ROUTE_140, table: 150, protocol: RTPROT_BOOT }), 3);
  send('routeDelTwin', 'RTM_DELROUTE of the twin in table 150 by dst only', (s) => encodeRouteRequest('del', s, { table: 150, dst: ip6('2001:db8:2::'), dstLen: 48 }), 0);
  sh('showAfter', 'ip -6 route show table 140; table 14010; table 141; table 150', 'ip -6 route show table 140; ip -6 route show table 14010; ip -6 route show table 141; ip -6 route show table 150');

  send('addrDel', `RTM_DELADDR ${A1}/64`, (s) => encodeAddrRequest('del', s, ADDR_A1), 0);
  send('addrDelAgain', 'the same RTM_DELADDR again', (s) => encodeAddrRequest('del', s, ADDR_A1), 99);
  send('addrDelWrongLen', `RTM_DELADDR ${A2}/128 (it is /64)`, (s) => encodeAddrRequest('del', s, { ...ADDR_A1, address: ip6(A2), prefixLen: 128 }), 99);
  sh('addrShowAfter', 'ip -6 addr show dev v0 scope global', 'ip -6 addr show dev v0 scope global');
  return steps;
}

/** The scenario as route_capture.py reads it. */
export function scenarioJson(steps: readonly Step[]): string {
  const hex = (b: Uint8Array): string => Buffer.from(b).toString('hex');
  return JSON.stringify({
    steps: steps.map((s) => ('sh' in s ? { name: s.name, sh: s.sh, ...(s.settle ? { settle: s.settle } : {}) } : { name: s.name, send: hex(s.send) })),
  });
}
