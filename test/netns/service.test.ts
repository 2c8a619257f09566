// shim6d as systemd runs it: READY=1 on $NOTIFY_SOCKET (abstract, in the
// agent's namespace) only once the control and API sockets exist; the
// privileges it keeps (/proc/PID/status: CapEff, CapBnd, NoNewPrivs, on
// every thread that can take a signal); contexts and address changes still
// work after the drop; RELOADING=1/READY=1 around SIGHUP; log level at run
// time by control socket and SIGUSR1/SIGUSR2; STOPPING=1 on SIGTERM.
import fs from 'node:fs';
import path from 'node:path';
import type { ChildProcess } from 'node:child_process';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { AgentProcess, Topology } from '../../src/lab/topology.js';
import { until } from '../../src/lab/wait.js';
import type { ContextView } from '../../src/agent/agent.js';
import { ROUTE_TABLE } from '../../src/dataplane/loader.js';

let t: Topology;
let A: AgentProcess;
let B: AgentProcess;
let listener: ChildProcess;
const notes: Array<{ msg: string; api: boolean; ctl: boolean; t: number }> = [];
let apiPath: string;
let notifyAddr: string;

const established = (a: AgentProcess): ContextView | undefined => a.ctlJson<ContextView[]>('contexts').find((c) => c.state === 'ESTABLISHED');
const messages = (): string[] => notes.map((n) => n.msg);
const status = (pid: number, tid = pid): Record<string, string> => Object.fromEntries(
  fs.readFileSync(`/proc/${pid}/task/${tid}/status`, 'utf8').split('\n').filter(Boolean).map((l) => {
    const i = l.indexOf(':');
    return [l.slice(0, i), l.slice(i + 1).trim()];
  }));

/** A unix datagram listener in A's namespace (abstract names are per namespace): python3, one JSON line each. */
function listen(addr: string, api: string, ctl: string): ChildProcess {
  const py = `import socket, sys, json, os, time
s = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
s.bind("\\0" + sys.argv[1][1:])
print(json.dumps({"listening": True}), flush=True)
while True:
    m = s.recv(65536).decode()
    print(json.dumps({"msg": m, "api": os.path.exists(sys.argv[2]), "ctl": os.path.exists(sys.argv[3]), "t": time.time()}), flush=True)
`;
  const child = t.A.spawn('python3', ['-u', '-c', py, addr, api, ctl]);
  let buf = '';
  child.stdout!.on('data', (d: Buffer) => {
    buf += d.toString();
    for (let i = buf.indexOf('\n'); i >= 0; i = buf.indexOf('\n')) {
      const j = JSON.parse(buf.slice(0, i)) as { listening?: boolean; msg: string; api: boolean; ctl: boolean; t: number };
      buf = buf.slice(i + 1);
      if (!j.listening) notes.push(j);
    }
  });
  return child;
}

