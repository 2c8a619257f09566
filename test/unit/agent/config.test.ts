// shim6d configuration: defaults, flags over the file, and every validation
// error naming its key (the operator fixes the file from the message alone).
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { parsePrefix, readConfigFile, resolveConfig, type ConfigInput } from '../../../src/agent/config.js';
import { DEFAULT_TIMERS } from '../../../src/context/consts.js';
import { Shim6Error } from '../../../src/errors.js';

const UP = { uplinks: ['eth0', 'eth1'] };

/** The error resolveConfig throws (fails the test when it does not throw). */
function errorOf(file: ConfigInput, flags: ConfigInput = {}): Shim6Error {
  try {
    resolveConfig(file, flags);
  } catch (err) {
    expect(err).toBeInstanceOf(Shim6Error);
    return err as Shim6Error;
  }
  throw new Error(`resolveConfig accepted ${JSON.stringify({ file, flags })}`);
}

describe('resolveConfig: defaults', () => {
  it('fills every default from a minimal configuration', () => {
    const c = resolveConfig({}, { uplinks: ['eth0'] });
    expect(c).toEqual({
      uplinks: ['eth0'],
      shimDev: 'shim6',
      gso: 'segment',
      prefixes: [],
      hba: false,
      configureAddresses: true,
      shimRoutes: ['2000::/3'],
      stateDir: '/var/lib/shim6',
      bpffs: undefined,
      runDir: undefined,
      apiSocket: undefined,
      apiPath: undefined,
      apiMode: 0o666,
      apiGroup: undefined,
      timers: DEFAULT_TIMERS,
      logLevel: 'info',
      teardownOnExit: false,
      reap: { sampleMs: 200 },
      dropPrivileges: true,
    });
    expect(Object.isFrozen(c)).toBe(true);
  });

  it('drops privileges unless told not to, by file or flag', () => {
    expect(resolveConfig({ ...UP, dropPrivileges: false }, {}).dropPrivileges).toBe(false);
    expect(resolveConfig({ ...UP }, { dropPrivileges: false }).dropPrivileges).toBe(false);
    expect(() => resolveConfig({ ...UP, dropPrivileges: 'no' }, {})).toThrow(/dropPrivileges: must be true or false/);
  });

  it('turns HBA on when prefixes are given, and keeps their order', () => {
    const c = resolveConfig({ ...UP, prefixes: ['2001:db8:2:a::/64', '2001:db8:1:a::/64'] }, {});
    expect(c.hba).toBe(true);
    expect(c.prefixes.map((p) => p.text)).toEqual(['2001:db8:2:a::/64', '2001:db8:1:a::/64']);
    expect([...c.prefixes[0].bytes]).toEqual([0x20, 0x01, 0x0d, 0xb8, 0, 2, 0, 0x0a]);
  });

  it('lets hba be switched off while prefixes are configured', () => {
    const c = resolveConfig({ ...UP, prefixes: ['2001:db8:1:a::/64'] }, { hba: false });
    expect(c.hba).toBe(false);
    expect(c.prefixes).toHaveLength(1);
  });

  it('merges partial timers over the RFC 5533 defaults', () => {
    const c = resolveConfig({ ...UP, timers: { i1TimeoutMs: 500, idleTeardownMs: 1000 } }, {});
    expect(c.timers).toEqual({ ...DEFAULT_TIMERS, i1TimeoutMs: 500, idleTeardownMs: 1000 });
    expect(DEFAULT_TIMERS.i1TimeoutMs).toBe(4000); // the defaults are not touched
  });
});

