import Fastify, { LogController, type FastifyInstance, type FastifyReply, type FastifyRequest } from 'fastify';
import type { Config } from '../config/schema.js';
import { errorBody } from '../capture/errors.js';
import type { Provider } from '../capture/exchange.js';
import type { Metrics } from '../metrics/registry.js';
import { BoundedLabel } from '../metrics/labels.js';
import type { AnalysisProducer } from '../queue/producer.js';
import type { VerdictStore } from '../verdicts/store.js';
import { registerAdminRoutes } from './admin.js';
import type { ConsoleData } from '../console/data.js';
import type { LabelsApi } from '../labels/api.js';
import { createInline } from './inline/index.js';
import { createRelay } from './relay.js';
import { buildUpstreams, resolveTarget } from './routes.js';
import { UpstreamPools } from './upstream-pool.js';

export interface ProxyDeps {
  config: Config;
  metrics: Metrics;
  producer?: AnalysisProducer;
  store?: VerdictStore;
  /** What the console at /veracity/ reads (aggregates, indexes, verdicts). */
  console?: ConsoleData;
  /** The labels API and the review queue's writes. */
  labels?: LabelsApi;
  /** Reports whether Redis is reachable, for /readyz. */
  ready?: () => boolean;
  /** Metrics text for /metrics when more than this process' registry must be merged in. */
  metricsText?: () => Promise<string>;
  /** A logger instance or `false`; default is pino at config.server.logLevel. */
  logger?: boolean | object;
}

const CONTENT_TYPE = Symbol('content-type');

// Dot-segments, raw or percent-encoded, would let a path climb out of an upstream's base path.
const DOT_SEGMENT = /(?:^|\/)(?:\.|%2e){1,2}(?:\/|$)/i;

function dialectOf(url: string, headers: FastifyRequest['headers']): Provider {
  return url.startsWith('/v1/messages') || headers['anthropic-version'] !== undefined ? 'anthropic' : 'openai';
}

function sendDialectError(reply: FastifyReply, dialect: Provider, status: number, message: string) {
  const e = errorBody(dialect, status, message);
  return reply.code(status).header('content-type', e.contentType).send(e.body);
}

