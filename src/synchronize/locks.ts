/**
 * Python's `multiprocessing.synchronize` on Atomics over SharedArrayBuffers: Lock, RLock,
 * Semaphore, BoundedSemaphore, Event (Condition and Barrier are in condition.ts).
 *
 * Every primitive works from the main thread and from worker threads, at the same time:
 * - `acquire()` / `wait()` return Promises and never block the event loop (Atomics.waitAsync);
 * - `acquireSync()` / `waitSync()` block the calling thread (Atomics.wait). Meant for workers; on
 *   the main thread they work too, but they freeze its event loop while they wait.
 * Passed to a thread worker (as a task argument, or inside one), a primitive arrives as the same
 * lock, not a copy. Timeouts are milliseconds.
 *
 * Ownership ("the calling thread") is per thread, as in Python, with one refinement for async
 * code: async functions interleave on one thread at every await, so an RLock (and a Condition over
 * one) taken with `await acquire()` excludes the thread's other async functions too. Re-entrancy
 * in async code follows `withLock(fn)`: inside `fn`, and whatever it awaits, the lock can be taken
 * again; a second bare `await acquire()` in the same async function waits like anyone else.
 */
import { AsyncLocalStorage } from 'node:async_hooks';

import { TimeoutError, codedError } from '../errors.js';
import { ownerDied, robustLockSteps, takeBackSteps, type Taken } from './robust.js';
import { BOUND, COUNT, Holders, SEMAPHORE_BYTES, semaphoreSteps } from './holders.js';
import { registerShareable, kShare, type ShareDescription } from '../reduction/transfer.js';
import {
  invalidValue,
  validateFunction,
  validateInteger,
  validateTimeout,
  validateWaitOptions,
  type OptionNames,
} from '../validate.js';
import {
  Deadline,
  FOREVER,
  ME,
  SPIN_ASYNC,
  SPIN_SYNC,
  reviveWith,
  sharedId,
  takeRevival,
  runAsync,
  runSync,
  unlockWord,
  wake,
  type Waiting,
} from '../shm/waiting.js';
import { allocateShared, unwire, wire, type SharedMemory, type WiredMemory } from '../shm/memory.js';

export interface AcquireOptions {
  /** Wait for the lock (default). With `false`, return at once: true if acquired, else false. */
  blocking?: boolean;
  /** Milliseconds to wait at most; resolves false when it passes. Not allowed with `blocking: false`. */
  timeout?: number;
}

const ACQUIRE_OPTIONS: OptionNames<AcquireOptions> = { blocking: true, timeout: true };

function parseAcquire(options: AcquireOptions | undefined): Deadline | null {
  if (options === undefined) return FOREVER;
  const { wait, timeout } = validateWaitOptions(options, 'blocking', ACQUIRE_OPTIONS);
  if (wait) return new Deadline(timeout);
  // As Python's ValueError("can't specify a timeout for a non-blocking call").
  if (timeout !== undefined) {
    throw invalidValue(
      `The "options.timeout" argument cannot be given with options.blocking false (a non-blocking call does not wait). Received ${timeout}`,
    );
  }
  return null;
}

/** Held for the lifetime of a `using` block (or until `release()`): see `Acquirable.hold`. */
export interface Held extends Disposable {
  release(): void;
}

/** What Lock, RLock, Semaphore, BoundedSemaphore and Condition share: acquire/release and helpers. */
export abstract class Acquirable {
  abstract acquire(options?: AcquireOptions): Promise<boolean>;
  abstract acquireSync(options?: AcquireOptions): boolean;
  abstract release(): void;

