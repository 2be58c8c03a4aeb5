// Event, Condition, Barrier and Semaphore between processes (backend 'process'), and robust locks:
// a holder that dies (a SIGKILLed process, a thread that exits) does not hang the next acquirer,
// who gets the lock and learns it (ERR_LOCK_OWNER_DIED).
import anyTest, { type ExecutionContext } from 'ava';

import {
  type Acquirable,
  Barrier,
  BoundedSemaphore,
  Condition,
  Event,
  Lock,
  Pool,
  Process,
  RLock,
  Semaphore,
  task,
  Value,
} from '../../index.js';
import { within } from '../helpers/pool.js';
import type * as Tasks from '../fixtures/process-shared-tasks.js';
import { processShared } from '../../src/shm/memory.js';

// Where memory cannot be shared between processes, sending is a TypeError instead: process-fallback.spec.ts.
const test = processShared ? anyTest : anyTest.skip;

const tasks = new URL('../fixtures/process-shared-tasks.ts', import.meta.url);
const t_ = <K extends keyof typeof Tasks>(name: K) => task<(typeof Tasks)[K]>(tasks, name);

test('Event: a process waits for a set() made here; wait() here returns once a process set it', async (t) => {
  await using pool = new Pool({ backend: 'process', processes: 1 });
  const ready = new Event();
  const go = new Event();
  const waiting = pool.apply(t_('waitEvent'), [ready, go, 30_000]);
  t.true(await within(t, 60_000, ready.wait(30_000), 'ready'), 'the process set ready');
  go.set();
  t.true(await within(t, 60_000, waiting, 'the process wait'), 'the process saw go');
});

test('Condition: a process waits for a predicate made true here, and its notify wakes a wait here', async (t) => {
  await using pool = new Pool({ backend: 'process', processes: 1 });
  const cond = new Condition();
  const flag = new Value('i', 0);
  const pinging = pool.apply(t_('conditionPingPong'), [cond, flag, 30_000]);
  await new Promise((resolve) => setTimeout(resolve, 200));
  await cond.withLock(() => {
    flag.value = 1;
    cond.notifyAll();
  });
  const ok = await within(
    t,
    60_000,
    cond.withLock(() => cond.waitFor(() => flag.value === 2, 30_000)),
    'the wait here',
  );
  t.true(ok, 'the process set the flag to 2 and notified');
  t.true(await within(t, 60_000, pinging, 'the process'), 'the process saw flag 1');
});

test('Barrier: 3 processes and this thread pass it together, with distinct indexes', async (t) => {
  await using pool = new Pool({ backend: 'process', processes: 3 });
  const barrier = new Barrier(4);
  const others = pool.starmap(
    t_('barrierWait'),
    [
      [barrier, 30_000],
      [barrier, 30_000],
      [barrier, 30_000],
    ],
    1,
  );
  const mine = await within(t, 60_000, barrier.wait(30_000), 'this party');
  const indexes = [mine, ...(await within(t, 60_000, others, 'the processes'))];
  t.deepEqual([...indexes].sort(), [0, 1, 2, 3]);
});

test('Semaphore(2): at most 2 of 4 processes inside at once, and all get in', async (t) => {
  await using pool = new Pool({ backend: 'process', processes: 4 });
  const sem = new Semaphore(2);
  const inside = new Value('i', 0);
  const most = new Value('i', 0);
  const jobs = Array.from({ length: 8 }, () => [sem, inside, most, 30] as [Semaphore, Value<'i'>, Value<'i'>, number]);
  t.deepEqual(
    await within(t, 120_000, pool.starmap(t_('semaphoreSlot'), jobs, 1), 'slots'),
    jobs.map(() => true),
  );
  t.true(most.value >= 1 && most.value <= 2, `at most 2 inside at once (saw ${most.value})`);
  t.is(inside.value, 0);
  t.is(sem.getValue(), 2);
});

/** Starts the process `start(held)` makes, sees `lock` held, SIGKILLs it and acquires: the error. */
async function acquireAfterKill(t: ExecutionContext, lock: Acquirable, start: (held: Event) => Process): Promise<unknown> {
  const held = new Event();
  const p = start(held);
  p.start();
  t.true(await within(t, 60_000, held.wait(30_000), 'held'), 'the process holds it');
  t.false(await lock.acquire({ timeout: 100 }), 'held by a live process: the acquire times out');
  p.kill();
  await within(t, 30_000, p.join(), 'killed');
  return within(t, 30_000, t.throwsAsync(lock.acquire({ timeout: 30_000 })), 'the acquire after the kill');
}

for (const Kind of [Lock, RLock]) {
  test(`${Kind.name}: a process SIGKILLed while holding it: the next acquirer gets it and learns it (ERR_LOCK_OWNER_DIED)`, async (t) => {
    const lock = new Kind();
    const error = await acquireAfterKill(
      t,
      lock,
      (held) => new Process({ target: t_('holdForever'), args: [lock as Lock, held], backend: 'process' }),
    );
    t.is((error as { code?: string }).code, 'ERR_LOCK_OWNER_DIED');
    // Now it is this thread's: released as usual, then taken and released normally.
    lock.release();
    t.true(lock.acquireSync({ timeout: 1_000 }));
    lock.release();
  });
}

