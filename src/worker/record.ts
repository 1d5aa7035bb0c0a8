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

  const claims = verdict.hallucination.claims;
  const unsupported = claims.filter((c) => c.support !== 'supported').length;
  const flagged = verdict.hallucination.flagged ? 1 : 0;
  const method = verdict.hallucination.method ?? 'none';
  if (traffic === 'shadow') {
    for (const m of ['context', 'samples', 'none'] as const) {
      metrics.shadowChecks.inc({ ...labels, method: m }, m === method ? 1 : 0);
      metrics.shadowHallucinations.inc({ ...labels, method: m }, m === method ? flagged : 0);
    }
    metrics.shadowClaims.inc(labels, claims.length);
    metrics.shadowUnsupportedClaims.inc(labels, unsupported);
    metrics.shadowMismatches.inc(labels, verdict.confidence_mismatch.flagged ? 1 : 0);
    for (const kind of ['partial', 'full'] as const) metrics.shadowRefusals.inc({ ...labels, kind }, verdict.refusal.kind === kind ? 1 : 0);
    return true;
  }

  // Every per-model series moves together (by 0 when nothing happened), so a model's rates read
  // as a real 0 rather than as missing data.
  metrics.checks.inc(labels);
  metrics.groundedChecks.inc(labels, verdict.grounded ? 1 : 0);
  metrics.hallucinations.inc(labels, flagged);
  metrics.hallucinationScore.observe(labels, verdict.hallucination.score);
  metrics.claims.inc(labels, claims.length);
  metrics.unsupportedClaims.inc(labels, unsupported);
  metrics.mismatches.inc(labels, verdict.confidence_mismatch.flagged ? 1 : 0);
  for (const kind of ['partial', 'full'] as const) metrics.refusals.inc({ ...labels, kind }, verdict.refusal.kind === kind ? 1 : 0);
  const toolCalls = verdict.tool_calls;
  metrics.toolCalls.inc(labels, toolCalls?.checked ?? 0);
  for (const failure_mode of TOOL_FAILURE_MODES) metrics.toolCallFailures.inc({ ...labels, failure_mode }, toolCalls?.calls.filter((c) => c.failure_mode === failure_mode).length ?? 0);
  for (const m of ['context', 'samples', 'none'] as const) {
    metrics.checksByMethod.inc({ ...labels, method: m }, m === method ? 1 : 0);
    metrics.hallucinationsByMethod.inc({ ...labels, method: m }, m === method ? flagged : 0);
  }
  // What an estimated (mean-score) rate and the failure-mode profile need, by what was checked against.
  metrics.expectedHallucinations.inc({ ...labels, method }, verdict.hallucination.score);
  for (const [failure_mode, n] of countFailureModes(claims)) metrics.unsupportedClaimsByMode.inc({ ...labels, method, failure_mode }, n);
  metrics.sampledExchanges.inc(labels, claims.some((c) => c.agreement) ? 1 : 0);
  if (verdict.detection_lag_ms !== undefined) metrics.detectionLag.observe(labels, verdict.detection_lag_ms / 1000);

  const usage = exchange.response.usage;
  if (usage) {
    const base = { gen_ai_operation_name: exchange.route === 'completions' ? 'text_completion' : 'chat', gen_ai_provider_name: exchange.provider, gen_ai_request_model: labels.model, error_type: '' };
    if (usage.inputTokens !== undefined) metrics.tokenUsage.observe({ ...base, gen_ai_token_type: 'input' }, usage.inputTokens);
    if (usage.outputTokens !== undefined) metrics.tokenUsage.observe({ ...base, gen_ai_token_type: 'output' }, usage.outputTokens);
  }
  return true;
}
