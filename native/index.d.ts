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
}

export interface LoadResult {
  progs: Record<string, number>; // program name -> fd (owned by the caller)
  maps: Record<string, number>;  // map name -> fd (owned by the caller)
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
  mapInfo(fd: number): MapInfo;
  mapLookup(fd: number, key: Buffer): Buffer | null;
  mapUpdate(fd: number, key: Buffer, value: Buffer, flags?: number): void;
  mapDelete(fd: number, key: Buffer): boolean;
  mapKeys(fd: number, limit?: number): Buffer[];
  numPossibleCpus(): number;
  ifNameToIndex(name: string): number;
  ifIndexToName(ifindex: number): string;
  socketCookie(fd: number): bigint;
  ensureBpffs(path: string): boolean;
  RingBuffer: typeof RingBuffer;
  Socket: typeof Socket;
}
