// Network-namespace topologies for tests, benchmarks and the demo: two multihomed
// hosts (A, B) and two ISPs (routers R1, R2) linked to each other, with
// documentation prefixes only, ingress filtering at each ISP edge (BCP 38),
// unique names, and teardown that always runs.
//
//          a1 ── R1 ── b1           ISP 1: 2001:db8:1::/48
//   A  <         |          >  B
//          a2 ── R2 ── b2           ISP 2: 2001:db8:2::/48
//
import { execFileSync, spawn, ChildProcess, SpawnOptions } from 'node:child_process';
import crypto from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { projectRoot } from '../native.js';

export function sh(cmd: string, args: string[], opts: { input?: string; allowFail?: boolean } = {}): string {
  try {
    return execFileSync(cmd, args, { encoding: 'utf8', input: opts.input, stdio: ['pipe', 'pipe', 'pipe'] });
  } catch (err) {
    if (opts.allowFail) return '';
    const e = err as { stderr?: string; stdout?: string; status?: number };
    throw new Error(`${cmd} ${args.join(' ')} failed (exit ${e.status}): ${e.stderr ?? ''}${e.stdout ?? ''}`);
  }
}

/** Fail (under CI=true) or skip-with-reason when not privileged. */
export function requireRoot(): void {
  if (process.getuid?.() !== 0) {
    throw new Error('privileged test: needs root (CAP_SYS_ADMIN, CAP_NET_ADMIN, CAP_BPF); run as root');
  }
}

