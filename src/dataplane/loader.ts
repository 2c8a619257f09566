// Bring the data plane up and down: load the object (reusing compatible
// pinned maps, so contexts survive a reload), create the shim device, attach
// the programs, describe the uplinks. Idempotent: `up` on a running data
// plane reloads the programs and re-attaches them without losing state.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { native } from '../native.js';
import { Shim6Error, fromSystem } from '../errors.js';
import * as L from '../generated/layout.js';
import { DataplaneMaps } from './maps.js';
import { PinConfig } from './pins.js';
import { parseIPv6 } from './addr.js';
import * as sys from './sys.js';

export type GsoMode = 'head' | 'segment';
/** shim6_xdp on the uplinks (README, "GSO"): strips payload headers before
 * GRO, so failed-over TCP is received in GRO-merged packets. off: tc
 * ingress strips them (after GRO). */
export type XdpMode = 'off' | 'native' | 'generic';

export interface UpOptions {
  shimDev: string;           // the shim netdev the peer ULID routes point at
  uplinks: string[];         // interfaces that carry locators
  gso?: GsoMode | 'auto';    // default auto
  xdp?: XdpMode;             // default $SHIM6_XDP, else DEFAULT_XDP
  /** cgroup v2 that shim6_sockops (TCP feedback and RTO bound) attaches to:
   * default $SHIM6_CGROUP, else the root of the cgroup v2 hierarchy; '' or
   * 'none' leaves TCP alone. */
  cgroup?: string;           // a path, or 'cgroup2:/REL' (default 'cgroup2:/')
  /** TCP_RTO_MAX_MS of TCP sockets on shimmed ULID pairs during the first
   * RTOs of an outage (tcp_retries2 / 2 of them), 1000..120000, 0 = no bound
   * (events only). Default $SHIM6_TCP_RTO_MAX_MS, else TCP_RTO_MAX_MS_DEFAULT. */
  tcpRtoMaxMs?: number;
}

/** shim6_sockops: where it is attached and with which settings. */
export interface TcpFeedbackState {
  cgroup: string | null;     // null: not attached (disabled, or error)
  rtoMaxMs: number;          // TCP_RTO_MAX_MS during an outage (0: none)
  rtoBounded: number;        // ... for this many consecutive RTOs
  rtoMaxDefaultMs: number;   // ... then back to this (net.ipv4.tcp_rto_max_ms)
  netnsCookie: string;       // the namespace whose sockets it acts on
  linkPin?: string;          // the pinned bpf_link that holds the attachment
  linkId?: number;
  error?: string;            // attaching failed (the rest of the data plane is up)
}

export interface DataplaneState {
  version: 1;
  shimDev: string;
  shimPeer: string;
  uplinks: Array<{ name: string; ifindex: number }>;
  gso: GsoMode;
  xdp?: XdpMode;             // absent: off (state written before XDP existed)
  groOn?: string[];          // uplinks whose GRO `up` turned on for XDP (turned off again at down)
  mtu: number;
  pinDir: string;
  createdShim: boolean;
  tcp?: TcpFeedbackState;
}

const STATE_FILE = 'dataplane.json';
/** Peer ULID routes live in their own table, looked up by a rule ahead of
 * the main table and of any source-routing rules a multihomed host has:
 * traffic to a peer ULID must reach the shim device whatever its source. */
export const ROUTE_TABLE = 140;
export const RULE_PREF = 140;
/** Packets the programs redirect carry the magic mark: they skip the
 * peer-ULID table, and a rule per local locator sends their route lookup to
 * the table of that locator's uplink (default route via its gateway). */
export const UPLINK_RULE_PREF = 141;
export const UPLINK_TABLE_BASE = 14000;
/** The last route of every uplink table (see refreshUplinks). */
const UNREACHABLE_METRIC = 4294967295;
const MARK = `0x${L.MARK_MAGIC.toString(16)}/0x${L.MARK_MAGIC_MASK.toString(16)}`;
const TC_PRIO = 1;
const TC_HANDLE = 1;
/** The bpf_link of shim6_sockops, pinned next to the maps: `dataplane down`
 * removes it with them (which detaches the program), and so does unmounting
 * the bpffs: a namespace torn down without `down` leaves nothing attached. */
