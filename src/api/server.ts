// The RFC 6316 API server: a SOCK_SEQPACKET Unix socket (native ApiListener)
// carrying the frames of frame.ts. Each request passes the caller's socket
// with SCM_RIGHTS; the server identifies it from the fd (sockinfo.ts), runs
// the option logic (options.ts) against the ApiBackend, closes every fd it
// received, and only then answers. Nothing a client sends can throw out of
// here: malformed frames get an errno answer.
import diagnostics from 'node:diagnostics_channel';
import fs from 'node:fs';
import path from 'node:path';
import type { Logger } from 'pino';
import { native } from '../native.js';
import type { ApiListener, ApiListenerEvent } from '../../native/index.js';
import { decodeIdentity, identifySocket, prefetchedPolicy, type SocketIdentity } from './sockinfo.js';
import { ApiError, type ApiBackend, type ApiEvent, type SocketRef } from './backend.js';
import { EVENT_TYPE, encodeEvent } from './events.js';
import { Attr, Flag, MsgType, decodeFrame, encodeFrame, getU32, findAttr, nested, u32, bytes, text, type Frame, type FrameAttr } from './frame.js';
import { handleOption } from './options.js';
import { cmsgsOf, handleRecvmsg, handleSendmsg, handleSendmsgDone, type OneShotTable } from './ancillary.js';
import { SOL_SHIM, SHIM_FEEDBACK, errnoNumber, optionName, SHIM6_API_SOCKET_DEFAULT, SHIM_EVENT_ALL, type ErrnoName } from './shim-h.js';

/** Published for every answered request (tests and metrics subscribe). */
export const requestChannel = diagnostics.channel('shim6:api:request');

export interface ApiRequestRecord {
  readonly type: number;
  readonly seq: number;
  readonly optname?: number;
  readonly errno: ErrnoName | 0;
  readonly cookie?: bigint;
  readonly cred?: { pid: number; uid: number; gid: number };
}

export interface ApiServerOptions {
  readonly backend: ApiBackend;
  /** Socket path (default /run/shim6/api.sock). */
  readonly path?: string;
  /** File mode of the socket (default 0o666: any local process may use the API on sockets it holds). */
  readonly mode?: number;
  /** Group owning the socket (gid or name), e.g. to restrict it with mode 0o660. */
  readonly group?: number | string;
  readonly log?: Logger;
  /** Called once per answered request with its duration (seconds), e.g. for a histogram. */
  readonly observe?: (record: ApiRequestRecord, seconds: number) => void;
  /**
   * The data plane's shim6_sock map: the listener reads each passed socket's
   * policy as the request arrives (SocketRef.prefetchedPolicy), one syscall.
   */
  readonly sockMapFd?: number;
}

export interface ApiServerCounters {
  requests: number;
  errors: number;
  malformed: number;
  connections: number;
  /** Events from the backend, event frames sent, and frames dropped (a subscriber's queue was full). */
  events: number;
  eventsSent: number;
  eventsDropped: number;
}

/** Per-datagram pins awaiting SENDMSG_DONE (a client that died between the two forgets; the oldest goes). */
const MAX_ONE_SHOTS = 4096;

/** Subscriptions one connection may hold (SUBSCRIBE beyond it: ENOBUFS). */
export const MAX_SUBSCRIPTIONS_PER_CONN = 1024;

/** One SUBSCRIBE: a connection wants the events of one socket's context (ULID pair + FII). */
interface Subscription {
  readonly conn: number;
  readonly id: number;
  /** The SUBSCRIBE's seq, echoed in every EVENT frame. */
  readonly seq: number;
  readonly key: string;
  readonly mask: number;
  /** Events not delivered since the last one that was (the client's queue was full). */
  dropped: number;
}

const hex = (b: Uint8Array): string => Buffer.from(b.buffer, b.byteOffset, b.length).toString('hex');
const ctxKey = (ulidLocal: Uint8Array, ulidPeer: Uint8Array, fii: number): string => `${hex(ulidLocal)}/${hex(ulidPeer)}/${fii >>> 0}`;

type Answer = { reply: Frame; record: ApiRequestRecord; commit?: () => void };

const SOCK_STREAM = 1, AF_INET = 2, AF_INET6 = 10;

