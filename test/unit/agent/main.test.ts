// shim6d's command line, as a child process (dist/src/agent/main.js, built by
// `make all`): --help documents every option, --check-config validates and
// prints without touching the system, and a bad configuration exits 64 with
// a message naming the offending key.
import { execFile, spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { buildProgram } from '../../../src/agent/main.js';

const main = path.resolve('dist/src/agent/main.js');
const run = (...args: string[]) => spawnSync(process.execPath, [main, ...args], { encoding: 'utf8', timeout: 30_000 });
/** The same, without blocking (for concurrent rows). */
const runAsync = (...args: string[]): Promise<{ status: number | null; stdout: string; stderr: string }> =>
  new Promise((resolve) => {
    execFile(process.execPath, [main, ...args], { encoding: 'utf8', timeout: 30_000 }, (err, stdout, stderr) => {
      resolve({ status: err ? ((err as { code?: number }).code ?? null) : 0, stdout, stderr });
    });
  });
const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'shim6d-cli-'));
afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));
const file = (name: string, v: unknown): string => {
  const p = path.join(dir, name);
  fs.writeFileSync(p, typeof v === 'string' ? v : JSON.stringify(v));
  return p;
};

/** Every option main() reads, by its long flag. */
const OPTIONS = [
  '--config', '--uplink', '--shim-dev', '--gso', '--prefix', '--no-hba', '--no-configure-addresses', '--shim-route',
  '--state-dir', '--run-dir', '--bpffs', '--api-socket', '--api-path', '--log-level', '--send-timeout', '--hot-standby', '--no-failback',
  '--reap-sample', '--tcp-rto-max', '--cgroup', '--metrics', '--no-drop-privileges', '--teardown-on-exit', '--check-config', '--help', '--version',
];

describe('shim6d --help', () => {
  const r = run('--help');
  const optionLines = r.stdout.split('\n').filter((l) => /^ {2}(-\w, )?--/.test(l));
  const documented = optionLines.map((l) => /--[\w-]+/.exec(l)![0]);

  it('exits 0 and prints the usage on stdout', () => {
    expect(r.status).toBe(0);
    expect(r.stdout).toMatch(/^Usage: shim6d \[options\]/);
    expect(r.stderr).toBe('');
  });

  it.each(OPTIONS)('documents %s', (flag) => {
    expect(documented).toContain(flag);
  });

  it('documents every option the program defines, each with a description', () => {
    const defined = buildProgram().options.map((o) => o.long!);
    for (const flag of [...defined, '--help']) expect(documented).toContain(flag);
    for (const o of buildProgram().options) expect(o.description.length).toBeGreaterThan(10);
    expect(defined.every((f) => OPTIONS.includes(f))).toBe(true); // a new option belongs in OPTIONS above too
  });

  it('explains signals and gives an example', () => {
    expect(r.stdout).toMatch(/SIGTERM/);
    expect(r.stdout).toMatch(/Example:\n\s+shim6d --uplink/);
  });

  it('-h is --help; --version prints the version', () => {
    expect(run('-h').stdout).toBe(r.stdout);
    const v = run('--version');
    expect(v.status).toBe(0);
    expect(v.stdout.trim()).toMatch(/^\d+\.\d+\.\d+$/);
  });
});

