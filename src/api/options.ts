// RFC 6316 Table 1: get/set semantics of every SOL_SHIM option, its value
// size and its errors (SPEC-DIGEST §1.3 error matrix, DESIGN.md decisions).
// Talks to the agent only through ApiBackend. The order of checks, for every
// option:
//   1. unknown option, or set of a read-only one      → ENOPROTOOPT
//   2. not an IPv4/IPv6 socket                        → EOPNOTSUPP
//   3. bad value length (set) / buffer too small (get) → EINVAL
//   4. unconnected socket (all but DONTSHIM; ASSOCIATED answers 2) → EOPNOTSUPP
//   5. no context (all but ASSOCIATED, DONTSHIM, DEFERRED_SETUP)   → ENOENT
//   6. the option's own checks (EINVAL on bad values, EINVALIDLOCATOR, ...)
// A socket with SHIM_DONTSHIM set has no context (ASSOCIATED answers 0).
import {
  ApiError, type ApiBackend, type ApiContext, type LocatorInfo, type LocatorPref, type Side, type SocketPolicy, type SocketRef,
} from './backend.js';
import * as H from './shim-h.js';
import {
  decodeInt, decodeLocator, decodePathexplore, encodeInt, encodeLocator, encodeLocators, encodePathexplore, isZeroLocator,
  ZERO_LOCATOR, type ShimLocator,
} from './structs.js';
import type { ErrnoName } from './shim-h.js';

export type OptionResult =
  | { readonly ok: true; readonly value?: Uint8Array }
  | {
    readonly ok: false;
    readonly errno: ErrnoName;
    readonly message: string;
    /** Bytes the caller's buffer needs (ETOOMANYLOCATORS on get). */
    readonly needed?: number;
    /** An unexpected exception (answered EIO), for the log. */
    readonly cause?: unknown;
  };

export type OptionRequest =
  | { readonly op: 'get'; readonly optname: number; /** caller's buffer size */ readonly optlen: number }
  | { readonly op: 'set'; readonly optname: number; readonly optval: Uint8Array };

const AF_INET = 2;
const AF_INET6 = 10;
const LOC = H.ShimLocatorLayout.size;
const INT = H.SIZEOF_INT;

/** What one handler sees. ctx() looks the context up once, lazily. */
export interface Call {
  readonly backend: ApiBackend;
  readonly sock: SocketRef;
  policy(): Promise<SocketPolicy>;
  ctx(): Promise<ApiContext>;       // throws ENOENT when none
  ctxOrNull(): Promise<ApiContext | null>;
}

interface OptionSpec {
  /** Value size: a fixed number of bytes, or 'list' (array of shim_locator). */
  readonly size: number | 'list';
  /** Effective for unconnected sockets too (SHIM_DONTSHIM only; ASSOCIATED answers 2 itself). */
  readonly unconnected?: boolean;
  /** Effective without a context (ASSOCIATED, DONTSHIM, DEFERRED_SETUP). */
  readonly noContext?: boolean;
  get(c: Call, optlen: number): Promise<Uint8Array>;
  set?(c: Call, val: Uint8Array): Promise<void>;
}

const fail = (errno: ErrnoName, message: string): never => { throw new ApiError(errno, message); };

const eq = (a: Uint8Array, b: Uint8Array): boolean => a.length === b.length && a.every((x, i) => x === b[i]);
const isMapped = (a: Uint8Array): boolean => a.subarray(0, 10).every((x) => x === 0) && a[10] === 0xff && a[11] === 0xff;

/** struct shim_locator → a checked address (RFC 6316 §8.1 field rules). Shim6 has IPv6 locators only, and no NAT. */
function locatorAddr(l: ShimLocator): Uint8Array {
  if (l.proto !== 0 && l.proto !== H.IPPROTO_UDP) fail('EINVAL', `lc_proto must be 0 or IPPROTO_UDP, not ${l.proto}`);
  if (l.family === AF_INET) {
    if (!isMapped(l.addr)) fail('EINVAL', 'an AF_INET locator must be an IPv4-mapped IPv6 address');
    fail('EINVALIDLOCATOR', 'Shim6 has no IPv4 locators');
  }
  if (l.family !== AF_INET6) fail('EINVAL', `lc_family must be AF_INET6 (or AF_INET), not ${l.family}`);
  if (l.proto === H.IPPROTO_UDP) fail('EINVALIDLOCATOR', 'Shim6 has no locators behind a NAT (lc_proto IPPROTO_UDP)');
  return l.addr;
}

