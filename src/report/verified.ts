import type { RedisConnection as Redis } from '../redis/connection.js';
import { LabelStore } from '../labels/store.js';
import { sourceOf, type LabelSource, type StoredLabel } from '../labels/schema.js';
import { AggregateReader, SCORE_BOUNDS, scoreField, type AggregateOptions, type Fields } from '../verdicts/aggregates.js';
import {
  certaintyCurve,
  momentsFromSums,
  narrowingFromOneMoreLabel,
  ppiPlusPlus,
  rateDifference,
  reliabilityDiagram,
  type CalibrationBin,
  type Moments,
  type RateEstimate,
} from './estimators.js';
import { wilson, type Interval } from './wilson.js';

/**
 * Verified rates: per model and window, the prediction-powered estimate of the hallucination rate
 * from every check's score (the aggregates' count, sum and sum of squares) and the uniformly random
 * labelled sample of the window's exchanges. Feedback labels (someone chose to label that exchange:
 * a complaint, a flagged one) are counted and shown but never enter the estimate: a sample chosen
 * for being suspicious overstates the rate, and no correction can know by how much.
 */

export interface VerifiedRate {
  /** The contract's name for the estimator family (prediction-powered inference). */
  method: 'ppi';
  /** Random-selection labels the estimate used. */
  labels: number;
  rate: number | null;
  ci95: Interval | null;
  /** The power-tuned variant used, and its weight on the scores (0 = the labels alone). */
  variant: 'ppi++';
  lambda: number | null;
  /** Checks whose scores entered. */
  checks: number;
  /**
   * Whose labels the estimate used: people's (`human`), or, where fewer than 2 people's random
   * labels exist but a judge's do, the judge's (`judge`, and `note` says so). Never both at once.
   */
  by: LabelSource;
  /** With `by: "judge"`: which judges (`judge:<model>`) gave the labels. */
  judges?: string[];
  /** Feedback labels in the window: shown, never estimated from. */
  feedback: number;
  /** The labels alone: their hallucinated share with a Wilson interval. */
  labelled: { hallucinated: number; rate: number | null; ci95: Interval | null };
  /** How much one more random label would narrow the interval (half-width). */
  narrowing: number | null;
  /**
   * With `by: "judge"`: how often the judge agreed with people on exchanges both labelled at random
   * (`agree` of `both`), the one check of its labels there is.
   */
  agreement?: { both: number; agree: number };
  /** The refusal rate, where refusal labels exist. */
  refusal?: { labels: number; rate: number | null; ci95: Interval | null };
  calibration: {
    /** The detector's reliability diagram: score bins against the labelled hallucination rate. */
    reliability: CalibrationBin[];
    /** The model's own: claim certainty bins against the labelled hallucination rate. */
    certainty: CalibrationBin[];
  };
  /** Why there is no estimate, when there is none. */
  note?: string;
}

export interface VerifiedDifference {
  a: string;
  b: string;
  /** a's verified rate minus b's, with its 95% interval (independent samples). */
  difference: number;
  ci95: Interval;
  labels: { a: number; b: number };
  /** Whose labels both estimates came from: a difference never sets people's labels against a judge's. */
  by: LabelSource;
}

/** Scores of every check of a model over a window, from the aggregates' fields. */
export function scoreMoments(total: Fields, kind: 'hallucination' | 'refusal' = 'hallucination'): Moments {
  const n = total.checks ?? 0;
  const sum = kind === 'hallucination' ? total.score_sum_milli : total.refusal_score_sum_milli;
  const sq = kind === 'hallucination' ? total.score_sq_sum_micro : total.refusal_score_sq_sum_micro;
  if (sq !== undefined && sum !== undefined) return momentsFromSums(n, sum / 1000, sq / 1e6);
  if (kind === 'refusal') return momentsFromSums(n, (sum ?? 0) / 1000, 0);
  // Buckets written before squares were kept: the variance from the score histogram's bins, each
  // score at its bin's middle (the mean stays exact). Its share of the interval is var/N: small.
  let lo = 0;
  let binned = 0;
  for (const b of SCORE_BOUNDS) {
    const mid = (lo + b) / 2;
    binned += (total[scoreField(b)] ?? 0) * mid * mid;
    lo = b;
  }
  return momentsFromSums(n, (sum ?? 0) / 1000, binned);
}