  #held(): Held {
    let done = false;
    const release = () => {
      if (done) return;
      done = true;
      this.release();
    };
    return { release, [Symbol.dispose]: release };
  }

  /**
   * Acquires, and returns a handle that releases on dispose: `using _ = await lock.hold();`.
   * Rejects with TimeoutError when `timeout` passes (there is nothing to hold then).
   */
  async hold(options?: AcquireOptions): Promise<Held> {
    let acquired: boolean;
    try {
      acquired = await this.acquire(options);
    } catch (error) {
      this.#releaseIfTakenOver(error);
    }
    if (!acquired) throw new TimeoutError(`Could not acquire the ${this.constructor.name}`);
    return this.#held();
  }

  /** Blocking form of `hold()`: `using _ = lock.holdSync();` */
  holdSync(options?: AcquireOptions): Held {
    let acquired: boolean;
    try {
      acquired = this.acquireSync(options);
    } catch (error) {
      this.#releaseIfTakenOver(error);
    }
    if (!acquired) throw new TimeoutError(`Could not acquire the ${this.constructor.name}`);
    return this.#held();
  }

  /** An acquire that took the lock over from a dead holder has no handle to release it by: release it here, then throw. */
  #releaseIfTakenOver(error: unknown): never {
    if ((error as { code?: unknown } | null)?.code === 'ERR_LOCK_OWNER_DIED') this.release();
    throw error;
  }

  /** Runs `fn` while holding the lock (Python's `with lock:`), releasing it however `fn` ends. */
  async withLock<R>(fn: () => R | Promise<R>, options?: AcquireOptions): Promise<Awaited<R>> {
    validateFunction(fn, 'fn');
    using _ = await this.hold(options);
    return await fn();
  }

  /** Blocking form of `withLock` for synchronous `fn`. */
  withLockSync<R>(fn: () => R, options?: AcquireOptions): R {
    validateFunction(fn, 'fn');
    using _ = this.holdSync(options);
    return fn();
  }
}

function notHeld(what: string): Error {
  return codedError('ERR_NOT_HELD', `Cannot release an un-acquired ${what}`);
}

// --- Lock ----------------------------------------------------------------------------------

const WORD = 0;
const OWNER = 1;

interface BufferState {
  id: string;
  buffer: WiredMemory;
}

/** The words of a primitive: revived from `state`, or new shared memory of `bytes` bytes. */
function words(state: BufferState | undefined, bytes: number): Int32Array {
  return new Int32Array(state ? unwire(state.buffer) : allocateShared(bytes));
}

/** The transfer state of a primitive's words. */
export function wordsState(id: string, s: Int32Array): BufferState {
  return { id, buffer: wire(s.buffer as SharedMemory) };
}

/** @internal The calls Condition needs from its lock (Lock or RLock). */
export interface ConditionLock {
  /** @internal */
  _isMine(): boolean;
  /** @internal Releases completely; returns what `_restoreSteps` needs to take it back. */
  _releaseAll(): number;
  /** @internal Takes it back (see `takeBackSteps`): false if it was taken over from a dead holder. */
  _restoreSteps(count: number): Waiting<boolean>;
  /** @internal Acquires without a deadline, as `_restoreSteps` does. */
  _acquireSteps(): Waiting<boolean>;
}

/**
 * A non-recursive lock. As in Python, any thread may release it, but releasing an unlocked Lock
 * throws an Error with code `ERR_NOT_HELD`.
 *
 * Robust (see robust.ts): when the thread or process holding it ends without releasing it, the
 * next blocking `acquire()` takes it over and rejects (`acquireSync()` throws) with an Error of code
 * `ERR_LOCK_OWNER_DIED`, the lock then held by the caller, who releases it as usual; `hold()` and
 * `withLock()` release it before they throw. A non-blocking acquire just returns false.
 */
export class Lock extends Acquirable implements ConditionLock {
  /** [WORD] 0 free / 1 held / 2 held, sleepers possible; [OWNER] threadId + 1 of the holder. */
  readonly #s: Int32Array;
  readonly #id: string;

  constructor() {
    super();
    const revival = takeRevival<BufferState>();
    this.#s = words(revival, 8);
    this.#id = sharedId(this, revival);
  }

  acquireSync(options?: AcquireOptions): boolean {
    const s = this.#s;
    // The uncontended path stays free of allocations: this is the lock benchmark's hot loop.
    if (options === undefined && Atomics.compareExchange(s, WORD, 0, 1) === 0) {
      s[OWNER] = ME;
      return true;
    }
    const deadline = parseAcquire(options);
    if (deadline === null) return this.#took(Atomics.compareExchange(s, WORD, 0, 1) === 0 ? 'acquired' : 'timed-out');
    return this.#took(runSync(robustLockSteps(s, WORD, OWNER, deadline, SPIN_SYNC)));
  }

