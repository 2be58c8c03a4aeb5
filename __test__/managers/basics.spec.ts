import { existsSync } from 'node:fs';

import test from 'ava';

import { DictProxy, ListProxy, Manager, type NamespaceProxy, SyncManager, ValueProxy } from '../../index.js';

test('Manager is SyncManager; it starts on first use and serves on a private socket', async (t) => {
  t.is(Manager, SyncManager);
  await using manager = new Manager();
  t.is(manager.address, undefined);
  const d = await manager.dict();
  t.true(d instanceof DictProxy);
  t.is(typeof manager.address, 'string');
  t.true(existsSync(manager.address as string));
});

test('dict: Map semantics (1 and "1" differ), Python methods, copy() gives a Map', async (t) => {
  await using manager = new Manager();
  const d = await manager.dict<number | string, unknown>([[1, 'one']]);
  await d.set('1', 'string one');
  await d.set(0.25, null);
  t.is(await d.get(1), 'one');
  t.is(await d.get('1'), 'string one');
  t.is(await d.get('missing'), undefined);
  t.is(await d.get('missing', 'dflt'), 'dflt');
  t.true(await d.has(0.25));
  t.is(await d.size(), 3);
  t.deepEqual(await d.keys(), [1, '1', 0.25]);
  t.deepEqual(await d.values(), ['one', 'string one', null]);
  t.deepEqual(await d.entries(), [
    [1, 'one'],
    ['1', 'string one'],
    [0.25, null],
  ]);
  await d.update(new Map([[2, 'two']]));
  await d.update({ three: 3 });
  await d.update(new Set([[4, 'four'] as const]));
  t.deepEqual(
    await d.copy(),
    new Map<unknown, unknown>([
      [1, 'one'],
      ['1', 'string one'],
      [0.25, null],
      [2, 'two'],
      ['three', 3],
      [4, 'four'],
    ]),
  );
  t.true(await d.delete(2));
  t.false(await d.delete(2));
  t.is(await d.pop(4), 'four');
  t.is(await d.pop(4, 'gone'), 'gone');
  await t.throwsAsync(d.pop(4), { code: 'ERR_KEY_NOT_FOUND' });
  t.is(await d.pop(4, undefined), undefined, 'a default given as undefined is still a default');
  t.is(await d.setdefault('k', 'v'), 'v');
  t.is(await d.setdefault('k', 'w'), 'v');
  await d.clear();
  t.is(await d.size(), 0);
});

test('values are structured-cloned both ways: changing what was sent or received changes nothing', async (t) => {
  await using manager = new Manager();
  const d = await manager.dict<string, { n: number; when: Date; tags: Set<string> }>();
  const value = { n: 1, when: new Date(0), tags: new Set(['a']) };
  await d.set('v', value);
  value.n = 2;
  const got = (await d.get('v'))!;
  t.is(got.n, 1);
  t.true(got.when instanceof Date);
  t.deepEqual(got.tags, new Set(['a']));
  got.n = 3;
  t.is((await d.get('v'))!.n, 1);
  const error = await d.set('f', (() => 1) as never).then(
    () => undefined,
    (e: unknown) => e,
  );
  t.is((error as DOMException | undefined)?.name, 'DataCloneError');
});

test('list: Python indexes (negative from the end), out of range -> RangeError ERR_OUT_OF_RANGE', async (t) => {
  await using manager = new Manager();
  const l = await manager.list<unknown>([0, 1, 2, 3, 4]);
  t.true(l instanceof ListProxy);
  await l.append(5);
  await l.extend(new Set([6, 7]));
  t.is(await l.length(), 8);
  t.is(await l.get(-1), 7);
  await l.set(-2, 60);
  t.is(await l.get(6), 60);
  const error = await t.throwsAsync(l.get(8), { instanceOf: RangeError, code: 'ERR_OUT_OF_RANGE' });
  t.regex(error.message, /index/);
  await t.throwsAsync(l.get(1.5), { instanceOf: RangeError });
  await t.throwsAsync(l.get('0' as never), { instanceOf: TypeError, code: 'ERR_INVALID_ARG_TYPE' });
  t.is(await l.pop(), 7);
  t.is(await l.pop(0), 0);
  await l.insert(0, -1);
  t.deepEqual(await l.slice(0, 2), [-1, 1]);
  t.deepEqual(await l.slice(-2), [5, 60]);
  t.is(await l.index(5), 5);
  await t.throwsAsync(l.index(99), { code: 'ERR_VALUE_NOT_FOUND' });
  await l.append({ a: 1 });
  t.is(await l.count({ a: 1 }), 1, 'equality is by value, as Python ==');
  await l.remove({ a: 1 });
  await l.reverse();
  t.deepEqual(await l.copy(), [60, 5, 4, 3, 2, 1, -1]);
  await l.sort();
  t.deepEqual(await l.copy(), [-1, 1, 2, 3, 4, 5, 60], 'numbers sort by value, not as strings');
  await l.sort({ reverse: true });
  t.is(await l.get(0), 60);
  await l.append('x');
  await t.throwsAsync(l.sort(), { instanceOf: TypeError });
  await l.clear();
  await t.throwsAsync(l.pop(), { instanceOf: RangeError });
});

