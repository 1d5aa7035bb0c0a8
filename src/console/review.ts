import { randomInt } from 'node:crypto';
import type { Config } from '../config/schema.js';
import type { Verdict } from '../detect/verdict.js';
import type { RedisConnection as Redis } from '../redis/connection.js';
import { LabelStore } from '../labels/store.js';
import { readVerified, type VerifiedRate } from '../report/verified.js';
import { aggregateOptions } from '../verdicts/aggregates.js';
import { indexKey, type IndexedModel } from '../verdicts/model-index.js';
import { VerdictStore } from '../verdicts/store.js';
import { readExchangeText, type ExchangeText } from '../verdicts/text.js';

/**
 * The review queue's reads: exchanges drawn uniformly at random from a model's analysed traffic in
 * the window (never from the flagged ones: a verified rate is unbiased only over a random sample),
 * skipping those already labelled; and per model, its labels and what one more would bring.
 */

export interface ReviewModel {
  provider: string;
  model: string;
  /** Exchanges of the model indexed in the window. */
  indexed: number;
  verified: VerifiedRate;
  /** The estimate from the judge's random labels alone, when it labelled any. */
  verifiedJudge?: VerifiedRate;
}

export interface Draw {
  verdict: Verdict;
  text?: ExchangeText;
  model: ReviewModel;
}

const peopleNarrowing = (m: ReviewModel) => (m.verified.by === 'judge' ? 1 : (m.verified.narrowing ?? 1));

/** Tries per draw: a drawn exchange already labelled, expired, skipped or a shadow's is drawn again. */
const TRIES = 24;

export class ReviewData {
  private readonly verdicts: VerdictStore;
  private readonly labels: LabelStore;
  constructor(
    private readonly redis: Redis,
    private readonly config: Config,
  ) {
    this.verdicts = new VerdictStore(redis, config.redis.prefix, config.verdicts.ttlSeconds);
    this.labels = new LabelStore(redis, config.redis.prefix, { retentionDays: config.labels.retentionDays });
  }

  /** Every indexed model's standing in the window, most to gain from one more label first. */
  async models(fromMs: number, toMs: number): Promise<ReviewModel[]> {
    const indexed = (await this.verdicts.index.models()).filter((m) => m.label !== 'other');
    const counts = await Promise.all(indexed.map((m) => this.redis.zcount(indexKey(this.config.redis.prefix, m.provider, m.label), Math.floor(fromMs), Math.ceil(toMs))));
    const live = indexed.map((m, i) => ({ m, n: counts[i]! })).filter((x) => x.n > 0);
    const verified = await readVerified(
      live.map(({ m }) => ({ provider: m.provider, model: m.label })),
      { redis: this.redis, aggregates: aggregateOptions(this.config), fromMs, toMs },
    );
    return live
      .map(({ m, n }) => ({ provider: m.provider, model: m.label, indexed: n, ...verified.get(`${m.provider}/${m.label}`)! }))
      // People's labels are what the queue gathers: a rate from a judge's counts as none.
      .sort((a, b) => peopleNarrowing(b) - peopleNarrowing(a) || a.model.localeCompare(b.model));
  }

  /**
   * One exchange of `model` analysed in [fromMs, toMs], uniformly at random among those without a
   * random label from a person (drawing without replacement), or undefined when none is found.
   */
  async draw(model: IndexedModel, fromMs: number, toMs: number, exclude: Set<string> = new Set()): Promise<{ verdict: Verdict; text?: ExchangeText } | undefined> {
    const key = indexKey(this.config.redis.prefix, model.provider, model.label);
    const lo = Math.floor(fromMs);
    const hi = Math.ceil(toMs);
    const n = await this.redis.zcount(key, lo, hi);
    if (n === 0) return undefined;
    const tried = new Set<number>();
    for (let t = 0; t < Math.min(TRIES, n); t++) {
      let at = randomInt(n);
      while (tried.has(at)) at = (at + 1) % n;
      tried.add(at);
      const [id] = await this.redis.zrangebyscore(key, lo, hi, 'LIMIT', at, 1);
      if (!id || exclude.has(id)) continue;
      const [verdict, label] = await Promise.all([this.verdicts.get(id), this.labels.get('human', id)]);
      // Only a random label takes an exchange out of the draw: leaving out those labelled as
      // feedback (mostly hallucinated ones) would tilt the random sample away from them.
      if (!verdict || label?.selection === 'random' || verdict.skipped !== undefined || verdict.shadow_of !== undefined) continue;
      const text = await readExchangeText(this.redis, this.config.redis.prefix, id);
      return { verdict, text };
    }
    return undefined;
  }
}
