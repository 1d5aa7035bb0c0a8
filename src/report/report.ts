import { writeFileSync } from 'node:fs';
import { parseArgs } from 'node:util';
import { reportHtml } from './html.js';
import { PrometheusError, queryInstant, type Sample } from './prometheus.js';
import { wilson, type Interval } from './wilson.js';
import { worstExamples, type Example } from './examples.js';
import type { RedisConnection } from '../redis/connection.js';
import { addEstimates, estimateQueries, type EstimateFigure, type FailureProfile } from './estimates.js';
import { loadConfig } from '../config/load.js';
import type { Config } from '../config/schema.js';
import { aggregateOptions } from '../verdicts/aggregates.js';
import { RedisSourceError, buildReportFromRedis, connectReportRedis, describeLocation, reportLocation, type RedisLocation } from './from-redis.js';

/**
 * `veracity report`: per-model reliability over a window, read from Prometheus. Rates are ratios
 * of the window's counter increases summed across instances, each with a Wilson 95% interval;
 * the score histogram gives the score distribution and the flag rate at every threshold.
 */

export interface RateFigure {
  /** Events in the window (rounded: increase() extrapolates to the window's edges). */
  count: number;
  /** Trials in the window: checks, or claims for the unsupported-claim rate. */
  of: number;
  rate: number | null;
  ci95: Interval | null;
}

export interface ScoreBin {
  /** Scores in (lo, hi]. */
  lo: number;
  hi: number;
  count: number;
  share: number | null;
  /** Share of exchanges scoring above `lo`: the flag rate a threshold at `lo` would give. */
  above: number | null;
}

export interface ModelFigures {
  provider: string;
  model: string;
  checks: number;
  grounded: RateFigure;
  hallucination: RateFigure;
  unsupportedClaims: RateFigure;
  confidenceMismatch: RateFigure;
  refusal: RateFigure;
  refusalByKind: Record<string, RateFigure>;
  scores: ScoreBin[];
  /** Estimated rate (mean calibrated score) beside the flagged rate, on grounded checks. */
  estimated?: EstimateFigure;
  /** Unsupported claims by failure mode. */
  failureModes?: FailureProfile;
}

export interface ReportSource {
  kind: 'prometheus' | 'redis';
  /** Prometheus base URL, or the Redis the aggregates were read from (never credentials). */
  location: string;
  /** The window actually summed (Redis widens it to whole buckets), Unix seconds. */
  window?: { from: number; to: number };
  /** How the figures were obtained, and why this source. */
  note?: string;
}

export interface ReliabilityReport {
  /** Prometheus base URL when Prometheus was the source, else empty. */
  prometheus: string;
  source?: ReportSource;
  since: string;
  /** When the queries were evaluated (Unix seconds). */
  evaluatedAt: number;
  overall: ModelFigures;
  /** Highest hallucination rate first. */
  models: ModelFigures[];
  /** Worst recent flagged exchanges per `provider:model`, from stored verdicts (with --redis). */
  examples?: Record<string, Example[]>;
}

export interface ReportOptions {
  prometheus: string;
  since: string;
  /** Evaluation time, Unix seconds; now when unset. */
  at?: number;
  timeoutMs?: number;
}

const DURATION = /^(\d+(ms|s|m|h|d|w|y))+$/;

export function rate(count: number, of: number): RateFigure {
  const k = Math.round(count);
  const n = Math.round(of);
  return { count: k, of: n, rate: n > 0 ? k / n : null, ci95: wilson(Math.min(k, n), n) };
}

type Key = string;
const keyOf = (m: Record<string, string>) => `${m.provider ?? ''}\u0000${m.model ?? ''}`;

function byModel(samples: Sample[]): Map<Key, number> {
  const out = new Map<Key, number>();
  for (const s of samples) out.set(keyOf(s.metric), (out.get(keyOf(s.metric)) ?? 0) + s.value);
  return out;
}