describe('resolveConfig: flags override the file', () => {
  const file: ConfigInput = {
    uplinks: ['eth0'], shimDev: 'shimf', gso: 'head', prefixes: ['2001:db8:1:a::/64'], hba: true, configureAddresses: true,
    shimRoutes: ['2001:db8::/32'], stateDir: '/f/state', bpffs: '/f/bpf', runDir: '/f/run', apiSocket: '/f/sock',
    apiPath: '/f/api', apiMode: 0o660, apiGroup: 'shim6', logLevel: 'warn', teardownOnExit: false,
  };
  const flags: ConfigInput = {
    uplinks: ['wlan0', 'eth9'], shimDev: 'shimc', gso: 'segment', prefixes: ['2001:db8:9:a::/64'], hba: false, configureAddresses: false,
    shimRoutes: ['::/0'], stateDir: '/c/state', bpffs: '/c/bpf', runDir: '/c/run', apiSocket: '/c/sock',
    apiPath: '/c/api', apiMode: 0o600, apiGroup: 1000, logLevel: 'trace', teardownOnExit: true,
  };

  it.each(Object.keys(flags) as Array<keyof ConfigInput>)('%s', (k) => {
    const fromFile = resolveConfig(file, {}) as unknown as Record<string, unknown>;
    const both = resolveConfig(file, { [k]: flags[k] }) as unknown as Record<string, unknown>;
    const want = k === 'prefixes' ? [parsePrefix((flags[k] as string[])[0])] : flags[k];
    expect(both[k]).toEqual(want);
    expect(fromFile[k]).not.toEqual(want);
  });

  it('reap: flags override the file key by key', () => {
    const c = resolveConfig({ ...UP, reap: { sampleMs: 100, hotStandby: true, failbackHoldMs: 500, idleSampleMs: 3000 } }, { reap: { sampleMs: 50, failback: false } });
    expect(c.reap).toEqual({ sampleMs: 50, hotStandby: true, failback: false, failbackHoldMs: 500, idleSampleMs: 3000 });
  });

  it('reap: every setting from the file', () => {
    const reap = { sampleMs: 10, sendTimeoutMs: 100, hotStandby: false, failback: true, failbackHoldMs: 0 };
    expect(resolveConfig({ ...UP, reap }, {}).reap).toEqual(reap);
  });

  it('takes the file value when the flag is undefined', () => {
    expect(resolveConfig(file, { shimDev: undefined }).shimDev).toBe('shimf');
  });

  it('does not check flags against the file keys (flags come from the parser)', () => {
    expect(resolveConfig({}, { ...UP, logLevel: 'debug' }).logLevel).toBe('debug');
  });
});

