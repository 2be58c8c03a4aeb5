import test from 'ava';

import { Empty, JoinableQueue, Queue, Value } from '../../index.js';
import { inWorker, withDeadline } from '../helpers/shared.js';

interface Consumed {
  count: number;
  sum: number;
  outOfOrder: number;
}

test('3 worker producers + the main thread, 2 worker consumers + the main thread: nothing lost or duplicated', async (t) => {
  const PER_PRODUCER = 20_000;
  const q = new Queue<number | 'stop'>(64); // small maxsize: producers block and wake many times
  const consumers = [0, 1].map(() => inWorker<Consumed>('consumeNumbers', q));
  const producers = [1, 2, 3].map((from) => inWorker('produceNumbers', q, from, PER_PRODUCER));

  // The main thread produces (from = 4) and consumes at the same time.
  const mine: Consumed = { count: 0, sum: 0, outOfOrder: 0 };
  const last = new Map<number, number>();
  const produce = (async () => {
    for (let i = 0; i < PER_PRODUCER; i++) await q.put(4 * 1_000_000 + i, { timeout: 30_000 });
  })();
  const consume = (async () => {
    for (let k = 0; k < 5_000; k++) {
      const v = (await q.get({ timeout: 30_000 })) as number;
      mine.count++;
      mine.sum += v;
      const from = Math.floor(v / 1_000_000);
      if ((last.get(from) ?? -1) >= v % 1_000_000) mine.outOfOrder++;
      last.set(from, v % 1_000_000);
    }
  })();
  await withDeadline(Promise.all([...producers, produce, consume]), 120_000, 'producers');
  for (let i = 0; i < 2; i++) await q.put('stop');
  const results = [mine, ...(await Promise.all(consumers))];

  let expectedSum = 0;
  for (let from = 1; from <= 4; from++) for (let i = 0; i < PER_PRODUCER; i++) expectedSum += from * 1_000_000 + i;
  t.is(
    results.reduce((a, r) => a + r.count, 0),
    4 * PER_PRODUCER,
  );
  t.is(
    results.reduce((a, r) => a + r.sum, 0),
    expectedSum,
  );
  // Each consumer sees each producer's items in the order they were put (FIFO per producer).
  t.deepEqual(
    results.map((r) => r.outOfOrder),
    [0, 0, 0],
  );
  t.true(q.empty());
});

test('large messages from several workers at once arrive whole (chunked streaming through the ring)', async (t) => {
  const q = new Queue<{ from: number; i: number; pad?: string }>();
  const producers = [1, 2].map((from) => inWorker('produce', q, from, 300));
  const big = 'z'.repeat(150_000);
  await q.put({ from: 0, i: -1, pad: big });
  const seen = new Map<number, number>();
  let bigSeen = 0;
  for (let k = 0; k < 601; k++) {
    const m = await q.get({ timeout: 30_000 });
    if (m.pad) {
      t.is(m.pad, big);
      bigSeen++;
    } else {
      t.is(m.i, seen.get(m.from) ?? 0, `producer ${m.from} in order`);
      seen.set(m.from, m.i + 1);
    }
  }
  await Promise.all(producers);
  t.is(bigSeen, 1);
  t.deepEqual([...seen.entries()].sort(), [
    [1, 300],
    [2, 300],
  ]);
  t.true(q.empty());
});

test('JoinableQueue: join() resolves once worker consumers marked every task done', async (t) => {
  const q = new JoinableQueue<number>();
  const total = new Value('q', 0n);
  const workers = [0, 1, 2].map(() => inWorker('joinableWorker', q, total));
  let expected = 0n;
  for (let i = 1; i <= 3_000; i++) {
    await q.put(i);
    expected += BigInt(i);
  }
  t.true(await q.join(60_000));
  t.is(total.value, expected, 'join resolved only after every item was processed');
  for (let i = 0; i < 3; i++) await q.put(-1);
  await Promise.all(workers);
  t.true(await q.join(30_000));
});

test('getNowait/getSync with a timeout while a worker streams messages larger and smaller than the ring: nothing lost, duplicated or corrupted', async (t) => {
  const sizes = Array.from({ length: 60 }, (_, i) => [10, 40_000, 100_000, 65_530, 250_000][i % 5]!);
  for (const nowait of [false, true]) {
    const q = new Queue<{ i: number; pad: string }>();
    const producer = inWorker('produceSized', q, sizes, nowait);
    // The main thread puts large messages too (its outbox and the worker contend for the ring).
    const mine = [70_000, 10, 200_000, 30_000, 90_000];
    mine.forEach((size, k) => q.putNowait({ i: 1000 + k, pad: String.fromCharCode(97 + ((1000 + k) % 26)).repeat(size) }));
    const total = sizes.length + mine.length;
    const got: number[] = [];
    let empties = 0;
    const end = performance.now() + 60_000;
    while (got.length < total && performance.now() < end) {
      let m: { i: number; pad: string };
      try {
        // Only synchronous, non-blocking or short reads, on the main thread, as the worker streams.
        m = got.length % 2 === 0 ? q.getNowait() : q.getSync({ timeout: 2 });
      } catch (error) {
        if (!(error instanceof Empty)) throw error;
        empties++;
        if (empties % 64 === 0) await new Promise((resolve) => setImmediate(resolve));
        continue;
      }
      const size = m.i >= 1000 ? mine[m.i - 1000]! : sizes[m.i]!;
      if (m.pad.length !== size || m.pad !== String.fromCharCode(97 + (m.i % 26)).repeat(size))
        t.fail(`message ${m.i} corrupted`);
      got.push(m.i);
    }
    await withDeadline(producer, 60_000, 'producer');
    const how = nowait ? 'putNowait' : 'putSync';
    t.deepEqual(
      got.filter((i) => i < 1000),
      sizes.map((_, i) => i),
      `${how}: every message of the worker once, in order`,
    );
    t.deepEqual(
      got.filter((i) => i >= 1000),
      mine.map((_, k) => 1000 + k),
      `${how}: every message of the main thread once, in order`,
    );
    t.true(q.empty());
  }
});

test('a worker that putSyncs far more than the buffer holds into an unbounded queue returns, and the main thread then drains every item', async (t) => {
  const { Pool } = await import('../../index.js');
  await using pool = new Pool({ processes: 1 });
  const q = new Queue<string>();
  const ITEMS = 300; // about 300 KB: several times the queue's shared buffer
  const put = await withDeadline(
    pool.apply(
      (queue: Queue<string>, n: number) => {
        for (let i = 0; i < n; i++) queue.putSync(`${i}:`.padEnd(1000, 'w'), { timeout: 100 });
        return n;
      },
      [q, ITEMS],
    ),
    30_000,
    'the producing task',
  );
  t.is(put, ITEMS);
  const got: number[] = [];
  for (let i = 0; i < ITEMS; i++) got.push(Number.parseInt(await withDeadline(q.get(), 30_000, 'q.get()'), 10));
  t.deepEqual(
    got,
    Array.from({ length: ITEMS }, (_, i) => i),
  );
  t.true(q.empty());
});
