import { escapeHtml } from '../eval/html.js';
import type { Sample } from './prometheus.js';
import type { ModelFigures, RateFigure, ReliabilityReport } from './report.js';
import { wilson, type Interval } from './wilson.js';

/**
 * The report's estimated hallucination rate and failure-mode profile. The flagged rate counts
 * exchanges over the threshold, so it moves with the threshold; the estimated rate is the mean
 * calibrated score, which estimates the share of hallucinated answers whatever the threshold.
 * Both are given on grounded checks (method "context") only: an exchange with no context scores
 * a prior, not evidence, and answers checked against resampled answers are scored on another scale.
 */

export interface EstimateFigure {
  /** What the estimate covers: checks against context the request carried. */
  method: 'context';
  /** Grounded checks in the window. */
  checks: number;
  /** Sum of their scores: the expected number of hallucinated answers among them. */
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

export const FAILURE_MODES = ['number', 'entity', 'negation', 'reference', 'unsupported'] as const;

const COUNTERS = {
  methodChecks: 'veracity_checks_by_method_total',
  methodExpected: 'veracity_expected_hallucinations_total',
  methodFlagged: 'veracity_hallucinations_by_method_total',
} as const;

/** PromQL for the estimates and the profile, by name: each an instant query over the window. */
export function estimateQueries(since: string): Record<string, string> {
  const q: Record<string, string> = {};
  for (const [name, metric] of Object.entries(COUNTERS)) q[name] = `sum by (provider, model, method) (increase(${metric}[${since}]))`;
  q.failureModes = `sum by (provider, model, method, failure_mode) (increase(veracity_unsupported_claims_by_mode_total[${since}]))`;
  return q;
}

function flaggedRate(count: number, of: number): RateFigure {
  const k = Math.round(count);
  return { count: k, of, rate: of > 0 ? k / of : null, ci95: wilson(Math.min(k, of), of) };
}

const keyOf = (m: Record<string, string>) => `${m.provider ?? ''}\u0000${m.model ?? ''}`;

function estimateOf(samples: Record<string, Sample[]>, keep: (s: Sample) => boolean): { estimated: EstimateFigure; failureModes: FailureProfile } {
  const sum = (name: string, method: (m: string) => boolean) =>
    (samples[name] ?? []).filter((s) => keep(s) && method(s.metric.method ?? '')).reduce((a, s) => a + s.value, 0);
  const context = (m: string) => m === 'context';
  const checks = Math.round(sum('methodChecks', context));
  const expected = Math.min(checks, Math.max(0, sum('methodExpected', context)));
  const byMode = new Map<string, number>();
  for (const s of samples.failureModes ?? []) {
    if (!keep(s) || s.metric.method === 'none') continue;
    const mode = s.metric.failure_mode ?? 'unsupported';
    byMode.set(mode, (byMode.get(mode) ?? 0) + s.value);
  }
  const modes = [...new Set<string>([...FAILURE_MODES, ...byMode.keys()])].map((mode) => ({ mode, count: Math.round(byMode.get(mode) ?? 0), share: null as number | null }));
  const claims = modes.reduce((a, m) => a + m.count, 0);
  for (const m of modes) m.share = claims > 0 ? m.count / claims : null;
  return {
    estimated: {
      method: 'context',
      checks,
      expected: Math.round(expected * 1000) / 1000,
      rate: checks > 0 ? expected / checks : null,
      ci95: wilson(expected, checks),
      flagged: flaggedRate(sum('methodFlagged', context), checks),
    },
    failureModes: { claims, modes },
  };
}

/** Adds the estimated rate and the failure-mode profile to every model and to the overall figures. */
export function addEstimates(models: ModelFigures[], overall: ModelFigures, samples: Record<string, Sample[]>): void {
  for (const m of models) Object.assign(m, estimateOf(samples, (s) => keyOf(s.metric) === keyOf(m as unknown as Record<string, string>)));
  Object.assign(overall, estimateOf(samples, () => true));
}

const pct = (v: number | null | undefined, digits = 1) => (v === null || v === undefined ? '—' : `${(v * 100).toFixed(digits)}%`);
const label = (report: ReliabilityReport, m: ModelFigures) => (m === report.overall ? 'all models' : `${m.provider}/${m.model}`);

function table(header: string[], rows: string[][]): string {
  return `<table><thead><tr>${header.map((h) => `<th>${escapeHtml(h)}</th>`).join('')}</tr></thead><tbody>\n${rows
    .map((r) => `<tr>${r.map((c, i) => (i === 0 ? `<th scope="row">${escapeHtml(c)}</th>` : `<td>${escapeHtml(c)}</td>`)).join('')}</tr>`)
    .join('\n')}\n</tbody></table>`;
}

/** The card beside the flagged rate. */
export function estimateCard(report: ReliabilityReport): string {
  const e = report.overall.estimated;
  if (!e) return '';
  return `<div class="card">estimated rate, grounded<b>${pct(e.rate)}</b>mean calibrated score of ${e.checks} checks</div>`;
}

/** Estimated beside flagged, then each model's failure-mode profile. */
export function estimatesHtml(report: ReliabilityReport): string {
  const all = [report.overall, ...report.models].filter((m) => m.estimated);
  if (all.length === 0) return '';
  const estimateRows = all.map((m) => {
    const e = m.estimated!;
    return [
      label(report, m),
      String(e.checks),
      e.rate === null ? '—' : `${pct(e.rate)} [${pct(e.ci95?.lo)}–${pct(e.ci95?.hi)}] (${e.expected.toFixed(1)}/${e.checks})`,
      e.flagged.rate === null ? '—' : `${pct(e.flagged.rate)} [${pct(e.flagged.ci95?.lo)}–${pct(e.flagged.ci95?.hi)}] (${e.flagged.count}/${e.flagged.of})`,
    ];
  });
  const modes = [...new Set(all.flatMap((m) => m.failureModes?.modes.map((x) => x.mode) ?? []))];
  const profileRows = all.map((m) => {
    const p = m.failureModes!;
    return [label(report, m), String(p.claims), ...modes.map((mode) => {
      const f = p.modes.find((x) => x.mode === mode);
      return f && f.share !== null ? `${pct(f.share)} (${f.count})` : '—';
    })];
  });
  return `<h2>Estimated and flagged hallucination rate (grounded checks)</h2>
<p class="note"><b>Flagged</b>: grounded exchanges whose score reached the threshold, over grounded exchanges; it moves with the threshold.
<b>Estimated</b>: the mean calibrated hallucination score of the same exchanges, an estimate of the share of hallucinated answers
that does not depend on the threshold (the expected count is the sum of scores). Its interval covers sampling only, conservatively;
it holds as far as the scores are calibrated (<code>veracity eval</code> checks calibration per dev source). Exchanges without context
are left out of both: their score is a prior, not evidence.</p>
<div class="wide">${table(['model', 'grounded checks', 'estimated rate (mean score)', 'flagged rate (over threshold)'], estimateRows)}</div>

<h2>Failure-mode profile</h2>
<p class="note">How each model's unsupported or contradicted claims fail, among claims checked against context or resampled answers:
<b>number</b> (numbers, dates, quantities, units absent or different), <b>entity</b> (a person, place, organisation or product the
context lacks, or swapped), <b>negation</b> (polarity or antonym flipped), <b>reference</b> (URLs, endpoints, paths, function or package
names, citations the context does not contain), <b>unsupported</b> (anything else). Each cell: share of the model's checked
unsupported claims (count).</p>
<div class="wide">${table(['model', 'unsupported claims checked', ...modes], profileRows)}</div>
`;
}
