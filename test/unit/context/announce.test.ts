// What a context announces (Locator List and PDS) is worked out once per
// (local set, ULID): the same for every context of the ULID, and worked out
// again from a new set when the host's addresses change.
import { describe, expect, it } from 'vitest';
import { VerificationCache } from '../../../src/hba/index.js';
import { locatorSetFromHbaSet } from '../../../src/context/index.js';
import { announcementFor, normaliseLocalSet } from '../../../src/context/locators.js';
import { SET_A, SET_B, formatIpv6 } from './helpers.js';

const addrs = (a: ReturnType<typeof announcementFor>): string[] => a.entries.map((e) => formatIpv6(e.addr));

describe('announcementFor', () => {
  it('is worked out once per (set, ULID), again for a new set, and empty for a ULID no PDS proves', () => {
    const A = SET_A(), cache = new VerificationCache({ maxEntries: 16 });
    const all = normaliseLocalSet(locatorSetFromHbaSet(A), 1);
    const a0 = announcementFor(all, A.addresses[0], cache);
    expect(addrs(a0)).toEqual(A.addresses.map(formatIpv6));
    expect(a0.pds).not.toBeNull();
    expect(announcementFor(all, A.addresses[0].slice(), cache)).toBe(a0);
    // Another ULID of the set: the same locators, with its own PDS.
    const a1 = announcementFor(all, A.addresses[1], cache);
    expect(a1).not.toBe(a0);
    expect(addrs(a1)).toEqual(addrs(a0));
    // The host lost its third address: a new set, a new announcement.
    const two = normaliseLocalSet(locatorSetFromHbaSet(A, { present: (_a, i) => i < 2 }), 2);
    const b0 = announcementFor(two, A.addresses[0], cache);
    expect(addrs(b0)).toEqual(A.addresses.slice(0, 2).map(formatIpv6));
    expect(b0.listKey).not.toBe(a0.listKey);
    expect(announcementFor(all, A.addresses[0], cache)).toBe(a0);
    // A ULID of another host: no PDS of ours proves it.
    expect(announcementFor(all, SET_B().addresses[0], cache).entries).toEqual([]);
  });
});
