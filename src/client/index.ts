// A typed RFC 6316 client for Node: SOL_SHIM get/setsockopt on net.Socket
// and dgram.Socket (or a raw fd), served by shim6d over its API socket.
//
//   import { ShimClient } from 'shim6/client';
//   const shim = new ShimClient();
//   if (await shim.getsockopt(sock, 'SHIM_ASSOCIATED') === 1) {
//     const peers = await shim.getsockopt(sock, 'SHIM_LOCLIST_PEER');
//     await shim.setsockopt(sock, 'SHIM_LOC_PEER_SEND', peers[1]);
//   }
//
//   // Context events of one socket (shim6 extension, beyond RFC 6316):
//   const stop = await shim.subscribe(sock, (ev) => console.log(ev.type, ev.peer?.address));
//   ...; stop();
//
// Failures reject with a ShimSocketError whose code is the errno name
// ('EINVALIDLOCATOR', 'ENOENT', 'EOPNOTSUPP', ...), as Node's own errors.
import type net from 'node:net';
import type dgram from 'node:dgram';
import { Attr, MsgType, bytes, decodeAttrs, findAttr, getU32, nested, u32, type Frame, type FrameAttr } from '../api/frame.js';
import type { ApiEventType } from '../api/backend.js';
import { EVENT_TYPE, decodeEvent, eventTypeName } from '../api/events.js';
import * as H from '../api/shim-h.js';
import {
  decodeInt, decodeLocators, decodePathexplore, encodeInt, encodeLocator, encodeLocators, encodePathexplore, decodeLocator,
  type ShimLocator,
} from '../api/structs.js';
import { formatIpv6, parseIpv6 } from '../wire/addr.js';
import { ApiConnection, apiPath, request, type TransportOptions } from './transport.js';

export { SHIM_ERRNO, SHIM_STRERROR, SOL_SHIM } from '../api/shim-h.js';
export type { TransportOptions } from './transport.js';

/** A socket whose fd the client passes: net.Socket, dgram.Socket, or a raw fd. */
export type SocketLike = net.Socket | dgram.Socket | number;

/** struct shim_locator with a parsed address. */
export interface Locator {
  /** 'IPv6', or 'IPv4' for an IPv4-mapped address (HIP only). */
  readonly family: 'IPv6' | 'IPv4';
  /** Text form ('2001:db8::1', or '192.0.2.1' for IPv4). */
  readonly address: string;
  /** The 16 bytes of lc_addr (network order). */
  readonly addr: Uint8Array;
  readonly priority: number;
  readonly weight: number;
  readonly ifindex: number;
  /** lc_flags: SHIM_LOC_FLAG_HBA | SHIM_LOC_FLAG_CGA. */
  readonly flags: number;
  readonly hba: boolean;
  readonly cga: boolean;
  readonly proto: number;
  readonly port: number;
}

/** What the application gives to set a locator: an address and optionally a preference. */
export interface LocatorInput {
  readonly address: string | Uint8Array;
  readonly priority?: number;
  readonly weight?: number;
}

/** struct shim_pathexplore. */
export interface PathExplore {
  readonly probes: number;               // pe_probenum
  readonly keepaliveTimeoutS: number;    // pe_keepaliveto
  readonly keepaliveIntervalS: number;   // pe_keepaliveint
  readonly initialProbeTimeoutMs: number; // pe_initprobeto
}

/** Option → value type of getsockopt. */
export interface GetValues {
  SHIM_ASSOCIATED: 0 | 1 | 2;
  SHIM_DONTSHIM: boolean;
  SHIM_HOT_STANDBY: boolean;
  SHIM_LOC_LOCAL_PREF: Locator | null;
  SHIM_LOC_PEER_PREF: Locator | null;
  SHIM_LOC_LOCAL_RECV: boolean;
  SHIM_LOC_PEER_RECV: boolean;
  SHIM_LOC_LOCAL_SEND: Locator | null;   // null: no locator forced
  SHIM_LOC_PEER_SEND: Locator | null;
  SHIM_LOCLIST_LOCAL: Locator[];
  SHIM_LOCLIST_PEER: Locator[];
  SHIM_APP_TIMEOUT: number;              // seconds, 0 = REAP default
  SHIM_PATHEXPLORE: PathExplore;
  SHIM_CONTEXT_DEFERRED_SETUP: boolean;
}

