import { execFile } from 'node:child_process';
import { fileURLToPath } from 'node:url';

import test from 'ava';

import { Empty, Full, JoinableQueue, Queue, SimpleQueue } from '../../index.js';

const TOLERANCE = 3_000; // ms of slack for timers on a loaded machine (2 cores, shared)

test('FIFO order and structured-clone values, small and large', async (t) => {
  const q = new Queue<unknown>();
  const date = new Date(0);
  const values: unknown[] = [
    1,
    -0,
    0.5,
    NaN,
    'héllo ✓',
    '',
    true,
    false,
    null,
    undefined,
    2n ** 70n,
    { a: 1, b: [1, 'x', { c: null }] },
    [1, , 3],
    new Map([[1, { x: 2 }]]),
    new Set(['a']),
    date,
    new Uint8Array([1, 2, 3]),
    new RangeError('bad'),
    'x'.repeat(200_000),
  ];
  const shared = { same: true };
  values.push({ left: shared, right: shared });
  for (const v of values) await q.put(v);
  t.is(q.qsize(), values.length);
  for (const v of values.slice(0, -1)) t.deepEqual(await q.get(), v);
  // Repeated references survive, as with structured clone.
  const pair = (await q.get()) as { left: object; right: object };
  t.is(pair.left, pair.right);
  t.true(q.empty());
  // As structuredClone: a DOMException named DataCloneError (not an Error subclass in Node 20).
  t.throws(() => q.putNowait(() => 1), { any: true, name: 'DataCloneError' });
});

test('Empty/Full: getNowait/putNowait, timeouts within a tolerance', async (t) => {
  const q = new Queue<number>(2);
  t.is(q.maxsize, 2);
  t.throws(() => q.getNowait(), { instanceOf: Empty });
  q.putNowait(1);
  await q.put(2);
  t.true(q.full());
  t.throws(() => q.putNowait(3), { instanceOf: Full });
  await t.throwsAsync(() => q.put(3, { block: false }), { instanceOf: Full });
  let start = performance.now();
  await t.throwsAsync(() => q.put(3, { timeout: 80 }), { instanceOf: Full });
  let ms = performance.now() - start;
  t.true(ms >= 75 && ms < 80 + TOLERANCE, `put timeout took ${ms} ms`);
  start = performance.now();
  t.throws(() => q.putSync(3, { timeout: 40 }), { instanceOf: Full });
  ms = performance.now() - start;
  t.true(ms >= 35 && ms < 40 + TOLERANCE, `putSync timeout took ${ms} ms`);
  t.is(q.getNowait(), 1);
  t.is(q.getSync(), 2);
  start = performance.now();
  await t.throwsAsync(() => q.get({ timeout: 80 }), { instanceOf: Empty });
  ms = performance.now() - start;
  t.true(ms >= 75 && ms < 80 + TOLERANCE, `get timeout took ${ms} ms`);
  t.throws(() => q.getSync({ timeout: 30 }), { instanceOf: Empty });
});

test('a blocked put resumes when a get makes room; a blocked get when a put arrives', async (t) => {
  const q = new Queue<string>(1);
  await q.put('a');
  const blocked = q.put('b', { timeout: 30_000 });
  setTimeout(() => void q.get(), 20);
  await blocked;
  t.is(await q.get(), 'b');
  setTimeout(() => q.putNowait('late'), 20);
  t.is(await q.get({ timeout: 30_000 }), 'late');
});

test('an unbounded queue never waits to put, even far beyond its 64 KiB buffer, and loses nothing', async (t) => {
  const q = new Queue<unknown>();
  let expected = '';
  for (let i = 0; i < 5_000; i++) {
    const v = `${i}:${'y'.repeat(i % 97)}`;
    expected += v;
    if (i % 2) q.putNowait(v);
    else await q.put(v);
  }
  t.is(q.qsize(), 5_000);
  let got = '';
  while (!q.empty()) got += await q.get({ timeout: 30_000 });
  t.is(got, expected);
  // Values bigger than the whole buffer stream through it.
  const big = Buffer.alloc(1_000_000, 7);
  await q.put({ big, tail: 'end' });
  const back = (await q.get({ timeout: 30_000 })) as { big: Uint8Array; tail: string };
  t.is(back.big.length, 1_000_000);
  t.true(back.big.every((b) => b === 7));
  t.is(back.tail, 'end');
});

test('bad arguments and closed handles', async (t) => {
  t.throws(() => new Queue(1.5), { instanceOf: RangeError, message: /"maxsize"/ });
  t.throws(() => new Queue('3' as never), { instanceOf: TypeError });
  const q = new Queue<number>();
  await t.throwsAsync(() => q.get({ timeout: -1 }), { instanceOf: RangeError, message: /"options.timeout"/ });
  await t.throwsAsync(() => q.put(1, { block: 1 as never }), { instanceOf: TypeError, message: /"options.block"/ });
  q.close();
  await t.throwsAsync(() => q.put(1), { code: 'ERR_QUEUE_CLOSED' } as never);
  t.throws(() => q.getNowait(), { code: 'ERR_QUEUE_CLOSED' } as never);
});

test('JoinableQueue: join waits for every taskDone; one too many throws', async (t) => {
  const q = new JoinableQueue<number>();
  t.true(await q.join(0), 'nothing put: joined at once');
  await q.put(1);
  await q.put(2);
  t.false(await q.join(30), 'two unfinished tasks: join times out');
  setTimeout(() => {
    q.getNowait();
    q.taskDone();
    q.getNowait();
    q.taskDone();
  }, 20);
  t.true(await q.join(30_000));
  t.throws(() => q.taskDone(), { code: 'ERR_TASK_DONE_TOO_MANY' } as never);
});

test('SimpleQueue: put, get, empty, close', async (t) => {
  const q = new SimpleQueue<{ n: number }>();
  t.true(q.empty());
  await q.put({ n: 1 });
  q.putSync({ n: 2 });
  t.false(q.empty());
  t.deepEqual(await q.get(), { n: 1 });
  t.deepEqual(q.getSync(), { n: 2 });
  q.close();
  await t.throwsAsync(() => q.get(), { code: 'ERR_QUEUE_CLOSED' } as never);
});

test('a synchronous get of a large message put by the same thread returns it, and honours nowait/timeout', async (t) => {
  // In a child process: before the fix the get spun forever, freezing the whole process.
  const script = fileURLToPath(new URL('../fixtures/same-thread-reads.ts', import.meta.url));
  const stdout = await new Promise<string>((resolve, reject) => {
    execFile(process.execPath, ['--import=tsx', script, 'queue'], { timeout: 120_000 }, (error, out) =>
      error ? reject(error) : resolve(out),
    );
  });
  const out = JSON.parse(stdout) as Record<string, any>;
  t.true(out.first.ok);
  t.true(out.first.ms < 200 + TOLERANCE, `getSync took ${out.first.ms} ms`);
  t.is(out.second, 'small');
  t.true(out.third);
  t.is(out.emptyNowait, 'Empty');
  t.is(out.emptyTimeout.value, 'Empty');
  t.true(out.emptyTimeout.ms >= 45 && out.emptyTimeout.ms < 50 + TOLERANCE, `timeout took ${out.emptyTimeout.ms} ms`);
  t.deepEqual(out.many, [true, true, true, true, true, true]);
  t.is(out.qsize, 0);
});
