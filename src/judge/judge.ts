import type { RedisConnection as Redis } from '../redis/connection.js';
import { request } from 'undici';
import type { Config } from '../config/schema.js';
import type { Exchange } from '../capture/exchange.js';
import type { Support, Verdict } from '../detect/verdict.js';
import type { Metrics } from '../metrics/registry.js';
import { LocalTokenBudget, RedisTokenBudget, type TokenBudget } from '../sampling/budget.js';
import { inSample, rateFor } from '../sampling/decide.js';

export { inSample } from '../sampling/decide.js';

/**
 * The optional judge: an OpenAI-compatible model asked, for a sample of exchanges and within a
 * token budget, whether each claim is supported by the context (or, with `judge.ungrounded`, for
 * an exchange without context, whether each claim is true to its own knowledge). It runs in the worker after the
 * local detectors (it does I/O, so it is not one of them) and its reading is merged into the
 * verdict with its provenance. Off by default.
 */

export type JudgeConfig = Config['judge'];

interface JudgedClaim {
  index: number;
  support: Support;
}

const SUPPORT = new Set<Support>(['supported', 'unsupported', 'contradicted']);
const ANSWER_TOKENS = 400;

const SYSTEM = [
  'You check whether claims are supported by a context.',
  'For each numbered claim, answer "supported" if the context states or clearly implies it,',
  '"contradicted" if the context says otherwise, and "unsupported" if the context does not say.',
  'Judge only against the context, not your own knowledge.',
  'Reply with JSON only: {"claims":[{"i":1,"support":"supported"}, ...]}.',
].join(' ');

const KNOWLEDGE_SYSTEM = [
  'You check whether claims are true, from your own knowledge.',
  'For each numbered claim, answer "supported" if you know it to be true,',
  '"contradicted" if you know it to be false, and "unsupported" if you cannot tell.',
  'Do not guess: a claim you cannot verify is "unsupported".',
  'Reply with JSON only: {"claims":[{"i":1,"support":"supported"}, ...]}.',
].join(' ');

/** The JSON object in a model's answer, from its first `{` to its last `}`; undefined when there is none. */
export function jsonObjectIn(text: string): unknown {
  const start = text.indexOf('{');
  const end = text.lastIndexOf('}');
  if (start === -1 || end <= start) return undefined;
  try {
    return JSON.parse(text.slice(start, end + 1)) as unknown;
  } catch {
    return undefined;
  }
}

/** Pulls the judged claims out of the model's answer, tolerating prose around the JSON. */
export function parseJudgeAnswer(text: string, claimCount: number): JudgedClaim[] | undefined {
  const doc = jsonObjectIn(text);
  if (doc === undefined) return undefined;
  const list = (doc as { claims?: unknown }).claims;
  if (!Array.isArray(list)) return undefined;
  const out: JudgedClaim[] = [];
  for (const item of list) {
    const i = Number((item as { i?: unknown }).i);
    const support = String((item as { support?: unknown }).support ?? '').toLowerCase() as Support;
    if (Number.isInteger(i) && i >= 1 && i <= claimCount && SUPPORT.has(support)) out.push({ index: i - 1, support });
  }
  return out.length > 0 ? out : undefined;
}

export class Judge {
  private readonly budget: TokenBudget;

  constructor(
    private readonly cfg: JudgeConfig,
    private readonly apiKey: string | undefined,
    private readonly metrics?: Metrics,
    budget?: TokenBudget,
  ) {
    this.budget = budget ?? new LocalTokenBudget(cfg.tokensPerMinute);
  }

  /** With a Redis client, the token budget is shared by every worker on it. */
  static fromConfig(config: Config, env: Record<string, string | undefined>, metrics?: Metrics, redis?: Redis): Judge | undefined {
    if (!config.judge.enabled) return undefined;
    const budget = redis ? new RedisTokenBudget(redis, `${config.redis.prefix}:budget:judge`, config.judge.tokensPerMinute) : undefined;
    return new Judge(config.judge, env[config.judge.apiKeyEnv], metrics, budget);
  }

  sampleRate(model: string): number {
    return rateFor(this.cfg.sampleRates, model);
  }

  /** Reserves budget for a call of about `tokens`; false when this minute's budget is spent or unreadable. */
  private async reserve(tokens: number): Promise<boolean> {
    return this.budget.reserve(tokens).catch(() => false);
  }

  get model(): string {
    return this.cfg.model;
  }

  get limits(): { maxClaims: number; maxContextChars: number } {
    return { maxClaims: this.cfg.maxClaims, maxContextChars: this.cfg.maxContextChars };
  }

