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
 * Stores verdicts set-if-absent and, for each one stored, makes the writes that go with it
 * (aggregate counts, indexes, the console's text), all in one atomic step: a verdict stored is
 * counted exactly once, and one not stored counts nothing.
 *
 * One script call stores every verdict put in the same turn of the event loop (the worker's lanes
 * finish their exchanges together), and the writes they share are made once for the lot: each
 * count hash gets one HINCRBY per field with the sum over the stored verdicts and one EXPIREAT,
 * each index one ZADD of all its new ids, one ZREMRANGEBYRANK and one EXPIRE. Per verdict the
 * aggregates alone were 14 HINCRBYs and 2 EXPIREATs, and Redis runs beside the proxy: this is
 * Redis time taken from the request path. The result is the same as storing them one by one (a
 * sorted set trimmed to its `cap` highest after each add holds what it holds when trimmed once).
 *
 * Each call carries a random write token, and the script leaves under it, for a while, what it
 * answered: a call whose token is already there is this very command run before, its reply lost
 * when the connection dropped (a failover) and the command sent again; it answers again what it
 * answered then, every verdict it stored as 2 (stored by this call), which the caller counts and
 * otherwise never would. Any other attempt, even one that produced the same bytes in the same
 * millisecond, comes with a token of its own and finds the verdict there: a duplicate (0). One
 * token per call, not per verdict: one key written for the lot (none when it stored nothing).
 *
 * KEYS[1] = the call's token; ARGV[1] = number of verdicts, ARGV[2] = the token's TTL; then per
 * verdict, its keys in KEYS in this order: verdict, count hashes, indexes, strings; and its ARGV:
 * json, ttl, id, #hashes, expireAt per hash..., #fields, (field, n)..., #indexes, (score, cap,
 * ttl) per index..., #strings, value per string... Returns one result per verdict: 1 stored,
 * 2 stored by this call before, 0 not.
 */
/** How long a write token is kept: a resend after a reconnect comes within seconds. */
const WRITE_TOKEN_TTL_SECONDS = 120;

/** Both scripts open with it: a call whose token is there already answers again what it answered then. */
const RESENT_CALL = `
local prior = redis.call('GET', KEYS[1])
if prior then
  local again = {}
  for v = 1, #prior do
    if string.sub(prior, v, v) == '1' then again[v] = 2 else again[v] = 0 end
  end
  return again
end
`;

const STORE_SCRIPT = `${RESENT_CALL}local n = tonumber(ARGV[1])
local a, k = 3, 2
local results = {}
local hashes, hashOrder = {}, {}
local indexes, indexOrder = {}, {}
for v = 1, n do
  local json, ttl, id = ARGV[a], tonumber(ARGV[a + 1]), ARGV[a + 2]
  local verdictKey = KEYS[k]
  k = k + 1
  local nh = tonumber(ARGV[a + 3])
  local hashAt = a + 4
  a = hashAt + nh
  local nf = tonumber(ARGV[a])
  local fieldAt = a + 1
  a = fieldAt + 2 * nf
  local ni = tonumber(ARGV[a])
  local indexAt = a + 1
  a = indexAt + 3 * ni
  local ns = tonumber(ARGV[a])
  local stringAt = a + 1
  a = stringAt + ns
  local stored = redis.call('SET', verdictKey, json, 'EX', ttl, 'NX')
  if not stored then
    results[v] = 0
  else
    results[v] = 1
    for h = 0, nh - 1 do
      local key = KEYS[k + h]
      local agg = hashes[key]
      if not agg then
        agg = { expireAt = ARGV[hashAt + h], fields = {}, order = {} }
        hashes[key] = agg
        hashOrder[#hashOrder + 1] = key
      end
      for f = 0, nf - 1 do
        local field, by = ARGV[fieldAt + 2 * f], tonumber(ARGV[fieldAt + 2 * f + 1])
        if agg.fields[field] then agg.fields[field] = agg.fields[field] + by
        else
          agg.fields[field] = by
          agg.order[#agg.order + 1] = field
        end
      end
    end
    for i = 0, ni - 1 do
      local key = KEYS[k + nh + i]
      local ix = indexes[key]
      if not ix then
        ix = { members = {} }
        indexes[key] = ix
        indexOrder[#indexOrder + 1] = key
      end
      ix.cap, ix.ttl = ARGV[indexAt + 3 * i + 1], ARGV[indexAt + 3 * i + 2]
      ix.members[#ix.members + 1] = ARGV[indexAt + 3 * i]
      ix.members[#ix.members + 1] = id
    end
    for s = 0, ns - 1 do
      redis.call('SET', KEYS[k + nh + ni + s], ARGV[stringAt + s], 'EX', ttl)
    end
  end
  k = k + nh + ni + ns
end
for _, key in ipairs(hashOrder) do
  local agg = hashes[key]
  for _, field in ipairs(agg.order) do
    local by = agg.fields[field]
    if by ~= 0 then redis.call('HINCRBY', key, field, string.format('%d', by)) end
  end
  redis.call('EXPIREAT', key, agg.expireAt)
end
for _, key in ipairs(indexOrder) do
  local ix = indexes[key]
  for i = 1, #ix.members, 512 do
    redis.call('ZADD', key, unpack(ix.members, i, math.min(i + 511, #ix.members)))
  end
  redis.call('ZREMRANGEBYRANK', key, 0, -(tonumber(ix.cap) + 1))
  redis.call('EXPIRE', key, ix.ttl)
end
-- A call that stored nothing answers the same when sent again: it leaves no token.
local answer = table.concat(results)
if string.find(answer, '1', 1, true) then redis.call('SET', KEYS[1], answer, 'EX', ARGV[2]) end
return results
`;

