// SocketPolicy ↔ struct shim6_sock_policy (the data plane's per-socket policy).
import { describe, expect, it } from 'vitest';
import { DEFAULT_POLICY } from '../../../src/api/backend.js';
import { fromDataplanePolicy, toDataplanePolicy } from '../../../src/api/sock-policy.js';
import * as L from '../../../src/generated/layout.js';
import { ip } from './fake-backend.js';

describe('socket policy ↔ shim6_sock_policy', () => {
  it('maps DONTSHIM and pinned locators to the data plane flags', () => {
    expect(toDataplanePolicy(DEFAULT_POLICY)).toEqual({ flags: 0, fii: 0, lpLocal: new Uint8Array(16), lpPeer: new Uint8Array(16) });
    const v = toDataplanePolicy({ ...DEFAULT_POLICY, sendPeer: ip('2001:db8:2:b::1'), fii: 7 });
    expect(v.flags).toBe(L.SOCK_F_PIN_PEER);
    expect(v.fii).toBe(7);
    expect(toDataplanePolicy({ ...DEFAULT_POLICY, dontShim: true, sendLocal: ip('::1') }).flags).toBe(L.SOCK_F_DONTSHIM | L.SOCK_F_PIN_LOCAL);
  });

  it('round-trips through the generated encoder', () => {
    const p = { ...DEFAULT_POLICY, sendLocal: ip('2001:db8:2:a::1'), sendPeer: ip('2001:db8:2:b::1'), recvPeer: true };
    const back = fromDataplanePolicy(L.decodeShim6SockPolicy(L.encodeShim6SockPolicy(toDataplanePolicy(p))), { recvLocal: false, recvPeer: true });
    expect(back).toEqual(p);
    expect(fromDataplanePolicy(null)).toEqual(DEFAULT_POLICY);
  });
});
