import test from 'ava';

import { Pool } from '../../index.js';
import { backends, fixture, within } from '../helpers/pool.js';

const identity = (w: { pid: number; threadId: number }) => `${w.pid}/${w.threadId}`;

for (const backend of backends) {
  test(`${backend}: maxtasksperchild replaces a worker after N tasks (identities change)`, async (t) => {
    await using pool = new Pool({ backend, processes: 1, maxtasksperchild: 2 });
    const who = await within(
      t,
      30_000,
      pool.map(
        fixture('whoAmI'),
        Array.from({ length: 6 }, () => undefined),
        1,
      ),
    );
    const ids = who.map(identity);
    t.is(new Set(ids).size, 3, `6 tasks, 2 per worker: ${ids.join(', ')}`);
    t.is(ids[0], ids[1]);
    t.not(ids[1], ids[2]);
    t.is(ids[2], ids[3]);
  });

  test(`${backend}: without maxtasksperchild the same workers serve every task`, async (t) => {
    await using pool = new Pool({ backend, processes: 2 });
    const who = await pool.map(
      fixture('whoAmI'),
      Array.from({ length: 10 }, () => undefined),
      1,
    );
    t.true(new Set(who.map(identity)).size <= 2);
  });

  test(`${backend}: initializer runs once in every worker before its first task, with initargs`, async (t) => {
    await using pool = new Pool({ backend, processes: 2, initializer: fixture('init'), initargs: ['tag', { n: 1 }] });
    const seen = await pool.map(
      fixture('readInit'),
      Array.from({ length: 8 }, () => undefined),
      1,
    );
    for (const s of seen) {
      t.truthy(s, 'initialized before the task');
      t.is(s!.tag, 'tag');
      t.deepEqual(s!.extra, { n: 1 });
    }
  });

  test(`${backend}: a failing initializer fails the work with its error instead of hanging`, async (t) => {
    await using pool = new Pool({ backend, processes: 1, initializer: fixture('failInit') });
    await within(t, 30_000, t.throwsAsync(pool.apply(fixture('square'), [2]), { message: 'initializer failed' }));
  });
}

test('processes defaults to os.availableParallelism(); bad options are RangeErrors/TypeErrors', async (t) => {
  const { availableParallelism } = await import('node:os');
  const pool = new Pool();
  t.is(pool.processes, availableParallelism());
  t.is(pool.backend, 'thread');
  await pool.terminate();
  t.throws(() => new Pool({ processes: -1 }), { instanceOf: RangeError, message: /"processes"/ });
  t.throws(() => new Pool({ maxtasksperchild: 0 }), { instanceOf: RangeError, message: /"maxtasksperchild"/ });
  t.throws(() => new Pool({ initargs: 5 as unknown as unknown[] }), { instanceOf: TypeError, message: /"initargs"/ });
  t.throws(() => new Pool({ initializer: 5 as never }), { instanceOf: TypeError, message: /"initializer"/ });
});
