import type { RedisConnection as Redis } from '../redis/connection.js';
import type { Config } from '../config/schema.js';
import { countFailureModes } from '../detect/failure-mode.js';
import type { CheckMethod, Verdict } from '../detect/verdict.js';
import { SCORE_BUCKETS } from '../metrics/registry.js';
import { VerdictStore, type StoreWrites } from './store.js';

/**
 * Per-model counts kept in Redis beside the verdicts, so the console and `veracity report` work
 * without Prometheus and agree with it. Each stored verdict adds its fields (one pure function,
 * `aggregateFields`) to two time buckets, a minute and an hour, with HINCRBY inside the same
 * script that stores the verdict set-if-absent: a verdict counts exactly once, whatever the
 * number of workers, retries or duplicates.
 *
 * Layout, every key under `config.redis.prefix` (hash-tagged in Cluster mode, so one slot):
 *   <prefix>:agg:60:<unix start>     hash, one per minute, kept `fineRetentionSeconds`
 *   <prefix>:agg:3600:<unix start>   hash, one per hour, kept as long as the verdicts
 *     field `<name>|<traffic>|<provider>|<model>` → integer (names never hold `|`; model may)
 *   <prefix>:ix:<order>:<kind>:<traffic>|<provider>|<model>
 *     sorted set of flagged verdict ids: order `recent` (score = analysed ms) or `top` (score =
 *     the kind's score), kind `hallucination` | `mismatch` | `refusal`, at most `flaggedPerModel`
 */

export const FINE_BUCKET = 60;
export const COARSE_BUCKET = 3600;

/** Primary traffic is what apps sent; shadow traffic is other models asked the same requests. */
export type Traffic = 'primary' | 'shadow';
export const FLAG_KINDS = ['hallucination', 'mismatch', 'refusal'] as const;
export type FlagKind = (typeof FLAG_KINDS)[number];
/** What a hallucination check held the answer against, as the metrics' `method` label has it. */
export const CHECK_METHODS: readonly CheckMethod[] = ['context', 'samples', 'none'];

/** Score bins as Prometheus' histogram has them: a score s falls in the first bound b with s ≤ b. */
export const SCORE_BOUNDS: readonly number[] = SCORE_BUCKETS;
export const scoreField = (bound: number | '+Inf') => `score_le:${bound}`;

function scoreBin(score: number): number | '+Inf' {
  for (const b of SCORE_BOUNDS) if (score <= b) return b;
  return '+Inf';
}

/** A bounded token for a free-form reason, safe as part of a field name. */
const token = (s: string) => s.toLowerCase().replace(/[^a-z0-9_.-]+/g, '_').slice(0, 40) || 'unknown';

/**
 * Every count one stored verdict adds, by field name. Zero fields are left out. A field added to
 * verdicts is one line here; readers sum whatever fields they find.
 */
