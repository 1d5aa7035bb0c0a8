/**
 * Why the private redis-server could not be started or shared, each with a code of its own so a
 * script or a test can tell them apart. The message always says what to do next.
 */
export type EmbeddedRedisCode =
  /** redis-server is not installed (or not where redis.binary says). */
  | 'VERACITY_ERR_REDIS_NOT_FOUND'
  /** redis-server is older than BullMQ accepts. */
  | 'VERACITY_ERR_REDIS_TOO_OLD'
  /** The data directory cannot be created or written. */
  | 'VERACITY_ERR_REDIS_DATA_DIR'
  /** No unix socket path short enough for the kernel could be found. */
  | 'VERACITY_ERR_REDIS_SOCKET_PATH'
  /** The data directory is locked, but no private redis-server answers there. */
  | 'VERACITY_ERR_REDIS_LOCKED'
  /** util-linux's flock or setpriv is missing: the lock and the parent-death signal need them. */
  | 'VERACITY_ERR_REDIS_PLATFORM'
  /** redis-server exited or did not answer while starting. */
  | 'VERACITY_ERR_REDIS_START'
  /** Called from a worker thread: the parent-death signal would fire when that thread ends. */
  | 'VERACITY_ERR_REDIS_THREAD';

export class EmbeddedRedisError extends Error {
  constructor(
    readonly code: EmbeddedRedisCode,
    message: string,
  ) {
    super(message);
    this.name = 'EmbeddedRedisError';
  }
}

/** The way out that always exists: a Redis run by someone else. */
export const USE_REDIS_URL = 'or point Veracity at a Redis of your own with REDIS_URL=redis://host:6379';
