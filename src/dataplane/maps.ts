// Typed access to the pinned data-plane maps. Layouts come from
// src/generated/layout.ts (generated from the object's BTF), never by hand.
import path from 'node:path';
import { native } from '../native.js';
import { Shim6Error, fromSystem } from '../errors.js';
import * as L from '../generated/layout.js';

export type MapFds = Record<L.MapName, number>;

const u32 = (v: number): Buffer => { const b = Buffer.alloc(4); b.writeUInt32LE(v >>> 0); return b; };
const u64 = (v: bigint): Buffer => { const b = Buffer.alloc(8); b.writeBigUInt64LE(v); return b; };

export interface CtxStats {
  txPackets: bigint; txBytes: bigint; rxPackets: bigint; rxBytes: bigint;
  lastTxNs: bigint; lastRxNs: bigint;
}

/** Every context's counters (DataplaneMaps.countersView). */
export interface StatsSnapshot {
  /** The egress array, TX_SLOTS records. */
  readonly tx: Buffer;
  /** Ingress records of ids lo, lo + 1, ... */
  readonly rx: Buffer;
  readonly lo: number;
}

export const DROP_REASONS: Record<number, string> = {
  [L.DROP_NONE]: 'none',
  [L.DROP_TRUNCATED]: 'truncated',
  [L.DROP_EXTHDR_CHAIN]: 'exthdr_chain',
  [L.DROP_BAD_LOCATOR]: 'bad_locator',
  [L.DROP_CTX_INACTIVE]: 'ctx_inactive',
  [L.DROP_ADJUST_ROOM]: 'adjust_room',
  [L.DROP_STORE]: 'store',
  [L.DROP_NO_UPLINK]: 'no_uplink',
  [L.DROP_BAD_HLEN]: 'bad_hlen',
  [L.DROP_REDIRECT]: 'redirect',
  [L.DROP_ICMP_QUOTE]: 'icmp_quote',
};

const MASK64 = (1n << 64n) - 1n;

/** Home slot of (ULID pair, FII) in shim6_tx: shim6_pair_slot() in
 *  bpf/lib/lookup.h, over the key's little-endian 64-bit words. */
export function pairSlot(key: L.Shim6UlidKey): number {
  const b = L.encodeShim6UlidKey(key);
  const w = (i: number) => b.readBigUInt64LE(i * 8);
  let h = (w(0) * L.HASH_M0) ^ (w(1) * L.HASH_M1) ^ (w(2) * L.HASH_M2) ^ (w(3) * L.HASH_M3) ^ (BigInt(key.fii >>> 0) * L.HASH_M4);
  h &= MASK64;
  h ^= h >> 32n;
  h = (h * L.HASH_MIX) & MASK64;
  return Number(h >> BigInt(64 - L.TX_SLOT_BITS));
}

/** The context id a tag prefers (SHIM6_TAG_SLOT): a context whose id is this
 *  has its ingress record found in one read. */
export function tagSlot(ctLocal: bigint): number {
  return Number(ctLocal & BigInt(L.MARK_CTX_MASK)) | L.TAG_SLOT_BASE;
}

interface TxAt { slot?: number; key?: L.Shim6UlidKey; tx: L.Shim6Tx }

function bytesEq(a: Uint8Array, b: Uint8Array): boolean {
  return a.length === b.length && a.every((x, i) => x === b[i]);
}

function txKeyEq(t: L.Shim6Tx, k: L.Shim6UlidKey): boolean {
  return t.fii === k.fii && bytesEq(t.ulidLocal, k.ulidLocal) && bytesEq(t.ulidPeer, k.ulidPeer);
}

function emptyTx(key: L.Shim6UlidKey, id: number): L.Shim6Tx {
  const t = L.decodeShim6Tx(Buffer.alloc(L.Shim6TxLayout.size));
  return { ...t, ulidLocal: key.ulidLocal, ulidPeer: key.ulidPeer, fii: key.fii, id };
}

/** An egress record with the context's current fields; key, overflow and
 *  counters as in t. */
