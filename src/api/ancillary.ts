// RFC 6316 Table 2, send side: the SOL_SHIM cmsgs of one sendmsg(), sent by
// libshim6 as a SENDMSG request before the datagram leaves without them.
//   SHIM_FEEDBACK         → ApiBackend.feedback (§7.3); indicator 0 is not processed
//   SHIM_LOC_*_SEND       → EOPNOTSUPP for now (per-datagram locators need the data plane)
// Applicable to connected sockets with a context only (§7.4: EOPNOTSUPP, ENOENT).
import type { ApiBackend, Feedback, SocketRef } from './backend.js';
import { Attr, decodeAttrs, getU32, type FrameAttr } from './frame.js';
import * as H from './shim-h.js';
import { decodeFeedback } from './structs.js';
import type { OptionResult } from './options.js';

export interface Cmsg {
  readonly level: number;
  readonly type: number;
  readonly data: Uint8Array;
}

/** The CMSG attributes of a SENDMSG request, or null when one is malformed. */
export function cmsgsOf(attrs: readonly FrameAttr[]): Cmsg[] | null {
  const out: Cmsg[] = [];
  for (const a of attrs) {
    if (a.type !== Attr.CMSG) continue;
    const inner = decodeAttrs(a.value);
    if (!inner) return null;
    const f = { type: 0, flags: 0, seq: 0, attrs: inner };
    const level = getU32(f, Attr.CMSG_LEVEL);
    const type = getU32(f, Attr.CMSG_TYPE);
    const data = inner.find((x) => x.type === Attr.CMSG_DATA)?.value;
    if (typeof level !== 'number' || typeof type !== 'number' || !data) return null;
    out.push({ level, type, data });
  }
  return out;
}

const DIRECTION = ['outbound', 'inbound'] as const;
const INDICATOR = [null, 'unable', 'unsatisfactory', 'satisfactory'] as const;

export async function handleSendmsg(backend: ApiBackend, sock: SocketRef, cmsgs: readonly Cmsg[]): Promise<OptionResult> {
  const no = (errno: H.ErrnoName, message: string): OptionResult => ({ ok: false, errno, message: `sendmsg: ${message}` });
  if (cmsgs.length === 0) return no('EINVAL', 'no SOL_SHIM ancillary data');
  if (sock.family !== H.AF_INET6 && sock.family !== H.AF_INET) return no('EOPNOTSUPP', 'not an IPv4 or IPv6 socket');
  const feedback: Feedback[] = [];
  for (const c of cmsgs) {
    if (c.level !== H.SOL_SHIM) return no('EINVAL', `cmsg_level ${c.level} is not SOL_SHIM`);
    if (c.type === H.SHIM_FEEDBACK) {
      if (c.data.length < H.ShimFeedbackLayout.size) return no('EINVAL', `SHIM_FEEDBACK takes ${H.ShimFeedbackLayout.size} bytes, not ${c.data.length}`);
      const fb = decodeFeedback(c.data);
      if (fb.direction > 1 || fb.indicator > 3) return no('EINVAL', `bad shim_feedback (direction ${fb.direction}, indicator ${fb.indicator})`);
      const indicator = INDICATOR[fb.indicator];
      // §8.3: indicator 0 (default) MUST NOT be processed; fb_reserved is ignored.
      if (indicator) feedback.push({ direction: DIRECTION[fb.direction], indicator });
    } else if (c.type === H.SHIM_LOC_LOCAL_SEND || c.type === H.SHIM_LOC_PEER_SEND) {
      return no('EOPNOTSUPP', 'per-datagram locators (SHIM_LOC_*_SEND ancillary data) are not supported yet');
    } else {
      return no('EINVAL', `cmsg_type ${c.type} is not a sendmsg() type of Table 2`);
    }
  }
  if (!sock.connected) return no('EOPNOTSUPP', 'shim ancillary data needs a connected socket');
  try {
    if ((await backend.socketPolicy(sock)).dontShim) return no('ENOENT', 'no shim context is associated with the socket');
    const ctx = await backend.lookupContext(sock);
    if (!ctx) return no('ENOENT', 'no shim context is associated with the socket');
    if (!backend.feedback) return no('EOPNOTSUPP', 'this agent takes no feedback');
    for (const fb of feedback) await backend.feedback(ctx, fb);
    return { ok: true };
  } catch (err) {
    const e = err as { errno?: H.ErrnoName; message?: string };
    if (err instanceof Error && err.name === 'ApiError' && e.errno) return no(e.errno, e.message ?? e.errno);
    return { ok: false, errno: 'EIO', message: `sendmsg: ${e?.message ?? String(err)}`, cause: err };
  }
}
