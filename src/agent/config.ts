// shim6d configuration: a JSON file and command-line flags (flags win),
// validated into one frozen record with defaults. Every error names the
// offending key so an operator can fix the file without reading code.
import fs from 'node:fs';
import { Shim6Error } from '../errors.js';
import { parseIpv6 } from '../wire/addr.js';
import { DEFAULT_TIMERS, type TimerConfig } from '../context/consts.js';
import type { ReapConfig } from './reap.js';
import { parseListen } from './metrics.js';

export type LogLevel = 'trace' | 'debug' | 'info' | 'warn' | 'error' | 'fatal' | 'silent';
const LOG_LEVELS: readonly LogLevel[] = ['trace', 'debug', 'info', 'warn', 'error', 'fatal', 'silent'];

export interface Prefix {
  readonly text: string;
  /** The 64-bit prefix (8 octets). */
  readonly bytes: Uint8Array;
}

export interface AgentConfig {
  /** Uplink devices (their global addresses are the host's locators). */
  readonly uplinks: readonly string[];
  /** The shim device (a veth pair `<dev>`/`<dev>p`, created when absent). */
  readonly shimDev: string;
  readonly gso: 'segment' | 'head';
  /** /64 prefixes of the host's HBA set (RFC 5535), in Multi-Prefix order. */
  readonly prefixes: readonly Prefix[];
  /** Generate (or load) the HBA set for `prefixes` and announce its addresses. */
  readonly hba: boolean;
  /** Add the HBA addresses to the uplink on which their prefix is on-link. */
  readonly configureAddresses: boolean;
  /** Destinations sent through the shim device (so first packets can trigger contexts). */
  readonly shimRoutes: readonly string[];
  /** Persistent state (the HBA set): survives reboots. */
  readonly stateDir: string;
  /** bpffs mount and runtime state root (per network namespace below them). */
  readonly bpffs?: string;
  readonly runDir?: string;
  /** The agent's control socket for shim6ctl (default `<runDir>/<netns>/shim6d.sock`). */
  readonly apiSocket?: string;
  /** The RFC 6316 API socket for applications (default `<runDir>/<netns>/api.sock`, where libshim6 looks). */
  readonly apiPath?: string;
  /** Its file mode (default 0o666: any local process may act on sockets it holds). */
  readonly apiMode: number;
  /** Group owning it (name or gid), e.g. with apiMode 0o660 to admit one group. */
  readonly apiGroup?: string | number;
  readonly timers: TimerConfig;
  readonly logLevel: LogLevel;
  /** On SIGTERM: keep contexts and the data plane (default) or remove them. */
  readonly teardownOnExit: boolean;
  /** REAP (RFC 5534) defaults for every context. */
  readonly reap: ReapConfig;
  /** TCP: RTO bound (ms, 1000..120000, 0 = none) for shimmed sockets during an outage, and the cgroup of the sock_ops program ('none': TCP left alone). */
  readonly tcpRtoMaxMs?: number;
  readonly cgroup?: string;
  /** Prometheus endpoint HOST:PORT (off when absent). */
  readonly metrics?: { host: string; port: number };
  /** After setup, keep only the capabilities the agent needs at run time (default true). */
  readonly dropPrivileges: boolean;
}

export interface ConfigInput {
  uplinks?: unknown;
  shimDev?: unknown;
  gso?: unknown;
  prefixes?: unknown;
  hba?: unknown;
  configureAddresses?: unknown;
  shimRoutes?: unknown;
  stateDir?: unknown;
  bpffs?: unknown;
  runDir?: unknown;
  apiSocket?: unknown;
  apiPath?: unknown;
  apiMode?: unknown;
  apiGroup?: unknown;
  timers?: unknown;
  logLevel?: unknown;
  teardownOnExit?: unknown;
  reap?: unknown;
  tcpRtoMaxMs?: unknown;
  cgroup?: unknown;
  metrics?: unknown;
  dropPrivileges?: unknown;
}

const KNOWN = new Set<keyof ConfigInput>([
  'uplinks', 'shimDev', 'gso', 'prefixes', 'hba', 'configureAddresses', 'shimRoutes', 'stateDir',
  'bpffs', 'runDir', 'apiSocket', 'apiPath', 'apiMode', 'apiGroup', 'timers', 'logLevel', 'teardownOnExit', 'reap', 'tcpRtoMaxMs', 'cgroup', 'metrics', 'dropPrivileges',
]);

function bad(key: string, why: string): never {
  throw new Shim6Error('SHIM6_ERR_USAGE', `config: ${key}: ${why}`);
}

function strings(key: string, v: unknown): string[] {
  if (!Array.isArray(v) || !v.every((x) => typeof x === 'string' && x.length > 0)) bad(key, 'must be a list of non-empty strings');
  return v as string[];
}

