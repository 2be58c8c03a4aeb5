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
