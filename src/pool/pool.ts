/**
 * `Pool`: Python's `multiprocessing.Pool` for Node.js. The Python semantics (state machine,
 * chunking, result order, callbacks, errors) live here; the backends in `./backends` only run
 * batches of calls on their workers.
 */
import { availableParallelism } from 'node:os';
import type { ResourceLimits } from 'node:worker_threads';

import { abortError, abortable, checkSignal, signalOf, splitChunksize, type SignalOptions } from './abort.js';
import { AsyncResult, type ResultCallbacks } from './async_result.js';
import { AsyncBackend } from '../backends/async/backend.js';
import type { Backend, BackendKind, Batch, RunnableSpec } from '../backends/backend.js';
import { ClusterBackend } from '../backends/cluster/backend.js';
import { NativeBackend } from '../backends/native/backend.js';
import { WorkerBackend } from '../backends/workers/backend.js';
import { ChunkFeed, isAsyncIterable, isIterable, type Input } from './chunking.js';
import { PoolTerminatedError, codedError } from '../errors.js';
import { refuseWhileImporting } from '../process/state.js';
import { toTaskSpec, type TaskArgs, type TaskLike, type TaskResult, type TaskSpec } from '../task.js';
import { invalidType, validateInteger, validateOptions, type OptionNames } from '../validate.js';

export type { BackendKind } from '../backends/backend.js';

export interface PoolOptions {
  /** Number of workers (threads or processes; for `'cluster'`, the workers across the cluster, which sizes the default chunks). Default: `os.availableParallelism()`. */
  processes?: number;
  /**
   * `'thread'` (worker_threads, default), `'process'` (child processes), `'native'` (rayon threads),
   * `'async'` (the calling thread, at most `processes` calls in flight: I/O-bound work) or
   * `'cluster'` (worker commands anywhere, through Redis).
   */
  backend?: BackendKind;
  /** Runs once in every worker before its first task. */
  initializer?: TaskLike;
  initargs?: unknown[];
  /** A worker is replaced after it has run this many tasks. */
  maxtasksperchild?: number;
  /**
   * V8 heap limits for each worker, as `worker_threads` takes them (a child process honours
   * `maxOldGenerationSizeMb`), each a whole number of MB >= 1. A worker that exceeds them ends
   * with WorkerCrashedError instead of taking the whole process down.
   */
  resourceLimits?: ResourceLimits;
  /** Backend `'cluster'`: the Redis server, as a `redis://` / `rediss://` URL or ioredis options. */
  connection?: string | Record<string, unknown>;
  /** Backend `'cluster'`: the BullMQ queue the workers serve (default `'napi-multiprocessing'`). */
  queue?: string;
}

export interface ApplyAsyncOptions<R> extends ResultCallbacks<R>, SignalOptions {}

export interface MapAsyncOptions<R> extends ApplyAsyncOptions<R> {
  chunksize?: number;
}

// The names each options object accepts (anything else is refused as a likely typo).
const POOL_OPTIONS: OptionNames<PoolOptions> = {
  processes: true,
  backend: true,
  initializer: true,
  initargs: true,
  maxtasksperchild: true,
  resourceLimits: true,
  connection: true,
  queue: true,
};
const RESULT_OPTIONS: OptionNames<ApplyAsyncOptions<unknown>> = { callback: true, errorCallback: true, signal: true };
const NO_OPTIONS: ApplyAsyncOptions<unknown> = Object.freeze({});
const MAP_ASYNC_OPTIONS: OptionNames<MapAsyncOptions<unknown>> = { ...RESULT_OPTIONS, chunksize: true };
/** worker_threads' ResourceLimits, in the order its documentation lists them. */
const RESOURCE_LIMITS: OptionNames<ResourceLimits> = {
  maxOldGenerationSizeMb: true,
  maxYoungGenerationSizeMb: true,
  codeRangeSizeMb: true,
  stackSizeMb: true,
};

type BackendFactory = (
  options: ConstructorParameters<typeof WorkerBackend>[1] & { initializerFn?: TaskLike; connection?: unknown; queue?: unknown },
) => Backend;

