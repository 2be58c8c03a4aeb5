/**
 * Blocking on shared memory, written once for both worlds.
 *
 * Every blocking algorithm (lock acquisition, condition wait, queue get…) is a generator that
 * yields "wait on this Int32 word while it holds this value, for at most this long" and receives
 * the outcome. `runSync` answers with `Atomics.wait` (workers, or a main thread that accepts to
 * block); `runAsync` answers with `Atomics.waitAsync`, so the event loop keeps running while the
 * main thread waits. The logic, and its correctness, is therefore shared by `x()` and `xSync()`.
 *
 * Waits and wake-ups on memory that other processes map (memory.ts) go to the kernel's futexes
 * through the native addon (`waitOn`, `wake`), which also wake other processes, even where that
 * memory is a SharedArrayBuffer: Atomics.wait sleeps in V8's own wait list, which no other process
 * reaches. The generators do not know the difference.
 *
 * Also here: the futex-style mutex every primitive builds on (Drepper, "Futexes are tricky",
 * mutex #2: 0 free, 1 held, 2 held with possible sleepers), deadlines, and per-thread identity of
 * revived shared objects.
 */
import { threadId } from 'node:worker_threads';

import { binding } from '../native/binding.js';
import { isProcessShared } from './memory.js';
import { countSharedObject } from './made.js';

export type WaitOutcome = 'ok' | 'not-equal' | 'timed-out';

export interface WaitRequest {
  array: Int32Array;
  index: number;
  value: number;
  /** Milliseconds, or Infinity. */
  timeout: number;
}

export type Waiting<T> = Generator<WaitRequest, T, WaitOutcome>;

// Node 20's TypeScript lib (ES2023) does not declare waitAsync yet; V8 has shipped it since 8.7.
type WaitAsyncResult = { async: false; value: 'not-equal' | 'timed-out' } | { async: true; value: Promise<'ok' | 'timed-out'> };
const waitAsync = (
  Atomics as unknown as {
    waitAsync(array: Int32Array, index: number, value: number, timeout?: number): WaitAsyncResult;
  }
).waitAsync;

const OUTCOMES: readonly WaitOutcome[] = ['ok', 'not-equal', 'timed-out'];

/**
 * The longest a worker thread sleeps in the addon's futex wait at a time. Worker.terminate() (a
 * pool's terminate(), Node's exit) stops a thread only when it runs JavaScript again, which
 * Atomics.wait lets it do at once but a native wait does not: a worker blocked in getSync() on an
 * empty queue could never be stopped, and Node could never exit.
 */
const WORKER_FUTEX_SLICE_MS = 100;

/** `Atomics.wait`, or the kernel's futex for memory shared with other processes. */
function waitOn(array: Int32Array, index: number, value: number, timeout: number): WaitOutcome {
  if (!isProcessShared(array.buffer)) return Atomics.wait(array, index, value, timeout);
  if (threadId === 0) return OUTCOMES[binding!.futexWaitSync(array, index, value, timeout)]!;
  const end = performance.now() + timeout;
  for (;;) {
    const left = end - performance.now();
    const slice = Math.max(0, Math.min(left, WORKER_FUTEX_SLICE_MS));
    const outcome = OUTCOMES[binding!.futexWaitSync(array, index, value, slice)]!;
    if (outcome !== 'timed-out' || slice >= left) return outcome;
  }
}

/** `Atomics.notify` (all by default), reaching other processes for memory shared with them. */
export function wake(array: Int32Array, index: number, count = Infinity): number {
  if (!isProcessShared(array.buffer)) return Atomics.notify(array, index, count);
  return binding!.futexWakeAll(array, index, count);
}

export function runSync<T>(steps: Waiting<T>): T {
  let step = steps.next();
  while (!step.done) {
    const w = step.value;
    step = steps.next(undelivered.size === 0 ? waitOn(w.array, w.index, w.value, w.timeout) : waitDelivering(w));
  }
  return step.value;
}

/**
 * A queue or pipe outbox of this thread (outbox.ts) holding messages not yet in its ring, or the
 * watch over child threads that may hand theirs over to this one (handover.ts).
 */
export interface Undelivered {
  /** Moves what fits now into the ring, without waiting. */
  pump(): unknown;
  /** Messages still waiting. */
  readonly size: number;
}

const undelivered = new Set<Undelivered>();

/** Called by an outbox that had to keep a message: blocking waits of this thread now deliver it. */
export function keepsUndelivered(outbox: Undelivered): void {
  undelivered.add(outbox);
}

/**
 * A blocking wait while this thread still holds undelivered messages. They may be exactly what
 * the awaited thread needs first (a request whose reply this thread waits for, or items that free
 * a bounded queue), and this thread's event loop, which flushes them otherwise, is stopped. So keep
 * moving them into their rings between short waits, as Python's feeder thread would meanwhile.
 */
