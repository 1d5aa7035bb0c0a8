import { Redis, type RedisOptions } from 'ioredis';

/** Where Redis is: a URL (REDIS_URL) or the private server's unix socket. */
export type RedisTarget = { url: string } | { socket: string };

export function describeTarget(target: RedisTarget): string {
  if ('socket' in target) return `unix:${target.socket}`;
  try {
    const u = new URL(target.url);
    return `${u.protocol}//${u.hostname}:${u.port || 6379}`; // never print credentials
  } catch {
    return 'redis (unparseable URL)';
  }
}

/**
 * Connections for the request path must fail fast: no offline queue, one retry at most, so a dead
 * Redis turns into a counted drop instead of an await that never ends.
 */
export function createFastFailRedis(target: RedisTarget, name: string): Redis {
  const opts: RedisOptions = {
    connectionName: name,
    enableOfflineQueue: false,
    maxRetriesPerRequest: 1,
    connectTimeout: 2000,
    retryStrategy: (times) => Math.min(times * 200, 2000),
    lazyConnect: false,
  };
  return quiet('socket' in target ? new Redis({ ...opts, path: target.socket }) : new Redis(target.url, opts));
}

/** Connection errors surface as readiness and drop counts; without a listener ioredis prints each one. */
function quiet(redis: Redis): Redis {
  redis.on('error', () => {});
  return redis;
}

/** Connections for BullMQ workers, which block on Redis and must never give up on a command. */
export function createBlockingRedis(target: RedisTarget, name: string): Redis {
  const opts: RedisOptions = {
    connectionName: name,
    maxRetriesPerRequest: null,
    enableOfflineQueue: true,
    retryStrategy: (times) => Math.min(times * 200, 2000),
  };
  return quiet('socket' in target ? new Redis({ ...opts, path: target.socket }) : new Redis(target.url, opts));
}
