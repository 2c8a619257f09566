// An indexed binary min-heap of (key, deadline): O(log n) insert, update,
// remove and pop, O(1) peek. Used by ReapScheduler to hold one deadline per
// context.

export class DeadlineHeap<K> {
  #keys: K[] = [];
  #at: number[] = [];
  #pos = new Map<K, number>();

  get size(): number {
    return this.#keys.length;
  }

  has(key: K): boolean {
    return this.#pos.has(key);
  }

  deadlineOf(key: K): number | undefined {
    const i = this.#pos.get(key);
    return i === undefined ? undefined : this.#at[i];
  }

  /** Earliest deadline, Infinity when empty. */
  peek(): number {
    return this.#keys.length > 0 ? this.#at[0] : Infinity;
  }

  peekKey(): K | undefined {
    return this.#keys[0];
  }

  /** Insert or move `key` to `deadline`. */
  set(key: K, deadline: number): void {
    const i = this.#pos.get(key);
    if (i === undefined) {
      const n = this.#keys.length;
      this.#keys.push(key);
      this.#at.push(deadline);
      this.#pos.set(key, n);
      this.#up(n);
      return;
    }
    const old = this.#at[i];
    this.#at[i] = deadline;
    if (deadline < old) this.#up(i);
    else if (deadline > old) this.#down(i);
  }

  delete(key: K): boolean {
    const i = this.#pos.get(key);
    if (i === undefined) return false;
    this.#removeAt(i);
    return true;
  }

  /** Remove and return the key with the earliest deadline. */
  pop(): K | undefined {
    if (this.#keys.length === 0) return undefined;
    const k = this.#keys[0];
    this.#removeAt(0);
    return k;
  }

  #removeAt(i: number): void {
    const last = this.#keys.length - 1;
    this.#pos.delete(this.#keys[i]);
    if (i !== last) {
      this.#keys[i] = this.#keys[last];
      this.#at[i] = this.#at[last];
      this.#pos.set(this.#keys[i], i);
    }
    this.#keys.pop();
    this.#at.pop();
    if (i < this.#keys.length) {
      this.#up(i);
      this.#down(i);
    }
  }

  #swap(i: number, j: number): void {
    const k = this.#keys[i];
    const a = this.#at[i];
    this.#keys[i] = this.#keys[j];
    this.#at[i] = this.#at[j];
    this.#keys[j] = k;
    this.#at[j] = a;
    this.#pos.set(this.#keys[i], i);
    this.#pos.set(this.#keys[j], j);
  }

  #up(i: number): void {
    while (i > 0) {
      const parent = (i - 1) >> 1;
      if (this.#at[parent] <= this.#at[i]) return;
      this.#swap(i, parent);
      i = parent;
    }
  }

  #down(i: number): void {
    const n = this.#keys.length;
    for (;;) {
      const l = 2 * i + 1;
      const r = l + 1;
      let m = i;
      if (l < n && this.#at[l] < this.#at[m]) m = l;
      if (r < n && this.#at[r] < this.#at[m]) m = r;
      if (m === i) return;
      this.#swap(i, m);
      i = m;
    }
  }
}
