import test from 'ava';

import { Pool } from '../../index.js';
import { fixture, within } from '../helpers/pool.js';

test('a failed applyAsync is no unhandled rejection, whether nobody asks, get() is dropped, or it is awaited', async (t) => {
  await using pool = new Pool({ processes: 1 });
  const unhandled: unknown[] = [];
  const onUnhandled = (reason: unknown) => unhandled.push(reason);
  process.on('unhandledRejection', onUnhandled);
  try {
    const ignored = pool.applyAsync(fixture('fail'), ['Error', 'nobody asks']);
    const dropped = pool.applyAsync(fixture('fail'), ['Error', 'get() dropped']);
    void dropped.get();
    const awaited = pool.applyAsync(fixture('fail'), ['Error', 'awaited']);
    await t.throwsAsync(within(t, 30_000, awaited.get()), { message: 'awaited' });
    await ignored.wait();
    await dropped.wait();
    t.false(ignored.successful());
    await t.throwsAsync(dropped.get(), { message: 'get() dropped' });
    // Late askers see the same outcome.
    await t.throwsAsync(ignored.get(), { message: 'nobody asks' });
    await new Promise((resolve) => setImmediate(resolve));
    t.deepEqual(unhandled, []);
  } finally {
    process.off('unhandledRejection', onUnhandled);
  }
});

test('applyAsync callbacks run before an awaiting caller resumes, each exactly once', async (t) => {
  await using pool = new Pool({ processes: 1 });
  const order: string[] = [];
  const ok = pool.applyAsync(fixture('square'), [3], { callback: (v) => order.push(`callback ${v}`) });
  const bad = pool.applyAsync(fixture('fail'), ['Error', 'x'], { errorCallback: () => order.push('errorCallback') });
  t.is(await within(t, 30_000, ok.get()), 9);
  order.push('resumed ok');
  await t.throwsAsync(bad.get());
  order.push('resumed bad');
  t.deepEqual(order, ['callback 9', 'resumed ok', 'errorCallback', 'resumed bad']);
});
