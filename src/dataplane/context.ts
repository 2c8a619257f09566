// Static contexts written straight into the maps (shim6ctl context ...).
// The agent writes the same records for negotiated contexts.
import { Shim6Error } from '../errors.js';
import * as L from '../generated/layout.js';
import { DataplaneMaps } from './maps.js';
import { addrEq, formatIPv6, parseIPv6 } from './addr.js';
import { DataplaneState, ROUTE_TABLE } from './loader.js';
import * as sys from './sys.js';

export interface StaticContext {
  id: number;
  ulidLocal: string;
  ulidPeer: string;
  lsLocal: string[];     // must include ulidLocal
  lsPeer: string[];      // must include ulidPeer
  lpLocal?: string;      // default ulidLocal
  lpPeer?: string;       // default ulidPeer
  ctLocal: bigint;
  ctPeer: bigint;
  fii?: number;
}

export interface ContextView {
  id: number;
  ulidLocal: string;
  ulidPeer: string;
  lpLocal: string;
  lpPeer: string;
  ctLocal: string;
  ctPeer: string;
  fii: number;
  flags: string[];
  uplink: number;
  lsLocal: string[];
  lsPeer: string[];
  shimmed: boolean;
  stats: { txPackets: string; txBytes: string; rxPackets: string; rxBytes: string; lastTxNs: string; lastRxNs: string };
}

function checkTag(t: bigint, what: string): void {
  if (t <= 0n || t > BigInt(L.CT_MASK)) throw new Shim6Error('SHIM6_ERR_USAGE', `${what} must be a non-zero 47-bit context tag`);
}

function checkId(id: number): void {
  if (!Number.isInteger(id) || id < 1 || id > L.MARK_CTX_MASK) {
    throw new Shim6Error('SHIM6_ERR_USAGE', `context id must be an integer in 1..${L.MARK_CTX_MASK}`);
  }
}

/** Resolve the uplink of a local locator from shim6_uplink. */
function uplinkOf(maps: DataplaneMaps, lpLocal: Uint8Array): L.Shim6Uplink {
  const up = maps.uplinkGet(lpLocal);
  if (!up) {
    throw new Shim6Error('SHIM6_ERR_NOT_FOUND', `local locator ${formatIPv6(lpLocal)} is not an address of any uplink (known: ${maps.uplinks().map((u) => formatIPv6(u.addr)).join(', ') || 'none'})`);
  }
  return up;
}

export function contextAdd(maps: DataplaneMaps, st: DataplaneState, c: StaticContext): void {
  checkId(c.id);
  checkTag(c.ctLocal, 'ct-local');
  checkTag(c.ctPeer, 'ct-peer');
  if (maps.ctxGet(c.id)) throw new Shim6Error('SHIM6_ERR_EXISTS', `context ${c.id} exists`);
  const ulidLocal = parseIPv6(c.ulidLocal), ulidPeer = parseIPv6(c.ulidPeer);
  const lsLocal = c.lsLocal.map(parseIPv6), lsPeer = c.lsPeer.map(parseIPv6);
  if (!lsLocal.some((a) => addrEq(a, ulidLocal))) lsLocal.unshift(ulidLocal);
  if (!lsPeer.some((a) => addrEq(a, ulidPeer))) lsPeer.unshift(ulidPeer);
  const lpLocal = c.lpLocal ? parseIPv6(c.lpLocal) : ulidLocal;
  const lpPeer = c.lpPeer ? parseIPv6(c.lpPeer) : ulidPeer;
  if (!lsLocal.some((a) => addrEq(a, lpLocal))) throw new Shim6Error('SHIM6_ERR_USAGE', 'lp-local must be one of ls-local');
  if (!lsPeer.some((a) => addrEq(a, lpPeer))) throw new Shim6Error('SHIM6_ERR_USAGE', 'lp-peer must be one of ls-peer');
  const fii = c.fii ?? 0;
  const ulidKey = { ulidLocal, ulidPeer, fii };
  if (maps.ulidGet(ulidKey) !== undefined) throw new Shim6Error('SHIM6_ERR_EXISTS', `a context for ${c.ulidLocal} -> ${c.ulidPeer} (fii ${fii}) exists`);
  if (maps.tagGet(c.ctLocal) !== undefined) throw new Shim6Error('SHIM6_ERR_EXISTS', `context tag ${c.ctLocal} is in use`);
  uplinkOf(maps, lpLocal); // fail early with the list of known locators
  writeContext(maps, st, {
    id: c.id, ulidLocal, ulidPeer, fii, ctLocal: c.ctLocal, ctPeer: c.ctPeer, lpLocal, lpPeer,
    lsLocal, lsPeer: lsPeer.map((addr) => ({ addr, verified: true })), flags: L.CTX_F_ACTIVE | L.CTX_F_INBOUND,
  });
}

