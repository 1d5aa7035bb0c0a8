import { Queue } from 'bullmq';
import type { Redis } from 'ioredis';
import type { Config } from '../config/schema.js';
import type { Metrics } from '../metrics/registry.js';
import { background } from './background.js';
import { BODY_TTL_MS, bodyKey, MAX_BATCH, MAX_BATCH_BYTES, type BatchJob, type Captured, type QueuedExchange } from './batch.js';
import { JOB_NAME, QUEUE_NAME } from './names.js';

export interface ProducerOptions {
  prefix: string;
  attempts: number;
  maxInFlight: number;
  maxInFlightBytes: number;
  timeoutMs: number;
  /** How long the first exchange of a batch waits for others before the batch is sent, ms (0 = end of this event-loop turn). */
  batchWindowMs: number;
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
  private batchBodies: Buffer[] = [];
  private batchBytes = 0;
  /** Cancels the scheduled send of the current batch, when one is scheduled. */
  private cancelFlush: (() => void) | undefined;
  private readonly jobOptions;

  constructor(
    private readonly connection: Redis,
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
  static fromConfig(connection: Redis, metrics: Metrics, config: Config): AnalysisProducer {
    return new AnalysisProducer(connection, metrics, {
      prefix: config.redis.prefix,
      attempts: config.worker.attempts,
      maxInFlight: config.capture.maxInFlightEnqueues,
      maxInFlightBytes: config.capture.maxInFlightEnqueueBytes,
      timeoutMs: config.capture.enqueueTimeoutMs,
      batchWindowMs: config.capture.batchWindowMs,
    });
  }

  get ready(): boolean {
    return this.connection.status === 'ready';
  }

  submit(captured: Captured): void {
    const bytes = captured.body.length;
    if (!this.ready) return this.drop('redis_unavailable');
    if (this.inFlight >= this.options.maxInFlight || this.inFlightBytes + bytes > this.options.maxInFlightBytes) {
      return this.drop('backpressure');
    }
    this.inFlight++;
    this.inFlightBytes += bytes;
    this.metrics.enqueueInFlight.set(this.inFlight);
    if (this.batch.length > 0 && this.batchBytes + bytes > MAX_BATCH_BYTES) this.flush();
    const queued = captured.meta as QueuedExchange;
    queued.body = bodyKey(this.options.prefix, captured.meta.id);
    queued.requestBytes = captured.requestBytes;
    this.batch.push(queued);
    this.batchBodies.push(captured.body);
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
    // The bodies go first, in one socket write (a write per exchange cost a fifth of the
    // proxy's CPU): the socket is corked while their SETs are issued. Plain commands rather
    // than an ioredis pipeline, whose constructor copies every script BullMQ defined on the
    // connection. The job that lists them is added once they are all stored.
    const socket = this.connection.stream as typeof this.connection.stream | undefined;
    socket?.cork();
    const writes = jobs.map((e, i) => this.connection.set(e.body, bodies[i]!, 'PX', BODY_TTL_MS));
    if (socket) process.nextTick(() => socket.uncork());
    const data: BatchJob = { exchanges: jobs };
    const add = Promise.all(writes)
      .then(() => this.queue.add(JOB_NAME, data, { ...this.jobOptions, jobId: jobs[0]!.id }))
      .then(
        () => 'ok' as const,
        () => {
          // Bodies already written would otherwise wait out their TTL.
          this.connection.unlink(...jobs.map((e) => e.body)).catch(() => {});
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

  drop(reason: string): void {
    this.metrics.dropped.inc({ reason });
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
