// The data plane between real hosts: A and B, two ISPs (R1, R2) with ingress
// filtering, static contexts installed with shim6ctl. Proves the path by
// counting on interfaces and by capturing the payload header on the wire.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Topology, ADDR } from '../../src/lab/topology.js';

const MiB = 1 << 20;
let t: Topology;

async function tcpBoth(bytes: number): Promise<void> {
  const sinkB = t.B.flow('tcp-sink', { bind: ADDR.B1, port: 5001 });
  const sinkA = t.A.flow('tcp-sink', { bind: ADDR.A1, port: 5002 });
  await Promise.all([sinkB.ready, sinkA.ready]);
  const [sa, sb] = await Promise.all([
    t.A.flow('tcp-send', { to: ADDR.B1, port: 5001, bytes, seed: 'a-to-b' }).done,
    t.B.flow('tcp-send', { to: ADDR.A1, port: 5002, bytes, seed: 'b-to-a' }).done,
  ]);
  const [rb, ra] = await Promise.all([sinkB.done, sinkA.done]);
  expect(rb.bytes).toBe(bytes);
  expect(rb.sha256).toBe(sa.sha256);
  expect(ra.bytes).toBe(bytes);
  expect(ra.sha256).toBe(sb.sha256);
}

async function udpPing(size: number, count: number, port: number): Promise<Record<string, number>> {
  const echo = t.B.flow('udp-echo', { bind: ADDR.B1, port });
  await echo.ready;
  const r = await t.A.flow('udp-ping', { to: ADDR.B1, port, size, count, from: ADDR.A1, 'interval-ms': 2 }).done;
  echo.child.kill();
  return r as Record<string, number>;
}

