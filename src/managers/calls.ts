/**
 * A connection's calls waiting for their reply, by call id.
 *
 * Call ids are consecutive, so the calls in flight nearly always sit in distinct slots of a small
 * table indexed by the id's low bits: no hashing, and nothing allocated per call (a Map of
 * pending calls, set and deleted once per call, reallocates its table every few hundred calls).
 * A call still waiting when a later id wants its slot (a long blocking get on a queue) moves that
 * later call to a Map, so the table never has to grow.
 */
const SLOTS = 256;

export class PendingCalls<T> {
  readonly #ids = new Float64Array(SLOTS).fill(-1);
  readonly #slots: (T | undefined)[] = new Array<T | undefined>(SLOTS).fill(undefined);
  readonly #overflow = new Map<number, T>();
  #size = 0;

  get size(): number {
    return this.#size;
  }

  /** `id` is a new call id (a positive integer, never used before on this connection). */
  set(id: number, call: T): void {
    const slot = id & (SLOTS - 1);
    if (this.#slots[slot] === undefined) {
      this.#ids[slot] = id;
      this.#slots[slot] = call;
    } else {
      this.#overflow.set(id, call);
    }
    this.#size++;
  }

  /** Removes and returns the call of `id` (any value a peer sent), or undefined. */
  take(id: unknown): T | undefined {
    if (typeof id !== 'number') return undefined;
    const slot = id & (SLOTS - 1);
    let call: T | undefined;
    if (this.#ids[slot] === id && this.#slots[slot] !== undefined) {
      call = this.#slots[slot];
      this.#slots[slot] = undefined;
      this.#ids[slot] = -1;
    } else {
      call = this.#overflow.get(id);
      if (call === undefined) return undefined;
      this.#overflow.delete(id);
    }
    this.#size--;
    return call;
  }

  /** Every waiting call, oldest first, removed. */
  drain(): T[] {
    const all: [number, T][] = [...this.#overflow];
    for (let slot = 0; slot < SLOTS; slot++) {
      const call = this.#slots[slot];
      if (call !== undefined) all.push([this.#ids[slot]!, call]);
    }
    this.#slots.fill(undefined);
    this.#ids.fill(-1);
    this.#overflow.clear();
    this.#size = 0;
    return all.sort((a, b) => a[0] - b[0]).map(([, call]) => call);
  }
}
