/**
 * Pure-TypeScript versions of the native kernels: the same algorithm (trial division by every i in
 * 2..=ceil(sqrt(n))), the same results. They serve as the fallback when no native binary loads,
 * and as the "JS single thread" engine of the benchmark.
 *
 * These functions trust their input; the checked public versions live in `api.ts`.
 */

const TWO_POW_53 = 2n ** 53n;

/** The pure-TS kernels test one divisor at a time: `native.simd` when no binary loads. */
export const SIMD_PATH = 'scalar';

/** ceil(sqrt(n)) exactly, for a non-negative safe integer. */
function ceilSqrt(n: number): number {
  let r = Math.floor(Math.sqrt(n));
  while (r * r > n) r--;
  while (r * r < n) r++;
  return r;
}

export function isPrimeNumber(n: number): boolean {
  if (n < 2) return false;
  if (n === 2) return true;
  const max = ceilSqrt(n);
  for (let i = 2; i <= max; i++) {
    if (n % i === 0) return false;
  }
  return true;
}

function ceilSqrtBig(n: bigint): bigint {
  // Newton's method from above, then round up.
  if (n < 2n) return n;
  let x = BigInt(Math.ceil(Math.sqrt(Number(n)))) + 1n;
  for (;;) {
    const y = (x + n / x) >> 1n;
    if (y >= x) break;
    x = y;
  }
  return x * x === n ? x : x * x < n ? x + 1n : x;
}

export function isPrimeBigInt(n: bigint): boolean {
  if (n < TWO_POW_53) return isPrimeNumber(Number(n));
  const max = ceilSqrtBig(n);
  for (let i = 2n; i <= max; i++) {
    if (n % i === 0n) return false;
  }
  return true;
}

/** Sum of primes below n, as a number while exact, else as a bigint. */
export function sumPrimesExact(n: number): number | bigint {
  let sum = 0;
  for (let x = 2; x < n; x++) {
    if (!isPrimeNumber(x)) continue;
    if (sum + x > Number.MAX_SAFE_INTEGER) {
      // Only reachable for very large n: carry on exactly in bigint.
      let big = BigInt(sum) + BigInt(x);
      for (x++; x < n; x++) if (isPrimeNumber(x)) big += BigInt(x);
      return big;
    }
    sum += x;
  }
  return sum;
}

/** The seed's `sum_primes`, as the JS single-thread engine runs it. */
export function sumPrimesNumber(n: number): number {
  let sum = 0;
  for (let x = 2; x < n; x++) if (isPrimeNumber(x)) sum += x;
  return sum;
}

export function sumPrimesBigInt(n: bigint): bigint {
  if (n <= BigInt(Number.MAX_SAFE_INTEGER)) {
    const exact = sumPrimesExact(Number(n));
    return typeof exact === 'bigint' ? exact : BigInt(exact);
  }
  let sum = BigInt(sumPrimesExact(Number.MAX_SAFE_INTEGER));
  for (let x = BigInt(Number.MAX_SAFE_INTEGER); x < n; x++) if (isPrimeBigInt(x)) sum += x;
  return sum;
}