export function aggregateFields(v: Verdict): Record<string, number> {
  const f: Record<string, number> = {};
  const add = (name: string, n = 1) => {
    if (n !== 0) f[name] = (f[name] ?? 0) + n;
  };
  // Handled but not analysed: counted apart, never as a check.
  if (v.skipped !== undefined) {
    add('skipped');
    add(`skipped:${token(v.skipped)}`);
    return f;
  }
  const claims = v.hallucination?.claims ?? [];
  const unsupported = claims.filter((c) => c.support !== 'supported');
  const score = v.hallucination?.score ?? 0;
  add('checks');
  add('grounded', v.grounded ? 1 : 0);
  add('hallucinations', v.hallucination?.flagged ? 1 : 0);
  add('claims', claims.length);
  add('unsupported_claims', unsupported.length);
  add('mismatches', v.confidence_mismatch?.flagged ? 1 : 0);
  if (v.refusal?.kind === 'partial' || v.refusal?.kind === 'full') add(`refusals:${v.refusal.kind}`);
  add(scoreField(scoreBin(score)));
  // Thousandths, as scores are rounded: integer sums stay exact where floats would drift.
  add('score_sum_milli', Math.round(score * 1000));
  // With the count and the sum, the variance of the scores: what verified rates (labels) need of
  // every check. Millionths of the square of a score in thousandths: still exact integers.
  add('score_sq_sum_micro', Math.round(score * 1000) ** 2);
  const refusalScore = Math.round((v.refusal?.score ?? 0) * 1000);
  add('refusal_score_sum_milli', refusalScore);
  add('refusal_score_sq_sum_micro', refusalScore ** 2);
  // As the metrics count them: per method (a verdict without one was checked against nothing),
  // the score sum that over the checks is the estimated rate, and unsupported claims by failure
  // mode and method, a claim without a known mode counting as `unsupported`.
  const method = token(v.hallucination?.method ?? 'none');
  add(`method:${method}:checks`);
  add(`method:${method}:hallucinations`, v.hallucination?.flagged ? 1 : 0);
  add(`method:${method}:score_sum_milli`, Math.round(score * 1000));
  for (const [mode, n] of countFailureModes(claims)) add(`failure_mode:${method}:${token(mode)}`, n);
  add('sampled', claims.some((c) => c.agreement) ? 1 : 0);
  add('judged', v.judge ? 1 : 0);
  // Tool calls checked and failed, by the call's failure mode (tool_name, tool_arguments).
  add('tool_calls', v.tool_calls?.checked ?? 0);
  for (const call of v.tool_calls?.calls ?? []) if (call.failure_mode) add(`tool_failures:${token(call.failure_mode)}`);
  return f;
}

/** The kinds a verdict is flagged for, each with the score that orders the `top` index. */
export function flaggedKinds(v: Verdict): Array<{ kind: FlagKind; score: number }> {
  if (v.skipped !== undefined) return [];
  const out: Array<{ kind: FlagKind; score: number }> = [];
  if (v.hallucination?.flagged) out.push({ kind: 'hallucination', score: v.hallucination.score });
  if (v.confidence_mismatch?.flagged) out.push({ kind: 'mismatch', score: v.confidence_mismatch.score });
  if (v.refusal?.flagged) out.push({ kind: 'refusal', score: v.refusal.score });
  return out;
}

export const trafficOf = (v: Verdict): Traffic => (v.shadow_of !== undefined ? 'shadow' : 'primary');

export interface ModelKey {
  traffic: Traffic;
  provider: string;
  model: string;
}
export const modelKeyString = (k: ModelKey) => `${k.traffic}|${k.provider}|${k.model}`;

export interface AggregateOptions {
  prefix: string;
  /** How long verdicts are kept; hour buckets and indexes live as long. */
  ttlSeconds: number;
  /** How long minute buckets are kept (capped at ttlSeconds). */
  fineRetentionSeconds: number;
  /** Flagged verdict ids kept per model, kind and order. */
  flaggedPerModel: number;
}

export function aggregateOptions(config: Config): AggregateOptions {
  return {
    prefix: config.redis.prefix,
    ttlSeconds: config.verdicts.ttlSeconds,
    fineRetentionSeconds: config.verdicts.fineRetentionHours * 3600,
    flaggedPerModel: config.verdicts.flaggedPerModel,
  };
}

export const aggregateKeys = (config: Config) => new AggregateKeys(aggregateOptions(config));

export class AggregateKeys {
  constructor(readonly options: AggregateOptions) {}

  bucket(resolution: number, start: number): string {
    return `${this.options.prefix}:agg:${resolution}:${start}`;
  }

  index(order: 'recent' | 'top', kind: FlagKind, model: ModelKey): string {
    return `${this.options.prefix}:ix:${order}:${kind}:${modelKeyString(model)}`;
  }

  retention(resolution: number): number {
    return resolution === FINE_BUCKET ? Math.min(this.options.fineRetentionSeconds, this.options.ttlSeconds) : this.options.ttlSeconds;
  }

