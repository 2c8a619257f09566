// Deterministic simulation of two or three Shim6 hosts over a virtual
// network that drops, duplicates, delays and reorders packets, driven by one
// seeded PRNG and virtual time. The hosts are real ShimHost cores; the sim
// plays their agents (timers, triggers, a minimal data plane that sends
// tagged payload and asks for R1bis on unknown tags), crashes them (state
// loss), changes their locators, injects forged Updates, and may make one
// host a legacy node without Shim6 (silence or ICMP Parameter Problem).
//
// Invariants are checked after every event; convergence at the end of a
// quiet period. A run is a pure function of its seed.

import {
  ShimHost,
  locatorSetFromHbaSet,
  type ContextAction,
  type ContextSnapshot,
  type SendAction,
} from '../../../src/context/index.js';
import type { HbaSet } from '../../../src/hba/index.js';
import { encode, formatIpv6 } from '../../../src/wire/index.js';
import { hbaSet, ipv6Packet, seededRandom } from './helpers.js';

// ------------------------------------------------------------------- PRNG

/** mulberry32. */
export class Prng {
  #a: number;
  constructor(seed: number) {
    this.#a = seed >>> 0;
  }
  u32(): number {
    this.#a = (this.#a + 0x6d2b79f5) >>> 0;
    let t = this.#a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return (t ^ (t >>> 14)) >>> 0;
  }
  /** [0, 1) */
  float(): number {
    return this.u32() / 0x1_0000_0000;
  }
  int(n: number): number {
    return Math.floor(this.float() * n);
  }
  chance(p: number): boolean {
    return this.float() < p;
  }
  pick<T>(xs: readonly T[]): T {
    return xs[this.int(xs.length)];
  }
}

// ------------------------------------------------------------ event queue

interface Event {
  t: number;
  seq: number;
  run: () => void;
}

