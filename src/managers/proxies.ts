/**
 * The typed proxies of SyncManager's types. Each method forwards to the object in the manager
 * (see referents.ts and sync_referents.ts for what it does there) and returns a Promise.
 *
 * The forwarders repeat one shape on purpose: each is a typed signature of the public API, with
 * its doc. Made from lists of names, as Python's MakeProxyType makes them, they would have no
 * types, or types declared a second time in interfaces merged into the classes.
 */
import type { AcquireOptions } from '../synchronize/locks.js';
import type { ElementOf, Typecode } from '../sharedctypes/sharedctypes.js';
import { BaseProxy, invoke, registerProxyKind } from './proxy.js';

/** `{ block = true, timeout? }` of a queue's put and get (timeout in ms). */
export interface BlockOptions {
  block?: boolean;
  timeout?: number;
}

/** An Iterable other than an array or Map crosses as an array (a generator cannot be cloned). */
function listOf<T>(values: Iterable<T>): T[] | Iterable<T> {
  return Array.isArray(values) || values instanceof Map ? values : [...values];
}

/** `[key]`, or `[key, dflt]` when a default was given (even `undefined`: pop then never rejects). */
function withDefault(key: unknown, dflt: unknown[]): unknown[] {
  // Not `[key, ...dflt.slice(0, 1)]`: a get is a hot call, and that makes two arrays and an iterator.
  return dflt.length === 0 ? [key] : [key, dflt[0]];
}

/** A dict in the manager, with Map semantics (keys 1 and '1' differ). */
export class DictProxy<K = unknown, V = unknown> extends BaseProxy {
  set(key: K, value: V): Promise<void> {
    return invoke(this, 'set', [key, value]) as Promise<void>;
  }
  get(key: K): Promise<V | undefined>;
  get<D>(key: K, dflt: D): Promise<V | D>;
  get(key: K, ...dflt: unknown[]): Promise<unknown> {
    return invoke(this, 'get', withDefault(key, dflt));
  }
  has(key: K): Promise<boolean> {
    return invoke(this, 'has', [key]) as Promise<boolean>;
  }
  delete(key: K): Promise<boolean> {
    return invoke(this, 'delete', [key]) as Promise<boolean>;
  }
  keys(): Promise<K[]> {
    return invoke(this, 'keys', []) as Promise<K[]>;
  }
  values(): Promise<V[]> {
    return invoke(this, 'values', []) as Promise<V[]>;
  }
  entries(): Promise<[K, V][]> {
    return invoke(this, 'entries', []) as Promise<[K, V][]>;
  }
  size(): Promise<number> {
    return invoke(this, 'size', []) as Promise<number>;
  }
  /** Sets every pair of a Map, an iterable of [key, value] pairs, or a plain object. */
  update(entries: Map<K, V> | Iterable<readonly [K, V]> | (K extends string ? Record<K, V> : never)): Promise<void> {
    const pairs = Symbol.iterator in (entries as object) ? listOf(entries as Iterable<readonly [K, V]>) : entries;
    return invoke(this, 'update', [pairs]) as Promise<void>;
  }
  /** A copy of the whole dict, as a Map. */
  copy(): Promise<Map<K, V>> {
    return invoke(this, 'copy', []) as Promise<Map<K, V>>;
  }
  clear(): Promise<void> {
    return invoke(this, 'clear', []) as Promise<void>;
  }
  /** Removes `key` and gives its value; a missing key rejects (code ERR_KEY_NOT_FOUND) unless a default is given. */
  pop(key: K): Promise<V>;
  pop<D>(key: K, dflt: D): Promise<V | D>;
  pop(key: K, ...dflt: unknown[]): Promise<unknown> {
    return invoke(this, 'pop', withDefault(key, dflt));
  }
  setdefault(key: K, dflt: V): Promise<V> {
    return invoke(this, 'setdefault', [key, dflt]) as Promise<V>;
  }
}

