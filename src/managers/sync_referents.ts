/**
 * The queue and synchronisation objects a SyncManager holds (Python's manager serves
 * `queue.Queue` and `threading.*`). They live on the server's event loop, so a blocking call is
 * a Promise the server answers once the condition holds or the timeout passes, while it goes on
 * serving every other client. Ownership (RLock, Condition) is per client connection, as Python's
 * is per server thread, which serves one connection.
 */
import { BrokenBarrierError, Empty, Full, codedError } from '../errors.js';
import { invalidType, validateInteger, validateObject, validateTimeout } from '../validate.js';
import { checkOptions } from './options.js';
import { currentCaller, ServerRef } from './server.js';

/** Calls made by this thread's own proxies have no session object; they share this owner. */
const LOCAL = {};

function me(): object {
  return currentCaller() ?? LOCAL;
}

interface Waiter<T> {
  data: T;
  resolve: (woken: boolean) => void;
  timer: NodeJS.Timeout | undefined;
}

/** Node's largest timer delay: above it setTimeout fires after 1 ms. */
const MAX_TIMER_MS = 2 ** 31 - 1;

/** A FIFO of waits, each woken once or timed out; timers never keep the server's process alive. */
class Waiters<T = undefined> {
  readonly #queue = new Set<Waiter<T>>();

  get size(): number {
    return this.#queue.size;
  }

  wait(timeoutMs: number | undefined, data: T): Promise<boolean> {
    return new Promise((resolve) => {
      const waiter: Waiter<T> = { data, resolve, timer: undefined };
      // Above Node's timer range (~24.8 days, Infinity included) the wait is unbounded in practice.
      if (timeoutMs !== undefined && timeoutMs <= MAX_TIMER_MS) {
        waiter.timer = setTimeout(() => {
          this.#queue.delete(waiter);
          resolve(false);
        }, timeoutMs);
        waiter.timer.unref();
      }
      this.#queue.add(waiter);
    });
  }

  /** Wakes the first waiter; returns its data, or undefined when none waits. */
  wake(): { data: T } | undefined {
    for (const waiter of this.#queue) {
      this.#queue.delete(waiter);
      clearTimeout(waiter.timer);
      waiter.resolve(true);
      return { data: waiter.data };
    }
    return undefined;
  }

  wakeAll(): void {
    while (this.wake());
  }
}

function blockingOptions(options: unknown, blockName: 'block' | 'blocking'): { block: boolean; timeout: number | undefined } {
  if (options === undefined || options === null) return { block: true, timeout: undefined };
  validateObject(options, 'options');
  checkOptions(options, [blockName, 'timeout'], 'options');
  const block = (options as Record<string, unknown>)[blockName];
  if (block !== undefined && typeof block !== 'boolean') throw invalidType(`options.${blockName}`, 'of type boolean', block);
  return { block: block !== false, timeout: validateTimeout((options as { timeout?: unknown }).timeout, 'options.timeout') };
}

function deadlineOf(timeout: number | undefined): number {
  return timeout === undefined ? Infinity : Date.now() + timeout;
}

function remaining(deadline: number): number | undefined {
  return deadline === Infinity ? undefined : Math.max(0, deadline - Date.now());
}

export class ManagedQueue {
  readonly #maxsize: number;
  #items: unknown[] = [];
  #head = 0;
  readonly #getters = new Waiters();
  readonly #putters = new Waiters();

  constructor(maxsize: unknown = 0) {
    this.#maxsize = validateInteger(maxsize ?? 0, 'maxsize', -Number.MAX_SAFE_INTEGER);
  }

