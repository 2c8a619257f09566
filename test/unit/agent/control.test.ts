// The agent's control socket over a real Unix socket: replies, errno codes,
// malformed input that must not hurt the connection or the server, the line
// limit, socket-file takeover rules, and the client's errors.
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { afterAll, afterEach, beforeEach, describe, expect, it } from 'vitest';
import { ControlError, ControlServer, MAX_LINE, controlRequest } from '../../../src/agent/control.js';
import { Shim6Error } from '../../../src/errors.js';

const root = fs.mkdtempSync(path.join(os.tmpdir(), 'shim6-ctl-'));
afterAll(() => fs.rmSync(root, { recursive: true, force: true }));
let n = 0;
const sockPath = (): string => path.join(root, `s${++n}`, 'shim6d.sock');

type Reply = { id: unknown; result?: unknown; error?: { code: string; message: string } };

/** A raw client: write lines, read reply lines one at a time, see the close. */
class Client {
  readonly sock: net.Socket;
  readonly lines: string[] = [];
  readonly closed: Promise<void>;
  #waiters: Array<() => void> = [];
  #buf = '';

  constructor(p: string) {
    this.sock = net.connect(p);
    this.sock.setEncoding('utf8');
    this.sock.on('data', (d: string) => {
      this.#buf += d;
      for (let i = this.#buf.indexOf('\n'); i >= 0; i = this.#buf.indexOf('\n')) {
        this.lines.push(this.#buf.slice(0, i));
        this.#buf = this.#buf.slice(i + 1);
      }
      for (const w of this.#waiters.splice(0)) w();
    });
    this.sock.on('error', () => {});
    this.closed = new Promise((r) => this.sock.on('close', () => {
      r();
      for (const w of this.#waiters.splice(0)) w();
    }));
  }

  send(text: string): void {
    this.sock.write(text);
  }

  /** The next reply line (in arrival order). */
  async next(): Promise<Reply> {
    while (this.lines.length === 0) {
      if (this.sock.destroyed) throw new Error('connection closed without a reply');
      await new Promise<void>((r) => this.#waiters.push(r));
    }
    return JSON.parse(this.lines.shift()!) as Reply;
  }

  /** Send one request line and wait for its reply. */
  async call(req: unknown): Promise<Reply> {
    this.send((typeof req === 'string' ? req : JSON.stringify(req)) + '\n');
    return this.next();
  }

  end(): void {
    this.sock.destroy();
  }
}

describe('ControlServer', () => {
  let srv: ControlServer;
  let p: string;
  const clients: Client[] = [];
  const client = (): Client => {
    const c = new Client(p);
    clients.push(c);
    return c;
  };

  beforeEach(async () => {
    p = sockPath();
    srv = new ControlServer(p);
    srv
      .handle('echo', (params) => ({ got: params }))
      .handle('async', async (params) => {
        await new Promise((r) => setTimeout(r, 5));
        return { later: params.x ?? null };
      })
      .handle('big', () => ({ tag: 0x7fff_ffff_ffffn, list: [1n, 2n], nested: { n: 2n ** 64n } }))
      .handle('shim6-error', (params) => {
        throw new Shim6Error(params.code as never, 'from the handler');
      })
      .handle('control-error', () => {
        throw new ControlError('EBUSY', 'busy now');
      })
      .handle('plain-error', () => {
        throw new TypeError('a bug');
      })
      .handle('throws-nothing-useful', () => {
        throw 'a string'; // eslint-disable-line no-throw-literal
      })
      .handle('rejects', async () => {
        throw new Shim6Error('SHIM6_ERR_EXISTS', 'already');
      })
      .handle('undefined', () => undefined);
    await srv.listen();
  });

  afterEach(async () => {
    for (const c of clients.splice(0)) c.end();
    await srv.close();
  });

  it('answers a request with its id and result', async () => {
    const c = client();
    expect(await c.call({ id: 7, method: 'echo', params: { a: 1, b: 'x' } })).toEqual({ id: 7, result: { got: { a: 1, b: 'x' } } });
    expect(await c.call({ id: 'str', method: 'async', params: { x: 3 } })).toEqual({ id: 'str', result: { later: 3 } });
  });

  it('defaults params to {} (absent or null) and ids to null', async () => {
    const c = client();
    expect(await c.call({ method: 'echo' })).toEqual({ id: null, result: { got: {} } });
    expect(await c.call({ id: 1, method: 'echo', params: null })).toEqual({ id: 1, result: { got: {} } });
    expect(await c.call({ id: { x: 1 }, method: 'echo' })).toEqual({ id: null, result: { got: {} } });
  });

  it('serialises bigints in results as decimal strings', async () => {
    const r = await client().call({ id: 2, method: 'big' });
    expect(r.result).toEqual({ tag: String(0x7fff_ffff_ffffn), list: ['1', '2'], nested: { n: '18446744073709551616' } });
  });

  it('answers a handler returning undefined', async () => {
    const r = await client().call({ id: 3, method: 'undefined' });
    expect(r.id).toBe(3);
    expect(r.error).toBeUndefined();
  });

  it('refuses an unknown method with EOPNOTSUPP, naming the known ones', async () => {
    const r = await client().call({ id: 4, method: 'nosuch' });
    expect(r.id).toBe(4);
    expect(r.error?.code).toBe('EOPNOTSUPP');
    expect(r.error?.message).toContain("'nosuch'");
    expect(r.error?.message).toContain('echo');
  });

  it('answers a line that is not JSON with EINVAL and keeps the connection', async () => {
    const c = client();
    expect(await c.call('{"id": 1, "method": ')).toMatchObject({ id: null, error: { code: 'EINVAL', message: expect.stringMatching(/not valid JSON/) } });
    expect(await c.call('hello')).toMatchObject({ error: { code: 'EINVAL' } });
    expect(await c.call({ id: 5, method: 'echo', params: { still: 'here' } })).toEqual({ id: 5, result: { got: { still: 'here' } } });
  });

  it.each([
    ['an array', '[1, 2]'],
    ['a string', '"status"'],
    ['a number', '42'],
    ['null', 'null'],
  ])('refuses a request that is %s with EINVAL', async (_w, line) => {
    const c = client();
    expect(await c.call(line)).toMatchObject({ id: null, error: { code: 'EINVAL', message: expect.stringMatching(/JSON object/) } });
    expect((await c.call({ id: 1, method: 'echo' })).result).toEqual({ got: {} });
  });

  it.each([
    ['missing', { id: 1 }],
    ['a number', { id: 1, method: 5 }],
    ['null', { id: 1, method: null }],
  ])('refuses a method that is %s with EINVAL (the id is kept)', async (_w, req) => {
    expect(await client().call(req)).toMatchObject({ id: 1, error: { code: 'EINVAL', message: expect.stringMatching(/"method"/) } });
  });

  it.each([
    ['a list', [1]],
    ['a string', 'ct=1'],
    ['a number', 1],
    ['true', true],
  ])('refuses params that are %s with EINVAL', async (_w, params) => {
    const c = client();
    expect(await c.call({ id: 9, method: 'echo', params })).toMatchObject({ id: 9, error: { code: 'EINVAL', message: expect.stringMatching(/"params"/) } });
    expect((await c.call({ id: 10, method: 'echo' })).id).toBe(10);
  });

  it('ignores blank lines and handles several requests in one write and one request over several writes', async () => {
    const c = client();
    c.send('\n  \n' + JSON.stringify({ id: 1, method: 'echo' }) + '\n' + JSON.stringify({ id: 2, method: 'echo' }) + '\n');
    const ids = [(await c.next()).id, (await c.next()).id];
    expect(ids).toEqual([1, 2]);
    const line = JSON.stringify({ id: 3, method: 'echo', params: { s: 'split' } });
    c.send(line.slice(0, 10));
    await new Promise((r) => setTimeout(r, 20));
    c.send(line.slice(10) + '\n');
    expect(await c.next()).toEqual({ id: 3, result: { got: { s: 'split' } } });
  });

  it('maps each Shim6Error code to its errno', async () => {
    const want: Record<string, string> = {
      SHIM6_ERR_USAGE: 'EINVAL',
      SHIM6_ERR_NOT_FOUND: 'ENOENT',
      SHIM6_ERR_EXISTS: 'EEXIST',
      SHIM6_ERR_NOT_UP: 'ENETDOWN',
      SHIM6_ERR_ABI: 'EPROTO',
      SHIM6_ERR_PERMISSION: 'EPERM',
      SHIM6_ERR_SYSTEM: 'EIO',
      SHIM6_ERR_NO_ADDON: 'ENOSYS',
    };
    const c = client();
    for (const [code, errno] of Object.entries(want)) {
      expect(await c.call({ id: code, method: 'shim6-error', params: { code } })).toEqual({ id: code, error: { code: errno, message: 'from the handler' } });
    }
  });

  it('passes a ControlError errno through, and maps other throws and rejections', async () => {
    const c = client();
    expect((await c.call({ id: 1, method: 'control-error' })).error).toEqual({ code: 'EBUSY', message: 'busy now' });
    expect((await c.call({ id: 2, method: 'plain-error' })).error).toEqual({ code: 'EIO', message: 'a bug' });
    expect((await c.call({ id: 3, method: 'throws-nothing-useful' })).error).toEqual({ code: 'EIO', message: 'a string' });
    expect((await c.call({ id: 4, method: 'rejects' })).error).toEqual({ code: 'EEXIST', message: 'already' });
    // The server is still fine.
    expect((await c.call({ id: 5, method: 'echo' })).result).toEqual({ got: {} });
  });

  it('closes with EMSGSIZE when a line grows past MAX_LINE without a newline', async () => {
    const c = client();
    c.send('{"id": 1, "method": "echo", "params": {"pad": "' + 'x'.repeat(MAX_LINE + 10));
    const r = await c.next();
    expect(r).toMatchObject({ id: null, error: { code: 'EMSGSIZE' } });
    await c.closed;
    // Other connections are not affected.
    expect((await client().call({ id: 2, method: 'echo' })).id).toBe(2);
  });

  // Known gap (report): the limit is checked on what is left in the buffer
  // after complete lines are dispatched, so a line longer than MAX_LINE whose
  // newline arrives in the chunk that crosses the limit is parsed and served.
  it('closes with EMSGSIZE for a complete line longer than MAX_LINE', async () => {
    const c = client();
    const r = await c.call(JSON.stringify({ id: 1, method: 'echo', params: { pad: 'x'.repeat(MAX_LINE + 10) } }));
    expect(r.error?.code).toBe('EMSGSIZE');
  });

  // Known gap (report): after the EMSGSIZE reply the server only half-closes
  // (end) and keeps dispatching what a half-open client sends afterwards.
  it('serves nothing more on a connection it closed with EMSGSIZE', async () => {
    let called = 0;
    srv.handle('side-effect', () => ++called);
    const c = new net.Socket({ allowHalfOpen: true });
    c.on('error', () => {});
    await new Promise<void>((r) => c.connect(p, r));
    try {
      c.write('x'.repeat(MAX_LINE + 100));
      await new Promise((r) => setTimeout(r, 50));
      c.write('\n' + JSON.stringify({ id: 2, method: 'side-effect' }) + '\n');
      await new Promise((r) => setTimeout(r, 100));
      expect(called).toBe(0);
    } finally {
      c.destroy();
    }
  });

  it('answers pipelined requests of one connection, each with its own id', async () => {
    const c = client();
    for (let i = 0; i < 20; i++) c.send(JSON.stringify({ id: i, method: i % 2 ? 'async' : 'echo', params: { x: i } }) + '\n');
    const ids: unknown[] = [];
    for (let i = 0; i < 20; i++) ids.push((await c.next()).id);
    expect([...ids].sort((a, b) => Number(a) - Number(b))).toEqual([...Array(20).keys()]);
  });

  it('survives a client that goes away before its reply', async () => {
    const c = client();
    c.send(JSON.stringify({ id: 1, method: 'async' }) + '\n');
    c.end();
    await new Promise((r) => setTimeout(r, 20));
    expect((await client().call({ id: 2, method: 'echo' })).id).toBe(2);
  });

  it('makes the socket group-accessible only (0660)', () => {
    expect(fs.statSync(p).mode & 0o777).toBe(0o660);
    expect(fs.statSync(p).isSocket()).toBe(true);
  });

  it('works with controlRequest', async () => {
    expect(await controlRequest(p, 'echo', { k: 'v' })).toEqual({ got: { k: 'v' } });
    expect(await controlRequest(p, 'big')).toMatchObject({ tag: String(0x7fff_ffff_ffffn) });
  });

  it('controlRequest maps error replies: ENOENT, EINVAL, others (errno kept)', async () => {
    await expect(controlRequest(p, 'shim6-error', { code: 'SHIM6_ERR_NOT_FOUND' })).rejects.toMatchObject({ code: 'SHIM6_ERR_NOT_FOUND', errno: 'ENOENT', message: 'from the handler' });
    await expect(controlRequest(p, 'shim6-error', { code: 'SHIM6_ERR_USAGE' })).rejects.toMatchObject({ code: 'SHIM6_ERR_USAGE', errno: 'EINVAL' });
    await expect(controlRequest(p, 'nosuch')).rejects.toMatchObject({ code: 'SHIM6_ERR_SYSTEM', errno: 'EOPNOTSUPP' });
    await expect(controlRequest(p, 'control-error')).rejects.toBeInstanceOf(Shim6Error);
  });
});

describe('ControlServer: the socket file', () => {
  it('creates the directory, and close() removes the socket and drops connections', async () => {
    const p = sockPath();
    const srv = new ControlServer(p).handle('x', () => 1);
    await srv.listen();
    expect(fs.existsSync(p)).toBe(true);
    const c = new Client(p);
    expect(await c.call({ id: 1, method: 'x' })).toEqual({ id: 1, result: 1 });
    await srv.close();
    await c.closed;
    expect(fs.existsSync(p)).toBe(false);
  });

  it('replaces a stale socket file left by a killed process', async () => {
    const p = sockPath();
    fs.mkdirSync(path.dirname(p), { recursive: true });
    // A listener killed with SIGKILL leaves its socket file behind.
    const child = spawn(process.execPath, ['-e', `require('net').createServer().listen(${JSON.stringify(p)}, () => process.kill(process.pid, 'SIGKILL'))`]);
    await new Promise((r) => child.on('exit', r));
    expect(fs.statSync(p).isSocket()).toBe(true);
    await expect(controlRequest(p, 'x')).rejects.toMatchObject({ code: 'SHIM6_ERR_NOT_UP' });
    const srv = new ControlServer(p).handle('x', () => 'mine');
    await srv.listen();
    try {
      expect(await controlRequest(p, 'x')).toBe('mine');
    } finally {
      await srv.close();
    }
  });

  it('replaces a leftover regular file at the path', async () => {
    const p = sockPath();
    fs.mkdirSync(path.dirname(p), { recursive: true });
    fs.writeFileSync(p, 'junk');
    const srv = new ControlServer(p).handle('x', () => 'ok');
    await srv.listen();
    try {
      expect(await controlRequest(p, 'x')).toBe('ok');
    } finally {
      await srv.close();
    }
  });

  it('refuses to take over a socket another server answers on', async () => {
    const p = sockPath();
    const first = new ControlServer(p).handle('who', () => 'first');
    await first.listen();
    try {
      const second = new ControlServer(p).handle('who', () => 'second');
      await expect(second.listen()).rejects.toMatchObject({ code: 'SHIM6_ERR_EXISTS', message: expect.stringContaining(p) });
      expect(await controlRequest(p, 'who')).toBe('first');
    } finally {
      await first.close();
    }
  });
});

describe('controlRequest without an agent', () => {
  it('no socket file: SHIM6_ERR_NOT_UP naming the path', async () => {
    const p = path.join(root, 'nobody', 'shim6d.sock');
    await expect(controlRequest(p, 'status')).rejects.toMatchObject({ code: 'SHIM6_ERR_NOT_UP', message: expect.stringContaining(p) });
  });

  it('an agent that never answers: SHIM6_ERR_SYSTEM after the timeout', async () => {
    const p = sockPath();
    const srv = new ControlServer(p).handle('hang', () => new Promise(() => {}));
    await srv.listen();
    try {
      const t0 = Date.now();
      await expect(controlRequest(p, 'hang', {}, 100)).rejects.toMatchObject({ code: 'SHIM6_ERR_SYSTEM', message: expect.stringMatching(/did not answer 'hang' within 100 ms/) });
      expect(Date.now() - t0).toBeGreaterThanOrEqual(90);
    } finally {
      await srv.close();
    }
  });

  it('a reply that is not JSON: SHIM6_ERR_SYSTEM', async () => {
    const p = sockPath();
    fs.mkdirSync(path.dirname(p), { recursive: true });
    const raw = net.createServer((c) => {
      c.resume(); // read the request (and the client's end)
      c.end('garbage\n');
    });
    await new Promise<void>((r) => raw.listen(p, r));
    try {
      await expect(controlRequest(p, 'status')).rejects.toMatchObject({ code: 'SHIM6_ERR_SYSTEM', message: expect.stringMatching(/bad reply/) });
    } finally {
      await new Promise((r) => raw.close(r));
    }
  });
});
