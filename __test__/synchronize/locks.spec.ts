import test from 'ava';

import { Barrier, BoundedSemaphore, Condition, Event, Lock, RLock, Semaphore, TimeoutError, Value } from '../../index.js';
import { inWorker, startInWorker, withDeadline } from '../helpers/shared.js';

const TOLERANCE = 3_000; // ms of slack for timers on a loaded machine (2 cores, shared)

async function timed<T>(fn: () => Promise<T>): Promise<[T, number]> {
  const start = performance.now();
  const value = await fn();
  return [value, performance.now() - start];
}

test('Lock: acquire/release, non-blocking, ERR_NOT_HELD on an unlocked release', async (t) => {
  const lock = new Lock();
  t.true(await lock.acquire());
  t.true(lock.locked());
  t.false(await lock.acquire({ blocking: false }));
  t.false(lock.acquireSync({ blocking: false }));
  lock.release();
  t.false(lock.locked());
  const error = t.throws(() => lock.release());
  t.is((error as { code?: string }).code, 'ERR_NOT_HELD');
  t.throws(() => lock.acquireSync({ timeout: -1 }), { instanceOf: RangeError, message: /"options.timeout"/ });
  t.throws(() => lock.acquireSync({ blocking: 'no' as never }), { instanceOf: TypeError });
});

test('Lock: a timed acquire gives up after the timeout, within a tolerance', async (t) => {
  const lock = new Lock();
  await lock.acquire();
  const [got, ms] = await timed(() => lock.acquire({ timeout: 100 }));
  t.false(got);
  t.true(ms >= 95 && ms < 100 + TOLERANCE, `${ms} ms`);
  const start = performance.now();
  t.false(lock.acquireSync({ timeout: 50 }));
  const syncMs = performance.now() - start;
  t.true(syncMs >= 45 && syncMs < 50 + TOLERANCE, `${syncMs} ms`);
});

test('waiting for a Lock held by a worker does not block the event loop', async (t) => {
  const lock = new Lock();
  const held = new Event();
  const release = new Event();
  const worker = startInWorker('holdLock', [lock, held, release]);
  t.true(await held.wait(30_000));
  let ticks = 0;
  const timer = setInterval(() => ticks++, 5);
  const acquiring = lock.acquire({ timeout: 30_000 });
  await new Promise((resolve) => setTimeout(resolve, 100));
  t.true(ticks >= 3, `the event loop ran ${ticks} timer ticks while waiting`);
  release.set();
  t.true(await withDeadline(acquiring, 30_000, 'acquire after the worker released'));
  clearInterval(timer);
  lock.release();
  await worker.result;
});

test('a Lock excludes: a non-atomic read-modify-write under it from 3 workers loses nothing', async (t) => {
  const lock = new Lock();
  const cell = new Value('i', 0, { lock: false });
  const start = new Barrier(3);
  await Promise.all([0, 1, 2].map(() => inWorker('exclusive', start, lock, cell, 50_000)));
  t.is(cell.value, 150_000);
});

test('RLock: re-entrant for its owner thread, ERR_NOT_HELD for another thread', async (t) => {
  const rlock = new RLock();
  t.true(rlock.acquireSync());
  t.true(await rlock.acquire());
  t.is(await inWorker('releaseForeign', rlock), 'ERR_NOT_HELD');
  rlock.release();
  rlock.release();
  t.throws(() => rlock.release(), { code: 'ERR_NOT_HELD' } as never);

  // Held twice by a worker: the main thread waits until it is released twice.
  const held = new Event();
  const release = new Event();
  const worker = startInWorker('holdRLock', [rlock, held, release]);
  t.true(await held.wait(30_000));
  t.false(await rlock.acquire({ timeout: 50 }));
  release.set();
  t.true(await rlock.acquire({ timeout: 30_000 }));
  rlock.release();
  await worker.result;
});

