// Items a worker put and had not yet moved into the queue's 64 KiB buffer when it ended (its
// outbox) must still arrive, exactly once: after a Pool's close() + join(), after a Process's
// join(), and when maxtasksperchild replaces a worker. Nothing reads while the workers run, so each
// task's 3,000 items (about 90 KB) overflow the buffer and most of them sit in the outbox at the end.
import { execFile } from 'node:child_process';
import { fileURLToPath } from 'node:url';

import test, { type ExecutionContext } from 'ava';

import { JoinableQueue, Pool, Process, Queue, SimpleQueue, WorkerCrashedError } from '../../index.js';
import { processShared } from '../../src/shm/memory.js';
import { within } from '../helpers/pool.js';

const RUNS = 20;
const ITEMS = 3_000;

type Queues = [Queue<string>, JoinableQueue<string>, SimpleQueue<string>];

/** Task k puts ITEMS items into each queue, with `await put` or with `putSync`; then exits its worker with `exitCode`, if given. */
async function produce(queues: Queues, k: number, sync: boolean, exitCode?: number): Promise<number> {
  const pad = 'x'.repeat(20);
  for (let i = 0; i < 3_000; i++) {
    for (const q of queues) {
      const item = `${k}:${i}:${pad}`;
      if (sync) q.putSync(item);
      else await q.put(item);
    }
  }
  if (exitCode !== undefined) process.exit(exitCode);
  return k;
}

function makeQueues(): Queues {
  return [new Queue<string>(), new JoinableQueue<string>(), new SimpleQueue<string>()];
}

/**
 * Takes everything from each queue, once the producers are joined: all of it must be there now.
 * Counts exactly, and checks that every item came once.
 */
async function drainExactly(t: ExecutionContext, queues: Queues, producers: number, run: number): Promise<void> {
  const names = ['Queue', 'JoinableQueue', 'SimpleQueue'];
  for (const [n, q] of queues.entries()) {
    const seen = new Set<string>();
    let count = 0;
    // Every get must be answered at once; a lost item makes the get wait (the guard fails the test).
    while (!q.empty() && count < producers * ITEMS) {
      seen.add(
        await within(
          t,
          10_000,
          q.get(),
          `run ${run}: ${names[n]} get #${count} (qsize ${q instanceof SimpleQueue ? '?' : q.qsize()})`,
        ),
      );
      count++;
      if (q instanceof JoinableQueue) q.taskDone();
    }
    t.is(count, producers * ITEMS, `run ${run}: ${names[n]} delivered ${count} items`);
    t.is(seen.size, producers * ITEMS, `run ${run}: ${names[n]} delivered each item once`);
    t.true(q.empty(), `run ${run}: ${names[n]} has nothing left`);
    if (q instanceof JoinableQueue) t.true(await q.join(10_000));
  }
}

test('thread Pool: every item tasks put is there exactly once after close() + join() (20 runs, 3 queue kinds, put and putSync)', async (t) => {
  for (let run = 0; run < RUNS; run++) {
    const queues = makeQueues();
    const pool = new Pool({ processes: 2 });
    t.deepEqual(
      await pool.starmap(
        produce,
        [
          [queues, 0, false],
          [queues, 1, true],
        ],
        1,
      ),
      [0, 1],
    );
    pool.close();
    await within(t, 30_000, pool.join(), `run ${run}: join`);
    await drainExactly(t, queues, 2, run);
  }
});

/** `runs` times: two Processes put (one `await put`, one `putSync`), end, and are joined; then every item is drained. */
async function processesDeliverAll(t: ExecutionContext, runs: number, backend: 'thread' | 'process'): Promise<void> {
  for (let run = 0; run < runs; run++) {
    const queues = makeQueues();
    const processes = [false, true].map((sync, k) => new Process({ target: produce, args: [queues, k, sync], backend }));
    for (const p of processes) p.start();
    for (const p of processes) await within(t, 60_000, p.join(), `run ${run}: join`);
    t.deepEqual(
      processes.map((p) => p.exitCode),
      [0, 0],
    );
    await drainExactly(t, queues, 2, run);
  }
}

test('thread Process: every item the target put is there exactly once after join() (20 runs, 3 queue kinds, put and putSync)', (t) =>
  processesDeliverAll(t, RUNS, 'thread'));

// A child process hands its outboxes to its parent over the IPC channel as it ends (entry.ts).
// Fewer runs: each one starts two child processes.
const processTest = processShared ? test : test.skip;

processTest(
  'process Pool: every item tasks put is there exactly once after close() + join() (5 runs, 3 queue kinds, put and putSync)',
  async (t) => {
    for (let run = 0; run < 5; run++) {
      const queues = makeQueues();
      const pool = new Pool({ processes: 2, backend: 'process' });
      const tasks: [Queues, number, boolean][] = [
        [queues, 0, false],
        [queues, 1, true],
      ];
      t.deepEqual(await within(t, 60_000, pool.starmap(produce, tasks, 1), `run ${run}: tasks`), [0, 1]);
      pool.close();
      await within(t, 30_000, pool.join(), `run ${run}: join`);
      await drainExactly(t, queues, 2, run);
    }
  },
);

