import { randomBytes } from 'node:crypto';
import type { RedisConnection as Redis } from '../redis/connection.js';
import type { ToolCallsVerdict, Verdict } from '../detect/verdict.js';
import { BoundedLabel } from '../metrics/labels.js';
import { ModelIndex } from './model-index.js';

/**
 * Writes made in the same atomic step as the verdict, and only if the verdict was stored: the
 * store runs them without knowing what they count (aggregates.ts decides that).
 */
export interface StoreWrites {
  /** The same increments added to each of these hashes (one per time resolution). */
  counts: { keys: Array<{ key: string; expireAt: number }>; fields: Record<string, number> };
  /** Sorted sets of verdict ids (the member is the verdict's id), trimmed to the `cap` highest. */
  indexes: Array<{ key: string; score: number; cap: number; ttlSeconds: number }>;
  /** Strings kept beside the verdict, with its TTL. */
  strings: Array<{ key: string; value: string }>;
}

export interface VerdictStoreOptions {
  /** Most verdict ids the per-model time index keeps per model (`verdicts.maxIndexedPerModel`; 0 = none). */
  maxIndexedPerModel?: number;
  /** Bounds the model names that get an index of their own; the rest share `other`. */
  modelLabels?: BoundedLabel;
  /** Writes between this process's trims of a model's index by age (default 256)... */
  indexTrimEvery?: number;
  /** ...or time between them, whichever comes first (default 10 s). */
  indexTrimEveryMs?: number;
}

/**
 * Stores a verdict set-if-absent and, only when it was stored, makes the writes that go with it
 * (aggregate counts, indexes, the console's text), all in one atomic step: a verdict stored is
 * counted exactly once, and one not stored counts nothing.
 * Each call carries a random write token, kept beside the verdict for a while: a verdict already
 * there whose token is this call's (2) is this very command run before, its reply lost when the
 * connection dropped (a failover) and the command sent again. It was stored by this call, and the
 * caller counts it, which it otherwise never would. Any other attempt, even one that produced the
 * same bytes in the same millisecond, has a token of its own and is a duplicate (0).
 * KEYS: verdict, then the count hashes, the indexes and the strings, in order, then the token's.
 * ARGV: json, ttl, id, #hashes, expireAt per hash..., #fields, (field, n)..., #indexes,
 * (score, cap, ttl) per index..., #strings, value per string..., token, token ttl.
 */
/** How long a write token is kept: a resend after a reconnect comes within seconds. */
const WRITE_TOKEN_TTL_SECONDS = 120;

const STORE_SCRIPT = `
local ttl = tonumber(ARGV[2])
local tokenKey, token, tokenTtl = KEYS[#KEYS], ARGV[#ARGV - 1], ARGV[#ARGV]
if not redis.call('SET', KEYS[1], ARGV[1], 'EX', ttl, 'NX') then
  if redis.call('GET', tokenKey) == token then return 2 end
  return 0
end
redis.call('SET', tokenKey, token, 'EX', tokenTtl)
local id = ARGV[3]
local nh = tonumber(ARGV[4])
local a = 5 + nh
local nf = tonumber(ARGV[a])
for h = 1, nh do
  local key = KEYS[1 + h]
  for f = 1, nf do
    redis.call('HINCRBY', key, ARGV[a + 2 * f - 1], ARGV[a + 2 * f])
  end
  redis.call('EXPIREAT', key, ARGV[4 + h])
end
a = a + 2 * nf + 1
local k = 2 + nh
local ni = tonumber(ARGV[a])
a = a + 1
for _ = 1, ni do
  local key = KEYS[k]
  redis.call('ZADD', key, ARGV[a], id)
  redis.call('ZREMRANGEBYRANK', key, 0, -(tonumber(ARGV[a + 1]) + 1))
  redis.call('EXPIRE', key, ARGV[a + 2])
  a, k = a + 3, k + 1
end
local ns = tonumber(ARGV[a])
a = a + 1
for _ = 1, ns do
  redis.call('SET', KEYS[k], ARGV[a], 'EX', ttl)
  a, k = a + 1, k + 1
end
return 1
`;

type ScriptedRedis = Redis & { veracityStoreVerdict(numKeys: number, ...args: Array<string | number>): Promise<number> };

/**
 * Verdicts live in Redis under `<prefix>:verdict:<id>` with a TTL. Writes are set-if-absent, so a
 * retried or duplicated job can never rewrite a verdict already stored. Each verdict stored also
 * enters its model's time index (model-index.ts), in the same step, whoever stores it.
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

  /**
   * True when this call stored the verdict, false when one was already there. `writes` are made
   * with it, atomically, and only when it is stored.
   */
  async putIfAbsent(verdict: Verdict, given?: StoreWrites): Promise<boolean> {
    const at = Date.parse(verdict.analysed_at ?? '');
    const model = { provider: verdict.provider, label: this.modelLabels.value(verdict.model) };
    const entry = this.index.entryFor(model, Number.isFinite(at) ? at : Date.now());
    const writes: StoreWrites | undefined = entry
      ? { counts: given?.counts ?? { keys: [], fields: {} }, indexes: [...(given?.indexes ?? []), entry], strings: given?.strings ?? [] }
      : given;
    const stored = await this.store(verdict, writes);
    if (stored && entry) await this.index.stored(model);
    return stored;
  }

  private async store(verdict: Verdict, given: StoreWrites | undefined): Promise<boolean> {
    const writes = given ?? { counts: { keys: [], fields: {} }, indexes: [], strings: [] };
    const keys = [this.key(verdict.id)];
    const fields = Object.entries(writes.counts.fields).filter(([, n]) => n !== 0);
    const args: Array<string | number> = [JSON.stringify(verdict), this.ttlSeconds, verdict.id, writes.counts.keys.length];
    for (const c of writes.counts.keys) {
      keys.push(c.key);
      args.push(c.expireAt);
    }
    args.push(fields.length, ...fields.flat());
    args.push(writes.indexes.length);
    for (const ix of writes.indexes) {
      keys.push(ix.key);
      args.push(ix.score, ix.cap, ix.ttlSeconds);
    }
    args.push(writes.strings.length);
    for (const s of writes.strings) {
      keys.push(s.key);
      args.push(s.value);
    }
    // The token outlives any resend of this command after a reconnect by far, and then goes.
    keys.push(`${this.prefix}:verdict-write:${verdict.id}`);
    args.push(randomBytes(12).toString('base64url'), WRITE_TOKEN_TTL_SECONDS);
    const redis = this.redis as ScriptedRedis;
    if (typeof redis.veracityStoreVerdict !== 'function') redis.defineCommand('veracityStoreVerdict', { lua: STORE_SCRIPT });
    return (await redis.veracityStoreVerdict(keys.length, ...keys, ...args)) >= 1;
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
    ...(verdict.tool_calls ? { tool_calls: toolCallsWithoutText(verdict.tool_calls) } : {}),
  };
}

/** Finding texts go; so does a name the model made up. Paths, rules and declared names stay. */
function toolCallsWithoutText(tools: ToolCallsVerdict): ToolCallsVerdict {
  return {
    ...tools,
    calls: tools.calls.map((call) => ({
      ...call,
      name: call.failure_mode === 'tool_name' ? '' : call.name,
      findings: call.findings.map((f) => ({ ...f, text: '' })),
    })),
  };
}
