// Locator sets: what a context announces about the local host (Locator
// List, Locator Preferences, CGA PDS and CGA Signature options) and how the
// peer's announced locators are verified (RFC 5533 §7.2, RFC 5535 §7.2,
// RFC 3972 §5–6).

import {
  decodeCgaParams,
  findMultiPrefix,
  shim6SignedContent,
  signShim6,
  verifyCga,
  verifyHba,
  verifyShim6Signature,
  type VerificationCache,
} from '../hba/index.js';
import {
  VerificationMethod,
  findOption,
  type CgaPdsOption,
  type CgaSignatureOption,
  type LocatorListOption,
  type LocatorPreference,
  type LocatorPreferencesOption,
  type Shim6Option,
} from '../wire/index.js';
import type { LocalLocatorSet, LocalVerification, PeerVerification } from './types.js';

// ------------------------------------------------------------ address keys

const HEX = Array.from({ length: 256 }, (_, i) => i.toString(16).padStart(2, '0'));

/** Map key of an address (hex). */
export function addrKey(a: Uint8Array): string {
  let s = '';
  for (let i = 0; i < a.length; i++) s += HEX[a[i]];
  return s;
}

export function sameAddr(a: Uint8Array, b: Uint8Array): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}

export function checkAddr(a: unknown, what: string): Uint8Array {
  if (!(a instanceof Uint8Array) || a.length !== 16) throw new TypeError(`${what} must be a 16-byte Uint8Array`);
  return a;
}

// ------------------------------------------------------------- local side

export interface LocalEntry {
  readonly addr: Uint8Array;
  readonly key: string;
  readonly method: LocalVerification;
  readonly flags: number;
  readonly priority?: number;
  readonly weight?: number;
}

/** The host's locator set after validation at the edge. */
export interface LocalSet {
  /** Bumped on every change. */
  readonly version: number;
  readonly entries: readonly LocalEntry[];
  readonly byKey: ReadonlyMap<string, LocalEntry>;
  readonly pds: readonly { addr: Uint8Array; key: string; params: Uint8Array }[];
  readonly privateKey: LocalLocatorSet['privateKey'];
}

function checkU8(v: number | undefined, what: string): void {
  if (v !== undefined && (!Number.isInteger(v) || v < 0 || v > 0xff)) throw new RangeError(`${what} must be 0..255`);
}

/** Validate a LocalLocatorSet once, at the edge. Throws TypeError/RangeError. */
export function normaliseLocalSet(set: LocalLocatorSet, version: number): LocalSet {
  if (set === null || typeof set !== 'object' || !Array.isArray(set.locators)) {
    throw new TypeError('locators must be a LocalLocatorSet { locators: [...] }');
  }
  if (set.locators.length > 255) throw new RangeError('a Locator List holds at most 255 locators');
  const entries: LocalEntry[] = [];
  const byKey = new Map<string, LocalEntry>();
  for (const [i, l] of set.locators.entries()) {
    const addr = new Uint8Array(checkAddr(l?.addr, `locators[${i}].addr`));
    if (l.method !== 'hba' && l.method !== 'cga' && l.method !== 'none') {
      throw new TypeError(`locators[${i}].method must be 'hba', 'cga' or 'none'`);
    }
    checkU8(l.flags, `locators[${i}].flags`);
    checkU8(l.priority, `locators[${i}].priority`);
    checkU8(l.weight, `locators[${i}].weight`);
    const key = addrKey(addr);
    if (byKey.has(key)) throw new RangeError(`locators[${i}] is a duplicate address`);
    const e: LocalEntry = { addr, key, method: l.method, flags: l.flags ?? 0, priority: l.priority, weight: l.weight };
    entries.push(e);
    byKey.set(key, e);
  }
  const pds = (set.pds ?? []).map((p, i) => {
    const addr = new Uint8Array(checkAddr(p?.addr, `pds[${i}].addr`));
    if (!(p.params instanceof Uint8Array) || p.params.length < 26) throw new TypeError(`pds[${i}].params must be a CGA PDS`);
    return { addr, key: addrKey(addr), params: new Uint8Array(p.params) };
  });
  if (entries.some((e) => e.method === 'cga') && set.privateKey === undefined) {
    throw new TypeError("locators with method 'cga' need privateKey");
  }
  return { version, entries, byKey, pds, privateKey: set.privateKey };
}

