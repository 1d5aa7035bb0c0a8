import type { RawExchange } from '../capture/raw.js';
import { CaptureError, normalise } from '../capture/index.js';
import type { Exchange } from '../capture/exchange.js';
import { redactPii } from '../capture/redact.js';
import type { Config } from '../config/schema.js';
import { analyse } from '../detect/index.js';
import type { Verdict } from '../detect/verdict.js';
import type { BoundedLabel } from '../metrics/labels.js';
import type { Metrics } from '../metrics/registry.js';
import type { Judge } from '../judge/judge.js';
import { withoutText, type VerdictStore } from '../verdicts/store.js';
import type { AggregateKeys } from '../verdicts/aggregates.js';
import { exchangeText, textKey } from '../verdicts/text.js';
import { promptHash } from '../verdicts/prompt-hash.js';

export type JobResult = 'stored' | 'duplicate' | 'skipped' | 'unparseable';

export interface AnalyseDeps {
  config: Config;
  metrics: Metrics;
  store: VerdictStore;
  models: BoundedLabel;
  /** The optional judge (judge.enabled). */
  judge?: Judge;
  /** Aggregates, indexes and console text stored with each verdict. */
  aggregates?: AggregateKeys;
  /** Key of `prompt_hash` (from the variable `verdicts.promptHashKeyEnv` names); unkeyed when absent. */
  promptHashKey?: Buffer;
}

/**
 * The proxy masks PII in the raw copy, but a streamed answer arrives in pieces (one per event), so
 * an e-mail address split across events survives that pass and would be whole again in the
 * verdict's claim texts. Masking the reassembled texts keeps it out of verdicts.
 */
function redactExchange(exchange: Exchange): void {
  const mask = (s: string) => redactPii(s).text;
  exchange.question = mask(exchange.question);
  for (const part of exchange.context) part.text = mask(part.text);
  const masked = mask(exchange.response.text);
  // Token logprobs are aligned with the text; once it changes they no longer are.
  if (masked !== exchange.response.text) exchange.response.logprobs = undefined;
  exchange.response.text = masked;
  if (exchange.response.refusal) exchange.response.refusal = mask(exchange.response.refusal);
}

/**
 * One job: parse the captured bytes, run the detectors, store the verdict once, and count it once.
 * The verdict write is set-if-absent and metrics move only when this call stored it, so a retried
 * or duplicated job neither rewrites history nor counts twice.
 */
export async function analyseJob(raw: RawExchange, deps: AnalyseDeps): Promise<JobResult> {
  const { config, metrics } = deps;
  if (raw.status < 200 || raw.status >= 300) return 'skipped';

  const t0 = performance.now();
  let exchange;
  let truncated: string[];
  try {
    ({ exchange, truncated } = normalise(raw, {
      maxResponseChars: config.detect.maxResponseChars,
      maxContextChars: config.detect.maxContextChars,
    }));
  } catch (err) {
    if (err instanceof CaptureError) {
      metrics.dropped.inc({ reason: 'parse_error' });
      return 'unparseable';
    }
    throw err;
  }
  if (config.capture.redactPii) redactExchange(exchange);
  if (exchange.response.text.trim() === '' && !exchange.response.refusal && !raw.aborted) return 'skipped';
  for (const part of truncated) metrics.truncated.inc({ part });

  const verdict: Verdict = analyse(exchange, config.detect);
  metrics.analysisDuration.observe((performance.now() - t0) / 1000);
  if (deps.judge) await deps.judge.apply(exchange, verdict, config.detect.hallucinationThreshold);
  const now = Date.now();
  verdict.route = raw.route;
  if (raw.app) verdict.app = raw.app;
  verdict.status = raw.status;
  if (raw.aborted) verdict.aborted = true;
  verdict.analysed_at = new Date(now).toISOString();
  verdict.detection_lag_ms = Math.max(0, now - raw.endedAt);
  verdict.prompt_hash = promptHash(exchange, deps.promptHashKey);

  const labels = { provider: exchange.provider, model: deps.models.value(exchange.model) };
  const kept = config.capture.storeText ? verdict : withoutText(verdict);
  const writes = deps.aggregates?.writesFor(kept, labels.model, now);
  if (writes && config.capture.storeText) {
    writes.strings.push({ key: textKey(config.redis.prefix, verdict.id), value: JSON.stringify(exchangeText(exchange, { questionMaxChars: config.verdicts.questionMaxChars, responseMaxChars: config.detect.maxResponseChars })) });
  }
  const stored = await deps.store.putIfAbsent(kept, writes);
  if (!stored) return 'duplicate';

  // Every per-model series moves together (by 0 when nothing happened), so a model's rates read
  // as a real 0 rather than as missing data.
  const claims = verdict.hallucination.claims;
  metrics.checks.inc(labels);
  metrics.groundedChecks.inc(labels, verdict.grounded ? 1 : 0);
  metrics.hallucinations.inc(labels, verdict.hallucination.flagged ? 1 : 0);
  metrics.hallucinationScore.observe(labels, verdict.hallucination.score);
  metrics.claims.inc(labels, claims.length);
  metrics.unsupportedClaims.inc(labels, claims.filter((c) => c.support !== 'supported').length);
  metrics.mismatches.inc(labels, verdict.confidence_mismatch.flagged ? 1 : 0);
  for (const kind of ['partial', 'full'] as const) metrics.refusals.inc({ ...labels, kind }, verdict.refusal.kind === kind ? 1 : 0);
  metrics.detectionLag.observe(labels, verdict.detection_lag_ms / 1000);
  if (verdict.hallucination.flagged) await deps.store.rememberFlagged(verdict, labels.model).catch(() => {});

  const usage = exchange.response.usage;
  if (usage) {
    const base = { gen_ai_operation_name: raw.route === 'completions' ? 'text_completion' : 'chat', gen_ai_provider_name: exchange.provider, gen_ai_request_model: labels.model, error_type: '' };
    if (usage.inputTokens !== undefined) metrics.tokenUsage.observe({ ...base, gen_ai_token_type: 'input' }, usage.inputTokens);
    if (usage.outputTokens !== undefined) metrics.tokenUsage.observe({ ...base, gen_ai_token_type: 'output' }, usage.outputTokens);
  }
  return 'stored';
}