/** The backend's view of the caller's socket. tcpState is read from the fd when asked, while the fd is open (else null). */
class PassedSocket implements SocketRef {
  readonly cookie: bigint;
  readonly family: number;
  readonly type: number;
  readonly protocol: number;
  readonly local: SocketRef['local'];
  readonly peer: SocketRef['peer'];
  readonly connected: boolean;
  readonly listening: boolean;
  #state: number | null | undefined;
  constructor(
    info: SocketIdentity, readonly fd: number, readonly cred: SocketRef['cred'], private readonly fdOpen: () => boolean,
    readonly prefetchedPolicy?: Uint8Array | null,
  ) {
    this.cookie = info.cookie;
    this.family = info.family;
    this.type = info.type;
    this.protocol = info.protocol;
    this.local = info.local;
    this.peer = info.peer;
    this.connected = info.connected;
    this.listening = info.listening;
  }
  get tcpState(): number | null {
    if (this.#state !== undefined) return this.#state;
    if (this.type !== SOCK_STREAM || (this.family !== AF_INET && this.family !== AF_INET6) || !this.fdOpen()) return null;
    try {
      this.#state = native().socketInfo(this.fd).tcpState;
    } catch {
      this.#state = null;
    }
    return this.#state;
  }
}

function toRef(info: SocketIdentity, fd: number, cred: SocketRef['cred'], fdOpen: () => boolean, ev?: ApiListenerEvent): SocketRef {
  return new PassedSocket(info, fd, cred, fdOpen, ev?.info ? prefetchedPolicy(ev.info) : undefined);
}

/** The passed socket's identity: as the listener read it (ev.info), else read now. Throws as socketInfo. */
function identify(ev: ApiListenerEvent, fd: number): SocketIdentity {
  if (ev.info) return decodeIdentity(ev.info, false);
  if (ev.infoErrno) throw Object.assign(new Error(ev.infoError ?? ev.infoErrno), { code: ev.infoErrno });
  return identifySocket(fd);
}

export class ApiServer {
  readonly path: string;
  readonly counters: ApiServerCounters = { requests: 0, errors: 0, malformed: 0, connections: 0, events: 0, eventsSent: 0, eventsDropped: 0 };
  readonly #backend: ApiBackend;
  readonly #log: Logger | undefined;
  readonly #observe: ApiServerOptions['observe'];
  readonly #mode: number;
  readonly #group: number | string | undefined;
  readonly #sockMapFd: number | undefined;
  #listener: ApiListener | null = null;
  readonly #conns = new Set<number>();
  readonly #inflight = new Set<Promise<void>>();
  readonly #subsByKey = new Map<string, Set<Subscription>>();
  readonly #subsByConn = new Map<number, Map<number, Subscription>>();
  #nextSubId = 1;
  /** Per-datagram pins waiting for SENDMSG_DONE (ancillary.ts), by socket cookie. */
  readonly #oneShots: OneShotTable = new Map();
  #unsubscribeBackend: (() => void) | null = null;

  constructor(opts: ApiServerOptions) {
    this.#backend = opts.backend;
    this.#observe = opts.observe;
    this.path = opts.path ?? SHIM6_API_SOCKET_DEFAULT;
    this.#mode = opts.mode ?? 0o666;
    this.#group = opts.group;
    this.#sockMapFd = opts.sockMapFd;
    this.#log = opts.log?.child({ api: this.path });
  }

  /** Bind and listen. A socket file left by a dead agent is replaced; a live one is an error (EADDRINUSE). */
  async listen(): Promise<void> {
    fs.mkdirSync(path.dirname(this.path), { recursive: true });
    if (fs.existsSync(this.path)) {
      const alive = await native()
        .apiRequest(this.path, encodeFrame({ type: MsgType.NOOP, flags: Flag.REQUEST, seq: 0, attrs: [] }), [], 1000)
        .then(() => true, () => false);
      if (alive) {
        throw Object.assign(new Error(`another shim6d answers on ${this.path}`), { code: 'EADDRINUSE' });
      }
      fs.rmSync(this.path, { force: true });
    }
    this.#listener = new (native().ApiListener)(
      { path: this.path, mode: this.#mode, group: this.#group },
      (ev) => this.#onEvent(ev),
    );
    if (this.#sockMapFd !== undefined && !this.#listener.setSockMap(this.#sockMapFd)) {
      this.#log?.warn({ fd: this.#sockMapFd }, 'API: not the shim6_sock map; policies are read per request');
    }
    this.#unsubscribeBackend = this.#backend.subscribe?.((ev) => this.#onBackendEvent(ev)) ?? null;
  }

