import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';
import { SKIP_REASONS } from '../sampling/decide.js';

/**
 * Every metric Veracity exports, in one place. Names in CONTRACTS.md are stable;
 * dashboards (grafana/) and alerts (deploy/prometheus/) query exactly these.
 */

const LATENCY_BUCKETS = [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 20, 40, 80, 160];
const OVERHEAD_BUCKETS = [0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.5];
const LAG_BUCKETS = [0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 300];
const TOKEN_BUCKETS = [1, 4, 16, 64, 256, 1024, 4096, 16384, 65536, 262144, 1048576, 4194304];
/** Bounds of the hallucination score histogram; the aggregates kept in Redis bin scores the same way. */
export const SCORE_BUCKETS = [0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7, 0.8, 0.9, 1];

const GEN_AI_LABELS = ['gen_ai_operation_name', 'gen_ai_provider_name', 'gen_ai_request_model', 'error_type'] as const;
const MODEL_LABELS = ['provider', 'model'] as const;

/** Label values known in advance: exported at 0 from the start, so rates and alerts see a real zero. */
export const DROP_REASONS = ['redis_unavailable', 'backpressure', 'enqueue_timeout', 'enqueue_error', 'too_large', 'parse_error', 'expired', 'failed', 'redis_full', 'redis_cannot_persist'] as const;
export const UPSTREAM_ERROR_TYPES = ['refused', 'timeout', 'reset', 'dns', 'upstream_error'] as const;
export const INLINE_OUTCOMES = ['passed', 'flagged', 'blocked', 'retried', 'oversize', 'error', 'skipped'] as const;
export type InlineOutcome = (typeof INLINE_OUTCOMES)[number];
export const TOOL_FAILURE_MODES = ['tool_name', 'tool_arguments'] as const;

export function createMetrics(registry = new Registry(), options: { processMetrics?: boolean } = {}) {
  // Process metrics (memory, CPU, event-loop lag) describe the whole process: collected once, by
  // the main thread, not again by an analysis thread in the same process.
  if (options.processMetrics !== false) collectDefaultMetrics({ register: registry, prefix: 'veracity_' });
  const flushers = new Set<() => void>();
  const metrics = { ...defineMetrics(registry), beforeRead: (flush: () => void) => void flushers.add(flush) };
  // Counts gathered apart (record.ts sums a turn's verdicts per model) land before any read of any counter.
  const collect = () => {
    for (const flush of flushers) flush();
  };
  for (const metric of Object.values(metrics)) if (metric instanceof Counter) (metric as unknown as { collect?: () => void }).collect = collect;
  for (const reason of DROP_REASONS) metrics.dropped.inc({ reason }, 0);
  for (const reason of SKIP_REASONS) metrics.samplingSkipped.inc({ reason }, 0);
  for (const mode of ['annotate', 'block']) {
    for (const outcome of INLINE_OUTCOMES) metrics.inlineDecisions.inc({ mode, outcome }, 0);
  }
  for (const provider of ['openai', 'anthropic']) {
    for (const error_type of UPSTREAM_ERROR_TYPES) metrics.upstreamErrors.inc({ provider, error_type }, 0);
  }
  return metrics;
}