/** Runs a thread that acquires `held` and exits (code 3) without releasing it. */
async function holdInExitingThread(t: ExecutionContext, held: Lock | Semaphore): Promise<void> {
  const p = new Process({
    target: (h: Lock | Semaphore) => {
      h.acquireSync();
      process.exit(3);
    },
    args: [held],
  });
  p.start();
  await within(t, 30_000, p.join(), 'the thread ended');
  t.is(p.exitCode, 3);
}

// Between threads robust locks need no native core.
anyTest(
  'Lock: a thread that exits holding it: withLock() in the next acquirer throws ERR_LOCK_OWNER_DIED and leaves it free',
  async (t) => {
    const lock = new Lock();
    await holdInExitingThread(t, lock);
    await within(
      t,
      30_000,
      t.throwsAsync(
        lock.withLock(() => 1),
        { code: 'ERR_LOCK_OWNER_DIED' } as never,
      ),
      'withLock after the holder died',
    );
    t.false(lock.locked(), 'withLock released what it took over');
    t.is(await lock.withLock(() => 2), 2);
  },
);

// Robust semaphores: a holder's permits come back when it dies, and the acquirer that gets one of
// them learns it as Lock's does.
for (const Kind of [Semaphore, BoundedSemaphore]) {
  test(`${Kind.name}(1): a process SIGKILLed holding its permit: the next acquire here gets it, with ERR_LOCK_OWNER_DIED`, async (t) => {
    const sem = new Kind(1);
    const error = await acquireAfterKill(
      t,
      sem,
      (held) => new Process({ target: t_('holdPermits'), args: [sem, 1, held], backend: 'process' }),
    );
    t.is((error as { code?: string }).code, 'ERR_LOCK_OWNER_DIED');
    t.is(sem.getValue(), 0, 'the recovered permit is the caller’s');
    sem.release();
    t.is(sem.getValue(), 1, 'one permit, not two: nothing is given back twice');
    if (Kind === BoundedSemaphore) t.throws(() => sem.release(), { code: 'ERR_RELEASED_TOO_MANY' } as never);
  });
}

test('BoundedSemaphore(2) held by two processes that die (one killed, one exits): the next acquirer (in a process) gets them back and learns it', async (t) => {
  const sem = new BoundedSemaphore(2);
  const held = [new Event(), new Event()];
  const killed = new Process({ target: t_('holdPermits'), args: [sem, 1, held[0]!], backend: 'process' });
  const exits = new Process({ target: t_('holdPermits'), args: [sem, 1, held[1]!, true], backend: 'process' });
  killed.start();
  t.true(await within(t, 60_000, held[0]!.wait(30_000), 'first held'));
  exits.start();
  t.true(await within(t, 60_000, held[1]!.wait(30_000), 'second held'));
  await within(t, 30_000, exits.join(), 'the second exited');
  killed.kill();
  await within(t, 30_000, killed.join(), 'the first killed');
  await using pool = new Pool({ backend: 'process', processes: 1 });
  const there = await within(t, 60_000, pool.apply(t_('acquireReporting'), [sem, 20_000]), 'the acquire in a process');
  t.is(there, 'ERR_LOCK_OWNER_DIED', 'the process learnt it (and gave the permit back)');
  t.is(sem.getValue(), 2, 'the permits of both dead holders came back to that acquirer, which gave its one back');
  t.true(await sem.acquire({ timeout: 1_000 }));
  t.true(sem.acquireSync({ timeout: 1_000 }));
  t.false(await sem.acquire({ timeout: 200 }), 'two permits, not more');
  sem.release();
  sem.release();
  t.throws(() => sem.release(), { code: 'ERR_RELEASED_TOO_MANY' } as never);
});

anyTest('Semaphore: a thread that exits holding a permit: the next acquireSync gets it with ERR_LOCK_OWNER_DIED', async (t) => {
  const sem = new Semaphore(1);
  await holdInExitingThread(t, sem);
  t.throws(() => sem.acquireSync({ timeout: 20_000 }), { code: 'ERR_LOCK_OWNER_DIED' } as never);
  t.is(sem.getValue(), 0);
  sem.release();
  t.is(await sem.withLock(() => 2), 2, 'usable as before');
});

anyTest('BoundedSemaphore: a permit released by another thread is not given back again when its taker dies', async (t) => {
  const sem = new BoundedSemaphore(1);
  const taken = new Event();
  const go = new Event();
  const p = new Process({
    target: (s: BoundedSemaphore, taken: Event, go: Event) => {
      s.acquireSync();
      taken.set();
      go.waitSync(30_000);
      process.exit(3);
    },
    args: [sem, taken, go],
  });
  p.start();
  t.true(await within(t, 30_000, taken.wait(30_000), 'taken'));
  sem.release();
  go.set();
  await within(t, 30_000, p.join(), 'the taker ended');
  t.true(await sem.acquire({ timeout: 1_000 }));
  t.false(await sem.acquire({ timeout: 300 }), 'one permit: the dead taker’s was given back already');
  sem.release();
  t.throws(() => sem.release(), { code: 'ERR_RELEASED_TOO_MANY' } as never);
});
