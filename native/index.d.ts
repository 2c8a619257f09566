// The shim6 native addon (build/shim6.node), declared once. test/unit/native-decl
// checks that the built module exports exactly these names with these kinds.
// Every function throws a NativeError (code, errno, syscall) on a failed
// system call and a TypeError (code ERR_INVALID_ARG_TYPE) on a bad argument.

export interface NativeError extends Error {
  code: string;     // 'ENOENT', 'EPERM', ... as Node names them
  errno: number;    // negative errno, as in Node
  syscall: string;  // the call that failed
}

export interface LoadOptions {
  pinDir: string;   // maps are pinned here (reused when compatible)
  gsoMode: number;  // GSO_HEAD or GSO_SEGMENT (src/generated/layout.ts)
  segIfindex?: number; // GSO_SEGMENT: the shim device's veth peer (segmentation loop)
  tcpRtoMaxMs?: number; // shim6_sockops: TCP_RTO_MAX_MS of shimmed TCP sockets in an outage, 0 = none (default TCP_RTO_MAX_MS_DEFAULT)
  tcpRtoBounded?: number; // ... for this many consecutive RTOs (default TCP_RTO_BOUNDED_DEFAULT)
  tcpRtoMaxDefaultMs?: number; // ... then back to this (the namespace's net.ipv4.tcp_rto_max_ms; default 120000)
  netnsCookie?: bigint; // shim6_sockops acts on this namespace's sockets only (default: the caller's, netnsCookie())
  xdp?: boolean;      // shim6_xdp is attached to the uplinks: shim6_ingress skips what it stripped (default false)
}

export interface LinkInfo {
  id: number;
  type: number;        // BPF_LINK_TYPE_* (CGROUP = 3)
  progId: number;
  cgroupId?: bigint;   // cgroup links: the cgroup (0 once it is gone or the link detached)
  attachType?: number; // cgroup links: BPF_CGROUP_* attach type
}

export interface LoadResult {
  progs: Record<string, number>; // program name -> fd (owned by the caller)
  maps: Record<string, number>;  // map name -> fd (owned by the caller)
}

export interface XdpHook {
  ifindex: number;
  mode?: 'native' | 'generic';
}

export interface TcHook {
  ifindex: number;
  direction: 'ingress' | 'egress';
  priority?: number; // default 1
  handle?: number;   // default 1
}

export interface MapInfo {
  id: number;
  type: number;
  keySize: number;
  valueSize: number;
  maxEntries: number;
  flags: number;
  name: string;
  perCpu: boolean;
}

export interface ProgInfo {
  id: number;
  type: number;
  name: string;
  tag: string;
  runTimeNs: number;
  runCount: number;
}

export interface TestRunOptions {
  data: Buffer;
  ctx?: Buffer;        // struct __sk_buff in
  repeat?: number;
  dataOutSize?: number;
}

export interface TestRunResult {
  retval: number;
  data: Buffer;
  durationNs: number;  // average per repetition
  ctx?: Buffer;
}

export declare class RingBuffer {
  constructor(mapFd: number, onRecord: (record: Buffer) => void);
  consume(): number;
  close(): void;
}

export interface SocketOptions {
  mark?: number;         // SO_MARK (raw6)
  icmp6Pass?: number[];  // ICMPv6 types to receive, all others blocked (raw6, protocol 58)
  groups?: number;       // netlink multicast groups (RTMGRP_* bit mask)
  rcvbuf?: number;       // SO_RCVBUF
}

export interface SocketMessage {
  data?: Buffer;         // the datagram (raw6: from after the IPv6 header and extension headers)
  truncated?: boolean;
  src?: Buffer;          // raw6: IPv6 source (16 bytes)
  dst?: Buffer;          // raw6: IPv6 destination (IPV6_PKTINFO)
  ifindex?: number;      // raw6: arrival interface
  error?: string;        // a receive error (e.g. 'ENOBUFS': netlink events were lost)
}

