/**
 * Python's `multiprocessing.sharedctypes`: `Value`, `SharedArray` (Python's `Array`), `RawValue`,
 * `RawArray`, over a SharedArrayBuffer, so every thread that holds one sees the same memory.
 *
 * Integer elements are read and written with Atomics (no torn 64-bit reads) and `add()` is an
 * atomic read-modify-write. Like in Python, `v.value += 1` is NOT atomic: it is a read followed
 * by a write, and two threads doing it at once can lose increments. Either use `v.add(1)`, or
 * hold the lock around the read-modify-write:
 *
 *     using _ = v.getLock().holdSync();   // or: await v.getLock().withLock(() => { v.value += 1; })
 *     v.value += 1;
 */
import { inspect, type InspectOptionsStylized } from 'node:util';

import { codedError } from '../errors.js';
import { RLock, Lock } from '../synchronize/locks.js';
import { decode, encode, kShare, registerShareable, type ShareDescription } from '../reduction/transfer.js';
import { invalidType, outOfRange, validateOptions, type OptionNames } from '../validate.js';
import { peekRevival, reviveWith, sharedId, takeRevival } from '../shm/waiting.js';
import { allocateShared, unwire, wire, type SharedMemory, type WiredMemory } from '../shm/memory.js';

export type IntegerTypecode = 'b' | 'B' | 'h' | 'H' | 'i' | 'I';
export type BigIntTypecode = 'l' | 'L' | 'q' | 'Q';
export type FloatTypecode = 'f' | 'd';
export type Typecode = IntegerTypecode | BigIntTypecode | FloatTypecode;

/** The JS type of an element: bigint for the 64-bit integer typecodes, number otherwise. */
export type ElementOf<C extends Typecode> = C extends BigIntTypecode ? bigint : number;

interface TypedArrayOf {
  b: Int8Array;
  B: Uint8Array;
  h: Int16Array;
  H: Uint16Array;
  i: Int32Array;
  I: Uint32Array;
  l: BigInt64Array;
  L: BigUint64Array;
  q: BigInt64Array;
  Q: BigUint64Array;
  f: Float32Array;
  d: Float64Array;
}
export type TypedArrayFor<C extends Typecode> = TypedArrayOf[C];

type AnyTyped =
  | Int8Array
  | Uint8Array
  | Int16Array
  | Uint16Array
  | Int32Array
  | Uint32Array
  | BigInt64Array
  | BigUint64Array
  | Float32Array
  | Float64Array;

interface Kind {
  ctor: new (buffer: SharedMemory, byteOffset?: number, length?: number) => AnyTyped;
  size: number;
  /** 'int': number with min/max, 'big': bigint with min/max, 'float': any number. */
  kind: 'int' | 'big' | 'float';
  min: number | bigint;
  max: number | bigint;
}

const KINDS: Record<Typecode, Kind> = {
  b: { ctor: Int8Array, size: 1, kind: 'int', min: -128, max: 127 },
  B: { ctor: Uint8Array, size: 1, kind: 'int', min: 0, max: 255 },
  h: { ctor: Int16Array, size: 2, kind: 'int', min: -32768, max: 32767 },
  H: { ctor: Uint16Array, size: 2, kind: 'int', min: 0, max: 65535 },
  i: { ctor: Int32Array, size: 4, kind: 'int', min: -(2 ** 31), max: 2 ** 31 - 1 },
  I: { ctor: Uint32Array, size: 4, kind: 'int', min: 0, max: 2 ** 32 - 1 },
  l: { ctor: BigInt64Array, size: 8, kind: 'big', min: -(2n ** 63n), max: 2n ** 63n - 1n },
  L: { ctor: BigUint64Array, size: 8, kind: 'big', min: 0n, max: 2n ** 64n - 1n },
  q: { ctor: BigInt64Array, size: 8, kind: 'big', min: -(2n ** 63n), max: 2n ** 63n - 1n },
  Q: { ctor: BigUint64Array, size: 8, kind: 'big', min: 0n, max: 2n ** 64n - 1n },
  f: { ctor: Float32Array, size: 4, kind: 'float', min: -Infinity, max: Infinity },
  d: { ctor: Float64Array, size: 8, kind: 'float', min: -Infinity, max: Infinity },
};

