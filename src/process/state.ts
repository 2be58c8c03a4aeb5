/**
 * What `currentProcess()` reports in this thread or process. Set once by the worker entry when
 * this thread/process is a pool worker or a Process; the main thread is 'MainProcess'.
 */
import { codedError } from '../errors.js';
import { requireEsm } from '../worker/require_esm.js';

// Not an ES import: every worker loads this file first thing, and an ES import of a builtin makes
// it build that builtin's ES module facade (node:worker_threads': about 0.9 ms on Node 20).
const { threadId } = process.getBuiltinModule('node:worker_threads');

export interface ProcessInfo {
  /** 'MainProcess', 'PoolWorker-N', or the name given to a Process. */
  readonly name: string;
  /** The OS process id. Thread workers share their parent's. */
  readonly pid: number;
  /** worker_threads id: 0 in a process's main thread. */
  readonly threadId: number;
  readonly daemon: boolean;
}

let current: ProcessInfo = Object.freeze({ name: 'MainProcess', pid: process.pid, threadId, daemon: false });

export function setCurrentProcess(info: { name: string; daemon: boolean }): void {
  current = Object.freeze({ name: info.name, pid: process.pid, threadId, daemon: info.daemon });
}

/** Python's `multiprocessing.current_process()`: who is running this code. */
export function currentProcess(): ProcessInfo {
  return current;
}

/** The task module this worker is importing for its first use, while its top level runs. */
let importing: string | undefined;

/** Imports a task module in a worker, remembering it while its top level runs (see refuseWhileImporting). */
export async function importTaskModule(url: string): Promise<Record<string, unknown>> {
  const outer = importing;
  importing = url;
  try {
    return requireEsm(url) ?? ((await import(url)) as Record<string, unknown>);
  } finally {
    importing = outer;
  }
}

/**
 * Python's "attempt to start a new process before the current process has finished its
 * bootstrapping phase": a task module's top level runs again in every worker that imports it, so
 * starting workers there (a main script used as its own task module, without a guard) would
 * start another such worker, and so on without end.
 */
export function refuseWhileImporting(what: string): void {
  if (importing === undefined) return;
  throw codedError(
    'ERR_START_WHILE_IMPORTING',
    `${what} cannot start while this worker imports the task module ${importing}: its top level runs again in every worker. ` +
      `Guard the code that starts workers with if (currentProcess().name === 'MainProcess') (Python's if __name__ == '__main__'), ` +
      'or move the task into a module of its own.',
  );
}