describe('shim6d --check-config', () => {
  it('prints the resolved configuration as JSON and exits 0, touching nothing', () => {
    const state = path.join(dir, 'never-created');
    const r = run('--uplink', 'eth0,eth1', '--prefix', '2001:db8:1:a::/64', '-p', '2001:db8:2:a::/64', '--state-dir', state,
      '--reap-sample', '100', '--hot-standby', '--no-failback', '--send-timeout', '5000', '--api-path', path.join(dir, 'api.sock'), '--check-config');
    expect(r.stderr).toBe('');
    expect(r.status).toBe(0);
    const c = JSON.parse(r.stdout);
    expect(c).toMatchObject({
      uplinks: ['eth0', 'eth1'], shimDev: 'shim6', gso: 'segment', prefixes: ['2001:db8:1:a::/64', '2001:db8:2:a::/64'], hba: true,
      configureAddresses: true, shimRoutes: ['2000::/3'], stateDir: state, logLevel: 'info', teardownOnExit: false, apiPath: path.join(dir, 'api.sock'),
      reap: { sampleMs: 100, hotStandby: true, failback: false, sendTimeoutMs: 5000 },
    });
    expect(c.timers.i1TimeoutMs).toBe(4000);
    expect(fs.existsSync(state)).toBe(false);
  });

  it('merges a config file under the flags', () => {
    const cfg = file('ok.json', { uplinks: ['eth0'], logLevel: 'warn', gso: 'head', shimRoutes: ['2001:db8::/32'], timers: { i1TimeoutMs: 1000 } });
    const c = JSON.parse(run('--config', cfg, '--log-level', 'debug', '--no-configure-addresses', '--check-config').stdout);
    expect(c).toMatchObject({ uplinks: ['eth0'], logLevel: 'debug', gso: 'head', shimRoutes: ['2001:db8::/32'], configureAddresses: false, hba: false });
    expect(c.timers.i1TimeoutMs).toBe(1000);
  });

  it('--no-hba turns HBA off while prefixes are given', () => {
    const c = JSON.parse(run('-u', 'eth0', '-p', '2001:db8:1:a::/64', '--no-hba', '--check-config').stdout);
    expect(c.hba).toBe(false);
    expect(c.prefixes).toEqual(['2001:db8:1:a::/64']);
  });

  it.concurrent.each([
    ['an unknown key in the file', () => ['--config', file('unknown.json', { uplinks: ['eth0'], uplink: 'eth1' })], /config: uplink: unknown key/],
    ['no uplink', () => [], /config: uplinks: /],
    ['a /48 prefix', () => ['-u', 'eth0', '-p', '2001:db8:1::/48'], /config: prefixes: '2001:db8:1::\/48'/],
    ['bits beyond /64', () => ['-u', 'eth0', '-p', '2001:db8:1:a::1/64'], /config: prefixes: .*beyond \/64/],
    ['duplicate prefixes', () => ['-u', 'eth0', '-p', '2001:db8:1:a::/64,2001:db8:1:a:0::/64'], /config: prefixes: must be distinct/],
    ['a bad gso', () => ['-u', 'eth0', '--gso', 'tso'], /config: gso: /],
    ['a bad log level', () => ['-u', 'eth0', '--log-level', 'loud'], /config: logLevel: /],
    ['a long shim device', () => ['-u', 'eth0', '--shim-dev', 'shim-device-name'], /config: shimDev: /],
    ['the shim device an uplink', () => ['-u', 'eth0,eth1', '--shim-dev', 'eth1'], /config: shimDev: /],
    ['a bad shim route', () => ['-u', 'eth0', '--shim-route', 'everything'], /config: shimRoutes: /],
    ['a bad timer in the file', () => ['--config', file('timer.json', { uplinks: ['eth0'], timers: { i1TimeoutMs: 0 } })], /config: timers\.i1TimeoutMs: /],
    ['a REAP sample out of range', () => ['-u', 'eth0', '--reap-sample', '1'], /config: reap\.sampleMs: /],
    ['a send timeout that is not a number', () => ['-u', 'eth0', '--send-timeout', 'soon'], /--send-timeout: not a number/],
    ['a config file that is not JSON', () => ['--config', file('bad.json', '{uplinks: eth0}')], /is not valid JSON/],
    ['a config file that is a list', () => ['--config', file('list.json', '["eth0"]')], /must hold a JSON object/],
  ])('exits 64 on %s, naming it on stderr', async (_what, args, message) => {
    const r = await runAsync(...(args as () => string[])(), '--check-config');
    expect(r.status).toBe(64);
    expect(r.stdout).toBe('');
    expect(r.stderr).toMatch(/^shim6d: /);
    expect(r.stderr).toMatch(message);
  });

  it('exits 66 when the config file does not exist', () => {
    const p = path.join(dir, 'missing.json');
    const r = run('--config', p, '--check-config');
    expect(r.status).toBe(66);
    expect(r.stderr).toContain(p);
  });

  it('exits 64 on an unknown option, with the usage', () => {
    const r = run('--uplinks', 'eth0', '--check-config');
    expect(r.status).toBe(64);
    expect(r.stderr).toMatch(/unknown option '--uplinks'/);
    expect(r.stderr).toMatch(/Usage: shim6d/);
  });
});