processTest(
  'process Process: every item the target put is there exactly once after join() (5 runs, 3 queue kinds, put and putSync)',
  (t) => processesDeliverAll(t, 5, 'process'),
);

test('maxtasksperchild: 1: a replaced worker hands over what it had not delivered yet', async (t) => {
  const queues = makeQueues();
  const pool = new Pool({ processes: 2, maxtasksperchild: 1 });
  const tasks = Array.from({ length: 8 }, (_, k) => [queues, k, k % 2 === 1] as [Queues, number, boolean]);
  t.deepEqual(
    await pool.starmap(produce, tasks, 1),
    tasks.map(([, k]) => k),
  );
  pool.close();
  await within(t, 60_000, pool.join(), 'join');
  await drainExactly(t, queues, tasks.length, 0);
});

processTest('process Pool, maxtasksperchild: 1: a replaced child process hands over what it had not delivered yet', async (t) => {
  for (let run = 0; run < 3; run++) {
    const queues = makeQueues();
    const pool = new Pool({ processes: 2, maxtasksperchild: 1, backend: 'process' });
    const tasks = Array.from({ length: 8 }, (_, k) => [queues, k, k % 2 === 1] as [Queues, number, boolean]);
    t.deepEqual(
      await within(t, 120_000, pool.starmap(produce, tasks, 1), `run ${run}: tasks`),
      tasks.map(([, k]) => k),
    );
    pool.close();
    await within(t, 60_000, pool.join(), `run ${run}: join`);
    await drainExactly(t, queues, tasks.length, run);
  }
});

test('await using: the pool is disposed (close + join) with every item delivered', async (t) => {
  const queues = makeQueues();
  {
    await using pool = new Pool({ processes: 2 });
    await pool.starmap(
      produce,
      [
        [queues, 0, true],
        [queues, 1, false],
      ],
      1,
    );
  }
  await drainExactly(t, queues, 2, 0);
});

test('terminate() once the tasks are done: what they put is still delivered', async (t) => {
  const queues = makeQueues();
  const pool = new Pool({ processes: 2 });
  await pool.starmap(
    produce,
    [
      [queues, 0, false],
      [queues, 1, true],
    ],
    1,
  );
  await within(t, 30_000, pool.terminate(), 'terminate');
  await drainExactly(t, queues, 2, 0);
});

test('a task that puts and then exits the worker: what it put is delivered, the task fails with WorkerCrashedError', async (t) => {
  const queues = makeQueues();
  const pool = new Pool({ processes: 1 });
  await t.throwsAsync(pool.apply(produce, [queues, 0, false, 3]), { instanceOf: WorkerCrashedError });
  await t.throwsAsync(pool.apply(produce, [queues, 1, true, 3]), { instanceOf: WorkerCrashedError });
  pool.close();
  await within(t, 30_000, pool.join(), 'join');
  await drainExactly(t, queues, 2, 0);
});

test('Processes putting one large item each as their last statement: every item arrives', async (t) => {
  const q = new Queue<{ k: number; pad: string }>();
  // Each item is 20 KB: three fill the buffer, so most Processes end with their item in the outbox.
  const processes = Array.from(
    { length: 10 },
    (_, k) =>
      new Process({
        target: async (queue: Queue<{ k: number; pad: string }>, n: number) => queue.put({ k: n, pad: 'p'.repeat(20_000) }),
        args: [q, k],
      }),
  );
  for (const p of processes) p.start();
  for (const p of processes) await within(t, 60_000, p.join(), 'join');
  const seen = new Set<number>();
  while (!q.empty()) seen.add((await within(t, 10_000, q.get(), `get #${seen.size}`)).k);
  t.deepEqual(
    [...seen].sort((a, b) => a - b),
    [...Array(10).keys()],
  );
});

for (const backend of ['thread', 'process'] as const) {
  test(`${backend} Pool: a script draining with top-level await q.get() gets every item a task put beyond the buffer (the worker delivering them keeps Node alive)`, async (t) => {
    const script = fileURLToPath(new URL('../fixtures/undelivered-drain.ts', import.meta.url));
    const { code, stdout, stderr } = await new Promise<{ code: number | null; stdout: string; stderr: string }>((resolve) => {
      execFile(process.execPath, ['--import=tsx', script, backend, '3000'], { timeout: 120_000 }, (error, stdout, stderr) =>
        resolve({ code: error ? ((error as { code?: number }).code ?? null) : 0, stdout, stderr }),
      );
    });
    t.is(code, 0, stderr);
    t.deepEqual(JSON.parse(stdout.trim()), { put: 3000, inOrder: 3000 });
  });
}
