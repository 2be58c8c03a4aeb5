/**
 * `backend: 'thread'` and `backend: 'process'`: JavaScript tasks on worker_threads or child
 * processes, one implementation over the WorkerHandle interface.
 *
 * Dispatch is adaptive (`dispatch.ts`). Until a task's cost is known, jobs go out one per message
 * and one per worker, so slow tasks balance like Python's pool. Once a task is known to be cheap,
 * many jobs travel in one message and each worker holds two messages at a time, so the round trip
 * is paid once per batch instead of once per task (the overhead piscina pays per task). A map
 * with no chunksize is divisible (`split.ts`): it is cut into slices sized from the measured cost.
 * Jobs submitted in one tick are dispatched together, at the end of that tick.
 *
 * Crash safety: every job sent to a worker is remembered until its result returns. When a worker
 * exits, is killed or runs out of memory, the job it was running rejects with WorkerCrashedError,
 * the jobs it had not started go to the other workers, and a replacement starts. (A worker killed
 * by a signal or by running out of memory cannot say which job of its batch was running: that
 * whole batch fails.)
 */
import type { ResourceLimits, TransferListItem } from 'node:worker_threads';

import { PoolTerminatedError, WorkerCrashedError } from '../../errors.js';
import { ChildHandover, adopt } from '../../shm/handover.js';
import { describeTask, type TaskSpec } from '../../task.js';
import { decode, encode, hasShared } from '../../reduction/transfer.js';
import { processRefusal } from '../../shm/memory.js';
import { deserializeError, type FromWorker, type JobResults, type SerializedError } from '../../worker/protocol.js';
import { packNumbers, unpackNumbers } from '../../worker/numbers.js';
import { spawnWorker, type WorkerHandle, type WorkerKind } from '../../worker/spawn.js';
import { type Backend, type BackendOptions, type Batch, kReject, kResolve, type Sink } from '../backend.js';
import { CostTable, JobQueue, type PendingJob, type Shape, taskIdOf } from './dispatch.js';
import { SpareNumbers, SplitSource } from './split.js';

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
  /** The worker is delivering what its tasks put (entry.ts): it keeps Node alive until done. */
  holding?: boolean;
  startupError?: unknown;
  /** The pool asked this worker to end (an exit before it was ready is then no failed start). */
  stopped?: boolean;
  /** What the worker said as it exited: the job it was running (its finished ones are settled). */
  exitReport?: { running: number | undefined };
  /** The uncaught error the worker reported as it exited (a child process has no 'error' event). */
  exitError?: unknown;
}

/** A job whose worker keeps dying before it starts fails after this many moves (no endless respawning). */
const MAX_RETRIES = 3;

let workerNames = 0;
let messageIds = 0;

export interface WorkerBackendOptions extends BackendOptions {
  resourceLimits?: ResourceLimits;
}

export class WorkerBackend implements Backend {
  readonly kind: WorkerKind;
  readonly splits = true;
  readonly #options: WorkerBackendOptions;
  readonly #slots = new Set<Slot>();
  readonly #queue = new JobQueue();
  /** Divisible maps with calls not yet handed out, oldest first. */
  #sources: SplitSource[] = [];
  /** Threads only: shared memory does not reach a child process. */
  readonly #spare: SpareNumbers | undefined;
  readonly #costs = new CostTable();
  #dispatchQueued = false;
  #state: 'running' | 'draining' | 'terminated' = 'running';
  #nextJobId = 0;
  /** A worker failed to start (initializer error): no respawning until new work arrives. */
  #failing = false;
  #idleWaiters: (() => void)[] = [];

  constructor(kind: WorkerKind, options: WorkerBackendOptions) {
    this.kind = kind;
    this.#options = options;
    this.#spare = kind === 'thread' ? new SpareNumbers() : undefined;
    // Start every worker now, as Python does, so the first map does not pay the start-up.
    for (let i = 0; i < options.processes; i++) this.#spawn();
  }

  check(_spec: TaskSpec): void {
    // Every kind of task runs here: inline functions, module tasks and native kernels.
  }

  run(spec: TaskSpec, batch: Batch): Promise<unknown[]> {
    return new Promise<unknown[]>((resolve, reject) =>
      this.submit(spec, batch, { [kResolve]: resolve as Sink[typeof kResolve], [kReject]: reject }),
    );
  }