  /** What storing `v` (under the bounded model label `model`) adds, at `atMs`. */
  writesFor(v: Verdict, model: string, atMs: number): StoreWrites {
    const key: ModelKey = { traffic: trafficOf(v), provider: v.provider, model };
    const suffix = `|${modelKeyString(key)}`;
    const fields: Record<string, number> = {};
    for (const [name, n] of Object.entries(aggregateFields(v))) fields[name + suffix] = n;
    const at = Math.floor(atMs / 1000);
    const keys = [FINE_BUCKET, COARSE_BUCKET].map((res) => {
      const start = at - (at % res);
      // Absolute expiry: a bucket lives `retention` past its end, however late it was last written.
      return { key: this.bucket(res, start), expireAt: start + res + this.retention(res) };
    });
    const counts = { keys, fields };
    const indexes = flaggedKinds(v).flatMap(({ kind, score }) => [
      { key: this.index('recent', kind, key), score: atMs, cap: this.options.flaggedPerModel, ttlSeconds: this.options.ttlSeconds },
      { key: this.index('top', kind, key), score, cap: this.options.flaggedPerModel, ttlSeconds: this.options.ttlSeconds },
    ]);
    return { counts, indexes, strings: [] };
  }
}

/** Counts of one model over some buckets. */
export type Fields = Record<string, number>;

export interface AggregateSeries {
  key: ModelKey;
  /** Sum over the whole range. */
  total: Fields;
  /** Per bucket start (Unix seconds), ascending. */
  buckets: Array<{ start: number; fields: Fields }>;
}

export interface AggregateRange {
  from: number;
  to: number;
  resolution: number;
  models: AggregateSeries[];
}

function parseField(field: string): { name: string; key: ModelKey } | undefined {
  const a = field.indexOf('|');
  const b = field.indexOf('|', a + 1);
  const c = field.indexOf('|', b + 1);
  if (a < 0 || b < 0 || c < 0) return undefined;
  const traffic = field.slice(a + 1, b);
  if (traffic !== 'primary' && traffic !== 'shadow') return undefined;
  return { name: field.slice(0, a), key: { traffic, provider: field.slice(b + 1, c), model: field.slice(c + 1) } };
}

const MAX_BUCKETS_READ = 4000;

/** Reads the aggregates back: per model, per bucket, over a time range. */
export class AggregateReader {
  readonly keys: AggregateKeys;
  private readonly verdicts: VerdictStore;
  constructor(
    private readonly redis: Redis,
    options: AggregateOptions,
  ) {
    this.keys = new AggregateKeys(options);
    this.verdicts = new VerdictStore(redis, options.prefix, options.ttlSeconds);
  }

  /**
   * Minute buckets while the range is recent and short enough, hour buckets otherwise. The range
   * is widened to whole buckets: [from, to) becomes every bucket that overlaps it.
   */
  resolutionFor(fromSec: number, toSec: number, maxFineBuckets = MAX_BUCKETS_READ, nowSec = Math.floor(Date.now() / 1000)): number {
    const fineFrom = nowSec - this.keys.retention(FINE_BUCKET);
    return fromSec >= fineFrom && (toSec - fromSec) / FINE_BUCKET <= maxFineBuckets ? FINE_BUCKET : COARSE_BUCKET;
  }

