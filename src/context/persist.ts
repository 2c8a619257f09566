// Contexts across an agent restart. RFC 5533 has a host that lost its
// contexts recover through its peer (R1bis → I2bis, §7.5); an agent killed
// and restarted should not cost the peer that. The agent writes
// exportContexts() to its state file and, on start, imports the records into
// a fresh host configured with its current locators.
//
// What is kept: ESTABLISHED and I2BIS-SENT contexts (the ones the data plane
// holds, §11). I1-SENT / I2-SENT have no peer state worth keeping: the next
// trigger starts over. Not kept: validator secrets (an R1/R1bis issued before
// the restart is refused, and its sender retries), the negative cache.
//
// Records are plain JSON (see PersistedContext). Times are ages before the
// export, rebased onto the import's `now`: the downtime is not counted, so
// a restored context is as idle as it was when written.
//
// Import validates a record completely, and checks it against the contexts
// already there, before touching the host; a bad one is rejected alone.

import { verifyHba } from '../hba/index.js';
import { CONTEXT_TAG_MAX, VerificationMethod, formatIpv6, isMulticast, isUnspecified, parseIpv6 } from '../wire/index.js';
import { ContextState } from './consts.js';
import { Ctx, REPLACED_GENERATIONS_KEPT, contextKey, type Announced, type OutstandingUpdate } from './context.js';
import type { HostCore } from './core.js';
import { onRetransmitTimer } from './establish.js';
import { addrKey, announcementOf, pdsBinding, pdsForUlid, usablePeer, type LocalEntry, type PeerEntry } from './locators.js';
import { Out } from './out.js';
import type {
  ContextSnapshot,
  ImportResult,
  PeerVerification,
  PersistedContext,
  PersistedLocalLocator,
  PersistedPeerLocator,
} from './types.js';
import { onUpdateTimer, startUpdate, updateInterval, updateRequestFor } from './update.js';

/** More records than this is no state file of ours: refused as a whole. */
export const MAX_IMPORTED_RECORDS = 1 << 20;
const MAX_LOCATORS = 255;
/** Bounds on byte strings: a PDS or validator larger than a Shim6 message is corrupt. */
const MAX_OPTION_BYTES = 1280;

// ------------------------------------------------------------------ export

export function exportContexts(core: HostCore, only?: ReadonlySet<bigint>): PersistedContext[] {
  const out: PersistedContext[] = [];
  if (only !== undefined && only.size < core.byKey.size) {
    // A few contexts (the agent journals the ones a call changed): by tag,
    // not a walk of every context.
    for (const ct of only) {
      const ctx = core.byCtLocal.get(ct);
      if (ctx !== undefined && isKept(ctx)) out.push(exportOne(ctx, core.now));
    }
    return out;
  }
  for (const ctx of core.byKey.values()) {
    if (!isKept(ctx)) continue;
    if (only !== undefined && !only.has(ctx.ctLocal)) continue;
    out.push(exportOne(ctx, core.now));
  }
  return out;
}

function isKept(ctx: Ctx): ctx is Ctx & { state: PersistedContext['state']; ctLocal: bigint; ctPeer: bigint } {
  return (ctx.state === ContextState.Established || ctx.state === ContextState.I2bisSent) && ctx.ctLocal !== null && ctx.ctPeer !== null;
}

