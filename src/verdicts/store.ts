import type { Redis } from 'ioredis';
import type { Verdict } from '../detect/verdict.js';
import { BoundedLabel } from '../metrics/labels.js';
import { ModelIndex } from './model-index.js';

export interface VerdictStoreOptions {
  /** Most verdict ids the per-model time index keeps per model (`verdicts.maxIndexedPerModel`). */
  maxIndexedPerModel?: number;
  /** Bounds the model names that get an index of their own; the rest share `other`. */
  modelLabels?: BoundedLabel;
  /** Writes between trims of a model's index by this process (default 256)... */
  indexTrimEvery?: number;
  /** ...or time between them, whichever comes first (default 10 s). */
  indexTrimEveryMs?: number;
}

/**
 * Verdicts live in Redis under `<prefix>:verdict:<id>` with a TTL. Writes are set-if-absent, so a
 * retried or duplicated job can never rewrite a verdict already stored; each written verdict
 * enters its model's time index (model-index.ts) in the same transaction.
 */
export class VerdictStore {
  readonly index: ModelIndex;
  private readonly modelLabels: BoundedLabel;

  constructor(
    private readonly redis: Redis,
    private readonly prefix: string,
    private readonly ttlSeconds: number,
    options: VerdictStoreOptions = {},
  ) {
    this.index = new ModelIndex(redis, prefix, ttlSeconds, options.maxIndexedPerModel ?? 100_000, options.indexTrimEvery, options.indexTrimEveryMs);
    this.modelLabels = options.modelLabels ?? new BoundedLabel([], 50);
  }

  key(id: string): string {
    return `${this.prefix}:verdict:${id}`;
  }

  /** True when this call stored the verdict, false when one was already there. */
  async putIfAbsent(verdict: Verdict): Promise<boolean> {
    const at = Date.parse(verdict.analysed_at ?? '');
    const model = { provider: verdict.provider, label: this.modelLabels.value(verdict.model) };
    return this.index.putAndIndex(this.key(verdict.id), JSON.stringify(verdict), verdict.id, model, Number.isFinite(at) ? at : Date.now());
  }

  /** The verdicts still stored among `ids`, in their order (expired ones left out). */
  async getMany(ids: string[], chunk = 500): Promise<Verdict[]> {
    const out: Verdict[] = [];
    for (let i = 0; i < ids.length; i += chunk) {
      const texts = await this.redis.mget(ids.slice(i, i + chunk).map((id) => this.key(id)));
      for (const t of texts) if (t !== null) out.push(JSON.parse(t) as Verdict);
    }
    return out;
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
