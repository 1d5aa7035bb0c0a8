import { Redis } from 'ioredis';
import type { RedisConnection } from '../redis/connection.js';
import { VerdictStore } from '../verdicts/store.js';

export interface Example {
  id: string;
  score: number;
  analysedAt?: string;
  app?: string;
  claims: Array<{ text: string; support: string; score: number }>;
}

/** The worst of each model's recent flagged verdicts, read from the verdict store. */
export async function worstExamples(redisUrl: string | RedisConnection, perModel: number, prefix = 'veracity'): Promise<Record<string, Example[]>> {
  const own = typeof redisUrl === 'string';
  const redis = own ? new Redis(redisUrl, { lazyConnect: true, maxRetriesPerRequest: 1, enableOfflineQueue: false, connectTimeout: 5000, retryStrategy: () => null }) : redisUrl;
  if (own) redis.on('error', () => {});
  try {
    if (own) await redis.connect();
    const recent = await new VerdictStore(redis, prefix, 1).recentFlagged();
    const out: Record<string, Example[]> = {};
    for (const [model, verdicts] of recent) {
      out[model] = verdicts
        .sort((a, b) => b.hallucination.score - a.hallucination.score)
        .slice(0, perModel)
        .map((v) => ({
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
  } finally {
    if (own) redis.disconnect();
  }
}
