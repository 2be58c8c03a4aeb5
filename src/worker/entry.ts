/**
 * The program every pool worker and every Process runs, as a worker_thread or as a child process.
 * It receives jobs, runs them one at a time (as a Python pool worker does), and replies.
 */
import type { TaskSpec } from '../task.js';
import { allDelivered, handOverAll, holdsUndelivered, serveParent } from '../shm/handover-child.js';
import { decode, encode, hasShared } from '../reduction/transfer.js';
import { importTaskModule, setCurrentProcess } from '../process/state.js';
import { workerBusy, workerIdle } from './idle.js';
import { packNumbers } from './numbers.js';
import type { FromWorker, JobResults, RunMessage, ToWorker } from './protocol.js';
import { serializeError } from './protocol.js';

// Not an ES import, which would build node:worker_threads' ES module facade: about 0.9 ms of
// every worker's start on Node 20.
const { isMainThread, parentPort } = process.getBuiltinModule('node:worker_threads');

type Send = (message: FromWorker, transfer?: readonly unknown[]) => void;

const send: Send = isMainThread
  ? (message) => {
      // The parent may close the channel at any moment (a pool closed as it started, or retiring
      // this worker): a write then fails with EPIPE, and with nobody left to tell, the child ends
      // quietly, as on 'disconnect', instead of crashing on an unhandled 'error' event.
      process.send!(message, undefined, {}, (error: Error | null) => {
        if (error) exitFlushed(0);
      });
    }
  : (message, transfer) => parentPort!.postMessage(message, transfer as never);

function listen(handler: (message: ToWorker) => void): void {
  if (isMainThread) process.on('message', handler as (m: unknown) => void);
  else parentPort!.on('message', handler);
}

// esbuild (tsx, tsup with keepNames) may wrap nested functions in `__name(fn, "name")`; an inline
// task's source carries that call, so a worker provides it.
function provideName(): void {
  (globalThis as { __name?: unknown }).__name ??= <T>(fn: T, name: string): T => {
    try {
      Object.defineProperty(fn, 'name', { value: name, configurable: true });
    } catch {
      // a frozen function keeps its name
    }
    return fn;
  };
}

const specs = new Map<number, TaskSpec>();
const resolved = new Map<number, Promise<(...args: unknown[]) => unknown>>();
const modules = new Map<string, Promise<Record<string, unknown>>>();

function compileInline(source: string, name: string): (...args: unknown[]) => unknown {
  const attempts = [`(${source})`, `(function ${source})`];
  if (source.startsWith('async ')) attempts.push(`(async function ${source.slice(6)})`);
  let lastError: unknown;
  for (const expression of attempts) {
    try {
      // Indirect eval: the function sees only this worker's globals, never a caller's scope.
      const fn = (0, eval)(expression) as unknown;
      if (typeof fn === 'function') return fn as (...args: unknown[]) => unknown;
    } catch (error) {
      lastError = error;
    }
  }
  throw new SyntaxError(
    `Inline task ${name || '<anonymous>'} could not be compiled in the worker from its source text ` +
      `(${(lastError as Error)?.message ?? 'not a function'}). Move it into a module and use task(moduleUrl, exportName).`,
  );
}

/** A ReferenceError from an inline function almost always means it used its enclosing scope. */
function explainScope(error: unknown, spec: TaskSpec): unknown {
  if (spec.kind === 'inline' && error instanceof ReferenceError && / is not defined$/.test(error.message)) {
    const name = error.message.replace(/ is not defined$/, '');
    error.message =
      `${error.message}: inline task ${spec.name || '<anonymous>'} uses '${name}' from its enclosing scope. ` +
      `Inline functions are sent to the worker as source text and may only use their arguments and globals; ` +
      `pass '${name}' as an argument, or export the function from a module and use task(moduleUrl, exportName).`;
  }
  return error;
}

async function loadModule(url: string): Promise<Record<string, unknown>> {
  let loading = modules.get(url);
  if (!loading) {
    loading = importTaskModule(url);
    modules.set(url, loading);
  }
  return loading;
}

