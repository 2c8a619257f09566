// The host's locators from its addresses: HBA addresses first in prefix
// order, the other uplink addresses after them (method 'none'), deprecated
// ones with a worse priority, and only usable global addresses of uplinks.
import { describe, expect, it } from 'vitest';
import { localLocatorSet, locatorSetKey } from '../../../src/agent/locals.js';
import type { StoredHbaSet } from '../../../src/agent/hba-store.js';
import type { AddressInfo } from '../../../src/netlink/index.js';
import { formatIpv6, parseIpv6 } from '../../../src/wire/addr.js';

const UPLINKS = new Set([2, 3]);

function addr(text: string, ifindex: number, o: Partial<AddressInfo> = {}): AddressInfo {
  const bytes = parseIpv6(text)!;
  const a = {
    ifindex, address: text, bytes, prefixLen: 64, scope: 0, flags: 0,
    deprecated: false, tentative: false, dadfailed: false, up: true, ...o,
  };
  return { ...a, usable: o.usable ?? (a.scope === 0 && !a.tentative && !a.dadfailed && a.up) };
}

// HBA set over two prefixes, in Multi-Prefix order: ISP 2 first.
const H2 = '2001:db8:2:a:1111:2222:3333:4444';
const H1 = '2001:db8:1:a:5555:6666:7777:8888';
const HBA: StoredHbaSet = {
  prefixes: ['2001:db8:2:a::/64', '2001:db8:1:a::/64'],
  addresses: [parseIpv6(H2)!, parseIpv6(H1)!],
  params: [Uint8Array.of(1, 2, 3), Uint8Array.of(4, 5, 6)],
};

const view = (addrs: AddressInfo[], hba: StoredHbaSet | null = HBA, uplinks = UPLINKS) =>
  localLocatorSet(addrs, uplinks, hba).locators.map((l) => [formatIpv6(l.addr), l.method, l.priority]);

describe('localLocatorSet', () => {
  it('puts the HBA addresses first, in prefix order, then the others as they come', () => {
    const addrs = [
      addr('2001:db8:1:a::1', 2), addr(H1, 2), addr('2001:db8:2:a::1', 3), addr(H2, 3),
    ];
    expect(view(addrs)).toEqual([
      [H2, 'hba', 0], [H1, 'hba', 0], ['2001:db8:1:a::1', 'none', 0], ['2001:db8:2:a::1', 'none', 0],
    ]);
  });

  it('announces every PDS of the set, present or not', () => {
    const s = localLocatorSet([addr(H1, 2)], UPLINKS, HBA);
    expect(s.locators.map((l) => formatIpv6(l.addr))).toEqual([H1]);
    expect(s.pds).toEqual([{ addr: HBA.addresses[0], params: HBA.params[0] }, { addr: HBA.addresses[1], params: HBA.params[1] }]);
  });

  it('without an HBA set every address is a plain locator and there is no PDS', () => {
    const s = localLocatorSet([addr(H1, 2), addr('2001:db8:1:a::1', 2)], UPLINKS, null);
    expect(s.locators.map((l) => l.method)).toEqual(['none', 'none']);
    expect(s.pds).toEqual([]);
  });

  it('gives deprecated addresses priority 1 (usable, never preferred), HBA or not', () => {
    const addrs = [addr(H2, 3, { deprecated: true }), addr(H1, 2), addr('2001:db8:1:a::1', 2, { deprecated: true }), addr('2001:db8:1:a::2', 2)];
    expect(view(addrs)).toEqual([
      [H2, 'hba', 1], [H1, 'hba', 0], ['2001:db8:1:a::1', 'none', 1], ['2001:db8:1:a::2', 'none', 0],
    ]);
  });

  it.each([
    ['on a device that is not an uplink', addr('2001:db8:9::1', 7)],
    ['link-local', addr('fe80::1', 2, { scope: 253 })],
    ['host scope', addr('::1', 2, { scope: 254 })],
    ['tentative', addr('2001:db8:1:a::9', 2, { tentative: true })],
    ['DAD failed', addr('2001:db8:1:a::9', 2, { dadfailed: true })],
    ['on a link that is down', addr('2001:db8:1:a::9', 2, { up: false })],
    ['an HBA address on a non-uplink (the shim device)', addr(H1, 7)],
    ['an HBA address still tentative', addr(H1, 2, { tentative: true })],
  ])('leaves out an address %s', (_w, bad) => {
    expect(view([bad, addr(H2, 3)])).toEqual([[H2, 'hba', 0]]);
  });

  it('lists an address held by two uplinks once', () => {
    expect(view([addr(H1, 2), addr(H1, 3), addr('2001:db8:1:a::1', 2), addr('2001:db8:1:a::1', 3)])).toEqual([
      [H1, 'hba', 0], ['2001:db8:1:a::1', 'none', 0],
    ]);
  });

  it('copies the addresses (the address table may reuse its buffers)', () => {
    const a = addr('2001:db8:1:a::1', 2);
    const s = localLocatorSet([a], UPLINKS, null);
    a.bytes.fill(0);
    expect(formatIpv6(s.locators[0].addr)).toBe('2001:db8:1:a::1');
  });

  it('is empty with no uplink addresses', () => {
    expect(localLocatorSet([], UPLINKS, HBA).locators).toEqual([]);
    expect(view([addr(H1, 2)], HBA, new Set())).toEqual([]);
  });
});

describe('locatorSetKey', () => {
  const base = [addr(H2, 3), addr(H1, 2), addr('2001:db8:1:a::1', 2)];
  const key = (addrs: AddressInfo[], hba: StoredHbaSet | null = HBA) => locatorSetKey(localLocatorSet(addrs, UPLINKS, hba));

  it('is stable for the same set whatever the address order', () => {
    expect(key([...base].reverse())).toBe(key(base));
  });
  it('changes when an address comes or goes', () => {
    expect(key(base.slice(0, 2))).not.toBe(key(base));
    expect(key([...base, addr('2001:db8:2:a::1', 3)])).not.toBe(key(base));
  });
  it('changes when an address is deprecated (its priority changes)', () => {
    expect(key([addr(H2, 3, { deprecated: true }), base[1], base[2]])).not.toBe(key(base));
  });
  it('changes when the method changes (an address leaves the HBA set)', () => {
    expect(key(base, null)).not.toBe(key(base));
  });
  it('ignores what is not announced (the ifindex of an address)', () => {
    expect(key([addr(H2, 2), addr(H1, 3), addr('2001:db8:1:a::1', 3)])).toBe(key(base));
  });
});
