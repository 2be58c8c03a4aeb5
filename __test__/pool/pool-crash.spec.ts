import test from 'ava';

import { Pool, WorkerCrashedError } from '../../index.js';
import { backends, fixture, within } from '../helpers/pool.js';

for (const backend of backends) {
  test(`${backend}: a worker that exits mid-task rejects exactly its task with WorkerCrashedError; the rest finishes`, async (t) => {
    await using pool = new Pool({ backend, processes: 2 });
    const others = Array.from({ length: 10 }, (_, i) => pool.apply(fixture('slowSquare'), [i, 20]));
    const crash = pool.apply(fixture('exitWith'), [7]);
    const error = await within(t, 30_000, t.throwsAsync(crash, { instanceOf: WorkerCrashedError }));
    t.is(error!.exitCode, 7);
    t.is(error!.signal, null);
    t.is(error!.code, 'ERR_WORKER_CRASHED');
    t.deepEqual(
      await within(t, 30_000, Promise.all(others)),
      Array.from({ length: 10 }, (_, i) => i * i),
    );
    // A replacement worker keeps the pool at full strength.
    t.deepEqual(await within(t, 30_000, pool.map(fixture('square'), [1, 2, 3, 4], 1)), [1, 4, 9, 16]);
  });

  test(`${backend}: a map whose worker dies rejects instead of hanging, and the other chunks still run`, async (t) => {
    await using pool = new Pool({ backend, processes: 2 });
    const results = await within(
      t,
      30_000,
      Promise.allSettled([
        pool.map(
          (x: number) => {
            if (x === 5) process.exit(3);
            return x;
          },
          Array.from({ length: 12 }, (_, i) => i),
          1,
        ),
        pool.map(fixture('square'), [1, 2, 3], 1),
      ]),
    );
    t.is(results[0].status, 'rejected');
    t.true((results[0] as PromiseRejectedResult).reason instanceof WorkerCrashedError);
    t.deepEqual(results[1], { status: 'fulfilled', value: [1, 4, 9] });
  });

  test(`${backend}: work a crashed worker held but had not started goes to another worker instead of failing`, async (t) => {
    await using pool = new Pool({ backend, processes: 1 });
    // Once `square` is known to be cheap, the worker takes a second message while busy.
    t.deepEqual(await pool.map(fixture('square'), [1, 2, 3], 1), [1, 4, 9]);
    const crash = pool.apply(fixture('exitWith'), [5]);
    const queuedBehind = pool.apply(fixture('square'), [7]);
    const error = await within(t, 30_000, t.throwsAsync(crash, { instanceOf: WorkerCrashedError }));
    t.is(error!.exitCode, 5);
    t.is(await within(t, 30_000, queuedBehind), 49);
  });

  test(`${backend}: among many batched calls of one function, only the call that exits fails`, async (t) => {
    await using pool = new Pool({ backend, processes: 2 });
    const double = (x: number) => {
      if (x === 7) process.exit(9);
      return x * 2;
    };
    // Known to be cheap, so the calls below travel many to a message.
    t.deepEqual(await pool.map(double, [1, 2, 3], 1), [2, 4, 6]);
    const results = await within(t, 30_000, Promise.allSettled(Array.from({ length: 40 }, (_, i) => pool.apply(double, [i]))));
    const rejected = results.flatMap((r, i) => (r.status === 'rejected' ? [i] : []));
    t.deepEqual(rejected, [7]);
    const error = (results[7] as PromiseRejectedResult).reason as WorkerCrashedError;
    t.true(error instanceof WorkerCrashedError);
    t.is(error.exitCode, 9);
    t.deepEqual(
      results.filter((r) => r.status === 'fulfilled').map((r) => (r as PromiseFulfilledResult<number>).value),
      Array.from({ length: 40 }, (_, i) => i * 2).filter((_, i) => i !== 7),
    );
  });

  test(`${backend}: an uncaught error in a timer is a crash of that worker, not a hang`, async (t) => {
    await using pool = new Pool({ backend, processes: 1 });
    const error = await within(
      t,
      30_000,
      t.throwsAsync(pool.apply(fixture('throwInTimer'), ['boom in timer']), { instanceOf: WorkerCrashedError }),
    );
    t.is(error!.exitCode, 1);
    // The uncaught error itself is in the message and the cause, on both backends.
    t.regex(error!.message, /boom in timer/);
    t.is((error!.cause as Error).message, 'boom in timer');
    t.is(await pool.apply(fixture('square'), [3]), 9);
  });
}

test('process: a worker killed by a signal reports the signal', async (t) => {
  await using pool = new Pool({ backend: 'process', processes: 1 });
  const error = await within(
    t,
    30_000,
    t.throwsAsync(pool.apply(fixture('killSelf'), ['SIGKILL']), { instanceOf: WorkerCrashedError }),
  );
  t.is(error!.signal, 'SIGKILL');
  t.is(error!.exitCode, null);
  t.is(await pool.apply(fixture('square'), [3]), 9);
});

test('thread: a worker out of memory (resourceLimits) is a WorkerCrashedError, and the pool goes on', async (t) => {
  await using pool = new Pool({ backend: 'thread', processes: 1, resourceLimits: { maxOldGenerationSizeMb: 32 } });
  const error = await within(t, 60_000, t.throwsAsync(pool.apply(fixture('exhaustMemory')), { instanceOf: WorkerCrashedError }));
  t.regex(error!.message, /memory/i);
  t.is(await pool.apply(fixture('square'), [3]), 9);
});

test('process: a child out of memory (maxOldGenerationSizeMb) is a WorkerCrashedError, and the pool goes on', async (t) => {
  await using pool = new Pool({ backend: 'process', processes: 1, resourceLimits: { maxOldGenerationSizeMb: 64 } });
  const error = await within(t, 60_000, t.throwsAsync(pool.apply(fixture('exhaustMemory')), { instanceOf: WorkerCrashedError }));
  t.true(error!.signal !== null || (error!.exitCode ?? 0) !== 0, `${error!.message}`);
  t.is(await pool.apply(fixture('square'), [3]), 9);
});