function waitDelivering(w: WaitRequest): WaitOutcome {
  const end = performance.now() + w.timeout;
  for (;;) {
    for (const outbox of undelivered) {
      try {
        outbox.pump();
      } catch {
        // Its own flusher reports the failure; here it only stops being pumped.
        undelivered.delete(outbox);
      }
      if (outbox.size === 0) undelivered.delete(outbox);
    }
    const left = end - performance.now();
    if (left <= 0) return 'timed-out';
    const outcome = waitOn(w.array, w.index, w.value, undelivered.size === 0 ? left : Math.min(left, 1));
    if (outcome !== 'timed-out') return outcome;
  }
}

function noop(): void {}

let arrivals: () => void = noop;

/** Installed by handover.ts: adopts what child threads handed over to this one, if anything came. */
export function onArrivals(adopt: () => void): void {
  arrivals = adopt;
}

/** Takes over what ended child threads left undelivered (one load when nothing came). */
export function adoptArrived(): void {
  arrivals();
}

/** Async futex waits not answered yet, with what settles each. */
const futexWaits = new Map<WaitRequest, (outcome: 'ok' | 'timed-out') => void>();

/**
 * The native waiter answers through a thread-safe function that, like a pending `waitAsync`, does
 * not keep the event loop alive: an endless wait that nothing can end lets the process exit. But a
 * wake-up can be on its way when the loop's last handle closes: the waker (a worker thread or
 * process) changed the word, woke the futex and ended before the waiting thread, slow to be
 * scheduled on a busy machine, passed the news on. `waitAsync` is safe there, because Node runs
 * V8's pending tasks before it exits; a thread-safe function's call is not. So when the loop is
 * about to end, no waker is left, and a wait whose word has changed is over: it is answered here
 * (first among 'beforeExit' listeners), and its continuation keeps the process going.
 */
function answerChangedWaits(): void {
  for (const [w, settle] of futexWaits) {
    if (Atomics.load(w.array, w.index) !== w.value) settle('ok');
  }
}

/** What settles each native wait by its id; the waiter (one per thread) is made on first use. */
const settlers = new Map<number, (code: number) => void>();
let nextWaitId = 0;
let waiter: InstanceType<NonNullable<typeof binding>['FutexWaiter']> | undefined;

function answer(id: number, code: number): void {
  settlers.get(id)?.(code);
}

/** `waitAsync` for memory shared with other processes: the wait runs on a native thread. */
function futexAsync(w: WaitRequest): WaitAsyncResult {
  if (Atomics.load(w.array, w.index) !== w.value) return { async: false, value: 'not-equal' };
  if (w.timeout <= 0) return { async: false, value: 'timed-out' };
  if (futexWaits.size === 0) process.prependListener('beforeExit', answerChangedWaits);
  const value = new Promise<'ok' | 'timed-out'>((resolve) => {
    // Ids wrap at 2^32 (the native side's u32): far more than waits that can be pending at once.
    const id = nextWaitId;
    nextWaitId = (nextWaitId + 1) >>> 0;
    const settle = (outcome: 'ok' | 'timed-out') => {
      settlers.delete(id);
      if (futexWaits.delete(w) && futexWaits.size === 0) process.off('beforeExit', answerChangedWaits);
      resolve(outcome);
    };
    futexWaits.set(w, settle);
    settlers.set(id, (code) => settle(code === 2 ? 'timed-out' : 'ok'));
    waiter ??= new binding!.FutexWaiter(answer);
    waiter.wait(w.array, w.index, w.value, w.timeout, id);
  });
  return { async: true, value };
}

/** Node's timers take at most this delay: above it, setTimeout fires after 1 ms instead. */
const MAX_TIMER_MS = 2 ** 31 - 1;

export async function runAsync<T>(steps: Waiting<T>): Promise<T> {
  let step = steps.next();
  while (!step.done) {
    const w = step.value;
    const pending = isProcessShared(w.array.buffer) ? futexAsync(w) : waitAsync(w.array, w.index, w.value, w.timeout);
    if (!pending.async) {
      step = steps.next(pending.value);
      continue;
    }
    // A pending waitAsync does not keep Node's event loop alive, and its timeout runs as a V8
    // platform task that does not either. A finite wait must still end with its timeout, so a timer
    // holds the loop open until the wait settles (the timer's own delay does not matter). An endless
    // wait holds nothing: when no other thread or handle could ever wake it, letting the process
    // end beats hanging forever.
    const keepAlive = w.timeout === Infinity ? undefined : setTimeout(noop, MAX_TIMER_MS);
    try {
      step = steps.next(await pending.value);
    } finally {
      if (keepAlive) clearTimeout(keepAlive);
    }
  }
  return step.value;
}

/** A point in time after which waiting stops; `undefined` timeout means never. */
export class Deadline {
  readonly #end: number;
  constructor(timeout: number | undefined) {
    this.#end = timeout === undefined ? Infinity : performance.now() + timeout;
  }
  /** Milliseconds left (Infinity without a timeout, <= 0 once passed). */
  remaining(): number {
    return this.#end === Infinity ? Infinity : this.#end - performance.now();
  }
}

export const FOREVER = new Deadline(undefined);

