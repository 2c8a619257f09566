// The few iproute2/ethtool calls the data plane setup makes. (The agent
// watches addresses and routes over rtnetlink; setup is one-shot.)
import { execFileSync } from 'node:child_process';
import { Shim6Error } from '../errors.js';

export function run(cmd: string, args: string[], opts: { allowFail?: boolean } = {}): string {
  try {
    return execFileSync(cmd, args, { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
  } catch (err) {
    if (opts.allowFail) return '';
    const e = err as { stderr?: string; status?: number };
    throw new Shim6Error('SHIM6_ERR_SYSTEM', `${cmd} ${args.join(' ')}: ${(e.stderr ?? '').trim() || `exit ${e.status}`}`);
  }
}

/** Run many ip commands in one process (`ip [-6] -batch -`); `force` goes on
 * past failures. A batch line takes no options: `family: 6` applies `-6` to
 * every line (iproute2 reads "-6 route ..." in a batch as an unknown object). */
export function ipBatch(lines: string[], opts: { force?: boolean; family?: 6 } = {}): void {
  if (lines.length === 0) return;
  try {
    execFileSync('ip', [...(opts.family === 6 ? ['-6'] : []), ...(opts.force ? ['-force'] : []), '-batch', '-'], { input: lines.join('\n') + '\n', encoding: 'utf8', stdio: ['pipe', 'pipe', 'pipe'] });
  } catch (err) {
    const e = err as { stderr?: string; status?: number };
    throw new Shim6Error('SHIM6_ERR_SYSTEM', `ip -batch: ${(e.stderr ?? '').trim() || `exit ${e.status}`}`);
  }
}

export function ipJson<T>(args: string[]): T {
  const out = run('ip', ['-j', ...args]).trim();
  return (out ? JSON.parse(out) : []) as T;
}

export interface IpLink {
  ifindex: number;
  ifname: string;
  mtu: number;
  flags: string[];
  operstate?: string;
  link?: string;
}

export function linkShow(dev?: string): IpLink[] {
  return ipJson<IpLink[]>(['link', 'show', ...(dev ? ['dev', dev] : [])]);
}

export function linkExists(dev: string): boolean {
  try {
    linkShow(dev);
    return true;
  } catch {
    return false;
  }
}

interface IpAddrInfo { family: string; local: string; prefixlen: number; scope: string; deprecated?: boolean; tentative?: boolean }
interface IpAddr { ifname: string; ifindex: number; addr_info: IpAddrInfo[] }

/** Global IPv6 addresses of a device. */
export function globalAddrs(dev: string): string[] {
  const rows = ipJson<IpAddr[]>(['-6', 'addr', 'show', 'dev', dev]);
  return rows.flatMap((r) => r.addr_info).filter((a) => a.family === 'inet6' && a.scope === 'global').map((a) => a.local);
}

interface IpRoute { dst: string; gateway?: string; dev?: string; metric?: number; protocol?: string }

/** A device's IPv6 routes in the main table: its default gateway, if any,
 * and its on-link (connected) global prefixes. Empty for a link that is down. */
export function uplinkRoutes(dev: string): { gateway: string | undefined; onLink: string[] } {
  const rows = ipJson<IpRoute[]>(['-6', 'route', 'show', 'dev', dev]);
  return {
    gateway: rows.find((r) => r.dst === 'default' && r.gateway)?.gateway,
    onLink: rows.filter((r) => r.dst !== 'default' && !r.gateway && r.protocol === 'kernel' && !r.dst.startsWith('fe80:') && r.dst.includes('/')).map((r) => r.dst),
  };
}

/** The default gateway of a device, if it has one. */
export function defaultGateway(dev: string): string | undefined {
  const rows = ipJson<IpRoute[]>(['-6', 'route', 'show', 'default', 'dev', dev]);
  return rows.find((r) => r.gateway)?.gateway;
}

/** Is GRO on for dev (`ethtool -k`)? undefined when ethtool cannot say. */
export function groOn(dev: string): boolean | undefined {
  const m = /^generic-receive-offload:\s+(on|off)/m.exec(run('ethtool', ['-k', dev], { allowFail: true }));
  return m ? m[1] === 'on' : undefined;
}

export function setGro(dev: string, on: boolean): void {
  run('ethtool', ['-K', dev, 'gro', on ? 'on' : 'off'], { allowFail: true });
}