  /** Subscriptions held now (all connections). */
  get subscriptions(): number {
    let n = 0;
    for (const m of this.#subsByConn.values()) n += m.size;
    return n;
  }

  /** Stop listening, drop connections, wait for requests under way. */
  async close(): Promise<void> {
    this.#unsubscribeBackend?.();
    this.#unsubscribeBackend = null;
    this.#listener?.close();
    this.#listener = null;
    this.#conns.clear();
    this.#subsByConn.clear();
    this.#subsByKey.clear();
    await Promise.allSettled([...this.#inflight]);
  }

  #onEvent(ev: ApiListenerEvent): void {
    if (ev.closed) {
      this.#conns.delete(ev.conn);
      this.#dropSubscriptions(ev.conn);
      return;
    }
    if (!this.#conns.has(ev.conn)) {
      this.#conns.add(ev.conn);
      this.counters.connections++;
    }
    const p = this.#request(ev).finally(() => this.#inflight.delete(p));
    this.#inflight.add(p);
  }

  async #request(ev: ApiListenerEvent): Promise<void> {
    const t0 = process.hrtime.bigint();
    const fds = ev.fds ?? [];
    const cred = ev.cred ?? { pid: 0, uid: -1, gid: -1 };
    // The fds are closed by the listener's reply() (before it sends), or here.
    let fdsClosed = false;
    const closeFds = () => {
      fdsClosed = true;
      for (const fd of fds) {
        try { native().closeFd(fd); } catch { /* already gone */ }
      }
    };
    let reply: Frame;
    let record: ApiRequestRecord;
    let commit: (() => void) | undefined;
    try {
      ({ reply, record, commit } = await this.#answer(ev, fds, cred, () => !fdsClosed));
    } catch (err) {
      // Only a bug gets here; the caller still gets an answer.
      this.#log?.error({ err }, 'API request failed unexpectedly');
      reply = { type: 0, flags: Flag.REPLY, seq: 0, attrs: [u32(Attr.ERRNO, errnoNumber('EIO'))] };
      record = { type: 0, seq: 0, errno: 'EIO', cred };
    }
    // No use of the fds from here: reply() closes them, then answers (holding
    // one would keep the app's connection open).
    fdsClosed = true;
    this.counters.requests++;
    if (record.errno !== 0) this.counters.errors++;
    if (requestChannel.hasSubscribers) requestChannel.publish(record);
    try {
      if (!this.#listener) {
        closeFds();
        return;
      }
      let frame: Buffer;
      try {
        frame = encodeFrame(reply);
      } catch (err) {
        closeFds();
        throw err;
      }
      this.#listener.reply(ev.conn, frame, fds);
      this.#observe?.(record, Number(process.hrtime.bigint() - t0) / 1e9);
      // After the reply, in the same tick: no EVENT frame can overtake a SUBSCRIBE's reply.
      commit?.();
    } catch (err) {
      this.#log?.debug({ err, conn: ev.conn }, 'API reply not delivered (client gone)');
    }
  }

  /** Debug logging on: only then are the log records built. */
  #debug(): boolean {
    const l = this.#log as (Logger & { isLevelEnabled?: (level: string) => boolean }) | undefined;
    return l !== undefined && (l.isLevelEnabled?.('debug') ?? true);
  }

  #dropSubscriptions(conn: number): void {
    const mine = this.#subsByConn.get(conn);
    if (!mine) return;
    this.#subsByConn.delete(conn);
    for (const sub of mine.values()) this.#unlink(sub);
  }

  #unlink(sub: Subscription): void {
    const set = this.#subsByKey.get(sub.key);
    set?.delete(sub);
    if (set?.size === 0) this.#subsByKey.delete(sub.key);
  }