const SOCKOPS_LINK = 'link_sockops';

export function peerName(shimDev: string): string {
  const p = `${shimDev}p`;
  if (p.length > 15) throw new Shim6Error('SHIM6_ERR_USAGE', `shim device name '${shimDev}' is too long (max 14 characters)`);
  return p;
}

export function readState(pins: PinConfig): DataplaneState | undefined {
  try {
    return JSON.parse(fs.readFileSync(path.join(pins.stateDir, STATE_FILE), 'utf8')) as DataplaneState;
  } catch {
    return undefined;
  }
}

function writeState(pins: PinConfig, st: DataplaneState): void {
  fs.mkdirSync(pins.stateDir, { recursive: true });
  const tmp = path.join(pins.stateDir, `${STATE_FILE}.tmp`);
  fs.writeFileSync(tmp, JSON.stringify(st, null, 2) + '\n');
  fs.renameSync(tmp, path.join(pins.stateDir, STATE_FILE));
}

/** How payload headers get into GSO packets (README, "GSO").
 * segment (default): a GSO packet that needs a header goes round through the
 *   shim device's veth peer, whose TSO/GSO are off, so the kernel segments it;
 *   the segments come back in on the shim device and get the header there.
 *   Correct with any uplink; traffic on the ULIDs keeps full GSO.
 * head: the header goes into the GSO packet itself (grown at the head). Fast
 *   on veth, but a packet with next header 140 that must be segmented in
 *   software is dropped (no GSO handler), and routers that forward such GSO
 *   packets compute wrong segment sizes. For experiments only. */
export const DEFAULT_XDP: XdpMode = 'off';

export function chooseXdp(want?: XdpMode): XdpMode {
  const v = want ?? (process.env.SHIM6_XDP || DEFAULT_XDP);
  if (v !== 'off' && v !== 'native' && v !== 'generic') {
    throw new Shim6Error('SHIM6_ERR_USAGE', `XDP mode must be off, native or generic, not '${v}'`);
  }
  return v;
}

/** Detach shim6_xdp from a device in both modes; true if it was attached. */
function xdpOff(ifindex: number): boolean {
  const n = native();
  let was = false;
  for (const mode of ['native', 'generic'] as const) {
    try { if (n.xdpDetach({ ifindex, mode })) was = true; } catch { /* device gone */ }
  }
  return was;
}

export function chooseGso(want: GsoMode | 'auto' = 'auto'): GsoMode {
  return want === 'auto' ? 'segment' : want;
}

function ensureShimDevice(shimDev: string, shimPeer: string, mtu: number, gso: GsoMode): boolean {
  let created = false;
  if (!sys.linkExists(shimDev)) {
    sys.run('ip', ['link', 'add', shimDev, 'type', 'veth', 'peer', 'name', shimPeer]);
    created = true;
  }
  for (const d of [shimDev, shimPeer]) {
    sys.run('ip', ['link', 'set', 'dev', d, 'addrgenmode', 'none', 'arp', 'off', 'multicast', 'off', 'mtu', String(mtu)]);
  }
  // The shim device keeps GSO for the ULIDs; the peer is the segmentation
  // loop (segment mode) and must not coalesce anything back.
  sys.run('ethtool', ['-K', shimDev, 'tso', 'on', 'gso', 'on', 'gro', 'off']);
  if (gso === 'segment') sys.run('ethtool', ['-K', shimPeer, 'tso', 'off', 'gso', 'off', 'gro', 'off']);
  for (const d of [shimDev, shimPeer]) sys.run('ip', ['link', 'set', 'dev', d, 'up']);
  return created;
}