/** Option → value type of setsockopt (read-only options absent). */
export interface SetValues {
  SHIM_DONTSHIM: boolean;
  SHIM_HOT_STANDBY: boolean;
  SHIM_LOC_LOCAL_PREF: LocatorInput;
  SHIM_LOC_PEER_PREF: LocatorInput;
  SHIM_LOC_LOCAL_RECV: boolean;
  SHIM_LOC_PEER_RECV: boolean;
  SHIM_LOC_LOCAL_SEND: LocatorInput | null; // null: stop forcing (zero-filled locator)
  SHIM_LOC_PEER_SEND: LocatorInput | null;
  SHIM_LOCLIST_LOCAL: readonly LocatorInput[];
  SHIM_LOCLIST_PEER: readonly LocatorInput[];
  SHIM_APP_TIMEOUT: number;
  SHIM_PATHEXPLORE: Partial<PathExplore>;
}

/** A context event (struct shim6_event). */
export interface ShimEvent {
  readonly type: ShimEventType;
  readonly ulidLocal: string;
  readonly ulidPeer: string;
  /** Forked instance (0: the default context). */
  readonly fii: number;
  /** The locator pair it names (pair-changed: the new pair; path-failed: the failed one); null when none. */
  readonly local: Locator | null;
  readonly peer: Locator | null;
  /** Events lost before this one because the application read too slowly. */
  readonly dropped: number;
  /** When the agent emitted it: wall clock, and CLOCK_MONOTONIC (process.hrtime.bigint() scale). */
  readonly time: Date;
  readonly monoNs: bigint;
}
export type ShimEventType = ApiEventType;

export interface SubscribeOptions {
  /** Only these event types (default: all). */
  readonly events?: readonly ShimEventType[];
  /** The agent ended the subscription (it stopped or restarted): subscribe again when it is back. */
  readonly onEnd?: (err?: Error) => void;
  /** Keep the process alive while subscribed (default true). */
  readonly keepAlive?: boolean;
}

type Syscall = 'getsockopt' | 'setsockopt' | 'subscribe' | 'sendmsg' | 'recvmsg';

/** The locators of received data (SHIM_LOC_LOCAL_RECV / SHIM_LOC_PEER_RECV); null: zero-filled (no context). */
export interface ReceivedLocators {
  readonly local: string | null;
  readonly peer: string | null;
}

/** SOL_SHIM ancillary data of one send (RFC 6316 Table 2). */
export interface SendAncillary {
  /** SHIM_LOC_LOCAL_SEND / SHIM_LOC_PEER_SEND for this one datagram (must be verified). */
  readonly local?: string | Uint8Array;
  readonly peer?: string | Uint8Array;
  /** SHIM_FEEDBACK (§7.3). */
  readonly feedback?: { readonly direction: 'outbound' | 'inbound'; readonly indicator: 'default' | 'unable' | 'unsatisfactory' | 'satisfactory' };
}

/** A failed SOL_SHIM call, shaped like Node's system errors. */
export class ShimSocketError extends Error {
  /** errno name: 'EINVALIDLOCATOR', 'ENOENT', ... */
  readonly code: string;
  /** Negative errno, as Node reports errno (RFC 6316 values from <shim6/shim.h>). */
  readonly errno: number;
  readonly syscall: Syscall;
  readonly option: string;
  constructor(code: string, errno: number, syscall: Syscall, option: string, detail?: string) {
    const text = (H.SHIM_STRERROR as Record<string, string>)[code];
    super(`${code}${text ? `: ${text}` : ''}, ${syscall} ${option}${detail ? ` (${detail})` : ''}`);
    this.name = 'ShimSocketError';
    this.code = code;
    this.errno = -errno;
    this.syscall = syscall;
    this.option = option;
  }
}

/** The fd under a Node socket (net.Socket: _handle.fd; dgram.Socket: its state's handle). */
export function socketFd(sock: SocketLike): number {
  if (typeof sock === 'number') return sock;
  const anySock = sock as unknown as Record<string | symbol, unknown>;
  let handle = anySock._handle as { fd?: number } | undefined;
  if (!handle) {
    const sym = Object.getOwnPropertySymbols(sock).find((s) => s.description === 'state symbol');
    handle = sym ? (anySock[sym] as { handle?: { fd?: number } } | undefined)?.handle : undefined;
  }
  const fd = handle?.fd;
  if (typeof fd !== 'number' || fd < 0) {
    throw Object.assign(new TypeError('the socket has no file descriptor (not yet connected/bound, or closed)'), { code: 'ERR_INVALID_ARG_TYPE' });
  }
  return fd;
}