function exportOne(ctx: Ctx & { state: PersistedContext['state']; ctLocal: bigint; ctPeer: bigint }, ref: number): PersistedContext {
  const a = ctx.announced;
  const age = (t: number): number => Math.max(0, ref - t);
  // An update for an announcement that is no longer current (it was left
  // going when the new one could not be sent) is not worth resuming.
  const u = ctx.update !== null && ctx.update.announced === a ? ctx.update : null;
  return {
    v: 1,
    state: ctx.state,
    ulidLocal: formatIpv6(ctx.ulidLocal),
    ulidPeer: formatIpv6(ctx.ulidPeer),
    fii: ctx.fii,
    ctLocal: ctx.ctLocal.toString(16),
    ctPeer: ctx.ctPeer.toString(16),
    announced: {
      generation: a?.generation ?? null,
      locators: (a?.ann.entries ?? []).map((e) => withPrefs({ addr: formatIpv6(e.addr), method: e.octet, flags: e.flags }, e)),
      acked: a?.acked ?? true,
      listAcked: a?.listAcked ?? true,
    },
    pdsKnown: ctx.pdsKnown,
    update: u === null ? null : { nonce: u.nonce, retransmits: u.retransmits, generation: u.generation, supersededUnacked: u.supersededUnacked },
    refreshPending: ctx.refreshPending,
    peer: {
      locators: ctx.lsPeer.map((e) =>
        withPrefs({ addr: formatIpv6(e.addr), method: e.method, verification: e.verification, flags: e.flags }, e),
      ),
      generation: ctx.peerGeneration,
      replacedGenerations: [...ctx.replacedPeerGenerations],
      pds: ctx.peerPds === null ? null : hex(ctx.peerPds),
      keepaliveTimeoutSec: ctx.peerKeepaliveTimeout,
    },
    lpLocal: formatIpv6(ctx.lpLocal),
    lpPeer: formatIpv6(ctx.lpPeer),
    initiatorNonce: ctx.initNonce,
    i2bis:
      ctx.state === ContextState.I2bisSent
        ? {
            responderNonce: ctx.respNonce as number,
            validator: hex(ctx.validator as Uint8Array),
            packetTag: (ctx.r1bisTag as bigint).toString(16),
            local: formatIpv6(ctx.i2bisLocal ?? ctx.lpLocal),
            peer: formatIpv6(ctx.i2bisPeer ?? ctx.lpPeer),
            retransmits: ctx.retransmits,
          }
        : null,
    ageMs: {
      created: age(ctx.createdAt),
      stateSince: age(ctx.stateSince),
      established: age(ctx.establishedAt ?? ctx.createdAt),
      lastControl: ctx.lastControlAt === null ? null : age(ctx.lastControlAt),
    },
  };
}

function withPrefs<T extends object>(o: T, e: { priority?: number; weight?: number }): T & { priority?: number; weight?: number } {
  const r: T & { priority?: number; weight?: number } = o;
  if (e.priority !== undefined) r.priority = e.priority;
  if (e.weight !== undefined) r.weight = e.weight;
  return r;
}

function hex(b: Uint8Array): string {
  return addrKey(b); // the address key is plain lower-case hex of any length
}

// ------------------------------------------------------------------ import

/** A record that passed validation, in the core's own types. */
interface Parsed {
  readonly state: PersistedContext['state'];
  readonly ulidLocal: Uint8Array;
  readonly ulidPeer: Uint8Array;
  readonly fii: number;
  readonly ctLocal: bigint;
  readonly ctPeer: bigint;
  readonly announced: {
    readonly generation: number | null;
    readonly entries: (LocalEntry & { readonly octet: number })[];
    readonly acked: boolean;
    readonly listAcked: boolean;
  };
  readonly pdsKnown: boolean;
  readonly update: Exclude<PersistedContext['update'], null> | null;
  readonly refreshPending: boolean;
  readonly lsPeer: PeerEntry[];
  readonly peerGeneration: number | null;
  readonly replaced: number[];
  readonly peerPds: Uint8Array | null;
  readonly peerKeepalive: number | null;
  readonly lpLocal: Uint8Array;
  readonly lpPeer: Uint8Array;
  readonly initNonce: number | null;
  readonly i2bis: {
    readonly responderNonce: number;
    readonly validator: Uint8Array;
    readonly packetTag: bigint;
    readonly local: Uint8Array;
    readonly peer: Uint8Array;
    readonly retransmits: number;
  } | null;
  readonly ages: { created: number; stateSince: number; established: number; lastControl: number | null };
}

