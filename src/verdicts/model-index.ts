import type { Redis } from 'ioredis';

/**
 * The per-model time index of stored verdicts: one sorted set per `provider:model label` whose
 * members are verdict ids scored by analysis time (epoch ms), and one set naming the indexed
 * models. `report --compare` (and the console) read a model's verdicts in a window from it
 * instead of scanning every verdict key.
 *
 * The verdict and its entry are written in one MULTI, so a verdict is never stored without its
 * entry; a duplicate write adds nothing (ZADD NX keeps the first entry). It stays bounded: every
 * key expires one TTL after its last write, and each writer trims a model's set (entries older
 * than the TTL, all but the `maxPerModel` newest) on its first write to it and then every
 * `trimEvery` writes or `trimEveryMs`, whichever comes first, so a set holds at most
 * `maxPerModel + trimEvery - 1` entries per writer. Doing all of that on every write, in a
 * script, cost Redis 21 to 32 µs of server time per verdict in a side-by-side run; SET, ZADD and
 * EXPIRE in one MULTI 13 to 15 µs; the SET alone, before the index, 4 to 7 µs.
 *
 * Model labels are bounded like metric labels (configured names, then first-seen, then `other`);
 * a reader looking for one model reads its own set and the `other` sets. Every key starts with
 * the configured prefix, so in Redis Cluster (where the prefix is hash-tagged) the verdict and
 * its index share a slot, as the MULTI needs.
 */

export interface IndexedModel {
  provider: string;
  label: string;
}

/** A model whose own label did not fit under the bound. */
export const OVERFLOW_LABEL = 'other';

export const indexKey = (prefix: string, provider: string, label: string) => `${prefix}:by-model:${provider}:${label}`;
export const indexedModelsKey = (prefix: string) => `${prefix}:by-model:index`;

export class ModelIndex {
  /** Per index key: writes since this process last trimmed it, and when. */
  private readonly sinceTrim = new Map<string, { writes: number; at: number }>();

  constructor(
    private readonly redis: Redis,
    private readonly prefix: string,
    private readonly ttlSeconds: number,
    private readonly maxPerModel: number,
    private readonly trimEvery = 256,
    private readonly trimEveryMs = 10_000,
  ) {}

  /** Writes `json` at `verdictKey` if absent, with its index entry (none when maxPerModel is 0). True when written. */
  async putAndIndex(verdictKey: string, json: string, id: string, model: IndexedModel, atMs: number): Promise<boolean> {
    if (this.maxPerModel === 0) return (await this.redis.set(verdictKey, json, 'EX', this.ttlSeconds, 'NX')) === 'OK';
    const key = indexKey(this.prefix, model.provider, model.label);
    const replies = await this.redis
      .multi()
      .set(verdictKey, json, 'EX', this.ttlSeconds, 'NX')
      .zadd(key, 'NX', Math.round(atMs), id)
      .expire(key, this.ttlSeconds)
      .exec();
    const [err, reply] = replies?.[0] ?? [new Error('verdict write was aborted'), null];
    if (err) throw err;
    if (reply !== 'OK') return false;
    await this.trimIfDue(key, `${model.provider}:${model.label}`);
    return true;
  }

  private async trimIfDue(key: string, member: string): Promise<void> {
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
      .zremrangebyrank(key, 0, -(this.maxPerModel + 1))
      .sadd(models, member)
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

  /** Ids analysed in [fromMs, toMs], oldest first. */
  async ids(model: IndexedModel, fromMs: number, toMs: number): Promise<string[]> {
    return this.redis.zrangebyscore(indexKey(this.prefix, model.provider, model.label), Math.floor(fromMs), Math.ceil(toMs));
  }
}
