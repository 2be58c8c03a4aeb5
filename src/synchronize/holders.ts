/**
 * Robust semaphores: a thread or process that ends holding permits of a Semaphore does not keep
 * them forever. As with Lock (robust.ts), an acquirer that has to wait looks, between sleeps of
 * HOLDER_CHECK_MS, for holders that have ended; it takes their permits back, keeps one, and is
 * told: its acquire throws (rejects) with code `ERR_LOCK_OWNER_DIED`, the permit now its own.
 *
 * A semaphore has no owner word, so its memory carries a holder table after [COUNT, BOUND]: SLOTS
 * pairs of (identity, permits held). Permits are all alike, and any thread may release one
 * (Python's semaphores allow it): a release takes from the releasing thread's own entry first,
 * else from any entry that holds some, so that the table never counts more permits than are out.
 * Each update is ordered so that a holder dying between two steps leaves the table counting fewer
 * permits than it holds (that permit stays lost, as before), never more (that would raise the
 * value past what was released). Limits: at most SLOTS threads are counted at once (the others'
 * permits are not recovered); a permit released by another thread than its taker may be counted
 * off another holder's entry, whose death then gives back one permit too few.
 */
import { ME, wake, type Deadline, type Waiting } from '../shm/waiting.js';
import { holderEnded } from '../shm/identity.js';
import { HOLDER_CHECK_MS, type Taken } from './robust.js';

export const COUNT = 0;
export const BOUND = 1;
const SLOTS = 32;
const identityAt = (slot: number) => 2 + 2 * slot;
const permitsAt = (slot: number) => 3 + 2 * slot;
/** Bytes of a semaphore's memory: COUNT, BOUND and the holder table. */
export const SEMAPHORE_BYTES = 4 * (2 + 2 * SLOTS);
/** Marks an entry being emptied by the waiter that found its holder dead. */
const CLAIMED = -1;

/** This thread's entry in a semaphore's holder table. */
export class Holders {
  readonly #s: Int32Array;
  #mine = -1;

  constructor(s: Int32Array) {
    this.#s = s;
  }

  /** This thread's entry, claiming a free one when `claim`; -1 when it has none (or none is free). */
  #slot(claim: boolean): number {
    const s = this.#s;
    const mine = this.#mine;
    if (mine >= 0) {
      const holder = Atomics.load(s, identityAt(mine));
      if (holder === ME) return mine;
      // The entry this thread freed last is usually still free: take it again without a search.
      if (claim && holder === 0 && Atomics.compareExchange(s, identityAt(mine), 0, ME) === 0) return mine;
    }
    this.#mine = -1;
    for (let i = 0; i < SLOTS; i++) if (Atomics.load(s, identityAt(i)) === ME) return (this.#mine = i);
    if (!claim) return -1;
    for (let i = 0; i < SLOTS; i++) if (Atomics.compareExchange(s, identityAt(i), 0, ME) === 0) return (this.#mine = i);
    return -1;
  }

  /** Counts one more permit held by this thread (after taking it: see the ordering above). */
  took(): void {
    const slot = this.#slot(true);
    if (slot >= 0) Atomics.add(this.#s, permitsAt(slot), 1);
  }

  /** Counts one permit off (before it is given back); returns the entry, for `undo`. */
  gave(): number {
    const own = this.#slot(false);
    if (own >= 0 && this.#takeOne(own)) {
      // Held no more: free the entry for other threads (unless someone counted it off meanwhile).
      if (Atomics.load(this.#s, permitsAt(own)) === 0) Atomics.compareExchange(this.#s, identityAt(own), ME, 0);
      return own;
    }
    for (let i = 0; i < SLOTS; i++) if (this.#takeOne(i)) return i;
    return -1;
  }

  /** Puts back what `gave` counted off, when the release failed. */
  undo(slot: number): void {
    if (slot >= 0) Atomics.add(this.#s, permitsAt(slot), 1);
  }

  #takeOne(slot: number): boolean {
    const s = this.#s;
    for (let c = Atomics.load(s, permitsAt(slot)); c > 0; ) {
      const seen = Atomics.compareExchange(s, permitsAt(slot), c, c - 1);
      if (seen === c) return true;
      c = seen;
    }
    return false;
  }

  /** Empties the entries of holders that have ended; returns how many permits they held. */
  recover(): number {
    const s = this.#s;
    let back = 0;
    for (let i = 0; i < SLOTS; i++) {
      const holder = Atomics.load(s, identityAt(i));
      if (holder === 0 || holder === ME || !holderEnded(holder)) continue;
      // One waiter empties it; the others see it claimed.
      if (Atomics.compareExchange(s, identityAt(i), holder, CLAIMED) !== holder) continue;
      back += Atomics.exchange(s, permitsAt(i), 0);
      Atomics.store(s, identityAt(i), 0);
    }
    return back;
  }
}

function takePermit(s: Int32Array): boolean {
  let c = Atomics.load(s, COUNT);
  while (c > 0) {
    const seen = Atomics.compareExchange(s, COUNT, c, c - 1);
    if (seen === c) return true;
    c = seen;
  }
  return false;
}

/**
 * Takes a permit before `deadline` (once, without waiting, for null). On 'owner-died' the caller
 * has one of the permits of holders that ended; the others are back in the semaphore.
 */
export function* semaphoreSteps(s: Int32Array, holders: Holders, deadline: Deadline | null): Waiting<Taken> {
  for (;;) {
    if (takePermit(s)) return 'acquired';
    if (deadline === null) return 'timed-out';
    const left = deadline.remaining();
    if (left <= 0) return 'timed-out';
    const outcome = yield { array: s, index: COUNT, value: 0, timeout: Math.min(left, HOLDER_CHECK_MS) };
    if (outcome !== 'timed-out') continue;
    const back = holders.recover();
    if (back > 0) {
      if (back > 1) {
        Atomics.add(s, COUNT, back - 1);
        wake(s, COUNT, back - 1);
      }
      return 'owner-died';
    }
  }
}
