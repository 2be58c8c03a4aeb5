/**
 * Maps of numbers take a path of their own (src/worker/numbers.ts): on threads, one shared buffer
 * per map, kept by the pool for its next map, which the workers write their results over. These
 * tests hold that path to what the generic one gives, and check that a map that ends early
 * (an error, an abort, a crash) leaves nothing behind for the next map to read.
 */
import test, { type ExecutionContext } from 'ava';

import { Event, Pool, task, WorkerCrashedError } from '../../index.js';
import type * as SharedTasks from '../fixtures/process-shared-tasks.js';
import { backends, fixture, runLengths, within } from '../helpers/pool.js';

const sharedTasks = new URL('../fixtures/process-shared-tasks.ts', import.meta.url);
const sharedFixture = <K extends keyof typeof SharedTasks>(name: K) => task<(typeof SharedTasks)[K]>(sharedTasks, name);

function range(n: number): number[];
function range<T>(n: number, f: (i: number) => T): T[];
function range(n: number, f: (i: number) => unknown = (i) => i): unknown[] {
  return Array.from({ length: n }, (_, i) => f(i));
}

/** Every element the same value as `expected`'s, -0 and NaN included, and no hole. */
function same(actual: unknown[], expected: unknown[]): boolean {
  return actual.length === expected.length && expected.every((x, i) => i in actual && Object.is(actual[i], x));
}

/** Whether `pool` doubles every number of `xs` right. */
async function doubles(t: ExecutionContext, pool: Pool, xs: number[]): Promise<boolean> {
  return same(
    await within(
      t,
      60_000,
      pool.map((x: number) => x * 2, xs),
    ),
    xs.map((x) => x * 2),
  );
}

/** Echoes its argument (a hole as 'hole') after a fiftieth of a millisecond: slices stay out a while. */
const slowly = (x: unknown) => {
  const end = performance.now() + 0.02;
  while (performance.now() < end) {
    // a call that costs something
  }
  return x === undefined ? 'hole' : x;
};

const odd = [-0, Number.NaN, 0.5, -(2 ** 53) + 1, 2 ** 53 - 1, 2 ** 31, -(2 ** 31), 2 ** 31 - 1, Infinity, -Infinity];