class EventQueue {
  readonly #h: Event[] = [];
  #seq = 0;
  get size(): number {
    return this.#h.length;
  }
  push(t: number, run: () => void): void {
    const h = this.#h;
    h.push({ t, seq: this.#seq++, run });
    let i = h.length - 1;
    while (i > 0) {
      const p = (i - 1) >> 1;
      if (!less(h[i], h[p])) break;
      [h[i], h[p]] = [h[p], h[i]];
      i = p;
    }
  }
  pop(): Event | undefined {
    const h = this.#h;
    const top = h[0];
    const last = h.pop();
    if (h.length > 0 && last !== undefined) {
      h[0] = last;
      let i = 0;
      for (;;) {
        const l = 2 * i + 1;
        const r = l + 1;
        let m = i;
        if (l < h.length && less(h[l], h[m])) m = l;
        if (r < h.length && less(h[r], h[m])) m = r;
        if (m === i) break;
        [h[i], h[m]] = [h[m], h[i]];
        i = m;
      }
    }
    return top;
  }
}

function less(a: Event, b: Event): boolean {
  return a.t < b.t || (a.t === b.t && a.seq < b.seq);
}

// ---------------------------------------------------------------- options

export interface SimOptions {
  readonly seed: number;
  /** Virtual time with triggers, crashes, locator changes and a lossy network. */
  readonly activeMs?: number;
  /** Then a reliable, quiet period before the convergence check. */
  readonly quietMs?: number;
  /** Keep a trace of the last events for failure reports. */
  readonly traceLength?: number;
}

export interface SimStats {
  established: number;
  i2bisSent: number;
  confusions: number;
  failed: number;
  noSupport: number;
  updatesAcked: number;
  forgedRejected: number;
  crashes: number;
  locatorChanges: number;
  packets: number;
  dropped: number;
  duplicated: number;
  payloadDelivered: number;
  pairChanges: number;
}

export interface SimResult {
  readonly seed: number;
  readonly hosts: number;
  readonly legacy: boolean;
  readonly tagBits: number;
  readonly violations: string[];
  readonly stats: SimStats;
  readonly trace: string[];
}

// ------------------------------------------------------------------ hosts

interface SimHost {
  readonly index: number;
  readonly name: string;
  readonly set: HbaSet;
  readonly legacy: boolean;
  shim: ShimHost | null;
  boot: number;
  /** Which of the set's three addresses are configured. */
  present: boolean[];
  tickAt: number | null;
  /** Forged addresses injected into this host's Updates (must never verify). */
  forged: Set<string>;
}

const PREFIXES = [
  ['2001:db8:10::', '2001:db8:11::', '2001:db8:12::'],
  ['2001:db8:20::', '2001:db8:21::', '2001:db8:22::'],
  ['2001:db8:30::', '2001:db8:31::', '2001:db8:32::'],
];

/** Map key of an address (one char per octet). */
function key(a: Uint8Array): string {
  let s = '';
  for (let i = 0; i < a.length; i++) s += String.fromCharCode(a[i]);
  return s;
}

// ------------------------------------------------------------- simulation

export function runSimulation(opts: SimOptions): SimResult {
  const rng = new Prng(opts.seed ^ 0x5eed_5eed);
  const activeMs = opts.activeMs ?? 300_000;
  const quietMs = opts.quietMs ?? 720_000;
  const nHosts = rng.chance(0.5) ? 3 : 2;
  const legacy = nHosts === 3 && rng.chance(0.3);
  const tagBits = rng.pick([4, 5, 8, 47]);
  const pDrop = rng.pick([0, 0.05, 0.15, 0.3]);
  const pDup = rng.pick([0, 0.05, 0.15]);
  const maxDelay = rng.pick([5, 50, 400]);
  const onConfusion = rng.chance(0.5) ? 'discard' : 'reestablish';
  const traceLength = opts.traceLength ?? 200;

  const stats: SimStats = {
    established: 0,
    i2bisSent: 0,
    confusions: 0,
    failed: 0,
    noSupport: 0,
    updatesAcked: 0,
    forgedRejected: 0,
    crashes: 0,
    locatorChanges: 0,
    packets: 0,
    dropped: 0,
    duplicated: 0,
    payloadDelivered: 0,
    pairChanges: 0,
  };
  const violations: string[] = [];
  const trace: string[] = [];
  const q = new EventQueue();
  let now = 0;
  let quiet = false;

  const log = (s: string): void => {
    trace.push(`${(now / 1000).toFixed(3).padStart(9)} ${s}`);
    if (trace.length > traceLength) trace.shift();
  };

  const hosts: SimHost[] = [];
  const owner = new Map<string, { host: SimHost; index: number }>();
  for (let i = 0; i < nHosts; i++) {
    const set = hbaSet(`sim H${i}`, PREFIXES[i]);
    const h: SimHost = {
      index: i,
      name: `H${i}`,
      set,
      legacy: legacy && i === nHosts - 1,
      shim: null,
      boot: 0,
      present: [true, true, rng.chance(0.5)],
      tickAt: null,
      forged: new Set(),
    };
    set.addresses.forEach((a, k) => owner.set(key(a), { host: h, index: k }));
    hosts.push(h);
    if (!h.legacy) h.shim = newShim(h);
  }

  function newShim(h: SimHost): ShimHost {
    return new ShimHost({
      random: seededRandom(`sim ${opts.seed} ${h.name} boot ${h.boot}`),
      locators: locatorsOf(h),
      tagBits,
      onConfusion,
    });
  }

  function locatorsOf(h: SimHost) {
    return locatorSetFromHbaSet(h.set, { present: (_, i) => h.present[i] });
  }

  const fmt = (a: Uint8Array): string => {
    const o = owner.get(key(a));
    return o === undefined ? formatIpv6(a) : `${o.host.name}.${o.index}`;
  };

  // ----------------------------------------------------------- timers

  function arm(h: SimHost): void {
    if (h.shim === null) return;
    const d = h.shim.nextDeadline();
    if (d === null || (h.tickAt !== null && h.tickAt <= d)) return;
    h.tickAt = d;
    const shim = h.shim;
    q.push(d, () => {
      if (h.shim !== shim || h.tickAt !== d) return; // stale
      h.tickAt = null;
      act(h, shim.tick(now), 'tick');
    });
  }

  // ---------------------------------------------------------- actions

  function act(h: SimHost, actions: readonly ContextAction[], why: string): void {
    for (const a of actions) {
      switch (a.type) {
        case 'send':
          log(`${h.name} ${why} → send ${a.kind} ${fmt(a.src)}→${fmt(a.dst)}`);
          transmit(h, a);
          break;
        case 'context-established':
          stats.established++;
          log(`${h.name} established ${desc(a.ctx)}`);
          break;
        case 'context-updated':
          if (a.ctx.state === 'I2BIS-SENT' && a.changes.includes('state')) stats.i2bisSent++;
          if (a.changes.includes('pair')) stats.pairChanges++;
          log(`${h.name} updated [${a.changes.join(',')}] ${desc(a.ctx)}`);
          break;
        case 'context-removed':
          log(`${h.name} removed (${a.reason}) ${desc(a.ctx)}`);
          break;
        case 'negative-cache':
          if (a.reason === 'no-r1') stats.failed++;
          else stats.noSupport++;
          log(`${h.name} negative-cache ${fmt(a.peer)} until ${a.until} (${a.reason})`);
          break;
        case 'reap-message':
          break;
        case 'log':
          if (a.event === 'confusion') stats.confusions++;
          if (a.event === 'update-acked') stats.updatesAcked++;
          if (a.event === 'update-rejected' && a.reason === 'locator-method') stats.forgedRejected++;
          if (a.event !== 'drop' && a.event !== 'payload-known-tag') log(`${h.name} log ${a.event}${a.reason ? ` ${a.reason}` : ''}`);
          break;
      }
    }
    arm(h);
    checkInvariants(`${h.name} ${why}`);
  }

  function desc(c: ContextSnapshot): string {
    return `<${fmt(c.ulidLocal)},${fmt(c.ulidPeer)},${c.fii}> ${c.state} ct=${c.ctLocal} peer=${c.ctPeer} lp=${fmt(c.lpLocal)}→${fmt(c.lpPeer)}`;
  }

  // ---------------------------------------------------------- network

  function transmit(from: SimHost, s: SendAction): void {
    stats.packets++;
    const o = owner.get(key(s.src));
    if (o === undefined || o.host !== from) {
      violations.push(`${from.name} sent ${s.kind} from an address it does not own: ${fmt(s.src)}`);
      return;
    }
    if (!from.present[o.index]) {
      // The kernel would not send from an unconfigured address.
      stats.dropped++;
      log(`  (dropped: ${fmt(s.src)} not configured)`);
      return;
    }
    const copies = !quiet && rng.chance(pDup) ? 2 : 1;
    if (copies === 2) stats.duplicated++;
    for (let c = 0; c < copies; c++) {
      if (!quiet && rng.chance(pDrop)) {
        stats.dropped++;
        continue;
      }
      const bytes = s.bytes.slice();
      q.push(now + 1 + rng.float() * maxDelay, () => deliver(from, s.src, s.dst, bytes, s.kind));
    }
  }

  function deliver(from: SimHost, src: Uint8Array, dst: Uint8Array, bytes: Uint8Array, kind: string): void {
    const o = owner.get(key(dst));
    if (o === undefined || !o.host.present[o.index]) return;
    const to = o.host;
    if (to.shim === null) {
      // Legacy node: silence, or ICMP Parameter Problem "unrecognized Next Header".
      if (rng.chance(0.5) && from.shim !== null) {
        const shim = from.shim;
        const quoted = ipv6Packet(src, dst, bytes);
        q.push(now + 1 + rng.float() * maxDelay, () => {
          if (from.shim === shim) act(from, shim.icmpParameterProblem(now, { code: 1, packet: quoted }), `icmp from ${to.name}`);
        });
      }
      return;
    }
    act(to, to.shim.receive(now, { src, dst, bytes }), `rx ${kind} from ${fmt(src)}`);
  }

  const configured = (a: Uint8Array): boolean => {
    const o = owner.get(key(a));
    return o !== undefined && o.host.present[o.index];
  };

  /**
   * What REAP (RFC 5534, not this core) would end up doing when the current
   * pair is dead: move to a working pair. An oracle here, from ground truth.
   */
  function reapOracle(h: SimHost, c: ContextSnapshot): void {
    if (configured(c.lpLocal) && configured(c.lpPeer)) return;
    const locals = [c.ulidLocal, ...c.lsLocal.map((l) => l.addr)].filter(configured);
    const peers = c.lsPeer.filter((l) => l.usable && configured(l.addr)).map((l) => l.addr);
    if (locals.length === 0 || peers.length === 0) return;
    const r = (h.shim as ShimHost).setCurrentPair(now, c.ctLocal as bigint, { local: locals[0], peer: peers[0] });
    if (!r.ok) violations.push(`REAP oracle could not move ${desc(c)}: ${r.reason}`);
    else act(h, r.actions, 'REAP (oracle): pair dead');
  }

  /** The data plane: tagged payload over each context's current pair. */
  function sendPayload(h: SimHost): void {
    if (h.shim === null) return;
    for (const c0 of h.shim.contexts()) {
      if ((c0.state !== 'ESTABLISHED' && c0.state !== 'I2BIS-SENT') || c0.ctPeer === null) continue;
      if (c0.state === 'ESTABLISHED') reapOracle(h, c0);
      const c = h.shim.context({ ctLocal: c0.ctLocal as bigint }) ?? c0;
      if (c.ctPeer === null) continue;
      const o = owner.get(key(c.lpLocal));
      if (o === undefined || !h.present[o.index]) continue;
      if (!quiet && rng.chance(pDrop)) continue;
      const src = c.lpLocal;
      const dst = c.lpPeer;
      const tag = c.ctPeer;
      q.push(now + 1 + rng.float() * maxDelay, () => receivePayload(src, dst, tag));
    }
  }

  function receivePayload(src: Uint8Array, dst: Uint8Array, tag: bigint): void {
    const o = owner.get(key(dst));
    if (o === undefined || !o.host.present[o.index] || o.host.shim === null) return;
    const h = o.host;
    const shim = h.shim as ShimHost;
    const c = shim.context({ ctLocal: tag });
    const installed = c !== undefined && (c.state === 'ESTABLISHED' || c.state === 'I2BIS-SENT');
    const srcOk = c !== undefined && (key(c.ulidPeer) === key(src) || c.lsPeer.some((l) => key(l.addr) === key(src) && l.verification !== 'failed'));
    const dstOk = c !== undefined && (key(c.ulidLocal) === key(dst) || c.lsLocal.some((l) => key(l.addr) === key(dst)));
    if (installed && srcOk && dstOk) {
      stats.payloadDelivered++;
      return;
    }
    act(h, shim.payloadWithUnknownTag(now, { src, dst, tag }), `payload tag ${tag} from ${fmt(src)}`);
  }

  // --------------------------------------------------------- scenario

  function randomTrigger(): void {
    const shimHosts = hosts.filter((h) => h.shim !== null);
    if (shimHosts.length === 0) return;
    const h = rng.pick(shimHosts);
    const peers = hosts.filter((p) => p !== h);
    const p = rng.pick(peers);
    const li = rng.int(2);
    const pi = rng.int(2);
    const fii = li === 0 && pi === 0 && rng.chance(0.15) ? 1 : 0;
    if (!h.present[li]) return;
    const req = { ulidLocal: h.set.addresses[li], ulidPeer: p.set.addresses[pi], fii };
    act(h, (h.shim as ShimHost).trigger(now, req), `trigger →${p.name} <${li},${pi},${fii}>`);
    // Sometimes the peer's ULP wants it at the same moment (crossing I1s).
    if (p.shim !== null && p.present[pi] && rng.chance(0.25)) {
      const back = { ulidLocal: p.set.addresses[pi], ulidPeer: h.set.addresses[li], fii };
      act(p, p.shim.trigger(now, back), `trigger (crossing) →${h.name}`);
    }
  }

  function crash(): void {
    const h = rng.pick(hosts.filter((x) => x.shim !== null));
    if (h === undefined) return;
    stats.crashes++;
    h.boot++;
    h.shim = newShim(h);
    h.tickAt = null;
    log(`${h.name} CRASH: all context state lost (boot ${h.boot})`);
  }

  function changeLocators(): void {
    const h = rng.pick(hosts.filter((x) => x.shim !== null));
    if (h === undefined) return;
    const i = 1 + rng.int(2);
    h.present[i] = !h.present[i];
    stats.locatorChanges++;
    log(`${h.name} locator ${i} ${h.present[i] ? 'added' : 'removed'}`);
    act(h, (h.shim as ShimHost).localLocatorsChanged(now, locatorsOf(h)), 'locators changed');
  }

  function changePair(): void {
    const h = rng.pick(hosts.filter((x) => x.shim !== null));
    if (h === undefined) return;
    const shim = h.shim as ShimHost;
    const cs = shim.contexts().filter((c) => c.state === 'ESTABLISHED');
    if (cs.length === 0) return;
    const c = rng.pick(cs);
    const locals = c.lsLocal.map((l) => l.addr).filter((a) => h.present[owner.get(key(a))?.index ?? 0]);
    const peers = c.lsPeer.map((l) => l.addr);
    if (locals.length === 0 || peers.length === 0) return;
    const local = rng.pick(locals);
    const peer = rng.pick(peers);
    const r = shim.setCurrentPair(now, c.ctLocal as bigint, { local, peer });
    const entry = c.lsPeer.find((l) => key(l.addr) === key(peer));
    if (r.ok !== (entry?.usable ?? key(peer) === key(c.ulidPeer))) {
      violations.push(`setCurrentPair(${fmt(peer)}) returned ${JSON.stringify(r.ok ? 'ok' : r.reason)} for a locator with usable=${entry?.usable}`);
    }
    if (r.ok) act(h, r.actions, `pair → ${fmt(local)}→${fmt(peer)}`);
  }

  /** An off-path forger that guessed a context tag: an Update with a locator it does not own. */
  function forgeUpdate(): void {
    const h = rng.pick(hosts.filter((x) => x.shim !== null));
    if (h === undefined) return;
    const shim = h.shim as ShimHost;
    const cs = shim.contexts().filter((c) => c.state === 'ESTABLISHED' && c.ctLocal !== null);
    if (cs.length === 0) return;
    const c = rng.pick(cs);
    const fake = c.ulidPeer.slice();
    fake[15] ^= 1 + rng.int(255); // the peer's prefix, another interface identifier
    h.forged.add(key(fake));
    const bytes = encode({
      kind: 'UpdateRequest',
      receiverContextTag: c.ctLocal as bigint,
      requestNonce: rng.u32(),
      options: [{ kind: 'LocatorList', generation: rng.u32(), locators: [{ addr: c.ulidPeer, method: 1 }, { addr: fake, method: 1 }] }],
    });
    act(h, shim.receive(now, { src: c.lpPeer, dst: c.lpLocal, bytes }), `forged Update (${fmt(fake)})`);
  }

  // ------------------------------------------------------- invariants

  function checkInvariants(where: string): void {
    for (const h of hosts) {
      if (h.shim === null) continue;
      const cs = h.shim.contexts();
      const tags = new Set<bigint>();
      for (const c of cs) {
        if (c.ctLocal !== null) {
          if (tags.has(c.ctLocal)) violations.push(`${where}: ${h.name} has two contexts with CT(local) ${c.ctLocal}`);
          tags.add(c.ctLocal);
          if (c.ctLocal === 0n || c.ctLocal >= 1n << BigInt(tagBits)) violations.push(`${where}: ${h.name} tag ${c.ctLocal} outside the tag space`);
        }
        if (c.state === 'ESTABLISHED' && (c.ctLocal === null || c.ctPeer === null)) {
          violations.push(`${where}: ${h.name} ESTABLISHED without tags ${desc(c)}`);
        }
        // The current pair never uses an unverified peer locator: it is a
        // verified member of Ls(peer), or ULID(peer) (which needs no proof)
        // while listed, or as the last resort when nothing listed is usable.
        const lp = c.lsPeer.find((l) => key(l.addr) === key(c.lpPeer));
        const verifiedLp = lp !== undefined && lp.usable && (lp.verification === 'hba' || lp.verification === 'cga');
        const ulidLp = key(c.lpPeer) === key(c.ulidPeer) && (lp?.usable ?? !c.lsPeer.some((l) => l.usable));
        if (!verifiedLp && !ulidLp) {
          violations.push(`${where}: ${h.name} current peer locator ${fmt(c.lpPeer)} is not verified: ${desc(c)}`);
        }
        if (key(c.lpLocal) !== key(c.ulidLocal) && !c.lsLocal.some((l) => key(l.addr) === key(c.lpLocal))) {
          violations.push(`${where}: ${h.name} current local locator ${fmt(c.lpLocal)} not in Ls(local)`);
        }
        for (const l of c.lsPeer) {
          const real = owner.get(key(l.addr));
          const verified = l.verification === 'hba' || l.verification === 'cga';
          if (verified && (real === undefined || real.host !== owner.get(key(c.ulidPeer))?.host)) {
            violations.push(`${where}: ${h.name} verified a locator ${fmt(l.addr)} that ${fmt(c.ulidPeer)}'s host does not own`);
          }
        }
      }
      // Never two contexts (ESTABLISHED or I2BIS-SENT) with the same CT(peer) and overlapping Ls(peer).
      const live = cs.filter((c) => (c.state === 'ESTABLISHED' || c.state === 'I2BIS-SENT') && c.ctPeer !== null);
      for (let i = 0; i < live.length; i++) {
        for (let j = i + 1; j < live.length; j++) {
          const a = live[i];
          const b = live[j];
          if (a.ctPeer !== b.ctPeer) continue;
          const la = peerKeys(a);
          if ([...peerKeys(b)].some((k) => la.has(k))) {
            violations.push(`${where}: ${h.name} confusion: ${desc(a)} and ${desc(b)} share CT(peer) and locators`);
          }
        }
      }
    }
  }

  function peerKeys(c: ContextSnapshot): Set<string> {
    const s = new Set([key(c.ulidPeer)]);
    for (const l of c.lsPeer) if (l.verification !== 'failed') s.add(key(l.addr));
    return s;
  }

  function checkConvergence(): void {
    for (const h of hosts) {
      if (h.shim === null) continue;
      for (const c of h.shim.contexts()) {
        if (c.state === 'E-FAILED' || c.state === 'NO-SUPPORT') continue;
        if (c.state !== 'ESTABLISHED') {
          violations.push(`end: ${h.name} context still ${c.state}: ${desc(c)}`);
          continue;
        }
        const p = owner.get(key(c.ulidPeer))!.host;
        if (p.shim === null) {
          violations.push(`end: ${h.name} ESTABLISHED with a legacy host: ${desc(c)}`);
          continue;
        }
        const d = p.shim.context({ ulidLocal: c.ulidPeer, ulidPeer: c.ulidLocal, fii: c.fii });
        if (d === undefined || d.state !== 'ESTABLISHED') {
          violations.push(`end: ${h.name} ${desc(c)} but ${p.name} has ${d === undefined ? 'nothing' : desc(d)}`);
          continue;
        }
        if (d.ctLocal !== c.ctPeer || d.ctPeer !== c.ctLocal) {
          violations.push(`end: tags disagree: ${h.name} ${desc(c)} / ${p.name} ${desc(d)}`);
        }
        const seen = c.lsPeer.map((l) => key(l.addr)).sort().join();
        const announced = d.lsLocal.map((l) => key(l.addr)).sort().join();
        if (seen !== announced || c.peerGeneration !== d.localGeneration) {
          violations.push(
            `end: ${h.name} sees ${c.lsPeer.map((l) => fmt(l.addr))} (gen ${c.peerGeneration}) but ${p.name} announces ${d.lsLocal.map((l) => fmt(l.addr))} (gen ${d.localGeneration})`,
          );
        }
        if (d.update !== null) violations.push(`end: ${p.name} still has an Update outstanding: ${desc(d)}`);
      }
    }
  }

  // -------------------------------------------------------------- run

  // Scenario events in the active phase.
  const nTriggers = 3 + rng.int(8);
  for (let i = 0; i < nTriggers; i++) q.push(rng.float() * activeMs * 0.8, randomTrigger);
  const nCrashes = rng.int(3);
  for (let i = 0; i < nCrashes; i++) q.push(rng.float() * activeMs, crash);
  const nChanges = rng.int(4);
  for (let i = 0; i < nChanges; i++) q.push(rng.float() * activeMs, changeLocators);
  const nPairs = rng.int(4);
  for (let i = 0; i < nPairs; i++) q.push(rng.float() * activeMs, changePair);
  const nForged = rng.int(3);
  for (let i = 0; i < nForged; i++) q.push(rng.float() * activeMs, forgeUpdate);
  // Payload every ~10 s per host, for the whole run.
  for (const h of hosts) {
    const every = 8_000 + rng.int(4_000);
    for (let t = rng.float() * every; t < activeMs + quietMs; t += every) q.push(t, () => sendPayload(h));
  }
  // The quiet period: a reliable network, no more scenario events.
  q.push(activeMs, () => {
    quiet = true;
    log('--- quiet: reliable network from now on ---');
  });
  const end = activeMs + quietMs;
  for (let e = q.pop(); e !== undefined && e.t <= end; e = q.pop()) {
    now = e.t;
    e.run();
  }
  now = end;
  checkConvergence();
  return { seed: opts.seed, hosts: nHosts, legacy, tagBits, violations, stats, trace };
}