/** Bins from cumulative `le` buckets; the (1, +Inf] bin is kept only if something landed there. */
export function scoreBins(buckets: Array<{ le: number; cumulative: number }>): ScoreBin[] {
  const sorted = [...buckets].sort((a, b) => a.le - b.le);
  const total = sorted.length ? sorted[sorted.length - 1]!.cumulative : 0;
  const bins: ScoreBin[] = [];
  let prevLe = 0;
  let prevCum = 0;
  for (const b of sorted) {
    const count = Math.max(0, Math.round(b.cumulative - prevCum));
    if (!(b.le === Infinity && count === 0)) {
      bins.push({ lo: prevLe, hi: b.le, count, share: null, above: null });
    }
    prevLe = b.le;
    prevCum = Math.max(prevCum, b.cumulative);
  }
  const n = bins.reduce((s, b) => s + b.count, 0);
  let remaining = n;
  for (const b of bins) {
    b.share = n > 0 ? b.count / n : null;
    b.above = n > 0 ? remaining / n : null;
    remaining -= b.count;
  }
  return total > 0 || bins.length ? bins : [];
}

export function figures(
  provider: string,
  model: string,
  get: (metric: string) => number,
  refusalKinds: Map<string, number>,
  buckets: Array<{ le: number; cumulative: number }>,
): ModelFigures {
  const checks = get('checks');
  const refusalByKind: Record<string, RateFigure> = {};
  let refusals = 0;
  for (const [kind, n] of [...refusalKinds.entries()].sort()) {
    refusalByKind[kind] = rate(n, checks);
    refusals += n;
  }
  return {
    provider,
    model,
    checks: Math.round(checks),
    grounded: rate(get('grounded'), checks),
    hallucination: rate(get('hallucinations'), checks),
    unsupportedClaims: rate(get('unsupported'), get('claims')),
    confidenceMismatch: rate(get('mismatches'), checks),
    refusal: rate(refusals, checks),
    refusalByKind,
    scores: scoreBins(buckets),
  };
}

const COUNTERS = {
  checks: 'veracity_checks_total',
  grounded: 'veracity_grounded_checks_total',
  hallucinations: 'veracity_hallucinations_total',
  claims: 'veracity_claims_total',
  unsupported: 'veracity_unsupported_claims_total',
  mismatches: 'veracity_confidence_mismatches_total',
} as const;

/** The PromQL the report runs, by name: each an instant query over the window. */
export function reportQueries(since: string): Record<string, string> {
  const q: Record<string, string> = {};
  for (const [name, metric] of Object.entries(COUNTERS)) q[name] = `sum by (provider, model) (increase(${metric}[${since}]))`;
  q.refusals = `sum by (provider, model, kind) (increase(veracity_refusals_total[${since}]))`;
  q.scores = `sum by (provider, model, le) (increase(veracity_hallucination_score_bucket[${since}]))`;
  Object.assign(q, estimateQueries(since));
  return q;
}

