import test from 'ava';

import { Barrier, BrokenBarrierError, SharedArray } from '../../index.js';
import { inWorker, withDeadline } from '../helpers/shared.js';

const ROUNDS = 200;

test(`Barrier: 3 workers and the main thread, ${ROUNDS} rounds, nobody passes before everyone arrived`, async (t) => {
  // The action runs in whichever thread arrives last; it is self-contained (re-created from source
  // in workers) and counts itself per thread.
  const barrier = new Barrier(4, {
    action: () => {
      const g = globalThis as { barrierActions?: number };
      g.barrierActions = (g.barrierActions ?? 0) + 1;
    },
  });
  const slots = new SharedArray('i', 4);
  const workers = [1, 2, 3].map((id) =>
    inWorker<{ violations: string[]; indexes: number[]; actions: number }>('barrierRounds', barrier, slots, id, ROUNDS),
  );
  const violations: string[] = [];
  const indexes = new Set<number>();
  for (let r = 1; r <= ROUNDS; r++) {
    slots.set(0, r);
    indexes.add(await barrier.wait(30_000));
    for (let j = 0; j < 4; j++) if (slots.get(j) < r) violations.push(`main, round ${r}: slot ${j}`);
    await barrier.wait(30_000);
  }
  const results = await withDeadline(Promise.all(workers), 60_000, 'barrier workers');
  t.deepEqual(violations, []);
  for (const result of results) t.deepEqual(result.violations, []);
  const actions = results.reduce((sum, r) => sum + r.actions, (globalThis as { barrierActions?: number }).barrierActions ?? 0);
  t.is(actions, 2 * ROUNDS, 'the action ran once per round (two waits per round)');
  // Every arrival index 0..3 was handed out somewhere.
  for (const r of results) for (const i of r.indexes) indexes.add(i);
  t.deepEqual([...indexes].sort(), [0, 1, 2, 3]);
  t.is(barrier.nWaiting, 0);
  t.false(barrier.broken);
});

test('Barrier: a timeout breaks it for everyone; reset() makes it usable again', async (t) => {
  const barrier = new Barrier(3);
  const other = barrier.wait(30_000);
  const start = performance.now();
  await t.throwsAsync(() => barrier.wait(80), { instanceOf: BrokenBarrierError });
  const ms = performance.now() - start;
  t.true(ms >= 75 && ms < 80 + 3_000, `${ms} ms`);
  await t.throwsAsync(other, { instanceOf: BrokenBarrierError });
  t.true(barrier.broken);
  await t.throwsAsync(() => barrier.wait(10), { instanceOf: BrokenBarrierError });
  barrier.reset();
  t.false(barrier.broken);
  t.deepEqual((await Promise.all([barrier.wait(), barrier.wait(), barrier.wait()])).sort(), [0, 1, 2]);
});

test('Barrier: abort() wakes waiters in workers with BrokenBarrierError', async (t) => {
  const barrier = new Barrier(3);
  const workers = [inWorker<string>('barrierExpectBroken', barrier), inWorker<string>('barrierExpectBroken', barrier)];
  await withDeadline(
    (async () => {
      while (barrier.nWaiting < 2) await new Promise((r) => setTimeout(r, 5));
    })(),
    30_000,
    'two parties waiting',
  );
  t.is(barrier.parties, 3);
  barrier.abort();
  t.deepEqual(await Promise.all(workers), ['BrokenBarrierError', 'BrokenBarrierError']);
  t.true(barrier.broken);
});

test('Barrier: an action that throws breaks the barrier; bad arguments are rejected', async (t) => {
  const barrier = new Barrier(2, {
    action: () => {
      throw new Error('action failed');
    },
  });
  const first = barrier.wait(30_000);
  await t.throwsAsync(() => barrier.wait(30_000), { message: 'action failed' });
  await t.throwsAsync(first, { instanceOf: BrokenBarrierError });
  t.throws(() => new Barrier(0), { instanceOf: RangeError, message: /"parties"/ });
  t.throws(() => new Barrier(2, { action: 5 as never }), { instanceOf: TypeError, message: /"options.action"/ });
  t.throws(() => new Barrier(2, { timeout: -1 }), { instanceOf: RangeError });
});
