import test from 'ava';

import { Pool, PoolTerminatedError } from '../../index.js';
import { backends, fixture, within } from '../helpers/pool.js';

for (const backend of backends) {
  test(`${backend}: close() lets queued work finish; join() before close is ERR_POOL_RUNNING; submissions after are ERR_POOL_NOT_RUNNING`, async (t) => {
    const pool = new Pool({ backend, processes: 2 });
    await t.throwsAsync(pool.join(), { code: 'ERR_POOL_RUNNING' });
    const queued = pool.map(
      fixture('slowSquare'),
      Array.from({ length: 10 }, (_, i) => i),
      1,
    );
    const single = pool.applyAsync(fixture('slowSquare'), [7]);
    pool.close();
    await t.throwsAsync(pool.map(fixture('square'), [1]), { code: 'ERR_POOL_NOT_RUNNING' });
    await t.throwsAsync(pool.apply(fixture('square'), [1]), { code: 'ERR_POOL_NOT_RUNNING' });
    await t.throwsAsync(pool.imap(fixture('square'), [1]).next(), { code: 'ERR_POOL_NOT_RUNNING' });
    await within(t, 30_000, pool.join());
    t.deepEqual(
      await queued,
      Array.from({ length: 10 }, (_, i) => i * i),
    );
    t.is(await single, 49);
  });

  test(`${backend}: terminate() during a map rejects pending results with PoolTerminatedError`, async (t) => {
    const pool = new Pool({ backend, processes: 2 });
    await pool.apply(fixture('square'), [1]);
    const map = pool.map(
      fixture('sleep'),
      Array.from({ length: 20 }, () => 200),
      1,
    );
    const single = pool.applyAsync(fixture('sleep'), [5000]);
    const checks = Promise.all([
      t.throwsAsync(map, { instanceOf: PoolTerminatedError, code: 'ERR_POOL_TERMINATED' }),
      t.throwsAsync(single.get(), { instanceOf: PoolTerminatedError }),
    ]);
    await new Promise((resolve) => setTimeout(resolve, 50));
    await within(t, 15_000, pool.terminate());
    await within(t, 15_000, checks);
    await within(t, 15_000, pool.join());
    await t.throwsAsync(pool.map(fixture('square'), [1]), { code: 'ERR_POOL_NOT_RUNNING' });
  });

  test(`${backend}: await using closes and joins, finishing the work`, async (t) => {
    let pending: Promise<number[]> | undefined;
    {
      await using pool = new Pool({ backend, processes: 1 });
      pending = pool.map(fixture('slowSquare'), [1, 2, 3], 1);
    }
    t.deepEqual(await pending, [1, 4, 9]);
  });
}
