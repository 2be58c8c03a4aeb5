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
 * replacing each shareable by its description; `decode` does the reverse. Other objects (class
 * instances, typed arrays) are not walked, so ordinary values cost one type check.
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
  /** Usable in another process too (a manager proxy), so a process worker accepts it. */
  crossesProcesses?: boolean;
}

export interface Shareable {
  [kShare](): ShareDescription;
}

const MARK = '__napiMultiprocessingShared';

interface Encoded {
  [MARK]: string;
  state: unknown;
}

const revivers = new Map<string, (state: unknown) => unknown>();

/** Registers how to rebuild a shareable of `type` from its state (each module does this at load). */
export function registerShareable(type: string, revive: (state: unknown) => unknown): void {
  revivers.set(type, revive);
}

export function isShareable(value: unknown): value is Shareable {
  return typeof value === 'object' && value !== null && typeof (value as Partial<Shareable>)[kShare] === 'function';
}

function isPlainObject(value: object): boolean {
  const proto = Object.getPrototypeOf(value);
  return proto === Object.prototype || proto === null;
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
 * Replaces shareables inside `value` by their descriptions. `transfer` collects MessagePorts to
 * pass as transferables. `refuse` (set by the process backend) turns a shareable into an error.
 */
export function encode(value: unknown, transfer: TransferListItem[], refuse?: (what: string) => Error): unknown {
  if (typeof value !== 'object' || value === null) return value;
  if (isShareable(value)) {
    const description = value[kShare]();
    if (refuse && !description.crossesProcesses) throw refuse(description.type);
    if (description.transfer) transfer.push(...description.transfer);
    return { [MARK]: description.type, state: description.state } satisfies Encoded;
  }
  if (Array.isArray(value)) {
    let out: unknown[] | undefined;
    for (let i = 0; i < value.length; i++) {
      const item = value[i];
      // Inline primitive check: a big map chunk is mostly numbers and strings.
      if (typeof item !== 'object' || item === null) continue;
      const encoded = encode(item, transfer, refuse);
      if (encoded !== item) (out ??= value.slice())[i] = encoded;
    }
    return out ?? value;
  }
  if (isPlainObject(value)) {
    let out: Record<string, unknown> | undefined;
    for (const key of Object.keys(value)) {
      const item = (value as Record<string, unknown>)[key];
      const encoded = encode(item, transfer, refuse);
      if (encoded !== item) (out ??= { ...(value as Record<string, unknown>) })[key] = encoded;
    }
    return out ?? value;
  }
  if (value instanceof Map || value instanceof Set) return walkCollection(value, (item) => encode(item, transfer, refuse));
  return value;
}

/** Rebuilds shareables inside a value produced by `encode` (after it crossed the boundary). */
export function decode(value: unknown): unknown {
  if (typeof value !== 'object' || value === null) return value;
  if (Array.isArray(value)) {
    for (let i = 0; i < value.length; i++) {
      const item = value[i];
      if (typeof item === 'object' && item !== null) value[i] = decode(item);
    }
    return value;
  }
  if (value instanceof Map || value instanceof Set) return walkCollection(value, decode);
  if (!isPlainObject(value)) return value;
  const type = (value as Partial<Encoded>)[MARK];
  if (typeof type === 'string') {
    const revive = revivers.get(type);
    if (!revive) throw new TypeError(`napi-multiprocessing: no reviver registered for shared type '${type}'`);
    return revive((value as Encoded).state);
  }
  for (const key of Object.keys(value)) (value as Record<string, unknown>)[key] = decode((value as Record<string, unknown>)[key]);
  return value;
}

/** The error a process worker gives for a shared object (no process-shared memory yet). */
export function refuseForProcess(type: string): TypeError {
  // "An Event", "An RLock" (said "ar-lock"), but "A RawValue", "A Queue".
  const article = /^[AEIOU]|^[FHLMNRSX][A-Z]/.test(type) ? 'An' : 'A';
  return new TypeError(
    `${article} ${type} cannot be sent to a 'process' worker: it lives in memory shared between threads of one process. ` +
      `Use backend 'thread' (the default) to share it, or send plain values.`,
  );
}