async function resolveSpec(spec: TaskSpec): Promise<(...args: unknown[]) => unknown> {
  switch (spec.kind) {
    case 'kernel':
      // Loaded on first use: a worker that runs only JavaScript never loads the addon.
      return (await loadPackage()).native[spec.name] as (...args: unknown[]) => unknown;
    case 'inline':
      return compileInline(spec.source, spec.name);
    case 'module': {
      const mod = await loadModule(spec.url);
      // ESM named export, or a CommonJS export reached through `default`.
      let fn = mod[spec.exportName];
      if (typeof fn !== 'function' && mod.default && typeof mod.default === 'object') {
        fn = (mod.default as Record<string, unknown>)[spec.exportName];
      }
      if (typeof fn !== 'function') {
        throw new TypeError(`Module ${spec.url} has no exported function '${spec.exportName}' (found ${typeof fn})`);
      }
      return fn as (...args: unknown[]) => unknown;
    }
  }
}

function fnFor(sid: number): Promise<(...args: unknown[]) => unknown> {
  let fn = resolved.get(sid);
  if (!fn) {
    const spec = specs.get(sid);
    if (!spec) return Promise.reject(new Error(`napi-multiprocessing: unknown task id ${sid}`));
    fn = resolveSpec(spec);
    resolved.set(sid, fn);
  }
  return fn;
}

let pkg: Promise<typeof import('../../index.js')> | undefined;

/**
 * The public entry: the native kernels, and the classes of every shareable type (Lock, Queue,
 * Connection...) to revive what a task receives whatever its module imports. Loaded the first
 * time a kernel runs or a shared object arrives: most workers never see one, and start faster and
 * smaller without them. The entry rather than modules of their own: in the bundle, everything this
 * file imports up front then sits in one chunk shared with the entry, one file to load per worker.
 */
function loadPackage(): Promise<typeof import('../../index.js')> {
  pkg ??= import('../../index.js');
  return pkg;
}

/** `decode`, once the classes of the shared objects in `packed` (if any) are loaded. */
async function decodeShared(packed: unknown): Promise<unknown> {
  if (hasShared(packed)) await loadPackage();
  return decode(packed);
}

function isThenable(value: unknown): value is PromiseLike<unknown> {
  return typeof value === 'object' && value !== null && typeof (value as PromiseLike<unknown>).then === 'function';
}

/**
 * Runs one job's calls in order, from call `from` on, appending to `out`; only a result that is a
 * promise is awaited (a tight loop otherwise).
 */
async function callAll(
  fn: (...args: unknown[]) => unknown,
  items: ArrayLike<unknown>,
  star: boolean,
  out: unknown[] = [],
  from = 0,
): Promise<unknown[]> {
  // Filled with push, not `new Array(n)`: a holey array takes V8's slow sparse path when it is
  // serialised back to the parent, several times slower for a big chunk (measured).
  // Two tight loops rather than a branch per item: a big map slice is the hot path here.
  if (star) {
    for (let i = from; i < items.length; i++) {
      const value = fn(...(items[i] as unknown[]));
      out.push(typeof value === 'object' && value !== null && isThenable(value) ? await value : value);
    }
  } else {
    for (let i = from; i < items.length; i++) {
      const value = fn(items[i]);
      out.push(typeof value === 'object' && value !== null && isThenable(value) ? await value : value);
    }
  }
  return out;
}

/**
 * The calls of a list of numbers (numbers.ts). While the results are numbers too they are written
 * over the arguments, and the list crosses back as it is: no array grown call by call, no second
 * pass to pack it. The first other result turns the rest into a plain list.
 */
async function callNumbers(fn: (...args: unknown[]) => unknown, items: Float64Array): Promise<ArrayLike<unknown>> {
  // Over the arguments, each read before its result is written: this job owns its list (a copy,
  // or its own slice of a map's shared buffer, which the pool reads the results from).
  const out = items;
  for (let i = 0; i < items.length; i++) {
    const value = fn(items[i]);
    if (typeof value !== 'number') {
      const list: unknown[] = Array.from(out.subarray(0, i));
      list.push(typeof value === 'object' && value !== null && isThenable(value) ? await value : value);
      return callAll(fn, items, false, list, i + 1);
    }
    out[i] = value;
  }
  return out;
}

