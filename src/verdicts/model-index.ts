import type { RedisConnection as Redis } from '../redis/connection.js';

/**
 * The per-model time index of stored verdicts: one sorted set per `provider:model label` whose
 * members are verdict ids scored by analysis time (epoch ms), and one set naming the indexed
 * models. `report --compare` (and the console) read a model's verdicts in a window from it
 * instead of scanning every verdict key.
 *
 * The entry is one of the index writes the verdict store's script makes with the verdict, in the
 * same atomic step and only when the verdict is new: a verdict is never stored without its entry,
 * nor indexed twice. That script keeps each set to the `maxPerModel` newest ids and expires it
 * one TTL after its last write. Entries older than the TTL are trimmed by each writer on its
 * first write to a model and then every `trimEvery` writes or `trimEveryMs`, whichever comes
 * first, with the set of indexed models refreshed at the same time: per verdict, the index costs
 * one ZADD, one ZREMRANGEBYRANK and one EXPIRE inside the script.
 *
 * Model labels are bounded like metric labels (configured names, then first-seen, then `other`);
 * a reader looking for one model reads its own set and the `other` sets. Every key starts with
 * the configured prefix, so in Redis Cluster (where the prefix is hash-tagged) the verdict and
 * its index share a slot, as the script needs.
 */

export interface IndexedModel {
  provider: string;
  label: string;
}

/** A model whose own label did not fit under the bound. */
export const OVERFLOW_LABEL = 'other';

export const indexKey = (prefix: string, provider: string, label: string) => `${prefix}:by-model:${provider}:${label}`;
export const indexedModelsKey = (prefix: string) => `${prefix}:by-model:index`;

/** An index write as the verdict store's script takes it: ZADD id at score, keep the cap newest, expire. */
export interface IndexEntry {
  key: string;
  score: number;
  cap: number;
  ttlSeconds: number;
}

export class ModelIndex {
  /** Per index key: writes since this process last trimmed it by age, and when. */
  private readonly sinceTrim = new Map<string, { writes: number; at: number }>();

  constructor(
    private readonly redis: Redis,
    private readonly prefix: string,
    private readonly ttlSeconds: number,
    private readonly maxPerModel: number,
    private readonly trimEvery = 256,
    private readonly trimEveryMs = 10_000,
  ) {}

  /** The index write for a verdict of `model` analysed at `atMs`; none when the index is off. */
  entryFor(model: IndexedModel, atMs: number): IndexEntry | undefined {
    if (this.maxPerModel === 0) return undefined;
    return { key: indexKey(this.prefix, model.provider, model.label), score: Math.round(atMs), cap: this.maxPerModel, ttlSeconds: this.ttlSeconds };
  }

  /** After a verdict of `model` was stored: trims the model's set by age and names it, when due. */
  async stored(model: IndexedModel): Promise<void> {
    const key = indexKey(this.prefix, model.provider, model.label);
    const now = Date.now();
    const last = this.sinceTrim.get(key);
    if (last && last.writes < this.trimEvery && now - last.at < this.trimEveryMs) {
      last.writes++;
      return;
    }
    if (this.sinceTrim.size > 10_000) this.sinceTrim.clear(); // labels are bounded; this is a backstop
    this.sinceTrim.set(key, { writes: 1, at: now });
    const models = indexedModelsKey(this.prefix);
    // A failed trim is retried with the next one; the keys expire regardless.
    await this.redis
      .pipeline()
      .zremrangebyscore(key, '-inf', `(${now - this.ttlSeconds * 1000}`)
      .sadd(models, `${model.provider}:${model.label}`)
      .expire(models, this.ttlSeconds)
      .exec()
      .catch(() => {});
  }

  async models(): Promise<IndexedModel[]> {
    const members = await this.redis.smembers(indexedModelsKey(this.prefix));
    return members
      .map((m) => {
        const at = m.indexOf(':');
        return { provider: m.slice(0, at), label: m.slice(at + 1) };
      })
      .filter((m) => m.provider !== '' && m.label !== '')
      .sort((a, b) => a.provider.localeCompare(b.provider) || a.label.localeCompare(b.label));
  }

  /** Ids analysed in [fromMs, toMs], newest first: `limit` of them after the `skip` newest. */
  async newest(model: IndexedModel, limit: number, fromMs: number, toMs: number, skip = 0): Promise<string[]> {
    return this.redis.zrevrangebyscore(indexKey(this.prefix, model.provider, model.label), Math.ceil(toMs), Math.floor(fromMs), 'LIMIT', skip, limit);
  }

  /** Ids analysed in [fromMs, toMs], oldest first. */
  async ids(model: IndexedModel, fromMs: number, toMs: number): Promise<string[]> {
    return this.redis.zrangebyscore(indexKey(this.prefix, model.provider, model.label), Math.floor(fromMs), Math.ceil(toMs));
  }
}
