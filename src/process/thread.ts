/**
 * Python's `threading` names for the same machinery: a `Thread` is a Process on the 'thread'
 * backend (a worker_thread) named Thread-N, and `currentThread()` says which thread runs the code.
 */
import { isMainThread, threadId } from 'node:worker_threads';

import { Process } from './process.js';
import { currentProcess } from './state.js';
import type { TaskArgs, TaskLike } from '../task.js';
import { validateOptions, type OptionNames } from '../validate.js';

export interface ThreadOptions<T extends TaskLike = TaskLike> {
  /** What the thread runs; optional in a subclass that overrides run(). */
  target?: T;
  args?: TaskArgs<T>;
  /** Default `Thread-N`. */
  name?: string;
  /** A daemon does not keep Node alive, and is stopped when the parent exits. Default false. */
  daemon?: boolean;
}

const THREAD_OPTIONS: OptionNames<ThreadOptions> = { target: true, args: true, name: true, daemon: true };

export class Thread<T extends TaskLike = TaskLike> extends Process<T> {
  /** Threads count apart from processes, as Python's threading and multiprocessing do. */
  protected static override readonly nameCounter = { n: 0 };
  /** Python's threading names a subclass's threads Thread-N too, where multiprocessing uses the class name. */
  protected static readonly familyName: string = 'Thread';

  constructor(options: ThreadOptions<T> = {}) {
    validateOptions<ThreadOptions<T>>(options, 'options', THREAD_OPTIONS);
    super({ ...options, backend: 'thread' });
  }

  override get [Symbol.toStringTag](): string {
    return 'Thread';
  }
}

export interface ThreadInfo {
  /** 'MainThread' in a process's main thread, else the name of the Thread, Process or pool worker. */
  readonly name: string;
  /** worker_threads' `threadId`: 0 in a process's main thread. */
  readonly ident: number;
  readonly daemon: boolean;
}

const MAIN: ThreadInfo = Object.freeze({ name: 'MainThread', ident: 0, daemon: false });

/** Python's `threading.main_thread()`: the main thread of this process. */
export function mainThread(): ThreadInfo {
  return MAIN;
}

/**
 * Python's `threading.current_thread()`. As in Python, the main thread of any process (the
 * parent, or a child on the 'process' backend) is 'MainThread'; a worker thread carries the name
 * of the Thread (or thread-backend Process, or pool worker) it runs.
 */
export function currentThread(): ThreadInfo {
  if (isMainThread) return MAIN;
  const { name, daemon } = currentProcess();
  return Object.freeze({ name, ident: threadId, daemon });
}
