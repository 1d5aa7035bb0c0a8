import type { RedisConnection as Redis } from '../redis/connection.js';
import type { Config } from '../config/schema.js';
import type { Verdict } from '../detect/verdict.js';
import { buildComparison, type Comparison } from '../report/compare/figures.js';
import { loadFromClient, type ModelSpec } from '../report/compare/sources.js';
import { modelFigures, type ModelFigures } from '../report/figures.js';
import { shadowExchangeId, shadowKey } from '../sampling/sampler.js';
import { AggregateReader, aggregateOptions, countsOf, modelKeyString, type FlagKind, type ModelKey } from '../verdicts/aggregates.js';
import type { IndexedModel } from '../verdicts/model-index.js';
import { VerdictStore } from '../verdicts/store.js';
import { readExchangeText, readExchangeTexts, type ExchangeText } from '../verdicts/text.js';
import { readVerified, type VerifiedRate } from '../report/verified.js';

/**
 * What the console reads: the aggregates, the flagged indexes, the per-model time index and the
 * verdicts, nothing else. A model's figures are the report's (report/figures.ts), computed from
 * the same counts; the comparison is the report's too (report/compare).
 */

export interface RatePoint {
  start: number;
  end: number;
  /** Events in the interval: flagged exchanges, or for the estimated rate the sum of scores. */
  events: number;
  checks: number;
}

export interface ModelRow extends ModelFigures {
  key: ModelKey;
  /** Exchanges handled but not analysed (`skipped` verdicts): never counted as checks. */
  skipped: number;
  /** The same, by reason (`upstream_error`, `empty_response`, `unparseable`). */
  skippedBy: Record<string, number>;
  series: { hallucination: RatePoint[]; estimated: RatePoint[]; mismatch: RatePoint[]; refusal: RatePoint[] };
  /** The verified rate from labels (primary traffic). */
  verified?: VerifiedRate;
  /** The estimate from the judge's random labels alone (labels.judge), kept apart from people's. */
  verifiedJudge?: VerifiedRate;
}

export interface Overview {
  from: number;
  to: number;
  resolution: number;
  models: ModelRow[];
  /** Every model seen in the range, for the filter, whatever the filter selects. */
  available: ModelKey[];
}

/** One model's stored verdicts in a window, newest first, from its time index. */
export interface RecentList {
  model: IndexedModel;
  verdicts: Verdict[];
  /** Each listed exchange's question, where its text is kept. */
  questions: Map<string, string>;
  /** Where the next page starts, when there may be one. */
  next?: { before: number; skip: number };
}

/** Most points a chart draws: buckets are merged to stay under it. */
const MAX_POINTS = 60;
const FINE_BUCKETS_PER_PAGE = 6 * 60;
/** Verdicts the compare page reads per model at most: it runs in the proxy, so it is bounded. */
export const COMPARE_MAX_PER_MODEL = 20_000;

function skippedReasons(f: Record<string, number>): Record<string, number> {
  const out: Record<string, number> = {};
  for (const [name, n] of Object.entries(f)) if (name.startsWith('skipped:')) out[name.slice(8)] = n;
  return out;
}

export class ConsoleData {
  readonly reader: AggregateReader;
  private readonly verdicts: VerdictStore;
  constructor(
    readonly redis: Redis,
    readonly config: Config,
  ) {
    this.reader = new AggregateReader(redis, aggregateOptions(config));
    this.verdicts = new VerdictStore(redis, config.redis.prefix, config.verdicts.ttlSeconds);
  }

