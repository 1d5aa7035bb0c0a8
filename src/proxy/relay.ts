import { randomUUID } from 'node:crypto';
import { EventEmitter } from 'node:events';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { pipeline } from 'node:stream';
import type { Readable } from 'node:stream';
import type { FastifyReply, FastifyRequest } from 'fastify';
import type { Dispatcher } from 'undici';
import { errorBody } from '../capture/errors.js';
import { decodeBytes } from '../capture/decode.js';
import { redactPii } from '../capture/redact.js';
import { createUsageChunkStripper, injectIncludeUsage } from '../capture/stream-usage.js';
import type { Config } from '../config/schema.js';
import type { BoundedLabel } from '../metrics/labels.js';
import type { Metrics } from '../metrics/registry.js';
import type { Captured } from '../queue/batch.js';
import type { AnalysisProducer } from '../queue/producer.js';
import { background } from '../queue/background.js';
import { CaptureBuffer } from './capture-buffer.js';
import { clientResponseHeaders, upstreamRequestHeaders } from './headers.js';
import { settleOnce, tieEnds, type Done } from './stream-ends.js';
import type { Inline } from './inline/index.js';
import type { Target } from './routes.js';
import type { UpstreamPools } from './upstream-pool.js';

export interface RelayDeps {
  config: Config;
  metrics: Metrics;
  pools: UpstreamPools;
  models: BoundedLabel;
  apps: BoundedLabel;
  /** Absent when capture is off or this process only serves metrics. */
  producer?: AnalysisProducer;
  /** Inline mode (docs/inline.md): judges answers before the client has them. */
  inline?: Inline;
}

const OPERATION: Record<string, string> = {
  'chat.completions': 'chat',
  responses: 'chat',
  messages: 'chat',
  completions: 'text_completion',
  passthrough: 'other',
};

/** Classifies an undici/socket failure: the error_type label and the status we answer with. */
function classify(err: NodeJS.ErrnoException): { type: string; status: number } {
  const code = err.code ?? '';
  if (code === 'UND_ERR_HEADERS_TIMEOUT' || code === 'UND_ERR_CONNECT_TIMEOUT' || code === 'UND_ERR_BODY_TIMEOUT' || code === 'ETIMEDOUT') {
    return { type: 'timeout', status: 504 };
  }
  if (code === 'ECONNREFUSED') return { type: 'refused', status: 502 };
  if (code === 'UND_ERR_SOCKET' || code === 'ECONNRESET' || code === 'EPIPE') return { type: 'reset', status: 502 };
  if (code === 'ENOTFOUND' || code === 'EAI_AGAIN') return { type: 'dns', status: 502 };
  return { type: 'upstream_error', status: 502 };
}

/**
 * Copies `source` to the client with backpressure and calls `done` once: with nothing when the
 * client has the last byte, with the error when the upstream body failed, with an error when the
 * client went away first. stream.pipeline does the same but builds and aborts an AbortController
 * (and a DOMException) per call: a few percent of the proxy's CPU at high request rates.
 */
function pump(source: Readable, res: ServerResponse, done: Done): void {
  const settle = settleOnce(done);
  source.on('data', (chunk: Buffer) => {
    if (!res.write(chunk)) source.pause();
  });
  res.on('drain', () => source.resume());
  source.on('end', () => res.end(() => settle(null)));
  tieEnds(source, res, settle);
}

/** Puts a PII-masked copy of `bytes` in the queued exchange; a compressed response is decoded first so it can be masked. */
function redactCaptured(c: Captured, bytes: Buffer): void {
  let response = '';
  try {
    response = decodeBytes(bytes.subarray(c.requestBytes), c.meta.responseEncoding);
  } catch {
    // undecodable: keep nothing rather than unmasked bytes
  }
  c.meta.responseEncoding = undefined;
  const request = Buffer.from(redactPii(bytes.toString('utf8', 0, c.requestBytes)).text);
  c.body = Buffer.concat([request, Buffer.from(redactPii(response).text)]);
  c.requestBytes = request.length;
}

/**
 * Finds `"model":"…"` in a JSON body without parsing it. Inside JSON strings quotes are escaped,
 * so an unescaped `"model"` key can only be a real key.
 */
