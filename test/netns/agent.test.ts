// shim6d between real hosts: A and B each run the agent with an HBA set over
// both ISPs' prefixes. Contexts come up by themselves when an application
// talks, locator changes travel in Update exchanges, a forged Update from a
// third namespace is refused, and a kill -9 of the agent loses nothing.
import fs from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { AgentProcess, Topology, ADDR } from '../../src/lab/topology.js';
import { until } from '../../src/lab/wait.js';
import type { ContextView } from '../../src/agent/agent.js';
import { encode, parseIpv6 } from '../../src/wire/index.js';

let t: Topology;
let agentA: AgentProcess;
let agentB: AgentProcess;
let hbaA: string[];
let hbaB: string[];

interface Status { hba: Array<{ address: string }>; locators: Array<{ addr: string; method: string }>; counters: { txByKind: Record<string, number> } }


/** Control messages an agent has sent, by kind (its status counters: no log pipe to wait for). */
const sent = (a: AgentProcess, kind: string): number => a.ctlJson<Status>('agent', 'status').counters.txByKind[kind] ?? 0;

const ctxs = (a: AgentProcess): ContextView[] => a.ctlJson<ContextView[]>('contexts');
const established = (a: AgentProcess): ContextView | undefined => ctxs(a).find((c) => c.state === 'ESTABLISHED');

async function echo(durationMs: number, port: number, from = hbaA[0], to = hbaB[0]): Promise<{ server: ReturnType<typeof t.B.flow>; client: ReturnType<typeof t.A.flow> }> {
  const server = t.B.flow('echo-server', { bind: to, port });
  await server.ready;
  const client = t.A.flow('echo-client', { to, port, from, 'interval-ms': 10, 'duration-ms': durationMs });
  return { server, client };
}

