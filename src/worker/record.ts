import type { Exchange } from '../capture/exchange.js';
import type { Config } from '../config/schema.js';
import { countFailureModes } from '../detect/failure-mode.js';
import type { Verdict } from '../detect/verdict.js';
import type { BoundedLabel } from '../metrics/labels.js';
import { TOOL_FAILURE_MODES, type Metrics } from '../metrics/registry.js';
import type { AggregateKeys, Traffic } from '../verdicts/aggregates.js';
import { withoutText, type VerdictStore } from '../verdicts/store.js';
import { exchangeText, textKey } from '../verdicts/text.js';

/*
 * Primary traffic is what clients sent through the proxy; shadow traffic is what the worker asked
 * shadow models itself. Both are stored alike (the aggregates keep them apart by `shadow_of`), but
 * shadow verdicts move only the `veracity_shadow_*` series, so per-model rates of real traffic
 * never include them.
 */
export type { Traffic } from '../verdicts/aggregates.js';

export interface RecordDeps {
  config: Config;
  metrics: Metrics;
  store: VerdictStore;
  models: BoundedLabel;
  /** Aggregates, indexes and console text stored with each verdict. */
  aggregates?: AggregateKeys;
}

/**
 * The one place a verdict is stored and counted. The write is set-if-absent and metrics move only
 * when this call stored it, so a retried or duplicated job neither rewrites history nor counts twice.
 */
export async function recordVerdict(verdict: Verdict, exchange: Exchange, traffic: Traffic, deps: RecordDeps): Promise<boolean> {
  const { metrics, config } = deps;
  const labels = { provider: exchange.provider, model: deps.models.value(exchange.model) };
  const kept = config.capture.storeText ? verdict : withoutText(verdict);
  const writes = deps.aggregates?.writesFor(kept, labels.model, Date.parse(verdict.analysed_at ?? '') || Date.now());
  if (writes && config.capture.storeText) {
    writes.strings.push({ key: textKey(config.redis.prefix, verdict.id), value: JSON.stringify(exchangeText(exchange, { questionMaxChars: config.verdicts.questionMaxChars, responseMaxChars: config.detect.maxResponseChars })) });
  }
  const stored = await deps.store.putIfAbsent(kept, writes);
  if (!stored) return false;
  countsFor(metrics).add(verdict, exchange, labels, traffic);
  return true;
}

type Method = 'context' | 'samples' | 'none';
const METHODS: readonly Method[] = ['context', 'samples', 'none'];

/** What a turn's stored verdicts of one provider and model add to the per-model counters. */
class ModelCounts {
  checks = 0;
  grounded = 0;
  hallucinations = 0;
  claims = 0;
  unsupported = 0;
  mismatches = 0;
  partial = 0;
  full = 0;
  toolCalls = 0;
  readonly toolFailures = new Map<string, number>(TOOL_FAILURE_MODES.map((m) => [m, 0]));
  readonly methodChecks = new Map<Method, number>(METHODS.map((m) => [m, 0]));
  readonly methodHallucinations = new Map<Method, number>(METHODS.map((m) => [m, 0]));
  /** Score sums of the methods seen only: a method never checked gets no series. */
  readonly expected = new Map<string, number>();
  /** Per method seen, unsupported claims by failure mode. */
  readonly modes = new Map<string, Map<string, number>>();
  sampled = 0;
  constructor(
    readonly labels: { provider: string; model: string },
    readonly traffic: Traffic,
  ) {}
}

/**
 * The per-model counters, moved once per turn of the event loop for all the verdicts stored in
 * it, instead of some twenty labelled increments per verdict (each one a label check, a key
 * string and a look-up in prom-client). A read of any counter applies what is pending first, so
 * /metrics never lags a stored verdict. Histograms still take each verdict's value.
 */
class VerdictCounts {
  private readonly models = new Map<string, ModelCounts>();
  private scheduled = false;

  constructor(private readonly metrics: Metrics) {
    metrics.beforeRead(() => this.flush());
  }