export function importContexts(core: HostCore, now: number, records: unknown): ImportResult {
  const restored: ContextSnapshot[] = [];
  const rejected: { index: number; reason: string }[] = [];
  const actions: ImportResult['actions'] = [];
  const n = recordCount(records);
  if (typeof n === 'string') return { restored, rejected: [{ index: -1, reason: n }], actions };
  for (let i = 0; i < n; i++) {
    let p: Parsed;
    try {
      p = parseRecord(core, (records as unknown[])[i]);
      conflicts(core, p);
    } catch (e) {
      rejected.push({ index: i, reason: reasonOf(e) });
      continue;
    }
    const ctx = install(core, now, p);
    const out = new Out();
    try {
      resume(core, now, out, ctx, p);
    } catch (e) {
      // Whatever sending needed failed (e.g. signing): leave no half-restored context behind.
      core.remove(new Out(), ctx, 'requested');
      rejected.push({ index: i, reason: `cannot resume: ${reasonOf(e)}` });
      continue;
    }
    actions.push(...out.actions);
    restored.push(ctx.snapshot());
  }
  return { restored, rejected, actions };
}

/** How many records there are, or why the whole input is refused. */
function recordCount(records: unknown): number | string {
  try {
    if (!Array.isArray(records)) return 'records must be an array';
    const n = records.length;
    return n > MAX_IMPORTED_RECORDS ? `more than ${MAX_IMPORTED_RECORDS} records` : n;
  } catch (e) {
    return reasonOf(e); // not what JSON.parse makes: a proxy, say
  }
}

/**
 * A validation failure. Not an Error: capturing a stack trace costs more than
 * validating a record, and a state file of garbage may hold a million.
 */
class Invalid {
  constructor(readonly reason: string) {}
}

function invalid(reason: string): never {
  throw new Invalid(reason);
}

function reasonOf(e: unknown): string {
  if (e instanceof Invalid) return e.reason;
  return e instanceof Error ? e.message : 'malformed record';
}

/** The host-independent checks, then those needing its tag space and HBA verification. */
function parseRecord(core: HostCore, rec: unknown): Parsed {
  const r = object(rec, 'record');
  if (r.v !== 1) invalid('v: unknown record version');
  const state = r.state;
  if (state !== ContextState.Established && state !== ContextState.I2bisSent) invalid('state: must be ESTABLISHED or I2BIS-SENT');
  const ulidLocal = address(r.ulidLocal, 'ulidLocal');
  const ulidPeer = address(r.ulidPeer, 'ulidPeer');
  const ctLocal = tag(r.ctLocal, 'ctLocal');
  if (ctLocal === 0n) invalid('ctLocal: must not be 0');
  if (ctLocal > core.tagMask) invalid(`ctLocal: outside the host's ${core.tagBits}-bit tag space`);
  const p: Parsed = {
    state,
    ulidLocal,
    ulidPeer,
    fii: uint(r.fii, 0xffff_ffff, 'fii'),
    ctLocal,
    ctPeer: tag(r.ctPeer, 'ctPeer'), // the peer's choice: any 47-bit value it sent
    announced: parseAnnounced(r.announced),
    pdsKnown: bool(r.pdsKnown, 'pdsKnown'),
    update: parseUpdate(r.update),
    refreshPending: bool(r.refreshPending, 'refreshPending'),
    ...parsePeer(r.peer),
    lpLocal: address(r.lpLocal, 'lpLocal'),
    lpPeer: address(r.lpPeer, 'lpPeer'),
    initNonce: nullable(r.initiatorNonce, (v) => uint(v, 0xffff_ffff, 'initiatorNonce')),
    i2bis: nullable(r.i2bis, parseI2bis),
    ages: parseAges(r.ageMs),
  };
  checkConsistency(p);
  checkPeerProofs(core, p);
  return p;
}