/**
 * The common case of the same call: none of the verdicts is stored yet (no retry, no duplicate).
 * Then every one of them will be, so the writes they share can be summed before they are sent:
 * each count hash comes with its fields summed over the batch, each index with all its new
 * members, and the script runs per verdict only its SET. Per verdict, the general script above
 * gets some 50 arguments (most of them aggregate fields and their counts) and loops over them in
 * Lua; Redis runs beside the proxy, so that was Redis time taken from the request path.
 *
 * It first checks that no verdict of the call exists; if one does it writes nothing and answers
 * -1, and the caller sends the general script instead (atomic either way: a script runs alone).
 * A call resent after a lost reply finds its token and answers as the general one does.
 *
 * KEYS[1] = the call's token, then the verdict keys, the hash keys, the index keys, the string
 * keys; ARGV: #verdicts, verdict TTL, token TTL, #hashes, #indexes, #strings, then the verdicts'
 * json, then per hash: expireAt, #fields, (field, n)...; per index: cap, ttl, #members,
 * (score, id)...; then each string's value (kept with the verdict TTL). Returns #verdicts.
 */
const STORE_NEW_SCRIPT = `${RESENT_CALL}local n = tonumber(ARGV[1])
if redis.call('EXISTS', unpack(KEYS, 2, n + 1)) > 0 then return -1 end
local ttl = ARGV[2]
local nh, ni, ns = tonumber(ARGV[4]), tonumber(ARGV[5]), tonumber(ARGV[6])
local a, k = 7, n + 2
for v = 1, n do
  redis.call('SET', KEYS[1 + v], ARGV[a], 'EX', ttl)
  a = a + 1
end
for h = 1, nh do
  local key, expireAt, nf = KEYS[k], ARGV[a], tonumber(ARGV[a + 1])
  a, k = a + 2, k + 1
  for f = 1, nf do
    redis.call('HINCRBY', key, ARGV[a], ARGV[a + 1])
    a = a + 2
  end
  redis.call('EXPIREAT', key, expireAt)
end
for i = 1, ni do
  local key, cap, ixTtl, nm = KEYS[k], tonumber(ARGV[a]), ARGV[a + 1], tonumber(ARGV[a + 2])
  a, k = a + 3, k + 1
  local last = a + 2 * nm - 1
  for m = a, last, 512 do redis.call('ZADD', key, unpack(ARGV, m, math.min(m + 511, last))) end
  a = last + 1
  redis.call('ZREMRANGEBYRANK', key, 0, -(cap + 1))
  redis.call('EXPIRE', key, ixTtl)
end
for s = 1, ns do
  redis.call('SET', KEYS[k], ARGV[a], 'EX', ttl)
  a, k = a + 1, k + 1
end
redis.call('SET', KEYS[1], string.rep('1', n), 'EX', ARGV[3])
return n
`;

/** Most verdicts one script call stores. */
const MAX_VERDICTS_PER_CALL = 64;

interface PendingPut {
  id: string;
  key: string;
  json: string;
  writes: StoreWrites;
  resolve(stored: boolean): void;
  reject(err: unknown): void;
}

type ScriptedRedis = Redis & {
  veracityStoreVerdicts(numKeys: number, ...args: Array<string | number>): Promise<number[]>;
  veracityStoreNewVerdicts(numKeys: number, ...args: Array<string | number>): Promise<number | number[]>;
};

const NO_WRITES: StoreWrites = { counts: { keys: [], fields: {} }, indexes: [], strings: [] };

/**
 * Verdicts live in Redis under `<prefix>:verdict:<id>` with a TTL. Writes are set-if-absent, so a
 * retried or duplicated job can never rewrite a verdict already stored. Each verdict stored also
 * enters its model's time index (model-index.ts), in the same step, whoever stores it.
 */
