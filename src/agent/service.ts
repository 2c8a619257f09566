// What shim6d does as a service, apart from Shim6: tell systemd how it is
// (sd_notify, Type=notify), give up the privileges setup needed and running
// does not, and change its log level while it runs.
import type { Logger } from 'pino';
import type { Shim6Native } from '../native.js';
import type { LogLevel } from './config.js';

// ---------------------------------------------------------------- sd_notify

/** sd_notify(3) messages. Does nothing without $NOTIFY_SOCKET; a failed send is logged, never fatal. */
export class Notifier {
  constructor(
    private readonly send: (state: string) => boolean,
    private readonly onError: (err: Error) => void = () => {},
  ) {}

  #notify(lines: Record<string, string | number>): boolean {
    const text = Object.entries(lines).map(([k, v]) => `${k}=${v}`).join('\n');
    try {
      return this.send(text);
    } catch (err) {
      this.onError(err as Error);
      return false;
    }
  }

  /** Serving: the API and control sockets exist, the data plane is up. */
  ready(status: string): boolean {
    return this.#notify({ READY: 1, STATUS: status, MAINPID: process.pid });
  }

  status(status: string): boolean {
    return this.#notify({ STATUS: status });
  }

  /** SIGHUP resync begins (systemd ≥ 253 wants the monotonic time with it). */
  reloading(): boolean {
    return this.#notify({ RELOADING: 1, STATUS: 'reloading: re-reading addresses and routes', MONOTONIC_USEC: monotonicUsec() });
  }

  stopping(reason: string): boolean {
    return this.#notify({ STOPPING: 1, STATUS: `stopping (${reason})` });
  }
}

function monotonicUsec(): string {
  return (process.hrtime.bigint() / 1000n).toString();
}

// ------------------------------------------------------------- privileges

/** Linux capability numbers (linux/capability.h), for names in logs. */
export const CAPS: readonly string[] = [
  'CAP_CHOWN', 'CAP_DAC_OVERRIDE', 'CAP_DAC_READ_SEARCH', 'CAP_FOWNER', 'CAP_FSETID', 'CAP_KILL', 'CAP_SETGID', 'CAP_SETUID',
  'CAP_SETPCAP', 'CAP_LINUX_IMMUTABLE', 'CAP_NET_BIND_SERVICE', 'CAP_NET_BROADCAST', 'CAP_NET_ADMIN', 'CAP_NET_RAW', 'CAP_IPC_LOCK',
  'CAP_IPC_OWNER', 'CAP_SYS_MODULE', 'CAP_SYS_RAWIO', 'CAP_SYS_CHROOT', 'CAP_SYS_PTRACE', 'CAP_SYS_PACCT', 'CAP_SYS_ADMIN',
  'CAP_SYS_BOOT', 'CAP_SYS_NICE', 'CAP_SYS_RESOURCE', 'CAP_SYS_TIME', 'CAP_SYS_TTY_CONFIG', 'CAP_MKNOD', 'CAP_LEASE',
  'CAP_AUDIT_WRITE', 'CAP_AUDIT_CONTROL', 'CAP_SETFCAP', 'CAP_MAC_OVERRIDE', 'CAP_MAC_ADMIN', 'CAP_SYSLOG', 'CAP_WAKE_ALARM',
  'CAP_BLOCK_SUSPEND', 'CAP_AUDIT_READ', 'CAP_PERFMON', 'CAP_BPF', 'CAP_CHECKPOINT_RESTORE',
];

/**
 * What the agent needs once it is serving. CAP_NET_ADMIN only: addresses
 * and routes over rtnetlink and `ip -batch` (uplink tables and rules on
 * every address change and SIGHUP; peer ULID routes and anchors), and
 * --teardown-on-exit (tc detach, the shim device). Not needed any more:
 * CAP_BPF and CAP_PERFMON (programs are loaded; maps are read and written
 * through fds already open, the ring buffer is mapped), CAP_NET_RAW (the
 * raw sockets are open), CAP_SYS_ADMIN (bpffs and cgroup2 are mounted),
 * CAP_CHOWN (the API socket has its group). A restart is a new process
 * with the unit's capabilities, so it can load and attach again.
 */
export const RUNTIME_CAPS: readonly string[] = ['CAP_NET_ADMIN'];

export function capMask(names: readonly string[]): bigint {
  let m = 0n;
  for (const n of names) {
    const i = CAPS.indexOf(n);
    if (i < 0) throw new Error(`unknown capability ${n}`);
    m |= 1n << BigInt(i);
  }
  return m;
}

export function capNames(mask: bigint): string[] {
  const out: string[] = [];
  for (let i = 0; i < 64; i++) if ((mask >> BigInt(i)) & 1n) out.push(CAPS[i] ?? `cap_${i}`);
  return out;
}

export interface DropResult {
  kept: string[];
  dropped: string[];
  noNewPrivs: boolean;
  boundingCleared: boolean;
  /** Threads that block every signal (Node's inspector thread) and kept their sets. */
  unreachableThreads: number;
}

/** Keep RUNTIME_CAPS (those held), drop the rest on every thread, set no_new_privs. */
export function dropPrivileges(n: Pick<Shim6Native, 'capGet' | 'dropPrivileges'>, keep: readonly string[] = RUNTIME_CAPS): DropResult {
  const before = n.capGet();
  const r = n.dropPrivileges(capMask(keep));
  const after = n.capGet();
  const all = (1n << BigInt(before.lastCap + 1)) - 1n;
  return {
    kept: capNames(r.effective),
    dropped: capNames((before.effective | before.permitted) & ~after.permitted),
    noNewPrivs: after.noNewPrivs,
    boundingCleared: (after.bounding & ~capMask(keep) & all) === 0n,
    unreachableThreads: r.unreachable.length,
  };
}

// --------------------------------------------------------------- log level

export const RUNTIME_LOG_LEVELS: readonly LogLevel[] = ['trace', 'debug', 'info', 'warn', 'error', 'fatal', 'silent'];

/** SIGUSR1 one step more verbose (toward trace), SIGUSR2 one step less (toward error). */
export function stepLevel(level: string, dir: 'more' | 'less'): LogLevel {
  const steps: LogLevel[] = ['trace', 'debug', 'info', 'warn', 'error'];
  const i = steps.indexOf(level as LogLevel);
  if (i < 0) return 'error';
  return steps[Math.max(0, Math.min(steps.length - 1, i + (dir === 'more' ? -1 : 1)))];
}

/** Change the level of the agent's root logger; returns the previous one. */
export function setLogLevel(log: Logger, level: string): { level: LogLevel; previous: LogLevel } {
  if (!RUNTIME_LOG_LEVELS.includes(level as LogLevel)) throw new RangeError(`log level must be one of ${RUNTIME_LOG_LEVELS.join(', ')}`);
  const previous = log.level as LogLevel;
  log.level = level;
  return { level: level as LogLevel, previous };
}
