/**
 * The cluster backend against a real redis-server and a worker started through the CLI: the Pool
 * API unchanged (results in order, errors intact), inline functions refused, and nothing left in
 * Redis once the work is done.
 */
import anyTest, { type TestFn } from 'ava';

import { Pool, PoolTerminatedError, RemoteError, Value, native, task } from '../../index.js';
import { within } from '../helpers/pool.js';
import {
  NO_REDIS,
  type RedisServer,
  type WorkerProcess,
  haveRedis,
  inspect,
  startRedis,
  startWorker,
  stopChild,
  workerArgs,
} from './helpers.js';

const test = anyTest as TestFn<{ redis: RedisServer; worker: WorkerProcess }>;
const QUEUE = 'pool-spec';
const tasksUrl = new URL('./fixtures/tasks.mjs', import.meta.url);
const echo = task<(value: unknown) => unknown>(tasksUrl, 'echo');
const square = task<(x: number) => number>(tasksUrl, 'square');
const slowSquare = task<(x: number, ms: number) => { value: number; pid: number }>(tasksUrl, 'slowSquare');

function clusterPool(t: { context: { redis: RedisServer } }, processes = 2): Pool {
  return new Pool({ backend: 'cluster', connection: t.context.redis.url, queue: QUEUE, processes });
}