export async function buildReport(options: ReportOptions): Promise<ReliabilityReport> {
  if (!DURATION.test(options.since)) throw new PrometheusError(`--since ${JSON.stringify(options.since)} is not a Prometheus duration (e.g. 24h, 7d, 90m)`);
  const at = options.at ?? Math.floor(Date.now() / 1000);
  const queries = reportQueries(options.since);
  const results: Record<string, Sample[]> = {};
  // Sequential on purpose: a handful of queries, and a struggling Prometheus gets one at a time.
  for (const [name, query] of Object.entries(queries)) {
    results[name] = await queryInstant(options.prometheus, query, { time: at, timeoutMs: options.timeoutMs });
  }

  const counters = Object.fromEntries(Object.keys(COUNTERS).map((name) => [name, byModel(results[name]!)])) as Record<keyof typeof COUNTERS, Map<Key, number>>;
  const refusals = new Map<Key, Map<string, number>>();
  for (const s of results.refusals!) {
    const k = keyOf(s.metric);
    const kinds = refusals.get(k) ?? new Map<string, number>();
    const kind = s.metric.kind ?? 'unknown';
    kinds.set(kind, (kinds.get(kind) ?? 0) + s.value);
    refusals.set(k, kinds);
  }
  const buckets = new Map<Key, Map<number, number>>();
  for (const s of results.scores!) {
    const k = keyOf(s.metric);
    const le = s.metric.le === '+Inf' ? Infinity : Number(s.metric.le);
    if (Number.isNaN(le)) continue;
    const m = buckets.get(k) ?? new Map<number, number>();
    m.set(le, (m.get(le) ?? 0) + s.value);
    buckets.set(k, m);
  }

  const keys = new Set<Key>([...counters.checks.keys(), ...counters.hallucinations.keys(), ...refusals.keys(), ...buckets.keys()]);
  const asBuckets = (m?: Map<number, number>) => [...(m ?? new Map<number, number>()).entries()].map(([le, cumulative]) => ({ le, cumulative }));
  const models = [...keys].map((k) => {
    const [provider, model] = k.split('\u0000') as [string, string];
    return figures(provider, model, (name) => counters[name as keyof typeof COUNTERS].get(k) ?? 0, refusals.get(k) ?? new Map(), asBuckets(buckets.get(k)));
  });
  rankModels(models);

  const sumOver = (m: Map<Key, number>) => [...m.values()].reduce((s, v) => s + v, 0);
  const allKinds = new Map<string, number>();
  for (const kinds of refusals.values()) for (const [kind, n] of kinds) allKinds.set(kind, (allKinds.get(kind) ?? 0) + n);
  const allBuckets = new Map<number, number>();
  for (const m of buckets.values()) for (const [le, n] of m) allBuckets.set(le, (allBuckets.get(le) ?? 0) + n);
  const overall = figures('all', 'all models', (name) => sumOver(counters[name as keyof typeof COUNTERS]), allKinds, asBuckets(allBuckets));
  addEstimates(models, overall, results);

  return { prometheus: options.prometheus, source: { kind: 'prometheus', location: options.prometheus }, since: options.since, evaluatedAt: at, overall, models };
}

/** Highest hallucination rate first, then most checks, then by name. */
export function rankModels(models: ModelFigures[]): ModelFigures[] {
  return models.sort((a, b) => (b.hallucination.rate ?? -1) - (a.hallucination.rate ?? -1) || b.checks - a.checks || a.model.localeCompare(b.model));
}

const USAGE = `usage: veracity report [--since 24h] [--out report.html] [--json report.json] [--prometheus URL] [--redis URL]

Per-model reliability over the window: hallucination, unsupported-claim, confidence-mismatch and
refusal rates with Wilson 95% intervals, and the hallucination score distribution. Writes one
self-contained HTML file. Read from Prometheus; when Prometheus cannot be reached and Redis can,
from the aggregates the workers keep in Redis (the report says which).

  --since D        window, a Prometheus duration (default 24h)
  --out F          HTML output (default report.html)
  --json F         also write the figures as JSON
  --prometheus U   Prometheus base URL (default $PROMETHEUS_URL, else http://127.0.0.1:9090)
  --redis R        Redis holding the verdicts: redis://, rediss:// or a unix socket path (default
                   $REDIS_URL, else the embedded default's socket in redis.dataDir when serve runs);
                   adds the worst recent flagged exchanges per model
  --source S       auto (default: Prometheus, else Redis), prometheus or redis
  --at T           evaluate at Unix time T instead of now
  --examples N     examples per model (default 5)

veracity report --compare MODEL_A MODEL_B [...]: paired comparison on the same prompts (--compare --help)`;

