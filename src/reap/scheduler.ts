// Many REAP contexts, one timer: the scheduler keeps each context's
// `nextDeadline()` in a min-heap, so the agent arms a single timer for
// `nextDeadline()` and calls `tick(now)`. A tick visits only the k contexts
// that are due: O(k log n). Contexts with nothing scheduled (idle ones) are
// not in the heap at all and cost nothing per tick.
//
// Every input for a context goes through the scheduler (or through `update`)
// so its heap entry follows its deadline. Pure: no timers, no I/O; the
// optional sampler passed to `tick` is how the agent supplies fresh traffic
// facts for the due contexts only.

import type { ReapContext } from './context.js';
import { DeadlineHeap } from './heap.js';
import type { Arrival, FeedbackKind, ReapAction, TrafficSample } from './types.js';
import type { Shim6Message } from '../wire/index.js';
import { Shim6Error } from '../errors.js';

export interface ScheduledActions<Id> {
  readonly id: Id;
  readonly actions: ReapAction[];
}

export interface TickStats {
  /** Contexts whose deadline had passed. */
  readonly due: number;
  /** Contexts the tick touched (equal to `due`: nothing else is looked at). */
  readonly visited: number;
}

export class ReapScheduler<Id = number> {
  readonly #contexts = new Map<Id, ReapContext>();
  readonly #heap = new DeadlineHeap<Id>();
  #lastTick: TickStats = { due: 0, visited: 0 };

  get size(): number {
    return this.#contexts.size;
  }

  /** Contexts with a finite deadline (the rest are idle). */
  get scheduled(): number {
    return this.#heap.size;
  }

  get lastTick(): TickStats {
    return this.#lastTick;
  }

  add(id: Id, ctx: ReapContext): void {
    if (this.#contexts.has(id)) throw new Shim6Error('SHIM6_ERR_EXISTS', `REAP context ${String(id)} is already scheduled`);
    this.#contexts.set(id, ctx);
    this.#reschedule(id, ctx);
  }

  remove(id: Id): boolean {
    this.#heap.delete(id);
    return this.#contexts.delete(id);
  }

  get(id: Id): ReapContext | undefined {
    return this.#contexts.get(id);
  }

  ids(): IterableIterator<Id> {
    return this.#contexts.keys();
  }

  /** When the agent's single timer should fire next; Infinity when nothing is scheduled. */
  nextDeadline(): number {
    return this.#heap.peek();
  }

  /** Run `fn` on one context and re-key its deadline. Unknown ids give no actions. */
  update(id: Id, fn: (ctx: ReapContext) => ReapAction[]): ReapAction[] {
    const ctx = this.#contexts.get(id);
    if (!ctx) return [];
    const actions = fn(ctx);
    this.#reschedule(id, ctx);
    return actions;
  }

  observe(now: number, id: Id, sample: TrafficSample): ReapAction[] {
    return this.update(id, (c) => c.observe(now, sample));
  }

  receive(now: number, id: Id, msg: Shim6Message, via: Arrival): ReapAction[] {
    return this.update(id, (c) => c.receive(now, msg, via));
  }

  feedback(now: number, id: Id, kind: FeedbackKind): ReapAction[] {
    return this.update(id, (c) => c.feedback(now, kind));
  }

  /**
   * Run every context whose deadline is ≤ now. With `sample`, each due
   * context first gets fresh traffic facts (so a Send Timer does not fire on
   * stale counters). Each due context is visited once per tick.
   */
  tick(now: number, sample?: (id: Id) => TrafficSample | undefined): ScheduledActions<Id>[] {
    const due: Id[] = [];
    while (this.#heap.size > 0 && this.#heap.peek() <= now) {
      const id = this.#heap.pop();
      if (id !== undefined) due.push(id);
    }
    const out: ScheduledActions<Id>[] = [];
    for (const id of due) {
      const ctx = this.#contexts.get(id);
      if (!ctx) continue;
      const actions: ReapAction[] = [];
      const s = sample?.(id);
      if (s) actions.push(...ctx.observe(now, s));
      actions.push(...ctx.tick(now));
      this.#reschedule(id, ctx);
      if (actions.length > 0) out.push({ id, actions });
    }
    this.#lastTick = { due: due.length, visited: due.length };
    return out;
  }

  #reschedule(id: Id, ctx: ReapContext): void {
    const d = ctx.nextDeadline();
    if (d === Infinity) this.#heap.delete(id);
    else this.#heap.set(id, d);
  }
}