function txFromCtx(t: L.Shim6Tx, id: number, ctx: L.Shim6Ctx): L.Shim6Tx {
  return { ...t, id, flags: (ctx.flags & ~L.CTX_F_SOCK_POLICY) | (t.flags & L.CTX_F_SOCK_POLICY), ifindex: ctx.ifindex, ctPeer: ctx.ctPeer, lpLocal: ctx.lpLocal, lpPeer: ctx.lpPeer };
}

function inlineIndex(set: Uint8Array, n: number, addr: Uint8Array): number {
  for (let i = 0; i < n; i++) if (bytesEq(set.subarray(i * 16, i * 16 + 16), addr)) return i;
  return -1;
}

/** The pinned maps of one data plane, opened by fd. close() releases them. */
export class DataplaneMaps {
  readonly fds: MapFds;
  private readonly ncpu: number;
  /** SHIM6_GATE_SOCK_POLICY seen open (it never closes while the maps are pinned). */
  #sockGateOpen = false;

  private constructor(fds: MapFds) {
    this.fds = fds;
    this.ncpu = native().numPossibleCpus();
  }

  /** Open every pinned map in pinDir; NOT_UP when the data plane is not loaded. */
  static open(pinDir: string): DataplaneMaps {
    const n = native();
    const fds: Partial<MapFds> = {};
    try {
      for (const name of Object.keys(L.MAPS) as L.MapName[]) fds[name] = n.objGet(path.join(pinDir, name));
    } catch (err) {
      for (const fd of Object.values(fds)) if (fd !== undefined) n.closeFd(fd);
      if ((err as { code?: string }).code === 'ENOENT') {
        throw new Shim6Error('SHIM6_ERR_NOT_UP', `the data plane is not up in this network namespace (no pinned maps in ${pinDir}); run 'shim6ctl dataplane up'`);
      }
      throw fromSystem(err, `opening pinned maps in ${pinDir}`);
    }
    return new DataplaneMaps(fds as MapFds);
  }

  static fromFds(fds: MapFds): DataplaneMaps {
    return new DataplaneMaps(fds);
  }

  close(): void {
    for (const fd of Object.values(this.fds)) native().closeFd(fd);
  }

  // ---- ABI ----
  abi(): L.Shim6Abi {
    const v = native().mapLookup(this.fds.shim6_abi, u32(0));
    return L.decodeShim6Abi(v ?? Buffer.alloc(L.Shim6AbiLayout.size));
  }
  setAbi(): void {
    native().mapUpdate(this.fds.shim6_abi, u32(0), L.encodeShim6Abi({ magic: L.ABI_MAGIC, version: L.ABI_VERSION }));
  }

  // ---- contexts ----
  // shim6_ctx holds the context as user space wrote it; the programs' fast
  // paths read copies of it (bpf/shim6_types.h): the egress record of its
  // (ULID pair, FII) in shim6_tx / shim6_ulid, written by ulidPut, and its
  // ingress record shim6_rx[id], whose inline locator sets locPut/locDel keep.
  // ctxPut refreshes both. The copies also hold the data plane's counters and
  // stamps, which every rewrite here carries over (read, then write: a packet
  // counted in between is lost, and a packet may see a record half-written,
  // e.g. the new locator pair with the old uplink: at worst it is dropped).
  ctxGet(id: number): L.Shim6Ctx | undefined {
    const v = native().mapLookup(this.fds.shim6_ctx, u32(id));
    return v ? L.decodeShim6Ctx(v) : undefined;
  }
  ctxPut(id: number, ctx: L.Shim6Ctx): void {
    native().mapUpdate(this.fds.shim6_ctx, u32(id), L.encodeShim6Ctx(ctx));
    const rx = this.rxGet(id);
    this.rxPut(id, { ...rx, id, ctLocal: ctx.ctLocal, flags: ctx.flags, fii: ctx.fii, ulidLocal: ctx.ulidLocal, ulidPeer: ctx.ulidPeer });
    const at = this.txFind({ ulidLocal: ctx.ulidLocal, ulidPeer: ctx.ulidPeer, fii: ctx.fii });
    if (at && at.tx.id === id) this.txWrite(at, txFromCtx(at.tx, id, ctx));
  }
  ctxDel(id: number): boolean {
    this.rxPut(id, L.decodeShim6Rx(Buffer.alloc(L.Shim6RxLayout.size)));
    return native().mapDelete(this.fds.shim6_ctx, u32(id));
  }
  ctxIds(): number[] {
    return native().mapKeys(this.fds.shim6_ctx).map((k) => k.readUInt32LE(0)).sort((a, b) => a - b);
  }