  async read(fromSec: number, toSec: number, resolution = this.resolutionFor(fromSec, toSec)): Promise<AggregateRange> {
    const first = fromSec - (fromSec % resolution);
    const starts: number[] = [];
    for (let s = first; s < toSec && starts.length < MAX_BUCKETS_READ; s += resolution) starts.push(s);
    const pipeline = this.redis.pipeline();
    for (const s of starts) pipeline.hgetall(this.keys.bucket(resolution, s));
    const replies = starts.length ? ((await pipeline.exec()) ?? []) : [];
    const series = new Map<string, AggregateSeries>();
    replies.forEach(([err, hash], i) => {
      if (err) throw err;
      const start = starts[i]!;
      for (const [field, raw] of Object.entries((hash ?? {}) as Record<string, string>)) {
        const parsed = parseField(field);
        const n = Number(raw);
        if (!parsed || !Number.isFinite(n)) continue;
        const id = modelKeyString(parsed.key);
        let s = series.get(id);
        if (!s) series.set(id, (s = { key: parsed.key, total: {}, buckets: [] }));
        let b = s.buckets[s.buckets.length - 1];
        if (!b || b.start !== start) s.buckets.push((b = { start, fields: {} }));
        b.fields[parsed.name] = (b.fields[parsed.name] ?? 0) + n;
        s.total[parsed.name] = (s.total[parsed.name] ?? 0) + n;
      }
    });
    const models = [...series.values()].sort(
      (x, y) => x.key.traffic.localeCompare(y.key.traffic) || x.key.provider.localeCompare(y.key.provider) || x.key.model.localeCompare(y.key.model),
    );
    return { from: first, to: starts.length ? starts[starts.length - 1]! + resolution : toSec, resolution, models };
  }

  /**
   * Flagged verdict ids of one model, newest first (`recent`, analysed within [fromMs, toMs]) or
   * highest score first (`top`; the caller filters by time, the index holds the highest kept).
   */
  async flaggedIds(order: 'recent' | 'top', kind: FlagKind, model: ModelKey, limit: number, fromMs = 0, toMs = Date.now()): Promise<string[]> {
    const key = this.keys.index(order, kind, model);
    if (order === 'recent') return await this.redis.zrevrangebyscore(key, toMs, fromMs, 'LIMIT', 0, limit);
    return await this.redis.zrevrange(key, 0, Math.max(0, limit - 1));
  }

  /**
   * The flagged verdicts of one model analysed within [fromMs, toMs] and still stored, newest or
   * highest-scoring first: what the console lists and the report shows as examples.
   */
  async flaggedVerdicts(order: 'recent' | 'top', kind: FlagKind, model: ModelKey, limit: number, fromMs: number, toMs: number): Promise<Verdict[]> {
    // The top index spans the whole retention: read all it keeps, keep those in the range.
    const ids = await this.flaggedIds(order, kind, model, order === 'top' ? this.keys.options.flaggedPerModel : limit, fromMs, toMs);
    const out: Verdict[] = [];
    for (const v of await this.verdicts.getMany(ids)) {
      const at = v.analysed_at ? Date.parse(v.analysed_at) : NaN;
      if (order === 'top' && Number.isFinite(at) && (at < fromMs || at > toMs)) continue;
      out.push(v);
      if (out.length >= limit) break;
    }
    return out;
  }
}

/** Cumulative `le` buckets of the score histogram, as Prometheus has them, from bin counts. */
export function cumulativeScoreBuckets(fields: Fields): Array<{ le: number; cumulative: number }> {
  let cumulative = 0;
  const out: Array<{ le: number; cumulative: number }> = [];
  for (const b of [...SCORE_BOUNDS, Infinity]) {
    cumulative += fields[scoreField(b === Infinity ? '+Inf' : b)] ?? 0;
    out.push({ le: b, cumulative });
  }
  return out;
}

/** What one hallucination-check method adds up to. */
export interface MethodCounts {
  checks: number;
  hallucinations: number;
  /** Sum of the exchanges' hallucination scores: the expected number of hallucinated answers. */
  scoreSum: number;
}

/**
 * A model's counts over a window, in the terms both sources of figures share: read back from the
 * aggregate fields here, or from Prometheus' counters by the report. Everything the figures need,
 * and nothing either source lacks.
 */
