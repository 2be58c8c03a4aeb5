// Queues and pipes between process workers (backend 'process') and the main thread: every item
// arrives exactly once (count, distinct values, checksum), whether put with `await put()` (which
// may leave items in the child's outbox as it ends) or `putSync()`.
import anyTest, { type ExecutionContext } from 'ava';

import { JoinableQueue, Pipe, Pool, Process, Queue, SimpleQueue, task, type Connection } from '../../index.js';
import { within } from '../helpers/pool.js';
import type * as Tasks from '../fixtures/process-shared-tasks.js';
import { processShared } from '../../src/shm/memory.js';

// Where memory cannot be shared between processes, sending is a TypeError instead: process-fallback.spec.ts.
const test = processShared ? anyTest : anyTest.skip;

const tasks = new URL('../fixtures/process-shared-tasks.ts', import.meta.url);
const t_ = <K extends keyof typeof Tasks>(name: K) => task<(typeof Tasks)[K]>(tasks, name);

const ITEMS = 1_000;
const PRODUCERS = [0, 100_000];
const expectedSum = PRODUCERS.reduce((sum, from) => sum + ITEMS * from + (ITEMS * (ITEMS - 1)) / 2, 0);

/** Takes 2 x ITEMS values with `take` and checks each producer's came exactly once. */
async function takeAll(t: ExecutionContext, what: string, take: () => Promise<number>): Promise<void> {
  const seen = new Set<number>();
  let sum = 0;
  for (let i = 0; i < PRODUCERS.length * ITEMS; i++) {
    const x = await within(t, 30_000, take(), `${what}: item #${i}`);
    seen.add(x);
    sum += x;
  }
  t.is(seen.size, PRODUCERS.length * ITEMS, `${what}: each item once`);
  t.is(sum, expectedSum, `${what}: checksum`);
}

for (const sync of [false, true]) {
  const how = sync ? 'putSync' : 'await put';
  test(`2 process producers x ${ITEMS} items (${how}) through a Queue, JoinableQueue and SimpleQueue to the main thread`, async (t) => {
    await using pool = new Pool({ backend: 'process', processes: 2 });
    const queues = [
      ['Queue', new Queue<number>()],
      ['JoinableQueue', new JoinableQueue<number>()],
      ['SimpleQueue', new SimpleQueue<number>()],
    ] as const;
    for (const [name, queue] of queues) {
      const done = pool.starmap(
        t_('produce'),
        PRODUCERS.map((from) => [queue, from, ITEMS, sync] as [Queue<number>, number, number, boolean]),
        1,
      );
      await takeAll(t, name, () => queue.get());
      t.deepEqual(await within(t, 30_000, done, `${name}: producers`), [ITEMS, ITEMS]);
      if (queue instanceof JoinableQueue) {
        for (let i = 0; i < PRODUCERS.length * ITEMS; i++) queue.taskDone();
        t.true(await queue.join(10_000), 'JoinableQueue: join() after taskDone() for each item');
      }
      t.true(queue.empty(), `${name}: nothing left`);
    }
  });
}

test(`2 process producers x ${ITEMS} items read only after the producers ended: nothing lost`, async (t) => {
  await using pool = new Pool({ backend: 'process', processes: 2 });
  const queue = new Queue<number>();
  // Small items: all of them fit in the ring, so the producers can end before anyone reads.
  t.deepEqual(
    await within(
      t,
      60_000,
      pool.starmap(
        t_('produce'),
        PRODUCERS.map((from) => [queue, from, ITEMS, false] as [Queue<number>, number, number, boolean]),
        1,
      ),
    ),
    [ITEMS, ITEMS],
  );
  t.is(queue.qsize(), PRODUCERS.length * ITEMS);
  await takeAll(t, 'Queue', () => queue.get());
});

test(`Pipe: 2 process writers x ${ITEMS} messages on one end, read here`, async (t) => {
  await using pool = new Pool({ backend: 'process', processes: 2 });
  const [reader, writer] = Pipe(false) as [Connection<number>, Connection<number>];
  const done = pool.starmap(
    t_('sendAll'),
    PRODUCERS.map((from) => [writer, from, ITEMS] as [Connection<number>, number, number]),
    1,
  );
  await takeAll(t, 'Pipe', () => reader.recv());
  t.deepEqual(await within(t, 30_000, done, 'writers'), [ITEMS, ITEMS]);
});

test('Pipe: round trips with an echoing process', async (t) => {
  await using pool = new Pool({ backend: 'process', processes: 1 });
  const [here, there] = Pipe() as [Connection<number>, Connection<number>];
  const echoing = pool.apply(t_('echo'), [there]);
  for (let i = 0; i < 500; i++) {
    here.send(i);
    t.is(await within(t, 30_000, here.recv(), `echo #${i}`), i);
  }
  here.send(-1);
  await within(t, 30_000, echoing, 'echo ends');
});

test('a process that ends right after putting more than the ring holds (await put) delivers it all first', async (t) => {
  const queue = new Queue<string>();
  const p = new Process({ target: t_('produceLarge'), args: [queue, 300, 1_000], backend: 'process' });
  p.start();
  const ended = p.join();
  const seen = new Set<number>();
  for (let i = 0; i < 300; i++) {
    const item = await within(t, 30_000, queue.get(), `item #${i}`);
    t.is(item.length, 1_000);
    seen.add(Number(item.split(':')[0]));
  }
  await within(t, 30_000, ended, 'join');
  t.is(p.exitCode, 0);
  t.is(seen.size, 300);
});
