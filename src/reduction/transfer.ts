/**
 * How shared objects (Value, SharedArray, locks, queues, pipes…) cross to a thread worker and
 * arrive as the *same* shared object rather than a copy.
 *
 * Structured clone already shares a SharedArrayBuffer (both sides see one memory). A shareable
 * class therefore describes itself as `{ type, state }`, where `state` holds its
 * SharedArrayBuffers (and MessagePorts, which must also be listed as transferables), and
 * registers a reviver that rebuilds an instance around that state on the other side.
 *
 * `encode` walks task arguments (and results) through arrays, plain objects, Maps and Sets,
 * replacing each shareable by a placeholder described in a side table; `decode` does the reverse.
 * Other objects (class instances, typed arrays) are not walked, so ordinary values cost one type
 * check. Both walks accept what structured clone accepts: cycles, repeats, any keys.
 */
import type { TransferListItem } from 'node:worker_threads';

/** Implemented by every class that can cross to a thread worker as the same shared object. */
export const kShare: unique symbol = Symbol.for('napi-multiprocessing.share') as never;

export interface ShareDescription {
  /** Registry key, e.g. 'Value' or 'Lock'. */
  type: string;
  /** Structured-cloneable; SharedArrayBuffers inside it are shared, not copied. */
  state: unknown;
  /** Objects that must be transferred (MessagePorts), if any. */
  transfer?: TransferListItem[];
  /** True when `state` means the same object in another process too (a manager proxy's token). */
  crossesProcesses?: boolean;
}

export interface Shareable {
  [kShare](): ShareDescription;
}

/**
 * What `encode` gives and `decode` takes: the value with every shareable replaced by a placeholder
 * (a fresh empty object), and a side table of `[placeholder, type, state]`. Structured clone keeps
 * object identity within one message, so on the other side a placeholder is recognised by *which
 * object it is*, never by its keys: user data cannot pass for a shared object, whatever it holds.
 * `s` is absent when there were none, and `decode` then has nothing to walk.
 */
interface Packed {
  v: unknown;
  s?: [placeholder: object, type: string, state: unknown][];
}

const revivers = new Map<string, (state: unknown) => unknown>();

/** Registers how to rebuild a shareable of `type` from its state (each module does this at load). */
export function registerShareable(type: string, revive: (state: unknown) => unknown): void {
  revivers.set(type, revive);
}

export function isShareable(value: unknown): value is Shareable {
  return typeof value === 'object' && value !== null && typeof (value as Partial<Shareable>)[kShare] === 'function';
}

export function isPlainObject(value: object): boolean {
  const proto = Object.getPrototypeOf(value);
  return proto === Object.prototype || proto === null;
}

/** The containers the walk enters (as the README promises): arrays, plain objects, Maps, Sets. */
function children(value: object): Iterable<unknown> | undefined {
  if (Array.isArray(value) || isPlainObject(value)) return Object.values(value);
  if (value instanceof Map) return [...value].flat();
  if (value instanceof Set) return value;
  return undefined;
}

/** Applies `fn` to a Map's keys and values or a Set's items; a new collection only if one changed. */
export function walkCollection(value: Map<unknown, unknown> | Set<unknown>, fn: (item: unknown) => unknown): unknown {
  let changed = false;
  const step = (item: unknown) => {
    const out = fn(item);
    changed ||= out !== item;
    return out;
  };
  if (value instanceof Map) {
    const entries = [...value].map(([key, item]): [unknown, unknown] => [step(key), step(item)]);
    return changed ? new Map(entries) : value;
  }
  const items = [...value].map(step);
  return changed ? new Set(items) : value;
}

/**
 * The first shareable inside `value`, if any. Iterative, with a seen set: cyclic and deeply nested
 * data (which structured clone accepts) must neither recurse forever nor overflow the stack.
 */
function findShareable(root: object): Shareable | undefined {
  const seen = new Set<object>([root]);
  const stack: object[] = [root];
  const visit = (item: unknown) => {
    if (typeof item === 'object' && item !== null && !seen.has(item)) {
      seen.add(item);
      stack.push(item);
    }
  };
  for (let next = stack.pop(); next !== undefined; next = stack.pop()) {
    if (isShareable(next)) return next;
    if (Array.isArray(next)) {
      // Indexes without Object.keys: a big map chunk is mostly numbers and strings.
      for (let i = 0; i < next.length; i++) {
        const item: unknown = next[i];
        if (typeof item === 'object' && item !== null) visit(item);
      }
    } else {
      const items = children(next);
      if (items) for (const item of items) visit(item);
    }
  }
  return undefined;
}

/** Defines rather than assigns: an own `__proto__` key must stay a key, not become the prototype. */
function setOwn(target: Record<string, unknown>, key: string, item: unknown): void {
  if (key === '__proto__')
    Object.defineProperty(target, key, { value: item, writable: true, enumerable: true, configurable: true });
  else target[key] = item;
}