/** What one context announces: the locators proven by the PDS of its ULID(local). */
export interface Announcement {
  /** Locators in list order with their method octet (empty: no Locator List). */
  readonly entries: readonly (LocalEntry & { readonly octet: number })[];
  readonly pds: Uint8Array | null;
  /** Identity of the list (addresses and methods), for change detection. */
  readonly listKey: string;
  /** Identity of the preferences, for change detection. */
  readonly prefsKey: string;
}

/** The PDS a context of `ulid` announces with, and how the ULID binds to it. */
export function pdsForUlid(
  set: LocalSet,
  ulid: Uint8Array,
  cache: VerificationCache,
): { params: Uint8Array; binding: 'cga' | 'hba-set' } | null {
  const key = addrKey(ulid);
  const exact = set.pds.find((p) => p.key === key);
  if (exact !== undefined) {
    if (verifyCga(ulid, exact.params, { cache }).ok) return { params: exact.params, binding: 'cga' };
    if (verifyHba(ulid, exact.params, { cache }).ok) return { params: exact.params, binding: 'hba-set' };
  }
  for (const p of set.pds) {
    if (verifyHba(ulid, p.params, { cache }).ok) return { params: p.params, binding: 'hba-set' };
  }
  return null;
}

/**
 * What contexts of `ulid` announce from this local set, worked out once per
 * (set, ULID): every context of a ULID announces the same, and the set is
 * replaced (never changed) when the host's addresses change.
 */
export function announcementFor(set: LocalSet, ulid: Uint8Array, cache: VerificationCache): Announcement {
  let bySet = announcements.get(set);
  if (bySet === undefined) {
    bySet = new Map();
    announcements.set(set, bySet);
  }
  const key = addrKey(ulid);
  let ann = bySet.get(key);
  if (ann === undefined) {
    ann = computeAnnouncement(set, ulid, cache);
    if (bySet.size < MAX_ANNOUNCEMENTS_PER_SET) bySet.set(key, ann);
  }
  return ann;
}

const announcements = new WeakMap<LocalSet, Map<string, Announcement>>();
const MAX_ANNOUNCEMENTS_PER_SET = 1024;

function computeAnnouncement(set: LocalSet, ulid: Uint8Array, cache: VerificationCache): Announcement {
  const pds = pdsForUlid(set, ulid, cache);
  const entries: (LocalEntry & { octet: number })[] = [];
  if (pds !== null) {
    for (const e of set.entries) {
      if (e.method === 'hba') {
        // Announce only what the peer will be able to verify.
        if (verifyHba(e.addr, pds.params, { cache }).ok) entries.push({ ...e, octet: VerificationMethod.HBA });
      } else if (e.method === 'cga' && pdsTraits(pds.params).publicKey) {
        // Signed with the key of the PDS (an HBA-only PDS has none to check against).
        entries.push({ ...e, octet: VerificationMethod.CGA });
      }
    }
  }
  return announcementOf(entries, pds?.params ?? null);
}

/** An announcement of these entries (also one restored from a state file), with its identity keys. */
export function announcementOf(entries: readonly (LocalEntry & { readonly octet: number })[], pds: Uint8Array | null): Announcement {
  const listKey = entries.map((e) => `${e.key}/${e.octet}`).join(',');
  const prefsKey = entries.map((e) => `${e.flags}/${e.priority ?? ''}/${e.weight ?? ''}`).join(',');
  return { entries, pds: entries.length > 0 ? pds : null, listKey, prefsKey };
}

/** Whether any announced locator has a non-default preference. */
export function hasPreferences(ann: Announcement): boolean {
  return ann.entries.some((e) => e.flags !== 0 || e.priority !== undefined || e.weight !== undefined);
}

/** Locator Preferences for an announcement: element length 1, or 3 when any priority/weight is set. */
export function preferencesOption(ann: Announcement, generation: number): LocatorPreferencesOption {
  const full = ann.entries.some((e) => e.priority !== undefined || e.weight !== undefined);
  const elements: LocatorPreference[] = ann.entries.map((e) =>
    full ? { flags: e.flags, priority: e.priority ?? 0, weight: e.weight ?? 0 } : { flags: e.flags },
  );
  return { kind: 'LocatorPreferences', generation, elementLength: full ? 3 : 1, elements };
}

/**
 * The locator options of a message announcing `ann` under `generation`:
 * Locator List, Locator Preferences (if any preference is set), CGA PDS (if
 * `includePds`), CGA Signature (if any locator uses CGA).
 */
