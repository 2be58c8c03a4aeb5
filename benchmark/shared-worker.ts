// Worker side of benchmark/shared.ts: each role runs its loop after a common start barrier and
// reports its own elapsed time, so thread start-up is not measured.
import { parentPort, workerData, type MessagePort } from 'node:worker_threads';

import '../index.js';
import type { Barrier, Lock, Queue, Value } from '../index.js';
import { decode } from '../src/reduction/transfer.js';

const { role, args } = workerData as { role: string; args: unknown };
const a = decode(args) as unknown[];

function lockPairs(start: Barrier, lock: Lock, cell: Value<'i'>, n: number): number {
  const raw = cell.getObj();
  start.waitSync();
  const t0 = performance.now();
  for (let i = 0; i < n; i++) {
    lock.acquireSync();
    raw.value = raw.value + 1; // not atomic: only the lock keeps the count exact
    lock.release();
  }
  return performance.now() - t0;
}

function queueProduce(start: Barrier, q: Queue<unknown>, n: number, value: unknown): number {
  start.waitSync();
  const t0 = performance.now();
  for (let i = 0; i < n; i++) q.putSync(value);
  q.putSync('stop');
  return performance.now() - t0;
}

function queueConsume(start: Barrier, q: Queue<unknown>): number {
  start.waitSync();
  const t0 = performance.now();
  let n = 0;
  while (q.getSync() !== 'stop') n++;
  parentPort!.postMessage({ count: n });
  return performance.now() - t0;
}

function queuePing(start: Barrier, to: Queue<number>, from: Queue<number>, n: number): number {
  start.waitSync();
  const t0 = performance.now();
  for (let i = 0; i < n; i++) {
    to.putSync(i);
    if (from.getSync() !== i) throw new Error('pong out of order');
  }
  to.putSync(-1);
  return performance.now() - t0;
}

function queuePong(start: Barrier, from: Queue<number>, to: Queue<number>): number {
  start.waitSync();
  const t0 = performance.now();
  for (;;) {
    const v = from.getSync();
    if (v < 0) break;
    to.putSync(v);
  }
  return performance.now() - t0;
}

function portProduce(start: Barrier, port: MessagePort, n: number, value: unknown): number {
  start.waitSync();
  const t0 = performance.now();
  for (let i = 0; i < n; i++) port.postMessage(value);
  port.postMessage('stop');
  return performance.now() - t0;
}

function portConsume(start: Barrier, port: MessagePort): Promise<number> {
  return new Promise((resolve) => {
    let n = 0;
    let t0 = 0;
    port.on('message', (m) => {
      if (m === 'stop') {
        parentPort!.postMessage({ count: n });
        port.close();
        resolve(performance.now() - t0);
      } else n++;
    });
    start.waitSync();
    t0 = performance.now();
  });
}

function portPing(start: Barrier, port: MessagePort, n: number): Promise<number> {
  return new Promise((resolve) => {
    let i = 0;
    let t0 = 0;
    port.on('message', (m: number) => {
      if (m !== i) throw new Error('pong out of order');
      if (++i === n) {
        port.postMessage(-1);
        port.close();
        resolve(performance.now() - t0);
      } else port.postMessage(i);
    });
    start.waitSync();
    t0 = performance.now();
    port.postMessage(0);
  });
}

function portPong(start: Barrier, port: MessagePort): Promise<number> {
  return new Promise((resolve) => {
    const t0 = performance.now();
    port.on('message', (m: number) => {
      if (m < 0) {
        port.close();
        resolve(performance.now() - t0);
      } else port.postMessage(m);
    });
    start.waitSync();
  });
}

const roles: Record<string, (...args: never[]) => number | Promise<number>> = {
  lockPairs,
  queueProduce,
  queueConsume,
  queuePing,
  queuePong,
  portProduce,
  portConsume,
  portPing,
  portPong,
};

parentPort!.postMessage({ ms: await roles[role]!(...(a as never[])) });
