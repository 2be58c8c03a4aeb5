/**
 * JobServer, Parallel Python's pp.Server: jobs you call, callbacks with pp's argument order,
 * depfuncs and modules for inline tasks, groups, statistics per node, setNcpus, destroy, and
 * ppservers on a real Redis with a CLI worker.
 */
import anyTest, { type TestFn } from 'ava';

import { JobServer, PoolTerminatedError, native, task } from '../../index.js';
import { within } from '../helpers/pool.js';
import {
  NO_REDIS,
  type RedisServer,
  type WorkerProcess,
  haveRedis,
  startRedis,
  startWorker,
  stopChild,
  workerArgs,
} from './helpers.js';

const test = anyTest as TestFn<{ redis?: RedisServer; worker?: WorkerProcess }>;
const tasksUrl = new URL('./fixtures/tasks.mjs', import.meta.url);
const slowSquare = task<(x: number, ms: number) => { value: number; pid: number }>(tasksUrl, 'slowSquare');

// Bound inside the task by `modules: ['node:path']`.
declare const path: typeof import('node:path');

function isPrime(n: number): boolean {
  if (n < 2) return false;
  for (let d = 2; d * d <= n; d++) if (n % d === 0) return false;
  return true;
}

function sumPrimes(n: number): number {
  let sum = 0;
  for (let i = 2; i < n; i++) if (isPrime(i)) sum += i;
  return sum;
}

test('depfuncs travel with an inline task, and callbacks get callbackargs then the result', async (t) => {
  await using js = new JobServer({ ncpus: 2 });
  const seen: unknown[][] = [];
  const jobs = [10, 100, 1000].map((n) =>
    js.submit(sumPrimes, [n], {
      depfuncs: [isPrime],
      callback: (...args) => seen.push(args),
      callbackargs: ['n', n],
      group: 'primes',
    }),
  );
  await within(t, 60_000, js.wait('primes'));
  t.true(jobs.every((job) => job.finished));
  t.deepEqual(await Promise.all(jobs.map((job) => job())), [17, 1060, 76127]);
  t.deepEqual(
    seen.sort((a, b) => (a[1] as number) - (b[1] as number)),
    [
      ['n', 10, 17],
      ['n', 100, 1060],
      ['n', 1000, 76127],
    ],
  );
  // Without its depfuncs, the same task cannot find isPrime in the worker.
  await t.throwsAsync(within(t, 60_000, js.submit(sumPrimes, [10])()), { instanceOf: ReferenceError, message: /isPrime/ });
});

test('modules are imported for an inline task and bound by name', async (t) => {
  await using js = new JobServer({ ncpus: 1 });
  const job = js.submit((p: string) => path.basename(p), ['/a/b/c.txt'], { modules: ['node:path'] });
  t.is(await within(t, 60_000, job()), 'c.txt');
});

test('a failing job rejects when called, its callback is not called, and wait() still returns', async (t) => {
  await using js = new JobServer({ ncpus: 1 });
  let called = false;
  const job = js.submit(
    (x: number) => {
      throw new RangeError(`bad ${x}`);
    },
    [3],
    { callback: () => (called = true) },
  );
  await within(t, 60_000, js.wait());
  await t.throwsAsync(job(), { instanceOf: RangeError, message: 'bad 3' });
  t.false(called);
});

test('statistics count jobs and time per node, and printStats prints them as pp does', async (t) => {
  await using js = new JobServer({ ncpus: 2 });
  const jobs = Array.from({ length: 6 }, (_, i) => js.submit(native.sumPrimes, [1000 * i]));
  await within(t, 60_000, Promise.all(jobs.map((job) => job())));
  const stats = js.getStats();
  t.is(stats.local!.njobs, 6);
  t.is(stats.local!.ncpus, 2);
  t.true(stats.local!.timeMs > 0);
  let printed = '';
  js.printStats((text) => (printed += text));
  t.regex(printed, /^Job execution statistics:\n job count \| % of all jobs/);
  t.regex(printed, /\n\s+6 \|\s+100\.00 \|\s+[\d.]+ \|\s+[\d.]+ \| local\n/);
  t.regex(printed, /0 active tasks, 2 cores/);
});

test("printStats prints pp's print_stats() lines: its header, its column widths, seconds with no unit", async (t) => {
  await using js = new JobServer({ ncpus: 1 });
  await within(t, 60_000, js.submit(native.sumPrimes, [1000])());
  let printed = '';
  js.printStats((text) => (printed += text));
  const lines = printed.split('\n');
  // ppft 1.7's print_stats(): "    %6i |        %6.2f |     %8.4f |  %11.6f | %s", then the wall time as str(float).
  t.is(lines[1], ' job count | % of all jobs | job time sum | time per job | job server');
  t.regex(lines[2]!, /^ {9}1 \| {8}100\.00 \| {5}[ \d]{2}\d\.\d{4} \| {2}[ \d]{3}\d\.\d{6} \| local$/);
  t.regex(lines[3]!, /^Time elapsed since server creation \d+(\.\d+)?$/);
  // pp ends with print(""): an empty line after the last one.
  t.deepEqual(lines.slice(4), ['0 active tasks, 1 cores', '', '']);
});