const bool = (b: boolean) => (b ? 1 : 0);

function estimateOf(labels: StoredLabel[], all: Moments): RateEstimate | null {
  return ppiPlusPlus(
    labels.map((l) => ({ score: l.verdict.hallucination.score, label: bool(l.hallucination) })),
    all,
  );
}

/** The model's certainty points: labelled claims where claims were labelled, else the exchange. */
function certaintyPoints(labels: StoredLabel[]): Array<{ certainty: number; hallucinated: boolean }> {
  const out: Array<{ certainty: number; hallucinated: boolean }> = [];
  for (const l of labels) {
    if (l.claims && l.claims.length > 0) {
      for (const c of l.claims) {
        const certainty = l.verdict.claims[c.index]?.certainty;
        if (typeof certainty === 'number') out.push({ certainty, hallucinated: c.hallucinated });
      }
    } else if (l.verdict.certainty !== null) out.push({ certainty: l.verdict.certainty, hallucinated: l.hallucination });
  }
  return out;
}

/**
 * A model's verified rates over a window: `verified` from people's random labels (or, with fewer
 * than 2 of those, from a judge's, saying so in `by` and `note`), and `verifiedJudge` from the
 * judge's random labels alone, whenever there are any. People's and a judge's labels never enter
 * one estimate together: they answer different questions (what people say, what a model says).
 */
export interface VerifiedRates {
  verified: VerifiedRate;
  verifiedJudge?: VerifiedRate;
}

/** One model's verified rates from its labels in the window and its checks' score moments. */
export function verifiedRates(labels: StoredLabel[], total: Fields): VerifiedRates {
  const all = scoreMoments(total);
  const random = labels.filter((l) => l.selection === 'random' && l.verdict.traffic === 'primary');
  const human = random.filter((l) => sourceOf(l.by) === 'human');
  const judge = random.filter((l) => sourceOf(l.by) === 'judge');
  const feedback = labels.filter((l) => l.selection === 'feedback').length;
  const judgeRate = judge.length > 0 ? estimateFrom(judge, 'judge', all, total, feedback, human) : undefined;
  if (human.length < 2 && judgeRate && judge.length >= 2) {
    const verified = estimateFrom(judge, 'judge', all, total, feedback, human);
    verified.note = `${human.length === 0 ? 'no' : 'only 1'} random label${human.length === 1 ? '' : 's'} from people in the window: estimated from the judge's labels (${verified.judges!.join(', ')}), not people's`;
    return { verified, verifiedJudge: judgeRate };
  }
  return { verified: estimateFrom(human, 'human', all, total, feedback, human), ...(judgeRate ? { verifiedJudge: judgeRate } : {}) };
}

/** The estimate from one source's random labels. */
function estimateFrom(used: StoredLabel[], by: LabelSource, all: Moments, total: Fields, feedback: number, human: StoredLabel[]): VerifiedRate {
  const est = estimateOf(used, all);
  const k = used.filter((l) => l.hallucination).length;
  const out: VerifiedRate = {
    method: 'ppi',
    labels: used.length,
    rate: est?.rate ?? null,
    ci95: est?.ci95 ?? null,
    variant: 'ppi++',
    lambda: est?.lambda ?? null,
    checks: all.n,
    by,
    feedback,
    labelled: { hallucinated: k, rate: used.length > 0 ? k / used.length : null, ci95: wilson(k, used.length) },
    narrowing: narrowingFromOneMoreLabel(used.length, all, est),
    calibration: { reliability: reliabilityDiagram(used.map((l) => ({ score: l.verdict.hallucination.score, label: l.hallucination })), 10), certainty: certaintyCurve(certaintyPoints(used), 5) },
  };
  if (by === 'judge') {
    out.judges = [...new Set(used.map((l) => l.by))].sort();
    const people = new Map(human.map((l) => [l.id, l.hallucination]));
    const both = used.filter((l) => people.has(l.id));
    out.agreement = { both: both.length, agree: both.filter((l) => people.get(l.id) === l.hallucination).length };
  }
  if (!est) out.note = all.n === 0 ? 'no checks in the window' : `${used.length} random label${used.length === 1 ? '' : 's'}${by === 'judge' ? " from the judge" : ''} in the window; an estimate needs at least 2`;
  const refusalLabels = used.filter((l) => l.refusal !== undefined);
  if (refusalLabels.length > 0) {
    const r = ppiPlusPlus(
      refusalLabels.map((l) => ({ score: l.verdict.refusal.score, label: bool(l.refusal !== 'none') })),
      scoreMoments(total, 'refusal'),
    );
    out.refusal = { labels: refusalLabels.length, rate: r?.rate ?? null, ci95: r?.ci95 ?? null };
  }
  // Kept for differences between models, not written out.
  Object.defineProperty(out, 'estimate', { value: est, enumerable: false });
  return out;
}