const TYPECODES = Object.keys(KINDS).join(' ');

function kindOf(typecode: unknown): Kind {
  if (typeof typecode !== 'string') throw invalidType('typecode', `one of the strings ${TYPECODES}`, typecode);
  const kind = Object.hasOwn(KINDS, typecode) ? KINDS[typecode as Typecode] : undefined;
  if (!kind) {
    const error = new TypeError(`The "typecode" argument must be one of ${TYPECODES}. Received '${typecode}'`) as TypeError & {
      code: string;
    };
    error.code = 'ERR_INVALID_ARG_VALUE';
    throw error;
  }
  return kind;
}

/** Checks that `v` fits an element of `kind`, naming the argument when it does not. */
function checkElement(kind: Kind, typecode: string, v: unknown, name: string): number | bigint {
  if (kind.kind === 'big') {
    if (typeof v !== 'bigint') throw invalidType(name, `of type bigint (typecode '${typecode}' is 64-bit)`, v);
    if (v < (kind.min as bigint) || v > (kind.max as bigint))
      throw outOfRange(name, `>= ${kind.min}n and <= ${kind.max}n for typecode '${typecode}'`, v);
    return v;
  }
  if (typeof v !== 'number') throw invalidType(name, `of type number (typecode '${typecode}')`, v);
  if (kind.kind === 'int' && (!Number.isInteger(v) || v < (kind.min as number) || v > (kind.max as number))) {
    throw outOfRange(name, `an integer >= ${kind.min} and <= ${kind.max} for typecode '${typecode}'`, v);
  }
  return v;
}

/** Float views cannot use Atomics, so `add` goes through an integer view of the same bytes. */
function floatAdd(typed: Float32Array | Float64Array, index: number, delta: number): number {
  // Typed as Int32Array: BigInt64Array takes the same calls, with bigint words the loop only copies.
  const Bits = (typed instanceof Float32Array ? Int32Array : BigInt64Array) as typeof Int32Array;
  const bits = new Bits(typed.buffer, typed.byteOffset, typed.length);
  const scratch = new (typed.constructor as typeof Float64Array)(1);
  const scratchBits = new Bits(scratch.buffer);
  for (;;) {
    const old = Atomics.load(bits, index);
    scratchBits[0] = old;
    scratch[0] = scratch[0]! + delta;
    if (Atomics.compareExchange(bits, index, old, scratchBits[0]!) === old) return scratch[0]!;
  }
}

function wrapInteger(kind: Kind, v: number | bigint): number | bigint {
  // What the element now holds after a wrapping add (typed arrays wrap like C integers).
  const one = new (kind.ctor as unknown as new (n: number) => AnyTyped)(1);
  (one as unknown as (number | bigint)[])[0] = v;
  return (one as unknown as (number | bigint)[])[0]!;
}

function validateIndex(index: unknown, length: number): number {
  if (typeof index !== 'number') throw invalidType('index', 'of type number', index);
  if (!Number.isInteger(index) || index < -length || index >= length) {
    throw outOfRange(
      'index',
      length === 0 ? 'a valid index (the array is empty)' : `an integer >= ${-length} and <= ${length - 1}`,
      index,
    );
  }
  return index < 0 ? index + length : index;
}

interface LockOption {
  /** `true` (default): a new RLock; `false`: no lock; or a Lock/RLock to share. */
  lock?: boolean | Lock | RLock;
}

const LOCK_OPTIONS: OptionNames<LockOption> = { lock: true };

function makeLock(options: LockOption | undefined): Lock | RLock | null {
  if (options === undefined) return new RLock();
  validateOptions<LockOption>(options, 'options', LOCK_OPTIONS);
  const { lock = true } = options;
  if (lock === true) return new RLock();
  if (lock === false) return null;
  if (lock instanceof Lock || lock instanceof RLock) return lock;
  throw invalidType('options.lock', 'a boolean, a Lock or an RLock', lock);
}

