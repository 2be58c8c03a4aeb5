// A 1 MiB message is larger than a queue's 64 KiB buffer, so it streams through in chunks, its
// writer holding the queue's writer lock until the last one. A thread Process that ends right after
// such a put (the put returns once the first chunk is in) must not leave the message half-written
// and the lock held: a get with a timeout settles by its timeout, a nowait never blocks, and the
// queue goes on working for everyone.
import { execFile } from 'node:child_process';
import { fileURLToPath } from 'node:url';

import test from 'ava';

import { Empty, Process, Queue } from '../../index.js';
import { within } from '../helpers/pool.js';

const SIZE = 1 << 20;
const TOLERANCE = 3_000; // ms of slack for timers on a loaded machine (2 cores, shared)

function runFixture(scenario: string): Promise<Record<string, any>> {
  const script = fileURLToPath(new URL('../fixtures/dead-writer.ts', import.meta.url));
  return new Promise((resolve, reject) => {
    execFile(process.execPath, ['--import=tsx', script, scenario], { timeout: 120_000 }, (error, stdout) =>
      error ? reject(error) : resolve(JSON.parse(stdout) as Record<string, any>),
    );
  });
}

test('get({ timeout }) after the writing Process ended mid-message returns the whole message by its timeout', async (t) => {
  const q = new Queue<string>();
  const p = new Process({ target: async (queue: Queue<string>, n: number) => queue.put('m'.repeat(n)), args: [q, SIZE] });
  p.start();
  await within(t, 30_000, p.join(), 'join');
  const start = performance.now();
  const got = await within(t, 2_000 + TOLERANCE, q.get({ timeout: 2_000 }), 'get({ timeout: 2000 })');
  t.true(performance.now() - start < 2_000 + TOLERANCE);
  t.is(got.length, SIZE);
  t.is(got, 'm'.repeat(SIZE));
  // Not wedged: the writer lock was released, other puts and gets go through.
  await q.put('next');
  t.is(await within(t, 5_000, q.get({ timeout: 2_000 }), 'get after'), 'next');
  t.is(q.qsize(), 0);
  await t.throwsAsync(q.get({ timeout: 10 }), { instanceOf: Empty });
});

test('a get started while the writing Process streams settles once it ended mid-message', async (t) => {
  const q = new Queue<string>();
  const p = new Process({ target: async (queue: Queue<string>, n: number) => queue.put('w'.repeat(n)), args: [q, SIZE] });
  const pending = q.get({ timeout: 2_000 });
  p.start();
  const got = await within(
    t,
    30_000,
    pending.catch((error: unknown) => error),
    'get({ timeout: 2000 })',
  );
  await within(t, 30_000, p.join(), 'join');
  // Whether it came before the timeout or not, it is delivered exactly once.
  const message = got instanceof Empty ? await within(t, 5_000, q.get({ timeout: 2_000 }), 'second get') : got;
  t.is(message, 'w'.repeat(SIZE));
  t.is(q.qsize(), 0);
});

test('main thread: getNowait() after the writer ended mid-message returns it at once, and the queue still works', async (t) => {
  const out = await runFixture('ended');
  t.deepEqual(out.first.value, `${SIZE} x e`);
  t.true(out.first.ms < TOLERANCE, `getNowait took ${out.first.ms} ms`);
  t.is(out.after, 'after');
  t.is(out.qsize, 0);
});

test('main thread blocked in getSync() before the writer starts gets the whole message when the writer ends mid-message', async (t) => {
  const out = await runFixture('blocked');
  t.is(out.got.value, `${SIZE} x b`);
  t.is(out.qsize, 0);
});