/**
 * Copies the walked containers of `root`, shareables replaced by placeholders. Each source object
 * maps to one copy (`copies`), so cycles close on the copies and an object met twice is one object
 * on the other side, as structured clone would give. Iterative, like `findShareable`.
 */
function pack(
  root: object,
  transfer: TransferListItem[],
  table: NonNullable<Packed['s']>,
  refuse?: (what: string) => Error,
): unknown {
  const copies = new Map<object, unknown>();
  const pending: [source: object, copy: object][] = [];
  const copyOf = (item: unknown): unknown => {
    if (typeof item !== 'object' || item === null) return item;
    if (copies.has(item)) return copies.get(item);
    if (isShareable(item)) {
      const description = item[kShare]();
      if (refuse && !description.crossesProcesses) throw refuse(description.type);
      if (description.transfer) transfer.push(...description.transfer);
      const placeholder = {};
      table.push([placeholder, description.type, description.state]);
      copies.set(item, placeholder);
      return placeholder;
    }
    let copy: object | undefined;
    if (Array.isArray(item)) copy = new Array(item.length);
    else if (isPlainObject(item)) copy = {};
    else if (item instanceof Map) copy = new Map();
    else if (item instanceof Set) copy = new Set();
    copies.set(item, copy ?? item);
    if (copy) pending.push([item, copy]);
    return copy ?? item;
  };
  const out = copyOf(root);
  for (let next = pending.pop(); next !== undefined; next = pending.pop()) {
    const [source, copy] = next;
    if (source instanceof Map) for (const [key, item] of source) (copy as Map<unknown, unknown>).set(copyOf(key), copyOf(item));
    else if (source instanceof Set) for (const item of source) (copy as Set<unknown>).add(copyOf(item));
    else
      for (const key of Object.keys(source))
        setOwn(copy as Record<string, unknown>, key, copyOf((source as Record<string, unknown>)[key]));
  }
  return out;
}

/**
 * Prepares a value to cross to a worker (task arguments, results): shareables become placeholders
 * listed in a side table (see `Packed`). `transfer` collects MessagePorts to pass as transferables.
 * `refuse` (`processRefusal` for a process worker, see memory.ts) turns a shareable into an error. Without shareables (the
 * common case) the value itself goes, uncopied.
 */
export function encode(value: unknown, transfer: TransferListItem[], refuse?: (what: string) => Error): unknown {
  if (typeof value !== 'object' || value === null) return { v: value } satisfies Packed;
  const found = findShareable(value);
  if (!found) return { v: value } satisfies Packed;
  const table: NonNullable<Packed['s']> = [];
  return { v: pack(value, transfer, table, refuse), s: table } satisfies Packed;
}

/** Replaces, in place, the placeholders inside a received value by what `revived` maps them to. */
function unpack(root: unknown, revived: Map<object, unknown>): unknown {
  const swap = (item: unknown) => (typeof item === 'object' && item !== null && revived.has(item) ? revived.get(item) : item);
  if (typeof root !== 'object' || root === null) return root;
  if (revived.has(root)) return revived.get(root);
  const seen = new Set<object>([root]);
  const stack: object[] = [root];
  for (let next = stack.pop(); next !== undefined; next = stack.pop()) {
    if (next instanceof Map || next instanceof Set) {
      const entries = [...next];
      next.clear();
      for (const entry of entries) {
        if (next instanceof Map) next.set(swap((entry as unknown[])[0]), swap((entry as unknown[])[1]));
        else next.add(swap(entry));
      }
    } else if (Array.isArray(next) || isPlainObject(next)) {
      for (const key of Object.keys(next)) {
        const item = (next as Record<string, unknown>)[key];
        const swapped = swap(item);
        if (swapped !== item) setOwn(next as Record<string, unknown>, key, swapped);
      }
    } else {
      continue;
    }
    for (const item of children(next)!) {
      if (typeof item === 'object' && item !== null && !seen.has(item) && !revived.has(item)) {
        seen.add(item);
        stack.push(item);
      }
    }
  }
  return root;
}

/** Whether `decode(packed)` revives shared objects (a worker loads their classes only then). */
export function hasShared(packed: unknown): boolean {
  return (packed as Packed).s !== undefined;
}

/** Rebuilds the value `encode` gave, after it crossed the boundary (it is changed in place). */
export function decode(packed: unknown): unknown {
  const { v, s } = packed as Packed;
  if (!s) return v;
  const revived = new Map<object, unknown>();
  for (const [placeholder, type, state] of s) {
    const revive = revivers.get(type);
    if (!revive) throw new TypeError(`napi-multiprocessing: no reviver registered for shared type '${type}'`);
    revived.set(placeholder, revive(state));
  }
  return unpack(v, revived);
}
