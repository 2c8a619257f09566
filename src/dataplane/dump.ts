// Generic decoding of any pinned map's entries for `shim6ctl maps dump`,
// driven by the generated layouts.
import { native } from '../native.js';
import * as L from '../generated/layout.js';
import { formatIPv6 } from './addr.js';

export type Plain = string | number | Plain[] | { [k: string]: Plain };

function decodeWith(layoutName: string | null, buf: Buffer, off: number): Plain {
  if (!layoutName) return buf.subarray(off).toString('hex');
  const intm = /^INT:(\d+)$/.exec(layoutName);
  if (intm) {
    const size = Number(intm[1]);
    if (size === 4) return buf.readUInt32LE(off);
    if (size === 8) return buf.readBigUInt64LE(off).toString();
    return buf.subarray(off, off + size).toString('hex');
  }
  const layout = L.LAYOUTS[layoutName];
  if (!layout) return buf.subarray(off).toString('hex');
  const o: Record<string, Plain> = {};
  for (const [name, f] of Object.entries(layout.fields)) {
    const at = off + f.offset;
    switch (f.kind) {
      case 'u8': o[name] = buf.readUInt8(at); break;
      case 'u16': o[name] = buf.readUInt16LE(at); break;
      case 'u32': o[name] = buf.readUInt32LE(at); break;
      case 'u64': o[name] = buf.readBigUInt64LE(at).toString(); break;
      case 'bytes': o[name] = f.size === 16 ? formatIPv6(buf.subarray(at, at + 16)) : buf.subarray(at, at + f.size).toString('hex'); break;
    }
  }
  return o;
}

export interface DumpRow { key: Plain; value: Plain }

/** Decode every entry of map `name` (fd given). Per-CPU values become arrays. */
export function dumpMap(name: L.MapName, fd: number, limit = 100_000): DumpRow[] {
  const n = native();
  const spec = L.MAPS[name];
  const info = n.mapInfo(fd);
  if (spec.type === 27 /* ringbuf */ || spec.type === 24 /* sk_storage: keyed by fd */) return [];
  const rows: DumpRow[] = [];
  const ncpu = n.numPossibleCpus();
  const stride = Math.ceil(info.valueSize / 8) * 8;
  for (const k of n.mapKeys(fd, limit)) {
    const v = n.mapLookup(fd, k);
    if (!v) continue;
    // Arrays list every index; skip all-zero slots to keep dumps readable.
    if ((spec.type === 2 || spec.type === 6) && v.every((b) => b === 0)) continue;
    const key = decodeWith(spec.key, k, 0);
    const value = info.perCpu
      ? Array.from({ length: ncpu }, (_, c) => decodeWith(spec.value, v, c * stride))
      : decodeWith(spec.value, v, 0);
    rows.push({ key, value });
  }
  return rows;
}
