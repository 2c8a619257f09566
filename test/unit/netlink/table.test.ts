// AddressTable transitions on hand-built events: each case is a sequence of
// (event, expected diff of the usable set) steps.

import { describe, expect, it } from 'vitest';
import {
  AddressTable,
  IFA_F_DADFAILED,
  IFA_F_DEPRECATED,
  IFA_F_NODAD,
  IFA_F_PERMANENT,
  IFA_F_TENTATIVE,
  IFF_LOWER_UP,
  IFF_RUNNING,
  IFF_UP,
  RT_SCOPE_HOST,
  RT_SCOPE_LINK,
  decodeMessages,
  isEmptyDiff,
  type AddrEvent,
  type AddressInfo,
  type LinkEvent,
  type NetlinkEvent,
  type UsableDiff,
} from '../../../src/netlink/index.js';
import { addrMsg, concat, doneMsg, ip6, linkMsg } from './helpers.js';

const UP = IFF_UP | IFF_RUNNING | IFF_LOWER_UP;
const NOCARRIER = IFF_UP | 0x1000;

function addr(op: 'new' | 'del', ifindex: number, text: string, o: Partial<AddrEvent> = {}): AddrEvent {
  return { kind: 'addr', op, seq: 0, ifindex, prefixLen: 64, scope: 0, flags: IFA_F_PERMANENT, address: ip6(text), ...o };
}
function link(op: 'new' | 'del', ifindex: number, name: string, flags: number): LinkEvent {
  return { kind: 'link', op, seq: 0, ifindex, flags, linkType: 1, name };
}

const short = (a: AddressInfo): string => `${a.ifname ?? a.ifindex} ${a.address}/${a.prefixLen}${a.deprecated ? ' dep' : ''}`;
const summary = (d: UsableDiff) => ({ added: d.added.map(short), removed: d.removed.map(short), changed: d.changed.map(short) });
const none = { added: [] as string[], removed: [] as string[], changed: [] as string[] };
const added = (...a: string[]) => ({ ...none, added: a });
const removed = (...a: string[]) => ({ ...none, removed: a });
const changed = (...a: string[]) => ({ ...none, changed: a });

