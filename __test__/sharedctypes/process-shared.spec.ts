// Value and SharedArray shared with process workers (backend 'process'): the memory is the same in
// every process, atomic adds are exact, and a Lock excludes across processes.
import anyTest from 'ava';

import { Lock, Pool, Process, SharedArray, task, Value } from '../../index.js';
import { within } from '../helpers/pool.js';
import type * as Tasks from '../fixtures/process-shared-tasks.js';
import { processShared } from '../../src/shm/memory.js';

// Where memory cannot be shared between processes, sending is a TypeError instead: process-fallback.spec.ts.
const test = processShared ? anyTest : anyTest.skip;

const tasks = new URL('../fixtures/process-shared-tasks.ts', import.meta.url);
const t_ = <K extends keyof typeof Tasks>(name: K) => task<(typeof Tasks)[K]>(tasks, name);

test("the issue's example: a process-backend Process changes a Value('d') and a SharedArray('i')", async (t) => {
  const num = new Value('d', 0.0);
  const arr = new SharedArray('i', [0, 1, 2, 3, 4, 5, 6, 7, 8, 9]);
  const p = new Process({ target: t_('negate'), args: [num, arr], backend: 'process' });
  p.start();
  await within(t, 60_000, p.join(), 'join');
  t.is(p.exitCode, 0);
  t.is(num.value, Math.PI);
  t.deepEqual(arr.toArray(), [0, -1, -2, -3, -4, -5, -6, -7, -8, -9]);
});

test('4 process workers x 50,000 add(1) on one Value is exact', async (t) => {
  await using pool = new Pool({ backend: 'process', processes: 4 });
  const counter = new Value('i', 0);
  const pids = await within(
    t,
    120_000,
    pool.starmap(
      t_('addMany'),
      Array.from({ length: 4 }, () => [counter, 50_000] as [Value<'i'>, number]),
      1,
    ),
    'starmap',
  );
  t.true(
    pids.every((pid) => pid !== process.pid),
    'ran in other processes',
  );
  t.is(counter.value, 200_000);
});

test("4 process workers x 5,000 Lock-protected read-modify-writes are exact (Lock and the Value's own RLock)", async (t) => {
  await using pool = new Pool({ backend: 'process', processes: 4 });
  const plain = new Value('i', 0, { lock: false });
  const guarded = new Value('i', 0);
  for (const [name, counter, lock] of [
    ['Lock', plain, new Lock()],
    ['RLock', guarded, guarded.getLock()],
  ] as const) {
    const jobs = Array.from({ length: 4 }, () => [counter, lock as Lock, 5_000] as [Value<'i'>, Lock, number]);
    const pids = await within(t, 120_000, pool.starmap(t_('lockedIncrements'), jobs, 1), `${name}: starmap`);
    t.false(pids.includes(process.pid), `${name}: ran in other processes`);
    t.is(counter.value, 20_000, `${name}: no increment lost`);
  }
});

test('a SharedArray returned by a process worker is the same object and memory here', async (t) => {
  await using pool = new Pool({ backend: 'process', processes: 1 });
  const arr = new SharedArray('d', 4);
  const back = await pool.apply((a: SharedArray<'d'>) => (a.set(2, 2.5), a), [arr]);
  t.is(back, arr);
  t.is(arr.get(2), 2.5);
});
