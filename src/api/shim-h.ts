// The TypeScript mirror of include/shim6/shim.h. Never edit one without the
// other: test/unit/api/shim-h.test.ts compiles a C program against the header
// and compares every value, size and offset below.
import os from 'node:os';

export const SOL_SHIM = 6316;

/** Table 1 option names (and Table 2 cmsg types). */
export const SHIM_ASSOCIATED = 1;
export const SHIM_DONTSHIM = 2;
export const SHIM_HOT_STANDBY = 3;
export const SHIM_LOC_LOCAL_PREF = 4;
export const SHIM_LOC_PEER_PREF = 5;
export const SHIM_LOC_LOCAL_RECV = 6;
export const SHIM_LOC_PEER_RECV = 7;
export const SHIM_LOC_LOCAL_SEND = 8;
export const SHIM_LOC_PEER_SEND = 9;
export const SHIM_LOCLIST_LOCAL = 10;
export const SHIM_LOCLIST_PEER = 11;
export const SHIM_APP_TIMEOUT = 12;
export const SHIM_PATHEXPLORE = 13;
export const SHIM_CONTEXT_DEFERRED_SETUP = 14;
export const SHIM_DEFERRED_CONTEXT_SETUP = SHIM_CONTEXT_DEFERRED_SETUP;
export const SHIM_FEEDBACK = 15;

export const SHIM_MAX_LOCATORS = 32;
export const SHIM_LOC_FLAG_HBA = 0x01;
export const SHIM_LOC_FLAG_CGA = 0x02;

export const SHIM_FB_OUTBOUND = 0;
export const SHIM_FB_INBOUND = 1;
export const SHIM_FB_DEFAULT = 0;
export const SHIM_FB_UNABLE = 1;
export const SHIM_FB_UNSATISFACTORY = 2;
export const SHIM_FB_SATISFACTORY = 3;

export const EINVALIDLOCATOR = 6317;
export const EUNVERIFIEDLOCATOR = 6318;
export const EUNREACHABLELOCATOR = 6319;
export const ETOOMANYLOCATORS = 6320;

export const SHIM6_API_SOCKET_DEFAULT = '/run/shim6/api.sock';

/** Context events (a shim6 extension beyond RFC 6316: shim6_subscribe(), struct shim6_event). */
export const SHIM_EVENT_ESTABLISHED = 1;
export const SHIM_EVENT_PAIR_CHANGED = 2;
export const SHIM_EVENT_PATH_FAILED = 3;
export const SHIM_EVENT_PATH_RECOVERED = 4;
export const SHIM_EVENT_LOST = 5;
/** Every event type's bit (1 << SHIM_EVENT_*). */
export const SHIM_EVENT_ALL = 0x3e;
export const SHIM_EVENT_NAMES = {
  SHIM_EVENT_ESTABLISHED, SHIM_EVENT_PAIR_CHANGED, SHIM_EVENT_PATH_FAILED, SHIM_EVENT_PATH_RECOVERED, SHIM_EVENT_LOST,
} as const;

/** Every option/cmsg name of the header, by name (for the mirror test, logs and the client). */
export const OPTION_NAMES = {
  SHIM_ASSOCIATED, SHIM_DONTSHIM, SHIM_HOT_STANDBY, SHIM_LOC_LOCAL_PREF, SHIM_LOC_PEER_PREF,
  SHIM_LOC_LOCAL_RECV, SHIM_LOC_PEER_RECV, SHIM_LOC_LOCAL_SEND, SHIM_LOC_PEER_SEND,
  SHIM_LOCLIST_LOCAL, SHIM_LOCLIST_PEER, SHIM_APP_TIMEOUT, SHIM_PATHEXPLORE,
  SHIM_CONTEXT_DEFERRED_SETUP, SHIM_DEFERRED_CONTEXT_SETUP, SHIM_FEEDBACK,
} as const;
export type OptionName = Exclude<keyof typeof OPTION_NAMES, 'SHIM_FEEDBACK' | 'SHIM_DEFERRED_CONTEXT_SETUP'>;

const OPTION_BY_NUMBER = new Map<number, OptionName>();
for (const [k, v] of Object.entries(OPTION_NAMES)) {
  if (k !== 'SHIM_FEEDBACK' && k !== 'SHIM_DEFERRED_CONTEXT_SETUP' && !OPTION_BY_NUMBER.has(v)) OPTION_BY_NUMBER.set(v, k as OptionName);
}

/** Name of an option number (the RFC's Table 1 spelling), or undefined. */
export function optionName(n: number): OptionName | undefined {
  return OPTION_BY_NUMBER.get(n);
}

/** The four errno values of RFC 6316 §6.16 (plus ETOOMANYLOCATORS), with shim_strerror()'s text. */
export const SHIM_ERRNO = { EINVALIDLOCATOR, EUNVERIFIEDLOCATOR, EUNREACHABLELOCATOR, ETOOMANYLOCATORS } as const;
export type ShimErrnoName = keyof typeof SHIM_ERRNO;
export const SHIM_STRERROR: Record<ShimErrnoName, string> = {
  EINVALIDLOCATOR: 'Invalid locator',
  EUNVERIFIEDLOCATOR: 'Locator not verified',
  EUNREACHABLELOCATOR: 'Locator unreachable',
  ETOOMANYLOCATORS: 'Too many locators',
};

/** Errno names the API answers with (Linux errno names and the four above). */
export type ErrnoName = ShimErrnoName | keyof typeof os.constants.errno;

/** errno name → number (Linux numbers from Node, shim numbers from the header). */
export function errnoNumber(name: string): number {
  if (name in SHIM_ERRNO) return SHIM_ERRNO[name as ShimErrnoName];
  const n = (os.constants.errno as Record<string, number>)[name];
  return n ?? (os.constants.errno as Record<string, number>).EIO;
}

const PREFERRED = ['EOPNOTSUPP', 'EAGAIN', 'EDEADLK'];

/** errno number → name ('E' + number when unknown). */
export function errnoName(n: number): string {
  for (const [k, v] of Object.entries(SHIM_ERRNO)) if (v === n) return k;
  // Aliases: the names the API uses (and Linux's strerror order) win.
  for (const k of PREFERRED) if ((os.constants.errno as Record<string, number>)[k] === n) return k;
  for (const [k, v] of Object.entries(os.constants.errno)) if (v === n) return k;
  return `E${n}`;
}

// ---- layouts (x86_64 / aarch64 Linux; the mirror test checks them) ----

export const ShimLocatorLayout = {
  size: 32,
  lc_family: 0, lc_proto: 1, lc_port: 2, lc_prio: 4, lc_weight: 6, lc_ifidx: 8, lc_addr: 12, lc_flags: 28,
} as const;
export const ShimPathexploreLayout = {
  size: 12,
  pe_probenum: 0, pe_keepaliveto: 2, pe_keepaliveint: 4, pe_initprobeto: 6, pe_reserved: 8,
} as const;
export const ShimFeedbackLayout = {
  size: 4,
  fb_direction: 0, fb_indicator: 1, fb_reserved: 2,
} as const;
export const Shim6EventLayout = {
  size: 128,
  ev_type: 0, ev_fii: 4, ev_ulid_local: 8, ev_ulid_peer: 24, ev_local: 40, ev_peer: 72,
  ev_dropped: 104, ev_reserved: 108, ev_time_ns: 112, ev_mono_ns: 120,
} as const;
export const SIZEOF_INT = 4;

export const AF_INET = 2;
export const AF_INET6 = 10;
export const IPPROTO_UDP = 17;