export async function reportMain(argv: string[]): Promise<number> {
  if (argv.includes('--compare')) return (await import('./compare/main.js')).compareMain(argv);
  let args;
  try {
    args = parseArgs({
      args: argv,
      options: {
        since: { type: 'string', default: '24h' },
        out: { type: 'string', default: 'report.html' },
        json: { type: 'string' },
        prometheus: { type: 'string', default: process.env.PROMETHEUS_URL ?? 'http://127.0.0.1:9090' },
        at: { type: 'string' },
        redis: { type: 'string', default: process.env.REDIS_URL },
        source: { type: 'string', default: 'auto' },
        examples: { type: 'string', default: '5' },
        help: { type: 'boolean', short: 'h', default: false },
      },
      strict: true,
      allowPositionals: false,
    }).values;
  } catch (err) {
    console.error(`veracity report: ${(err as Error).message}\n\n${USAGE}`);
    return 2;
  }
  if (args.help) {
    console.log(USAGE);
    return 0;
  }
  if (!DURATION.test(args.since!)) {
    console.error(`veracity report: --since ${JSON.stringify(args.since)} is not a Prometheus duration (e.g. 24h, 7d, 90m)`);
    return 2;
  }
  let at: number | undefined;
  if (args.at !== undefined) {
    at = Number(args.at);
    if (!Number.isFinite(at)) {
      console.error(`veracity report: --at ${JSON.stringify(args.at)} must be a Unix time in seconds`);
      return 2;
    }
  }
  try {
    new URL(args.prometheus!);
  } catch {
    console.error(`veracity report: --prometheus ${JSON.stringify(args.prometheus)} is not a URL`);
    return 2;
  }
  const source = args.source!;
  if (!['auto', 'prometheus', 'redis'].includes(source)) {
    console.error(`veracity report: --source ${JSON.stringify(source)} must be auto, prometheus or redis`);
    return 2;
  }
  const n = Number(args.examples);
  if (!Number.isInteger(n) || n < 1) {
    console.error(`veracity report: --examples ${JSON.stringify(args.examples)} must be a positive whole number`);
    return 2;
  }

  // Redis settings (prefix, retention, the embedded default's data directory) come from the config.
  let config: Config;
  try {
    config = loadConfig().config;
  } catch (err) {
    console.error(`veracity report: ${(err as Error).message}`);
    return 2;
  }
  let location: RedisLocation | undefined;
  try {
    if (args.redis || source !== 'prometheus') location = reportLocation(config, args.redis || undefined);
  } catch (err) {
    console.error(`veracity report: ${(err as Error).message}`);
    return 2;
  }
  if (source === 'redis' && !location) {
    console.error('veracity report: --source redis needs --redis (or REDIS_URL), or `serve` running on the embedded default');
    return 2;
  }

  let report: ReliabilityReport | undefined;
  let fellBack: string | undefined;
  if (source !== 'redis') {
    try {
      report = await buildReport({ prometheus: args.prometheus!, since: args.since!, at });
    } catch (err) {
      if (!(err instanceof PrometheusError)) throw err;
      // Only an unreachable Prometheus falls back: one that answers with an error is a real fault.
      if (source === 'auto' && location && /^cannot reach Prometheus/.test(err.message)) fellBack = err.message;
      else {
        console.error(`veracity report: ${err.message}${/^cannot reach/.test(err.message) && !location ? ' (or give --redis to report from the aggregates in Redis)' : ''}`);
        return 1;
      }
    }
  }

  let redis: RedisConnection | undefined;
  try {
    if (location) redis = await connectReportRedis(location);
    if (!report) {
      report = await buildReportFromRedis({ redis: redis!, location: describeLocation(location!), aggregates: aggregateOptions(config), since: args.since!, at });
      if (fellBack) report.source!.note = `Prometheus unreachable (${fellBack}); ${report.source!.note}`;
    }
    if (redis) report.examples = await worstExamples(redis, n, config.redis.prefix);
  } catch (err) {
    if (err instanceof RedisSourceError) {
      console.error(`veracity report: ${err.message}`);
      return 1;
    }
    console.error(`veracity report: cannot read stored verdicts from Redis: ${(err as Error).message}`);
    return 1;
  } finally {
    redis?.disconnect();
  }
  writeFileSync(args.out!, reportHtml(report));
  if (args.json) writeFileSync(args.json, `${JSON.stringify(report, (_k, v) => (v === Infinity ? '+Inf' : v), 2)}\n`);
  const o = report.overall;
  const from = report.source?.kind === 'redis' ? `Redis aggregates at ${report.source.location}${fellBack ? ' (Prometheus unreachable)' : ''}` : `Prometheus at ${report.prometheus}`;
  console.error(
    `veracity report: ${report.models.length} models, ${o.checks} checks over ${report.since} from ${from}; ` +
      `hallucination rate ${o.hallucination.rate === null ? 'n/a' : `${(o.hallucination.rate * 100).toFixed(1)}%`} flagged` +
      `${o.estimated?.rate == null ? '' : `, ${(o.estimated.rate * 100).toFixed(1)}% estimated on grounded checks`} -> ${args.out}`,
  );
  return 0;
}
