// Every options object refuses names it does not know (a typo must not be silently ignored), and
// Pool's resourceLimits is checked like every other option.
import test from 'ava';

import {
  BaseManager,
  Barrier,
  BoundedSemaphore,
  Condition,
  JoinableQueue,
  Lock,
  Manager,
  Pool,
  Process,
  Queue,
  RawArray,
  RawValue,
  RLock,
  Semaphore,
  SharedArray,
  SimpleQueue,
  Value,
  native,
} from '../../index.js';

type Coded = { code?: string };

/** `fn` throws (or rejects) a TypeError with code ERR_INVALID_ARG_VALUE whose message names `options.<option>`. */
async function refusesOption(t: import('ava').ExecutionContext, fn: () => unknown, option: string): Promise<void> {
  let error: unknown;
  try {
    await fn();
  } catch (caught) {
    error = caught;
  }
  t.true(error instanceof TypeError, `${option}: ${String(error)}`);
  t.is((error as Coded | undefined)?.code, 'ERR_INVALID_ARG_VALUE', option);
  const message = String((error as Error | undefined)?.message);
  t.true(message.includes(`"options.${option}"`), `names "options.${option}": ${message}`);
}

test('Pool: unknown options are a TypeError naming the option (procesess, ppservers)', async (t) => {
  await refusesOption(t, () => new Pool({ procesess: 2 } as never), 'procesess');
  await refusesOption(t, () => new Pool({ processes: 1, ppservers: ['a:1'] } as never), 'ppservers');
  await refusesOption(t, () => new Pool({ processes: 1, maxTasksPerChild: 2 } as never), 'maxTasksPerChild');
  const error = t.throws(() => new Pool({ procesess: 2 } as never));
  t.regex(error!.message, /did you mean "processes"/);
});

test('Pool methods: unknown options of applyAsync, mapAsync and starmapAsync are refused', async (t) => {
  const pool = new Pool({ processes: 1 });
  try {
    await refusesOption(t, () => pool.applyAsync((x: number) => x, [1], { callbak: () => {} } as never), 'callbak');
    await refusesOption(t, () => pool.mapAsync((x: number) => x, [1], { chunkSize: 2 } as never), 'chunkSize');
    await refusesOption(
      t,
      () => pool.starmapAsync((x: number) => x, [[1]], { errorcallback: () => {} } as never),
      'errorcallback',
    );
    // Known options still work.
    t.deepEqual(
      await pool.mapAsync((x: number) => x * 2, [1, 2], { chunksize: 1, callback: () => {}, errorCallback: () => {} }),
      [2, 4],
    );
    t.is(await pool.applyAsync((x: number) => x + 1, [1], { callback: () => {} }), 2);
  } finally {
    await pool.terminate();
  }
});

test('Process: unknown options are refused (arg for args)', async (t) => {
  await refusesOption(t, () => new Process({ target: (x: number) => x, arg: [1] } as never), 'arg');
  await refusesOption(t, () => new Process({ target: () => 1, deamon: true } as never), 'deamon');
  t.notThrows(() => new Process({ target: (x: number) => x, args: [1], name: 'p', daemon: false, backend: 'thread' }));
});

test('shared memory and locks: Value, SharedArray, Barrier and acquire options refuse unknown names', async (t) => {
  await refusesOption(t, () => new Value('i', 0, { lok: false } as never), 'lok');
  await refusesOption(t, () => new SharedArray('d', 3, { locked: true } as never), 'locked');
  await refusesOption(t, () => new Barrier(2, { timout: 50 } as never), 'timout');
  for (const lock of [new Lock(), new RLock(), new Semaphore(1), new BoundedSemaphore(1), new Condition()]) {
    await refusesOption(t, () => lock.acquire({ timeOut: 5 } as never), 'timeOut');
    await refusesOption(t, () => lock.acquireSync({ block: false } as never), 'block');
  }
  t.notThrows(() => new Value('i', 0, { lock: false }));
  t.notThrows(() => new RawValue('i', 1));
  t.notThrows(() => new RawArray('i', 2));
  t.notThrows(() => new Barrier(2, { timeout: 50, action: () => {} }));
  const lock = new Lock();
  t.true(await lock.acquire({ blocking: true, timeout: 10 }));
  lock.release();
});

