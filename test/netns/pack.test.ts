// npm pack, then the tarball installed into a temporary prefix the way a user
// would (npm install -g --prefix): its install script builds the BPF object
// and the addon from the shipped sources; the bin links run (with the
// checkout hidden); and as root the installed shim6ctl loads the data plane
// (the BPF object embedded in its addon) in a namespace of its own.
import { spawnSync, type SpawnSyncReturns } from 'node:child_process';
import crypto from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

const ROOT = path.resolve(fileURLToPath(new URL('../..', import.meta.url)));
const VERSION = (JSON.parse(fs.readFileSync(path.join(ROOT, 'package.json'), 'utf8')) as { version: string }).version;
const isRoot = process.getuid?.() === 0;
let work: string;
let prefix: string;
let tarball: string;
const ns = `s6pk${crypto.randomBytes(3).toString('hex')}`;

function ok(r: SpawnSyncReturns<string>, what: string): string {
  if (r.status !== 0) throw new Error(`${what}: exit ${r.status ?? r.signal}\n${r.stdout}\n${r.stderr}`);
  return r.stdout;
}
const run = (cmd: string, args: string[], cwd = ROOT, env: NodeJS.ProcessEnv = process.env): SpawnSyncReturns<string> =>
  spawnSync(cmd, args, { encoding: 'utf8', cwd, env, timeout: 300_000 });

/** An installed bin from /, the checkout hidden under a tmpfs (root: private mount namespace). */
function bin(name: string, args: string[], via: string[] = []): SpawnSyncReturns<string> {
  const exe = path.join(prefix, 'bin', name);
  const env = { PATH: `${path.dirname(process.execPath)}:/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin`, LANG: 'C.UTF-8' };
  if (!isRoot) return spawnSync(exe, args, { encoding: 'utf8', cwd: '/', env, timeout: 60_000 });
  return spawnSync('unshare', ['-m', 'sh', '-c', 'mount -t tmpfs shim6-hidden "$0" && exec "$@"', ROOT, ...via, exe, ...args],
    { encoding: 'utf8', cwd: '/', env, timeout: 60_000 });
}

describe('npm pack', () => {
  beforeAll(() => {
    work = fs.mkdtempSync(path.join(os.tmpdir(), 'shim6-pack-'));
    prefix = path.join(work, 'prefix');
    const out = ok(run('npm', ['pack', '--json', '--pack-destination', work]), 'npm pack');
    // stdout also carries what the prepack script printed (make, possibly
    // with colour escapes that contain '['): the JSON is the array that
    // starts on a line of its own.
    const start = out.search(/^\[\s*$/m);
    if (start < 0) throw new Error(`npm pack printed no JSON array:\n${out}`);
    const info = JSON.parse(out.slice(start)) as Array<{ filename: string; files: Array<{ path: string }> }>;
    tarball = path.join(work, info[0].filename);
    // The dependencies come from npm's cache (npm ci filled it): no network.
    ok(run('npm', ['install', '-g', '--prefix', prefix, '--offline', '--no-audit', '--no-fund', tarball], work), 'npm install -g');
  }, 400_000);
  afterAll(() => {
    spawnSync('ip', ['netns', 'del', ns], { stdio: 'ignore' });
    if (work) {
      spawnSync('umount', [path.join(work, 'bpffs')], { stdio: 'ignore' });
      fs.rmSync(work, { recursive: true, force: true });
    }
  });

  it('ships compiled code, sources to build from and docs, not tests, maps or binaries', () => {
    const list = ok(run('tar', ['-tzf', tarball]), 'tar').split('\n').filter(Boolean).map((f) => f.replace(/^package\//, ''));
    for (const f of ['package.json', 'dist/src/agent/main.js', 'dist/src/cli/shim6ctl.js', 'dist/src/native.js', 'bpf/shim6.bpf.c',
      'bpf/lib/parse.h', 'native/src/addon.cc', 'native/src/proc.cc', 'packaging/npm-build.mjs', 'man/shim6d.8', 'README.md']) {
      expect(list, f).toContain(f);
    }
    expect(list.filter((f) => /\.(o|node|so|map|ts)$/.test(f) && !f.endsWith('.d.ts'))).toEqual([]);
    expect(list.filter((f) => /^(test|bench|src|dist\/src\/(lab|demo))\//.test(f))).toEqual([]);
  });

  it('installs shim6d and shim6ctl on PATH, built by its install script, runnable without the checkout', () => {
    const pkg = path.join(prefix, 'lib', 'node_modules', 'shim6');
    expect(fs.existsSync(path.join(pkg, 'build', 'shim6.node'))).toBe(true);
    expect(fs.realpathSync(path.join(prefix, 'bin', 'shim6d'))).toBe(path.join(pkg, 'dist', 'src', 'agent', 'main.js'));
    const h = bin('shim6ctl', ['--help']);
    expect(h.status, h.stderr).toBe(0);
    expect(h.stdout).toMatch(/^Usage: shim6ctl/);
    expect(h.stdout).toContain('report');
    const v = bin('shim6d', ['--version']);
    expect(v.status, v.stderr).toBe(0);
    expect(v.stdout.trim()).toBe(VERSION);
    expect(bin('shim6d', ['--help']).stdout).toMatch(/--no-drop-privileges/);
    expect(`${h.stdout}${h.stderr}${v.stderr}`).not.toContain(ROOT);
  });

  it.runIf(isRoot)('as root, the installed shim6ctl loads and attaches the BPF object in a namespace, then removes it', () => {
    ok(run('ip', ['netns', 'add', ns]), 'netns add');
    ok(run('ip', ['-n', ns, 'link', 'add', 'up0', 'type', 'veth', 'peer', 'name', 'up0p']), 'veth');
    ok(run('ip', ['-n', ns, 'link', 'set', 'up0', 'up']), 'up');
    const bpffs = path.join(work, 'bpffs');
    fs.mkdirSync(bpffs);
    ok(run('mount', ['-t', 'bpf', 'bpf', bpffs]), 'mount bpffs');
    const g = ['--bpffs', bpffs, '--state-dir', path.join(work, 'run')];
    const netns = ['ip', 'netns', 'exec', ns];
    const up = bin('shim6ctl', [...g, 'dataplane', 'up', '--uplink', 'up0', '--shim-dev', 'pk0', '--cgroup', 'none', '--json'], netns);
    expect(up.status, up.stderr).toBe(0);
    expect(JSON.parse(up.stdout)).toMatchObject({ shimDev: 'pk0' });
    const st = JSON.parse(ok(bin('shim6ctl', [...g, 'dataplane', 'status', '--json'], netns), 'status')) as { up: boolean; attachments: Array<{ dev: string; program?: string }> };
    expect(st.up).toBe(true);
    expect(st.attachments.map((a) => a.program)).toEqual(expect.arrayContaining(['shim6_egress', 'shim6_ingress']));
    const down = bin('shim6ctl', [...g, 'dataplane', 'down', '--json'], netns);
    expect(down.status, down.stderr).toBe(0);
  });
});
