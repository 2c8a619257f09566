// Building a LocalLocatorSet from an HBA set (src/hba generateHbaSet).

import type { KeyObject } from 'node:crypto';
import type { HbaSet } from '../hba/index.js';
import type { LocalLocator, LocalLocatorSet } from './types.js';

export interface FromHbaSetOptions {
  /** Which addresses of the set are configured (default: all of them), in list order. */
  readonly present?: (addr: Uint8Array, index: number) => boolean;
  /** Further locators (e.g. 'cga'-signed ones outside the set, or plain ones). */
  readonly extra?: readonly LocalLocator[];
  /** Private key of a CGA-compatible set, for 'cga' locators. */
  readonly privateKey?: KeyObject;
  /** Preferences per address of the set. */
  readonly preferences?: (addr: Uint8Array, index: number) => Pick<LocalLocator, 'flags' | 'priority' | 'weight'> | undefined;
}

/** Every (present) address of the set as an 'hba' locator, with the set's PDSs. */
export function locatorSetFromHbaSet(set: Pick<HbaSet, 'addresses' | 'params'>, opts: FromHbaSetOptions = {}): LocalLocatorSet {
  const locators: LocalLocator[] = [];
  set.addresses.forEach((addr, i) => {
    if (opts.present !== undefined && !opts.present(addr, i)) return;
    locators.push({ addr, method: 'hba', ...(opts.preferences?.(addr, i) ?? {}) });
  });
  locators.push(...(opts.extra ?? []));
  return {
    locators,
    pds: set.addresses.map((addr, i) => ({ addr, params: set.params[i] })),
    ...(opts.privateKey !== undefined ? { privateKey: opts.privateKey } : {}),
  };
}
