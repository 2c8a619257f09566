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

// ---- a connection that stays open (SUBSCRIBE) ----------------------------------

/** native ApiListener.Connection (native/src/api.cc). */
interface NativeConnection {
  send(data: Buffer, fds?: number[]): number;
  close(): void;
  ref(): void;
  unref(): void;
  fd(): number;
}
interface NativeConnectionMessage {
  data?: Buffer;
  truncated?: boolean;
  closed?: boolean;
  error?: string;
}
type NativeConnectionCtor = new (path: string, onMessage: (m: NativeConnectionMessage) => void) => NativeConnection;

function connectionClass(): NativeConnectionCtor {
  const C = (native().ApiListener as unknown as { Connection?: NativeConnectionCtor }).Connection;
  if (!C) throw Object.assign(new Error('the native addon has no ApiListener.Connection: rebuild it (make addon)'), { code: 'ENOSYS' });
  return C;
}

/**
 * One API connection kept open: requests matched to replies by seq, and
 * frames the agent sends on its own (F_MULTI: EVENT) handed to onMulti.
 */
export class ApiConnection {
  readonly path: string;
  readonly #conn: NativeConnection;
  readonly #pending = new Map<number, { resolve: (r: Reply) => void; reject: (e: Error) => void; timer: NodeJS.Timeout }>();
  #closed = false;
  /** Agent-initiated frames (EVENT). */
  onMulti: ((f: Frame) => void) | null = null;
  /** The agent ended the connection (not called after close()). */
  onEnd: ((err?: Error) => void) | null = null;

  /** Connect now; throws a Node-style system error (ENOENT, ECONNREFUSED, ...) when nothing answers. */
  constructor(opts: TransportOptions = {}) {
    this.path = apiPath(opts);
    const C = connectionClass();
    this.#conn = new C(this.path, (m) => this.#onMessage(m));
  }

  get closed(): boolean {
    return this.#closed;
  }

  /** The connection's descriptor (-1 once closed). */
  fd(): number {
    return this.#closed ? -1 : this.#conn.fd();
  }

  /** Send one request (fds passed with SCM_RIGHTS; they may be closed once this returns) and await its reply. */
  request(type: number, attrs: FrameAttr[], fds: number[], timeoutMs = 5000): Promise<Reply> {
    if (this.#closed) return Promise.reject(Object.assign(new Error('API connection closed'), { code: 'ENOTCONN', syscall: 'send' }));
    const s = (seq = (seq + 1) >>> 0);
    const out = encodeFrame({ type, flags: Flag.REQUEST, seq: s, attrs });
    return new Promise<Reply>((resolve, reject) => {
      const timer = setTimeout(() => {
        this.#pending.delete(s);
        reject(Object.assign(new Error('shim6d did not answer'), { code: 'ETIMEDOUT', syscall: 'recv' }));
      }, timeoutMs);
      this.#pending.set(s, { resolve, reject, timer });
      try {
        this.#conn.send(out, fds);
      } catch (err) {
        clearTimeout(timer);
        this.#pending.delete(s);
        reject(err as Error);
      }
    }).then((r) => {
      if (r.frame.type !== type) throw Object.assign(new Error('shim6d sent a bad reply'), { code: 'EBADMSG', syscall: 'recv' });
      return r;
    });
  }

  /** Keep the event loop alive while open (the default), or not. */
  ref(keep = true): void {
    if (!this.#closed) (keep ? this.#conn.ref() : this.#conn.unref());
  }

  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    this.#conn.close();
    this.#failPending(Object.assign(new Error('API connection closed'), { code: 'ECONNABORTED', syscall: 'recv' }));
  }

  #failPending(err: Error): void {
    for (const p of this.#pending.values()) {
      clearTimeout(p.timer);
      p.reject(err);
    }
    this.#pending.clear();
  }

  #onMessage(m: NativeConnectionMessage): void {
    if (m.closed) {
      if (this.#closed) return;
      this.#closed = true;
      const err = Object.assign(new Error(`shim6d closed the API connection${m.error ? ` (${m.error})` : ''}`), { code: m.error ?? 'ECONNRESET', syscall: 'recv' });
      this.#failPending(err);
      this.onEnd?.(m.error ? err : undefined);
      return;
    }
    const d = decodeFrame(m.data ?? new Uint8Array(0));
    if (!d.ok) return; // nothing sane to do with it; the agent never sends one
    const f = d.frame;
    if (f.flags & Flag.REPLY) {
      const p = this.#pending.get(f.seq);
      if (!p) return;
      this.#pending.delete(f.seq);
      clearTimeout(p.timer);
      const e = getU32(f, Attr.ERRNO);
      if (e === undefined || e === null) {
        p.reject(Object.assign(new Error('shim6d reply has no ERRNO'), { code: 'EBADMSG', syscall: 'recv' }));
        return;
      }
      p.resolve({ errno: e === 0 ? 0 : errnoName(e), errnoNumber: e, frame: f });
      return;
    }
    if (f.flags & Flag.MULTI) this.onMulti?.(f);
  }
}
