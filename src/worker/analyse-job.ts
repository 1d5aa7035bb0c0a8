import type { RawExchange } from '../capture/raw.js';
import { CaptureError } from '../capture/index.js';
import { isEmptyAnswer, readCaptured } from '../capture/read.js';
import type { Config } from '../config/schema.js';
import { analyse } from '../detect/index.js';
import { holdToolFailures } from '../detect/tools.js';
import type { Verdict } from '../detect/verdict.js';
import type { BoundedLabel } from '../metrics/labels.js';
import type { Metrics } from '../metrics/registry.js';
import type { Judge } from '../judge/judge.js';
import type { JudgeLabeller } from '../judge/labeller.js';
import type { RemoteScorer } from '../remote/scorer.js';
import type { Sampler } from '../sampling/sampler.js';
import { applySampleSet, type ShadowExchange } from '../sampling/shadow.js';
import type { VerdictStore } from '../verdicts/store.js';
import type { AggregateKeys } from '../verdicts/aggregates.js';
import { recordVerdict } from './record.js';
import { storeSkipped } from './skipped.js';
import { promptHash } from '../verdicts/prompt-hash.js';

export type JobResult = 'stored' | 'duplicate' | 'skipped' | 'unparseable';

export interface AnalyseDeps {
  config: Config;
  metrics: Metrics;
  store: VerdictStore;
  models: BoundedLabel;
  /** The optional judge (judge.enabled). */
  judge?: Judge;
  /** The judge as labeller (labels.judge.enabled): labels its share of stored verdicts. */
  labeller?: JudgeLabeller;
  /** Optional model-backed scoring (detect.remote.enabled). */
  remote?: RemoteScorer;
  /** Sampling and shadow models (sampling.enabled). */
  sampler?: Sampler;
  /** Aggregates, indexes and console text stored with each verdict. */
  aggregates?: AggregateKeys;
  /** Key of `prompt_hash` (from the variable `verdicts.promptHashKeyEnv` names); unkeyed when absent. */
  promptHashKey?: Buffer;
}

/**
 * One job: parse the captured bytes, run the detectors, (for a sampled exchange) check the
 * answer against the model's other answers, store the verdict once, and count it once.
 * The verdict write is set-if-absent and metrics move only when this call stored it, so a retried
 * or duplicated job neither rewrites history nor counts twice.
 */
export async function analyseJob(raw: RawExchange, deps: AnalyseDeps): Promise<JobResult> {
  const { config, metrics } = deps;
  if (raw.status < 200 || raw.status >= 300) return storeSkipped(raw, 'upstream_error', deps);

  const t0 = performance.now();
  let exchange;
  let truncated: string[];
  try {
    ({ exchange, truncated } = readCaptured(raw, config));
  } catch (err) {
    if (err instanceof CaptureError) {
      metrics.dropped.inc({ reason: 'parse_error' });
      // Best effort: a retry would count the drop twice.
      await storeSkipped(raw, 'unparseable', deps).catch(() => {});
      return 'unparseable';
    }
    throw err;
  }
  if (isEmptyAnswer(exchange, raw.aborted)) {
    return storeSkipped(raw, 'empty_response', deps, exchange);
  }
  for (const part of truncated) metrics.truncated.inc({ part });

  // The proxy judged it inline and told the client: that verdict is the one stored and counted,
  // so the stored verdict agrees with the response. Remote scoring, samples and the judge below
  // may still refine its scores; `inline` keeps what the client was told.
  const verdict: Verdict = raw.inlineVerdict ?? analyse(exchange, config.detect);
  if (!raw.inlineVerdict) metrics.analysisDuration.observe((performance.now() - t0) / 1000);
  if (deps.remote) await deps.remote.apply(exchange, verdict, config.detect);

  // Sampling waits for the model's other answers, so a retry that finds the verdict already
  // stored stops here rather than ask again.
  let shadows: ShadowExchange[] = [];
  const sampler = deps.sampler?.picks(exchange, verdict) ? deps.sampler : undefined;
  if (sampler) {
    if (await deps.store.get(raw.id)) return 'duplicate';
    const set = await sampler.collect(raw, exchange, verdict);
    if (set) shadows = applySampleSet(exchange, verdict, set, config.detect);
  }
  if (deps.judge) await deps.judge.apply(exchange, verdict, config.detect.hallucinationThreshold);
  // Remote scoring, samples and the judge read the text again; none of them unflags a failing tool call.
  holdToolFailures(verdict);
  const now = Date.now();
  verdict.route = raw.route;
  verdict.status = raw.status;
  if (raw.aborted) verdict.aborted = true;
  for (const [v, ex] of [[verdict, exchange] as const, ...shadows.map((s) => [s.verdict, s.exchange] as const)]) {
    if (raw.app) v.app = raw.app;
    v.analysed_at = new Date(now).toISOString();
    v.detection_lag_ms = Math.max(0, now - raw.endedAt);
    // A shadow's exchange carries the original's conversation, so both hash alike.
    v.prompt_hash = promptHash(ex, deps.promptHashKey);
  }

  const recordDeps = { config, metrics, store: deps.store, models: deps.models, aggregates: deps.aggregates };
  // Shadows first: once the original's verdict is stored, a retry does nothing more.
  for (const s of shadows) await recordVerdict(s.verdict, s.exchange, 'shadow', recordDeps);
  const stored = await recordVerdict(verdict, exchange, 'primary', recordDeps);
  if (sampler) await sampler.forget(raw.id);
  // After the verdict is stored (its snapshot goes into the label), by the one call that stored it.
  if (stored && deps.labeller) await deps.labeller.label(exchange, verdict);
  return stored ? 'stored' : 'duplicate';
}