  /** The backend's listener: route one event to the subscriptions of its context. Never throws. */
  #onBackendEvent(ev: ApiEvent): void {
    try {
      this.counters.events++;
      const subs = this.#subsByKey.get(ctxKey(ev.ctx.ulidLocal, ev.ctx.ulidPeer, ev.ctx.fii));
      if (!subs || !this.#listener) return;
      const bit = 1 << EVENT_TYPE[ev.type];
      const nowNs = process.hrtime.bigint();
      const monoNs = ev.atNs !== undefined && ev.atNs > 0n && ev.atNs <= nowNs ? ev.atNs : nowNs;
      const timeNs = BigInt(Math.round((performance.timeOrigin + performance.now()) * 1000)) * 1000n - (nowNs - monoNs);
      for (const sub of [...subs]) {
        if (!(sub.mask & bit)) continue;
        const frame = encodeFrame({
          type: MsgType.EVENT, flags: Flag.MULTI, seq: sub.seq,
          attrs: [u32(Attr.SUB_ID, sub.id), bytes(Attr.EVENT, encodeEvent(ev, { dropped: sub.dropped, timeNs, monoNs }))],
        });
        try {
          this.#listener.send(sub.conn, frame);
          sub.dropped = 0;
          this.counters.eventsSent++;
        } catch (err) {
          const code = (err as { code?: string }).code;
          if (code === 'EAGAIN' || code === 'EWOULDBLOCK' || code === 'ENOBUFS') {
            // The client does not read: count it, tell it with the next event (ev_dropped).
            sub.dropped++;
            this.counters.eventsDropped++;
          } else {
            this.#dropSubscriptions(sub.conn);
          }
        }
      }
    } catch (err) {
      this.#log?.error({ err, type: (ev as { type?: unknown })?.type }, 'API event not routed');
    }
  }

