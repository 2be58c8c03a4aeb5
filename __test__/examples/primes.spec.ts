// The sumPrimes examples: the seed experiment (examples/seed.ts), Parallel Python's job server
// (examples/jobserver.mjs), locally and with a ppserver, and the cluster Pool (examples/cluster/).
import test from 'ava';

import { NO_REDIS, haveRedis, startRedis, startWorker, stopChild } from '../cluster/helpers.js';
import { runExample, starting } from './run.js';

const ppSums = [
  'Sum of primes below 100 is 1060',
  'Sum of primes below 100000 is 454396537',
  'Sum of primes below 100100 is 454996777',
  'Sum of primes below 100200 is 455898156',
  'Sum of primes below 100300 is 456700218',
  'Sum of primes below 100400 is 457603451',
  'Sum of primes below 100500 is 458407033',
  'Sum of primes below 100600 is 459412387',
  'Sum of primes below 100700 is 460217613',
];

test('examples/seed.ts: every engine gives the seed checksum', async (t) => {
  const lines = await runExample(t, 'seed.ts');
  t.deepEqual(
    lines.map((line) => line.replace(/\s+\d+ ms$/, '')),
    ['one thread', 'thread pool', 'process pool', 'native', 'native pool'].map((label) => `${label.padEnd(14)} 31007039440`),
  );
});

test("examples/jobserver.mjs: pp's sum_primes example on local workers", async (t) => {
  const lines = await runExample(t, 'jobserver.mjs');
  t.regex(lines[0]!, /^Starting pp with \d+ workers$/);
  t.deepEqual(starting(lines, 'Sum of primes'), ppSums);
  t.is(starting(lines, 'callback').length, 4);
  t.regex(lines.join('\n'), /\n\s+9 \|\s+100\.00 \|\s+[\d.]+ \|\s+[\d.]+ \| local\n/);
});

if (!haveRedis) {
  test.skip(NO_REDIS, () => {});
} else {
  test.serial('examples/jobserver.mjs and examples/cluster/main.mjs with a worker on a local Redis', async (t) => {
    const redis = await startRedis();
    const worker = await startWorker(['--connection', redis.url, '--processes', '2', '--tasks', 'examples/cluster/tasks.mjs']);
    try {
      const pp = await runExample(t, 'jobserver.mjs', [redis.url]);
      t.is(pp[0], `Starting pp with ${/\d+/.exec(pp[0]!)![0]} workers and ${redis.url}`);
      t.deepEqual(starting(pp, 'Sum of primes'), ppSums);
      const cluster = await runExample(t, 'cluster/main.mjs', [redis.url]);
      t.deepEqual(cluster, [
        'checksum 31007039440',
        'native [ 17, 1060, 76127 ]',
        'error RangeError E_EMPTY order 7 has no items',
        'TypeError refuses inline functions: a worker that ran source text read from Redis would run code for anyone who can write to Redis (remote code execution)',
      ]);
    } finally {
      await stopChild(worker.child);
      await redis.stop();
    }
  });
}
