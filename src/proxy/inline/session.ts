import { randomUUID } from 'node:crypto';
import type { IncomingHttpHeaders, OutgoingHttpHeaders, ServerResponse } from 'node:http';
import { Transform, type Readable, type TransformCallback } from 'node:stream';
import { decodeBytes } from '../../capture/decode.js';
import { dialectOf } from '../../capture/dialect.js';
import { redactPii } from '../../capture/redact.js';
import type { Config } from '../../config/schema.js';
import type { InlineDecision, Verdict } from '../../detect/verdict.js';
import type { InlineOutcome, Metrics } from '../../metrics/registry.js';
import type { AnalysisProducer } from '../../queue/producer.js';
import { clientResponseHeaders, upstreamRequestHeaders } from '../headers.js';
import { settleOnce, tieEnds, type Done } from '../stream-ends.js';
import type { Target } from '../routes.js';
import type { UpstreamPools } from '../upstream-pool.js';
import { blockedMessage, flaggedOf, streamComment, streamEvent, summary, verdictHeaders } from './annotation.js';
import type { HeldAnswer } from './judge.js';
import type { Judges } from './judge-thread.js';
import type { InlinePolicy } from './policy.js';

export interface InlineDeps {
  config: Config;
  metrics: Metrics;
  pools: UpstreamPools;
  /** Queues the retries' exchanges (the relay queues the client's own); absent when capture is off. */
  producer?: AnalysisProducer;
  judges: Judges;
}

/** One proxied request, as inline mode needs to know it. */
export interface InlineRequest {
  id: string;
  target: Target;
  headers: IncomingHttpHeaders;
  /** Request body as sent upstream. */
  body: Buffer | undefined;
  /** The app's metric label (`x-veracity-app`, bounded), stored with the exchange. */
  app: string | undefined;
  startedAt: number;
}

/** The upstream's answer as undici gives it. */
export interface UpstreamAnswer {
  statusCode: number;
  headers: Record<string, string | string[] | undefined>;
  body: unknown;
}

/** What the relay does with an answer: `hold` it (hand it to hold()), add a `tail` stage to its stream, or relay it untouched. */
export type InlinePlan = 'hold' | 'tail' | undefined;


/** One attempt at an answer: the client's own request, or a retry. */
interface Attempt {
  id: string;
  request: Buffer;
  status: number;
  headers: Record<string, string | string[] | undefined>;
  bytes: Buffer;
  startedAt: number;
  endedAt: number;
  verdict?: Verdict;
}

function header(headers: UpstreamAnswer['headers'], name: string): string | undefined {
  const v = headers[name];
  return Array.isArray(v) ? v[0] : v;
}

function compressed(headers: UpstreamAnswer['headers']): boolean {
  const e = header(headers, 'content-encoding');
  return e !== undefined && e !== '' && e !== 'identity';
}

/** How a stream already ends: what must come before a line of our own so it starts an event of its own. */
function separatorAfter(tail: string): string {
  if (tail.endsWith('\n\n') || tail.endsWith('\r\n\r\n') || tail === '') return '';
  return tail.endsWith('\n') ? '\n' : '\n\n';
}

/**
 * Inline mode for one request: holds a non-streaming answer, judges it with the worker's own
 * detectors, and answers with the verdict in headers, or (block) with a 422 in the dialect's
 * error shape, after asking again when configured; or, for a stream, judges the bytes as they
 * pass and adds the verdict after the last event. Nothing here fails a request: a body it cannot
 * judge is passed through as it came.
 */
export class InlineSession {
  /** Verdict of the client's own request, with `inline` saying what was done: the worker stores this one. */
  private verdictOfFirst: Verdict | undefined;
  /** The status the client got, when it is not the upstream's (422 for a withheld answer, or a retry's). */
  clientStatus: number | undefined;

  constructor(
    private readonly deps: InlineDeps,
    private readonly req: InlineRequest,
    private readonly policy: InlinePolicy,
  ) {}

  /** The verdict to hand to the worker with the client's own exchange, once the response has ended. */
  verdict(): Verdict | undefined {
    return this.verdictOfFirst;
  }

  private count(outcome: InlineOutcome): void {
    this.deps.metrics.inlineDecisions.inc({ mode: this.policy.mode, outcome });
  }

