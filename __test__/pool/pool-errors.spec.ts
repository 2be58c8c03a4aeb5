import test from 'ava';

import { Empty, Pool, Queue, RemoteError } from '../../index.js';
import { backends, fixture } from '../helpers/pool.js';

for (const backend of backends) {
  test(`${backend}: a task's error keeps its class, name, message and own properties; the worker stack is in cause`, async (t) => {
    await using pool = new Pool({ backend, processes: 1 });
    const typed = await t.throwsAsync(pool.apply(fixture('fail'), ['type', 'wrong type']), { instanceOf: TypeError });
    t.is(typed!.message, 'wrong type');
    t.is(typed!.name, 'TypeError');
    t.is((typed as TypeError & { code: string }).code, 'E_TYPE');
    t.deepEqual((typed as TypeError & { detail: unknown }).detail, { n: 1 });
    t.true(typed!.cause instanceof RemoteError);
    t.regex((typed!.cause as RemoteError).remoteStack, /tasks\.mjs/);

    const custom = await t.throwsAsync(pool.apply(fixture('fail'), ['custom', 'bad email']));
    t.is(custom!.name, 'ValidationError');
    t.is(custom!.message, 'bad email');
    t.is((custom as Error & { field: string }).field, 'email');
    t.true(custom instanceof Error);

    const thrownString = await t.throwsAsync(pool.apply(fixture('fail'), ['string', 'just a string']), { any: true });
    t.is(thrownString as unknown, 'just a string');
  });

  test(`${backend}: non-cloneable arguments fail that task with a clear TypeError; the pool goes on`, async (t) => {
    await using pool = new Pool({ backend, processes: 1 });
    const good = pool.apply(fixture('square'), [4]);
    const error = await t.throwsAsync(pool.apply(fixture('square'), [(() => 1) as unknown as number]), { instanceOf: TypeError });
    t.regex(error!.message, /could not be sent to the worker/);
    t.is(await good, 16);
    const mixed = await Promise.allSettled([1, () => 2, 3].map((x) => pool.apply((v: unknown) => v, [x])));
    t.deepEqual(
      mixed.map((r) => r.status),
      ['fulfilled', 'rejected', 'fulfilled'],
    );
    t.is(await pool.apply(fixture('square'), [5]), 25);
  });

  test(`${backend}: a non-cloneable result fails that task with a clear TypeError; the pool goes on`, async (t) => {
    await using pool = new Pool({ backend, processes: 1 });
    const error = await t.throwsAsync(pool.apply(fixture('returnsFunction')), { instanceOf: TypeError });
    t.regex(error!.message, /could not be sent back/);
    t.is(await pool.apply(fixture('square'), [6]), 36);
  });
}

test('AggregateError, DOMException and an error’s own cause cross intact', async (t) => {
  await using pool = new Pool({ processes: 1 });
  const aggregate = await t.throwsAsync(
    pool.apply(() => {
      throw new AggregateError([new TypeError('first'), new RangeError('second')], 'several');
    }),
    { instanceOf: AggregateError, message: 'several' },
  );
  const errors = (aggregate as AggregateError).errors;
  t.true(errors[0] instanceof TypeError);
  t.true(errors[1] instanceof RangeError);
  t.is(errors[1].message, 'second');

  const dom = await t.throwsAsync(
    pool.apply(() => {
      throw new DOMException('stopped', 'AbortError');
    }),
    { any: true }, // DOMException is not a native Error to ava's check
  );
  t.true(dom instanceof DOMException);
  t.is((dom as unknown as DOMException).name, 'AbortError');

  const chained = await t.throwsAsync(
    pool.apply(() => {
      throw new Error('outer', { cause: new TypeError('inner') });
    }),
    { message: 'outer' },
  );
  t.true(chained!.cause instanceof RemoteError, 'the worker stack stays in cause');
  const original = (chained!.cause as RemoteError).cause as Error;
  t.true(original instanceof TypeError);
  t.is(original.message, 'inner');
});

test('an error of this package thrown in a task (Empty from a queue) is that class for the caller', async (t) => {
  await using pool = new Pool({ processes: 1 });
  const q = new Queue<number>();
  const error = await t.throwsAsync(
    pool.apply((queue: Queue<number>) => queue.get({ timeout: 10 }), [q]),
    { instanceOf: Empty },
  );
  t.is(error!.name, 'Empty');
  t.is((error as Empty).code, 'ERR_QUEUE_EMPTY');
  t.true(error!.cause instanceof RemoteError);
});