test('printStats leaves out nodes that ran no job and counts the local cores, as pp does', async (t) => {
  // Two local cpus take both jobs before the ppserver (never reached here) would get one.
  await using js = new JobServer({ ncpus: 2, ppservers: ['redis://127.0.0.1:1'] });
  await within(t, 60_000, Promise.all([js.submit(native.sumPrimes, [100])(), js.submit(native.sumPrimes, [1000])()]));
  t.is(js.getStats()['redis://127.0.0.1:1']!.njobs, 0);
  let printed = '';
  js.printStats((text) => (printed += text));
  t.regex(printed, /\n\s+2 \|\s+100\.00 \|\s+[\d.]+ \|\s+[\d.]+ \| local\n/);
  t.notRegex(printed, /redis:/);
  t.regex(printed, /\n0 active tasks, 2 cores\n/);
});

test('setNcpus resizes the local workers; destroy() rejects what has not finished', async (t) => {
  const js = new JobServer({ ncpus: 1 });
  js.setNcpus(2);
  t.is(js.getNcpus(), 2);
  t.throws(() => js.setNcpus(0), { instanceOf: RangeError, message: /ppservers/ });
  const sleep = task<(ms: number) => number>(new URL('../fixtures/tasks.mjs', import.meta.url), 'sleep');
  const jobs = Array.from({ length: 4 }, () => js.submit(sleep, [5000]));
  await within(t, 30_000, js.destroy());
  for (const job of jobs) await t.throwsAsync(job(), { instanceOf: PoolTerminatedError });
  t.throws(() => js.submit(sleep, [1]), { code: 'ERR_JOBSERVER_DESTROYED' });
});

test("pp's positional depfuncs and modules are a TypeError that says where they go", async (t) => {
  await using js = new JobServer({ ncpus: 1 });
  const submit = js.submit.bind(js) as (...a: unknown[]) => unknown;
  t.throws(() => submit(sumPrimes, [10], [isPrime], ['math']), {
    instanceOf: TypeError,
    code: 'ERR_INVALID_ARG_TYPE',
    message: /"options".*\{ depfuncs: \[\.\.\.\], modules: \[\.\.\.\] \}.*Received an instance of Array/,
  });
});

test('bad options and arguments are TypeErrors that name them', (t) => {
  t.throws(() => new JobServer({ ncpu: 2 } as never), {
    instanceOf: TypeError,
    message: /"options\.ncpu" is not supported \(did you mean "ncpus"\?\)/,
  });
  t.throws(() => new JobServer({ ppservers: ['http://x'] }), { instanceOf: TypeError, message: /ppservers\[0\]/ });
  const js = new JobServer({ ncpus: 0, ppservers: ['redis://127.0.0.1:1'] });
  // No local workers: an inline function would have to go through Redis, which is refused.
  t.throws(() => js.submit((x: number) => x, [1]), { instanceOf: TypeError, message: /ncpus 0.*refuses inline functions/ });
  t.throws(() => js.submit(task(tasksUrl, 'square'), [1], { depfuncs: [isPrime] }), {
    instanceOf: TypeError,
    message: /"depfuncs"/,
  });
  t.throws(() => js.submit(task(tasksUrl, 'square'), [1], { grop: 'x' } as never), {
    instanceOf: TypeError,
    message: /"options\.grop" is not supported \(did you mean "group"\?\)/,
  });
  t.throws(() => js.submit(task(tasksUrl, 'square'), [1], { depfuncs: [() => 1] } as never), { instanceOf: TypeError });
  return js.destroy();
});

if (!haveRedis) {
  test.skip(NO_REDIS, () => {});
} else {
  test.serial('ppservers: jobs run on the cluster, and on both the cluster and local workers', async (t) => {
    const redis = await startRedis();
    const worker = await startWorker(workerArgs(redis, 'jobserver'));
    try {
      const remoteOnly = new JobServer({ ncpus: 0, ppservers: [redis.url], queue: 'jobserver' });
      const remote = [1, 2, 3].map((x) => remoteOnly.submit(slowSquare, [x, 1]));
      t.deepEqual(await within(t, 60_000, Promise.all(remote.map((job) => job()))).then((r) => r.map((x) => [x.value, x.pid])), [
        [1, worker.child.pid],
        [4, worker.child.pid],
        [9, worker.child.pid],
      ]);
      t.is(remoteOnly.getStats()[redis.url]!.njobs, 3);
      await remoteOnly[Symbol.asyncDispose]();

      await using both = new JobServer({ ncpus: 1, ppservers: [redis.url], queue: 'jobserver' });
      const jobs = Array.from({ length: 8 }, (_, x) => both.submit(slowSquare, [x, 200]));
      const results = await within(t, 60_000, Promise.all(jobs.map((job) => job())));
      t.deepEqual(
        results.map((r) => r.value),
        [0, 1, 4, 9, 16, 25, 36, 49],
      );
      const stats = both.getStats();
      t.true(stats.local!.njobs > 0 && stats[redis.url]!.njobs > 0, JSON.stringify(stats));
      t.is(stats.local!.njobs + stats[redis.url]!.njobs, 8);
      t.true(results.some((r) => r.pid === process.pid) && results.some((r) => r.pid === worker.child.pid));
    } finally {
      await stopChild(worker.child, 'SIGKILL');
      await redis.stop();
    }
  });
}
