import { existsSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { Redis } from 'ioredis';
import type { Config } from '../config/schema.js';
import { commandTarget, connectOnce, describeTarget, type RedisConnection, type RedisTarget } from '../redis/connection.js';
import { AggregateReader, countsOf, type AggregateOptions } from '../verdicts/aggregates.js';
import { durationSeconds } from './duration.js';
import { reportFigures } from './figures.js';
import type { ReliabilityReport } from './types.js';

/**
 * The reliability report from the aggregates the workers keep in Redis: no Prometheus needed.
 * The figures are the same sums Prometheus' increase() gives over the same traffic, exact rather
 * than extrapolated; the window is widened to whole buckets (minutes, or hours past the minute
 * buckets' retention).
 */

export class RedisSourceError extends Error {
  readonly code = 'VERACITY_ERR_REPORT_REDIS';
  constructor(message: string) {
    super(message);
    this.name = 'RedisSourceError';
  }
}

/**
 * Where `--redis` points: a redis:// or rediss:// URL, or a unix socket (`unix:/path` or a path);
 * or, resolved from the config, a target in any mode (URL with TLS files, Sentinel, Cluster).
 */
export type RedisLocation = { url: string } | { socket: string } | { target: RedisTarget };

export function parseRedisLocation(value: string): RedisLocation {
  if (/^rediss?:\/\//.test(value)) return { url: value };
  if (value.startsWith('unix:')) return { socket: value.slice(5) };
  if (value.startsWith('/') || value.startsWith('.')) return { socket: value };
  throw new RedisSourceError(`--redis ${JSON.stringify(value)} is neither a redis:// or rediss:// URL nor a unix socket path`);
}

/**
 * The Redis a report reads: `given` (--redis or REDIS_URL) with the configured credentials and TLS
 * files; else the one the config names in any mode (a URL in the file, Sentinel, Cluster); else
 * the embedded default's socket while `serve` runs. Undefined when there is none.
 */
export function reportLocation(config: Config, given?: string): RedisLocation | undefined {
  if (given !== undefined) {
    const loc = parseRedisLocation(given);
    return 'url' in loc ? { target: commandTarget(config.redis, loc.url)! } : loc;
  }
  const target = commandTarget(config.redis);
  if (target) return { target };
  const socket = embeddedSocket(config.redis.dataDir);
  return socket ? { socket } : undefined;
}

/** The embedded default's socket (`serve` without REDIS_URL), when it is there. */
export function embeddedSocket(dataDir: string): string | undefined {
  const socket = join(resolve(dataDir), 'redis.sock');
  return existsSync(socket) ? socket : undefined;
}

export function describeLocation(loc: RedisLocation): string {
  if ('target' in loc) return describeTarget(loc.target);
  if ('socket' in loc) return `unix:${loc.socket}`;
  try {
    const u = new URL(loc.url);
    return `${u.protocol}//${u.hostname}:${u.port || 6379}`; // never credentials
  } catch {
    return 'redis';
  }
}

export async function connectReportRedis(loc: RedisLocation): Promise<RedisConnection> {
  if ('target' in loc) {
    try {
      return await connectOnce(loc.target, 'veracity-report');
    } catch (err) {
      throw new RedisSourceError((err as Error).message);
    }
  }
  const opts = { lazyConnect: true, maxRetriesPerRequest: 1, enableOfflineQueue: false, connectTimeout: 5000, retryStrategy: () => null };
  const redis = 'socket' in loc ? new Redis({ ...opts, path: loc.socket }) : new Redis(loc.url, opts);
  redis.on('error', () => {});
  try {
    await redis.connect();
  } catch (err) {
    redis.disconnect();
    throw new RedisSourceError(`cannot reach Redis at ${describeLocation(loc)}: ${(err as Error).message}`);
  }
  return redis;
}

export interface RedisReportOptions {
  redis: RedisConnection;
  location: string;
  aggregates: AggregateOptions;
  since: string;
  /** Evaluation time, Unix seconds; now when unset. */
  at?: number;
}

export async function buildReportFromRedis(options: RedisReportOptions): Promise<ReliabilityReport> {
  const at = options.at ?? Math.floor(Date.now() / 1000);
  const seconds = durationSeconds(options.since);
  const from = Math.floor(at - seconds);
  const reader = new AggregateReader(options.redis, options.aggregates);
  let range;
  try {
    range = await reader.read(from, Math.floor(at) + 1);
  } catch (err) {
    throw new RedisSourceError(`cannot read the aggregates from Redis at ${options.location}: ${(err as Error).message}`);
  }
  const primary = range.models.filter((m) => m.key.traffic === 'primary' && (m.total.checks ?? 0) > 0);
  const { overall, models } = reportFigures(primary.map((m) => ({ provider: m.key.provider, model: m.key.model, counts: countsOf(m.total) })));
  const unit = range.resolution === 60 ? 'minute' : 'hour';
  return {
    prometheus: '',
    source: {
      kind: 'redis',
      location: options.location,
      window: { from: range.from, to: range.to },
      note: `aggregates kept by the workers in Redis, exact counts, window widened to whole ${unit}s (${new Date(range.from * 1000).toISOString()} to ${new Date(range.to * 1000).toISOString()})`,
    },
    since: options.since,
    evaluatedAt: at,
    overall,
    models,
  };
}