  // ---- fast-path records ----
  /** The ingress record of context id (all zero when unused). */
  rxGet(id: number): L.Shim6Rx {
    const v = native().mapLookup(this.fds.shim6_rx, u32(id));
    return L.decodeShim6Rx(v ?? Buffer.alloc(L.Shim6RxLayout.size));
  }
  private rxPut(id: number, rx: L.Shim6Rx): void {
    native().mapUpdate(this.fds.shim6_rx, u32(id), L.encodeShim6Rx(rx));
  }
  /** Where the egress record of key is: its home slot, or the overflow hash. */
  private txFind(key: L.Shim6UlidKey): TxAt | undefined {
    const n = native();
    const slot = pairSlot(key);
    const home = L.decodeShim6Tx(n.mapLookup(this.fds.shim6_tx, u32(slot)) ?? Buffer.alloc(L.Shim6TxLayout.size));
    if (home.id !== 0 && txKeyEq(home, key)) return { slot, tx: home };
    if (home.overflow === 0) return undefined;
    const v = n.mapLookup(this.fds.shim6_ulid, L.encodeShim6UlidKey(key));
    return v ? { key, tx: L.decodeShim6Tx(v) } : undefined;
  }
  private txWrite(at: TxAt, tx: L.Shim6Tx): void {
    if (at.slot !== undefined) native().mapUpdate(this.fds.shim6_tx, u32(at.slot), L.encodeShim6Tx(tx));
    else native().mapUpdate(this.fds.shim6_ulid, L.encodeShim6UlidKey(at.key!), L.encodeShim6Tx(tx));
  }
  private txHome(slot: number): L.Shim6Tx {
    return L.decodeShim6Tx(native().mapLookup(this.fds.shim6_tx, u32(slot)) ?? Buffer.alloc(L.Shim6TxLayout.size));
  }

