/**
 * Robust mutexes: a thread, or a whole process, that ends while holding a Lock or RLock does not
 * hang the others. Like a POSIX robust mutex (EOWNERDEAD), the next acquirer gets the lock and is
 * told: its acquire throws (rejects) with code `ERR_LOCK_OWNER_DIED`, the lock now held by it.
 *
 * The mutex word (Drepper's, see waiting.ts) sits next to an owner word holding the holder's
 * identity (identity.ts: unique across the threads of every process that shares the memory). A
 * waiter sleeps in slices of HOLDER_CHECK_MS and, between them, looks whether the holder has
 * ended; the first to see it swaps the owner word to itself and takes the lock as it stands. A
 * holder that dies between taking the word and writing its identity (a few instructions) is not
 * detected: its lock stays held, as it always did. Semaphores do the same with a holder table
 * (holders.ts).
 */
import { codedError } from '../errors.js';
import { holderEnded } from '../shm/identity.js';
import { Deadline, FOREVER, ME, SPIN_ASYNC, lockWordSteps, type Waiting } from '../shm/waiting.js';

/** How often a waiter looks whether the holder of the lock is still alive. */
export const HOLDER_CHECK_MS = 50;

export type Taken = 'acquired' | 'timed-out' | 'owner-died';

/**
 * Takes the mutex word `s[word]` whose holder's identity is in `s[owner]`, before `deadline`.
 * On 'owner-died' the lock is the caller's, with `s[owner]` already its identity; the word stays
 * "held, sleepers possible", so the caller's release wakes anyone else waiting for it.
 */
export function* robustLockSteps(s: Int32Array, word: number, owner: number, deadline: Deadline, spins: number): Waiting<Taken> {
  if (Atomics.compareExchange(s, word, 0, 1) === 0) return 'acquired';
  for (;;) {
    const left = deadline.remaining();
    if (left <= 0) return 'timed-out';
    if (yield* lockWordSteps(s, word, new Deadline(Math.min(left, HOLDER_CHECK_MS)), spins)) return 'acquired';
    const holder = Atomics.load(s, owner);
    // 0: the holder has not written its identity yet (or released meanwhile): it is not dead.
    if (holder !== 0 && holderEnded(holder) && Atomics.compareExchange(s, owner, holder, ME) === holder) return 'owner-died';
  }
}

/**
 * Takes the lock back for a Condition (after a wait, or to update a Barrier), however long it
 * takes: false if it was taken over from a holder that died.
 */
export function* takeBackSteps(s: Int32Array, word: number, owner: number): Waiting<boolean> {
  return (yield* robustLockSteps(s, word, owner, FOREVER, SPIN_ASYNC)) !== 'owner-died';
}

export function ownerDied(what: string): Error {
  const taken = what.endsWith('Semaphore') ? `One of its permits is now the caller's` : `The ${what} is now the caller's`;
  return codedError(
    'ERR_LOCK_OWNER_DIED',
    `The thread or process holding this ${what} ended while holding it. ${taken} ` +
      '(release it as usual), but what it protects may have been left half-updated.',
  );
}
