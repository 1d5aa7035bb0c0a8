import { Queue, UnrecoverableError, Worker, type Job } from 'bullmq';
import type { Redis } from 'ioredis';
import type { RawExchange } from '../capture/raw.js';
import type { Config } from '../config/schema.js';
import { BoundedLabel } from '../metrics/labels.js';
import type { Metrics } from '../metrics/registry.js';
import { QUEUE_NAME } from '../queue/names.js';
import { VerdictStore } from '../verdicts/store.js';
import { analyseJob } from './analyse-job.js';
import { Judge } from '../judge/judge.js';

export interface AnalysisWorker {
  /** Stops taking jobs and waits for active ones; `force` abandons them (they are retried elsewhere). */
  close(force?: boolean): Promise<void>;
}

/** The BullMQ side of analysis: takes jobs, runs analyseJob, reports queue depth. */
export function startWorker(opts: {
  config: Config;
  metrics: Metrics;
  blocking: Redis;
  client: Redis;
  log: (obj: object, msg: string) => void;
}): AnalysisWorker {
  const { config, metrics } = opts;
  const store = new VerdictStore(opts.client, config.redis.prefix, config.verdicts.ttlSeconds);
  const models = new BoundedLabel(config.metrics.models, config.metrics.maxModels);
  const judge = Judge.fromConfig(config, process.env, metrics);

  const worker = new Worker<RawExchange>(
    QUEUE_NAME,
    async (job: Job<RawExchange>) => {
      if (job.processedOn) metrics.queueWait.observe(Math.max(0, job.processedOn - job.timestamp) / 1000);
      const result = await analyseJob(job.data, { config, metrics, store, models, judge });
      metrics.jobs.inc({ result });
      return result;
    },
    {
      connection: opts.blocking,
      prefix: config.redis.prefix,
      concurrency: config.worker.concurrency,
      lockDuration: config.worker.lockDurationMs,
      stalledInterval: config.worker.stalledIntervalMs,
      maxStalledCount: config.worker.attempts,
      autorun: true,
    },
  );
  worker.on('failed', (job, err) => {
    const final = job && (err instanceof UnrecoverableError || job.attemptsMade >= (job.opts.attempts ?? 1));
    if (final) {
      metrics.jobs.inc({ result: 'failed' });
      metrics.dropped.inc({ reason: 'failed' });
    }
    opts.log({ id: job?.id, err: err.message, final }, 'analysis job failed');
  });
  worker.on('error', (err) => opts.log({ err: err.message }, 'worker error'));

  // Queue depth for dashboards and autoscaling; read from Redis, so any worker reports the same.
  const queue = new Queue(QUEUE_NAME, { connection: opts.client, prefix: config.redis.prefix });
  queue.on('error', () => {});
  const poll = setInterval(() => {
    if (opts.client.status !== 'ready') return;
    queue
      .getJobCounts('waiting', 'active', 'delayed', 'failed', 'prioritized')
      .then((counts) => {
        for (const [state, n] of Object.entries(counts)) metrics.queueDepth.set({ state }, n);
      })
      .catch(() => {});
  }, 2000);
  poll.unref();

  return {
    async close(force = false) {
      clearInterval(poll);
      await worker.close(force);
      await queue.close().catch(() => {});
    },
  };
}