/** Describe every global address of every uplink in shim6_uplink, and give
 * each uplink a routing table that marked packets from its addresses use:
 * its default route (via its gateway) and its on-link prefixes, ending in
 * an `unreachable` default. One `ip -batch` for all of it: the agent calls
 * this on every address change.
 *
 * The unreachable default is what keeps a dead uplink from stalling TCP for
 * seconds. When a link goes down the kernel deletes the routes through it;
 * a lookup for a packet redirected to it (bpf_redirect_neigh, oif = the dead
 * uplink) would then fall through to another uplink's route, and the kernel
 * queues the packet on the dead device's neighbour entry for that route's
 * gateway, where it waits for neighbour discovery to fail (3 × RetransTimer,
 * ~3 s). TCP does not retransmit a segment whose original is still in a
 * host queue (TCPSpuriousRtxHostQueues), so the connection stalled for those
 * 3 s whatever REAP did. With the unreachable default the lookup fails, the
 * packet is dropped at once, and TCP's next retransmission leaves on the
 * pair REAP moved to. */
export function refreshUplinks(maps: DataplaneMaps, uplinks: Array<{ name: string; ifindex: number }>): number {
  const addrs = uplinks.map((u) => ({ u, routes: sys.uplinkRoutes(u.name), addrs: sys.globalAddrs(u.name) }));
  const lines = [`rule flush pref ${UPLINK_RULE_PREF}`];
  maps.uplinkClear();
  let n = 0;
  for (const { u, routes, addrs: list } of addrs) {
    const table = String(UPLINK_TABLE_BASE + u.ifindex);
    lines.push(`route flush table ${table}`);
    if (routes.gateway) lines.push(`route replace default via ${routes.gateway} dev ${u.name} table ${table}`);
    for (const p of routes.onLink) lines.push(`route replace ${p} dev ${u.name} table ${table}`);
    lines.push(`route replace unreachable default metric ${UNREACHABLE_METRIC} table ${table}`);
    for (const a of list) {
      maps.uplinkPut(parseIPv6(a), { ifindex: u.ifindex, flags: 0 });
      lines.push(`rule add pref ${UPLINK_RULE_PREF} fwmark ${MARK} from ${a} lookup ${table}`);
      n++;
    }
  }
  // Every line is applied even if one fails (-force); a failure is reported.
  sys.ipBatch(lines, { force: true, family: 6 });
  return n;
}

/** Mount point of the root of the cgroup v2 hierarchy (/sys/fs/cgroup, or
 * /sys/fs/cgroup/unified on hybrid systems) in this mount namespace;
 * undefined when none is visible (`ip netns exec` mounts a fresh /sys, which
 * hides it). */
export function cgroup2Root(): string | undefined {
  try {
    for (const line of fs.readFileSync('/proc/self/mountinfo', 'utf8').split('\n')) {
      const [pre, post] = line.split(' - ');
      if (post?.split(' ')[0] === 'cgroup2' && pre.split(' ')[3] === '/') return pre.split(' ')[4];
    }
  } catch { /* no /proc */ }
  return undefined;
}

/** Run fn with a path for a cgroup spec: a directory of a cgroup v2 mount, or
 * 'cgroup2:/REL' (REL below the root of the cgroup v2 hierarchy: the visible
 * mount, else one made for the call and lazily unmounted after it; the
 * cgroup itself stays referenced by whatever fn attached to it). */
function withCgroup<T>(spec: string, fn: (dir: string) => T): T {
  if (!spec.startsWith('cgroup2:')) return fn(spec);
  const rel = spec.slice('cgroup2:'.length);
  const root = cgroup2Root();
  if (root) return fn(path.join(root, rel));
  const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'shim6-cgroup2-'));
  try {
    sys.run('mount', ['-t', 'cgroup2', 'cgroup2', tmp]);
    try {
      return fn(path.join(tmp, rel));
    } finally {
      sys.run('umount', ['-l', tmp], { allowFail: true });
    }
  } finally {
    fs.rmdirSync(tmp);
  }
}

export function tcpRtoMaxMs(want?: number): number {
  const env = process.env.SHIM6_TCP_RTO_MAX_MS;
  const v = want ?? (env !== undefined && env !== '' ? Number(env) : L.TCP_RTO_MAX_MS_DEFAULT);
  if (!Number.isInteger(v) || (v !== 0 && (v < 1000 || v > 120000))) {
    throw new Shim6Error('SHIM6_ERR_USAGE', `TCP RTO bound must be 0 (none) or 1000..120000 ms, not ${want ?? env}`);
  }
  return v;
}