  add(verdict: Verdict, exchange: Exchange, labels: { provider: string; model: string }, traffic: Traffic): void {
    const key = `${traffic}\u0000${labels.provider}\u0000${labels.model}`;
    let c = this.models.get(key);
    if (!c) this.models.set(key, (c = new ModelCounts(labels, traffic)));
    if (!this.scheduled) {
      this.scheduled = true;
      setImmediate(() => this.flush());
    }
    const claims = verdict.hallucination.claims;
    let unsupported = 0;
    for (const claim of claims) if (claim.support !== 'supported') unsupported++;
    const flagged = verdict.hallucination.flagged ? 1 : 0;
    const method: Method = verdict.hallucination.method ?? 'none';
    c.methodChecks.set(method, (c.methodChecks.get(method) ?? 0) + 1);
    c.methodHallucinations.set(method, (c.methodHallucinations.get(method) ?? 0) + flagged);
    c.claims += claims.length;
    c.unsupported += unsupported;
    if (verdict.confidence_mismatch.flagged) c.mismatches++;
    if (verdict.refusal.kind === 'partial') c.partial++;
    else if (verdict.refusal.kind === 'full') c.full++;
    if (traffic === 'shadow') return;

    const { metrics } = this;
    c.checks++;
    if (verdict.grounded) c.grounded++;
    c.hallucinations += flagged;
    metrics.hallucinationScore.observe(c.labels, verdict.hallucination.score);
    const toolCalls = verdict.tool_calls;
    c.toolCalls += toolCalls?.checked ?? 0;
    for (const call of toolCalls?.calls ?? []) {
      if (call.failure_mode && c.toolFailures.has(call.failure_mode)) c.toolFailures.set(call.failure_mode, c.toolFailures.get(call.failure_mode)! + 1);
    }
    // What an estimated (mean-score) rate and the failure-mode profile need, by what was checked against.
    c.expected.set(method, (c.expected.get(method) ?? 0) + verdict.hallucination.score);
    let modes = c.modes.get(method);
    if (!modes) c.modes.set(method, (modes = new Map()));
    for (const [failureMode, n] of countFailureModes(claims)) modes.set(failureMode, (modes.get(failureMode) ?? 0) + n);
    if (claims.some((claim) => claim.agreement)) c.sampled++;
    if (verdict.detection_lag_ms !== undefined) metrics.detectionLag.observe(c.labels, verdict.detection_lag_ms / 1000);

    const usage = exchange.response.usage;
    if (usage) {
      const base = { gen_ai_operation_name: exchange.route === 'completions' ? 'text_completion' : 'chat', gen_ai_provider_name: exchange.provider, gen_ai_request_model: labels.model, error_type: '' };
      if (usage.inputTokens !== undefined) metrics.tokenUsage.observe({ ...base, gen_ai_token_type: 'input' }, usage.inputTokens);
      if (usage.outputTokens !== undefined) metrics.tokenUsage.observe({ ...base, gen_ai_token_type: 'output' }, usage.outputTokens);
    }
  }

  /** Applies what is pending: every per-model series of a model moves together (by 0 when nothing happened), so its rates read as a real 0 rather than as missing data. */
  flush(): void {
    this.scheduled = false;
    if (this.models.size === 0) return;
    const { metrics } = this;
    for (const c of this.models.values()) {
      const labels = c.labels;
      if (c.traffic === 'shadow') {
        for (const method of METHODS) {
          metrics.shadowChecks.inc({ ...labels, method }, c.methodChecks.get(method));
          metrics.shadowHallucinations.inc({ ...labels, method }, c.methodHallucinations.get(method));
        }
        metrics.shadowClaims.inc(labels, c.claims);
        metrics.shadowUnsupportedClaims.inc(labels, c.unsupported);
        metrics.shadowMismatches.inc(labels, c.mismatches);
        metrics.shadowRefusals.inc({ ...labels, kind: 'partial' }, c.partial);
        metrics.shadowRefusals.inc({ ...labels, kind: 'full' }, c.full);
        continue;
      }
      metrics.checks.inc(labels, c.checks);
      metrics.groundedChecks.inc(labels, c.grounded);
      metrics.hallucinations.inc(labels, c.hallucinations);
      metrics.claims.inc(labels, c.claims);
      metrics.unsupportedClaims.inc(labels, c.unsupported);
      metrics.mismatches.inc(labels, c.mismatches);
      metrics.refusals.inc({ ...labels, kind: 'partial' }, c.partial);
      metrics.refusals.inc({ ...labels, kind: 'full' }, c.full);
      metrics.toolCalls.inc(labels, c.toolCalls);
      for (const [failure_mode, n] of c.toolFailures) metrics.toolCallFailures.inc({ ...labels, failure_mode }, n);
      for (const method of METHODS) {
        metrics.checksByMethod.inc({ ...labels, method }, c.methodChecks.get(method));
        metrics.hallucinationsByMethod.inc({ ...labels, method }, c.methodHallucinations.get(method));
      }
      for (const [method, sum] of c.expected) metrics.expectedHallucinations.inc({ ...labels, method }, sum);
      for (const [method, modes] of c.modes) {
        for (const [failure_mode, n] of modes) metrics.unsupportedClaimsByMode.inc({ ...labels, method, failure_mode }, n);
      }
      metrics.sampledExchanges.inc(labels, c.sampled);
    }
    this.models.clear();
  }
}

const counts = new WeakMap<Metrics, VerdictCounts>();
function countsFor(metrics: Metrics): VerdictCounts {
  let c = counts.get(metrics);
  if (!c) counts.set(metrics, (c = new VerdictCounts(metrics)));
  return c;
}
