/**
 * The `native` kernels: Rust (napi-rs) when a binary loads, the same algorithm in TypeScript when
 * none does. Input checks live here so both implementations fail with identical errors.
 */
import { createRequire } from 'node:module';
import { isMainThread } from 'node:worker_threads';

import { PoolTerminatedError } from '../errors.js';
import * as ts from './fallback.js';
import { sumPrimesInto } from './into.js';
import { invalidType, outOfRange } from '../validate.js';
import type * as BindingModule from '../../native/binding.js';

export type Binding = typeof BindingModule;

/** Set to `1` to ignore the native binary and use the pure-TypeScript kernels. */
export const NO_NATIVE_ENV = 'NAPI_MULTIPROCESSING_NO_NATIVE';

/** The instruction set the native kernels test divisors with (see `native.simd`). */
export type SimdPath = 'avx512' | 'avx2' | 'neon' | 'scalar';

/** Whether a warning about the native side may be printed: once, from the main process only. */
const mayWarn = () => isMainThread && !process.env.NAPI_MULTIPROCESSING_CHILD;

const U64_MAX = 2n ** 64n - 1n;

function loadBinding(): Binding | null {
  if (process.env[NO_NATIVE_ENV] === '1') return null;
  try {
    // The loader sits two folders up from this source file, one up from the bundle in dist/.
    const loader = import.meta.url.endsWith('.ts') ? '../../native/binding.cjs' : '../native/binding.cjs';
    return createRequire(import.meta.url)(loader) as Binding;
  } catch (error) {
    // One warning from the main thread; workers and children fall back quietly.
    if (mayWarn()) {
      // The loader's own text goes on to blame npm's optional-dependency bug, which is the wrong
      // lead for an unsupported platform or --omit=optional: keep its first sentence only.
      const cause = error instanceof Error ? error.message.split('\n')[0]!.replace(/\.\s+npm has a bug.*$/, '.') : String(error);
      process.emitWarning(
        `napi-multiprocessing: no prebuilt native binary loads on ${process.platform}-${process.arch}; ` +
          `using the pure-TypeScript kernels (same results, slower). Cause: ${cause}`,
        { code: 'NAPI_MULTIPROCESSING_NO_NATIVE' },
      );
    }
    return null;
  }
}

/** The loaded addon, or null when the pure-TS kernels are in use. Internal. */
export const binding: Binding | null = loadBinding();

function simdPath(): SimdPath {
  if (!binding) return ts.SIMD_PATH;
  const { path, warning } = binding.simdInfo();
  if (warning && mayWarn()) process.emitWarning(`napi-multiprocessing: ${warning}`, { code: 'NAPI_MULTIPROCESSING_SIMD' });
  return path as SimdPath;
}

/** Turns an error from the addon into the JS error class the contract promises. */
export function fromNative(error: unknown): unknown {
  if (!(error instanceof Error)) return error;
  const code = (error as { code?: unknown }).code;
  if (code === 'InvalidArg') {
    const converted = new RangeError(error.message) as RangeError & { code: string };
    converted.code = 'ERR_OUT_OF_RANGE';
    return converted;
  }
  if (code === 'Cancelled') return new PoolTerminatedError(error.message);
  return error;
}

/** Marks a function as a native kernel, so pools can run it by name in any backend. */
export const kKernel: unique symbol = Symbol.for('napi-multiprocessing.kernel') as never;

export type KernelName = 'isPrime' | 'sumPrimes' | 'sumPrimesBigInt';

/** A native kernel: callable directly, and usable as a task in every Pool backend. */
export type NativeKernel<F extends (...args: never[]) => unknown> = F & { readonly [kKernel]: KernelName };

export function kernelNameOf(fn: unknown): KernelName | undefined {
  return typeof fn === 'function' ? (fn as { [kKernel]?: KernelName })[kKernel] : undefined;
}

function checkNumber(n: number): number {
  if (!Number.isInteger(n) || n < 0) {
    throw outOfRange('n', `an integer >= 0 and <= ${Number.MAX_SAFE_INTEGER}`, n);
  }
  if (n > Number.MAX_SAFE_INTEGER) {
    throw outOfRange('n', `an integer >= 0 and <= ${Number.MAX_SAFE_INTEGER} (2^53 - 1); pass a bigint for larger values`, n);
  }
  return n;
}