function sysctlInt(name: string, dflt: number): number {
  try {
    const v = Number(fs.readFileSync(`/proc/sys/net/ipv4/${name}`, 'utf8').trim());
    return Number.isInteger(v) && v > 0 ? v : dflt;
  } catch {
    return dflt; // kernels before 6.15 have no tcp_rto_max_ms (nor TCP_RTO_MAX_MS)
  }
}

function sockopsCgroup(want?: string): string | null {
  const v = want ?? process.env.SHIM6_CGROUP ?? 'cgroup2:/';
  return v === '' || v === 'none' ? null : v;
}

/** Attach shim6_sockops to the cgroup (or swap the program of the link
 * already there); remove the link when TCP feedback is off. Never throws:
 * the data plane works without it, the state says why it is missing. */
function attachSockops(pins: PinConfig, progFd: number | undefined, cgroup: string | null, rto: Pick<TcpFeedbackState, 'rtoMaxMs' | 'rtoBounded' | 'rtoMaxDefaultMs'>): TcpFeedbackState {
  const n = native();
  const pin = path.join(pins.pinDir, SOCKOPS_LINK);
  const st: TcpFeedbackState = { cgroup: null, ...rto, netnsCookie: n.netnsCookie().toString() };
  const prev = readState(pins)?.tcp;
  let fd: number | undefined;
  try {
    if (fs.existsSync(pin)) {
      fd = n.objGet(pin);
      const info = n.linkInfo(fd);
      if (!cgroup || !progFd || prev?.cgroup !== cgroup || !info.cgroupId) {
        n.closeFd(fd);
        fd = undefined;
        fs.unlinkSync(pin); // last reference: detached
      } else {
        n.linkUpdate(fd, progFd);
      }
    }
    if (!cgroup) return st;
    if (!progFd) throw new Error('this build has no shim6_sockops program');
    if (fd === undefined) {
      fd = withCgroup(cgroup, (dir) => n.cgroupLink(dir, progFd, 'sock_ops'));
      n.objPin(fd, pin);
    }
    return { ...st, cgroup, linkPin: pin, linkId: n.linkInfo(fd).id };
  } catch (err) {
    return { ...st, error: `attaching shim6_sockops to cgroup ${cgroup}: ${(err as Error).message}` };
  } finally {
    if (fd !== undefined) n.closeFd(fd);
  }
}