export function announcementOptions(
  ann: Announcement,
  generation: number,
  includePds: boolean,
  privateKey: LocalLocatorSet['privateKey'],
): Shim6Option[] {
  if (ann.entries.length === 0) return [];
  const list: LocatorListOption = {
    kind: 'LocatorList',
    generation,
    locators: ann.entries.map((e) => ({ addr: e.addr, method: e.octet })),
  };
  const out: Shim6Option[] = [list];
  if (hasPreferences(ann)) out.push(preferencesOption(ann, generation));
  if (includePds && ann.pds !== null) out.push({ kind: 'CgaPds', pds: ann.pds });
  if (ann.entries.some((e) => e.octet === VerificationMethod.CGA)) {
    if (privateKey === undefined) throw new TypeError("locators with method 'cga' need privateKey");
    const content = shim6SignedContent({
      generation,
      locators: ann.entries.map((e) => e.addr),
      methods: ann.entries.map((e) => e.octet),
    });
    out.push({ kind: 'CgaSignature', signature: signShim6(privateKey, content) });
  }
  return out;
}

// -------------------------------------------------------------- peer side

export interface PeerEntry {
  readonly addr: Uint8Array;
  readonly key: string;
  readonly method: number;
  readonly verification: PeerVerification;
  readonly flags: number;
  readonly priority?: number;
  readonly weight?: number;
}

export type PeerCheck =
  /** No locator information in the message. */
  | { readonly kind: 'none'; readonly pds: Uint8Array | null }
  /** A Locator List, each locator checked. `firstFailed` is the index of the first failure. */
  | {
      readonly kind: 'list';
      readonly pds: Uint8Array | null;
      readonly generation: number;
      readonly entries: PeerEntry[];
      readonly list: LocatorListOption;
      readonly firstFailed: number | null;
    }
  /** The PDS does not belong to ULID(peer): drop the message silently (§7.13, §10.4). */
  | { readonly kind: 'pds-mismatch' }
  /**
   * Unsupported or inconsistent verification method (§7.2): ignore the list
   * and the message; answer Error code 2 pointing at this locator's octet.
   */
  | { readonly kind: 'bad-method'; readonly list: LocatorListOption; readonly index: number };

/** How ULID(peer) binds to a PDS: as a CGA of it, or as an HBA of its set. */
export function pdsBinding(
  ulidPeer: Uint8Array,
  pds: Uint8Array,
  cache: VerificationCache,
  minSec: number,
): 'cga' | 'hba-set' | null {
  if (verifyCga(ulidPeer, pds, { cache, minSec }).ok) return 'cga';
  if (verifyHba(ulidPeer, pds, { cache, minSec }).ok) return 'hba-set';
  return null;
}

/**
 * Check the locator options of a received I2, I2bis, R2 or Update Request.
 * `storedPds` is the peer PDS from an earlier message (an Update may omit it).
 */
export function checkPeerLocators(
  ulidPeer: Uint8Array,
  options: readonly Shim6Option[],
  storedPds: Uint8Array | null,
  cache: VerificationCache,
  minSec: number,
): PeerCheck {
  const pdsOpt: CgaPdsOption | undefined = findOption(options, 'CgaPds');
  let pds = storedPds;
  let binding: 'cga' | 'hba-set' | null = null;
  if (pdsOpt !== undefined) {
    binding = pdsBinding(ulidPeer, pdsOpt.pds, cache, minSec);
    if (binding === null) return { kind: 'pds-mismatch' };
    pds = pdsOpt.pds;
  } else if (pds !== null) {
    binding = pdsBinding(ulidPeer, pds, cache, minSec);
  }
  const list = findOption(options, 'LocatorList');
  if (list === undefined) return { kind: 'none', pds };
  const ulidKey = addrKey(ulidPeer);
  const sig: CgaSignatureOption | undefined = findOption(options, 'CgaSignature');

  // Method consistency first (§7.2): the whole message is ignored on a mismatch.
  const traits = pds === null ? null : pdsTraits(pds);
  for (const [i, l] of list.locators.entries()) {
    if (addrKey(l.addr) === ulidKey && pds === null) continue; // the ULID needs no proof
    if (l.method === VerificationMethod.HBA) {
      if (traits === null || !traits.multiPrefix) return { kind: 'bad-method', list, index: i };
    } else if (l.method === VerificationMethod.CGA) {
      if (traits === null || !traits.publicKey || sig === undefined || binding === null) {
        return { kind: 'bad-method', list, index: i };
      }
    } else {
      return { kind: 'bad-method', list, index: i };
    }
  }

  let cgaOk: boolean | null = null;
  const entries: PeerEntry[] = [];
  let firstFailed: number | null = null;
  for (const [i, l] of list.locators.entries()) {
    const key = addrKey(l.addr);
    let verification: PeerVerification;
    if (pds === null) {
      verification = 'unverified'; // only the ULID gets here
    } else if (l.method === VerificationMethod.HBA) {
      verification = verifyHba(l.addr, pds, { cache, minSec }).ok ? 'hba' : 'failed';
    } else {
      if (cgaOk === null) {
        const content = shim6SignedContent({
          generation: list.generation,
          locators: list.locators.map((x) => x.addr),
          methods: list.locators.map((x) => x.method),
        });
        cgaOk =
          sig !== undefined &&
          binding !== null &&
          verifyShim6Signature({ address: ulidPeer, params: pds, message: content, signature: sig.signature, binding, cache, minSec }).ok;
      }
      verification = cgaOk ? 'cga' : 'failed';
    }
    if (verification === 'failed' && firstFailed === null) firstFailed = i;
    entries.push({ addr: new Uint8Array(l.addr), key, method: l.method, verification, flags: 0 });
  }
  return { kind: 'list', pds, generation: list.generation, entries, list, firstFailed };
}

