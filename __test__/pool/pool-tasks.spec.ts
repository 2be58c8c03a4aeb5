import test from 'ava';

import { native, Pool, task } from '../../index.js';
import { backends, fixture } from '../helpers/pool.js';

for (const backend of backends) {
  test(`${backend}: inline functions, sync and async, arrow and classic`, async (t) => {
    await using pool = new Pool({ backend, processes: 2 });
    t.deepEqual(await pool.map((x: number) => x + 1, [1, 2]), [2, 3]);
    t.deepEqual(await pool.map(async (x: number) => x * 10, [1, 2]), [10, 20]);
    t.deepEqual(
      await pool.map(
        function named(x: number) {
          return -x;
        },
        [1, 2],
      ),
      [-1, -2],
    );
    const methods = {
      shorthand(x: number) {
        return x + 100;
      },
      async asyncShorthand(x: number) {
        return x + 200;
      },
    };
    t.deepEqual(await pool.map(methods.shorthand, [1]), [101]);
    t.deepEqual(await pool.map(methods.asyncShorthand, [1]), [201]);
  });

  test(`${backend}: an inline function using its enclosing scope fails with a message pointing to task()`, async (t) => {
    await using pool = new Pool({ backend, processes: 1 });
    const factor = 3;
    const error = await t.throwsAsync(
      pool.map((x: number) => x * factor, [1]),
      { instanceOf: ReferenceError },
    );
    t.regex(error!.message, /factor/);
    t.regex(error!.message, /enclosing scope/);
    t.regex(error!.message, /task\(/);
    t.deepEqual(await pool.map((x: number) => x * 3, [1]), [3], 'the pool goes on');
  });

  test(`${backend}: task() handles for ESM (named and default), CommonJS and TypeScript modules`, async (t) => {
    await using pool = new Pool({ backend, processes: 2 });
    t.deepEqual(await pool.map(fixture('square'), [3]), [9]);
    t.deepEqual(await pool.map(task(new URL('../fixtures/tasks.mjs', import.meta.url)), [3]), [6]);
    t.deepEqual(await pool.map(task(new URL('../fixtures/tasks.cjs', import.meta.url), 'cube'), [3]), [27]);
    const triple = task<typeof import('../fixtures/tasks-ts.js').triple>(
      new URL('../fixtures/tasks-ts.ts', import.meta.url),
      'triple',
    );
    t.deepEqual(await pool.map(triple, [3]), [9]);
    await t.throwsAsync(pool.apply(task(new URL('../fixtures/tasks.mjs', import.meta.url), 'missing'), [1]), {
      instanceOf: TypeError,
      message: /no exported function 'missing'/,
    });
    await t.throwsAsync(pool.apply(task(new URL('../fixtures/does-not-exist.mjs', import.meta.url), 'x'), []), {
      message: /Cannot find module|ERR_MODULE_NOT_FOUND|does-not-exist/,
    });
  });

  test(`${backend}: native kernels are tasks`, async (t) => {
    await using pool = new Pool({ backend, processes: 2 });
    const xs = Array.from({ length: 200 }, (_, i) => i * 500);
    const sums = await pool.map(native.sumPrimes, xs);
    t.is(
      sums.reduce((a, b) => a + b, 0),
      31007039440,
    );
    t.deepEqual(await pool.map(native.isPrime, [2n, 4n, 97]), [true, false, true]);
    await t.throwsAsync(pool.apply(native.sumPrimes, [-1]), { instanceOf: RangeError, message: /"n"/ });
  });
}

test('task() validates its arguments and accepts paths', (t) => {
  t.throws(() => task(42 as unknown as string), { instanceOf: TypeError, message: /"moduleUrl"/ });
  t.throws(() => task('', 'x'), { instanceOf: TypeError, message: /"moduleUrl"/ });
  t.throws(() => task('/x.mjs', ''), { instanceOf: TypeError, message: /"exportName"/ });
  t.is(task('/abs/path/tasks.mjs', 'f').moduleUrl, 'file:///abs/path/tasks.mjs');
  t.is(task(new URL('file:///a/b.mjs')).exportName, 'default');
});

test('thread workers start when Node runs with --input-type=module (eval and stdin scripts)', async (t) => {
  const { execFile } = await import('node:child_process');
  const entry = new URL('../../index.ts', import.meta.url).href;
  const script = `import { Pool } from ${JSON.stringify(entry)}; const pool = new Pool({ processes: 1 }); console.log(await pool.apply((x) => x * 2, [21])); await pool.terminate();`;
  const stdout = await new Promise<string>((resolve, reject) => {
    execFile(process.execPath, ['--import=tsx', '--input-type=module', '-e', script], { timeout: 120_000 }, (error, out) =>
      error ? reject(error) : resolve(out),
    );
  });
  t.is(stdout.trim(), '42');
});