  // ---- gates ----
  /** SHIM6_GATE_* user space opened (shim6_gates). */
  gates(): number {
    const v = native().mapLookup(this.fds.shim6_gates, u32(0));
    return v ? L.decodeShim6Gates(v).flags : 0;
  }
  /**
   * Socket policies are about to be written: from now on egress asks a
   * socket's storage for every packet (SHIM6_CTX_F_SOCK_POLICY in every
   * egress record, present and future). Until then it skips that lookup.
   * Once open, stays open for the life of the pinned maps.
   */
  openSockPolicyGate(): void {
    // Once seen open it stays open: no map read per API request.
    if (this.#sockGateOpen) return;
    const g = this.gates();
    if (g & L.GATE_SOCK_POLICY) {
      this.#sockGateOpen = true;
      return;
    }
    const n = native();
    n.mapUpdate(this.fds.shim6_gates, u32(0), L.encodeShim6Gates({ flags: g | L.GATE_SOCK_POLICY, pad: 0 }));
    const mark = (v: Buffer | null): Buffer | undefined => {
      if (!v) return undefined;
      const t = L.decodeShim6Tx(v);
      return t.id === 0 ? undefined : L.encodeShim6Tx({ ...t, flags: t.flags | L.CTX_F_SOCK_POLICY });
    };
    for (let slot = 0; slot < L.TX_SLOTS; slot++) {
      const v = mark(n.mapLookup(this.fds.shim6_tx, u32(slot)));
      if (v) n.mapUpdate(this.fds.shim6_tx, u32(slot), v);
    }
    for (const k of n.mapKeys(this.fds.shim6_ulid)) {
      const v = mark(n.mapLookup(this.fds.shim6_ulid, k));
      if (v) n.mapUpdate(this.fds.shim6_ulid, k, v);
    }
  }

  // ---- indexes ----
  /** Route (ULID pair, FII) to context id: writes its egress record. */
  ulidPut(key: L.Shim6UlidKey, id: number): void {
    this.#txPlace(key, id, this.ctxGet(id));
  }
  /** Write the egress record of key for context id (fields from ctx when given):
   *  in place when the pair has one, else at its home slot or in the overflow
   *  hash. One lookup of the home slot, two when the pair overflowed. */
  #txPlace(key: L.Shim6UlidKey, id: number, ctx: L.Shim6Ctx | undefined): void {
    const n = native();
    const slot = pairSlot(key);
    const home = this.txHome(slot);
    let at: TxAt | undefined;
    if (home.id !== 0 && txKeyEq(home, key)) at = { slot, tx: home };
    else if (home.overflow !== 0) {
      const v = n.mapLookup(this.fds.shim6_ulid, L.encodeShim6UlidKey(key));
      if (v) at = { key, tx: L.decodeShim6Tx(v) };
    }
    if (at) {
      this.txWrite(at, ctx ? txFromCtx(at.tx, id, ctx) : { ...at.tx, id });
      return;
    }
    const fresh = { ...emptyTx(key, id), flags: this.gates() & L.GATE_SOCK_POLICY ? L.CTX_F_SOCK_POLICY : 0 };
    const rec = ctx ? txFromCtx(fresh, id, ctx) : fresh;
    if (home.id === 0) {
      this.txWrite({ slot, tx: home }, { ...rec, overflow: home.overflow });
      return;
    }
    n.mapUpdate(this.fds.shim6_ulid, L.encodeShim6UlidKey(key), L.encodeShim6Tx(rec));
    this.txWrite({ slot, tx: home }, { ...home, overflow: home.overflow + 1 });
  }
  /**
   * Write a context the maps do not hold yet (no shim6_ctx record) with one
   * write per record: its locator entries, the context, its ingress record
   * built once (locators inline, counters zero, tag), the tags, and its
   * egress record last (egress uses the context from then on). The maps end
   * as after locPut of each locator, statsReset, ctxPut, tagPut, ptagPut and
   * ulidPut one by one (test/bpf/dataplane.test.ts compares the two), in
   * about a quarter of the syscalls (each of those reads and rewrites the
   * ingress record).
   */
  ctxCreate(id: number, ctx: L.Shim6Ctx, locs: ReadonlyArray<{ key: L.Shim6LocKey; loc: L.Shim6Locator }>): void {
    const n = native();
    const rx = this.rxGet(id);
    const lsLocal = Buffer.from(rx.lsLocal), lsPeer = Buffer.from(rx.lsPeer);
    let nLocal = rx.nLocal, nPeer = rx.nPeer, more = rx.more;
    for (const { key, loc } of locs) {
      if (key.ctxId !== id) throw new Shim6Error('SHIM6_ERR_USAGE', `locator of context ${key.ctxId} given for context ${id}`);
      n.mapUpdate(this.fds.shim6_loc, L.encodeShim6LocKey(key), L.encodeShim6Locator(loc));
      const local = key.side === L.SIDE_LOCAL;
      const set = local ? lsLocal : lsPeer;
      const k = local ? nLocal : nPeer;
      if (inlineIndex(set, k, key.addr) >= 0) continue;
      if (k < L.RX_LOCS) {
        set.set(key.addr, k * 16);
        if (local) nLocal++; else nPeer++;
      } else {
        more |= local ? L.RX_MORE_LOCAL : L.RX_MORE_PEER;
      }
    }
    n.mapUpdate(this.fds.shim6_ctx, u32(id), L.encodeShim6Ctx(ctx));
    this.rxPut(id, {
      ...rx, id, ctLocal: ctx.ctLocal, flags: ctx.flags, fii: ctx.fii, ulidLocal: ctx.ulidLocal, ulidPeer: ctx.ulidPeer,
      lsLocal, lsPeer, nLocal, nPeer, more,
      rxPackets: 0n, rxBytes: 0n, lastRxNs: 0n, lastRxJiffies: 0n, lastLocal: new Uint8Array(16), lastPeer: new Uint8Array(16),
    });
    n.mapUpdate(this.fds.shim6_tag, u64(ctx.ctLocal), u32(id));
    n.mapUpdate(this.fds.shim6_ptag, u64(ctx.ctPeer), u32(id));
    this.#txPlace({ ulidLocal: ctx.ulidLocal, ulidPeer: ctx.ulidPeer, fii: ctx.fii }, id, ctx);
  }
  ulidGet(key: L.Shim6UlidKey): number | undefined {
    return this.txFind(key)?.tx.id;
  }
  ulidDel(key: L.Shim6UlidKey): boolean {
    const at = this.txFind(key);
    if (!at) return false;
    const slot = pairSlot(key);
    if (at.slot !== undefined) {
      this.txWrite(at, { ...emptyTx({ ulidLocal: new Uint8Array(16), ulidPeer: new Uint8Array(16), fii: 0 }, 0), overflow: at.tx.overflow });
    } else {
      native().mapDelete(this.fds.shim6_ulid, L.encodeShim6UlidKey(key));
      const home = this.txHome(slot);
      this.txWrite({ slot, tx: home }, { ...home, overflow: Math.max(0, home.overflow - 1) });
    }
    return true;
  }
  /** CT(local) names context id (shim6_tag, and the ingress record's tag). */
  tagPut(ctLocal: bigint, id: number): void {
    native().mapUpdate(this.fds.shim6_tag, u64(ctLocal), u32(id));
    const rx = this.rxGet(id);
    if (rx.id !== id || rx.ctLocal !== ctLocal) this.rxPut(id, { ...rx, id, ctLocal });
  }
  tagDel(ctLocal: bigint): boolean {
    const id = this.tagGet(ctLocal);
    if (id === undefined) return false;
    native().mapDelete(this.fds.shim6_tag, u64(ctLocal));
    const rx = this.rxGet(id);
    if (rx.ctLocal === ctLocal) this.rxPut(id, { ...rx, ctLocal: 0n });
    return true;
  }
  tagGet(ctLocal: bigint): number | undefined {
    const direct = tagSlot(ctLocal);
    const rx = this.rxGet(direct);
    if (rx.id === direct && rx.ctLocal === ctLocal) return direct;
    return native().mapLookup(this.fds.shim6_tag, u64(ctLocal))?.readUInt32LE(0);
  }
  ptagPut(ctPeer: bigint, id: number): void {
    native().mapUpdate(this.fds.shim6_ptag, u64(ctPeer), u32(id));
  }
  ptagDel(ctPeer: bigint): boolean {
    return native().mapDelete(this.fds.shim6_ptag, u64(ctPeer));
  }

