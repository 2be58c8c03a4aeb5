/**
 * `backend: 'thread'` and `backend: 'process'`: JavaScript tasks on worker_threads or child
 * processes, one implementation over the WorkerHandle interface.
 *
 * Dispatch is adaptive. Until a task's cost is known, jobs go out one per message and one per
 * worker, so slow tasks balance like Python's pool. Once a task is known to be cheap, many jobs
 * travel in one message and each worker holds two messages at a time, so the round trip is paid
 * once per batch instead of once per task (the overhead piscina pays per task).
 *
 * Crash safety: every job sent to a worker is remembered until its result returns. When a worker
 * exits, is killed or runs out of memory, the job it was running rejects with WorkerCrashedError,
 * the jobs it had not started go to the other workers, and a replacement starts. (A worker killed
 * by a signal or by running out of memory cannot say which job of its batch was running: that
 * whole batch fails.)
 */
import type { ResourceLimits, TransferListItem } from 'node:worker_threads';

import { PoolTerminatedError, WorkerCrashedError } from '../../errors.js';
import { ChildHandover } from '../../shm/handover.js';
import { describeTask, type TaskSpec } from '../../task.js';
import { decode, encode, refuseForProcess } from '../../reduction/transfer.js';
import { deserializeError, type FromWorker, type Job, type JobResult, type SerializedError } from '../../worker/protocol.js';
import { spawnWorker, type WorkerHandle, type WorkerKind } from '../../worker/spawn.js';
import type { Backend, BackendOptions, Batch } from '../backend.js';

interface PendingJob {
  job: Job;
  spec: TaskSpec;
  resolve: (value: unknown) => void;
  reject: (error: unknown) => void;
  transfer: TransferListItem[];
  single: boolean;
  message?: number;
  /** The operation it belongs to, for cancel(). */
  op?: object;
  /** Times this job went back to the queue because the worker holding it died before starting it. */
  retries?: number;
}

const NO_TRANSFER: TransferListItem[] = [];

interface Slot {
  readonly handle: WorkerHandle;
  readonly name: string;
  readonly inFlight: Map<number, PendingJob>;
  /** Jobs still unsettled per message sent, to count messages in flight. */
  readonly messages: Map<number, number>;
  readonly knownSpecs: Set<number>;
  /** A thread worker hands what its tasks put and it could not deliver yet over to this thread. */
  readonly handover: ChildHandover | undefined;
  /** Jobs assigned so far, for maxtasksperchild (a chunk counts as one task, as in Python). */
  assigned: number;
  ready: boolean;
  /** Set when this worker must take no more work (maxtasksperchild reached, or stopping). */
  retiring: boolean;
  startupError?: unknown;
  /** The pool asked this worker to end (an exit before it was ready is then no failed start). */
  stopped?: boolean;
  /** What the worker said as it exited: the job it was running (its finished ones are settled). */
  exitReport?: { running: number | undefined };
  /** The uncaught error the worker reported as it exited (a child process has no 'error' event). */
  exitError?: unknown;
}

/** Per task: mean job time in ms (EWMA), undefined until a first result returns. */
interface TaskStats {
  meanMs: number | undefined;
}

const SERIAL = { batch: 1, prefetch: 1 } as const;
const PIPELINED = { batch: 1, prefetch: 2 } as const;
const LONG_MS = 50;
const CHEAP_MS = 0.25;
const MEDIUM_MS = 2;
const MAX_BATCH = 512;
/** A job whose worker keeps dying before it starts fails after this many moves (no endless respawning). */
const MAX_RETRIES = 3;

let workerNames = 0;
let messageIds = 0;

/** One task id per distinct task, shared by all pools, so a worker compiles each task once. */
const taskIds = new Map<string, number>();
const taskIdBySpec = new WeakMap<TaskSpec, number>();
function taskKey(spec: TaskSpec): string {
  switch (spec.kind) {
    case 'inline':
      return `inline:${spec.name}:${spec.source}`;
    case 'module':
      return `module:${spec.url}#${spec.exportName}`;
    case 'kernel':
      return `kernel:${spec.name}`;
  }
}
function taskIdOf(spec: TaskSpec): number {
  let id = taskIdBySpec.get(spec);
  if (id !== undefined) return id;
  const key = taskKey(spec);
  id = taskIds.get(key);
  if (id === undefined) {
    id = taskIds.size + 1;
    taskIds.set(key, id);
  }
  taskIdBySpec.set(spec, id);
  return id;
}