export function sniffModel(body: Buffer | undefined): string | undefined {
  if (!body || body.length === 0) return undefined;
  const at = body.indexOf('"model"');
  if (at === -1) return undefined;
  const m = /^"model"\s*:\s*"((?:[^"\\]|\\.){1,200})"/.exec(body.toString('utf8', at, Math.min(body.length, at + 260)));
  return m?.[1];
}

/**
 * Proxies one request: forwards the body byte for byte, relays status, headers and body as they
 * arrive (streams chunk by chunk, with backpressure), copies the bytes aside, and hands the finished
 * exchange to the queue after the response has ended. Nothing here awaits Redis or detection.
 */
export function createRelay(deps: RelayDeps) {
  const { config, metrics, pools, producer } = deps;
  const maxCapture = config.capture.maxBodyBytes;

  return function relay(request: FastifyRequest, reply: FastifyReply, target: Target): void {
    const started = performance.now();
    const startedAt = Date.now();
    const id = randomUUID();
    const { upstream } = target;
    const dialect = upstream.dialect;
    const req: IncomingMessage = request.raw;
    const res: ServerResponse = reply.raw;
    reply.hijack();

    let body = request.body instanceof Buffer ? request.body : undefined;
    const capture = target.analysed && producer !== undefined && config.capture.enabled;
    let stripUsage = false;
    if (capture && config.capture.injectStreamUsage && dialect === 'openai' && body && target.route !== 'responses') {
      const rewritten = injectIncludeUsage(body);
      if (rewritten) {
        body = rewritten;
        stripUsage = true;
      }
    }
    const requested = target.analysed ? sniffModel(body) : undefined;
    const model = deps.models.value(requested);
    const appHeader = req.headers['x-veracity-app'];
    const app = typeof appHeader === 'string' ? deps.apps.value(appHeader) : undefined;
    const inline = deps.inline?.open({ id, target, headers: req.headers, body, app, startedAt }, requested, typeof appHeader === 'string' ? appHeader : undefined);

    metrics.inflightRequests.inc();
    // undici accepts an EventEmitter as its abort signal: far cheaper per request than an
    // AbortController, and only needed until headers arrive (after that, closing the body aborts).
    const abort = new EventEmitter();
    let clientGone = false;
    let ended = false;
    res.once('close', () => {
      if (!res.writableFinished) {
        clientGone = true;
        abort.emit('abort');
      }
    });

    const genAiLabels = (errorType: string) => ({
      gen_ai_operation_name: OPERATION[target.route] ?? 'other',
      gen_ai_provider_name: dialect,
      gen_ai_request_model: model,
      error_type: errorType,
    });

    const finish = (status: number, outcome: string, errorType: string) => {
      if (ended) return;
      ended = true;
      metrics.inflightRequests.dec();
      metrics.operationDuration.observe(genAiLabels(errorType), (performance.now() - started) / 1000);
      metrics.requests.inc({ provider: dialect, route: target.route, status_class: status ? `${Math.floor(status / 100)}xx` : 'none', outcome });
    };

    /**
     * Hands the finished exchange to the queue, in the background lane: the client already has its
     * last byte. Bytes as they crossed the wire: decoding and parsing are the worker's job.
     */
    const handOff = (copy: CaptureBuffer, m: { status: number; contentType: string; encoding?: string | string[]; aborted: boolean; error?: string }) => {
      const endedAt = Date.now();
      const truncated = copy.truncated;
      background(() => {
        const compressed = typeof m.encoding === 'string' && m.encoding !== '' && m.encoding !== 'identity';
        const reqTruncated = (body?.length ?? 0) > maxCapture;
        if (truncated) metrics.truncated.inc({ part: 'response_body' });
        if (reqTruncated) metrics.truncated.inc({ part: 'request_body' });
        const exchange: Captured = {
          meta: {
            id,
            provider: dialect,
            route: target.route,
            app,
            upstream: upstream.name,
            responseEncoding: compressed ? (m.encoding as string) : undefined,
            contentType: m.contentType,
            status: m.status,
            aborted: m.aborted,
            error: m.error,
            truncated: truncated || reqTruncated ? { request: reqTruncated, response: truncated } : undefined,
            startedAt,
            endedAt,
            inlineVerdict: inline?.verdict(),
          },
          // The bytes stay in the capture's slabs until the producer copies them into the batch.
          body: copy,
          requestBytes: copy.requestBytes,
        };
        if (config.capture.redactPii) redactCaptured(exchange, copy.take());
        producer!.submit(exchange);
      });
    };

    const answerError = (status: number, type: string, message: string) => {
      metrics.upstreamErrors.inc({ provider: dialect, error_type: type });
      if (!res.headersSent && !res.destroyed) {
        const e = errorBody(dialect, status, message);
        res.writeHead(status, { 'content-type': e.contentType, 'x-veracity-id': id, 'content-length': Buffer.byteLength(e.body) });
        res.end(e.body);
      } else {
        res.destroy();
      }
      finish(status, 'error', type);
      // The client got an id with this answer: its verdict says it was not analysed, and why,
      // rather than a look-up that stays 404.
      if (capture) handOff(new CaptureBuffer(body?.subarray(0, maxCapture), maxCapture), { status, contentType: 'application/json', aborted: false, error: type });
    };

    const dispatched = performance.now();
    pools
      .get(upstream)
      .request({
        method: request.method as Dispatcher.HttpMethod,
        path: target.upstreamPath,
        headers: upstreamRequestHeaders(req.headers, upstream.url.host),
        body: request.method === 'GET' || request.method === 'HEAD' ? undefined : body,
        signal: abort,
      })
      .then(
        (up) => {
          const headersAt = performance.now();
          if (clientGone) {
            up.body.destroy();
            finish(up.statusCode, 'aborted', 'aborted');
            return;
          }
          const contentType = String(up.headers['content-type'] ?? '');
          const streaming = contentType.startsWith('text/event-stream');
          // A held answer's headers wait for its verdict (inline mode); the session writes them.
          const plan = inline?.plan(up.statusCode, up.headers, streaming);
          if (plan !== 'hold') {
            res.writeHead(up.statusCode, clientResponseHeaders(up.headers, id));
            metrics.proxyOverhead.observe({ provider: dialect, route: target.route }, (dispatched - started + performance.now() - headersAt) / 1000);
          }
          const copy = capture ? new CaptureBuffer(body?.subarray(0, maxCapture), maxCapture) : undefined;
          let first = true;
          const source = up.body as unknown as Readable;
          source.on('data', (chunk: Buffer) => {
            if (first) {
              first = false;
              if (streaming) metrics.timeToFirstChunk.observe({ provider: dialect, model }, (performance.now() - started) / 1000);
            }
            copy?.append(chunk);
          });

          const done = (err: NodeJS.ErrnoException | null | undefined) => {
            let errorType = '';
            let outcome = 'ok';
            if (clientGone) {
              outcome = 'aborted';
              errorType = 'aborted';
            } else if (err) {
              errorType = classify(err).type;
              outcome = 'error';
              metrics.upstreamErrors.inc({ provider: dialect, error_type: errorType });
            } else if (up.statusCode >= 400) {
              errorType = String(up.statusCode);
            }
            finish(inline?.clientStatus ?? up.statusCode, outcome, errorType);
            if (!copy) return;
            handOff(copy, { status: up.statusCode, contentType, encoding: up.headers['content-encoding'], aborted: clientGone || err != null, error: clientGone ? 'client_abort' : err ? errorType : undefined });
          };

          // The stripper reads event text; a compressed stream is relayed untouched.
          const strip = stripUsage && streaming && !up.headers['content-encoding'];
          if (plan === 'hold') inline!.hold(up, res, done);
          else if (plan === 'tail') pipeline([source, ...(strip ? [createUsageChunkStripper()] : []), inline!.tail(up), res], done);
          else if (strip) pipeline(source, createUsageChunkStripper(), res, done);
          else pump(source, res, done);
        },
        (err: NodeJS.ErrnoException) => {
          if (clientGone) {
            finish(0, 'aborted', 'aborted');
            return;
          }
          const { type, status } = classify(err);
          request.log.warn({ upstream: upstream.name, code: err.code, type }, 'upstream request failed');
          answerError(status, type, status === 504 ? `upstream ${upstream.name} did not answer in time` : `upstream ${upstream.name} unavailable (${type})`);
        },
      );
  };
}
