// The agent's Unix socket: newline-delimited JSON requests and replies.
//   → {"id": 1, "method": "contexts", "params": {...}}
//   ← {"id": 1, "result": ...}  or  {"id": 1, "error": {"code": "EINVAL", "message": "..."}}
// Error codes are errno names, so the C library (issue 5) maps them 1:1.
// A malformed line gets an error reply and the connection stays usable; a
// line over MAX_LINE closes the connection. Nothing a client sends can throw
// out of here.
import fs from 'node:fs';
import net from 'node:net';
import path from 'node:path';
import { Shim6Error, type Shim6ErrorCode } from '../errors.js';

export const MAX_LINE = 64 * 1024;

export type Handler = (params: Record<string, unknown>) => unknown;

export class ControlError extends Error {
  constructor(readonly errno: string, message: string) {
    super(message);
  }
}

const ERRNO_OF: Record<Shim6ErrorCode, string> = {
  SHIM6_ERR_USAGE: 'EINVAL',
  SHIM6_ERR_NOT_FOUND: 'ENOENT',
  SHIM6_ERR_EXISTS: 'EEXIST',
  SHIM6_ERR_NOT_UP: 'ENETDOWN',
  SHIM6_ERR_ABI: 'EPROTO',
  SHIM6_ERR_PERMISSION: 'EPERM',
  SHIM6_ERR_SYSTEM: 'EIO',
  SHIM6_ERR_NO_ADDON: 'ENOSYS',
};

function errorOf(err: unknown): { code: string; message: string } {
  if (err instanceof ControlError) return { code: err.errno, message: err.message };
  if (err instanceof Shim6Error) return { code: ERRNO_OF[err.code], message: err.message };
  return { code: 'EIO', message: (err as Error)?.message ?? String(err) };
}

export class ControlServer {
  readonly #server: net.Server;
  readonly #handlers = new Map<string, Handler>();
  readonly #conns = new Set<net.Socket>();

  constructor(
    readonly socketPath: string,
    private readonly onError: (err: Error) => void = () => {},
  ) {
    this.#server = net.createServer((c) => this.#accept(c));
  }

  handle(method: string, h: Handler): this {
    this.#handlers.set(method, h);
    return this;
  }

