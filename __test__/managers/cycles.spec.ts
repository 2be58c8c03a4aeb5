/**
 * Values with cycles, shared references and deep nesting through a manager: SPEC says values are
 * structured-cloned, so a cycle comes back as a cycle (the same shape, by identity) whether the
 * proxy calls its own thread's server or goes over the socket; what structured clone cannot copy
 * (nesting too deep for its recursion) is a RangeError with a code, and the manager goes on.
 */
import test from 'ava';

import { DictProxy, Manager, Pool, task } from '../../index.js';
import type * as Tasks from '../fixtures/manager-tasks.js';
import { cyclesKept, cyclicValue } from '../fixtures/manager-tasks.js';
import { within } from '../helpers/pool.js';

const url = new URL('../fixtures/manager-tasks.ts', import.meta.url);
function fixture<K extends keyof typeof Tasks>(name: K) {
  return task<(typeof Tasks)[K] extends (...args: never[]) => unknown ? (typeof Tasks)[K] : never>(url, name);
}

const ALL_KEPT = { self: true, list: true, map: true, set: true, shared: true };

function nested(depth: number): unknown[] {
  const root: unknown[] = [];
  let level = root;
  for (let i = 0; i < depth; i++) level = level[0] = [] as unknown[];
  return root;
}

test('main thread: a cyclic value, with a proxy inside the cycle, round-trips with its cycles', async (t) => {
  await using manager = new Manager();
  const d = await manager.dict<string, unknown>();
  const inner = await manager.dict<string, unknown>();
  await inner.set('marker', 'here');
  await d.set('cyclic', cyclicValue(inner));
  const got = (await d.get('cyclic')) as Record<string, unknown>;
  t.deepEqual(cyclesKept(got), ALL_KEPT);
  t.true(got.proxy instanceof DictProxy);
  t.is(await (got.proxy as DictProxy<string, unknown>).get('marker'), 'here');
  // Without a proxy (the codec's path, no token to replace) as well.
  await d.set('plain', cyclicValue());
  t.deepEqual(cyclesKept(await d.get('plain')), ALL_KEPT);
});

test('thread worker (over the socket): cyclic values both ways keep their cycles and proxies', async (t) => {
  await using manager = new Manager();
  await using pool = new Pool({ processes: 1, backend: 'thread' });
  const d = await manager.dict<string, unknown>();
  await d.set('marker', 'here');
  await d.set('cyclic', cyclicValue(d));
  const outcome = await within(t, 60_000, pool.apply(fixture('cyclesOverSocket'), [d, 'cyclic']));
  t.deepEqual(outcome, { read: ALL_KEPT, proxy: true });
  const fromWorker = (await d.get('fromWorker')) as Record<string, unknown>;
  t.deepEqual(cyclesKept(fromWorker), ALL_KEPT);
  t.is(await (fromWorker.proxy as DictProxy<string, unknown>).get('marker'), 'here');
});

test('main thread: a value nested 100,000 levels deep is a RangeError with a code, and the dict goes on', async (t) => {
  await using manager = new Manager();
  const d = await manager.dict<string, unknown>();
  const inner = await manager.dict<string, unknown>();
  const deep = nested(100_000);
  await t.throwsAsync(d.set('deep', deep), { instanceOf: RangeError, code: 'ERR_OUT_OF_RANGE', message: /nested too deeply/ });
  // The token walk must not be what overflows when a proxy sits beside the deep part.
  await t.throwsAsync(d.set('deep', [inner, deep]), {
    instanceOf: RangeError,
    code: 'ERR_OUT_OF_RANGE',
    message: /nested too deeply/,
  });
  await d.set('after', 'still served');
  t.is(await d.get('after'), 'still served');
  t.false(await d.has('deep'));
});

test('process worker: a value nested 100,000 levels deep is a RangeError with a code, and the connection goes on', async (t) => {
  await using manager = new Manager();
  await using pool = new Pool({ processes: 1, backend: 'process' });
  const d = await manager.dict<string, unknown>();
  const outcome = await within(t, 60_000, pool.apply(fixture('setDeep'), [d, 100_000]));
  t.is(outcome?.name, 'RangeError');
  t.is(outcome?.code, 'ERR_OUT_OF_RANGE');
  t.regex(outcome?.message ?? '', /nested too deeply/);
  t.is(await d.get('after'), 'still served');
  t.false(await d.has('deep'));
});
