import { fileURLToPath } from 'node:url';

import test from 'ava';

import { Pool, PoolTerminatedError, native } from '../../index.js';
import { fixture, within } from '../helpers/pool.js';
import { runNode } from '../helpers/node.js';

/** A promise with its resolve at hand, to hold calls in flight without timing. */
function gate<T = void>() {
  let open!: (value: T) => void;
  const promise = new Promise<T>((resolve) => (open = resolve));
  return { promise, open };
}

test('async: arguments and results by reference, closures allowed, errors are the same object', async (t) => {
  await using pool = new Pool({ backend: 'async', processes: 2 });
  const box = { hits: 0 };
  const seen: unknown[] = [];
  const result = await pool.apply(
    (x: typeof box) => {
      seen.push(x); // a closure over this scope
      x.hits++;
      return x;
    },
    [box],
  );
  t.is(result, box);
  t.is(seen[0], box);
  t.is(box.hits, 1);
  const thrown = Object.assign(new Error('boom'), { code: 'E_MINE' });
  const caught = await t.throwsAsync(
    pool.apply(async () => {
      throw thrown;
    }),
  );
  t.is(caught, thrown);
  const sync = new TypeError('sync');
  t.is(
    await t.throwsAsync(
      pool.map(
        (x: number) => {
          if (x === 3) throw sync;
          return x;
        },
        [1, 2, 3, 4],
      ),
    ),
    sync,
  );
});

test('async: at most `processes` calls in flight, on this thread', async (t) => {
  await using pool = new Pool({ backend: 'async', processes: 3 });
  let inFlight = 0;
  let most = 0;
  const gates = Array.from({ length: 10 }, () => gate());
  const started: number[] = [];
  const work = pool.map(
    async (i: number) => {
      started.push(i);
      most = Math.max(most, ++inFlight);
      await gates[i]!.promise;
      inFlight--;
      return i * 2;
    },
    [...gates.keys()],
    1,
  );
  await new Promise((resolve) => setImmediate(resolve));
  t.deepEqual(started, [0, 1, 2]);
  for (const g of gates) {
    g.open();
    await new Promise((resolve) => setImmediate(resolve));
  }
  t.deepEqual(
    await within(t, 10_000, work),
    [...gates.keys()].map((i) => i * 2),
  );
  t.is(most, 3);
});

test('async: imap streams results while later calls still wait; imapUnordered in completion order', async (t) => {
  await using pool = new Pool({ backend: 'async', processes: 2 });
  const gates = Array.from({ length: 4 }, () => gate<number>());
  const it = pool.imap((i: number) => gates[i]!.promise, [0, 1, 2, 3]);
  gates[0]!.open(10);
  t.deepEqual(await within(t, 10_000, it.next()), { done: false, value: 10 });
  for (const [i, g] of gates.entries()) g.open(10 + i);
  const rest: number[] = [];
  for await (const v of it) rest.push(v);
  t.deepEqual(rest, [11, 12, 13]);
  const later = Array.from({ length: 2 }, () => gate<number>());
  const unordered = pool.imapUnordered((i: number) => later[i]!.promise, [0, 1]);
  later[1]!.open(21);
  t.deepEqual(await within(t, 10_000, unordered.next()), { done: false, value: 21 });
  later[0]!.open(20);
  t.deepEqual((await unordered.next()).value, 20);
});

test('async: terminate() rejects what has not started, and it never starts', async (t) => {
  const pool = new Pool({ backend: 'async', processes: 1 });
  const hold = gate();
  const calls: string[] = [];
  const first = pool.apply(async () => {
    calls.push('first');
    await hold.promise;
  });
  const second = pool.apply(() => calls.push('second'));
  await new Promise((resolve) => setImmediate(resolve));
  await pool.terminate();
  await t.throwsAsync(second, { instanceOf: PoolTerminatedError });
  await t.throwsAsync(first, { instanceOf: PoolTerminatedError });
  hold.open();
  await new Promise((resolve) => setImmediate(resolve));
  t.deepEqual(calls, ['first']);
  await pool.join();
});

test('async: native kernels, task() handles and an initializer run here too', async (t) => {
  const inits: unknown[] = [];
  await using pool = new Pool({
    backend: 'async',
    processes: 2,
    initializer: (tag: string) => inits.push(tag),
    initargs: ['once'],
  });
  t.deepEqual(await pool.map(native.sumPrimes, [100000, 10]), [454396537, 17]);
  t.is(await pool.apply(fixture('add'), [2, 3]), 5);
  t.deepEqual(
    await pool.starmap(fixture('add'), [
      [1, 2],
      [3, 4],
    ]),
    [3, 7],
  );
  t.deepEqual(inits, ['once']);
  t.throws(() => new Pool({ backend: 'async', initializer: 42 as never }), {
    code: 'ERR_INVALID_ARG_TYPE',
    message: /"initializer"/,
  });
});

test('async: close() then join() waits for the calls in flight', async (t) => {
  const pool = new Pool({ backend: 'async', processes: 2 });
  const hold = gate();
  let done = false;
  void pool.apply(async () => {
    await hold.promise;
    done = true;
  });
  pool.close();
  const joined = pool.join();
  setImmediate(() => hold.open());
  await within(t, 10_000, joined);
  t.true(done);
});

test('the backend option lists async among its values', (t) => {
  t.throws(() => new Pool({ backend: 'gevent' as never }), { code: 'ERR_INVALID_ARG_VALUE', message: /'async'/ });
});

test('examples/async-fetch.ts fetches every page, at most 3 at once', async (t) => {
  const script = fileURLToPath(new URL('../../examples/async-fetch.ts', import.meta.url));
  const run = await runNode(['--import', 'tsx', script]);
  t.is(run.stderr, '');
  t.is(run.code, 0);
  const lines = run.stdout.trim().split('\n');
  t.deepEqual(
    lines.slice(0, 9),
    Array.from({ length: 9 }, (_, i) => `200 you asked for /page/${i}`),
  );
  t.regex(lines[9]!, /^fetched 9 pages, at most [123] at once$/);
});
