import test from 'ava';

import { native, Pool, PoolTerminatedError, TimeoutError } from '../../index.js';
import { binding } from '../../src/native/binding.js';

const seedInputs = Array.from({ length: 200 }, (_, i) => i * 500);
const SEED_CHECKSUM = 31007039440;
const sum = (xs: number[]) => xs.reduce((a, b) => a + b, 0);

test('map over the seed workload gives the seed checksum, in input order', async (t) => {
  await using pool = new Pool({ backend: 'native', processes: 2 });
  const sums = await pool.map(native.sumPrimes, seedInputs);
  t.is(sum(sums), SEED_CHECKSUM);
  t.deepEqual(
    sums.slice(0, 4),
    [0, 500, 1000, 1500].map((n) => native.sumPrimes(n)),
  );
  t.is(sums[199], native.sumPrimes(99500));
});

test('every chunksize gives the same result as Array.prototype.map', async (t) => {
  await using pool = new Pool({ backend: 'native', processes: 2 });
  const xs = Array.from({ length: 37 }, (_, i) => i * 7);
  const expected = xs.map((x) => native.isPrime(x));
  for (const chunksize of [undefined, 1, 2, 4, 100]) t.deepEqual(await pool.map(native.isPrime, xs, chunksize), expected);
  t.deepEqual(await pool.map(native.isPrime, []), []);
});

test('apply, applyAsync with callbacks, starmap, mapAsync, imap, imapUnordered', async (t) => {
  await using pool = new Pool({ backend: 'native', processes: 2 });
  t.is(await pool.apply(native.sumPrimes, [100000]), 454396537);
  const seen: unknown[] = [];
  const r = pool.applyAsync(native.sumPrimesBigInt, [100n], { callback: (v) => seen.push(v), errorCallback: () => t.fail() });
  t.is(await r.get(10_000), 1060n);
  t.true(r.ready());
  t.true(r.successful());
  t.deepEqual(seen, [1060n]);
  t.deepEqual(await pool.starmap(native.sumPrimes, [[10], [100]]), [17, 1060]);
  const m = pool.mapAsync(native.isPrime, [2, 4, 5n]);
  t.deepEqual(await m, [true, false, true]);
  const inOrder: number[] = [];
  for await (const v of pool.imap(native.sumPrimes, [1000, 10, 100])) inOrder.push(v);
  t.deepEqual(inOrder, [76127, 17, 1060]);
  const unordered: number[] = [];
  for await (const v of pool.imapUnordered(native.sumPrimes, [1000, 10, 100], 2)) unordered.push(v);
  t.deepEqual(
    unordered.sort((a, b) => a - b),
    [17, 1060, 76127],
  );
});

test('async iterables are accepted', async (t) => {
  await using pool = new Pool({ backend: 'native', processes: 2 });
  async function* gen() {
    for (let i = 0; i < 10; i++) yield i;
  }
  t.deepEqual(
    await pool.map(native.isPrime, gen()),
    [0, 1, 2, 3, 4, 5, 6, 7, 8, 9].map((x) => native.isPrime(x)),
  );
});

test('the event loop keeps running while a long native map runs', async (t) => {
  await using pool = new Pool({ backend: 'native', processes: 2 });
  let ticks = 0;
  const timer = setInterval(() => ticks++, 1);
  // Repeat the seed workload so the map outlasts many timer periods on any machine.
  const xs = Array.from({ length: 3 }, () => seedInputs).flat();
  const before = ticks;
  const sums = await pool.map(native.sumPrimes, xs);
  clearInterval(timer);
  t.is(sum(sums), 3 * SEED_CHECKSUM);
  // A map that blocked the event loop would settle before any timer ran (0 ticks). How many more
  // run depends on the machine: a loaded CI box (load 28 on 2 cores, Node 22/24) ran the 1 ms
  // timer only once during the whole map, so one tick is what proves the loop was free.
  t.true(ticks - before >= 1, `timer fired ${ticks - before} times during the map`);
});

test('bad inputs reject with the same errors as calling the kernel', async (t) => {
  await using pool = new Pool({ backend: 'native', processes: 2 });
  await t.throwsAsync(pool.map(native.sumPrimes, [10, -1]), { instanceOf: RangeError, message: /"n"/ });
  await t.throwsAsync(pool.map(native.isPrime, ['7' as unknown as number]), { instanceOf: TypeError, message: /"n"/ });
  await t.throwsAsync(pool.apply(native.sumPrimes, [1.5]), { instanceOf: RangeError });
  // The pool goes on working after a rejected batch.
  t.deepEqual(await pool.map(native.sumPrimes, [10]), [17]);
});

