import test from 'ava';

import { Lock, Pool, Queue, SharedArray, task, Value } from '../../index.js';

const tasks = new URL('../fixtures/shared-tasks.ts', import.meta.url);

test('Pool(thread): 8 tasks x 100,000 add(1) on a Value passed as a task argument is exact', async (t) => {
  await using pool = new Pool({ backend: 'thread', processes: 2 });
  const counter = new Value('i', 0);
  await pool.map(task(tasks, 'bump100k'), Array(8).fill(counter));
  t.is(counter.value, 800_000);
  await pool.starmap(
    task(tasks, 'bump'),
    Array.from({ length: 4 }, () => [counter, 1_000]),
  );
  t.is(counter.value, 804_000);
});

test('Pool(thread): value += 1 under getLock(), the Value nested in an argument object, is exact', async (t) => {
  await using pool = new Pool({ backend: 'thread', processes: 2 });
  const counter = new Value('i', 0);
  await pool.map(
    task(tasks, 'lockedBump'),
    Array.from({ length: 4 }, () => ({ counter, n: 50_000 })),
  );
  t.is(counter.value, 200_000);
});

test("Pool(thread): a SharedArray returned by a task is the caller's own object; a Queue fills from tasks", async (t) => {
  await using pool = new Pool({ backend: 'thread', processes: 2 });
  const out = new SharedArray('d', 4);
  const lock = new Lock();
  const returned = await pool.starmap(
    task(tasks, 'fill'),
    [0, 1, 2, 3].map((i) => [out, i, lock]),
  );
  for (const r of returned) t.is(r, out);
  t.deepEqual(out.toArray(), [0, 10, 20, 30]);

  const q = new Queue<number>();
  await pool.starmap(task(tasks, 'produce'), [
    [q, 1, 500],
    [q, 2, 500],
  ]);
  let sum = 0;
  for (let i = 0; i < 1_000; i++) sum += await q.get({ timeout: 30_000 });
  t.is(sum, 1_000 * 1500 + 2 * ((499 * 500) / 2));
});

// Without the native addon this is a TypeError instead: see sharedctypes/process-fallback.spec.ts.
test('Pool(process): a shared object as a task argument is the same memory in the child process', async (t) => {
  await using pool = new Pool({ backend: 'process', processes: 1 });
  const counter = new Value('i', 0);
  t.is(await pool.apply(task(tasks, 'bump'), [counter, 1000]), 1000);
  t.is(counter.value, 1000);
});

test('Pool(thread): shared objects inside Maps and Sets arrive as the same shared objects', async (t) => {
  await using pool = new Pool({ backend: 'thread', processes: 1 });
  const counter = new Value('i', 0);
  const byName = new Map<string, Value<'i'>>([['hits', counter]]);
  await pool.apply((m: Map<string, Value<'i'>>) => m.get('hits')!.add(5), [byName]);
  await pool.apply((s: Set<Value<'i'>>) => [...s][0]!.add(2), [new Set([counter])]);
  t.is(counter.value, 7);
});

test('Pool(process): a shared object inside a Map or Set goes to the child and comes back as the same object', async (t) => {
  await using pool = new Pool({ backend: 'process', processes: 1 });
  const v = new Value('i', 0);
  const map = await pool.apply((m: Map<string, Value<'i'>>) => (m.get('k')!.add(3), m), [new Map([['k', v]])]);
  t.is(map.get('k'), v);
  const set = await pool.apply((s: Set<Value<'i'>>) => ([...s][0]!.add(4), s), [new Set([v])]);
  t.is([...set][0], v);
  t.is(v.value, 7);
});