type Step = [NetlinkEvent, ReturnType<typeof summary>];
const cases: Array<[string, Step[]]> = [
  [
    'tentative, then DAD completes',
    [
      [addr('new', 2, '2001:db8::1', { flags: IFA_F_PERMANENT | IFA_F_TENTATIVE }), none],
      [addr('new', 2, '2001:db8::1'), added('2 2001:db8::1/64')],
      [addr('new', 2, '2001:db8::1'), none], // same again
    ],
  ],
  [
    'DAD fails',
    [
      [addr('new', 2, '2001:db8::1', { flags: IFA_F_TENTATIVE }), none],
      [addr('new', 2, '2001:db8::1', { flags: IFA_F_TENTATIVE | IFA_F_DADFAILED }), none],
    ],
  ],
  [
    'nodad address is usable at once',
    [[addr('new', 2, '2001:db8::1', { flags: IFA_F_PERMANENT | IFA_F_NODAD }), added('2 2001:db8::1/64')]],
  ],
  [
    'deprecated is kept but flagged; preferred again',
    [
      [addr('new', 2, '2001:db8::1'), added('2 2001:db8::1/64')],
      [addr('new', 2, '2001:db8::1', { flags: IFA_F_PERMANENT | IFA_F_DEPRECATED }), changed('2 2001:db8::1/64 dep')],
      [addr('new', 2, '2001:db8::1'), changed('2 2001:db8::1/64')],
    ],
  ],
  [
    'deleted',
    [
      [addr('new', 2, '2001:db8::1'), added('2 2001:db8::1/64')],
      [addr('del', 2, '2001:db8::1', { prefixLen: 48 }), removed('2 2001:db8::1/64')], // keyed by (ifindex, address)
      [addr('del', 2, '2001:db8::1'), none],
    ],
  ],
  [
    'link down (carrier) and up again; the address itself is kept',
    [
      [link('new', 2, 'eth0', UP), none],
      [addr('new', 2, '2001:db8::1'), added('eth0 2001:db8::1/64')],
      [link('new', 2, 'eth0', NOCARRIER), removed('eth0 2001:db8::1/64')],
      [link('new', 2, 'eth0', UP), added('eth0 2001:db8::1/64')],
      [link('new', 2, 'eth0', IFF_RUNNING), removed('eth0 2001:db8::1/64')], // admin down
    ],
  ],
  [
    'unknown link counts as up; learning it is down removes, learning its name changes',
    [
      [addr('new', 3, '2001:db8::3'), added('3 2001:db8::3/64')],
      [link('new', 3, 'wlan0', UP), changed('wlan0 2001:db8::3/64')],
      [link('new', 3, 'wlan0', 0), removed('wlan0 2001:db8::3/64')],
    ],
  ],
  [
    'link deleted takes its addresses',
    [
      [link('new', 4, 'v0', UP), none],
      [addr('new', 4, '2001:db8::4'), added('v0 2001:db8::4/64')],
      [addr('new', 4, 'fe80::4', { scope: RT_SCOPE_LINK }), none],
      [link('del', 4, 'v0', 0), removed('v0 2001:db8::4/64')],
    ],
  ],
  [
    'link and host scope never usable',
    [
      [addr('new', 1, '::1', { prefixLen: 128, scope: RT_SCOPE_HOST }), none],
      [addr('new', 2, 'fe80::1', { scope: RT_SCOPE_LINK }), none],
    ],
  ],
  [
    'prefix length change is a change; lifetime refresh is not',
    [
      [addr('new', 2, '2001:db8::1', { preferredLft: 100, validLft: 200 }), added('2 2001:db8::1/64')],
      [addr('new', 2, '2001:db8::1', { preferredLft: 90, validLft: 190 }), none],
      [addr('new', 2, '2001:db8::1', { prefixLen: 56 }), changed('2 2001:db8::1/56')],
    ],
  ],
  [
    'same address on two links: two entries',
    [
      [addr('new', 2, '2001:db8::1'), added('2 2001:db8::1/64')],
      [addr('new', 3, '2001:db8::1'), added('3 2001:db8::1/64')],
      [addr('del', 2, '2001:db8::1'), removed('2 2001:db8::1/64')],
    ],
  ],
  [
    'control events carry no state',
    [
      [{ kind: 'done', seq: 1, errno: 0, interrupted: false }, none],
      [{ kind: 'error', seq: 1, errno: 1 }, none],
      [{ kind: 'overrun', seq: 0 }, none],
      [{ kind: 'ignored', type: 24, seq: 0 }, none],
      [{ kind: 'malformed', offset: 0, reason: 'x' }, none],
    ],
  ],
];

describe('AddressTable.apply', () => {
  it.each(cases)('%s', (_name, steps) => {
    const t = new AddressTable();
    const got = steps.map(([ev]) => summary(t.apply(ev)));
    expect(got).toEqual(steps.map(([, d]) => d));
  });
});

