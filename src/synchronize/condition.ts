/**
 * Python's `Condition` and `Barrier` (the rest of `multiprocessing.synchronize` is in
 * locks.ts), with the same model: usable from the main thread (async) and from workers
 * (async or `…Sync`), passed to a thread worker as the same object, timeouts in milliseconds.
 */
import { BrokenBarrierError, codedError } from '../errors.js';
import { growableSharedBuffer, type GrowableBuffer } from './liveness.js';
import { holderEnded } from '../shm/identity.js';
import { allocateShared, processShared, unwire, wire, type SharedMemory, type WiredMemory } from '../shm/memory.js';
import { Acquirable, Lock, RLock, reviver, type AcquireOptions } from './locks.js';
import { registerShareable, kShare, encode, decode, type ShareDescription } from '../reduction/transfer.js';
import {
  invalidType,
  validateFunction,
  validateInteger,
  validateOptions,
  validateTimeout,
  type OptionNames,
} from '../validate.js';
import { Deadline, FOREVER, ME, sharedId, takeRevival, runAsync, runSync, wake, type Waiting } from '../shm/waiting.js';

const INT32_MAX = 2 ** 31 - 1;

// --- Condition -----------------------------------------------------------------------------

function holderDied(): Error {
  return codedError(
    'ERR_LOCK_OWNER_DIED',
    "The thread holding this Condition's lock died while holding it. The lock is now the caller's " +
      '(release it as usual), but what it protects may have been left half-updated.',
  );
}

/**
 * Waiter slots. A waiter takes a free slot (under the lock), marks it WAITING with a ticket that
 * orders waiters and its thread, releases the lock and sleeps on its own slot. `notify(n)` (under
 * the lock) flips the n oldest WAITING slots to NOTIFIED and wakes exactly those sleepers: no
 * stolen or lost wake-ups, and notify never blocks (Python's version blocks until the sleepers
 * woke, which would deadlock an async waiter on the same event loop).
 *
 * The table lives in a growable SharedArrayBuffer: it starts small and doubles (under the lock)
 * when every slot is taken, and every thread's length-tracking view sees it grow. A slot whose
 * thread has ended (liveness.ts) is taken back: notify skips it, and the next waiter reuses it.
 */
const INITIAL_SLOTS = 16;
/** Far beyond any real use (a million waiters at once), yet only ~12 MiB of address space. */
const MAX_SLOTS = 2 ** 20;
const FREE = 0;
const WAITING = 1;
const NOTIFIED = 2;
const TICKETS = 0;
/** Slots in the table now. */
const SLOTS = 1;
/** Every slot below it is taken: where the search for a free one starts. */
const HINT = 2;
const HEADER = 3;
const slotState = (i: number) => HEADER + 3 * i;
const slotTicket = (i: number) => HEADER + 3 * i + 1;
const slotThread = (i: number) => HEADER + 3 * i + 2;
const tableBytes = (slots: number) => 4 * (HEADER + 3 * slots);

/**
 * Memory shared with other processes cannot grow in place: there the table is made at its full
 * size, of which only the pages in use are ever touched (the kernel fills the rest on demand).
 */
const MAX_PROCESS_SHARED_SLOTS = 2 ** 14;

function newTable(): Int32Array {
  const s = new Int32Array(
    processShared
      ? allocateShared(tableBytes(MAX_PROCESS_SHARED_SLOTS))
      : growableSharedBuffer(tableBytes(INITIAL_SLOTS), tableBytes(MAX_SLOTS)),
  );
  s[SLOTS] = INITIAL_SLOTS;
  return s;
}

/** How many slots the table can hold, grown or not. */
function slotCapacity(s: Int32Array): number {
  const buffer = s.buffer as SharedArrayBuffer & { growable?: boolean };
  return buffer.growable ? MAX_SLOTS : Math.floor((s.length - HEADER) / 3);
}

interface ConditionState {
  id: string;
  buffer: WiredMemory;
  lock: unknown;
}

/**
 * Python's Condition: wait/notify over a Lock or (by default) an RLock.
 *
 * Any number of waiters (up to a million at once). A thread that dies is no trap: a waiter that
 * died is skipped by `notify` (the wake-up goes to a live waiter), and a wait whose lock is held
 * by a thread that died (process.exit, an uncaught error or terminate() inside `withLock`) still
 * ends: it takes the dead thread's lock over and rejects (throws, for `waitSync`) with an Error of
 * code `ERR_LOCK_OWNER_DIED`, holding the lock as after any wait, so that a `finally` releasing
 * it stays right. It does not pretend all is well by resolving: the dead thread may have left
 * the state the lock protects half-updated. While the holder is alive, a wait whose timeout has
 * passed waits for the lock as long as it takes, as in Python.
 */
