import { connectForCommand } from '../redis/connection.js';
import { VerdictStore } from '../verdicts/store.js';

export interface Example {
  id: string;
  score: number;
  analysedAt?: string;
  app?: string;
  claims: Array<{ text: string; support: string; score: number }>;
}

/**
 * The worst of each model's recent flagged verdicts, read from the verdict store: at `redisUrl`,
 * or (without one) the Redis the config and environment name in any mode. Undefined when neither
 * names a Redis.
 */
export async function worstExamples(redisUrl: string | undefined, perModel: number): Promise<Record<string, Example[]> | undefined> {
  const opened = await connectForCommand(redisUrl, 'veracity-report');
  if (!opened) return undefined;
  const { connection: redis, prefix } = opened;
  try {
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
    redis.disconnect();
  }
}