  /**
   * One call to the judge model, within the judge's token budget (shared through Redis by every
   * worker, and by everything that asks the judge: claim verification and labelling alike).
   * The answer's text, or why there is none. Never throws.
   */
  async ask(system: string, user: string): Promise<{ text: string } | { failed: 'over_budget' | 'error' }> {
    const estimate = Math.ceil((system.length + user.length) / 4) + ANSWER_TOKENS;
    if (!(await this.reserve(estimate))) return { failed: 'over_budget' };
    try {
      const res = await request(new URL('/v1/chat/completions', this.cfg.url), {
        method: 'POST',
        headers: {
          'content-type': 'application/json',
          ...(this.apiKey ? { authorization: `Bearer ${this.apiKey}` } : {}),
        },
        body: JSON.stringify({
          model: this.cfg.model,
          temperature: 0,
          max_tokens: ANSWER_TOKENS,
          response_format: { type: 'json_object' },
          messages: [
            { role: 'system', content: system },
            { role: 'user', content: user },
          ],
        }),
        signal: AbortSignal.timeout(this.cfg.timeoutMs),
      });
      const body = (await res.body.json()) as { choices?: Array<{ message?: { content?: string } }>; usage?: { total_tokens?: number } };
      if (res.statusCode !== 200) throw new Error(`judge answered ${res.statusCode}`);
      if (body.usage?.total_tokens) {
        this.metrics?.judgeTokens.inc(body.usage.total_tokens);
        await this.budget.settle(body.usage.total_tokens - estimate).catch(() => {});
      }
      return { text: body.choices?.[0]?.message?.content ?? '' };
    } catch {
      return { failed: 'error' };
    }
  }

  /** Judges the verdict's claims and merges the result in place. Never throws. */
  async apply(exchange: Exchange, verdict: Verdict, hallucinationThreshold: number): Promise<void> {
    const knowledge = !verdict.grounded;
    if (knowledge && !this.cfg.ungrounded) return;
    if (verdict.hallucination.claims.length === 0) return;
    if (!inSample(verdict.id, this.sampleRate(exchange.model))) return;

    // The least supported claims first: that is where a second opinion matters.
    const order = verdict.hallucination.claims
      .map((c, i) => ({ c, i }))
      .sort((a, b) => b.c.score - a.c.score)
      .slice(0, this.cfg.maxClaims);
    const claimList = `Claims:\n${order.map((o, n) => `${n + 1}. ${o.c.text}`).join('\n')}`;
    let system = SYSTEM;
    let user: string;
    if (knowledge) {
      system = KNOWLEDGE_SYSTEM;
      user = `Question:\n"""\n${exchange.question.slice(0, this.cfg.maxContextChars)}\n"""\n\n${claimList}`;
    } else {
      const context = exchange.context.map((p) => p.text).join('\n\n').slice(0, this.cfg.maxContextChars);
      user = `Context:\n"""\n${context}\n"""\n\n${claimList}`;
    }
    const asked = await this.ask(system, user);
    if ('failed' in asked) {
      this.metrics?.judgeRequests.inc({ result: asked.failed });
      return;
    }
    const answer = asked.text;
    const judged = parseJudgeAnswer(answer, order.length);
    if (!judged) {
      this.metrics?.judgeRequests.inc({ result: 'unparseable' });
      return;
    }
    this.metrics?.judgeRequests.inc({ result: 'ok' });
    mergeJudgement(verdict, this.cfg.model, judged.map((j) => ({ claim: order[j.index]!.i, support: j.support })), this.cfg.weight, hallucinationThreshold, knowledge ? 'knowledge' : 'context');
  }
}

/**
 * Merges judged claims into a verdict: each judged claim keeps the local reading and gains the
 * judge's; the exchange score becomes a weighted mean of the local score and the judge's
 * (share of judged claims not supported, contradicted counting fully).
 */
export function mergeJudgement(
  verdict: Verdict,
  model: string,
  judged: Array<{ claim: number; support: Support }>,
  weight: number,
  threshold: number,
  /** What the judge held the claims against: the request's context, or its own knowledge. */
  basis: 'context' | 'knowledge' = 'context',
): void {
  if (judged.length === 0) return;
  let bad = 0;
  for (const { claim, support } of judged) {
    const c = verdict.hallucination.claims[claim];
    if (!c) continue;
    c.judge = support;
    if (support !== 'supported') bad++;
  }
  const judgeScore = Math.min(1, bad / judged.length + (judged.some((j) => j.support === 'contradicted') ? 0.25 : 0));
  const merged = (1 - weight) * verdict.hallucination.score + weight * judgeScore;
  verdict.hallucination.score = Math.round(merged * 1000) / 1000;
  verdict.hallucination.flagged = verdict.hallucination.score >= threshold;
  verdict.judge = { model, score: Math.round(judgeScore * 1000) / 1000, claims: judged.length, basis };
  verdict.provenance = [...(verdict.provenance ?? []), basis === 'knowledge' ? `judge-knowledge:${model}` : `judge:${model}`];
}
