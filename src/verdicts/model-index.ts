import type { Redis } from 'ioredis';

/**
 * The per-model time index of stored verdicts: one sorted set per `provider:model label` whose
 * members are verdict ids scored by analysis time (epoch ms), and one set naming the indexed
 * models. `report --compare` (and the console) read a model's verdicts in a window from it
 * instead of scanning every verdict key.
 *
 * It stays bounded three ways: entries older than the verdict TTL are trimmed, each set keeps at
 * most `verdicts.maxIndexedPerModel` newest ids, and every key expires one TTL after its last
 * write. Model labels are bounded like metric labels (configured names, then first-seen, then
 * `other`); a reader looking for one model reads its own set and the `other` sets.
 *
 * Every key starts with the configured prefix, and the verdict is written in the same script as
 * its index entry, so in Redis Cluster (where the prefix is hash-tagged) all of them sit in one
 * slot; and a verdict is never stored without its entry, or indexed twice, whatever retries.
 */

export interface IndexedModel {
  provider: string;
  label: string;
}

/** A model whose own label did not fit under the bound. */
export const OVERFLOW_LABEL = 'other';

export const indexKey = (prefix: string, provider: string, label: string) => `${prefix}:by-model:${provider}:${label}`;
export const indexedModelsKey = (prefix: string) => `${prefix}:by-model:index`;

// KEYS: verdict, the model's index, the set of indexed models.
// ARGV: verdict JSON, TTL seconds, id, analysed ms, most ids per model, "provider:label", oldest ms kept.
const PUT_AND_INDEX = `
if not redis.call('SET', KEYS[1], ARGV[1], 'EX', ARGV[2], 'NX') then return 0 end
redis.call('ZADD', KEYS[2], ARGV[4], ARGV[3])
redis.call('ZREMRANGEBYSCORE', KEYS[2], '-inf', '(' .. ARGV[7])
local excess = redis.call('ZCARD', KEYS[2]) - tonumber(ARGV[5])
if excess > 0 then redis.call('ZREMRANGEBYRANK', KEYS[2], 0, excess - 1) end
redis.call('EXPIRE', KEYS[2], ARGV[2])
redis.call('SADD', KEYS[3], ARGV[6])
redis.call('EXPIRE', KEYS[3], ARGV[2])
return 1
`;

const COMMAND = 'veracityPutVerdictAndIndex';
type PutAndIndex = (k1: string, k2: string, k3: string, ...argv: Array<string | number>) => Promise<number>;
const command = (redis: Redis) => (redis as unknown as Record<string, PutAndIndex | undefined>)[COMMAND];

export class ModelIndex {
  constructor(
    private readonly redis: Redis,
    private readonly prefix: string,
    private readonly ttlSeconds: number,
    private readonly maxPerModel: number,
  ) {
    // defineCommand sends the script by hash and reloads it after a NOSCRIPT (a restarted Redis).
    if (typeof command(redis) !== 'function') redis.defineCommand(COMMAND, { numberOfKeys: 3, lua: PUT_AND_INDEX });
  }

  /** Writes `json` at `verdictKey` if absent and, only then, indexes `id`. True when written. */
  async putAndIndex(verdictKey: string, json: string, id: string, model: IndexedModel, atMs: number): Promise<boolean> {
    const at = Math.round(atMs);
    const written = await command(this.redis)!.call(
      this.redis,
      verdictKey,
      indexKey(this.prefix, model.provider, model.label),
      indexedModelsKey(this.prefix),
      json,
      this.ttlSeconds,
      id,
      at,
      this.maxPerModel,
      `${model.provider}:${model.label}`,
      at - this.ttlSeconds * 1000,
    );
    return written === 1;
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
