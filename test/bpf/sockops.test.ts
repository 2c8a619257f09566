// shim6_sockops and the addon's cgroup v2 plumbing, without namespaces:
// load-time settings, and a bpf_link on a scratch child cgroup (created and
// removed here, so no socket of this host ever runs the program).
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { native } from '../../src/native.js';
import { cgroup2Root, tcpRtoMaxMs } from '../../src/dataplane/loader.js';
import { sh, requireRoot } from '../../src/lab/topology.js';
import * as L from '../../src/generated/layout.js';

const BPF_PROG_TYPE_SOCK_OPS = 13, BPF_LINK_TYPE_CGROUP = 3, BPF_CGROUP_SOCK_OPS = 3;

describe('shim6_sockops', () => {
  let dir: string, bpffs: string, cg: string | undefined;
  const fds: number[] = [];
  const load = (extra: Record<string, unknown> = {}) => {
    const r = native().load({ pinDir: path.join(bpffs, 'p'), gsoMode: L.GSO_SEGMENT, ...extra });
    fds.push(...Object.values(r.progs), ...Object.values(r.maps));
    return r;
  };
  beforeAll(() => {
    requireRoot();
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'shim6-sockops-'));
    bpffs = path.join(dir, 'bpffs');
    fs.mkdirSync(bpffs);
    sh('mount', ['-t', 'bpf', 'bpf', bpffs]);
    fs.mkdirSync(path.join(bpffs, 'p'));
  });
  afterAll(() => {
    for (const fd of fds) native().closeFd(fd);
    if (cg) fs.rmdirSync(cg);
    sh('umount', [bpffs], { allowFail: true });
    fs.rmSync(dir, { recursive: true, force: true });
  });

  it('is a sock_ops program, loaded with its settings', () => {
    const r = load({ tcpRtoMaxMs: 0, netnsCookie: 12345n });
    expect(native().progInfo(r.progs.shim6_sockops)).toMatchObject({ name: 'shim6_sockops', type: BPF_PROG_TYPE_SOCK_OPS });
    expect(r.maps.shim6_tcp_seen).toBeGreaterThan(0);
    expect(() => load({ tcpRtoMaxMs: -1 })).toThrow(TypeError);
    expect(() => load({ netnsCookie: 5 })).toThrow(/netnsCookie/);
  });

  it('checks the RTO bound the kernel takes (TCP_RTO_MAX_MS: 1000..120000, 0 = none)', () => {
    expect(tcpRtoMaxMs(0)).toBe(0);
    expect(tcpRtoMaxMs(1000)).toBe(1000);
    expect(tcpRtoMaxMs(120000)).toBe(120000);
    expect(() => tcpRtoMaxMs(999)).toThrow(/1000\.\.120000/);
    expect(() => tcpRtoMaxMs(120001)).toThrow(/1000\.\.120000/);
    expect(tcpRtoMaxMs()).toBe(L.TCP_RTO_MAX_MS_DEFAULT);
  });

  it('knows its network namespace', () => {
    const c = native().netnsCookie();
    expect(c).toBeGreaterThan(0n);
    expect(native().netnsCookie()).toBe(c);
  });

  it('attaches to a cgroup with a bpf_link, swaps programs in place, detaches when the last reference goes', () => {
    const root = cgroup2Root();
    expect(root, 'a cgroup v2 mount').toBeDefined();
    cg = fs.mkdtempSync(path.join(root!, 'shim6-test-'));
    const n = native();
    const a = load({ netnsCookie: 0n }).progs.shim6_sockops, b = load({ netnsCookie: 0n }).progs.shim6_sockops;
    const idA = n.progInfo(a).id, idB = n.progInfo(b).id;
    const link = n.cgroupLink(cg, a, 'sock_ops');
    try {
      const info = n.linkInfo(link);
      expect(info).toMatchObject({ type: BPF_LINK_TYPE_CGROUP, attachType: BPF_CGROUP_SOCK_OPS, progId: idA });
      expect(info.cgroupId).toBeGreaterThan(0n);
      expect(n.cgroupQuery(cg, 'sock_ops')).toEqual([idA]);
      n.linkUpdate(link, b);
      expect(n.cgroupQuery(cg, 'sock_ops')).toEqual([idB]);
      // Pinned, the link outlives its fd; unpinned, it goes.
      const pin = path.join(bpffs, 'link');
      n.objPin(link, pin);
      n.closeFd(link);
      expect(n.cgroupQuery(cg, 'sock_ops')).toEqual([idB]);
      fs.unlinkSync(pin);
    } catch (e) {
      n.closeFd(link);
      throw e;
    }
    // Link release is deferred (RCU): give it a moment.
    const deadline = Date.now() + 2000;
    while (n.cgroupQuery(cg, 'sock_ops').length && Date.now() < deadline) sh('sleep', ['0.05']);
    expect(n.cgroupQuery(cg, 'sock_ops')).toEqual([]);
    expect(() => n.cgroupLink('/nonexistent/cgroup', a, 'sock_ops')).toThrow(/ENOENT/);
  });
});