describe('resolveConfig: every error names its key', () => {
  const rows: Array<[string, ConfigInput, ConfigInput, string]> = [
    // [what, file, flags, key the message must name]
    ['unknown key', { ...UP, uplink: ['eth0'] } as ConfigInput, {}, 'uplink'],
    ['no uplinks', {}, {}, 'uplinks'],
    ['empty uplinks', { uplinks: [] }, {}, 'uplinks'],
    ['uplinks not a list', { uplinks: 'eth0' }, {}, 'uplinks'],
    ['an empty uplink name', { uplinks: ['eth0', ''] }, {}, 'uplinks'],
    ['bad gso', { ...UP, gso: 'tso' }, {}, 'gso'],
    ['prefixes not a list', { ...UP, prefixes: '2001:db8:1:a::/64' }, {}, 'prefixes'],
    ['prefix without a length', { ...UP, prefixes: ['2001:db8:1:a::'] }, {}, 'prefixes'],
    ['prefix not IPv6', { ...UP, prefixes: ['10.0.0.0/64'] }, {}, 'prefixes'],
    ['prefix garbage', { ...UP, prefixes: ['2001:db8:::1/64'] }, {}, 'prefixes'],
    ['prefix /48', { ...UP, prefixes: ['2001:db8:1::/48'] }, {}, 'prefixes'],
    ['prefix /128', { ...UP, prefixes: ['2001:db8:1:a::1/128'] }, {}, 'prefixes'],
    ['bits beyond /64', { ...UP, prefixes: ['2001:db8:1:a::1/64'] }, {}, 'prefixes'],
    ['duplicate prefixes', { ...UP, prefixes: ['2001:db8:1:a::/64', '2001:db8:2:a::/64', '2001:0db8:1:a:0::/64'] }, {}, 'prefixes'],
    ['hba without prefixes', { ...UP, hba: true }, {}, 'prefixes'],
    ['hba not a boolean', { ...UP, prefixes: ['2001:db8:1:a::/64'], hba: 'yes' }, {}, 'hba'],
    ['configureAddresses not a boolean', { ...UP, configureAddresses: 1 }, {}, 'configureAddresses'],
    ['teardownOnExit not a boolean', { ...UP, teardownOnExit: 'true' }, {}, 'teardownOnExit'],
    ['timers not an object', { ...UP, timers: 5 }, {}, 'timers'],
    ['timers a list', { ...UP, timers: [1000] }, {}, 'timers'],
    ['timers null', { ...UP, timers: null }, {}, 'timers'],
    ['unknown timer', { ...UP, timers: { i1Timeout: 1000 } }, {}, 'timers.i1Timeout'],
    ['timer zero', { ...UP, timers: { i1TimeoutMs: 0 } }, {}, 'timers.i1TimeoutMs'],
    ['timer negative', { ...UP, timers: { idleTeardownMs: -1 } }, {}, 'timers.idleTeardownMs'],
    ['timer a string', { ...UP, timers: { i2TimeoutMs: '4000' } }, {}, 'timers.i2TimeoutMs'],
    ['timer infinite', { ...UP, timers: { updateTimeoutMs: Infinity } }, {}, 'timers.updateTimeoutMs'],
    ['timer NaN', { ...UP, timers: { updateTimeoutMs: NaN } }, {}, 'timers.updateTimeoutMs'],
    ['bad logLevel', { ...UP, logLevel: 'verbose' }, {}, 'logLevel'],
    ['logLevel not a string', { ...UP, logLevel: 30 }, {}, 'logLevel'],
    ['shimDev too long', { ...UP, shimDev: 'a'.repeat(15) }, {}, 'shimDev'],
    ['shimDev empty', { ...UP, shimDev: '' }, {}, 'shimDev'],
    ['shimDev an uplink', { ...UP, shimDev: 'eth1' }, {}, 'shimDev'],
    ['shimDev an uplink given by flag', { ...UP }, { shimDev: 'eth0' }, 'shimDev'],
    ['shimRoutes not a list', { ...UP, shimRoutes: '2000::/3' }, {}, 'shimRoutes'],
    ['shimRoute not a prefix', { ...UP, shimRoutes: ['default'] }, {}, 'shimRoutes'],
    ['shimRoute length > 128', { ...UP, shimRoutes: ['2000::/129'] }, {}, 'shimRoutes'],
    ['shimRoute address invalid', { ...UP, shimRoutes: ['2000:::/3'] }, {}, 'shimRoutes'],
    ['stateDir empty', { ...UP, stateDir: '' }, {}, 'stateDir'],
    ['stateDir not a string', { ...UP, stateDir: 7 }, {}, 'stateDir'],
    ['bpffs empty', { ...UP, bpffs: '' }, {}, 'bpffs'],
    ['runDir not a string', { ...UP, runDir: ['/run'] }, {}, 'runDir'],
    ['apiSocket empty', { ...UP, apiSocket: '' }, {}, 'apiSocket'],
    ['apiPath empty', { ...UP, apiPath: '' }, {}, 'apiPath'],
    ['apiPath not a string', { ...UP, apiPath: 1 }, {}, 'apiPath'],
    ['apiMode a string', { ...UP, apiMode: '0660' }, {}, 'apiMode'],
    ['apiMode negative', { ...UP, apiMode: -1 }, {}, 'apiMode'],
    ['apiMode beyond 0o777', { ...UP, apiMode: 0o1777 }, {}, 'apiMode'],
    ['apiMode fractional', { ...UP, apiMode: 438.5 }, {}, 'apiMode'],
    ['apiGroup empty', { ...UP, apiGroup: '' }, {}, 'apiGroup'],
    ['apiGroup negative', { ...UP, apiGroup: -1 }, {}, 'apiGroup'],
    ['apiGroup fractional', { ...UP, apiGroup: 1.5 }, {}, 'apiGroup'],
    ['apiGroup an object', { ...UP, apiGroup: { gid: 1 } }, {}, 'apiGroup'],
    ['reap not an object', { ...UP, reap: true }, {}, 'reap'],
    ['reap a list', { ...UP, reap: [] }, {}, 'reap'],
    ['unknown reap key', { ...UP, reap: { sendTimeout: 1000 } }, {}, 'reap.sendTimeout'],
    ['reap.sampleMs too small', { ...UP, reap: { sampleMs: 5 } }, {}, 'reap.sampleMs'],
    ['reap.idleSampleMs too large', { ...UP, reap: { idleSampleMs: 120_000 } }, {}, 'reap.idleSampleMs'],
    ['reap.sampleMs too large', { ...UP, reap: { sampleMs: 10_001 } }, {}, 'reap.sampleMs'],
    ['reap.sendTimeoutMs too small', { ...UP, reap: { sendTimeoutMs: 99 } }, {}, 'reap.sendTimeoutMs'],
    ['reap.sendTimeoutMs a string', { ...UP, reap: { sendTimeoutMs: '15000' } }, {}, 'reap.sendTimeoutMs'],
    ['reap.failbackHoldMs negative', { ...UP, reap: { failbackHoldMs: -1 } }, {}, 'reap.failbackHoldMs'],
    ['reap.hotStandby not a boolean', { ...UP, reap: { hotStandby: 1 } }, {}, 'reap.hotStandby'],
    ['reap.failback not a boolean', { ...UP, reap: { failback: 'no' } }, {}, 'reap.failback'],
    ['a bad reap flag', {}, { ...UP, reap: { sampleMs: 0 } }, 'reap.sampleMs'],
    ['a bad flag value', {}, { ...UP, gso: 'tso' }, 'gso'],
    ['a bad prefix flag', {}, { ...UP, prefixes: ['2001:db8::/63'] }, 'prefixes'],
  ];

  it.each(rows)('%s', (_what, file, flags, key) => {
    const e = errorOf(file, flags);
    expect(e.code).toBe('SHIM6_ERR_USAGE');
    expect(e.message.startsWith(`config: ${key}: `)).toBe(true);
  });

  it('lists the known keys with an unknown one', () => {
    const e = errorOf({ ...UP, prefix: [] } as ConfigInput);
    for (const k of ['uplinks', 'shimDev', 'prefixes', 'timers', 'logLevel', 'teardownOnExit']) expect(e.message).toContain(k);
  });

  it('lists the known timers with an unknown one', () => {
    const e = errorOf({ ...UP, timers: { bogusMs: 1 } });
    for (const k of Object.keys(DEFAULT_TIMERS)) expect(e.message).toContain(k);
  });

  it('accepts a 14-character shim device (its veth peer gets a 15th)', () => {
    expect(resolveConfig({ ...UP, shimDev: 'a'.repeat(14) }, {}).shimDev).toHaveLength(14);
  });

  // Known gap (report): `k in DEFAULT_TIMERS` also finds Object.prototype
  // members, so `{"timers": {"toString": 5}}` is accepted (and the value is
  // kept in the timers record). Object.hasOwn(DEFAULT_TIMERS, k) fixes it.
  it('refuses a timer named like an Object.prototype member', () => {
    const e = errorOf({ ...UP, timers: JSON.parse('{"toString": 5}') as unknown });
    expect(e.message.startsWith('config: timers.toString: ')).toBe(true);
  });
});

