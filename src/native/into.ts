/**
 * Native kernels that write into shared memory while JS watches: `native.sumPrimesInto`.
 *
 * Results land in a SharedArray (or a typed array on a SharedArrayBuffer) one by one, from rayon
 * threads, through atomics, and an optional shared `progress` Value counts finished inputs, so
 * the main thread (or any worker holding the same objects) can draw a progress bar while the
 * Promise is pending. Without the native binary the same API runs in TypeScript on the calling
 * thread, one input per event-loop turn, so it still never blocks the loop for long.
 */
import { availableParallelism } from 'node:os';

import { binding, fromNative } from './binding.js';
import { sumPrimesExact } from './fallback.js';
import type { RawArray, RawValue, SharedArray, Value, Typecode } from '../sharedctypes/sharedctypes.js';
import { isShareable } from '../reduction/transfer.js';
import {
  invalidType,
  invalidValue,
  outOfRange,
  rangeError,
  validateInteger,
  validateOptions,
  type OptionNames,
} from '../validate.js';
import { isProcessShared } from '../shm/memory.js';

type OutArray = Float64Array | BigUint64Array | BigInt64Array;
type Out = SharedArray<'d' | 'q' | 'Q' | 'l' | 'L'> | RawArray<'d' | 'q' | 'Q' | 'l' | 'L'> | OutArray;

export interface SumPrimesIntoOptions {
  /** Rayon threads for this call. Default: `os.availableParallelism()`. */
  threads?: number;
  /** A shared integer Value (any integer typecode) incremented once per finished input. */
  progress?: Value | RawValue;
}

const SUM_PRIMES_INTO_OPTIONS: OptionNames<SumPrimesIntoOptions> = { threads: true, progress: true };
const OUT_TYPECODES = new Set<Typecode>(['d', 'q', 'Q', 'l', 'L']);
const PROGRESS_TYPECODES = new Set<Typecode>(['b', 'B', 'h', 'H', 'i', 'I', 'l', 'L', 'q', 'Q']);

/**
 * A Value/SharedArray of this package, recognised by its shape and share brand rather than by
 * `instanceof`: in a pool worker, objects arrive revived by the worker bundle's copy of the
 * classes, while a task module importing the package gets the main bundle's.
 */
function isSharedCType(x: unknown): x is { typecode: Typecode; typed: ArrayBufferView } & (Value | SharedArray) {
  return (
    isShareable(x) &&
    typeof (x as { typecode?: unknown }).typecode === 'string' &&
    ArrayBuffer.isView((x as { typed?: unknown }).typed)
  );
}

function checkInputs(inputs: unknown): Float64Array {
  if (inputs instanceof Uint32Array) return Float64Array.from(inputs);
  if (!Array.isArray(inputs) && !ArrayBuffer.isView(inputs)) {
    throw invalidType('inputs', 'a Uint32Array or an array of non-negative integers', inputs);
  }
  const list = inputs as ArrayLike<unknown>;
  const out = new Float64Array(list.length);
  for (let i = 0; i < list.length; i++) {
    const n = list[i];
    if (typeof n !== 'number') throw invalidType(`inputs[${i}]`, 'of type number', n);
    if (!Number.isSafeInteger(n) || n < 0)
      throw outOfRange(`inputs[${i}]`, `an integer >= 0 and <= ${Number.MAX_SAFE_INTEGER}`, n);
    out[i] = n;
  }
  return out;
}

