// The host's own locators as the context core needs them: every usable
// global address of an uplink, verified by the HBA set when it belongs to it.
import type { LocalLocator, LocalLocatorSet } from '../context/index.js';
import type { AddressInfo } from '../netlink/index.js';
import type { StoredHbaSet } from './hba-store.js';

const hex = (b: Uint8Array): string => Buffer.from(b).toString('hex');

/**
 * Build the LocalLocatorSet from the usable uplink addresses. HBA addresses
 * come first (prefix order), then the others (not announced: method 'none').
 * A deprecated address stays a locator with a worse priority (1): usable,
 * but never preferred while another is valid.
 */
export function localLocatorSet(addrs: readonly AddressInfo[], uplinks: ReadonlySet<number>, hba: StoredHbaSet | null): LocalLocatorSet {
  const mine = addrs.filter((a) => a.usable && a.scope === 0 && uplinks.has(a.ifindex));
  const byKey = new Map(mine.map((a) => [hex(a.bytes), a]));
  const locators: LocalLocator[] = [];
  const seen = new Set<string>();
  const entry = (a: AddressInfo, method: 'hba' | 'none'): LocalLocator => ({ addr: a.bytes.slice(), method, priority: a.deprecated ? 1 : 0, weight: 0, flags: 0 });
  for (const h of hba?.addresses ?? []) {
    const a = byKey.get(hex(h));
    if (a && !seen.has(hex(h))) {
      locators.push(entry(a, 'hba'));
      seen.add(hex(h));
    }
  }
  for (const a of mine) {
    if (!seen.has(hex(a.bytes))) {
      locators.push(entry(a, 'none'));
      seen.add(hex(a.bytes));
    }
  }
  return {
    locators,
    pds: hba ? hba.addresses.map((addr, i) => ({ addr, params: hba.params[i] })) : [],
  };
}

/** A key that changes exactly when the announced set would. */
export function locatorSetKey(s: LocalLocatorSet): string {
  return s.locators.map((l) => `${hex(l.addr)}/${l.method}/${l.priority ?? 0}/${l.flags ?? 0}`).join(',');
}
