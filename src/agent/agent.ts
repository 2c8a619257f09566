// shim6d: the Shim6 agent. It owns the context core (src/context) and does
// its I/O: a raw socket for protocol 140, a raw ICMPv6 socket for Parameter
// Problems, the data plane's ring buffer of events, rtnetlink for the host's
// addresses, the BPF maps (contexts reaching ESTABLISHED are written there),
// one timer for the core's deadlines, a state file for restarts, and a Unix
// socket for shim6ctl and applications.
import crypto from 'node:crypto';
import path from 'node:path';
import type { Logger } from 'pino';
import { ShimHost, ContextState, type ContextAction, type ContextSnapshot, type LocalLocatorSet } from '../context/index.js';
import { pinConfig, type PinConfig } from '../dataplane/pins.js';
import { dataplaneDown, dataplaneUp, refreshUplinks, ROUTE_TABLE, type DataplaneState } from '../dataplane/loader.js';
import { DataplaneMaps, pairSlot, tagSlot, type CtxStats, type StatsSnapshot } from '../dataplane/maps.js';
import { contextDel, writeContext, type HostOps } from '../dataplane/context.js';
import * as sys from '../dataplane/sys.js';
import * as L from '../generated/layout.js';
import { native } from '../native.js';
import type { Socket as NativeSocket, RingBuffer as NativeRingBuffer, SocketMessage } from '../../native/index.js';
import { AddressTable, decodeMessages, encodeAddrRequest, encodeDumpRequest, encodeRouteRequest, IFA_F_NODAD, IFA_F_NOPREFIXROUTE, isEmptyDiff, NetlinkRequests, RTMGRP_IPV6_IFADDR, RTMGRP_IPV6_ROUTE, RTMGRP_LINK, RTPROT_SHIM6, type NetlinkEvent } from '../netlink/index.js';
import { formatIpv6, isPayloadHeader } from '../wire/index.js';
import { parseIpv6 as ipv6OrNull } from '../wire/addr.js';
import { Shim6Error } from '../errors.js';
import type { AgentConfig } from './config.js';
import { ControlError, ControlServer } from './control.js';
import { loadOrGenerateHbaSet, type StoredHbaSet } from './hba-store.js';
import { StateStore, type JournalLine, type StateEntry } from './state.js';
import { localLocatorSet, locatorSetKey } from './locals.js';
import { ReapDriver, type ReapView } from './reap.js';
import { AgentApiBackend } from './api-backend.js';
import { ApiServer } from '../api/server.js';
import { AgentHistograms, serveMetrics, type MetricsSnapshot } from './metrics.js';
import { setLogLevel } from './service.js';
import type http from 'node:http';
import { trace, traceAt, traceFlush, tracing } from './trace.js';

/** Context ids the agent allocates; below are left to static contexts (shim6ctl context add). */
export const AGENT_ID_MIN = 0x4000;
export const AGENT_ID_MAX = L.MARK_CTX_MASK;
const IPPROTO_ICMPV6 = 58;
const ICMP6_PARAM_PROB = 4;
const IDLE_SWEEP_MS = 60_000;

/** crypto.randomBytes through a 4 KiB pool: the core draws a few bytes at a time. */
function pooledRandom(): (n: number) => Uint8Array {
  let pool = Buffer.alloc(0);
  let off = 0;
  return (n: number): Uint8Array => {
    if (n > 1024) return new Uint8Array(crypto.randomBytes(n));
    if (off + n > pool.length) {
      pool = crypto.randomBytes(4096);
      off = 0;
    }
    const out = new Uint8Array(pool.subarray(off, off + n));
    off += n;
    return out;
  };
}

/** Milliseconds on CLOCK_MONOTONIC: the clock of the data plane's stamps (bpf_ktime_get_ns). */
export function monoMs(): number {
  return Number(process.hrtime.bigint()) / 1e6;
}

const hex = (b: Uint8Array): string => Buffer.from(b).toString('hex');
const tagText = (t: bigint | null): string | null => (t === null ? null : `0x${t.toString(16)}`);

/** The data plane holds a context exactly in these states (RFC 5533 §11). */
function held(s: ContextSnapshot): boolean {
  return (s.state === ContextState.Established || s.state === ContextState.I2bisSent) && s.ctLocal !== null && s.ctPeer !== null;
}

export interface AgentCounters {
  rxControl: number;
  rxPayloadSeen: number;
  txControl: number;
  /** Control messages sent, by kind (I1, R2, UpdateAck, Probe, ...). */
  txByKind: Record<string, number>;
  txErrors: number;
  icmpParamProblems: number;
  events: Record<string, number>;
  triggers: number;
  netlinkResyncs: number;
  installs: number;
  installErrors: number;
}

export class Agent {
  readonly cfg: AgentConfig;
  readonly log: Logger;
  readonly pins: PinConfig;
  readonly socketPath: string;
  readonly counters: AgentCounters = {
    rxControl: 0, rxPayloadSeen: 0, txControl: 0, txByKind: {}, txErrors: 0, icmpParamProblems: 0, events: {}, triggers: 0,
    netlinkResyncs: 0, installs: 0, installErrors: 0,
  };

  #st!: DataplaneState;
  #maps!: DataplaneMaps;
  #host!: ShimHost;
  #hba: StoredHbaSet | null = null;
  #locals!: LocalLocatorSet;
  #localsKey = '';
  #raw: NativeSocket | null = null;
  #icmp: NativeSocket | null = null;
  #nl: NativeSocket | null = null;
  #rb: NativeRingBuffer | null = null;
  #server: ControlServer | null = null;
  #api: ApiServer | null = null;
  #metrics: http.Server | null = null;
  #apiBackend!: AgentApiBackend;
  readonly apiPath: string;
  #timer: NodeJS.Timeout | null = null;
  #idleTimer: NodeJS.Timeout | null = null;
  #routeTimer: NodeJS.Timeout | null = null;
  #gateways = '';
  #store!: StateStore;
  #reap!: ReapDriver;
  /** The previous batched read of the stats map (see #sampleChanged). */
  #statsPrev = new Map<number, string>(); // id → its counters at the last sampling round
  readonly #slotOf = new Map<number, number>(); // id → home slot of its pair in shim6_tx
  readonly #keyOf = new Map<number, Buffer>(); // id → its encoded ULID key (shim6_ulid, for an overflowed pair)
  /** Counter words of every context at the last sampling round, SAMPLE_WORDS per id (see #sampleChanged). */
  #prevWords = new Uint32Array(0);
  /** What the state files hold, by CT(local) hex. */
  readonly #persisted = new Map<string, StateEntry>();
  readonly #addrs = new AddressTable();
  readonly #ids = new Map<bigint, number>(); // CT(local) → data-plane context id
  readonly #idsUsed = new Set<number>(); // the values of #ids (#bind/#unbind keep both)
  #nextId = AGENT_ID_MIN;
  /** Contexts announced to API subscribers as established (so 'lost' pairs with one). */
  readonly #announced = new Set<bigint>();
  readonly #uplinkIndexes = new Set<number>();
  readonly #nlReq = new NetlinkRequests();
  #shimIfindex = 0;
  #dump: { seq: number; kind: 'link' | 'addr'; events: NetlinkEvent[]; resolve: () => void } | null = null;
  #dumpQueue: Array<{ kind: 'link' | 'addr'; resync: boolean }> = [];
  #dumpAllDone: (() => void) | null = null;
  #stopping = false;
  readonly startedAt = monoMs();
  /** Prometheus histograms (failover, outage, probes, context setup, API latency). */
  readonly histograms = new AgentHistograms();
  #ready = false;