/** A non-blocking datagram socket: raw IPv6 (protocol 140, ICMPv6) or rtnetlink. */
export declare class Socket {
  constructor(kind: 'raw6' | 'netlink', protocol: number, onMessage: (msg: SocketMessage) => void, opts?: SocketOptions);
  /** raw6: to dst, from src when given (IPV6_PKTINFO). netlink: to the kernel. Returns bytes sent. */
  send(data: Buffer, dst?: Buffer | null, src?: Buffer | null): number;
  close(): void;
  fd(): number;
}

export interface ApiListenerOptions {
  path: string;             // socket path (bound here; unlinked by close())
  mode?: number;            // file mode of the socket (default 0o660)
  group?: number | string;  // group owning the socket (gid or name)
  backlog?: number;
}

export interface ApiCred {
  pid: number;              // SO_PEERCRED of the connecting process
  uid: number;
  gid: number;
}

/** One event of an ApiListener connection: a message (with the fds it carried) or its end. */
export interface ApiListenerEvent {
  conn: number;             // connection id (never reused by one listener)
  data?: Buffer;            // one SEQPACKET message
  fds?: number[];           // received with SCM_RIGHTS: owned by the callee (close them)
  cred?: ApiCred;
  truncated?: boolean;      // the message was longer than 64 KiB
  ctrunc?: boolean;         // more fds were sent than accepted (8): the rest were closed
  closed?: boolean;         // the connection is over (peer closed, or error)
  error?: string;           // with closed: the receive error
  /**
   * With exactly one fd: what it is, read by the listener at once — the raw
   * socketInfo(fd, out) layout (72 bytes), then u32 policy state at 72 (0 not
   * read, 1 none, 2 present) and struct shim6_sock_policy at 80 (40 bytes),
   * read from the map given to setSockMap() with the fd as key.
   */
  info?: Buffer;
  /** Identification failed: the errno code ('ENOTSOCK') and socketInfo's message. */
  infoErrno?: string;
  infoError?: string;
}

/** A SOCK_SEQPACKET Unix listener that receives SCM_RIGHTS (the RFC 6316 API socket). */
export declare class ApiListener {
  constructor(opts: ApiListenerOptions, onEvent: (ev: ApiListenerEvent) => void);
  /** Send one message on a connection; returns bytes sent. */
  send(conn: number, data: Buffer): number;
  /** Close fds (a request's), then send the reply; returns bytes sent. The fds are closed even when it throws. */
  reply(conn: number, data: Buffer, fds: number[]): number;
  /** The shim6_sock map, read for every passed socket (ev.info); dup()ed. false: not that map (nothing read). */
  setSockMap(fd: number): boolean;
  /** Close one connection; false when there was none. */
  closeConn(conn: number): boolean;
  /** Close every connection and the listener, unlink the path. */
  close(): void;
  fd(): number;
  /** A client connection that stays open (SUBSCRIBE): messages arrive on onMessage. */
  static Connection: typeof ApiConnection;
}

export interface ApiConnectionMessage {
  data?: Buffer;
  truncated?: boolean;
  closed?: boolean;
  error?: string;
}

/** A connected SEQPACKET client socket to the API (ApiListener.Connection). */
export declare class ApiConnection {
  constructor(path: string, onMessage: (m: ApiConnectionMessage) => void);
  send(data: Buffer, fds?: number[]): number;
  close(): void;
  ref(): void;
  unref(): void;
  fd(): number;
}

export interface SockAddrInfo {
  family: 'IPv6' | 'IPv4';
  address: string;
  port: number;
  addr: Buffer;             // 16 bytes; IPv4 as ::ffff:a.b.c.d
  scopeId?: number;
}

/** What a socket fd is (the API server identifies callers' sockets with it). */
export interface SocketInfo {
  cookie: bigint;           // SO_COOKIE (bpf_get_socket_cookie)
  family: number;           // AF_*
  type: number;             // SOCK_*
  protocol: number;         // IPPROTO_*
  local: SockAddrInfo | null;
  peer: SockAddrInfo | null;   // set exactly when connected
  connected: boolean;
  listening: boolean;
  tcpState: number | null;  // TCP_ESTABLISHED = 1, ... (TCP sockets only)
}

