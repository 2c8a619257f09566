// Stable error codes for everything shim6 throws on purpose. The CLI maps
// them to exit codes; the API server (later) maps them to errno values.

export type Shim6ErrorCode =
  | 'SHIM6_ERR_USAGE'          // bad arguments or options
  | 'SHIM6_ERR_NOT_FOUND'      // no such context, map, device
  | 'SHIM6_ERR_EXISTS'         // already there
  | 'SHIM6_ERR_NOT_UP'         // the data plane is not loaded here
  | 'SHIM6_ERR_ABI'            // pinned maps of another ABI version
  | 'SHIM6_ERR_PERMISSION'     // needs root / CAP_BPF + CAP_NET_ADMIN
  | 'SHIM6_ERR_SYSTEM'         // a system call or command failed
  | 'SHIM6_ERR_NO_ADDON';      // native addon not built

export class Shim6Error extends Error {
  readonly code: Shim6ErrorCode;
  readonly detail?: Record<string, unknown>;
  constructor(code: Shim6ErrorCode, message: string, detail?: Record<string, unknown>, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'Shim6Error';
    this.code = code;
    this.detail = detail;
  }
}

/** Exit codes of shim6ctl, by error code (sysexits.h where one fits). */
export const EXIT_CODES: Record<Shim6ErrorCode, number> = {
  SHIM6_ERR_USAGE: 64,        // EX_USAGE
  SHIM6_ERR_NOT_FOUND: 66,    // EX_NOINPUT
  SHIM6_ERR_EXISTS: 73,       // EX_CANTCREAT
  SHIM6_ERR_NOT_UP: 69,       // EX_UNAVAILABLE
  SHIM6_ERR_ABI: 65,          // EX_DATAERR
  SHIM6_ERR_PERMISSION: 77,   // EX_NOPERM
  SHIM6_ERR_SYSTEM: 71,       // EX_OSERR
  SHIM6_ERR_NO_ADDON: 69,
};

/** Wrap a native error (code/errno/syscall) into a Shim6Error. */
export function fromSystem(err: unknown, what: string): Shim6Error {
  const e = err as { code?: string; message?: string; syscall?: string };
  if (e && (e.code === 'EPERM' || e.code === 'EACCES')) {
    return new Shim6Error('SHIM6_ERR_PERMISSION', `${what}: ${e.message} (run as root, or with CAP_BPF and CAP_NET_ADMIN)`, undefined, { cause: err });
  }
  if (err instanceof Shim6Error) return err;
  return new Shim6Error('SHIM6_ERR_SYSTEM', `${what}: ${e?.message ?? String(err)}`, { code: e?.code, syscall: e?.syscall }, { cause: err });
}
