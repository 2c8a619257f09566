#!/usr/bin/env node
// shim6d: the Shim6 agent (see agent.ts). Flags override the config file.
import { Command, CommanderError } from 'commander';
import { pino } from 'pino';
import { EXIT_CODES, Shim6Error } from '../errors.js';
import { Agent } from './agent.js';
import { native, packageVersion } from '../native.js';
import { isEntryPoint } from '../entry.js';
import { dropPrivileges, Notifier, setLogLevel, stepLevel } from './service.js';
import { readConfigFile, resolveConfig, type ConfigInput } from './config.js';

function collect(v: string, prev: string[] = []): string[] {
  return [...prev, ...v.split(',').map((s) => s.trim()).filter(Boolean)];
}

interface Flags {
  config?: string;
  uplink?: string[];
  shimDev?: string;
  gso?: string;
  prefix?: string[];
  hba?: boolean;
  configureAddresses?: boolean;
  shimRoute?: string[];
  stateDir?: string;
  runDir?: string;
  bpffs?: string;
  apiSocket?: string;
  apiPath?: string;
  logLevel?: string;
  teardownOnExit?: boolean;
  checkConfig?: boolean;
  sendTimeout?: string;
  hotStandby?: boolean;
  failback?: boolean;
  reapSample?: string;
  tcpRtoMax?: string;
  cgroup?: string;
  metrics?: string;
  dropPrivileges?: boolean;
}

export function buildProgram(): Command {
  return new Command('shim6d')
    .description('The Shim6 agent: establishes Shim6 contexts (RFC 5533) with peers, keeps locator lists current, and drives the BPF data plane.')
    .version(packageVersion())
    .option('-c, --config <file>', 'JSON configuration file (keys as in the README); flags override it')
    .option('-u, --uplink <dev>', 'uplink device, repeatable or comma-separated', collect)
    .option('--shim-dev <name>', 'shim device (veth pair <name>/<name>p)', undefined)
    .option('--gso <mode>', "how payload headers meet GSO: 'segment' (default) or 'head'")
    .option('-p, --prefix <prefix/64>', 'HBA prefix, repeatable, in Multi-Prefix order', collect)
    .option('--no-hba', 'do not generate an HBA set (contexts run on the ULIDs only)')
    .option('--no-configure-addresses', 'do not add the HBA addresses to the uplinks')
    .option('--shim-route <prefix>', 'destinations routed through the shim device (default 2000::/3)', collect)
    .option('--state-dir <dir>', 'persistent state: the HBA set (default /var/lib/shim6)')
    .option('--run-dir <dir>', 'runtime state root (default /run/shim6, env SHIM6_STATE_DIR)')
    .option('--bpffs <path>', 'bpffs mount (default /sys/fs/bpf, env SHIM6_BPFFS)')
    .option('--api-socket <path>', 'control socket for shim6ctl (default <run-dir>/<netns>/shim6d.sock)')
    .option('--api-path <path>', 'RFC 6316 API socket for applications, where libshim6 connects (default <run-dir>/<netns>/api.sock)')
    .option('--log-level <level>', 'trace, debug, info (default), warn, error, silent')
    .option('--send-timeout <ms>', 'REAP Send Timeout for every context (default 15000, RFC 5534)')
    .option('--hot-standby', 'REAP: keep an alternate locator pair verified in advance')
    .option('--no-failback', 'REAP: stay on the new pair after a failure instead of returning when the old one works again')
    .option('--reap-sample <ms>', 'how often data-plane counters are read for REAP (default 200)')
    .option('--tcp-rto-max <ms>', 'bound TCP\'s RTO on shimmed sockets during an outage (1000..120000, 0 = no bound; default 1000)')
    .option('--cgroup <path>', 'cgroup v2 for the TCP feedback program (default the root; none = leave TCP alone)')
    .option('--metrics <host:port>', 'serve Prometheus metrics on GET /metrics (e.g. 127.0.0.1:9640; off by default)')
    .option('--no-drop-privileges', 'keep every capability after setup (default: keep CAP_NET_ADMIN only, set no_new_privs)')
    .option('--teardown-on-exit', 'on SIGTERM remove contexts and the data plane (default: keep them for the next start)')
    .option('--check-config', 'validate the configuration, print it as JSON and exit')
    .addHelpText('after', `
Signals: SIGTERM/SIGINT stop cleanly (contexts and data plane are kept unless
--teardown-on-exit); SIGHUP re-reads addresses and routes; SIGUSR1 logs one
level more (toward trace), SIGUSR2 one level less (also: shim6ctl agent
log-level LEVEL); after a crash or kill -9 the next start restores the
contexts from <run-dir>/<netns>/contexts.json + contexts.journal and the
pinned maps.

systemd: with $NOTIFY_SOCKET set (Type=notify) it sends READY=1 once it
serves, RELOADING=1/READY=1 around SIGHUP, STOPPING=1 on the way out.

Example:
  shim6d --uplink eth0,eth1 --prefix 2001:db8:1:a::/64 --prefix 2001:db8:2:a::/64`)
    .showHelpAfterError()
    .exitOverride();
}

function num(v: string, what: string): number {
  const n = Number(v);
  if (!Number.isFinite(n)) throw new Shim6Error('SHIM6_ERR_USAGE', `${what}: not a number: '${v}'`);
  return n;
}