test('RLock and Condition(): async functions on one thread exclude each other; withLock callbacks re-enter', async (t) => {
  const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
  // Python's read-modify-write under the lock, with an await in the middle, five at once.
  const v = new Value('i', 0);
  await Promise.all(
    Array.from({ length: 5 }, () =>
      v.getLock().withLock(async () => {
        const x = v.value;
        await sleep(5);
        v.value = x + 1;
      }),
    ),
  );
  t.is(v.value, 5);

  // Inside withLock, the same async flow may take the lock again (and must release it again).
  const rlock = new RLock();
  const depth = await rlock.withLock(async () => {
    await sleep(1);
    return rlock.withLock(async () => {
      t.true(await rlock.acquire({ timeout: 1000 }));
      rlock.release();
      return 'nested';
    });
  });
  t.is(depth, 'nested');
  // While one async function holds it, another's acquire waits; a blocking acquireSync says why it cannot.
  t.true(await rlock.acquire());
  const other = (async () => rlock.acquire({ timeout: 50 }))();
  t.false(await other);
  t.throws(() => rlock.acquireSync(), { code: 'ERR_WOULD_DEADLOCK' } as never);
  rlock.release();
  t.true(rlock.acquireSync({ blocking: false }), 'released for good');
  rlock.release();

  // Condition() (over an RLock): two async consumers and a producer on the main thread.
  const cond = new Condition();
  const items: number[] = [];
  const taken: number[] = [];
  const consumer = async () => {
    for (let k = 0; k < 5; k++) {
      await cond.acquire();
      try {
        t.truthy(await cond.waitFor(() => items.length > 0, 10_000));
        taken.push(items.shift()!);
      } finally {
        cond.release();
      }
    }
  };
  const producer = async () => {
    for (let k = 0; k < 10; k++) {
      await sleep(2);
      await cond.acquire();
      items.push(k);
      cond.notify();
      cond.release();
    }
  };
  await Promise.all([consumer(), consumer(), producer()]);
  t.deepEqual(
    [...taken].sort((a, b) => a - b),
    Array.from({ length: 10 }, (_, k) => k),
  );
});

test('Semaphore counts; BoundedSemaphore refuses one release too many', async (t) => {
  const sem = new Semaphore(2);
  t.true(sem.acquireSync());
  t.true(await sem.acquire());
  t.false(await sem.acquire({ blocking: false }));
  t.is(sem.getValue(), 0);
  setTimeout(() => sem.release(), 20);
  t.true(await sem.acquire({ timeout: 30_000 }));
  sem.release();
  sem.release();
  sem.release();
  t.is(sem.getValue(), 3, 'an unbounded Semaphore may grow past its initial value');

  const bounded = new BoundedSemaphore(1);
  await bounded.acquire();
  bounded.release();
  t.throws(() => bounded.release(), { code: 'ERR_RELEASED_TOO_MANY' } as never);
  t.throws(() => new Semaphore(-1), { instanceOf: RangeError, message: /"value"/ });
  const [got, ms] = await timed(() => new Semaphore(0).acquire({ timeout: 80 }));
  t.false(got);
  t.true(ms >= 75 && ms < 80 + TOLERANCE, `${ms} ms`);
});

test('holding a lock for a block: using, withLock and withLockSync release on throw', async (t) => {
  const lock = new Lock();
  {
    using _held = await lock.hold();
    t.true(lock.locked());
  }
  t.false(lock.locked());
  await t.throwsAsync(
    () =>
      lock.withLock(async () => {
        t.true(lock.locked());
        throw new Error('inside');
      }),
    { message: 'inside' },
  );
  t.false(lock.locked());
  t.is(
    lock.withLockSync(() => 5),
    5,
  );
  t.false(lock.locked());
  await lock.acquire();
  await t.throwsAsync(() => lock.hold({ timeout: 20 }), { instanceOf: TimeoutError });
  lock.release();
});

test('acquire({ blocking: false, timeout }) is refused (TypeError ERR_INVALID_ARG_VALUE naming timeout), async and Sync, as Python refuses it', async (t) => {
  for (const lock of [new Lock(), new RLock(), new Semaphore(1), new BoundedSemaphore(1), new Condition()]) {
    const what = lock.constructor.name;
    const expected = { instanceOf: TypeError, code: 'ERR_INVALID_ARG_VALUE', message: /"options\.timeout"/ };
    t.throws(() => lock.acquireSync({ blocking: false, timeout: 5 }), expected, `${what} acquireSync`);
    await t.throwsAsync(() => lock.acquire({ blocking: false, timeout: 5 }), expected, `${what} acquire`);
    await t.throwsAsync(() => lock.acquire({ blocking: false, timeout: 0 }), expected, `${what} acquire, timeout 0`);
    // Nothing was taken by the refused calls; without a timeout a non-blocking call still works.
    t.true(lock.acquireSync({ blocking: false }), what);
    lock.release();
    t.true(await lock.acquire({ blocking: false, timeout: undefined }), what);
    lock.release();
  }
});
