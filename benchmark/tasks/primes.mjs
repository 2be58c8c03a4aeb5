// The JS task every worker pool in the benchmark runs (our Pool, piscina, tinypool, workerpool).
// Plain .mjs on purpose: worker threads must load it without a TypeScript loader, and each pool
// must run the very same code for the comparison to mean anything. The algorithm is the seed's
// (trial division by every i in 2..=ceil(sqrt(n))), identical to src/native/fallback.ts.

function ceilSqrt(n) {
  let r = Math.floor(Math.sqrt(n));
  while (r * r > n) r--;
  while (r * r < n) r++;
  return r;
}

export function isPrime(n) {
  if (n < 2) return false;
  if (n === 2) return true;
  const max = ceilSqrt(n);
  for (let i = 2; i <= max; i++) {
    if (n % i === 0) return false;
  }
  return true;
}

/** Sum of the primes below n. */
export function sumPrimes(n) {
  let sum = 0;
  for (let x = 2; x < n; x++) if (isPrime(x)) sum += x;
  return sum;
}

/** The trivial task of the overhead workload: the cost measured is the pool's, not the work's. */
export function noop(x) {
  return x;
}

/**
 * noop over a whole chunk: how the overhead workload's big map is sent to pools that have no map
 * of their own (one run per chunk, as Pool.map chunks), so every pool moves the same messages.
 */
export function noopChunk(xs) {
  return xs.map(noop);
}

export default sumPrimes;
