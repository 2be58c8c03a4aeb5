/**
 * `JobServer`: Parallel Python's `pp.Server` on this package's pools. Jobs run on this machine's
 * workers (`ncpus` of them) and on clusters (`ppservers`: Redis connections served by
 * `napi-multiprocessing worker`), each node taking as many jobs at a time as it has cpus, local
 * first, as pp does. `submit` returns a job to call (`await job()`), groups are waited for
 * together, and statistics count jobs and time per node.
 */
import { runCallback } from '../pool/async_result.js';
import { inlineRefused } from '../backends/cluster/backend.js';
import { checkConnection, describeConnection } from '../backends/cluster/connection.js';
import { PoolTerminatedError, codedError } from '../errors.js';
import { Pool } from '../pool/pool.js';
import { cpuCount } from '../process/process.js';
import { type AnyFunction, type TaskArgs, type TaskLike, type TaskResult, toTaskSpec } from '../task.js';
import { invalidType, outOfRange, validateInteger, validateOptions, type OptionNames } from '../validate.js';
import { withDependencies } from './depfuncs.js';
import { type NodeStats, formatStats } from './stats.js';

export type { NodeStats } from './stats.js';

export interface JobServerOptions {
  /** Local workers; default `cpuCount()`. `0` runs every job on the ppservers, as in pp. */
  ncpus?: number;
  /** Clusters to send jobs to: Redis connections (`redis://host:6379`) served by worker commands. */
  ppservers?: string[];
  /** The local pool's backend; default `'thread'`. */
  backend?: 'thread' | 'process';
  /** The BullMQ queue the ppservers' workers serve; default `'napi-multiprocessing'`. */
  queue?: string;
}

export interface SubmitOptions<R> {
  /** Helper functions an inline `fn` calls by name (their source travels with it). */
  depfuncs?: AnyFunction[];
  /** Modules an inline `fn` uses, imported before it runs and bound by name (`node:path` -> `path`). */
  modules?: string[];
  /** Called as `callback(...callbackargs, result)` when the job succeeds, as pp does. */
  callback?: (...args: [...unknown[], R]) => void;
  callbackargs?: unknown[];
  /** The group `wait(group)` waits for; default `'default'`. */
  group?: string;
}

/** A submitted job: call it for the result (`await job()`), as pp's `job()`. */
export interface Job<R> {
  (): Promise<R>;
  readonly id: number;
  readonly group: string;
  readonly finished: boolean;
}

interface Node {
  readonly name: string;
  pool: Pool | undefined;
  capacity: number;
  running: number;
  readonly local: boolean;
  njobs: number;
  timeMs: number;
}

interface Queued {
  fn: TaskLike;
  args: unknown[];
  localOnly: boolean;
  start: (node: Node) => void;
  reject: (error: unknown) => void;
}

// The names each options object accepts (anything else is refused as a likely typo).
const SERVER_OPTIONS: OptionNames<JobServerOptions> = { ncpus: true, ppservers: true, backend: true, queue: true };
const SUBMIT_OPTIONS: OptionNames<SubmitOptions<unknown>> = {
  depfuncs: true,
  modules: true,
  callback: true,
  callbackargs: true,
  group: true,
};

export class JobServer {
  readonly #local: Node;
  readonly #remote: Node[];
  readonly #backend: 'thread' | 'process';
  readonly #queued: Queued[] = [];
  readonly #unsettled = new Map<string, Set<Promise<unknown>>>();
  readonly #retired = new Set<Promise<void>>();
  readonly #created = performance.now();
  #jobIds = 0;
  #destroyed = false;

