// Many contexts, one timer: the heap, and the cost of a tick measured
// structurally (contexts visited = contexts due), never by wall-clock time.

import { describe, expect, it } from 'vitest';
import { DeadlineHeap, ReapContext, ReapScheduler, type ReapAction } from '../../../src/reap/index.js';
import { A1, A2, B1, B2, CT_A, CT_B, counterNonce, mulberry32, peerKeepalive } from './helpers.js';

/** A context that counts how often the scheduler makes it run its timers. */
class CountingContext extends ReapContext {
  static ticks = 0;
  override tick(now: number): ReapAction[] {
    CountingContext.ticks++;
    return super.tick(now);
  }
}

function context(i: number, hotStandby = false): CountingContext {
  return new CountingContext({
    peerContextTag: CT_B + BigInt(i),
    localContextTag: CT_A + BigInt(i),
    current: { local: A1, peer: B1 },
    locals: [{ addr: A1 }, { addr: A2 }],
    peers: [
      { addr: B1, verified: true },
      { addr: B2, verified: true },
    ],
    now: 0,
    options: { random: () => 0.5, nonce: counterNonce(i * 1000), hotStandby },
  });
}

describe('DeadlineHeap', () => {
  it('agrees with a naive model under random inserts, moves, deletes and pops', () => {
    const u = mulberry32(42);
    const heap = new DeadlineHeap<number>();
    const model = new Map<number, number>();
    for (let step = 0; step < 20_000; step++) {
      const op = u() % 4;
      const k = u() % 300;
      if (op <= 1) {
        const d = u() % 10_000;
        heap.set(k, d);
        model.set(k, d);
      } else if (op === 2) {
        expect(heap.delete(k)).toBe(model.delete(k));
      } else if (model.size > 0) {
        const min = Math.min(...model.values());
        expect(heap.peek()).toBe(min);
        const key = heap.pop();
        expect(key).toBeDefined();
        expect(model.get(key!)).toBe(min);
        model.delete(key!);
      }
      expect(heap.size).toBe(model.size);
    }
  });
});

describe('ReapScheduler', () => {
  it('10,000 idle contexts: nothing scheduled, no context visited and no action in an hour of ticks', () => {
    const sched = new ReapScheduler<number>();
    // Half of them with hot standby on: idle, it sends nothing either.
    for (let i = 0; i < 10_000; i++) sched.add(i, context(i, i % 2 === 0));
    expect(sched.size).toBe(10_000);
    expect(sched.scheduled).toBe(0);
    expect(sched.nextDeadline()).toBe(Infinity);
    CountingContext.ticks = 0;
    const out = [];
    for (let t = 0; t <= 3_600_000; t += 1000) {
      out.push(...sched.tick(t));
      expect(sched.lastTick).toEqual({ due: 0, visited: 0 });
    }
    expect(out).toEqual([]);
    expect(CountingContext.ticks).toBe(0);
    // The agent's poll finds their counters unchanged: still nothing.
    for (let i = 0; i < 10_000; i++) expect(sched.observe(3_600_000, i, { txPackets: 0, rxPackets: 0 })).toEqual([]);
    expect(sched.scheduled).toBe(0);
  });

  it('10,000 contexts, 60 active: each tick visits exactly the contexts due; idle ones never act', () => {
    const sched = new ReapScheduler<number>();
    const ctxs: CountingContext[] = [];
    for (let i = 0; i < 10_000; i++) {
      const c = context(i);
      ctxs.push(c);
      sched.add(i, c);
    }
    // 20 send without answer (they explore, backing off to one probe a minute),
    // 20 receive a one-way stream burst (keepalives), 20 are kept alive both ways.
    const active = new Set<number>();
    for (let j = 0; j < 60; j++) {
      const i = j * 163;
      active.add(i);
      const c = ctxs[i];
      if (j < 20) sched.observe(j * 10, i, { txPackets: 1, rxPackets: 0, lastTx: j * 10 });
      else if (j < 40) sched.observe(j * 10, i, { txPackets: 0, rxPackets: 5, lastRx: j * 10 });
      else {
        sched.observe(j * 10, i, { txPackets: 1, rxPackets: 0, lastTx: j * 10 });
        sched.receive(j * 10 + 5, i, peerKeepalive(CT_A + BigInt(i)), { src: B1, dst: A1 });
      }
      expect(c.nextDeadline() === Infinity).toBe(j >= 40);
    }
    expect(sched.scheduled).toBe(40);
    let ticks = 0;
    let visits = 0;
    const actors = new Set<number>();
    for (;;) {
      const now = sched.nextDeadline(); // the agent's single timer
      if (now > 3_600_000) break;
      // Independently: which contexts are due?
      let due = 0;
      for (const i of active) if (ctxs[i].nextDeadline() <= now) due++;
      const before = CountingContext.ticks;
      for (const r of sched.tick(now)) actors.add(r.id);
      expect(CountingContext.ticks - before).toBe(due);
      expect(sched.lastTick).toEqual({ due, visited: due });
      ticks++;
      visits += due;
    }
    for (const id of actors) expect(active.has(id)).toBe(true);
    // Explorers keep probing once a minute; receivers stop after Keepalive Timeout.
    expect(sched.scheduled).toBe(20);
    expect(ticks).toBeGreaterThan(1000);
    expect(visits / ticks).toBeLessThan(2);
  });
});
