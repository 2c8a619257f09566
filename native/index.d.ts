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
}
