// An idle pool worker fetches V8's collector by turning --expose-gc on for a moment
// (src/worker/idle.ts). V8's flags belong to the process, so two threads doing it at once (two
// workers that went idle together) can turn the flag off under each other: the fetch must then
// try again or give up quietly, never throw on the worker's timer (an uncaught ReferenceError
// there ended the worker).
import { Worker } from 'node:worker_threads';

import test from 'ava';

import { exposedGc } from '../../src/worker/idle.js';

// Threads that turn the flag on and off as fast as they can, as racing fetches do.
const TOGGLER = `
const v8 = require('node:v8');
const { workerData } = require('node:worker_threads');
const stop = new Int32Array(workerData);
while (Atomics.load(stop, 0) === 0) {
  v8.setFlagsFromString('--expose-gc');
  v8.setFlagsFromString('--no-expose-gc');
}
`;

test('fetching the collector while other threads toggle --expose-gc never throws, and works once they stop', async (t) => {
  const stop = new SharedArrayBuffer(4);
  const togglers = Array.from({ length: 2 }, () => new Worker(TOGGLER, { eval: true, workerData: stop }));
  try {
    await new Promise((resolve) => setTimeout(resolve, 100));
    let found = 0;
    for (let i = 0; i < 2_000; i++) if (exposedGc() !== undefined) found++;
    t.log(`fetched ${found} of 2,000 times under the race`);
  } finally {
    Atomics.store(new Int32Array(stop), 0, 1);
    await Promise.all(togglers.map((w) => new Promise((resolve) => w.once('exit', resolve))));
  }
  const gc = exposedGc();
  t.is(typeof gc, 'function');
  gc!();
});