function defineMetrics(registry: Registry) {
  const r = [registry];
  return {
    registry,

    // ---- proxy (request path) ----
    operationDuration: new Histogram({
      name: 'gen_ai_client_operation_duration_seconds',
      help: 'Duration of proxied GenAI operations, request received to response end (OTel GenAI semantic conventions).',
      labelNames: GEN_AI_LABELS,
      buckets: LATENCY_BUCKETS,
      registers: r,
    }),
    tokenUsage: new Histogram({
      name: 'gen_ai_client_token_usage',
      help: 'Tokens used per proxied GenAI operation, by token type (input/output).',
      labelNames: [...GEN_AI_LABELS, 'gen_ai_token_type'],
      buckets: TOKEN_BUCKETS,
      registers: r,
    }),
    timeToFirstChunk: new Histogram({
      name: 'veracity_time_to_first_chunk_seconds',
      help: 'Streaming responses: request received to first body chunk relayed.',
      labelNames: MODEL_LABELS,
      buckets: LATENCY_BUCKETS,
      registers: r,
    }),
    proxyOverhead: new Histogram({
      name: 'veracity_proxy_overhead_seconds',
      help: 'Time the proxy itself adds: request received to upstream request sent, plus upstream headers to client headers.',
      labelNames: ['provider', 'route'],
      buckets: OVERHEAD_BUCKETS,
      registers: r,
    }),
    requests: new Counter({
      name: 'veracity_requests_total',
      help: 'Proxied requests by provider, route, status class and outcome.',
      labelNames: ['provider', 'route', 'status_class', 'outcome'],
      registers: r,
    }),
    upstreamErrors: new Counter({
      name: 'veracity_upstream_errors_total',
      help: 'Requests the upstream could not answer: refused, timeout, reset, other.',
      labelNames: ['provider', 'error_type'],
      registers: r,
    }),
    inflightRequests: new Gauge({
      name: 'veracity_inflight_requests',
      help: 'Proxied requests in progress.',
      registers: r,
    }),

    // ---- queue (hand-off) ----
    enqueued: new Counter({
      name: 'veracity_analysis_enqueued_total',
      help: 'Exchanges handed to the analysis queue.',
      registers: r,
    }),
    dropped: new Counter({
      name: 'veracity_analysis_dropped_total',
      help: 'Exchanges not analysed, by reason (redis_unavailable, backpressure, enqueue_timeout, enqueue_error, too_large, parse_error, expired, failed, redis_full, redis_cannot_persist).',
      labelNames: ['reason'],
      registers: r,
    }),
    truncated: new Counter({
      name: 'veracity_analysis_truncated_total',
      help: 'Captured bodies or texts cut to the configured size before analysis, by part.',
      labelNames: ['part'],
      registers: r,
    }),
    // ---- inline mode (proxy; docs/inline.md) ----
    inlineDecisions: new Counter({
      name: 'veracity_inline_decisions_total',
      help: 'Answers inline mode handled, by mode and outcome: passed (nothing flagged), flagged (delivered with its flags), blocked (422), retried (withheld and asked again), oversize, error (detector or read failure: passed through), skipped (nothing to judge).',
      labelNames: ['mode', 'outcome'],
      registers: r,
    }),
    inlineDuration: new Histogram({
      name: 'veracity_inline_analysis_seconds',
      help: 'Time an answer waited for its inline verdict (read + detectors), by mode and where it was judged: on the event loop, or on a thread (large answers, hand-off included).',
      labelNames: ['mode', 'where'],
      buckets: [0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1],
      registers: r,
    }),
    enqueueInFlight: new Gauge({
      name: 'veracity_analysis_enqueue_inflight',
      help: 'Enqueues waiting on Redis.',
      registers: r,
    }),
    queueDepth: new Gauge({
      name: 'veracity_queue_depth',
      help: 'Jobs in the analysis queue by state (waiting, active, delayed, failed).',
      labelNames: ['state'],
      registers: r,
    }),
    queueWait: new Histogram({
      name: 'veracity_queue_wait_seconds',
      help: 'Time a job waited in the queue before a worker took it.',
      buckets: LAG_BUCKETS,
      registers: r,
    }),

    // ---- worker (detection) ----
    checks: new Counter({
      name: 'veracity_checks_total',
      help: 'Exchanges analysed.',
      labelNames: MODEL_LABELS,
      registers: r,
    }),
    groundedChecks: new Counter({
      name: 'veracity_grounded_checks_total',
      help: 'Exchanges analysed that carried context to check against.',
      labelNames: MODEL_LABELS,
      registers: r,
    }),
    hallucinations: new Counter({
      name: 'veracity_hallucinations_total',
      help: 'Exchanges flagged as hallucinated.',
      labelNames: MODEL_LABELS,
      registers: r,
    }),
    claims: new Counter({
      name: 'veracity_claims_total',
      help: 'Claims extracted from responses.',
      labelNames: MODEL_LABELS,
      registers: r,
    }),
    unsupportedClaims: new Counter({
      name: 'veracity_unsupported_claims_total',
      help: 'Claims not supported by the context (unsupported or contradicted).',
      labelNames: MODEL_LABELS,
      registers: r,
    }),
    mismatches: new Counter({
      name: 'veracity_confidence_mismatches_total',
      help: 'Exchanges whose assertive wording sits on unsupported content.',
      labelNames: MODEL_LABELS,
      registers: r,
    }),
    refusals: new Counter({
      name: 'veracity_refusals_total',
      help: 'Refusals by kind (partial, full).',
      labelNames: [...MODEL_LABELS, 'kind'],
      registers: r,
    }),
    hallucinationScore: new Histogram({
      name: 'veracity_hallucination_score',
      help: 'Distribution of exchange hallucination scores (calibration view).',
      labelNames: MODEL_LABELS,
      buckets: SCORE_BUCKETS,
      registers: r,
    }),
    detectionLag: new Histogram({
      name: 'veracity_detection_lag_seconds',
      help: 'Response end to verdict stored.',
      labelNames: MODEL_LABELS,
      buckets: LAG_BUCKETS,
      registers: r,
    }),
    analysisDuration: new Histogram({
      name: 'veracity_analysis_duration_seconds',
      help: 'CPU time of one analysis (parse + detectors).',
      buckets: [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 1],
      registers: r,
    }),
    judgeRequests: new Counter({
      name: 'veracity_judge_requests_total',
      help: 'Optional judge calls by result (ok, error, over_budget, unparseable).',
      labelNames: ['result'],
      registers: r,
    }),
    judgeLabels: new Counter({
      name: 'veracity_judge_labels_total',
      help: 'The judge as labeller (labels.judge): exchanges of its sample by result (stored, exists: already labelled by the judge, over_budget, error, unparseable).',
      labelNames: ['result'],
      registers: r,
    }),
    judgeTokens: new Counter({
      name: 'veracity_judge_tokens_total',
      help: 'Tokens the optional judge used (as reported by its API).',
      registers: r,
    }),
    jobs: new Counter({
      name: 'veracity_worker_jobs_total',
      help: 'Exchanges processed by workers, by result (stored, duplicate, skipped, unparseable, expired, failed); a job carries a batch of them.',
      labelNames: ['result'],
      registers: r,
    }),
    toolCalls: new Counter({
      name: 'veracity_tool_calls_total',
      help: 'Complete tool calls in analysed answers, checked against the tools their requests declared.',
      labelNames: MODEL_LABELS,
      registers: r,
    }),
    toolCallFailures: new Counter({
      name: 'veracity_tool_call_failures_total',
      help: 'Tool calls that failed their checks, by failure mode (tool_name: not a declared tool; tool_arguments: invalid JSON or schema violation).',
      labelNames: [...MODEL_LABELS, 'failure_mode'],
      registers: r,
    }),

    // ---- checks by method; shadow models' verdicts, kept apart from primary traffic ----
    checksByMethod: new Counter({
      name: 'veracity_checks_by_method_total',
      help: 'Exchanges analysed, by what the hallucination check held them against (context, samples, none).',
      labelNames: [...MODEL_LABELS, 'method'],
      registers: r,
    }),
    hallucinationsByMethod: new Counter({
      name: 'veracity_hallucinations_by_method_total',
      help: 'Exchanges flagged as hallucinated, by check method (context, samples, none).',
      labelNames: [...MODEL_LABELS, 'method'],
      registers: r,
    }),
    shadowChecks: new Counter({
      name: 'veracity_shadow_checks_total',
      help: 'Shadow-model answers analysed (never counted in veracity_checks_total), by check method.',
      labelNames: [...MODEL_LABELS, 'method'],
      registers: r,
    }),
    shadowHallucinations: new Counter({
      name: 'veracity_shadow_hallucinations_total',
      help: 'Shadow-model answers flagged as hallucinated, by check method.',
      labelNames: [...MODEL_LABELS, 'method'],
      registers: r,
    }),
    shadowClaims: new Counter({
      name: 'veracity_shadow_claims_total',
      help: 'Claims extracted from shadow-model answers.',
      labelNames: MODEL_LABELS,
      registers: r,
    }),
    shadowUnsupportedClaims: new Counter({
      name: 'veracity_shadow_unsupported_claims_total',
      help: 'Claims of shadow-model answers not supported (unsupported or contradicted).',
      labelNames: MODEL_LABELS,
      registers: r,
    }),
    shadowMismatches: new Counter({
      name: 'veracity_shadow_confidence_mismatches_total',
      help: 'Shadow-model answers whose assertive wording sits on unsupported content.',
      labelNames: MODEL_LABELS,
      registers: r,
    }),
    shadowRefusals: new Counter({
      name: 'veracity_shadow_refusals_total',
      help: 'Shadow-model refusals by kind (partial, full).',
      labelNames: [...MODEL_LABELS, 'kind'],
      registers: r,
    }),

    // ---- sampling and shadow calls the worker makes ----
    samplingCalls: new Counter({
      name: 'veracity_sampling_calls_total',
      help: 'Sampling (role=resample) and shadow-model (role=shadow) calls by upstream, model and result (ok, http_4xx, http_5xx, timeout, reset, refused, bad_answer, error).',
      labelNames: ['upstream', 'model', 'role', 'result'],
      registers: r,
    }),
    samplingTokens: new Counter({
      name: 'veracity_sampling_tokens_total',
      help: 'Tokens sampling and shadow calls used, as their APIs reported them, by type (input, output).',
      labelNames: ['upstream', 'model', 'role', 'type'],
      registers: r,
    }),
    samplingSkipped: new Counter({
      name: 'veracity_sampling_skipped_total',
      help: 'Exchanges picked for sampling that were not sampled (or shadow calls not made), by reason.',
      labelNames: ['reason'],
      registers: r,
    }),
    sampledExchanges: new Counter({
      name: 'veracity_sampled_exchanges_total',
      help: 'Exchanges whose verdict was checked against at least one sampled or shadow answer.',
      labelNames: MODEL_LABELS,
      registers: r,
    }),

    // ---- failure modes, estimated rates, remote scoring ----
    unsupportedClaimsByMode: new Counter({
      name: 'veracity_unsupported_claims_by_mode_total',
      help: 'Unsupported or contradicted claims by failure mode (number, entity, negation, reference, unsupported) and by what they were checked against (method: context, samples, none). Sums to veracity_unsupported_claims_total.',
      labelNames: [...MODEL_LABELS, 'method', 'failure_mode'],
      registers: r,
    }),
    expectedHallucinations: new Counter({
      name: 'veracity_expected_hallucinations_total',
      help: 'Sum of exchange hallucination scores, by method. Over veracity_checks_by_method_total it is the estimated hallucination rate (mean score); only method="context" scores are calibrated evidence, method="none" is a prior.',
      labelNames: [...MODEL_LABELS, 'method'],
      registers: r,
    }),
    labels: new Counter({
      name: 'veracity_labels_total',
      help: 'Labels stored through POST /veracity/v1/labels, by who labelled (bounded) and how the exchange was chosen (selection: random, feedback). Only random ones enter verified rates.',
      labelNames: [...MODEL_LABELS, 'by', 'selection'],
      registers: r,
    }),
    remoteRequests: new Counter({
      name: 'veracity_remote_requests_total',
      help: 'Remote scoring (detect.remote) requests by result (ok, over_budget, timeout, http_error, unreachable, malformed).',
      labelNames: ['result'],
      registers: r,
    }),

    // ---- Redis (any mode, polled from INFO memory) ----
    redisMemoryUsed: new Gauge({
      name: 'veracity_redis_memory_used_bytes',
      help: 'Memory Redis uses (INFO memory used_memory), as last read.',
      aggregator: 'max',
      registers: r,
    }),
    redisMemoryMax: new Gauge({
      name: 'veracity_redis_memory_max_bytes',
      help: "Redis's maxmemory (0 = no limit), as last read.",
      aggregator: 'max',
      registers: r,
    }),
  };
}

export type Metrics = ReturnType<typeof defineMetrics> & {
  /** Registers what applies counts gathered apart: run before any counter of this set is read. */
  beforeRead(flush: () => void): void;
};
