import { readFileSync } from 'node:fs';

import type { ExecutionContext } from 'ava';

import { task } from '../../index.js';
import type * as Tasks from '../fixtures/tasks.mjs';

export const backends = ['thread', 'process'] as const;

const tasksUrl = new URL('../fixtures/tasks.mjs', import.meta.url);
/** A typed handle to a fixture task. */
export function fixture<K extends keyof typeof Tasks>(name: K) {
  return task<(typeof Tasks)[K] extends (...args: never[]) => unknown ? (typeof Tasks)[K] : never>(tasksUrl, name);
}

/** Fails the test instead of hanging when `promise` does not settle within `ms`. */
export async function within<T>(t: ExecutionContext, ms: number, promise: Promise<T>, what = 'the operation'): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const deadline = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`${what} did not settle within ${ms} ms (hang)`)), ms);
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