/** The batch being run, so that a worker dying mid-batch can say what finished and what was running. */
interface Running extends JobResults {
  values: unknown[];
  failed: number[];
  /** Time spent in the task's calls so far. */
  ms: number;
}

/**
 * Milliseconds since `start` (a process.hrtime()). Not performance.now(): a worker's first touch of
 * `performance` loads perf_hooks, about 1 ms of every worker's start-up (measured on Node 20 and 24).
 */
function msSince(start: [number, number]): number {
  const [s, ns] = process.hrtime(start);
  return s * 1e3 + ns / 1e6;
}

/** Runs a message's jobs one after another, recording each outcome in `batch` as it comes. */
async function runBatch(message: RunMessage, batch: Running): Promise<void> {
  const spec = specs.get(message.sid)!;
  let fn: ((...args: unknown[]) => unknown) | undefined;
  let loadError: unknown;
  try {
    // Loading (importing, compiling) the task is not what its calls cost: it is left out of `ms`.
    fn = await fnFor(message.sid);
  } catch (error) {
    loadError = error;
  }
  const start = process.hrtime();
  for (const list of message.lists) {
    try {
      if (!fn) throw loadError;
      const items = message.shared ? await decodeShared(list) : list;
      // Still one await per job when single: what a task queued as a microtask runs before the next.
      if (message.single) batch.values.push(await fn(...(items as unknown[])));
      else if (items instanceof Float64Array) batch.values.push(await callNumbers(fn, items));
      else batch.values.push(await callAll(fn, items as ArrayLike<unknown>, message.star));
    } catch (error) {
      batch.failed.push(batch.values.length);
      batch.values.push(serializeError(explainScope(error, spec)));
    }
  }
  batch.ms = msSince(start);
}

/** `results` as they cross to the parent: the successful values encoded, shared objects described. */
function encodeResults(results: JobResults, transfer: unknown[]): JobResults {
  const { ids, single } = results;
  const failed = new Set(results.failed);
  const all = Array.from(results.values);
  // One call per job, all numbers: the whole column is one buffer.
  const column = single && failed.size === 0 ? packNumbers(all) : undefined;
  if (column) {
    transfer.push(column.buffer);
    return { ids, values: column, single, shared: false };
  }
  let shared = false;
  const plain = all.map((value, i) => {
    if (failed.has(i) || single) return value;
    const packed = value instanceof Float64Array ? value : packNumbers(value as unknown[]);
    // A numbers-only result's buffer moves to the parent rather than being copied (shared memory
    // is not moved: it is the parent's already).
    if (packed && !(packed.buffer instanceof SharedArrayBuffer)) transfer.push(packed.buffer);
    return packed ?? value;
  });
  const encoded = plain.map((value, i) => {
    if (failed.has(i)) return value;
    const one = encode(value, transfer as never);
    shared ||= hasShared(one);
    return one;
  });
  // As the parent sends its lists: plain unless a shared object is among them.
  return { ids, values: shared ? encoded : plain, failed: results.failed?.length ? results.failed : undefined, single, shared };
}

/** Replies with every result; a result that cannot be cloned fails only its own job. */
function reply(results: JobResults, ms: number): void {
  const transfer: unknown[] = [];
  const encoded = encodeResults(results, transfer);
  try {
    send({ t: 'done', ms, ...encoded }, transfer);
    return;
  } catch {
    // Fall through: find the job(s) whose result cannot cross.
  }
  for (let i = 0; i < encoded.ids.length; i++) {
    const failed = encoded.failed?.includes(i) ? [0] : undefined;
    const one = { ids: [encoded.ids[i]!], values: [encoded.values[i]], failed, single: encoded.single, shared: encoded.shared };
    try {
      structuredClone(one.values[0]);
      send({ t: 'done', ms, ...one });
    } catch (error) {
      const failure = new TypeError(
        `The result of the task could not be sent back from the worker (${(error as Error).message}). ` +
          `Results must be structured-cloneable: plain data, arrays, Maps, Sets, typed arrays, Errors.`,
      );
      send({ t: 'done', ms, ids: one.ids, values: [serializeError(failure)], failed: [0] });
    }
  }
}