function parseAnnounced(v: unknown): Parsed['announced'] {
  const o = object(v, 'announced');
  const entries = list(o.locators, MAX_LOCATORS, 'announced.locators', (x, what) => localLocator(x, what));
  if (new Set(entries.map((e) => e.key)).size !== entries.length) invalid('announced.locators: duplicate address');
  const generation = nullable(o.generation, (g) => uint(g, 0xffff_ffff, 'announced.generation'));
  if ((generation === null) !== (entries.length === 0)) invalid('announced.generation: null exactly when nothing is announced');
  return { generation, entries, acked: bool(o.acked, 'announced.acked'), listAcked: bool(o.listAcked, 'announced.listAcked') };
}

function localLocator(v: unknown, what: string): LocalEntry & { octet: number } {
  const o = object(v, what) as Partial<Record<keyof PersistedLocalLocator, unknown>>;
  const addr = address(o.addr, `${what}.addr`);
  const octet = o.method;
  if (octet !== VerificationMethod.HBA && octet !== VerificationMethod.CGA) invalid(`${what}.method: must be 1 (HBA) or 2 (CGA)`);
  return {
    addr,
    key: addrKey(addr),
    method: octet === VerificationMethod.HBA ? 'hba' : 'cga',
    octet,
    flags: uint(o.flags, 0xff, `${what}.flags`),
    ...prefs(o, what),
  };
}

function parseUpdate(v: unknown): Parsed['update'] {
  return nullable(v, (x) => {
    const o = object(x, 'update');
    return {
      nonce: uint(o.nonce, 0xffff_ffff, 'update.nonce'),
      retransmits: uint(o.retransmits, 0xffff_ffff, 'update.retransmits'),
      generation: nullable(o.generation, (g) => uint(g, 0xffff_ffff, 'update.generation')),
      supersededUnacked: bool(o.supersededUnacked, 'update.supersededUnacked'),
    };
  });
}

function parsePeer(v: unknown): Pick<Parsed, 'lsPeer' | 'peerGeneration' | 'replaced' | 'peerPds' | 'peerKeepalive'> {
  const o = object(v, 'peer');
  const replaced = list(o.replacedGenerations, REPLACED_GENERATIONS_KEPT, 'peer.replacedGenerations', (g, what) => uint(g, 0xffff_ffff, what));
  return {
    lsPeer: list(o.locators, MAX_LOCATORS, 'peer.locators', peerLocator),
    peerGeneration: nullable(o.generation, (g) => uint(g, 0xffff_ffff, 'peer.generation')),
    replaced,
    peerPds: nullable(o.pds, (x) => bytes(x, 26, MAX_OPTION_BYTES, 'peer.pds')),
    peerKeepalive: nullable(o.keepaliveTimeoutSec, (k) => uint(k, 0xffff, 'peer.keepaliveTimeoutSec')),
  };
}

const VERIFICATIONS: readonly PeerVerification[] = ['unverified', 'hba', 'cga', 'failed'];

function peerLocator(v: unknown, what: string): PeerEntry {
  const o = object(v, what) as Partial<Record<keyof PersistedPeerLocator, unknown>>;
  const addr = address(o.addr, `${what}.addr`);
  const verification = o.verification as PeerVerification;
  if (!VERIFICATIONS.includes(verification)) invalid(`${what}.verification: must be one of ${VERIFICATIONS.join(', ')}`);
  return {
    addr,
    key: addrKey(addr),
    method: uint(o.method, 0xff, `${what}.method`),
    verification,
    flags: uint(o.flags, 0xff, `${what}.flags`),
    ...prefs(o, what),
  };
}

