import { request } from 'undici';
import type { RedisConnection as Redis } from '../redis/connection.js';
import type { Exchange } from '../capture/exchange.js';
import type { Config, DetectConfig, RemoteScoringConfig } from '../config/schema.js';
import { FailureReference, assignFailureModes } from '../detect/failure-mode.js';
import { contextText } from '../detect/grounding.js';
import type { Verdict } from '../detect/verdict.js';
import { LocalTokenBudget, RedisTokenBudget, type TokenBudget } from '../sampling/budget.js';
import { inSample } from '../sampling/decide.js';
import type { Metrics } from '../metrics/registry.js';
import { MalformedPrediction, parsePredictions, predictRequest, type PairScore } from './tei.js';

/**
 * Optional model-backed scoring. For a sample of grounded exchanges, within a token budget, the
 * worker sends (context passage, claim) pairs to a sequence classifier (an NLI, HHEM- or
 * MiniCheck-style model behind text-embeddings-inference's `/predict`), in batches, each request
 * under a timeout, and merges the model's reading into the verdict by weight. It does I/O, so it
 * runs in the worker after the local detectors, never inside them; a failing endpoint leaves the
 * local verdict as it was and is counted by reason.
 */

export type RemoteResult = 'ok' | 'over_budget' | 'timeout' | 'http_error' | 'unreachable' | 'malformed';
export const REMOTE_RESULTS: readonly RemoteResult[] = ['ok', 'over_budget', 'timeout', 'http_error', 'unreachable', 'malformed'];

/** Why a request to the endpoint gave no usable reading. */
export class RemoteScoringError extends Error {
  readonly code: string;
  constructor(
    readonly reason: Exclude<RemoteResult, 'ok' | 'over_budget'>,
    message: string,
    options?: { cause?: unknown },
  ) {
    super(message, options);
    this.name = 'RemoteScoringError';
    this.code = `VERACITY_ERR_REMOTE_${reason.toUpperCase()}`;
  }
}

/** A body larger than this is not a prediction list for a batch of pairs. */
const MAX_ANSWER_BYTES = 4 * 1024 * 1024;
const TIMEOUT_CODES = new Set(['UND_ERR_HEADERS_TIMEOUT', 'UND_ERR_BODY_TIMEOUT', 'UND_ERR_CONNECT_TIMEOUT']);

/** The context around a claim's best-matching passage, at most `max` characters. */
export function passageFor(context: string, evidence: string | undefined, max: number): string {
  if (context.length <= max) return context;
  const at = evidence ? context.indexOf(evidence) : -1;
  if (at < 0) return context.slice(0, max);
  const start = Math.max(0, Math.min(context.length - max, at + Math.floor(evidence!.length / 2) - Math.floor(max / 2)));
  return context.slice(start, start + max);
}

export class RemoteScorer {
  private readonly budget: TokenBudget;
  private readonly endpoint: URL;

  constructor(
    private readonly cfg: RemoteScoringConfig,
    private readonly apiKey: string | undefined,
    private readonly metrics?: Metrics,
    budget?: TokenBudget,
  ) {
    this.budget = budget ?? new LocalTokenBudget(cfg.tokensPerMinute);
    const base = cfg.url ?? 'http://127.0.0.1';
    this.endpoint = new URL('predict', base.endsWith('/') ? base : `${base}/`);
  }

  /** With a Redis client, the token budget is shared by every worker on it. */
  static fromConfig(config: Config, env: Record<string, string | undefined>, metrics?: Metrics, redis?: Redis): RemoteScorer | undefined {
    const cfg = config.detect.remote;
    if (!cfg.enabled) return undefined;
    if (metrics) for (const result of REMOTE_RESULTS) metrics.remoteRequests.inc({ result }, 0);
    const budget = redis ? new RedisTokenBudget(redis, `${config.redis.prefix}:budget:remote`, cfg.tokensPerMinute) : undefined;
    return new RemoteScorer(cfg, env[cfg.apiKeyEnv] || undefined, metrics, budget);
  }

  /** Scores the verdict's claims and merges the result in place. Never throws. */
  async apply(exchange: Exchange, verdict: Verdict, detect: DetectConfig): Promise<void> {
    const claims = verdict.hallucination.claims;
    if (!verdict.grounded || (verdict.hallucination.method ?? 'context') !== 'context' || claims.length === 0) return;
    if (!inSample(verdict.id, this.cfg.sampleRate)) return;

    const { text: context } = contextText(exchange.context, detect.maxContextChars);
    const order = claims
      .map((c, i) => ({ c, i }))
      .sort((a, b) => b.c.score - a.c.score)
      .slice(0, this.cfg.maxClaims);
    const pairs = order.map(({ c }) => [passageFor(context, c.evidence, this.cfg.maxPassageChars), c.text] as [string, string]);
    const estimate = Math.ceil(pairs.reduce((n, [a, b]) => n + a.length + b.length, 0) / 4);
    if (!(await this.budget.reserve(estimate).catch(() => false))) {
      this.metrics?.remoteRequests.inc({ result: 'over_budget' });
      return;
    }

    const scores: PairScore[] = [];
    for (let i = 0; i < pairs.length; i += this.cfg.batchSize) {
      try {
        scores.push(...(await this.predict(pairs.slice(i, i + this.cfg.batchSize))));
        this.metrics?.remoteRequests.inc({ result: 'ok' });
      } catch (err) {
        this.metrics?.remoteRequests.inc({ result: err instanceof RemoteScoringError ? err.reason : 'unreachable' });
        return; // all or nothing: a partly scored exchange would mix two scales
      }
    }
    mergeRemote(
      verdict,
      order.map((o, k) => ({ claim: o.i, score: scores[k]! })),
      this.cfg.name,
      this.cfg.weight,
      detect,
      FailureReference.fromText(context, exchange.question ?? ''),
    );
  }