describe('shim6d: contexts between two agents', () => {
  beforeAll(async () => {
    t = Topology.create();
    agentA = t.A.agent();
    agentB = t.B.agent();
    await Promise.all([agentA.ready, agentB.ready]);
    hbaA = agentA.ctlJson<Status>('agent', 'status').hba.map((h) => h.address);
    hbaB = agentB.ctlJson<Status>('agent', 'status').hba.map((h) => h.address);
  }, 60_000);
  afterAll(async () => {
    await Promise.all([agentA?.stop(), agentB?.stop()]).catch(() => {});
    t?.teardown();
  });

  it('generates an HBA set per host, configures it and announces it as locators', () => {
    expect(hbaA).toHaveLength(2);
    expect(hbaA[0].startsWith('2001:db8:1:a:')).toBe(true);
    expect(hbaA[1].startsWith('2001:db8:2:a:')).toBe(true);
    const st = agentA.ctlJson<Status>('agent', 'status');
    expect(st.locators.filter((l) => l.method === 'hba').map((l) => l.addr)).toEqual(hbaA);
    // The configured static addresses are locators too, but not announced.
    expect(st.locators.find((l) => l.addr === ADDR.A1)?.method).toBe('none');
    expect(t.A.ip('-6', 'addr', 'show', 'dev', 'a1')).toContain(hbaA[0]);
  });

  it('establishes a context by itself when an application talks, and both sides agree', async () => {
    const { server, client } = await echo(1500, 7001);
    const a = await until('A ESTABLISHED', () => established(agentA));
    const b = await until('B ESTABLISHED', () => established(agentB));
    expect(a.ulidLocal).toBe(hbaA[0]);
    expect(a.ulidPeer).toBe(hbaB[0]);
    expect(b.ulidLocal).toBe(hbaB[0]);
    expect(b.ulidPeer).toBe(hbaA[0]);
    expect(a.ctPeer).toBe(b.ctLocal);
    expect(b.ctPeer).toBe(a.ctLocal);
    // Each side's view of the peer's locators is what the peer announces, HBA-verified.
    expect(a.lsPeer.map((p) => p.addr).sort()).toEqual(b.lsLocal.map((l) => l.addr).sort());
    expect(b.lsPeer.map((p) => p.addr).sort()).toEqual(a.lsLocal.map((l) => l.addr).sort());
    expect(a.lsPeer.map((p) => p.addr).sort()).toEqual([...hbaB].sort());
    expect(a.lsPeer.every((p) => p.verification === 'hba' && p.usable)).toBe(true);
    expect(a.dataplane?.id).toBeGreaterThanOrEqual(0x4000);
    // Host state written over netlink: the ULID anchored on the shim device,
    // the peer ULID routed through it with the payload header's MTU.
    await until('peer route', () => t.A.ip('-6', 'route', 'show', 'table', '140').includes(hbaB[0]));
    const route = t.A.ip('-6', 'route', 'show', 'table', '140').split('\n').find((l) => l.startsWith(hbaB[0]))!;
    expect(route).toMatch(new RegExp(`dev shim0 proto 140 src ${hbaA[0]} .*mtu 1492`));
    expect(t.A.ip('-6', 'addr', 'show', 'dev', 'shim0')).toContain(`${hbaA[0]}/128`);
    const r = await client.done;
    server.child.kill();
    expect(r.error ?? null).toBeNull();
    expect(r.corrupt).toBe(0);
    expect(r.echoed).toBe(r.sent);
    expect(r.sent).toBeGreaterThan(50);
    // The data plane carried the flow under the context once it was there.
    const after = established(agentA)!;
    expect(Number(after.dataplane!.txPackets)).toBeGreaterThan(10);
    // The first packet triggered it (A's; B's echo may trigger a crossing I1 too).
    expect(sent(agentA, 'I1')).toBeGreaterThanOrEqual(1);
    expect(ctxs(agentA)).toHaveLength(1);
    expect(ctxs(agentB)).toHaveLength(1);
  }, 30_000);

  it('tells the peer about a removed and a re-added address, one Update exchange each', async () => {
    const before = established(agentB)!;
    const acksBefore = sent(agentB, 'UpdateAck');
    const updatesBefore = sent(agentA, 'UpdateRequest');
    t.A.ip('-6', 'addr', 'del', `${hbaA[1]}/64`, 'dev', 'a2');
    const gone = await until('B sees A2 gone', () => {
      const b = established(agentB);
      return b && !b.lsPeer.some((p) => p.addr === hbaA[1]) && b;
    });
    expect(gone.peerGeneration).not.toBe(before.peerGeneration);
    expect(established(agentA)!.updatePending).toBe(false);
    t.A.ip('-6', 'addr', 'add', `${hbaA[1]}/64`, 'dev', 'a2', 'noprefixroute');
    const back = await until('B sees A2 back', () => {
      const b = established(agentB);
      return b && b.lsPeer.some((p) => p.addr === hbaA[1] && p.verification === 'hba') && b;
    });
    expect(back.lsPeer.map((p) => p.addr).sort()).toEqual([...hbaA].sort());
    // One Update Request and one Ack per change (agent logs arrive through a pipe: wait for them).
    expect(sent(agentB, 'UpdateAck') - acksBefore).toBe(2);
    expect(sent(agentA, 'UpdateRequest') - updatesBefore).toBe(2);
  }, 30_000);

  it('moves the context off an address in use when it is removed, and the flow goes on', async () => {
    const a = established(agentA)!;
    const b = established(agentB)!;
    agentA.ctlJson('agent', 'set-pair', a.ctLocal!, '--local', hbaA[1], '--peer', hbaB[1]);
    agentB.ctlJson('agent', 'set-pair', b.ctLocal!, '--local', hbaB[1], '--peer', hbaA[1]);
    const { server, client } = await echo(4000, 7002);
    await new Promise((r) => setTimeout(r, 1000));
    const a2 = t.A.counters('a2').txPackets;
    await new Promise((r) => setTimeout(r, 300));
    expect(t.A.counters('a2').txPackets - a2).toBeGreaterThan(10); // on path 2
    t.A.ip('-6', 'addr', 'del', `${hbaA[1]}/64`, 'dev', 'a2');
    const moved = await until('A moved off A2', () => {
      const x = established(agentA);
      return x && x.lpLocal === hbaA[0] && x;
    });
    expect(moved.lpLocal).toBe(hbaA[0]);
    await until('B moved off A2', () => {
      const x = established(agentB);
      return x && x.lpPeer !== hbaA[1] && x;
    });
    const r = await client.done;
    server.child.kill();
    expect(r.error ?? null).toBeNull();
    expect(r.corrupt).toBe(0);
    expect(r.echoed).toBe(r.sent);
    t.A.ip('-6', 'addr', 'add', `${hbaA[1]}/64`, 'dev', 'a2', 'noprefixroute');
    await until('B sees A2 back', () => established(agentB)?.lsPeer.some((p) => p.addr === hbaA[1]));
  }, 30_000);

  it('refuses a forged Update from a third namespace and leaves the context untouched', async () => {
    const a = established(agentA)!;
    const pdsB = JSON.parse(fs.readFileSync(path.join(t.dir, `${t.B.ns}-state`, 'hba.json'), 'utf8')) as { params: string[] };
    // On-path attacker (R1) spoofing B's ULID: B's real PDS, plus a locator of its own.
    const bytes = encode({
      kind: 'UpdateRequest',
      receiverContextTag: BigInt(a.ctLocal!),
      requestNonce: 0x5eed,
      options: [
        { kind: 'LocatorList', generation: 0xbad, locators: [{ addr: parseIpv6(hbaB[0])!, method: 1 }, { addr: parseIpv6(ADDR.R1X)!, method: 1 }] },
        { kind: 'CgaPds', pds: Uint8Array.from(Buffer.from(pdsB.params[0], 'hex')) },
      ],
    });
    const sender = `
      const n = require(${JSON.stringify(path.resolve('build/shim6.node'))});
      const ip = (s) => Buffer.from(s, 'hex');
      const s = new n.Socket('raw6', 140, () => {});
      s.send(Buffer.from(process.argv[1], 'hex'), ip(process.argv[2]), null);
      s.close();`;
    const hexOf = (txt: string): string => Buffer.from(parseIpv6(txt)!).toString('hex');
    // R1 owns R1A, so it can send from it; the packet claims to be from B by its Locator List only.
    t.R1.exec(process.execPath, ['-e', sender, Buffer.from(bytes).toString('hex'), hexOf(hbaA[0])]);
    await until('A rejects the Update', () => agentA.logs.some((l) => l.event === 'drop' || l.event === 'update-rejected'), 5000);
    const after = established(agentA)!;
    expect(after.lsPeer).toEqual(a.lsPeer);
    expect(after.peerGeneration).toBe(a.peerGeneration);
    expect(after.lsPeer.some((p) => p.addr === ADDR.R1X)).toBe(false);
  }, 20_000);

  it('survives kill -9 of the agent during a transfer: same context, no R1bis, no reset', async () => {
    const a = established(agentA)!;
    const { server, client } = await echo(5000, 7003);
    await new Promise((r) => setTimeout(r, 1000));
    await agentA.stop('SIGKILL');
    const r1bisBefore = sent(agentB, 'R1bis');
    agentA = t.A.agent();
    await agentA.ready;
    const restored = await until('A restored', () => established(agentA));
    expect(restored.ctLocal).toBe(a.ctLocal);
    expect(restored.ctPeer).toBe(a.ctPeer);
    expect(restored.lsPeer.map((p) => p.addr).sort()).toEqual(a.lsPeer.map((p) => p.addr).sort());
    expect(restored.dataplane?.id).toBe(a.dataplane?.id);
    const r = await client.done;
    server.child.kill();
    expect(r.error ?? null).toBeNull();
    expect(r.corrupt).toBe(0);
    expect(r.echoed).toBe(r.sent);
    // The peer never had to recover the context.
    expect(sent(agentB, 'R1bis')).toBe(r1bisBefore);
    // Nor did A start over for it. (A packet of another ULID pair may wait in
    // the ring buffer from before the kill: its deferred setup is legitimate.)
    expect(agentA.events('trigger').filter((e) => e.ulidLocal === a.ulidLocal && e.ulidPeer === a.ulidPeer)).toEqual([]);
    expect(sent(agentA, 'I2bis')).toBe(0);
    expect(established(agentB)!.ctPeer).toBe(a.ctLocal);
  }, 40_000);

  it('stops cleanly on SIGTERM and keeps the contexts for the next start', async () => {
    const a = established(agentA)!;
    expect(await agentA.stop('SIGTERM')).toBe(0);
    expect(agentA.events('stopped')[0]).toMatchObject({ reason: 'SIGTERM', kept: true });
    expect(fs.existsSync(agentA.socket)).toBe(false);
    agentA = t.A.agent();
    await agentA.ready;
    expect(established(agentA)?.ctLocal).toBe(a.ctLocal);
  }, 30_000);
});