function toLocator(l: ShimLocator): Locator {
  const mapped = l.addr.subarray(0, 10).every((x) => x === 0) && l.addr[10] === 0xff && l.addr[11] === 0xff;
  const v4 = l.family === H.AF_INET || (mapped && l.family !== H.AF_INET6);
  return {
    family: v4 ? 'IPv4' : 'IPv6',
    address: v4 ? Array.from(l.addr.subarray(12)).join('.') : formatIpv6(l.addr),
    addr: l.addr, priority: l.prio, weight: l.weight, ifindex: l.ifidx, flags: l.flags,
    hba: (l.flags & H.SHIM_LOC_FLAG_HBA) !== 0, cga: (l.flags & H.SHIM_LOC_FLAG_CGA) !== 0,
    proto: l.proto, port: l.port,
  };
}

function addrBytes(a: string | Uint8Array): Uint8Array {
  if (typeof a !== 'string') {
    if (a.length !== 16) throw Object.assign(new TypeError('a locator address must be 16 bytes'), { code: 'ERR_INVALID_ARG_VALUE' });
    return a;
  }
  const m = /^(\d+)\.(\d+)\.(\d+)\.(\d+)$/.exec(a);
  if (m) return Uint8Array.from([0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff, ...m.slice(1).map(Number)]);
  const b = parseIpv6(a);
  if (!b) throw Object.assign(new TypeError(`not an IP address: ${a}`), { code: 'ERR_INVALID_ARG_VALUE' });
  return b;
}

function fromInput(l: LocatorInput): ShimLocator {
  const addr = addrBytes(l.address);
  const v4 = typeof l.address === 'string' && l.address.includes('.') && !l.address.includes(':');
  return { family: v4 ? H.AF_INET : H.AF_INET6, proto: 0, port: 0, prio: l.priority ?? 0, weight: l.weight ?? 0, ifidx: 0, addr, flags: 0 };
}

const isZero = (b: Uint8Array): boolean => b.subarray(0, 30).every((x) => x === 0);
const one = (b: Uint8Array): Locator | null => (isZero(b) ? null : toLocator(decodeLocator(b)));

type Codec<K extends keyof GetValues> = {
  decode(b: Uint8Array): GetValues[K];
  encode?(v: K extends keyof SetValues ? SetValues[K] : never): Uint8Array;
  /** getsockopt buffer size. */
  size: number;
};

const bool = { decode: (b: Uint8Array) => decodeInt(b) !== 0, encode: (v: boolean) => encodeInt(v ? 1 : 0), size: 4 };
const locOne = {
  decode: one,
  encode: (v: LocatorInput | null) => encodeLocator(v ? fromInput(v) : { family: 0, proto: 0, port: 0, prio: 0, weight: 0, ifidx: 0, addr: new Uint8Array(16), flags: 0 }),
  size: H.ShimLocatorLayout.size,
};
const list = {
  decode: (b: Uint8Array) => decodeLocators(b).map(toLocator),
  encode: (v: readonly LocatorInput[]) => encodeLocators(v.map(fromInput)),
  size: H.SHIM_MAX_LOCATORS * H.ShimLocatorLayout.size,
};

const CODECS: { [K in keyof GetValues]: Codec<K> } = {
  SHIM_ASSOCIATED: { decode: (b) => decodeInt(b) as 0 | 1 | 2, size: 4 },
  SHIM_DONTSHIM: bool,
  SHIM_HOT_STANDBY: bool,
  SHIM_LOC_LOCAL_PREF: locOne as Codec<'SHIM_LOC_LOCAL_PREF'>,
  SHIM_LOC_PEER_PREF: locOne as Codec<'SHIM_LOC_PEER_PREF'>,
  SHIM_LOC_LOCAL_RECV: bool,
  SHIM_LOC_PEER_RECV: bool,
  SHIM_LOC_LOCAL_SEND: locOne,
  SHIM_LOC_PEER_SEND: locOne,
  SHIM_LOCLIST_LOCAL: list,
  SHIM_LOCLIST_PEER: list,
  SHIM_APP_TIMEOUT: { decode: decodeInt, encode: encodeInt, size: 4 },
  SHIM_PATHEXPLORE: {
    decode: (b) => {
      const p = decodePathexplore(b);
      return { probes: p.probenum, keepaliveTimeoutS: p.keepaliveto, keepaliveIntervalS: p.keepaliveint, initialProbeTimeoutMs: p.initprobeto };
    },
    encode: (v: Partial<PathExplore>) => encodePathexplore({
      probenum: v.probes ?? 0, keepaliveto: v.keepaliveTimeoutS ?? 0, keepaliveint: v.keepaliveIntervalS ?? 0,
      initprobeto: v.initialProbeTimeoutMs ?? 0, reserved: 0,
    }),
    size: H.ShimPathexploreLayout.size,
  },
  SHIM_CONTEXT_DEFERRED_SETUP: bool,
};

