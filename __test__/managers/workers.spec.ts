import test from 'ava';

import { DictProxy, Manager, Pool, Process, task } from '../../index.js';
import type * as Tasks from '../fixtures/managers.mjs';
import { backends, within } from '../helpers/pool.js';

const url = new URL('../fixtures/managers.mjs', import.meta.url);
/** The benchmark's loop: `inflight` loops of `await d.set(i, i); await d.get(i)` over 0…n-1. */
const setGetLoop = task<(d: unknown, n: number, inflight?: number) => Promise<{ ms: number; checksum: number }>>(
  new URL('../../benchmark/tasks/managers.mjs', import.meta.url),
  'setGetLoop',
);
function fixture<K extends keyof typeof Tasks>(name: K) {
  return task<(typeof Tasks)[K] extends (...args: never[]) => unknown ? (typeof Tasks)[K] : never>(url, name);
}

for (const backend of backends) {
  test(`${backend} Processes: the seed's Manager example (10 processes write a dict and append to a list)`, async (t) => {
    await using manager = new Manager();
    const d = await manager.dict<number | string, unknown>();
    const l = await manager.list([0, 1, 2, 3, 4]);
    const ps = Array.from(
      { length: 10 },
      (_, i) => new Process({ target: fixture('fillDictAndList'), args: [d, l, i], backend }),
    );
    for (const p of ps) p.start();
    for (const p of ps) await within(t, 60_000, p.join(), 'join');
    t.deepEqual(
      ps.map((p) => p.exitCode),
      Array(10).fill(0),
    );
    const copy = await d.copy();
    t.is(copy.size, 12);
    for (let i = 0; i < 10; i++) t.is(copy.get(i), '1');
    t.is(copy.get('2'), 2);
    t.is(copy.get(0.25), null);
    t.is(await l.length(), 15);
    t.deepEqual(
      (await l.copy()).slice(5).sort((a, b) => a - b),
      [0, 1, 2, 3, 4, 5, 6, 7, 8, 9],
    );
  });

  test(`${backend} Pool: proxies as task arguments, nested proxies, a proxy as a result`, async (t) => {
    await using manager = new Manager();
    await using pool = new Pool({ processes: 2, backend });
    const outer = await manager.dict<string, unknown>();
    const inner = await manager.dict<string, unknown>();
    await outer.set('inner', inner);
    t.deepEqual(
      await within(
        t,
        60_000,
        pool.starmap(fixture('writeThroughNested'), [
          [outer, 'a', 1],
          [outer, 'b', 2],
        ]),
      ),
      [1, 2],
    );
    t.deepEqual([...(await inner.copy())].sort(), [
      ['a', 1],
      ['b', 2],
    ]);
    const back = await within(t, 60_000, pool.apply(fixture('returnProxy'), [outer]));
    t.true(back instanceof DictProxy);
    t.is(await (back as unknown as DictProxy).get('fromWorker'), true);
    t.is(await inner.get('fromWorker'), true);
  });

  test(`${backend}: a Lock and a Namespace shared by workers keep a read-modify-write exact`, async (t) => {
    await using manager = new Manager();
    await using pool = new Pool({ processes: 2, backend });
    const lock = await manager.Lock();
    const ns = await manager.Namespace({ n: 0 });
    await within(
      t,
      60_000,
      pool.starmap(fixture('lockedIncrements'), [
        [lock, ns, 50],
        [lock, ns, 50],
        [lock, ns, 50],
      ]),
    );
    t.is(await ns.get('n'), 150);
  });

  test(`${backend}: an error in the manager reaches the worker, and from there the caller, with its class and code`, async (t) => {
    await using manager = new Manager();
    await using pool = new Pool({ processes: 1, backend });
    const l = await manager.list();
    await t.throwsAsync(within(t, 60_000, pool.apply(fixture('callAndFail'), [l])), {
      instanceOf: RangeError,
      code: 'ERR_OUT_OF_RANGE',
    });
  });

  test(`${backend}: a call pending in a worker rejects with ERR_MANAGER_CLOSED when the manager shuts down`, async (t) => {
    const manager = new Manager();
    await using pool = new Pool({ processes: 1, backend });
    const q = await manager.Queue();
    const started = await manager.Event();
    const result = pool.apply(fixture('pendingUntilClosed'), [q, started]);
    t.true(await within(t, 60_000, started.wait(60_000)));
    await manager.shutdown();
    const outcome = await within(t, 30_000, result);
    t.false(outcome.ok);
    t.is(outcome.code, 'ERR_MANAGER_CLOSED');
    t.true(outcome.ms! < 5000);
  });
}

test('process workers get the authkey through the IPC message only: not in argv, execArgv or env', async (t) => {
  await using manager = new Manager({ authkey: 'a-very-particular-key-0123456789' });
  await using pool = new Pool({ processes: 1, backend: 'process' });
  const d = await manager.dict();
  // The proxy travels with the task; the worker connects with the key it carries.
  t.is((await within(t, 60_000, pool.apply(setGetLoop, [d, 10]))).checksum, 45);
  const seen = JSON.stringify(await within(t, 60_000, pool.apply(fixture('environment'), [])));
  t.false(seen.includes('a-very-particular-key'));
  t.false(seen.includes(Buffer.from('a-very-particular-key-0123456789').toString('hex')));
  t.false(seen.includes(Buffer.from('a-very-particular-key-0123456789').toString('base64')));
});

test('100 calls in flight from a process worker all complete, in one connection', async (t) => {
  await using manager = new Manager();
  await using pool = new Pool({ processes: 1, backend: 'process' });
  const d = await manager.dict<number, number>();
  const n = 2000;
  t.is((await within(t, 60_000, pool.apply(setGetLoop, [d, n, 100]))).checksum, (n * (n - 1)) / 2);
  t.is(await d.size(), n);
});

test('Event and Barrier across process workers', async (t) => {
  await using manager = new Manager();
  await using pool = new Pool({ processes: 3, backend: 'process' });
  const event = await manager.Event();
  const q = await manager.Queue<[string, boolean]>();
  const waits = pool.starmap(fixture('waitThenPut'), [
    [event, q, 'a'],
    [event, q, 'b'],
  ]);
  await new Promise((resolve) => setTimeout(resolve, 200));
  t.is(await q.qsize(), 0);
  await event.set();
  await within(t, 60_000, waits);
  const got = [await q.get(), await q.get()].sort();
  t.deepEqual(got, [
    ['a', true],
    ['b', true],
  ]);
  const barrier = await manager.Barrier(3);
  const indexes = await within(t, 60_000, pool.map(fixture('atBarrier'), [barrier, barrier, barrier], 1));
  t.deepEqual([...indexes].sort(), [0, 1, 2]);
});
