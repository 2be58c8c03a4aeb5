import test from 'ava';

import { Condition, Event, Lock, SharedArray } from '../../index.js';
import { crowd, sleep } from '../helpers/condition.js';
import { inWorker, withDeadline } from '../helpers/shared.js';

test('Event: set/clear/isSet, wait times out (false) or returns true once set', async (t) => {
  const event = new Event();
  t.false(event.isSet());
  const start = performance.now();
  t.false(await event.wait(60));
  const ms = performance.now() - start;
  t.true(ms >= 55 && ms < 60 + 3_000, `${ms} ms`);
  setTimeout(() => event.set(), 20);
  t.true(await event.wait(30_000));
  t.true(event.isSet());
  t.true(event.waitSync(0));
  event.clear();
  t.false(event.isSet());
  t.false(event.waitSync(10));
  t.throws(() => event.waitSync(-5), { instanceOf: RangeError });
});

test('Event across threads: a worker waits for the main thread, the main thread for a worker', async (t) => {
  const toWorker = new Event();
  const waiting = inWorker<boolean>('waitEvent', toWorker, 30_000);
  setTimeout(() => toWorker.set(), 50);
  t.true(await waiting);
  const fromWorker = new Event();
  const setter = inWorker('setEvent', fromWorker);
  t.true(await fromWorker.wait(30_000));
  await setter;
  t.false(await inWorker<boolean>('waitEvent', new Event(), 30), 'a worker wait times out too');
});

test('Condition: wait/notify need the lock (ERR_NOT_HELD)', async (t) => {
  const cond = new Condition(new Lock());
  await t.throwsAsync(() => cond.wait(10), { code: 'ERR_NOT_HELD' } as never);
  t.throws(() => cond.notify(), { code: 'ERR_NOT_HELD' } as never);
  t.throws(() => new Condition({} as never), { instanceOf: TypeError, message: /"lock"/ });
  await cond.acquire();
  t.false(await cond.wait(30), 'nobody notifies: times out');
  t.throws(() => cond.notify(-1), { instanceOf: RangeError });
  cond.release();
});

test('Condition: notify(n) wakes exactly n waiters, oldest first; notifyAll the rest', async (t) => {
  // A Lock, not the default RLock: RLock ownership is per thread, and these four waiters are async
  // functions of one thread.
  const cond = new Condition(new Lock());
  const { woken, all } = await crowd(t, cond, 4);
  await cond.withLock(() => cond.notify(2));
  await withDeadline(
    (async () => {
      while (woken.length < 2) await sleep(5);
    })(),
    30_000,
    'two wake-ups',
  );
  await sleep(100);
  // Sorted: the two wake together, and which of them runs first is up to the scheduler.
  t.deepEqual([...woken].sort(), [0, 1], 'exactly the two oldest waiters woke');
  await cond.withLock(() => cond.notifyAll());
  t.deepEqual(await withDeadline(all, 30_000, 'all waiters'), [true, true, true, true]);
  t.deepEqual(woken.slice(2).sort(), [2, 3]);
});

test('Condition across threads: 3 worker consumers and a main-thread producer pass 300 items exactly', async (t) => {
  const cond = new Condition();
  // items[0] is the stack height, items[1..] the stack.
  const items = new SharedArray('i', 1 + 8);
  const consumers = [0, 1, 2].map(() => inWorker<number>('conditionConsumer', cond, items, 100));
  let expected = 0;
  for (let k = 1; k <= 300; k++) {
    await cond.acquire();
    try {
      t.true(await cond.waitFor(() => items.get(0) < 8, 30_000));
      const top = items.get(0) + 1;
      items.set(top, k);
      items.set(0, top);
      expected += k;
      cond.notifyAll();
    } finally {
      cond.release();
    }
  }
  const sums = await Promise.all(consumers);
  t.is(
    sums.reduce((a, b) => a + b, 0),
    expected,
  );
  t.is(items.get(0), 0);
});