function parseI2bis(v: unknown): Exclude<Parsed['i2bis'], null> {
  const o = object(v, 'i2bis');
  return {
    responderNonce: uint(o.responderNonce, 0xffff_ffff, 'i2bis.responderNonce'),
    validator: bytes(o.validator, 1, MAX_OPTION_BYTES, 'i2bis.validator'),
    packetTag: tag(o.packetTag, 'i2bis.packetTag'),
    local: address(o.local, 'i2bis.local'),
    peer: address(o.peer, 'i2bis.peer'),
    retransmits: uint(o.retransmits, 0xffff_ffff, 'i2bis.retransmits'),
  };
}

function parseAges(v: unknown): Parsed['ages'] {
  const o = object(v, 'ageMs');
  const ages = {
    created: age(o.created, 'ageMs.created'),
    stateSince: age(o.stateSince, 'ageMs.stateSince'),
    established: age(o.established, 'ageMs.established'),
    lastControl: nullable(o.lastControl, (x) => age(x, 'ageMs.lastControl')),
  };
  // Nothing happened to a context before it was created.
  if (ages.stateSince > ages.created || ages.established > ages.created || (ages.lastControl ?? 0) > ages.created) {
    invalid('ageMs: created must be the oldest');
  }
  return ages;
}

/** Invariants the live core keeps; a record breaking one was not written by it. */
function checkConsistency(p: Parsed): void {
  const established = p.state === ContextState.Established;
  if (established !== (p.i2bis === null)) invalid('i2bis: present exactly in I2BIS-SENT');
  if (!established && p.initNonce === null) invalid('initiatorNonce: required in I2BIS-SENT (the R2 is matched by it)');
  const u = p.update;
  if (u !== null) {
    // startUpdate/onR1bis: only ESTABLISHED has an Update, for an unacknowledged announcement.
    if (!established) invalid('update: only in ESTABLISHED');
    if (p.announced.acked || p.announced.generation === null) invalid('update: the announcement it carries is acknowledged or empty');
    if (u.generation !== null && u.generation !== p.announced.generation) invalid('update.generation: not the announced generation');
    if (u.generation === null && !p.announced.listAcked) invalid('update: preferences only, but the peer lacks the list');
    if (p.refreshPending) invalid('refreshPending: not while an Update is outstanding');
  }
  if (p.refreshPending && !established) invalid('refreshPending: only in ESTABLISHED');
  const ulidPeerKey = addrKey(p.ulidPeer);
  const lpKey = addrKey(p.lpPeer);
  const lp = p.lsPeer.find((e) => e.key === lpKey);
  // Lp(peer) is always a proven locator, or ULID(peer) as the last resort (choosePeerLocator).
  if (lpKey !== ulidPeerKey && (lp === undefined || !usablePeer(lp, ulidPeerKey))) invalid('lpPeer: not a usable peer locator');
}

/**
 * The peer PDS must bind ULID(peer) (it was accepted so) and every locator
 * marked 'hba' must verify against it under this host's minSec: the restored
 * PDS is what later Updates are checked with. 'cga' ones cannot be checked
 * again (the signature is not kept).
 */
function checkPeerProofs(core: HostCore, p: Parsed): void {
  const proven = p.lsPeer.some((e) => e.verification === 'hba' || e.verification === 'cga');
  if (p.peerPds === null) {
    if (proven) invalid('peer.pds: required by HBA/CGA-verified locators');
    return;
  }
  if (pdsBinding(p.ulidPeer, p.peerPds, core.cache, core.minSec) === null) invalid('peer.pds: does not bind ULID(peer)');
  for (const [i, e] of p.lsPeer.entries()) {
    if (e.verification === 'hba' && !verifyHba(e.addr, p.peerPds, { cache: core.cache, minSec: core.minSec }).ok) {
      invalid(`peer.locators[${i}]: does not verify as an HBA of peer.pds`);
    }
  }
}

