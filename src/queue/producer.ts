import { Queue } from 'bullmq';
import { Redis } from 'ioredis';
import { isReady, type RedisConnection } from '../redis/connection.js';
import type { Config } from '../config/schema.js';
import type { Metrics } from '../metrics/registry.js';
import { refusalReason } from '../redis/memory.js';
import { background } from './background.js';
import { BODY_TTL_MS, bodyKey, heldBuffer, MAX_BATCH, MAX_BATCH_BYTES, type BatchJob, type Captured, type HeldBytes, type QueuedExchange } from './batch.js';
import { JOB_NAME, QUEUE_NAME } from './names.js';

/**
 * One buffer the batches are assembled in, reused: ioredis copies a command's arguments into its
 * own buffer as it writes the command (the connection queues nothing offline). Assembling each
 * batch in a fresh buffer, after copying each exchange out of its capture first, made two
 * short-lived copies of every byte besides ioredis' own, and V8 counts such memory towards
 * starting a full collection. It is reused only once its SET has been answered: a connection that
 * drops with the SET unanswered writes it again after reconnecting (to a new primary after a
 * failover), from this buffer, which must by then still hold that batch's bytes.
 */
let assembly: Buffer | undefined;
let assemblyInUse = false;

export interface ProducerOptions {
  prefix: string;
  attempts: number;
  maxInFlight: number;
  maxInFlightBytes: number;
  timeoutMs: number;
  /** How long the first exchange of a batch waits for others before the batch is sent, ms (0 = end of this event-loop turn). */
  batchWindowMs: number;
  /** Redis is over its memory high-water mark: queue nothing new (see redis/memory.ts). */
  redisFull?: () => boolean;
  /** Says why Redis refuses writes, at most once a minute per reason. */
  warn?: (msg: string) => void;
}

/**
 * Hands finished exchanges to BullMQ, a batch per job (see batch.ts), without ever making the
 * request path wait: `submit` returns at once, enqueues waiting on Redis are bounded in count and
 * bytes, and whatever cannot be enqueued (Redis down, slow or full hand-off) is counted in
 * veracity_analysis_dropped_total.
 */
export class AnalysisProducer {
  private readonly queue: Queue;
  private inFlight = 0;
  private inFlightBytes = 0;
  private readonly pending = new Set<Promise<void>>();
  private batch: QueuedExchange[] = [];
  /** The captured bytes of the batch's exchanges, in the same order. */
  private batchBodies: HeldBytes[] = [];
  private batchBytes = 0;
  /** Cancels the scheduled send of the current batch, when one is scheduled. */
  private cancelFlush: (() => void) | undefined;
  private readonly jobOptions;
  private readonly refusals = new Map<string, { at: number; count: number }>();

  constructor(
    private readonly connection: RedisConnection,
    private readonly metrics: Metrics,
    private readonly options: ProducerOptions,
  ) {
    this.queue = new Queue(QUEUE_NAME, { connection, prefix: options.prefix });
    this.queue.on('error', () => {}); // connection errors show up as drops and /readyz
    this.jobOptions = {
      attempts: options.attempts,
      backoff: { type: 'exponential' as const, delay: 500 },
      removeOnComplete: true,
      removeOnFail: { age: 24 * 3600, count: 1000 },
    };
  }

  /** The producer a proxy runs with this config. */
  static fromConfig(connection: RedisConnection, metrics: Metrics, config: Config, extra: Pick<ProducerOptions, 'redisFull' | 'warn'> = {}): AnalysisProducer {
    return new AnalysisProducer(connection, metrics, {
      ...extra,
      prefix: config.redis.prefix,
      attempts: config.worker.attempts,
      maxInFlight: config.capture.maxInFlightEnqueues,
      maxInFlightBytes: config.capture.maxInFlightEnqueueBytes,
      timeoutMs: config.capture.enqueueTimeoutMs,
      batchWindowMs: config.capture.batchWindowMs,
    });
  }

  get ready(): boolean {
    return isReady(this.connection);
  }

  submit(captured: Captured): void {
    const body = Buffer.isBuffer(captured.body) ? heldBuffer(captured.body) : captured.body;
    const bytes = body.byteLength;
    if (!this.ready) return this.refuse(body, 'redis_unavailable');
    if (this.options.redisFull?.()) return this.refuse(body, 'redis_full');
    // One exchange larger than the whole hand-off budget could never be queued, however idle Redis is.
    if (bytes > this.options.maxInFlightBytes) return this.refuse(body, 'too_large');
    if (this.inFlight >= this.options.maxInFlight || this.inFlightBytes + bytes > this.options.maxInFlightBytes) {
      return this.refuse(body, 'backpressure');
    }
    this.inFlight++;
    this.inFlightBytes += bytes;
    this.metrics.enqueueInFlight.set(this.inFlight);
    if (this.batch.length > 0 && this.batchBytes + bytes > MAX_BATCH_BYTES) this.flush();
    const queued = captured.meta as QueuedExchange;
    queued.requestBytes = captured.requestBytes;
    this.batch.push(queued);
    this.batchBodies.push(body);
    this.batchBytes += bytes;
    // Exchanges that end within one batch window go to Redis as one job.
    if (this.batch.length >= MAX_BATCH || this.batchBytes >= MAX_BATCH_BYTES) this.flush();
    else if (!this.cancelFlush) {
      // In the background lane too: a batch can hold up to 1 MiB to write.
      const flush = () => background(() => this.flush());
      if (this.options.batchWindowMs > 0) {
        const timer = setTimeout(flush, this.options.batchWindowMs);
        this.cancelFlush = () => clearTimeout(timer);
      } else {
        const immediate = setImmediate(flush);
        this.cancelFlush = () => clearImmediate(immediate);
      }
    }
  }