test('queues: put/get options refuse unknown names', async (t) => {
  for (const queue of [new Queue<number>(), new JoinableQueue<number>()]) {
    await refusesOption(t, () => queue.put(1, { timout: 5 } as never), 'timout');
    await refusesOption(t, () => queue.putSync(1, { blocking: false } as never), 'blocking');
    await refusesOption(t, () => queue.get({ timeOut: 5 } as never), 'timeOut');
    await refusesOption(t, () => queue.getSync({ wait: false } as never), 'wait');
    await queue.put(1, { block: true, timeout: 1000 });
    t.is(await queue.get({ block: true, timeout: 1000 }), 1);
    queue.close();
  }
  const simple = new SimpleQueue<number>();
  simple.close();
});

test('managers: unknown options are refused with the closest known name, as everywhere else', async (t) => {
  await refusesOption(t, () => new Manager({ adress: '/tmp/x' } as never), 'adress');
  await refusesOption(t, () => new BaseManager({ authKey: 'abc' } as never), 'authKey');
  class Registered extends BaseManager {}
  await refusesOption(t, () => Registered.register('thing', () => ({}), { expose: [] } as never), 'expose');
  t.regex(t.throws(() => new Manager({ adress: '/tmp/x' } as never))!.message, /did you mean "address"/);
  t.regex(t.throws(() => new BaseManager({ authKey: 'abc' } as never))!.message, /did you mean "authkey"/);
  await using manager = new Manager();
  const lock = await manager.Lock();
  await refusesOption(t, () => lock.acquire({ timout: 5 } as never), 'timout');
});

test('native.sumPrimesInto: unknown options are refused', async (t) => {
  const out = new SharedArray('d', 1);
  await refusesOption(t, () => native.sumPrimesInto([10], out, { thread: 2 } as never), 'thread');
  t.is((await native.sumPrimesInto([10], out, { threads: 1 })).get(0), 17);
});

test('Pool resourceLimits: checked like every other option', (t) => {
  const typeError = (value: unknown, name: RegExp) =>
    t.throws(() => new Pool({ processes: 1, resourceLimits: value as never }), {
      instanceOf: TypeError,
      code: 'ERR_INVALID_ARG_TYPE',
      message: name,
    } as never);
  typeError('big', /"resourceLimits"/);
  typeError(null, /"resourceLimits"/);
  typeError([64], /"resourceLimits"/);
  typeError({ maxOldGenerationSizeMb: 'x' }, /"resourceLimits\.maxOldGenerationSizeMb"/);
  typeError({ stackSizeMb: 4n }, /"resourceLimits\.stackSizeMb"/);
  for (const bad of [-5, 0, 1.5, NaN, Infinity]) {
    t.throws(() => new Pool({ processes: 1, resourceLimits: { maxYoungGenerationSizeMb: bad } }), {
      instanceOf: RangeError,
      code: 'ERR_OUT_OF_RANGE',
      message: /"resourceLimits\.maxYoungGenerationSizeMb"/,
    } as never);
  }
  // Under 4 MB of old generation, Node 22+ aborts the parent along with the worker: refused.
  for (const backend of ['thread', 'process'] as const) {
    t.throws(() => new Pool({ processes: 1, backend, resourceLimits: { maxOldGenerationSizeMb: 3 } }), {
      instanceOf: RangeError,
      code: 'ERR_OUT_OF_RANGE',
      message: /"resourceLimits\.maxOldGenerationSizeMb".*>= 4/,
    } as never);
  }
  const unknown = t.throws(() => new Pool({ processes: 1, resourceLimits: { maxOldGenSizeMb: 64 } as never }), {
    instanceOf: TypeError,
    code: 'ERR_INVALID_ARG_VALUE',
  } as never);
  t.regex(unknown!.message, /"resourceLimits\.maxOldGenSizeMb"/);
  t.regex(unknown!.message, /maxOldGenerationSizeMb, maxYoungGenerationSizeMb, codeRangeSizeMb, stackSizeMb/);
});

test('Pool resourceLimits: the four worker_threads limits are accepted', async (t) => {
  const pool = new Pool({
    processes: 1,
    resourceLimits: { maxOldGenerationSizeMb: 256, maxYoungGenerationSizeMb: 32, codeRangeSizeMb: 64, stackSizeMb: 4 },
  });
  try {
    t.is(await pool.apply((x: number) => x * 3, [5]), 15);
  } finally {
    await pool.terminate();
  }
});
