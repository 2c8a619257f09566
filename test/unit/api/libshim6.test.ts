// libshim6 (build/libshim6.so, `make lib`) against the real API server with a
// fake backend: a C test program linked with -lshim6, the same program
// unmodified under LD_PRELOAD, and the RFC 6316 example code (typos
// corrected) compiled against <shim6/shim.h> and run.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { execFile } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { spawn } from 'node:child_process';
import readline from 'node:readline';
import { ApiServer } from '../../../src/api/server.js';
import { FakeBackend, type FakeCtx } from './fake-backend.js';
import { cc, BUILD, ROOT } from './cc.js';

const run = promisify(execFile);
const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'shim6-lib-'));
const apiPath = path.join(dir, 'api.sock');
const backend = new FakeBackend();
const server = new ApiServer({ backend, path: apiPath });
const LIB = path.join(BUILD, 'libshim6.so');
const SOCK_STREAM = 1;

// One context per TCP connection (as the agent keys contexts by ULID pair, all
// loopback TCP sockets would share one; fresh state per socket keeps the
// programs independent). UDP sockets have none.
const contexts = new Map<bigint, FakeCtx>();
backend.ctxFor = (sock) => {
  if (sock.type !== SOCK_STREAM) return null;
  let c = contexts.get(sock.cookie);
  if (!c) {
    c = backend.context({
      ulidLocal: '::1', ulidPeer: '::1',
      local: [{ addr: '::1' }, { addr: '2001:db8:1:a::1', prio: 1 }],
      peer: [{ addr: '::1', prio: 3 }, { addr: '2001:db8:1:b::1', prio: 1, weight: 10 }, { addr: '2001:db8:2:b::1', reach: 'unverified' }],
    });
    contexts.set(sock.cookie, c);
  }
  return c;
};

beforeAll(async () => {
  if (!fs.existsSync(LIB)) throw new Error(`${LIB} is not built: run 'make lib'`);
  await server.listen();
});
afterAll(async () => {
  await server.close();
  fs.rmSync(dir, { recursive: true, force: true });
});

async function exec(bin: string, env: Record<string, string> = {}): Promise<{ code: number; out: string }> {
  try {
    const r = await run(bin, [], { env: { ...process.env, SHIM6_API_SOCKET: apiPath, ...env } });
    return { code: 0, out: r.stdout };
  } catch (e) {
    const x = e as { code?: number; stdout?: string; stderr?: string };
    return { code: x.code ?? -1, out: `${x.stdout ?? ''}${x.stderr ?? ''}` };
  }
}

const src = (f: string) => path.join(ROOT, 'test/api', f);
const linked = ['-L', BUILD, '-lshim6', `-Wl,-rpath,${BUILD}`];

describe('libshim6', () => {
  it('serves SOL_SHIM to a program linked with -lshim6, and passes other levels to libc', async () => {
    const bin = cc('shim6_api_test', [src('shim6_api_test.c')], linked);
    const r = await exec(bin);
    expect(r.out).not.toMatch(/^not ok/m);
    expect(r.out).toMatch(/\d+ tests, 0 failures/);
    expect(r.code).toBe(0);
    expect(r.out.match(/^ok /gm)!.length).toBeGreaterThanOrEqual(30);
  });

  it('serves an unmodified program under LD_PRELOAD', async () => {
    const bin = cc('shim6_api_test_preload', [src('shim6_api_test.c')], ['-DPRELOADED']);
    const r = await exec(bin, { LD_PRELOAD: LIB });
    expect(r.out).not.toMatch(/^not ok/m);
    expect(r.out).toMatch(/\d+ tests, 0 failures/);
    expect(r.code).toBe(0);
  });

  it('without the library, SOL_SHIM is the kernel\'s unknown level', async () => {
    const bin = cc('shim6_api_test_bare', [src('shim6_api_test.c')], ['-DPRELOADED']);
    const r = await exec(bin);
    expect(r.out).toMatch(/^not ok \d+ - ASSOCIATED = 1/m);
    expect(r.code).toBeGreaterThan(0);
  });

  it('compiles and runs the RFC 6316 example code (typos corrected)', async () => {
    const bin = cc('rfc6316_examples', [src('rfc6316_examples.c')], linked);
    const r = await exec(bin);
    expect(r.out).not.toMatch(/^not ok/m);
    expect(r.out.match(/^ok /gm)!.length).toBe(13);
    expect(r.code).toBe(0);
  });
});

describe('libshim6: the shared API connection', () => {
  it('reuses one connection, stays right across threads and fork(), survives closefrom() and an agent restart', async () => {
    const connPath = path.join(dir, 'conn.sock');
    let srv = new ApiServer({ backend, path: connPath });
    await srv.listen();
    const bin = cc('shim6_conn_test', [src('shim6_conn_test.c')], [...linked, '-pthread']);
    const child = spawn(bin, [], { env: { ...process.env, SHIM6_API_SOCKET: connPath } });
    let out = '';
    child.stderr.on('data', (d) => { out += d; });
    const exited = new Promise<number>((r) => child.on('close', (code) => r(code ?? -1)));
    let connectionsAfterCalls = -1;
    for await (const line of readline.createInterface({ input: child.stdout })) {
      out += `${line}\n`;
      if (line === 'calls done') connectionsAfterCalls = srv.counters.connections;
      if (line === 'restart') {
        await srv.close();
        srv = new ApiServer({ backend, path: connPath });
        await srv.listen();
        child.stdin.write('go\n');
      }
    }
    const code = await exited;
    await srv.close();
    expect(out).not.toMatch(/^not ok/m);
    expect(out).toMatch(/\d+ tests, 0 failures/);
    expect(code).toBe(0);
    // 50 calls, one connection.
    expect(connectionsAfterCalls).toBe(1);
  });
});
