import type { Metrics } from '../metrics/registry.js';
import { formatBytes } from './embedded/maxmemory.js';

export interface MemoryMonitorOptions {
  pollMs: number;
  /** Share of maxmemory above which `full` is true. */
  highWater: number;
  warn: (msg: string) => void;
  info: (msg: string) => void;
}

interface Reading {
  used: number;
  /** 0 = no limit. */
  max: number;
  policy: string;
  /** False when Redis's last snapshot failed (and, by default, it refuses writes until one succeeds). */
  saved: boolean;
}

/**
 * Reads Redis's memory (INFO memory) and last snapshot status (INFO persistence) every few
 * seconds, for any Redis: the private one or one at REDIS_URL. It keeps the
 * veracity_redis_memory_* gauges, tells the proxy when Redis is over the high-water mark, and says
 * in the log when Redis is short of memory, cannot save, or may evict keys.
 *
 * Why a high-water mark and not an eviction policy: BullMQ's keys must never be evicted, so Redis
 * runs with noeviction and refuses writes once full. Left at that, the proxy would fill Redis to
 * the last byte with new exchanges, and the worker could no longer store the verdicts of those
 * already queued. Stopping new hand-offs at 90% keeps the rest for verdicts; each one stored lets
 * its exchange's bytes be deleted, so the queue drains and memory comes back.
 */
export class RedisMemoryMonitor {
  private last: Reading | undefined;
  private timer: NodeJS.Timeout | undefined;
  private warnedPolicy = false;
  private polling = false;

  constructor(
    private readonly client: { info(section: string): Promise<string> },
    private readonly metrics: Metrics,
    private readonly options: MemoryMonitorOptions,
  ) {}

  start(): this {
    void this.poll();
    this.timer = setInterval(() => void this.poll(), this.options.pollMs);
    this.timer.unref();
    return this;
  }

  stop(): void {
    if (this.timer) clearInterval(this.timer);
  }

  /** Redis is over the high-water mark of its maxmemory, as last read (never with a mark of 1: Redis's own limit decides). */
  get full(): boolean {
    return !!this.last && this.last.max > 0 && this.options.highWater < 1 && this.last.used >= this.options.highWater * this.last.max;
  }

  async poll(): Promise<void> {
    if (this.polling) return;
    this.polling = true;
    try {
      const memory = fields(await this.client.info('memory'));
      const persistence = fields(await this.client.info('persistence'));
      const wasFull = this.full;
      const before = this.last;
      this.last = {
        used: Number(memory.used_memory ?? 0),
        max: Number(memory.maxmemory ?? 0),
        policy: memory.maxmemory_policy ?? 'noeviction',
        saved: persistence.rdb_last_bgsave_status !== 'err',
      };
      this.metrics.redisMemoryUsed.set(this.last.used);
      this.metrics.redisMemoryMax.set(this.last.max);
      this.report(wasFull, before);
    } catch {
      // Redis down: /readyz and the drop counters say so.
    } finally {
      this.polling = false;
    }
  }

  private report(wasFull: boolean, before: Reading | undefined): void {
    const r = this.last!;
    if (this.full && !wasFull) {
      this.options.warn(
        `Redis uses ${formatBytes(r.used)} of its maxmemory ${formatBytes(r.max)} (${Math.round((100 * r.used) / r.max)}%, over redis.memoryHighWater ` +
          `${this.options.highWater}): new exchanges are not queued, dropped and counted as veracity_analysis_dropped_total{reason="redis_full"}, ` +
          'until the workers drain the queue or verdicts expire; raise redis.maxmemory (or the maxmemory of the Redis at REDIS_URL)',
      );
    } else if (!this.full && wasFull) {
      this.options.info(`Redis memory is back under the high-water mark (${formatBytes(r.used)} of ${formatBytes(r.max)}): exchanges are queued again`);
    }
    if (r.policy !== 'noeviction' && !this.warnedPolicy) {
      this.warnedPolicy = true;
      this.options.warn(
        `Redis's maxmemory-policy is ${r.policy}: when full it deletes keys, which can be the bytes of queued exchanges (they carry a TTL) ` +
          "or BullMQ's job locks; set maxmemory-policy noeviction",
      );
    }
    if (!r.saved && (before?.saved ?? true)) {
      this.options.warn(
        'Redis could not save its snapshot (rdb_last_bgsave_status:err; a full or read-only disk?): while it cannot, it refuses writes ' +
          '(stop-writes-on-bgsave-error), and analyses are dropped and counted as veracity_analysis_dropped_total{reason="redis_cannot_persist"}',
      );
    } else if (r.saved && before && !before.saved) {
      this.options.info('Redis saved its snapshot again: writes are accepted');
    }
  }
}

function fields(info: string): Record<string, string> {
  const out: Record<string, string> = {};
  for (const line of info.split('\n')) {
    const at = line.indexOf(':');
    if (at > 0) out[line.slice(0, at)] = line.slice(at + 1).trim();
  }
  return out;
}

/** The drop reason for a write Redis refused, when it refused for lack of memory or of a snapshot. */
export function refusalReason(err: unknown): 'redis_full' | 'redis_cannot_persist' | undefined {
  const msg = (err as Error | undefined)?.message ?? '';
  if (/\bOOM command not allowed\b/.test(msg) || msg.startsWith('OOM ')) return 'redis_full';
  if (/\bMISCONF\b/.test(msg)) return 'redis_cannot_persist';
  return undefined;
}
