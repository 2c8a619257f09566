// Matching kernel answers (NLMSG_ERROR: ACK or error) to requests sent with
// NLM_F_ACK. Pure: no socket, no clock; the caller sends, feeds received
// events to handle(), and applies its own timeouts (fail / failAll).

import type { ErrorEvent, NetlinkEvent } from './codec.js';

/**
 * Linux errno names, asm-generic numbering (x86, arm64, riscv, ...; not
 * alpha/mips/parisc/sparc). Index = errno. ENOTSUPP (524) is kernel-internal
 * but leaks to netlink users from some drivers.
 */
const ERRNO_NAMES: readonly string[] = (
  ' EPERM ENOENT ESRCH EINTR EIO ENXIO E2BIG ENOEXEC EBADF ECHILD EAGAIN ENOMEM EACCES EFAULT ENOTBLK EBUSY' +
  ' EEXIST EXDEV ENODEV ENOTDIR EISDIR EINVAL ENFILE EMFILE ENOTTY ETXTBSY EFBIG ENOSPC ESPIPE EROFS EMLINK EPIPE' +
  ' EDOM ERANGE EDEADLK ENAMETOOLONG ENOLCK ENOSYS ENOTEMPTY ELOOP - ENOMSG EIDRM ECHRNG EL2NSYNC EL3HLT EL3RST' +
  ' ELNRNG EUNATCH ENOCSI EL2HLT EBADE EBADR EXFULL ENOANO EBADRQC EBADSLT - EBFONT ENOSTR ENODATA ETIME ENOSR' +
  ' ENONET ENOPKG EREMOTE ENOLINK EADV ESRMNT ECOMM EPROTO EMULTIHOP EDOTDOT EBADMSG EOVERFLOW ENOTUNIQ EBADFD' +
  ' EREMCHG ELIBACC ELIBBAD ELIBSCN ELIBMAX ELIBEXEC EILSEQ ERESTART ESTRPIPE EUSERS ENOTSOCK EDESTADDRREQ' +
  ' EMSGSIZE EPROTOTYPE ENOPROTOOPT EPROTONOSUPPORT ESOCKTNOSUPPORT EOPNOTSUPP EPFNOSUPPORT EAFNOSUPPORT' +
  ' EADDRINUSE EADDRNOTAVAIL ENETDOWN ENETUNREACH ENETRESET ECONNABORTED ECONNRESET ENOBUFS EISCONN ENOTCONN' +
  ' ESHUTDOWN ETOOMANYREFS ETIMEDOUT ECONNREFUSED EHOSTDOWN EHOSTUNREACH EALREADY EINPROGRESS ESTALE EUCLEAN' +
  ' ENOTNAM ENAVAIL EISNAM EREMOTEIO EDQUOT ENOMEDIUM EMEDIUMTYPE ECANCELED ENOKEY EKEYEXPIRED EKEYREVOKED' +
  ' EKEYREJECTED EOWNERDEAD ENOTRECOVERABLE ERFKILL EHWPOISON'
).split(' ');

/** The errno's name ('EEXIST' for 17), or `ERRNO_<n>` for numbers without one. */
export function errnoName(errno: number): string {
  if (errno === 524) return 'ENOTSUPP';
  const name = Number.isInteger(errno) && errno > 0 ? ERRNO_NAMES[errno] : undefined;
  return name && name !== '-' ? name : `ERRNO_${errno}`;
}

const REQUEST_NAMES: Readonly<Record<number, string>> = {
  16: 'RTM_NEWLINK',
  17: 'RTM_DELLINK',
  18: 'RTM_GETLINK',
  20: 'RTM_NEWADDR',
  21: 'RTM_DELADDR',
  22: 'RTM_GETADDR',
  24: 'RTM_NEWROUTE',
  25: 'RTM_DELROUTE',
  26: 'RTM_GETROUTE',
};

/** A request the kernel refused: NLMSG_ERROR with a nonzero error. */
export class NetlinkError extends Error {
  /** Positive errno (17). */
  readonly errno: number;
  /** Its name ('EEXIST'). */
  readonly code: string;
  /** nlmsg_seq of the failed request. */
  readonly seq: number;
  // `declare`: absent (not undefined-valued) properties when the kernel sent none.
  /** nlmsg_type of the failed request, when the kernel echoed it (it always does). */
  declare readonly requestType?: number;
  /** NLMSGERR_ATTR_MSG extended-ACK text, when the socket has NETLINK_EXT_ACK and the kernel gave one. */
  declare readonly extack?: string;