let watchingDelivery = false;

/**
 * What this worker's tasks put and a queue could not take yet, the worker delivers in the
 * background as readers make room. Its parent must stay alive until then, and a reader there
 * waiting in `await q.get()` holds no event loop open (it waits on shared memory), while the pool
 * lets go of a worker with no job: so the pool is told to keep this worker until all is delivered.
 */
function keepParentWhileUndelivered(): void {
  if (watchingDelivery || !holdsUndelivered()) return;
  watchingDelivery = true;
  send({ t: 'holding' });
  void allDelivered().then(() => {
    watchingDelivery = false;
    send({ t: 'delivered' });
  });
}

let queue: Promise<void> = Promise.resolve();
let processName = '';
let role: 'pool' | 'process' | undefined;
let running: Running | undefined;

/**
 * A pool worker on its way out (process.exit in a task, an uncaught error, an unhandled rejection)
 * tells the pool what it had finished, so that only the job it was running fails and the jobs it
 * had not started go to another worker. A signal or running out of memory skips this; the pool
 * then fails the whole batch.
 */
function reportExit(): void {
  if (role !== 'pool' || (isMainThread && !process.connected)) return;
  const finished: JobResults = running ?? { ids: [], values: [] };
  const current = running?.ids[finished.values.length];
  const error = fatal === undefined ? undefined : serializeError(fatal);
  try {
    const transfer: unknown[] = [];
    const done = finished.values.length;
    const results = encodeResults({ ...finished, ids: finished.ids.slice(0, done) }, transfer);
    send({ t: 'exiting', results, running: current, error }, transfer);
  } catch {
    try {
      send({ t: 'exiting', running: current, error });
    } catch {
      // The channel is gone: the pool falls back to failing the batch.
    }
  }
}
/** The uncaught error (or unhandled rejection) that is ending this worker, for the pool's crash error. */
let fatal: unknown;

async function handle(message: ToWorker): Promise<void> {
  switch (message.t) {
    case 'init': {
      // First: what the initializer puts must reach the parent too.
      if (message.handover) serveParent(message.handover);
      processName = message.name;
      role = message.role;
      // Pool workers are daemons, as in Python; a Process is one if it was made so.
      setCurrentProcess({ name: message.name, daemon: message.role === 'pool' || message.daemon === true });
      try {
        if (message.initializer) {
          const fn = await resolveSpec(message.initializer);
          await fn(...((await decodeShared(message.initargs)) as unknown[]));
        }
        send({ t: 'ready' });
      } catch (error) {
        // Nothing may run in a worker whose initializer failed: report, then end this worker.
        sendThenExit({ t: 'startup-error', error: serializeError(error) }, 1);
        await new Promise(() => {});
      }
      return;
    }
    case 'run': {
      if (message.specs) for (const [sid, spec] of message.specs) specs.set(sid, spec);
      workerBusy();
      const batch: Running = { ids: message.ids, values: [], failed: [], single: message.single, ms: 0 };
      running = batch;
      await runBatch(message, batch);
      running = undefined;
      keepParentWhileUndelivered();
      reply(batch, batch.ms);
      workerIdle();
      return;
    }
    case 'target': {
      // A Process: its target's end is the process's end, even with timers still pending.
      try {
        const fn = await resolveSpec(message.target);
        const own = message.self === undefined ? undefined : ((await decodeShared(message.self)) as object);
        const self = own && Object.assign(own, { name: processName, pid: process.pid });
        await fn.apply(self, (await decodeShared(message.args)) as unknown[]);
        sendThenExit({ t: 'target-done', ok: true }, 0);
      } catch (error) {
        const spec = message.target;
        const explained = explainScope(error, spec);
        const text = explained instanceof Error ? (explained.stack ?? String(explained)) : String(explained);
        process.stderr.write(`Process ${processName}:\n${text}\n`);
        sendThenExit({ t: 'target-done', ok: false, error: serializeError(explained) }, 1);
      }
      return;
    }
  }
}

