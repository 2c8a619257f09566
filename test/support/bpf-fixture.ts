// A data plane loaded for BPF_PROG_TEST_RUN: its own bpffs mount, both GSO
// modes of the object sharing one set of pinned maps, and helpers to run a
// program on a packet and read the counters.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { native } from '../../src/native.js';
import { DataplaneMaps, MapFds } from '../../src/dataplane/maps.js';
import * as L from '../../src/generated/layout.js';
import { sh, requireRoot } from '../../src/lab/topology.js';

export const TC_ACT_OK = 0, TC_ACT_SHOT = 2, TC_ACT_REDIRECT = 7;
export const XDP_DROP = 1, XDP_PASS = 2;
export const SKB_CTX_SIZE = 192, SKB_MARK_OFF = 8, SKB_GSO_SEGS_OFF = 164, SKB_GSO_SIZE_OFF = 176;

export interface RunResult { verdict: number; data: Buffer; mark: number; durationNs: number }

export class BpfFixture {
  readonly maps: DataplaneMaps;
  readonly progs: { head: Record<string, number>; segment: Record<string, number> };
  private constructor(readonly dir: string, readonly bpffs: string, maps: DataplaneMaps, progs: BpfFixture['progs'], private readonly extraMapFds: number[]) {
    this.maps = maps;
    this.progs = progs;
  }

  static create(): BpfFixture {
    requireRoot();
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'shim6-bpf-'));
    const bpffs = path.join(dir, 'bpffs');
    fs.mkdirSync(bpffs);
    sh('mount', ['-t', 'bpf', 'bpf', bpffs]);
    const n = native();
    const pinDir = path.join(bpffs, 'shim6');
    fs.mkdirSync(pinDir);
    const head = n.load({ pinDir, gsoMode: L.GSO_HEAD });
    const seg = n.load({ pinDir, gsoMode: L.GSO_SEGMENT, segIfindex: 1 });
    const maps = DataplaneMaps.fromFds(head.maps as MapFds);
    maps.setAbi();
    return new BpfFixture(dir, bpffs, maps, { head: head.progs, segment: seg.progs }, Object.values(seg.maps));
  }

  run(prog: number, data: Buffer, opts: { mark?: number; repeat?: number; gsoSize?: number; gsoSegs?: number } = {}): RunResult {
    const ctx = Buffer.alloc(SKB_CTX_SIZE);
    ctx.writeUInt32LE(opts.mark ?? 0, SKB_MARK_OFF);
    ctx.writeUInt32LE(opts.gsoSegs ?? 0, SKB_GSO_SEGS_OFF);
    ctx.writeUInt32LE(opts.gsoSize ?? 0, SKB_GSO_SIZE_OFF);
    const r = native().progTestRun(prog, { data, ctx, repeat: opts.repeat ?? 1 });
    return { verdict: r.retval, data: r.data, mark: r.ctx ? r.ctx.readUInt32LE(SKB_MARK_OFF) : 0, durationNs: r.durationNs };
  }

  /** Run an XDP program; data in the result starts at the XDP metadata
   * (BPF_PROG_TEST_RUN hands back data_meta .. data_end). */
  runXdp(prog: number, data: Buffer, opts: { repeat?: number } = {}): RunResult {
    const r = native().progTestRun(prog, { data, repeat: opts.repeat ?? 1 });
    return { verdict: r.retval, data: r.data, mark: 0, durationNs: r.durationNs };
  }

  close(): void {
    const n = native();
    this.maps.close();
    for (const fd of [...Object.values(this.progs.head), ...Object.values(this.progs.segment), ...this.extraMapFds]) n.closeFd(fd);
    sh('umount', [this.bpffs], { allowFail: true });
    fs.rmSync(this.dir, { recursive: true, force: true });
  }
}
