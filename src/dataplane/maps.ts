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

/** The pinned maps of one data plane, opened by fd. close() releases them. */
export class DataplaneMaps {
  readonly fds: MapFds;
  private readonly ncpu: number;

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
  ctxGet(id: number): L.Shim6Ctx | undefined {
    const v = native().mapLookup(this.fds.shim6_ctx, u32(id));
    return v ? L.decodeShim6Ctx(v) : undefined;
  }
  ctxPut(id: number, ctx: L.Shim6Ctx): void {
    native().mapUpdate(this.fds.shim6_ctx, u32(id), L.encodeShim6Ctx(ctx));
  }
  ctxDel(id: number): boolean {
    return native().mapDelete(this.fds.shim6_ctx, u32(id));
  }
  ctxIds(): number[] {
    return native().mapKeys(this.fds.shim6_ctx).map((k) => k.readUInt32LE(0)).sort((a, b) => a - b);
  }

  // ---- indexes ----
  ulidPut(key: L.Shim6UlidKey, id: number): void {
    native().mapUpdate(this.fds.shim6_ulid, L.encodeShim6UlidKey(key), u32(id));
  }
  ulidGet(key: L.Shim6UlidKey): number | undefined {
    return native().mapLookup(this.fds.shim6_ulid, L.encodeShim6UlidKey(key))?.readUInt32LE(0);
  }
  ulidDel(key: L.Shim6UlidKey): boolean {
    return native().mapDelete(this.fds.shim6_ulid, L.encodeShim6UlidKey(key));
  }
  tagPut(ctLocal: bigint, id: number): void {
    native().mapUpdate(this.fds.shim6_tag, u64(ctLocal), u32(id));
  }
  tagDel(ctLocal: bigint): boolean {
    return native().mapDelete(this.fds.shim6_tag, u64(ctLocal));
  }
  tagGet(ctLocal: bigint): number | undefined {
    return native().mapLookup(this.fds.shim6_tag, u64(ctLocal))?.readUInt32LE(0);
  }
  ptagPut(ctPeer: bigint, id: number): void {
    native().mapUpdate(this.fds.shim6_ptag, u64(ctPeer), u32(id));
  }
  ptagDel(ctPeer: bigint): boolean {
    return native().mapDelete(this.fds.shim6_ptag, u64(ctPeer));
  }

  // ---- locator sets ----
  locPut(key: L.Shim6LocKey, loc: L.Shim6Locator): void {
    native().mapUpdate(this.fds.shim6_loc, L.encodeShim6LocKey(key), L.encodeShim6Locator(loc));
  }
  locDel(key: L.Shim6LocKey): boolean {
    return native().mapDelete(this.fds.shim6_loc, L.encodeShim6LocKey(key));
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
  /** Per-context counters summed over CPUs; stamps are the latest of any CPU. */
  stats(id: number): CtxStats {
    const v = native().mapLookup(this.fds.shim6_stats, u32(id));
    return v ? this.sumStats(v, 0) : { txPackets: 0n, txBytes: 0n, rxPackets: 0n, rxBytes: 0n, lastTxNs: 0n, lastRxNs: 0n };
  }

  /** Bytes of one context's entry in statsRaw (all CPUs). */
  get statsStride(): number {
    return Math.ceil(L.Shim6CtxStatsLayout.size / 8) * 8 * this.ncpu;
  }

  /**
   * The raw stats of contexts start .. start + count - 1, statsStride bytes
   * each, in a few syscalls (BPF_MAP_LOOKUP_BATCH): what REAP samples every
   * round for every context. sumStats decodes one entry.
   */
  statsRaw(start: number, count: number): Buffer {
    return native().mapLookupBatch(this.fds.shim6_stats, start, count);
  }

  /** One context's stats from a statsRaw buffer (or a mapLookup value) at off. */
  sumStats(v: Buffer, off: number): CtxStats {
    const s: CtxStats = { txPackets: 0n, txBytes: 0n, rxPackets: 0n, rxBytes: 0n, lastTxNs: 0n, lastRxNs: 0n };
    const stride = Math.ceil(L.Shim6CtxStatsLayout.size / 8) * 8;
    for (let c = 0; c < this.ncpu; c++) {
      const d = L.decodeShim6CtxStats(v, off + c * stride);
      s.txPackets += d.txPackets; s.txBytes += d.txBytes;
      s.rxPackets += d.rxPackets; s.rxBytes += d.rxBytes;
      if (d.lastTxNs > s.lastTxNs) s.lastTxNs = d.lastTxNs;
      if (d.lastRxNs > s.lastRxNs) s.lastRxNs = d.lastRxNs;
    }
    return s;
  }
  statsReset(id: number): void {
    const stride = Math.ceil(L.Shim6CtxStatsLayout.size / 8) * 8;
    native().mapUpdate(this.fds.shim6_stats, u32(id), Buffer.alloc(stride * this.ncpu));
  }

  /** Event counters (GSO self-test), summed over CPUs. */
  counters(): { gsoLoopOut: bigint; gsoLoopIn: bigint; gsoHead: bigint; standbySwitches: bigint } {
    const get = (i: number) => {
      const v = native().mapLookup(this.fds.shim6_counters, u32(i));
      let sum = 0n;
      if (v) for (let c = 0; c < this.ncpu; c++) sum += v.readBigUInt64LE(c * 8);
      return sum;
    };
    return { gsoLoopOut: get(L.CNT_GSO_LOOP_OUT), gsoLoopIn: get(L.CNT_GSO_LOOP_IN), gsoHead: get(L.CNT_GSO_HEAD), standbySwitches: get(L.CNT_STANDBY_SWITCH) };
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
