/**
 * What `currentProcess()` reports in this thread or process. Set once by the worker entry when
 * this thread/process is a pool worker or a Process; the main thread is 'MainProcess'.
 */
import { threadId } from 'node:worker_threads';

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
