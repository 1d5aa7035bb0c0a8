import type { VerifiedComparison } from '../verified.js';
import { rate, type RateFigure } from '../figures.js';
import { MEASURES, pairVerdicts, type Measure, type PairingCounts, type Pair, type Scored } from './pairing.js';
import { mcnemarExact, minDiscordantFor } from './stats.js';
import type { Loaded } from './sources.js';

/** The paired comparison's figures: one 2×2 table per measure, its rates and its test. */

export interface ExampleSide {
  id: string;
  flagged: boolean;
  score: number;
  analysedAt?: string;
  app?: string;
  refusalKind?: string;
  claims: Array<{ text: string; support: string; score: number }>;
}

export interface Disagreement {
  promptHash?: string;
  shadow: boolean;
  /** The flagged side's score minus the other's: how far apart the two readings are. */
  gap: number;
  a: ExampleSide;
  b: ExampleSide;
}

export interface PairedMeasure {
  /** Prompts (pairs) compared. */
  n: number;
  both: number;
  onlyA: number;
  onlyB: number;
  neither: number;
  /** Each model's rate on the same n prompts, with its Wilson 95% interval. */
  a: RateFigure;
  b: RateFigure;
  /** A's rate minus B's; null with no pairs. */
  difference: number | null;
  /** McNemar's exact test: two-sided p on the onlyA + onlyB discordant prompts. */
  mcnemar: { discordant: number; p: number };
  /** The disagreements with the largest score gaps, each way. */
  examples: { onlyA: Disagreement[]; onlyB: Disagreement[] };
}

export interface Comparison {
  a: { name: string; provider: string | null };
  b: { name: string; provider: string | null };
  source: string;
  /** The window: `since` as given (null = everything in the file), and its bounds. */
  since: string | null;
  from: string | null;
  to: string | null;
  pairing: PairingCounts & { skipped: number; ignored: number; outsideWindow: number; cappedAt?: number };
  hallucination: PairedMeasure;
  refusal: PairedMeasure;
  confidence_mismatch: PairedMeasure;
  /** Plain-language readings: what each test says, and where the sample is too small to say much. */
  notes: string[];
  /** Each model's verified rate (from labels) and their difference, when read from Redis. */
  verified?: VerifiedComparison;
}

export const MEASURE_NAMES: Record<Measure, string> = {
  hallucination: 'hallucination',
  refusal: 'refusal',
  confidence_mismatch: 'confidence mismatch',
};

/** Fewer discordant prompts than this can never give p < 0.05 (6: two-sided 2/2^6 = 0.031). */
export const MIN_DISCORDANT = minDiscordantFor(0.05);

function side(v: Scored, m: Measure): ExampleSide {
  const out: ExampleSide = { id: v.id, flagged: v.flagged[m], score: v.score[m], claims: m === 'refusal' ? [] : v.claims };
  if (v.at !== undefined) out.analysedAt = new Date(v.at).toISOString();
  if (v.app !== undefined) out.app = v.app;
  if (m === 'refusal') out.refusalKind = v.refusalKind;
  return out;
}

function disagreement(p: Pair, m: Measure, flaggedSide: 'a' | 'b'): Disagreement {
  const other = flaggedSide === 'a' ? 'b' : 'a';
  const d: Disagreement = { shadow: p.shadow, gap: Math.round((p[flaggedSide].score[m] - p[other].score[m]) * 1000) / 1000, a: side(p.a, m), b: side(p.b, m) };
  if (p.a.promptHash) d.promptHash = p.a.promptHash;
  return d;
}

