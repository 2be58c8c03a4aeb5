import { readFileSync } from 'node:fs';
import { availableParallelism, loadavg } from 'node:os';

import type { ExecutionContext } from 'ava';

import { task } from '../../index.js';
import type * as Tasks from '../fixtures/tasks.mjs';

export const backends = ['thread', 'process'] as const;

const tasksUrl = new URL('../fixtures/tasks.mjs', import.meta.url);
/** A typed handle to a fixture task. */
export function fixture<K extends keyof typeof Tasks>(name: K) {
  return task<(typeof Tasks)[K] extends (...args: never[]) => unknown ? (typeof Tasks)[K] : never>(tasksUrl, name);
}

/** How many times over the machine's cores are asked for right now (1-minute load average). */
function overload(): number {
  return (loadavg()[0] ?? 0) / availableParallelism();
}

/**
 * Fails the test instead of hanging when `promise` does not settle within `ms`.
 *
 * A hang never settles; a slow machine only settles late. When the deadline passes while the
 * machine is oversubscribed (other suites, builds or a stress run sharing the cores several times
 * over), the guard waits up to four more periods of `ms`, so that a hang is still reported (later)
 * but CPU starvation alone is not mistaken for one. The failure message says how loaded it was.
 */
export async function within<T>(t: ExecutionContext, ms: number, promise: Promise<T>, what = 'the operation'): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const deadline = new Promise<never>((_, reject) => {
    let periods = 1;
    const check = () => {
      const load = overload();
      if (load > 2 && periods < 5) {
        periods++;
        timer = setTimeout(check, ms);
        return;
      }
      reject(new Error(`${what} did not settle within ${periods * ms} ms (hang; load ${load.toFixed(1)}x the cores)`));
    };
    timer = setTimeout(check, ms);
  });
  try {
    return await Promise.race([promise, deadline]);
  } finally {
    clearTimeout(timer);
    void t;
  }
}

export function isProcessAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

/** OS threads of this process right now (Linux), to see worker threads come and go. */
export function osThreadCount(): number {
  const status = readFileSync('/proc/self/status', 'utf8');
  return Number(/^Threads:\s+(\d+)/m.exec(status)![1]);
}

export async function eventually(check: () => boolean, ms = 5000): Promise<boolean> {
  const end = Date.now() + ms;
  while (Date.now() < end) {
    if (check()) return true;
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
  return check();
}

/** Lengths of the runs of equal consecutive marks: the calls each job of the map held, in order. */
export function runLengths(marks: string[]): number[] {
  const lengths: number[] = [];
  marks.forEach((mark, i) => {
    if (i > 0 && mark === marks[i - 1]) lengths[lengths.length - 1]!++;
    else lengths.push(1);
  });
  return lengths;
}
