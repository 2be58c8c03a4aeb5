// What comes out of a Queue or a Pipe is what structuredClone gives for the same value; what
// structuredClone refuses is refused at the put, and nothing enters the queue.
import { isDeepStrictEqual } from 'node:util';

import test, { type ExecutionContext } from 'ava';

import { JoinableQueue, Pipe, Pool, Queue, SimpleQueue, task } from '../../index.js';
import { describeClone } from '../helpers/clone.js';
import { within } from '../helpers/pool.js';
import * as Corpus from '../fixtures/clone-corpus.js';
import { cloneDescriptions, corpus } from '../fixtures/clone-corpus.js';

/**
 * Compares every delivered value with the description of structuredClone of its source (`expected`,
 * computed where the values were built: an Error's stack names the line that built it).
 */
function sameAsClone(
  t: ExecutionContext,
  delivered: unknown[],
  values: [string, unknown][],
  expected: unknown[],
  how: string,
): void {
  t.is(delivered.length, values.length);
  const differ = values.filter((_, i) => !isDeepStrictEqual(describeClone(delivered[i]), expected[i])).map(([name]) => name);
  t.deepEqual(differ, [], `${how}: these differ from structuredClone`);
  const first = values.findIndex(([name]) => name === differ[0]);
  if (first >= 0) t.deepEqual(describeClone(delivered[first]), expected[first], `${how}: ${differ[0]}`);
}

/** Sends the corpus through `channel` (all puts first, or one put then one get) and compares. */
async function roundTrip(t: ExecutionContext, channel: Channel, oneByOne: boolean): Promise<void> {
  const values = corpus();
  const expected = cloneDescriptions(values);
  const delivered: unknown[] = [];
  const take = async () => delivered.push(await within(t, 30_000, Promise.resolve(channel.get())));
  for (const [, value] of values) {
    await channel.put(value);
    if (oneByOne) await take();
  }
  // Taken after all were put: a message must not depend on what follows it (shared scratch).
  while (delivered.length < values.length) await take();
  sameAsClone(t, delivered, values, expected, `${channel.name}${oneByOne ? ', one at a time' : ''}`);
}

type Channel = { name: string; put(v: unknown): Promise<void> | void; get(): Promise<unknown> | unknown };

function channels(): Channel[] {
  const q = new Queue();
  const jq = new JoinableQueue();
  const sq = new SimpleQueue();
  const [a, b] = Pipe();
  return [
    { name: 'Queue put/get', put: (v) => q.put(v), get: () => q.get() },
    { name: 'Queue putNowait/getNowait', put: (v) => q.putNowait(v), get: () => q.getNowait() },
    { name: 'Queue putSync/getSync', put: (v) => q.putSync(v), get: () => q.getSync() },
    { name: 'JoinableQueue put/get', put: (v) => jq.put(v), get: () => jq.get() },
    { name: 'SimpleQueue putSync/get', put: (v) => sq.putSync(v), get: () => sq.get() },
    { name: 'Pipe send/recv', put: (v) => a.send(v), get: () => b.recv() },
    { name: 'Pipe send/recvSync', put: (v) => b.send(v), get: () => a.recvSync() },
  ];
}

test('Queue, JoinableQueue, SimpleQueue and Pipe deliver what structuredClone gives, on an awkward corpus', async (t) => {
  for (const channel of channels()) await roundTrip(t, channel, false);
});

test('one put and one get at a time deliver what structuredClone gives', async (t) => {
  for (const channel of channels()) await roundTrip(t, channel, true);
});

test('values put by a worker thread arrive as structuredClone gives them', async (t) => {
  await using pool = new Pool({ backend: 'thread', processes: 1 });
  const q = new Queue();
  const putCorpus = task<typeof Corpus.putCorpus>(new URL('../fixtures/clone-corpus.ts', import.meta.url), 'putCorpus');
  const { names, expected } = await within(t, 60_000, pool.apply(putCorpus, [q]));
  const delivered: unknown[] = [];
  for (let i = 0; i < names.length; i++) delivered.push(await within(t, 30_000, q.get()));
  sameAsClone(
    t,
    delivered,
    names.map((name) => [name, undefined]),
    expected,
    'from a worker',
  );
});

/** Values structuredClone refuses, nested or not; each built fresh. */
function refused(): [string, unknown][] {
  const { proxy: revoked, revoke } = Proxy.revocable({}, {});
  revoke();
  return [
    ['a Proxy of an object', new Proxy({}, {})],
    ['a Proxy of an array', new Proxy([1, 2], {})],
    ['a nested Proxy', { list: [1, new Proxy({ a: 1 }, {})] }],
    ['a revoked Proxy', revoked],
    ['a function', () => 1],
    ['a nested function', { f: [function named() {}] }],
    ['a symbol', Symbol('s')],
    ['a WeakMap', new WeakMap()],
    ['a Promise', Promise.resolve()],
  ];
}

/** What structuredClone throws for `value`: the error a put must throw. */
function cloneError(value: unknown): { name: string; constructor: Function } {
  try {
    structuredClone(value);
  } catch (error) {
    return { name: (error as Error).name, constructor: (error as Error).constructor };
  }
  throw new Error('structuredClone accepted it');
}

async function refusal(t: ExecutionContext, what: string, value: unknown, put: () => unknown): Promise<void> {
  const expected = cloneError(value);
  let thrown: unknown;
  try {
    await put();
  } catch (error) {
    thrown = error;
  }
  t.truthy(thrown, `${what}: refused at the put`);
  t.is((thrown as Error)?.name, expected.name, what);
  t.is((thrown as Error)?.constructor, expected.constructor, what);
}

test('what structuredClone refuses is refused at every put, with its error, and nothing enters', async (t) => {
  const q = new Queue();
  const bounded = new Queue(2);
  const jq = new JoinableQueue();
  const sq = new SimpleQueue();
  const [a, b] = Pipe();
  for (const [name, value] of refused()) {
    const puts: [string, () => unknown][] = [
      ['put', () => q.put(value)],
      ['putNowait', () => q.putNowait(value)],
      ['putSync', () => q.putSync(value)],
      ['bounded put', () => bounded.put(value, { timeout: 10 })],
      ['bounded putNowait', () => bounded.putNowait(value)],
      ['JoinableQueue put', () => jq.put(value)],
      ['JoinableQueue putNowait', () => jq.putNowait(value)],
      ['SimpleQueue put', () => sq.put(value)],
      ['SimpleQueue putSync', () => sq.putSync(value)],
      ['Pipe send', () => a.send(value)],
    ];
    for (const [how, put] of puts) await refusal(t, `${name}, ${how}`, value, put);
  }
  t.is(q.qsize(), 0);
  t.is(bounded.qsize(), 0);
  t.is(jq.qsize(), 0);
  t.true(await jq.join(0), 'no unfinished task was counted');
  t.true(sq.empty());
  t.false(await b.poll(0), 'nothing was sent');
  // The channels still work, and hand over only what was put after.
  await q.put('after');
  t.is(await q.get(), 'after');
  a.send('after');
  t.is(await b.recv(), 'after');
});
