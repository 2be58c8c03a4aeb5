// Task arguments and results cross to workers unchanged, whatever their keys, cycles or repeats.
import test from 'ava';

import { native, Pool, Process, task, Value } from '../../index.js';
import { backends, within } from '../helpers/pool.js';
import * as local from '../fixtures/clone-tasks.mjs';

const url = new URL('../fixtures/clone-tasks.mjs', import.meta.url);
const echo = task<typeof local.echo>(url, 'echo');
const describe = task<typeof local.describe>(url, 'describe');
const hostile = task<typeof local.hostile>(url, 'hostile');
const cycle = task<typeof local.cycle>(url, 'cycle');
const expectCycle = task<typeof local.expectCycle>(url, 'expectCycle');

async function runProcess(t: import('ava').ExecutionContext, backend: 'thread' | 'process', target: string, args: unknown[]) {
  const p = new Process({ target: task(url, target), args, backend });
  p.start();
  await within(t, 30_000, p.join());
  return p.exitCode;
}

for (const backend of backends) {
  test(`${backend}: a plain object keyed like the shared-object marker arrives and returns unchanged`, async (t) => {
    await using pool = new Pool({ backend, processes: 1 });
    const data = local.hostile();
    t.deepEqual(await within(t, 30_000, pool.apply(describe, [data])), local.describe(data), 'as the worker sees it');
    t.deepEqual(await pool.apply(describe, [data.nested[0]]), local.describe(data.nested[0]));
    t.deepEqual(await pool.apply(echo, [data]), data, 'as an argument sent back');
    t.deepEqual(await pool.map(echo, [data, [data], { data }]), [data, [data], { data }]);
    const made = await pool.apply(hostile, []);
    t.is(Object.getPrototypeOf(made), Object.prototype);
    t.deepEqual(made, data, 'as a result built in the worker');
    t.is(await runProcess(t, backend, 'expectHostile', [data]), 0, 'as a Process argument');
  });

  test(`${backend}: circular arguments and results keep their cycles`, async (t) => {
    await using pool = new Pool({ backend, processes: 1 });
    const o = local.cycle();
    t.true(await within(t, 30_000, pool.apply(expectCycle, [o])), 'as an argument');
    const a: unknown[] = [1];
    a.push(a);
    const back = (await pool.apply(echo, [a])) as unknown[];
    t.is(back[1], back);
    t.true(local.expectCycle(await pool.apply(echo, [o])), 'as an argument sent back');
    t.true(local.expectCycle(await pool.apply(cycle, [])), 'as a result built in the worker');
    t.deepEqual(await pool.map(expectCycle, [o, o, o]), [true, true, true]);
    t.is(await runProcess(t, backend, 'expectCycle', [o]), 0, 'as a Process argument');
  });
}

test('thread: shared objects inside cyclic data arrive as the same shared objects, repeats included', async (t) => {
  await using pool = new Pool({ backend: 'thread', processes: 1 });
  const counter = new Value('i', 0);
  const o: Record<string, unknown> = { counter, again: counter, list: [] };
  o.self = o;
  (o.list as unknown[]).push(o.list);
  const back = (await within(t, 30_000, pool.apply(task<typeof local.bumpCyclic>(url, 'bumpCyclic'), [o]))) as typeof o;
  t.is(counter.value, 1);
  t.is(back.counter, counter, "the caller's own Value");
  t.is(back.again, counter);
  t.is(back.self, back);
  const item = { counter };
  t.true(await pool.apply(task<typeof local.sameTwice>(url, 'sameTwice'), [[item, item]]), 'one object sent twice is one object');
  const pair = (await pool.apply(echo, [[item, item]])) as (typeof item)[];
  t.is(pair[0], pair[1]);
  t.is(pair[0]!.counter, counter);
});

test('thread: a shared object and user data keyed like a marker, side by side', async (t) => {
  await using pool = new Pool({ backend: 'thread', processes: 1 });
  const counter = new Value('i', 5);
  const data = { counter, fake: local.hostile() };
  const back = (await within(t, 30_000, pool.apply(echo, [data]))) as typeof data;
  t.is(back.counter, counter);
  t.deepEqual(back.fake, local.hostile());
  t.is(Object.getPrototypeOf(back.fake), Object.prototype);
});

test('native: a circular item is refused as a bad kernel input, not walked', async (t) => {
  await using pool = new Pool({ backend: 'native', processes: 1 });
  const o: Record<string, unknown> = {};
  o.self = o;
  await t.throwsAsync(within(t, 30_000, pool.map(native.isPrime, [o as never])), {
    instanceOf: TypeError,
    code: 'ERR_INVALID_ARG_TYPE',
  });
});