test('a JavaScript function is a TypeError that says so', async (t) => {
  await using pool = new Pool({ backend: 'native', processes: 1 });
  await t.throwsAsync(
    pool.map((x: number) => x * 2, [1]),
    { instanceOf: TypeError, message: /native backend runs only native kernels/ },
  );
  await t.throwsAsync(pool.applyAsync((x: number) => x, [1]).get(), { instanceOf: TypeError });
  t.throws(() => new Pool({ backend: 'native', initializer: () => {} }), { instanceOf: TypeError, message: /initializer/ });
});

test('options are validated', (t) => {
  t.throws(() => new Pool({ processes: 0 }), { instanceOf: RangeError, message: /"processes"/ });
  t.throws(() => new Pool({ processes: 1.5 }), { instanceOf: RangeError, message: /"processes"/ });
  t.throws(() => new Pool({ processes: '2' as unknown as number }), { instanceOf: TypeError, message: /"processes"/ });
  t.throws(() => new Pool({ backend: 'gpu' as 'native' }), { instanceOf: TypeError, message: /backend/ });
  t.throws(() => new Pool({ backend: 'native', maxtasksperchild: 0 }), { instanceOf: RangeError, message: /maxtasksperchild/ });
});

test('close, join and the error codes of a stopped pool', async (t) => {
  const pool = new Pool({ backend: 'native', processes: 2 });
  await t.throwsAsync(pool.join(), { code: 'ERR_POOL_RUNNING' });
  const queued = pool.map(native.sumPrimes, seedInputs.slice(0, 50));
  pool.close();
  await t.throwsAsync(pool.map(native.sumPrimes, [1]), { code: 'ERR_POOL_NOT_RUNNING' });
  await t.throwsAsync(pool.applyAsync(native.sumPrimes, [1]).get(), { code: 'ERR_POOL_NOT_RUNNING' });
  const it = pool.imap(native.sumPrimes, [1]);
  await t.throwsAsync(it.next(), { code: 'ERR_POOL_NOT_RUNNING' });
  await pool.join();
  t.is((await queued).length, 50, 'work queued before close() still finishes');
});

test('terminate rejects pending results with PoolTerminatedError', async (t) => {
  const pool = new Pool({ backend: 'native', processes: 1 });
  const big = Array.from({ length: 4 }, () => seedInputs).flat();
  const pending = pool.map(native.sumPrimes, big, 1);
  const result = pool.applyAsync(native.sumPrimes, [99000]);
  const rejections = Promise.all([
    t.throwsAsync(pending, { instanceOf: PoolTerminatedError }),
    t.throwsAsync(result.get(), { instanceOf: PoolTerminatedError }),
  ]);
  await pool.terminate();
  await rejections;
  await pool.join();
  await t.throwsAsync(pool.map(native.sumPrimes, [1]), { code: 'ERR_POOL_NOT_RUNNING' });
});

test('AsyncResult: get(timeout) rejects with TimeoutError without cancelling the work', async (t) => {
  await using pool = new Pool({ backend: 'native', processes: 1 });
  const r = pool.mapAsync(native.sumPrimes, Array.from({ length: 3 }, () => seedInputs).flat(), { chunksize: 600 });
  t.throws(() => r.successful(), { code: 'ERR_RESULT_NOT_READY' });
  t.false(r.ready());
  await t.throwsAsync(r.get(1), { instanceOf: TimeoutError });
  await r.wait(1);
  const values = await r.get();
  t.is(sum(values), 3 * SEED_CHECKSUM);
  t.true(r.successful());
});

test('a Rust panic is a JS Error (sync) and a rejected Promise (rayon thread), never an abort', async (t) => {
  t.truthy(binding, 'these checks need the native binary');
  const { execFile } = await import('node:child_process');
  const script = new URL('../fixtures/rust-panics.ts', import.meta.url).pathname;
  const stdout = await new Promise<string>((resolve, reject) => {
    execFile(process.execPath, ['--import=tsx', script], { timeout: 120_000 }, (error, out) =>
      error ? reject(error) : resolve(out),
    );
  });
  const seen = JSON.parse(stdout);
  t.true(seen.sync.isError);
  t.regex(seen.sync.message, /sync boom/);
  t.true(seen.async.isError);
  t.regex(seen.async.message, /Rust panic/);
  t.deepEqual(seen.after, [17, 1060]);
});

test('terminate stops a running kernel instead of waiting for it (hours of work, settled at once)', async (t) => {
  const pool = new Pool({ backend: 'native', processes: 2 });
  // sumPrimes(2^33) by trial division would run for hours.
  const endless = pool.map(native.sumPrimesBigInt, [2n ** 33n, 2n ** 33n + 1n]);
  const rejected = t.throwsAsync(endless, { instanceOf: PoolTerminatedError });
  await new Promise((resolve) => setTimeout(resolve, 100));
  let timer: NodeJS.Timeout | undefined;
  const deadline = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error('terminate() waited for the running kernels')), 20_000);
  });
  await Promise.race([Promise.all([pool.terminate(), rejected]), deadline]);
  clearTimeout(timer);
  await pool.join();
});