const backendFactories = new Map<BackendKind, BackendFactory>([
  ['native', (o) => new NativeBackend(o)],
  ['thread', (o) => new WorkerBackend('thread', o)],
  ['process', (o) => new WorkerBackend('process', o)],
  ['cluster', (o) => new ClusterBackend(o)],
  ['async', (o) => new AsyncBackend(o)],
]);
const BACKENDS: readonly BackendKind[] = ['thread', 'process', 'native', 'async', 'cluster'];

function checkIterable(value: unknown, name: string): void {
  // A string is iterable (its characters), as in Python's map.
  if (!isIterable(value) && !isAsyncIterable(value)) {
    throw invalidType(name, 'an iterable or async iterable', value);
  }
}

function checkChunksize(value: unknown): number | undefined {
  if (value === undefined) return undefined;
  return validateInteger(value, 'chunksize', 1, 2 ** 31 - 1);
}

const arrayValues = Array.prototype[Symbol.iterator];

/** An array whose items its iterator gives as they are, so that reading it by index reads the same. */
function isPlainArray(value: unknown): value is unknown[] {
  return Array.isArray(value) && value[Symbol.iterator] === arrayValues;
}

async function collect<T>(iterable: AsyncIterable<T>): Promise<T[]> {
  const out: T[] = [];
  for await (const item of iterable) out.push(item);
  return out;
}

function checkArgsTuple(args: unknown, index: number): unknown[] {
  if (!Array.isArray(args)) throw invalidType(`iterableOfArgTuples[${index}]`, 'an array of arguments', args);
  return args;
}

let poolIds = 0;

export class Pool {
  /** Number of workers. */
  readonly processes: number;
  readonly backend: BackendKind;
  readonly #backend: Backend;
  #state: 'running' | 'closed' | 'terminated' = 'running';
  /** Operations submitted and not yet settled, so close()+join() can wait for them. */
  #outstanding = 0;
  #drained: (() => void) | undefined;
  #finished: Promise<void> | undefined;
  /** Rejects with PoolTerminatedError on terminate(): work still reading its input stops waiting. */
  readonly #terminated: Promise<never>;
  #rejectTerminated!: (error: Error) => void;
  readonly #feeds = new Set<ChunkFeed>();
  readonly #id = ++poolIds;

