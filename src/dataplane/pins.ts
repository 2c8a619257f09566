// Where the data plane keeps its pinned maps and its state file. Both are
// per network namespace, so hosts in different namespaces that share one
// bpffs never see each other's maps.
import fs from 'node:fs';
import path from 'node:path';

export interface PinConfig {
  bpffs: string;    // a bpffs mount (created when absent)
  pinDir: string;   // <bpffs>/shim6/<netns>
  stateDir: string; // <state root>/<netns>: dataplane.json
  netns: string;    // net-<inode of /proc/self/ns/net>
}

export interface PinOptions {
  bpffs?: string;
  stateRoot?: string;
}

export function netnsId(): string {
  return `net-${fs.statSync('/proc/self/ns/net').ino}`;
}

export function pinConfig(opts: PinOptions = {}): PinConfig {
  const bpffs = opts.bpffs ?? process.env.SHIM6_BPFFS ?? '/sys/fs/bpf';
  const stateRoot = opts.stateRoot ?? process.env.SHIM6_STATE_DIR ?? '/run/shim6';
  const netns = netnsId();
  return {
    bpffs,
    netns,
    pinDir: path.join(bpffs, 'shim6', netns),
    stateDir: path.join(stateRoot, netns),
  };
}
