/**
 * The objects a SyncManager holds for dict, list, Namespace, Value and Array. Their methods are
 * called with data a client sent, so each one checks its arguments as a public API would.
 */
import { isDeepStrictEqual } from 'node:util';

import { codedError } from '../errors.js';
import { RawArray, RawValue, type Typecode } from '../sharedctypes/sharedctypes.js';
import { invalidType, outOfRange, validateInteger, validateObject } from '../validate.js';

const MAX = Number.MAX_SAFE_INTEGER;

/** Pairs from a Map, an array (or Set) of [key, value] pairs, or a plain object's own entries. */
function pairsOf(value: unknown, name: string): [unknown, unknown][] {
  if (value instanceof Map) return [...value];
  if (Array.isArray(value) || value instanceof Set) {
    return [...value].map((pair, i) => {
      if (!Array.isArray(pair) || pair.length !== 2) throw invalidType(`${name}[${i}]`, 'a [key, value] pair', pair);
      return [pair[0], pair[1]];
    });
  }
  validateObject(value, name);
  return Object.entries(value);
}

/** `dict`: Map semantics (keys 1 and '1' differ), Python's method names where Map has none. */
export class DictReferent {
  readonly #map = new Map<unknown, unknown>();

  constructor(init?: unknown) {
    if (init !== undefined && init !== null) this.update(init);
  }

  set(key: unknown, value: unknown): void {
    this.#map.set(key, value);
  }

  get(key: unknown, dflt?: unknown): unknown {
    return this.#map.has(key) ? this.#map.get(key) : dflt;
  }

  has(key: unknown): boolean {
    return this.#map.has(key);
  }

  delete(key: unknown): boolean {
    return this.#map.delete(key);
  }