  // ---- locator sets ----
  // shim6_loc holds every locator; the first RX_LOCS of each side are also
  // inline in the ingress record, and `more` sends the data plane to
  // shim6_loc for the others.
  locPut(key: L.Shim6LocKey, loc: L.Shim6Locator): void {
    native().mapUpdate(this.fds.shim6_loc, L.encodeShim6LocKey(key), L.encodeShim6Locator(loc));
    const rx = this.rxGet(key.ctxId);
    const local = key.side === L.SIDE_LOCAL;
    const set = Buffer.from(local ? rx.lsLocal : rx.lsPeer);
    const n = local ? rx.nLocal : rx.nPeer;
    if (inlineIndex(set, n, key.addr) >= 0) return;
    const upd: L.Shim6Rx = { ...rx, id: key.ctxId };
    if (n < L.RX_LOCS) {
      set.set(key.addr, n * 16);
      if (local) { upd.lsLocal = set; upd.nLocal = n + 1; } else { upd.lsPeer = set; upd.nPeer = n + 1; }
    } else {
      upd.more = rx.more | (local ? L.RX_MORE_LOCAL : L.RX_MORE_PEER);
    }
    this.rxPut(key.ctxId, upd);
  }
  locDel(key: L.Shim6LocKey): boolean {
    const had = native().mapDelete(this.fds.shim6_loc, L.encodeShim6LocKey(key));
    const rx = this.rxGet(key.ctxId);
    const local = key.side === L.SIDE_LOCAL;
    const set = Buffer.from(local ? rx.lsLocal : rx.lsPeer);
    const n = local ? rx.nLocal : rx.nPeer;
    const i = inlineIndex(set, n, key.addr);
    if (i >= 0) {
      set.copy(set, i * 16, (i + 1) * 16, n * 16);
      set.fill(0, (n - 1) * 16, n * 16);
      this.rxPut(key.ctxId, local ? { ...rx, lsLocal: set, nLocal: n - 1 } : { ...rx, lsPeer: set, nPeer: n - 1 });
    }
    return had;
  }
  /**
   * The shim6_loc keys of context id. While neither side ever overflowed
   * (`more` clear) they are exactly the inline sets of its ingress record:
   * one read instead of a walk of shim6_loc (a walk of a hash map visits its
   * every bucket: ~1 ms at any number of contexts).
   */
  ctxLocKeys(id: number): L.Shim6LocKey[] {
    const rx = this.rxGet(id);
    if (rx.id !== id || rx.more !== 0) return this.locs(id).map((l) => l.key);
    const out: L.Shim6LocKey[] = [];
    for (let i = 0; i < rx.nLocal; i++) out.push({ ctxId: id, side: L.SIDE_LOCAL, addr: new Uint8Array(rx.lsLocal.subarray(i * 16, i * 16 + 16)) });
    for (let i = 0; i < rx.nPeer; i++) out.push({ ctxId: id, side: L.SIDE_PEER, addr: new Uint8Array(rx.lsPeer.subarray(i * 16, i * 16 + 16)) });
    return out;
  }
  locs(ctxId?: number): Array<{ key: L.Shim6LocKey; loc: L.Shim6Locator }> {
    const n = native();
    const out: Array<{ key: L.Shim6LocKey; loc: L.Shim6Locator }> = [];
    for (const k of n.mapKeys(this.fds.shim6_loc)) {
      const key = L.decodeShim6LocKey(k);
      if (ctxId !== undefined && key.ctxId !== ctxId) continue;
      const v = n.mapLookup(this.fds.shim6_loc, k);
      if (v) out.push({ key, loc: L.decodeShim6Locator(v) });
    }
    return out;
  }