/** Against the contexts the host already has (earlier records included). */
function conflicts(core: HostCore, p: Parsed): void {
  if (core.byKey.has(contextKey(p.ulidLocal, p.ulidPeer, p.fii))) invalid('duplicate ULID pair and FII');
  if (core.byCtLocal.has(p.ctLocal)) invalid('duplicate CT(local)');
  // §7.6: two live contexts with the same CT(peer) and overlapping Ls(peer)
  // are confused; the live core never keeps both.
  const mine = new Set([addrKey(p.ulidPeer), ...p.lsPeer.filter((e) => e.verification !== 'failed').map((e) => e.key)]);
  for (const other of core.byCtPeer.get(p.ctPeer) ?? []) {
    if (!other.hasPeerState) continue;
    for (const k of other.peerKeys()) if (mine.has(k)) invalid('confused with another context (same CT(peer), overlapping Ls(peer))');
  }
}

/** Create the context and its indexes. Assignments only: it cannot fail. */
function install(core: HostCore, now: number, p: Parsed): Ctx {
  const ctx = new Ctx(new Uint8Array(p.ulidLocal), new Uint8Array(p.ulidPeer), p.fii, p.state, now - p.ages.created);
  core.byKey.set(ctx.key, ctx);
  core.setCtLocal(ctx, p.ctLocal);
  core.setCtPeer(ctx, p.ctPeer);
  core.setNonce(ctx, p.initNonce);
  ctx.stateSince = now - p.ages.stateSince;
  ctx.establishedAt = now - p.ages.established;
  ctx.lastControlAt = p.ages.lastControl === null ? null : now - p.ages.lastControl;
  const entries = p.announced.entries;
  // The PDS the list was announced with is this host's PDS of ULID(local);
  // if the set changed so much that it is gone, the list is replaced anyway.
  const pds = entries.length > 0 ? (pdsForUlid(core.local, ctx.ulidLocal, core.cache)?.params ?? null) : null;
  ctx.announced = {
    ann: announcementOf(entries, pds),
    version: 0, // never the host's: resume() checks it against the current set
    generation: p.announced.generation,
    acked: p.announced.acked,
    listAcked: p.announced.listAcked,
    fullOptions: null,
  };
  ctx.lsLocal = entries.length > 0 ? entries : core.ulidLocalEntry(ctx);
  ctx.pdsKnown = p.pdsKnown;
  ctx.lsPeer = p.lsPeer;
  ctx.peerGeneration = p.peerGeneration;
  ctx.replacedPeerGenerations.push(...p.replaced);
  ctx.peerPds = p.peerPds;
  ctx.peerKeepaliveTimeout = p.peerKeepalive;
  ctx.lpLocal = new Uint8Array(p.lpLocal);
  ctx.lpPeer = new Uint8Array(p.lpPeer);
  if (p.i2bis !== null) {
    ctx.respNonce = p.i2bis.responderNonce;
    ctx.validator = p.i2bis.validator;
    ctx.r1bisTag = p.i2bis.packetTag;
    ctx.i2bisLocal = p.i2bis.local;
    ctx.i2bisPeer = p.i2bis.peer;
    ctx.retransmits = p.i2bis.retransmits;
  }
  return ctx;
}

/**
 * Re-arm what was in progress, as if the timers had fired during the
 * downtime: the announcement is checked against the host's current set (a
 * gone Lp(local) is replaced, a changed list goes out in an Update), an
 * outstanding Update is retransmitted with its nonce, an I2bis resent.
 */
function resume(core: HostCore, now: number, out: Out, ctx: Ctx, p: Parsed): void {
  const restored = ctx.announced as Announced;
  const changes = core.adoptLocalSet(ctx);
  if (ctx.state === ContextState.I2bisSent) {
    onRetransmitTimer(core, now, out, ctx); // the I2bis announces the current set
  } else if (ctx.announced === restored && p.update !== null) {
    ctx.update = outstanding(core, ctx, restored, p.update);
    onUpdateTimer(core, now, out, ctx);
  } else if (ctx.announced === restored && p.refreshPending) {
    ctx.refreshPending = true;
    core.heap.schedule(ctx, 'update', now + updateInterval(core, 0));
  } else {
    // A new announcement, or an unacknowledged one without its Update: send
    // one; a request from before the restart may still be in flight.
    startUpdate(core, now, out, ctx, p.update !== null || p.refreshPending || !restored.acked);
  }
  out.updated(ctx, changes);
}