/** The LocatorInfo → struct shim_locator of a get. */
function toShimLocator(i: LocatorInfo, side: Side): ShimLocator {
  return {
    family: isMapped(i.addr) ? AF_INET : AF_INET6, proto: 0, port: 0,
    prio: i.prio & 0xffff, weight: i.weight & 0xffff,
    ifidx: side === 'local' ? (i.ifindex ?? 0) : 0,
    addr: i.addr, flags: i.flags & (H.SHIM_LOC_FLAG_HBA | H.SHIM_LOC_FLAG_CGA),
  };
}

/** Highest preference: lowest prio, then highest weight; ties keep list order. */
function best(list: readonly LocatorInfo[]): LocatorInfo | undefined {
  let b: LocatorInfo | undefined;
  for (const l of list) if (!b || l.prio < b.prio || (l.prio === b.prio && l.weight > b.weight)) b = l;
  return b;
}

/** RFC 6316 §14.1.1: an unknown source locator MUST be rejected unless it is on an interface (then SHOULD update). */
export async function checkLocal(c: Call, ctx: ApiContext, addr: Uint8Array): Promise<LocatorInfo | null> {
  const known = (await c.backend.locators(ctx, 'local')).find((l) => eq(l.addr, addr));
  if (known) return known;
  if (!(await c.backend.isLocalAddress(addr))) fail('EINVALIDLOCATOR', 'not an address of this host');
  if (!(await c.backend.addLocalLocator(ctx, addr))) fail('EINVALIDLOCATOR', 'cannot be a locator of this context');
  return null;
}

/** RFC 6316 §14.1.2: Shim6 MUST reject unknown destination locators. */
export async function checkPeer(c: Call, ctx: ApiContext, addr: Uint8Array, unverifiedOk: boolean): Promise<LocatorInfo> {
  const known = (await c.backend.locators(ctx, 'peer')).find((l) => eq(l.addr, addr));
  if (!known) return fail('EINVALIDLOCATOR', 'not a locator of the peer');
  if (known.reach === 'unreachable') fail('EUNREACHABLELOCATOR', 'the peer locator is unreachable');
  if (known.reach === 'unverified' && !unverifiedOk) fail('EUNVERIFIEDLOCATOR', 'the peer locator is not verified yet');
  return known;
}

async function reapOf(c: Call, ctx: ApiContext) {
  return (await c.backend.reap(ctx)) ?? fail('EOPNOTSUPP', 'no REAP instance on this system');
}

function intOption(get: (c: Call) => Promise<number>, set?: (c: Call, v: number) => Promise<void>, extra: Partial<OptionSpec> = {}): OptionSpec {
  return {
    size: INT,
    ...extra,
    get: async (c) => encodeInt(await get(c)),
    set: set ? async (c, val) => set(c, decodeInt(val)) : undefined,
  };
}

function prefOption(side: Side): OptionSpec {
  return {
    size: LOC,
    async get(c) {
      const b = best(await c.backend.locators(await c.ctx(), side));
      return encodeLocator(b ? toShimLocator(b, side) : ZERO_LOCATOR);
    },
    async set(c, val) {
      const ctx = await c.ctx();
      const l = decodeLocator(val);
      const addr = locatorAddr(l);
      if (side === 'local') await checkLocal(c, ctx, addr);
      else await checkPeer(c, ctx, addr, true);
      // lc_ifidx and lc_flags have no effect in a set (§6.4).
      const pref = { addr, prio: l.prio, weight: l.weight };
      // §11.1: a preference that conflicts with another socket's forks a context for this one.
      const target = c.backend.preferenceContext ? await c.backend.preferenceContext(c.sock, ctx, { side, prefs: [pref], list: false }) : ctx;
      await c.backend.setPreference(target, side, pref);
    },
  };
}

function recvOption(side: Side): OptionSpec {
  const key = side === 'local' ? 'recvLocal' : 'recvPeer';
  return intOption(
    async (c) => { await c.ctx(); return (await c.policy())[key] ? 1 : 0; },
    async (c, v) => {
      await c.ctx();
      if (v !== 0 && v !== 1) fail('EINVAL', `${side === 'local' ? 'SHIM_LOC_LOCAL_RECV' : 'SHIM_LOC_PEER_RECV'} takes 0 or 1, not ${v}`);
      await c.backend.setSocketPolicy(c.sock, { ...(await c.policy()), [key]: v === 1 });
    },
  );
}

