/**
 * The `connection` option: a `redis://` / `rediss://` URL (passwords and TLS pass through to
 * ioredis), a Unix socket path, or an ioredis options object.
 */
import { codedError } from '../../errors.js';
import { invalidType } from '../../validate.js';
import type { ClusterDeps, RedisClient } from './deps.js';

export type ConnectionOption = string | Record<string, unknown>;

/** How long the first connection may take before the work waiting on it fails (ioredis retries forever). */
export const CONNECT_TIMEOUT_MS = 10_000;

export function checkConnection(value: unknown, name = 'connection'): ConnectionOption {
  if (typeof value === 'string') {
    if (value.startsWith('/')) return value;
    let url: URL;
    try {
      url = new URL(value);
    } catch {
      throw invalidType(name, 'a redis:// or rediss:// URL, a socket path or an ioredis options object', value);
    }
    if (url.protocol !== 'redis:' && url.protocol !== 'rediss:') {
      throw invalidType(name, 'a redis:// or rediss:// URL, a socket path or an ioredis options object', value);
    }
    return value;
  }
  if (value !== null && typeof value === 'object' && !Array.isArray(value)) return value as Record<string, unknown>;
  throw invalidType(name, 'a redis:// or rediss:// URL, a socket path or an ioredis options object', value);
}

/** The connection as a user may see it printed: no password. */
export function describeConnection(connection: ConnectionOption): string {
  if (typeof connection === 'string') {
    if (connection.startsWith('/')) return connection;
    const url = new URL(connection);
    if (url.password) url.password = '***';
    return url.href.replace(/\/$/, '');
  }
  const {
    host = '127.0.0.1',
    port = 6379,
    path,
    tls,
  } = connection as { host?: string; port?: number; path?: string; tls?: unknown };
  return path ? String(path) : `${tls ? 'rediss' : 'redis'}://${host}:${port}`;
}

/**
 * A new client. `maxRetriesPerRequest: null`, as BullMQ requires: a command waits through a
 * Redis restart instead of failing the work.
 */
export function createClient(deps: ClusterDeps, connection: ConnectionOption, name?: string): RedisClient {
  const overrides = { maxRetriesPerRequest: null, ...(name ? { connectionName: name } : {}) };
  const client =
    typeof connection === 'string' ? new deps.Redis(connection, overrides) : new deps.Redis({ ...connection, ...overrides });
  // Connection errors are reported through the work that waits on them (see whenReady), not as
  // unhandled 'error' events.
  client.on('error', () => {});
  return client;
}

/** Resolves once `client` is connected; rejects with the last connection error after `ms`. */
export function whenReady(client: RedisClient, connection: ConnectionOption, ms = CONNECT_TIMEOUT_MS): Promise<void> {
  if (client.status === 'ready') return Promise.resolve();
  return new Promise<void>((resolve, reject) => {
    let lastError: unknown;
    const onError = (error: unknown) => (lastError = error);
    const done = () => {
      clearTimeout(timer);
      client.off('error', onError);
      client.off('ready', onReady);
    };
    const onReady = () => {
      done();
      resolve();
    };
    const timer = setTimeout(() => {
      done();
      const why = lastError instanceof Error ? lastError.message : 'no answer';
      const error = codedError(
        'ERR_CLUSTER_CONNECTION',
        `Could not connect to Redis at ${describeConnection(connection)} within ${ms} ms (${why})`,
      );
      if (lastError !== undefined) (error as Error).cause = lastError;
      reject(error);
    }, ms);
    client.on('error', onError);
    client.once('ready', onReady);
  });
}

/** Redis 6.2 or later (LPOP with a count, which the pool's result reader uses); Valkey reports a Redis version too. */
export async function checkServerVersion(client: RedisClient, connection: ConnectionOption): Promise<void> {
  const info = await client.info('server');
  const version = /^redis_version:(\d+)\.(\d+)/m.exec(info);
  if (version && (Number(version[1]) < 6 || (Number(version[1]) === 6 && Number(version[2]) < 2))) {
    throw codedError(
      'ERR_CLUSTER_CONNECTION',
      `The cluster backend needs Redis 6.2 or later; ${describeConnection(connection)} runs ${version[1]}.${version[2]}`,
    );
  }
}