  // ---- uplinks ----
  uplinkPut(addr: Uint8Array, up: L.Shim6Uplink): void {
    native().mapUpdate(this.fds.shim6_uplink, L.encodeShim6AddrKey({ addr }), L.encodeShim6Uplink(up));
  }
  uplinkGet(addr: Uint8Array): L.Shim6Uplink | undefined {
    const v = native().mapLookup(this.fds.shim6_uplink, L.encodeShim6AddrKey({ addr }));
    return v ? L.decodeShim6Uplink(v) : undefined;
  }
  uplinks(): Array<{ addr: Uint8Array; up: L.Shim6Uplink }> {
    const n = native();
    return n.mapKeys(this.fds.shim6_uplink).flatMap((k) => {
      const v = n.mapLookup(this.fds.shim6_uplink, k);
      return v ? [{ addr: L.decodeShim6AddrKey(k).addr, up: L.decodeShim6Uplink(v) }] : [];
    });
  }
  uplinkClear(): void {
    const n = native();
    for (const k of n.mapKeys(this.fds.shim6_uplink)) n.mapDelete(this.fds.shim6_uplink, k);
  }

  // ---- hot standby (shim6_sockops switches to it; see bpf/shim6_types.h) ----
  standbyPut(id: number, sb: L.Shim6Standby): void {
    native().mapUpdate(this.fds.shim6_standby, u32(id), L.encodeShim6Standby(sb));
  }
  standbyGet(id: number): L.Shim6Standby | undefined {
    const v = native().mapLookup(this.fds.shim6_standby, u32(id));
    return v ? L.decodeShim6Standby(v) : undefined;
  }
  standbyDel(id: number): boolean {
    return native().mapDelete(this.fds.shim6_standby, u32(id));
  }

