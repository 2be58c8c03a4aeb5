// Which kind of buffer JS sees over process-shared memory: a SharedArrayBuffer where Node has
// node_api_create_external_sharedarraybuffer (22.23.3+, 24.16+, 26.1+), an external ArrayBuffer
// elsewhere; and what a real SharedArrayBuffer gives within one process.
import { Worker } from 'node:worker_threads';

import anyTest from 'ava';

import { Lock, Pool, SharedArray, task, Value } from '../../index.js';
import { within } from '../helpers/pool.js';
import type * as Tasks from '../fixtures/process-shared-tasks.js';
import { processShared, sharedBufferKind } from '../../src/shm/memory.js';

const test = processShared ? anyTest : anyTest.skip;

const tasks = new URL('../fixtures/process-shared-tasks.ts', import.meta.url);
const t_ = <K extends keyof typeof Tasks>(name: K) => task<(typeof Tasks)[K]>(tasks, name);

/** Whether this Node version has the function, from Node's changelogs; undefined when unknown. */
function nodeHasExternalSab(version: string): boolean | undefined {
  const [major, minor, patch] = version.split('.').map(Number) as [number, number, number];
  const since: Record<number, [number, number]> = { 20: [Infinity, 0], 22: [23, 3], 24: [16, 0], 26: [1, 0] };
  const first = since[major];
  if (first === undefined) return major > 26 ? true : undefined;
  return minor > first[0] || (minor === first[0] && patch >= first[1]);
}

// Node 20's TypeScript lib does not declare it yet.
const { waitAsync } = Atomics as unknown as {
  waitAsync(a: Int32Array, i: number, v: number, ms: number): { async: boolean; value: Promise<string> | string };
};

const sharesBuffers = nodeHasExternalSab(process.versions.node);
const sabTest = sharedBufferKind === 'SharedArrayBuffer' ? test : anyTest.skip;

test(`a Value made here lies in ${sharesBuffers === false ? 'an external ArrayBuffer' : 'a SharedArrayBuffer'} on Node ${process.versions.node}`, (t) => {
  const v = new Value('i', 1);
  const buffer = v.typed.buffer;
  if (sharesBuffers !== undefined) t.is(buffer instanceof SharedArrayBuffer, sharesBuffers);
  t.is(sharedBufferKind, buffer instanceof SharedArrayBuffer ? 'SharedArrayBuffer' : 'ArrayBuffer');
  t.is(new SharedArray('d', 100_000).typed.buffer.constructor, buffer.constructor, 'a segment of its own is the same kind');
});

test('a Value that went to a process worker and back is the same kind of buffer, and the counts are exact', async (t) => {
  await using pool = new Pool({ backend: 'process', processes: 2 });
  const counter = new Value('i', 0);
  const jobs = Array.from({ length: 2 }, () => [counter, 10_000] as [Value<'i'>, number]);
  await within(t, 120_000, pool.starmap(t_('addMany'), jobs, 1), 'starmap');
  t.is(counter.value, 20_000);
  const back = await within(
    t,
    60_000,
    pool.apply((v: Value<'i'>) => v, [counter]),
    'round trip',
  );
  t.is(back, counter);
  t.is(back.typed.buffer instanceof SharedArrayBuffer, sharedBufferKind === 'SharedArrayBuffer');
});

sabTest('on a SharedArrayBuffer, Atomics.waitAsync works and a raw worker_threads postMessage shares the memory', async (t) => {
  const arr = new SharedArray('i', 2);
  const worker = new Worker(
    `const { parentPort } = require('node:worker_threads');
     parentPort.once('message', (a) => { Atomics.store(a, 1, 42); Atomics.store(a, 0, 1); Atomics.notify(a, 0); });`,
    { eval: true },
  );
  try {
    const pending = waitAsync(arr.typed, 0, 0, 30_000);
    t.true(pending.async);
    worker.postMessage(arr.typed);
    t.is(await within(t, 60_000, pending.value as Promise<string>, 'the notify from the worker'), 'ok');
    t.is(arr.get(1), 42, 'the worker wrote into the same memory (a copy would not show here)');
  } finally {
    await worker.terminate();
  }
});

sabTest('a Lock between processes still excludes on a SharedArrayBuffer (waits go to the futex)', async (t) => {
  await using pool = new Pool({ backend: 'process', processes: 2 });
  const counter = new Value('i', 0, { lock: false });
  const lock = new Lock();
  const jobs = Array.from({ length: 2 }, () => [counter, lock, 5_000] as [Value<'i'>, Lock, number]);
  const mine = (async () => {
    for (let i = 0; i < 500; i++) await lock.withLock(() => void (counter.value += 1));
  })();
  await within(t, 120_000, Promise.all([pool.starmap(t_('lockedIncrements'), jobs, 1), mine]), 'the increments');
  t.is(counter.value, 10_500);
});
