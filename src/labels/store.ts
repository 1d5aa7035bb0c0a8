import type { RedisConnection as Redis } from '../redis/connection.js';
import type { Verdict } from '../detect/verdict.js';
import { sourceOf, type LabelSource, type StoredLabel, type VerdictSnapshot } from './schema.js';

/**
 * Labels live in Redis under the same prefix as the verdicts (so a Cluster hash tag keeps them in
 * the verdicts' slot and one MULTI can write a whole batch):
 *   <prefix>:label:<source>:<id>                  string, the StoredLabel JSON (source: human | judge)
 *   <prefix>:labels:ix:<source>|<provider>|<model> sorted set of ids, score = the exchange's analysed ms
 *   <prefix>:labels:time                          sorted set of `<source>:<id>`, score = labelled ms (export)
 *   <prefix>:labels:models                        set of `<provider>|<model>` that have labels
 * No TTL unless `labels.retentionDays` is set: labels are the team's work and outlive the verdicts.
 */

export interface LabelStoreOptions {
  /** Days a label is kept; 0 = until removed. */
  retentionDays?: number;
}

export interface LabelledModel {
  provider: string;
  model: string;
}

export function snapshotOf(v: Verdict): VerdictSnapshot {
  const claims = (v.hallucination?.claims ?? []).map((c) => ({ certainty: typeof c.certainty === 'number' ? c.certainty : null, score: c.score }));
  const known = claims.map((c) => c.certainty).filter((c): c is number => c !== null);
  return {
    provider: v.provider,
    model: v.model,
    traffic: v.shadow_of !== undefined ? 'shadow' : 'primary',
    analysed_at: v.analysed_at ?? new Date().toISOString(),
    hallucination: { score: v.hallucination.score, flagged: v.hallucination.flagged, ...(v.hallucination.method ? { method: v.hallucination.method } : {}) },
    certainty: known.length > 0 ? Math.round((known.reduce((a, b) => a + b, 0) / known.length) * 1000) / 1000 : null,
    claims,
    refusal: { kind: v.refusal.kind, score: v.refusal.score, flagged: v.refusal.flagged },
  };
}

const modelKey = (provider: string, model: string) => `${provider}|${model}`;

export class LabelStore {
  private readonly retentionMs: number;
  constructor(
    private readonly redis: Redis,
    private readonly prefix: string,
    options: LabelStoreOptions = {},
  ) {
    this.retentionMs = Math.max(0, options.retentionDays ?? 0) * 86_400_000;
  }

  key(source: LabelSource, id: string): string {
    return `${this.prefix}:label:${source}:${id}`;
  }
  indexKey(source: LabelSource, provider: string, model: string): string {
    return `${this.prefix}:labels:ix:${source}|${modelKey(provider, model)}`;
  }
  private get timeKey() {
    return `${this.prefix}:labels:time`;
  }
  private get modelsKey() {
    return `${this.prefix}:labels:models`;
  }

  /** Which of these (source, id) pairs already have a label. */
  async existing(pairs: Array<{ source: LabelSource; id: string }>): Promise<boolean[]> {
    if (pairs.length === 0) return [];
    const n = await Promise.all(chunks(pairs, 500).map((c) => this.redis.mget(c.map((p) => this.key(p.source, p.id)))));
    return n.flat().map((x) => x !== null);
  }