/**
 * Calls `fire` once `ms` milliseconds have passed, and returns what cancels it. Every timeout of
 * the package that needs a timer goes through here: a delay beyond Node's limit is a chain of
 * timers, so that Infinity and huge delays mean "wait that long" rather than "1 ms". Infinity
 * arms nothing, like no timeout at all.
 */
export function after(ms: number, fire: () => void): () => void {
  if (ms === Infinity) return noop;
  const end = performance.now() + ms;
  let timer: NodeJS.Timeout;
  const arm = (): void => {
    const left = end - performance.now();
    timer = left > MAX_TIMER_MS ? setTimeout(arm, MAX_TIMER_MS) : setTimeout(fire, Math.max(0, left));
  };
  arm();
  return () => clearTimeout(timer);
}

/** This thread's identity as stored in owner words (see identity.ts); 0 means "nobody". */
export { ME } from './identity.js';

// Spinning before sleeping: a held mutex is usually released within a few hundred nanoseconds, far
// less than the cost of a futex sleep and wake-up. Async callers spin less: they run on an event loop.
export const SPIN_SYNC = 200;
export const SPIN_ASYNC = 40;

export function tryLockWord(a: Int32Array, i: number): boolean {
  return Atomics.compareExchange(a, i, 0, 1) === 0;
}

/** Acquires the mutex word `a[i]`; returns false if the deadline passed first. */
export function* lockWordSteps(a: Int32Array, i: number, deadline: Deadline, spins: number): Waiting<boolean> {
  for (let s = 0; s < spins; s++) {
    if (Atomics.load(a, i) === 0 && Atomics.compareExchange(a, i, 0, 1) === 0) return true;
  }
  let c = Atomics.exchange(a, i, 2);
  while (c !== 0) {
    const left = deadline.remaining();
    // Leaving the word at 2 on timeout is harmless: the holder only does one spurious notify.
    if (left <= 0) return false;
    yield { array: a, index: i, value: 2, timeout: left };
    c = Atomics.exchange(a, i, 2);
  }
  return true;
}

/** Releases the mutex word; returns false when it was not held (nothing changes then). */
export function unlockWord(a: Int32Array, i: number): boolean {
  const c = Atomics.exchange(a, i, 0);
  if (c === 2) wake(a, i, 1);
  return c !== 0;
}

/** Acquires an internal (briefly held) mutex without a deadline, blocking. */
export function lockWordSync(a: Int32Array, i: number): void {
  if (Atomics.compareExchange(a, i, 0, 1) !== 0) runSync(lockWordSteps(a, i, FOREVER, SPIN_SYNC));
}

// --- identity -------------------------------------------------------------------------------

// One counter per thread even when the package is loaded twice (its ESM and CJS builds in one
// program): ids from two copies must never collide, or a worker would map one object onto another.
const ids = ((globalThis as Record<symbol, unknown>)[Symbol.for('napi-multiprocessing.sharedIds')] ??= { next: 0 }) as {
  next: number;
};
const live = new Map<string, WeakRef<object>>();
const registry = new FinalizationRegistry<string>((id) => {
  const ref = live.get(id);
  if (ref && ref.deref() === undefined) live.delete(id);
});

/** A process-unique id for a new shared object. */
export function newSharedId(): string {
  return `${process.pid}.${threadId}.${++ids.next}`;
}

/** Records `object` as this thread's instance of shared object `id`. */
export function remember<T extends object>(id: string, object: T): T {
  countSharedObject();
  live.set(id, new WeakRef(object));
  registry.register(object, id);
  return object;
}

/**
 * This thread's instance of shared object `id`, built by `make` the first time: an object that
 * goes to a worker and back is the very object the caller had (`===`), with its local state.
 */
export function revived<T extends object>(id: string, make: () => T): T {
  const existing = live.get(id)?.deref() as T | undefined;
  return existing ?? remember(id, make());
}

// --- revival --------------------------------------------------------------------------------

let pendingRevival: unknown;

/**
 * Runs `make` (a `new X(...)`) so that X's constructor adopts `state` instead of allocating new
 * shared memory: constructors keep their public signatures and can still set private fields.
 */
export function reviveWith<T extends object>(id: string, state: unknown, make: () => T): T {
  return revived(id, () => {
    pendingRevival = state;
    try {
      return make();
    } finally {
      pendingRevival = undefined;
    }
  });
}

/** Called first by a shareable constructor: the state to adopt, or undefined for a new object. */
export function takeRevival<S>(): S | undefined {
  const state = pendingRevival as S | undefined;
  pendingRevival = undefined;
  return state;
}

/** The id of a shared object under construction: adopted when revived, else new and remembered. */
export function sharedId(self: object, revival: { id: string } | undefined): string {
  if (revival) return revival.id;
  const id = newSharedId();
  remember(id, self);
  return id;
}

/** Like `takeRevival` without consuming it: for subclass constructors that defer to their base. */
export function peekRevival(): boolean {
  return pendingRevival !== undefined;
}
