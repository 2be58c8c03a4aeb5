import { inspect } from 'node:util';

import test from 'ava';

import { Lock, RawArray, RawValue, RLock, SharedArray, Value, type Typecode } from '../../index.js';
import { decode, encode } from '../../src/reduction/transfer.js';
import { refuseForProcess } from '../../src/shm/memory.js';

const cases: [Typecode, number | bigint, number | bigint, unknown][] = [
  // typecode, a value that fits, the first value beyond the range, the typed array class
  ['b', -128, 128, Int8Array],
  ['B', 255, 256, Uint8Array],
  ['h', -32768, 32768, Int16Array],
  ['H', 65535, 65536, Uint16Array],
  ['i', -(2 ** 31), 2 ** 31, Int32Array],
  ['I', 2 ** 32 - 1, 2 ** 32, Uint32Array],
  ['l', -(2n ** 63n), 2n ** 63n, BigInt64Array],
  ['L', 2n ** 64n - 1n, 2n ** 64n, BigUint64Array],
  ['q', -(2n ** 63n), 2n ** 63n, BigInt64Array],
  ['Q', 2n ** 64n - 1n, 2n ** 64n, BigUint64Array],
];

for (const [code, fits, beyond, typed] of cases) {
  test(`typecode '${code}': range, typed view, element type`, (t) => {
    const v = new Value(code, fits as never);
    t.is(v.value, fits);
    t.true(v.typed instanceof (typed as typeof Int8Array));
    t.is(v.typecode, code);
    const error = t.throws(() => new Value(code, beyond as never), { instanceOf: RangeError });
    t.is((error as { code?: string }).code, 'ERR_OUT_OF_RANGE');
    t.regex(error!.message, /"initial"/);
    const wrongType = typeof fits === 'bigint' ? 1 : 1n;
    t.throws(() => new Value(code, wrongType as never), { instanceOf: TypeError, message: /"initial"/ });
    t.is(new Value(code).value, typeof fits === 'bigint' ? 0n : 0);
  });
}

test('float typecodes store numbers (f rounds to float32) and reject other types', (t) => {
  const f = new Value('f', 0.1);
  t.is(f.value, Math.fround(0.1));
  const d = new Value('d', 0.1);
  t.is(d.value, 0.1);
  d.value = -Infinity;
  t.is(d.value, -Infinity);
  t.throws(() => new Value('d', '1' as never), { instanceOf: TypeError });
  t.true(f.typed instanceof Float32Array);
  t.true(d.typed instanceof Float64Array);
});

test('a bad typecode is a TypeError that lists the valid ones', (t) => {
  t.throws(() => new Value('x' as Typecode), { instanceOf: TypeError, message: /b B h H i I l L q Q f d/ });
  t.throws(() => new SharedArray(3 as unknown as Typecode, 2), { instanceOf: TypeError, code: 'ERR_INVALID_ARG_TYPE' } as never);
});

test('add() is atomic read-modify-write returning the new value, wrapping like the element type', (t) => {
  const v = new Value('B', 250);
  t.is(v.add(3), 253);
  t.is(v.add(10), 7);
  t.is(v.value, 7);
  const q = new Value('q', 2n ** 63n - 1n);
  t.is(q.add(1n), -(2n ** 63n));
  const d = new Value('d', 1.5);
  t.is(d.add(0.25), 1.75);
  t.throws(() => v.add(1n as never), { instanceOf: TypeError, message: /"delta"/ });
  t.throws(() => v.add(0.5), { instanceOf: RangeError, message: /"delta"/ });
});

test('add() on a float32 element rounds like float32, at every index', (t) => {
  const f = new Value('f', 0.1);
  t.is(f.add(0.2), Math.fround(Math.fround(0.1) + 0.2));
  const a = new SharedArray('f', [1, 2, 3]);
  t.is(a.add(2, 0.1), Math.fround(3.1));
  t.deepEqual(a.toArray(), [1, 2, Math.fround(3.1)]);
  const d = new SharedArray('d', [1, 2, 3]);
  t.is(d.add(1, 0.1), 2.1);
});

