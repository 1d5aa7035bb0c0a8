import { createServer, type Server } from 'node:http';
import type { FastifyBaseLogger } from 'fastify';
import type { Config } from './config/schema.js';
import { createMetrics, type Metrics } from './metrics/registry.js';
import { buildProxy } from './proxy/server.js';
import { AnalysisProducer } from './queue/producer.js';
import { closeRedis, createBlockingRedis, createFastFailRedis, describeTarget, isReady, logConnectionState, redisTarget, slotPrimary, type RedisTarget } from './redis/connection.js';
import { startEmbeddedRedis, type EmbeddedRedis } from './redis/embedded.js';
import { RedisMemoryMonitor } from './redis/memory.js';
import { VerdictStore } from './verdicts/store.js';
import { ConsoleData } from './console/data.js';
import { LabelsApi } from './labels/api.js';
import { LabelStore } from './labels/store.js';
import { BoundedLabel } from './metrics/labels.js';
import { startWorker, type AnalysisWorker } from './worker/worker.js';
import { promptHashKey } from './verdicts/prompt-hash.js';
import { lowerPriority } from './worker/priority.js';
import { startAnalysisThread, type AnalysisThread } from './worker/thread-handle.js';

export type Mode = 'serve' | 'proxy' | 'worker';

export interface Running {
  /** Address the proxy listens on (proxy/serve) or the worker's metrics (worker). */
  url: string;
  metrics: Metrics;
  stop(): Promise<void>;
}

/** Resolves to the promise's value, or to false when it has not settled within `ms`. */
async function bounded<T>(promise: Promise<T>, ms: number): Promise<T | false> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<false>((r) => {
    timer = setTimeout(() => r(false), ms);
  });
  try {
    return await Promise.race([promise.catch(() => false as const), timeout]);
  } finally {
    clearTimeout(timer);
  }
}

type Log = Pick<FastifyBaseLogger, 'info' | 'warn' | 'error'>;

const consoleLog: Log = {
  info: (obj: unknown, msg?: string) => console.error(JSON.stringify({ level: 'info', ...(typeof obj === 'object' ? obj : { msg: obj }), ...(msg ? { msg } : {}) })),
  warn: (obj: unknown, msg?: string) => console.error(JSON.stringify({ level: 'warn', ...(typeof obj === 'object' ? obj : { msg: obj }), ...(msg ? { msg } : {}) })),
  error: (obj: unknown, msg?: string) => console.error(JSON.stringify({ level: 'error', ...(typeof obj === 'object' ? obj : { msg: obj }), ...(msg ? { msg } : {}) })),
} as Log;

/**
 * The composition root: wires Redis, the proxy, the queue producer and the worker for one mode,
 * and returns a stop() that shuts them down in order (stop accepting, drain, close worker, close
 * Redis, stop the private redis-server).
 */