interface CTypeState {
  id: string;
  typecode: Typecode;
  buffer: WiredMemory;
  byteOffset: number;
  length: number;
  lock: unknown;
}

/** Shared core of the four classes: a typed view on shared memory, element checks, atomics. */
abstract class SharedCType<C extends Typecode> {
  readonly typecode: C;
  readonly #kind: Kind;
  readonly #typed: AnyTyped;
  readonly #atomic: boolean;
  readonly #lock: Lock | RLock | null;
  readonly #id: string;

  protected constructor(typecode: C, length: number | undefined, lock: Lock | RLock | null) {
    const revival = takeRevival<CTypeState>();
    if (revival) {
      this.typecode = revival.typecode as C;
      this.#kind = KINDS[revival.typecode];
      this.#typed = new this.#kind.ctor(unwire(revival.buffer), revival.byteOffset, revival.length);
      this.#lock = revival.lock === null ? null : (decode(revival.lock) as Lock | RLock);
    } else {
      this.#kind = kindOf(typecode);
      this.typecode = typecode;
      this.#typed = new this.#kind.ctor(allocateShared(Math.max(this.#kind.size * length!, 8)), 0, length);
      this.#lock = lock;
    }
    this.#atomic = this.#kind.kind !== 'float';
    this.#id = sharedId(this, revival);
  }

  /** @internal Another object on the same memory (getObj): `make` runs its constructor. */
  protected _sameMemory<T extends object>(type: string, make: () => T, lock: Lock | RLock | null): T {
    const state = this._state(lock);
    return reviveWith(`${this.#id}/${type}`, { ...state, id: `${this.#id}/${type}` }, make);
  }

  /** @internal */
  protected _state(lock: Lock | RLock | null): CTypeState {
    const t = this.#typed;
    return {
      id: this.#id,
      typecode: this.typecode,
      buffer: wire(t.buffer as SharedMemory),
      byteOffset: t.byteOffset,
      length: t.length,
      lock: lock === null ? null : encode(lock, []),
    };
  }

  /** @internal */
  protected _lock(): Lock | RLock | null {
    return this.#lock;
  }

  /** A TypedArray view of the shared memory (writes through it are seen by every thread). */
  get typed(): TypedArrayFor<C> {
    return this.#typed as TypedArrayFor<C>;
  }