describe('static context on path 2', () => {
  beforeAll(() => {
    t = Topology.create();
    t.shimBoth({ gso: 'segment', pair: 2 });
  });
  afterAll(() => t?.teardown());

  it('carries 100 MiB of TCP each way between the ULIDs over path 2, content intact', async () => {
    const a1 = t.A.counters('a1'), a2 = t.A.counters('a2'), b2 = t.B.counters('b2');
    await tcpBoth(100 * MiB);
    const da1 = t.A.counters('a1').txPackets - a1.txPackets;
    const da2 = t.A.counters('a2').txPackets - a2.txPackets;
    const db2 = t.B.counters('b2').txPackets - b2.txPackets;
    expect(da2).toBeGreaterThan((100 * MiB) / 1500);
    expect(db2).toBeGreaterThan((100 * MiB) / 1500);
    expect(da1).toBeLessThan(50); // only neighbour discovery on path 1
    // The GSO self-test saw GSO packets go round the veth peer and come back as segments.
    const st = t.A.ctlJson<{ gso: { loopOut: string; loopIn: string; ok: boolean } }>('dataplane', 'status');
    expect(Number(st.gso.loopOut)).toBeGreaterThan(100);
    expect(Number(st.gso.loopIn)).toBeGreaterThan(Number(st.gso.loopOut));
    expect(st.gso.ok).toBe(true);
    const ctx = t.A.ctlJson<Array<{ stats: { txPackets: string; rxPackets: string } }>>('context', 'list');
    expect(Number(ctx[0].stats.txPackets)).toBeGreaterThan((100 * MiB) / 1500);
    expect(Number(ctx[0].stats.rxPackets)).toBeGreaterThan((100 * MiB) / 1500);
  }, 120_000);

  it('carries UDP, small and fragmented, both ways', async () => {
    const small = await udpPing(200, 50, 5003);
    expect(small).toMatchObject({ sent: 50, got: 50, bad: 0 });
    const frag = await udpPing(4000, 30, 5004);
    expect(frag).toMatchObject({ sent: 30, got: 30, bad: 0 });
  });

  it('carries ping both ways, and puts the payload header on the wire', async () => {
    const cap = t.R2.spawn('tcpdump', ['-nn', '-x', '-c', '2', '-i', 'r2a', 'ip6 and ip6[6] == 140']);
    let dump = '';
    cap.stdout!.on('data', (d: Buffer) => { dump += d.toString(); });
    const capDone = new Promise((r) => cap.on('exit', r));
    await new Promise((r) => setTimeout(r, 500));
    expect(t.A.exec('ping', ['-6', '-c', '3', '-i', '0.2', '-W', '2', ADDR.B1])).toMatch(/3 received/);
    expect(t.B.exec('ping', ['-6', '-c', '3', '-i', '0.2', '-W', '2', ADDR.A1])).toMatch(/3 received/);
    await Promise.race([capDone, new Promise((r) => setTimeout(r, 3000))]);
    cap.kill();
    // tcpdump -x prints the IPv6 packet in hex: next header 140, then the
    // payload header: next header 58 (ICMPv6), Hdr Ext Len 0, P=1, CT(B).
    const hex = dump.split('\n').filter((l) => /^\s+0x/.test(l)).map((l) => l.replace(/^\s+0x[0-9a-f]+:\s+/, '').replace(/\s/g, '')).join('');
    expect(hex.slice(12, 14)).toBe('8c');
    expect(hex.slice(80, 96)).toBe('3a0080000000b1b1');
    expect(dump).toContain(`${ADDR.A2} > ${ADDR.B2}`);
  });

  it('lets full-size packets through the failed-over path, and nothing larger', () => {
    // 1444 + 8 (ICMPv6) + 40 (IPv6) = 1492 = uplink MTU - 8: on the wire 1500 with the header.
    expect(t.A.exec('ping', ['-6', '-c', '2', '-i', '0.2', '-W', '2', '-M', 'do', '-s', '1444', ADDR.B1])).toMatch(/2 received/);
    const tooBig = t.A.exec('ping', ['-6', '-c', '1', '-W', '1', '-M', 'do', '-s', '1445', ADDR.B1], { allowFail: true });
    expect(tooBig).not.toMatch(/1 received/);
    // Refused by the sender: the peer ULID's route carries MTU 1500 - 8.
    expect(t.A.ip('-6', 'route', 'get', ADDR.B1, 'from', ADDR.A1)).toMatch(/dev shim0 .*mtu 1492/);
  });

  it('keeps checksums right with software checksums (tx off), and a wrong ULID breaks them (negative control)', async () => {
    // Software checksums at A; every hop after it verifies instead of trusting offload.
    t.A.exec('ethtool', ['-K', 'shim0', 'tx', 'off']);
    for (const [h, devs] of [[t.B, ['b1', 'b2']], [t.R1, ['r1a', 'r1b']], [t.R2, ['r2a', 'r2b']]] as const) {
      for (const d of devs) h.exec('ethtool', ['-K', d, 'rx', 'off']);
    }
    const before = t.B.snmp().Udp6InCsumErrors ?? 0;
    const ok = await udpPing(300, 20, 5005);
    expect(ok).toMatchObject({ sent: 20, got: 20, bad: 0 });
    expect((t.B.snmp().Udp6InCsumErrors ?? 0) - before).toBe(0);

    // B now believes A's ULID is A2: it restores the wrong source, and the
    // UDP checksum, computed by A over A1, fails at B.
    t.B.ctl('context', 'del', '1');
    t.B.ctl('context', 'add', '--id', '1', '--ulid-local', ADDR.B1, '--ulid-peer', ADDR.A2,
      '--ls-local', `${ADDR.B1},${ADDR.B2}`, '--ls-peer', `${ADDR.A1},${ADDR.A2}`,
      '--lp-local', ADDR.B2, '--lp-peer', ADDR.A2, '--ct-local', '0xb1b1', '--ct-peer', '0xa1a1');
    const bad = await udpPing(300, 20, 5006);
    expect(bad.got).toBe(0);
    expect((t.B.snmp().Udp6InCsumErrors ?? 0) - before).toBeGreaterThanOrEqual(20);
    t.B.ctl('context', 'del', '1');
    t.B.ctl('context', 'add', '--id', '1', '--ulid-local', ADDR.B1, '--ulid-peer', ADDR.A1,
      '--ls-local', `${ADDR.B1},${ADDR.B2}`, '--ls-peer', `${ADDR.A1},${ADDR.A2}`,
      '--lp-local', ADDR.B2, '--lp-peer', ADDR.A2, '--ct-local', '0xb1b1', '--ct-peer', '0xa1a1');
    t.A.exec('ethtool', ['-K', 'shim0', 'tx', 'on', 'tso', 'on']);
  });
});

