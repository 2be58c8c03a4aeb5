// Condition under crowds: more waiters than a fixed table would hold.
import test from 'ava';

import { Condition, Event, Lock, Process, Value } from '../index.js';
import { within } from './helpers/pool.js';

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

test('Condition: 1,100 async waiters on one Condition; notify(n) wakes exactly n, oldest first', async (t) => {
  const cond = new Condition();
  const woken: number[] = [];
  let registered = 0;
  const waiters = Array.from({ length: 1100 }, async (_, id) => {
    await cond.acquire();
    try {
      registered++;
      const notified = await cond.wait(60_000);
      woken.push(id);
      return notified;
    } finally {
      cond.release();
    }
  });
  await within(t, 60_000, (async () => { while (!(await cond.withLock(() => registered === 1100))) await sleep(10); })(), '1,100 waiters');
  await cond.withLock(() => cond.notify(700));
  await within(t, 60_000, (async () => { while (woken.length < 700) await sleep(10); })(), '700 wake-ups');
  await sleep(200);
  t.is(woken.length, 700, 'exactly 700 woke');
  t.deepEqual([...woken].sort((a, b) => a - b), Array.from({ length: 700 }, (_, i) => i), 'the 700 oldest');
  await cond.withLock(() => cond.notifyAll());
  const results = await within(t, 60_000, Promise.all(waiters), 'all waiters');
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
  let registered = 0;
  const mine = Array.from({ length: 1100 }, async () => {
    await cond.acquire();
    registered++;
    try {
      return await cond.wait(60_000);
    } finally {
      cond.release();
    }
  });
  await within(t, 60_000, (async () => { while (!(await cond.withLock(() => registered === 1100))) await sleep(10); })(), 'main waiters');
  go.set();
  // The worker's waiter is the 1,101st, so the 1,100 oldest are the main thread's.
  t.true(await inWait.wait(60_000), 'the worker waits');
  await cond.withLock(() => cond.notify(1100));
  t.true((await within(t, 60_000, Promise.all(mine), 'main waiters woken')).every(Boolean));
  await sleep(200);
  t.is(woke.value, 0, 'the worker was not among the 1,100 oldest');
  await cond.withLock(() => cond.notify(1));
  await within(t, 60_000, p.join(), 'the worker woke and ended');
  t.is(woke.value, 1, 'the worker was notified');
  t.is(p.exitCode, 0);
});