test('Namespace, Value and Array', async (t) => {
  await using manager = new Manager();
  const ns = await manager.Namespace<{ x: number; y?: string }>({ x: 1 });
  t.is(await ns.get('x'), 1);
  await ns.set('y', 'why');
  t.deepEqual(await ns.copy(), { x: 1, y: 'why' });
  const loose = ns as unknown as NamespaceProxy;
  await loose.set('__proto__', 'only a name');
  t.is(await loose.get('__proto__'), 'only a name');
  t.true(await ns.delete('y'));

  const v = await manager.Value('i', 0);
  t.true(v instanceof ValueProxy);
  t.is(await v.get(), 0);
  await v.set(5);
  t.is(await v.get(), 5);
  const big = await manager.Value('q', 1n);
  await big.set(2n ** 40n);
  t.is(await big.get(), 2n ** 40n);
  await t.throwsAsync(manager.Value('z' as never, 0 as never), { instanceOf: TypeError });

  const a = await manager.Array('d', [0.5, 1.5]);
  t.is(await a.length(), 2);
  await a.set(-1, 2.5);
  t.deepEqual(await a.toArray(), [0.5, 2.5]);
  t.is(await a.get(0), 0.5);
});

test('a proxy stored in a dict or list stays a reference to the same object', async (t) => {
  await using manager = new Manager();
  const outer = await manager.dict<string, unknown>();
  const inner = await manager.dict<string, number>();
  const l = await manager.list<unknown>();
  await outer.set('inner', inner);
  await l.append(inner);
  await inner.set('a', 1);
  const viaDict = (await outer.get('inner')) as DictProxy<string, number>;
  const viaList = (await l.get(0)) as DictProxy<string, number>;
  t.true(viaDict instanceof DictProxy);
  t.is(await viaDict.get('a'), 1);
  await viaList.set('b', 2);
  t.deepEqual(
    await inner.copy(),
    new Map([
      ['a', 1],
      ['b', 2],
    ]),
  );
  // Nested deeper, inside plain data.
  await outer.set('deep', { list: [inner], map: new Map([['k', inner]]), set: new Set([inner]) });
  const deep = (await outer.get('deep')) as { list: DictProxy[]; map: Map<string, DictProxy>; set: Set<DictProxy> };
  t.is(await deep.list[0]!.get('b'), 2);
  t.is(await deep.map.get('k')!.get('a'), 1);
  t.is(await [...deep.set][0]!.get('a'), 1);
  // copy() carries the proxies too.
  const copied = await outer.copy();
  t.true(copied.get('inner') instanceof DictProxy);
});

test('data that looks like a proxy token stays data', async (t) => {
  await using manager = new Manager();
  const d = await manager.dict<string, unknown>();
  const lookalike = { __napiMpProxy: 1, t: 'dict', i: 1, x: [], k: 'dict' };
  await d.set('x', lookalike);
  t.deepEqual(await d.get('x'), lookalike);
});

test('errors thrown in the manager arrive with their class, code and the manager-side stack', async (t) => {
  await using manager = new Manager();
  const l = await manager.list();
  const error = await t.throwsAsync(l.get(3), { instanceOf: RangeError });
  t.is((error as RangeError & { code: string }).code, 'ERR_OUT_OF_RANGE');
  t.is((error.cause as Error).name, 'RemoteError');
  t.regex((error.cause as { remoteStack: string }).remoteStack, /RangeError/);
});

test('after shutdown every call rejects with ERR_MANAGER_CLOSED and the socket is gone', async (t) => {
  const manager = new Manager();
  const d = await manager.dict();
  const q = await manager.Queue();
  const pending = q.get();
  const address = manager.address as string;
  await manager.shutdown();
  await t.throwsAsync(pending, { code: 'ERR_MANAGER_CLOSED' });
  await t.throwsAsync(d.get(1), { code: 'ERR_MANAGER_CLOSED' });
  await t.throwsAsync(manager.dict(), { code: 'ERR_MANAGER_CLOSED' });
  t.false(existsSync(address));
  await manager.shutdown();
  await t.throwsAsync(manager.start(), { code: 'ERR_MANAGER_CLOSED' });
});

test('options are checked: unknown names, bad types', (t) => {
  t.throws(() => new Manager({ adress: 'x' } as never), { instanceOf: TypeError, message: /adress/ });
  t.throws(() => new Manager({ address: 5 } as never), { instanceOf: TypeError, code: 'ERR_INVALID_ARG_TYPE' });
  t.throws(() => new Manager({ address: { host: 'h', port: 70000 } }), { instanceOf: RangeError, code: 'ERR_OUT_OF_RANGE' });
  t.throws(() => new Manager({ authkey: 5 } as never), { instanceOf: TypeError, code: 'ERR_INVALID_ARG_TYPE' });
  t.throws(() => new Manager({ maxFrameBytes: 10 }), { instanceOf: RangeError, code: 'ERR_OUT_OF_RANGE' });
});

test('start twice -> ERR_ALREADY_STARTED', async (t) => {
  await using manager = new Manager();
  await manager.start();
  await t.throwsAsync(manager.start(), { code: 'ERR_ALREADY_STARTED' });
  await t.throwsAsync(manager.connect(), { code: 'ERR_ALREADY_STARTED' });
});