export class Condition extends Acquirable {
  readonly #s: Int32Array;
  readonly #id: string;
  readonly #lock: Lock | RLock;

  constructor(lock?: Lock | RLock) {
    super();
    const revival = takeRevival<ConditionState>();
    if (revival) {
      this.#s = new Int32Array(unwire(revival.buffer));
      this.#lock = decode(revival.lock) as Lock | RLock;
    } else {
      if (lock !== undefined && !(lock instanceof Lock) && !(lock instanceof RLock)) {
        throw invalidType('lock', 'a Lock or an RLock', lock);
      }
      this.#s = newTable();
      this.#lock = lock ?? new RLock();
    }
    this.#id = sharedId(this, revival);
  }

  acquire(options?: AcquireOptions): Promise<boolean> {
    return this.#lock.acquire(options);
  }
  acquireSync(options?: AcquireOptions): boolean {
    return this.#lock.acquireSync(options);
  }
  release(): void {
    this.#lock.release();
  }

  /** @internal False if the lock was taken over from a thread that died holding it. */
  _lockSteps(): Waiting<boolean> {
    return this.#lock._acquireSteps();
  }

  #checkMine(what: string): void {
    if (!this.#lock._isMine())
      throw codedError('ERR_NOT_HELD', `Cannot ${what} on an un-acquired Condition (acquire its lock first)`);
  }

  /** A WAITING or NOTIFIED slot whose thread has ended: its waiter will never come back for it. */
  #orphaned(i: number): boolean {
    return holderEnded(this.#s[slotThread(i)]!);
  }