  /**
   * Decided once the upstream's headers are in: a 2xx answer is held (JSON) or gets a tail (an
   * uncompressed event stream), unless a body is larger than inline.maxBodyBytes.
   */
  plan(status: number, headers: UpstreamAnswer['headers'], streaming: boolean): InlinePlan {
    if (status < 200 || status >= 300 || (streaming && compressed(headers))) {
      this.count('skipped');
      return undefined;
    }
    const max = this.deps.config.inline.maxBodyBytes;
    const length = Number(header(headers, 'content-length') ?? 0);
    if ((this.req.body?.length ?? 0) > max || length > max) {
      this.count('oversize');
      return undefined;
    }
    return streaming ? 'tail' : 'hold';
  }

  /**
   * Holds a non-streaming answer until its last byte, then answers the client (see answer()).
   * Past inline.maxBodyBytes it gives up holding: what it has and the rest go out as they come.
   */
  hold(up: UpstreamAnswer, res: ServerResponse, done: Done): void {
    const source = up.body as Readable;
    const max = this.deps.config.inline.maxBodyBytes;
    let chunks: Buffer[] = [];
    let size = 0;
    let passing = false;
    const settle = settleOnce(done);
    source.on('data', (chunk: Buffer) => {
      if (!passing) {
        size += chunk.length;
        if (size <= max) {
          chunks.push(chunk);
          return;
        }
        this.count('oversize');
        passing = true;
        res.writeHead(up.statusCode, clientResponseHeaders(up.headers, this.req.id));
        for (const c of chunks) res.write(c);
        chunks = [];
      }
      if (!res.write(chunk)) source.pause();
    });
    res.on('drain', () => source.resume());
    source.on('end', () => {
      if (passing) res.end(() => settle(null));
      else
        this.answer(up, Buffer.concat(chunks, size), res, settle).catch((err: Error) => {
          // A bug, not bad input: the client still gets the answer as it came.
          process.emitWarning(err);
          if (!res.headersSent) this.send(res, up.statusCode, clientResponseHeaders(up.headers, this.req.id), Buffer.concat(chunks, size), settle);
        });
    });
    tieEnds(source, res, settle);
  }

  /** A stage for an event stream: bytes pass as they come; after the last one, the verdict as a comment (and an event). */
  tail(up: UpstreamAnswer): Transform {
    const max = this.deps.config.inline.maxBodyBytes;
    const parts: Buffer[] = [];
    let size = 0;
    let over = false;
    let last: Buffer = Buffer.alloc(0);
    return new Transform({
      transform: (chunk: Buffer, _encoding: BufferEncoding, callback: TransformCallback) => {
        if (!over) {
          size += chunk.length;
          if (size > max) {
            over = true;
            parts.length = 0;
            this.count('oversize');
          } else parts.push(chunk);
        }
        if (chunk.length > 0) last = chunk;
        callback(null, chunk);
      },
      flush: (callback: TransformCallback) => {
        if (over) return callback();
        const attempt: Attempt = { id: this.req.id, request: this.req.body ?? Buffer.alloc(0), status: up.statusCode, headers: up.headers, bytes: Buffer.concat(parts, size), startedAt: this.req.startedAt, endedAt: Date.now() };
        void this.judge(attempt).then((verdict) => {
          if (!verdict) return callback();
          this.decide(verdict, 'delivered', 1, { stream: true });
          this.verdictOfFirst = verdict;
          this.count(flaggedOf(verdict).length > 0 ? 'flagged' : 'passed');
          const tailText = last.toString('latin1', Math.max(0, last.length - 4));
          let text = separatorAfter(tailText) + streamComment(verdict, this.req.id);
          if (this.deps.config.inline.sseEvent) text += streamEvent(verdict, this.req.id, this.deps.config.inline.consoleUrl);
          callback(null, text);
        });
      },
    });
  }

  /** Judges one attempt; undefined (counted) when there is no verdict to act on. */
  private async judge(a: Attempt): Promise<Verdict | undefined> {
    const { target } = this.req;
    const held: HeldAnswer = {
      id: a.id,
      provider: target.upstream.dialect,
      route: target.route,
      app: this.req.app,
      upstream: target.upstream.name,
      request: a.request,
      response: a.bytes,
      contentType: header(a.headers, 'content-type') ?? '',
      encoding: header(a.headers, 'content-encoding'),
      status: a.status,
      startedAt: a.startedAt,
      endedAt: a.endedAt,
    };
    const j = await this.deps.judges.judge(held);
    this.deps.metrics.inlineDuration.observe({ mode: this.policy.mode, where: j.where ?? 'loop' }, j.ms / 1000);
    if ('verdict' in j) {
      a.verdict = j.verdict;
      return j.verdict;
    }
    this.count('error' in j ? 'error' : 'skipped');
    return undefined;
  }

