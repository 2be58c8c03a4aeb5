import test from 'ava';

import { native } from '../../index.js';
import * as ts from '../../src/native/fallback.js';

const seedInputs = Array.from({ length: 200 }, (_, i) => i * 500);

test('isPrime agrees with a sieve up to 5000', (t) => {
  const sieve = new Array<boolean>(5000).fill(true);
  sieve[0] = sieve[1] = false;
  for (let i = 2; i * i < 5000; i++) if (sieve[i]) for (let j = i * i; j < 5000; j += i) sieve[j] = false;
  for (let n = 0; n < 5000; n++) {
    if (native.isPrime(n) !== sieve[n]) t.fail(`isPrime(${n})`);
    if (native.isPrime(BigInt(n)) !== sieve[n]) t.fail(`isPrime(${n}n)`);
  }
  t.pass();
});

test('known values from the seed', (t) => {
  t.true(native.isPrime(97));
  t.false(native.isPrime(91));
  t.is(native.sumPrimes(100000), 454396537);
  t.is(native.sumPrimesBigInt(100000), 454396537n);
  t.is(native.sumPrimesBigInt(100000n), 454396537n);
  t.is(native.sumPrimes(0), 0);
  t.is(native.sumPrimes(3), 2);
  t.is(
    seedInputs.reduce((acc, n) => acc + native.sumPrimes(n), 0),
    31007039440,
  );
});

test('large inputs: squares of primes, the largest prime below 2^53, 2^64 - 1', (t) => {
  t.false(native.isPrime(1000003 * 1000003));
  t.true(native.isPrime(9007199254740881));
  t.true(native.isPrime(9007199254740881n));
  t.false(native.isPrime(2n ** 64n - 1n)); // divisible by 3
  t.false(native.isPrime(Number.MAX_SAFE_INTEGER)); // 2^53 - 1 = 6361 * 69431 * 20394401
});

test('the pure-TypeScript kernels give the same results as the exported ones', (t) => {
  for (const n of [0, 1, 2, 3, 4, 97, 7919, 1000003 * 3, 2147483647])
    t.is(ts.isPrimeNumber(n), native.isPrime(n), `isPrime(${n})`);
  t.is(ts.isPrimeBigInt(9007199254740881n), true);
  t.is(ts.isPrimeBigInt(9007199254740997n * 1n), native.isPrime(9007199254740997n));
  for (const n of [0, 2, 10, 12345, 100000]) {
    t.is(ts.sumPrimesNumber(n), native.sumPrimes(n), `sumPrimes(${n})`);
    t.is(ts.sumPrimesBigInt(BigInt(n)), native.sumPrimesBigInt(n), `sumPrimesBigInt(${n})`);
  }
});

const badNumbers: [unknown, typeof TypeError | typeof RangeError][] = [
  [-1, RangeError],
  [-0.5, RangeError],
  [1.5, RangeError],
  [Number.NaN, RangeError],
  [Number.POSITIVE_INFINITY, RangeError],
  [2 ** 53, RangeError],
  ['97', TypeError],
  [null, TypeError],
  [undefined, TypeError],
  [{}, TypeError],
];

for (const [kernelName, fn] of Object.entries({
  isPrime: native.isPrime,
  sumPrimes: native.sumPrimes,
  sumPrimesBigInt: native.sumPrimesBigInt,
}) as [string, (n: unknown) => unknown][]) {
  test(`${kernelName} rejects bad input with an error naming "n"`, (t) => {
    for (const [value, errorClass] of badNumbers) {
      const error = t.throws(() => fn(value), { instanceOf: errorClass }, `${kernelName}(${String(value)})`);
      t.regex(error!.message, /"n"/);
      t.is((error as Error & { code?: string }).code, errorClass === TypeError ? 'ERR_INVALID_ARG_TYPE' : 'ERR_OUT_OF_RANGE');
    }
  });
}

test('bigint range: negative and beyond u64 are RangeErrors; sumPrimes takes numbers only', (t) => {
  t.throws(() => native.isPrime(-1n), { instanceOf: RangeError, message: /"n"/ });
  t.throws(() => native.isPrime(2n ** 64n), { instanceOf: RangeError, message: /"n"/ });
  t.throws(() => native.sumPrimesBigInt(2n ** 64n), { instanceOf: RangeError, message: /"n"/ });
  t.throws(() => native.sumPrimes(10n as unknown as number), { instanceOf: TypeError, message: /"n"/ });
});

test('kernels carry their names and are frozen on the native object', (t) => {
  t.is(native.sumPrimes.name, 'sumPrimes');
  t.true(Object.isFrozen(native));
  t.is(typeof native.available, 'boolean');
});
