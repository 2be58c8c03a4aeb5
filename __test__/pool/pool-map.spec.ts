import test from 'ava';

import { Pool, PoolTerminatedError } from '../../index.js';
import { backends, fixture, within } from '../helpers/pool.js';

const square = fixture('square');

for (const backend of backends) {
  test(`${backend}: map with chunksize 1/2/4/100/default equals Array.prototype.map`, async (t) => {
    await using pool = new Pool({ backend, processes: 2 });
    const xs = Array.from({ length: 57 }, (_, i) => i - 5);
    const expected = xs.map((x) => x * x);
    for (const chunksize of [undefined, 1, 2, 4, 100]) {
      t.deepEqual(await within(t, 30_000, pool.map(square, xs, chunksize)), expected, `chunksize ${chunksize}`);
      t.deepEqual(await pool.map((x: number) => x * x, xs, chunksize), expected, `inline, chunksize ${chunksize}`);
    }
  });

  test(`${backend}: starmap, imap (input order) and imapUnordered (every result once)`, async (t) => {
    await using pool = new Pool({ backend, processes: 2 });
    t.deepEqual(
      await pool.starmap(fixture('add'), [
        [1, 2],
        [3, 4],
        [5, 6],
      ]),
      [3, 7, 11],
    );
    t.deepEqual(
      await pool.starmapAsync(
        (a: number, b: number) => a * b,
        [
          [2, 3],
          [4, 5],
        ],
        { chunksize: 1 },
      ),
      [6, 20],
    );
    const xs = Array.from({ length: 30 }, (_, i) => i);
    const ordered: number[] = [];
    for await (const v of pool.imap(fixture('slowSquare'), xs, 2)) ordered.push(v);
    t.deepEqual(
      ordered,
      xs.map((x) => x * x),
    );
    for (const chunksize of [1, 4]) {
      const unordered: number[] = [];
      for await (const v of pool.imapUnordered(fixture('slowSquare'), xs, chunksize)) unordered.push(v);
      t.deepEqual(
        [...unordered].sort((a, b) => a - b),
        xs.map((x) => x * x),
      );
    }
  });

  test(`${backend}: empty iterables give [] at once`, async (t) => {
    await using pool = new Pool({ backend, processes: 1 });
    t.deepEqual(await pool.map(square, []), []);
    t.deepEqual(await pool.starmap(square, []), []);
    t.deepEqual(await pool.mapAsync(square, new Set<number>()), []);
    const seen: number[] = [];
    for await (const v of pool.imap(square, [])) seen.push(v);
    for await (const v of pool.imapUnordered(square, [])) seen.push(v);
    t.deepEqual(seen, []);
  });

  test(`${backend}: sync and async iterables, generators included`, async (t) => {
    await using pool = new Pool({ backend, processes: 2 });
    function* gen() {
      for (let i = 0; i < 10; i++) yield i;
    }
    async function* agen() {
      for (let i = 0; i < 10; i++) {
        await new Promise((resolve) => setImmediate(resolve));
        yield i;
      }
    }
    const expected = [...gen()].map((x) => x * x);
    t.deepEqual(await pool.map(square, gen()), expected);
    t.deepEqual(await pool.map(square, agen(), 3), expected);
    t.deepEqual(await pool.map(square, new Set(gen())), expected);
    const fromAsync: number[] = [];
    for await (const v of pool.imap(square, agen())) fromAsync.push(v);
    t.deepEqual(fromAsync, expected);
  });

  test(`${backend}: an error from the input iterable surfaces at the right index`, async (t) => {
    await using pool = new Pool({ backend, processes: 2 });
    function* failing() {
      for (let i = 0; i < 10; i++) {
        if (i === 6) throw new Error('input broke at 6');
        yield i;
      }
    }
    await t.throwsAsync(pool.map(square, failing()), { message: 'input broke at 6' });
    const got: number[] = [];
    const error = await t.throwsAsync(async () => {
      for await (const v of pool.imap(square, failing(), 4)) got.push(v);
    });
    t.is(error?.message, 'input broke at 6');
    t.deepEqual(got, [0, 1, 4, 9, 16, 25], 'every item before index 6 is delivered first');
  });

  test(`${backend}: a failing task fails the map with its error after every chunk has finished`, async (t) => {
    await using pool = new Pool({ backend, processes: 2 });
    const failOn = (x: number) => {
      if (x === 3) throw new Error(`bad item ${x}`);
      return x;
    };
    const finished: number[] = [];
    const error = await t.throwsAsync(
      pool.mapAsync(failOn, [1, 2, 3, 4, 5, 6], { chunksize: 1, errorCallback: () => finished.push(-1) }).get(),
      { message: 'bad item 3' },
    );
    t.truthy(error);
    t.deepEqual(finished, [-1]);
    const items: number[] = [];
    await t.throwsAsync(
      async () => {
        for await (const v of pool.imap(failOn, [1, 2, 3, 4], 1)) items.push(v);
      },
      { message: 'bad item 3' },
    );
    t.deepEqual(items, [1, 2]);
  });

  test(`${backend}: imap over an endless generator yields results as it goes, and the event loop keeps running`, async (t) => {
    await using pool = new Pool({ backend, processes: 2 });
    let pulled = 0;
    function* naturals() {
      for (let i = 0; ; i++) {
        pulled++;
        yield i;
      }
    }
    let ticks = 0;
    const timer = setInterval(() => ticks++, 5);
    const seen: number[] = [];
    await within(
      t,
      30_000,
      (async () => {
        for await (const v of pool.imap((x: number) => x * 2, naturals(), 4)) {
          seen.push(v);
          if (seen.length === 100) break;
        }
      })(),
    );
    clearInterval(timer);
    t.deepEqual(
      seen,
      Array.from({ length: 100 }, (_, i) => i * 2),
    );
    t.true(ticks > 0, 'timers fired while imap ran');
    t.true(pulled < 100_000, `the input is read as results are taken (${pulled} items pulled)`);
    const unordered: number[] = [];
    for await (const v of pool.imapUnordered((x: number) => x + 1, naturals(), 2)) {
      unordered.push(v);
      if (unordered.length === 50) break;
    }
    t.is(new Set(unordered).size, 50);
  });

  test(`${backend}: terminate() rejects a map and an imap whose async input is still waiting`, async (t) => {
    const pool = new Pool({ backend, processes: 1 });
    const never = new Promise<void>(() => {});
    async function* stalls() {
      yield 1;
      await never;
      yield 2;
    }
    const mapped = pool.map((x: number) => x, stalls());
    const it = pool.imap((x: number) => x, stalls());
    t.is((await it.next()).value, 1);
    const next = it.next();
    await new Promise((resolve) => setTimeout(resolve, 50));
    await pool.terminate();
    await within(t, 10_000, t.throwsAsync(mapped, { instanceOf: PoolTerminatedError }));
    await within(t, 10_000, t.throwsAsync(next, { instanceOf: PoolTerminatedError }));
  });

  test(`${backend}: an imap nobody consumes does not stop close() and join()`, async (t) => {
    const pool = new Pool({ backend, processes: 2 });
    const xs = Array.from({ length: 2000 }, (_, i) => i);
    pool.imap((x: number) => x, xs);
    pool.close();
    await within(t, 30_000, pool.join());
    t.pass();
  });
}

