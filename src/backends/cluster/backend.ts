/**
 * `backend: 'cluster'`: every batch the Pool hands over becomes one BullMQ job on a Redis queue,
 * run by whichever `napi-multiprocessing worker` takes it, on this machine or another.
 *
 * The Pool's chunking decides how many items travel together, so a 10,000-item map is a handful
 * of jobs, not 10,000 round trips. Results come back on a Redis list of this pool's own (one
 * BLPOP round trip fetches many), so pools sharing a queue never read each other's results, and
 * finished jobs are removed from Redis at once. A job whose worker died is put back by BullMQ's
 * stalled-job check and run again elsewhere; should BullMQ give up on it, its 'failed' event
 * fails that batch here instead of leaving it waiting.
 *
 * Connections open on first use and close when the pool has been idle for a moment, so a pool
 * that was never closed does not keep the process alive.
 */
import { randomUUID } from 'node:crypto';

import { PoolTerminatedError, WorkerCrashedError } from '../../errors.js';
import type { TaskSpec } from '../../task.js';
import { describeTask } from '../../task.js';
import { invalidType, invalidValue } from '../../validate.js';
import { deserializeError } from '../../worker/protocol.js';
import type { Backend, BackendOptions, Batch } from '../backend.js';
import { checkConnection, checkServerVersion, createClient, whenReady, type ConnectionOption } from './connection.js';
import { loadClusterDeps, type ClusterDeps, type RedisClient } from './deps.js';
import { describeWireTask, packItems, unpackResult, wireTask, type JobData, type WireResult, type WireTask } from './wire.js';

export const DEFAULT_QUEUE = 'napi-multiprocessing';
/** Idle time after which the connections close (reopened by the next submission). */
const IDLE_CLOSE_MS = 1000;
/** How long one blocking pop for results waits before it is issued again. */
const BLOCK_SECONDS = 1;
/** Results fetched per round trip after the blocking pop. */
const RESULTS_PER_FETCH = 1024;

export interface ClusterBackendOptions extends BackendOptions {
  connection?: unknown;
  queue?: unknown;
  resourceLimits?: unknown;
}

interface Pending {
  session: Session;
  task: WireTask;
  single: boolean;
  /** The operation it belongs to, for cancel(). */
  op: object | undefined;
  resolve: (value: unknown) => void;
  reject: (error: unknown) => void;
}

interface Outgoing {
  name: string;
  data: JobData;
  opts: { jobId: string; removeOnComplete: true; removeOnFail: true };
}

/** One set of connections, from first use until idle (or close/terminate). */
interface Session {
  readonly id: string;
  readonly reply: string;
  ready: Promise<Connected>;
  pending: number;
  outbox: Outgoing[];
  /** addBulk calls in flight, so terminate() removes jobs only once they exist. */
  adding: Set<Promise<unknown>>;
  reading: boolean;
  closed: boolean;
}

interface Connected {
  client: RedisClient;
  reader: RedisClient;
  queue: import('bullmq').Queue;
  events: import('bullmq').QueueEvents;
}

/** The TypeError for an inline function: its source would be code read from Redis. */
export function inlineRefused(spec: TaskSpec): TypeError {
  const error = invalidType('fn', 'a task() handle of a module the cluster workers serve, or a native kernel', {
    name: describeTask(spec),
  });
  error.message =
    `The "fn" argument must be a task() handle of a module the cluster workers serve, or a native kernel. ` +
    `Received inline function ${describeTask(spec)}. The cluster backend refuses inline functions: a worker that ` +
    `ran source text read from Redis would run code for anyone who can write to Redis (remote code execution). ` +
    `Export the function from a module, start the workers with --tasks that module, and pass task(moduleUrl, exportName).`;
  return error;
}

export function checkQueueName(value: unknown): string {
  if (value === undefined) return DEFAULT_QUEUE;
  if (typeof value !== 'string' || value.length === 0 || value.includes(':')) {
    throw invalidType('queue', "a non-empty string without ':'", value);
  }
  return value;
}

function refuseOption(name: string, why: string): TypeError {
  return invalidValue(`The "${name}" option is not supported by the cluster backend: ${why}`);
}

export class ClusterBackend implements Backend {
  readonly kind = 'cluster' as const;
  readonly #connection: ConnectionOption;
  readonly #queueName: string;
  readonly #deps: Promise<ClusterDeps>;
  readonly #pending = new Map<string, Pending>();
  #session: Session | undefined;
  #closing = new Set<Promise<void>>();
  #state: 'running' | 'draining' | 'terminated' = 'running';
  #seq = 0;
  #idleTimer: NodeJS.Timeout | undefined;
  #idleWaiters: (() => void)[] = [];