  /** @internal */
  protected _get(i: number): ElementOf<C> {
    const t = this.#typed;
    return (this.#atomic ? Atomics.load(t as Int32Array, i) : t[i]) as ElementOf<C>;
  }

  /** @internal */
  protected _set(i: number, v: unknown, name: string): void {
    const checked = checkElement(this.#kind, this.typecode, v, name);
    const t = this.#typed;
    if (this.#atomic) Atomics.store(t as Int32Array, i, checked as number);
    else (t as Float64Array)[i] = checked as number;
  }

  /** @internal Atomic add; returns the new value (wrapped as the element type wraps, for integers). */
  protected _add(i: number, delta: unknown): ElementOf<C> {
    const kind = this.#kind;
    const t = this.#typed;
    if (kind.kind === 'big') {
      if (typeof delta !== 'bigint') throw invalidType('delta', `of type bigint (typecode '${this.typecode}' is 64-bit)`, delta);
      const old = Atomics.add(t as BigInt64Array, i, delta);
      return wrapInteger(kind, old + delta) as ElementOf<C>;
    }
    if (typeof delta !== 'number') throw invalidType('delta', `of type number (typecode '${this.typecode}')`, delta);
    if (kind.kind === 'float') return floatAdd(t as Float64Array, i, delta) as ElementOf<C>;
    if (!Number.isSafeInteger(delta)) throw outOfRange('delta', 'a safe integer', delta);
    const old = Atomics.add(t as Int32Array, i, delta);
    return wrapInteger(kind, old + delta) as ElementOf<C>;
  }

  /** @internal */
  protected _toArray(): ElementOf<C>[] {
    const out: ElementOf<C>[] = new Array(this.#typed.length);
    for (let i = 0; i < out.length; i++) out[i] = this._get(i);
    return out;
  }

  /** @internal */
  abstract [kShare](): ShareDescription;
}

function checkLength(sizeOrValues: unknown): { length: number; values?: ArrayLike<unknown> } {
  if (typeof sizeOrValues === 'number') {
    if (!Number.isInteger(sizeOrValues) || sizeOrValues < 0 || sizeOrValues > 2 ** 32) {
      throw outOfRange('sizeOrValues', 'an integer >= 0 and <= 2^32 (or an array of values)', sizeOrValues);
    }
    return { length: sizeOrValues };
  }
  if (
    sizeOrValues !== null &&
    typeof sizeOrValues === 'object' &&
    typeof (sizeOrValues as Iterable<unknown>)[Symbol.iterator] === 'function'
  ) {
    const values = Array.isArray(sizeOrValues) ? sizeOrValues : Array.from(sizeOrValues as Iterable<unknown>);
    return { length: values.length, values };
  }
  throw invalidType('sizeOrValues', 'of type number (a length) or an iterable of values', sizeOrValues);
}

// --- Value ---------------------------------------------------------------------------------------

/** A single element of shared memory (Python's `multiprocessing.Value`), with a lock by default. */
export class Value<C extends Typecode = Typecode> extends SharedCType<C> {
  constructor(typecode: C, initial?: ElementOf<C>, options?: LockOption) {
    if (peekRevival()) {
      super(typecode, 1, null);
      return;
    }
    const kind = kindOf(typecode);
    const init = initial ?? (kind.kind === 'big' ? 0n : 0);
    checkElement(kind, typecode, init, 'initial');
    super(typecode, 1, makeLock(options));
    this._set(0, init, 'initial');
  }

  get value(): ElementOf<C> {
    return this._get(0);
  }

  set value(v: ElementOf<C>) {
    this._set(0, v, 'value');
  }

  /**
   * Atomically adds `delta` (a bigint for 64-bit typecodes) and returns the new value. Beyond
   * Python: there `v.value += 1` is the only way, and it is not atomic.
   */
  add(delta: ElementOf<C>): ElementOf<C> {
    return this._add(0, delta);
  }

  /** The lock guarding compound updates such as `v.value += 1`. Throws when made with `lock: false`. */
  getLock(): Lock | RLock {
    const lock = this._lock();
    if (!lock) throw codedError('ERR_NO_LOCK', 'This Value was created with { lock: false } and has no lock');
    return lock;
  }

  /** The same memory without the lock wrapper (Python's `get_obj()`). */
  getObj(): RawValue<C> {
    return this._sameMemory('raw', () => new RawValue<C>(this.typecode), null);
  }

  override toString(): string {
    return `Value('${this.typecode}', ${String(this.value)})`;
  }

  /** `console.log(value)` shows the typecode and the current value. */
  [inspect.custom](depth: number, options: InspectOptionsStylized): string {
    const name = this.constructor.name;
    if (depth < 0) return options.stylize(`[${name}]`, 'special');
    return `${name} { typecode: ${inspect(this.typecode, options)}, value: ${inspect(this.value, options)} }`;
  }

  /** @internal The transfer protocol (see transfer.ts). */
  override [kShare](): ShareDescription {
    return { type: 'Value', state: this._state(this._lock()) };
  }
}

/** A Value without a lock (Python's `RawValue`). */
export class RawValue<C extends Typecode = Typecode> extends Value<C> {
  constructor(typecode: C, initial?: ElementOf<C>) {
    super(typecode, initial, { lock: false });
  }

  override getLock(): never {
    throw codedError('ERR_NO_LOCK', 'A RawValue has no lock; use Value for one');
  }

  override getObj(): RawValue<C> {
    return this;
  }

  override toString(): string {
    return `RawValue('${this.typecode}', ${String(this.value)})`;
  }

  /** @internal The transfer protocol (see transfer.ts). */
  override [kShare](): ShareDescription {
    return { type: 'RawValue', state: this._state(null) };
  }
}

/** How many items `console.log` shows of a SharedArray. */
const INSPECT_ITEMS = 10;

// --- SharedArray -----------------------------------------------------------------------------------

/**
 * A fixed-length array of shared elements (Python's `multiprocessing.Array`; renamed so it does not
 * shadow the global `Array`), with a lock by default.
 */
export class SharedArray<C extends Typecode = Typecode> extends SharedCType<C> implements Iterable<ElementOf<C>> {
  constructor(typecode: C, sizeOrValues: number | Iterable<ElementOf<C>>, options?: LockOption) {
    if (peekRevival()) {
      super(typecode, 0, null);
      return;
    }
    const kind = kindOf(typecode);
    const { length, values } = checkLength(sizeOrValues);
    if (values) for (let i = 0; i < length; i++) checkElement(kind, typecode, values[i], `sizeOrValues[${i}]`);
    super(typecode, length, makeLock(options));
    if (values) for (let i = 0; i < length; i++) this._set(i, values[i], `sizeOrValues[${i}]`);
  }

  get length(): number {
    return this.typed.length;
  }

  /** Element `index` (negative counts from the end, as in Python). */
  get(index: number): ElementOf<C> {
    return this._get(validateIndex(index, this.length));
  }

  set(index: number, value: ElementOf<C>): void {
    this._set(validateIndex(index, this.length), value, 'value');
  }

  /** Atomically adds `delta` to element `index`; returns the new value. */
  add(index: number, delta: ElementOf<C>): ElementOf<C> {
    return this._add(validateIndex(index, this.length), delta);
  }

  /** A plain JS array copy of the elements. */
  toArray(): ElementOf<C>[] {
    return this._toArray();
  }

  *[Symbol.iterator](): IterableIterator<ElementOf<C>> {
    for (let i = 0; i < this.length; i++) yield this._get(i);
  }

  getLock(): Lock | RLock {
    const lock = this._lock();
    if (!lock) throw codedError('ERR_NO_LOCK', 'This SharedArray was created with { lock: false } and has no lock');
    return lock;
  }

  getObj(): RawArray<C> {
    return this._sameMemory('raw', () => new RawArray<C>(this.typecode, 0), null);
  }

  /** `console.log(array)` shows the typecode, the length and the first few items. */
  [inspect.custom](depth: number, options: InspectOptionsStylized): string {
    const name = this.constructor.name;
    if (depth < 0) return options.stylize(`[${name}]`, 'special');
    const length = this.length;
    const shown = Math.min(length, INSPECT_ITEMS);
    const items: string[] = [];
    for (let i = 0; i < shown; i++) items.push(inspect(this._get(i), options));
    const more = length - shown;
    if (more > 0) items.push(`... ${more} more item${more === 1 ? '' : 's'}`);
    const list = items.length === 0 ? '[]' : `[ ${items.join(', ')} ]`;
    return `${name} { typecode: ${inspect(this.typecode, options)}, length: ${inspect(length, options)}, items: ${list} }`;
  }

  /** @internal The transfer protocol (see transfer.ts). */
  override [kShare](): ShareDescription {
    return { type: 'SharedArray', state: this._state(this._lock()) };
  }
}

/** A SharedArray without a lock (Python's `RawArray`). */
export class RawArray<C extends Typecode = Typecode> extends SharedArray<C> {
  constructor(typecode: C, sizeOrValues: number | Iterable<ElementOf<C>>) {
    super(typecode, sizeOrValues, { lock: false });
  }

  override getLock(): never {
    throw codedError('ERR_NO_LOCK', 'A RawArray has no lock; use SharedArray for one');
  }

  override getObj(): RawArray<C> {
    return this;
  }

  /** @internal The transfer protocol (see transfer.ts). */
  override [kShare](): ShareDescription {
    return { type: 'RawArray', state: this._state(null) };
  }
}

// --- transfer --------------------------------------------------------------------------------------

for (const [type, make] of [
  ['Value', () => new Value('B')],
  ['RawValue', () => new RawValue('B')],
  ['SharedArray', () => new SharedArray('B', 0)],
  ['RawArray', () => new RawArray('B', 0)],
] as [string, () => object][]) {
  registerShareable(type, (state) => reviveWith((state as CTypeState).id, state, make));
}
