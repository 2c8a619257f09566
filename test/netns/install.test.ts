// make install DESTDIR=<tmp> PREFIX=/usr, then the installed tree on its own:
// files and modes, the launchers run with the checkout hidden (a tmpfs over it
// in a private mount namespace, cwd /), a C program builds against the
// installed header and library through pkg-config, the man pages render
// without warnings and name every option of the programs, systemd-analyze
// accepts the unit, and make uninstall leaves nothing behind. Root (unshare -m).
import { spawnSync, type SpawnSyncReturns } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

/** Under CI=true a missing tool is a failure, not a skip (scripts/deps.sh installs them). */
const CI = process.env.CI === 'true';

const ROOT = path.resolve(fileURLToPath(new URL('../..', import.meta.url)));
const VERSION = (JSON.parse(fs.readFileSync(path.join(ROOT, 'package.json'), 'utf8')) as { version: string }).version;
const isRoot = process.getuid?.() === 0;
let dest: string;
let work: string;
const d = (p: string): string => path.join(dest, p);

function has(tool: string): boolean {
  return spawnSync('sh', ['-c', `command -v ${tool}`], { stdio: 'ignore' }).status === 0;
}

function run(cmd: string, args: string[], opts: { cwd?: string; env?: NodeJS.ProcessEnv; input?: string } = {}): SpawnSyncReturns<string> {
  return spawnSync(cmd, args, { encoding: 'utf8', timeout: 120_000, cwd: opts.cwd ?? ROOT, env: opts.env ?? process.env, input: opts.input });
}

function ok(r: SpawnSyncReturns<string>, what: string): string {
  if (r.status !== 0) throw new Error(`${what}: exit ${r.status ?? r.signal}\n${r.stdout}\n${r.stderr}`);
  return r.stdout;
}

/** An installed program from /, with the checkout made invisible (tmpfs over it) unless `visible`. */
function installed(bin: string, args: string[], visible = false): SpawnSyncReturns<string> {
  const exe = d(`usr/bin/${bin}`);
  const env = { PATH: '/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin', LANG: 'C.UTF-8' };
  if (!isRoot || visible) return spawnSync(exe, args, { encoding: 'utf8', cwd: '/', env, timeout: 30_000 });
  return spawnSync('unshare', ['-m', 'sh', '-c', 'mount -t tmpfs shim6-hidden "$0" && exec "$@"', ROOT, exe, ...args],
    { encoding: 'utf8', cwd: '/', env, timeout: 30_000 });
}

const mode = (p: string): number => fs.lstatSync(d(p)).mode & 0o7777;

function filesUnder(dir: string): string[] {
  if (!fs.existsSync(dir)) return [];
  return (fs.readdirSync(dir, { recursive: true }) as string[])
    .filter((f) => !fs.lstatSync(path.join(dir, f)).isDirectory()).sort();
}

/** `--long` options named in a help text. */
const optionsOf = (help: string): string[] => [...new Set(help.match(/--[a-z][a-z0-9-]*/g) ?? [])];
/** A roff source with its escapes for '-' undone. */
const roffText = (file: string): string => fs.readFileSync(file, 'utf8').replace(/\\-/g, '-');