describe('static context on path 2, payload headers stripped in XDP before GRO', () => {
  beforeAll(() => {
    t = Topology.create();
    t.shimBoth({ gso: 'segment', pair: 2, xdp: 'native' });
  });
  afterAll(() => t?.teardown());

  type Status = { attachments: Array<{ dev: string; direction: string; program?: string }>; xdp: { mode: string; stripped: string; skbs: string } };
  it('carries 100 MiB of TCP each way over path 2, content intact, received in GRO-merged packets', async () => {
    for (const h of [t.A, t.B]) {
      const st = h.ctlJson<Status>('dataplane', 'status');
      expect(st.attachments.filter((a) => a.direction === 'xdp' && a.program === 'shim6_xdp')).toHaveLength(2);
      expect(h.exec('ethtool', ['-k', h === t.A ? 'a2' : 'b2'])).toMatch(/generic-receive-offload: on/);
    }
    const a1 = t.A.counters('a1'), a2 = t.A.counters('a2'), b2 = t.B.counters('b2');
    const x0 = { A: t.A.ctlJson<Status>('dataplane', 'status').xdp, B: t.B.ctlJson<Status>('dataplane', 'status').xdp };
    await tcpBoth(100 * MiB);
    expect(t.A.counters('a2').txPackets - a2.txPackets).toBeGreaterThan((100 * MiB) / 1500);
    expect(t.B.counters('b2').txPackets - b2.txPackets).toBeGreaterThan((100 * MiB) / 1500);
    expect(t.A.counters('a1').txPackets - a1.txPackets).toBeLessThan(50);
    for (const [name, h] of [['A', t.A], ['B', t.B]] as const) {
      const x = h.ctlJson<Status>('dataplane', 'status').xdp;
      const stripped = Number(x.stripped) - Number(x0[name].stripped), skbs = Number(x.skbs) - Number(x0[name].skbs);
      // Every data segment lost its header in XDP (one per wire packet) ...
      expect(stripped, `${name}: stripped in XDP`).toBeGreaterThan((100 * MiB) / 1500);
      // ... and GRO merged them: tc ingress saw far fewer (merged) packets.
      expect(skbs, `${name}: packets after GRO`).toBeGreaterThan(0);
      expect(skbs, `${name}: packets after GRO (${stripped} stripped)`).toBeLessThan(stripped / 3);
    }
    const ctx = t.B.ctlJson<Array<{ stats: { rxPackets: string } }>>('context', 'list');
    expect(Number(ctx[0].stats.rxPackets)).toBeGreaterThan((100 * MiB) / 1500);
  }, 180_000);

  it('down detaches XDP and puts GRO back; without XDP the tc ingress strips and nothing is merged', async () => {
    t.A.ctl('dataplane', 'down');
    t.B.ctl('dataplane', 'down');
    expect(t.B.ip('-d', 'link', 'show', 'b2')).not.toMatch(/prog\/xdp/);
    expect(t.B.exec('ethtool', ['-k', 'b2'])).toMatch(/generic-receive-offload: off/);
    // Negative control: the same transfer with tc ingress only. No XDP strips,
    // and (GRO cannot merge next header 140) as many packets reach TCP as
    // crossed the wire.
    t.shimBoth({ gso: 'segment', pair: 2, xdp: 'off' });
    const n0 = t.B.snmp(), b0 = t.B.counters('b2');
    const sinkB = t.B.flow('tcp-sink', { bind: ADDR.B1, port: 5021 });
    await sinkB.ready;
    const sa = await t.A.flow('tcp-send', { to: ADDR.B1, port: 5021, bytes: 20 * MiB, seed: 'no-xdp' }).done;
    const rb = await sinkB.done;
    expect(rb.sha256).toBe(sa.sha256);
    const x = t.B.ctlJson<Status>('dataplane', 'status').xdp;
    expect(x.mode).toBe('off');
    expect(Number(x.stripped)).toBe(0);
    const segs = t.B.snmp().TcpInSegs - n0.TcpInSegs, wire = t.B.counters('b2').rxPackets - b0.rxPackets;
    expect(wire).toBeGreaterThan((20 * MiB) / 1500);
    expect(segs).toBeGreaterThan(wire * 0.9);
  }, 120_000);

  it('up switches the XDP mode in place (off -> generic -> native -> off), and the context keeps working', async () => {
    const up = (mode: string) => t.B.ctl('dataplane', 'up', '--shim-dev', 'shim0', '--uplink', 'b1,b2', '--xdp', mode);
    const link = () => t.B.ip('-d', 'link', 'show', 'b2');
    up('generic');
    expect(link()).toMatch(/ xdpgeneric /);
    expect(link()).toMatch(/prog\/xdp .*name shim6_xdp/);
    expect(t.B.ctlJson<Status>('dataplane', 'status').attachments.filter((a) => a.direction === 'xdp' && a.program === 'shim6_xdp')).toHaveLength(2);
    up('native');
    expect(link()).toMatch(/ xdp qdisc /);
    expect(link()).toMatch(/prog\/xdp .*name shim6_xdp/);
    const x0 = Number(t.B.ctlJson<Status>('dataplane', 'status').xdp.stripped);
    const r = await udpPing(200, 20, 5031);
    expect(r).toMatchObject({ sent: 20, got: 20, bad: 0 });
    expect(Number(t.B.ctlJson<Status>('dataplane', 'status').xdp.stripped) - x0).toBeGreaterThanOrEqual(20);
    up('off');
    expect(link()).not.toMatch(/prog\/xdp/);
    expect(t.B.exec('ethtool', ['-k', 'b2'])).toMatch(/generic-receive-offload: off/);
    expect(await udpPing(200, 20, 5032)).toMatchObject({ sent: 20, got: 20, bad: 0 });
  }, 60_000);
});