  // ---- counters ----
  /** Per-context counters: sent (egress record), received with a payload
   *  header (ingress record) and unmodified on the ULIDs (egress record). */
  stats(id: number): CtxStats {
    const s: CtxStats = { txPackets: 0n, txBytes: 0n, rxPackets: 0n, rxBytes: 0n, lastTxNs: 0n, lastRxNs: 0n };
    const rx = this.rxGet(id);
    if (rx.id === id) {
      s.rxPackets += rx.rxPackets; s.rxBytes += rx.rxBytes; s.lastRxNs = rx.lastRxNs;
    }
    const ctx = this.ctxGet(id);
    const at = ctx && this.txFind({ ulidLocal: ctx.ulidLocal, ulidPeer: ctx.ulidPeer, fii: ctx.fii });
    if (at && at.tx.id === id) {
      const t = at.tx;
      s.txPackets = t.txPackets; s.txBytes = t.txBytes; s.lastTxNs = t.lastTxNs;
      s.rxPackets += t.rxPackets; s.rxBytes += t.rxBytes;
      if (t.lastRxNs > s.lastRxNs) s.lastRxNs = t.lastRxNs;
    }
    return s;
  }
  #countersView: StatsSnapshot | null = null;
  /**
   * The counters of every context without a syscall: shim6_tx and shim6_rx
   * are BPF_F_MMAPABLE arrays, mapped read-only once and read in place
   * (live: what the programs count shows at once). For sampling many
   * contexts, where stats() costs 3 lookups each.
   */
  countersView(): StatsSnapshot {
    if (!this.#countersView) {
      const n = native();
      this.#countersView = { tx: Buffer.from(n.mapMmap(this.fds.shim6_tx)), rx: Buffer.from(n.mapMmap(this.fds.shim6_rx)), lo: 0 };
    }
    return this.#countersView;
  }
  /**
   * Where context id's egress record is, read in place where possible: its
   * pair's home slot in the counters view, else (an overflowed pair) the
   * shim6_ulid entry of `key` (the encoded ULID key: one lookup, no
   * decoding). Undefined when neither holds a record of id.
   */
  txRecord(snap: StatsSnapshot, id: number, slot: number | undefined, key?: Buffer): { buf: Buffer; off: number } | undefined {
    const T = L.Shim6TxLayout.fields, size = L.Shim6TxLayout.size;
    if (slot !== undefined) {
      const to = slot * size;
      if (to >= 0 && to + size <= snap.tx.length && snap.tx.readUInt32LE(to + T.id.offset) === id) return { buf: snap.tx, off: to };
    }
    if (!key) return undefined;
    const v = native().mapLookup(this.fds.shim6_ulid, key);
    return v && v.length >= size && v.readUInt32LE(T.id.offset) === id ? { buf: v, off: 0 } : undefined;
  }

  /** Offset of context id's ingress record in a counters view, or -1. */
  rxOffset(snap: StatsSnapshot, id: number): number {
    const ro = (id - snap.lo) * L.Shim6RxLayout.size;
    return ro >= 0 && ro + L.Shim6RxLayout.size <= snap.rx.length && snap.rx.readUInt32LE(ro + L.Shim6RxLayout.fields.id.offset) === id ? ro : -1;
  }

  /** Counters from an egress record (txRecord) and the view's ingress record of id. */
  statsAt(snap: StatsSnapshot, id: number, tx: { buf: Buffer; off: number } | undefined): CtxStats {
    const T = L.Shim6TxLayout.fields, R = L.Shim6RxLayout.fields;
    const u64 = (b: Buffer, o: number) => b.readBigUInt64LE(o);
    const s: CtxStats = tx
      ? {
        txPackets: u64(tx.buf, tx.off + T.txPackets.offset), txBytes: u64(tx.buf, tx.off + T.txBytes.offset), lastTxNs: u64(tx.buf, tx.off + T.lastTxNs.offset),
        rxPackets: u64(tx.buf, tx.off + T.rxPackets.offset), rxBytes: u64(tx.buf, tx.off + T.rxBytes.offset), lastRxNs: u64(tx.buf, tx.off + T.lastRxNs.offset),
      }
      : { txPackets: 0n, txBytes: 0n, rxPackets: 0n, rxBytes: 0n, lastTxNs: 0n, lastRxNs: 0n };
    const ro = this.rxOffset(snap, id);
    if (ro >= 0) {
      const rx = snap.rx;
      s.rxPackets += u64(rx, ro + R.rxPackets.offset);
      s.rxBytes += u64(rx, ro + R.rxBytes.offset);
      const last = u64(rx, ro + R.lastRxNs.offset);
      if (last > s.lastRxNs) s.lastRxNs = last;
    }
    return s;
  }

