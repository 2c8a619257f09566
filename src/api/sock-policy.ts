// SocketPolicy (backend.ts) ↔ the data plane's struct shim6_sock_policy in the
// socket-local storage map shim6_sock (bpf/shim6_types.h), for the agent's
// ApiBackend.socketPolicy / setSocketPolicy. The map is keyed by the socket's
// fd in the calling process: use these while the server still holds the
// passed fd (SocketRef.fd), i.e. inside the backend call.
//
// recvLocal/recvPeer have no bit in shim6_sock_policy yet: callers keep them
// elsewhere (see `recv` below) until SHIM6_SOCK_F_RECV_* exist in shim6_consts.h.
import { native } from '../native.js';
import * as L from '../generated/layout.js';
import { DEFAULT_POLICY, type SocketPolicy } from './backend.js';

const ZERO16 = new Uint8Array(16);

export function toDataplanePolicy(p: SocketPolicy): L.Shim6SockPolicy {
  return {
    flags: (p.dontShim ? L.SOCK_F_DONTSHIM : 0) | (p.sendLocal ? L.SOCK_F_PIN_LOCAL : 0) | (p.sendPeer ? L.SOCK_F_PIN_PEER : 0),
    fii: p.fii >>> 0,
    lpLocal: p.sendLocal ?? ZERO16,
    lpPeer: p.sendPeer ?? ZERO16,
  };
}

export function fromDataplanePolicy(v: L.Shim6SockPolicy | null, recv: { recvLocal: boolean; recvPeer: boolean } = { recvLocal: false, recvPeer: false }): SocketPolicy {
  if (!v) return { ...DEFAULT_POLICY, ...recv };
  return {
    dontShim: (v.flags & L.SOCK_F_DONTSHIM) !== 0,
    sendLocal: v.flags & L.SOCK_F_PIN_LOCAL ? new Uint8Array(v.lpLocal) : null,
    sendPeer: v.flags & L.SOCK_F_PIN_PEER ? new Uint8Array(v.lpPeer) : null,
    fii: v.fii,
    ...recv,
  };
}

const fdKey = (fd: number): Buffer => { const b = Buffer.alloc(4); b.writeInt32LE(fd); return b; };

/** Read a socket's policy from the shim6_sock map (mapFd), by the socket's fd. */
export function readSockPolicy(mapFd: number, sockFd: number): L.Shim6SockPolicy | null {
  const v = native().mapLookup(mapFd, fdKey(sockFd));
  return v ? L.decodeShim6SockPolicy(v) : null;
}

/** Write (or, for the default policy, delete) a socket's entry in the shim6_sock map. */
export function writeSockPolicy(mapFd: number, sockFd: number, p: SocketPolicy): void {
  const v = toDataplanePolicy(p);
  if (v.flags === 0 && v.fii === 0) {
    native().mapDelete(mapFd, fdKey(sockFd));
    return;
  }
  native().mapUpdate(mapFd, fdKey(sockFd), L.encodeShim6SockPolicy(v));
}