  private decide(verdict: Verdict, decision: InlineDecision['decision'], attempt: number, extra: Partial<InlineDecision> = {}): void {
    verdict.inline = { mode: this.policy.mode, decision, hallucination: verdict.hallucination.score, flagged: flaggedOf(verdict), attempt, ...extra };
  }

  private withheld(verdict: Verdict): boolean {
    return this.policy.mode === 'block' && flaggedOf(verdict).some((f) => this.policy.blockOn.includes(f));
  }

  /** A held answer is in: deliver it with its verdict, or withhold it (asking again first, when configured). */
  private async answer(up: UpstreamAnswer, bytes: Buffer, res: ServerResponse, settle: Done): Promise<void> {
    const first: Attempt = { id: this.req.id, request: this.req.body ?? Buffer.alloc(0), status: up.statusCode, headers: up.headers, bytes, startedAt: this.req.startedAt, endedAt: Date.now() };
    const verdict = await this.judge(first);
    if (!verdict) return this.send(res, up.statusCode, clientResponseHeaders(up.headers, first.id), bytes, settle);
    this.verdictOfFirst = verdict;
    if (!this.withheld(verdict)) {
      this.decide(verdict, 'delivered', 1);
      this.count(flaggedOf(verdict).length > 0 ? 'flagged' : 'passed');
      return this.send(res, up.statusCode, { ...clientResponseHeaders(up.headers, first.id), ...verdictHeaders(verdict, first.id, this.deps.config.inline.consoleUrl) }, bytes, settle);
    }
    if (this.policy.retry === 0) {
      this.decide(verdict, 'blocked', 1);
      this.count('blocked');
      return this.block(res, [first], settle);
    }
    await this.retry(first, res, settle).catch((err: Error) => {
      // A bug, not an upstream failure: the client still gets an answer, the withheld one's 422.
      process.emitWarning(err);
      if (!res.headersSent) this.block(res, [first], settle);
    });
  }

  /**
   * Asks the upstream again (the same request, or the fallback model) until an answer passes or
   * inline.retry attempts are spent. Every attempt is an exchange of its own with its own verdict,
   * linked both ways (`retry_of`, `retried_as`); the retries are queued for the worker here, the
   * client's own request by the relay.
   */
  private async retry(first: Attempt, res: ServerResponse, settle: Done): Promise<void> {
    const attempts: Attempt[] = [first];
    let delivered: Attempt | undefined;
    for (let n = 2; n <= this.policy.retry + 1 && !res.destroyed; n++) {
      const previous = attempts.at(-1)!;
      const next = await this.ask();
      if (!next) break;
      attempts.push(next);
      this.decide(previous.verdict!, 'retried', n - 1, { retry_of: attempts.at(-3)?.id, retried_as: next.id });
      this.count('retried');
      if (next.status < 200 || next.status >= 300) break;
      const verdict = await this.judge(next);
      if (!verdict || !this.withheld(verdict)) {
        if (verdict) {
          this.decide(verdict, 'delivered', n, { retry_of: previous.id });
          this.count(flaggedOf(verdict).length > 0 ? 'flagged' : 'passed');
        }
        delivered = next;
        break;
      }
    }
    // Every attempt that was judged and not delivered or retried is the one withheld.
    const judged = attempts.filter((a) => a.verdict);
    const lastJudged = judged.at(-1)!;
    if (!delivered) {
      const i = attempts.indexOf(lastJudged);
      this.decide(lastJudged.verdict!, 'blocked', i + 1, i > 0 ? { retry_of: attempts[i - 1]!.id } : {});
      this.count('blocked');
    }
    const ids = attempts.map((a) => a.id);
    if (delivered) {
      this.clientStatus = delivered.status;
      const headers: OutgoingHttpHeaders = clientResponseHeaders(delivered.headers, delivered.id);
      if (delivered.verdict) Object.assign(headers, verdictHeaders(delivered.verdict, delivered.id, this.deps.config.inline.consoleUrl, ids));
      else headers['x-veracity-attempts'] = ids.join(',');
      this.send(res, delivered.status, headers, delivered.bytes, settle);
    } else {
      this.block(res, attempts.slice(0, attempts.indexOf(lastJudged) + 1), settle);
    }
    for (const a of attempts.slice(1)) this.queue(a);
  }