export class Host {
  constructor(readonly ns: string, readonly topo: Topology) {}
  /** Run a command in this namespace, synchronously. */
  exec(cmd: string, args: string[], opts: { input?: string; allowFail?: boolean } = {}): string {
    return sh('ip', ['netns', 'exec', this.ns, cmd, ...args], opts);
  }
  ip(...args: string[]): string {
    return sh('ip', ['-n', this.ns, ...args]);
  }
  /** Start a long-running command in this namespace. */
  spawn(cmd: string, args: string[], opts: SpawnOptions = {}): ChildProcess {
    const child = spawn('ip', ['netns', 'exec', this.ns, cmd, ...args], { stdio: ['pipe', 'pipe', 'pipe'], ...opts });
    this.topo.children.push(child);
    return child;
  }
  /** Run test/support/flow.mjs in this namespace: ready resolves on its
   * {"listening":true} line (servers), done on its final JSON line. */
  flow(mode: string, opts: Record<string, string | number>, onProgress?: (p: Record<string, any>) => void): { child: ChildProcess; ready: Promise<void>; done: Promise<Record<string, any>> } {
    const args = [path.join(projectRoot(), 'src', 'lab', 'flow.mjs'), mode, ...Object.entries(opts).flatMap(([k, v]) => [`--${k}`, String(v)])];
    const child = this.spawn(process.execPath, args);
    let buf = '', stderr = '';
    let readyResolve!: () => void, readyReject!: (e: Error) => void;
    const ready = new Promise<void>((res, rej) => { readyResolve = res; readyReject = rej; });
    ready.catch(() => {});
    const done = new Promise<Record<string, any>>((resolve, reject) => {
      let last: Record<string, any> | undefined;
      child.stdout!.on('data', (d: Buffer) => {
        buf += d.toString();
        let i;
        while ((i = buf.indexOf('\n')) >= 0) {
          const line = buf.slice(0, i); buf = buf.slice(i + 1);
          try {
            const j = JSON.parse(line);
            if (j.listening) readyResolve(); else if (j.progress) onProgress?.(j); else last = j;
          } catch { /* not ours */ }
        }
      });
      child.stderr!.on('data', (d: Buffer) => { stderr += d.toString(); });
      child.on('exit', (code) => {
        readyReject(new Error(`flow ${mode} exited ${code} before it was ready: ${stderr}`));
        if (last) resolve(last); else reject(new Error(`flow ${mode} exited ${code}: ${stderr}`));
      });
    });
    done.catch(() => {});
    return { child, ready, done };
  }
  /** Attach a BPF program that drops every IPv6 packet arriving on dev. */
  blackhole(dev: string): void {
    this.exec('tc', ['qdisc', 'replace', 'dev', dev, 'clsact']);
    this.exec('tc', ['filter', 'replace', 'dev', dev, 'ingress', 'pref', '7', 'handle', '7', 'bpf', 'da', 'obj', path.join(projectRoot(), 'build', 'blackhole.bpf.o'), 'sec', 'tc']);
  }
  unblackhole(dev: string): void {
    this.exec('tc', ['filter', 'del', 'dev', dev, 'ingress', 'pref', '7', 'handle', '7', 'bpf'], { allowFail: true });
  }
  /** shim6ctl in this namespace, with the topology's bpffs and state dir. */
  ctl(...args: string[]): string {
    return this.exec(process.execPath, [this.topo.ctlPath, '--bpffs', this.topo.bpffs, '--state-dir', this.topo.stateDir, ...args]);
  }
  ctlJson<T>(...args: string[]): T {
    return JSON.parse(this.ctl(...args, '--json')) as T;
  }
  /** Take an uplink down and up again as a link with router advertisements
   * would come back: the kernel drops static routes over a downed link, so
   * the default and source routes are put back (an RA client's job). */
  uplinkUp(dev: string): void {
    this.ip('link', 'set', dev, 'up');
    const r = ROUTES[dev];
    if (!r) return;
    // The gateway must be on-link again (connected route back) before routes via it.
    const prefix = r.gw.replace(/::[0-9a-f]+$/, '::/64');
    for (let i = 0; i < 200 && !this.ip('-6', 'route', 'show', 'dev', dev).includes(prefix); i++) sh('sleep', ['0.02']);
    this.ip('-6', 'route', 'replace', 'default', 'via', r.gw, 'dev', dev, 'metric', r.metric);
    this.ip('-6', 'route', 'replace', 'default', 'via', r.gw, 'dev', dev, 'table', r.table);
  }
  /** Start shim6d here (uplinks and prefixes of this host by default). */
  agent(opts: { uplinks?: string[]; prefixes?: string[]; args?: string[]; logLevel?: string; nodeArgs?: string[] } = {}): AgentProcess {
    const isA = this === this.topo.A;
    const uplinks = opts.uplinks ?? (isA ? ['a1', 'a2'] : ['b1', 'b2']);
    const prefixes = opts.prefixes ?? (isA ? ['2001:db8:1:a::/64', '2001:db8:2:a::/64'] : ['2001:db8:1:b::/64', '2001:db8:2:b::/64']);
    const socket = path.join(this.topo.dir, `${this.ns}.sock`);
    const args = [
      ...(opts.nodeArgs ?? []),
      path.join(projectRoot(), 'dist', 'src', 'agent', 'main.js'),
      '--shim-dev', 'shim0', '--uplink', uplinks.join(','), ...prefixes.flatMap((p) => ['--prefix', p]),
      '--bpffs', this.topo.bpffs, '--run-dir', this.topo.stateDir, '--state-dir', path.join(this.topo.dir, `${this.ns}-state`),
      '--api-socket', socket, '--log-level', opts.logLevel ?? 'debug', ...(opts.args ?? []),
    ];
    return new AgentProcess(this, this.spawn(process.execPath, args), socket);
  }
  /** rx/tx packet counters of a device. */
  counters(dev: string): { rxPackets: number; txPackets: number; rxBytes: number; txBytes: number } {
    const j = JSON.parse(this.ip('-j', '-s', 'link', 'show', 'dev', dev))[0];
    return { rxPackets: j.stats64.rx.packets, txPackets: j.stats64.tx.packets, rxBytes: j.stats64.rx.bytes, txBytes: j.stats64.tx.bytes };
  }
  /** Kernel SNMP counters (nstat -az), e.g. Udp6InCsumErrors. */
  snmp(): Record<string, number> {
    const out = this.exec('nstat', ['-az', '--json']);
    const j = JSON.parse(out);
    const k = Object.keys(j)[0];
    return j[k] as Record<string, number>;
  }
}