  async acquire(options?: AcquireOptions): Promise<boolean> {
    const s = this.#s;
    const deadline = parseAcquire(options);
    if (deadline === null) return this.#took(Atomics.compareExchange(s, WORD, 0, 1) === 0 ? 'acquired' : 'timed-out');
    return this.#took(await runAsync(robustLockSteps(s, WORD, OWNER, deadline, SPIN_ASYNC)));
  }

  #took(taken: Taken): boolean {
    if (taken === 'timed-out') return false;
    this.#s[OWNER] = ME;
    if (taken === 'owner-died') throw ownerDied('Lock');
    return true;
  }

  release(): void {
    const s = this.#s;
    const owner = s[OWNER]!;
    s[OWNER] = 0;
    if (!unlockWord(s, WORD)) {
      s[OWNER] = owner;
      throw notHeld('Lock');
    }
  }

  /** True while some thread holds the lock. */
  locked(): boolean {
    return Atomics.load(this.#s, WORD) !== 0;
  }

  /** @internal */
  _isMine(): boolean {
    return Atomics.load(this.#s, WORD) !== 0 && this.#s[OWNER] === ME;
  }
  /** @internal */
  _releaseAll(): number {
    this.release();
    return 1;
  }
  /** @internal */
  *_restoreSteps(): Waiting<boolean> {
    const clean = yield* takeBackSteps(this.#s, WORD, OWNER);
    this.#s[OWNER] = ME;
    return clean;
  }
  /** @internal */
  _acquireSteps(): Waiting<boolean> {
    return this._restoreSteps();
  }

  /** @internal The transfer protocol (see transfer.ts). */
  [kShare](): ShareDescription {
    return { type: 'Lock', state: wordsState(this.#id, this.#s) };
  }
}

// --- RLock ---------------------------------------------------------------------------------

/** The RLocks that the running `withLock` callback (and what it awaits) holds. */
const heldByFlow = new AsyncLocalStorage<ReadonlySet<RLock>>();

const DEPTH = 2;

/**
 * A recursive lock: the thread that holds it may acquire it again, and must release it as many
 * times. Releasing it from another thread (or unheld) throws `ERR_NOT_HELD`. Robust, as Lock is:
 * taken over from a holder that died, an acquire throws `ERR_LOCK_OWNER_DIED` holding it once.
 */
export class RLock extends Acquirable implements ConditionLock {
  /** [WORD] mutex word; [OWNER] threadId + 1; [DEPTH] recursion depth (touched by the owner only). */
  readonly #s: Int32Array;
  readonly #id: string;
  /**
   * This thread holds it through `await acquire()`. Async functions on one thread interleave at
   * every await, so they must exclude each other as threads do: another one's acquire() waits,
   * and only code inside this lock's `withLock` callback re-enters.
   */
  #asyncHeld = false;

  constructor() {
    super();
    const revival = takeRevival<BufferState>();
    this.#s = words(revival, 12);
    this.#id = sharedId(this, revival);
  }

  #mine(): boolean {
    return Atomics.load(this.#s, OWNER) === ME;
  }

  #take(asyncHeld: boolean): true {
    Atomics.store(this.#s, OWNER, ME);
    this.#s[DEPTH] = 1;
    this.#asyncHeld = asyncHeld;
    return true;
  }

  /** May the caller take it again? Yes for the thread's synchronous code, or inside its withLock. */
  #reentrant(): boolean {
    return this.#mine() && (!this.#asyncHeld || (heldByFlow.getStore()?.has(this) ?? false));
  }

  acquireSync(options?: AcquireOptions): boolean {
    const s = this.#s;
    const deadline = parseAcquire(options);
    if (this.#reentrant()) {
      s[DEPTH]!++;
      return true;
    }
    if (this.#mine()) {
      // Held by an async function of this thread: blocking would wait for it forever.
      throw codedError(
        'ERR_WOULD_DEADLOCK',
        'This RLock is held by another async function of this thread; acquireSync() would block it forever. Use await acquire().',
      );
    }
    if (deadline === null) return Atomics.compareExchange(s, WORD, 0, 1) === 0 && this.#take(false);
    return this.#took(runSync(robustLockSteps(s, WORD, OWNER, deadline, SPIN_SYNC)), false);
  }

  async acquire(options?: AcquireOptions): Promise<boolean> {
    const s = this.#s;
    const deadline = parseAcquire(options);
    if (this.#reentrant()) {
      s[DEPTH]!++;
      return true;
    }
    // Not ours, or held by another async function of this thread: wait as another thread would.
    if (deadline === null) return Atomics.compareExchange(s, WORD, 0, 1) === 0 && this.#take(true);
    return this.#took(await runAsync(robustLockSteps(s, WORD, OWNER, deadline, SPIN_ASYNC)), true);
  }

  #took(taken: Taken, asyncHeld: boolean): boolean {
    if (taken === 'timed-out') return false;
    this.#take(asyncHeld);
    if (taken === 'owner-died') throw ownerDied('RLock');
    return true;
  }

  /**
   * Runs `fn` holding the lock; `fn` and everything it awaits may acquire this lock again
   * (re-entrancy for async code follows the callback, since async functions share a thread).
   */
  override async withLock<R>(fn: () => R | Promise<R>, options?: AcquireOptions): Promise<Awaited<R>> {
    validateFunction(fn, 'fn');
    using _ = await this.hold(options);
    const held = new Set(heldByFlow.getStore()).add(this);
    return await heldByFlow.run(held, fn);
  }

  release(): void {
    const s = this.#s;
    if (!this.#mine()) throw notHeld('RLock (it is not held by this thread)');
    if (--s[DEPTH]! > 0) return;
    this.#asyncHeld = false;
    Atomics.store(s, OWNER, 0);
    unlockWord(s, WORD);
  }

  /** @internal */
  _isMine(): boolean {
    return this.#mine();
  }
  /** @internal */
  _releaseAll(): number {
    const s = this.#s;
    const depth = s[DEPTH]!;
    // How it was held comes back with it: negative for an async hold.
    const saved = this.#asyncHeld ? -depth : depth;
    s[DEPTH] = 0;
    this.#asyncHeld = false;
    Atomics.store(s, OWNER, 0);
    unlockWord(s, WORD);
    return saved;
  }
  /** @internal */
  *_restoreSteps(saved: number): Waiting<boolean> {
    const s = this.#s;
    const clean = yield* takeBackSteps(s, WORD, OWNER);
    Atomics.store(s, OWNER, ME);
    s[DEPTH] = Math.abs(saved);
    this.#asyncHeld = saved < 0;
    return clean;
  }
  /** @internal */
  *_acquireSteps(): Waiting<boolean> {
    if (!this.#mine()) return yield* this._restoreSteps(1);
    this.#s[DEPTH]!++;
    return true;
  }

  /** @internal The transfer protocol (see transfer.ts). */
  [kShare](): ShareDescription {
    return { type: 'RLock', state: wordsState(this.#id, this.#s) };
  }
}

// --- Semaphore -----------------------------------------------------------------------------

const INT32_MAX = 2 ** 31 - 1;

/**
 * A counter that `acquire()` decrements (waiting while it is 0) and `release()` increments.
 *
 * Robust (see holders.ts): permits held by a thread or process that ended come back to the next
 * acquirer that has to wait; it keeps one, and its `acquire()` rejects (`acquireSync()` throws)
 * with code `ERR_LOCK_OWNER_DIED`, as Lock's does.
 */
export class Semaphore extends Acquirable {
  /** [COUNT] current value; [BOUND] upper bound, or -1 when unbounded; then the holder table. */
  readonly #s: Int32Array;
  readonly #id: string;
  readonly #holders: Holders;

  constructor(value = 1) {
    super();
    const revival = takeRevival<BufferState>();
    if (revival) {
      this.#s = words(revival, SEMAPHORE_BYTES);
    } else {
      validateInteger(value, 'value', 0, INT32_MAX);
      this.#s = words(undefined, SEMAPHORE_BYTES);
      this.#s[COUNT] = value;
      this.#s[BOUND] = (new.target as typeof Semaphore).bounded ? value : -1;
    }
    this.#id = sharedId(this, revival);
    this.#holders = new Holders(this.#s);
  }

  acquireSync(options?: AcquireOptions): boolean {
    return this.#took(runSync(semaphoreSteps(this.#s, this.#holders, parseAcquire(options))));
  }

  async acquire(options?: AcquireOptions): Promise<boolean> {
    return this.#took(await runAsync(semaphoreSteps(this.#s, this.#holders, parseAcquire(options))));
  }

  #took(taken: Taken): boolean {
    if (taken === 'timed-out') return false;
    this.#holders.took();
    if (taken === 'owner-died')
      throw ownerDied((this.constructor as typeof Semaphore).bounded ? 'BoundedSemaphore' : 'Semaphore');
    return true;
  }

  release(): void {
    const s = this.#s;
    const counted = this.#holders.gave();
    let c = Atomics.load(s, COUNT);
    for (;;) {
      const bound = s[BOUND]!;
      if ((bound >= 0 && c >= bound) || c >= INT32_MAX) {
        this.#holders.undo(counted);
        throw codedError('ERR_RELEASED_TOO_MANY', `${bound >= 0 ? 'BoundedSemaphore' : 'Semaphore'} released too many times`);
      }
      const seen = Atomics.compareExchange(s, COUNT, c, c + 1);
      if (seen === c) break;
      c = seen;
    }
    wake(s, COUNT, 1);
  }

  /** The current value (Python's `get_value()`). */
  getValue(): number {
    return Atomics.load(this.#s, COUNT);
  }

  protected static readonly bounded: boolean = false;

  /** @internal The transfer protocol (see transfer.ts). */
  [kShare](): ShareDescription {
    // Not constructor.name: bundlers may rename classes.
    const type = (this.constructor as typeof Semaphore).bounded ? 'BoundedSemaphore' : 'Semaphore';
    return { type, state: wordsState(this.#id, this.#s) };
  }
}

/** A Semaphore whose value may not exceed its initial value: one release too many throws. */
export class BoundedSemaphore extends Semaphore {
  protected static override readonly bounded: boolean = true;
}

// --- Event ---------------------------------------------------------------------------------

function* eventSteps(s: Int32Array, deadline: Deadline): Waiting<boolean> {
  for (;;) {
    if (Atomics.load(s, 0) === 1) return true;
    const left = deadline.remaining();
    if (left <= 0) return false;
    yield { array: s, index: 0, value: 0, timeout: left };
  }
}

/** A flag threads can wait for. */
export class Event {
  readonly #s: Int32Array;
  readonly #id: string;

  constructor() {
    const revival = takeRevival<BufferState>();
    this.#s = words(revival, 4);
    this.#id = sharedId(this, revival);
  }

  isSet(): boolean {
    return Atomics.load(this.#s, 0) === 1;
  }

  /** Sets the flag and wakes every waiter. */
  set(): void {
    Atomics.store(this.#s, 0, 1);
    wake(this.#s, 0);
  }

  clear(): void {
    Atomics.store(this.#s, 0, 0);
  }

  /** Resolves true once the flag is set, or false if `timeout` ms pass first. */
  async wait(timeout?: number): Promise<boolean> {
    return runAsync(eventSteps(this.#s, new Deadline(validateTimeout(timeout))));
  }

  waitSync(timeout?: number): boolean {
    return runSync(eventSteps(this.#s, new Deadline(validateTimeout(timeout))));
  }

  /** @internal The transfer protocol (see transfer.ts). */
  [kShare](): ShareDescription {
    return { type: 'Event', state: wordsState(this.#id, this.#s) };
  }
}

// --- transfer --------------------------------------------------------------------------------

/** @internal How each primitive registers for transfer: revived around the state it was sent with. */
export function reviver<S extends { id: string }>(make: () => object) {
  return (state: unknown) => reviveWith((state as S).id, state, make);
}

const MAKERS: Record<string, () => object> = {
  Lock: () => new Lock(),
  RLock: () => new RLock(),
  Semaphore: () => new Semaphore(),
  BoundedSemaphore: () => new BoundedSemaphore(),
  Event: () => new Event(),
};
for (const [type, make] of Object.entries(MAKERS)) registerShareable(type, reviver(make));
