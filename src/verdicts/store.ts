import type { RedisConnection as Redis } from '../redis/connection.js';
import type { Verdict } from '../detect/verdict.js';

/**
 * Verdicts live in Redis under `<prefix>:verdict:<id>` with a TTL. Writes are set-if-absent, so a
 * retried or duplicated job can never rewrite a verdict already stored.
 */
export class VerdictStore {
  constructor(
    private readonly redis: Redis,
    private readonly prefix: string,
    private readonly ttlSeconds: number,
  ) {}

  key(id: string): string {
    return `${this.prefix}:verdict:${id}`;
  }

  /** True when this call stored the verdict, false when one was already there. */
  async putIfAbsent(verdict: Verdict): Promise<boolean> {
    const res = await this.redis.set(this.key(verdict.id), JSON.stringify(verdict), 'EX', this.ttlSeconds, 'NX');
    return res === 'OK';
  }

  /**
   * Remembers a flagged verdict as one of its model's recent worst, for `veracity report`: a list
   * of the last 100 flagged ids per model, expiring with the verdicts.
   */
  async rememberFlagged(verdict: Verdict, modelLabel: string): Promise<void> {
    const list = `${this.prefix}:flagged:${verdict.provider}:${modelLabel}`;
    const index = `${this.prefix}:flagged:index`;
    await this.redis
      .multi()
      .lpush(list, verdict.id)
      .ltrim(list, 0, 99)
      .expire(list, this.ttlSeconds)
      .sadd(index, `${verdict.provider}:${modelLabel}`)
      .expire(index, this.ttlSeconds)
      .exec();
  }

  /** The recent flagged verdicts still stored, per `provider:model`. */
  async recentFlagged(perModel = 100): Promise<Map<string, Verdict[]>> {
    const out = new Map<string, Verdict[]>();
    const models = await this.redis.smembers(`${this.prefix}:flagged:index`);
    for (const key of models.sort()) {
      const ids = await this.redis.lrange(`${this.prefix}:flagged:${key}`, 0, perModel - 1);
      if (ids.length === 0) continue;
      const texts = await this.redis.mget(ids.map((id) => this.key(id)));
      const verdicts = texts.filter((t): t is string => t !== null).map((t) => JSON.parse(t) as Verdict);
      if (verdicts.length > 0) out.set(key, verdicts);
    }
    return out;
  }

  async get(id: string): Promise<Verdict | undefined> {
    const text = await this.redis.get(this.key(id));
    return text === null ? undefined : (JSON.parse(text) as Verdict);
  }
}

/** Removes every piece of prompt or response text from a verdict (capture.storeText: false). */
export function withoutText(verdict: Verdict): Verdict {
  return {
    ...verdict,
    hallucination: {
      ...verdict.hallucination,
      claims: verdict.hallucination.claims.map(({ text: _t, evidence: _e, ...rest }) => ({ ...rest, text: '' })),
    },
  };
}
