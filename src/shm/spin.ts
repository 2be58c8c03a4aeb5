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
  #budgetMs = SPIN_MAX_MS;
  #skipped = 0;

  /** Re-checks `ready` for up to the current budget; true as soon as it holds, false if it never did. */
  until(ready: () => boolean): boolean {
    let ms = this.#budgetMs;
    if (ms < SPIN_MIN_MS) {
      if (++this.#skipped % PROBE_EVERY !== 0) return ready();
      ms = SPIN_MIN_MS;
    }
    const until = performance.now() + ms;
    for (let i = 1; ; i++) {
      if (ready()) {
        this.#budgetMs = Math.min(SPIN_MAX_MS, Math.max(SPIN_MIN_MS, this.#budgetMs * 2));
        return true;
      }
      if ((i & 63) === 0 && performance.now() > until) {
        this.#budgetMs /= 2;
        return false;
      }
    }
  }
}

const ringSpin = new Spinner();

/** Re-checks `ready` for up to this thread's ring budget; true as soon as it holds, false if it never did. */
export function spinUntil(ready: () => boolean): boolean {
  return ringSpin.until(ready);
}
