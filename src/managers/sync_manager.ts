/**
 * SyncManager (exported also as `Manager`): a BaseManager with Python's registered types. Each
 * method creates the object in the manager and resolves with its typed proxy.
 */
import type { ElementOf, Typecode } from '../sharedctypes/sharedctypes.js';
import { BaseManager } from './base.js';
import { ArrayReferent, DictReferent, ListReferent, NamespaceReferent, ValueReferent } from './referents.js';
import {
  AcquirerProxy,
  ArrayProxy,
  BarrierProxy,
  ConditionProxy,
  DictProxy,
  EventProxy,
  JoinableQueueProxy,
  ListProxy,
  NamespaceProxy,
  QueueProxy,
  ValueProxy,
} from './proxies.js';
import type { BaseProxy } from './proxy.js';
import { makeRegistration } from './registry.js';
import {
  ManagedBarrier,
  ManagedCondition,
  ManagedEvent,
  ManagedJoinableQueue,
  ManagedLock,
  ManagedQueue,
  ManagedRLock,
  ManagedSemaphore,
} from './sync_referents.js';

const QUEUE = ['put', 'putNowait', 'get', 'getNowait', 'qsize', 'empty', 'full'];
const ACQUIRER = ['acquire', 'release'];

/** An iterable of pairs other than a Map or array crosses as an array of pairs. */
function pairs(init: unknown): unknown {
  if (init === undefined || init instanceof Map || Array.isArray(init)) return init;
  if (typeof init === 'object' && init !== null && Symbol.iterator in init) return [...(init as Iterable<unknown>)];
  return init;
}

export class SyncManager extends BaseManager {
  #make<P extends BaseProxy>(typeid: string, args: unknown[]): Promise<P> {
    // Trailing undefined arguments are left out, so that factory defaults apply.
    while (args.length > 0 && args[args.length - 1] === undefined) args.pop();
    return this.proxy(typeid, ...args) as Promise<unknown> as Promise<P>;
  }

  /** A dict (Map semantics) holding `init`'s pairs: a Map, pairs, or a plain object. */
  dict<K = unknown, V = unknown>(init?: Map<K, V> | Iterable<readonly [K, V]> | Record<string, V>): Promise<DictProxy<K, V>> {
    return this.#make('dict', [pairs(init)]);
  }

  list<T = unknown>(init?: Iterable<T>): Promise<ListProxy<T>> {
    return this.#make('list', [init === undefined || Array.isArray(init) ? init : [...init]]);
  }

  Namespace<T extends Record<string, unknown> = Record<string, unknown>>(init?: Partial<T>): Promise<NamespaceProxy<T>> {
    return this.#make('Namespace', [init]);
  }

  Queue<T = unknown>(maxsize = 0): Promise<QueueProxy<T>> {
    return this.#make('Queue', [maxsize]);
  }

  JoinableQueue<T = unknown>(maxsize = 0): Promise<JoinableQueueProxy<T>> {
    return this.#make('JoinableQueue', [maxsize]);
  }

  Value<C extends Typecode>(typecode: C, value?: ElementOf<C>): Promise<ValueProxy<ElementOf<C>>> {
    return this.#make('Value', [typecode, value]);
  }

  Array<C extends Typecode>(typecode: C, sequence: number | Iterable<ElementOf<C>>): Promise<ArrayProxy<C>> {
    const seq = typeof sequence === 'number' || Array.isArray(sequence) ? sequence : [...sequence];
    return this.#make('Array', [typecode, seq]);
  }

  Lock(): Promise<AcquirerProxy> {
    return this.#make('Lock', []);
  }

  RLock(): Promise<AcquirerProxy> {
    return this.#make('RLock', []);
  }

  Semaphore(value = 1): Promise<AcquirerProxy> {
    return this.#make('Semaphore', [value]);
  }

  BoundedSemaphore(value = 1): Promise<AcquirerProxy> {
    return this.#make('BoundedSemaphore', [value]);
  }

  Event(): Promise<EventProxy> {
    return this.#make('Event', []);
  }

  /** A Condition over `lock` (a Lock or RLock proxy of this manager), or over a new RLock. */
  Condition(lock?: AcquirerProxy): Promise<ConditionProxy> {
    return this.#make('Condition', [lock]);
  }

  Barrier(parties: number, options?: { timeout?: number }): Promise<BarrierProxy> {
    return this.#make('Barrier', [parties, options]);
  }
}

function builtin(typeid: string, kind: string, exposed: string[] | undefined, factory: (...args: never[]) => unknown): void {
  const registration = makeRegistration(typeid, factory, { createMethod: false, ...(exposed ? { exposed } : {}) }, kind);
  BaseManager.addRegistration(SyncManager, registration);
}

// Built-in referents expose their public methods, except the locks, whose helpers for Condition are not for clients.
builtin('dict', 'dict', undefined, (init?: unknown) => new DictReferent(init));
builtin('list', 'list', undefined, (init?: unknown) => new ListReferent(init));
builtin('Namespace', 'Namespace', undefined, (init?: unknown) => new NamespaceReferent(init));
builtin('Value', 'Value', undefined, (typecode: unknown, value?: unknown) => new ValueReferent(typecode, value));
builtin('Array', 'Array', undefined, (typecode: unknown, sequence: unknown) => new ArrayReferent(typecode, sequence));
builtin('Queue', 'Queue', QUEUE, (maxsize?: unknown) => new ManagedQueue(maxsize));
builtin(
  'JoinableQueue',
  'JoinableQueue',
  [...QUEUE, 'taskDone', 'join'],
  (maxsize?: unknown) => new ManagedJoinableQueue(maxsize),
);
builtin('Lock', 'Acquirer', [...ACQUIRER, 'locked'], () => new ManagedLock());
builtin('RLock', 'Acquirer', ACQUIRER, () => new ManagedRLock());
builtin('Semaphore', 'Acquirer', [...ACQUIRER, 'getValue'], (value?: unknown) => new ManagedSemaphore(value));
builtin('BoundedSemaphore', 'Acquirer', [...ACQUIRER, 'getValue'], (value?: unknown) => new ManagedSemaphore(value, true));
builtin('Event', 'Event', undefined, () => new ManagedEvent());
builtin('Condition', 'Condition', [...ACQUIRER, 'wait', 'notify', 'notifyAll'], (lock?: unknown) => new ManagedCondition(lock));
builtin('Barrier', 'Barrier', undefined, (parties: unknown, options?: unknown) => new ManagedBarrier(parties, options));

export { SyncManager as Manager };
