/**
 * Workload `cluster` (when redis-server is on PATH): a local redis-server and two
 * `napi-multiprocessing worker` processes of one thread each, against the JS single thread, the
 * thread pool, and BullMQ used directly (two plain BullMQ workers, one job per task):
 * - the seed workload (speedups over the JS single thread);
 * - 10,000 trivial tasks through pool.map (speedups over BullMQ with one job per task), which is
 *   where chunks-as-jobs pay: a handful of jobs instead of 10,000 round trips through Redis.
 */
import { join } from 'node:path';

import { Pool, task } from '../index.js';
import {
  type RedisServer,
  type WorkerProcess,
  haveRedisServer,
  startReady,
  startRedis,
  startWorker,
  stopChild,
} from './cluster-env.js';
import { type BenchRecord, expectedSeedChecksum, packageRoot, seedInputs, sum, tasksModule } from './common.js';
import { type Engine, type Runner, type TaskName, Unavailable, jsSingle, ourPool } from './engines.js';
import { applySpeedups, emptyRecord, engineSteps, measureEngine, type SuiteContext } from './measure.js';
import { BASELINE, runTimeoutMs } from './seed.js';

const WORKERS = 2;
const POOL_QUEUE = 'bench-cluster';
const DIRECT_QUEUE = 'bench-bullmq-direct';
export const DIRECT = 'BullMQ direct, one job per task';
const SEED_CHUNK = 4;

export const clusterTrivialTasks = (quick: boolean) => (quick ? 1_000 : 10_000);
/** BullMQ with one job per task takes tens of seconds per 10,000: fewer runs of the trivial rows. */
const trivialRuns = (runs: number) => Math.min(runs, 2);

function clusterEngine(redis: RedisServer): Engine {
  return {
    name: 'Pool cluster backend',
    kind: 'ours',
    threads: WORKERS,
    pooled: true,
    // One BullMQ job per chunk. The seed in chunks of 4 (50 jobs): one job per input pays a trip
    // through Redis for each of 200 inputs, and the default 8 chunks of 25 grow with n, so that
    // the last one caps 2 workers at 1.74x (see the seed notes). Trivial maps keep the default.
    note: `${WORKERS} CLI workers × 1 thread on a local Redis; pool.map(task(primes.mjs, fn), xs, fn === 'sumPrimes' ? ${SEED_CHUNK} : default)`,
    async start() {
      const begin = performance.now();
      const pool = new Pool({ backend: 'cluster', connection: redis.url, queue: POOL_QUEUE, processes: WORKERS });
      const fns = {
        sumPrimes: task(tasksModule, 'sumPrimes'),
        noop: task(tasksModule, 'noop'),
        isPrime: task(tasksModule, 'isPrime'),
      };
      try {
        await Promise.all(Array.from({ length: WORKERS }, () => pool.apply(fns.sumPrimes, [0])));
      } catch (error) {
        await pool.terminate();
        throw error;
      }
      const map = async (fn: TaskName, inputs: number[]) =>
        sum((await pool.map(fns[fn] as never, inputs as never, fn === 'sumPrimes' ? SEED_CHUNK : undefined)) as number[]);
      return {
        startupMs: performance.now() - begin,
        map,
        each: async (fn, inputs) =>
          sum((await Promise.all(inputs.map((x) => pool.apply(fns[fn] as never, [x] as never)))) as number[]),
        close: () => pool.terminate(),
      };
    },
  };
}

/** BullMQ as its users write it: addBulk, one job per task, results from QueueEvents. */
function directEngine(redis: RedisServer): Engine {
  return {
    name: DIRECT,
    kind: 'library',
    threads: WORKERS,
    pooled: true,
    note: `queue.addBulk(one job per task), results from QueueEvents 'completed'; ${WORKERS} plain BullMQ workers, concurrency 1`,
    async start() {
      const begin = performance.now();
      let bullmq: typeof import('bullmq');
      try {
        bullmq = await import('bullmq');
      } catch {
        throw new Unavailable('not installed', 'npm i -D bullmq ioredis to compare with it');
      }
      const connection = { url: redis.url };
      // 10,000 jobs make some 40,000 events: keep them all until read.
      const queue = new bullmq.Queue(DIRECT_QUEUE, { connection, streams: { events: { maxLen: 1_000_000 } } });
      // From the stream's start, not its end ('$'): a QueueEvents reads from where it is when its
      // first XREAD runs, and on a busy machine a first job can finish before that.
      const events = new bullmq.QueueEvents(DIRECT_QUEUE, { connection, lastEventId: '0-0' });
      queue.on('error', () => {});
      events.on('error', () => {});
      await events.waitUntilReady();
      let runs = 0;
      const map = (fn: TaskName, inputs: number[]) => runDirect(queue, events, `r${++runs}`, fn, inputs);
      const close = async () => {
        await Promise.allSettled([events.close(), queue.close()]);
      };
      try {
        await map(
          'sumPrimes',
          Array.from({ length: WORKERS }, () => 0),
        );
      } catch (error) {
        await close();
        throw error;
      }
      return { startupMs: performance.now() - begin, map, each: map, close } satisfies Runner;
    },
  };
}