describe('AddressTable', () => {
  it('addresses() reports every field, sorted by ifindex then address', () => {
    const t = new AddressTable();
    t.applyAll([
      link('new', 2, 'eth0', UP),
      addr('new', 2, '2001:db8::9', { flags: IFA_F_PERMANENT | IFA_F_DEPRECATED, preferredLft: 0, validLft: 300 }),
      addr('new', 2, '2001:db8::2', { flags: IFA_F_TENTATIVE }),
      addr('new', 1, '::1', { prefixLen: 128, scope: RT_SCOPE_HOST }),
    ]);
    expect(t.addresses()).toEqual([
      {
        ifindex: 1, address: '::1', bytes: ip6('::1'), prefixLen: 128, scope: 254, flags: 0x80,
        deprecated: false, tentative: false, dadfailed: false, up: true, usable: false,
      },
      {
        ifindex: 2, ifname: 'eth0', address: '2001:db8::2', bytes: ip6('2001:db8::2'), prefixLen: 64, scope: 0, flags: 0x40,
        deprecated: false, tentative: true, dadfailed: false, up: true, usable: false,
      },
      {
        ifindex: 2, ifname: 'eth0', address: '2001:db8::9', bytes: ip6('2001:db8::9'), prefixLen: 64, scope: 0, flags: 0xa0,
        deprecated: true, tentative: false, dadfailed: false, up: true, usable: true, preferredLft: 0, validLft: 300,
      },
    ]);
    expect(t.usable().map((a) => a.address)).toEqual(['2001:db8::9']);
    expect(t.link(2)).toEqual({ ifindex: 2, name: 'eth0', flags: UP, up: true });
    expect(t.link(9)).toBeUndefined();
  });

  it('applyAll returns the net change of a batch', () => {
    const t = new AddressTable();
    expect(isEmptyDiff(t.applyAll([addr('new', 2, '2001:db8::1'), addr('del', 2, '2001:db8::1')]))).toBe(true);
    expect(summary(t.applyAll([addr('new', 2, '2001:db8::1'), addr('new', 2, '2001:db8::2')]))).toEqual(added('2 2001:db8::1/64', '2 2001:db8::2/64'));
  });

  it('has() finds an address by link, in any state; a batch of routes only changes nothing', () => {
    const t = new AddressTable();
    t.applyAll([link('new', 2, 'eth0', UP), addr('new', 2, '2001:db8::1', { flags: IFA_F_TENTATIVE }), addr('new', 3, '2001:db8::2')]);
    expect(t.has(2, ip6('2001:db8::1'))).toBe(true);
    expect(t.has(3, ip6('2001:db8::1'))).toBe(false);
    expect(t.has(3, ip6('2001:db8::2'))).toBe(true);
    const route = { kind: 'route', op: 'new', seq: 0, table: 140, dstLen: 128, dst: ip6('2001:db8::9'), srcLen: 0, protocol: 0, type: 1, scope: 0, flags: 0 } as unknown as NetlinkEvent;
    const before = t.addresses();
    expect(isEmptyDiff(t.applyAll([route, { kind: 'done', seq: 1, errno: 0, interrupted: false }]))).toBe(true);
    expect(t.addresses()).toEqual(before);
    // A route in a batch with an address: the address counts.
    expect(summary(t.applyAll([route, addr('del', 3, '2001:db8::2')]))).toEqual(removed('3 2001:db8::2/64'));
    expect(t.has(3, ip6('2001:db8::2'))).toBe(false);
  });

  it('resync replaces the state and diffs against the old one', () => {
    const t = new AddressTable();
    t.applyAll([link('new', 2, 'eth0', UP), addr('new', 2, '2001:db8::1'), addr('new', 2, '2001:db8::2')]);
    const d = t.resync([link('new', 2, 'eth0', UP), addr('new', 2, '2001:db8::2', { flags: IFA_F_DEPRECATED }), addr('new', 2, '2001:db8::3')]);
    expect(summary(d)).toEqual({ added: ['eth0 2001:db8::3/64'], removed: ['eth0 2001:db8::1/64'], changed: ['eth0 2001:db8::2/64 dep'] });
    expect(isEmptyDiff(t.resync(decodeMessages(new Uint8Array(0))))).toBe(false); // everything removed
    expect(t.addresses()).toEqual([]);
  });

  it('is fed straight from decodeMessages of a dump', () => {
    const buf = concat(
      linkMsg({ seq: 1, nlFlags: 2, ifindex: 2, flags: UP, name: 'eth0' }),
      addrMsg({ seq: 1, nlFlags: 2, ifindex: 2, prefixLen: 64, flags: IFA_F_PERMANENT, ifaFlags: IFA_F_PERMANENT, address: '2001:db8::1' }),
      doneMsg(1),
    );
    const t = new AddressTable();
    expect(summary(t.applyAll(decodeMessages(buf)))).toEqual(added('eth0 2001:db8::1/64'));
  });

  it('returned bytes are copies', () => {
    const t = new AddressTable();
    const ev = addr('new', 2, '2001:db8::1');
    t.apply(ev);
    ev.address.fill(0);
    t.addresses()[0].bytes.fill(0);
    expect(t.addresses()[0].address).toBe('2001:db8::1');
    expect(t.addresses()[0].bytes).toEqual(ip6('2001:db8::1'));
  });
});
