// Process-worker side of benchmark/shm-processes.ts: loops timed by the worker itself, after a
// common start (a Barrier), so that process start-up is not measured.
import type { Barrier, Lock, Queue, Value } from '../../index.js';

/** `pairs` contended acquire/release pairs, each guarding an increment; returns the ms taken. */
export function lockPairs(lock: Lock, counter: Value<'i'>, start: Barrier, pairs: number): number {
  start.waitSync();
  const t0 = performance.now();
  for (let i = 0; i < pairs; i++) {
    lock.acquireSync();
    counter.value += 1;
    lock.release();
  }
  return performance.now() - t0;
}

/** Sends 0..n-1 through `out`, each time waiting for the echo on `back`; returns the ms taken. */
export function ping(out: Queue<number>, back: Queue<number>, start: Barrier, n: number): number {
  start.waitSync();
  const t0 = performance.now();
  for (let i = 0; i < n; i++) {
    out.putSync(i);
    if (back.getSync() !== i) throw new Error('out of order');
  }
  const ms = performance.now() - t0;
  out.putSync(-1);
  return ms;
}

/** Echoes what comes on `from` to `to` until -1. */
export function pong(from: Queue<number>, to: Queue<number>, start: Barrier): number {
  start.waitSync();
  let n = 0;
  for (let x = from.getSync(); x !== -1; x = from.getSync(), n++) to.putSync(x);
  return n;
}