  constructor(options: PoolOptions = {}) {
    this.#terminated = new Promise<never>((_, reject) => (this.#rejectTerminated = reject));
    this.#terminated.catch(() => {});
    validateOptions<PoolOptions>(options, 'options', POOL_OPTIONS);
    const { processes, backend = 'thread', initializer, initargs = [], maxtasksperchild, connection, queue } = options;
    const resourceLimits = checkResourceLimits(options.resourceLimits);
    this.processes = processes === undefined ? availableParallelism() : validateInteger(processes, 'processes', 1, 4096);
    if (!BACKENDS.includes(backend)) {
      const error = new TypeError(
        `The "backend" option must be one of ${BACKENDS.map((b) => `'${b}'`).join(', ')}. Received ${String(backend)}`,
      ) as TypeError & { code: string };
      error.code = 'ERR_INVALID_ARG_VALUE';
      throw error;
    }
    if (backend !== 'cluster' && (connection !== undefined || queue !== undefined)) {
      throw invalidType(
        connection !== undefined ? 'connection' : 'queue',
        "used only with backend 'cluster'",
        connection ?? queue,
      );
    }
    this.backend = backend;
    if (backend === 'thread' || backend === 'process') refuseWhileImporting(`A '${backend}' Pool`);
    if (maxtasksperchild !== undefined && maxtasksperchild !== null) {
      validateInteger(maxtasksperchild, 'maxtasksperchild', 1);
    }
    if (!Array.isArray(initargs)) throw invalidType('initargs', 'an array', initargs);
    let initSpec: TaskSpec | undefined;
    if (initializer !== undefined && initializer !== null && backend !== 'async') {
      initSpec = toTaskSpec(initializer, 'initializer');
      if (backend === 'native') {
        throw new TypeError(
          'The "initializer" option is not supported by the native backend: rayon threads do not run JavaScript',
        );
      }
    }
    const factory = backendFactories.get(backend);
    if (!factory) throw new Error(`The '${backend}' backend is not available in this build`);
    this.#backend = factory({
      processes: this.processes,
      initializer: initSpec,
      initializerFn: initializer ?? undefined,
      initargs,
      maxtasksperchild: maxtasksperchild ?? undefined,
      resourceLimits,
      connection,
      queue,
    });
  }

  #notRunning(): Error {
    return codedError(
      'ERR_POOL_NOT_RUNNING',
      `Pool not running: it was ${this.#state === 'closed' ? 'closed' : 'terminated'}; no new work is accepted`,
    );
  }

  #spec(fn: unknown): RunnableSpec {
    const spec = this.#backend.spec ? this.#backend.spec(fn) : toTaskSpec(fn, 'fn');
    this.#backend.check(spec);
    return spec;
  }

  /** Keeps `work` in the set join() waits for, until it settles. */
  #track<T>(work: Promise<T>): Promise<T> {
    this.#outstanding++;
    work.then(this.#settleOne, this.#settleOne);
    return work;
  }

  // One shared handler (not a closure per task): applyAsync is a hot path.
  readonly #settleOne = (): void => {
    if (--this.#outstanding === 0 && this.#drained) {
      const drained = this.#drained;
      this.#drained = undefined;
      drained();
    }
  };

  /**
   * Submits one batch of an operation that was accepted while the pool was running. close()
   * lets such batches through (queued work still runs); terminate() does not.
   */
  #run(spec: RunnableSpec, batch: Batch): Promise<unknown[]> {
    if (this.#state === 'terminated') return Promise.reject(new PoolTerminatedError());
    return this.#backend.run(spec, batch);
  }

  /** Runs `fn(...args)` on a worker and resolves with its result. */
  apply<T extends TaskLike>(fn: T, args?: TaskArgs<T>, options?: SignalOptions): Promise<TaskResult<T>> {
    let signal: AbortSignal | undefined;
    try {
      signal = signalOf(options);
    } catch (error) {
      return Promise.reject(error);
    }
    return this.applyAsync(fn, args, { signal }).get();
  }

  /** One operation, aborted with `signal`: its batches carry `op`, which the backend cancels. */
  #abortable<R>(signal: AbortSignal | undefined, start: (op: object | undefined) => Promise<R>): Promise<R> {
    return abortable(signal, start, (op, error) => this.#backend.cancel(op, error));
  }

  /** Like apply, returning an AsyncResult at once; `callback`/`errorCallback` each run exactly once. */
  applyAsync<T extends TaskLike>(
    fn: T,
    args?: TaskArgs<T>,
    options?: ApplyAsyncOptions<TaskResult<T>>,
  ): AsyncResult<TaskResult<T>> {
    const checked: ApplyAsyncOptions<TaskResult<T>> =
      options === undefined ? NO_OPTIONS : checkCallbacks(options ?? {}, RESULT_OPTIONS);
    const { signal } = checked;
    let batch: Batch;
    let spec: RunnableSpec;
    try {
      if (this.#state !== 'running') throw this.#notRunning();
      spec = this.#spec(fn);
      const list = args === undefined ? [] : args;
      if (!Array.isArray(list)) throw invalidType('args', 'an array of arguments', list);
      batch = { items: [list], star: true, single: true };
    } catch (error) {
      return new AsyncResult(Promise.reject(error) as Promise<TaskResult<T>>, checked);
    }
    if (!signal && this.#backend.submit) {
      // The hot path: the backend settles the result itself, with no promise in between.
      this.#outstanding++;
      const result = new AsyncResult<TaskResult<T>>(undefined, checked, this.#settleOne);
      this.#backend.submit(spec, batch, result);
      return result;
    }
    const run = (op: object | undefined) => this.#run(spec, { ...batch, op });
    return new AsyncResult(this.#track(this.#abortable(signal, run) as Promise<TaskResult<T>>), checked);
  }

  /** Python's `map`: results in input order, settled once every chunk has finished. */
  map<T extends TaskLike>(
    fn: T,
    iterable: Input<TaskArgs<T>[0]>,
    chunksize?: number | SignalOptions,
    options?: SignalOptions,
  ): Promise<TaskResult<T>[]> {
    return this.#mapWith(fn, iterable, chunksize, options, false) as Promise<TaskResult<T>[]>;
  }

  /** map/starmap's trailing `(chunksize?, { signal }?)`. */
  #mapWith(fn: unknown, iterable: unknown, chunksizeArg: unknown, optionsArg: unknown, star: boolean): Promise<unknown[]> {
    const [chunksize, options] = splitChunksize(chunksizeArg, optionsArg);
    try {
      return this.#mapAll(fn, iterable, chunksize, star, signalOf(options));
    } catch (error) {
      return Promise.reject(error);
    }
  }

  mapAsync<T extends TaskLike>(
    fn: T,
    iterable: Input<TaskArgs<T>[0]>,
    options: MapAsyncOptions<TaskResult<T>[]> = {},
  ): AsyncResult<TaskResult<T>[]> {
    const { chunksize, signal, ...callbacks } = checkCallbacks(options ?? {}, MAP_ASYNC_OPTIONS);
    return new AsyncResult(this.#mapAll(fn, iterable, chunksize, false, signal) as Promise<TaskResult<T>[]>, callbacks);
  }

  /** Like map, with each item an array of arguments: `fn(...item)`. */
  starmap<T extends TaskLike>(
    fn: T,
    iterableOfArgTuples: Input<TaskArgs<T>>,
    chunksize?: number | SignalOptions,
    options?: SignalOptions,
  ): Promise<TaskResult<T>[]> {
    return this.#mapWith(fn, iterableOfArgTuples, chunksize, options, true) as Promise<TaskResult<T>[]>;
  }

  starmapAsync<T extends TaskLike>(
    fn: T,
    iterableOfArgTuples: Input<TaskArgs<T>>,
    options: MapAsyncOptions<TaskResult<T>[]> = {},
  ): AsyncResult<TaskResult<T>[]> {
    const { chunksize, signal, ...callbacks } = checkCallbacks(options ?? {}, MAP_ASYNC_OPTIONS);
    return new AsyncResult(this.#mapAll(fn, iterableOfArgTuples, chunksize, true, signal) as Promise<TaskResult<T>[]>, callbacks);
  }

  #mapAll(fn: unknown, iterable: unknown, chunksize: unknown, star: boolean, signal?: AbortSignal): Promise<unknown[]> {
    try {
      if (this.#state !== 'running') throw this.#notRunning();
      const spec = this.#spec(fn);
      checkIterable(iterable, star ? 'iterableOfArgTuples' : 'iterable');
      const size = checkChunksize(chunksize);
      // A sync iterable is read now, so the batches are queued before this call returns (as
      // Python's map_async does); an async one is read first, and still counts as accepted. An
      // array the backend splits is lent to it, which reads it at once (Batch.lent).
      const lent = !star && size === undefined && this.#backend.splits === true && isPlainArray(iterable);
      const items = lent ? iterable : isIterable(iterable) ? Array.from(iterable) : collect(iterable as AsyncIterable<unknown>);
      return this.#track(
        this.#abortable(signal, (op) => {
          const run = (list: unknown[]) => this.#mapBatches(spec, list, size, star, op, lent);
          // While an async iterable is still being read, terminate() must not leave this waiting.
          return Array.isArray(items) ? run(items) : Promise.race([items, this.#terminated]).then(run);
        }),
      );
    } catch (error) {
      return Promise.reject(error);
    }
  }

  #mapBatches(
    spec: RunnableSpec,
    items: unknown[],
    chunksize: number | undefined,
    star: boolean,
    op?: object,
    lent = false,
  ): Promise<unknown[]> {
    if (items.length === 0) return Promise.resolve([]);
    if (star) items.forEach((args, i) => checkArgsTuple(args, i));
    // No chunksize: a backend that can sizes the chunks itself from the task's measured cost.
    if (chunksize === undefined && this.#backend.splits) return this.#run(spec, { items, star, op, split: true, lent });
    // Otherwise Python's default: about four chunks per worker.
    const size = chunksize ?? Math.ceil(items.length / (this.processes * 4));
    const results = new Array<unknown>(items.length);
    let left = Math.ceil(items.length / size);
    let failure: { reason: unknown } | undefined;
    // As Python (3.8+): keep the first error, but settle only when every chunk has finished.
    return new Promise<unknown[]>((resolve, reject) => {
      const finishOne = () => {
        if (--left > 0) return;
        if (failure) reject(failure.reason);
        else resolve(results);
      };
      for (let start = 0; start < items.length; start += size) {
        this.#run(spec, { items: items.slice(start, start + size), star, op }).then(
          (values) => {
            for (let i = 0; i < values.length; i++) results[start + i] = values[i];
            finishOne();
          },
          (reason: unknown) => {
            failure ??= { reason };
            finishOne();
          },
        );
      }
    });
  }

  /** Lazily mapped results in input order; chunks are submitted as the iterable yields. */
  imap<T extends TaskLike>(
    fn: T,
    iterable: Input<TaskArgs<T>[0]>,
    chunksize: number | SignalOptions = 1,
    options?: SignalOptions,
  ): AsyncIterableIterator<TaskResult<T>> {
    return this.#imap(fn, iterable, chunksize, options, true) as AsyncIterableIterator<TaskResult<T>>;
  }

  // Same shape as imap on purpose: two public names for #imap (as Python's imap and
  // imap_unordered), each with its own signature and doc for editors and the API reference.
  /** Like imap, in completion order. */
  imapUnordered<T extends TaskLike>(
    fn: T,
    iterable: Input<TaskArgs<T>[0]>,
    chunksize: number | SignalOptions = 1,
    options?: SignalOptions,
  ): AsyncIterableIterator<TaskResult<T>> {
    return this.#imap(fn, iterable, chunksize, options, false) as AsyncIterableIterator<TaskResult<T>>;
  }

  #imap(
    fn: unknown,
    iterable: unknown,
    chunksizeArg: unknown,
    optionsArg: unknown,
    ordered: boolean,
  ): AsyncIterableIterator<unknown> {
    let setupError: unknown;
    let feed: ChunkFeed | undefined;
    let unlisten: (() => void) | undefined;
    try {
      const [chunksize, options] = splitChunksize(chunksizeArg, optionsArg);
      const signal = signalOf(options);
      if (this.#state !== 'running') throw this.#notRunning();
      const spec = this.#spec(fn);
      checkIterable(iterable, 'iterable');
      const size = checkChunksize(chunksize) ?? 1;
      if (signal?.aborted) throw abortError(signal);
      const op = signal ? {} : undefined;
      // Start at once, as Python does: work begins before the first next().
      // At most `window` chunks run or wait ahead of the consumer: an endless or huge input is
      // read as results are taken, and never starves the event loop.
      const window = Math.max(16, this.processes * 64);
      feed = new ChunkFeed(iterable as Input<unknown>, size, window, (items) =>
        this.#track(this.#run(spec, { items, star: false, op })),
      );
      this.#feeds.add(feed);
      this.#track(feed.fed);
      if (signal) unlisten = this.#abortFeed(feed, signal, op!);
    } catch (error) {
      setupError = error;
    }
    const feeds = this.#feeds;
    const abandon = () => {
      unlisten?.();
      feed?.stop();
      if (feed) feeds.delete(feed);
    };
    const results = (async function* () {
      if (!feed) throw setupError;
      try {
        yield* ordered ? feed.inOrder() : feed.inCompletionOrder();
      } finally {
        abandon();
      }
    })();
    // return() before the first next() ends a generator without running its `finally`: the input
    // must stop being read then too.
    const finish = results.return.bind(results);
    results.return = (value) => {
      abandon();
      return finish(value);
    };
    return results;
  }

  /** On abort, the consumer gets an AbortError and the feed's work stops; returns the unlistener. */
  #abortFeed(feed: ChunkFeed, signal: AbortSignal, op: object): () => void {
    const onAbort = () => {
      const error = abortError(signal);
      feed.abort(error);
      this.#feeds.delete(feed);
      this.#backend.cancel(op, error);
    };
    signal.addEventListener('abort', onAbort, { once: true });
    return () => signal.removeEventListener('abort', onAbort);
  }

  /** No new work; what was submitted still runs. */
  close(): void {
    if (this.#state === 'running') {
      this.#state = 'closed';
      for (const feed of this.#feeds) feed.release();
    }
  }

  /** Stops now: pending results reject with PoolTerminatedError, and every worker is stopped. */
  terminate(): Promise<void> {
    if (this.#state !== 'terminated') {
      this.#state = 'terminated';
      const error = new PoolTerminatedError();
      this.#rejectTerminated(error);
      for (const feed of this.#feeds) feed.abort(error);
      this.#feeds.clear();
      this.#finished = this.#backend.terminate();
    }
    return this.#finished!;
  }

  /** Waits for the workers to finish and exit; only after close() or terminate(). */
  async join(): Promise<void> {
    if (this.#state === 'running') {
      throw codedError('ERR_POOL_RUNNING', 'Pool is still running; call close() or terminate() before join()');
    }
    if (this.#state === 'closed' && !this.#finished) {
      this.#finished = (async () => {
        if (this.#outstanding > 0) await new Promise<void>((resolve) => (this.#drained = resolve));
        await this.#backend.drain();
      })();
    }
    await this.#finished;
  }

  /** `await using pool = new Pool()`: close() then join(), so submitted work finishes. */
  async [Symbol.asyncDispose](): Promise<void> {
    this.close();
    await this.join();
  }

  get [Symbol.toStringTag](): string {
    return 'Pool';
  }

  /** `console.log(pool)` shows the backend, size and state. */
  [Symbol.for('nodejs.util.inspect.custom')](): string {
    return `Pool #${this.#id} { backend: '${this.backend}', processes: ${this.processes}, state: '${this.#state}' }`;
  }
}

function checkCallbacks<O extends ResultCallbacks<never>>(callbacks: O, known: OptionNames<O>): O {
  validateOptions<O>(callbacks, 'options', known);
  if (callbacks.callback !== undefined && typeof callbacks.callback !== 'function') {
    throw invalidType('callback', 'of type function', callbacks.callback);
  }
  if (callbacks.errorCallback !== undefined && typeof callbacks.errorCallback !== 'function') {
    throw invalidType('errorCallback', 'of type function', callbacks.errorCallback);
  }
  checkSignal((callbacks as SignalOptions).signal);
  return callbacks;
}

/** The smallest old generation a worker can be given without risking its parent (see below). */
const MIN_OLD_GENERATION_MB = 4;

/** worker_threads' limits, each a whole number of MB (a child process takes the heap limit as a V8 flag, which accepts no fraction). */
function checkResourceLimits(limits: unknown): ResourceLimits | undefined {
  if (limits === undefined) return undefined;
  validateOptions<ResourceLimits>(limits, 'resourceLimits', RESOURCE_LIMITS);
  for (const [key, mb] of Object.entries(limits)) {
    // Node 22 and later abort the whole process, not just the worker, when a worker thread's old
    // generation is under 4 MB (V8 runs out of memory while deserializing its start-up snapshot).
    const least = key === 'maxOldGenerationSizeMb' ? MIN_OLD_GENERATION_MB : 1;
    if (mb !== undefined) validateInteger(mb, `resourceLimits.${key}`, least, 2 ** 31 - 1);
  }
  // A copy: changing the caller's object later does not change this pool's workers.
  return { ...limits };
}