  /**
   * Stores the labels in one MULTI: all of them or, if Redis fails, none. A label for an id that
   * has one from the same source replaces it.
   */
  async putAll(labels: StoredLabel[]): Promise<void> {
    if (labels.length === 0) return;
    const multi = this.redis.multi();
    const ttl = this.retentionMs > 0 ? Math.ceil(this.retentionMs / 1000) : 0;
    for (const l of labels) {
      const source = sourceOf(l.by);
      const json = JSON.stringify(l);
      if (ttl > 0) multi.set(this.key(source, l.id), json, 'EX', ttl);
      else multi.set(this.key(source, l.id), json);
      multi.zadd(this.indexKey(source, l.verdict.provider, l.verdict.model), Date.parse(l.verdict.analysed_at) || Date.parse(l.labelled_at), l.id);
      multi.zadd(this.timeKey, Date.parse(l.labelled_at), `${source}:${l.id}`);
      multi.sadd(this.modelsKey, modelKey(l.verdict.provider, l.verdict.model));
    }
    if (ttl > 0) {
      // Index entries of labels past their retention go as new ones come.
      const before = Date.now() - this.retentionMs;
      multi.zremrangebyscore(this.timeKey, '-inf', `(${before}`);
    }
    const replies = await multi.exec();
    const failed = replies?.find(([err]) => err);
    if (!replies || failed) throw failed?.[0] ?? new Error('the label transaction was discarded');
  }

  async get(source: LabelSource, id: string): Promise<StoredLabel | undefined> {
    const text = await this.redis.get(this.key(source, id));
    return text === null ? undefined : (JSON.parse(text) as StoredLabel);
  }

  /** Removes every label of an exchange (people's and a judge's); how many there were. */
  async remove(id: string): Promise<number> {
    const found = (await Promise.all((['human', 'judge'] as const).map((s) => this.get(s, id).then((l) => (l ? { s, l } : undefined))))).filter((x) => x !== undefined);
    if (found.length === 0) return 0;
    const multi = this.redis.multi();
    for (const { s, l } of found) {
      multi.del(this.key(s, id));
      multi.zrem(this.indexKey(s, l.verdict.provider, l.verdict.model), id);
      multi.zrem(this.timeKey, `${s}:${id}`);
    }
    await multi.exec();
    return found.length;
  }

  /** Labels stored (or replaced) at or after `sinceMs`, oldest first, a page at a time. */
  async *since(sinceMs: number, page = 500): AsyncGenerator<StoredLabel> {
    let offset = 0;
    for (;;) {
      const members = await this.redis.zrangebyscore(this.timeKey, sinceMs, '+inf', 'LIMIT', offset, page);
      if (members.length === 0) return;
      offset += members.length;
      const texts = await this.redis.mget(members.map((m) => `${this.prefix}:label:${m}`));
      for (const t of texts) if (t !== null) yield JSON.parse(t) as StoredLabel;
      if (members.length < page) return;
    }
  }

  /** The models that have labels. */
  async models(): Promise<LabelledModel[]> {
    const members = await this.redis.smembers(this.modelsKey);
    return members
      .map((m) => {
        const i = m.indexOf('|');
        return { provider: m.slice(0, i), model: m.slice(i + 1) };
      })
      .sort((a, b) => a.provider.localeCompare(b.provider) || a.model.localeCompare(b.model));
  }

  /** One model's labels from `source` on exchanges analysed within [fromMs, toMs]. */
  async forModel(source: LabelSource, provider: string, model: string, fromMs: number, toMs: number, max = 100_000): Promise<StoredLabel[]> {
    const ids = await this.redis.zrangebyscore(this.indexKey(source, provider, model), fromMs, toMs, 'LIMIT', 0, max);
    const out: StoredLabel[] = [];
    for (const c of chunks(ids, 500)) {
      const texts = await this.redis.mget(c.map((id) => this.key(source, id)));
      for (const t of texts) if (t !== null) out.push(JSON.parse(t) as StoredLabel);
    }
    return out;
  }

  /** Ids among `ids` that `source` has labelled. */
  async labelledAmong(source: LabelSource, ids: string[]): Promise<Set<string>> {
    const have = await this.existing(ids.map((id) => ({ source, id })));
    return new Set(ids.filter((_, i) => have[i]));
  }
}

function chunks<T>(xs: T[], n: number): T[][] {
  const out: T[][] = [];
  for (let i = 0; i < xs.length; i += n) out.push(xs.slice(i, i + n));
  return out;
}