describe('parsePrefix', () => {
  it('keeps the text and the 8 prefix octets', () => {
    expect(parsePrefix('2001:db8:1:a::/64')).toEqual({ text: '2001:db8:1:a::/64', bytes: Uint8Array.of(0x20, 0x01, 0x0d, 0xb8, 0, 1, 0, 0x0a) });
  });
  it('names the key it is given', () => {
    expect(() => parsePrefix('nope', 'prefixes[2]')).toThrow(/^config: prefixes\[2\]: /);
  });
});

describe('readConfigFile', () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'shim6-config-'));
  afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));
  const write = (name: string, text: string): string => {
    const p = path.join(dir, name);
    fs.writeFileSync(p, text);
    return p;
  };

  it('reads a JSON object', () => {
    expect(readConfigFile(write('ok.json', '{"uplinks": ["eth0"], "logLevel": "debug"}'))).toEqual({ uplinks: ['eth0'], logLevel: 'debug' });
  });
  it('a missing file is SHIM6_ERR_NOT_FOUND and names the path', () => {
    const p = path.join(dir, 'nope.json');
    expect(() => readConfigFile(p)).toThrow(expect.objectContaining({ code: 'SHIM6_ERR_NOT_FOUND', message: expect.stringContaining(p) }));
  });
  it('invalid JSON is a usage error naming the path', () => {
    const p = write('bad.json', '{"uplinks": [eth0]}');
    expect(() => readConfigFile(p)).toThrow(expect.objectContaining({ code: 'SHIM6_ERR_USAGE', message: expect.stringContaining(`${p} is not valid JSON`) }));
  });
  it.each([['a list', '[]'], ['null', 'null'], ['a string', '"eth0"'], ['a number', '5']])('%s is refused', (_n, text) => {
    expect(() => readConfigFile(write('notobj.json', text))).toThrow(/must hold a JSON object/);
  });
});