describe('switching and failures, with an echo stream every 10 ms', () => {
  beforeAll(() => {
    t = Topology.create();
    t.shimBoth({ gso: 'segment', pair: 1 });
  });
  afterAll(() => t?.teardown());

  let port = 6000;
  async function echoDuring(durationMs: number, steps: Array<[number, () => void]>): Promise<Record<string, any>> {
    port += 2;
    const srv = t.B.flow('echo-server', { bind: ADDR.B1, port, 'udp-port': port + 1 });
    await srv.ready;
    const cli = t.A.flow('echo-client', { to: ADDR.B1, port, 'udp-port': port + 1, from: ADDR.A1, 'interval-ms': 10, 'duration-ms': durationMs });
    await cli.ready; // steps count from the established connection
    for (const [at, f] of steps) setTimeout(f, at);
    const r = await cli.done;
    srv.child.kill();
    return r;
  }

  it('switches the locator pair mid-connection without a reset or a lost byte', async () => {
    const sinkB = t.B.flow('tcp-sink', { bind: ADDR.B1, port: 5011 });
    await sinkB.ready;
    const send = t.A.flow('tcp-send', { to: ADDR.B1, port: 5011, bytes: 60 * MiB, 'pace-ms': 5, 'pace-bytes': MiB, seed: 'switch' });
    setTimeout(() => t.switchPath(2), 100);
    setTimeout(() => t.switchPath(1), 250);
    setTimeout(() => t.switchPath(2), 400);
    const [s, r] = await Promise.all([send.done, sinkB.done]);
    expect(s.error).toBeUndefined();
    expect(r.bytes).toBe(60 * MiB);
    expect(r.sha256).toBe(s.sha256);
    expect(r.resets).toBe(0);
    const echo = await echoDuring(1500, [[500, () => t.switchPath(1)], [1000, () => t.switchPath(2)]]);
    expect(echo.error).toBeNull();
    expect(echo.corrupt).toBe(0);
    expect(echo.echoed).toBe(echo.sent);
    t.switchPath(1);
  }, 60_000);

  it("survives 'ip link set down' of A's uplink 1 once the context moves to path 2", async () => {
    t.switchPath(1);
    const a2 = t.A.counters('a2').txPackets;
    const echo = await echoDuring(3000, [
      [800, () => t.A.ip('link', 'set', 'a1', 'down')],
      [1100, () => t.switchPath(2)],
    ]);
    expect(echo.error).toBeNull();
    expect(echo.corrupt).toBe(0);
    expect(echo.echoed).toBe(echo.sent);
    expect(echo.udp.got).toBeGreaterThan(echo.udp.sent * 0.5); // UDP resumed; only the outage's datagrams are lost
    expect(t.A.counters('a2').txPackets - a2).toBeGreaterThan(100);
    t.A.ip('link', 'set', 'a1', 'up');
    t.A.ip('-6', 'route', 'replace', 'default', 'via', ADDR.R1A, 'dev', 'a1', 'metric', '100');
    t.A.ip('-6', 'route', 'replace', 'default', 'via', ADDR.R1A, 'dev', 'a1', 'table', '101');
    // The uplink came back: re-up refreshes the uplink tables (the agent does this on its own).
    t.A.ctl('dataplane', 'up', '--shim-dev', 'shim0', '--uplink', 'a1,a2');
    t.switchPath(1);
  }, 30_000);

  it('survives a BPF blackhole on R1 once the context moves to path 2', async () => {
    t.switchPath(1);
    const echo = await echoDuring(3000, [
      [800, () => { t.R1.blackhole('r1a'); t.R1.blackhole('r1b'); }],
      [1100, () => t.switchPath(2)],
    ]);
    expect(echo.error).toBeNull();
    expect(echo.corrupt).toBe(0);
    expect(echo.echoed).toBe(echo.sent);
    // The stream stalled while path 1 was black-holed, then resumed.
    expect(echo.maxGapMs).toBeGreaterThanOrEqual(200);
    t.R1.unblackhole('r1a'); t.R1.unblackhole('r1b');
  }, 30_000);
});
