import test from 'ava';

import { Lock, native, Pool, task } from '../../index.js';
import { backends, within } from '../helpers/pool.js';

const fixtureUrl = new URL('../fixtures/worker-loads.mjs', import.meta.url);
interface Loaded {
  addon: boolean;
  sharedMemory: boolean;
  builtins: string[];
}
const loaded = task<() => Loaded>(fixtureUrl, 'loaded');
const loadedAfterLocking = task<(lock: Lock) => Loaded>(fixtureUrl, 'loadedAfterLocking');

// What a worker loads before its first plain task is paid by every pool start, in time and memory:
// the addon, the shared-memory layer and node:v8/vm come on first use only, perf_hooks never.
for (const backend of backends) {
  test(`a ${backend} worker runs a plain task without loading the addon, shared memory, node:v8, node:vm or perf_hooks`, async (t) => {
    const pool = new Pool({ processes: 1, backend });
    try {
      const seen = await within(t, 30_000, pool.apply(loaded));
      // A child process's IPC channel ('advanced' serialization) is node:v8's serializer, which
      // Node 20 and 22 load as the module and 24 does not: not ours to count.
      if (backend === 'process') seen.builtins = seen.builtins.filter((name) => name !== 'NativeModule v8');
      t.deepEqual(seen, { addon: false, sharedMemory: false, builtins: [] });
    } finally {
      await pool.terminate();
    }
  });
}

test('a thread worker loads the addon for a native kernel and shared memory for a Lock, on first use', async (t) => {
  const pool = new Pool({ processes: 1 });
  try {
    if (native.available) {
      t.is(await within(t, 30_000, pool.apply(native.sumPrimes, [100_000])), 454396537);
      t.true((await within(t, 30_000, pool.apply(loaded))).addon);
    }
    const after = await within(t, 30_000, pool.apply(loadedAfterLocking, [new Lock()]));
    t.true(after.sharedMemory);
  } finally {
    await pool.terminate();
  }
});