/** The outstanding Update rebuilt: same nonce and content, so a late Ack still matches. */
function outstanding(core: HostCore, ctx: Ctx, a: Announced, u: Exclude<Parsed['update'], null>): OutstandingUpdate {
  const msg = updateRequestFor(core, ctx, a, u.generation !== null, u.nonce);
  return { nonce: u.nonce, retransmits: u.retransmits, generation: u.generation, msg, announced: a, supersededUnacked: u.supersededUnacked };
}

// ------------------------------------------------------ field validators

function object(v: unknown, what: string): Record<string, unknown> {
  if (v === null || typeof v !== 'object' || Array.isArray(v)) invalid(`${what}: must be an object`);
  return v as Record<string, unknown>;
}

function bool(v: unknown, what: string): boolean {
  if (typeof v !== 'boolean') invalid(`${what}: must be a boolean`);
  return v;
}

function uint(v: unknown, max: number, what: string): number {
  if (typeof v !== 'number' || !Number.isInteger(v) || v < 0 || v > max) invalid(`${what}: must be an integer 0..${max}`);
  return v;
}

function age(v: unknown, what: string): number {
  if (typeof v !== 'number' || !Number.isFinite(v) || v < 0 || v > Number.MAX_SAFE_INTEGER) invalid(`${what}: must be a finite age ≥ 0 (ms)`);
  return v;
}

function nullable<T>(v: unknown, parse: (v: unknown) => T): T | null {
  return v === null ? null : parse(v);
}

function list<T>(v: unknown, max: number, what: string, parse: (v: unknown, what: string) => T): T[] {
  if (!Array.isArray(v)) invalid(`${what}: must be an array`);
  if (v.length > max) invalid(`${what}: more than ${max} entries`);
  const out: T[] = [];
  for (let i = 0; i < v.length; i++) out.push(parse(v[i], `${what}[${i}]`));
  return out;
}

function prefs(o: { priority?: unknown; weight?: unknown }, what: string): { priority?: number; weight?: number } {
  const r: { priority?: number; weight?: number } = {};
  if (o.priority !== undefined) r.priority = uint(o.priority, 0xff, `${what}.priority`);
  if (o.weight !== undefined) r.weight = uint(o.weight, 0xff, `${what}.weight`);
  return r;
}

/** A unicast address in RFC 5952 (or any RFC 4291) text. */
function address(v: unknown, what: string): Uint8Array {
  const a = typeof v === 'string' ? parseIpv6(v) : null;
  if (a === null) invalid(`${what}: must be IPv6 address text`);
  if (isMulticast(a) || isUnspecified(a)) invalid(`${what}: must be a unicast address`);
  return a;
}

/** A context tag: 1..12 lower-case hex digits, at most 47 bits. */
function tag(v: unknown, what: string): bigint {
  if (typeof v !== 'string' || !/^[0-9a-f]{1,12}$/.test(v)) invalid(`${what}: must be a hex context tag`);
  const t = BigInt(`0x${v}`);
  if (t > CONTEXT_TAG_MAX) invalid(`${what}: more than 47 bits`);
  return t;
}

function bytes(v: unknown, min: number, max: number, what: string): Uint8Array {
  if (typeof v !== 'string') invalid(`${what}: must be lower-case hex octets`);
  if (v.length < 2 * min || v.length > 2 * max) invalid(`${what}: must be ${min}..${max} octets`);
  if (v.length % 2 !== 0 || !/^[0-9a-f]*$/.test(v)) invalid(`${what}: must be lower-case hex octets`);
  return new Uint8Array(Buffer.from(v, 'hex'));
}