  constructor(cfg: AgentConfig, log: Logger) {
    this.cfg = cfg;
    this.log = log;
    this.pins = pinConfig({ bpffs: cfg.bpffs, stateRoot: cfg.runDir });
    this.socketPath = cfg.apiSocket ?? path.join(this.pins.stateDir, 'shim6d.sock');
    this.apiPath = cfg.apiPath ?? path.join(this.pins.stateDir, 'api.sock');
  }

  get host(): ShimHost {
    return this.#host;
  }

  // ------------------------------------------------------------------ start

  async start(): Promise<void> {
    const t0 = monoMs();
    const n = native();
    // 1. The data plane: load it, or re-attach to the pinned maps (contexts kept).
    this.#st = dataplaneUp(this.pins, {
      uplinks: [...this.cfg.uplinks], shimDev: this.cfg.shimDev, gso: this.cfg.gso,
      ...(this.cfg.tcpRtoMaxMs !== undefined ? { tcpRtoMaxMs: this.cfg.tcpRtoMaxMs } : {}),
      ...(this.cfg.cgroup !== undefined ? { cgroup: this.cfg.cgroup } : {}),
    });
    this.#maps = DataplaneMaps.open(this.pins.pinDir);
    this.#shimIfindex = n.ifNameToIndex(this.#st.shimDev);
    for (const u of this.#st.uplinks) this.#uplinkIndexes.add(u.ifindex);
    for (const r of this.cfg.shimRoutes) {
      // First packets to these destinations pass the shim device, whose program reports them (trigger).
      sys.run('ip', ['-6', 'route', 'replace', r, 'dev', this.cfg.shimDev, 'mtu', String(this.#st.mtu), 'table', String(ROUTE_TABLE)]);
    }
    // 2. The HBA set, and its addresses on the uplinks.
    if (this.cfg.hba) {
      const { set, generated, ms } = loadOrGenerateHbaSet(this.cfg.stateDir, this.cfg.prefixes);
      this.#hba = set;
      this.log.info({ event: 'hba-set', generated, ms: Math.round(ms), addresses: set.addresses.map(formatIpv6), prefixes: set.prefixes }, generated ? 'generated the HBA set' : 'loaded the HBA set');
      if (this.cfg.configureAddresses) this.#configureHbaAddresses();
    }
    // 3. Sockets: rtnetlink first (the locator set), then Shim6 and ICMPv6.
    this.#nl = new n.Socket('netlink', 0, (m) => this.#onNetlink(m), { groups: RTMGRP_LINK | RTMGRP_IPV6_IFADDR | RTMGRP_IPV6_ROUTE, rcvbuf: 1 << 20 });
    await this.#dumpAll(false);
    this.#locals = this.#computeLocals();
    this.#localsKey = locatorSetKey(this.#locals);
    refreshUplinks(this.#maps, this.#st.uplinks);
    this.#gateways = this.#st.uplinks.map((u) => sys.defaultGateway(u.name) ?? '-').join(',');
    this.#host = new ShimHost({
      random: pooledRandom(),
      locators: this.#locals,
      timers: this.cfg.timers,
      // A non-default Send Timeout must be announced (RFC 5534 §5.3) so the
      // peer sends keepalives often enough.
      ...(this.cfg.reap.sendTimeoutMs !== undefined && this.cfg.reap.sendTimeoutMs !== 15_000
        ? { keepaliveTimeoutSec: Math.max(1, Math.floor(this.cfg.reap.sendTimeoutMs / 1000)) }
        : {}),
    });
    this.#reap = new ReapDriver(this.cfg.reap, {
      send: (src, dst, bytes, kind, ct) => this.#send(src, dst, bytes, kind, ct),
      switchPair: (ct, pair, reason) => {
        const r = this.#host.setCurrentPair(monoMs(), ct, pair);
        if (r.ok) this.#perform(r.actions);
        else this.log.warn({ event: 'switch-refused', ct: tagText(ct), reason: r.reason, why: reason }, 'the core refused REAP\'s pair');
      },
      sample: (ct) => this.#sample(ct),
      changed: () => this.#sampleChanged(),
      log: (level, fields, msg) => this.log[level](fields, msg),
      failover: (_ct, f) => {
        this.histograms.observe('reapFailover', f.detectToSwitchMs / 1000);
        this.histograms.observe('reapProbes', f.probes);
        if (f.outageMs !== null) this.histograms.observe('reapOutage', f.outageMs / 1000);
      },
      pathEvent: (ct, type) => {
        const s = this.#host.context({ ctLocal: ct });
        if (s) this.#apiBackend?.emit({ type, ctx: s, local: s.lpLocal, peer: s.lpPeer });
      },
      stage: (ct, staged) => this.#stageStandby(ct, staged),
    });
    this.#raw = new n.Socket('raw6', L.NEXTHDR, (m) => this.#onShim6(m), { mark: L.MARK_MAGIC, rcvbuf: 1 << 21 });
    this.#restore();
    this.#icmp = new n.Socket('raw6', IPPROTO_ICMPV6, (m) => this.#onIcmp(m), { icmp6Pass: [ICMP6_PARAM_PROB] });
    this.#rb = new n.RingBuffer(this.#maps.fds.shim6_events, (rec) => this.#onEvent(rec));
    // 4. The control socket.
    this.#server = new ControlServer(this.socketPath, (e) => this.log.warn({ err: e }, 'control socket error'));
    this.#registerMethods(this.#server);
    await this.#server.listen();
    // 5. The RFC 6316 API (SOL_SHIM) for applications.
    this.#apiBackend = new AgentApiBackend({
      host: () => this.#host,
      reap: () => this.#reap,
      addresses: () => this.#addrs,
      // Whoever asks for the socket map may write policies: egress must ask.
      sockMapFd: () => { this.#maps.openSockPolicyGate(); return this.#maps.fds.shim6_sock; },
      held: (ct) => this.#ids.has(ct),
      prefsChanged: (ct) => {
        const s = this.#host.context({ ctLocal: ct });
        if (s) this.#sync(s);
        this.#schedule();
      },
      rxPair: (ct) => {
        const id = this.#ids.get(ct);
        return id === undefined ? null : this.#maps.rxPair(id);
      },
      trigger: (ulidLocal, ulidPeer, fii) => {
        this.log.info({ event: 'fork', ulidLocal: formatIpv6(ulidLocal), ulidPeer: formatIpv6(ulidPeer), fii }, 'context fork for a socket (RFC 6316 §11.1)');
        this.#perform(this.#host.trigger(monoMs(), { ulidLocal, ulidPeer, fii }));
        this.#schedule();
      },
      removeContext: (ct) => {
        this.#perform(this.#host.removeContext(monoMs(), { ctLocal: ct }));
        this.#schedule();
      },
      setPair: (ct, local, peer) => {
        const r = this.#host.setCurrentPair(monoMs(), ct, { local, peer });
        if (!r.ok) return false;
        // The application's choice: REAP starts over on the new pair (as for an operator's).
        this.#reap.remove(ct);
        this.#perform(r.actions);
        this.#schedule();
        return true;
      },
      now: monoMs,
    });
    this.#api = new ApiServer({
      backend: this.#apiBackend, path: this.apiPath, mode: this.cfg.apiMode, group: this.cfg.apiGroup, log: this.log,
      observe: (_r, seconds) => this.histograms.observe('apiRequest', seconds),
      sockMapFd: this.#maps.fds.shim6_sock,
    });
    await this.#api.listen();
    if (this.cfg.metrics) this.#metrics = await serveMetrics(this.cfg.metrics, () => this.metrics());
    this.#idleTimer = setInterval(() => this.#sweepIdle(), IDLE_SWEEP_MS);
    this.#idleTimer.unref();
    this.#schedule();
    this.#ready = true;
    this.log.info({
      event: 'ready', ms: Math.round(monoMs() - t0), socket: this.socketPath, uplinks: this.#st.uplinks.map((u) => u.name),
      locators: this.#locals.locators.map((l) => `${formatIpv6(l.addr)} ${l.method}`), contexts: this.#ids.size,
    }, 'shim6d ready');
  }

  #configureHbaAddresses(): void {
    const hba = this.#hba!;
    // An HBA goes on the uplink where its prefix is on-link (has an address in it).
    const rows = sys.ipJson<Array<{ ifname: string; addr_info: Array<{ local: string; prefixlen: number; family: string; scope: string }> }>>(['-6', 'addr', 'show']);
    hba.addresses.forEach((a, i) => {
      const pfx = hex(a.subarray(0, 8));
      const dev = this.cfg.uplinks.find((u) => rows.find((r) => r.ifname === u)?.addr_info.some((x) => x.family === 'inet6' && x.scope === 'global' && x.prefixlen === 64 && sameHex(x.local, pfx)));
      if (!dev) {
        this.log.warn({ event: 'hba-address-unplaced', address: formatIpv6(a), prefix: hba.prefixes[i] }, 'no uplink has this prefix on-link; the address is not configured');
        return;
      }
      sys.run('ip', ['-6', 'addr', 'replace', `${formatIpv6(a)}/64`, 'dev', dev, 'noprefixroute']);
    });
  }

  // ------------------------------------------------------------------- stop

  async stop(reason = 'stop'): Promise<void> {
    if (this.#stopping) return;
    this.#stopping = true;
    if (this.#timer) clearTimeout(this.#timer);
    if (this.#idleTimer) clearInterval(this.#idleTimer);
    if (this.#routeTimer) clearTimeout(this.#routeTimer);
    this.#rb?.close();
    this.#raw?.close();
    this.#icmp?.close();
    this.#nl?.close();
    await this.#server?.close().catch(() => {});
    await this.#api?.close().catch(() => {});
    this.#apiBackend?.close();
    this.#metrics?.close();
    if (this.#ready) this.#compact();
    if (this.cfg.teardownOnExit && this.#ready) {
      for (const [ct] of [...this.#ids]) this.#uninstall(ct);
      this.#store.remove();
      this.#maps.close();
      dataplaneDown(this.pins);
    } else {
      this.#maps?.close();
    }
    traceFlush();
    this.log.info({ event: 'stopped', reason, contexts: this.#ids.size, kept: !this.cfg.teardownOnExit }, 'shim6d stopped');
  }

  /** SIGHUP: dump addresses and links again, rebuild the uplink tables. */
  resync(): Promise<void> {
    if (this.#stopping || !this.#ready) return Promise.resolve();
    this.log.info({ event: 'resync' }, 'SIGHUP: re-reading addresses and routes');
    this.#gateways = '';
    return this.#dumpAll(true).then(() => this.#routesChanged());
  }

  // ----------------------------------------------------------- core driving

  #perform(actions: readonly ContextAction[]): void {
    trace('perform');
    this.#persist(actions);
    trace('persisted');
    for (const a of actions) {
      switch (a.type) {
        case 'send':
          this.#send(a.src, a.dst, a.bytes, a.kind, a.ctLocal);
          break;
        case 'context-established':
          this.#ctxLog(a.ctx).info({ event: 'established', ulidLocal: formatIpv6(a.ctx.ulidLocal), ulidPeer: formatIpv6(a.ctx.ulidPeer), ctPeer: tagText(a.ctx.ctPeer), setupMs: Math.round(monoMs() - a.ctx.createdAt), mono: monoMs() }, 'context established');
          // Set up now (not restored from the state files at start).
          if (this.#ready) this.histograms.observe('contextSetup', Math.max(0, monoMs() - a.ctx.createdAt) / 1000);
          trace('est-logged');
          this.#sync(a.ctx);
          trace('est-synced');
          if (a.ctx.ctLocal !== null) this.#announced.add(a.ctx.ctLocal);
          this.#apiBackend?.emit({ type: 'established', ctx: a.ctx, local: a.ctx.lpLocal, peer: a.ctx.lpPeer });
          break;
        case 'context-updated':
          trace('updated');
          this.#ctxLog(a.ctx).info({ event: 'updated', changes: a.changes, state: a.ctx.state, lp: `${formatIpv6(a.ctx.lpLocal)} -> ${formatIpv6(a.ctx.lpPeer)}` }, 'context updated');
          // One place for every pair change: REAP, an operator, the peer's
          // Update. The API hears it as soon as the data plane holds the pair
          // (stamped then), before REAP restarts on it.
          this.#switchedNs = 0n;
          this.#sync(a.ctx, a.changes.includes('pair')
            ? () => this.#apiBackend?.emit({ type: 'pair-changed', ctx: a.ctx, local: a.ctx.lpLocal, peer: a.ctx.lpPeer, atNs: this.#switchedNs || undefined })
            : undefined);
          break;
        case 'context-removed':
          this.#ctxLog(a.ctx).info({ event: 'removed', reason: a.reason }, 'context removed');
          if (a.ctx.ctLocal !== null) {
            this.#uninstall(a.ctx.ctLocal);
            if (this.#announced.delete(a.ctx.ctLocal)) this.#apiBackend?.emit({ type: 'lost', ctx: a.ctx });
          }
          break;
        case 'negative-cache':
          this.log.info({ event: 'negative-cache', peer: formatIpv6(a.peer), reason: a.reason, forMs: Math.round(a.until - monoMs()) }, 'peer negatively cached');
          break;
        case 'reap-message':
          if (a.ctx.ctLocal !== null) this.#reap.receive(monoMs(), a.ctx.ctLocal, a.msg, { src: a.src, dst: a.dst });
          break;
        case 'log': {
          const fields: Record<string, unknown> = { event: a.event };
          if (a.reason) fields.reason = a.reason;
          if (a.ctLocal !== undefined) fields.ct = tagText(a.ctLocal);
          if (a.detail) fields.detail = a.detail;
          this.log[a.level](fields, a.event);
          break;
        }
      }
    }
  }

  #ctxLog(ctx: ContextSnapshot): Logger {
    return this.log.child({ ct: tagText(ctx.ctLocal) });
  }

  #send(src: Uint8Array, dst: Uint8Array, bytes: Uint8Array, kind: string, ct: bigint | null): void {
    if (tracing) trace(`tx-${kind}`);
    try {
      this.#raw?.send(Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength), Buffer.from(dst), Buffer.from(src));
      this.counters.txControl++;
      this.counters.txByKind[kind] = (this.counters.txByKind[kind] ?? 0) + 1;
      if (tracing) trace(`sent-${kind}`);
      if (this.log.isLevelEnabled('debug')) this.log.debug({ event: 'tx', kind, src: formatIpv6(src), dst: formatIpv6(dst), ct: tagText(ct), len: bytes.length }, 'sent');
    } catch (err) {
      this.counters.txErrors++;
      this.log.warn({ event: 'tx-error', kind, src: formatIpv6(src), dst: formatIpv6(dst), code: (err as { code?: string }).code }, 'sending a control message failed');
    }
  }

  #schedule(): void {
    if (this.#stopping || !this.#host || !this.#reap) return;
    if (this.#timer) clearTimeout(this.#timer);
    this.#timer = null;
    const d = Math.min(this.#host.nextDeadline() ?? Infinity, this.#reap.nextDeadline());
    if (d === Infinity) return;
    this.#timer = setTimeout(() => {
      this.#timer = null;
      this.#guard('timer', () => this.#perform(this.#host.tick(monoMs())));
      this.#guard('reap', () => this.#reap.tick(monoMs()));
      this.#schedule();
    }, Math.max(0, Math.ceil(d - monoMs())));
  }

  /** Run an input handler; nothing from the network may take the agent down. */
  #guard(what: string, f: () => void): void {
    try {
      f();
    } catch (err) {
      this.log.error({ event: 'handler-error', what, err }, 'input handler failed');
    }
  }

  #onShim6(m: SocketMessage): void {
    if (this.#stopping) return;
    this.#guard('shim6', () => {
      if (!m.data || !m.src || !m.dst) return;
      if (m.data.length >= 8 && isPayloadHeader(m.data)) {
        // Payload the data plane did not take: it reported it on the ring buffer.
        this.counters.rxPayloadSeen++;
        return;
      }
      this.counters.rxControl++;
      if (tracing) trace(`rx-${m.data[2] & 0x7f}`);
      const actions = this.#host.receive(monoMs(), { src: new Uint8Array(m.src), dst: new Uint8Array(m.dst), bytes: new Uint8Array(m.data) });
      trace('core');
      this.#perform(actions);
      trace('done');
    });
    this.#schedule();
    trace('scheduled');
  }

  #onIcmp(m: SocketMessage): void {
    if (this.#stopping) return;
    this.#guard('icmp', () => {
      if (!m.data || m.data.length < 8 || m.data[0] !== ICMP6_PARAM_PROB) return;
      this.counters.icmpParamProblems++;
      this.#perform(this.#host.icmpParameterProblem(monoMs(), { code: m.data[1], packet: new Uint8Array(m.data.subarray(8)) }));
    });
    this.#schedule();
  }

  #onEvent(rec: Buffer): void {
    if (this.#stopping) return;
    this.#guard('event', () => {
      if (rec.length < 64) return;
      const ev = L.decodeShim6Event(rec);
      const name = ev.type === L.EV_NO_CONTEXT ? 'no-context' : ev.type === L.EV_UNKNOWN_TAG ? 'unknown-tag' : ev.type === L.EV_BAD_LOCATOR ? 'bad-locator' : ev.type === L.EV_TCP_RTO ? 'tcp-rto' : ev.type === L.EV_STANDBY ? 'standby-switch' : `type-${ev.type}`;
      this.counters.events[name] = (this.counters.events[name] ?? 0) + 1;
      const now = monoMs();
      if (ev.type === L.EV_NO_CONTEXT) {
        // Deferred context setup (RFC 5533 §7.7): the flow already runs on
        // the ULIDs; start the exchange at its first packet.
        this.counters.triggers++;
        traceAt('pkt', Number(ev.tsNs) / 1e6);
        trace('trigger');
        // The I1 leaves first; the record (stamped on arrival) after it.
        this.#perform(this.#host.trigger(now, { ulidLocal: ev.src, ulidPeer: ev.dst }));
        trace('done');
        this.log.info({ event: 'trigger', ulidLocal: formatIpv6(ev.src), ulidPeer: formatIpv6(ev.dst), packetMono: Number(ev.tsNs) / 1e6, mono: now }, 'first packet of a ULID pair');
      } else if (ev.type === L.EV_TCP_RTO) {
        // TCP timed out on a shimmed ULID pair (sock_ops): negative feedback
        // from the upper layer (RFC 5534 §4.2) starts REAP's exploration now
        // instead of after the Send Timeout. Ignored while exploring.
        const s = this.#host.context({ ulidLocal: ev.src, ulidPeer: ev.dst });
        // A retransmission that is not an RTO (rtos = 0: tail-loss probe,
        // fast retransmit) while the pair still delivers is TCP recovering
        // from a loss or reordering, not a broken path: exploring on it made
        // every path switch (reordering, retransmissions) start the next
        // exploration, and a bulk stream never settled (fail-back never came).
        if (ev.ifindex === 0 && s?.ctLocal != null) {
          const last = this.#sample(s.ctLocal)?.lastRx;
          if (last !== undefined && now - last < Agent.RETRANS_QUIET_MS) {
            this.counters.events['tcp-retrans-ignored'] = (this.counters.events['tcp-retrans-ignored'] ?? 0) + 1;
            return;
          }
        }
        if (s?.ctLocal != null && s.state === ContextState.Established && this.#reap.feedback(now, s.ctLocal, 'tcp-rto')) {
          this.#ctxLog(s).debug({ event: 'tcp-rto', rtos: ev.ifindex }, 'TCP retransmission timeout: REAP feedback');
        }
      } else if (ev.type === L.EV_STANDBY) {
        // shim6_sockops moved the context to its staged standby pair at a TCP
        // retransmission. REAP follows (feedback: hot-standby switch to the
        // same pair, then exploration on it); the maps are then rewritten from
        // the core, so a pair REAP did not choose never stays.
        const id = Number(ev.tag);
        const ct = [...this.#ids].find(([, v]) => v === id)?.[0];
        const s = ct === undefined ? undefined : this.#host.context({ ctLocal: ct });
        if (ct !== undefined && s) {
          this.log.info({ event: 'dataplane-standby', ct: tagText(ct), local: formatIpv6(ev.src), peer: formatIpv6(ev.dst), packetMono: Number(ev.tsNs) / 1e6, mono: now }, 'the data plane moved the context to its hot-standby pair');
          // The API's pair-changed event is stamped with the packet's switch, not ours.
          this.#dataplaneSwitchNs = ev.tsNs;
          try {
            this.#reap.dataplaneSwitched(now, ct, { local: ev.src, peer: ev.dst });
            const after = this.#host.context({ ctLocal: ct });
            if (after && held(after)) this.#sync(after);
          } finally {
            this.#dataplaneSwitchNs = null;
          }
        }
      } else if (ev.type === L.EV_UNKNOWN_TAG || ev.type === L.EV_BAD_LOCATOR) {
        this.#perform(this.#host.payloadWithUnknownTag(now, { src: ev.src, dst: ev.dst, tag: ev.tag & BigInt(L.CT_MASK) }));
      }
    });
    this.#schedule();
  }

  // ---------------------------------------------------------------- rtnetlink

  #onNetlink(m: SocketMessage): void {
    if (this.#stopping) return;
    this.#guard('netlink', () => {
      if (m.error) {
        // ENOBUFS: the kernel dropped notifications; our view is stale.
        this.log.warn({ event: 'netlink-overrun', code: m.error }, 'netlink events lost; re-reading addresses');
        void this.#dumpAll(true);
        return;
      }
      if (!m.data) return;
      const evs = this.#nlReq.handle(decodeMessages(new Uint8Array(m.data)));
      const dump = this.#dump;
      const live: NetlinkEvent[] = [];
      for (const ev of evs) {
        if (ev.kind !== 'malformed' && dump && ev.seq === dump.seq) {
          if (ev.kind === 'done' || ev.kind === 'error') {
            this.#dump = null;
            dump.events.push(...live.splice(0));
            dump.resolve();
          } else dump.events.push(ev);
        } else if (ev.kind === 'overrun') {
          void this.#dumpAll(true);
        } else if (ev.kind === 'malformed') {
          this.log.warn({ event: 'netlink-malformed', reason: ev.reason }, 'malformed netlink message');
        } else live.push(ev);
      }
      // A default route came or went (not one of ours): the uplink gateways may have changed.
      if (live.some((e) => e.kind === 'route' && e.dstLen === 0 && e.protocol !== RTPROT_SHIM6)) this.#routesChanged();
      if (live.length > 0) this.#addressesChanged(this.#addrs.applyAll(live));
    });
    this.#schedule();
  }

  /** Dump links then addresses (one dump at a time per socket). */
  async #dumpAll(resync: boolean): Promise<void> {
    if (resync) this.counters.netlinkResyncs++;
    const events: NetlinkEvent[] = [];
    for (const kind of ['link', 'addr'] as const) {
      await new Promise<void>((resolve) => {
        const seq = this.#nlReq.next();
        this.#dump = { seq, kind, events, resolve };
        try {
          this.#nl!.send(Buffer.from(encodeDumpRequest(kind, seq)));
        } catch (err) {
          this.#dump = null;
          this.log.error({ event: 'netlink-dump-failed', err }, 'netlink dump request failed');
          resolve();
        }
      });
    }
    const diff = resync ? this.#addrs.resync(events) : this.#addrs.applyAll(events);
    if (this.#host) this.#addressesChanged(diff);
  }

  /**
   * Routes changed (an uplink's default route came back after its link did,
   * or went away): rebuild the uplink tables, at most every 100 ms.
   */
  #routesChanged(): void {
    if (this.#routeTimer) return;
    this.#routeTimer = setTimeout(() => {
      this.#routeTimer = null;
      if (this.#stopping) return;
      this.#guard('routes', () => {
        // Our own uplink tables change routes too: act only when a gateway did.
        const gws = this.#st.uplinks.map((u) => sys.defaultGateway(u.name) ?? '-').join(',');
        if (gws === this.#gateways) return;
        this.#gateways = gws;
        this.log.info({ event: 'gateways', gateways: gws }, 'uplink gateways changed');
        refreshUplinks(this.#maps, this.#st.uplinks);
        for (const s of this.#host.contexts()) if (held(s)) this.#sync(s);
      });
    }, 100);
  }

  #computeLocals(): LocalLocatorSet {
    return localLocatorSet(this.#addrs.addresses(), this.#uplinkIndexes, this.#hba);
  }

  #addressesChanged(diff: ReturnType<AddressTable['apply']>): void {
    if (!this.#host || isEmptyDiff(diff)) return;
    // Only uplink addresses are locators (the shim device holds ULID anchors).
    const mine = (l: readonly { ifindex: number }[]) => l.some((a) => this.#uplinkIndexes.has(a.ifindex));
    if (!mine(diff.added) && !mine(diff.removed) && !mine(diff.changed)) return;
    const set = this.#computeLocals();
    const key = locatorSetKey(set);
    this.log.info({
      event: 'addresses', added: diff.added.map((a) => a.address), removed: diff.removed.map((a) => a.address), changed: diff.changed.map((a) => a.address),
    }, 'local addresses changed');
    // Contexts first: a locator that went away (link down) moves its contexts
    // to another pair now. The uplink tables are rebuilt after, with `ip`
    // processes that take tens of milliseconds each; the pairs contexts move
    // to are on uplinks whose entries are already in the map.
    if (key !== this.#localsKey) {
      this.#locals = set;
      this.#localsKey = key;
      this.#perform(this.#host.localLocatorsChanged(monoMs(), set));
      this.#schedule();
    }
    // Uplink tables and the locator → uplink map follow the addresses.
    try {
      refreshUplinks(this.#maps, this.#st.uplinks);
    } catch (err) {
      this.log.error({ event: 'uplinks-refresh-failed', err }, 'refreshing uplink tables failed');
    }
    // Uplink ifindexes may have moved under unchanged pairs.
    for (const s of this.#host.contexts()) if (held(s)) this.#sync(s);
  }

  // ------------------------------------------------------------ data plane

  /**
   * The ULID anchor and the peer ULID's route go over the netlink socket
   * (one datagram each, acknowledged asynchronously): spawning `ip` for them
   * cost 10–25 ms of CPU per context.
   */
  readonly #hostOps: HostOps = {
    install: (st, r) => {
      // A ULID is anchored once (the anchor stays until the shim device goes):
      // not again for each of its contexts (a request, a notification to read).
      if (!this.#addrs.has(this.#shimIfindex, r.ulidLocal)) {
        this.#nlRequest('anchor', (seq) => encodeAddrRequest('new', seq, {
          ifindex: this.#shimIfindex, address: r.ulidLocal, prefixLen: 128, flags: IFA_F_NODAD | IFA_F_NOPREFIXROUTE, replace: true,
        }));
      }
      if (r.fii === 0) {
        this.#nlRequest('peer-route', (seq) => encodeRouteRequest('new', seq, {
          table: ROUTE_TABLE, dst: r.ulidPeer, dstLen: 128, oif: this.#shimIfindex, prefsrc: r.ulidLocal, mtu: st.mtu, replace: true,
        }));
      }
    },
    uninstall: (_st, ctx) => {
      // On the way out, `dataplane down` flushes table 140 (teardown) or the routes stay (restart).
      if (ctx.fii !== 0 || this.#stopping) return;
      this.#nlRequest('peer-route-del', (seq) => encodeRouteRequest('del', seq, {
        table: ROUTE_TABLE, dst: ctx.ulidPeer, dstLen: 128, oif: this.#shimIfindex,
      }), ['ESRCH']);
    },
  };

  #nlRequest(what: string, build: (seq: number) => Uint8Array, tolerate: string[] = []): void {
    const seq = this.#nlReq.next();
    this.#nlReq.expect(seq).catch((err: { code?: string; message?: string }) => {
      if (!tolerate.includes(err.code ?? '')) this.log.warn({ event: 'netlink-request-failed', what, code: err.code, detail: err.message }, 'a netlink request failed');
    });
    try {
      this.#nl!.send(Buffer.from(build(seq)));
    } catch (err) {
      this.#nlReq.fail(seq, err as Error);
    }
  }

  /** A data-plane id for a new context: the one its tag prefers when free
   * (the data plane then finds the context of an arriving payload header in
   * one read), else the next one after the last handed out that neither we
   * nor the maps hold (a map lookup per candidate, not a walk of the map:
   * setup time must not grow with the number of contexts). */
  #allocId(ctLocal: bigint): number {
    const free = (id: number): boolean => !this.#idsUsed.has(id) && this.#maps.ctxGet(id) === undefined;
    const want = tagSlot(ctLocal);
    if (want >= AGENT_ID_MIN && want <= AGENT_ID_MAX && free(want)) return want;
    const span = AGENT_ID_MAX - AGENT_ID_MIN + 1;
    for (let i = 0; i < span; i++) {
      const id = this.#nextId;
      this.#nextId = id >= AGENT_ID_MAX ? AGENT_ID_MIN : id + 1;
      if (free(id)) return id;
    }
    throw new Shim6Error('SHIM6_ERR_EXISTS', 'no free data-plane context id');
  }

  #bind(ct: bigint, id: number): void {
    const old = this.#ids.get(ct);
    if (old === id) return;
    if (old !== undefined) this.#idsUsed.delete(old);
    this.#ids.set(ct, id);
    this.#idsUsed.add(id);
  }

  #unbind(ct: bigint): void {
    const id = this.#ids.get(ct);
    if (id === undefined) return;
    this.#ids.delete(ct);
    this.#idsUsed.delete(id);
    this.#slotOf.delete(id);
    this.#keyOf.delete(id);
  }

  /**
   * CLOCK_MONOTONIC ns of the latest context write into the data plane (its
   * pair switch, for the API's pair-changed event); while the agent handles a
   * switch the data plane made itself (EV_STANDBY), that packet's stamp.
   */
  #switchedNs = 0n;
  #dataplaneSwitchNs: bigint | null = null;

  #writeContextStamped(c: Parameters<typeof writeContext>[2]): number {
    const ifindex = writeContext(this.#maps, this.#st, c, this.#hostOps);
    this.#switchedNs = this.#dataplaneSwitchNs ?? process.hrtime.bigint();
    return ifindex;
  }

  /** Make the data plane hold exactly what the core says of this context. */
  #sync(s: ContextSnapshot, written?: () => void): void {
    if (s.ctLocal === null) return written?.();
    if (!held(s)) {
      this.#uninstall(s.ctLocal);
      return written?.();
    }
    try {
      const id = this.#ids.get(s.ctLocal) ?? this.#allocId(s.ctLocal);
      this.#bind(s.ctLocal, id);
      // A forked context is reached through socket policies (initiator: the
      // socket's FII; responder: ingress gives it to the socket): egress must ask them.
      if (s.fii !== 0) this.#maps.openSockPolicyGate();
      const ulidKey = { ulidLocal: s.ulidLocal, ulidPeer: s.ulidPeer, fii: s.fii };
      this.#slotOf.set(id, pairSlot(ulidKey));
      this.#keyOf.set(id, L.encodeShim6UlidKey(ulidKey));
      const ifindex = this.#writeContextStamped({
        id,
        ulidLocal: s.ulidLocal,
        ulidPeer: s.ulidPeer,
        fii: s.fii,
        ctLocal: s.ctLocal,
        ctPeer: s.ctPeer!,
        lpLocal: s.lpLocal,
        lpPeer: s.lpPeer,
        lsLocal: [s.ulidLocal, ...s.lsLocal.map((l) => l.addr)],
        lsPeer: [{ addr: s.ulidPeer, verified: true }, ...s.lsPeer.filter((p) => p.verification !== 'failed').map((p) => ({ addr: p.addr, verified: p.usable }))],
        flags: L.CTX_F_ACTIVE | L.CTX_F_INBOUND,
      });
      // The switch is in the data plane now: tell the API before REAP's resync.
      const w = written;
      written = undefined;
      w?.();
      this.counters.installs++;
      if (s.state === ContextState.Established) this.#reap.sync(monoMs(), s, this.#locals, this.#apiBackend?.prefs.get(s.ctLocal));
      if (ifindex === 0) this.#ctxLog(s).warn({ event: 'no-uplink', lpLocal: formatIpv6(s.lpLocal) }, 'the current local locator is on no uplink');
    } catch (err) {
      this.counters.installErrors++;
      this.#ctxLog(s).error({ event: 'install-failed', err }, 'writing the context into the data plane failed');
      written?.();
    }
  }

  /**
   * Stage (or withdraw) the hot-standby pair shim6_sockops may move the
   * context to by itself at a TCP retransmission. Only a pair REAP verified
   * is ever staged, with the time its verification lapses.
   */
  #stageStandby(ct: bigint, staged: { pair: { local: Uint8Array; peer: Uint8Array }; validUntil: number } | null): void {
    const id = this.#ids.get(ct);
    if (id === undefined) return;
    try {
      const ifindex = staged ? this.#maps.uplinkGet(staged.pair.local)?.ifindex ?? 0 : 0;
      if (!staged || ifindex === 0) {
        this.#maps.standbyDel(id);
        return;
      }
      this.#maps.standbyPut(id, {
        lpLocal: staged.pair.local, lpPeer: staged.pair.peer, ifindex, pad: 0,
        validUntilNs: BigInt(Math.floor(staged.validUntil * 1e6)),
      });
    } catch (err) {
      this.log.warn({ event: 'standby-stage-failed', ct: tagText(ct), err }, 'staging the hot-standby pair failed');
    }
  }

  #uninstall(ct: bigint): void {
    this.#reap?.remove(ct);
    this.#apiBackend?.forget(ct);
    const id = this.#ids.get(ct);
    if (id === undefined) return;
    this.#unbind(ct);
    try { this.#maps.standbyDel(id); } catch { /* none */ }
    try {
      contextDel(this.#maps, this.#st, id, this.#hostOps);
    } catch (err) {
      if (!(err instanceof Shim6Error && err.code === 'SHIM6_ERR_NOT_FOUND')) this.log.error({ event: 'uninstall-failed', id, err }, 'removing a context from the data plane failed');
    }
  }

  /** Payload counters and stamps of a context, on the agent's clock (ms). */
  #sample(ct: bigint): { txPackets: bigint; rxPackets: bigint; lastTx?: number; lastRx?: number } | null {
    const id = this.#ids.get(ct);
    if (id === undefined) return null;
    const st = this.#statsOf(this.#snapshot(), id);
    const out: { txPackets: bigint; rxPackets: bigint; lastTx?: number; lastRx?: number } = { txPackets: st.txPackets, rxPackets: st.rxPackets };
    if (st.lastTxNs > 0n) out.lastTx = Number(st.lastTxNs) / 1e6;
    if (st.lastRxNs > 0n) out.lastRx = Number(st.lastRxNs) / 1e6;
    return out;
  }

  /** A retransmission is feedback only when nothing arrived for this long (ms). */
  static readonly RETRANS_QUIET_MS = 150;

  /** From this many contexts on, sampling reads the counters in place. */
  static readonly VIEW_MIN = 64;

  /** Every context's counters without syscalls (the mapped arrays), or null below VIEW_MIN contexts. */
  #snapshot(): StatsSnapshot | null {
    if (this.#ids.size < Agent.VIEW_MIN) return null;
    try {
      return this.#maps.countersView();
    } catch (err) {
      this.log.warn({ event: 'counters-view-failed', err: (err as Error).message }, 'mapping the counters failed: reading them one by one');
      return null;
    }
  }

  #statsOf(snap: StatsSnapshot | null, id: number): CtxStats {
    if (!snap) return this.#maps.stats(id);
    const tx = this.#maps.txRecord(snap, id, this.#slotOf.get(id), this.#keyOf.get(id));
    return tx ? this.#maps.statsAt(snap, id, tx) : this.#maps.stats(id);
  }

  /** Words of a context's counters compared between sampling rounds. */
  static readonly SAMPLE_WORDS = 6;

  /**
   * Contexts whose data-plane counters changed since the previous round,
   * with fresh samples; idle contexts cost no decoding into REAP. Many
   * contexts are read in place (#snapshot): the counters live in the
   * fast-path records, shim6_tx at the pair's slot and shim6_rx by id; an
   * overflowed pair's egress record costs one lookup of its cached key. An
   * idle context costs six 32-bit comparisons: the low words of its packet
   * counters and nanosecond stamps (any packet changes them), kept per id
   * in one typed array.
   */
  *#sampleChanged(): Generator<[bigint, { txPackets: bigint; rxPackets: bigint; lastTx?: number; lastRx?: number }]> {
    const snap = this.#snapshot();
    if (!snap) {
      yield* this.#sampleChangedByRecord();
      return;
    }
    this.#statsPrev.clear();
    const W = Agent.SAMPLE_WORDS;
    const T = L.Shim6TxLayout.fields, R = L.Shim6RxLayout.fields;
    const nIds = Math.floor(snap.rx.length / L.Shim6RxLayout.size) + snap.lo;
    if (this.#prevWords.length < nIds * W) {
      const grown = new Uint32Array(nIds * W);
      grown.set(this.#prevWords);
      this.#prevWords = grown;
    }
    const prev = this.#prevWords;
    for (const [ct, id] of this.#ids) {
      const tx = this.#maps.txRecord(snap, id, this.#slotOf.get(id), this.#keyOf.get(id));
      const ro = this.#maps.rxOffset(snap, id);
      const b = tx?.buf, o = tx?.off ?? 0;
      const w0 = b ? b.readUInt32LE(o + T.txPackets.offset) : 0;
      const w1 = b ? b.readUInt32LE(o + T.lastTxNs.offset) : 0;
      const w2 = b ? b.readUInt32LE(o + T.rxPackets.offset) : 0;
      const w3 = b ? b.readUInt32LE(o + T.lastRxNs.offset) : 0;
      const w4 = ro >= 0 ? snap.rx.readUInt32LE(ro + R.rxPackets.offset) : 0;
      const w5 = ro >= 0 ? snap.rx.readUInt32LE(ro + R.lastRxNs.offset) : 0;
      const p = id * W;
      if (p + W > prev.length) {
        // An id beyond the mapped array (not expected): always a fresh sample.
        yield [ct, this.#toSample(tx ? this.#maps.statsAt(snap, id, tx) : this.#maps.stats(id))];
        continue;
      }
      if (prev[p] === w0 && prev[p + 1] === w1 && prev[p + 2] === w2 && prev[p + 3] === w3 && prev[p + 4] === w4 && prev[p + 5] === w5) continue;
      prev[p] = w0; prev[p + 1] = w1; prev[p + 2] = w2; prev[p + 3] = w3; prev[p + 4] = w4; prev[p + 5] = w5;
      yield [ct, this.#toSample(tx ? this.#maps.statsAt(snap, id, tx) : this.#maps.stats(id))];
    }
  }

  /** #sampleChanged below VIEW_MIN contexts: every record read with lookups, compared as text. */
  *#sampleChangedByRecord(): Generator<[bigint, { txPackets: bigint; rxPackets: bigint; lastTx?: number; lastRx?: number }]> {
    const prev = this.#statsPrev;
    const next = new Map<number, string>();
    this.#statsPrev = next;
    this.#prevWords.fill(0);
    for (const [ct, id] of this.#ids) {
      const st = this.#maps.stats(id);
      const sig = `${st.txPackets}/${st.rxPackets}/${st.lastTxNs}/${st.lastRxNs}`;
      next.set(id, sig);
      if (prev.get(id) === sig) continue;
      yield [ct, this.#toSample(st)];
    }
  }

  #toSample(st: CtxStats): { txPackets: bigint; rxPackets: bigint; lastTx?: number; lastRx?: number } {
    const out: { txPackets: bigint; rxPackets: bigint; lastTx?: number; lastRx?: number } = { txPackets: st.txPackets, rxPackets: st.rxPackets };
    if (st.lastTxNs > 0n) out.lastTx = Number(st.lastTxNs) / 1e6;
    if (st.lastRxNs > 0n) out.lastRx = Number(st.lastRxNs) / 1e6;
    return out;
  }

  #sweepIdle(): void {
    this.#guard('idle', () => {
      const nowMs = monoMs();
      const snap = this.#snapshot();
      this.#perform(this.#host.teardownIdle(nowMs, (s) => {
        const id = s.ctLocal === null ? undefined : this.#ids.get(s.ctLocal);
        if (id === undefined) return undefined;
        const st = this.#statsOf(snap, id);
        const last = st.lastTxNs > st.lastRxNs ? st.lastTxNs : st.lastRxNs;
        return last > 0n ? Number(last) / 1e6 : undefined;
      }));
    });
    this.#schedule();
  }

  // --------------------------------------------------------- persistence

  /**
   * Journal the contexts these actions change before any of them is
   * performed: an R2 or Update Ack must never leave for state a kill -9
   * would lose. Data-plane ids are allocated here so the journal has them.
   */
  #persist(actions: readonly ContextAction[]): void {
    const changed = new Map<bigint, ContextSnapshot | null>();
    for (const a of actions) {
      if (!('ctx' in a) || a.ctx.ctLocal === null) continue;
      if (a.type === 'context-established' || a.type === 'context-updated') changed.set(a.ctx.ctLocal, a.ctx);
      else if (a.type === 'context-removed') changed.set(a.ctx.ctLocal, null);
    }
    if (changed.size === 0 || !this.#store) return;
    const keep = new Set<bigint>();
    for (const [ct, s] of changed) {
      if (s !== null && held(s)) {
        if (!this.#ids.has(ct)) this.#bind(ct, this.#allocId(ct));
        keep.add(ct);
      }
    }
    // Records name their context by CT(local) in hex, as the journal does.
    const recs = new Map(keep.size === 0 ? [] : this.#host.exportContexts(keep).map((r) => [r.ctLocal.replace(/^0x/, ''), r]));
    const lines: JournalLine[] = [];
    for (const ct of changed.keys()) {
      const key = ct.toString(16);
      const rec = recs.get(key);
      if (rec !== undefined) {
        const e = { id: this.#ids.get(ct)!, rec };
        this.#persisted.set(key, e);
        lines.push({ ct: key, ...e });
      } else if (this.#persisted.delete(key)) {
        lines.push({ ct: key, del: true });
      }
    }
    try {
      this.#store.append(lines);
      if (this.#store.journalLines > Math.max(1000, 4 * this.#persisted.size)) this.#compact();
    } catch (err) {
      this.log.error({ event: 'save-failed', err }, 'writing the context journal failed');
    }
  }

  #compact(): void {
    try {
      this.#store.compact(this.#persisted);
    } catch (err) {
      this.log.error({ event: 'save-failed', err }, 'writing the context state file failed');
    }
  }

  /**
   * After a restart (or kill -9): bring back the contexts of the state files
   * into the core, rewrite them into the maps, and remove agent contexts the
   * maps hold that the files do not (one being written when the agent died).
   * Static contexts (ids below AGENT_ID_MIN) are left alone.
   */
  #restore(): void {
    this.#store = new StateStore(this.pins.stateDir);
    const saved = this.#store.load((what) => this.log.warn({ event: 'state-problem', what }, 'context state file problem'));
    if (saved.size > 0) {
      const list = [...saved.values()];
      const r = this.#host.importContexts(monoMs(), list.map((e) => e.rec));
      for (const rej of r.rejected) this.log.warn({ event: 'restore-rejected', ...rej }, 'a saved context was not restored');
      const idOf = new Map(list.map((e) => [e.rec.ctLocal.replace(/^0x/, ''), e.id]));
      for (const s of r.restored) {
        if (s.ctLocal === null) continue;
        const id = idOf.get(s.ctLocal.toString(16));
        if (id !== undefined && id >= AGENT_ID_MIN && id <= AGENT_ID_MAX) this.#bind(s.ctLocal, id);
      }
      this.#perform(r.actions);
      for (const s of r.restored) this.#sync(s);
      this.log.info({ event: 'restored', contexts: r.restored.length, rejected: r.rejected.length }, 'contexts restored from the state files');
    }
    // Rebuild the persisted view from the core (restored contexts only) and fold the journal.
    this.#persisted.clear();
    for (const rec of this.#host.exportContexts()) {
      const ct = BigInt(`0x${rec.ctLocal.replace(/^0x/, '')}`);
      const id = this.#ids.get(ct);
      if (id !== undefined) this.#persisted.set(ct.toString(16), { id, rec });
    }
    this.#compact();
    const mine = new Set(this.#ids.values());
    for (const id of this.#maps.ctxIds()) {
      if (id >= AGENT_ID_MIN && !mine.has(id)) {
        this.log.warn({ event: 'reconcile-removed', id }, 'removing a data-plane context the agent does not know');
        try { contextDel(this.#maps, this.#st, id, this.#hostOps); } catch { /* gone */ }
      }
    }
  }

  // --------------------------------------------------------------- views

  contextsView(): ContextView[] {
    const now = monoMs();
    return this.#host.contexts().map((s) => {
      const id = s.ctLocal === null ? undefined : this.#ids.get(s.ctLocal);
      const dp = id === undefined ? undefined : this.#maps.ctxGet(id);
      const st = id === undefined ? undefined : this.#maps.stats(id);
      const age = (t: number | null): number | null => (t === null ? null : Math.round((now - t) / 100) / 10);
      return {
        state: s.state,
        ulidLocal: formatIpv6(s.ulidLocal),
        ulidPeer: formatIpv6(s.ulidPeer),
        fii: s.fii,
        ctLocal: tagText(s.ctLocal),
        ctPeer: tagText(s.ctPeer),
        lpLocal: formatIpv6(s.lpLocal),
        lpPeer: formatIpv6(s.lpPeer),
        lsLocal: s.lsLocal.map((l) => ({ addr: formatIpv6(l.addr), method: l.method === 0 ? 'none' : l.method === 1 ? 'hba' : 'cga', flags: l.flags, priority: l.priority ?? null, weight: l.weight ?? null })),
        lsPeer: s.lsPeer.map((p) => ({ addr: formatIpv6(p.addr), verification: p.verification, usable: p.usable, flags: p.flags, priority: p.priority ?? null, weight: p.weight ?? null })),
        localGeneration: s.localGeneration,
        peerGeneration: s.peerGeneration,
        updatePending: s.update !== null,
        retransmits: s.retransmits,
        peerKeepaliveTimeout: s.peerKeepaliveTimeout,
        ageS: age(s.createdAt),
        stateAgeS: age(s.stateSince),
        establishedAgoS: age(s.establishedAt),
        lastControlAgoS: age(s.lastControlAt),
        reap: s.ctLocal === null ? null : this.#reap.view(s.ctLocal),
        dataplane: id === undefined || !dp ? null : {
          id,
          uplink: dp.ifindex,
          shimmed: hex(dp.lpLocal) !== hex(dp.ulidLocal) || hex(dp.lpPeer) !== hex(dp.ulidPeer),
          txPackets: st!.txPackets.toString(),
          txBytes: st!.txBytes.toString(),
          rxPackets: st!.rxPackets.toString(),
          rxBytes: st!.rxBytes.toString(),
        },
      };
    });
  }

  metrics(): MetricsSnapshot {
    const byState: Record<string, number> = {};
    for (const c of this.#host.contexts()) byState[c.state] = (byState[c.state] ?? 0) + 1;
    return {
      uptimeSeconds: Math.round((monoMs() - this.startedAt) / 1000),
      contextsByState: byState,
      control: { rx: this.counters.rxControl, tx: this.counters.txControl, txErrors: this.counters.txErrors, icmpParamProblems: this.counters.icmpParamProblems, triggers: this.counters.triggers },
      events: this.counters.events,
      reap: this.#reap.totals,
      drops: this.#maps.drops(),
      api: this.#api?.counters ?? null,
      histograms: this.histograms.snapshot(),
    };
  }

  status(): Record<string, unknown> {
    return {
      pid: process.pid,
      uptimeS: Math.round((monoMs() - this.startedAt) / 1000),
      socket: this.socketPath,
      apiSocket: this.apiPath,
      api: this.#api?.counters ?? null,
      shimDev: this.#st.shimDev,
      uplinks: this.#st.uplinks,
      gso: this.#st.gso,
      hba: this.#hba ? this.#hba.addresses.map((a, i) => ({ prefix: this.#hba!.prefixes[i], address: formatIpv6(a) })) : null,
      locators: this.#locals.locators.map((l) => ({ addr: formatIpv6(l.addr), method: l.method, priority: l.priority ?? 0 })),
      contexts: this.#host.contexts().reduce<Record<string, number>>((acc, s) => ({ ...acc, [s.state]: (acc[s.state] ?? 0) + 1 }), {}),
      counters: this.counters,
      reap: this.#reap.load(),
    };
  }

  #registerMethods(srv: ControlServer): void {
    srv.handle('status', () => this.status());
    // Log level at run time: {} reads it, {level} sets it (the root logger; child loggers follow).
    srv.handle('log-level', (p) => {
      if (p.level === undefined) return { level: this.log.level };
      if (typeof p.level !== 'string') throw new ControlError('EINVAL', '"level" must be a string');
      try {
        const r = setLogLevel(this.log, p.level);
        this.log.info({ event: 'log-level', to: r.level, from: r.previous }, 'log level changed');
        return r;
      } catch (err) {
        throw new ControlError('EINVAL', (err as Error).message);
      }
    });
    srv.handle('contexts', () => this.contextsView());
    srv.handle('sockets', () => this.#apiBackend?.socketsView() ?? []);
    srv.handle('probe', (p) => {
      const ct = parseTagParam(p.ct);
      if (!this.#reap.feedback(monoMs(), ct, 'app')) throw new ControlError('ENOENT', `no established context ${tagText(ct)}`);
      this.#schedule();
      return this.contextsView().find((c) => c.ctLocal === tagText(ct));
    });
    srv.handle('remove', (p) => {
      const ct = parseTagParam(p.ct);
      if (!this.#host.context({ ctLocal: ct })) throw new ControlError('ENOENT', `no context ${tagText(ct)}`);
      this.#perform(this.#host.removeContext(monoMs(), { ctLocal: ct }));
      this.#schedule();
      return { removed: tagText(ct) };
    });
    srv.handle('set-pair', (p) => {
      const ct = parseTagParam(p.ct);
      const local = addrParam(p.local, 'local');
      const peer = addrParam(p.peer, 'peer');
      const r = this.#host.setCurrentPair(monoMs(), ct, { local, peer });
      if (!r.ok) throw new ControlError(r.reason === 'no-context' ? 'ENOENT' : 'EINVAL', `cannot move context ${tagText(ct)}: ${r.reason}`);
      // An operator's choice: REAP starts over on the new pair (else it would restore its own).
      this.#reap.remove(ct);
      this.#perform(r.actions);
      return this.contextsView().find((c) => c.ctLocal === tagText(ct));
    });
  }
}

export interface ContextView {
  state: string;
  ulidLocal: string;
  ulidPeer: string;
  fii: number;
  ctLocal: string | null;
  ctPeer: string | null;
  lpLocal: string;
  lpPeer: string;
  lsLocal: Array<{ addr: string; method: string; flags: number; priority: number | null; weight: number | null }>;
  lsPeer: Array<{ addr: string; verification: string; usable: boolean; flags: number; priority: number | null; weight: number | null }>;
  localGeneration: number | null;
  peerGeneration: number | null;
  updatePending: boolean;
  retransmits: number;
  peerKeepaliveTimeout: number | null;
  ageS: number | null;
  stateAgeS: number | null;
  establishedAgoS: number | null;
  lastControlAgoS: number | null;
  reap: ReapView | null;
  dataplane: { id: number; uplink: number; shimmed: boolean; txPackets: string; txBytes: string; rxPackets: string; rxBytes: string } | null;
}

function sameHex(text: string, prefixHex: string): boolean {
  try {
    return hex(parseAddr(text).subarray(0, 8)) === prefixHex;
  } catch {
    return false;
  }
}

function parseAddr(text: string): Uint8Array {
  const a = ipv6OrNull(text);
  if (!a) throw new ControlError('EINVAL', `not an IPv6 address: '${text}'`);
  return a;
}

function addrParam(v: unknown, what: string): Uint8Array {
  if (typeof v !== 'string') throw new ControlError('EINVAL', `"${what}" must be an IPv6 address string`);
  return parseAddr(v);
}

function parseTagParam(v: unknown): bigint {
  try {
    if (typeof v === 'string' || typeof v === 'number') {
      const t = BigInt(v);
      if (t > 0n && t <= BigInt(L.CT_MASK)) return t;
    }
  } catch { /* below */ }
  throw new ControlError('EINVAL', '"ct" must be a context tag (decimal or 0x-hex, 47 bits)');
}