/** Everything the data plane holds for one context. */
export interface ContextRecord {
  id: number;
  ulidLocal: Uint8Array;
  ulidPeer: Uint8Array;
  fii: number;
  ctLocal: bigint;
  ctPeer: bigint;
  lpLocal: Uint8Array;
  lpPeer: Uint8Array;
  lsLocal: Uint8Array[];
  /** Peer locators the data plane accepts as sources; verified ones may be destinations. */
  lsPeer: Array<{ addr: Uint8Array; verified: boolean }>;
  flags: number;
}

/**
 * Write a context into the maps, or bring an existing record up to date:
 * locator entries added and removed by difference, tags moved, and the
 * context record replaced last, in one map update, so the data path sees
 * either the old pair or the new one. Returns the uplink ifindex (0 when the
 * local locator is on no uplink: such packets are dropped and counted).
 */
/**
 * The host-side state of a context outside the maps: the ULID anchor on the
 * shim device and the peer ULID's route in table 140. `ip` by default
 * (shim6ctl); the agent sends the same over its netlink socket.
 */
export interface HostOps {
  install(st: DataplaneState, r: ContextRecord): void;
  uninstall(st: DataplaneState, ctx: { ulidPeer: Uint8Array; fii: number }): void;
}

export const ipOps: HostOps = {
  install(st, r) {
    const ulidLocal = formatIPv6(r.ulidLocal);
    sys.run('ip', ['-6', 'addr', 'replace', `${ulidLocal}/128`, 'dev', st.shimDev, 'nodad', 'noprefixroute']);
    if (r.fii === 0) {
      sys.run('ip', ['-6', 'route', 'replace', `${formatIPv6(r.ulidPeer)}/128`, 'dev', st.shimDev, 'src', ulidLocal, 'mtu', String(st.mtu), 'table', String(ROUTE_TABLE)]);
    }
  },
  uninstall(st, ctx) {
    if (ctx.fii === 0) sys.run('ip', ['-6', 'route', 'del', `${formatIPv6(ctx.ulidPeer)}/128`, 'dev', st.shimDev, 'table', String(ROUTE_TABLE)], { allowFail: true });
  },
};

export function writeContext(maps: DataplaneMaps, st: DataplaneState, r: ContextRecord, ops?: HostOps): number {
  const prev = maps.ctxGet(r.id);
  const want = new Map<string, { key: L.Shim6LocKey; flags: number }>();
  for (const a of r.lsLocal) want.set(`0${formatIPv6(a)}`, { key: { ctxId: r.id, side: L.SIDE_LOCAL, addr: a }, flags: L.LOC_F_VERIFIED });
  for (const p of r.lsPeer) {
    want.set(`1${formatIPv6(p.addr)}`, { key: { ctxId: r.id, side: L.SIDE_PEER, addr: p.addr }, flags: p.verified ? L.LOC_F_VERIFIED : 0 });
  }
  const ifindex = maps.uplinkGet(r.lpLocal)?.ifindex ?? 0;
  const ctx: L.Shim6Ctx = {
    ulidLocal: r.ulidLocal, ulidPeer: r.ulidPeer, lpLocal: r.lpLocal, lpPeer: r.lpPeer, ctPeer: r.ctPeer, ctLocal: r.ctLocal,
    ifindex, flags: r.flags, fii: r.fii, pad: 0,
  };
  if (!prev) {
    // A new context (context setup): every record written once.
    maps.ctxCreate(r.id, ctx, [...want.values()].map((w) => ({ key: w.key, loc: { flags: w.flags, pad: 0 } })));
    // Anchor the local ULID on the shim device: an address whose uplink goes
    // down loses its local route, and the ULID must stay deliverable while its
    // traffic arrives over another locator. (Removed with the shim device.)
    // The peer ULID goes through the shim device; the path MTU seen by the
    // ULP is the uplinks' minus the payload header.
    (ops ?? ipOps).install(st, r);
    return ifindex;
  }
  // An existing context: locator entries added and removed by difference.
  const have = maps.ctxLocKeys(r.id);
  for (const w of want.values()) maps.locPut(w.key, { flags: w.flags, pad: 0 });
  for (const h of have) {
    if (!want.has(`${h.side === L.SIDE_LOCAL ? 0 : 1}${formatIPv6(h.addr)}`)) maps.locDel(h);
  }
  if (prev.ctPeer !== r.ctPeer) maps.ptagDel(prev.ctPeer);
  maps.ctxPut(r.id, ctx);
  maps.tagPut(r.ctLocal, r.id);
  maps.ptagPut(r.ctPeer, r.id);
  maps.ulidPut({ ulidLocal: r.ulidLocal, ulidPeer: r.ulidPeer, fii: r.fii }, r.id);
  return ifindex;
}

