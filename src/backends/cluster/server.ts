/**
 * The serving side of the cluster backend, behind `napi-multiprocessing worker`: takes jobs from
 * the BullMQ queue and runs them on a local Pool.
 *
 * A worker runs only what it was started with: the modules named on its command line (imported
 * at start, so a typo fails at once) and the native kernels. A job names its task; the worker
 * looks that name up and runs nothing else, so whoever can write to Redis can make it run those
 * functions with data arguments, never code of their own.
 */
import { hostname } from 'node:os';
import { createRequire } from 'node:module';
import { isAbsolute, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';

import { Pool, native, task, type TaskLike } from '../../../index.js';
import { checkConnection, createClient, describeConnection, whenReady, type ConnectionOption } from './connection.js';
import { loadClusterDeps, type ClusterDeps, type RedisClient } from './deps.js';
import { NAME_SCHEME, packageKey } from './names.js';
import { checkJobData, packResult, relayError, unpackItems, type WireResult, type WireTask } from './wire.js';

/** A result nobody reads (its pool is gone) leaves Redis after this long. */
const RESULT_TTL_MS = 60 * 60 * 1000;
const KERNELS = ['isPrime', 'sumPrimes', 'sumPrimesBigInt'] as const;
/**
 * Jobs shorter than this (mean) are taken two per local worker: the next one is fetched while
 * the current one runs, hiding the round trips through Redis between them. Longer jobs are taken
 * one per local worker, so that none waits behind another here while a worker elsewhere idles.
 */
const PREFETCH_BELOW_MS = 50;

export interface ServeOptions {
  connection: ConnectionOption;
  queue: string;
  processes: number;
  backend: 'thread' | 'process' | 'native';
  /** `FILE`, `PACKAGE/SPECIFIER`, `file:` URL, or `NAME=` any of those. */
  tasks: string[];
  /** BullMQ worker settings (ms): how soon a dead worker's job is put back. */
  lockDuration?: number;
  stalledInterval?: number;
  maxStalledCount?: number;
  cwd?: string;
}

export interface ServedModule {
  url: string;
  /** Every name a job may use for this module. */
  names: string[];
  exports: string[];
  module: Record<string, unknown>;
}

/** Where a `--tasks` entry points: a path (relative to cwd), a file URL, or a package specifier. */
export function resolveTaskEntry(entry: string, cwd: string): { alias?: string; url: string } {
  const eq = entry.indexOf('=');
  const alias = eq > 0 ? entry.slice(0, eq) : undefined;
  const spec = eq > 0 ? entry.slice(eq + 1) : entry;
  if (spec.length === 0) throw new Error(`--tasks '${entry}' names no module`);
  if (spec.startsWith('file:')) return { alias, url: spec };
  if (isAbsolute(spec) || spec.startsWith('.')) return { alias, url: pathToFileURL(resolve(cwd, spec)).href };
  try {
    const resolved = createRequire(pathToFileURL(resolve(cwd, 'noop.js'))).resolve(spec);
    return { alias, url: pathToFileURL(resolved).href };
  } catch {
    // Not a package: a path relative to cwd written without './'.
    return { alias, url: pathToFileURL(resolve(cwd, spec)).href };
  }
}

function functionExports(module: Record<string, unknown>): string[] {
  const names = Object.keys(module).filter((k) => typeof module[k] === 'function');
  const cjs = module.default;
  if (cjs && typeof cjs === 'object') {
    for (const k of Object.keys(cjs))
      if (typeof (cjs as Record<string, unknown>)[k] === 'function' && !names.includes(k)) names.push(k);
  }
  return names;
}

export async function loadServedModules(entries: string[], cwd: string): Promise<ServedModule[]> {
  const served: ServedModule[] = [];
  for (const entry of entries) {
    const { alias, url } = resolveTaskEntry(entry, cwd);
    let module: Record<string, unknown>;
    try {
      module = (await import(url)) as Record<string, unknown>;
    } catch (error) {
      throw new Error(`--tasks ${entry}: cannot import ${url}: ${(error as Error).message}`, { cause: error });
    }
    const pkg = packageKey(url);
    const names = [...(alias ? [`${NAME_SCHEME}${alias}`] : []), ...(pkg ? [pkg] : []), url];
    served.push({ url, names, exports: functionExports(module), module });
  }
  return served;
}

export class ClusterWorker {
  readonly node = `${hostname()}:${process.pid}`;
  readonly served: ServedModule[];
  readonly #byName = new Map<string, ServedModule>();
  readonly #handles = new Map<string, TaskLike>();
  readonly #pool: Pool;
  readonly #client: RedisClient;
  readonly #worker: import('bullmq').Worker;
  readonly #processes: number;
  /** Mean job time in ms (EWMA), undefined until a first job finished. */
  #meanMs: number | undefined;
  #closing: Promise<void> | undefined;

  private constructor(served: ServedModule[], pool: Pool, client: RedisClient, deps: ClusterDeps, options: ServeOptions) {
    this.served = served;
    for (const module of served) for (const name of module.names) this.#byName.set(name, module);
    this.#pool = pool;
    this.#client = client;
    this.#processes = options.processes;
    this.#worker = new deps.bullmq.Worker(options.queue, (job) => this.#process(job), {
      connection: client,
      concurrency: options.processes,
      name: this.node,
      ...(options.lockDuration ? { lockDuration: options.lockDuration } : {}),
      ...(options.stalledInterval ? { stalledInterval: options.stalledInterval } : {}),
      ...(options.maxStalledCount !== undefined ? { maxStalledCount: options.maxStalledCount } : {}),
    });
    this.#worker.on('error', (error) => process.stderr.write(`napi-multiprocessing worker: ${error.message}\n`));
  }

  /** Imports the task modules, connects, and starts taking jobs. */
  static async start(options: ServeOptions): Promise<ClusterWorker> {
    checkConnection(options.connection, '--connection');
    const deps = await loadClusterDeps();
    const served = await loadServedModules(options.tasks, options.cwd ?? process.cwd());
    const client = createClient(deps, options.connection, `napi-mp:worker:${hostname()}:${process.pid}`);
    try {
      await whenReady(client, options.connection);
    } catch (error) {
      client.disconnect();
      throw error;
    }
    const pool = new Pool({ processes: options.processes, backend: options.backend });
    const worker = new ClusterWorker(served, pool, client, deps, options);
    await worker.#worker.waitUntilReady();
    return worker;
  }

  /** What this worker serves and where, as the command prints it. */
  describe(options: ServeOptions): string {
    const lines = [
      `napi-multiprocessing worker ${this.node}: queue '${options.queue}' on ${describeConnection(options.connection)}`,
      `  runs jobs on a local '${options.backend}' pool of ${options.processes}, ${options.processes} job(s) at a time (${2 * options.processes} while jobs are short)`,
    ];
    for (const module of this.served) {
      lines.push(`  serves ${module.names.join(' | ')}`, `    exports: ${module.exports.join(', ') || '(no functions)'}`);
    }
    lines.push(`  serves native kernels: ${KERNELS.map((k) => `native.${k}`).join(', ')}`);
    return lines.join('\n');
  }

  #lookup(wire: WireTask): TaskLike {
    if (wire.kind === 'kernel') {
      if (!(KERNELS as readonly string[]).includes(wire.name)) throw new TypeError(`Unknown native kernel '${wire.name}'`);
      return native[wire.name as (typeof KERNELS)[number]];
    }
    const module = wire.keys.map((key) => this.#byName.get(key)).find((m) => m !== undefined);
    if (!module) {
      const known = this.served.map((m) => m.names[0]).join(', ') || 'native kernels only';
      throw new Error(
        `Worker ${this.node} does not serve the module of task '${wire.exportName}' (asked for ${wire.keys.join(' or ')}; it serves ${known}). ` +
          `Start the workers of this queue with --tasks that module.`,
      );
    }
    if (!module.exports.includes(wire.exportName)) {
      throw new TypeError(
        `Module ${module.names[0]} has no exported function '${wire.exportName}' (it exports ${module.exports.join(', ')})`,
      );
    }
    const key = `${module.url}#${wire.exportName}`;
    let handle = this.#handles.get(key);
    if (!handle) this.#handles.set(key, (handle = task(module.url, wire.exportName)));
    return handle;
  }

  async #process(job: import('bullmq').Job): Promise<void> {
    const started = performance.now();
    // Not ours (or damaged): fail the job in BullMQ; there is no reply list to answer on.
    const data = checkJobData(job.data);
    const id = job.id!;
    let result: WireResult;
    try {
      const fn = this.#lookup(data.task);
      const items = unpackItems(data.items);
      const values = data.star ? await this.#pool.starmap(fn, items as unknown[][]) : await this.#pool.map(fn, items);
      result = { id, ok: true, values, node: this.node, ms: performance.now() - started };
    } catch (error) {
      result = { id, ok: false, error: relayError(error), node: this.node, ms: performance.now() - started };
    }
    await this.#client.multi().rpush(data.reply, packResult(result)).pexpire(data.reply, RESULT_TTL_MS).exec();
    this.#adapt(result.ms);
  }

  #adapt(ms: number): void {
    this.#meanMs = this.#meanMs === undefined ? ms : this.#meanMs * 0.7 + ms * 0.3;
    const concurrency = this.#meanMs < PREFETCH_BELOW_MS ? 2 * this.#processes : this.#processes;
    if (this.#worker.concurrency !== concurrency) this.#worker.concurrency = concurrency;
  }

  /** Takes no new job, lets the running ones finish, then stops the local pool and disconnects. */
  close(): Promise<void> {
    this.#closing ??= (async () => {
      await this.#worker.close();
      this.#pool.close();
      await this.#pool.join();
      await this.#client.quit().catch(() => this.#client.disconnect());
    })();
    return this.#closing;
  }
}