export function dataplaneUp(pins: PinConfig, opts: UpOptions): DataplaneState {
  const n = native();
  if (opts.uplinks.length === 0) throw new Shim6Error('SHIM6_ERR_USAGE', 'at least one uplink is needed (--uplink DEV)');
  const shimPeer = peerName(opts.shimDev);
  const uplinks = opts.uplinks.map((name) => {
    try {
      return { name, ifindex: n.ifNameToIndex(name) };
    } catch {
      throw new Shim6Error('SHIM6_ERR_NOT_FOUND', `no such uplink device '${name}'`);
    }
  });
  if (opts.uplinks.includes(opts.shimDev)) throw new Shim6Error('SHIM6_ERR_USAGE', 'the shim device cannot also be an uplink');
  const gso = chooseGso(opts.gso);
  const xdp = chooseXdp(opts.xdp);
  // TCP models its abort time (tcp_retries2) on the socket's RTO max: bound
  // half the retries at most, then give the namespace default back.
  const rto = {
    rtoMaxMs: tcpRtoMaxMs(opts.tcpRtoMaxMs),
    rtoBounded: Math.max(1, Math.floor(sysctlInt('tcp_retries2', 15) / 2)),
    rtoMaxDefaultMs: sysctlInt('tcp_rto_max_ms', 120000),
  };
  const cgroup = sockopsCgroup(opts.cgroup);
  const mtu = Math.min(...uplinks.map((u) => sys.linkShow(u.name)[0].mtu)) - L.PAYLOAD_HLEN;

  try {
    n.ensureBpffs(pins.bpffs);
    fs.mkdirSync(pins.pinDir, { recursive: true });
  } catch (err) {
    throw fromSystem(err, `preparing ${pins.pinDir}`);
  }

  const prev = readState(pins);
  const createdShim = ensureShimDevice(opts.shimDev, shimPeer, mtu, gso);
  const shimIfindex = n.ifNameToIndex(opts.shimDev);
  const peerIfindex = n.ifNameToIndex(shimPeer);
  let loaded;
  try {
    loaded = n.load({ pinDir: pins.pinDir, gsoMode: gso === 'head' ? L.GSO_HEAD : L.GSO_SEGMENT, segIfindex: peerIfindex,
      tcpRtoMaxMs: rto.rtoMaxMs, tcpRtoBounded: rto.rtoBounded, tcpRtoMaxDefaultMs: rto.rtoMaxDefaultMs, xdp: xdp !== 'off' });
  } catch (err) {
    const e = err as { code?: string };
    if (e.code === 'EINVAL' && fs.readdirSync(pins.pinDir).length > 0) {
      throw new Shim6Error('SHIM6_ERR_ABI', `pinned maps in ${pins.pinDir} do not match this build; 'shim6ctl dataplane down' removes them (and every context)`, undefined, { cause: err });
    }
    throw fromSystem(err, 'loading the BPF object');
  }
  const maps = DataplaneMaps.fromFds(loaded.maps as Record<L.MapName, number>);
  const progFds = loaded.progs;
  try {
    const abi = maps.abi();
    if (abi.magic === 0 && abi.version === 0) maps.setAbi();
    else if (abi.magic !== L.ABI_MAGIC || abi.version !== L.ABI_VERSION) {
      throw new Shim6Error('SHIM6_ERR_ABI', `pinned maps in ${pins.pinDir} are ABI ${abi.version} (magic ${abi.magic.toString(16)}), this build is ABI ${L.ABI_VERSION}; run 'shim6ctl dataplane down' first`);
    }
    n.tcAttach({ ifindex: shimIfindex, direction: 'egress', progFd: progFds.shim6_egress, priority: TC_PRIO, handle: TC_HANDLE });
    if (gso === 'segment') {
      n.tcAttach({ ifindex: shimIfindex, direction: 'ingress', progFd: progFds.shim6_peer_in, priority: TC_PRIO, handle: TC_HANDLE });
    } else {
      n.tcDetach({ ifindex: shimIfindex, direction: 'ingress', priority: TC_PRIO, handle: TC_HANDLE });
    }
    const groOn = new Set(prev?.groOn ?? []);
    for (const u of uplinks) {
      n.tcAttach({ ifindex: u.ifindex, direction: 'ingress', progFd: progFds.shim6_ingress, priority: TC_PRIO, handle: TC_HANDLE });
      // tc ingress first: it handles whatever shim6_xdp passes on.
      if (xdp === 'off') {
        if (prev?.xdp && prev.xdp !== 'off') xdpOff(u.ifindex);
        if (groOn.delete(u.name)) sys.setGro(u.name, false);
      } else {
        if (prev?.xdp && prev.xdp !== xdp) xdpOff(u.ifindex);
        n.xdpAttach({ ifindex: u.ifindex, progFd: progFds.shim6_xdp, mode: xdp });
        // Stripping before GRO is the point: GRO must be on (veth has it
        // off by default; with XDP attached it receives through NAPI + GRO).
        if (sys.groOn(u.name) === false) {
          sys.setGro(u.name, true);
          groOn.add(u.name);
        }
      }
    }
    // Uplinks dropped since the last `up` lose their filter.
    for (const old of prev?.uplinks ?? []) {
      if (!uplinks.some((u) => u.name === old.name)) {
        try { n.tcDetach({ ifindex: n.ifNameToIndex(old.name), direction: 'ingress', priority: TC_PRIO, handle: TC_HANDLE }); } catch { /* gone */ }
        if (prev?.xdp && prev.xdp !== 'off') try { xdpOff(n.ifNameToIndex(old.name)); } catch { /* gone */ }
        if (groOn.delete(old.name) && sys.linkExists(old.name)) sys.setGro(old.name, false);
      }
    }
    refreshUplinks(maps, uplinks);
    if (!sys.run('ip', ['-6', 'rule', 'show', 'pref', String(RULE_PREF)]).includes(`lookup ${ROUTE_TABLE}`)) {
      sys.run('ip', ['-6', 'rule', 'add', 'pref', String(RULE_PREF), 'not', 'fwmark', MARK, 'lookup', String(ROUTE_TABLE)]);
    }
    const tcp = attachSockops(pins, progFds.shim6_sockops, cgroup, rto);
    const st: DataplaneState = {
      version: 1, shimDev: opts.shimDev, shimPeer, uplinks, gso, xdp, groOn: [...groOn], mtu, pinDir: pins.pinDir,
      createdShim: createdShim || (prev?.createdShim ?? false), tcp,
    };
    writeState(pins, st);
    return st;
  } catch (err) {
    throw err instanceof Shim6Error ? err : fromSystem(err, 'dataplane up');
  } finally {
    maps.close();
    for (const fd of Object.values(progFds)) n.closeFd(fd);
  }
}