export class VerdictStore {
  readonly index: ModelIndex;
  private readonly modelLabels: BoundedLabel;
  /** Verdicts put in this turn of the event loop, stored together by flush(). */
  private pending: PendingPut[] = [];

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
    const stored = await new Promise<boolean>((resolve, reject) => {
      this.pending.push({ id: verdict.id, key: this.key(verdict.id), json: JSON.stringify(verdict), writes: writes ?? NO_WRITES, resolve, reject });
      if (this.pending.length === 1) setImmediate(() => this.flush());
    });
    if (stored && entry) await this.index.stored(model);
    return stored;
  }

  /** Stores every verdict put since the last flush, MAX_VERDICTS_PER_CALL to a script call. */
  private flush(): void {
    const all = this.pending;
    this.pending = [];
    const redis = this.redis as ScriptedRedis;
    if (typeof redis.veracityStoreVerdicts !== 'function') redis.defineCommand('veracityStoreVerdicts', { lua: STORE_SCRIPT });
    if (typeof redis.veracityStoreNewVerdicts !== 'function') redis.defineCommand('veracityStoreNewVerdicts', { lua: STORE_NEW_SCRIPT });
    for (let i = 0; i < all.length; i += MAX_VERDICTS_PER_CALL) {
      const batch = all.slice(i, i + MAX_VERDICTS_PER_CALL);
      const settle = (results: ArrayLike<number | string>) => batch.forEach((p, j) => p.resolve(Number(results[j]) >= 1));
      const fail = (err: unknown) => batch.forEach((p) => p.reject(err));
      // One id twice in a call (a job and its retry finishing together) needs the general script.
      const distinct = new Set(batch.map((p) => p.id)).size === batch.length;
      const general = () => this.storeEach(redis, batch).then(settle, fail);
      if (!distinct) {
        void general();
        continue;
      }
      this.storeNew(redis, batch).then((reply) => {
        if (Array.isArray(reply)) settle(reply);
        else if (reply === -1) void general();
        else settle(batch.map(() => 1));
      }, fail);
    }
  }

  /** A fresh token per call: it outlives any resend of that command after a reconnect by far, and then goes. */
  private token(): string {
    return `${this.prefix}:verdict-write:${randomBytes(12).toString('base64url')}`;
  }

  /** The general script: each verdict set-if-absent, each one stored counted. */
  private storeEach(redis: ScriptedRedis, batch: PendingPut[]): Promise<number[]> {
    const keys = [this.token()];
    const args: Array<string | number> = [batch.length, WRITE_TOKEN_TTL_SECONDS];
    for (const p of batch) {
      const w = p.writes;
      keys.push(p.key);
      args.push(p.json, this.ttlSeconds, p.id, w.counts.keys.length);
      for (const c of w.counts.keys) {
        keys.push(c.key);
        args.push(c.expireAt);
      }
      const fields = Object.entries(w.counts.fields).filter(([, n]) => n !== 0);
      args.push(fields.length);
      for (const [field, n] of fields) args.push(field, n);
      args.push(w.indexes.length);
      for (const ix of w.indexes) {
        keys.push(ix.key);
        args.push(ix.score, ix.cap, ix.ttlSeconds);
      }
      args.push(w.strings.length);
      for (const s of w.strings) {
        keys.push(s.key);
        args.push(s.value);
      }
    }
    return redis.veracityStoreVerdicts(keys.length, ...keys, ...args);
  }

  /** The script for a call none of whose verdicts is stored yet: shared writes summed here, once. */
  private storeNew(redis: ScriptedRedis, batch: PendingPut[]): Promise<number | number[]> {
    const hashes = new Map<string, { expireAt: number; fields: Map<string, number> }>();
    const indexes = new Map<string, { cap: number; ttl: number; members: Array<string | number> }>();
    const stringKeys: string[] = [];
    const stringValues: string[] = [];
    for (const p of batch) {
      const { counts } = p.writes;
      for (const c of counts.keys) {
        let h = hashes.get(c.key);
        if (!h) hashes.set(c.key, (h = { expireAt: c.expireAt, fields: new Map() }));
        for (const field in counts.fields) {
          // As the general script's %d: whole increments.
          const n = Math.trunc(counts.fields[field]!);
          if (n !== 0) h.fields.set(field, (h.fields.get(field) ?? 0) + n);
        }
      }
      for (const ix of p.writes.indexes) {
        let x = indexes.get(ix.key);
        if (!x) indexes.set(ix.key, (x = { cap: ix.cap, ttl: ix.ttlSeconds, members: [] }));
        x.cap = ix.cap;
        x.ttl = ix.ttlSeconds;
        x.members.push(ix.score, p.id);
      }
      for (const s of p.writes.strings) {
        stringKeys.push(s.key);
        stringValues.push(s.value);
      }
    }
    const keys = [this.token()];
    const args: Array<string | number> = [batch.length, this.ttlSeconds, WRITE_TOKEN_TTL_SECONDS, 0, indexes.size, stringKeys.length];
    for (const p of batch) {
      keys.push(p.key);
      args.push(p.json);
    }
    args[3] = hashes.size;
    for (const [key, h] of hashes) {
      // As in the general script, a field whose sum is 0 is not written; the expiry always is.
      const fields = [...h.fields].filter(([, n]) => n !== 0);
      keys.push(key);
      args.push(h.expireAt, fields.length);
      for (const [field, n] of fields) args.push(field, n);
    }
    for (const [key, x] of indexes) {
      keys.push(key);
      args.push(x.cap, x.ttl, x.members.length / 2, ...x.members);
    }
    keys.push(...stringKeys);
    args.push(...stringValues);
    return redis.veracityStoreNewVerdicts(keys.length, ...keys, ...args);
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