  async listen(): Promise<void> {
    fs.mkdirSync(path.dirname(this.socketPath), { recursive: true });
    // A socket file left by a killed agent: remove it only if nobody answers.
    if (fs.existsSync(this.socketPath)) {
      const alive = await new Promise<boolean>((resolve) => {
        const c = net.connect(this.socketPath, () => { c.destroy(); resolve(true); });
        c.on('error', () => resolve(false));
      });
      if (alive) throw new Shim6Error('SHIM6_ERR_EXISTS', `another shim6d answers on ${this.socketPath}`);
      fs.rmSync(this.socketPath, { force: true });
    }
    await new Promise<void>((resolve, reject) => {
      this.#server.once('error', reject);
      this.#server.listen(this.socketPath, () => {
        this.#server.off('error', reject);
        this.#server.on('error', (e) => this.onError(e));
        resolve();
      });
    });
    fs.chmodSync(this.socketPath, 0o660);
  }

  async close(): Promise<void> {
    for (const c of this.#conns) c.destroy();
    await new Promise<void>((resolve) => this.#server.close(() => resolve()));
    fs.rmSync(this.socketPath, { force: true });
  }

  #accept(c: net.Socket): void {
    this.#conns.add(c);
    let buf = '';
    let closed = false;
    const tooLong = (): void => {
      // Refuse and stop reading: nothing after an oversized line is served.
      closed = true;
      c.end(JSON.stringify({ id: null, error: { code: 'EMSGSIZE', message: `request longer than ${MAX_LINE} bytes` } }) + '\n');
      c.destroySoon?.();
      c.pause();
    };
    c.setEncoding('utf8');
    c.on('data', (chunk: string) => {
      if (closed) return;
      buf += chunk;
      for (let nl = buf.indexOf('\n'); nl >= 0; nl = buf.indexOf('\n')) {
        if (nl > MAX_LINE) return tooLong();
        const line = buf.slice(0, nl);
        buf = buf.slice(nl + 1);
        if (line.trim()) void this.#dispatch(c, line);
      }
      if (buf.length > MAX_LINE) tooLong();
    });
    c.on('error', () => {});
    c.on('close', () => this.#conns.delete(c));
  }

  async #dispatch(c: net.Socket, line: string): Promise<void> {
    let id: unknown = null;
    let reply: unknown;
    try {
      let req: unknown;
      try {
        req = JSON.parse(line);
      } catch {
        throw new ControlError('EINVAL', 'request is not valid JSON');
      }
      if (req === null || typeof req !== 'object' || Array.isArray(req)) throw new ControlError('EINVAL', 'request must be a JSON object');
      const r = req as { id?: unknown; method?: unknown; params?: unknown };
      id = typeof r.id === 'number' || typeof r.id === 'string' ? r.id : null;
      if (typeof r.method !== 'string') throw new ControlError('EINVAL', 'request needs a string "method"');
      const h = this.#handlers.get(r.method);
      if (!h) throw new ControlError('EOPNOTSUPP', `unknown method '${r.method}' (known: ${[...this.#handlers.keys()].join(', ')})`);
      const params = r.params ?? {};
      if (params === null || typeof params !== 'object' || Array.isArray(params)) throw new ControlError('EINVAL', '"params" must be an object');
      reply = { id, result: await h(params as Record<string, unknown>) };
    } catch (err) {
      reply = { id, error: errorOf(err) };
    }
    if (!c.destroyed) c.write(JSON.stringify(reply, (_k, v: unknown) => (typeof v === 'bigint' ? v.toString() : v)) + '\n');
  }
}

/** One request to an agent socket (shim6ctl, tests). */
export function controlRequest<T = unknown>(socketPath: string, method: string, params: Record<string, unknown> = {}, timeoutMs = 5000): Promise<T> {
  return new Promise<T>((resolve, reject) => {
    const c = net.connect(socketPath);
    let buf = '';
    const timer = setTimeout(() => {
      c.destroy();
      reject(new Shim6Error('SHIM6_ERR_SYSTEM', `shim6d did not answer '${method}' within ${timeoutMs} ms`));
    }, timeoutMs);
    c.setEncoding('utf8');
    c.on('connect', () => c.write(JSON.stringify({ id: 1, method, params }) + '\n'));
    c.on('data', (d: string) => {
      buf += d;
      const nl = buf.indexOf('\n');
      if (nl < 0) return;
      clearTimeout(timer);
      c.end();
      try {
        const r = JSON.parse(buf.slice(0, nl)) as { result?: T; error?: { code: string; message: string } };
        if (r.error) reject(Object.assign(new Shim6Error(r.error.code === 'ENOENT' ? 'SHIM6_ERR_NOT_FOUND' : r.error.code === 'EINVAL' ? 'SHIM6_ERR_USAGE' : 'SHIM6_ERR_SYSTEM', r.error.message), { errno: r.error.code }));
        else resolve(r.result as T);
      } catch (err) {
        reject(new Shim6Error('SHIM6_ERR_SYSTEM', `bad reply from shim6d: ${(err as Error).message}`));
      }
    });
    c.on('error', (err: NodeJS.ErrnoException) => {
      clearTimeout(timer);
      if (err.code === 'ENOENT' || err.code === 'ECONNREFUSED') {
        reject(new Shim6Error('SHIM6_ERR_NOT_UP', `shim6d is not running (nothing answers on ${socketPath})`));
      } else reject(new Shim6Error('SHIM6_ERR_SYSTEM', `${socketPath}: ${err.message}`));
    });
  });
}