function checkOut(out: unknown, length: number): { view: OutArray; kind: 'f64' | 'u64' | 'i64' } {
  let view: unknown = out;
  if (isSharedCType(out)) {
    if (!OUT_TYPECODES.has(out.typecode)) {
      throw invalidValue(`The "out" SharedArray must have typecode 'd', 'q', 'Q', 'l' or 'L'. Received '${out.typecode}'`);
    }
    view = out.typed;
  }
  if (!(view instanceof Float64Array || view instanceof BigUint64Array || view instanceof BigInt64Array)) {
    throw invalidType('out', "a SharedArray ('d', 'q', 'Q', 'l' or 'L') or a Float64Array, BigInt64Array or BigUint64Array", out);
  }
  if (!(view.buffer instanceof SharedArrayBuffer) && !isProcessShared(view.buffer)) {
    // Native threads write while JS runs: a plain ArrayBuffer could be detached (transferred)
    // under them, and other threads could not see the results anyway.
    throw invalidType('out', 'backed by a SharedArrayBuffer', out);
  }
  if (view.length !== length) {
    throw outOfRange('out', `of the same length as inputs (${length})`, `length ${view.length}`);
  }
  const kind = view instanceof Float64Array ? 'f64' : view instanceof BigUint64Array ? 'u64' : 'i64';
  return { view, kind };
}

function checkProgress(progress: unknown): Value | RawValue | undefined {
  if (progress === undefined) return undefined;
  if (!isSharedCType(progress) || !('value' in progress) || !PROGRESS_TYPECODES.has(progress.typecode)) {
    throw invalidType('options.progress', 'a Value with an integer typecode (b B h H i I l L q Q)', progress);
  }
  return progress;
}

function bytesOf(view: ArrayBufferView): Uint8Array {
  return new Uint8Array(view.buffer, view.byteOffset, view.byteLength);
}

function notExact(index: number, sum: bigint, kind: string): RangeError {
  return rangeError(
    `the sum for inputs[${index}] is ${sum}, which the output element type cannot hold exactly` +
      (kind === 'f64' ? "; use a 'Q' (BigUint64Array) output" : ''),
  );
}

const I64_MAX = 2n ** 63n - 1n;
const U64_MAX = 2n ** 64n - 1n;

async function sumPrimesIntoTs(
  inputs: Float64Array,
  view: OutArray,
  kind: string,
  progress: Value | RawValue | undefined,
): Promise<void> {
  const yieldToLoop = () => new Promise<void>((resolve) => setImmediate(resolve));
  let firstBad: RangeError | undefined;
  for (let i = 0; i < inputs.length; i++) {
    await yieldToLoop();
    const exact = sumPrimesExact(inputs[i]!);
    const sum = BigInt(exact);
    if (kind === 'f64') {
      if (typeof exact === 'number') view[i] = exact;
      else firstBad ??= notExact(i, sum, kind);
    } else if (sum <= (kind === 'u64' ? U64_MAX : I64_MAX)) {
      Atomics.store(view as BigInt64Array, i, sum);
    } else {
      firstBad ??= notExact(i, sum, kind);
    }
    progress?.add((typeof progress.value === 'bigint' ? 1n : 1) as never);
  }
  if (firstBad) throw firstBad;
}

/**
 * `out[i] = sumPrimes(inputs[i])`, computed on `threads` native threads and stored as each one
 * finishes; `progress` grows by one per finished input. Resolves with `out` once all are done.
 */
export async function sumPrimesInto<O extends Out>(
  inputs: Uint32Array | readonly number[],
  out: O,
  options: SumPrimesIntoOptions = {},
): Promise<O> {
  const numbers = checkInputs(inputs);
  const { view, kind } = checkOut(out, numbers.length);
  validateOptions<SumPrimesIntoOptions>(options, 'options', SUM_PRIMES_INTO_OPTIONS);
  const threads =
    options.threads === undefined ? availableParallelism() : validateInteger(options.threads, 'options.threads', 1, 1024);
  const progress = checkProgress(options.progress);
  if (!binding) {
    await sumPrimesIntoTs(numbers, view, kind, progress);
    return out;
  }
  try {
    // `out` and `progress` stay referenced here and inside the native task until it ends.
    await binding.sumPrimesInto(numbers, bytesOf(view), kind, progress ? bytesOf(progress.typed) : undefined, threads);
  } catch (error) {
    throw fromNative(error);
  }
  return out;
}
