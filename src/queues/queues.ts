/**
 * Python's `multiprocessing.Queue`, `JoinableQueue` and `SimpleQueue`, shared between the main
 * thread and worker threads (pass one as a task argument: it arrives as the same queue).
 *
 * `put`/`get`/`join` return Promises and never block the event loop; workers may use the blocking
 * `putSync`/`getSync`/`joinSync`. Values are structured-cloned (serialised with `v8.serialize`, or a
 * cheaper path for numbers, strings, booleans, null, undefined). Every value put is delivered to
 * exactly one `get`, in FIFO order.
 *
 * Like Python's, an unbounded queue's `put` never waits: a message that does not fit in the
 * shared 64 KiB buffer yet waits in this thread's outbox, flushed in the background as readers
 * make room (Python has a feeder thread for this), and a thread with undelivered messages of its
 * own stays alive until they are delivered. A worker's `putSync` into an unbounded queue works the
 * same way (a worker that puts many items and returns does not deadlock against a reader that
 * drains the queue only after the task has finished), and the messages it keeps are delivered while
 * the worker blocks in any later sync call. A pool worker or thread Process that ends or is stopped
 * hands what it kept to the thread that started it (handover.ts): nothing a put accepted is lost,
 * and the parent's `join()` returns with it in hand. Into a bounded queue, a worker's `putSync`
 * waits while the queue holds `maxsize` items (Full at its `timeout`) and then until its message is
 * in the buffer. Do not `worker.terminate()` a thread in the middle of a put or get: as in Python,
 * that can lose the message or leave the queue stuck.
 */
import { isMainThread } from 'node:worker_threads';

import { codedError } from '../errors.js';
import { decodeValue, encodeValue, outBuffer } from '../reduction/codec.js';
import { outboxOf, type Outbox } from '../shm/outbox.js';
import { BUSY, EMPTY, Ring, type RingState } from '../shm/ring.js';
import { kShare, registerShareable, type ShareDescription } from '../reduction/transfer.js';
import { validateInteger, validateTimeout, validateWaitOptions, type OptionNames } from '../validate.js';
import { Deadline, FOREVER, remember, reviveWith, runAsync, runSync, sharedId, takeRevival } from '../shm/waiting.js';

export interface QueueOptions {
  /** Wait for room (put) or for an item (get). Default true. */
  block?: boolean;
  /** Milliseconds to wait at most, then Full / Empty. */
  timeout?: number;
}

const NOWAIT: QueueOptions = Object.freeze({ block: false });
const QUEUE_OPTIONS: OptionNames<QueueOptions> = { block: true, timeout: true };

function parseOptions(options: QueueOptions | undefined): Deadline | null {
  if (options === undefined) return FOREVER;
  const { wait, timeout } = validateWaitOptions(options, 'block', QUEUE_OPTIONS);
  return wait ? new Deadline(timeout) : null;
}

interface QueueState {
  id: string;
  ring: RingState;
}

/** A FIFO queue for any mix of threads; `maxsize` <= 0 means unbounded (as in Python). */
export class Queue<T = unknown> {
  readonly #ring: Ring;
  readonly #outbox: Outbox;
  readonly #id: string;
  #closed = false;

  constructor(maxsize = 0) {
    const revival = takeRevival<QueueState>();
    if (revival) {
      this.#ring = Ring.adopt(revival.ring);
    } else {
      validateInteger(maxsize, 'maxsize', -(2 ** 31), 2 ** 31 - 1);
      this.#ring = new Ring(undefined, Math.max(0, maxsize));
    }
    this.#outbox = outboxOf(this.#ring);
    this.#id = sharedId(this, revival);
  }

  /** @internal */
  protected get _joinable(): boolean {
    return false;
  }

  /** @internal */
  protected get _type(): string {
    return 'Queue';
  }

  /** @internal */
  get _sharedId(): string {
    return this.#id;
  }

  /** @internal */
  protected get _ring(): Ring {
    return this.#ring;
  }

  /** @internal */
  protected _checkOpen(): void {
    if (this.#closed) throw codedError('ERR_QUEUE_CLOSED', `This ${this.constructor.name} handle is closed`);
  }

  /** The maximum number of items (0 = unbounded). */
  get maxsize(): number {
    return this.#ring.maxsize;
  }

  /**
   * Puts `obj`. Waits (without blocking the event loop) only while the queue holds `maxsize` items;
   * rejects with Full when `timeout` passes first, or at once with `block: false`.
   */
  async put(obj: T, options?: QueueOptions): Promise<void> {
    this._checkOpen();
    const deadline = parseOptions(options);
    const n = encodeValue(obj);
    const ring = this.#ring;
    if (ring.tryAccept(this._joinable)) return this.#outbox.send(outBuffer(), n, 'defer');
    // Other code of this thread reuses the scratch buffer while we wait: keep a copy.
    const msg = Buffer.from(outBuffer().subarray(0, n));
    await runAsync(ring.acceptSteps(this._joinable, deadline, false));
    this.#outbox.send(msg, n, 'defer');
  }

  /**
   * Blocking put (for workers; on the main thread it freezes the event loop while a bounded queue is
   * full). Waits while the queue holds `maxsize` items, and throws Full when `timeout` passes
   * first; an unbounded queue never waits for a reader.
   */
  putSync(obj: T, options?: QueueOptions): void {
    this.#putSync(obj, parseOptions(options));
  }

  /** Puts without waiting; throws Full when the queue holds `maxsize` items. */
  putNowait(obj: T): void {
    this.#putSync(obj, null);
  }

  #putSync(obj: T, deadline: Deadline | null): void {
    this._checkOpen();
    const n = encodeValue(obj);
    const ring = this.#ring;
    if (!ring.tryAccept(this._joinable)) runSync(ring.acceptSteps(this._joinable, deadline, true));
    // A worker's put into a bounded queue reaches the ring before the worker goes on (its next put
    // may wait for this one to be taken); into an unbounded one it never waits for a reader. The
    // main thread never waits for buffer space: the reader could be itself.
    this.#outbox.send(outBuffer(), n, isMainThread ? 'defer' : ring.maxsize > 0 ? 'block' : 'unless-full');
  }