export class ShimClient {
  readonly #opts: TransportOptions;

  constructor(opts: TransportOptions = {}) {
    this.#opts = opts;
  }

  /** getsockopt(fd, SOL_SHIM, opt): the typed value, or a ShimSocketError. */
  async getsockopt<K extends keyof GetValues>(sock: SocketLike, opt: K): Promise<GetValues[K]> {
    const codec = CODECS[opt] as Codec<K> | undefined;
    if (!codec) throw Object.assign(new TypeError(`unknown SOL_SHIM option ${String(opt)}`), { code: 'ERR_INVALID_ARG_VALUE' });
    const r = await this.#request(MsgType.GETSOCKOPT, [
      u32(Attr.LEVEL, H.SOL_SHIM), u32(Attr.OPTNAME, H.OPTION_NAMES[opt]), u32(Attr.OPTLEN, codec.size),
    ], socketFd(sock), 'getsockopt', opt);
    if (r.errno !== 0) throw this.#error(r.errno, r.errnoNumber, 'getsockopt', opt, r.frame);
    return codec.decode(findAttr(r.frame, Attr.OPTVAL) ?? new Uint8Array(codec.size));
  }

  /** setsockopt(fd, SOL_SHIM, opt, value). */
  async setsockopt<K extends keyof SetValues>(sock: SocketLike, opt: K, value: SetValues[K]): Promise<void> {
    const codec = CODECS[opt] as unknown as { encode?: (v: SetValues[K]) => Uint8Array };
    if (!codec?.encode) throw Object.assign(new TypeError(`${String(opt)} cannot be set`), { code: 'ERR_INVALID_ARG_VALUE' });
    const r = await this.#request(MsgType.SETSOCKOPT, [
      u32(Attr.LEVEL, H.SOL_SHIM), u32(Attr.OPTNAME, H.OPTION_NAMES[opt]), bytes(Attr.OPTVAL, codec.encode(value)),
    ], socketFd(sock), 'setsockopt', opt);
    if (r.errno !== 0) throw this.#error(r.errno, r.errnoNumber, 'setsockopt', opt, r.frame);
  }

  /**
   * Context events of one socket (SUBSCRIBE: a shim6 extension beyond RFC
   * 6316, like SCTP_PEER_ADDR_CHANGE): established, pair-changed (with the
   * new locators), path-failed, path-recovered, lost, for the socket's ULID
   * pair and FII, from now until the returned function is called. The socket
   * must be connected; it need not have a context yet (subscribe, then read
   * SHIM_ASSOCIATED: nothing falls between). Resolves once the agent has
   * registered it.
   */
  async subscribe(sock: SocketLike, listener: (ev: ShimEvent) => void, opts: SubscribeOptions = {}): Promise<() => void> {
    const fd = socketFd(sock);
    let mask: number | undefined;
    if (opts.events) {
      mask = 0;
      for (const t of opts.events) {
        const n = EVENT_TYPE[t];
        if (n === undefined) throw Object.assign(new TypeError(`unknown event type ${String(t)}`), { code: 'ERR_INVALID_ARG_VALUE' });
        mask |= 1 << n;
      }
    }
    let conn: ApiConnection;
    try {
      conn = new ApiConnection(this.#opts);
    } catch (err) {
      throw this.#unreachable(err, 'subscribe', 'events');
    }
    let ended = false;
    conn.onMulti = (f) => {
      if (ended || f.type !== MsgType.EVENT) return;
      const raw = findAttr(f, Attr.EVENT);
      const e = raw ? decodeEvent(raw) : null;
      const type = e ? eventTypeName(e.type) : undefined;
      if (!e || !type) return; // a newer agent's event type: not ours to guess
      const ev: ShimEvent = {
        type, ulidLocal: formatIpv6(e.ulidLocal), ulidPeer: formatIpv6(e.ulidPeer), fii: e.fii,
        local: e.local.family === 0 ? null : toLocator(e.local),
        peer: e.peer.family === 0 ? null : toLocator(e.peer),
        dropped: e.dropped, time: new Date(Number(e.timeNs / 1_000_000n)), monoNs: e.monoNs,
      };
      listener(ev);
    };
    conn.onEnd = (err) => {
      if (ended) return;
      ended = true;
      opts.onEnd?.(err);
    };
    const attrs: FrameAttr[] = mask === undefined ? [] : [u32(Attr.EVENT_MASK, mask)];
    let r;
    try {
      r = await conn.request(MsgType.SUBSCRIBE, attrs, [fd], this.#opts.timeoutMs ?? 5000);
    } catch (err) {
      ended = true;
      conn.close();
      throw err;
    }
    if (r.errno !== 0) {
      ended = true;
      conn.close();
      throw this.#error(r.errno, r.errnoNumber, 'subscribe', 'events', r.frame);
    }
    if (opts.keepAlive === false) conn.ref(false);
    return () => {
      ended = true;
      conn.close();
    };
  }

  /**
   * The ancillary data recvmsg() would carry with SHIM_LOC_LOCAL_RECV and
   * SHIM_LOC_PEER_RECV (Node has no recvmsg with cmsgs): the locator pair the
   * socket's context last received on (RFC 6316 §7.1, §7.4: the latest
   * locators), both null when the socket has no context. The socket need not
   * have enabled the options.
   */
  async receivedLocators(sock: SocketLike): Promise<ReceivedLocators> {
    const r = await this.#request(MsgType.RECVMSG, [u32(Attr.RECV_WANT, 3)], socketFd(sock), 'recvmsg', 'SHIM_LOC_RECV');
    if (r.errno !== 0) throw this.#error(r.errno, r.errnoNumber, 'recvmsg', 'SHIM_LOC_RECV', r.frame);
    const out: { local: string | null; peer: string | null } = { local: null, peer: null };
    for (const a of r.frame.attrs) {
      if (a.type !== Attr.CMSG) continue;
      const inner = decodeAttrs(a.value) ?? [];
      const f = { type: 0, flags: 0, seq: 0, attrs: inner };
      const type = getU32(f, Attr.CMSG_TYPE);
      const data = findAttr(f, Attr.CMSG_DATA);
      if (!data || data.length < 24) continue;
      const addr = data.subarray(8, 24);
      const text = addr.every((b) => b === 0) ? null : formatIpv6(addr);
      if (type === H.SHIM_LOC_LOCAL_RECV) out.local = text;
      else if (type === H.SHIM_LOC_PEER_RECV) out.peer = text;
    }
    return out;
  }

  /**
   * sendmsg() with SOL_SHIM ancillary data (RFC 6316 Table 2): SHIM_FEEDBACK
   * for REAP, and SHIM_LOC_*_SEND for one datagram — `data` is sent on a
   * connected dgram.Socket with those locators (checked first: ENOENT,
   * EINVALIDLOCATOR, EUNVERIFIEDLOCATOR, EUNREACHABLELOCATOR), the socket's
   * own settings are back once it has left. Without `data` only feedback may
   * be given.
   */
  async sendmsg(sock: SocketLike, anc: SendAncillary, data?: Uint8Array): Promise<void> {
    const fd = socketFd(sock);
    const cmsg = (type: number, value: Uint8Array) => nested(Attr.CMSG, [u32(Attr.CMSG_LEVEL, H.SOL_SHIM), u32(Attr.CMSG_TYPE, type), bytes(Attr.CMSG_DATA, value)]);
    const sin6 = (a: string | Uint8Array) => {
      const b = new Uint8Array(28);
      new DataView(b.buffer).setUint16(0, H.AF_INET6, true);
      b.set(addrBytes(a), 8);
      return b;
    };
    const attrs: FrameAttr[] = [];
    if (anc.local !== undefined) attrs.push(cmsg(H.SHIM_LOC_LOCAL_SEND, sin6(anc.local)));
    if (anc.peer !== undefined) attrs.push(cmsg(H.SHIM_LOC_PEER_SEND, sin6(anc.peer)));
    if (anc.feedback) {
      const fb = new Uint8Array(H.ShimFeedbackLayout.size);
      fb[0] = anc.feedback.direction === 'inbound' ? H.SHIM_FB_INBOUND : H.SHIM_FB_OUTBOUND;
      fb[1] = { default: H.SHIM_FB_DEFAULT, unable: H.SHIM_FB_UNABLE, unsatisfactory: H.SHIM_FB_UNSATISFACTORY, satisfactory: H.SHIM_FB_SATISFACTORY }[anc.feedback.indicator];
      attrs.push(cmsg(H.SHIM_FEEDBACK, fb));
    }
    if ((anc.local !== undefined || anc.peer !== undefined) && (data === undefined || typeof (sock as dgram.Socket).send !== 'function' || 'write' in (sock as object))) {
      throw Object.assign(new TypeError('SHIM_LOC_*_SEND ancillary data needs a datagram to send on a dgram.Socket'), { code: 'ERR_INVALID_ARG_TYPE' });
    }
    const r = await this.#request(MsgType.SENDMSG, attrs, fd, 'sendmsg', 'ancillary');
    if (r.errno !== 0) throw this.#error(r.errno, r.errnoNumber, 'sendmsg', 'ancillary', r.frame);
    if (data === undefined) return;
    try {
      await new Promise<void>((resolve, reject) => (sock as dgram.Socket).send(data, (err) => (err ? reject(err) : resolve())));
    } finally {
      if (getU32(r.frame, Attr.ONESHOT) === 1) await this.#request(MsgType.SENDMSG_DONE, [], fd, 'sendmsg', 'ancillary').catch(() => {});
    }
  }

  /** The request; no agent answering is ENOPROTOOPT, as libshim6 reports it (SOL_SHIM unknown). */
  async #request(type: number, attrs: FrameAttr[], fd: number, syscall: Syscall, opt: string) {
    try {
      return await request(type, attrs, [fd], this.#opts);
    } catch (err) {
      throw this.#unreachable(err, syscall, opt);
    }
  }

  #unreachable(err: unknown, syscall: Syscall, opt: string): unknown {
    const code = (err as { code?: string }).code;
    if (code === 'ENOENT' || code === 'ECONNREFUSED' || code === 'ENOTDIR') {
      return new ShimSocketError('ENOPROTOOPT', H.errnoNumber('ENOPROTOOPT'), syscall, opt, `shim6d is not running: nothing answers on ${apiPath(this.#opts)}`);
    }
    return err;
  }

  #error(code: string, n: number, syscall: Syscall, opt: string, f: Frame): ShimSocketError {
    const msg = findAttr(f, Attr.MESSAGE);
    const e = new ShimSocketError(code, n, syscall, opt, msg ? Buffer.from(msg).toString('utf8') : undefined);
    const needed = getU32(f, Attr.OPTLEN);
    if (typeof needed === 'number') Object.assign(e, { needed });
    return e;
  }
}

let shared: ShimClient | undefined;
/** getsockopt with the default client (env SHIM6_API_SOCKET or /run/shim6/api.sock). */
export function getsockopt<K extends keyof GetValues>(sock: SocketLike, opt: K): Promise<GetValues[K]> {
  return (shared ??= new ShimClient()).getsockopt(sock, opt);
}
/** setsockopt with the default client. */
export function setsockopt<K extends keyof SetValues>(sock: SocketLike, opt: K, value: SetValues[K]): Promise<void> {
  return (shared ??= new ShimClient()).setsockopt(sock, opt, value);
}
/** receivedLocators with the default client. */
export function receivedLocators(sock: SocketLike): Promise<ReceivedLocators> {
  return (shared ??= new ShimClient()).receivedLocators(sock);
}
/** sendmsg with the default client. */
export function sendmsg(sock: SocketLike, anc: SendAncillary, data?: Uint8Array): Promise<void> {
  return (shared ??= new ShimClient()).sendmsg(sock, anc, data);
}
/** subscribe with the default client. */
export function subscribe(sock: SocketLike, listener: (ev: ShimEvent) => void, opts?: SubscribeOptions): Promise<() => void> {
  return (shared ??= new ShimClient()).subscribe(sock, listener, opts);
}
