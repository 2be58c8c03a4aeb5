import test from 'ava';

import { BrokenBarrierError, Empty, Full, Manager, Pool } from '../../index.js';
import { within } from '../helpers/pool.js';

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

test('Queue: FIFO, Empty and Full as Python, timeouts in ms, a waiting get answered by a later put', async (t) => {
  await using manager = new Manager();
  const q = await manager.Queue<number>(2);
  await q.put(1);
  await q.putNowait(2);
  t.true(await q.full());
  t.is(await q.qsize(), 2);
  await t.throwsAsync(q.putNowait(3), { instanceOf: Full, code: 'ERR_QUEUE_FULL' });
  await t.throwsAsync(q.put(3, { timeout: 50 }), { instanceOf: Full });
  t.is(await q.get(), 1);
  t.is(await q.getNowait(), 2);
  t.true(await q.empty());
  await t.throwsAsync(q.getNowait(), { instanceOf: Empty, code: 'ERR_QUEUE_EMPTY' });
  const begin = Date.now();
  await t.throwsAsync(q.get({ timeout: 100 }), { instanceOf: Empty });
  t.true(Date.now() - begin >= 90);
  const waiting = q.get();
  await sleep(50);
  await q.put(7);
  t.is(await within(t, 10_000, waiting), 7);
  // A put blocked on a full queue goes in once there is room.
  await q.put(1);
  await q.put(2);
  const blockedPut = q.put(3);
  await sleep(50);
  t.is(await q.get(), 1);
  await within(t, 10_000, blockedPut);
  t.deepEqual([await q.get(), await q.get()], [2, 3]);
  await t.throwsAsync(q.get({ blok: true } as never), { instanceOf: TypeError, message: /blok/ });
  await t.throwsAsync(q.get({ timeout: -1 }), { instanceOf: RangeError });
});

test('JoinableQueue: join() settles once every item is marked done', async (t) => {
  await using manager = new Manager();
  const q = await manager.JoinableQueue<string>();
  await q.put('a');
  await q.put('b');
  let joined = false;
  const join = q.join().then(() => (joined = true));
  await q.get();
  await q.taskDone();
  await sleep(50);
  t.false(joined);
  await q.get();
  await q.taskDone();
  await within(t, 10_000, join);
  t.true(joined);
  await t.throwsAsync(q.taskDone(), { code: 'ERR_TASK_DONE_TOO_MANY' });
});

test('Lock: non-blocking and timed acquire, release hands it to the first waiter, unheld release -> ERR_NOT_HELD', async (t) => {
  await using manager = new Manager();
  const lock = await manager.Lock();
  t.true(await lock.acquire());
  t.false(await lock.acquire({ blocking: false }));
  t.false(await lock.acquire({ timeout: 50 }));
  const order: string[] = [];
  const a = lock.acquire().then(() => order.push('a'));
  const b = lock.acquire().then(() => order.push('b'));
  await sleep(20);
  await lock.release();
  await within(t, 10_000, a);
  await lock.release();
  await within(t, 10_000, b);
  t.deepEqual(order, ['a', 'b']);
  await lock.release();
  await t.throwsAsync(lock.release(), { code: 'ERR_NOT_HELD' });
  t.is(await lock.withLock(() => 5), 5);
  t.true(await lock.acquire({ blocking: false }), 'withLock released it');
});

test('RLock is re-entrant for its owner; another connection (a worker) can neither take nor release it', async (t) => {
  await using manager = new Manager();
  await using pool = new Pool({ processes: 1, backend: 'thread' });
  const rlock = await manager.RLock();
  t.true(await rlock.acquire());
  t.true(await rlock.acquire());
  const probe = async (lock: { acquire(o: object): Promise<boolean>; release(): Promise<void> }) => {
    const got = await lock.acquire({ blocking: false });
    let code: string | undefined;
    try {
      await lock.release();
    } catch (error) {
      code = (error as { code?: string }).code;
    }
    return [got, code];
  };
  t.deepEqual(await within(t, 60_000, pool.apply(probe, [rlock])), [false, 'ERR_NOT_HELD']);
  await rlock.release();
  t.deepEqual(await within(t, 60_000, pool.apply(probe, [rlock])), [false, 'ERR_NOT_HELD'], 'still held once');
  await rlock.release();
  await t.throwsAsync(rlock.release(), { code: 'ERR_NOT_HELD' });
  t.deepEqual(await within(t, 60_000, pool.apply(probe, [rlock])), [true, undefined], 'free: the worker takes and releases it');
});

test('Semaphore and BoundedSemaphore', async (t) => {
  await using manager = new Manager();
  const s = await manager.Semaphore(2);
  t.true(await s.acquire());
  t.true(await s.acquire());
  t.false(await s.acquire({ blocking: false }));
  const waiting = s.acquire();
  await s.release();
  t.true(await within(t, 10_000, waiting));
  const bounded = await manager.BoundedSemaphore(1);
  await t.throwsAsync(bounded.release(), { code: 'ERR_RELEASED_TOO_MANY' });
  t.true(await bounded.acquire());
  await bounded.release();
});

test('Event: wait times out with false, set wakes every waiter with true', async (t) => {
  await using manager = new Manager();
  const event = await manager.Event();
  t.false(await event.isSet());
  t.false(await event.wait(30));
  const waits = [event.wait(), event.wait(10_000)];
  await sleep(20);
  await event.set();
  t.deepEqual(await within(t, 10_000, Promise.all(waits)), [true, true]);
  t.true(await event.wait());
  await event.clear();
  t.false(await event.isSet());
});

test('Condition: wait needs the lock, releases it while waiting, and is woken by notify', async (t) => {
  await using manager = new Manager();
  const cond = await manager.Condition();
  await t.throwsAsync(cond.wait(10), { code: 'ERR_NOT_HELD' });
  await t.throwsAsync(cond.notify(), { code: 'ERR_NOT_HELD' });
  await cond.acquire();
  t.false(await cond.wait(30), 'timed out');
  const woken = cond.wait(10_000);
  await sleep(20);
  // The waiter released the lock, so it can be taken to notify.
  t.true(await cond.acquire({ timeout: 5000 }));
  await cond.notifyAll();
  await cond.release();
  t.true(await within(t, 10_000, woken));
  await cond.release();

  const lock = await manager.Lock();
  const overLock = await manager.Condition(lock);
  let ready = false;
  await overLock.acquire();
  const waited = overLock.waitFor(() => ready, 10_000);
  await sleep(20);
  await overLock.acquire();
  ready = true;
  await overLock.notify();
  await overLock.release();
  t.true(await within(t, 10_000, waited));
  await overLock.release();
  await t.throwsAsync(manager.Condition((await manager.dict()) as never), { instanceOf: TypeError });
});

test('Barrier: parties meet with distinct indexes; a timeout, abort or reset breaks it', async (t) => {
  await using manager = new Manager();
  const barrier = await manager.Barrier(2);
  t.is(await barrier.parties(), 2);
  const first = barrier.wait();
  await sleep(20);
  t.is(await barrier.nWaiting(), 1);
  const second = barrier.wait();
  t.deepEqual((await within(t, 10_000, Promise.all([first, second]))).sort(), [0, 1]);
  await t.throwsAsync(barrier.wait(30), { instanceOf: BrokenBarrierError });
  t.true(await barrier.broken());
  await barrier.reset();
  t.false(await barrier.broken());
  const aborted = barrier.wait();
  await sleep(20);
  await barrier.abort();
  await t.throwsAsync(aborted, { instanceOf: BrokenBarrierError, code: 'ERR_BROKEN_BARRIER' });
});