/** Exits once `message` has reached the parent. */
function sendThenExit(message: FromWorker, code: number): void {
  if (isMainThread) {
    // process.send is asynchronous: exit from its callback, once the message is written.
    process.send!(message, undefined, {}, () => exitFlushed(code));
  } else {
    parentPort!.postMessage(message);
    exitFlushed(code);
  }
}

let exiting = false;

/**
 * Exits once what this worker wrote to stdout and stderr has been handed over. A thread's stdio
 * is a stream to the parent that holds what the parent has not taken yet; ending the thread from
 * outside (worker.terminate()) drops it, so a worker always ends itself, through here.
 */
function exitFlushed(code: number, deliver = true): void {
  // The first way out wins: a pool may ask a retiring worker to stop twice (maxtasksperchild, then
  // close()), and a second pass would exit before a child's handover message had been written.
  if (exiting) return;
  exiting = true;
  const flushed = (stream: NodeJS.WritableStream) => new Promise<void>((resolve) => stream.write('', () => resolve()));
  // A thread's undelivered puts go to its parent at exit (handover-child.ts); a child process's here.
  const delivered = deliver && isMainThread ? handOverToParent() : Promise.resolve();
  void delivered.then(() => Promise.all([flushed(process.stdout), flushed(process.stderr)])).finally(() => process.exit(code));
}

/**
 * A child process hands what its outboxes hold to its parent over the IPC channel, as a thread
 * does over its handover port: the parent delivers it from then on, so the child exits at once and
 * the parent's join() returns with every put in its hands, even when nobody reads until then. A
 * message partly in the ring goes with the ring's writer mutex, a plain word in the shared segment.
 * With no parent left, or none reachable, the child delivers them itself, waiting for readers.
 */
function handOverToParent(): Promise<void> {
  const handed = process.connected ? handOverAll() : [];
  if (handed.length === 0) return allDelivered();
  return new Promise((resolve) => {
    // An error here means the parent has gone, and the channel with it: nobody to hand them to.
    process.send!({ t: 'handed', outboxes: handed } satisfies FromWorker, undefined, {}, () => resolve());
  });
}

let started = false;

/**
 * Makes this thread or process a pool worker or a Process: called by the worker program's files
 * (main.ts, start.cts), never on import. This file is also part of the public entry's graph (see
 * WORKER_PROGRAM), so it must do nothing when merely loaded.
 */
export function runWorker(): void {
  if (started) return;
  started = true;
  provideName();
  process.on('exit', reportExit);
  process.on('uncaughtExceptionMonitor', (error) => {
    fatal = error;
  });
  // Messages are handled strictly one after another: one task at a time per worker, as in Python.
  // A stop goes to an idle worker only, so it waits behind nothing (not even a slow initializer,
  // which a child process's disconnect does not wait for either).
  listen((message) => {
    if (message.t === 'stop') exitFlushed(0);
    else queue = queue.then(() => handle(message));
  });
  if (isMainThread && process.channel) {
    // A child process must not outlive its pool: when the IPC channel closes, exit.
    process.on('disconnect', () => exitFlushed(0, false));
  }
}

/**
 * Where the CommonJS start (start.cts) finds runWorker() once it has loaded the bundle's shared
 * file, which holds this module. That file has a fixed name and no ES imports, so a worker started
 * there loads one file of ours and resolves no ES import (the first one loads Node's whole ES module
 * resolver: about 2 ms of CPU per worker on Node 20, measured).
 */
export const WORKER_PROGRAM = Symbol.for('napi-multiprocessing.run-worker');
(globalThis as Record<symbol, unknown>)[WORKER_PROGRAM] ??= runWorker;
