import test from 'ava';

import { Barrier, SharedArray, Value } from '../../index.js';
import { inWorker } from '../helpers/shared.js';

const WORKERS = 3;
const N = 100_000;

test(`${WORKERS} workers x ${N} add(1) on one Value is exact`, async (t) => {
  const counter = new Value('i', 0);
  const start = new Barrier(WORKERS);
  const seen = await Promise.all(Array.from({ length: WORKERS }, () => inWorker<number>('add', start, counter, N)));
  t.is(counter.value, WORKERS * N);
  // Each worker read the counter after its own adds: at least its share, at most the total.
  for (const v of seen) t.true(v >= N && v <= WORKERS * N);
});

test('64-bit add(1n) from workers and the main thread at once is exact', async (t) => {
  const counter = new Value('Q', 2n ** 40n);
  const start = new Barrier(WORKERS + 1);
  const workers = Array.from({ length: WORKERS }, () => inWorker('addBig', start, counter, N));
  await start.wait(30_000);
  for (let i = 0; i < N; i++) counter.add(1n);
  await Promise.all(workers);
  t.is(counter.value, 2n ** 40n + BigInt((WORKERS + 1) * N));
});

test('value += 1 under getLock() is exact across workers', async (t) => {
  const counter = new Value('i', 0);
  const start = new Barrier(WORKERS);
  await Promise.all(Array.from({ length: WORKERS }, () => inWorker('lockedIncrement', start, counter, N)));
  t.is(counter.value, WORKERS * N);
});

test('a whole-array update under the SharedArray lock is exact across workers and the main thread', async (t) => {
  const array = new SharedArray('d', 8);
  const start = new Barrier(WORKERS + 1);
  const rounds = 5_000;
  const workers = Array.from({ length: WORKERS }, () => inWorker('lockedArrayIncrement', start, array, rounds));
  await start.wait(30_000);
  for (let i = 0; i < rounds; i++) {
    // The async form: the main thread never blocks on the lock, its event loop keeps running.
    await array.getLock().withLock(() => {
      for (let j = 0; j < array.length; j++) array.set(j, array.get(j) + 1);
    });
  }
  await Promise.all(workers);
  t.deepEqual(array.toArray(), Array(8).fill((WORKERS + 1) * rounds));
});

test('a Value passed to a worker (nested in objects and arrays) comes back as the same object', async (t) => {
  const v = new Value('d', 1.5);
  const a = new SharedArray('h', [1, 2, 3]);
  const back = await inWorker<{ deep: [{ v: Value<'d'> }, SharedArray<'h'>] }>('echo', { deep: [{ v }, a] });
  t.is(back.deep[0].v, v);
  t.is(back.deep[1], a);
  t.is(back.deep[0].v.getLock(), v.getLock());
});
