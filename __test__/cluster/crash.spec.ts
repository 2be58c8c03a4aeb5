/**
 * Workers that die or stop in the middle of a map: two workers started through the CLI, one
 * SIGKILLed while both run jobs. BullMQ's stalled-job check puts the dead worker's job back, the
 * other worker runs it, and the map settles with every right result. SIGTERM drains instead.
 */
import anyTest, { type TestFn } from 'ava';

import { Pool, task } from '../../index.js';
import { isProcessAlive, within } from '../helpers/pool.js';
import { NO_REDIS, type RedisServer, haveRedis, inspect, startRedis, startWorker, stopChild, workerArgs } from './helpers.js';

const test = anyTest as TestFn<{ redis: RedisServer }>;
const tasksUrl = new URL('./fixtures/tasks.mjs', import.meta.url);
const slowSquare = task<(x: number, ms: number) => { value: number; pid: number }>(tasksUrl, 'slowSquare');

/** Short BullMQ timings, so a dead worker's job is back in the queue within seconds. */
/** Short lock times, so that a stalled job is taken back within the test. */
const crashArgs = (redis: RedisServer, queue: string) =>
  workerArgs(redis, queue, { extra: ['--lock-duration', '2000', '--stalled-interval', '1000'] });

async function waitUntil(check: () => Promise<boolean>, ms: number): Promise<boolean> {
  const end = Date.now() + ms;
  while (Date.now() < end) {
    if (await check()) return true;
    await new Promise((resolve) => setTimeout(resolve, 25));
  }
  return check();
}

if (!haveRedis) {
  test.skip(NO_REDIS, () => {});
} else {
  test.before(async (t) => {
    t.context = { redis: await startRedis() };
  });

  test.after.always(async (t) => {
    await t.context.redis?.stop();
  });

  test.serial('a worker SIGKILLed mid-map loses nothing: the map returns every right result', async (t) => {
    const queue = 'crash-kill';
    const [a, b] = await Promise.all([
      startWorker(crashArgs(t.context.redis, queue)),
      startWorker(crashArgs(t.context.redis, queue)),
    ]);
    const redis = inspect(t.context.redis);
    try {
      await using pool = new Pool({ backend: 'cluster', connection: t.context.redis.url, queue, processes: 2 });
      const xs = Array.from({ length: 24 }, (_, i) => i);
      // Chunks of two 150 ms tasks: twelve jobs, each worker holding one at a time.
      const work = pool.starmap(
        slowSquare,
        xs.map((x) => [x, 150]),
        2,
      );
      work.catch(() => {});
      // Both workers are running a job: kill one of them in the middle of it.
      t.true(await waitUntil(async () => (await redis.llen(`bull:${queue}:active`)) >= 2, 30_000), 'both workers took a job');
      await stopChild(a.child, 'SIGKILL');
      const results = await within(t, 90_000, work, 'the map after a worker was killed');
      t.deepEqual(
        results.map((r) => r.value),
        xs.map((x) => x * x),
      );
      // The killed worker's pid may appear for the jobs it finished before it died; the rest ran on b.
      t.true(results.some((r) => r.pid === b.child.pid));
      t.false(isProcessAlive(a.child.pid!));
    } finally {
      redis.disconnect();
      await stopChild(a.child, 'SIGKILL');
      await stopChild(b.child, 'SIGKILL');
    }
  });

  test.serial('SIGTERM drains: the running job finishes and is delivered, then the worker exits 0', async (t) => {
    const queue = 'crash-term';
    const worker = await startWorker(crashArgs(t.context.redis, queue));
    const redis = inspect(t.context.redis);
    try {
      await using pool = new Pool({ backend: 'cluster', connection: t.context.redis.url, queue, processes: 1 });
      const work = pool.apply(slowSquare, [9, 1500]);
      t.true(await waitUntil(async () => (await redis.llen(`bull:${queue}:active`)) >= 1, 30_000), 'the worker took the job');
      worker.child.kill('SIGTERM');
      t.deepEqual(await within(t, 30_000, work), { value: 81, pid: worker.child.pid! });
      t.is(await within(t, 30_000, worker.exited), 0);
      t.regex(worker.output(), /SIGTERM: finishing the running jobs, then exiting\ndrained/);
    } finally {
      redis.disconnect();
      await stopChild(worker.child, 'SIGKILL');
    }
  });
}