/** A shim6d running in a namespace (Host.agent). */
export class AgentProcess {
  readonly logs: Array<Record<string, any>> = [];
  readonly ready: Promise<Record<string, any>>;
  readonly exited: Promise<number | null>;
  stderr = '';
  constructor(readonly host: Host, readonly child: ChildProcess, readonly socket: string) {
    let buf = '';
    let readyResolve!: (r: Record<string, any>) => void, readyReject!: (e: Error) => void;
    this.ready = new Promise((res, rej) => { readyResolve = res; readyReject = rej; });
    this.ready.catch(() => {});
    child.stdout!.on('data', (d: Buffer) => {
      buf += d.toString();
      let i;
      while ((i = buf.indexOf('\n')) >= 0) {
        const line = buf.slice(0, i); buf = buf.slice(i + 1);
        try {
          const j = JSON.parse(line) as Record<string, any>;
          this.logs.push(j);
          if (j.event === 'ready') readyResolve(j);
        } catch { /* not JSON */ }
      }
    });
    child.stderr!.on('data', (d: Buffer) => { this.stderr += d.toString(); });
    this.exited = new Promise((resolve) => child.on('exit', (code, sig) => {
      readyReject(new Error(`shim6d in ${host.ns} exited (${code ?? sig}) before ready: ${this.stderr}`));
      resolve(code);
    }));
  }
  /** Log records with this event name. */
  events(name: string): Array<Record<string, any>> {
    return this.logs.filter((l) => l.event === name);
  }
  async stop(signal: NodeJS.Signals = 'SIGTERM'): Promise<number | null> {
    if (this.child.exitCode !== null || this.child.signalCode !== null) return this.child.exitCode;
    // ip netns exec execs node, so the child is the agent itself.
    this.child.kill(signal);
    return this.exited;
  }
  /** A request on the agent's control socket (ctl with --socket, JSON). */
  /** The agent's HBA addresses (its ULIDs), from `shim6ctl agent status`. */
  hbaAddresses(): string[] {
    return this.ctlJson<{ hba: Array<{ address: string }> }>('agent', 'status').hba.map((h) => h.address);
  }
  ctlJson<T>(...args: string[]): T {
    return JSON.parse(this.host.exec(process.execPath, [this.host.topo.ctlPath, '--bpffs', this.host.topo.bpffs, '--state-dir', this.host.topo.stateDir, '--socket', this.socket, ...args, '--json'])) as T;
  }
}

export interface TopologyOptions {
  mtu?: number; // every link (routers enforce it); default 1500
}

export const ADDR = {
  A1: '2001:db8:1:a::1', A2: '2001:db8:2:a::1',
  B1: '2001:db8:1:b::1', B2: '2001:db8:2:b::1',
  R1A: '2001:db8:1:a::ff', R1B: '2001:db8:1:b::ff',
  R2A: '2001:db8:2:a::ff', R2B: '2001:db8:2:b::ff',
  R1X: '2001:db8:ff::1', R2X: '2001:db8:ff::2',
} as const;

/** The hosts' uplink routes (see Topology.create), for Host.uplinkUp. */
const ROUTES: Record<string, { gw: string; metric: string; table: string }> = {
  a1: { gw: ADDR.R1A, metric: '100', table: '101' },
  a2: { gw: ADDR.R2A, metric: '200', table: '102' },
  b1: { gw: ADDR.R1B, metric: '100', table: '101' },
  b2: { gw: ADDR.R2B, metric: '200', table: '102' },
};


export class Topology {
  readonly id: string;
  readonly A: Host; readonly B: Host; readonly R1: Host; readonly R2: Host;
  readonly dir: string;
  readonly bpffs: string;
  readonly stateDir: string;
  readonly ctlPath: string;
  readonly children: ChildProcess[] = [];
  private torn = false;

  private constructor(readonly opts: TopologyOptions) {
    this.id = crypto.randomBytes(3).toString('hex');
    const n = (h: string) => `s6${h}${this.id}`;
    this.A = new Host(n('a'), this); this.B = new Host(n('b'), this);
    this.R1 = new Host(n('r1'), this); this.R2 = new Host(n('r2'), this);
    this.dir = fs.mkdtempSync(path.join(os.tmpdir(), `shim6-${this.id}-`));
    this.bpffs = path.join(this.dir, 'bpffs');
    this.stateDir = path.join(this.dir, 'state');
    this.ctlPath = path.join(projectRoot(), 'dist', 'src', 'cli', 'shim6ctl.js');
  }

  get hosts(): Host[] { return [this.A, this.B, this.R1, this.R2]; }

  static create(opts: TopologyOptions = {}): Topology {
    requireRoot();
    const t = new Topology(opts);
    try {
      t.build();
    } catch (err) {
      t.teardown();
      throw err;
    }
    return t;
  }