export function buildProxy(deps: ProxyDeps): { app: FastifyInstance; pools: UpstreamPools } {
  const { config, metrics } = deps;
  const upstreams = buildUpstreams(config);
  const pools = new UpstreamPools(upstreams);
  const inline = createInline({ config, metrics, pools, producer: deps.producer });
  const relay = createRelay({
    config,
    metrics,
    pools,
    producer: deps.producer,
    inline,
    models: new BoundedLabel(config.metrics.models, config.metrics.maxModels),
    apps: new BoundedLabel(config.metrics.apps, config.metrics.maxApps),
  });

  const app = Fastify({
    logger: deps.logger ?? {
      level: config.server.logLevel,
      // Credentials never reach a log line, even at trace level.
      redact: { paths: ['req.headers.authorization', 'req.headers["x-api-key"]', 'req.headers["api-key"]'], remove: true },
    },
    // Per-request log lines cost more than the proxying itself; errors are logged where they happen.
    logController: new LogController({ disableRequestLogging: true }),
    bodyLimit: config.server.bodyLimitBytes,
    requestTimeout: config.server.requestTimeoutMs,
    connectionTimeout: 0,
    keepAliveTimeout: 65_000,
    forceCloseConnections: 'idle',
    return503OnClosing: true,
    http: {
      headersTimeout: config.server.headersTimeoutMs,
      // Node enforces both timeouts only when it sweeps its connections, every 30 s by default,
      // which let a slowloris client hold a socket far past a shorter configured limit.
      connectionsCheckingInterval: Math.max(100, Math.min(30_000, Math.floor(Math.min(config.server.headersTimeoutMs, config.server.requestTimeoutMs) / 4))),
    },
  });

  // Bodies are forwarded byte for byte: keep the raw buffer, whatever the content type.
  app.removeAllContentTypeParsers();
  app.addContentTypeParser('*', { parseAs: 'buffer' }, (_req, body, done) => done(null, body));
  // Fastify answers 415 itself to a content-type it cannot parse (`;;;/==`), before any route
  // runs; the header is the upstream's business. Hidden from Fastify while the body is read, it
  // is put back before the request is relayed. Hidden by setting it undefined, not deleting it:
  // a delete turns the headers object into a dictionary, and every later read and copy of it
  // (the relay copies it for the upstream) slower.
  app.addHook('onRequest', (request, _reply, done) => {
    const contentType = request.raw.headers['content-type'];
    if (contentType !== undefined) {
      (request.raw as { [CONTENT_TYPE]?: string })[CONTENT_TYPE] = contentType;
      request.raw.headers['content-type'] = undefined;
    }
    done();
  });
  app.addHook('preHandler', (request, _reply, done) => {
    const contentType = (request.raw as { [CONTENT_TYPE]?: string })[CONTENT_TYPE];
    if (contentType !== undefined) request.raw.headers['content-type'] = contentType;
    done();
  });

  app.setErrorHandler((err: Error & { statusCode?: number; code?: string }, request, reply) => {
    const dialect = dialectOf(request.url, request.headers);
    const status = err.statusCode && err.statusCode >= 400 && err.statusCode < 600 ? err.statusCode : 500;
    if (status >= 500) request.log.error({ err: { message: err.message, code: err.code } }, 'request failed');
    const message =
      err.code === 'FST_ERR_CTP_BODY_TOO_LARGE'
        ? `request body exceeds the proxy limit of ${config.server.bodyLimitBytes} bytes`
        : status >= 500
          ? 'internal proxy error'
          : err.message;
    return sendDialectError(reply, dialect, status, message);
  });

  app.setNotFoundHandler((request, reply) =>
    sendDialectError(reply, dialectOf(request.url, request.headers), 404, `no upstream serves ${request.method} ${request.url.split('?')[0]}`),
  );

  app.get('/healthz', async () => ({ status: 'ok' }));
  app.get('/readyz', async (_req, reply) => {
    const ok = deps.ready ? deps.ready() : true;
    return reply.code(ok ? 200 : 503).send({ status: ok ? 'ready' : 'redis_unavailable' });
  });
  app.get('/metrics', async (_req, reply) => {
    const text = deps.metricsText ? await deps.metricsText() : await metrics.registry.metrics();
    return reply.header('content-type', metrics.registry.contentType).send(text);
  });
  registerAdminRoutes(app, { token: config.admin.token, store: deps.store, console: deps.console, storeText: config.capture.storeText, labels: deps.labels });

  app.all('/*', (request, reply) => {
    const url = request.raw.url ?? '';
    if (!url.startsWith('/') || url.startsWith('//') || DOT_SEGMENT.test(url.split('?')[0]!)) {
      return sendDialectError(reply, dialectOf(url, request.headers), 400, 'request target must be a plain origin-form path');
    }
    const target = resolveTarget(upstreams, request.method, url, request.headers);
    if (!target) {
      return sendDialectError(reply, dialectOf(url, request.headers), 404, `no upstream serves ${request.method} ${url.split('?')[0]}`);
    }
    const badInline = target.analysed ? inline.badHeader(request.headers) : undefined;
    if (badInline) return sendDialectError(reply, target.upstream.dialect, 400, badInline);
    relay(request, reply, target);
  });

  // CONNECT never reaches a route: Node hands it to a 'connect' listener or, with none, drops the
  // socket without a word. A forward proxy it is not; say so.
  app.server.on('connect', (_req, socket) => {
    socket.on('error', () => {});
    socket.end('HTTP/1.1 405 Method Not Allowed\r\nAllow: GET, HEAD, POST, PUT, PATCH, DELETE, OPTIONS\r\nContent-Length: 0\r\nConnection: close\r\n\r\n');
  });

  app.addHook('onClose', async () => {
    await inline.close();
    await pools.close();
  });
  return { app, pools };
}
