import type { Config } from '../config/schema.js';
import { createMetrics } from '../metrics/registry.js';
import { closeRedis, createBlockingRedis, type RedisTarget } from '../redis/connection.js';
import { lowerPriority } from './priority.js';
import { startWorker } from './worker.js';

/**
 * The analysis side of `serve`, run apart from the proxy's event loop: on a thread of its own
 * (thread.ts) or in a child process (process.ts), which differ only in how messages travel. The
 * proxy asks for metrics to merge into its /metrics and says when to stop.
 */

export type AnalysisRequest = { type: 'metrics'; seq: number } | { type: 'stop' };
export type AnalysisReply = { type: 'ready' } | { type: 'metrics'; seq: number; data: unknown } | { type: 'stopped' };

export interface AnalysisInit {
  config: Config;
  target: RedisTarget;
  quiet: boolean;
}

export interface Channel {
  send(reply: AnalysisReply): void;
  onRequest(handler: (msg: AnalysisRequest) => void): void;
  close(): void;
}

export function runAnalysisSide({ config, target, quiet }: AnalysisInit, scope: 'thread' | 'process', channel: Channel): { stop(): Promise<void> } {
  const metrics = createMetrics(undefined, { processMetrics: false });
  // Off the request path: analysis reads and writes wait out a failover instead of failing.
  const client = createBlockingRedis(target, 'veracity-worker');
  const blocking = createBlockingRedis(target, 'veracity-worker-blocking');
  blocking.on('error', () => {});
  const worker = startWorker({
    config,
    metrics,
    blocking,
    client,
    log: (obj, msg) => {
      if (!quiet) console.error(JSON.stringify({ level: 'warn', ...obj, msg }));
    },
  });

  let stopping: Promise<void> | undefined;
  const stop = () =>
    (stopping ??= (async () => {
      const closed = await Promise.race([worker.close().then(() => true), new Promise<false>((r) => setTimeout(() => r(false), 5000))]);
      if (!closed) await Promise.race([worker.close(true), new Promise((r) => setTimeout(r, 2000))]);
      await closeRedis(client);
      await closeRedis(blocking);
    })());

  channel.onRequest((msg) => {
    if (msg.type === 'metrics') {
      metrics.registry.getMetricsAsJSON().then(
        (data) => channel.send({ type: 'metrics', seq: msg.seq, data }),
        () => channel.send({ type: 'metrics', seq: msg.seq, data: [] }),
      );
    } else if (msg.type === 'stop') {
      void stop().then(() => {
        channel.send({ type: 'stopped' });
        channel.close();
      });
    }
  });
  channel.send({ type: 'ready' });
  // Lowered once serve has its answer: at idle priority on a busy machine, even that one message
  // could wait seconds for a CPU, and serve starts listening only after it. No job has run yet:
  // the worker takes its first one in a later turn.
  const notLowered = lowerPriority(config.worker.nice, scope, config.worker.idleScheduling);
  if (notLowered && !quiet) console.error(JSON.stringify({ level: 'warn', nice: config.worker.nice, msg: notLowered }));
  return { stop };
}