  /** Like run(), settling `sink` rather than a promise of its own (applyAsync's hot path). */
  submit(spec: TaskSpec, batch: Batch, sink: Sink): void {
    if (this.#state === 'terminated') return sink[kReject](new PoolTerminatedError());
    const sid = taskIdOf(spec);
    const forProcess = this.kind === 'process';
    if (batch.split) {
      this.#sources.push(new SplitSource(++this.#nextJobId, sid, spec, batch, forProcess, sink, this.#spare));
    } else {
      const transfer: TransferListItem[] = [];
      const single = batch.single === true;
      const calls = single ? batch.items[0] : (!batch.star && packNumbers(batch.items)) || batch.items;
      let items: unknown;
      try {
        items = encode(calls, transfer, forProcess ? processRefusal : undefined);
      } catch (error) {
        return sink[kReject](error);
      }
      const shared = hasShared(items);
      if (!shared) items = decode(items);
      const { star, op } = batch;
      // Every field set here, so all jobs share one shape (no property added later).
      this.#queue.push({
        id: ++this.#nextJobId,
        sid,
        items,
        shared,
        count: batch.items.length,
        star,
        spec,
        sink,
        transfer: transfer.length > 0 ? transfer : NO_TRANSFER,
        single,
        packed: false,
        message: 0,
        op,
        retries: 0,
      });
    }
    if (this.#failing) {
      this.#failing = false;
      this.#replenish();
    }
    this.#scheduleDispatch();
  }

  /** Everything submitted in this tick goes out together, in as few messages as its cost allows. */
  #scheduleDispatch(): void {
    if (this.#dispatchQueued) return;
    this.#dispatchQueued = true;
    queueMicrotask(this.#dispatchNow);
  }

  readonly #dispatchNow = (): void => {
    this.#dispatchQueued = false;
    this.#dispatch();
  };

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
          initargs: encode(this.#options.initargs, [], this.kind === 'process' ? processRefusal : undefined) as unknown[],
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

  #hasWork(): boolean {
    return this.#queue.length > 0 || this.#sources.length > 0;
  }

  #dispatch(): void {
    if (this.#state === 'terminated') return;
    const live = this.#live();
    for (let sent = true; sent && this.#hasWork(); ) {
      sent = false;
      for (const slot of live) {
        const jobs = this.#hasWork() ? this.#nextFor(slot, live.length) : undefined;
        if (!jobs) continue;
        this.#send(slot, jobs);
        sent = true;
      }
    }
    this.#maybeIdle();
  }

  /** What `slot` takes next, if it has room: the oldest work first, a queued batch or a slice. */
  #nextFor(slot: Slot, workers: number): PendingJob[] | undefined {
    const max = this.#options.maxtasksperchild;
    const allowed = max === undefined ? Number.POSITIVE_INFINITY : max - slot.assigned;
    if (slot.retiring || allowed <= 0) return undefined;
    const source = this.#sources[0];
    const head = this.#queue.at(0);
    if (source && (!head || source.id < head.id)) {
      const shape = this.#costs.slice(source.sid, source.left, workers);
      if (!this.#hasRoom(slot, shape)) return undefined;
      const job = source.cut(shape, ++this.#nextJobId);
      if (source.left === 0) this.#sources.shift();
      return job ? [job] : this.#hasWork() ? this.#nextFor(slot, workers) : undefined;
    }
    if (!head) return undefined;
    const shape = this.#costs.shape(head.sid, head.count, this.#queue.length, workers);
    return this.#hasRoom(slot, shape) ? this.#takeBatch(Math.min(shape.batch, allowed)) : undefined;
  }

  #hasRoom(slot: Slot, shape: Shape): boolean {
    return slot.messages.size < shape.prefetch;
  }

  /**
   * Up to `room` queued jobs of one task and calling convention. A message never mixes tasks, so
   * a crash inside a batch can only fail jobs of the task that was running, never another map's.
   * A slice of a divisible map (back in the queue after a crash) goes alone, as when it was cut:
   * its worker may write its results over its calls (split.ts), so it must never run again once
   * started, as a batch-mate's cancel() would have it (the batch that was running is requeued).
   */
  #takeBatch(room: number): PendingJob[] {
    const first = this.#queue.at(0)!;
    let n = 1;
    const alike = (next: PendingJob | undefined) =>
      next?.sid === first.sid && next.star === first.star && next.single === first.single && !first.packed && !next.packed;
    while (n < room && alike(this.#queue.at(n))) n++;
    return this.#queue.take(n);
  }

  #send(slot: Slot, pending: PendingJob[]): void {
    const message = ++messageIds;
    const { sid, spec, star, single } = pending[0]!;
    const specs: [number, TaskSpec][] | undefined = slot.knownSpecs.has(sid) ? undefined : [[sid, spec]];
    const transfer = pending.some((p) => p.transfer.length > 0) ? pending.flatMap((p) => p.transfer) : undefined;
    try {
      // Plain lists go as they are (fewer objects to clone); with a shared object among them, all encoded.
      const shared = pending.some((p) => p.shared);
      const lists = pending.map((p) => (shared && !p.shared ? encode(p.items, []) : p.items));
      slot.handle.post({ t: 'run', specs, sid, star, single, ids: pending.map((p) => p.id), lists, shared }, transfer);
    } catch (error) {
      if (pending.length > 1) {
        // Find the job(s) that cannot be cloned; the others go out one by one.
        for (const p of pending) this.#send(slot, [p]);
      } else {
        pending[0]!.sink[kReject](unsendable(error, spec));
      }
      return;
    }
    slot.knownSpecs.add(sid);
    slot.messages.set(message, pending.length);
    for (const p of pending) {
      p.message = message;
      slot.inFlight.set(p.id, p);
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
        this.#settle(slot, message, message.ms);
        return;
      case 'handed':
        adopt(message.outboxes);
        return;
      case 'holding':
        slot.holding = true;
        slot.handle.ref();
        return;
      case 'delivered':
        slot.holding = false;
        // (Not once asked to stop: whoever stopped it awaits its exit, which must keep Node alive.)
        if (slot.inFlight.size === 0 && !slot.stopped) slot.handle.unref();
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

  #settle(slot: Slot, results: JobResults, ms?: number): void {
    const failed = results.failed ? new Set(results.failed) : undefined;
    let calls = 0;
    let sid: number | undefined;
    for (let i = 0; i < results.ids.length; i++) {
      const pending = slot.inFlight.get(results.ids[i]!);
      if (!pending) continue;
      calls += pending.count;
      sid = pending.sid;
      forget(slot, pending);
      const value = results.values[i];
      if (failed?.has(i)) {
        pending.sink[kReject](deserializeError(value as SerializedError));
        continue;
      }
      try {
        const values = results.shared ? decode(value) : value;
        if (results.single) pending.sink[kResolve](values);
        else pending.sink[kResolve](pending.packed ? values : unpackNumbers(values as ArrayLike<unknown>));
      } catch (error) {
        pending.sink[kReject](error);
      }
    }
    if (ms !== undefined && sid !== undefined) this.#costs.record(sid, ms, calls);
    // A result's callback may have terminated the pool: then every worker is being stopped already.
    if (this.#state === 'terminated') return;
    if (slot.inFlight.size === 0) {
      if (!slot.holding) slot.handle.unref();
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
    for (const p of this.#queue.remove((p) => p.op === op)) p.sink[kReject](reason);
    this.#abandonSources(reason, op);
    for (const slot of this.#slots) {
      const held = [...slot.inFlight.values()];
      const hit = held.filter((p) => p.op === op);
      if (hit.length === 0) continue;
      // A worker runs its messages in order: the oldest unsettled one is running.
      const running = Math.min(...held.map((p) => p.message!));
      for (const p of hit) {
        forget(slot, p);
        p.sink[kReject](reason);
      }
      if (!hit.some((p) => p.message === running)) continue;
      const others = [...slot.inFlight.values()];
      slot.inFlight.clear();
      slot.messages.clear();
      this.#queue.unshift(others.filter((p) => p.transfer.length === 0));
      for (const p of others) if (p.transfer.length > 0) p.sink[kReject](reason);
      slot.retiring = true;
      slot.stopped = true;
      slot.handle.terminate();
    }
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
      for (const p of held) p.sink[kReject](slot.startupError);
      // Without one healthy start, a replacement would fail the same way: fail the queue too.
      if (![...this.#slots].some((s) => s.ready)) {
        for (const p of this.#queue.remove()) p.sink[kReject](slot.startupError);
        this.#abandonSources(slot.startupError);
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
        const started = report ? p.id === report.running : p.message === runningMessage;
        p.retries++;
        if (!started && p.retries <= MAX_RETRIES && p.transfer.length === 0) retry.push(p);
        else p.sink[kReject](crashed(slot, p.spec, exitCode, signal, error ?? slot.exitError));
      }
      if (retry.length > 0) this.#queue.unshift(retry);
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
    } else if (this.#state === 'draining' && this.#hasWork() && this.#live().length === 0) {
      this.#spawn();
    }
  }

  /** Divisible maps (all, or those of `op`) reject with `error` and hand out no more slices. */
  #abandonSources(error: unknown, op?: object): void {
    const hit = op === undefined ? this.#sources : this.#sources.filter((source) => source.op === op);
    for (const source of hit) source.abandon(error);
    this.#sources = this.#sources.filter((source) => source.left > 0);
  }

  #busy(): boolean {
    if (this.#hasWork()) return true;
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
    this.#spare?.clear();
    const slots = [...this.#slots];
    for (const slot of slots) {
      slot.retiring = true;
      this.#stop(slot);
    }
    await Promise.all(slots.map((slot) => slot.handle.exited));
  }

  async terminate(): Promise<void> {
    this.#state = 'terminated';
    this.#spare?.clear();
    const error = new PoolTerminatedError();
    for (const p of this.#queue.remove()) p.sink[kReject](error);
    this.#abandonSources(error);
    const slots = [...this.#slots];
    for (const slot of slots) {
      // A worker that finished its tasks keeps what they put; one still running loses it, as in Python.
      const idle = slot.inFlight.size === 0;
      for (const p of slot.inFlight.values()) p.sink[kReject](error);
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
  slot.inFlight.delete(pending.id);
  const left = (slot.messages.get(pending.message!) ?? 1) - 1;
  if (left <= 0) slot.messages.delete(pending.message!);
  else slot.messages.set(pending.message!, left);
}

function crashed(
  slot: Slot,
  spec: TaskSpec,
  exitCode: number | null,
  signal: NodeJS.Signals | null,
  error: unknown,
): WorkerCrashedError {
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
