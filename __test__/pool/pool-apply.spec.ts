import test from 'ava';

import { AsyncResult, Pool, TimeoutError } from '../../index.js';
import { backends, fixture, within } from '../helpers/pool.js';

for (const backend of backends) {
  test(`${backend}: apply and applyAsync; callback exactly once with the value`, async (t) => {
    await using pool = new Pool({ backend, processes: 2 });
    t.is(await pool.apply(fixture('add'), [2, 3]), 5);
    t.is(await pool.apply(() => 42), 42);
    const calls: unknown[] = [];
    const results = Array.from({ length: 20 }, (_, i) =>
      pool.applyAsync(fixture('square'), [i], { callback: (v) => calls.push(v), errorCallback: () => t.fail('errorCallback') }),
    );
    t.true(results[0] instanceof AsyncResult);
    const values = await within(t, 30_000, Promise.all(results));
    t.deepEqual(
      values,
      Array.from({ length: 20 }, (_, i) => i * i),
    );
    t.deepEqual(
      [...calls].sort((a, b) => (a as number) - (b as number)),
      values,
    );
  });

  test(`${backend}: errorCallback exactly once with the error; ready/successful follow`, async (t) => {
    await using pool = new Pool({ backend, processes: 1 });
    const errors: unknown[] = [];
    const r = pool.applyAsync(fixture('fail'), ['range', 'nope'], {
      callback: () => t.fail('callback'),
      errorCallback: (e) => errors.push(e),
    });
    t.throws(() => r.successful(), { code: 'ERR_RESULT_NOT_READY' });
    await t.throwsAsync(r.get(), { instanceOf: RangeError, message: 'nope' });
    await r.wait();
    t.true(r.ready());
    t.false(r.successful());
    t.is(errors.length, 1);
    t.true(errors[0] instanceof RangeError);
  });

  test(`${backend}: get(timeout) rejects with TimeoutError after about the timeout, without cancelling`, async (t) => {
    await using pool = new Pool({ backend, processes: 1 });
    await pool.apply(fixture('sleep'), [1]); // worker started
    // The task outlasts the timeout by far, so a busy CI machine cannot blur the two.
    const r = pool.applyAsync(fixture('sleep'), [3000]);
    const start = performance.now();
    await t.throwsAsync(r.get(100), { instanceOf: TimeoutError, code: 'ERR_TIMEOUT' });
    const elapsed = performance.now() - start;
    t.true(elapsed >= 95 && elapsed < 2500, `timed out after ${elapsed.toFixed(0)} ms`);
    t.false(r.ready());
    await r.wait(10);
    t.is(await within(t, 15_000, r.get()), 3000, 'the work went on and finished');
    t.true(r.successful());
  });

  test(`${backend}: mapAsync callback gets the whole list once`, async (t) => {
    await using pool = new Pool({ backend, processes: 2 });
    const seen: number[][] = [];
    const r = pool.mapAsync(fixture('square'), [1, 2, 3, 4], { chunksize: 1, callback: (v) => seen.push(v) });
    t.deepEqual(await r, [1, 4, 9, 16]);
    t.deepEqual(seen, [[1, 4, 9, 16]]);
  });
}

test('a callback that throws does not change the result and is reported as a warning', async (t) => {
  await using pool = new Pool({ processes: 1 });
  const warnings: Error[] = [];
  const onWarning = (w: Error) => warnings.push(w);
  // The warning is this test's expected output: take it from Node's printer so stderr stays clean.
  const printers = process.listeners('warning');
  process.removeAllListeners('warning');
  process.on('warning', onWarning);
  const r = pool.applyAsync(() => 7, [], {
    callback: () => {
      throw new Error('callback bug');
    },
  });
  t.is(await r.get(), 7);
  await new Promise((resolve) => setImmediate(resolve));
  process.off('warning', onWarning);
  for (const printer of printers) process.on('warning', printer);
  t.true(warnings.some((w) => /callback bug/.test(w.message)));
});

test('AsyncResult arguments are validated', async (t) => {
  await using pool = new Pool({ processes: 1 });
  const r = pool.applyAsync(() => 1);
  // Promise-returning calls reject (never throw) for a bad argument.
  await t.throwsAsync(r.get(-1), { instanceOf: RangeError, message: /"timeoutMs"/ });
  await t.throwsAsync(r.get('5' as unknown as number), { instanceOf: TypeError, message: /"timeoutMs"/ });
  await t.throwsAsync(r.wait(-1), { instanceOf: RangeError, message: /"timeoutMs"/ });
  t.throws(() => pool.applyAsync(() => 1, [], { callback: 5 as never }), { instanceOf: TypeError, message: /"callback"/ });
  await r;
});