  /** One `/predict` call for a batch of pairs. */
  async predict(pairs: Array<[string, string]>): Promise<PairScore[]> {
    let res;
    try {
      res = await request(this.endpoint, {
        method: 'POST',
        headers: {
          'content-type': 'application/json',
          accept: 'application/json',
          ...(this.apiKey ? { authorization: `Bearer ${this.apiKey}` } : {}),
        },
        body: predictRequest(pairs),
        signal: AbortSignal.timeout(this.cfg.timeoutMs),
      });
    } catch (err) {
      throw classify(err, this.cfg.timeoutMs);
    }
    let text = '';
    try {
      let bytes = 0;
      for await (const chunk of res.body) {
        bytes += (chunk as Buffer).length;
        if (bytes > MAX_ANSWER_BYTES) {
          res.body.destroy();
          throw new MalformedPrediction(`answer larger than ${MAX_ANSWER_BYTES} bytes`);
        }
        text += (chunk as Buffer).toString('utf8');
      }
    } catch (err) {
      if (err instanceof MalformedPrediction) throw new RemoteScoringError('malformed', err.message, { cause: err });
      throw classify(err, this.cfg.timeoutMs);
    }
    if (res.statusCode < 200 || res.statusCode >= 300) {
      throw new RemoteScoringError('http_error', `remote scoring answered ${res.statusCode}`);
    }
    try {
      return parsePredictions(JSON.parse(text), pairs.length, this.cfg.supportedLabel, this.cfg.contradictionLabel);
    } catch (err) {
      throw new RemoteScoringError('malformed', `remote scoring answer unreadable: ${(err as Error).message}`, { cause: err });
    }
  }
}

function classify(err: unknown, timeoutMs: number): RemoteScoringError {
  const e = err as { name?: string; code?: string; message?: string };
  if (e?.name === 'TimeoutError' || e?.name === 'AbortError' || TIMEOUT_CODES.has(e?.code ?? '')) {
    return new RemoteScoringError('timeout', `remote scoring took longer than ${timeoutMs} ms`, { cause: err });
  }
  return new RemoteScoringError('unreachable', `remote scoring unreachable: ${e?.code ?? e?.message ?? String(err)}`, { cause: err });
}

const round = (x: number) => Math.round(Math.min(1, Math.max(0, x)) * 1000) / 1000;

/**
 * Merges the remote reading into a verdict: each scored claim keeps its local score in the blend
 * `(1 − weight) × local + weight × (1 − P(supported))` and records the remote part; its support is
 * decided again at `detect.claimThreshold` (contradicted when the local reading or the model says
 * so), and failure modes follow. The exchange score blends the local score with the least
 * supported claim's remote score the same way.
 */
export function mergeRemote(
  verdict: Verdict,
  scored: Array<{ claim: number; score: PairScore }>,
  name: string,
  weight: number,
  detect: DetectConfig,
  reference: FailureReference,
): void {
  if (scored.length === 0) return;
  let worst = 0;
  for (const { claim, score } of scored) {
    const c = verdict.hallucination.claims[claim];
    if (!c) continue;
    const unsupported = 1 - score.supported;
    worst = Math.max(worst, unsupported);
    c.remote = round(unsupported);
    c.score = round((1 - weight) * c.score + weight * unsupported);
    const modelContradicts = score.contradicted !== undefined && score.contradicted > score.supported && score.contradicted >= 0.5;
    if (c.score >= detect.claimThreshold) c.support = c.support === 'contradicted' || modelContradicts ? 'contradicted' : 'unsupported';
    else c.support = 'supported';
  }
  const h = verdict.hallucination;
  h.score = round((1 - weight) * h.score + weight * worst);
  if (h.claims.some((c) => c.support === 'contradicted')) h.score = Math.max(h.score, detect.hallucinationThreshold);
  h.flagged = h.score >= detect.hallucinationThreshold;
  assignFailureModes(h.claims, reference);
  verdict.remote = { name, score: round(worst), claims: scored.length };
  verdict.provenance = [...(verdict.provenance ?? []), `remote:${name}`];
}