/** What the PDS says about itself: has a Multi-Prefix extension; carries a real public key. */
function pdsTraits(pds: Uint8Array): { multiPrefix: boolean; publicKey: boolean } {
  // A peer sends the same PDS in every I2/R2/Update of every context: decoded once (by content).
  const key = Buffer.from(pds.buffer, pds.byteOffset, pds.byteLength).toString('latin1');
  let t = traitsMemo.get(key);
  if (t === undefined) {
    t = decodePdsTraits(pds);
    if (traitsMemo.size >= TRAITS_MEMO_MAX) traitsMemo.delete(traitsMemo.keys().next().value!);
    traitsMemo.set(key, t);
  }
  return t;
}

const TRAITS_MEMO_MAX = 256;
const traitsMemo = new Map<string, { readonly multiPrefix: boolean; readonly publicKey: boolean }>();

function decodePdsTraits(pds: Uint8Array): { multiPrefix: boolean; publicKey: boolean } {
  const d = decodeCgaParams(pds);
  if (!d.ok) return { multiPrefix: false, publicKey: false };
  const mp = findMultiPrefix(d.params.extensions);
  // Without a Multi-Prefix extension the Public Key field is a key (plain CGA).
  return { multiPrefix: mp.ok, publicKey: mp.ok ? mp.value.publicKeyPresent : mp.reason === 'no-multi-prefix' };
}

/** Apply Locator Preferences elements to entries (same length assumed). */
export function withPreferences(entries: readonly PeerEntry[], prefs: LocatorPreferencesOption): PeerEntry[] {
  return entries.map((e, i) => {
    const p = prefs.elements[i];
    return { ...e, flags: p.flags, priority: p.priority, weight: p.weight };
  });
}

/** A peer locator may be a destination: HBA/CGA-verified, or ULID(peer) itself. */
export function usablePeer(e: PeerEntry, ulidPeerKey: string): boolean {
  return e.verification === 'hba' || e.verification === 'cga' || (e.key === ulidPeerKey && e.verification !== 'failed');
}

/** The peer locator set when the peer announced none: its ULID. */
export function ulidOnly(ulidPeer: Uint8Array): PeerEntry[] {
  return [{ addr: new Uint8Array(ulidPeer), key: addrKey(ulidPeer), method: 0, verification: 'unverified', flags: 0 }];
}

/**
 * Best usable peer locator, for when the current one is gone: ULID(peer) if
 * listed and not BROKEN, else lowest priority / highest weight / list order
 * among usable, non-BROKEN ones, else any usable one (BROKEN or not), else
 * ULID(peer) as the last resort (it needs no proof, RFC 5533 §7.2).
 */
export function choosePeerLocator(entries: readonly PeerEntry[], ulidPeer: Uint8Array): Uint8Array {
  const ulidKey = addrKey(ulidPeer);
  const ok = entries.filter((e) => usablePeer(e, ulidKey) && (e.flags & 0x01) === 0);
  const ulid = ok.find((e) => e.key === ulidKey);
  if (ulid !== undefined) return ulid.addr;
  let best: PeerEntry | undefined;
  for (const e of ok) {
    if (
      best === undefined ||
      (e.priority ?? 0) < (best.priority ?? 0) ||
      ((e.priority ?? 0) === (best.priority ?? 0) && (e.weight ?? 0) > (best.weight ?? 0))
    ) {
      best = e;
    }
  }
  if (best !== undefined) return best.addr;
  return entries.find((e) => usablePeer(e, ulidKey))?.addr ?? ulidPeer;
}
