import { createHash } from 'node:crypto';
import { request } from 'undici';
import type { Config } from '../config/schema.js';
import type { Exchange } from '../capture/exchange.js';
import type { Support, Verdict } from '../detect/verdict.js';
import type { Metrics } from '../metrics/registry.js';
import { TokenBudget } from './budget.js';

/**
 * The optional judge: an OpenAI-compatible model asked, for a sample of exchanges and within a
 * token budget, whether each claim is supported by the context. It runs in the worker after the
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

/** Stable per-exchange sampling: the same id is always in or out of the sample. */
export function inSample(id: string, rate: number): boolean {
  if (rate >= 1) return true;
  if (rate <= 0) return false;
  const h = createHash('sha1').update(id).digest();
  return h.readUInt32BE(0) / 0x1_0000_0000 < rate;
}

/** Pulls the judged claims out of the model's answer, tolerating prose around the JSON. */
export function parseJudgeAnswer(text: string, claimCount: number): JudgedClaim[] | undefined {
  const start = text.indexOf('{');
  const end = text.lastIndexOf('}');
  if (start === -1 || end <= start) return undefined;
  let doc: unknown;
  try {
    doc = JSON.parse(text.slice(start, end + 1));
  } catch {
    return undefined;
  }
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
  ) {
    this.budget = new TokenBudget(cfg.tokensPerMinute);
  }

  static fromConfig(config: Config, env: Record<string, string | undefined>, metrics?: Metrics): Judge | undefined {
    return config.judge.enabled ? new Judge(config.judge, env[config.judge.apiKeyEnv], metrics) : undefined;
  }

  sampleRate(model: string): number {
    return this.cfg.sampleRates[model] ?? this.cfg.sampleRates.default ?? 0;
  }

  /** Judges the verdict's claims and merges the result in place. Never throws. */
  async apply(exchange: Exchange, verdict: Verdict, hallucinationThreshold: number): Promise<void> {
    if (!verdict.grounded || verdict.hallucination.claims.length === 0) return;
    if (!inSample(verdict.id, this.sampleRate(exchange.model))) return;

    // The least supported claims first: that is where a second opinion matters.
    const order = verdict.hallucination.claims
      .map((c, i) => ({ c, i }))
      .sort((a, b) => b.c.score - a.c.score)
      .slice(0, this.cfg.maxClaims);
    const context = exchange.context.map((p) => p.text).join('\n\n').slice(0, this.cfg.maxContextChars);
    const user = `Context:\n"""\n${context}\n"""\n\nClaims:\n${order.map((o, n) => `${n + 1}. ${o.c.text}`).join('\n')}`;
    const estimate = Math.ceil((SYSTEM.length + user.length) / 4) + ANSWER_TOKENS;
    if (!this.budget.reserve(estimate)) {
      this.metrics?.judgeRequests.inc({ result: 'over_budget' });
      return;
    }

    let answer: string;
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
            { role: 'system', content: SYSTEM },
            { role: 'user', content: user },
          ],
        }),
        signal: AbortSignal.timeout(this.cfg.timeoutMs),
      });
      const body = (await res.body.json()) as { choices?: Array<{ message?: { content?: string } }>; usage?: { total_tokens?: number } };
      if (res.statusCode !== 200) throw new Error(`judge answered ${res.statusCode}`);
      if (body.usage?.total_tokens) this.metrics?.judgeTokens.inc(body.usage.total_tokens);
      answer = body.choices?.[0]?.message?.content ?? '';
    } catch {
      this.metrics?.judgeRequests.inc({ result: 'error' });
      return;
    }
    const judged = parseJudgeAnswer(answer, order.length);
    if (!judged) {
      this.metrics?.judgeRequests.inc({ result: 'unparseable' });
      return;
    }
    this.metrics?.judgeRequests.inc({ result: 'ok' });
    mergeJudgement(verdict, this.cfg.model, judged.map((j) => ({ claim: order[j.index]!.i, support: j.support })), this.cfg.weight, hallucinationThreshold);
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
  verdict.judge = { model, score: Math.round(judgeScore * 1000) / 1000, claims: judged.length };
  verdict.provenance = [...(verdict.provenance ?? []), `judge:${model}`];
}