function bool(key: string, v: unknown): boolean {
  if (typeof v !== 'boolean') bad(key, 'must be true or false');
  return v;
}

function str(key: string, v: unknown): string {
  if (typeof v !== 'string' || v.length === 0) bad(key, 'must be a non-empty string');
  return v;
}

export function parsePrefix(text: string, key = 'prefixes'): Prefix {
  const m = /^([0-9a-fA-F:.]+)\/(\d+)$/.exec(text);
  if (!m) bad(key, `'${text}' is not an IPv6 prefix (2001:db8:1::/64)`);
  if (m[2] !== '64') bad(key, `'${text}': HBA prefixes are /64 (RFC 5535)`);
  const a = parseIpv6(m[1]);
  if (a === null) bad(key, `'${text}' is not an IPv6 prefix`);
  if (a.subarray(8).some((b) => b !== 0)) bad(key, `'${text}' has bits set beyond /64`);
  return { text: `${m[1]}/64`, bytes: a.slice(0, 8) };
}

function routePrefix(text: string): string {
  const m = /^([0-9a-fA-F:.]+)\/(\d+)$/.exec(text);
  if (!m || parseIpv6(m[1]) === null || Number(m[2]) > 128) bad('shimRoutes', `'${text}' is not an IPv6 prefix`);
  return text;
}

function timers(v: unknown): TimerConfig {
  if (v === undefined) return DEFAULT_TIMERS;
  if (v === null || typeof v !== 'object' || Array.isArray(v)) bad('timers', 'must be an object of millisecond values');
  const out: Record<string, number> = { ...DEFAULT_TIMERS };
  for (const [k, x] of Object.entries(v as Record<string, unknown>)) {
    if (!Object.hasOwn(DEFAULT_TIMERS, k)) bad(`timers.${k}`, `unknown timer (known: ${Object.keys(DEFAULT_TIMERS).join(', ')})`);
    if (k.endsWith('RetriesMax')) {
      if (typeof x !== 'number' || !Number.isInteger(x) || x < 0) bad(`timers.${k}`, 'must be a whole number of retries ≥ 0');
    } else if (typeof x !== 'number' || !Number.isFinite(x) || x <= 0) bad(`timers.${k}`, 'must be a number of milliseconds > 0');
    out[k] = x;
  }
  return out as unknown as TimerConfig;
}

const REAP_KEYS = ['sendTimeoutMs', 'hotStandby', 'failback', 'failbackHoldMs', 'sampleMs', 'idleSampleMs'] as const;

function reap(file: unknown, flags: unknown): ReapConfig {
  const merged: Record<string, unknown> = {};
  for (const [src, v] of [['file', file], ['flags', flags]] as const) {
    if (v === undefined) continue;
    if (v === null || typeof v !== 'object' || Array.isArray(v)) bad('reap', 'must be an object');
    for (const [k, x] of Object.entries(v as Record<string, unknown>)) {
      if (!(REAP_KEYS as readonly string[]).includes(k)) bad(`reap.${k}`, `unknown key (known: ${REAP_KEYS.join(', ')})`);
      if (x !== undefined) merged[k] = x;
    }
    void src;
  }
  const ms = (k: string, min: number, max: number): number | undefined => {
    const x = merged[k];
    if (x === undefined) return undefined;
    if (typeof x !== 'number' || !Number.isFinite(x) || x < min || x > max) bad(`reap.${k}`, `must be a number of milliseconds in ${min}..${max}`);
    return x;
  };
  const flag = (k: string): boolean | undefined => (merged[k] === undefined ? undefined : bool(`reap.${k}`, merged[k]));
  const out: { -readonly [K in keyof ReapConfig]: ReapConfig[K] } = { sampleMs: ms('sampleMs', 10, 10_000) ?? 200 };
  const st = ms('sendTimeoutMs', 100, 3_600_000);
  if (st !== undefined) out.sendTimeoutMs = st;
  const hs = flag('hotStandby');
  if (hs !== undefined) out.hotStandby = hs;
  const fb = flag('failback');
  if (fb !== undefined) out.failback = fb;
  const fh = ms('failbackHoldMs', 0, 3_600_000);
  if (fh !== undefined) out.failbackHoldMs = fh;
  const is = ms('idleSampleMs', 10, 60_000);
  if (is !== undefined) out.idleSampleMs = is;
  return Object.freeze(out);
}

function metricsListen(v: unknown): { host: string; port: number } | undefined {
  if (v === undefined) return undefined;
  try {
    return parseListen(str('metrics', v));
  } catch (err) {
    bad('metrics', (err as Error).message);
  }
}

function tcpRto(v: unknown): number | undefined {
  if (v === undefined) return undefined;
  if (typeof v !== 'number' || !Number.isInteger(v) || (v !== 0 && (v < 1000 || v > 120_000))) bad('tcpRtoMaxMs', 'must be 0 (no bound) or 1000..120000 ms (the kernel\'s limits)');
  return v;
}