  private link(h1: Host, d1: string, h2: Host, d2: string): void {
    const mtu = String(this.opts.mtu ?? 1500);
    const t1 = `t${this.id}${d1}`.slice(0, 15), t2 = `u${this.id}${d2}`.slice(0, 15);
    // Created inside the namespaces, so they take the namespaces' sysctl defaults.
    sh('ip', ['link', 'add', t1, 'netns', h1.ns, 'type', 'veth', 'peer', 'name', t2, 'netns', h2.ns]);
    h1.ip('link', 'set', t1, 'name', d1, 'mtu', mtu);
    h2.ip('link', 'set', t2, 'name', d2, 'mtu', mtu);
    h1.ip('link', 'set', d1, 'up');
    h2.ip('link', 'set', d2, 'up');
  }

  private build(): void {
    fs.mkdirSync(this.bpffs, { recursive: true });
    sh('mount', ['-t', 'bpf', 'bpf', this.bpffs]);
    for (const h of this.hosts) {
      sh('ip', ['netns', 'add', h.ns]);
      h.ip('link', 'set', 'lo', 'up');
      // keep_addr_on_down: a host keeps its ULID when the uplink carrying
      // it goes down (the connection lives on over another locator).
      h.exec('sysctl', ['-qw', 'net.ipv6.conf.all.accept_dad=0', 'net.ipv6.conf.default.accept_dad=0',
        'net.ipv6.conf.all.accept_ra=0', 'net.ipv6.conf.default.accept_ra=0',
        'net.ipv6.conf.all.keep_addr_on_down=1', 'net.ipv6.conf.default.keep_addr_on_down=1']);
    }
    for (const r of [this.R1, this.R2]) r.exec('sysctl', ['-qw', 'net.ipv6.conf.all.forwarding=1']);
    this.link(this.A, 'a1', this.R1, 'r1a');
    this.link(this.A, 'a2', this.R2, 'r2a');
    this.link(this.B, 'b1', this.R1, 'r1b');
    this.link(this.B, 'b2', this.R2, 'r2b');
    this.link(this.R1, 'r1x', this.R2, 'r2x');
    const addr = (h: Host, dev: string, a: string) => h.ip('-6', 'addr', 'add', `${a}/64`, 'dev', dev, 'nodad');
    addr(this.A, 'a1', ADDR.A1); addr(this.A, 'a2', ADDR.A2);
    addr(this.B, 'b1', ADDR.B1); addr(this.B, 'b2', ADDR.B2);
    addr(this.R1, 'r1a', ADDR.R1A); addr(this.R1, 'r1b', ADDR.R1B); addr(this.R1, 'r1x', ADDR.R1X);
    addr(this.R2, 'r2a', ADDR.R2A); addr(this.R2, 'r2b', ADDR.R2B); addr(this.R2, 'r2x', ADDR.R2X);
    // ISPs reach each other's prefixes.
    this.R1.ip('-6', 'route', 'add', '2001:db8:2::/48', 'via', ADDR.R2X);
    this.R2.ip('-6', 'route', 'add', '2001:db8:1::/48', 'via', ADDR.R1X);
    // BCP 38 at each customer edge: a customer's packets must come from the ISP's prefix.
    for (const [r, pfx, devs] of [[this.R1, '2001:db8:1::/48', ['r1a', 'r1b']], [this.R2, '2001:db8:2::/48', ['r2a', 'r2b']]] as const) {
      for (const d of devs) {
        r.ip('-6', 'rule', 'add', 'pref', '100', 'iif', d, 'from', pfx, 'lookup', 'main');
        r.ip('-6', 'rule', 'add', 'pref', '101', 'iif', d, 'blackhole');
      }
    }
    this.waitLinks();
    // Hosts: a default route per ISP, and source routing so unshimmed traffic
    // from a locator leaves by its own ISP.
    for (const [h, d1, d2, g1, g2, p1, p2] of [
      [this.A, 'a1', 'a2', ADDR.R1A, ADDR.R2A, '2001:db8:1:a::/64', '2001:db8:2:a::/64'],
      [this.B, 'b1', 'b2', ADDR.R1B, ADDR.R2B, '2001:db8:1:b::/64', '2001:db8:2:b::/64'],
    ] as const) {
      h.ip('-6', 'route', 'add', 'default', 'via', g1, 'dev', d1, 'metric', '100');
      h.ip('-6', 'route', 'add', 'default', 'via', g2, 'dev', d2, 'metric', '200');
      h.ip('-6', 'route', 'add', 'default', 'via', g1, 'dev', d1, 'table', '101');
      h.ip('-6', 'route', 'add', 'default', 'via', g2, 'dev', d2, 'table', '102');
      h.ip('-6', 'rule', 'add', 'pref', '1000', 'from', p1, 'lookup', '101');
      h.ip('-6', 'rule', 'add', 'pref', '1001', 'from', p2, 'lookup', '102');
    }
  }