  constructor(options: JobServerOptions = {}) {
    validateOptions<JobServerOptions>(options, 'options', SERVER_OPTIONS);
    const { ncpus = cpuCount(), ppservers = [], backend = 'thread', queue } = options;
    if (backend !== 'thread' && backend !== 'process') throw invalidType('backend', "'thread' or 'process'", backend);
    if (!Array.isArray(ppservers)) throw invalidType('ppservers', 'an array of redis:// URLs', ppservers);
    this.#backend = backend;
    this.#remote = ppservers.map((server, i) => {
      const connection = checkConnection(server, `ppservers[${i}]`);
      const pool = new Pool({ backend: 'cluster', connection, queue, processes: cpuCount() });
      return { name: describeConnection(connection), pool, capacity: cpuCount(), running: 0, local: false, njobs: 0, timeMs: 0 };
    });
    this.#local = { name: 'local', pool: undefined, capacity: 0, running: 0, local: true, njobs: 0, timeMs: 0 };
    this.setNcpus(ncpus);
  }

  /** Local workers now. */
  getNcpus(): number {
    return this.#local.capacity;
  }

  /** Resizes the local pool: jobs running on the old one finish there. `0` sends every job to the ppservers. */
  setNcpus(ncpus: number): void {
    validateInteger(ncpus, 'ncpus', 0, 4096);
    if (ncpus === 0 && this.#remote.length === 0) throw outOfRange('ncpus', '>= 1 when there are no ppservers', ncpus);
    const node = this.#local;
    if (node.pool && ncpus === node.capacity) return;
    if (node.pool) {
      const old = node.pool;
      old.close();
      const joined = old.join().finally(() => this.#retired.delete(joined));
      this.#retired.add(joined);
    }
    node.pool = ncpus > 0 ? new Pool({ processes: ncpus, backend: this.#backend }) : undefined;
    node.capacity = ncpus;
    this.#pump();
  }

  /** Queues `fn(...args)`; returns the job. An inline fn runs on this machine only (see docs/cluster.md). */
  submit<T extends TaskLike>(fn: T, args?: TaskArgs<T>, options: SubmitOptions<TaskResult<T>> = {}): Job<TaskResult<T>> {
    if (this.#destroyed) throw codedError('ERR_JOBSERVER_DESTROYED', 'The JobServer was destroyed; no new job is accepted');
    // pp's submit(func, args, depfuncs, modules, callback, …) is positional; here they are options.
    if (options === null || typeof options !== 'object' || Array.isArray(options)) {
      throw invalidType(
        'options',
        'an object such as { depfuncs: [...], modules: [...] } (pp passes them as positional tuples)',
        options,
      );
    }
    validateOptions<SubmitOptions<TaskResult<T>>>(options, 'options', SUBMIT_OPTIONS);
    const { depfuncs, modules, callback, callbackargs = [], group = 'default' } = options;
    const list = args ?? [];
    if (!Array.isArray(list)) throw invalidType('args', 'an array of arguments', list);
    if (callback !== undefined && typeof callback !== 'function') throw invalidType('callback', 'of type function', callback);
    if (!Array.isArray(callbackargs)) throw invalidType('callbackargs', 'an array', callbackargs);
    if (typeof group !== 'string') throw invalidType('group', 'of type string', group);
    const spec = toTaskSpec(fn, 'fn');
    const inline = spec.kind === 'inline';
    if (!inline && (depfuncs !== undefined || modules !== undefined)) {
      throw invalidType(
        depfuncs !== undefined ? 'depfuncs' : 'modules',
        'used only with an inline fn (a module task imports what it needs)',
        depfuncs ?? modules,
      );
    }
    if (inline && this.#local.capacity === 0) {
      const error = inlineRefused(spec);
      error.message = `This JobServer has no local workers (ncpus 0): its jobs go to the ppservers. ${error.message}`;
      throw error;
    }
    const runnable = inline ? withDependencies(fn as AnyFunction, depfuncs, modules) : fn;
    return this.#enqueue<TaskResult<T>>(runnable, list, inline, group, (value) => {
      if (callback) runCallback('callback', () => (callback as (...a: unknown[]) => void)(...callbackargs, value));
    });
  }

  #enqueue<R>(fn: TaskLike, args: unknown[], localOnly: boolean, group: string, onResult: (value: R) => void): Job<R> {
    let finished = false;
    const id = ++this.#jobIds;
    const result = new Promise<R>((resolve, reject) => {
      const start = (node: Node) => {
        const began = performance.now();
        node.running++;
        node.pool!.apply(fn, args as never).then(
          (value) => {
            this.#done(node, began);
            onResult(value as R);
            resolve(value as R);
          },
          (error: unknown) => {
            this.#done(node, began);
            reject(error);
          },
        );
      };
      this.#queued.push({ fn, args, localOnly, start, reject });
    });
    const settled = result.then(
      () => void (finished = true),
      () => void (finished = true),
    );
    this.#track(group, settled);
    this.#pump();
    const job = (() => result) as Job<R>;
    Object.defineProperties(job, {
      id: { value: id, enumerable: true },
      group: { value: group, enumerable: true },
      finished: { get: () => finished, enumerable: true },
    });
    return job;
  }

  #track(group: string, settled: Promise<void>): void {
    let set = this.#unsettled.get(group);
    if (!set) this.#unsettled.set(group, (set = new Set()));
    set.add(settled);
    void settled.then(() => {
      set.delete(settled);
      if (set.size === 0) this.#unsettled.delete(group);
    });
  }

  #done(node: Node, began: number): void {
    node.running--;
    node.njobs++;
    node.timeMs += performance.now() - began;
    this.#pump();
  }

  /** Starts queued jobs on nodes with a free cpu: local first, then the least busy ppserver. */
  #pump(): void {
    for (let i = 0; i < this.#queued.length; ) {
      const job = this.#queued[i]!;
      const node = this.#freeNode(job.localOnly);
      if (!node) {
        i++;
        continue;
      }
      this.#queued.splice(i, 1);
      job.start(node);
    }
  }

  #freeNode(localOnly: boolean): Node | undefined {
    if (this.#local.pool && this.#local.running < this.#local.capacity) return this.#local;
    if (localOnly) return undefined;
    let best: Node | undefined;
    for (const node of this.#remote) {
      if (node.running < node.capacity && (!best || node.running < best.running)) best = node;
    }
    return best;
  }

  /** Resolves once every job of `group` (or every job) has finished, whatever its outcome. */
  async wait(group?: string): Promise<void> {
    for (;;) {
      const pending =
        group === undefined ? [...this.#unsettled.values()].flatMap((s) => [...s]) : [...(this.#unsettled.get(group) ?? [])];
      if (pending.length === 0) return;
      await Promise.all(pending);
    }
  }

  /** Jobs and time per node (`local`, and each ppserver by its address), since creation. */
  getStats(): Record<string, NodeStats> {
    const stats: Record<string, NodeStats> = {};
    for (const node of [this.#local, ...this.#remote]) {
      stats[node.name] = { ncpus: node.capacity, njobs: node.njobs, timeMs: node.timeMs, running: node.running };
    }
    return stats;
  }

  /** Prints the statistics table, as pp's `print_stats()`. */
  printStats(write: (text: string) => void = (text) => process.stdout.write(text)): void {
    write(formatStats(this.getStats(), performance.now() - this.#created));
  }

  /** Stops now: queued and running jobs reject with PoolTerminatedError. */
  async destroy(): Promise<void> {
    this.#destroyed = true;
    const error = new PoolTerminatedError('The JobServer was destroyed before the job finished');
    for (const job of this.#queued.splice(0)) job.reject(error);
    const pools = [this.#local.pool, ...this.#remote.map((n) => n.pool)].filter((p): p is Pool => p !== undefined);
    await Promise.all([...pools.map((pool) => pool.terminate()), ...this.#retired]);
  }

  /** `await using js = new JobServer()`: waits for every job, then closes the pools. */
  async [Symbol.asyncDispose](): Promise<void> {
    await this.wait();
    this.#destroyed = true;
    const pools = [this.#local.pool, ...this.#remote.map((n) => n.pool)].filter((p): p is Pool => p !== undefined);
    for (const pool of pools) pool.close();
    await Promise.all([...pools.map((pool) => pool.join()), ...this.#retired]);
  }
}
