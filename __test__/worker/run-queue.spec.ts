// A job's measured time sizes the pool's next messages; on a loaded machine the time its worker
// spent waiting for a CPU is left out (src/worker/run_queue.ts), or a preempted one-call job of
// 30 µs reads as milliseconds and a divisible map ramps from one call at a time (seen in CI).
import { availableParallelism } from 'node:os';
import { Worker } from 'node:worker_threads';

import test from 'ava';

import { runQueueWaitMs, withoutRunQueueWait } from '../../src/worker/run_queue.js';

// Threads that keep every CPU busy until told to stop: with twice as many spinning as there are
// CPUs, the thread that measures is runnable but not running for part of any stretch of time.
const SPINNER = `
const { workerData, parentPort } = require('node:worker_threads');
const stop = new Int32Array(workerData);
parentPort.postMessage('spinning');
while (Atomics.load(stop, 0) === 0) {}
`;

function spin(ms: number): void {
  const end = process.hrtime.bigint() + BigInt(ms * 1e6);
  while (process.hrtime.bigint() < end) {
    // a job that takes `ms` of wall time
  }
}

test('a job measured while its thread waits for a CPU counts the time it ran, not the time it waited', async (t) => {
  if (process.platform !== 'linux') {
    t.is(withoutRunQueueWait(5, runQueueWaitMs()), 5, 'elsewhere a job is measured by wall time');
    return;
  }
  const stop = new SharedArrayBuffer(4);
  const spinners = Array.from(
    { length: 2 * availableParallelism() },
    () => new Worker(SPINNER, { eval: true, workerData: stop }),
  );
  try {
    await Promise.all(spinners.map((w) => new Promise((resolve) => w.once('message', resolve))));
    const before = runQueueWaitMs();
    const start = process.hrtime.bigint();
    spin(300);
    const wall = Number(process.hrtime.bigint() - start) / 1e6;
    const after = runQueueWaitMs();
    const job = withoutRunQueueWait(wall, before);
    t.log(`wall ${wall.toFixed(1)} ms, waited ${(after - before).toFixed(1)} ms, job ${job.toFixed(1)} ms`);
    t.true(Number.isFinite(before) && after >= before);
    t.true(after - before > 0, 'with more spinning threads than CPUs, this one waited on a run queue');
    t.true(job > 0 && job < wall);
  } finally {
    Atomics.store(new Int32Array(stop), 0, 1);
    await Promise.all(spinners.map((w) => new Promise((resolve) => w.once('exit', resolve))));
  }
});

test('the run-queue clock only grows, and a job is never measured above its wall time', (t) => {
  let last = runQueueWaitMs();
  for (let i = 0; i < 1000; i++) {
    const now = runQueueWaitMs();
    if (process.platform === 'linux') t.true(now >= last);
    last = now;
    const job = withoutRunQueueWait(1, now);
    if (job < 0 || job > 1) t.fail(`job measured at ${job} ms for 1 ms of wall time`);
  }
  t.pass();
});