export function pairedMeasure(pairs: Pair[], m: Measure, examples: number): PairedMeasure {
  let both = 0;
  const aOnly: Pair[] = [];
  const bOnly: Pair[] = [];
  for (const p of pairs) {
    const fa = p.a.flagged[m];
    const fb = p.b.flagged[m];
    if (fa && fb) both++;
    else if (fa) aOnly.push(p);
    else if (fb) bOnly.push(p);
  }
  const n = pairs.length;
  const onlyA = aOnly.length;
  const onlyB = bOnly.length;
  const a = rate(both + onlyA, n);
  const b = rate(both + onlyB, n);
  const top = (list: Pair[], s: 'a' | 'b') =>
    list
      .map((p) => disagreement(p, m, s))
      .sort((x, y) => y.gap - x.gap || (x.a.id < y.a.id ? -1 : 1))
      .slice(0, examples);
  return {
    n,
    both,
    onlyA,
    onlyB,
    neither: n - both - onlyA - onlyB,
    a,
    b,
    difference: n > 0 ? (both + onlyA) / n - (both + onlyB) / n : null,
    mcnemar: { discordant: onlyA + onlyB, p: mcnemarExact(onlyA, onlyB) },
    examples: { onlyA: top(aOnly, 'a'), onlyB: top(bOnly, 'b') },
  };
}

export const fmtP = (p: number) => (p >= 0.001 ? p.toFixed(p >= 0.1 ? 2 : 3) : p.toExponential(1));

function notesFor(c: Omit<Comparison, 'notes'>): string[] {
  const notes: string[] = [];
  const n = c.pairing.prompts;
  if (n === 0) {
    notes.push('No prompt was answered by both models in the window: there is nothing to compare. Both must see the same prompts (shadow models, or the same traffic sent to both).');
    return notes;
  }
  if (c.pairing.cappedAt !== undefined) notes.push(`Only the newest ${c.pairing.cappedAt} verdicts of each model in the window were read: a shorter window covers it whole.`);
  if (n < 30) notes.push(`Only ${n} paired prompts: each rate's 95% interval is wide, and only a large difference can show.`);
  for (const m of MEASURES) {
    const f = c[m];
    const what = MEASURE_NAMES[m];
    if (f.mcnemar.discordant < MIN_DISCORDANT) {
      notes.push(
        `${what}: the models disagree on ${f.mcnemar.discordant} prompt${f.mcnemar.discordant === 1 ? '' : 's'}; with fewer than ${MIN_DISCORDANT} the exact test cannot reach p < 0.05 whichever way they split, so no difference can be shown yet.`,
      );
    } else if (f.mcnemar.p < 0.05) {
      const [worse, better, k1, k2] = f.onlyA > f.onlyB ? [c.a.name, c.b.name, f.onlyA, f.onlyB] : [c.b.name, c.a.name, f.onlyB, f.onlyA];
      notes.push(`${what}: ${worse} is flagged more often than ${better} on the same prompts (only ${worse}: ${k1}, only ${better}: ${k2}; p = ${fmtP(f.mcnemar.p)}).`);
    } else {
      notes.push(`${what}: no difference shown at the 5% level (only A: ${f.onlyA}, only B: ${f.onlyB}; p = ${fmtP(f.mcnemar.p)}); that is not proof that there is none.`);
    }
  }
  return notes;
}

export interface CompareOptions {
  nameA: string;
  nameB: string;
  since: string | null;
  fromMs?: number;
  toMs?: number;
  examples: number;
}

export function buildComparison(loaded: Loaded, o: CompareOptions): Comparison {
  const { pairs, ...counts } = pairVerdicts(loaded.a, loaded.b);
  const base = {
    a: { name: o.nameA, provider: loaded.providers.a[0] ?? null },
    b: { name: o.nameB, provider: loaded.providers.b[0] ?? null },
    source: loaded.source,
    since: o.since,
    from: o.fromMs === undefined ? null : new Date(o.fromMs).toISOString(),
    to: o.toMs === undefined ? null : new Date(o.toMs).toISOString(),
    pairing: { ...counts, skipped: loaded.skipped, ignored: loaded.ignored, outsideWindow: loaded.outsideWindow, ...(loaded.cappedAt !== undefined ? { cappedAt: loaded.cappedAt } : {}) },
    hallucination: pairedMeasure(pairs, 'hallucination', o.examples),
    refusal: pairedMeasure(pairs, 'refusal', o.examples),
    confidence_mismatch: pairedMeasure(pairs, 'confidence_mismatch', o.examples),
  };
  return { ...base, notes: notesFor(base) };
}
