// Real kernel bytes (kernel-fixtures.ts, captured by capture.py in a fresh
// network namespace): dump replies, errors, and a veth's life as
// notifications, decoded and fed through AddressTable. Also checks that the
// test-only encoder in helpers.ts reproduces the kernel's messages exactly.

import { describe, expect, it } from 'vitest';
import {
  AddressTable,
  IFA_CACHEINFO,
  IFA_F_NODAD,
  IFA_F_PERMANENT,
  IFF_LOOPBACK,
  IFF_LOWER_UP,
  IFF_RUNNING,
  IFF_UP,
  INFINITY_LIFE_TIME,
  NLM_F_MULTI,
  RT_SCOPE_HOST,
  RTM_DELADDR,
  RTM_DELLINK,
  RTM_NEWADDR,
  RTM_NEWLINK,
  decodeMessages,
  encodeDumpRequest,
  isEmptyDiff,
  walkAttrs,
  type AddressInfo,
  type NetlinkEvent,
  type UsableDiff,
} from '../../../src/netlink/index.js';
import * as K from './kernel-fixtures.js';
import { addrMsg, concat, hex, nlmsg, readable, rtattr, u8, unhex } from './helpers.js';

const decodeAll = (grams: readonly string[]): NetlinkEvent[] => grams.flatMap((g) => decodeMessages(unhex(g)));
const kinds = (evs: NetlinkEvent[]): string[] => evs.map((e) => e.kind);

describe(`real kernel fixtures (${K.KERNEL_RELEASE})`, () => {
  it('the fixtures were captured with the bytes encodeDumpRequest produces today', () => {
    expect(hex(encodeDumpRequest('addr', 1))).toBe(K.ADDR_REQUEST);
    expect(hex(encodeDumpRequest('link', 2))).toBe(K.LINK_REQUEST);
  });

  it('RTM_GETADDR dump: ::1 and 2001:db8::1/64 on lo, then NLMSG_DONE', () => {
    const evs = decodeAll(K.ADDR_DUMP);
    expect(kinds(evs)).toEqual(['addr', 'addr', 'done']);
    expect(readable(evs)).toEqual([
      {
        kind: 'addr', op: 'new', seq: 1, ifindex: 1, prefixLen: 64, scope: 0, flags: IFA_F_PERMANENT | IFA_F_NODAD,
        address: '2001:db8::1', preferredLft: INFINITY_LIFE_TIME, validLft: INFINITY_LIFE_TIME,
      },
      {
        kind: 'addr', op: 'new', seq: 1, ifindex: 1, prefixLen: 128, scope: RT_SCOPE_HOST, flags: IFA_F_PERMANENT,
        address: '::1', preferredLft: INFINITY_LIFE_TIME, validLft: INFINITY_LIFE_TIME,
      },
      { kind: 'done', seq: 1, errno: 0, interrupted: false },
    ]);
  });

  it('RTM_GETLINK dump: lo (loopback, up, running, operstate UNKNOWN), then NLMSG_DONE in its own datagram', () => {
    expect(K.LINK_DUMP).toHaveLength(2);
    const evs = decodeAll(K.LINK_DUMP);
    expect(evs).toEqual([
      { kind: 'link', op: 'new', seq: 2, ifindex: 1, flags: IFF_UP | IFF_LOOPBACK | IFF_RUNNING | IFF_LOWER_UP, linkType: 772, name: 'lo', operstate: 0, mtu: 65536 },
      { kind: 'done', seq: 2, errno: 0, interrupted: false },
    ]);
  });

  it('AddressTable from both dumps: ::1 on lo is known, 2001:db8::1 is the only usable address', () => {
    const t = new AddressTable();
    const diff = t.applyAll([...decodeAll(K.LINK_DUMP), ...decodeAll(K.ADDR_DUMP)]);
    expect(diff.added.map((a) => `${a.ifname} ${a.address}/${a.prefixLen}`)).toEqual(['lo 2001:db8::1/64']);
    expect(t.addresses().map((a) => [a.ifname, a.address, a.usable])).toEqual([
      ['lo', '::1', false],
      ['lo', '2001:db8::1', true],
    ]);
    expect(t.links()).toMatchObject([{ ifindex: 1, name: 'lo', up: true }]);
  });

  it('NLMSG_ERROR -ENODEV for RTM_GETLINK of a missing ifindex', () => {
    expect(decodeAll(K.ERROR_ENODEV)).toEqual([{ kind: 'error', seq: 3, errno: 19, requestType: 18 }]);
  });

  it('a failed dump reports its errno and ext-ack text in NLMSG_DONE, not NLMSG_ERROR', () => {
    expect(decodeAll(K.ERROR_EXTACK)).toEqual([
      { kind: 'done', seq: 4, errno: 22, interrupted: false, message: 'ipv6: Invalid values in header for address dump request' },
    ]);
  });

  it('ACK: NLMSG_ERROR with error 0 (capped)', () => {
    expect(decodeAll(K.ACK)).toEqual([{ kind: 'error', seq: 5, errno: 0, requestType: RTM_NEWADDR }]);
  });

  it('no fixture datagram decodes to a malformed event', () => {
    const all = Object.values(K).filter((v): v is readonly string[] => Array.isArray(v));
    expect(all.length).toBeGreaterThan(15);
    for (const grams of all) for (const ev of decodeAll(grams)) expect(ev.kind).not.toBe('malformed');
  });
});