export async function start(mode: Mode, config: Config, opts: { logger?: boolean } = {}): Promise<Running> {
  // A bad prompt_hash key stops start-up before anything runs, as a config error does.
  if (mode !== 'proxy') promptHashKey(config.verdicts.promptHashKeyEnv);
  const metrics = createMetrics();
  let embedded: EmbeddedRedis | undefined;
  const log: Log = consoleLog;
  const quiet = opts.logger === false || config.server.logLevel === 'silent';
  const info = (obj: object, msg: string) => {
    if (!quiet) log.info(obj, msg);
  };
  const warn = (msg: string) => {
    if (!quiet) log.warn({}, msg);
  };

  let target: RedisTarget | undefined = redisTarget(config.redis);
  if (!target) {
    embedded = await startEmbeddedRedis({
      binary: config.redis.binary,
      dataDir: config.redis.dataDir,
      maxmemory: config.redis.maxmemory,
      log: {
        info: (m) => info({}, m),
        warn,
        error: (m) => {
          if (!quiet) log.error({}, m);
        },
      },
    });
    target = { socket: embedded.socket };
  }
  info({ redis: describeTarget(target), mode }, 'starting');

  // A worker is off the request path: its reads and writes wait out a failover instead of failing.
  const client = mode === 'worker' ? createBlockingRedis(target, 'veracity-worker') : createFastFailRedis(target, `veracity-${mode}`);
  if (!quiet) logConnectionState(client, target, (level, obj, msg) => log[level](obj, msg));
  // Memory is read on the node that holds Veracity's keys (in a Cluster, the primary of its slot).
  const memorySource = {
    info: (section: string) => {
      const node = slotPrimary(client);
      return node ? node.info(section) : Promise.reject(new Error('no primary for the slot'));
    },
  };
  const memory = new RedisMemoryMonitor(memorySource, metrics, {
    pollMs: config.redis.memoryPollMs,
    highWater: config.redis.memoryHighWater,
    warn,
    info: (m) => info({}, m),
  }).start();
  client.on('ready', () => void memory.poll());
  const closers: Array<() => Promise<unknown>> = [];
  let worker: AnalysisWorker | undefined;
  let blocking: ReturnType<typeof createBlockingRedis> | undefined;
  let producer: AnalysisProducer | undefined;
  let url = '';

  let thread: AnalysisThread | undefined;
  if (mode === 'worker') {
    blocking = createBlockingRedis(target, 'veracity-worker-blocking');
    blocking.on('error', () => {});
    // After Redis is up, so a private redis-server child keeps its normal priority.
    const notLowered = lowerPriority(config.worker.nice, 'process', config.worker.idleScheduling);
    if (notLowered && !quiet) log.warn({ nice: config.worker.nice }, notLowered);
    worker = startWorker({ config, metrics, blocking, client, log: (o, m) => { if (!quiet) log.warn(o, m); } });
  } else if (mode === 'serve') {
    // Detection is CPU work: in serve it runs in a child process (or a thread), never on the proxy's event loop.
    thread = await startAnalysisThread(config, target, quiet);
  }

  let proxyServer: ReturnType<typeof buildProxy> | undefined;
  let metricsServer: Server | undefined;
  if (mode !== 'worker') {
    if (config.capture.enabled) {
      producer = AnalysisProducer.fromConfig(client, metrics, config, { redisFull: () => memory.full, warn });
    }
    const store = new VerdictStore(client, config.redis.prefix, config.verdicts.ttlSeconds);
    const labels = new LabelsApi({
      labels: new LabelStore(client, config.redis.prefix, { retentionDays: config.labels.retentionDays }),
      verdicts: store,
      metrics,
      modelLabels: new BoundedLabel(config.metrics.models, config.metrics.maxModels),
    });
    proxyServer = buildProxy({
      config,
      metrics,
      producer,
      store,
      labels,
      console: new ConsoleData(client, config),
      ready: () => isReady(client),
      metricsText: thread ? () => thread!.metricsText(metrics.registry) : undefined,
      logger: quiet ? false : undefined,
    });
    url = await proxyServer.app.listen({ host: config.server.host, port: config.server.port });
    info({ url }, 'proxy listening');
  } else {
    // Run alone, the worker serves its own /metrics (and health) for Prometheus.
    metricsServer = createServer((req, res) => {
      const path = (req.url ?? '').split('?')[0];
      if (path === '/metrics') {
        metrics.registry.metrics().then(
          (text) => res.writeHead(200, { 'content-type': metrics.registry.contentType }).end(text),
          () => res.writeHead(500).end(),
        );
      } else if (path === '/healthz') {
        res.writeHead(200, { 'content-type': 'application/json' }).end('{"status":"ok"}');
      } else if (path === '/readyz') {
        const ok = isReady(client);
        res.writeHead(ok ? 200 : 503, { 'content-type': 'application/json' }).end(JSON.stringify({ status: ok ? 'ready' : 'redis_unavailable' }));
      } else {
        res.writeHead(404, { 'content-type': 'application/json' }).end('{"error":"not found"}');
      }
    });
    await new Promise<void>((resolve, reject) => {
      metricsServer!.once('error', reject);
      metricsServer!.listen(config.worker.metricsPort, config.worker.metricsHost, () => resolve());
    });
    const addr = metricsServer.address();
    url = typeof addr === 'object' && addr ? `http://${addr.address}:${addr.port}` : '';
    info({ url }, 'worker metrics listening');
  }

  let stopping: Promise<void> | undefined;
  const stop = () =>
    (stopping ??= (async () => {
      if (proxyServer) {
        const { app } = proxyServer;
        const grace = setTimeout(() => app.server.closeAllConnections(), config.server.shutdownGraceMs);
        await app.close();
        clearTimeout(grace);
      }
      if (metricsServer) {
        metricsServer.closeAllConnections();
        await new Promise((r) => metricsServer!.close(() => r(undefined)));
      }
      await producer?.close();
      // A worker finishes its active jobs; if Redis is gone it cannot, so it is forced after a while.
      if (worker) {
        const closed = await bounded(worker.close().then(() => true), 5000);
        if (!closed) await bounded(worker.close(true), 2000);
      }
      await thread?.stop();
      memory.stop();
      for (const close of closers) await close().catch(() => {});
      await closeRedis(client);
      if (blocking) await closeRedis(blocking);
      await embedded?.stop();
      info({}, 'stopped');
    })());

  return { url, metrics, stop };
}