function sendOption(side: Side): OptionSpec {
  const key = side === 'local' ? 'sendLocal' : 'sendPeer';
  return {
    size: LOC,
    async get(c) {
      const ctx = await c.ctx();
      const pinned = (await c.policy())[key];
      if (!pinned) return encodeLocator(ZERO_LOCATOR);
      const info = (await c.backend.locators(ctx, side)).find((l) => eq(l.addr, pinned));
      return encodeLocator(toShimLocator(info ?? { addr: pinned, flags: 0, prio: 0, weight: 0 }, side));
    },
    async set(c, val) {
      const ctx = await c.ctx();
      let addr: Uint8Array | null = null;
      // A zero-filled locator inactivates the setting (§6.8).
      if (!isZeroLocator(val)) {
        addr = locatorAddr(decodeLocator(val));
        if (side === 'local') await checkLocal(c, ctx, addr);
        else await checkPeer(c, ctx, addr, false);
      }
      await c.backend.setSocketPolicy(c.sock, { ...(await c.policy()), [key]: addr });
    },
  };
}

function listOption(side: Side): OptionSpec {
  return {
    size: 'list',
    async get(c, optlen) {
      const list = await c.backend.locators(await c.ctx(), side);
      const needed = list.length * LOC;
      if (optlen < needed) throw Object.assign(new ApiError('ETOOMANYLOCATORS', `the list needs ${needed} bytes, the buffer has ${optlen}`), { needed });
      return encodeLocators(list.map((l) => toShimLocator(l, side)));
    },
    async set(c, val) {
      const ctx = await c.ctx();
      const n = val.length / LOC;
      if (n > H.SHIM_MAX_LOCATORS) fail('ETOOMANYLOCATORS', `${n} locators, at most ${H.SHIM_MAX_LOCATORS}`);
      const prefs: LocatorPref[] = [];
      for (let i = 0; i < n; i++) {
        const l = decodeLocator(val, i * LOC);
        const addr = locatorAddr(l);
        if (prefs.some((p) => eq(p.addr, addr))) fail('EINVAL', `locator ${i} is listed twice`);
        prefs.push({ addr, prio: l.prio, weight: l.weight });
      }
      for (const p of prefs) {
        if (side === 'local') await checkLocal(c, ctx, p.addr);
        else await checkPeer(c, ctx, p.addr, false);
      }
      const target = c.backend.preferenceContext ? await c.backend.preferenceContext(c.sock, ctx, { side, prefs, list: true }) : ctx;
      await c.backend.setLocatorList(target, side, prefs);
    },
  };
}

/** Table 1, by option number. */
export const OPTIONS: ReadonlyMap<number, OptionSpec> = new Map<number, OptionSpec>([
  [H.SHIM_ASSOCIATED, intOption(async (c) => ((await c.ctxOrNull()) ? 1 : 0), undefined, { noContext: true })],
  [H.SHIM_DONTSHIM, intOption(
    async (c) => ((await c.policy()).dontShim ? 1 : 0),
    async (c, v) => {
      if (v !== 0 && v !== 1) fail('EINVAL', `SHIM_DONTSHIM takes 0 or 1, not ${v}`);
      const p = await c.policy();
      if (p.dontShim === (v === 1)) return;
      // §6.2: disabling MUST precede connect(); re-enabling a connected socket is not covered: refused alike.
      if (c.sock.connected || c.sock.listening) fail('EOPNOTSUPP', 'SHIM_DONTSHIM must be set before the socket is connected');
      await c.backend.setSocketPolicy(c.sock, { ...p, dontShim: v === 1 });
    },
    { unconnected: true, noContext: true },
  )],
  [H.SHIM_HOT_STANDBY, intOption(
    async (c) => ((await reapOf(c, await c.ctx())).effective.hotStandby ? 1 : 0),
    async (c, v) => {
      const ctx = await c.ctx();
      await reapOf(c, ctx);
      if (v !== 0 && v !== 1) fail('EINVAL', `SHIM_HOT_STANDBY takes 0 or 1, not ${v}`);
      await c.backend.setReap(ctx, { hotStandby: v === 1 });
    },
  )],
  [H.SHIM_LOC_LOCAL_PREF, prefOption('local')],
  [H.SHIM_LOC_PEER_PREF, prefOption('peer')],
  [H.SHIM_LOC_LOCAL_RECV, recvOption('local')],
  [H.SHIM_LOC_PEER_RECV, recvOption('peer')],
  [H.SHIM_LOC_LOCAL_SEND, sendOption('local')],
  [H.SHIM_LOC_PEER_SEND, sendOption('peer')],
  [H.SHIM_LOCLIST_LOCAL, listOption('local')],
  [H.SHIM_LOCLIST_PEER, listOption('peer')],
  [H.SHIM_APP_TIMEOUT, intOption(
    async (c) => (await reapOf(c, await c.ctx())).requested.sendTimeoutS,
    async (c, v) => {
      const ctx = await c.ctx();
      await reapOf(c, ctx);
      if (v < 0 || v > 0xffff) fail('EINVAL', `SHIM_APP_TIMEOUT takes 0 (REAP default) to 65535 seconds, not ${v}`);
      await c.backend.setReap(ctx, { sendTimeoutS: v });
    },
  )],
  [H.SHIM_PATHEXPLORE, {
    size: H.ShimPathexploreLayout.size,
    async get(c) {
      const e = (await reapOf(c, await c.ctx())).effective;
      return encodePathexplore({
        probenum: e.initialProbes, keepaliveto: e.sendTimeoutS, keepaliveint: e.keepaliveIntervalS,
        initprobeto: e.initialProbeTimeoutMs, reserved: 0,
      });
    },
    async set(c, val) {
      const ctx = await c.ctx();
      await reapOf(c, ctx);
      const p = decodePathexplore(val);
      if (p.reserved !== 0) fail('EINVAL', 'pe_reserved must be zero');
      if (p.keepaliveint && p.keepaliveto && p.keepaliveint >= p.keepaliveto) {
        fail('EINVAL', `pe_keepaliveint (${p.keepaliveint} s) must be less than pe_keepaliveto (${p.keepaliveto} s)`);
      }
      // 0 in a field: REAP's default for it.
      await c.backend.setReap(ctx, {
        initialProbes: p.probenum, sendTimeoutS: p.keepaliveto, keepaliveIntervalS: p.keepaliveint, initialProbeTimeoutMs: p.initprobeto,
      });
    },
  }],
  [H.SHIM_CONTEXT_DEFERRED_SETUP, intOption(async (c) => (c.backend.deferredSetup() ? 1 : 0), undefined, { noContext: true })],
]);

