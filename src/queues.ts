/**
 * Python's `multiprocessing.Queue`, `JoinableQueue` and `SimpleQueue`, shared between the main
 * thread and worker threads (pass one as a task argument: it arrives as the same queue).
 *
 * `put`/`get`/`join` return Promises and never block the event loop; workers may use the blocking
 * `putSync`/`getSync`/`joinSync`. Values are structured-cloned (serialised with `v8.serialize`, or a
 * cheaper path for numbers, strings, booleans, null, undefined). Every value put is delivered to
 * exactly one `get`, in FIFO order.
 *
 * Unlike Python there is no feeder thread: a put has reached the shared buffer when it returns,
 * so a worker may exit right after `putSync` without losing anything.
 */
import { codedError } from './errors.js';
import { Ring, decodeValue, encodeValue, type RingState } from './ring.js';
import { kShare, registerShareable, type ShareDescription } from './transfer.js';
import { invalidType, validateInteger, validateObject, validateTimeout } from './validate.js';
import { Deadline, remember, reviveWith, runAsync, runSync, sharedId, takeRevival } from './waiting.js';

export interface QueueOptions {
  /** Wait for room (put) or for an item (get). Default true. */
  block?: boolean;
  /** Milliseconds to wait at most, then Full / Empty. */
  timeout?: number;
}

function parseOptions(options: QueueOptions | undefined): Deadline | null {
  if (options === undefined) return new Deadline(undefined);
  validateObject(options, 'options');
  const { block = true, timeout } = options;
  if (typeof block !== 'boolean') throw invalidType('options.block', 'of type boolean', block);
  const ms = validateTimeout(timeout, 'options.timeout');
  return block ? new Deadline(ms) : null;
}

interface QueueState {
  id: string;
  ring: RingState;
}

/** A FIFO queue for any mix of threads; `maxsize` <= 0 means unbounded (as in Python). */
export class Queue<T = unknown> {
  readonly #ring: Ring;
  readonly #id: string;
  #closed = false;

  constructor(maxsize = 0) {
    const revival = takeRevival<QueueState>();
    if (revival) {
      this.#ring = new Ring(revival.ring);
    } else {
      validateInteger(maxsize, 'maxsize', -(2 ** 31), 2 ** 31 - 1);
      this.#ring = new Ring(undefined, Math.max(0, maxsize));
    }
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

  /** Puts `obj`, waiting for room if the queue is full; rejects with Full after `timeout`. */
  async put(obj: T, options?: QueueOptions): Promise<void> {
    this._checkOpen();
    const deadline = parseOptions(options);
    const msg = encodeValue(obj);
    if (this.#ring.tryPut(msg, this._joinable)) return;
    // The scratch buffer is shared by this thread's callers: keep our own copy while we wait.
    return runAsync(this.#ring.putSteps(msg.slice(), this._joinable, deadline));
  }

  /** Blocking put (workers; on the main thread it freezes the event loop while the queue is full). */
  putSync(obj: T, options?: QueueOptions): void {
    this._checkOpen();
    const deadline = parseOptions(options);
    const msg = encodeValue(obj);
    if (this.#ring.tryPut(msg, this._joinable)) return;
    runSync(this.#ring.putSteps(msg, this._joinable, deadline));
  }

  /** Puts without waiting; throws Full when there is no room. */
  putNowait(obj: T): void {
    this.putSync(obj, { block: false });
  }

  /** Removes and returns the oldest item, waiting for one; rejects with Empty after `timeout`. */
  async get(options?: QueueOptions): Promise<T> {
    this._checkOpen();
    const deadline = parseOptions(options);
    const length = this.#ring.tryTake();
    if (length >= 0) return decodeValue(length) as T;
    return decodeValue(await runAsync(this.#ring.takeSteps(deadline))) as T;
  }

  /** Blocking get (workers; on the main thread it freezes the event loop while the queue is empty). */
  getSync(options?: QueueOptions): T {
    this._checkOpen();
    const deadline = parseOptions(options);
    const length = this.#ring.tryTake();
    return decodeValue(length >= 0 ? length : runSync(this.#ring.takeSteps(deadline))) as T;
  }

  /** Gets without waiting; throws Empty when there is nothing. */
  getNowait(): T {
    return this.getSync({ block: false });
  }

  /** Number of items in the queue (a snapshot: other threads may change it at any time). */
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

  [kShare](): ShareDescription {
    return { type: this._type, state: { id: this.#id, ring: this.#ring.state } satisfies QueueState };
  }
}

/** A Queue that also counts unfinished tasks: consumers call `taskDone()`, and `join()` waits for 0. */
export class JoinableQueue<T = unknown> extends Queue<T> {
  protected override get _joinable(): boolean {
    return true;
  }

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

  [kShare](): ShareDescription {
    return { type: 'SimpleQueue', state: this.#queue[kShare]().state };
  }
}

registerShareable('Queue', (state) => reviveWith((state as QueueState).id, state, () => new Queue()));
registerShareable('JoinableQueue', (state) => reviveWith((state as QueueState).id, state, () => new JoinableQueue()));
registerShareable('SimpleQueue', (state) => reviveWith(`${(state as QueueState).id}/simple`, state, () => new SimpleQueue()));