export function dataplaneDown(pins: PinConfig): { detached: number; removedPins: number } {
  const n = native();
  const st = readState(pins);
  let detached = 0;
  const tryDetach = (dev: string, direction: 'ingress' | 'egress') => {
    try {
      if (n.tcDetach({ ifindex: n.ifNameToIndex(dev), direction, priority: TC_PRIO, handle: TC_HANDLE })) detached++;
    } catch { /* device gone */ }
  };
  if (st) {
    for (const u of st.uplinks) {
      tryDetach(u.name, 'ingress');
      if (st.xdp && st.xdp !== 'off') try { if (xdpOff(n.ifNameToIndex(u.name))) detached++; } catch { /* device gone */ }
      if (st.groOn?.includes(u.name) && sys.linkExists(u.name)) sys.setGro(u.name, false);
    }
    tryDetach(st.shimDev, 'egress');
    tryDetach(st.shimDev, 'ingress');
    if (st.createdShim && sys.linkExists(st.shimDev)) sys.run('ip', ['link', 'del', st.shimDev]);
  }
  sys.run('ip', ['-6', 'route', 'flush', 'table', String(ROUTE_TABLE)], { allowFail: true });
  sys.run('ip', ['-6', 'rule', 'del', 'pref', String(RULE_PREF)], { allowFail: true });
  sys.run('ip', ['-6', 'rule', 'flush', 'pref', String(UPLINK_RULE_PREF)], { allowFail: true });
  for (const u of st?.uplinks ?? []) {
    sys.run('ip', ['-6', 'route', 'flush', 'table', String(UPLINK_TABLE_BASE + u.ifindex)], { allowFail: true });
  }
  let removedPins = 0;
  if (fs.existsSync(path.join(pins.pinDir, SOCKOPS_LINK))) detached++; // unpinned below: detached
  if (fs.existsSync(pins.pinDir)) {
    for (const f of fs.readdirSync(pins.pinDir)) {
      fs.unlinkSync(path.join(pins.pinDir, f));
      removedPins++;
    }
    fs.rmdirSync(pins.pinDir);
  }
  fs.rmSync(path.join(pins.stateDir, STATE_FILE), { force: true });
  return { detached, removedPins };
}

export interface AttachStatus { dev: string; direction: 'ingress' | 'egress' | 'xdp'; program?: string; progId?: number; attached: boolean }

export interface DataplaneStatus {
  up: boolean;
  pinDir: string;
  state?: DataplaneState;
  abi?: { magic: number; version: number; compatible: boolean };
  attachments: AttachStatus[];
  contexts?: number;
  /** GSO self-test: packets sent round the veth peer to be segmented, and
   * segments that came back. ok=false: the kernel drops them. */
  gso?: { loopOut: string; loopIn: string; ok: boolean };
  /** shim6_xdp: payload headers it stripped (packets, before GRO), and the
   * skbs they made after GRO (as tc ingress saw them). */
  xdp?: { mode: XdpMode; stripped: string; skbs: string };
  /** shim6_sockops (TCP feedback, RTO bound): attached to its cgroup, and
   * RTOs seen on shimmed pairs, backoffs bounded, bounds lifted, refusals. */
  tcp?: {
    cgroup: string | null; attached: boolean; program?: string; progId?: number; linkId?: number;
    rtoMaxMs: number; rtoBounded: number; error?: string;
    rtos: string; bounded: string; unbounded: string; boundErrors: string;
  };
}

