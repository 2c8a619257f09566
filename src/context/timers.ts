// A binary min-heap of timer deadlines. Cancelling is lazy: each entry
// carries the generation its owner had when scheduling, and an entry whose
// owner has moved on is skipped when it reaches the top. So scheduling is
// O(log n), cancelling O(1), and `tick` with nothing due is one comparison.
// Dead entries leave the heap when they reach the top, i.e. by their due
// time at the latest, so the heap holds at most the entries scheduled within
// the longest timer (the ICMP hold-down) before now.

export interface TimerOwner<K extends string> {
  /** Current generation per timer kind; an entry is live iff it matches. */
  readonly timerGen: Record<K, number>;
  /** False once the owner is gone (its entries are all dead). */
  readonly alive: boolean;
}

interface Entry<O, K> {
  due: number;
  seq: number;
  owner: O;
  kind: K;
  gen: number;
}

export class TimerHeap<K extends string, O extends TimerOwner<K>> {
  readonly #heap: Entry<O, K>[] = [];
  #seq = 0;

  get size(): number {
    return this.#heap.length;
  }

  /** Schedule `kind` of `owner` at `due`, replacing any pending one of that kind. */
  schedule(owner: O, kind: K, due: number): void {
    const gen = ++owner.timerGen[kind];
    this.#push({ due, seq: this.#seq++, owner, kind, gen });
  }

  cancel(owner: O, kind: K): void {
    owner.timerGen[kind]++;
  }

  /** Earliest live deadline, or null. Drops dead entries from the top. */
  peek(): number | null {
    this.#dropDead();
    return this.#heap.length === 0 ? null : this.#heap[0].due;
  }

  /** Pop the earliest live entry due at or before `now`. */
  popDue(now: number): { owner: O; kind: K; due: number } | null {
    this.#dropDead();
    const top = this.#heap[0];
    if (top === undefined || top.due > now) return null;
    this.#pop();
    top.owner.timerGen[top.kind]++; // fired: no longer pending
    return { owner: top.owner, kind: top.kind, due: top.due };
  }

  #live(e: Entry<O, K>): boolean {
    return e.owner.alive && e.owner.timerGen[e.kind] === e.gen;
  }

  #dropDead(): void {
    while (this.#heap.length > 0 && !this.#live(this.#heap[0])) this.#pop();
  }

  #less(a: Entry<O, K>, b: Entry<O, K>): boolean {
    return a.due < b.due || (a.due === b.due && a.seq < b.seq);
  }

  #push(e: Entry<O, K>): void {
    const h = this.#heap;
    h.push(e);
    let i = h.length - 1;
    while (i > 0) {
      const p = (i - 1) >> 1;
      if (!this.#less(h[i], h[p])) break;
      [h[i], h[p]] = [h[p], h[i]];
      i = p;
    }
  }

  #pop(): void {
    const h = this.#heap;
    const last = h.pop();
    if (last === undefined || h.length === 0) return;
    h[0] = last;
    let i = 0;
    for (;;) {
      const l = 2 * i + 1;
      const r = l + 1;
      let m = i;
      if (l < h.length && this.#less(h[l], h[m])) m = l;
      if (r < h.length && this.#less(h[r], h[m])) m = r;
      if (m === i) break;
      [h[i], h[m]] = [h[m], h[i]];
      i = m;
    }
  }
}
