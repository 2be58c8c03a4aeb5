// Condition under crashes and crowds: a thread that dies holding the lock or while waiting, and
// more waiters than a fixed table would hold.
import test from 'ava';

import { Barrier, BrokenBarrierError, Condition, Event, Lock, Process, RLock, Value } from '../../index.js';
import { crowd, sleep } from '../helpers/condition.js';
import { within } from '../helpers/pool.js';

type Crash = 'exit' | 'throw';

/**
 * A thread Process that takes `cond`'s lock once `ready` is set, says so through `held`, and dies
 * holding it as soon as `die` is set: by process.exit, or by an uncaught error thrown from a timer
 * (the lock stays held: withLock never gets to release it).
 */
function crashWhileHolding(cond: Condition, events: { ready: Event; held: Event; die: Event }, how: Crash): Process {
  const p = new Process({
    target: async (cond: Condition, ready: Event, held: Event, die: Event, how: Crash) => {
      ready.set();
      await cond.withLock(async () => {
        held.set();
        await die.wait(60_000);
        if (how === 'exit') process.exit(7);
        setTimeout(() => {
          throw new Error('a crash inside withLock');
        }, 0);
        await new Promise(() => {});
      });
    },
    args: [cond, events.ready, events.held, events.die, how],
  });
  p.start();
  return p;
}

for (const [how, makeLock] of [
  ['exit', () => new Lock()],
  ['throw', () => new RLock()],
] as const) {
  test(`Condition(${makeLock().constructor.name}): wait(1000) settles when the thread holding the lock dies (${how})`, async (t) => {
    const cond = new Condition(makeLock());
    const events = { ready: new Event(), held: new Event(), die: new Event() };
    await cond.acquire();
    const p = crashWhileHolding(cond, events, how);
    // The Process is now blocked on the lock (it sets `ready` right before it asks for it).
    t.true(await events.ready.wait(60_000), 'the Process started');
    const start = performance.now();
    const waiting = cond.wait(1000);
    // Once this wait's timeout has passed it is waiting to take the lock back: the holder dies then.
    const killer = setTimeout(() => events.die.set(), 1200);
    const outcome = await within(
      t,
      5000 + 1200,
      waiting.then(
        (value) => ({ value, error: undefined }),
        (error: unknown) => ({ value: undefined, error: error as Error & { code?: string } }),
      ),
      'cond.wait(1000) with the lock holder dead',
    );
    clearTimeout(killer);
    const ms = performance.now() - start;
    t.true(events.held.isSet(), 'the Process held the lock');
    t.is(outcome.error?.code, 'ERR_LOCK_OWNER_DIED', `settled after ${Math.round(ms)} ms with ${outcome.error ?? outcome.value}`);
    t.regex(outcome.error?.message ?? '', /died while holding/);
    // As after any wait, the caller holds the lock again, and it works for everyone afterwards.
    t.notThrows(() => cond.notifyAll());
    cond.release();
    t.true(await cond.acquire({ timeout: 10_000 }));
    cond.release();
    await within(t, 30_000, p.join(), 'join of the dead Process');
    t.not(p.exitCode, 0);
  });
}

test('Condition: a waiter notified while the lock holder dies still gets out (ERR_LOCK_OWNER_DIED)', async (t) => {
  // No timeout at all: the notify arrives, and the lock it must take back belongs to a dead thread.
  const cond = new Condition(new Lock());
  await cond.acquire();
  const p = new Process({
    target: async (cond: Condition) => {
      await cond.acquire();
      cond.notify();
      process.exit(3);
    },
    args: [cond],
  });
  p.start();
  const error = await within(t, 60_000, t.throwsAsync(cond.wait()), 'an untimed wait, notified by a thread that died');
  t.is((error as { code?: string }).code, 'ERR_LOCK_OWNER_DIED');
  cond.release();
  await p.join();
});

type Death = 'exit' | 'terminate' | 'throw';