function reapFlags(f: Flags): Record<string, unknown> | undefined {
  const r: Record<string, unknown> = {};
  if (f.sendTimeout !== undefined) r.sendTimeoutMs = num(f.sendTimeout, '--send-timeout');
  if (f.hotStandby) r.hotStandby = true;
  if (f.failback === false) r.failback = false;
  if (f.reapSample !== undefined) r.sampleMs = num(f.reapSample, '--reap-sample');
  return Object.keys(r).length ? r : undefined;
}

export async function main(argv: string[]): Promise<number> {
  const program = buildProgram();
  try {
    program.parse(argv);
  } catch (err) {
    if (err instanceof CommanderError) return err.exitCode === 0 ? 0 : EXIT_CODES.SHIM6_ERR_USAGE;
    throw err;
  }
  const f = program.opts<Flags>();
  const flags: ConfigInput = {
    uplinks: f.uplink,
    shimDev: f.shimDev,
    gso: f.gso,
    prefixes: f.prefix,
    // commander sets negatable flags to true by default: only 'false' is an explicit flag.
    hba: f.hba === false ? false : undefined,
    configureAddresses: f.configureAddresses === false ? false : undefined,
    shimRoutes: f.shimRoute,
    stateDir: f.stateDir,
    runDir: f.runDir,
    bpffs: f.bpffs,
    apiSocket: f.apiSocket,
    apiPath: f.apiPath,
    logLevel: f.logLevel,
    teardownOnExit: f.teardownOnExit,
    reap: reapFlags(f),
    tcpRtoMaxMs: f.tcpRtoMax === undefined ? undefined : num(f.tcpRtoMax, '--tcp-rto-max'),
    cgroup: f.cgroup,
    metrics: f.metrics,
    dropPrivileges: f.dropPrivileges === false ? false : undefined,
  };
  const cfg = resolveConfig(f.config ? readConfigFile(f.config) : {}, flags);
  if (f.checkConfig) {
    process.stdout.write(JSON.stringify({ ...cfg, prefixes: cfg.prefixes.map((p) => p.text) }, null, 2) + '\n');
    return 0;
  }
  // Synchronous writes: a record is out before the next input is handled, and
  // nothing is lost on kill -9 (journald or a pipe reads stdout).
  const log = pino({ level: cfg.logLevel, base: { pid: process.pid, name: 'shim6d' } }, pino.destination({ dest: 1, sync: true }));
  const agent = new Agent(cfg, log);
  const notifier = new Notifier((s) => native().sdNotify(s), (err) => log.warn({ event: 'sd-notify-failed', err }, 'sd_notify failed'));
  let stopping = false;
  let ready = false; // READY=1 sent: from then on SIGHUP is a reload (before, resync has nothing to redo)
  const stop = (sig: string): void => {
    if (stopping) return;
    stopping = true;
    notifier.stopping(sig);
    agent.stop(sig).then(() => process.exit(0), (err) => {
      log.error({ err }, 'stop failed');
      process.exit(1);
    });
  };
  process.on('SIGTERM', () => stop('SIGTERM'));
  process.on('SIGINT', () => stop('SIGINT'));
  // SIGHUP: re-read the host's addresses and routes (a daemon's usual "look again").
  process.on('SIGHUP', () => {
    if (stopping || !ready) return;
    notifier.reloading();
    agent.resync().then(() => notifier.ready(serving(agent)), (err) => log.error({ err }, 'resync failed'));
  });
  // Log level at run time (this also keeps Node's inspector off SIGUSR1).
  const step = (dir: 'more' | 'less'): void => {
    const r = setLogLevel(log, stepLevel(log.level, dir));
    log[r.level === 'silent' ? 'fatal' : 'info']({ event: 'log-level', to: r.level, from: r.previous }, 'log level changed');
  };
  process.on('SIGUSR1', () => step('more'));
  process.on('SIGUSR2', () => step('less'));
  process.on('uncaughtException', (err) => {
    // A bug, not input: log it with the stack and keep serving (inputs are guarded).
    log.fatal({ err }, 'uncaught exception');
  });
  await agent.start();
  if (cfg.dropPrivileges) {
    try {
      const r = dropPrivileges(native());
      log.info({ event: 'privileges', ...r }, `kept ${r.kept.join(', ') || 'no capabilities'}; dropped ${r.dropped.length}`);
    } catch (err) {
      log.error({ event: 'privileges-failed', err }, 'could not drop privileges; running with those of the start');
    }
  }
  notifier.ready(serving(agent));
  ready = true;
  return -1; // keep running
}

function serving(agent: Agent): string {
  const byState = agent.host.contexts().reduce<Record<string, number>>((acc, s) => ({ ...acc, [s.state]: (acc[s.state] ?? 0) + 1 }), {});
  const ctx = Object.entries(byState).map(([k, v]) => `${v} ${k}`).join(', ') || 'no contexts';
  return `serving on ${agent.socketPath}: ${ctx}`;
}

const isMain = isEntryPoint(import.meta.url);
if (isMain) main(process.argv).then(
  (code) => {
    if (code >= 0) process.exit(code);
  },
  (err: unknown) => {
    const e = err as Shim6Error;
    process.stderr.write(`shim6d: ${e.message ?? String(err)}\n`);
    process.exit(e instanceof Shim6Error ? EXIT_CODES[e.code] : 70);
  },
);