  constructor(ev: Pick<ErrorEvent, 'seq' | 'errno' | 'requestType' | 'message'>) {
    const code = errnoName(ev.errno);
    const what = ev.requestType !== undefined ? (REQUEST_NAMES[ev.requestType] ?? `netlink type ${ev.requestType}`) : 'netlink request';
    super(`${what} (seq ${ev.seq}) failed: ${code} (errno ${ev.errno})${ev.message ? `: ${ev.message}` : ''}`);
    this.name = 'NetlinkError';
    this.errno = ev.errno;
    this.code = code;
    this.seq = ev.seq;
    if (ev.requestType !== undefined) this.requestType = ev.requestType;
    if (ev.message !== undefined) this.extack = ev.message;
  }
}

interface Pending {
  readonly promise: Promise<void>;
  readonly resolve: () => void;
  readonly reject: (err: Error) => void;
}

/**
 * Sequence numbers and ACK matching for requests sent with NLM_F_ACK.
 *
 *   const seq = reqs.next();
 *   const done = reqs.expect(seq);      // before the answer can arrive
 *   socket.send(encodeRouteRequest('new', seq, {...}));
 *   ...onMessage: rest = reqs.handle(decodeMessages(data))
 *   await done;                          // or NetlinkError { errno, code, extack }
 *
 * Only 'error' events (ACKs included) whose seq is being expected are
 * consumed; everything else, including NLMSG_DONE of dumps and kernel
 * notifications (seq 0), is returned from handle(). Use next() for dump
 * sequence numbers on the same socket too, so they never collide.
 */
export class NetlinkRequests {
  #seq: number;
  readonly #pending = new Map<number, Pending>();

  /** `start`: the first seq next() returns (default 1). 0 is never returned: it is the seq of notifications. */
  constructor(start = 1) {
    this.#seq = ((start >>> 0) - 1) >>> 0;
  }

  /** The next sequence number: u32, increasing, wrapping past 0xffffffff to 1. */
  next(): number {
    this.#seq = (this.#seq + 1) >>> 0;
    if (this.#seq === 0) this.#seq = 1;
    return this.#seq;
  }

  /**
   * A promise for the kernel's answer to the request with this seq: resolves
   * on the ACK, rejects with a NetlinkError. Call it before the answer can be
   * handled (before or right after send, in the same tick); expecting a seq
   * that is already pending returns the same promise.
   */
  expect(seq: number): Promise<void> {
    const key = seq >>> 0;
    const existing = this.#pending.get(key);
    if (existing) return existing.promise;
    let resolve!: () => void;
    let reject!: (err: Error) => void;
    const promise = new Promise<void>((res, rej) => {
      resolve = res;
      reject = rej;
    });
    this.#pending.set(key, { promise, resolve, reject });
    return promise;
  }

  /** Settle the requests these events answer; returns the events that are not theirs, in order. */
  handle(events: readonly NetlinkEvent[]): NetlinkEvent[] {
    const rest: NetlinkEvent[] = [];
    for (const ev of events) {
      const p = ev.kind === 'error' ? this.#pending.get(ev.seq) : undefined;
      if (!p || ev.kind !== 'error') {
        rest.push(ev);
        continue;
      }
      this.#pending.delete(ev.seq);
      if (ev.errno === 0) p.resolve();
      else p.reject(new NetlinkError(ev));
    }
    return rest;
  }

  /** Reject one pending request (a timeout); false if it was not pending. */
  fail(seq: number, err: Error): boolean {
    const key = seq >>> 0;
    const p = this.#pending.get(key);
    if (!p) return false;
    this.#pending.delete(key);
    p.reject(err);
    return true;
  }

  /** Reject every pending request (socket closed, ENOBUFS on a request socket, shutdown). */
  failAll(err: Error): void {
    const all = [...this.#pending.values()];
    this.#pending.clear();
    for (const p of all) p.reject(err);
  }

  /** Number of requests waiting for an answer. */
  get pending(): number {
    return this.#pending.size;
  }

  /** Whether a request with this seq is waiting for an answer. */
  isPending(seq: number): boolean {
    return this.#pending.has(seq >>> 0);
  }
}