  /** Removes and returns the oldest item, waiting for one; rejects with Empty after `timeout`. */
  async get(options?: QueueOptions): Promise<T> {
    this._checkOpen();
    const deadline = parseOptions(options);
    const got = this.#ring.tryTake(decodeValue);
    if (got !== EMPTY && got !== BUSY) return got as T;
    return (await runAsync(this.#ring.takeSteps(deadline, false, decodeValue))) as T;
  }

  /** Blocking get (workers; on the main thread it freezes the event loop while the queue is empty). */
  getSync(options?: QueueOptions): T {
    this._checkOpen();
    const deadline = parseOptions(options);
    const got = this.#ring.tryTake(decodeValue);
    if (got !== EMPTY && got !== BUSY) return got as T;
    return runSync(this.#ring.takeSteps(deadline, true, decodeValue)) as T;
  }

  /** Gets without waiting; throws Empty when there is nothing. */
  getNowait(): T {
    return this.getSync(NOWAIT);
  }

  /**
   * Number of items in the queue (a snapshot: other threads may change it at any time). Counts an
   * item from the moment its put returned, as Python's does.
   */
  qsize(): number {
    return this.#ring.count();
  }

  empty(): boolean {
    return this.#ring.count() === 0;
  }

  full(): boolean {
    return this.#ring.full();
  }

  /**
   * This handle will not be used any more: later calls on it throw `ERR_QUEUE_CLOSED`. As in
   * Python, it concerns this handle only; other threads' handles and the items stay.
   */
  close(): void {
    this.#closed = true;
  }

  /** Python API compatibility: there is no feeder thread to join, so these do nothing. */
  joinThread(): void {}
  cancelJoinThread(): void {}

  /** @internal The transfer protocol (see transfer.ts). */
  [kShare](): ShareDescription {
    return { type: this._type, state: { id: this.#id, ring: this.#ring.state } satisfies QueueState };
  }
}

/** A Queue that also counts unfinished tasks: consumers call `taskDone()`, and `join()` waits for 0. */
export class JoinableQueue<T = unknown> extends Queue<T> {
  /** @internal */
  protected override get _joinable(): boolean {
    return true;
  }

  /** @internal */
  protected override get _type(): string {
    return 'JoinableQueue';
  }

  /** Marks one item fetched earlier as processed. More calls than items put throws. */
  taskDone(): void {
    if (!this._ring.taskDone()) {
      throw codedError('ERR_TASK_DONE_TOO_MANY', 'taskDone() called more times than there were items put');
    }
  }

  /** Resolves once every item put has been marked done (true), or false after `timeout` ms. */
  async join(timeout?: number): Promise<boolean> {
    return runAsync(this._ring.joinSteps(new Deadline(validateTimeout(timeout))));
  }

  joinSync(timeout?: number): boolean {
    return runSync(this._ring.joinSteps(new Deadline(validateTimeout(timeout))));
  }
}

/** An unbounded queue with only put/get/empty/close (Python's SimpleQueue). */
export class SimpleQueue<T = unknown> {
  readonly #queue: Queue<T>;

  constructor() {
    const revival = takeRevival<QueueState>();
    this.#queue = revival ? reviveWith(revival.id, revival, () => new Queue<T>()) : new Queue<T>(0);
    if (!revival) remember(`${this.#queue._sharedId}/simple`, this);
  }

  put(obj: T): Promise<void> {
    return this.#queue.put(obj);
  }
  putSync(obj: T): void {
    this.#queue.putSync(obj);
  }
  get(): Promise<T> {
    return this.#queue.get();
  }
  getSync(): T {
    return this.#queue.getSync();
  }
  empty(): boolean {
    return this.#queue.empty();
  }
  close(): void {
    this.#queue.close();
  }

  /** @internal The transfer protocol (see transfer.ts). */
  [kShare](): ShareDescription {
    return { type: 'SimpleQueue', state: this.#queue[kShare]().state };
  }
}

registerShareable('Queue', (state) => reviveWith((state as QueueState).id, state, () => new Queue()));
registerShareable('JoinableQueue', (state) => reviveWith((state as QueueState).id, state, () => new JoinableQueue()));
registerShareable('SimpleQueue', (state) => reviveWith(`${(state as QueueState).id}/simple`, state, () => new SimpleQueue()));