  /** Wait until every veth has carrier and its connected routes exist
   * (linkwatch may take up to a second): a packet sent earlier would be
   * dropped for want of a route, and tests would measure set-up, not shim6. */
  private waitLinks(): void {
    const deadline = Date.now() + 10_000;
    for (const h of this.hosts) {
      for (;;) {
        const links = JSON.parse(h.ip('-j', 'link', 'show')) as Array<{ ifname: string; operstate: string }>;
        const routes = h.ip('-6', 'route', 'show');
        const addrs = JSON.parse(h.ip('-j', '-6', 'addr', 'show', 'scope', 'global')) as Array<{ addr_info: Array<{ local: string }> }>;
        const prefixes = addrs.flatMap((a) => (a.addr_info ?? []).filter((i) => i.local).map((i) => i.local.replace(/::[0-9a-f]+$/, '::/64')));
        const up = links.filter((l) => l.ifname !== 'lo').every((l) => l.operstate === 'UP');
        if (up && prefixes.every((p) => routes.includes(p))) break;
        if (Date.now() > deadline) throw new Error(`topology: links of ${h.ns} not ready: ${JSON.stringify(links)} ${routes}`);
        sh('sleep', ['0.05']);
      }
    }
  }

  teardown(): void {
    if (this.torn) return;
    this.torn = true;
    for (const c of this.children) {
      try { c.kill('SIGKILL'); } catch { /* gone */ }
    }
    for (const h of this.hosts) sh('ip', ['netns', 'del', h.ns], { allowFail: true });
    sh('umount', [this.bpffs], { allowFail: true });
    fs.rmSync(this.dir, { recursive: true, force: true });
  }

  /** Bring the data plane up on A and B and install mirrored static contexts
   * A1<->B1 with locator sets {A1,A2} and {B1,B2}. */
  shimBoth(opts: { gso?: 'head' | 'segment'; pair?: 1 | 2; xdp?: 'off' | 'native' | 'generic' } = {}): void {
    const gso = opts.gso ?? 'segment';
    const pair = opts.pair ?? 2;
    const xdp = opts.xdp ? ['--xdp', opts.xdp] : [];
    this.A.ctl('dataplane', 'up', '--shim-dev', 'shim0', '--uplink', 'a1,a2', '--gso', gso, ...xdp);
    this.B.ctl('dataplane', 'up', '--shim-dev', 'shim0', '--uplink', 'b1,b2', '--gso', gso, ...xdp);
    this.A.ctl('context', 'add', '--id', '1', '--ulid-local', ADDR.A1, '--ulid-peer', ADDR.B1,
      '--ls-local', `${ADDR.A1},${ADDR.A2}`, '--ls-peer', `${ADDR.B1},${ADDR.B2}`,
      '--lp-local', pair === 2 ? ADDR.A2 : ADDR.A1, '--lp-peer', pair === 2 ? ADDR.B2 : ADDR.B1,
      '--ct-local', '0xa1a1', '--ct-peer', '0xb1b1');
    this.B.ctl('context', 'add', '--id', '1', '--ulid-local', ADDR.B1, '--ulid-peer', ADDR.A1,
      '--ls-local', `${ADDR.B1},${ADDR.B2}`, '--ls-peer', `${ADDR.A1},${ADDR.A2}`,
      '--lp-local', pair === 2 ? ADDR.B2 : ADDR.B1, '--lp-peer', pair === 2 ? ADDR.A2 : ADDR.A1,
      '--ct-local', '0xb1b1', '--ct-peer', '0xa1a1');
  }

  /** Move both sides of context 1 to path 1 or 2. */
  switchPath(pair: 1 | 2): void {
    this.A.ctl('context', 'set', '1', '--lp-local', pair === 2 ? ADDR.A2 : ADDR.A1, '--lp-peer', pair === 2 ? ADDR.B2 : ADDR.B1);
    this.B.ctl('context', 'set', '1', '--lp-local', pair === 2 ? ADDR.B2 : ADDR.B1, '--lp-peer', pair === 2 ? ADDR.A2 : ADDR.A1);
  }
}