/** Merge the file's settings and the flags' (flags win) and validate. */
export function resolveConfig(file: ConfigInput, flags: ConfigInput): AgentConfig {
  for (const k of Object.keys(file)) if (!KNOWN.has(k as keyof ConfigInput)) bad(k, `unknown key (known: ${[...KNOWN].join(', ')})`);
  const pick = <K extends keyof ConfigInput>(k: K): unknown => (flags[k] !== undefined ? flags[k] : file[k]);
  const uplinks = strings('uplinks', pick('uplinks') ?? []);
  if (uplinks.length === 0) bad('uplinks', 'at least one uplink device is needed (--uplink DEV)');
  if (new Set(uplinks).size !== uplinks.length) bad('uplinks', 'must be distinct');
  const gso = pick('gso') ?? 'segment';
  if (gso !== 'segment' && gso !== 'head') bad('gso', "must be 'segment' or 'head'");
  const prefixes = strings('prefixes', pick('prefixes') ?? []).map((p) => parsePrefix(p));
  const keys = new Set(prefixes.map((p) => Buffer.from(p.bytes).toString('hex')));
  if (keys.size !== prefixes.length) bad('prefixes', 'must be distinct');
  const hba = pick('hba') === undefined ? prefixes.length > 0 : bool('hba', pick('hba'));
  if (hba && prefixes.length === 0) bad('prefixes', 'HBA needs at least one /64 prefix (--prefix P)');
  const logLevel = pick('logLevel') ?? 'info';
  if (!LOG_LEVELS.includes(logLevel as LogLevel)) bad('logLevel', `must be one of ${LOG_LEVELS.join(', ')}`);
  const shimDev = str('shimDev', pick('shimDev') ?? 'shim6');
  if (shimDev.length > 14) bad('shimDev', 'at most 14 characters (the veth peer is <dev>p)');
  if (uplinks.includes(shimDev)) bad('shimDev', 'cannot also be an uplink');
  const apiMode = pick('apiMode') ?? 0o666;
  if (typeof apiMode !== 'number' || !Number.isInteger(apiMode) || apiMode < 0 || apiMode > 0o777) bad('apiMode', 'must be a file mode (e.g. 438 = 0o666, 432 = 0o660)');
  const apiGroup = pick('apiGroup');
  if (apiGroup !== undefined && !(typeof apiGroup === 'string' && apiGroup.length > 0) && !(typeof apiGroup === 'number' && Number.isInteger(apiGroup) && apiGroup >= 0)) bad('apiGroup', 'must be a group name or gid');
  const opt = (k: 'bpffs' | 'runDir' | 'apiSocket' | 'apiPath'): string | undefined => (pick(k) === undefined ? undefined : str(k, pick(k)));
  return Object.freeze({
    uplinks,
    shimDev,
    gso,
    prefixes,
    hba,
    configureAddresses: pick('configureAddresses') === undefined ? true : bool('configureAddresses', pick('configureAddresses')),
    shimRoutes: strings('shimRoutes', pick('shimRoutes') ?? ['2000::/3']).map(routePrefix),
    stateDir: str('stateDir', pick('stateDir') ?? '/var/lib/shim6'),
    bpffs: opt('bpffs'),
    runDir: opt('runDir'),
    apiSocket: opt('apiSocket'),
    apiPath: opt('apiPath'),
    apiMode,
    apiGroup: apiGroup as string | number | undefined,
    timers: timers(pick('timers')),
    logLevel: logLevel as LogLevel,
    teardownOnExit: pick('teardownOnExit') === undefined ? false : bool('teardownOnExit', pick('teardownOnExit')),
    reap: reap(file.reap, flags.reap),
    tcpRtoMaxMs: tcpRto(pick('tcpRtoMaxMs')),
    cgroup: pick('cgroup') === undefined ? undefined : str('cgroup', pick('cgroup')),
    metrics: metricsListen(pick('metrics')),
    dropPrivileges: pick('dropPrivileges') === undefined ? true : bool('dropPrivileges', pick('dropPrivileges')),
  });
}

export function readConfigFile(path: string): ConfigInput {
  let text: string;
  try {
    text = fs.readFileSync(path, 'utf8');
  } catch (err) {
    throw new Shim6Error('SHIM6_ERR_NOT_FOUND', `config file ${path}: ${(err as Error).message}`);
  }
  let v: unknown;
  try {
    v = JSON.parse(text);
  } catch (err) {
    throw new Shim6Error('SHIM6_ERR_USAGE', `config file ${path} is not valid JSON: ${(err as Error).message}`);
  }
  if (v === null || typeof v !== 'object' || Array.isArray(v)) throw new Shim6Error('SHIM6_ERR_USAGE', `config file ${path} must hold a JSON object`);
  return v as ConfigInput;
}