describe('the test-only encoder reproduces kernel messages byte for byte', () => {
  /** Split a datagram into messages; re-encode each rtnetlink one from its parsed pieces. */
  function* messages(gram: Uint8Array): Generator<Uint8Array> {
    const dv = new DataView(gram.buffer, gram.byteOffset, gram.byteLength);
    for (let off = 0; off + 16 <= gram.length; ) {
      const len = dv.getUint32(off, true);
      yield gram.subarray(off, off + len);
      off += (len + 3) & ~3;
    }
  }
  const all = Object.values(K)
    .filter((v): v is readonly string[] => Array.isArray(v))
    .flatMap((grams) => grams.flatMap((g) => [...messages(unhex(g))]));

  it('every RTM_{NEW,DEL}{ADDR,LINK} via nlmsg() + rtattr()', () => {
    let n = 0;
    for (const m of all) {
      const dv = new DataView(m.buffer, m.byteOffset, m.byteLength);
      const type = dv.getUint16(4, true);
      const fixed = type === RTM_NEWADDR || type === RTM_DELADDR ? 8 : type === RTM_NEWLINK || type === RTM_DELLINK ? 16 : -1;
      if (fixed < 0) continue;
      const w = walkAttrs(m, 16 + fixed, m.length);
      expect(w.error).toBeUndefined();
      const attrs = w.attrs.map((a) => rtattr(dv.getUint16(a.offset + 2, true), m.subarray(a.start, a.start + a.len)));
      const again = nlmsg(type, concat(m.subarray(16, 16 + fixed), ...attrs), {
        nlFlags: dv.getUint16(6, true),
        seq: dv.getUint32(8, true),
        pid: dv.getUint32(12, true),
      });
      expect(hex(again)).toBe(hex(m));
      n++;
    }
    expect(n).toBeGreaterThan(40);
  });

  it('the address dump via addrMsg() from the decoded fields', () => {
    const msgs = [...messages(unhex(K.ADDR_DUMP[0]))];
    const evs = decodeAll(K.ADDR_DUMP);
    for (let i = 0; i < 2; i++) {
      const ev = evs[i];
      if (ev.kind !== 'addr') throw new Error('expected addr');
      const m = msgs[i];
      const dv = new DataView(m.buffer, m.byteOffset, m.byteLength);
      const ci = walkAttrs(m, 24, m.length).attrs.find((a) => a.type === IFA_CACHEINFO)!;
      expect(dv.getUint16(6, true)).toBe(NLM_F_MULTI);
      const rebuilt = addrMsg({
        nlFlags: dv.getUint16(6, true),
        seq: dv.getUint32(8, true),
        pid: dv.getUint32(12, true),
        flags: ev.flags & 0xff,
        ifaFlags: ev.flags,
        ifindex: ev.ifindex,
        prefixLen: ev.prefixLen,
        scope: ev.scope,
        address: ev.address,
        cacheinfo: [ev.preferredLft!, ev.validLft!, dv.getUint32(ci.start + 8, true), dv.getUint32(ci.start + 12, true)],
        extra: ev.scope === RT_SCOPE_HOST ? [rtattr(11 /* IFA_PROTO */, u8(1 /* IFAPROT_KERNEL_LO */))] : [],
      });
      expect(hex(rebuilt)).toBe(hex(m));
    }
  });
});