function runDirect(
  queue: import('bullmq').Queue,
  events: import('bullmq').QueueEvents,
  run: string,
  fn: TaskName,
  inputs: number[],
): Promise<number> {
  return new Promise((resolve, reject) => {
    const pending = new Set(inputs.map((_, i) => `${run}-${i}`));
    let total = 0;
    const finish = (error?: Error) => {
      events.off('completed', onCompleted);
      events.off('failed', onFailed);
      if (error) reject(error);
      else resolve(total);
    };
    const onCompleted = ({ jobId, returnvalue }: { jobId: string; returnvalue: unknown }) => {
      if (!pending.delete(jobId)) return;
      total += Number(returnvalue);
      if (pending.size === 0) finish();
    };
    const onFailed = ({ jobId, failedReason }: { jobId: string; failedReason: string }) => {
      if (pending.has(jobId)) finish(new Error(`BullMQ job ${jobId} failed: ${failedReason}`));
    };
    events.on('completed', onCompleted);
    events.on('failed', onFailed);
    const jobs = inputs.map((x, i) => ({
      name: fn,
      data: { fn, x },
      opts: { jobId: `${run}-${i}`, removeOnComplete: true, removeOnFail: true },
    }));
    queue.addBulk(jobs).catch(finish);
  });
}

export function clusterSteps(runs: number): number {
  return 4 * engineSteps({ pooled: true }, runs) + 3 * engineSteps({ pooled: true }, trivialRuns(runs));
}

interface ClusterEnv {
  redis: RedisServer;
  processes: WorkerProcess[];
}

async function startEnv(): Promise<ClusterEnv> {
  const redis = await startRedis();
  const processes: WorkerProcess[] = [];
  try {
    const tasks = join(packageRoot, 'benchmark', 'tasks', 'primes.mjs');
    const direct = join(packageRoot, 'benchmark', 'tasks', 'bullmq-worker.mjs');
    for (let i = 0; i < WORKERS; i++) {
      processes.push(await startWorker(['--connection', redis.url, '--queue', POOL_QUEUE, '--processes', '1', '--tasks', tasks]));
      processes.push(await startReady([direct, redis.url, DIRECT_QUEUE], 'a plain BullMQ worker'));
    }
    return { redis, processes };
  } catch (error) {
    await stopEnv({ redis, processes });
    throw error;
  }
}

async function stopEnv(env: ClusterEnv): Promise<void> {
  await Promise.all(env.processes.map((p) => stopChild(p.child, 'SIGKILL')));
  await env.redis.stop();
}

function unavailableRows(ctx: SuiteContext, status: 'skipped' | 'not installed', note: string): BenchRecord[] {
  const expected = expectedSeedChecksum(ctx.options.n, ctx.options.step);
  return ['Pool cluster backend', DIRECT].map((name) => ({
    ...emptyRecord(
      'cluster',
      { name, kind: name === DIRECT ? 'library' : 'ours', threads: WORKERS, items: 1, expectedChecksum: expected },
      ctx.machine,
    ),
    status,
    note,
  }));
}

export async function runCluster(ctx: SuiteContext): Promise<BenchRecord[]> {
  if (!haveRedisServer()) return unavailableRows(ctx, 'skipped', 'redis-server is not on PATH (apt-get install redis-server)');
  try {
    await import('bullmq');
  } catch {
    return unavailableRows(ctx, 'not installed', 'the cluster backend needs bullmq and ioredis: npm i bullmq ioredis');
  }
  const env = await startEnv();
  try {
    return await measureCluster(ctx, env.redis);
  } finally {
    await stopEnv(env);
  }
}

async function measureCluster(ctx: SuiteContext, redis: RedisServer): Promise<BenchRecord[]> {
  const { n, step, quick, runs } = ctx.options;
  const inputs = seedInputs(n, step);
  const expected = expectedSeedChecksum(n, step);
  const seed: BenchRecord[] = [];
  const measure = (engine: Engine, timeoutMs: number) =>
    measureEngine(ctx, 'cluster', engine, (r) => r.map('sumPrimes', inputs), expected, inputs.length, timeoutMs);
  seed.push(await measure(jsSingle, runTimeoutMs(null)));
  const timeoutMs = runTimeoutMs(seed[0]!.medianMs);
  for (const engine of [ourPool('thread', WORKERS), clusterEngine(redis), directEngine(redis)])
    seed.push(await measure(engine, timeoutMs));
  for (const r of seed) r.series = 'seed';
  applySpeedups(seed, BASELINE);

  const count = clusterTrivialTasks(quick);
  const xs = Array.from({ length: count }, (_, i) => i);
  const sub = { ...ctx, options: { ...ctx.options, runs: trivialRuns(runs) } };
  const trivial: BenchRecord[] = [];
  for (const engine of [directEngine(redis), clusterEngine(redis), ourPool('thread', WORKERS)]) {
    const label =
      engine.name === DIRECT
        ? `${DIRECT}: ${count.toLocaleString('en-US')} noop`
        : `${engine.name}: map of ${count.toLocaleString('en-US')} noop`;
    const warmup = (r: Runner) => r.map('noop', xs.slice(0, Math.ceil(count / 10)));
    const record = await measureEngine(
      sub,
      'cluster',
      engine,
      (r) => r.map('noop', xs),
      (count * (count - 1)) / 2,
      count,
      runTimeoutMs(null),
      label,
      warmup,
    );
    record.series = 'trivial';
    record.opsPerSecond = record.status === 'ok' && record.medianMs ? (count * 1000) / record.medianMs : null;
    trivial.push(record);
  }
  applySpeedups(trivial, trivial[0]!.name);
  return [...seed, ...trivial];
}