/** A list in the manager; indexes may be negative, as in Python. */
export class ListProxy<T = unknown> extends BaseProxy {
  append(value: T): Promise<void> {
    return invoke(this, 'append', [value]) as Promise<void>;
  }
  extend(values: Iterable<T>): Promise<void> {
    return invoke(this, 'extend', [Array.isArray(values) ? values : [...values]]) as Promise<void>;
  }
  get(index: number): Promise<T> {
    return invoke(this, 'get', [index]) as Promise<T>;
  }
  set(index: number, value: T): Promise<void> {
    return invoke(this, 'set', [index, value]) as Promise<void>;
  }
  pop(index?: number): Promise<T> {
    return invoke(this, 'pop', index === undefined ? [] : [index]) as Promise<T>;
  }
  insert(index: number, value: T): Promise<void> {
    return invoke(this, 'insert', [index, value]) as Promise<void>;
  }
  length(): Promise<number> {
    return invoke(this, 'length', []) as Promise<number>;
  }
  /** A copy of the whole list, as an array. */
  copy(): Promise<T[]> {
    return invoke(this, 'copy', []) as Promise<T[]>;
  }
  slice(start?: number, end?: number): Promise<T[]> {
    return invoke(this, 'slice', [start, end]) as Promise<T[]>;
  }
  /** Position of the first item deep-equal to `value`; rejects (ERR_VALUE_NOT_FOUND) when there is none. */
  index(value: T): Promise<number> {
    return invoke(this, 'index', [value]) as Promise<number>;
  }
  count(value: T): Promise<number> {
    return invoke(this, 'count', [value]) as Promise<number>;
  }
  remove(value: T): Promise<void> {
    return invoke(this, 'remove', [value]) as Promise<void>;
  }
  reverse(): Promise<void> {
    return invoke(this, 'reverse', []) as Promise<void>;
  }
  /** Numbers (and bigints) by value, or strings by code unit; other mixes reject with a TypeError. */
  sort(options?: { reverse?: boolean }): Promise<void> {
    return invoke(this, 'sort', options === undefined ? [] : [options]) as Promise<void>;
  }
  clear(): Promise<void> {
    return invoke(this, 'clear', []) as Promise<void>;
  }
}

/** Python's Namespace: named attributes, read and written one call at a time. */
export class NamespaceProxy<T extends Record<string, unknown> = Record<string, unknown>> extends BaseProxy {
  get<N extends keyof T & string>(name: N): Promise<T[N]> {
    return invoke(this, 'get', [name]) as Promise<T[N]>;
  }
  set<N extends keyof T & string>(name: N, value: T[N]): Promise<void> {
    return invoke(this, 'set', [name, value]) as Promise<void>;
  }
  has(name: string): Promise<boolean> {
    return invoke(this, 'has', [name]) as Promise<boolean>;
  }
  delete(name: string): Promise<boolean> {
    return invoke(this, 'delete', [name]) as Promise<boolean>;
  }
  /** Every attribute, as a plain object. */
  copy(): Promise<T> {
    return invoke(this, 'copy', []) as Promise<T>;
  }
}

/** Python's ValueProxy: `get()` and `set(v)` of one typed value. */
export class ValueProxy<T = number> extends BaseProxy {
  get(): Promise<T> {
    return invoke(this, 'get', []) as Promise<T>;
  }
  set(value: T): Promise<void> {
    return invoke(this, 'set', [value]) as Promise<void>;
  }
}

export class ArrayProxy<C extends Typecode = Typecode> extends BaseProxy {
  length(): Promise<number> {
    return invoke(this, 'length', []) as Promise<number>;
  }
  get(index: number): Promise<ElementOf<C>> {
    return invoke(this, 'get', [index]) as Promise<ElementOf<C>>;
  }
  set(index: number, value: ElementOf<C>): Promise<void> {
    return invoke(this, 'set', [index, value]) as Promise<void>;
  }
  toArray(): Promise<ElementOf<C>[]> {
    return invoke(this, 'toArray', []) as Promise<ElementOf<C>[]>;
  }
}

/** A queue in the manager; Empty / Full reject as Python's queue.Empty / queue.Full. */
export class QueueProxy<T = unknown> extends BaseProxy {
  put(item: T, options?: BlockOptions): Promise<void> {
    return invoke(this, 'put', options === undefined ? [item] : [item, options]) as Promise<void>;
  }
  putNowait(item: T): Promise<void> {
    return invoke(this, 'putNowait', [item]) as Promise<void>;
  }
  get(options?: BlockOptions): Promise<T> {
    return invoke(this, 'get', options === undefined ? [] : [options]) as Promise<T>;
  }
  getNowait(): Promise<T> {
    return invoke(this, 'getNowait', []) as Promise<T>;
  }
  qsize(): Promise<number> {
    return invoke(this, 'qsize', []) as Promise<number>;
  }
  empty(): Promise<boolean> {
    return invoke(this, 'empty', []) as Promise<boolean>;
  }
  full(): Promise<boolean> {
    return invoke(this, 'full', []) as Promise<boolean>;
  }
}