test('SharedArray: length, get/set with Python-style negative indexes, iteration, toArray, typed', (t) => {
  const a = new SharedArray('i', [1, 2, 3, 4]);
  t.is(a.length, 4);
  t.is(a.get(0), 1);
  t.is(a.get(-1), 4);
  a.set(-2, 30);
  t.deepEqual(a.toArray(), [1, 2, 30, 4]);
  t.deepEqual([...a], [1, 2, 30, 4]);
  t.is(a.add(0, 9), 10);
  a.typed[1] = 20;
  t.is(a.get(1), 20);
  t.throws(() => a.get(4), { instanceOf: RangeError, message: /"index"/ });
  t.throws(() => a.get(-5), { instanceOf: RangeError });
  t.throws(() => a.get(1.5), { instanceOf: RangeError });
  t.throws(() => a.set(0, 2 ** 31), { instanceOf: RangeError, message: /"value"/ });
  t.deepEqual(new SharedArray('d', 3).toArray(), [0, 0, 0]);
  t.deepEqual(new SharedArray('Q', new Set([1n, 2n])).toArray(), [1n, 2n]);
  t.throws(() => new SharedArray('i', -1), { instanceOf: RangeError, message: /"sizeOrValues"/ });
  t.throws(() => new SharedArray('i', [1, 'x'] as never), { instanceOf: TypeError, message: /sizeOrValues\[1\]/ });
  t.throws(() => new SharedArray('i', 'abc' as never), { instanceOf: TypeError });
});

test('locks: an RLock by default, none with lock: false, or the one given; getObj shares memory', (t) => {
  const v = new Value('i', 1);
  t.true(v.getLock() instanceof RLock);
  const lock = new Lock();
  const shared = new SharedArray('i', 2, { lock });
  t.is(shared.getLock(), lock);
  const unlocked = new Value('i', 0, { lock: false });
  t.throws(() => unlocked.getLock(), { code: 'ERR_NO_LOCK' } as never);
  t.throws(() => new Value('i', 0, { lock: 'yes' as never }), { instanceOf: TypeError, message: /"options.lock"/ });

  const raw = v.getObj();
  t.true(raw instanceof RawValue);
  raw.value = 42;
  t.is(v.value, 42);
  t.is(v.getObj(), raw);
  const rawArray = shared.getObj();
  t.true(rawArray instanceof RawArray);
  rawArray.set(1, 5);
  t.is(shared.get(1), 5);
  t.throws(() => new RawValue('i', 0).getLock(), { code: 'ERR_NO_LOCK' } as never);
  t.throws(() => new RawArray('i', 1).getLock(), { code: 'ERR_NO_LOCK' } as never);
});

test('crossing a thread boundary (encode, structured clone, decode) keeps memory, lock and identity', (t) => {
  const v = new Value('h', 7);
  const a = new RawArray('d', [1.5, 2.5]);
  const clone = decode(structuredClone(encode({ v, list: [a, { deep: v }] }, []))) as {
    v: Value<'h'>;
    list: [RawArray<'d'>, { deep: Value<'h'> }];
  };
  // Back in the thread that made them: the very same objects.
  t.is(clone.v, v);
  t.is(clone.list[0], a);
  t.is(clone.list[1].deep, v);
});

// The refusal itself (without the native addon) is tested in process-fallback.spec.ts.
test('the process-worker refusal uses the right article: An Event, An RLock, A Value, A RawValue', (t) => {
  const refused = (type: string) => refuseForProcess(type).message;
  t.regex(refused('Event'), /^An Event cannot be sent to a 'process' worker/);
  t.regex(refused('RLock'), /^An RLock cannot/);
  t.regex(refused('Value'), /^A Value cannot/);
  t.regex(refused('RawValue'), /^A RawValue cannot/);
  t.regex(refused('Lock'), /^A Lock cannot/);
  t.regex(refused('Queue'), /^A Queue cannot/);
});

test("console.log shows a Value's typecode and value, a SharedArray's typecode, length and first items", (t) => {
  t.is(inspect(new Value('i', 3)), "Value { typecode: 'i', value: 3 }");
  t.is(inspect(new RawValue('q', 5n)), "RawValue { typecode: 'q', value: 5n }");
  t.is(inspect(new RawArray('d', [1.5, 2])), "RawArray { typecode: 'd', length: 2, items: [ 1.5, 2 ] }");
  t.is(inspect(new SharedArray('B', 0)), "SharedArray { typecode: 'B', length: 0, items: [] }");
  const big = new SharedArray(
    'i',
    Array.from({ length: 1000 }, (_, i) => i),
  );
  t.is(inspect(big), "SharedArray { typecode: 'i', length: 1000, items: [ 0, 1, 2, 3, 4, 5, 6, 7, 8, 9, ... 990 more items ] }");
  // The value is read live, and nesting beyond the depth is abbreviated as Node does.
  const v = new Value('d', 0.5);
  v.value = 2.25;
  t.is(inspect({ v }), "{ v: Value { typecode: 'd', value: 2.25 } }");
  t.is(inspect({ a: { v } }, { depth: 0 }), '{ a: [Object] }');
  t.is(inspect({ v }, { depth: 0 }), '{ v: [Value] }');
});
