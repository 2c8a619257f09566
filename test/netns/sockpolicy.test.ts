// Per-socket policy in the data plane (socket-local storage, what SOL_SHIM
// options will write): a pinned locator pair moves one of two connections on
// the same ULID pair to path 2 while the other stays on path 1; DONTSHIM
// keeps a socket on its ULIDs while the context is failed over.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import path from 'node:path';
import { Topology, ADDR } from '../../src/lab/topology.js';
import * as L from '../../src/generated/layout.js';

const MiB = 1 << 20;
let t: Topology;

async function send(port: number, extra: Record<string, string | number> = {}): Promise<void> {
  const sink = t.B.flow('tcp-sink', { bind: ADDR.B1, port });
  await sink.ready;
  const s = await t.A.flow('tcp-send', { to: ADDR.B1, port, from: ADDR.A1, bytes: 20 * MiB, seed: `p${port}`, ...extra }).done;
  const r = await sink.done;
  expect(r.sha256).toBe(s.sha256);
}
const policy = (flags: number, more: Record<string, string> = {}) => ({
  policy: flags, addon: path.resolve('build/shim6.node'), bpffs: t.bpffs, ...more,
});

describe('socket policy', () => {
  beforeAll(() => {
    t = Topology.create();
    t.shimBoth({ pair: 1 });
  });
  afterAll(() => t?.teardown());

  it('pins one connection to path 2 while another on the same ULID pair stays on path 1', async () => {
    // Bytes, not packets: veth counts a GSO packet once.
    let a1 = t.A.counters('a1').txBytes, a2 = t.A.counters('a2').txBytes;
    const rx = () => BigInt(t.B.ctlJson<Array<{ stats: { rxPackets: string } }>>('context', 'list')[0].stats.rxPackets);
    const rx0 = rx();
    await send(5101, policy(L.SOCK_F_PIN_LOCAL | L.SOCK_F_PIN_PEER, { 'lp-local': ADDR.A2, 'lp-peer': ADDR.B2 }));
    expect(t.A.counters('a2').txBytes - a2).toBeGreaterThan(20 * MiB);
    expect(t.A.counters('a1').txBytes - a1).toBeLessThan(MiB / 2);
    // B counted the traffic on its context (and the stream above arrived intact,
    // which needs the header: B2 is not the socket's address).
    expect(Number(rx() - rx0)).toBeGreaterThan((20 * MiB) / 1500);
    a1 = t.A.counters('a1').txBytes; a2 = t.A.counters('a2').txBytes;
    await send(5102);
    expect(t.A.counters('a1').txBytes - a1).toBeGreaterThan(20 * MiB);
    expect(t.A.counters('a2').txBytes - a2).toBeLessThan(MiB / 2);
  }, 60_000);

  it('keeps a DONTSHIM socket on its ULIDs while the context is on path 2', async () => {
    t.switchPath(2);
    const a1 = t.A.counters('a1').txBytes, a2 = t.A.counters('a2').txBytes;
    await send(5103, policy(L.SOCK_F_DONTSHIM));
    expect(t.A.counters('a1').txBytes - a1).toBeGreaterThan(20 * MiB);
    expect(t.A.counters('a2').txBytes - a2).toBeLessThan(MiB / 2);
  }, 60_000);
});