for (const backend of backends) {
  test(`${backend}: a map of numbers gives what Array.prototype.map gives, whatever the results and however mixed the list`, async (t) => {
    await using pool = new Pool({ backend, processes: 2 });
    const numbers = range(20_000, (i) => (i % 97 === 0 ? odd[(i / 97) % odd.length]! : i * 3 - 7000));
    const inputs: [string, unknown[]][] = [
      ['numbers', numbers],
      ['a string in the middle', numbers.map((x, i) => (i === 12_345 ? 'middle' : x))],
      ['a string first', ['first', ...numbers]],
      ['a string last', [...numbers, 'last']],
      ['undefined and null', numbers.map((x, i) => (i % 1000 === 1 ? (i % 2000 === 1 ? undefined : null) : x))],
      ['strings only', numbers.map(String)],
    ];
    const fns: [string, (x: unknown) => unknown][] = [
      ['number to number', (x) => (typeof x === 'number' ? x * 2 : x)],
      ['number to string', (x) => `<${String(x)}>`],
      ['sometimes not a number', (x) => (typeof x === 'number' && x % 1000 === 999 ? `${x}!` : x)],
      ['anything to a number', (x) => (typeof x === 'number' ? -x : String(x).length)],
    ];
    for (const [list, xs] of inputs) {
      for (const [what, fn] of fns) {
        const expected = xs.map(fn);
        for (const chunksize of [undefined, 700]) {
          const back = await within(t, 60_000, pool.map(fn, xs, chunksize));
          t.true(Array.isArray(back), `${list}, ${what}, chunksize ${chunksize}: an array`);
          t.true(same(back, expected), `${list}, ${what}, chunksize ${chunksize}`);
        }
      }
    }
  });

  test(`${backend}: maps of numbers at the same time and one after another never see each other's values`, async (t) => {
    await using pool = new Pool({ backend, processes: 2 });
    const sizes = [50_000, 3_000, 120_000, 17, 50_000, 2];
    for (let round = 0; round < 2; round++) {
      const lists = sizes.map((n, k) => range(n, (i) => i * (k + 1) + round));
      const maps = lists.map((xs, k) => pool.map((x: number) => x + 0.5, xs, k === 4 ? 1000 : undefined));
      const results = await within(t, 60_000, Promise.all(maps));
      results.forEach((back, k) =>
        t.true(
          same(
            back,
            lists[k]!.map((x) => x + 0.5),
          ),
          `round ${round}, map ${k}`,
        ),
      );
      // One after another, smaller then bigger than the buffer the pool may keep.
      for (const n of [200_000, 10, 150_000, 300_000]) {
        const xs = range(n, (i) => n - i);
        t.true(await doubles(t, pool, xs), `${n} numbers`);
      }
    }
  });

  test(`${backend}: a map of numbers that fails, is aborted or loses a worker part-way leaves the next maps right`, async (t) => {
    await using pool = new Pool({ backend, processes: 2 });
    const xs = range(40_000, (i) => i + 1);
    const check = async (what: string) => t.true(await doubles(t, pool, xs), `after ${what}`);
    await check('nothing');

    const failing = (x: number) => {
      if (x === 30_000) throw new RangeError(`bad item ${x}`);
      return x * 2;
    };
    await t.throwsAsync(within(t, 60_000, pool.map(failing, xs)), { instanceOf: RangeError, message: 'bad item 30000' });
    await check('a call that threw');

    const ac = new AbortController();
    const aborted = pool.map(slowly, xs, { signal: ac.signal });
    setTimeout(() => ac.abort(), 50);
    await t.throwsAsync(within(t, 60_000, aborted), { name: 'AbortError' });
    await check('an abort');

    const crash = (x: number) => (x === 25_000 ? process.exit(7) : x * 2);
    await t.throwsAsync(within(t, 60_000, pool.map(crash, xs)), { instanceOf: WorkerCrashedError });
    await check('a crash');
  });

  test(`${backend}: a map of numbers aborted while a worker still holds one of its slices leaves the next map right`, async (t) => {
    await using pool = new Pool({ backend, processes: 2 });
    const xs = range(20_000, (i) => i + 1);
    const negate = (x: number) => -x;
    // Warm: the task is known to be cheap, so each worker may hold a slice behind its running job.
    await within(t, 30_000, pool.map(negate, xs));
    // Both workers busy until released (not for a while: on a loaded machine a timer-based wait
    // could end before the map below is even cut, and the map would finish instead of aborting).
    const ready = [new Event(), new Event()];
    const go = new Event();
    const holds = ready.map((started) => pool.apply(sharedFixture('waitEvent'), [started, go, 60_000]));
    for (const started of ready) t.true(await started.wait(60_000));
    const ac = new AbortController();
    const aborted = pool.map(negate, xs, { signal: ac.signal });
    await new Promise((resolve) => setImmediate(resolve));
    // The slices are held, not running: the workers are not stopped, and will still run them.
    ac.abort();
    await t.throwsAsync(aborted, { name: 'AbortError' });
    go.set();
    const ys = range(20_000, (i) => 3 * i + 2);
    t.true(await doubles(t, pool, ys));
    t.deepEqual(await within(t, 30_000, Promise.all(holds)), [true, true]);
  });

  test(`${backend}: what map() maps is the array as it was when called, holes and own iterators as before`, async (t) => {
    await using pool = new Pool({ backend, processes: 2 });
    // (Slow calls: most of the map is still to be sent when the caller changes its arrays.)
    const numbers = range(20_000, (i) => i);
    const mixed = range(20_000, (i): unknown => (i === 10_000 ? 'text' : i));
    const expected = [numbers.slice(), mixed.slice()];
    const maps = [pool.map(slowly, numbers), pool.map(slowly, mixed)];
    numbers.fill(-1);
    mixed.fill('changed');
    numbers.length = 10;
    const results = await within(t, 60_000, Promise.all(maps));
    results.forEach((back, k) => t.true(same(back, expected[k]!), `list ${k}`));

    const holey = [1, , 3, ...range(100, (i) => i)];
    t.deepEqual(
      await within(t, 30_000, pool.map(slowly, holey)),
      Array.from(holey, (x) => slowly(x)),
    );
    const own = range(100, (i) => i);
    Object.defineProperty(own, Symbol.iterator, {
      value: function* () {
        yield 7;
        yield 8;
      },
    });
    t.deepEqual(await within(t, 30_000, pool.map(slowly, own)), [7, 8]);
  });

  test(`${backend}: an explicit chunksize is honoured exactly for a map of numbers`, async (t) => {
    await using pool = new Pool({ backend, processes: 2 });
    const xs = range(2000, (i) => i * 1.5);
    // Warm: the pool now knows the task is cheap, and would batch it if it were free to.
    await within(t, 30_000, pool.map(fixture('jobMark'), xs as never));
    const cases: [number, number[]][] = [
      [300, [300, 300, 300, 300, 300, 300, 200]],
      [1, range(40, () => 1)],
      [40, [40]],
    ];
    for (const [chunksize, expected] of cases) {
      const some = xs.slice(
        0,
        expected.reduce((a, b) => a + b, 0),
      );
      const marks = await within(t, 30_000, pool.map(fixture('jobMark'), some as never, chunksize));
      t.deepEqual(runLengths(marks), expected, `chunksize ${chunksize}`);
    }
  });
}