describe('a veth pair through AddressTable, one datagram at a time', () => {
  const short = (a: AddressInfo): string => `${a.ifname ?? a.ifindex} ${a.address}/${a.prefixLen}${a.deprecated ? ' deprecated' : ''}`;
  const summary = (d: UsableDiff) => ({ added: d.added.map(short), removed: d.removed.map(short), changed: d.changed.map(short) });
  const none = { added: [], removed: [], changed: [] };

  // Fixture step, then the diffs expected from applying its datagrams one by one.
  const steps: Array<[keyof typeof K, Array<ReturnType<typeof summary>>]> = [
    ['MON_create', [none, none]], // v1 (2) and v0 (3) appear, down
    ['MON_up', [none, none, none, none, none, none]], // links up, then fe80:: link-locals (scope link: never usable)
    ['MON_addTentative', [none]], // 2001:db8:1::1 announced tentative (flags 0xc0)
    ['MON_dadDone', [{ ...none, added: ['v0 2001:db8:1::1/64'] }]],
    ['MON_deprecate', [{ ...none, changed: ['v0 2001:db8:1::1/64 deprecated'] }]],
    // v1 admin down: v1 NEWLINK, v1's link-local deleted, v0 loses carrier (no IFF_RUNNING)
    ['MON_carrierDown', [none, none, { ...none, removed: ['v0 2001:db8:1::1/64 deprecated'] }]],
    ['MON_carrierUp', [none, none, { ...none, added: ['v0 2001:db8:1::1/64 deprecated'] }, none]],
    ['MON_delete', [{ ...none, removed: ['v0 2001:db8:1::1/64 deprecated'] }]],
    // ::99 nodad on v1 is usable at once; the same address on v0 goes tentative then dadfailed (0xc8)
    ['MON_dadFailed', [{ ...none, added: ['v1 2001:db8:1::99/64'] }, none, none]],
    // ::2 nodad on v0, then v0 admin down: NEWLINK first, then every address deleted; v1 loses carrier
    ['MON_adminDown', [{ ...none, added: ['v0 2001:db8:1::2/64'] }, { ...none, removed: ['v0 2001:db8:1::2/64'] }, none, none, none, { ...none, removed: ['v1 2001:db8:1::99/64'] }]],
    ['MON_destroy', [none, none, none, none, none]],
  ];

  it('diffs, state after each step, and nothing left at the end', () => {
    const t = new AddressTable();
    const seen: Record<string, unknown> = {};
    for (const [name, want] of steps) {
      const grams = K[name] as readonly string[];
      seen[name] = grams.map((g) => summary(t.apply(decodeMessages(unhex(g))[0])));
      expect(grams.every((g) => decodeMessages(unhex(g)).length === 1)).toBe(true);
      if (name === 'MON_up') expect(t.addresses().map((a) => [a.ifname, a.address, a.scope, a.usable])).toEqual([
        ['v1', 'fe80::ff:fe00:2', 253, false],
        ['v0', 'fe80::ff:fe00:1', 253, false],
      ]);
      if (name === 'MON_addTentative') expect(t.addresses().find((a) => a.address === '2001:db8:1::1')).toMatchObject({ tentative: true, usable: false, up: true });
      if (name === 'MON_carrierDown') expect(t.addresses().find((a) => a.address === '2001:db8:1::1')).toMatchObject({ up: false, usable: false, deprecated: true, tentative: false });
      if (name === 'MON_dadFailed') expect(t.addresses().filter((a) => a.address === '2001:db8:1::99').map((a) => [a.ifname, a.dadfailed, a.usable])).toEqual([
        ['v1', false, true],
        ['v0', true, false],
      ]);
    }
    expect(seen).toEqual(Object.fromEntries(steps));
    expect(t.addresses()).toEqual([]);
    expect(t.links()).toEqual([]);
  });

  it('AF_BRIDGE link messages are ignored: releasing a bridge port does not delete the port', () => {
    const t = new AddressTable();
    const evs = [...decodeAll(K.MON_bridgePort), ...decodeAll(K.MON_bridgeRelease)];
    expect(evs.filter((e) => e.kind === 'ignored')).toEqual([
      { kind: 'ignored', type: RTM_NEWLINK, seq: 0 },
      { kind: 'ignored', type: RTM_NEWLINK, seq: 0 },
      { kind: 'ignored', type: RTM_DELLINK, seq: 0 },
    ]);
    expect(isEmptyDiff(t.applyAll(evs))).toBe(true);
    expect(t.links().map((l) => l.name)).toEqual(['br0', 'v3', 'v2']);
  });
});