  private flush(): void {
    this.cancelFlush?.();
    this.cancelFlush = undefined;
    if (this.batch.length === 0) return;
    const jobs = this.batch;
    const bodies = this.batchBodies;
    const bytes = this.batchBytes;
    this.batch = [];
    this.batchBodies = [];
    this.batchBytes = 0;

    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<'timeout'>((resolve) => {
      timer = setTimeout(() => resolve('timeout'), this.options.timeoutMs);
    });
    // The batch's bytes become one binary string, and its SET and the job's add leave in one
    // socket write: the socket stays corked until the add script's command is queued (a few
    // promise turns inside BullMQ), and a socket write to Redis costs about as much as the
    // commands in it. Redis runs them in order, so the bytes are stored before the job exists.
    const key = bodyKey(this.options.prefix, jobs[0]!.id);
    // Batches stop at 1 MiB, so the shared buffer is that size; one larger exchange gets its own.
    // A Cluster may route a command a turn later (slot lookup, redirection), so it gets a buffer of its own.
    const standalone = this.connection instanceof Redis ? this.connection : undefined;
    const copiesAtOnce = standalone?.status === 'ready' && !standalone.options.enableAutoPipelining;
    const shared = copiesAtOnce && bytes <= MAX_BATCH_BYTES && !assemblyInUse;
    const value = shared ? (assembly ??= Buffer.allocUnsafeSlow(MAX_BATCH_BYTES)).subarray(0, bytes) : Buffer.allocUnsafeSlow(bytes);
    if (shared) assemblyInUse = true;
    let offset = 0;
    for (let i = 0; i < jobs.length; i++) {
      const e = jobs[i]!;
      e.body = key;
      e.offset = offset;
      e.bytes = bodies[i]!.copyTo(value, offset);
      bodies[i]!.release();
      offset += e.bytes;
    }
    const socket = standalone?.stream as NonNullable<typeof standalone>['stream'] | undefined;
    socket?.cork();
    let refused: { reason: string; message: string } | undefined;
    const refusedBy = (err: unknown) => {
      const reason = refusalReason(err);
      if (reason) refused ??= { reason, message: (err as Error).message };
    };
    const stored = this.connection.set(key, value, 'PX', BODY_TTL_MS).then(
      () => true,
      (err) => {
        refusedBy(err);
        return false;
      },
    );
    if (shared) void stored.then(() => (assemblyInUse = false));
    const data: BatchJob = { exchanges: jobs };
    const added = this.queue.add(JOB_NAME, data, { ...this.jobOptions, jobId: jobs[0]!.id });
    if (socket) setImmediate(() => socket.uncork());
    const add = Promise.all([stored, added]).then(
      ([ok]) => (ok ? ('ok' as const) : ('bytes_lost' as const)),
      (err) => {
        refusedBy(err);
        // Bytes already written would otherwise wait out their TTL.
        this.connection.unlink(key).catch(() => {});
        return 'error' as const;
      },
    );
    // The outcome is counted once, at the timeout or when Redis answers, whichever comes first.
    // The slots are held until Redis answers: an abandoned add has already been written towards
    // Redis and its bytes stay buffered until then, so releasing them early would let a frozen
    // Redis (socket open, no replies) take an unbounded number of them.
    const counted = Promise.race([add, timeout]).then((outcome) => {
      clearTimeout(timer);
      if (outcome === 'ok') this.metrics.enqueued.inc(jobs.length);
      // A job whose bytes were refused (and whose add was not) is in the queue: its worker finds
      // no bytes and counts its exchanges as dropped{reason="expired"}, once.
      else if (outcome === 'bytes_lost') return;
      else if (outcome === 'error' && refused) this.refusedByRedis(refused.reason, refused.message, jobs.length);
      else this.metrics.dropped.inc({ reason: outcome === 'timeout' ? 'enqueue_timeout' : 'enqueue_error' }, jobs.length);
    });
    const done: Promise<void> = Promise.all([add, counted]).then(() => {
      this.inFlight -= jobs.length;
      this.inFlightBytes -= bytes;
      this.metrics.enqueueInFlight.set(this.inFlight);
      this.pending.delete(done);
    });
    this.pending.add(done);
  }

  /** Counts an exchange that will not be queued, and gives its bytes back. */
  private refuse(body: HeldBytes, reason: string): void {
    body.release();
    this.drop(reason);
  }

  drop(reason: string): void {
    this.metrics.dropped.inc({ reason });
  }

  /** Redis refused the writes (out of memory, or unable to save): counted, and said in the log. */
  private refusedByRedis(reason: string, message: string, exchanges: number): void {
    this.metrics.dropped.inc({ reason }, exchanges);
    const now = Date.now();
    const seen = this.refusals.get(reason) ?? { at: 0, count: 0 };
    seen.count += exchanges;
    if (now - seen.at >= 60_000) {
      this.options.warn?.(
        `Redis refuses writes ("${message.split('\n')[0]!.slice(0, 200)}"): ${seen.count} exchange(s) not queued, counted in ` +
          `veracity_analysis_dropped_total{reason="${reason}"}; requests are still served. ` +
          (reason === 'redis_full' ? 'Raise redis.maxmemory, or let the queue drain.' : 'Free or fix the disk Redis saves its snapshot to.'),
      );
      seen.at = now;
      seen.count = 0;
    }
    this.refusals.set(reason, seen);
  }

  /** Waits (bounded) for enqueues already under way, then closes the queue. */
  async close(waitMs = 3000): Promise<void> {
    this.flush();
    if (this.pending.size > 0) {
      await Promise.race([Promise.allSettled([...this.pending]), new Promise((r) => setTimeout(r, waitMs))]);
    }
    await this.queue.close().catch(() => {});
  }
}
