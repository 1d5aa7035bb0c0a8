import { Queue } from 'bullmq';
import type { Redis } from 'ioredis';
import type { RawExchange } from '../capture/raw.js';
import type { Metrics } from '../metrics/registry.js';
import { JOB_NAME, QUEUE_NAME } from './names.js';

/** Most exchanges sent to Redis in one round trip. */
const MAX_BATCH = 64;

export interface ProducerOptions {
  prefix: string;
  attempts: number;
  maxInFlight: number;
  maxInFlightBytes: number;
  timeoutMs: number;
}

/**
 * Hands finished exchanges to BullMQ without ever making the request path wait: `submit` returns
 * at once, enqueues waiting on Redis are bounded in count and bytes, and whatever cannot be
 * enqueued (Redis down, slow or full hand-off) is counted in veracity_analysis_dropped_total.
 */
export class AnalysisProducer {
  private readonly queue: Queue;
  private inFlight = 0;
  private inFlightBytes = 0;
  private readonly pending = new Set<Promise<void>>();
  private batch: RawExchange[] = [];
  private batchBytes = 0;
  private flushScheduled = false;
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

  get ready(): boolean {
    return this.connection.status === 'ready';
  }

  submit(raw: RawExchange): void {
    const bytes = raw.request.length + raw.response.length;
    if (!this.ready) return this.drop('redis_unavailable');
    if (this.inFlight >= this.options.maxInFlight || this.inFlightBytes + bytes > this.options.maxInFlightBytes) {
      return this.drop('backpressure');
    }
    this.inFlight++;
    this.inFlightBytes += bytes;
    this.metrics.enqueueInFlight.set(this.inFlight);
    this.batch.push(raw);
    this.batchBytes += bytes;
    // Exchanges that end in the same turn of the event loop go to Redis in one round trip.
    if (this.batch.length >= MAX_BATCH) this.flush();
    else if (!this.flushScheduled) {
      this.flushScheduled = true;
      setImmediate(() => this.flush());
    }
  }

  private flush(): void {
    this.flushScheduled = false;
    if (this.batch.length === 0) return;
    const jobs = this.batch;
    const bytes = this.batchBytes;
    this.batch = [];
    this.batchBytes = 0;

    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<'timeout'>((resolve) => {
      timer = setTimeout(() => resolve('timeout'), this.options.timeoutMs);
    });
    const add = this.queue
      .addBulk(jobs.map((raw) => ({ name: JOB_NAME, data: raw, opts: { ...this.jobOptions, jobId: raw.id } })))
      .then(
        () => 'ok' as const,
        () => 'error' as const,
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
