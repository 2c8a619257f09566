// What a passed fd is, cheaply: the raw form of the native socketInfo
// (socketInfo(fd, out), native/src/api.cc) decoded here. The native side
// reads SO_COOKIE, getsockname and getpeername (type and protocol once per
// socket, SO_ACCEPTCONN only when not connected) and builds no JS object;
// address texts are made only when read. The TCP state is not read here:
// SocketRef.tcpState asks for it when (if ever) it is read.
import { native } from '../native.js';
import type { SockAddr } from './backend.js';
import { LITTLE_ENDIAN as LE } from './frame.js';
import { formatIpv6 } from '../wire/addr.js';

export const RAW_INFO_SIZE = 72;
const F_CONNECTED = 1, F_LISTENING = 2, F_LOCAL = 4, F_PEER = 8, F_LOCAL4 = 16, F_PEER4 = 32;

/** A socket address; its text is made on first read. */
class Addr implements SockAddr {
  #text: string | undefined;
  constructor(readonly family: 'IPv6' | 'IPv4', readonly port: number, readonly addr: Uint8Array, readonly scopeId: number) {}
  get address(): string {
    return (this.#text ??= this.family === 'IPv4' ? Array.from(this.addr.subarray(12)).join('.') : formatIpv6(this.addr));
  }
  toJSON(): object {
    return { family: this.family, address: this.address, port: this.port };
  }
}

export interface SocketIdentity {
  readonly cookie: bigint;
  readonly family: number;
  readonly type: number;
  readonly protocol: number;
  readonly local: SockAddr | null;
  readonly peer: SockAddr | null;
  readonly connected: boolean;
  readonly listening: boolean;
}

type RawSocketInfo = (fd: number, out: Uint8Array) => void;

const shared = new Uint8Array(RAW_INFO_SIZE);

/**
 * Identify an fd. Throws the native error (code ENOTSOCK for a non-socket,
 * EBADF...) as socketInfo(fd) does.
 */
export function identifySocket(fd: number): SocketIdentity {
  (native().socketInfo as unknown as RawSocketInfo)(fd, shared);
  return decodeIdentity(shared, true);
}

/**
 * The raw layout decoded (the ApiListener's ev.info starts with it). copy:
 * the addresses are copied out (raw is reused); else they view raw.
 */
export function decodeIdentity(raw: Uint8Array, copy: boolean): SocketIdentity {
  const dv = new DataView(raw.buffer, raw.byteOffset, RAW_INFO_SIZE);
  const flags = dv.getUint32(24, LE);
  const addr = (present: number, v4: number, portOff: number, scopeOff: number, off: number): SockAddr | null =>
    (flags & present
      ? new Addr(flags & v4 ? 'IPv4' : 'IPv6', dv.getUint16(portOff, LE), copy ? raw.slice(off, off + 16) : raw.subarray(off, off + 16), dv.getUint32(scopeOff, LE))
      : null);
  return {
    cookie: dv.getBigUint64(0, LE),
    family: dv.getInt32(8, LE),
    type: dv.getInt32(12, LE),
    protocol: dv.getInt32(16, LE),
    local: addr(F_LOCAL, F_LOCAL4, 28, 32, 40),
    peer: addr(F_PEER, F_PEER4, 30, 36, 56),
    connected: (flags & F_CONNECTED) !== 0,
    listening: (flags & F_LISTENING) !== 0,
  };
}

/** ev.info past the identity: the socket's policy record as read (null: none), undefined when not read. */
export function prefetchedPolicy(info: Uint8Array): Uint8Array | null | undefined {
  if (info.length < 120) return undefined;
  const state = new DataView(info.buffer, info.byteOffset, 120).getUint32(72, LE);
  return state === 2 ? info.subarray(80, 120) : state === 1 ? null : undefined;
}
