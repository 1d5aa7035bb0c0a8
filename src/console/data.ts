import type { RedisConnection as Redis } from '../redis/connection.js';
import type { Config } from '../config/schema.js';
import type { Verdict } from '../detect/verdict.js';
import { rate, scoreBins, type RateFigure, type ScoreBin } from '../report/report.js';
import { AggregateReader, aggregateOptions, cumulativeScoreBuckets, modelKeyString, type FlagKind, type Fields, type ModelKey } from '../verdicts/aggregates.js';
import { VerdictStore } from '../verdicts/store.js';
import { readExchangeText, type ExchangeText } from '../verdicts/text.js';

/** What the console reads: the aggregates, the flagged indexes and the verdicts, nothing else. */

export interface RatePoint {
  start: number;
  end: number;
  events: number;
  checks: number;
}

export interface ModelRow {
  key: ModelKey;
  checks: number;
  grounded: RateFigure;
  hallucination: RateFigure;
  mismatch: RateFigure;
  refusal: RateFigure;
  refusalByKind: Record<string, number>;
  unsupportedClaims: RateFigure;
  skipped: number;
  methods: Record<string, number>;
  failureModes: Record<string, number>;
  scores: ScoreBin[];
  series: { hallucination: RatePoint[]; mismatch: RatePoint[]; refusal: RatePoint[] };
}

export interface Overview {
  from: number;
  to: number;
  resolution: number;
  models: ModelRow[];
  /** Every model seen in the range, for the filter, whatever the filter selects. */
  available: ModelKey[];
}

/** Most points a chart draws: buckets are merged to stay under it. */
const MAX_POINTS = 60;
const FINE_BUCKETS_PER_PAGE = 6 * 60;

const sumPrefixed = (f: Fields, prefix: string, suffix = '') => {
  const out: Record<string, number> = {};
  for (const [k, n] of Object.entries(f)) if (k.startsWith(prefix) && k.endsWith(suffix)) out[k.slice(prefix.length, k.length - suffix.length)] = n;
  return out;
};

export class ConsoleData {
  readonly reader: AggregateReader;
  constructor(
    readonly redis: Redis,
    readonly config: Config,
  ) {
    this.reader = new AggregateReader(redis, aggregateOptions(config));
    this.verdicts = new VerdictStore(redis, config.redis.prefix, config.verdicts.ttlSeconds);
  }
  private readonly verdicts: VerdictStore;

  async overview(fromSec: number, toSec: number, select: (k: ModelKey) => boolean): Promise<Overview> {
    // A page draws at most MAX_POINTS per chart: minute buckets only while a range is short, so a
    // day of fifty models is 24 hashes read, not 1,440.
    const range = await this.reader.read(fromSec, toSec, this.reader.resolutionFor(fromSec, toSec, FINE_BUCKETS_PER_PAGE));
    const available = range.models.map((m) => m.key);
    const models = range.models
      .filter((m) => select(m.key))
      .map((m): ModelRow => {
        const f = m.total;
        const checks = f.checks ?? 0;
        const refusalByKind = sumPrefixed(f, 'refusals:');
        const refusals = Object.values(refusalByKind).reduce((s, n) => s + n, 0);
        const width = Math.max(1, Math.ceil((range.to - range.from) / range.resolution / MAX_POINTS)) * range.resolution;
        const series = { hallucination: [] as RatePoint[], mismatch: [] as RatePoint[], refusal: [] as RatePoint[] };
        const byStart = new Map(m.buckets.map((b) => [b.start, b.fields]));
        for (let s = range.from; s < range.to; s += width) {
          let checksIn = 0;
          let h = 0;
          let mm = 0;
          let r = 0;
          for (let b = s; b < Math.min(s + width, range.to); b += range.resolution) {
            const x = byStart.get(b);
            if (!x) continue;
            checksIn += x.checks ?? 0;
            h += x.hallucinations ?? 0;
            mm += x.mismatches ?? 0;
            r += (x['refusals:partial'] ?? 0) + (x['refusals:full'] ?? 0);
          }
          const end = Math.min(s + width, range.to);
          series.hallucination.push({ start: s, end, events: h, checks: checksIn });
          series.mismatch.push({ start: s, end, events: mm, checks: checksIn });
          series.refusal.push({ start: s, end, events: r, checks: checksIn });
        }
        return {
          key: m.key,
          checks,
          grounded: rate(f.grounded ?? 0, checks),
          hallucination: rate(f.hallucinations ?? 0, checks),
          mismatch: rate(f.mismatches ?? 0, checks),
          refusal: rate(refusals, checks),
          refusalByKind,
          unsupportedClaims: rate(f.unsupported_claims ?? 0, f.claims ?? 0),
          skipped: f.skipped ?? 0,
          methods: sumPrefixed(f, 'method:', ':checks'),
          failureModes: sumPrefixed(f, 'failure_mode:'),
          scores: checks > 0 ? scoreBins(cumulativeScoreBuckets(f)) : [],
          series,
        };
      })
      .sort((a, b) => b.checks - a.checks || modelKeyString(a.key).localeCompare(modelKeyString(b.key)));
    return { from: range.from, to: range.to, resolution: range.resolution, models, available };
  }

  /** Flagged verdicts of one model, still stored; ids whose verdict expired are dropped. */
  async flagged(order: 'recent' | 'top', kind: FlagKind, key: ModelKey, limit: number, fromMs: number, toMs: number): Promise<Verdict[]> {
    // The top index spans the whole retention: read more than asked, keep those in the range.
    const ids = await this.reader.flaggedIds(order, kind, key, order === 'top' ? this.config.verdicts.flaggedPerModel : limit, fromMs, toMs);
    if (ids.length === 0) return [];
    const texts = await this.redis.mget(ids.map((id) => this.verdicts.key(id)));
    const out: Verdict[] = [];
    for (const t of texts) {
      if (t === null) continue;
      let v: Verdict;
      try {
        v = JSON.parse(t) as Verdict;
      } catch {
        continue;
      }
      const at = v.analysed_at ? Date.parse(v.analysed_at) : NaN;
      if (order === 'top' && Number.isFinite(at) && (at < fromMs || at > toMs)) continue;
      out.push(v);
      if (out.length >= limit) break;
    }
    return out;
  }

  async exchange(id: string): Promise<{ verdict?: Verdict; text?: ExchangeText }> {
    const [raw, text] = await Promise.all([this.redis.get(this.verdicts.key(id)), readExchangeText(this.redis, this.config.redis.prefix, id)]);
    if (raw === null) return {};
    return { verdict: JSON.parse(raw) as Verdict, text };
  }
}