/** Move a context to another locator pair (what REAP does after exploring). */
export function contextSetPair(maps: DataplaneMaps, id: number, lpLocalText: string, lpPeerText: string): void {
  const ctx = maps.ctxGet(id);
  if (!ctx) throw new Shim6Error('SHIM6_ERR_NOT_FOUND', `no context ${id}`);
  const lpLocal = parseIPv6(lpLocalText), lpPeer = parseIPv6(lpPeerText);
  const locs = maps.locs(id);
  if (!locs.some((l) => l.key.side === L.SIDE_LOCAL && addrEq(l.key.addr, lpLocal))) {
    throw new Shim6Error('SHIM6_ERR_USAGE', `${lpLocalText} is not in the context's local locator set`);
  }
  if (!locs.some((l) => l.key.side === L.SIDE_PEER && addrEq(l.key.addr, lpPeer))) {
    throw new Shim6Error('SHIM6_ERR_USAGE', `${lpPeerText} is not in the context's peer locator set`);
  }
  const up = uplinkOf(maps, lpLocal);
  // One map update replaces the record atomically for the data path.
  maps.ctxPut(id, { ...ctx, lpLocal, lpPeer, ifindex: up.ifindex });
}

export function contextDel(maps: DataplaneMaps, st: DataplaneState | undefined, id: number, ops?: HostOps): void {
  const ctx = maps.ctxGet(id);
  if (!ctx) throw new Shim6Error('SHIM6_ERR_NOT_FOUND', `no context ${id}`);
  maps.ulidDel({ ulidLocal: ctx.ulidLocal, ulidPeer: ctx.ulidPeer, fii: ctx.fii });
  maps.tagDel(ctx.ctLocal);
  maps.ptagDel(ctx.ctPeer);
  for (const k of maps.ctxLocKeys(id)) maps.locDel(k);
  maps.ctxDel(id);
  if (st) (ops ?? ipOps).uninstall(st, ctx);
}

const FLAG_NAMES: Array<[number, string]> = [[L.CTX_F_ACTIVE, 'active'], [L.CTX_F_INBOUND, 'inbound']];

export function contextView(maps: DataplaneMaps, id: number): ContextView | undefined {
  const c = maps.ctxGet(id);
  if (!c) return undefined;
  const locs = maps.locs(id);
  const s = maps.stats(id);
  return {
    id,
    ulidLocal: formatIPv6(c.ulidLocal),
    ulidPeer: formatIPv6(c.ulidPeer),
    lpLocal: formatIPv6(c.lpLocal),
    lpPeer: formatIPv6(c.lpPeer),
    ctLocal: `0x${c.ctLocal.toString(16)}`,
    ctPeer: `0x${c.ctPeer.toString(16)}`,
    fii: c.fii,
    flags: FLAG_NAMES.filter(([f]) => c.flags & f).map(([, n]) => n),
    uplink: c.ifindex,
    lsLocal: locs.filter((l) => l.key.side === L.SIDE_LOCAL).map((l) => formatIPv6(l.key.addr)).sort(),
    lsPeer: locs.filter((l) => l.key.side === L.SIDE_PEER).map((l) => formatIPv6(l.key.addr)).sort(),
    shimmed: !(addrEq(c.lpLocal, c.ulidLocal) && addrEq(c.lpPeer, c.ulidPeer)),
    stats: {
      txPackets: s.txPackets.toString(), txBytes: s.txBytes.toString(),
      rxPackets: s.rxPackets.toString(), rxBytes: s.rxBytes.toString(),
      lastTxNs: s.lastTxNs.toString(), lastRxNs: s.lastRxNs.toString(),
    },
  };
}

export function contextList(maps: DataplaneMaps): ContextView[] {
  return maps.ctxIds().map((id) => contextView(maps, id)).filter((v): v is ContextView => !!v);
}

