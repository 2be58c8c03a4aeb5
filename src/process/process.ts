/**
 * `Process`: Python's `multiprocessing.Process`, run as a worker_thread (default) or a child
 * process. As in Python, the target's end is the process's end: when what it returns settles,
 * the Process exits with 0 (or 1 if it threw), even if timers are still pending.
 */
import { availableParallelism, constants } from 'node:os';

import { ProcessError } from '../errors.js';
import { ChildHandover, adopt } from '../shm/handover.js';
import { localSpec } from '../backends/async/backend.js';
import { toTaskSpec, type AnyFunction, type TaskArgs, type TaskLike, type TaskSpec } from '../task.js';
import { encode } from '../reduction/transfer.js';
import { processRefusal } from '../shm/memory.js';
import { spawnWorker, type WorkerHandle, type WorkerKind } from '../worker/spawn.js';
import { invalidType, invalidValue, validateOptions, validateTimeout, type OptionNames } from '../validate.js';
import { after } from '../shm/waiting.js';
import { refuseWhileImporting } from './state.js';

export { currentProcess, type ProcessInfo } from './state.js';

export interface ProcessOptions<T extends TaskLike = TaskLike> {
  /** What the process runs; optional in a subclass that overrides run(). */
  target?: T;
  args?: TaskArgs<T>;
  /** Default `Process-N`. */
  name?: string;
  /** A daemon does not keep Node alive, and is stopped when the parent exits. Default false. */
  daemon?: boolean;
  /** `'thread'` (worker_threads, default) or `'process'` (a child process). */
  backend?: WorkerKind;
}

const PROCESS_OPTIONS: OptionNames<ProcessOptions> = { target: true, args: true, name: true, daemon: true, backend: true };

const alive = new Set<Process>();

/** Number of CPUs usable by this process (`os.availableParallelism()`). */
export function cpuCount(): number {
  return availableParallelism();
}

/** The Processes started from this thread that are still running. */
export function activeChildren(): Process[] {
  return [...alive];
}

/** Stops daemon children when the parent exits, as Python does. */
let exitHookInstalled = false;
function installExitHook(): void {
  if (exitHookInstalled) return;
  exitHookInstalled = true;
  process.once('exit', () => {
    for (const child of alive) if (child.daemon) child.kill();
  });
}

export class Process<T extends TaskLike = TaskLike> {
  readonly name: string;
  #daemon: boolean;
  readonly backend: WorkerKind;
  readonly #target: T | undefined;
  readonly #args: unknown[];
  #handle: WorkerHandle | undefined;
  #exitCode: number | null = null;
  #exited: Promise<void> | undefined;
  /** Set by terminate()/kill() on a thread, where no real signal exists, to report -N as Python. */
  #signalled: number | undefined;
  /** Pending join() calls: a daemon is unref'd, but Node must stay alive while someone awaits it. */
  #joiners = 0;

  /** Default names count per family, as Python's: Process-N and its subclasses, Thread-N (see thread.ts). */
  protected static readonly nameCounter = { n: 0 };

  constructor(options: ProcessOptions<T> = {}) {
    validateOptions<ProcessOptions<T>>(options, 'options', PROCESS_OPTIONS);
    const { target, args = [] as unknown as TaskArgs<T>, name, daemon = false, backend = 'thread' } = options;
    if (target !== undefined) toTaskSpec(target, 'target');
    if (!Array.isArray(args)) throw invalidType('args', 'an array', args);
    if (name !== undefined && typeof name !== 'string') throw invalidType('name', 'of type string', name);
    if (typeof daemon !== 'boolean') throw invalidType('daemon', 'of type boolean', daemon);
    if (backend !== 'thread' && backend !== 'process') {
      throw invalidValue(`The "backend" option must be 'thread' or 'process'. Received ${String(backend)}`);
    }
    this.#target = target;
    this.#args = args;
    const family = new.target as unknown as { name: string; familyName?: string; nameCounter: { n: number } };
    this.name = name ?? `${family.familyName ?? family.name}-${++family.nameCounter.n}`;
    this.#daemon = daemon;
    this.backend = backend;
  }

  /** A daemon does not keep Node alive, and is stopped when the parent exits. Settable until start(), as in Python. */
  get daemon(): boolean {
    return this.#daemon;
  }

