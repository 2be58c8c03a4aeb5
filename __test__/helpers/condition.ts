import type { ExecutionContext } from 'ava';

import type { Condition } from '../../index.js';
import { within } from './pool.js';

export const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/**
 * `count` async functions of this thread, each waiting once on `cond` (holding its lock around the
 * wait); resolves once all of them are waiting. `woken` lists them as they wake, by the order in
 * which they began to wait (which is not their start order: who gets the lock first is up to the
 * scheduler, the more so when waits run on native threads).
 */
export async function crowd(t: ExecutionContext, cond: Condition, count: number) {
  const woken: number[] = [];
  let registered = 0;
  const waits = Array.from({ length: count }, async () => {
    await cond.acquire();
    try {
      // Counted under the lock, just before wait() takes its place in line, in the same hold.
      const id = registered++;
      const notified = await cond.wait(60_000);
      woken.push(id);
      return notified;
    } finally {
      cond.release();
    }
  });
  // wait() registers before it releases the lock: once the lock is ours and all counted, all wait.
  await within(
    t,
    60_000,
    (async () => {
      while (!(await cond.withLock(() => registered === count))) await sleep(10);
    })(),
    `${count} waiters`,
  );
  return { woken, all: Promise.all(waits) };
}