/** The difference of two models' verified rates, or null when either has no estimate. */
export function verifiedDifference(nameA: string, a: VerifiedRate | undefined, nameB: string, b: VerifiedRate | undefined): VerifiedDifference | null {
  const ea = (a as (VerifiedRate & { estimate?: RateEstimate | null }) | undefined)?.estimate;
  const eb = (b as (VerifiedRate & { estimate?: RateEstimate | null }) | undefined)?.estimate;
  if (!ea || !eb) return null;
  if (a!.by !== b!.by) return null;
  const d = rateDifference(ea, eb);
  return { a: nameA, b: nameB, difference: d.difference, ci95: d.ci95, labels: { a: ea.labels, b: eb.labels }, by: a!.by };
}

export interface VerifiedOptions {
  redis: Redis;
  aggregates: AggregateOptions;
  fromMs: number;
  toMs: number;
}

/**
 * Verified rates of the given models (primary traffic) over [fromMs, toMs]: their labels from the
 * label store, their score moments from the aggregates, both in Redis.
 */
export async function readVerified(models: Array<{ provider: string; model: string }>, options: VerifiedOptions): Promise<Map<string, VerifiedRates>> {
  const store = new LabelStore(options.redis, options.aggregates.prefix);
  const reader = new AggregateReader(options.redis, options.aggregates);
  const range = await reader.read(Math.floor(options.fromMs / 1000), Math.floor(options.toMs / 1000) + 1);
  const totals = new Map(range.models.filter((m) => m.key.traffic === 'primary').map((m) => [`${m.key.provider}/${m.key.model}`, m.total]));
  const out = new Map<string, VerifiedRates>();
  for (const m of models) {
    const [human, judge] = await Promise.all(
      (['human', 'judge'] as const).map((s) => store.forModel(s, m.provider, m.model, options.fromMs, options.toMs)),
    );
    out.set(`${m.provider}/${m.model}`, verifiedRates([...human!, ...judge!], totals.get(`${m.provider}/${m.model}`) ?? {}));
  }
  return out;
}

export interface VerifiedComparison {
  a: { provider: string; model: string } & VerifiedRates;
  b: { provider: string; model: string } & VerifiedRates;
  /**
   * A's verified rate minus B's with its 95% interval, from people's labels; from the judge's
   * (`by: "judge"`) only where people's give no estimate for one of them and the judge's give one for
   * both. Null when neither source gives both.
   */
  difference: VerifiedDifference | null;
}

/**
 * `report --compare`'s verified part: each model's verified rate over the window, and their
 * difference. Unlike the paired figures, these need no shared prompts: each rate stands for all of
 * its model's traffic, from its own random labels.
 */
export async function readVerifiedPair(
  specs: [{ provider?: string; model: string }, { provider?: string; model: string }],
  options: VerifiedOptions,
): Promise<VerifiedComparison> {
  const labelled = await new LabelStore(options.redis, options.aggregates.prefix).models();
  const resolve = (s: { provider?: string; model: string }) => ({
    provider: s.provider ?? labelled.find((m) => m.model === s.model)?.provider ?? 'openai',
    model: s.model,
  });
  const a = resolve(specs[0]);
  const b = resolve(specs[1]);
  const rates = await readVerified([a, b], options);
  const va = rates.get(`${a.provider}/${a.model}`)!;
  const vb = rates.get(`${b.provider}/${b.model}`)!;
  const human = (v: VerifiedRates) => (v.verified.by === 'human' ? v.verified : undefined);
  const difference = verifiedDifference(a.model, human(va), b.model, human(vb)) ?? verifiedDifference(a.model, va.verifiedJudge, b.model, vb.verifiedJudge);
  return { a: { ...a, ...va }, b: { ...b, ...vb }, difference };
}
