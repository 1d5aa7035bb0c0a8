import { Queue, Worker, type Job } from 'bullmq';
import type { RedisConnection as Redis } from '../redis/connection.js';
import type { Config } from '../config/schema.js';
import { BoundedLabel } from '../metrics/labels.js';
import type { Metrics } from '../metrics/registry.js';
import { QUEUE_NAME } from '../queue/names.js';
import { batchSize, deleteBodies, readExchanges, type JobData } from '../queue/batch.js';
import { VerdictStore } from '../verdicts/store.js';
import { aggregateKeys } from '../verdicts/aggregates.js';
import { promptHashKey } from '../verdicts/prompt-hash.js';
import { analyseJob } from './analyse-job.js';
import { Judge } from '../judge/judge.js';
import { JudgeLabeller } from '../judge/labeller.js';
import { LabelStore } from '../labels/store.js';
import { RemoteScorer } from '../remote/scorer.js';
import { Sampler } from '../sampling/sampler.js';

export interface AnalysisWorker {
  /** Stops taking jobs and waits for active ones; `force` abandons them (they are retried elsewhere). */
  close(force?: boolean): Promise<void>;
}

/** Thrown when some exchanges of a job failed, so BullMQ retries the job; the others are stored. */
export class BatchFailed extends Error {
  constructor(
    readonly failed: number,
    readonly total: number,
    cause: unknown,
  ) {
    super(`${failed} of ${total} exchanges failed: ${cause instanceof Error ? cause.message : String(cause)}`, { cause });
  }
}

/** Runs fn over items with at most `limit` calls awaiting at once. */
async function forEachLimited<T>(items: T[], limit: number, fn: (item: T) => Promise<void>): Promise<void> {
  let next = 0;
  const lane = async () => {
    while (next < items.length) await fn(items[next++]!);
  };
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, lane));
}

/**
 * The BullMQ side of analysis: takes jobs (each a batch of exchanges), runs analyseJob on each
 * exchange, reports queue depth. A retried job re-runs its batch; exchanges already stored come
 * back as `duplicate` (the verdict write is set-if-absent), so nothing is counted twice.
 */
export function startWorker(opts: {
  config: Config;
  metrics: Metrics;
  blocking: Redis;
  client: Redis;
  log: (obj: object, msg: string) => void;
}): AnalysisWorker {
  const { config, metrics } = opts;
  const store = new VerdictStore(opts.client, config.redis.prefix, config.verdicts.ttlSeconds, {
    maxIndexedPerModel: config.verdicts.maxIndexedPerModel,
    modelLabels: new BoundedLabel(config.metrics.models, config.metrics.maxModels),
  });
  const models = new BoundedLabel(config.metrics.models, config.metrics.maxModels);
  const judge = Judge.fromConfig(config, process.env, metrics, opts.client);
  const labeller = JudgeLabeller.fromConfig(config, judge, new LabelStore(opts.client, config.redis.prefix, { retentionDays: config.labels.retentionDays }), metrics, models);
  const remote = RemoteScorer.fromConfig(config, process.env, metrics, opts.client);
  const sampler = Sampler.fromConfig(config, process.env, opts.client, metrics, models);
  const hashKey = promptHashKey(config.verdicts.promptHashKeyEnv);
  if (!hashKey && !config.capture.storeText) {
    opts.log({ env: config.verdicts.promptHashKeyEnv }, 'capture.storeText is false but prompt_hash is unkeyed: set the key variable so stored hashes cannot be matched against guessed prompts');
  }

  const aggregates = aggregateKeys(config);
  const deps = { config, metrics, store, models, judge, labeller, remote, sampler, aggregates, promptHashKey: hashKey };
  const worker = new Worker<JobData>(
    QUEUE_NAME,
    async (job: Job<JobData>) => {
      const exchanges = await readExchanges(opts.client, job.data);
      if (job.processedOn && job.attemptsMade === 0) {
        const wait = Math.max(0, job.processedOn - job.timestamp) / 1000;
        for (let i = 0; i < exchanges.length; i++) metrics.queueWait.observe(wait);
      }
      let failed = 0;
      let cause: unknown;
      await forEachLimited(exchanges, config.worker.concurrency, async (raw) => {
        if (!raw) {
          // Its bodies expired or were evicted before analysis: lost, and retrying cannot help.
          metrics.jobs.inc({ result: 'expired' });
          metrics.dropped.inc({ reason: 'expired' });
          return;
        }
        try {
          metrics.jobs.inc({ result: await analyseJob(raw, deps) });
        } catch (err) {
          failed++;
          cause ??= err;
        }
      });
      if (failed > 0) throw new BatchFailed(failed, exchanges.length, cause);
      await deleteBodies(opts.client, job.data).catch(() => {}); // else they expire
      return exchanges.length;
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
    const final = job !== undefined && job.attemptsMade >= (job.opts.attempts ?? 1);
    if (final) {
      // Exchanges whose verdicts were stored on an earlier attempt are not lost; the rest are.
      const lost = err instanceof BatchFailed ? err.failed : batchSize(job.data);
      metrics.jobs.inc({ result: 'failed' }, lost);
      metrics.dropped.inc({ reason: 'failed' }, lost);
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
      await sampler?.close();
    },
  };
}