  #size(): number {
    return this.#items.length - this.#head;
  }

  #isFull(): boolean {
    return this.#maxsize > 0 && this.#size() >= this.#maxsize;
  }

  #push(item: unknown): void {
    this.#items.push(item);
    this._onPut();
    this.#getters.wake();
  }

  #shift(): unknown {
    const item = this.#items[this.#head];
    this.#items[this.#head++] = undefined;
    if (this.#head > 1024 && this.#head * 2 > this.#items.length) {
      this.#items = this.#items.slice(this.#head);
      this.#head = 0;
    }
    this.#putters.wake();
    return item;
  }

  /** Hook for JoinableQueue. */
  protected _onPut(): void {}

  put(item: unknown, options?: unknown): void | Promise<void> {
    const { block, timeout } = blockingOptions(options, 'block');
    if (!this.#isFull()) return this.#push(item);
    if (!block) throw new Full();
    return this.#putLater(item, deadlineOf(timeout));
  }

  async #putLater(item: unknown, deadline: number): Promise<void> {
    while (this.#isFull()) {
      if (!(await this.#putters.wait(remaining(deadline), undefined)) && this.#isFull()) throw new Full();
    }
    this.#push(item);
  }

  putNowait(item: unknown): void {
    this.put(item, { block: false });
  }

  get(options?: unknown): unknown {
    const { block, timeout } = blockingOptions(options, 'block');
    if (this.#size() > 0) return this.#shift();
    if (!block) throw new Empty();
    return this.#getLater(deadlineOf(timeout));
  }

  async #getLater(deadline: number): Promise<unknown> {
    while (this.#size() === 0) {
      if (!(await this.#getters.wait(remaining(deadline), undefined)) && this.#size() === 0) throw new Empty();
    }
    return this.#shift();
  }

  getNowait(): unknown {
    return this.get({ block: false });
  }

  qsize(): number {
    return this.#size();
  }

  empty(): boolean {
    return this.#size() === 0;
  }

  full(): boolean {
    return this.#isFull();
  }
}

export class ManagedJoinableQueue extends ManagedQueue {
  #unfinished = 0;
  readonly #joiners = new Waiters();

  protected override _onPut(): void {
    this.#unfinished++;
  }

  taskDone(): void {
    if (this.#unfinished <= 0)
      throw codedError('ERR_TASK_DONE_TOO_MANY', 'taskDone() called more times than there were items put');
    if (--this.#unfinished === 0) this.#joiners.wakeAll();
  }

  join(): void | Promise<void> {
    if (this.#unfinished === 0) return;
    return this.#joiners.wait(undefined, undefined).then(() => {});
  }
}

/** What Condition needs of its lock: ownership by a client, and full release and restore. */
interface ConditionLock {
  ownedBy(owner: object): boolean;
  /** Releases completely for a wait; returns what `restore` needs. */
  save(owner: object): number;
  restore(owner: object, saved: number): Promise<void>;
}

function notHeld(what: string): Error {
  return codedError('ERR_NOT_HELD', `Cannot release an un-acquired ${what}`);
}

/** Lock: anyone may release it (as Python's); a release hands it to the longest waiter. */
export class ManagedLock implements ConditionLock {
  #locked = false;
  readonly #waiters = new Waiters();

  acquire(options?: unknown): boolean | Promise<boolean> {
    const { block, timeout } = blockingOptions(options, 'blocking');
    if (!this.#locked) return (this.#locked = true);
    if (!block) return false;
    return this.#waiters.wait(timeout, undefined);
  }

  release(): void {
    if (!this.#locked) throw notHeld('Lock');
    // Handed over: it stays locked, now for the woken waiter.
    if (!this.#waiters.wake()) this.#locked = false;
  }

  locked(): boolean {
    return this.#locked;
  }

  ownedBy(): boolean {
    return this.#locked;
  }

  save(): number {
    this.release();
    return 1;
  }

  async restore(): Promise<void> {
    if (!(await this.acquire())) throw new Error('unreachable: an acquire without timeout failed');
  }
}

/** RLock: owned by the client that acquired it, re-entrant for that client only. */
export class ManagedRLock implements ConditionLock {
  #owner: object | undefined;
  #count = 0;
  readonly #waiters = new Waiters<{ owner: object; count: number }>();

  acquire(options?: unknown): boolean | Promise<boolean> {
    const { block, timeout } = blockingOptions(options, 'blocking');
    return this.#acquire(me(), 1, block, timeout);
  }

  #acquire(owner: object, count: number, block: boolean, timeout: number | undefined): boolean | Promise<boolean> {
    if (this.#owner === owner) {
      this.#count += count;
      return true;
    }
    if (this.#owner === undefined) {
      this.#owner = owner;
      this.#count = count;
      return true;
    }
    if (!block) return false;
    return this.#waiters.wait(timeout, { owner, count });
  }

  release(): void {
    this.#release(me(), 1);
  }

  #release(owner: object, count: number): void {
    if (this.#owner !== owner) throw notHeld('RLock');
    this.#count -= count;
    if (this.#count > 0) return;
    const next = this.#waiters.wake();
    this.#owner = next?.data.owner;
    this.#count = next?.data.count ?? 0;
  }

  ownedBy(owner: object): boolean {
    return this.#owner === owner;
  }

  save(owner: object): number {
    const count = this.#count;
    this.#release(owner, count);
    return count;
  }

  async restore(owner: object, saved: number): Promise<void> {
    await this.#acquire(owner, saved, true, undefined);
  }
}

export class ManagedSemaphore {
  #value: number;
  readonly #bound: number | undefined;
  readonly #waiters = new Waiters();

  constructor(value: unknown = 1, bounded = false) {
    this.#value = validateInteger(value ?? 1, 'value');
    this.#bound = bounded ? this.#value : undefined;
  }

  acquire(options?: unknown): boolean | Promise<boolean> {
    const { block, timeout } = blockingOptions(options, 'blocking');
    if (this.#value > 0) {
      this.#value--;
      return true;
    }
    if (!block) return false;
    return this.#waiters.wait(timeout, undefined);
  }

  release(n: unknown = 1): void {
    validateInteger(n, 'n', 1);
    if (this.#bound !== undefined && this.#value + (n as number) > this.#bound) {
      throw codedError('ERR_RELEASED_TOO_MANY', 'BoundedSemaphore released too many times');
    }
    for (let i = 0; i < (n as number); i++) {
      // Handed to a waiter directly, or counted.
      if (!this.#waiters.wake()) this.#value++;
    }
  }

  getValue(): number {
    return this.#value;
  }
}

export class ManagedEvent {
  #flag = false;
  readonly #waiters = new Waiters();

  set(): void {
    this.#flag = true;
    this.#waiters.wakeAll();
  }

  clear(): void {
    this.#flag = false;
  }

  isSet(): boolean {
    return this.#flag;
  }

  wait(timeout?: unknown): boolean | Promise<boolean> {
    const ms = validateTimeout(timeout);
    if (this.#flag) return true;
    return this.#waiters.wait(ms, undefined).then(() => this.#flag);
  }
}

export class ManagedCondition {
  readonly #lock: ManagedLock | ManagedRLock;
  readonly #waiters = new Waiters();

  constructor(lock?: unknown) {
    if (lock === undefined || lock === null) {
      this.#lock = new ManagedRLock();
      return;
    }
    const referent = lock instanceof ServerRef ? lock.referent : undefined;
    if (!(referent instanceof ManagedLock || referent instanceof ManagedRLock)) {
      throw invalidType('lock', 'a Lock or RLock proxy of this manager', lock);
    }
    this.#lock = referent;
  }

  acquire(options?: unknown): boolean | Promise<boolean> {
    return this.#lock.acquire(options);
  }

  release(): void {
    this.#lock.release();
  }

  #check(owner: object, what: string): void {
    if (!this.#lock.ownedBy(owner))
      throw codedError('ERR_NOT_HELD', `Cannot ${what} on an un-acquired Condition (acquire its lock first)`);
  }

  /** Releases the lock, waits for a notify (or the timeout), re-acquires; true when notified. */
  async wait(timeout?: unknown): Promise<boolean> {
    const ms = validateTimeout(timeout);
    const owner = me();
    this.#check(owner, 'wait');
    const saved = this.#lock.save(owner);
    const waiting = this.#waiters.wait(ms, undefined);
    const notified = await waiting;
    await this.#lock.restore(owner, saved);
    return notified;
  }

  notify(n: unknown = 1): void {
    validateInteger(n, 'n');
    this.#check(me(), 'notify');
    for (let i = 0; i < (n as number) && this.#waiters.wake(); i++);
  }

  notifyAll(): void {
    this.#check(me(), 'notify');
    this.#waiters.wakeAll();
  }
}

/** Barrier: `parties` clients meet; a timeout, abort or reset breaks it for those waiting. */
export class ManagedBarrier {
  readonly #parties: number;
  readonly #timeout: number | undefined;
  #waiting: { resolve: (index: number) => void; reject: (error: Error) => void; index: number }[] = [];
  #broken = false;

  constructor(parties: unknown, options?: unknown) {
    this.#parties = validateInteger(parties, 'parties', 1);
    if (options !== undefined && options !== null) {
      validateObject(options, 'options');
      checkOptions(options, ['timeout'], 'options');
    }
    this.#timeout = validateTimeout((options as { timeout?: unknown } | undefined)?.timeout, 'options.timeout');
  }

  wait(timeout?: unknown): number | Promise<number> {
    const ms = validateTimeout(timeout) ?? this.#timeout;
    if (this.#broken) throw new BrokenBarrierError();
    const index = this.#waiting.length;
    if (index + 1 === this.#parties) {
      for (const waiter of this.#waiting.splice(0)) waiter.resolve(waiter.index);
      return index;
    }
    return new Promise((resolve, reject) => {
      let timer: NodeJS.Timeout | undefined;
      const done = {
        resolve: (i: number) => (clearTimeout(timer), resolve(i)),
        reject: (e: Error) => (clearTimeout(timer), reject(e)),
        index,
      };
      this.#waiting.push(done);
      if (ms !== undefined && ms <= MAX_TIMER_MS) {
        timer = setTimeout(() => this.abort(), ms);
        timer.unref();
      }
    });
  }

  #breakWaiters(): void {
    for (const waiter of this.#waiting.splice(0)) waiter.reject(new BrokenBarrierError());
  }

  abort(): void {
    this.#broken = true;
    this.#breakWaiters();
  }

  reset(): void {
    this.#breakWaiters();
    this.#broken = false;
  }

  parties(): number {
    return this.#parties;
  }

  nWaiting(): number {
    return this.#waiting.length;
  }

  broken(): boolean {
    return this.#broken;
  }
}