if (!haveRedis) {
  test.skip(NO_REDIS, () => {});
} else {
  test.before(async (t) => {
    const redis = await startRedis();
    const tasks = ['__test__/cluster/fixtures/tasks.mjs', '__test__/fixtures/tasks.mjs'];
    const worker = await startWorker(workerArgs(redis, QUEUE, { processes: 2, tasks }));
    t.context = { redis, worker };
  });

  test.after.always(async (t) => {
    if (t.context.worker) await stopChild(t.context.worker.child, 'SIGKILL');
    await t.context.redis?.stop();
  });

  test.serial('the worker says what it serves and where', (t) => {
    const out = t.context.worker.output();
    t.regex(out, new RegExp(`queue '${QUEUE}' on redis://127\\.0\\.0\\.1:${t.context.redis.port}`));
    t.regex(out, /serves napi-multiprocessing\/__test__\/cluster\/fixtures\/tasks\.mjs/);
    t.regex(out, /exports: .*echo.*slowSquare/);
    t.regex(out, /native\.sumPrimes/);
  });

  test.serial('map returns every result in input order, in chunks, and leaves nothing in Redis', async (t) => {
    const pool = clusterPool(t);
    const xs = Array.from({ length: 2000 }, (_, i) => i);
    t.deepEqual(
      await within(t, 60_000, pool.map(square, xs, 25)),
      xs.map((x) => x * x),
    );
    t.deepEqual(
      await within(t, 60_000, pool.map(square, xs)),
      xs.map((x) => x * x),
    );
    pool.close();
    await within(t, 30_000, pool.join());
    const redis = inspect(t.context.redis);
    try {
      // Completed jobs are removed at once, and the pool's result list is gone with it.
      t.is(await redis.zcard(`bull:${QUEUE}:completed`), 0);
      t.is(await redis.llen(`bull:${QUEUE}:wait`), 0);
      t.deepEqual(await redis.keys(`bull:${QUEUE}:pool-*`), []);
      t.deepEqual(await redis.keys('napi-mp:*'), []);
    } finally {
      redis.disconnect();
    }
  });

  test.serial('apply, starmap, imap, imapUnordered and mapAsync keep the Pool API', async (t) => {
    await using pool = clusterPool(t);
    const cube = task<(x: number) => number>(new URL('../fixtures/tasks.cjs', import.meta.url), 'cube');
    t.is(await within(t, 30_000, pool.apply(square, [7])), 49);
    // A module outside the worker's --tasks is refused by the worker, with what it does serve.
    const refused = await t.throwsAsync(within(t, 30_000, pool.apply(cube, [2])));
    t.regex(
      refused!.message,
      /does not serve the module of task 'cube' \(asked for napi-multiprocessing\/__test__\/fixtures\/tasks\.cjs or file:.*; it serves napi-multiprocessing\/__test__\/cluster\/fixtures\/tasks\.mjs, napi-multiprocessing\/__test__\/fixtures\/tasks\.mjs\)/,
    );
    t.deepEqual(
      await within(
        t,
        30_000,
        pool.starmap(slowSquare, [
          [2, 1],
          [3, 1],
        ]),
      ).then((r) => r.map((x) => x.value)),
      [4, 9],
    );
    const ordered: number[] = [];
    for await (const v of pool.imap(square, [1, 2, 3, 4])) ordered.push(v);
    t.deepEqual(ordered, [1, 4, 9, 16]);
    const unordered: number[] = [];
    for await (const v of pool.imapUnordered(square, [1, 2, 3, 4], 2)) unordered.push(v);
    t.deepEqual(
      unordered.sort((a, b) => a - b),
      [1, 4, 9, 16],
    );
    const got = await within(t, 30_000, new Promise((resolve) => pool.mapAsync(square, [5, 6], { callback: resolve })));
    t.deepEqual(got, [25, 36]);
  });

  test.serial('arguments and results keep structured-clone fidelity', async (t) => {
    await using pool = clusterPool(t);
    const values = [
      12345678901234567890n,
      new Map([[1, { a: [1, 2] }]]),
      new Set(['x']),
      new Date(0),
      new Uint8Array([1, 2, 3]),
      undefined,
      null,
      'é',
    ];
    t.deepEqual(await within(t, 30_000, pool.map(echo, values)), values);
  });

  test.serial('native kernels run on the workers', async (t) => {
    await using pool = clusterPool(t);
    t.deepEqual(await within(t, 30_000, pool.map(native.sumPrimes, [10, 100, 1000])), [17, 1060, 76127]);
    t.is(await within(t, 30_000, pool.apply(native.isPrime, [97])), true);
  });

  test.serial("a task's error arrives with its class, name, message, properties and the worker's stack", async (t) => {
    await using pool = clusterPool(t);
    const fail = task(tasksUrl, 'fail');
    const error = await t.throwsAsync(within(t, 30_000, pool.apply(fail, ['no good'])), { instanceOf: RangeError });
    t.is(error!.message, 'no good');
    t.is((error as RangeError & { code: string }).code, 'E_CLUSTER_TEST');
    t.deepEqual((error as RangeError & { detail: unknown }).detail, { n: 1 });
    t.true(error!.cause instanceof RemoteError);
    t.regex((error!.cause as RemoteError).remoteStack, /RangeError: no good\n\s+at fail \(.*cluster\/fixtures\/tasks\.mjs/);
    const custom = await t.throwsAsync(
      within(t, 30_000, pool.starmap(task(new URL('../fixtures/tasks.mjs', import.meta.url), 'fail'), [['custom', 'bad']])),
    );
    t.is(custom!.name, 'ValidationError');
    t.is((custom as Error & { field: string }).field, 'email');
  });

  test.serial('an inline function is refused at submission, saying why', async (t) => {
    await using pool = clusterPool(t);
    const error = await t.throwsAsync(
      pool.map((x: number) => x + 1, [1]),
      { instanceOf: TypeError },
    );
    t.is((error as TypeError & { code: string }).code, 'ERR_INVALID_ARG_TYPE');
    t.regex(error!.message, /refuses inline functions.*remote code execution.*--tasks/);
    await t.throwsAsync(
      pool.apply(function named() {}),
      { instanceOf: TypeError, message: /inline function named/ },
    );
  });

  test.serial('shared memory cannot go to another machine: a clear TypeError', async (t) => {
    await using pool = clusterPool(t);
    const value = new Value('i', 1);
    await t.throwsAsync(pool.apply(echo, [value]), {
      instanceOf: TypeError,
      message: /A Value cannot be sent to cluster workers/,
    });
  });

  test.serial("terminate() rejects what is pending and removes this pool's waiting jobs", async (t) => {
    const pool = clusterPool(t);
    // A few jobs run (the worker has 2 local workers and takes up to 2 jobs each), the rest wait.
    const work = pool.starmap(
      slowSquare,
      Array.from({ length: 10 }, (_, i) => [i, 1500]),
      1,
    );
    work.catch(() => {});
    const redis = inspect(t.context.redis);
    const counts = async () => [await redis.llen(`bull:${QUEUE}:active`), await redis.llen(`bull:${QUEUE}:wait`)] as const;
    try {
      for (let i = 0; i < 200; i++) {
        const [active, waiting] = await counts();
        if (active >= 2 && active + waiting === 10) break;
        await new Promise((r) => setTimeout(r, 50));
      }
      const [, waiting] = await counts();
      t.true(waiting >= 6, `${waiting} jobs waiting`);
      await within(t, 30_000, pool.terminate());
      await t.throwsAsync(work, { instanceOf: PoolTerminatedError });
      t.is(await redis.llen(`bull:${QUEUE}:wait`), 0);
      // The jobs already running finish on the worker (a job taken while terminate() ran among
      // them); their results expire unread, and the jobs are removed.
      for (let i = 0; i < 200 && (await redis.llen(`bull:${QUEUE}:active`)) > 0; i++) await new Promise((r) => setTimeout(r, 50));
      t.is(await redis.llen(`bull:${QUEUE}:active`), 0);
      t.is(await redis.zcard(`bull:${QUEUE}:completed`), 0);
    } finally {
      redis.disconnect();
    }
  });

  test.serial(
    'an AbortSignal rejects apply, applyAsync, map and imap with an AbortError and removes their waiting jobs',
    async (t) => {
      await using pool = clusterPool(t);
      const redis = inspect(t.context.redis);
      const isAbort = (reason: unknown) => (e: unknown) => e instanceof Error && e.name === 'AbortError' && e.cause === reason;
      try {
        const ac = new AbortController();
        const work = [
          pool.apply(slowSquare, [1, 1500], { signal: ac.signal }),
          pool.applyAsync(slowSquare, [2, 1500], { signal: ac.signal }).get(),
          pool.starmap(
            slowSquare,
            Array.from({ length: 8 }, (_, i) => [i, 1500]),
            1,
            { signal: ac.signal },
          ),
          // Queued behind the slow jobs: still waiting in Redis when the signal aborts.
          pool.map(square, [4, 5], 1, { signal: ac.signal }),
          pool.imap(square, [3], { signal: ac.signal }).next(),
        ].map((p) => p.catch((e: unknown) => e));
        for (let i = 0; i < 200 && (await redis.llen(`bull:${QUEUE}:wait`)) === 0; i++)
          await new Promise((r) => setTimeout(r, 50));
        const reason = new Error('changed my mind');
        ac.abort(reason);
        for (const error of await within(t, 10_000, Promise.all(work))) t.true(isAbort(reason)(error), String(error));
        for (let i = 0; i < 200 && (await redis.llen(`bull:${QUEUE}:wait`)) > 0; i++) await new Promise((r) => setTimeout(r, 50));
        t.is(await redis.llen(`bull:${QUEUE}:wait`), 0, 'the waiting jobs were removed');
        t.deepEqual(await within(t, 30_000, pool.map(square, [1, 2, 3])), [1, 4, 9], 'the pool goes on');
      } finally {
        redis.disconnect();
      }
    },
  );

  test.serial('a result list Redis refuses to read fails the work instead of hanging', async (t) => {
    // A rogue "worker" that answers by overwriting the pool's result list with a string.
    const { Worker } = await import('bullmq');
    const redis = inspect(t.context.redis);
    const rogue = new Worker('pool-spec-rogue', async (job) => void (await redis.set(job.data.reply, 'not a list')), {
      connection: { url: t.context.redis.url },
    });
    try {
      await using pool = new Pool({ backend: 'cluster', connection: t.context.redis.url, queue: 'pool-spec-rogue' });
      const error = await t.throwsAsync(within(t, 30_000, pool.map(square, [1, 2, 3])));
      t.regex(error!.message, /WRONGTYPE/);
    } finally {
      await rogue.close();
      redis.disconnect();
    }
  });

  test.serial('options: connection is required, and only for the cluster backend; worker-side options are refused', (t) => {
    t.throws(() => new Pool({ backend: 'cluster' }), { instanceOf: TypeError, message: /"connection"/ });
    t.throws(() => new Pool({ backend: 'cluster', connection: 'http://x' }), { instanceOf: TypeError, message: /redis:\/\// });
    t.throws(() => new Pool({ backend: 'cluster', connection: t.context.redis.url, queue: 'a:b' }), {
      instanceOf: TypeError,
      message: /"queue"/,
    });
    t.throws(() => new Pool({ backend: 'thread', connection: t.context.redis.url }), {
      instanceOf: TypeError,
      message: /backend 'cluster'/,
    });
    t.throws(() => new Pool({ backend: 'cluster', connection: t.context.redis.url, maxtasksperchild: 2 }), {
      instanceOf: TypeError,
      message: /maxtasksperchild.*worker command/,
    });
  });
}