describe('shim6d under systemd\'s eyes', () => {
  beforeAll(async () => {
    t = Topology.create();
    notifyAddr = `@shim6-notify-${t.id}`;
    apiPath = path.join(t.dir, 'A-api.sock');
    listener = listen(notifyAddr, apiPath, path.join(t.dir, `${t.A.ns}.sock`));
    await until('the notify listener', () => {
      try { return t.A.exec('ss', ['-xl']).includes(notifyAddr); } catch { return false; }
    }, 10_000);
    // The agent inherits the environment at spawn time (ip netns exec passes it on): A alone gets NOTIFY_SOCKET.
    process.env.NOTIFY_SOCKET = notifyAddr;
    try {
      A = t.A.agent({ args: ['--api-path', apiPath], logLevel: 'info' });
    } finally {
      delete process.env.NOTIFY_SOCKET;
    }
    B = t.B.agent({ logLevel: 'info' });
    await Promise.all([A.ready, B.ready]);
  }, 60_000);
  afterAll(async () => {
    await Promise.all([A?.stop(), B?.stop()]).catch(() => {});
    listener?.kill();
    t?.teardown();
  });

  it('sends READY=1 once, after the control and API sockets exist', async () => {
    const ready = await until('READY=1', () => notes.find((n) => n.msg.split('\n').includes('READY=1')), 10_000);
    expect(ready.api).toBe(true);
    expect(ready.ctl).toBe(true);
    expect(ready.msg).toMatch(/^STATUS=serving on /m);
    expect(ready.msg).toContain(`MAINPID=${A.child.pid}`);
    expect(messages().filter((m) => m.includes('READY=1'))).toHaveLength(1);
  });

  it('keeps CAP_NET_ADMIN only, with a cleared bounding set and no_new_privs, on its threads', () => {
    // ip netns exec execs node: the child's pid is the agent's.
    const pid = A.child.pid!;
    const s = status(pid);
    expect(s.CapEff).toBe('0000000000001000');
    expect(s.CapPrm).toBe('0000000000001000');
    expect(s.CapBnd).toBe('0000000000001000');
    expect(s.CapInh).toBe('0000000000000000');
    expect(s.CapAmb).toBe('0000000000000000');
    expect(s.NoNewPrivs).toBe('1');
    const rec = A.events('privileges')[0];
    expect(rec).toMatchObject({ kept: ['CAP_NET_ADMIN'], noNewPrivs: true, boundingCleared: true });
    expect(rec.dropped).toEqual(expect.arrayContaining(['CAP_SYS_ADMIN', 'CAP_BPF', 'CAP_NET_RAW', 'CAP_PERFMON']));
    // Every thread but Node's inspector thread (all signals blocked) dropped too.
    const tasks = fs.readdirSync(`/proc/${pid}/task`).map(Number);
    const full = tasks.filter((tid) => status(pid, tid).CapEff !== '0000000000001000');
    expect(full.length).toBeLessThanOrEqual(rec.unreachableThreads);
    // ... which blocks the signal the drop is carried by (SIGRTMIN+7 = 41).
    for (const tid of full) expect((BigInt(`0x${status(pid, tid).SigBlk}`) >> 40n) & 1n).toBe(1n);
    // B drops too (the default), independently.
    expect(status(B.child.pid!).CapEff).toBe('0000000000001000');
  });

  it('after the drop: sets up a context, follows an address change, answers SIGHUP with RELOADING=1 then READY=1', async () => {
    const hA = A.hbaAddresses();
    const hB = B.hbaAddresses();
    const server = t.B.flow('echo-server', { bind: hB[0], port: 7101 });
    await server.ready;
    const client = t.A.flow('echo-client', { to: hB[0], port: 7101, from: hA[0], 'interval-ms': 10, 'duration-ms': 1500 });
    const a = await until('A ESTABLISHED', () => established(A), 15_000);
    expect(a.dataplane).not.toBeNull();
    const r = await client.done;
    server.child.kill();
    expect(r.echoed).toBe(r.sent);
    // An address change needs CAP_NET_ADMIN at run time (uplink tables, rules): the Update reaches B.
    t.A.ip('-6', 'addr', 'del', `${hA[1]}/64`, 'dev', 'a2');
    await until('B sees A2 gone', () => established(B)?.lsPeer.every((p) => p.addr !== hA[1]), 15_000);
    t.A.ip('-6', 'addr', 'add', `${hA[1]}/64`, 'dev', 'a2', 'noprefixroute');
    await until('B sees A2 back', () => established(B)?.lsPeer.some((p) => p.addr === hA[1]), 15_000);
    // Routes written over netlink after the drop: the peer ULID's, through the shim device.
    expect(A.events('netlink-request-failed')).toEqual([]);
    expect(t.A.ip('-6', 'route', 'show', 'table', String(ROUTE_TABLE))).toContain(hB[0]);
    expect(t.A.ip('-6', 'addr', 'show', 'dev', 'shim0')).toContain(`${hA[0]}/128`);
    const before = notes.length;
    A.child.kill('SIGHUP');
    await until('READY=1 after SIGHUP', () => notes.slice(before).some((n) => n.msg.includes('READY=1')), 10_000);
    const after = messages().slice(before);
    expect(after[0]).toMatch(/^RELOADING=1\n/);
    expect(after[0]).toMatch(/\nMONOTONIC_USEC=\d+/);
    expect(after.findIndex((m) => m.includes('READY=1'))).toBeGreaterThan(0);
    expect(A.events('resync')).toHaveLength(1);
  }, 60_000);

  it('changes its log level at run time: shim6ctl agent log-level, SIGUSR1, SIGUSR2', async () => {
    expect(A.ctlJson('agent', 'log-level')).toEqual({ level: 'info' });
    expect(A.ctlJson('agent', 'log-level', 'debug')).toEqual({ level: 'debug', previous: 'info' });
    A.child.kill('SIGUSR1');
    await until('trace', () => A.ctlJson<{ level: string }>('agent', 'log-level').level === 'trace');
    A.child.kill('SIGUSR2');
    await until('debug', () => A.ctlJson<{ level: string }>('agent', 'log-level').level === 'debug');
    A.child.kill('SIGUSR2');
    await until('info', () => A.ctlJson<{ level: string }>('agent', 'log-level').level === 'info');
    await until('the log records (a pipe)', () => A.events('log-level').length >= 4, 5000);
    expect(A.events('log-level').map((e) => e.to)).toEqual(['debug', 'trace', 'debug', 'info']);
    // SIGUSR1 did not open Node's inspector.
    expect(A.stderr).not.toMatch(/Debugger listening/);
    expect(() => A.ctlJson('agent', 'log-level', 'loud')).toThrow(/log level must be one of/);
  });

  it('sends STOPPING=1 on SIGTERM', async () => {
    const before = notes.length;
    expect(await A.stop('SIGTERM')).toBe(0);
    await until('STOPPING=1', () => notes.slice(before).some((n) => n.msg.startsWith('STOPPING=1')), 5000);
  });

  it('restarts with the capabilities of its start, and after the drop still tears the data plane down on request', async () => {
    A = t.A.agent({ args: ['--api-path', apiPath, '--teardown-on-exit'], logLevel: 'info' });
    await A.ready;
    await until('the privilege drop', () => A.events('privileges').length > 0, 5000);
    expect(status(A.child.pid!).CapEff).toBe('0000000000001000');
    expect(t.A.exec('tc', ['filter', 'show', 'dev', 'a1', 'ingress'])).toContain('shim6_ingress');
    expect(await A.stop('SIGTERM')).toBe(0);
    // CAP_NET_ADMIN was enough: filters detached, the shim device and the ULID rule gone.
    expect(t.A.exec('tc', ['filter', 'show', 'dev', 'a1', 'ingress'])).not.toContain('shim6_ingress');
    expect(t.A.ip('link', 'show')).not.toContain('shim0');
    expect(t.A.ip('-6', 'rule', 'show')).not.toContain(`lookup ${ROUTE_TABLE}`);
    expect(A.logs.filter((l) => l.level >= 40)).toEqual([]);
    expect(A.events('stopped')[0]).toMatchObject({ kept: false });
  }, 30_000);
});
