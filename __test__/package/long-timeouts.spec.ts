// Infinity, and any delay above Node's timer limit (2^31 - 1 ms), mean "wait that long": in
// practice, until the awaited thing happens. Node's setTimeout fires such delays after 1 ms.
import test from 'ava';

import {
  Barrier,
  Condition,
  Event,
  JoinableQueue,
  Lock,
  Pipe,
  Pool,
  Process,
  Queue,
  Semaphore,
  TimeoutError,
} from '../../index.js';
import { fixture, within } from '../helpers/pool.js';

const LONG = [Infinity, 2 ** 31, 2 ** 40, Number.MAX_VALUE];

test('AsyncResult.get and wait with a huge or infinite timeout wait for the result', async (t) => {
  const pool = new Pool({ processes: 2 });
  try {
    for (const timeout of LONG) {
      const result = pool.applyAsync(fixture('sleep'), [150]);
      t.is(await within(t, 30_000, result.get(timeout)), 150, `get(${timeout})`);
      const waited = pool.applyAsync(fixture('sleep'), [150]);
      await within(t, 30_000, waited.wait(timeout));
      t.true(waited.ready(), `wait(${timeout}) resolved before the result was ready`);
    }
    // A finite timeout still rejects when it passes.
    await t.throwsAsync(pool.applyAsync(fixture('sleep'), [2000]).get(20), { instanceOf: TimeoutError });
  } finally {
    await pool.terminate();
  }
});

for (const backend of ['thread', 'process'] as const) {
  test(`${backend}: Process.join with a huge or infinite timeout returns once the process has ended`, async (t) => {
    for (const timeout of [Infinity, 2 ** 31]) {
      const p = new Process({ target: fixture('sleep'), args: [150], backend });
      p.start();
      await within(t, 30_000, p.join(timeout));
      t.false(p.isAlive(), `join(${timeout}) returned while the process was alive`);
      t.is(p.exitCode, 0);
    }
  });
}

test('locks, queues, Event, Barrier, Condition and poll wait with a huge or infinite timeout until woken', async (t) => {
  const soon = (fn: () => unknown) => setTimeout(fn, 30);
  for (const timeout of LONG) {
    const lock = new Lock();
    await lock.acquire();
    soon(() => lock.release());
    t.true(await within(t, 10_000, lock.acquire({ timeout })), `Lock ${timeout}`);
    const semaphore = new Semaphore(0);
    soon(() => semaphore.release());
    t.true(await within(t, 10_000, semaphore.acquire({ timeout })), `Semaphore ${timeout}`);
    const event = new Event();
    soon(() => event.set());
    t.true(await within(t, 10_000, event.wait(timeout)), `Event ${timeout}`);
    const queue = new Queue<number>();
    soon(() => queue.put(7));
    t.is(await within(t, 10_000, queue.get({ timeout })), 7, `Queue ${timeout}`);
    const joinable = new JoinableQueue<number>();
    await joinable.put(1);
    soon(async () => {
      await joinable.get();
      joinable.taskDone();
    });
    t.true(await within(t, 10_000, joinable.join(timeout)), `JoinableQueue ${timeout}`);
    const [a, b] = Pipe();
    soon(() => b.send(1));
    t.true(await within(t, 10_000, a.poll(timeout)), `poll ${timeout}`);
    const barrier = new Barrier(2);
    soon(() => barrier.wait());
    t.is(typeof (await within(t, 10_000, barrier.wait(timeout))), 'number', `Barrier ${timeout}`);
    const condition = new Condition();
    await condition.acquire();
    soon(() => condition.withLock(() => condition.notify()));
    t.true(await within(t, 10_000, condition.wait(timeout)), `Condition ${timeout}`);
    condition.release();
  }
});
