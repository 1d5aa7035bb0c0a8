import { parentPort, workerData } from 'node:worker_threads';
import type { Config } from '../config/schema.js';
import { createMetrics } from '../metrics/registry.js';
import { closeRedis, createBlockingRedis, type RedisTarget } from '../redis/connection.js';
import { lowerPriority } from './priority.js';
import { startWorker } from './worker.js';

/**
 * The analysis side of `serve`, on its own thread: detection is CPU work, and on the proxy's event
 * loop it would delay the requests being relayed. The main thread asks for metrics to merge into
 * its /metrics and says when to stop.
 */

export type ThreadRequest = { type: 'metrics'; seq: number } | { type: 'stop' };
export type ThreadReply = { type: 'ready' } | { type: 'metrics'; seq: number; data: unknown } | { type: 'stopped' };

const port = parentPort;
if (!port) throw new Error('src/worker/thread.ts runs only as a worker thread');
const { config, target, quiet } = workerData as { config: Config; target: RedisTarget; quiet: boolean };

const notLowered = lowerPriority(config.worker.nice, 'thread', config.worker.idleScheduling);
if (notLowered && !quiet) console.error(JSON.stringify({ level: 'warn', nice: config.worker.nice, msg: notLowered }));

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

const send = (reply: ThreadReply) => port.postMessage(reply);

port.on('message', (msg: ThreadRequest) => {
  if (msg.type === 'metrics') {
    metrics.registry.getMetricsAsJSON().then(
      (data) => send({ type: 'metrics', seq: msg.seq, data }),
      () => send({ type: 'metrics', seq: msg.seq, data: [] }),
    );
  } else if (msg.type === 'stop') {
    void (async () => {
      const closed = await Promise.race([worker.close().then(() => true), new Promise<false>((r) => setTimeout(() => r(false), 5000))]);
      if (!closed) await Promise.race([worker.close(true), new Promise((r) => setTimeout(r, 2000))]);
      await closeRedis(client);
      await closeRedis(blocking);
      send({ type: 'stopped' });
      port.close();
    })();
  }
});
send({ type: 'ready' });
