/**
 * Shared memory between processes (backend 'process'): contended Lock acquire/release pairs per
 * second across two processes, and Queue round trips between two processes against
 * child_process IPC (`process.send`) round trips. Each figure is the best of three rounds, timed
 * by the processes themselves after a common start; the ratio compares figures of this one run.
 *
 *   npx tsx benchmark/shm-processes.ts            (BENCH_QUICK=1 for a short run)
 */
import { fork } from 'node:child_process';
import { fileURLToPath } from 'node:url';

import { Barrier, Lock, Pool, Queue, Value, task } from '../index.js';
import type * as Tasks from './tasks/shm-processes.js';

const quick = process.env.BENCH_QUICK === '1';
const ROUNDS = 3;
const LOCK_PAIRS = quick ? 200_000 : 2_000_000;
const TRIPS = quick ? 5_000 : 50_000;

const tasks = new URL('./tasks/shm-processes.ts', import.meta.url);
const t_ = <K extends keyof typeof Tasks>(name: K) => task<(typeof Tasks)[K]>(tasks, name);

async function best(label: string, round: () => Promise<number>): Promise<number> {
  let top = 0;
  for (let r = 0; r < ROUNDS; r++) top = Math.max(top, await round());
  console.log(`  ${label}: ${Math.round(top).toLocaleString('en-US')} /s`);
  return top;
}

async function lockRate(pool: Pool): Promise<number> {
  const lock = new Lock();
  const counter = new Value('i', 0, { lock: false });
  const start = new Barrier(2);
  const ms = await pool.starmap(
    t_('lockPairs'),
    [
      [lock, counter, start, LOCK_PAIRS],
      [lock, counter, start, LOCK_PAIRS],
    ],
    1,
  );
  if (counter.value !== 2 * LOCK_PAIRS) throw new Error(`lost increments: ${counter.value}`);
  return (2 * LOCK_PAIRS) / (Math.max(...ms) / 1000);
}

async function queueTrips(pool: Pool): Promise<number> {
  const [out, back] = [new Queue<number>(), new Queue<number>()];
  const start = new Barrier(2);
  const [ms] = await Promise.all([pool.apply(t_('ping'), [out, back, start, TRIPS]), pool.apply(t_('pong'), [out, back, start])]);
  return TRIPS / (ms / 1000);
}

/** Round trips with a child over child_process IPC: the child echoes each message. */
async function ipcTrips(): Promise<number> {
  const child = fork(fileURLToPath(new URL('./tasks/ipc-echo.mjs', import.meta.url)), [], {
    serialization: 'advanced',
    execArgv: [],
  });
  await new Promise((resolve) => child.once('message', resolve));
  const t0 = performance.now();
  for (let i = 0; i < TRIPS; i++) {
    child.send(i);
    await new Promise((resolve) => child.once('message', resolve));
  }
  const ms = performance.now() - t0;
  child.kill();
  return TRIPS / (ms / 1000);
}

console.log(`shared memory between processes (${quick ? 'quick' : 'full'} run; best of ${ROUNDS})`);
const pool = new Pool({ backend: 'process', processes: 2 });
const lock = await best('contended Lock acquire/release pairs across 2 processes', () => lockRate(pool));
const queue = await best('Queue round trips between 2 processes', () => queueTrips(pool));
await pool[Symbol.asyncDispose]();
const ipc = await best('child_process IPC (process.send) round trips', ipcTrips);
console.log(
  `  Queue vs IPC round trips: ${(queue / ipc).toFixed(1)}x (bar >= 5x); Lock pairs bar >= 1,000,000 /s: ${lock >= 1e6 ? 'met' : 'NOT met'}`,
);
