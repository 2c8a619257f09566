// shim6ctl: --help everywhere, stable exit codes, clear errors.
import { describe, expect, it } from 'vitest';
import { spawnSync } from 'node:child_process';
import path from 'node:path';
import os from 'node:os';
import fs from 'node:fs';

const ctl = path.resolve('dist/src/cli/shim6ctl.js');
const run = (...args: string[]) => spawnSync(process.execPath, [ctl, ...args], { encoding: 'utf8' });
const empty = fs.mkdtempSync(path.join(os.tmpdir(), 'shim6-cli-'));

describe('shim6ctl', () => {
  const commands = [[], ['dataplane'], ['dataplane', 'up'], ['dataplane', 'down'], ['dataplane', 'status'], ['maps'], ['maps', 'list'],
    ['maps', 'dump'], ['context'], ['context', 'add'], ['context', 'set'], ['context', 'del'], ['context', 'list'], ['stats']];
  it.each(commands.map((c) => [c.join(' ') || '(top)', c]))('%s --help', (_n, c) => {
    const r = run(...(c as string[]), '--help');
    expect(r.status).toBe(0);
    expect(r.stdout).toMatch(/^Usage: shim6ctl/);
  });

  it('exits 64 on a usage error, with the reason', () => {
    const r = run('context', 'add', '--id', '1');
    expect(r.status).toBe(64);
    expect(r.stderr).toMatch(/required option/);
  });

  it('exits 69 with a hint when the data plane is not up', () => {
    const r = run('--bpffs', empty, 'maps', 'list');
    expect(r.status).toBe(69);
    expect(r.stderr).toMatch(/not up.*shim6ctl dataplane up/);
  });

  it('reports an unknown map by name', () => {
    const r = run('--bpffs', empty, 'maps', 'dump', 'nosuch');
    expect(r.status).toBe(66);
    expect(r.stderr).toMatch(/no map 'nosuch'/);
  });

  it('reports the data plane down as JSON', () => {
    const r = run('--bpffs', empty, '--state-dir', empty, 'dataplane', 'status', '--json');
    expect(r.status).toBe(0);
    expect(JSON.parse(r.stdout)).toMatchObject({ up: false, attachments: [] });
  });
});
