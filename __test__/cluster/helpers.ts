/** The cluster tests' Redis and workers (shared with the cluster benchmark), and a client to look inside. */
import { Redis } from 'ioredis';

import { haveRedisServer, type RedisServer } from '../../benchmark/cluster-env.js';

export { type RedisServer, type WorkerProcess, startRedis, startWorker, stopChild } from '../../benchmark/cluster-env.js';
export { packageRoot as root } from '../../benchmark/common.js';

export const haveRedis = haveRedisServer();
export const NO_REDIS = 'redis-server is not installed (apt-get install redis-server): cluster tests skipped';

/** A plain client, to look at what the cluster left in Redis. */
export function inspect(server: RedisServer): Redis {
  return new Redis(server.url, { maxRetriesPerRequest: 1 });
}

/** What cluster workers load when a test names no other tasks. */
const CLUSTER_TASKS = './__test__/cluster/fixtures/tasks.mjs';

export interface WorkerArgs {
  /** Default 1. */
  processes?: number;
  /** Default: the cluster fixture tasks. */
  tasks?: string[];
  /** More options, before `--tasks` (which takes the rest of the line). */
  extra?: string[];
}

/** The command line of a worker serving `queue` on `redis`. */
export function workerArgs(redis: RedisServer, queue: string, options: WorkerArgs = {}): string[] {
  const { processes = 1, tasks = [CLUSTER_TASKS], extra = [] } = options;
  return ['--connection', redis.url, '--queue', queue, '--processes', String(processes), ...extra, '--tasks', ...tasks];
}