  #free(i: number): void {
    const s = this.#s;
    Atomics.store(s, slotState(i), FREE);
    if (i < s[HINT]!) s[HINT] = i;
  }

  /** Under the lock: a slot for a new waiter, growing the table when all are taken. */
  #takeSlot(): number {
    const s = this.#s;
    const slots = s[SLOTS]!;
    let slot = s[HINT]!;
    while (slot < slots && s[slotState(slot)] !== FREE && !this.#orphaned(slot)) slot++;
    if (slot === slots) {
      const capacity = slotCapacity(s);
      if (slots >= capacity) throw codedError('ERR_TOO_MANY_WAITERS', `A Condition supports at most ${capacity} waiters at once`);
      const grown = Math.min(capacity, slots * 2);
      if (capacity === MAX_SLOTS) (s.buffer as GrowableBuffer).grow(tableBytes(grown));
      s[SLOTS] = grown;
    }
    s[HINT] = slot + 1;
    // Tickets wrap around; they are compared by their difference (see notify).
    s[slotTicket(slot)] = ++s[TICKETS]!;
    s[slotThread(slot)] = ME;
    Atomics.store(s, slotState(slot), WAITING);
    return slot;
  }

  /** @internal The wait itself, as steps; the caller holds the lock. */
  *_waitSteps(deadline: Deadline): Waiting<boolean> {
    this.#checkMine('wait');
    const s = this.#s;
    const slot = this.#takeSlot();
    const saved = this.#lock._releaseAll();
    let notified: boolean;
    try {
      for (;;) {
        if (Atomics.load(s, slotState(slot)) === NOTIFIED) break;
        const left = deadline.remaining();
        if (left <= 0) break;
        yield { array: s, index: slotState(slot), value: WAITING, timeout: left };
      }
    } finally {
      const clean = yield* this.#lock._restoreSteps(saved);
      // Under the lock again: a notify that landed after the timeout still counts as one.
      notified = Atomics.load(s, slotState(slot)) === NOTIFIED;
      this.#free(slot);
      if (!clean) throw holderDied();
    }
    return notified;
  }

  /**
   * Releases the lock, waits for a notify (or the timeout), takes the lock back. True if notified.
   * Rejects with `ERR_LOCK_OWNER_DIED` (the lock held again all the same) when the thread holding
   * the lock died: see the class comment.
   */
  wait(timeout?: number): Promise<boolean> {
    const deadline = new Deadline(validateTimeout(timeout));
    return runAsync(this._waitSteps(deadline));
  }

  waitSync(timeout?: number): boolean {
    return runSync(this._waitSteps(new Deadline(validateTimeout(timeout))));
  }

  /** @internal */
  *_waitForSteps(predicate: () => unknown, deadline: Deadline): Waiting<unknown> {
    let result = predicate();
    while (!result) {
      if (deadline.remaining() <= 0) break;
      yield* this._waitSteps(deadline);
      result = predicate();
    }
    return result;
  }

  /** Waits until `predicate()` is truthy (checked under the lock); returns its last value. */
  async waitFor<T>(predicate: () => T, timeout?: number): Promise<T> {
    validateFunction(predicate, 'predicate');
    return (await runAsync(this._waitForSteps(predicate, new Deadline(validateTimeout(timeout))))) as T;
  }

  waitForSync<T>(predicate: () => T, timeout?: number): T {
    validateFunction(predicate, 'predicate');
    return runSync(this._waitForSteps(predicate, new Deadline(validateTimeout(timeout)))) as T;
  }

  /** Wakes up to `n` live waiters, oldest first. The caller must hold the lock. */
  notify(n = 1): void {
    if (n !== Infinity) validateInteger(n, 'n', 0);
    this.#checkMine('notify');
    const s = this.#s;
    const slots = s[SLOTS]!;
    const waiting: number[] = [];
    for (let i = 0; i < slots; i++) {
      if (s[slotState(i)] !== WAITING) continue;
      if (this.#orphaned(i)) this.#free(i);
      else waiting.push(i);
    }
    if (waiting.length > n) waiting.sort((a, b) => (s[slotTicket(a)]! - s[slotTicket(b)]!) | 0).length = n;
    for (const i of waiting) {
      Atomics.store(s, slotState(i), NOTIFIED);
      wake(s, slotState(i));
    }
  }

  notifyAll(): void {
    this.notify(Infinity);
  }

  /** @internal The transfer protocol (see transfer.ts). */
  [kShare](): ShareDescription {
    const state: ConditionState = { id: this.#id, buffer: wire(this.#s.buffer as SharedMemory), lock: encode(this.#lock, []) };
    return { type: 'Condition', state };
  }
}

// --- Barrier -------------------------------------------------------------------------------

const B_COUNT = 0;
const B_STATE = 1;
const FILLING = 0;
const DRAINING = 1;
const RESETTING = -1;
const BROKEN = -2;

export interface BarrierOptions {
  /** Called (in the last thread to arrive) before the parties are released. */
  action?: () => void;
  /** Default timeout of `wait()`, in milliseconds. */
  timeout?: number;
}

const BARRIER_OPTIONS: OptionNames<BarrierOptions> = { action: true, timeout: true };

interface BarrierState {
  id: string;
  buffer: WiredMemory;
  condition: unknown;
  parties: number;
  timeout: number | undefined;
  action: string | undefined;
}

/**
 * Python's Barrier: `parties` threads call `wait()`, and all proceed once the last arrives.
 *
 * The `action` runs in the thread of the last party to arrive, which may be a worker. It crosses to
 * workers as source text, like an inline task, so it must be self-contained.
 */
export class Barrier {
  readonly #s: Int32Array;
  readonly #id: string;
  readonly #cond: Condition;
  readonly #parties: number;
  readonly #timeout: number | undefined;
  readonly #actionSource: string | undefined;
  #action: (() => void) | undefined;

  constructor(parties: number, options: BarrierOptions = {}) {
    const revival = takeRevival<BarrierState>();
    if (revival) {
      this.#s = new Int32Array(unwire(revival.buffer));
      this.#cond = decode(revival.condition) as Condition;
      this.#parties = revival.parties;
      this.#timeout = revival.timeout;
      this.#actionSource = revival.action;
    } else {
      validateInteger(parties, 'parties', 1, INT32_MAX);
      validateOptions<BarrierOptions>(options, 'options', BARRIER_OPTIONS);
      const { action, timeout } = options;
      if (action !== undefined) validateFunction(action, 'options.action');
      this.#timeout = validateTimeout(timeout, 'options.timeout');
      this.#s = new Int32Array(allocateShared(8));
      this.#cond = new Condition(new Lock());
      this.#parties = parties;
      this.#action = action;
      this.#actionSource = action?.toString();
    }
    this.#id = sharedId(this, revival);
  }

  get parties(): number {
    return this.#parties;
  }

  /** Parties currently waiting. */
  get nWaiting(): number {
    return Atomics.load(this.#s, B_STATE) === FILLING ? Atomics.load(this.#s, B_COUNT) : 0;
  }

  get broken(): boolean {
    return Atomics.load(this.#s, B_STATE) === BROKEN;
  }

  #runAction(): void {
    if (this.#actionSource === undefined) return;
    if (!this.#action) {
      try {
        this.#action = new Function(`return (${this.#actionSource});`)() as () => void;
      } catch (error) {
        throw new TypeError(
          'The Barrier action could not be re-created in this thread from its source text; ' +
            'pass a self-contained function (no captured variables, not bound or native)',
          { cause: error },
        );
      }
    }
    this.#action!();
  }

  /**
   * Runs `body` under the barrier's lock. A party that died holding it (its action ended the
   * thread, say) left a round that can never complete: the barrier breaks, as for an abort.
   */
  *#locked<T>(body: () => Waiting<T>): Waiting<T> {
    const clean = yield* this.#cond._lockSteps();
    try {
      if (!clean) this.#breakBarrier();
      return yield* body();
    } catch (error) {
      if ((error as { code?: unknown } | null)?.code !== 'ERR_LOCK_OWNER_DIED') throw error;
      this.#breakBarrier();
      throw new BrokenBarrierError('A party of the barrier died while holding its lock, so the barrier is now broken', {
        cause: error,
      });
    } finally {
      this.#cond.release();
    }
  }

  #setState(state: number): void {
    Atomics.store(this.#s, B_STATE, state);
  }

  #breakBarrier(): void {
    this.#setState(BROKEN);
    this.#cond.notifyAll();
  }

  *#waitSteps(deadline: Deadline): Waiting<number> {
    const s = this.#s;
    const cond = this.#cond;
    return yield* this.#locked(
      function* (this: Barrier) {
        // Parties of the previous round may still be leaving.
        while (s[B_STATE] === DRAINING || s[B_STATE] === RESETTING) yield* cond._waitSteps(FOREVER);
        if (s[B_STATE]! < 0) throw new BrokenBarrierError();
        const index = s[B_COUNT]!;
        s[B_COUNT] = index + 1;
        try {
          if (index + 1 === this.#parties) {
            try {
              this.#runAction();
            } catch (error) {
              this.#breakBarrier();
              throw error;
            }
            this.#setState(DRAINING);
            cond.notifyAll();
          } else {
            const released = yield* cond._waitForSteps(() => s[B_STATE] !== FILLING, deadline);
            if (!released) {
              this.#breakBarrier();
              throw new BrokenBarrierError('The barrier wait timed out, so the barrier is now broken');
            }
            if (s[B_STATE]! < 0) throw new BrokenBarrierError();
          }
          return index;
        } finally {
          s[B_COUNT]!--;
          if (s[B_COUNT] === 0 && (s[B_STATE] === DRAINING || s[B_STATE] === RESETTING)) {
            this.#setState(FILLING);
            cond.notifyAll();
          }
        }
      }.bind(this),
    );
  }

  #deadline(timeout: number | undefined): Deadline {
    return new Deadline(validateTimeout(timeout) ?? this.#timeout);
  }

  /**
   * Waits for all parties; resolves with this party's arrival index (0 .. parties - 1). Rejects
   * with BrokenBarrierError when the barrier is (or gets) broken, aborted or reset, or when the
   * timeout passes (which breaks the barrier for everyone, as in Python).
   */
  wait(timeout?: number): Promise<number> {
    const deadline = this.#deadline(timeout);
    return runAsync(this.#waitSteps(deadline));
  }

  waitSync(timeout?: number): number {
    return runSync(this.#waitSteps(this.#deadline(timeout)));
  }

  /** Breaks the barrier: current and future waits reject with BrokenBarrierError until `reset()`. */
  abort(): void {
    runSync(
      this.#locked(
        function* (this: Barrier) {
          this.#breakBarrier();
        }.bind(this),
      ),
    );
  }

  /** Back to the initial state; parties waiting now get BrokenBarrierError. */
  reset(): void {
    const s = this.#s;
    runSync(
      this.#locked(
        function* (this: Barrier) {
          if (s[B_COUNT]! > 0) {
            if (s[B_STATE] === FILLING || s[B_STATE] === BROKEN) this.#setState(RESETTING);
          } else {
            this.#setState(FILLING);
          }
          this.#cond.notifyAll();
        }.bind(this),
      ),
    );
  }

  /** @internal The transfer protocol (see transfer.ts). */
  [kShare](): ShareDescription {
    const state: BarrierState = {
      id: this.#id,
      buffer: wire(this.#s.buffer as SharedMemory),
      condition: encode(this.#cond, []),
      parties: this.#parties,
      timeout: this.#timeout,
      action: this.#actionSource,
    };
    return { type: 'Barrier', state };
  }
}

registerShareable(
  'Condition',
  reviver(() => new Condition()),
);
registerShareable(
  'Barrier',
  reviver(() => new Barrier(1)),
);
