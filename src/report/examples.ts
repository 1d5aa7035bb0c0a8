import type { RedisConnection } from '../redis/connection.js';
import { AggregateReader, type AggregateOptions } from '../verdicts/aggregates.js';

export interface Example {
  id: string;
  score: number;
  analysedAt?: string;
  app?: string;
  claims: Array<{ text: string; support: string; score: number }>;
}

/**
 * Each model's highest-scoring flagged exchanges in the window, with their least supported
 * claims: read from the flagged indexes the workers keep with the verdicts (the console's
 * "highest score" list), keyed `provider/model`.
 */
export async function worstExamples(
  redis: RedisConnection,
  aggregates: AggregateOptions,
  models: Array<{ provider: string; model: string }>,
  window: { fromMs: number; toMs: number },
  perModel: number,
): Promise<Record<string, Example[]>> {
  const reader = new AggregateReader(redis, aggregates);
  const out: Record<string, Example[]> = {};
  for (const { provider, model } of models) {
    const verdicts = await reader.flaggedVerdicts('top', 'hallucination', { traffic: 'primary', provider, model }, perModel, window.fromMs, window.toMs);
    if (verdicts.length === 0) continue;
    out[`${provider}/${model}`] = verdicts.map((v) => ({
      id: v.id,
      score: v.hallucination.score,
      analysedAt: v.analysed_at,
      app: v.app,
      claims: v.hallucination.claims
        .filter((c) => c.support !== 'supported')
        .sort((a, b) => b.score - a.score)
        .slice(0, 3)
        .map((c) => ({ text: c.text, support: c.support, score: c.score })),
    }));
  }
  return out;
}