export interface WorkerBackendOptions extends BackendOptions {
  resourceLimits?: ResourceLimits;
}

export class WorkerBackend implements Backend {
  readonly kind: WorkerKind;
  readonly #options: WorkerBackendOptions;
  readonly #slots = new Set<Slot>();
  readonly #queue: PendingJob[] = [];
  readonly #stats = new Map<number, TaskStats>();
  #state: 'running' | 'draining' | 'terminated' = 'running';
  #nextJobId = 0;
  /** A worker failed to start (initializer error): no respawning until new work arrives. */
  #failing = false;
  #idleWaiters: (() => void)[] = [];

  constructor(kind: WorkerKind, options: WorkerBackendOptions) {
    this.kind = kind;
    this.#options = options;
    // Start every worker now, as Python does, so the first map does not pay the start-up.
    for (let i = 0; i < options.processes; i++) this.#spawn();
  }

  check(_spec: TaskSpec): void {
    // Every kind of task runs here: inline functions, module tasks and native kernels.
  }

  run(spec: TaskSpec, batch: Batch): Promise<unknown[]> {
    if (this.#state === 'terminated') return Promise.reject(new PoolTerminatedError());
    let transfer = NO_TRANSFER;
    let items: unknown[];
    try {
      const collected: TransferListItem[] = [];
      items = encode(batch.items, collected, this.kind === 'process' ? refuseForProcess : undefined) as unknown[];
      if (collected.length > 0) transfer = collected;
    } catch (error) {
      return Promise.reject(error);
    }
    const sid = taskIdOf(spec);
    if (this.#failing) {
      this.#failing = false;
      this.#replenish();
    }
    return new Promise<unknown[]>((resolve, reject) => {
      this.#queue.push({
        job: { id: ++this.#nextJobId, sid, items, star: batch.star },
        spec,
        resolve: resolve as (value: unknown) => void,
        reject,
        transfer,
        single: batch.single === true,
        op: batch.op,
      });
      this.#dispatch();
    });
  }

  #live(): Slot[] {
    return [...this.#slots].filter((slot) => !slot.retiring);
  }