test('bad arguments are TypeErrors/RangeErrors naming the argument', async (t) => {
  await using pool = new Pool({ processes: 1 });
  await t.throwsAsync(pool.map(square, 5 as unknown as number[]), { instanceOf: TypeError, message: /"iterable"/ });
  await t.throwsAsync(pool.map(square, null as unknown as number[]), { instanceOf: TypeError, message: /"iterable"/ });
  // A string is an iterable of its characters, as in Python.
  t.deepEqual(await pool.map((c: string) => c.toUpperCase(), 'abc'), ['A', 'B', 'C']);
  await t.throwsAsync(pool.map(square, [1], 0), { instanceOf: RangeError, message: /"chunksize"/ });
  await t.throwsAsync(pool.map(square, [1], 1.5), { instanceOf: RangeError, message: /"chunksize"/ });
  await t.throwsAsync(pool.map(42 as unknown as typeof square, [1]), { instanceOf: TypeError, message: /"fn"/ });
  await t.throwsAsync(pool.starmap(square, [5 as unknown as [number]]), {
    instanceOf: TypeError,
    message: /iterableOfArgTuples\[0\]/,
  });
  await t.throwsAsync(pool.map(Math.max, [1]), { instanceOf: TypeError, message: /"fn"/ });
  await t.throwsAsync(pool.imap(square, 7 as unknown as number[]).next(), { instanceOf: TypeError, message: /"iterable"/ });
});