  async overview(fromSec: number, toSec: number, select: (k: ModelKey) => boolean): Promise<Overview> {
    // A page draws at most MAX_POINTS per chart: minute buckets only while a range is short, so a
    // day of fifty models is 24 hashes read, not 1,440.
    const range = await this.reader.read(fromSec, toSec, this.reader.resolutionFor(fromSec, toSec, FINE_BUCKETS_PER_PAGE));
    const available = range.models.map((m) => m.key);
    const width = Math.max(1, Math.ceil((range.to - range.from) / range.resolution / MAX_POINTS)) * range.resolution;
    const models = range.models
      .filter((m) => select(m.key))
      .map((m): ModelRow => {
        const series: ModelRow['series'] = { hallucination: [], estimated: [], mismatch: [], refusal: [] };
        const byStart = new Map(m.buckets.map((b) => [b.start, countsOf(b.fields)]));
        for (let s = range.from; s < range.to; s += width) {
          const end = Math.min(s + width, range.to);
          const p = { checks: 0, h: 0, mm: 0, r: 0, grounded: 0, expected: 0 };
          for (let b = s; b < end; b += range.resolution) {
            const c = byStart.get(b);
            if (!c) continue;
            p.checks += c.checks;
            p.h += c.hallucinations;
            p.mm += c.mismatches;
            p.r += Object.values(c.refusals).reduce((a, n) => a + n, 0);
            p.grounded += c.methods.context?.checks ?? 0;
            p.expected += c.methods.context?.scoreSum ?? 0;
          }
          series.hallucination.push({ start: s, end, events: p.h, checks: p.checks });
          series.estimated.push({ start: s, end, events: Math.round(p.expected * 1000) / 1000, checks: p.grounded });
          series.mismatch.push({ start: s, end, events: p.mm, checks: p.checks });
          series.refusal.push({ start: s, end, events: p.r, checks: p.checks });
        }
        return { ...modelFigures(m.key.provider, m.key.model, countsOf(m.total)), key: m.key, skipped: m.total.skipped ?? 0, skippedBy: skippedReasons(m.total), series };
      })
      .sort((a, b) => b.checks - a.checks || modelKeyString(a.key).localeCompare(modelKeyString(b.key)));
    const primary = models.filter((m) => m.key.traffic === 'primary');
    if (primary.length > 0) {
      const verified = await readVerified(
        primary.map((m) => m.key),
        { redis: this.redis, aggregates: aggregateOptions(this.config), fromMs: fromSec * 1000, toMs: toSec * 1000 + 999 },
      );
      for (const m of primary) Object.assign(m, verified.get(`${m.key.provider}/${m.key.model}`));
    }
    return { from: range.from, to: range.to, resolution: range.resolution, models, available };
  }

  /** Flagged verdicts of one model, still stored; ids whose verdict expired are dropped. */
  async flagged(order: 'recent' | 'top', kind: FlagKind, key: ModelKey, limit: number, fromMs: number, toMs: number): Promise<Verdict[]> {
    return this.reader.flaggedVerdicts(order, kind, key, limit, fromMs, toMs);
  }

  /** The models with a time index of stored verdicts (primary and shadow verdicts alike). */
  async indexedModels(): Promise<IndexedModel[]> {
    return this.verdicts.index.models();
  }

  /**
   * A model's stored verdicts analysed in [fromMs, toMs], newest first, `limit` from the
   * `skip`-th on, read from its time index (models past the label bound share the `other` one).
   * Pages count from a fixed `toMs`, so exchanges arriving meanwhile do not shift them.
   */
  async recent(model: IndexedModel, limit: number, fromMs: number, toMs: number, skip = 0): Promise<RecentList> {
    const ids = await this.verdicts.index.newest(model, limit + 1, fromMs, toMs, skip);
    const page = ids.slice(0, limit);
    const [verdicts, texts] = await Promise.all([this.verdicts.getMany(page), readExchangeTexts(this.redis, this.config.redis.prefix, page)]);
    const questions = new Map([...texts].map(([id, text]) => [id, text.question]));
    return { model, verdicts, questions, ...(ids.length > limit ? { next: { before: Math.floor(toMs), skip: skip + limit } } : {}) };
  }

  async exchange(id: string): Promise<{ verdict?: Verdict; text?: ExchangeText; shadows: Verdict[] }> {
    const [raw, text] = await Promise.all([this.redis.get(this.verdicts.key(id)), readExchangeText(this.redis, this.config.redis.prefix, id)]);
    if (raw === null) return { shadows: [] };
    const verdict = JSON.parse(raw) as Verdict;
    // A shadow verdict's id is derived from its original's and the shadow model: the shadows of
    // the models configured now are found with one read, without an index.
    const ids = verdict.shadow_of === undefined ? this.config.sampling.shadow.map((s) => shadowExchangeId(id, shadowKey(s.upstream, s.model))) : [];
    const shadows = ids.length > 0 ? await this.verdicts.getMany(ids) : [];
    return { verdict, text, shadows };
  }

  /** `report --compare` on the verdicts of the two models in the window, bounded per model. */
  async compare(a: ModelSpec, b: ModelSpec, window: { since: string | null; fromMs: number; toMs: number }): Promise<Comparison> {
    const loaded = await loadFromClient(this.redis, this.config.redis.prefix, a, b, window, 'the verdicts in Redis', COMPARE_MAX_PER_MODEL);
    return buildComparison(loaded, { nameA: a.model, nameB: b.model, since: window.since, fromMs: window.fromMs, toMs: window.toMs, examples: 5 });
  }
}
