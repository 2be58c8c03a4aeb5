/**
 * The `native` kernels: Rust (napi-rs) when a binary loads, the same algorithm in TypeScript when
 * none does. Input checks live here so both implementations fail with identical errors.
 */
import { isMainThread } from 'node:worker_threads';

import { binding, fromNative } from './binding.js';
import * as ts from './fallback.js';
import { sumPrimesInto } from './into.js';
import { kKernel, type KernelName, type NativeKernel } from './kernel.js';
import { invalidType, outOfRange, rangeError } from '../validate.js';

export type { KernelName, NativeKernel } from './kernel.js';

/** The instruction set the native kernels test divisors with (see `native.simd`). */
export type SimdPath = 'avx512' | 'avx2' | 'neon' | 'scalar';

function simdPath(): SimdPath {
  if (!binding) return ts.SIMD_PATH;
  const { path, warning } = binding.simdInfo();
  // One warning, from the main process only (as for a binary that does not load).
  if (warning && isMainThread && !process.env.NAPI_MULTIPROCESSING_CHILD) {
    process.emitWarning(`napi-multiprocessing: ${warning}`, { code: 'NAPI_MULTIPROCESSING_SIMD' });
  }
  return path as SimdPath;
}

const U64_MAX = 2n ** 64n - 1n;

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
  return rangeError(
    `sumPrimes(${n}) is larger than Number.MAX_SAFE_INTEGER and cannot be returned exactly as a number; use sumPrimesBigInt`,
  );
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
