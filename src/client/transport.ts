// One request to the agent's API socket, the socket passed with SCM_RIGHTS
// (native apiRequest: Node cannot send file descriptors itself).
import fs from 'node:fs';
import { native } from '../native.js';
import { Attr, decodeFrame, encodeFrame, Flag, getU32, type Frame, type FrameAttr } from '../api/frame.js';
import { errnoName, SHIM6_API_SOCKET_DEFAULT } from '../api/shim-h.js';

export interface TransportOptions {
  /** API socket (default: env SHIM6_API_SOCKET, else /run/shim6/api.sock). */
  readonly path?: string;
  /** Reply timeout (default 5000 ms). */
  readonly timeoutMs?: number;
}

export interface Reply {
  /** 0 or an errno name ('EINVALIDLOCATOR', 'ENOENT', ...). */
  readonly errno: string | 0;
  readonly errnoNumber: number;
  readonly frame: Frame;
}

let seq = 0;

/** --path, else env SHIM6_API_SOCKET, else this network namespace's agent, else the default. */
export function apiPath(opts: TransportOptions = {}): string {
  if (opts.path) return opts.path;
  if (process.env.SHIM6_API_SOCKET) return process.env.SHIM6_API_SOCKET;
  try {
    const p = `/run/shim6/net-${fs.statSync('/proc/self/ns/net').ino}/api.sock`;
    if (fs.existsSync(p)) return p;
  } catch { /* no procfs */ }
  return SHIM6_API_SOCKET_DEFAULT;
}

/**
 * Send one request and wait for its reply. Rejects with a Node-style system
 * error (code, errno, syscall) when the agent cannot be reached, and with
 * code 'EBADMSG' on a reply that does not parse or does not match.
 */
export async function request(type: number, attrs: FrameAttr[], fds: number[], opts: TransportOptions = {}): Promise<Reply> {
  const s = (seq = (seq + 1) >>> 0);
  const out = encodeFrame({ type, flags: Flag.REQUEST, seq: s, attrs });
  const buf = await native().apiRequest(apiPath(opts), out, fds, opts.timeoutMs ?? 5000);
  const d = decodeFrame(buf);
  if (!d.ok || d.frame.seq !== s || d.frame.type !== type || !(d.frame.flags & Flag.REPLY)) {
    throw Object.assign(new Error(`shim6d sent a bad reply${d.ok ? '' : `: ${d.reason}`}`), { code: 'EBADMSG', syscall: 'recv' });
  }
  const e = getU32(d.frame, Attr.ERRNO);
  if (e === undefined || e === null) throw Object.assign(new Error('shim6d reply has no ERRNO'), { code: 'EBADMSG', syscall: 'recv' });
  return { errno: e === 0 ? 0 : errnoName(e), errnoNumber: e, frame: d.frame };
}
