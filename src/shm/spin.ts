/**
 * How long a sync caller of the ring re-checks before it sleeps on a futex.
 *
 * A busy peer on another core answers within microseconds, far sooner than a futex wake-up (tens
 * of microseconds, and two system calls): on a quiet 2-core machine, Queue round trips between two
 * processes ran at about 900,000/s with a 20 µs spin and 17,000/s without. But when the machine
 * is oversubscribed, the peer mostly needs the very core that spins, and a fixed spin made the
 * same round trips 10 times slower. No core count tells the two apart, so the budget adapts to
 * what spinning achieves on this thread: it doubles (up to SPIN_MAX_MS) after a spin that saw the
 * peer, and halves after one that ended in sleep anyway. Below SPIN_MIN_MS it stops spinning,
 * except for one short probe in PROBE_EVERY waits, so that it recovers when the load goes.
 */
const SPIN_MAX_MS = 0.05;
const SPIN_MIN_MS = 0.002;
const PROBE_EVERY = 64;

/**
 * An adaptive spin budget of its own, for a caller whose peer differs from the ring's (a
 * manager's client and server spin for each other's frames: src/managers/link.ts).
 */
export class Spinner {
  readonly #maxMs: number;
  readonly #minMs: number;
  readonly #probeEvery: number;
  #budgetMs: number;
  #skipped = 0;

  /** `probeEvery` 1: the budget never goes below `minMs` (a spin of that long is always worth it). */
  constructor(maxMs = SPIN_MAX_MS, minMs = SPIN_MIN_MS, probeEvery = PROBE_EVERY) {
    this.#maxMs = this.#budgetMs = maxMs;
    this.#minMs = minMs;
    this.#probeEvery = probeEvery;
  }

  /**
   * Re-checks `ready` for up to the current budget; true as soon as it holds, false if it never
   * did. With `pause`, it waits that way between two checks (given the milliseconds left)
   * rather than spinning.
   */
  until(ready: () => boolean, pause?: (ms: number) => void): boolean {
    let ms = this.#budgetMs;
    if (ms < this.#minMs) {
      if (++this.#skipped % this.#probeEvery !== 0) return ready();
      ms = this.#minMs;
    }
    const until = performance.now() + ms;
    for (let i = 1; ; i++) {
      if (ready()) {
        this.#budgetMs = Math.min(this.#maxMs, Math.max(this.#minMs, this.#budgetMs * 2));
        return true;
      }
      if (pause !== undefined ? !this.#paused(until, pause) : (i & 63) === 0 && performance.now() > until) {
        this.#budgetMs /= 2;
        return false;
      }
    }
  }

  /** False once the time is up; else waits by `pause` for at most what is left. */
  #paused(until: number, pause: (ms: number) => void): boolean {
    const left = until - performance.now();
    if (left <= 0) return false;
    pause(left);
    return true;
  }
}

const ringSpin = new Spinner();

/** Re-checks `ready` for up to this thread's ring budget; true as soon as it holds, false if it never did. */
export function spinUntil(ready: () => boolean): boolean {
  return ringSpin.until(ready);
}