describe('make install / uninstall', () => {
  beforeAll(() => {
    dest = fs.mkdtempSync(path.join(os.tmpdir(), 'shim6-destdir-'));
    work = fs.mkdtempSync(path.join(os.tmpdir(), 'shim6-install-work-'));
    ok(run('make', ['install', `DESTDIR=${dest}`, 'PREFIX=/usr']), 'make install');
  }, 180_000);
  afterAll(() => {
    if (dest) fs.rmSync(dest, { recursive: true, force: true });
    if (work) fs.rmSync(work, { recursive: true, force: true });
  });

  it('lays out programs, library, header, pkg-config file, man pages, unit and example with their modes', () => {
    const expected: Array<[string, number]> = [
      ['usr/bin/shim6d', 0o755], ['usr/bin/shim6ctl', 0o755],
      [`usr/lib/libshim6.so.${VERSION}`, 0o755],
      ['usr/include/shim6/shim.h', 0o644], ['usr/lib/pkgconfig/shim6.pc', 0o644],
      ['usr/share/man/man8/shim6d.8', 0o644], ['usr/share/man/man8/shim6ctl.8', 0o644], ['usr/share/man/man7/shim6.7', 0o644],
      ['lib/systemd/system/shim6d.service', 0o644], ['usr/share/doc/shim6/shim6d.json.example', 0o644],
      ['usr/lib/shim6/package.json', 0o644], ['usr/lib/shim6/build/shim6.node', 0o755],
      ['usr/lib/shim6/dist/src/native.js', 0o644], ['usr/lib/shim6/dist/src/agent/main.js', 0o644],
      ['usr/lib/shim6/dist/src/cli/shim6ctl.js', 0o644], ['usr/lib/shim6/dist/src/client/index.js', 0o644],
    ];
    for (const [p, m] of expected) {
      expect(fs.lstatSync(d(p)).isFile(), p).toBe(true);
      expect(mode(p).toString(8), p).toBe(m.toString(8));
    }
    expect(fs.readFileSync(d('usr/include/shim6/shim.h'), 'utf8')).toBe(fs.readFileSync(path.join(ROOT, 'include/shim6/shim.h'), 'utf8'));
    // The soname and its links: libshim6.so -> .so.0 -> .so.VERSION.
    expect(fs.readlinkSync(d('usr/lib/libshim6.so.0'))).toBe(`libshim6.so.${VERSION}`);
    expect(fs.readlinkSync(d('usr/lib/libshim6.so'))).toBe('libshim6.so.0');
    if (has('readelf')) expect(ok(run('readelf', ['-d', d(`usr/lib/libshim6.so.${VERSION}`)]), 'readelf')).toMatch(/SONAME.*\[libshim6\.so\.0\]/);
    // The agent tree: the checkout's layout (projectRoot() finds package.json two levels above dist/src/native.js),
    // compiled code only, production dependencies only.
    const dist = filesUnder(d('usr/lib/shim6/dist'));
    expect(dist.length).toBeGreaterThan(20);
    expect(dist.filter((f) => !f.endsWith('.js'))).toEqual([]);
    expect(dist.filter((f) => f.startsWith('src/lab/') || f.startsWith('src/demo/') || !f.startsWith('src/'))).toEqual([]);
    const mods = d('usr/lib/shim6/node_modules');
    for (const m of ['commander', 'pino', 'sonic-boom', 'thread-stream']) expect(fs.existsSync(path.join(mods, m, 'package.json')), m).toBe(true);
    for (const m of ['vitest', 'typescript', 'vite', '@types', '.bin']) expect(fs.existsSync(path.join(mods, m)), m).toBe(false);
    // Every installed package finds its own dependencies in the tree.
    for (const pj of filesUnder(mods).filter((f) => /(^|\/)package\.json$/.test(f) && f.split('/node_modules/').length === 1 && f.split('/').length <= 3)) {
      const deps = Object.keys((JSON.parse(fs.readFileSync(path.join(mods, pj), 'utf8')) as { dependencies?: Record<string, string> }).dependencies ?? {});
      for (const dep of deps) {
        const nested = path.join(mods, path.dirname(pj), 'node_modules', dep);
        expect(fs.existsSync(path.join(mods, dep)) || fs.existsSync(nested), `${pj} needs ${dep}`).toBe(true);
      }
    }
    // Text files of the tree name no path of the checkout.
    const text = ['usr/bin/shim6d', 'usr/bin/shim6ctl', 'usr/lib/pkgconfig/shim6.pc', 'lib/systemd/system/shim6d.service',
      'usr/lib/shim6/package.json', ...dist.map((f) => `usr/lib/shim6/dist/${f}`)];
    expect(text.filter((f) => fs.readFileSync(d(f), 'utf8').includes(ROOT))).toEqual([]);
    const unit = fs.readFileSync(d('lib/systemd/system/shim6d.service'), 'utf8');
    expect(unit).toMatch(/^ExecStart=\/usr\/bin\/shim6d --config \/etc\/shim6\/shim6d\.json$/m);
    // sd_notify from the agent itself; the capabilities of setup (it drops all but CAP_NET_ADMIN once serving).
    expect(unit).toMatch(/^Type=notify$/m);
    expect(unit).toMatch(/^NotifyAccess=main$/m);
    expect(unit).toMatch(/^ExecReload=\/bin\/kill -HUP \$MAINPID$/m);
    expect(unit).toMatch(/^CapabilityBoundingSet=CAP_NET_ADMIN CAP_BPF CAP_PERFMON CAP_NET_RAW CAP_SETPCAP$/m);
    expect(fs.readFileSync(d('usr/lib/pkgconfig/shim6.pc'), 'utf8')).toMatch(new RegExp(`^Version: ${VERSION.replace(/\./g, '\\.')}$`, 'm'));
  });

  it('runs the installed shim6ctl and shim6d from / without the checkout', () => {
    const noCheckout = (r: SpawnSyncReturns<string>, what: string): string => {
      const out = ok(r, what);
      expect(`${r.stdout}${r.stderr}`, what).not.toContain(ROOT);
      return out;
    };
    expect(noCheckout(installed('shim6ctl', ['--help']), 'shim6ctl --help')).toContain('Usage: shim6ctl');
    expect(noCheckout(installed('shim6d', ['--help']), 'shim6d --help')).toContain('Usage: shim6d');
    expect(noCheckout(installed('shim6d', ['--version']), 'shim6d --version').trim()).toBe(VERSION);
    // The configuration path: the example file validates.
    const cfg = JSON.parse(noCheckout(installed('shim6d', ['--config', d('usr/share/doc/shim6/shim6d.json.example'), '--check-config']), 'shim6d --check-config')) as { uplinks: string[] };
    expect(cfg.uplinks).toEqual(['eth1', 'eth2']);
    // The native addon loads from the installed tree (read-only: nothing pinned, nothing written).
    const st = JSON.parse(noCheckout(installed('shim6ctl', ['--bpffs', path.join(work, 'bpffs'), '--state-dir', path.join(work, 'run'), 'dataplane', 'status', '--json']), 'shim6ctl dataplane status')) as { up: boolean };
    expect(st.up).toBe(false);
    expect(fs.existsSync(path.join(work, 'bpffs'))).toBe(false);
    // A usage error keeps its exit code through the launcher.
    const bad = installed('shim6ctl', ['no-such-command']);
    expect(bad.status).toBe(64);
    expect(`${bad.stdout}${bad.stderr}`).not.toContain(ROOT);
  });

  it('builds and runs a C program against the installed header and library via pkg-config', () => {
    const src = path.join(work, 'prog.c');
    fs.writeFileSync(src, `#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>
#include <shim6/shim.h>

int main(void)
{
	int fd = socket(AF_INET6, SOCK_DGRAM, 0), v = 0;
	socklen_t len = sizeof(v);
	struct shim_locator l;
	memset(&l, 0, sizeof(l));
	if (fd < 0 || sizeof(l) != 32 || SOL_SHIM != 6316)
		return 2;
	/* No agent at SHIM6_API_SOCKET: as on a system without the shim. */
	if (getsockopt(fd, SOL_SHIM, SHIM_ASSOCIATED, &v, &len) == 0 || errno != ENOPROTOOPT)
		return 3;
	if (shim6_setsockopt(fd, SOL_SHIM, SHIM_LOC_PEER_SEND, &l, sizeof(l)) == 0 || errno != ENOPROTOOPT)
		return 4;
	printf("%s|%s\\n", shim_strerror(EINVALIDLOCATOR), shim_strerror(ETOOMANYLOCATORS));
	close(fd);
	return 0;
}
`);
    const env = {
      ...process.env, PKG_CONFIG_SYSROOT_DIR: dest, PKG_CONFIG_LIBDIR: d('usr/lib/pkgconfig'), PKG_CONFIG_PATH: '',
      PKG_CONFIG_ALLOW_SYSTEM_CFLAGS: '1', PKG_CONFIG_ALLOW_SYSTEM_LIBS: '1',
    };
    expect(ok(run('pkg-config', ['--modversion', 'shim6'], { env, cwd: work }), 'pkg-config --modversion').trim()).toBe(VERSION);
    const flags = ok(run('pkg-config', ['--cflags', '--libs', 'shim6'], { env, cwd: work }), 'pkg-config').trim().split(/\s+/);
    expect(flags).toEqual(expect.arrayContaining([`-I${d('usr/include')}`, `-L${d('usr/lib')}`, '-lshim6']));
    expect(flags.join(' ')).not.toContain(ROOT);
    const exe = path.join(work, 'prog');
    ok(run(process.env.CC ?? 'cc', ['-std=c11', '-D_GNU_SOURCE', '-Wall', '-Wextra', '-Werror', src, '-o', exe, ...flags], { cwd: work }), 'cc');
    if (has('readelf')) expect(ok(run('readelf', ['-d', exe]), 'readelf')).toMatch(/NEEDED.*\[libshim6\.so\.0\]/);
    const out = ok(run(exe, [], { cwd: work, env: { PATH: process.env.PATH, LD_LIBRARY_PATH: d('usr/lib'), SHIM6_API_SOCKET: path.join(work, 'no-agent.sock') } }), 'prog');
    expect(out.trim()).toBe('Invalid locator|Too many locators');
  });

  it.skipIf(!CI && !has('groff'))('renders the man pages without warnings, and they name every option', () => {
    for (const page of ['man8/shim6d.8', 'man8/shim6ctl.8', 'man7/shim6.7']) {
      const r = run('groff', ['-man', '-Tutf8', '-ww', '-z', d(`usr/share/man/${page}`)], { env: { ...process.env, LC_ALL: 'C.UTF-8' } });
      expect(r.status, page).toBe(0);
      expect(r.stderr, page).toBe('');
      if (has('man')) expect(ok(run('man', ['-l', d(`usr/share/man/${page}`)], { env: { ...process.env, MANPAGER: 'cat', MANWIDTH: '80' } }), page)).toMatch(/^NAME$/m);
    }
    // shim6d(8): every option of --help.
    const d8 = roffText(d('usr/share/man/man8/shim6d.8'));
    const dHelp = ok(installed('shim6d', ['--help'], true), 'shim6d --help');
    expect(optionsOf(dHelp).filter((o) => !d8.includes(o))).toEqual([]);
    // shim6ctl(8): every command, subcommand and option.
    const c8 = roffText(d('usr/share/man/man8/shim6ctl.8'));
    const commands = (help: string): string[] => {
      const block = help.split(/^Commands:$/m)[1] ?? '';
      return [...block.matchAll(/^ {2}([a-z][a-z-]*)/gm)].map((m) => m[1]).filter((c) => c !== 'help');
    };
    const missing: string[] = [];
    const top = ok(installed('shim6ctl', ['--help'], true), 'shim6ctl --help');
    for (const o of optionsOf(top)) if (!c8.includes(o)) missing.push(o);
    for (const cmd of commands(top)) {
      const h = ok(installed('shim6ctl', [cmd, '--help'], true), `shim6ctl ${cmd} --help`);
      const subs = commands(h);
      if (subs.length === 0) {
        if (!c8.includes(`.B ${cmd}`) && !c8.includes(`.BI "${cmd} `)) missing.push(cmd);
        for (const o of optionsOf(h)) if (!c8.includes(o)) missing.push(`${cmd} ${o}`);
      }
      for (const sub of subs) {
        if (!new RegExp(`${cmd} ${sub}\\b`).test(c8) && !new RegExp(`"${cmd} ${sub}\\b`).test(c8)) missing.push(`${cmd} ${sub}`);
        for (const o of optionsOf(ok(installed('shim6ctl', [cmd, sub, '--help'], true), `shim6ctl ${cmd} ${sub} --help`))) {
          if (!c8.includes(o)) missing.push(`${cmd} ${sub} ${o}`);
        }
      }
    }
    expect(missing).toEqual([]);
    // shim6(7): every option, cmsg type and errno of the header.
    const s7 = roffText(d('usr/share/man/man7/shim6.7'));
    const header = fs.readFileSync(d('usr/include/shim6/shim.h'), 'utf8');
    const names = [...header.matchAll(/^#define ((?:SHIM_|E)[A-Z_]+)\s+(?:\d|0x|SHIM_|\()/gm)].map((m) => m[1]);
    expect(names.length).toBeGreaterThan(20);
    expect(names.filter((n) => !s7.includes(n))).toEqual([]);
  }, 120_000);

  it.skipIf(!CI && !has('systemd-analyze'))('passes systemd-analyze verify', () => {
    const unitDir = path.join(work, 'units');
    fs.mkdirSync(unitDir, { recursive: true });
    // The unit as installed, ExecStart pointed at the DESTDIR copy (verify checks that it is executable).
    const unit = fs.readFileSync(d('lib/systemd/system/shim6d.service'), 'utf8').replace(/^ExecStart=\/usr\/bin\/shim6d/m, `ExecStart=${d('usr/bin/shim6d')}`);
    fs.writeFileSync(path.join(unitDir, 'shim6d.service'), unit);
    // MANPATH: the Documentation= pages are the installed ones.
    const r = run('systemd-analyze', ['verify', path.join(unitDir, 'shim6d.service')], { env: { ...process.env, MANPATH: d('usr/share/man') } });
    expect(`${r.stdout}${r.stderr}`.split('\n').filter((l) => l.includes('shim6d.service'))).toEqual([]);
    expect(r.status).toBe(0);
  });

  it('make uninstall removes everything it installed', () => {
    ok(run('make', ['uninstall', `DESTDIR=${dest}`, 'PREFIX=/usr']), 'make uninstall');
    expect(filesUnder(dest)).toEqual([]);
  });
});
