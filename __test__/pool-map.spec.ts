import test from 'ava';

import { Pool } from '../index.js';
import { backends, fixture, within } from './helpers/pool.js';

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
    t.deepEqual(await pool.starmap(fixture('add'), [[1, 2], [3, 4], [5, 6]]), [3, 7, 11]);
    t.deepEqual(await pool.starmapAsync((a: number, b: number) => a * b, [[2, 3], [4, 5]], { chunksize: 1 }), [6, 20]);
    const xs = Array.from({ length: 30 }, (_, i) => i);
    const ordered: number[] = [];
    for await (const v of pool.imap(fixture('slowSquare'), xs, 2)) ordered.push(v);
    t.deepEqual(ordered, xs.map((x) => x * x));
    for (const chunksize of [1, 4]) {
      const unordered: number[] = [];
      for await (const v of pool.imapUnordered(fixture('slowSquare'), xs, chunksize)) unordered.push(v);
      t.deepEqual([...unordered].sort((a, b) => a - b), xs.map((x) => x * x));
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
    await t.throwsAsync(async () => {
      for await (const v of pool.imap(failOn, [1, 2, 3, 4], 1)) items.push(v);
    }, { message: 'bad item 3' });
    t.deepEqual(items, [1, 2]);
  });
}

test('bad arguments are TypeErrors/RangeErrors naming the argument', async (t) => {
  await using pool = new Pool({ processes: 1 });
  await t.throwsAsync(pool.map(square, 5 as unknown as number[]), { instanceOf: TypeError, message: /"iterable"/ });
  await t.throwsAsync(pool.map(square, 'abc' as unknown as number[]), { instanceOf: TypeError, message: /"iterable"/ });
  await t.throwsAsync(pool.map(square, [1], 0), { instanceOf: RangeError, message: /"chunksize"/ });
  await t.throwsAsync(pool.map(square, [1], 1.5), { instanceOf: RangeError, message: /"chunksize"/ });
  await t.throwsAsync(pool.map(42 as unknown as typeof square, [1]), { instanceOf: TypeError, message: /"fn"/ });
  await t.throwsAsync(pool.starmap(square, [5 as unknown as [number]]), { instanceOf: TypeError, message: /iterableOfArgTuples\[0\]/ });
  await t.throwsAsync(pool.map(Math.max, [1]), { instanceOf: TypeError, message: /"fn"/ });
  await t.throwsAsync(pool.imap(square, 7 as unknown as number[]).next(), { instanceOf: TypeError, message: /"iterable"/ });
});