function sockopsStatus(pins: PinConfig, t: TcpFeedbackState, maps: DataplaneMaps): NonNullable<DataplaneStatus['tcp']> {
  const n = native();
  const sum = (i: number): string => {
    const v = n.mapLookup(maps.fds.shim6_counters, Buffer.from(new Uint32Array([i]).buffer));
    let s = 0n;
    if (v) for (let off = 0; off + 8 <= v.length; off += 8) s += v.readBigUInt64LE(off);
    return s.toString();
  };
  const out: NonNullable<DataplaneStatus['tcp']> = {
    cgroup: t.cgroup, attached: false, rtoMaxMs: t.rtoMaxMs, rtoBounded: t.rtoBounded, error: t.error,
    rtos: sum(L.CNT_TCP_RTO), bounded: sum(L.CNT_TCP_BOUND), unbounded: sum(L.CNT_TCP_UNBOUND), boundErrors: sum(L.CNT_TCP_BOUND_ERR),
  };
  if (!t.cgroup) return out;
  try {
    const fd = n.objGet(path.join(pins.pinDir, SOCKOPS_LINK));
    try {
      const li = n.linkInfo(fd);
      out.linkId = li.id;
      out.progId = li.progId;
      // A link detached behind our back (or whose cgroup went) reports cgroup 0.
      out.attached = !!li.cgroupId;
      const pfd = n.progFdById(li.progId);
      try { out.program = n.progInfo(pfd).name; } finally { n.closeFd(pfd); }
    } finally {
      n.closeFd(fd);
    }
  } catch { /* no link */ }
  return out;
}

export function dataplaneStatus(pins: PinConfig): DataplaneStatus {
  const n = native();
  const st = readState(pins);
  const out: DataplaneStatus = { up: false, pinDir: pins.pinDir, state: st, attachments: [] };
  if (st) {
    const hooks: Array<[string, 'ingress' | 'egress' | 'xdp']> = [[st.shimDev, 'egress'], ...st.uplinks.map((u) => [u.name, 'ingress'] as [string, 'ingress'])];
    if (st.gso === 'segment') hooks.push([st.shimDev, 'ingress']);
    if (st.xdp && st.xdp !== 'off') for (const u of st.uplinks) hooks.push([u.name, 'xdp']);
    for (const [dev, direction] of hooks) {
      const a: AttachStatus = { dev, direction, attached: false };
      try {
        const ifindex = n.ifNameToIndex(dev);
        const id = direction === 'xdp'
          ? n.xdpQuery({ ifindex, mode: st.xdp === 'generic' ? 'generic' : 'native' })
          : n.tcQuery({ ifindex, direction, priority: TC_PRIO, handle: TC_HANDLE });
        if (id !== null) {
          const fd = n.progFdById(id);
          try { a.program = n.progInfo(fd).name; } finally { n.closeFd(fd); }
          a.progId = id;
          a.attached = true;
        }
      } catch { /* device gone */ }
      out.attachments.push(a);
    }
  }
  try {
    const maps = DataplaneMaps.open(pins.pinDir);
    try {
      const abi = maps.abi();
      out.abi = { ...abi, compatible: abi.magic === L.ABI_MAGIC && abi.version === L.ABI_VERSION };
      out.contexts = maps.ctxIds().length;
      const c = maps.counters();
      out.gso = { loopOut: c.gsoLoopOut.toString(), loopIn: c.gsoLoopIn.toString(), ok: c.gsoLoopOut === 0n || c.gsoLoopIn >= c.gsoLoopOut };
      out.xdp = { mode: st?.xdp ?? 'off', stripped: c.xdpStripped.toString(), skbs: c.xdpSkbs.toString() };
      if (st?.tcp) out.tcp = sockopsStatus(pins, st.tcp, maps);
    } finally {
      maps.close();
    }
  } catch { /* not up */ }
  out.up = !!st && out.attachments.length > 0 && out.attachments.every((a) => a.attached) && !!out.abi?.compatible;
  return out;
}