  async #answer(ev: ApiListenerEvent, fds: number[], cred: { pid: number; uid: number; gid: number }, fdOpen: () => boolean): Promise<Answer> {
    const answer = (type: number, seq: number, errno: ErrnoName | 0, attrs: FrameAttr[] = [], message?: string, optname?: number, cookie?: bigint): Answer => {
      const out: FrameAttr[] = [u32(Attr.ERRNO, errno === 0 ? 0 : errnoNumber(errno)), ...attrs];
      if (message) out.push(text(Attr.MESSAGE, message));
      if (errno !== 0 && this.#debug()) this.#log?.debug({ pid: cred.pid, uid: cred.uid, type, optname, errno, message }, 'API request refused');
      return { reply: { type, flags: Flag.REPLY, seq, attrs: out }, record: { type, seq, optname, errno, cookie, cred } };
    };
    if (ev.truncated) {
      this.counters.malformed++;
      return answer(0, 0, 'EMSGSIZE', [], 'frame too long');
    }
    const d = decodeFrame(ev.data ?? new Uint8Array(0));
    if (!d.ok) {
      this.counters.malformed++;
      return answer(d.type ?? 0, d.seq ?? 0, d.errno, [], d.reason);
    }
    const f = d.frame;
    const { type, seq } = f;
    if (f.flags & Flag.REPLY) return answer(type, seq, 'EBADMSG', [], 'a reply is not a request');
    switch (type) {
      case MsgType.NOOP:
        return answer(type, seq, 0);
      case MsgType.GETSOCKOPT:
      case MsgType.SETSOCKOPT:
      case MsgType.SENDMSG:
      case MsgType.SENDMSG_DONE:
      case MsgType.RECVMSG:
      case MsgType.SUBSCRIBE:
        break;
      case MsgType.UNSUBSCRIBE: {
        const id = getU32(f, Attr.SUB_ID);
        if (id === null) return answer(type, seq, 'EBADMSG', [], 'a u32 attribute has the wrong size');
        if (id === undefined) return answer(type, seq, 'EINVAL', [], 'SUB_ID is missing');
        const sub = this.#subsByConn.get(ev.conn)?.get(id);
        if (!sub) return answer(type, seq, 'ENOENT', [], `no subscription ${id} on this connection`);
        this.#subsByConn.get(ev.conn)!.delete(id);
        this.#unlink(sub);
        return answer(type, seq, 0);
      }
      case MsgType.FORK:
        return answer(type, seq, 'EOPNOTSUPP', [], 'not implemented yet');
      default:
        return answer(type, seq, 'EOPNOTSUPP', [], `unknown message type ${type}`);
    }
    // get/setsockopt, sendmsg: exactly one socket passed.
    if (ev.ctrunc || fds.length !== 1) return answer(type, seq, 'EBADF', [], `pass exactly one socket with SCM_RIGHTS (got ${fds.length}${ev.ctrunc ? '+' : ''})`);
    if (type === MsgType.SUBSCRIBE) return this.#subscribe(ev, f, fds[0], cred, fdOpen, answer);
    if (type === MsgType.SENDMSG || type === MsgType.SENDMSG_DONE || type === MsgType.RECVMSG) {
      const cmsgs = type === MsgType.SENDMSG ? cmsgsOf(f.attrs) : [];
      if (!cmsgs) return answer(type, seq, 'EBADMSG', [], 'malformed CMSG attribute');
      const want = getU32(f, Attr.RECV_WANT);
      if (want === null) return answer(type, seq, 'EBADMSG', [], 'a u32 attribute has the wrong size');
      let info: SocketIdentity;
      try {
        info = identify(ev, fds[0]);
      } catch (err) {
        return answer(type, seq, (err as { code?: string }).code === 'ENOTSOCK' ? 'ENOTSOCK' : 'EBADF', [], (err as Error).message);
      }
      const sock = toRef(info, fds[0], cred, fdOpen, ev);
      if (type === MsgType.RECVMSG) {
        const r = await handleRecvmsg(this.#backend, sock, want);
        if (!r.ok) {
          if (r.cause) this.#log?.warn({ err: r.cause }, 'API backend failed');
          return answer(type, seq, r.errno, [], r.message, undefined, info.cookie);
        }
        return answer(type, seq, 0, r.cmsgs.map((c) => nested(Attr.CMSG, [u32(Attr.CMSG_LEVEL, c.level), u32(Attr.CMSG_TYPE, c.type), bytes(Attr.CMSG_DATA, c.data)])), undefined, undefined, info.cookie);
      }
      if (type === MsgType.SENDMSG_DONE) {
        const r = await handleSendmsgDone(this.#backend, sock, this.#oneShots);
        if (!r.ok && r.cause) this.#log?.warn({ err: r.cause }, 'API backend failed');
        return r.ok ? answer(type, seq, 0, [], undefined, undefined, info.cookie) : answer(type, seq, r.errno, [], r.message, undefined, info.cookie);
      }
      if (this.#oneShots.size >= MAX_ONE_SHOTS) this.#oneShots.delete(this.#oneShots.keys().next().value!);
      const { result: r, oneShot } = await handleSendmsg(this.#backend, sock, cmsgs, this.#oneShots);
      if (!r.ok && r.cause) this.#log?.warn({ err: r.cause }, 'API backend failed');
      if (r.ok) this.#note(sock, `sendmsg ${cmsgs.map((c) => optionName(c.type) ?? (c.type === SHIM_FEEDBACK ? 'SHIM_FEEDBACK' : String(c.type))).join(',')}`);
      return r.ok
        ? answer(type, seq, 0, oneShot ? [u32(Attr.ONESHOT, 1)] : [], undefined, undefined, info.cookie)
        : answer(type, seq, r.errno, [], r.message, undefined, info.cookie);
    }
    const level = getU32(f, Attr.LEVEL);
    const optname = getU32(f, Attr.OPTNAME);
    const optlen = getU32(f, Attr.OPTLEN);
    if (level === null || optname === null || optlen === null) return answer(type, seq, 'EBADMSG', [], 'a u32 attribute has the wrong size');
    if (optname === undefined) return answer(type, seq, 'EINVAL', [], 'OPTNAME is missing');
    if (level !== undefined && level !== SOL_SHIM) return answer(type, seq, 'ENOPROTOOPT', [], `level ${level} is not SOL_SHIM`, optname);
    let info: SocketIdentity;
    try {
      info = identify(ev, fds[0]);
    } catch (err) {
      const code = (err as { code?: string }).code;
      return answer(type, seq, code === 'ENOTSOCK' ? 'ENOTSOCK' : 'EBADF', [], (err as Error).message, optname);
    }
    const sock = toRef(info, fds[0], cred, fdOpen, ev);
    if (this.#debug()) this.#log?.debug({ pid: cred.pid, uid: cred.uid, gid: cred.gid, cookie: info.cookie.toString(), op: type === MsgType.GETSOCKOPT ? 'get' : 'set', opt: optionName(optname) ?? optname }, 'API request');
    if (type === MsgType.GETSOCKOPT) {
      if (optlen === undefined) return answer(type, seq, 'EINVAL', [], 'OPTLEN is missing', optname, info.cookie);
      const r = await handleOption(this.#backend, sock, { op: 'get', optname, optlen });
      if (!r.ok) {
        if (r.cause) this.#log?.warn({ err: r.cause, opt: optname }, 'API backend failed');
        return answer(type, seq, r.errno, r.needed !== undefined ? [u32(Attr.OPTLEN, r.needed)] : [], r.message, optname, info.cookie);
      }
      const value = r.value ?? new Uint8Array(0);
      return answer(type, seq, 0, [u32(Attr.OPTLEN, value.length), bytes(Attr.OPTVAL, value)], undefined, optname, info.cookie);
    }
    const optval = findAttr(f, Attr.OPTVAL);
    if (optval === undefined) return answer(type, seq, 'EINVAL', [], 'OPTVAL is missing', optname, info.cookie);
    const r = await handleOption(this.#backend, sock, { op: 'set', optname, optval });
    if (!r.ok) {
      if (r.cause) this.#log?.warn({ err: r.cause, opt: optname }, 'API backend failed');
      return answer(type, seq, r.errno, [], r.message, optname, info.cookie);
    }
    this.#note(sock, optionName(optname) ?? `option ${optname}`);
    return answer(type, seq, 0, [], undefined, optname, info.cookie);
  }

  /** Tell the backend which socket set what (never fails the request). */
  #note(sock: SocketRef, what: string): void {
    try {
      this.#backend.noteSocket?.(sock, what);
    } catch (err) {
      this.#log?.debug({ err }, 'API noteSocket failed');
    }
  }

  /**
   * SUBSCRIBE: the events of the passed socket's context, keyed by its ULID
   * pair (the socket's addresses, as the agent keys contexts) and FII, so a
   * subscription made before the context exists sees it established. Lives
   * until UNSUBSCRIBE or the connection's end.
   */
  async #subscribe(
    ev: ApiListenerEvent, f: Frame, fd: number, cred: { pid: number; uid: number; gid: number }, fdOpen: () => boolean,
    answer: (type: number, seq: number, errno: ErrnoName | 0, attrs?: FrameAttr[], message?: string, optname?: number, cookie?: bigint) => Answer,
  ): Promise<Answer> {
    const { type, seq } = f;
    const conn = ev.conn;
    if (!this.#backend.subscribe) return answer(type, seq, 'EOPNOTSUPP', [], 'this agent has no events');
    const mask = getU32(f, Attr.EVENT_MASK);
    if (mask === null) return answer(type, seq, 'EBADMSG', [], 'a u32 attribute has the wrong size');
    const m = mask ?? SHIM_EVENT_ALL;
    if (m === 0 || (m & ~SHIM_EVENT_ALL) !== 0) return answer(type, seq, 'EINVAL', [], `event mask 0x${m.toString(16)} (known: 0x${SHIM_EVENT_ALL.toString(16)})`);
    let info: SocketIdentity;
    try {
      info = identify(ev, fd);
    } catch (err) {
      return answer(type, seq, (err as { code?: string }).code === 'ENOTSOCK' ? 'ENOTSOCK' : 'EBADF', [], (err as Error).message);
    }
    if (info.family !== AF_INET && info.family !== AF_INET6) return answer(type, seq, 'EOPNOTSUPP', [], 'not an IPv4/IPv6 socket', undefined, info.cookie);
    if (!info.connected || !info.local || !info.peer) return answer(type, seq, 'EOPNOTSUPP', [], 'the socket is not connected (no ULID pair yet)', undefined, info.cookie);
    if ((this.#subsByConn.get(conn)?.size ?? 0) >= MAX_SUBSCRIPTIONS_PER_CONN) {
      return answer(type, seq, 'ENOBUFS', [], `at most ${MAX_SUBSCRIPTIONS_PER_CONN} subscriptions per connection`, undefined, info.cookie);
    }
    const sock = toRef(info, fd, cred, fdOpen, ev);
    let key: string;
    try {
      const ctx = await this.#backend.lookupContext(sock);
      key = ctx
        ? ctxKey(ctx.ulidLocal, ctx.ulidPeer, ctx.fii)
        : ctxKey(info.local.addr, info.peer.addr, (await this.#backend.socketPolicy(sock)).fii);
    } catch (err) {
      if (err instanceof ApiError) return answer(type, seq, err.errno, [], err.message, undefined, info.cookie);
      this.#log?.warn({ err }, 'API backend failed');
      return answer(type, seq, 'EIO', [], 'backend failure', undefined, info.cookie);
    }
    const id = this.#nextSubId;
    this.#nextSubId = (this.#nextSubId % 0xffffffff) + 1;
    const a = answer(type, seq, 0, [u32(Attr.SUB_ID, id)], undefined, undefined, info.cookie);
    a.commit = () => {
      if (!this.#conns.has(conn)) return;
      const sub: Subscription = { conn, id, seq, key, mask: m, dropped: 0 };
      let mine = this.#subsByConn.get(conn);
      if (!mine) this.#subsByConn.set(conn, (mine = new Map()));
      mine.set(id, sub);
      let set = this.#subsByKey.get(key);
      if (!set) this.#subsByKey.set(key, (set = new Set()));
      set.add(sub);
    };
    return a;
  }
}

export { ApiError };