  #spawn(): Slot {
    const handle = spawnWorker(this.kind, { resourceLimits: this.#options.resourceLimits });
    const handover = this.kind === 'thread' ? new ChildHandover() : undefined;
    const slot: Slot = {
      handle,
      name: `PoolWorker-${++workerNames}`,
      inFlight: new Map(),
      messages: new Map(),
      knownSpecs: new Set(),
      handover,
      assigned: 0,
      ready: false,
      retiring: false,
    };
    this.#slots.add(slot);
    handle.onMessage((message) => this.#onMessage(slot, message));
    handle.onExit((exitCode, signal, error) => this.#onExit(slot, exitCode, signal, error));
    try {
      handle.post(
        {
          t: 'init',
          name: slot.name,
          role: 'pool',
          initializer: this.#options.initializer,
          initargs: encode(this.#options.initargs, [], this.kind === 'process' ? refuseForProcess : undefined) as unknown[],
          handover: handover?.link,
        },
        handover ? [handover.link.port] : undefined,
      );
    } catch (error) {
      slot.startupError = error;
      slot.retiring = true;
      handle.terminate();
    }
    handle.unref();
    return slot;
  }

  /**
   * How many jobs to put in one message, and how many messages a worker may hold. Holding a
   * second message hides the round trip between two tasks; it is only worth its cost at the tail
   * (a worker sitting on a queued task while another idles) when tasks are short, so long and
   * unknown tasks go out strictly one at a time, as in Python.
   */
  #policy(sid: number, workers: number): { batch: number; prefetch: number } {
    const mean = this.#stats.get(sid)?.meanMs;
    if (mean === undefined || mean >= LONG_MS) return SERIAL;
    if (mean >= MEDIUM_MS) return PIPELINED;
    const share = Math.ceil(this.#queue.length / Math.max(1, workers));
    if (mean >= CHEAP_MS) return { batch: Math.min(16, share), prefetch: 2 };
    return { batch: Math.min(MAX_BATCH, share), prefetch: 2 };
  }

  #dispatch(): void {
    if (this.#state === 'terminated') return;
    if (this.#queue.length === 0) {
      this.#maybeIdle();
      return;
    }
    const live = this.#live();
    while (this.#queue.length > 0) {
      let sent = false;
      for (const slot of live) {
        if (this.#queue.length === 0) break;
        if (slot.retiring) continue;
        const { batch, prefetch } = this.#policy(this.#queue[0]!.job.sid, live.length);
        if (slot.messages.size >= prefetch) continue;
        const max = this.#options.maxtasksperchild;
        const room = max === undefined ? batch : Math.min(batch, max - slot.assigned);
        if (room <= 0) continue;
        this.#send(slot, this.#takeBatch(room));
        sent = true;
      }
      if (!sent) break;
    }
    this.#maybeIdle();
  }

  /**
   * Up to `room` queued jobs of one task. A message never mixes tasks, so a crash inside a batch
   * can only fail jobs of the task that was running, never another map's.
   */
  #takeBatch(room: number): PendingJob[] {
    const sid = this.#queue[0]!.job.sid;
    let n = 1;
    while (n < room && n < this.#queue.length && this.#queue[n]!.job.sid === sid) n++;
    return this.#queue.splice(0, n);
  }

  #send(slot: Slot, pending: PendingJob[]): void {
    const message = ++messageIds;
    const newSpecs: [number, TaskSpec][] = [];
    for (const p of pending) {
      if (!slot.knownSpecs.has(p.job.sid) && !newSpecs.some(([sid]) => sid === p.job.sid)) {
        newSpecs.push([p.job.sid, p.spec]);
      }
    }
    try {
      slot.handle.post(
        { t: 'run', specs: newSpecs.length > 0 ? newSpecs : undefined, jobs: pending.map((p) => p.job) },
        pending.flatMap((p) => p.transfer),
      );
    } catch (error) {
      if (pending.length > 1) {
        // Find the job(s) that cannot be cloned; the others go out one by one.
        for (const p of pending) this.#send(slot, [p]);
      } else {
        pending[0]!.reject(unsendable(error, pending[0]!.spec));
      }
      return;
    }
    for (const [sid] of newSpecs) slot.knownSpecs.add(sid);
    slot.messages.set(message, pending.length);
    for (const p of pending) {
      p.message = message;
      slot.inFlight.set(p.job.id, p);
    }
    slot.assigned += pending.length;
    if (this.#options.maxtasksperchild !== undefined && slot.assigned >= this.#options.maxtasksperchild) {
      slot.retiring = true;
      this.#spawn();
    }
    slot.handle.ref();
  }

  #onMessage(slot: Slot, message: FromWorker): void {
    switch (message.t) {
      case 'ready':
        slot.ready = true;
        return;
      case 'startup-error':
        slot.startupError = deserializeError(message.error);
        slot.retiring = true;
        slot.handle.terminate();
        return;
      case 'done':
        this.#settle(slot, message.results, message.ms);
        return;
      case 'exiting':
        slot.retiring = true;
        if (message.error) slot.exitError = deserializeError(message.error);
        if (message.results) {
          slot.exitReport = { running: message.running };
          this.#settle(slot, message.results);
        }
        return;
      default:
        return;
    }
  }

  #settle(slot: Slot, results: JobResult[], ms?: number): void {
    if (results.length > 0 && ms !== undefined) {
      const first = slot.inFlight.get(results[0]!.id);
      if (first) {
        const stats = this.#stats.get(first.job.sid) ?? { meanMs: undefined };
        const perJob = ms / results.length;
        stats.meanMs = stats.meanMs === undefined ? perJob : stats.meanMs * 0.7 + perJob * 0.3;
        this.#stats.set(first.job.sid, stats);
      }
    }
    for (const result of results) {
      const pending = slot.inFlight.get(result.id);
      if (!pending) continue;
      forget(slot, pending);
      if (result.ok) {
        try {
          const values = decode(result.value) as unknown[];
          pending.resolve(pending.single ? values[0] : values);
        } catch (error) {
          pending.reject(error);
        }
      } else pending.reject(deserializeError(result.value as SerializedError));
    }
    if (slot.inFlight.size === 0) {
      slot.handle.unref();
      if (slot.retiring) this.#stop(slot);
    }
    this.#dispatch();
  }

  /**
   * The operation `op` was aborted: its queued jobs are dropped; a worker running one of its jobs
   * is terminated and replaced (its other jobs go back to the queue, as after a crash); a job a
   * worker holds but has not started is forgotten, and its result dropped when it comes.
   */
  cancel(op: object, reason: Error): void {
    for (let i = this.#queue.length - 1; i >= 0; i--) {
      if (this.#queue[i]!.op === op) this.#queue.splice(i, 1)[0]!.reject(reason);
    }
    for (const slot of this.#slots) {
      const held = [...slot.inFlight.values()];
      const hit = held.filter((p) => p.op === op);
      if (hit.length === 0) continue;
      // A worker runs its messages in order: the oldest unsettled one is running.
      const running = Math.min(...held.map((p) => p.message!));
      for (const p of hit) {
        forget(slot, p);
        p.reject(reason);
      }
      if (!hit.some((p) => p.message === running)) continue;
      const others = [...slot.inFlight.values()];
      slot.inFlight.clear();
      slot.messages.clear();
      for (const p of others) {
        if (p.transfer.length === 0) this.#queue.unshift(p);
        else p.reject(reason);
      }
      slot.retiring = true;
      slot.stopped = true;
      slot.handle.terminate();
    }
    this.#queue.sort((a, b) => a.job.id - b.job.id);
    this.#replenish();
    this.#dispatch();
  }

  /**
   * Stops an idle worker once it has handed over the messages its tasks put that are not in their
   * queues yet (`handover.ts`): terminating it would lose them.
   */
  #stop(slot: Slot, how: 'stop' | 'terminate' = 'stop'): void {
    // Asked to end: an exit before it was ready is not a failed start.
    slot.stopped = true;
    const end = () => (how === 'stop' ? slot.handle.stop() : slot.handle.terminate());
    if (slot.handover) void slot.handover.request().then(end);
    else end();
  }

  #onExit(slot: Slot, exitCode: number | null, signal: NodeJS.Signals | null, error: unknown): void {
    // What it left undelivered as it exited (process.exit or an uncaught error in a task).
    slot.handover?.close();
    this.#slots.delete(slot);
    const held = [...slot.inFlight.values()];
    slot.inFlight.clear();
    if (this.#state === 'terminated') return;
    if (!slot.ready && slot.startupError === undefined && !slot.stopped) {
      slot.startupError = this.#couldNotStart(slot, exitCode, signal, error ?? slot.exitError);
    }
    if (slot.startupError !== undefined && !slot.ready) {
      // The initializer (or the worker's start) failed: what was sent to it fails with that error.
      for (const p of held) p.reject(slot.startupError);
      // Without one healthy start, a replacement would fail the same way: fail the queue too.
      if (![...this.#slots].some((s) => s.ready)) {
        for (const p of this.#queue.splice(0)) p.reject(slot.startupError);
      }
    } else {
      // Only the job the worker was running fails. If it said which one as it exited, that is
      // exact. If it could not (a signal, out of memory), the oldest unsettled message is the
      // batch it was running, since a worker runs its messages strictly in order, and that whole
      // batch fails. Every other job had not started: it goes back to the front of the queue
      // (unless it carried transferred buffers, now detached).
      const report = slot.exitReport;
      const runningMessage = Math.min(...held.map((p) => p.message!));
      const retry: PendingJob[] = [];
      for (const p of held) {
        const started = report ? p.job.id === report.running : p.message === runningMessage;
        p.retries = (p.retries ?? 0) + 1;
        if (!started && p.retries <= MAX_RETRIES && p.transfer.length === 0) retry.push(p);
        else p.reject(crashed(slot, p.spec, exitCode, signal, error ?? slot.exitError));
      }
      if (retry.length > 0) this.#queue.unshift(...retry.sort((a, b) => a.job.id - b.job.id));
    }
    if (slot.startupError !== undefined && !slot.ready) {
      // Do not respawn in a loop on an initializer that always fails; run() starts workers again.
      this.#failing = true;
    } else {
      this.#replenish();
    }
    this.#dispatch();
  }

  /**
   * A worker died before it could even say it was ready (a heap limit too small to load the
   * worker, flags it cannot run with, an initializer that exits): a replacement would die the same
   * way, so this is a failed start, as a throwing initializer is.
   */
  #couldNotStart(slot: Slot, exitCode: number | null, signal: NodeJS.Signals | null, error: unknown): WorkerCrashedError {
    const hint = this.#options.resourceLimits ? ' (are its resourceLimits too small?)' : '';
    return new WorkerCrashedError(
      `${workerLabel(slot)} could not start: it ${howItEnded(exitCode, signal)} before it was ready${why(error)}${hint}`,
      { exitCode, signal },
      causeOf(error),
    );
  }

  /** Keeps `processes` workers alive while running (and at least one while draining with work). */
  #replenish(): void {
    if (this.#state === 'running') {
      while (this.#live().length < this.#options.processes) this.#spawn();
    } else if (this.#state === 'draining' && this.#queue.length > 0 && this.#live().length === 0) {
      this.#spawn();
    }
  }

  #busy(): boolean {
    if (this.#queue.length > 0) return true;
    for (const slot of this.#slots) if (slot.inFlight.size > 0) return true;
    return false;
  }

  #maybeIdle(): void {
    if (this.#busy() || this.#idleWaiters.length === 0) return;
    const waiters = this.#idleWaiters;
    this.#idleWaiters = [];
    for (const wake of waiters) wake();
  }

  async drain(): Promise<void> {
    if (this.#state === 'running') this.#state = 'draining';
    if (this.#busy()) await new Promise<void>((resolve) => this.#idleWaiters.push(resolve));
    const slots = [...this.#slots];
    for (const slot of slots) {
      slot.retiring = true;
      this.#stop(slot);
    }
    await Promise.all(slots.map((slot) => slot.handle.exited));
  }

  async terminate(): Promise<void> {
    this.#state = 'terminated';
    const error = new PoolTerminatedError();
    for (const p of this.#queue.splice(0)) p.reject(error);
    const slots = [...this.#slots];
    for (const slot of slots) {
      // A worker that finished its tasks keeps what they put; one still running loses it, as in Python.
      const idle = slot.inFlight.size === 0;
      for (const p of slot.inFlight.values()) p.reject(error);
      slot.inFlight.clear();
      slot.retiring = true;
      if (idle) this.#stop(slot, 'terminate');
      else slot.handle.terminate();
    }
    await Promise.all(slots.map((slot) => slot.handle.exited));
    this.#maybeIdle();
  }
}

/** `pending` leaves its worker's books (settled, or abandoned by cancel()). */
function forget(slot: Slot, pending: PendingJob): void {
  slot.inFlight.delete(pending.job.id);
  const left = (slot.messages.get(pending.message!) ?? 1) - 1;
  if (left <= 0) slot.messages.delete(pending.message!);
  else slot.messages.set(pending.message!, left);
}

function crashed(slot: Slot, spec: TaskSpec, exitCode: number | null, signal: NodeJS.Signals | null, error: unknown): WorkerCrashedError {
  return new WorkerCrashedError(
    `${workerLabel(slot)} ${howItEnded(exitCode, signal)} while running ${describeTask(spec)}${why(error)}`,
    { exitCode, signal },
    causeOf(error),
  );
}

function workerLabel(slot: Slot): string {
  return `Worker ${slot.name} (${slot.handle.kind}${slot.handle.pid ? `, pid ${slot.handle.pid}` : ''})`;
}

function howItEnded(exitCode: number | null, signal: NodeJS.Signals | null): string {
  return signal ? `was killed by ${signal}` : `exited with code ${exitCode}`;
}

function why(error: unknown): string {
  return error instanceof Error ? `: ${error.message}` : '';
}

function causeOf(error: unknown): ErrorOptions | undefined {
  return error instanceof Error ? { cause: error } : undefined;
}

function unsendable(error: unknown, spec: TaskSpec): TypeError {
  const message = error instanceof Error ? error.message : String(error);
  return new TypeError(
    `The arguments of ${describeTask(spec)} could not be sent to the worker (${message}). ` +
      `Arguments must be structured-cloneable: plain data, arrays, Maps, Sets, typed arrays, Errors; not functions or class instances with private state.`,
    { cause: error },
  );
}
