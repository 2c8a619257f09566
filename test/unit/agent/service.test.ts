// shim6d as a service: sd_notify messages (through the addon, to a real
// datagram listener, path and abstract), capability names and masks, the
// privilege drop's report, and the log-level steps of SIGUSR1/SIGUSR2.
import { spawn, spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { pino } from 'pino';
import { afterAll, describe, expect, it } from 'vitest';
import { capMask, capNames, dropPrivileges, Notifier, RUNTIME_CAPS, setLogLevel, stepLevel } from '../../../src/agent/service.js';
import { native } from '../../../src/native.js';
import { until } from '../../../src/lab/wait.js';

const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'shim6-service-'));
afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

/** A unix datagram listener (Node has none): python3, one JSON line per datagram. */
function listen(addr: string): { lines: string[]; ready: Promise<void>; stop: () => void } {
  const py = `import socket, sys, json
s = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
a = sys.argv[1]
s.bind(("\\0" + a[1:]) if a.startswith("@") else a)
print(json.dumps({"listening": True}), flush=True)
while True:
    print(json.dumps({"msg": s.recv(65536).decode()}), flush=True)
`;
  const child = spawn('python3', ['-u', '-c', py, addr], { stdio: ['ignore', 'pipe', 'inherit'] });
  const lines: string[] = [];
  let buf = '';
  let ok!: () => void;
  const ready = new Promise<void>((r) => { ok = r; });
  child.stdout.on('data', (d: Buffer) => {
    buf += d.toString();
    for (let i = buf.indexOf('\n'); i >= 0; i = buf.indexOf('\n')) {
      const j = JSON.parse(buf.slice(0, i)) as { listening?: boolean; msg?: string };
      buf = buf.slice(i + 1);
      if (j.listening) ok(); else lines.push(j.msg!);
    }
  });
  return { lines, ready, stop: () => child.kill() };
}

/** sdNotify in a child process (NOTIFY_SOCKET is read from the environment). */
function notifyFrom(env: string | undefined, state: string): { status: number | null; out: string; err: string } {
  const r = spawnSync(process.execPath, ['-e', `const n = require(${JSON.stringify(path.resolve('build/shim6.node'))});
    try { process.stdout.write(String(n.sdNotify(process.argv[1]))); } catch (e) { process.stdout.write(e.code + ' ' + e.syscall); }`, state],
  { encoding: 'utf8', env: { ...process.env, NOTIFY_SOCKET: env ?? '' } });
  return { status: r.status, out: r.stdout, err: r.stderr };
}

describe('sdNotify (addon)', () => {
  it.each([
    ['a path', () => path.join(dir, 'notify.sock')],
    ['an abstract name', () => `@shim6-test-notify-${process.pid}-${Date.now()}`],
  ])('delivers one datagram to %s', async (_what, addrOf) => {
    const addr = addrOf();
    const l = listen(addr);
    try {
      await l.ready;
      expect(notifyFrom(addr, 'READY=1\nSTATUS=serving').out).toBe('true');
      await until('the datagram', () => l.lines.length > 0, 5000);
      expect(l.lines).toEqual(['READY=1\nSTATUS=serving']);
    } finally {
      l.stop();
    }
  });

  it('returns false without NOTIFY_SOCKET and fails like Node when nobody listens', () => {
    expect(notifyFrom(undefined, 'READY=1').out).toBe('false');
    expect(notifyFrom(path.join(dir, 'nobody.sock'), 'READY=1').out).toBe('ENOENT sendto');
    expect(notifyFrom('relative', 'READY=1').out).toBe('EAFNOSUPPORT sd_notify');
    expect(() => native().sdNotify(1 as unknown as string)).toThrow(TypeError);
  });
});

describe('Notifier', () => {
  it('sends systemd\'s fields and survives a failed send', () => {
    const sent: string[] = [];
    const n = new Notifier((s) => { sent.push(s); return true; });
    n.ready('serving');
    n.reloading();
    n.stopping('SIGTERM');
    expect(sent[0]).toBe(`READY=1\nSTATUS=serving\nMAINPID=${process.pid}`);
    expect(sent[1]).toMatch(/^RELOADING=1\nSTATUS=.*\nMONOTONIC_USEC=\d+$/);
    expect(sent[2]).toBe('STOPPING=1\nSTATUS=stopping (SIGTERM)');
    const errors: Error[] = [];
    const bad = new Notifier(() => { throw new Error('ECONNREFUSED'); }, (e) => errors.push(e));
    expect(bad.ready('x')).toBe(false);
    expect(errors).toHaveLength(1);
  });
});

describe('capabilities', () => {
  it('names and masks agree with linux/capability.h', () => {
    expect(capMask(['CAP_NET_ADMIN'])).toBe(0x1000n);
    expect(capMask(['CAP_NET_RAW', 'CAP_BPF'])).toBe((1n << 13n) | (1n << 39n));
    expect(capNames(0x3000n)).toEqual(['CAP_NET_ADMIN', 'CAP_NET_RAW']);
    expect(capNames(1n << 38n)).toEqual(['CAP_PERFMON']);
    expect(() => capMask(['CAP_NOPE'])).toThrow(/unknown capability/);
    expect(RUNTIME_CAPS).toEqual(['CAP_NET_ADMIN']);
  });

  it('reports what a drop kept and dropped', () => {
    let state = { effective: 0x3fffn, permitted: 0x3fffn, inheritable: 0n, bounding: 0x3fffn, ambient: 0n, noNewPrivs: false, lastCap: 13 };
    const fake = {
      capGet: () => state,
      dropPrivileges: (keep: bigint) => {
        state = { ...state, effective: keep, permitted: keep, bounding: keep, noNewPrivs: true };
        return { effective: keep, threads: 7, unreachable: [42] };
      },
    };
    const r = dropPrivileges(fake);
    expect(r).toEqual({
      kept: ['CAP_NET_ADMIN'], dropped: capNames(0x3fffn & ~0x1000n), noNewPrivs: true, boundingCleared: true, unreachableThreads: 1,
    });
  });

  it('reads the calling thread\'s sets', () => {
    const c = native().capGet();
    expect(typeof c.effective).toBe('bigint');
    expect(c.lastCap).toBeGreaterThanOrEqual(37);
    const status = fs.readFileSync('/proc/thread-self/status', 'utf8');
    expect(c.effective).toBe(BigInt(`0x${/^CapEff:\s*(\w+)/m.exec(status)![1]}`));
    expect(c.bounding).toBe(BigInt(`0x${/^CapBnd:\s*(\w+)/m.exec(status)![1]}`));
  });
});

describe('log level at run time', () => {
  it('steps one level per signal and stops at the ends', () => {
    expect(stepLevel('info', 'more')).toBe('debug');
    expect(stepLevel('debug', 'more')).toBe('trace');
    expect(stepLevel('trace', 'more')).toBe('trace');
    expect(stepLevel('info', 'less')).toBe('warn');
    expect(stepLevel('error', 'less')).toBe('error');
    expect(stepLevel('silent', 'more')).toBe('error');
  });

  it('sets the root logger, which its children follow, and refuses unknown levels', () => {
    const log = pino({ level: 'info' }, pino.destination({ dest: '/dev/null', sync: true }));
    const child = log.child({ ct: '0x1' });
    expect(setLogLevel(log, 'debug')).toEqual({ level: 'debug', previous: 'info' });
    expect(child.isLevelEnabled('debug')).toBe(true);
    expect(() => setLogLevel(log, 'loud')).toThrow(/one of trace, debug/);
  });
});