export class JoinableQueueProxy<T = unknown> extends QueueProxy<T> {
  taskDone(): Promise<void> {
    return invoke(this, 'taskDone', []) as Promise<void>;
  }
  join(): Promise<void> {
    return invoke(this, 'join', []) as Promise<void>;
  }
}

/** Lock, RLock, Semaphore, BoundedSemaphore (Python's AcquirerProxy). */
export class AcquirerProxy extends BaseProxy {
  acquire(options?: AcquireOptions): Promise<boolean> {
    return invoke(this, 'acquire', options === undefined ? [] : [options]) as Promise<boolean>;
  }
  release(): Promise<void> {
    return invoke(this, 'release', []) as Promise<void>;
  }
  /** Runs `fn` holding the lock, and releases it however `fn` ends. */
  async withLock<R>(fn: () => R | Promise<R>): Promise<R> {
    await this.acquire();
    try {
      return await fn();
    } finally {
      await this.release();
    }
  }
}

export class EventProxy extends BaseProxy {
  set(): Promise<void> {
    return invoke(this, 'set', []) as Promise<void>;
  }
  clear(): Promise<void> {
    return invoke(this, 'clear', []) as Promise<void>;
  }
  isSet(): Promise<boolean> {
    return invoke(this, 'isSet', []) as Promise<boolean>;
  }
  /** True once set; false when `timeoutMs` passed first. */
  wait(timeoutMs?: number): Promise<boolean> {
    return invoke(this, 'wait', timeoutMs === undefined ? [] : [timeoutMs]) as Promise<boolean>;
  }
}

export class ConditionProxy extends AcquirerProxy {
  /** Releases the lock, waits for a notify (true) or the timeout (false), then re-acquires. */
  wait(timeoutMs?: number): Promise<boolean> {
    return invoke(this, 'wait', timeoutMs === undefined ? [] : [timeoutMs]) as Promise<boolean>;
  }
  /** Waits until `predicate()` is truthy (checked here, between waits); its last result. */
  async waitFor<R>(predicate: () => R | Promise<R>, timeoutMs?: number): Promise<R> {
    const end = timeoutMs === undefined ? Infinity : Date.now() + timeoutMs;
    let result = await predicate();
    while (!result) {
      const left = end - Date.now();
      if (left <= 0) break;
      await this.wait(end === Infinity ? undefined : left);
      result = await predicate();
    }
    return result;
  }
  notify(n = 1): Promise<void> {
    return invoke(this, 'notify', [n]) as Promise<void>;
  }
  notifyAll(): Promise<void> {
    return invoke(this, 'notifyAll', []) as Promise<void>;
  }
}

export class BarrierProxy extends BaseProxy {
  /** Resolves with this party's arrival index once all parties wait; BrokenBarrierError otherwise. */
  wait(timeoutMs?: number): Promise<number> {
    return invoke(this, 'wait', timeoutMs === undefined ? [] : [timeoutMs]) as Promise<number>;
  }
  abort(): Promise<void> {
    return invoke(this, 'abort', []) as Promise<void>;
  }
  reset(): Promise<void> {
    return invoke(this, 'reset', []) as Promise<void>;
  }
  parties(): Promise<number> {
    return invoke(this, 'parties', []) as Promise<number>;
  }
  nWaiting(): Promise<number> {
    return invoke(this, 'nWaiting', []) as Promise<number>;
  }
  broken(): Promise<boolean> {
    return invoke(this, 'broken', []) as Promise<boolean>;
  }
}

registerProxyKind('dict', DictProxy);
registerProxyKind('list', ListProxy);
registerProxyKind('Namespace', NamespaceProxy);
registerProxyKind('Value', ValueProxy);
registerProxyKind('Array', ArrayProxy);
registerProxyKind('Queue', QueueProxy);
registerProxyKind('JoinableQueue', JoinableQueueProxy);
registerProxyKind('Acquirer', AcquirerProxy);
registerProxyKind('Event', EventProxy);
registerProxyKind('Condition', ConditionProxy);
registerProxyKind('Barrier', BarrierProxy);
