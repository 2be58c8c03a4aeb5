/**
 * The one interface every Pool backend implements (as tinypool puts threads and processes behind
 * one worker interface). The Pool owns the Python semantics (state, chunking, ordering, callbacks);
 * a backend only runs batches of calls and manages its workers.
 */
import type { AnyFunction, TaskSpec } from '../task.js';

export type BackendKind = 'thread' | 'process' | 'native' | 'async' | 'cluster';

/** A function run where it is (the async backend): by reference, closures and all. */
export interface LocalSpec {
  kind: 'local';
  name: string;
  /** Resolves the function (a task() handle's module is imported on first use). */
  resolve: () => AnyFunction | Promise<AnyFunction>;
}

export type RunnableSpec = TaskSpec | LocalSpec;

export interface BackendOptions {
  processes: number;
  initializer?: TaskSpec;
  initargs: unknown[];
  maxtasksperchild?: number;
}

export const kResolve: unique symbol = Symbol('napi-multiprocessing.resolve') as never;
export const kReject: unique symbol = Symbol('napi-multiprocessing.reject') as never;

/**
 * Where a batch's outcome goes when no promise of its own is wanted (`submit`): an AsyncResult
 * settles itself this way, saving a promise and its handlers per task. Symbol-keyed, so no
 * public method of AsyncResult can settle it.
 */
export interface Sink {
  [kResolve](value: unknown): void;
  [kReject](error: unknown): void;
}

/** One unit of work: single arguments, or argument tuples when `star` (apply, starmap). */
export interface Batch {
  items: unknown[];
  star: boolean;
  /** One call whose promise resolves with the value itself rather than a one-element array. */
  single?: boolean;
  /** The operation this batch belongs to, for `cancel()` when its AbortSignal fires. */
  op?: object;
  /**
   * The backend may run the items as several jobs of any sizes it likes (map with no chunksize:
   * sized from measured cost); the results still come back as one array in order. Only sent to
   * a backend whose `splits` is true.
   */
  split?: boolean;
  /**
   * With `split`: `items` is the caller's own array, lent rather than copied (a big map of numbers
   * is then copied once, into what the backend sends from). The backend reads it before run()
   * returns, copies what it keeps, and never writes to it.
   */
  lent?: boolean;
}

export interface Backend {
  readonly kind: BackendKind;
  /**
   * Rejects a task this backend cannot run, synchronously, with a TypeError that says why (for
   * example a JS function given to the native backend).
   */
  check(spec: RunnableSpec): void;
  /** Whether this backend accepts `split` batches; without it, the pool fixes the chunks itself. */
  readonly splits?: boolean;
  /** The spec of `fn` for this backend; without it, the worker form from `toTaskSpec`. */
  spec?(fn: unknown): RunnableSpec;
  /**
   * Runs one batch: one call of `spec` per item. Resolves with the results
   * in order, or rejects with the first call's error (the whole batch fails, as a chunk does in
   * Python). A worker that dies rejects the batches it held with WorkerCrashedError.
   */
  run(spec: RunnableSpec, batch: Batch): Promise<unknown[]>;
  /** Like `run`, settling `sink` rather than returning a promise (applyAsync's hot path). */
  submit?(spec: RunnableSpec, batch: Batch, sink: Sink): void;
  /**
   * The operation `op` was aborted: its batches not started are dropped and the ones running are
   * stopped (a worker running one is replaced); each rejects with `reason`.
   */
  cancel(op: object, reason: Error): void;
  /** No more batches will come: finish what was submitted, then release every worker. */
  drain(): Promise<void>;
  /** Stop now: pending batches reject with PoolTerminatedError; resolves when no worker is left. */
  terminate(): Promise<void>;
}