export interface Counts {
  checks: number;
  grounded: number;
  hallucinations: number;
  claims: number;
  unsupportedClaims: number;
  mismatches: number;
  /** Refusals by kind (`partial`, `full`). */
  refusals: Record<string, number>;
  /** Cumulative score histogram, as Prometheus' `le` buckets. */
  scoreBuckets: Array<{ le: number; cumulative: number }>;
  /** By what the answer was checked against (`context`, `samples`, `none`). */
  methods: Record<string, MethodCounts>;
  /** Unsupported or contradicted claims, by method and then failure mode. */
  failureModes: Record<string, Record<string, number>>;
  /** Exchanges checked against at least one sampled or shadow answer. */
  sampled: number;
  /** Complete tool calls checked against the tools their requests declared. */
  toolCalls: number;
  /** Tool calls that failed their checks, by failure mode (`tool_name`, `tool_arguments`). */
  toolFailures: Record<string, number>;
}

export function emptyCounts(): Counts {
  return { checks: 0, grounded: 0, hallucinations: 0, claims: 0, unsupportedClaims: 0, mismatches: 0, refusals: {}, scoreBuckets: [], methods: {}, failureModes: {}, sampled: 0, toolCalls: 0, toolFailures: {} };
}

/** Reads `aggregateFields`' vocabulary back, summed over buckets: its inverse, up to the order of fields. */
export function countsOf(f: Fields): Counts {
  const c = emptyCounts();
  c.checks = f.checks ?? 0;
  c.grounded = f.grounded ?? 0;
  c.hallucinations = f.hallucinations ?? 0;
  c.claims = f.claims ?? 0;
  c.unsupportedClaims = f.unsupported_claims ?? 0;
  c.mismatches = f.mismatches ?? 0;
  c.sampled = f.sampled ?? 0;
  c.toolCalls = f.tool_calls ?? 0;
  c.scoreBuckets = c.checks > 0 ? cumulativeScoreBuckets(f) : [];
  for (const [name, n] of Object.entries(f)) {
    const [head, a, b] = name.split(':');
    if (head === 'refusals' && a && b === undefined) c.refusals[a] = (c.refusals[a] ?? 0) + n;
    else if (head === 'method' && a && (b === 'checks' || b === 'hallucinations' || b === 'score_sum_milli')) {
      const m = (c.methods[a] ??= { checks: 0, hallucinations: 0, scoreSum: 0 });
      if (b === 'score_sum_milli') m.scoreSum = n / 1000;
      else m[b] = n;
    } else if (head === 'failure_mode' && a && b) {
      const modes = (c.failureModes[a] ??= {});
      modes[b] = (modes[b] ?? 0) + n;
    } else if (head === 'tool_failures' && a && b === undefined) c.toolFailures[a] = (c.toolFailures[a] ?? 0) + n;
  }
  return c;
}

/** Sums counts, e.g. every model's into the overall figures. */
export function addCounts(into: Counts, c: Counts): Counts {
  for (const k of ['checks', 'grounded', 'hallucinations', 'claims', 'unsupportedClaims', 'mismatches', 'sampled', 'toolCalls'] as const) into[k] += c[k];
  for (const [mode, n] of Object.entries(c.toolFailures)) into.toolFailures[mode] = (into.toolFailures[mode] ?? 0) + n;
  for (const [kind, n] of Object.entries(c.refusals)) into.refusals[kind] = (into.refusals[kind] ?? 0) + n;
  const les = new Map(into.scoreBuckets.map((b) => [b.le, b.cumulative]));
  for (const b of c.scoreBuckets) les.set(b.le, (les.get(b.le) ?? 0) + b.cumulative);
  into.scoreBuckets = [...les.entries()].sort((x, y) => x[0] - y[0]).map(([le, cumulative]) => ({ le, cumulative }));
  for (const [method, m] of Object.entries(c.methods)) {
    const t = (into.methods[method] ??= { checks: 0, hallucinations: 0, scoreSum: 0 });
    t.checks += m.checks;
    t.hallucinations += m.hallucinations;
    t.scoreSum += m.scoreSum;
  }
  for (const [method, modes] of Object.entries(c.failureModes)) {
    const t = (into.failureModes[method] ??= {});
    for (const [mode, n] of Object.entries(modes)) t[mode] = (t[mode] ?? 0) + n;
  }
  return into;
}
