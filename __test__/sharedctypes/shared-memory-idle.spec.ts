// Shared objects a pool worker used and dropped must not stay allocated because the idle worker
// never collects garbage. A Queue carries a 64 KiB shared buffer; 4,000 of them sent to a thread
// pool once and dropped hold about 250 MiB until every thread that saw them lets go.
//
// Measured: `process.memoryUsage().arrayBuffers` of this (main) thread. Shared buffers allocated
// here are counted here until the last thread holding them frees them, whichever thread that is.
// With the native core, shared objects live in segments it maps instead (memory that other
// processes can map too): those count as long as any thread of this process maps them.
import test from 'ava';

import { Pool, Queue } from '../../index.js';
import { binding } from '../../src/native/binding.js';
import { exposedGc } from '../../src/worker/idle.js';
import { eventually, within } from '../helpers/pool.js';

const MiB = 2 ** 20;

function sharedBytes(): number {
  return process.memoryUsage().arrayBuffers + (binding?.shmMappedBytes?.() ?? 0);
}

/**
 * A full collection of this thread's heap (the test's own references must go first), fetched as a
 * worker fetches its own, which the workers may be doing at the same moment (src/worker/idle.ts).
 */
function collectHere(): void {
  const gc = exposedGc();
  if (gc === undefined) throw new Error('no gc: every try lost the race for --expose-gc');
  gc();
}

test('8 x 500 Queues used once by an idle thread pool are freed within a bounded delay', async (t) => {
  const pool = new Pool({ processes: 2 });
  await pool.map((x: number) => x, [1, 2]);
  collectHere();
  const before = { ...process.memoryUsage(), arrayBuffers: sharedBytes() };
  // All kept until the last round, so that they are alive at once here (garbage collection of
  // this thread cannot free them early): what is measured after is what the workers let go.
  let kept: Queue<number>[] | undefined = [];
  for (let round = 0; round < 8; round++) {
    const queues = Array.from({ length: 500 }, () => new Queue<number>());
    await within(
      t,
      60_000,
      pool.map(async (q: Queue<number>) => q.put(1), queues),
      `round ${round}`,
    );
    for (const q of queues) t.is(await within(t, 10_000, q.get({ timeout: 5_000 }), 'get'), 1);
    kept.push(...queues);
  }
  const peak = { ...process.memoryUsage(), arrayBuffers: sharedBytes() };
  kept = undefined;
  t.log(
    `arrayBuffers: ${(before.arrayBuffers / MiB).toFixed(1)} MiB before, ${(peak.arrayBuffers / MiB).toFixed(1)} MiB after 4,000 queues`,
  );
  // The 4,000 queues must have been alive at once somewhere, or the test proves nothing.
  t.true(peak.arrayBuffers - before.arrayBuffers > 100 * MiB, 'the queues were all allocated');
  // Freed in every thread within a few seconds, with the pool still running (idle).
  const freed = await eventually(() => {
    collectHere();
    return sharedBytes() - before.arrayBuffers < 32 * MiB;
  }, 15_000);
  const after = { ...process.memoryUsage(), arrayBuffers: sharedBytes() };
  t.log(
    `arrayBuffers after idling: ${(after.arrayBuffers / MiB).toFixed(1)} MiB; rss ${(before.rss / MiB).toFixed(0)} -> ${(peak.rss / MiB).toFixed(0)} -> ${(after.rss / MiB).toFixed(0)} MiB`,
  );
  t.true(
    freed,
    `still ${((after.arrayBuffers - before.arrayBuffers) / MiB).toFixed(1)} MiB of shared buffers held while the workers idle`,
  );
  pool.close();
  await within(t, 30_000, pool.join(), 'join');
});