  set daemon(daemon: boolean) {
    if (typeof daemon !== 'boolean') throw invalidType('daemon', 'of type boolean', daemon);
    // The worker was told at start; changing it afterwards would say something untrue.
    if (this.#handle)
      throw new ProcessError(`Process ${this.name} has already started: its daemon flag cannot change`, 'ERR_ALREADY_STARTED');
    this.#daemon = daemon;
  }

  /** Starts the target in a new worker. Twice -> Error code ERR_ALREADY_STARTED. */
  start(): void {
    if (this.#handle)
      throw new ProcessError(
        `Process ${this.name} was already started; a Process can only be started once`,
        'ERR_ALREADY_STARTED',
      );
    refuseWhileImporting(`Process ${this.name}`);
    const { spec, self } = this.#work();
    const transfer: import('node:worker_threads').TransferListItem[] = [];
    const refuse = this.backend === 'process' ? processRefusal : undefined;
    const args = encode(this.#args, transfer, refuse) as unknown[];
    const encodedSelf = self === undefined ? undefined : encode(self, transfer, refuse);
    const handle = spawnWorker(this.backend);
    // A thread hands over the messages it put that were not in their queues yet as it ends: join()
    // returns once this thread has them (see handover.ts).
    const handover = this.backend === 'thread' ? new ChildHandover() : undefined;
    this.#handle = handle;
    alive.add(this);
    installExitHook();
    this.#exited = new Promise<void>((resolve) => {
      handle.onExit((code, signal) => {
        handover?.close();
        alive.delete(this);
        if (this.#signalled !== undefined) this.#exitCode = -this.#signalled;
        else if (signal) this.#exitCode = -(constants.signals[signal] ?? 1);
        else this.#exitCode = code ?? 1;
        resolve();
      });
    });
    handle.onMessage((message) => {
      // What a child process had not delivered as it ended. Otherwise ('ready', 'target-done') the
      // exit code says everything the parent needs.
      if (message.t === 'handed') adopt(message.outboxes);
    });
    try {
      handle.post(
        { t: 'init', name: this.name, role: 'process', daemon: this.daemon, initargs: [], handover: handover?.link },
        handover ? [handover.link.port] : undefined,
      );
      handle.post({ t: 'target', target: spec, args, self: encodedSelf }, transfer);
    } catch (error) {
      handle.kill();
      throw new TypeError(`The arguments of Process ${this.name} could not be sent to it: ${(error as Error).message}`, {
        cause: error,
      });
    }
    if (this.daemon) handle.unref();
  }

  /**
   * What the worker runs: an overridden run() (sent as an inline task, with this instance's own
   * fields as its `this`), else the target.
   */
  #work(): { spec: TaskSpec; self?: Record<string, unknown> } {
    if (this.run !== Process.prototype.run) {
      const source = Function.prototype.toString.call(this.run);
      // Functions among the fields (arrow-function properties) cannot cross; the rest is data.
      // daemon is an accessor (checked when set), not an own field: add it as the field it was.
      const fields = Object.entries(this).filter(([, value]) => typeof value !== 'function');
      const self = { ...Object.fromEntries(fields), daemon: this.#daemon };
      return { spec: { kind: 'inline', source, name: 'run' }, self };
    }
    if (this.#target === undefined) {
      throw invalidType(
        'target',
        'a function, a task() handle or a native kernel: pass a target, or override run() in a subclass',
        undefined,
      );
    }
    return { spec: toTaskSpec(this.#target, 'target') };
  }

  /**
   * Python's run(): calls the target here, in this thread. A subclass overrides it to say what
   * its process does; start() then runs that override in the worker.
   */
  run(): unknown {
    const target = this.#target;
    if (target === undefined) return undefined;
    const args = this.#args;
    return Promise.resolve(localSpec(target, 'target').resolve()).then((fn: AnyFunction) => fn(...args));
  }

  /** Waits for the process to end, or for `timeoutMs` to pass (then it is still alive). */
  async join(timeoutMs?: number): Promise<void> {
    const timeout = validateTimeout(timeoutMs, 'timeoutMs');
    if (!this.#exited) throw new ProcessError(`Process ${this.name} can only be joined after start()`, 'ERR_NOT_STARTED');
    if (this.#exitCode !== null) return;
    if (this.#joiners++ === 0) this.#handle!.ref();
    let cancel: (() => void) | undefined;
    try {
      if (timeout === undefined) await this.#exited;
      else await Promise.race([this.#exited, new Promise<void>((resolve) => (cancel = after(timeout, resolve)))]);
    } finally {
      cancel?.();
      if (--this.#joiners === 0 && this.daemon && this.isAlive()) this.#handle!.unref();
    }
  }

  isAlive(): boolean {
    return this.#handle !== undefined && this.#exitCode === null;
  }

  /** SIGTERM for a child process; a thread is stopped and reports -15 as Python would. */
  terminate(): void {
    this.#stop(15);
  }

  /** SIGKILL for a child process; a thread is stopped and reports -9. */
  kill(): void {
    this.#stop(9);
  }

  #stop(signal: number): void {
    if (!this.isAlive()) return;
    if (this.backend === 'thread') {
      this.#signalled ??= signal;
      this.#handle!.terminate();
    } else if (signal === 9) this.#handle!.kill();
    else this.#handle!.terminate();
  }

  /** null while running (or before start); 0 ok; 1 uncaught error; -N after signal N. */
  get exitCode(): number | null {
    return this.#exitCode;
  }

  /** OS process id once started (a thread Process shares its parent's). */
  get pid(): number | undefined {
    return this.#handle?.pid;
  }

  /** worker_threads id of a thread Process. */
  get threadId(): number | undefined {
    return this.#handle?.threadId;
  }

  get [Symbol.toStringTag](): string {
    return 'Process';
  }

  /** `console.log(p)` shows name, state and exit code, as Python's repr does. */
  [Symbol.for('nodejs.util.inspect.custom')](): string {
    const state = this.#exitCode !== null ? `exitcode=${this.#exitCode}` : this.#handle ? 'started' : 'initial';
    return `<${this[Symbol.toStringTag]} name='${this.name}' ${state}${this.daemon ? ' daemon' : ''}>`;
  }
}