test('Condition: notify(1) skips waiters whose thread died and reaches the live one', async (t) => {
  const cond = new Condition(new Lock());
  for (const how of ['exit', 'terminate', 'throw'] as Death[]) {
    const waiting = new Event();
    // A Process that waits on `cond` (the oldest waiter), then dies while waiting.
    const p = new Process({
      target: async (cond: Condition, waiting: Event, how: Death) => {
        await cond.acquire();
        void cond.wait(60_000);
        waiting.set();
        if (how === 'exit') process.exit(5);
        if (how === 'throw') {
          setTimeout(() => {
            throw new Error('a crash while waiting');
          }, 0);
        }
        await new Promise(() => {});
      },
      args: [cond, waiting, how],
    });
    p.start();
    t.true(await waiting.wait(60_000), `${how}: the Process waits`);
    if (how === 'terminate') p.terminate();
    await within(t, 30_000, p.join(), `${how}: the Process ended`);
    let notified: boolean | undefined;
    const live = (async () => {
      await cond.acquire();
      try {
        notified = await cond.wait(10_000);
      } finally {
        cond.release();
      }
    })();
    await sleep(20);
    await cond.withLock(() => cond.notify(1));
    await within(t, 30_000, live, `${how}: the live waiter`);
    t.true(notified, `${how}: notify(1) reached the live waiter, not the dead one`);
  }
});

test('Condition: 1,100 async waiters on one Condition; notify(n) wakes exactly n, oldest first', async (t) => {
  const cond = new Condition();
  const { woken, all } = await crowd(t, cond, 1100);
  await cond.withLock(() => cond.notify(700));
  await within(
    t,
    60_000,
    (async () => {
      while (woken.length < 700) await sleep(10);
    })(),
    '700 wake-ups',
  );
  await sleep(200);
  t.is(woken.length, 700, 'exactly 700 woke');
  t.deepEqual(
    [...woken].sort((a, b) => a - b),
    Array.from({ length: 700 }, (_, i) => i),
    'the 700 oldest',
  );
  await cond.withLock(() => cond.notifyAll());
  const results = await within(t, 60_000, all, 'all waiters');
  t.true(results.every(Boolean));
  t.is(woken.length, 1100);
});

test('Condition: a worker thread waits in a slot beyond the first table, after it grew elsewhere', async (t) => {
  // The worker got the Condition before the main thread grew its table past 1,024 slots.
  const cond = new Condition(new Lock());
  const go = new Event();
  const inWait = new Event();
  const woke = new Value('i', 0);
  const p = new Process({
    target: async (cond: Condition, go: Event, inWait: Event, woke: Value<'i'>) => {
      await go.wait(60_000);
      await cond.acquire();
      const waiting = cond.wait(60_000);
      inWait.set();
      woke.value = (await waiting) ? 1 : 2;
      cond.release();
    },
    args: [cond, go, inWait, woke],
  });
  p.start();
  const mine = await crowd(t, cond, 1100);
  go.set();
  // The worker's waiter is the 1,101st, so the 1,100 oldest are the main thread's.
  t.true(await inWait.wait(60_000), 'the worker waits');
  await cond.withLock(() => cond.notify(1100));
  t.true((await within(t, 60_000, mine.all, 'main waiters woken')).every(Boolean));
  await sleep(200);
  t.is(woke.value, 0, 'the worker was not among the 1,100 oldest');
  await cond.withLock(() => cond.notify(1));
  await within(t, 60_000, p.join(), 'the worker woke and ended');
  t.is(woke.value, 1, 'the worker was notified');
  t.is(p.exitCode, 0);
});

test('Barrier: a party that dies in the action (holding the barrier lock) breaks the barrier instead of hanging the others', async (t) => {
  const barrier = new Barrier(2, {
    action: () => {
      if ((globalThis as { dieInBarrierAction?: boolean }).dieInBarrierAction) process.exit(9);
    },
  });
  const ready = new Event();
  const go = new Event();
  const p = new Process({
    target: async (barrier: Barrier, ready: Event, go: Event) => {
      (globalThis as { dieInBarrierAction?: boolean }).dieInBarrierAction = true;
      ready.set();
      await go.wait(60_000);
      await barrier.wait();
    },
    args: [barrier, ready, go],
  });
  p.start();
  t.true(await ready.wait(60_000));
  // This thread arrives first; the Process arrives last, runs the action and dies in it.
  const waiting = barrier.wait(3000);
  go.set();
  const error = await within(t, 3000 + 5000, t.throwsAsync(waiting, { instanceOf: BrokenBarrierError }), 'the barrier wait');
  t.is((error?.cause as { code?: string } | undefined)?.code, 'ERR_LOCK_OWNER_DIED', 'broken because its lock holder died');
  t.true(barrier.broken);
  await within(t, 30_000, p.join(), 'the dead Process');
  barrier.reset();
  t.false(barrier.broken);
});