  keys(): unknown[] {
    return [...this.#map.keys()];
  }

  values(): unknown[] {
    return [...this.#map.values()];
  }

  entries(): [unknown, unknown][] {
    return [...this.#map.entries()];
  }

  size(): number {
    return this.#map.size;
  }

  update(entries: unknown): void {
    for (const [key, value] of pairsOf(entries, 'entries')) this.#map.set(key, value);
  }

  copy(): Map<unknown, unknown> {
    return new Map(this.#map);
  }

  clear(): void {
    this.#map.clear();
  }

  /** Removes `key` and returns its value; without a default, a missing key is an error (Python's KeyError). */
  pop(key: unknown, ...dflt: unknown[]): unknown {
    if (!this.#map.has(key)) {
      if (dflt.length > 0) return dflt[0];
      throw codedError('ERR_KEY_NOT_FOUND', `Key not found: ${String(key)}`);
    }
    const value = this.#map.get(key);
    this.#map.delete(key);
    return value;
  }

  setdefault(key: unknown, dflt?: unknown): unknown {
    if (!this.#map.has(key)) this.#map.set(key, dflt);
    return this.#map.get(key);
  }
}

/** An index as Python reads it: negative counts from the end. */
function position(index: unknown, length: number): number {
  validateInteger(index, 'index', -MAX, MAX);
  const at = (index as number) < 0 ? (index as number) + length : (index as number);
  if (at < 0 || at >= length) throw outOfRange('index', `>= ${-length} and < ${length} (list index)`, index);
  return at;
}

function clampSlice(index: unknown, length: number, dflt: number, name: string): number {
  if (index === undefined || index === null) return dflt;
  validateInteger(index, name, -MAX, MAX);
  const at = (index as number) < 0 ? (index as number) + length : (index as number);
  return Math.min(Math.max(at, 0), length);
}

/** Python's sort order for one kind of value: numbers (or bigints) by value, strings by code unit. */
function compareAll(items: unknown[]): (a: unknown, b: unknown) => number {
  const kinds = new Set(items.map((item) => (typeof item === 'bigint' ? 'number' : typeof item)));
  if (kinds.size > 1 || (kinds.size === 1 && !kinds.has('number') && !kinds.has('string'))) {
    throw new TypeError(`sort() compares numbers or strings, of one kind; this list holds ${[...kinds].join(' and ')}`);
  }
  return (a, b) => ((a as number) < (b as number) ? -1 : (a as number) > (b as number) ? 1 : 0);
}

export class ListReferent {
  readonly #items: unknown[];

  constructor(init?: unknown) {
    if (init === undefined || init === null) this.#items = [];
    else if (Array.isArray(init)) this.#items = init;
    else if (init instanceof Set) this.#items = [...init];
    else throw invalidType('init', 'an array', init);
  }

  append(value: unknown): void {
    this.#items.push(value);
  }

  extend(values: unknown): void {
    if (!Array.isArray(values)) throw invalidType('values', 'an array', values);
    for (const value of values) this.#items.push(value);
  }

  get(index: unknown): unknown {
    return this.#items[position(index, this.#items.length)];
  }

  set(index: unknown, value: unknown): void {
    this.#items[position(index, this.#items.length)] = value;
  }

  pop(index: unknown = -1): unknown {
    if (this.#items.length === 0) throw outOfRange('index', 'within a non-empty list (pop from an empty list)', index);
    return this.#items.splice(position(index, this.#items.length), 1)[0];
  }

  insert(index: unknown, value: unknown): void {
    this.#items.splice(clampSlice(index, this.#items.length, 0, 'index'), 0, value);
  }

  length(): number {
    return this.#items.length;
  }

  copy(): unknown[] {
    return this.#items.slice();
  }

  slice(start?: unknown, end?: unknown): unknown[] {
    const n = this.#items.length;
    return this.#items.slice(clampSlice(start, n, 0, 'start'), clampSlice(end, n, n, 'end'));
  }

  /** First position of a value equal to `value` (deep equality, as Python's ==). */
  index(value: unknown): number {
    const at = this.#items.findIndex((item) => isDeepStrictEqual(item, value));
    if (at < 0) throw codedError('ERR_VALUE_NOT_FOUND', 'The value is not in the list');
    return at;
  }

  count(value: unknown): number {
    return this.#items.filter((item) => isDeepStrictEqual(item, value)).length;
  }

  remove(value: unknown): void {
    this.#items.splice(this.index(value), 1);
  }

  reverse(): void {
    this.#items.reverse();
  }

  sort(options?: unknown): void {
    let reverse = false;
    if (options !== undefined) {
      validateObject(options, 'options');
      reverse = (options as { reverse?: unknown }).reverse === true;
    }
    this.#items.sort(compareAll(this.#items));
    if (reverse) this.#items.reverse();
  }

  clear(): void {
    this.#items.length = 0;
  }
}

function validateName(name: unknown): string {
  if (typeof name !== 'string') throw invalidType('name', 'of type string', name);
  return name;
}

/** `Namespace`: named attributes, kept in a Map so that no name can reach a prototype. */
export class NamespaceReferent {
  readonly #attributes = new Map<string, unknown>();

  constructor(init?: unknown) {
    if (init === undefined || init === null) return;
    validateObject(init, 'init');
    for (const [name, value] of Object.entries(init)) this.#attributes.set(name, value);
  }

  get(name: unknown): unknown {
    return this.#attributes.get(validateName(name));
  }

  set(name: unknown, value: unknown): void {
    this.#attributes.set(validateName(name), value);
  }

  has(name: unknown): boolean {
    return this.#attributes.has(validateName(name));
  }

  delete(name: unknown): boolean {
    return this.#attributes.delete(validateName(name));
  }

  copy(): Record<string, unknown> {
    return Object.fromEntries(this.#attributes);
  }
}

/** `Value(typecode, value)`: one typed value (checked and converted as a RawValue does). */
export class ValueReferent {
  readonly #value: RawValue;

  constructor(typecode: unknown, value?: unknown) {
    this.#value = new RawValue(typecode as Typecode, value as number);
  }

  get(): unknown {
    return this.#value.value;
  }

  set(value: unknown): void {
    this.#value.value = value as number;
  }
}

/** `Array(typecode, sequence)`: a typed array (Python's array.array in the manager). */
export class ArrayReferent {
  readonly #array: RawArray;

  constructor(typecode: unknown, sequence: unknown) {
    this.#array = new RawArray(typecode as Typecode, sequence as number);
  }

  length(): number {
    return this.#array.length;
  }

  get(index: unknown): unknown {
    return this.#array.get(position(index, this.#array.length));
  }

  set(index: unknown, value: unknown): void {
    this.#array.set(position(index, this.#array.length), value as number);
  }

  toArray(): unknown[] {
    return this.#array.toArray();
  }
}
