// The RFC 6316 API server: a SOCK_SEQPACKET Unix socket (native ApiListener)
// carrying the frames of frame.ts. Each request passes the caller's socket
// with SCM_RIGHTS; the server identifies it from the fd (socketInfo), runs
// the option logic (options.ts) against the ApiBackend, closes every fd it
// received, and only then answers. Nothing a client sends can throw out of
// here: malformed frames get an errno answer.
import diagnostics from 'node:diagnostics_channel';
import fs from 'node:fs';
import path from 'node:path';
import type { Logger } from 'pino';
import { native } from '../native.js';
import type { ApiListener, ApiListenerEvent, SocketInfo } from '../../native/index.js';
import { ApiError, type ApiBackend, type SocketRef } from './backend.js';
import { Attr, Flag, MsgType, decodeFrame, encodeFrame, getU32, findAttr, u32, bytes, text, type Frame, type FrameAttr } from './frame.js';
import { handleOption } from './options.js';
import { cmsgsOf, handleSendmsg } from './ancillary.js';
import { SOL_SHIM, errnoNumber, optionName, SHIM6_API_SOCKET_DEFAULT, type ErrnoName } from './shim-h.js';

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
}

export interface ApiServerCounters {
  requests: number;
  errors: number;
  malformed: number;
  connections: number;
}

function toRef(info: SocketInfo, fd: number, cred: { pid: number; uid: number; gid: number }): SocketRef {
  return {
    fd, cookie: info.cookie, family: info.family, type: info.type, protocol: info.protocol,
    local: info.local, peer: info.peer, connected: info.connected, listening: info.listening,
    tcpState: info.tcpState, cred,
  };
}

export class ApiServer {
  readonly path: string;
  readonly counters: ApiServerCounters = { requests: 0, errors: 0, malformed: 0, connections: 0 };
  readonly #backend: ApiBackend;
  readonly #log: Logger | undefined;
  readonly #mode: number;
  readonly #group: number | string | undefined;
  #listener: ApiListener | null = null;
  readonly #conns = new Set<number>();
  readonly #inflight = new Set<Promise<void>>();

  constructor(opts: ApiServerOptions) {
    this.#backend = opts.backend;
    this.path = opts.path ?? SHIM6_API_SOCKET_DEFAULT;
    this.#mode = opts.mode ?? 0o666;
    this.#group = opts.group;
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
  }

  /** Stop listening, drop connections, wait for requests under way. */
  async close(): Promise<void> {
    this.#listener?.close();
    this.#listener = null;
    this.#conns.clear();
    await Promise.allSettled([...this.#inflight]);
  }

  #onEvent(ev: ApiListenerEvent): void {
    if (ev.closed) {
      this.#conns.delete(ev.conn);
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
    const fds = ev.fds ?? [];
    const cred = ev.cred ?? { pid: 0, uid: -1, gid: -1 };
    let fdsClosed = false;
    const closeFds = () => {
      if (fdsClosed) return;
      fdsClosed = true;
      for (const fd of fds) {
        try { native().closeFd(fd); } catch { /* already gone */ }
      }
    };
    let reply: Frame;
    let record: ApiRequestRecord;
    try {
      ({ reply, record } = await this.#answer(ev, fds, cred));
    } catch (err) {
      // Only a bug gets here; the caller still gets an answer.
      this.#log?.error({ err }, 'API request failed unexpectedly');
      reply = { type: 0, flags: Flag.REPLY, seq: 0, attrs: [u32(Attr.ERRNO, errnoNumber('EIO'))] };
      record = { type: 0, seq: 0, errno: 'EIO', cred };
    } finally {
      // The passed fd is closed before the answer: holding it would keep the app's connection open.
      closeFds();
    }
    this.counters.requests++;
    if (record.errno !== 0) this.counters.errors++;
    if (requestChannel.hasSubscribers) requestChannel.publish(record);
    try {
      this.#listener?.send(ev.conn, encodeFrame(reply));
    } catch (err) {
      this.#log?.debug({ err, conn: ev.conn }, 'API reply not delivered (client gone)');
    }
  }

  async #answer(ev: ApiListenerEvent, fds: number[], cred: { pid: number; uid: number; gid: number }): Promise<{ reply: Frame; record: ApiRequestRecord }> {
    const answer = (type: number, seq: number, errno: ErrnoName | 0, attrs: FrameAttr[] = [], message?: string, optname?: number, cookie?: bigint) => {
      const out: FrameAttr[] = [u32(Attr.ERRNO, errno === 0 ? 0 : errnoNumber(errno)), ...attrs];
      if (message) out.push(text(Attr.MESSAGE, message));
      if (errno !== 0) this.#log?.debug({ pid: cred.pid, uid: cred.uid, type, optname, errno, message }, 'API request refused');
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
        break;
      case MsgType.RECVMSG:
      case MsgType.SUBSCRIBE:
      case MsgType.FORK:
        return answer(type, seq, 'EOPNOTSUPP', [], 'not implemented yet');
      default:
        return answer(type, seq, 'EOPNOTSUPP', [], `unknown message type ${type}`);
    }
    // get/setsockopt, sendmsg: exactly one socket passed.
    if (ev.ctrunc || fds.length !== 1) return answer(type, seq, 'EBADF', [], `pass exactly one socket with SCM_RIGHTS (got ${fds.length}${ev.ctrunc ? '+' : ''})`);
    if (type === MsgType.SENDMSG) {
      const cmsgs = cmsgsOf(f.attrs);
      if (!cmsgs) return answer(type, seq, 'EBADMSG', [], 'malformed CMSG attribute');
      let info: SocketInfo;
      try {
        info = native().socketInfo(fds[0]);
      } catch (err) {
        return answer(type, seq, (err as { code?: string }).code === 'ENOTSOCK' ? 'ENOTSOCK' : 'EBADF', [], (err as Error).message);
      }
      const r = await handleSendmsg(this.#backend, toRef(info, fds[0], cred), cmsgs);
      if (!r.ok && r.cause) this.#log?.warn({ err: r.cause }, 'API backend failed');
      return r.ok ? answer(type, seq, 0, [], undefined, undefined, info.cookie) : answer(type, seq, r.errno, [], r.message, undefined, info.cookie);
    }
    const level = getU32(f, Attr.LEVEL);
    const optname = getU32(f, Attr.OPTNAME);
    const optlen = getU32(f, Attr.OPTLEN);
    if (level === null || optname === null || optlen === null) return answer(type, seq, 'EBADMSG', [], 'a u32 attribute has the wrong size');
    if (optname === undefined) return answer(type, seq, 'EINVAL', [], 'OPTNAME is missing');
    if (level !== undefined && level !== SOL_SHIM) return answer(type, seq, 'ENOPROTOOPT', [], `level ${level} is not SOL_SHIM`, optname);
    let info: SocketInfo;
    try {
      info = native().socketInfo(fds[0]);
    } catch (err) {
      const code = (err as { code?: string }).code;
      return answer(type, seq, code === 'ENOTSOCK' ? 'ENOTSOCK' : 'EBADF', [], (err as Error).message, optname);
    }
    const sock = toRef(info, fds[0], cred);
    this.#log?.debug({ pid: cred.pid, uid: cred.uid, gid: cred.gid, cookie: info.cookie.toString(), op: type === MsgType.GETSOCKOPT ? 'get' : 'set', opt: optionName(optname) ?? optname }, 'API request');
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
    return answer(type, seq, 0, [], undefined, optname, info.cookie);
  }
}

export { ApiError };