  /**
   * Context id's counters in a counters view, given the home slot of its
   * pair (pairSlot); undefined when its egress record is not there (an
   * overflowed pair, in shim6_ulid): pass its key to txRecord, or ask
   * stats(id).
   */
  statsFrom(snap: StatsSnapshot, id: number, slot: number): CtxStats | undefined {
    const tx = this.txRecord(snap, id, slot);
    return tx ? this.statsAt(snap, id, tx) : undefined;
  }
  statsReset(id: number): void {
    const zero = { txPackets: 0n, txBytes: 0n, lastTxNs: 0n, lastTxJiffies: 0n, rxPackets: 0n, rxBytes: 0n, lastRxNs: 0n, lastRxJiffies: 0n };
    const rx = this.rxGet(id);
    if (rx.id === id) this.rxPut(id, { ...rx, rxPackets: 0n, rxBytes: 0n, lastRxNs: 0n, lastRxJiffies: 0n, lastLocal: new Uint8Array(16), lastPeer: new Uint8Array(16) });
    const ctx = this.ctxGet(id);
    const at = ctx && this.txFind({ ulidLocal: ctx.ulidLocal, ulidPeer: ctx.ulidPeer, fii: ctx.fii });
    if (at && at.tx.id === id) this.txWrite(at, { ...at.tx, ...zero });
  }

  /** The locator pair the last packet of context id arrived on (RFC 6316
   * SHIM_LOC_*_RECV), or null before any. Ingress keeps the pair of the last
   * payload-header packet in the shim6_rx record and stamps packets on the
   * ULIDs in the shim6_tx record: the newer stamp tells which came last (in
   * the same tick, the payload-header pair). */
  rxPair(id: number): { local: Uint8Array; peer: Uint8Array } | null {
    const rx = this.rxGet(id);
    if (rx.id !== id) return null;
    const ctx = this.ctxGet(id);
    const at = ctx && this.txFind({ ulidLocal: ctx.ulidLocal, ulidPeer: ctx.ulidPeer, fii: ctx.fii });
    const plainNs = at && at.tx.id === id ? at.tx.lastRxNs : 0n;
    const shimmed = rx.lastLocal.some((x) => x !== 0) || rx.lastPeer.some((x) => x !== 0);
    if (shimmed && rx.lastRxNs >= plainNs) return { local: new Uint8Array(rx.lastLocal), peer: new Uint8Array(rx.lastPeer) };
    if (plainNs > 0n) return { local: new Uint8Array(rx.ulidLocal), peer: new Uint8Array(rx.ulidPeer) };
    return null;
  }

  /** Event counters (GSO self-test, XDP strips), summed over CPUs. */
  counters(): { gsoLoopOut: bigint; gsoLoopIn: bigint; gsoHead: bigint; standbySwitches: bigint; xdpStripped: bigint; xdpSkbs: bigint } {
    const get = (i: number) => {
      const v = native().mapLookup(this.fds.shim6_counters, u32(i));
      let sum = 0n;
      if (v) for (let c = 0; c < this.ncpu; c++) sum += v.readBigUInt64LE(c * 8);
      return sum;
    };
    return { gsoLoopOut: get(L.CNT_GSO_LOOP_OUT), gsoLoopIn: get(L.CNT_GSO_LOOP_IN), gsoHead: get(L.CNT_GSO_HEAD), standbySwitches: get(L.CNT_STANDBY_SWITCH),
      xdpStripped: get(L.CNT_XDP_STRIP), xdpSkbs: get(L.CNT_XDP_SKB) };
  }

  /** Drop counters by reason name, summed over CPUs. */
  drops(): Record<string, bigint> {
    const out: Record<string, bigint> = {};
    for (let r = 0; r < L.DROP_MAX; r++) {
      const v = native().mapLookup(this.fds.shim6_drops, u32(r));
      let sum = 0n;
      if (v) for (let c = 0; c < this.ncpu; c++) sum += v.readBigUInt64LE(c * 8);
      const name = DROP_REASONS[r];
      if (name && r !== L.DROP_NONE) out[name] = sum;
    }
    return out;
  }
}
