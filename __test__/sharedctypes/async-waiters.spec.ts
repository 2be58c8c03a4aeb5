// Async waits on process-shared memory sleep on native threads named 'napi-mp-futex' (issue 13):
// reused from wait to wait rather than started per wait, many at once when many waits are
// pending, and ended after a few idle seconds. Serial: the tests count this process's threads.
import { readdirSync, readFileSync } from 'node:fs';
import { setTimeout as sleep } from 'node:timers/promises';

import anyTest from 'ava';

import { allocateShared, processShared } from '../../src/shm/memory.js';
import { runAsync, type WaitOutcome, type Waiting, wake } from '../../src/shm/waiting.js';
import { within } from '../helpers/pool.js';

const test = processShared && process.platform === 'linux' ? anyTest.serial : anyTest.skip;

/** Thread ids of this process's waiting threads. */
function waitingThreads(): string[] {
  const ids: string[] = [];
  for (const tid of readdirSync('/proc/self/task')) {
    try {
      if (readFileSync(`/proc/self/task/${tid}/comm`, 'utf8').trim() === 'napi-mp-futex') ids.push(tid);
    } catch {
      // The thread ended while we looked.
    }
  }
  return ids.sort();
}

function* waitWhile(words: Int32Array, index: number, value: number, timeout: number): Waiting<WaitOutcome> {
  return yield { array: words, index, value, timeout };
}

/** A wait on `words[index]` while it holds 0, pending on a native thread. */
function pendingWait(words: Int32Array, index: number, timeout = Infinity): Promise<WaitOutcome> {
  return runAsync(waitWhile(words, index, 0, timeout));
}

function changeAndWake(words: Int32Array, index: number): void {
  Atomics.store(words, index, 1);
  wake(words, index);
}

test('a waiting thread stays parked after its wait is answered, and takes the next wait', async (t) => {
  const words = new Int32Array(allocateShared(8));
  const first = pendingWait(words, 0);
  changeAndWake(words, 0);
  t.is(await within(t, 60_000, first, 'the first wait'), 'ok');
  // A thread that was about to end would be gone by now.
  await sleep(50);
  const parked = waitingThreads();
  t.true(parked.length >= 1, 'no waiting thread left after the wait: it was not kept for the next one');
  const second = pendingWait(words, 1);
  await sleep(100);
  t.deepEqual(waitingThreads(), parked, 'the next wait started a thread instead of taking the parked one');
  changeAndWake(words, 1);
  t.is(await within(t, 60_000, second, 'the second wait'), 'ok');
});

test('200 concurrent async waits on different words are all answered, woken or timed out', async (t) => {
  const n = 200;
  const words = new Int32Array(allocateShared(4 * n));
  // Odd words are never changed: their finite timeouts end them.
  const waits = Array.from({ length: n }, (_, i) => pendingWait(words, i, i % 2 === 0 ? Infinity : 50));
  await sleep(100);
  for (let i = n - 2; i >= 0; i -= 2) changeAndWake(words, i);
  const outcomes = await within(t, 120_000, Promise.all(waits), '200 waits');
  t.deepEqual(
    outcomes,
    outcomes.map((_, i) => (i % 2 === 0 ? 'ok' : 'timed-out')),
  );
  const threads = waitingThreads().length;
  t.true(threads >= 1 && threads <= n, `${threads} waiting threads for ${n} waits`);
});

test('an idle process keeps no waiting thread once the idle time has passed', async (t) => {
  const words = new Int32Array(allocateShared(8));
  const wait = pendingWait(words, 0);
  changeAndWake(words, 0);
  t.is(await within(t, 60_000, wait, 'the wait'), 'ok');
  t.true(waitingThreads().length >= 1, 'the thread is parked for a while first');
  const gone = (async () => {
    while (waitingThreads().length > 0) await sleep(250);
  })();
  await within(t, 30_000, gone, 'the end of the idle waiting threads');
  t.deepEqual(waitingThreads(), []);
});