/** Answer one get/setsockopt(SOL_SHIM) on a socket. Never throws: every failure is an errno. */
export async function handleOption(backend: ApiBackend, sock: SocketRef, req: OptionRequest): Promise<OptionResult> {
  const name = H.optionName(req.optname) ?? `option ${req.optname}`;
  try {
    const spec = OPTIONS.get(req.optname);
    if (!spec) return fail('ENOPROTOOPT', `unknown SOL_SHIM option ${req.optname}`);
    if (req.op === 'set' && !spec.set) return fail('ENOPROTOOPT', `${name} is read-only`);
    if (sock.family !== AF_INET6 && sock.family !== AF_INET) return fail('EOPNOTSUPP', 'not an IPv4 or IPv6 socket');
    if (req.op === 'set') {
      const len = req.optval.length;
      if (spec.size === 'list' ? len === 0 || len % LOC !== 0 : len !== spec.size) {
        fail('EINVAL', `${name} takes ${spec.size === 'list' ? `an array of ${LOC}-byte locators` : `${spec.size} bytes`}, not ${len}`);
      }
    } else if (spec.size !== 'list' && req.optlen < spec.size) {
      fail('EINVAL', `${name} needs a ${spec.size}-byte buffer, not ${req.optlen}`);
    }
    if (!sock.connected && !spec.unconnected) {
      // DESIGN.md: SHIM_ASSOCIATED on an unconnected socket answers 2 ("unknown").
      if (req.optname === H.SHIM_ASSOCIATED) return { ok: true, value: encodeInt(2) };
      return fail('EOPNOTSUPP', `${name} needs a connected socket`);
    }
    let policy: SocketPolicy | undefined;
    let ctx: ApiContext | null | undefined;
    const call: Call = {
      backend, sock,
      policy: async () => (policy ??= await backend.socketPolicy(sock)),
      async ctxOrNull() {
        if (ctx !== undefined) return ctx;
        if (!sock.connected || (await call.policy()).dontShim) return (ctx = null);
        return (ctx = await backend.lookupContext(sock));
      },
      async ctx() {
        return (await call.ctxOrNull()) ?? fail('ENOENT', 'no shim context is associated with the socket');
      },
    };
    if (!spec.noContext) await call.ctx();
    if (req.op === 'get') return { ok: true, value: await spec.get(call, req.optlen) };
    await spec.set!(call, req.optval);
    return { ok: true };
  } catch (err) {
    if (err instanceof ApiError) {
      const needed = (err as ApiError & { needed?: number }).needed;
      return { ok: false, errno: err.errno, message: `${name}: ${err.message}`, ...(needed !== undefined ? { needed } : {}) };
    }
    return { ok: false, errno: 'EIO', message: `${name}: ${(err as Error)?.message ?? String(err)}`, cause: err };
  }
}
