/**
 * BullMQ and ioredis are optional peer dependencies: only the cluster backend, the worker command
 * and a JobServer with ppservers load them, on first use, so nobody else needs them installed.
 */
import { codedError } from '../../errors.js';

export type BullMQ = typeof import('bullmq');
export type RedisClient = import('ioredis').Redis;
export type RedisConstructor = new (...args: unknown[]) => RedisClient;

export interface ClusterDeps {
  bullmq: BullMQ;
  Redis: RedisConstructor;
}

let loading: Promise<ClusterDeps> | undefined;

function missing(name: string, error: unknown): Error {
  const why = error instanceof Error ? error.message : String(error);
  const failure = codedError(
    'ERR_MISSING_OPTIONAL_DEPENDENCY',
    `The cluster backend needs the optional packages 'bullmq' and 'ioredis', and '${name}' could not be loaded. ` +
      `Install them next to napi-multiprocessing: npm install bullmq ioredis (cause: ${why})`,
  );
  (failure as Error).cause = error;
  return failure;
}

async function load<T>(name: string, importer: () => Promise<T>): Promise<T> {
  try {
    return await importer();
  } catch (error) {
    throw missing(name, error);
  }
}

/** Loads both packages once; rejects with an error naming what to install when one is missing. */
export function loadClusterDeps(): Promise<ClusterDeps> {
  loading ??= (async () => {
    const bullmq = await load('bullmq', () => import('bullmq'));
    const ioredis = await load('ioredis', () => import('ioredis'));
    const module = ioredis as unknown as { default?: unknown; Redis?: unknown };
    const Redis = (typeof module.default === 'function' ? module.default : module.Redis) as RedisConstructor;
    return { bullmq, Redis };
  })();
  // A failed load is not cached: the user may install the packages and try again.
  loading.catch(() => (loading = undefined));
  return loading;
}
