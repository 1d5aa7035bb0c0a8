import { writeFileSync } from 'node:fs';
import { parseArgs } from 'node:util';
import { loadConfig } from '../config/load.js';
import type { Config } from '../config/schema.js';
import type { RedisConnection } from '../redis/connection.js';
import { aggregateOptions, emptyCounts, type Counts } from '../verdicts/aggregates.js';
import { DURATION, durationMs } from './duration.js';
import { worstExamples } from './examples.js';
import { reportFigures } from './figures.js';
import { RedisSourceError, buildReportFromRedis, connectReportRedis, describeLocation, reportLocation, type RedisLocation } from './from-redis.js';
import { reportHtml } from './html.js';
import type { ReliabilityReport } from './types.js';
import { compareMain } from './compare/main.js';
import { PrometheusError, queryInstant, type Sample } from './prometheus.js';
import { readVerified } from './verified.js';

/**
 * `veracity report`: per-model reliability over a window, read from Prometheus or from the
 * aggregates the workers keep in Redis. Either source gives each model's counts; the figures are
 * computed from them one way (figures.ts): rates with Wilson 95% intervals, the estimated rate
 * beside the flagged one, the failure-mode profile, checks per method, the score distribution.
 */

export type { ReliabilityReport, ReportSource } from './types.js';

export interface ReportOptions {
  prometheus: string;
  since: string;
  /** Evaluation time, Unix seconds; now when unset. */
  at?: number;
  timeoutMs?: number;
}

/** Counter, by the labels it is summed by, and where each sample goes in a model's counts. */
const QUERIES: Record<string, { metric: string; by?: string; add: (c: Counts, s: Sample) => void }> = {
  checks: { metric: 'veracity_checks_total', add: (c, s) => void (c.checks += s.value) },
  grounded: { metric: 'veracity_grounded_checks_total', add: (c, s) => void (c.grounded += s.value) },
  hallucinations: { metric: 'veracity_hallucinations_total', add: (c, s) => void (c.hallucinations += s.value) },
  claims: { metric: 'veracity_claims_total', add: (c, s) => void (c.claims += s.value) },
  unsupported: { metric: 'veracity_unsupported_claims_total', add: (c, s) => void (c.unsupportedClaims += s.value) },
  mismatches: { metric: 'veracity_confidence_mismatches_total', add: (c, s) => void (c.mismatches += s.value) },
  refusals: { metric: 'veracity_refusals_total', by: 'kind', add: (c, s) => void (c.refusals[s.metric.kind ?? 'unknown'] = (c.refusals[s.metric.kind ?? 'unknown'] ?? 0) + s.value) },
  scores: {
    metric: 'veracity_hallucination_score_bucket',
    by: 'le',
    add: (c, s) => {
      const le = s.metric.le === '+Inf' ? Infinity : Number(s.metric.le);
      if (Number.isNaN(le)) return;
      const b = c.scoreBuckets.find((x) => x.le === le);
      if (b) b.cumulative += s.value;
      else c.scoreBuckets.push({ le, cumulative: s.value });
    },
  },
  methodChecks: { metric: 'veracity_checks_by_method_total', by: 'method', add: (c, s) => void (method(c, s).checks += s.value) },
  methodFlagged: { metric: 'veracity_hallucinations_by_method_total', by: 'method', add: (c, s) => void (method(c, s).hallucinations += s.value) },
  methodExpected: { metric: 'veracity_expected_hallucinations_total', by: 'method', add: (c, s) => void (method(c, s).scoreSum += s.value) },
  failureModes: {
    metric: 'veracity_unsupported_claims_by_mode_total',
    by: 'method, failure_mode',
    add: (c, s) => {
      const modes = (c.failureModes[s.metric.method ?? 'none'] ??= {});
      const mode = s.metric.failure_mode ?? 'unsupported';
      modes[mode] = (modes[mode] ?? 0) + s.value;
    },
  },
  sampled: { metric: 'veracity_sampled_exchanges_total', add: (c, s) => void (c.sampled += s.value) },
  toolCalls: { metric: 'veracity_tool_calls_total', add: (c, s) => void (c.toolCalls += s.value) },
  toolFailures: {
    metric: 'veracity_tool_call_failures_total',
    by: 'failure_mode',
    add: (c, s) => void (c.toolFailures[s.metric.failure_mode ?? 'unknown'] = (c.toolFailures[s.metric.failure_mode ?? 'unknown'] ?? 0) + s.value),
  },
};

function method(c: Counts, s: Sample) {
  return (c.methods[s.metric.method ?? 'none'] ??= { checks: 0, hallucinations: 0, scoreSum: 0 });
}

/** The PromQL the report runs, by name: each an instant query over the window. */
export function reportQueries(since: string): Record<string, string> {
  const q: Record<string, string> = {};
  for (const [name, { metric, by }] of Object.entries(QUERIES)) q[name] = `sum by (provider, model${by ? `, ${by}` : ''}) (increase(${metric}[${since}]))`;
  return q;
}

export async function buildReport(options: ReportOptions): Promise<ReliabilityReport> {
  if (!DURATION.test(options.since)) throw new PrometheusError(`--since ${JSON.stringify(options.since)} is not a Prometheus duration (e.g. 24h, 7d, 90m)`);
  const at = options.at ?? Math.floor(Date.now() / 1000);
  const byModel = new Map<string, { provider: string; model: string; counts: Counts }>();
  // Sequential on purpose: a handful of queries, and a struggling Prometheus gets one at a time.
  for (const [name, query] of Object.entries(reportQueries(options.since))) {
    for (const s of await queryInstant(options.prometheus, query, { time: at, timeoutMs: options.timeoutMs })) {
      const provider = s.metric.provider ?? '';
      const model = s.metric.model ?? '';
      const key = `${provider}\u0000${model}`;
      let m = byModel.get(key);
      if (!m) byModel.set(key, (m = { provider, model, counts: emptyCounts() }));
      QUERIES[name]!.add(m.counts, s);
    }
  }
  return { prometheus: options.prometheus, source: { kind: 'prometheus', location: options.prometheus }, since: options.since, evaluatedAt: at, ...reportFigures([...byModel.values()]) };
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
                   adds each model's highest-scoring flagged exchanges in the window
  --source S       auto (default: Prometheus, else Redis), prometheus or redis
  --at T           evaluate at Unix time T instead of now
  --examples N     examples per model (default 5)

veracity report --compare MODEL_A MODEL_B [...]: paired comparison on the same prompts (--compare --help)`;

export async function reportMain(argv: string[]): Promise<number> {
  if (argv.includes('--compare')) return compareMain(argv);
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
    if (redis) {
      // Through the end of the evaluation's second: verdicts carry milliseconds, `at` whole seconds.
      const toMs = Math.floor(report.evaluatedAt) * 1000 + 999;
      const window = report.source?.window ? { fromMs: report.source.window.from * 1000, toMs: report.source.window.to * 1000 } : { fromMs: toMs - durationMs(args.since!)!, toMs };
      report.examples = await worstExamples(redis, aggregateOptions(config), report.models, window, n);
      const verified = await readVerified(report.models, { redis, aggregates: aggregateOptions(config), ...window });
      for (const m of report.models) Object.assign(m, verified.get(`${m.provider}/${m.model}`));
    }
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
      `${o.estimated?.rate == null ? '' : `, ${(o.estimated.rate * 100).toFixed(1)}% estimated on grounded checks`}` +
      `${o.toolCalls.checked > 0 ? `; ${o.toolCalls.failed.count} of ${o.toolCalls.checked} tool calls failed` : ''} -> ${args.out}`,
  );
  return 0;
}