function checkBigInt(n: bigint): bigint {
  if (n < 0n || n > U64_MAX) throw outOfRange('n', `a bigint >= 0n and <= ${U64_MAX}n (2^64 - 1)`, n);
  return n;
}

function tooLarge(n: number | bigint): RangeError {
  const error = new RangeError(
    `sumPrimes(${n}) is larger than Number.MAX_SAFE_INTEGER and cannot be returned exactly as a number; use sumPrimesBigInt`,
  ) as RangeError & { code: string };
  error.code = 'ERR_OUT_OF_RANGE';
  return error;
}

const isPrimeNumber = binding ? binding.isPrime : ts.isPrimeNumber;
const isPrimeBig = binding ? binding.isPrimeBig : ts.isPrimeBigInt;

function isPrime(n: number | bigint): boolean {
  if (typeof n === 'number') return isPrimeNumber(checkNumber(n));
  if (typeof n === 'bigint') return isPrimeBig(checkBigInt(n));
  throw invalidType('n', 'of type number or bigint', n);
}

function sumPrimes(n: number): number {
  if (typeof n !== 'number') throw invalidType('n', 'of type number', n);
  checkNumber(n);
  if (binding) {
    try {
      return binding.sumPrimes(n);
    } catch (error) {
      throw fromNative(error);
    }
  }
  const sum = ts.sumPrimesExact(n);
  if (typeof sum === 'bigint') throw tooLarge(n);
  return sum;
}

function sumPrimesBigInt(n: number | bigint): bigint {
  let big: bigint;
  if (typeof n === 'number') big = BigInt(checkNumber(n));
  else if (typeof n === 'bigint') big = checkBigInt(n);
  else throw invalidType('n', 'of type number or bigint', n);
  if (binding) {
    try {
      return binding.sumPrimesBig(big);
    } catch (error) {
      throw fromNative(error);
    }
  }
  return ts.sumPrimesBigInt(big);
}

function asKernel<F extends (...args: never[]) => unknown>(fn: F, name: KernelName): NativeKernel<F> {
  Object.defineProperty(fn, kKernel, { value: name });
  Object.defineProperty(fn, 'name', { value: name });
  return fn as NativeKernel<F>;
}

export interface Native {
  /** True when the Rust binary loaded; false when the kernels run in pure TypeScript. */
  readonly available: boolean;
  /**
   * The instruction set the kernels test divisors with: the widest this CPU has, or the one
   * `NAPI_MULTIPROCESSING_SIMD` names ('scalar' in the pure-TypeScript fallback). Every path gives
   * the same answers.
   */
  readonly simd: SimdPath;
  /** Trial division by every i in 2..=ceil(sqrt(n)), as the seed benchmark does. */
  readonly isPrime: NativeKernel<(n: number | bigint) => boolean>;
  /** Sum of the primes below n. RangeError when the sum is beyond 2^53 (use sumPrimesBigInt). */
  readonly sumPrimes: NativeKernel<(n: number) => number>;
  /** Sum of the primes below n, exact for every n up to 2^64 - 1. */
  readonly sumPrimesBigInt: NativeKernel<(n: number | bigint) => bigint>;
  /**
   * `out[i] = sumPrimes(inputs[i])` on native threads, written into shared memory as each result
   * is ready (JS may read `out` and `progress` meanwhile); resolves with `out`.
   */
  readonly sumPrimesInto: typeof sumPrimesInto;
}

export const native: Native = Object.freeze({
  available: binding !== null,
  simd: simdPath(),
  isPrime: asKernel(isPrime, 'isPrime'),
  sumPrimes: asKernel(sumPrimes, 'sumPrimes'),
  sumPrimesBigInt: asKernel(sumPrimesBigInt, 'sumPrimesBigInt'),
  sumPrimesInto,
});

/** Input check shared by every backend that runs kernels by name. */
export function checkKernelInput(name: KernelName, n: unknown, argName: string): number | bigint {
  if (typeof n === 'number') {
    try {
      return checkNumber(n);
    } catch {
      throw outOfRange(argName, `an integer >= 0 and <= ${Number.MAX_SAFE_INTEGER}`, n);
    }
  }
  if (typeof n === 'bigint' && name !== 'sumPrimes') {
    try {
      return checkBigInt(n);
    } catch {
      throw outOfRange(argName, `a bigint >= 0n and <= ${U64_MAX}n`, n);
    }
  }
  throw invalidType(argName, name === 'sumPrimes' ? 'of type number' : 'of type number or bigint', n);
}