  constructor(options: ClusterBackendOptions) {
    if (options.connection === undefined) {
      throw invalidType('connection', "a redis:// URL or ioredis options (backend 'cluster' needs a Redis server)", undefined);
    }
    this.#connection = checkConnection(options.connection);
    this.#queueName = checkQueueName(options.queue);
    const workerSide = 'cluster workers are configured by the worker command that starts them';
    if (options.initializer) throw refuseOption('initializer', workerSide);
    if (options.maxtasksperchild !== undefined) throw refuseOption('maxtasksperchild', workerSide);
    if (options.resourceLimits !== undefined) throw refuseOption('resourceLimits', workerSide);
    this.#deps = loadClusterDeps();
    // Reported by the first submission; a pool that never submits must not crash the process.
    this.#deps.catch(() => {});
  }

  check(spec: TaskSpec): void {
    if (spec.kind === 'inline') throw inlineRefused(spec);
  }

  run(spec: TaskSpec, batch: Batch): Promise<unknown[]> {
    if (this.#state === 'terminated') return Promise.reject(new PoolTerminatedError());
    let data: Omit<JobData, 'reply'>;
    try {
      this.check(spec);
      data = { v: 1, task: wireTask(spec), star: batch.star, items: packItems(batch.items) };
    } catch (error) {
      return Promise.reject(error);
    }
    clearTimeout(this.#idleTimer);
    const session = this.#open();
    const jobId = `${session.id}-${++this.#seq}`;
    const work = new Promise<unknown[]>((resolve, reject) => {
      this.#pending.set(jobId, {
        session,
        task: data.task,
        single: batch.single === true,
        op: batch.op,
        resolve: resolve as never,
        reject,
      });
    });
    session.pending++;
    session.outbox.push({
      name: describeWireTask(data.task),
      data: { ...data, reply: session.reply },
      opts: { jobId, removeOnComplete: true, removeOnFail: true },
    });
    // Batches submitted in one tick (a whole map) go out in one addBulk round trip.
    if (session.outbox.length === 1) setImmediate(() => this.#flush(session));
    return work;
  }

  #open(): Session {
    if (this.#session) return this.#session;
    const id = randomUUID();
    const session: Session = {
      id,
      reply: `napi-mp:${this.#queueName}:results:${id}`,
      ready: undefined as never,
      pending: 0,
      outbox: [],
      adding: new Set(),
      reading: false,
      closed: false,
    };
    session.ready = this.#connect(session);
    session.ready.catch((error: unknown) => this.#failSession(session, error));
    this.#session = session;
    return session;
  }

  async #connect(session: Session): Promise<Connected> {
    const deps = await this.#deps;
    const client = createClient(deps, this.#connection, `napi-mp:pool:${session.id}`);
    const reader = client.duplicate();
    reader.on('error', () => {});
    try {
      await Promise.all([whenReady(client, this.#connection), whenReady(reader, this.#connection)]);
      await checkServerVersion(client, this.#connection);
      const queue = new deps.bullmq.Queue(this.#queueName, { connection: client });
      queue.on('error', () => {});
      // Read failures from the stream's present end: earlier events are other sessions' business.
      const last = (await client.xrevrange(`bull:${this.#queueName}:events`, '+', '-', 'COUNT', 1))[0]?.[0];
      const events = new deps.bullmq.QueueEvents(this.#queueName, { connection: client, lastEventId: last ?? '0' });
      events.on('error', () => {});
      events.on('failed', ({ jobId, failedReason }) => this.#onFailed(jobId, failedReason));
      await events.waitUntilReady();
      return { client, reader, queue, events };
    } catch (error) {
      reader.disconnect();
      client.disconnect();
      throw error;
    }
  }

  async #flush(session: Session): Promise<void> {
    const jobs = session.outbox.splice(0);
    if (jobs.length === 0 || session.closed) return;
    const adding = (async () => {
      const { queue } = await session.ready;
      await queue.addBulk(jobs);
    })();
    session.adding.add(adding);
    try {
      await adding;
      this.#read(session);
    } catch (error) {
      for (const job of jobs) this.#reject(job.opts.jobId, error);
    } finally {
      session.adding.delete(adding);
    }
  }

  /** One reader per session while it has work out: a blocking pop, then whatever else is there. */
  async #read(session: Session): Promise<void> {
    if (session.reading) return;
    session.reading = true;
    try {
      const { reader } = await session.ready;
      while (session.pending > 0 && !session.closed) {
        // A bounded wait, so that a list turned into something else meanwhile is noticed.
        const first = await reader.blpopBuffer(session.reply, BLOCK_SECONDS);
        if (!first) continue;
        const more = session.pending > 1 ? ((await reader.lpopBuffer(session.reply, RESULTS_PER_FETCH)) ?? []) : [];
        for (const bytes of [first[1], ...more]) this.#settle(unpackResult(bytes));
      }
    } catch (error) {
      // Closed on purpose (idle, drain, terminate): nobody waits on this reader. Anything else is
      // a command Redis refused (connection losses are retried, not thrown): fail, do not hang.
      if (!session.closed) {
        this.#failSession(session, error);
        void closeSession(session, false);
      }
    } finally {
      session.reading = false;
    }
  }

  #take(jobId: string): Pending | undefined {
    const pending = this.#pending.get(jobId);
    if (!pending) return undefined;
    this.#pending.delete(jobId);
    pending.session.pending--;
    queueMicrotask(() => this.#maybeIdle());
    return pending;
  }

  /** A result (or a duplicate of one, from a job run twice after its worker died: ignored). */
  #settle(result: WireResult | undefined): void {
    if (!result) return;
    const pending = this.#take(result.id);
    if (!pending) return;
    if (result.ok) {
      const values = result.values ?? [];
      pending.resolve(pending.single ? values[0] : values);
    } else {
      pending.reject(result.error ? deserializeError(result.error) : new Error('The cluster job failed without an error'));
    }
  }

  #reject(jobId: string, error: unknown): void {
    this.#take(jobId)?.reject(error);
  }

  #onFailed(jobId: string, reason: string): void {
    const pending = this.#pending.get(jobId);
    if (!pending) return;
    this.#reject(
      jobId,
      new WorkerCrashedError(
        `The cluster job running ${describeWireTask(pending.task)} failed in BullMQ: ${reason} ` +
          `(a job whose workers keep dying while running it is given up after the workers' maxStalledCount)`,
      ),
    );
  }

  #failSession(session: Session, error: unknown): void {
    for (const [jobId, pending] of this.#pending) if (pending.session === session) this.#reject(jobId, error);
    session.outbox.length = 0;
    if (this.#session === session) this.#session = undefined;
    session.closed = true;
  }

  #maybeIdle(): void {
    if (this.#pending.size > 0) return;
    for (const wake of this.#idleWaiters.splice(0)) wake();
    if (this.#state !== 'running' || !this.#session) return;
    clearTimeout(this.#idleTimer);
    const session = this.#session;
    this.#idleTimer = setTimeout(() => {
      if (this.#session === session && this.#pending.size === 0) this.#close(session, false);
    }, IDLE_CLOSE_MS);
    this.#idleTimer.unref();
  }

  #close(session: Session, removeJobs: string[] | false): Promise<void> {
    if (this.#session === session) this.#session = undefined;
    session.closed = true;
    const closing = closeSession(session, removeJobs);
    this.#closing.add(closing);
    void closing.finally(() => this.#closing.delete(closing));
    return closing;
  }

  async drain(): Promise<void> {
    if (this.#state === 'running') this.#state = 'draining';
    clearTimeout(this.#idleTimer);
    if (this.#pending.size > 0) await new Promise<void>((resolve) => this.#idleWaiters.push(resolve));
    if (this.#session) await this.#close(this.#session, false);
    await Promise.all(this.#closing);
  }

  /**
   * Rejects the aborted operation's batches and removes its jobs still waiting in Redis. A job a
   * worker has already taken runs to its end (BullMQ cannot stop it); its result is then ignored.
   */
  cancel(op: object, reason: Error): void {
    const jobIds = [...this.#pending].filter(([, pending]) => pending.op === op).map(([jobId]) => jobId);
    const first = jobIds[0] === undefined ? undefined : this.#pending.get(jobIds[0]);
    if (!first) return;
    const session = first.session;
    for (const jobId of jobIds) this.#reject(jobId, reason);
    session.outbox = session.outbox.filter((job) => !jobIds.includes(job.opts.jobId));
    void session.ready.then(
      ({ queue }) => Promise.allSettled(jobIds.map((jobId) => queue.remove(jobId))),
      () => {},
    );
  }

  async terminate(): Promise<void> {
    this.#state = 'terminated';
    clearTimeout(this.#idleTimer);
    const unsettled = [...this.#pending.keys()];
    const error = new PoolTerminatedError();
    for (const jobId of unsettled) this.#reject(jobId, error);
    if (this.#session) await this.#close(this.#session, unsettled);
    await Promise.all(this.#closing);
  }
}

/** Removes the jobs still waiting (when terminating), this session's result list, then every connection. */
async function closeSession(session: Session, removeJobs: string[] | false): Promise<void> {
  session.outbox.length = 0;
  let connected: Connected;
  try {
    connected = await session.ready;
  } catch {
    return;
  }
  const { client, reader, queue, events } = connected;
  await Promise.allSettled(session.adding);
  // A running job cannot be removed (its worker holds the lock); it finishes, and its result expires.
  if (removeJobs) await Promise.allSettled(removeJobs.map((jobId) => queue.remove(jobId)));
  await client.del(session.reply).catch(() => {});
  reader.disconnect();
  await Promise.allSettled([events.close(), queue.close()]);
  await client.quit().catch(() => client.disconnect());
}