  /** One more request to the upstream, read whole (up to inline.maxBodyBytes); undefined when it fails. */
  private async ask(): Promise<Attempt | undefined> {
    const { target, headers } = this.req;
    const original = this.req.body ?? Buffer.alloc(0);
    const fallback = this.policy.fallbackModel;
    const request = fallback ? (dialectOf(target.upstream.dialect).withModel(original, fallback) ?? original) : original;
    const startedAt = Date.now();
    try {
      const up = await this.deps.pools.get(target.upstream).request({
        method: 'POST',
        path: target.upstreamPath,
        headers: upstreamRequestHeaders(headers, target.upstream.url.host),
        body: request,
      });
      const max = this.deps.config.inline.maxBodyBytes;
      const parts: Buffer[] = [];
      let size = 0;
      for await (const chunk of up.body as AsyncIterable<Buffer>) {
        size += chunk.length;
        if (size > max) {
          up.body.destroy();
          this.count('oversize');
          return undefined;
        }
        parts.push(chunk);
      }
      return { id: randomUUID(), request, status: up.statusCode, headers: up.headers, bytes: Buffer.concat(parts, size), startedAt, endedAt: Date.now() };
    } catch {
      this.deps.metrics.upstreamErrors.inc({ provider: target.upstream.dialect, error_type: 'upstream_error' });
      return undefined;
    }
  }

  /** The 422 that stands for the last withheld attempt, in the dialect's error shape; never retried by the SDKs. */
  private block(res: ServerResponse, attempts: Attempt[], settle: Done): void {
    const last = attempts.at(-1)!;
    const verdict = last.verdict!;
    const ids = attempts.map((a) => a.id);
    const consoleUrl = this.deps.config.inline.consoleUrl;
    const e = dialectOf(this.req.target.upstream.dialect).blockedError(blockedMessage(verdict, last.id, attempts.length), summary(verdict, last.id, consoleUrl, ids));
    this.clientStatus = 422;
    this.send(
      res,
      422,
      {
        'content-type': e.contentType,
        'content-length': Buffer.byteLength(e.body),
        'x-veracity-id': last.id,
        // The SDKs do not retry a 422 anyway; this says so to any client that asks the header first.
        'x-should-retry': 'false',
        ...verdictHeaders(verdict, last.id, consoleUrl, ids),
      },
      Buffer.from(e.body),
      settle,
    );
  }

  private send(res: ServerResponse, status: number, headers: OutgoingHttpHeaders, body: Buffer, settle: Done): void {
    if (res.destroyed) return settle(Object.assign(new Error('client closed the connection'), { code: 'ERR_STREAM_PREMATURE_CLOSE' }));
    res.writeHead(status, headers);
    res.end(body, () => settle(null));
  }

  /** A retry's exchange, queued for the worker like the relay queues the client's own (same limits, same masking). */
  private queue(a: Attempt): void {
    const { producer, config } = this.deps;
    if (!producer || !config.capture.enabled) return;
    const max = config.capture.maxBodyBytes;
    let request = a.request.subarray(0, max);
    let response = a.bytes.subarray(0, max);
    let encoding = compressed(a.headers) ? header(a.headers, 'content-encoding') : undefined;
    if (config.capture.redactPii) {
      let text = '';
      try {
        text = decodeBytes(response, encoding);
      } catch {
        // undecodable: keep nothing rather than unmasked bytes
      }
      request = Buffer.from(redactPii(request.toString('utf8')).text);
      response = Buffer.from(redactPii(text).text);
      encoding = undefined;
    }
    const cut = { request: a.request.length > max, response: a.bytes.length > max };
    const { target } = this.req;
    producer.submit({
      meta: {
        id: a.id,
        provider: target.upstream.dialect,
        route: target.route,
        app: this.req.app,
        upstream: target.upstream.name,
        responseEncoding: encoding,
        contentType: header(a.headers, 'content-type') ?? '',
        status: a.status,
        aborted: false,
        truncated: cut.request || cut.response ? cut : undefined,
        startedAt: a.startedAt,
        endedAt: a.endedAt,
        inlineVerdict: a.verdict,
      },
      body: Buffer.concat([request, response]),
      requestBytes: request.length,
    });
  }
}
