import { existsSync, mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

import test, { type ExecutionContext } from 'ava';

import { Pool, native, task } from '../../index.js';
import type * as AbortTasks from '../fixtures/abort-tasks.mjs';
import { backends, eventually, fixture, within } from '../helpers/pool.js';

const tasksUrl = new URL('../fixtures/abort-tasks.mjs', import.meta.url);
const spin = task<typeof AbortTasks.spinAfterMark>(tasksUrl, 'spinAfterMark');
const who = task<typeof AbortTasks.who>(tasksUrl, 'who');
const dir = mkdtempSync(join(tmpdir(), 'napi-mp-abort-'));
let marks = 0;
const mark = () => join(dir, `started-${++marks}`);

const isAbort = (reason?: unknown) => (error: unknown) =>
  error instanceof Error && error.name === 'AbortError' && (reason === undefined || error.cause === reason);

/** What aborted `work` rejects with: within 10 s, for an abort ends the wait at once. */
const rejection = (t: ExecutionContext, work: Promise<unknown>) =>
  within(
    t,
    10_000,
    work.catch((e: unknown) => e),
  );

for (const backend of backends) {
  test(`${backend}: aborting apply stops the running task; its worker is replaced, other work goes on`, async (t) => {
    await using pool = new Pool({ backend, processes: 2 });
    const before = new Set(await Promise.all([pool.apply(who), pool.apply(who)]));
    const ac = new AbortController();
    const started = mark();
    const stuck = pool.apply(spin, [started, 120_000], { signal: ac.signal });
    const other = pool.apply(fixture('sleep'), [300]);
    t.true(await eventually(() => existsSync(started), 30_000), 'the task started');
    const reason = new Error('changed my mind');
    ac.abort(reason);
    const error = await rejection(t, stuck);
    t.true(isAbort(reason)(error), String(error));
    t.is(await within(t, 30_000, other), 300, 'the other task was not failed');
    // Both workers answer (the spinning one would not for two minutes): it was replaced.
    const after = await within(t, 30_000, Promise.all([pool.apply(who), pool.apply(who), pool.apply(who), pool.apply(who)]));
    t.true(
      after.some((w) => !before.has(w)),
      "a new worker took the aborted one's place",
    );
  });

  test(`${backend}: aborting map drops what has not started; imap, mapAsync and applyAsync reject too`, async (t) => {
    await using pool = new Pool({ backend, processes: 1 });
    const ac = new AbortController();
    const started = mark();
    const work = pool.map(spin, [started, started, started], 1, { signal: ac.signal });
    t.true(await eventually(() => existsSync(started), 30_000));
    ac.abort();
    t.true(isAbort()(await rejection(t, work)));
    t.deepEqual(await within(t, 30_000, pool.map(fixture('square'), [1, 2, 3])), [1, 4, 9]);

    const ac2 = new AbortController();
    const started2 = mark();
    const it = pool.imap(spin, [started2], { signal: ac2.signal });
    const first = it.next();
    t.true(await eventually(() => existsSync(started2), 30_000));
    ac2.abort();
    t.true(isAbort()(await rejection(t, first)));

    const ac3 = new AbortController();
    const errors: unknown[] = [];
    const result = pool.mapAsync(fixture('sleep'), [60_000], { signal: ac3.signal, errorCallback: (e) => errors.push(e) });
    ac3.abort();
    t.true(isAbort()(await rejection(t, result.get())));
    t.is(errors.length, 1);

    const ac4 = new AbortController();
    const started4 = mark();
    const single = pool.applyAsync(spin, [started4], { signal: ac4.signal });
    t.true(await eventually(() => existsSync(started4), 30_000));
    ac4.abort();
    t.true(isAbort()(await rejection(t, single.get())));
    t.is(await within(t, 30_000, pool.apply(fixture('add'), [1, 2])), 3);
  });
}

test('an already-aborted signal rejects at once, and nothing runs', async (t) => {
  await using pool = new Pool({ backend: 'async', processes: 1 });
  const ran: number[] = [];
  const signal = AbortSignal.abort();
  const op = (x: number) => ran.push(x);
  for (const work of [
    pool.apply(op, [1], { signal }),
    pool.applyAsync(op, [2], { signal }).get(),
    pool.map(op, [3], { signal }),
    pool.starmap(op, [[4]], 1, { signal }),
    pool.mapAsync(op, [5], { signal }).get(),
    pool.starmapAsync(op, [[6]], { signal }).get(),
    pool.imap(op, [7], { signal }).next(),
    pool.imapUnordered(op, [8], 1, { signal }).next(),
  ]) {
    t.true(isAbort(signal.reason)(await work.catch((e: unknown) => e)));
  }
  t.deepEqual(ran, []);
});

test('async: aborting drops queued calls and stops waiting for the running one', async (t) => {
  await using pool = new Pool({ backend: 'async', processes: 1 });
  const ran: number[] = [];
  const ac = new AbortController();
  const work = pool.map(
    async (x: number) => {
      ran.push(x);
      await new Promise(() => {}); // never settles: only abort ends the wait
    },
    [1, 2, 3],
    1,
    { signal: ac.signal },
  );
  await new Promise((resolve) => setImmediate(resolve));
  ac.abort();
  t.true(isAbort()(await rejection(t, work)));
  t.deepEqual(ran, [1]);
  t.is(
    await within(
      t,
      10_000,
      pool.apply((x: number) => x + 1, [1]),
    ),
    2,
    'the slot is free again',
  );
});

test('native: aborting map, apply, applyAsync or imap stops its kernels; other operations still finish', async (t) => {
  await using pool = new Pool({ backend: 'native', processes: 1 });
  const ac = new AbortController();
  // Minutes of work on one thread, unless the abort stops it.
  const work = pool.map(
    native.sumPrimes,
    Array.from({ length: 200 }, () => 2_000_000),
    1,
    { signal: ac.signal },
  );
  const other = pool.apply(native.sumPrimes, [100000]);
  await new Promise((resolve) => setTimeout(resolve, 100));
  ac.abort();
  t.true(isAbort()(await rejection(t, work)));
  t.is(await within(t, 30_000, other), 454396537, 'the other operation was run again, not failed');
  t.is(await within(t, 30_000, pool.apply(native.sumPrimes, [100000])), 454396537);

  // apply, applyAsync and imap of a kernel that would run for minutes stop as map does.
  for (const start of [
    (signal: AbortSignal) => pool.apply(native.sumPrimes, [500_000_000], { signal }),
    (signal: AbortSignal) => pool.applyAsync(native.sumPrimes, [500_000_000], { signal }).get(),
    (signal: AbortSignal) => pool.imap(native.sumPrimes, [500_000_000], { signal }).next(),
  ]) {
    const ac2 = new AbortController();
    const running = start(ac2.signal);
    await new Promise((resolve) => setTimeout(resolve, 100));
    ac2.abort();
    t.true(isAbort()(await rejection(t, running)));
  }
  t.is(await within(t, 30_000, pool.apply(native.sumPrimes, [1000])), 76127);
});

test('signal is validated; options objects refuse unknown names', async (t) => {
  await using pool = new Pool({ backend: 'async', processes: 1 });
  const fn = (x: number) => x;
  await t.throwsAsync(pool.apply(fn, [1], { signal: 42 as never }), { code: 'ERR_INVALID_ARG_TYPE', message: /"signal"/ });
  await t.throwsAsync(pool.map(fn, [1], 1, { signal: {} as never }), { code: 'ERR_INVALID_ARG_TYPE' });
  await t.throwsAsync(pool.apply(fn, [1], { sigal: 1 } as never), {
    code: 'ERR_INVALID_ARG_VALUE',
    message: /did you mean "signal"/,
  });
  t.throws(() => pool.applyAsync(fn, [1], { signal: 'x' as never }), { code: 'ERR_INVALID_ARG_TYPE' });
  await t.throwsAsync(pool.imap(fn, [1], 1, { signal: 1 as never }).next(), { code: 'ERR_INVALID_ARG_TYPE' });
});
