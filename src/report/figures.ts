import { TEXT_FAILURE_MODES } from '../detect/failure-mode.js';
import { CHECK_METHODS, addCounts, emptyCounts, type Counts } from '../verdicts/aggregates.js';
import { wilson, type Interval } from './wilson.js';

/**
 * The figures Veracity shows about a model, computed one way from its counts over a window,
 * whichever source the counts came from (Prometheus' counters or the aggregates in Redis) and
 * whoever shows them (the report, the console). Rates are ratios of counts, each with a Wilson 95%
 * interval.
 */

export interface RateFigure {
  /** Events in the window (rounded: Prometheus' increase() extrapolates to the window's edges). */
  count: number;
  /** Trials in the window: checks, or claims for the unsupported-claim rate. */
  of: number;
  rate: number | null;
  ci95: Interval | null;
}

export function rate(count: number, of: number): RateFigure {
  const k = Math.round(count);
  const n = Math.round(of);
  return { count: k, of: n, rate: n > 0 ? k / n : null, ci95: wilson(Math.min(k, n), n) };
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

/**
 * The estimated hallucination rate beside the flagged one. The flagged rate counts exchanges over
 * the threshold, so it moves with the threshold; the estimated rate is the mean calibrated score,
 * which estimates the share of hallucinated answers whatever the threshold. Both are given on
 * grounded checks (method "context") only: an exchange with no context scores a prior, not
 * evidence, and answers checked against resampled answers are scored on another scale.
 */
export interface EstimateFigure {
  /** What the estimate covers: checks against context the request carried. */
  method: 'context';
  /** Grounded checks in the window. */
  checks: number;
  /** Sum of their scores, to 3 decimals: the expected number of hallucinated answers among them. */
  expected: number;
  /** Mean score: the estimated hallucination rate. */
  rate: number | null;
  /**
   * Sampling interval, 95%: Wilson's on (expected, checks). Scores in 0..1 with this mean vary at
   * most as much as 0/1 outcomes do, so it is conservative; it says nothing of calibration error.
   */
  ci95: Interval | null;
  /** The flagged rate on the same checks, for comparison. */
  flagged: RateFigure;
}

export interface FailureModeFigure {
  mode: string;
  count: number;
  /** Share of the model's checked unsupported claims. */
  share: number | null;
}

export interface FailureProfile {
  /** Unsupported or contradicted claims that were checked against context or resampled answers. */
  claims: number;
  modes: FailureModeFigure[];
}

export const FAILURE_MODES: readonly string[] = TEXT_FAILURE_MODES;

export interface ModelFigures {
  provider: string;
  model: string;
  checks: number;
  grounded: RateFigure;
  /** Flagged: share of checks whose score reached the threshold. */
  hallucination: RateFigure;
  unsupportedClaims: RateFigure;
  confidenceMismatch: RateFigure;
  refusal: RateFigure;
  refusalByKind: Record<string, RateFigure>;
  scores: ScoreBin[];
  /** Estimated rate (mean calibrated score) beside the flagged rate, on grounded checks. */
  estimated: EstimateFigure;
  /** Unsupported claims by failure mode, among claims checked against something. */
  failureModes: FailureProfile;
  /** Per check method (`context`, `samples`, `none`): the flagged rate over that method's checks. */
  methods: Record<string, RateFigure>;
  /** Checks held against at least one sampled or shadow answer. */
  sampled: number;
  /** Tool calls in the answers, held to the tools their requests declared. */
  toolCalls: ToolCallFigure;
}

export interface ToolCallFigure {
  /** Complete calls checked. */
  checked: number;
  /** Calls that failed (each has exactly one failure mode), over the calls checked. */
  failed: RateFigure;
  /** Failed calls by failure mode (`tool_name`: not a declared tool; `tool_arguments`: invalid JSON or schema violation), over the calls checked. */
  modes: Record<string, RateFigure>;
}

/** Tool-call failure modes, always listed so that a mode without failures reads 0, not absent. */
export const TOOL_CALL_FAILURE_MODES: readonly string[] = ['tool_name', 'tool_arguments'];

function toolCallFigure(c: Counts): ToolCallFigure {
  const modes: Record<string, RateFigure> = {};
  let failed = 0;
  for (const mode of [...new Set([...TOOL_CALL_FAILURE_MODES, ...Object.keys(c.toolFailures)])]) {
    const n = c.toolFailures[mode] ?? 0;
    modes[mode] = rate(n, c.toolCalls);
    failed += n;
  }
  return { checked: Math.round(c.toolCalls), failed: rate(failed, c.toolCalls), modes };
}

const REFUSAL_KINDS = ['partial', 'full'];

function estimate(c: Counts): EstimateFigure {
  const m = c.methods.context ?? { checks: 0, hallucinations: 0, scoreSum: 0 };
  const checks = Math.round(m.checks);
  // Rounded to the scores' own precision first, so float sums in a different order agree exactly.
  const expected = Math.round(Math.min(checks, Math.max(0, m.scoreSum)) * 1000) / 1000;
  return {
    method: 'context',
    checks,
    expected,
    rate: checks > 0 ? expected / checks : null,
    ci95: wilson(expected, checks),
    flagged: rate(m.hallucinations, checks),
  };
}

function failureProfile(c: Counts): FailureProfile {
  const byMode = new Map<string, number>();
  for (const [method, modes] of Object.entries(c.failureModes)) {
    if (method === 'none') continue;
    for (const [mode, n] of Object.entries(modes)) byMode.set(mode, (byMode.get(mode) ?? 0) + n);
  }
  const modes = [...new Set<string>([...FAILURE_MODES, ...byMode.keys()])].map((mode) => ({ mode, count: Math.round(byMode.get(mode) ?? 0), share: null as number | null }));
  const claims = modes.reduce((a, m) => a + m.count, 0);
  for (const m of modes) m.share = claims > 0 ? m.count / claims : null;
  return { claims, modes };
}

export function modelFigures(provider: string, model: string, c: Counts): ModelFigures {
  const refusalByKind: Record<string, RateFigure> = {};
  let refusals = 0;
  const kinds = new Map<string, number>(REFUSAL_KINDS.map((k) => [k, 0]));
  for (const [kind, n] of Object.entries(c.refusals)) kinds.set(kind, (kinds.get(kind) ?? 0) + n);
  for (const [kind, n] of [...kinds.entries()].sort()) {
    refusalByKind[kind] = rate(n, c.checks);
    refusals += n;
  }
  const methods: Record<string, RateFigure> = {};
  for (const method of new Set([...CHECK_METHODS, ...Object.keys(c.methods)])) {
    const m = c.methods[method] ?? { checks: 0, hallucinations: 0, scoreSum: 0 };
    methods[method] = rate(m.hallucinations, m.checks);
  }
  return {
    provider,
    model,
    checks: Math.round(c.checks),
    grounded: rate(c.grounded, c.checks),
    hallucination: rate(c.hallucinations, c.checks),
    unsupportedClaims: rate(c.unsupportedClaims, c.claims),
    confidenceMismatch: rate(c.mismatches, c.checks),
    refusal: rate(refusals, c.checks),
    refusalByKind,
    scores: scoreBins(c.scoreBuckets),
    estimated: estimate(c),
    failureModes: failureProfile(c),
    methods,
    sampled: Math.round(c.sampled),
    toolCalls: toolCallFigure(c),
  };
}

/** Highest flagged hallucination rate first, then most checks, then by name. */
export function rankModels<T extends Pick<ModelFigures, 'hallucination' | 'checks' | 'model'>>(models: T[]): T[] {
  return models.sort((a, b) => (b.hallucination.rate ?? -1) - (a.hallucination.rate ?? -1) || b.checks - a.checks || a.model.localeCompare(b.model));
}

/** Figures for every model, ranked, and for all of them together (a ratio of sums, not a mean of rates). */
export function reportFigures(byModel: Array<{ provider: string; model: string; counts: Counts }>): { overall: ModelFigures; models: ModelFigures[] } {
  const all = emptyCounts();
  for (const m of byModel) addCounts(all, m.counts);
  return { overall: modelFigures('all', 'all models', all), models: rankModels(byModel.map((m) => modelFigures(m.provider, m.model, m.counts))) };
}