/** Capability sets of the calling thread (bit n = capability n, as in /proc/PID/status). */
export interface CapState {
  effective: bigint;
  permitted: bigint;
  inheritable: bigint;
  bounding: bigint;
  ambient: bigint;
  noNewPrivs: boolean;
  lastCap: number;       // /proc/sys/kernel/cap_last_cap
}

export interface Shim6Native {
  load(opts: LoadOptions): LoadResult;
  objGet(path: string): number;
  objPin(fd: number, path: string): void;
  closeFd(fd: number): void;
  progInfo(fd: number): ProgInfo;
  progFdById(id: number): number;
  progTestRun(fd: number, opts: TestRunOptions): TestRunResult;
  tcAttach(hook: TcHook & { progFd: number }): number;
  tcDetach(hook: TcHook): boolean;
  tcQuery(hook: TcHook): number | null;
  /** XDP on a device: 'native' (driver mode, the default) or 'generic'
   * (skb mode). Attach replaces what is there and returns the program id. */
  xdpAttach(hook: XdpHook & { progFd: number }): number;
  xdpDetach(hook: XdpHook): boolean;
  xdpQuery(hook: XdpHook): number | null;
  mapInfo(fd: number): MapInfo;
  mapLookup(fd: number, key: Buffer): Buffer | null;
  mapUpdate(fd: number, key: Buffer, value: Buffer, flags?: number): void;
  mapDelete(fd: number, key: Buffer): boolean;
  mapKeys(fd: number, limit?: number): Buffer[];
  /** Read-only live mapping of a BPF_F_MMAPABLE array map's values (key 0 first); unmapped when collected. */
  mapMmap(fd: number): ArrayBuffer;
  numPossibleCpus(): number;
  ifNameToIndex(name: string): number;
  ifIndexToName(ifindex: number): string;
  socketCookie(fd: number): bigint;
  ensureBpffs(path: string): boolean;
  /** Cookie of the caller's network namespace (SO_NETNS_COOKIE; bpf_get_netns_cookie() in programs). */
  netnsCookie(): bigint;
  /** Attach a program to a cgroup v2 with a bpf_link (multi-attach); returns the link fd. Attached while an fd or a pin holds the link. */
  cgroupLink(cgroupPath: string, progFd: number, attachType: 'sock_ops'): number;
  /** Replace the program of a link, atomically. */
  linkUpdate(linkFd: number, progFd: number): void;
  linkInfo(fd: number): LinkInfo;
  /** Ids of the programs attached directly to a cgroup for this attach type. */
  cgroupQuery(cgroupPath: string, attachType: 'sock_ops'): number[];
  RingBuffer: typeof RingBuffer;
  Socket: typeof Socket;
  ApiListener: typeof ApiListener;
  socketInfo(fd: number): SocketInfo;
  /** The same, raw: fills `out` (layout in src/api/sockinfo.ts), no objects built. */
  socketInfo(fd: number, out: Uint8Array): void;
  /** One API request on a fresh connection, fds passed with SCM_RIGHTS (keep them open until it settles). */
  apiRequest(path: string, frame: Buffer, fds: number[], timeoutMs?: number): Promise<Buffer>;
  /** sd_notify(3): send `state` (e.g. 'READY=1') to $NOTIFY_SOCKET (a path or '@abstract'); false when it is unset. */
  sdNotify(state: string): boolean;
  capGet(): CapState;
  /**
   * Keep only the capabilities in `keep` (bit mask) in the permitted and
   * effective sets, clear the others from the bounding set (with CAP_SETPCAP)
   * and the ambient and inheritable sets, and set no_new_privs, on every
   * thread of the process that can take a signal. Returns the effective set
   * now held and the threads that block every signal (Node 20's inspector
   * thread waiting for SIGUSR1), which keep theirs.
   */
  dropPrivileges(keep: bigint): { effective: bigint; threads: number; unreachable: number[] };
}
