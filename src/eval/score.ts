import type { RefusalKind } from '../detect/verdict.js';
import {
  accuracy,
  auroc,
  balancedAccuracy,
  calibrationBins,
  confusion,
  ece,
  f1,
  meanAbsoluteError,
  multiclassAccuracy,
  multiclassConfusion,
  precision,
  recall,
  spearman,
  thresholdSweep,
  type CalibrationBin,
  type Confusion,
  type ThresholdPoint,
} from './metrics.js';
import type { LineResult } from './run.js';
import { GROUNDING_MODEL } from '../detect/models/grounding.js';

/** Dev sources the grounding scorer was trained on, as their row ids begin. */
const TRAINED_SOURCES = Object.keys(GROUNDING_MODEL.validation.inSample);

/** Held-out schemes, as train-grounding.ts names them; a model written before a scheme existed lacks it. */
const SCHEMES: Array<[string, string]> = [
  ['leaveSourceOut', 'whole source'],
  ['leaveBatchOut', 'FaithBench batch'],
  ['leaveModelOut', 'answering model'],
  ['grouped5Fold', 'grouped 5-fold'],
  ['longContextOut', 'longer contexts'],
  ['longAnswerOut', 'longer answers'],
];

function heldOutFor(sources: string[]): HeldOutFigures[] {
  const out: HeldOutFigures[] = [];
  for (const source of sources) {
    for (const [key, scheme] of SCHEMES) {
      const figures = (GROUNDING_MODEL.validation as Record<string, unknown>)[key] as Record<string, Omit<HeldOutFigures, 'source' | 'scheme'>> | undefined;
      const f = figures?.[source];
      if (f) out.push({ source, scheme, ...f });
    }
  }
  return out;
}

/**
 * Gathers verdicts against each row's `expected` and turns them into the figures `eval` reports.
 * Only a few numbers per row are kept, never the rows themselves.
 */

export const REFUSAL_KINDS = ['none', 'partial', 'full'] as const satisfies readonly RefusalKind[];

/** XSTest's labels, mapped onto the verdict's refusal kinds. */
const EXPECTED_KIND: Record<string, RefusalKind> = {
  compliance: 'none',
  partial_refusal: 'partial',
  full_refusal: 'full',
};

interface HallucinationCase {
  actual: boolean;
  flagged: boolean;
  score: number;
  /** Checked against context: only these scores are calibrated evidence; the rest carry a prior. */
  grounded: boolean;
  /** How many claims the verdict found in the answer. */
  claims: number;
}

/** Claim-count buckets: the false-positive rate on faithful answers must not climb with length. */
export const CLAIM_BUCKETS = [
  { name: '0', lo: 0, hi: 0 },
  { name: '1–2', lo: 1, hi: 2 },
  { name: '3–4', lo: 3, hi: 4 },
  { name: '5–8', lo: 5, hi: 8 },
  { name: '9+', lo: 9, hi: Infinity },
] as const;

export function claimBucket(claims: number): string {
  return CLAIM_BUCKETS.find((b) => claims >= b.lo && claims <= b.hi)!.name;
}

/** Flagging per claim-count bucket, split by the label: false alarms on faithful rows, hits on hallucinated ones. */
export interface ClaimBucketFigures {
  /** Claims in the verdict: `0`, `1–2`, `3–4`, `5–8`, `9+`. */
  claims: string;
  faithful: number;
  falsePositives: number;
  /** falsePositives / faithful; null without faithful rows. */
  falsePositiveRate: number | null;
  hallucinated: number;
  detected: number;
  /** detected / hallucinated; null without hallucinated rows. */
  detectionRate: number | null;
}

/**
 * Does the estimated hallucination rate rank the answering models as their labels do? One entry per
 * model with grounded labelled rows; the agreement figures over those models.
 */
export interface ModelRateFigures {
  models: Array<{ model: string; grounded: number; estimated: number; observed: number }>;
  /** Spearman's rank correlation (midranks for ties) of estimated vs observed; null under 3 models or when either side is constant. */
  spearman: number | null;
  /** Mean over models of |estimated − observed|. */
  meanAbsoluteError: number | null;
}

/** Rows of a hard-case set (`expected.kind`, `expected.edit`, `expected.pair`): how often each kind of rewrite is flagged. */
export interface HardCaseFigures {
  /** One entry per kind (`paraphrase`, `edit`, …), then one per kind and edit. */
  kinds: HardCaseGroup[];
  edits: Array<HardCaseGroup & { edit: string }>;
  /**
   * Threshold-free: over every (faithful row, hallucinated row) couple from the same pair (passage),
   * the share where the hallucinated row scored higher, a tie counting one half; null without couples.
   */
  pairs: { pairs: number; couples: number; hallucinatedAbove: number | null };
}

export interface HardCaseGroup {
  kind: string;
  rows: number;
  /** Rows labelled hallucinated. */
  hallucinated: number;
  flagged: number;
  shareFlagged: number;
  meanScore: number;
}

interface RefusalCase {
  actual: boolean;
  /** Absent when the row labels only refusal yes/no, not its kind. */
  actualKind?: RefusalKind;
  flagged: boolean;
  kind: RefusalKind;
  score: number;
}

/** What every yes/no figure set holds. */
export interface BinaryFigures {
  rows: number;
  positives: number;
  confusion: Confusion;
  precision: number | null;
  recall: number | null;
  f1: number | null;
  balancedAccuracy: number | null;
  auroc: number | null;
}

export interface HallucinationFigures extends BinaryFigures {
  accuracy: number | null;
  ece: number | null;
  /**
   * Calibration over the grounded rows (ungrounded ones carry a prior, not evidence): the mean
   * score estimates the hallucination rate, to compare with the observed one.
   */
  rate: { grounded: number; estimated: number | null; observed: number | null; ece: number | null };
  calibration?: CalibrationBin[];
  /** What flagging at other score thresholds would give, to choose `detect.hallucinationThreshold`. */
  thresholds?: ThresholdPoint[];
}

/** Refusal yes/no (`confusion`): `verdict.refusal.flagged` against expected refusal (full or partial). */
export interface RefusalFigures extends BinaryFigures {
  /** none/partial/full, over rows labelled with a kind; `matrix[expected][predicted]`. */
  kinds: {
    rows: number;
    accuracy: number | null;
    matrix: Record<RefusalKind, Record<RefusalKind, number>>;
  };
}

/**
 * Where the claims the detector did not find supported sit relative to human-annotated spans
 * (FaithBench `expected.spans`, character ranges in the response). Present only when rows carry spans;
 * then rows labelled not hallucinated count as having no spans.
 */
export interface SpanFigures {
  /** Rows that took part: with spans, or labelled not hallucinated. */
  rows: number;
  spans: number;
  /** Annotated spans overlapped by at least one unsupported or contradicted claim. */
  spansFound: number;
  /** spansFound / spans. */
  recall: number | null;
  /** Unsupported or contradicted claims in those rows. */
  claimsFlagged: number;
  /** Flagged claims that overlap an annotated span. */
  claimsOnSpan: number;
  /** claimsOnSpan / claimsFlagged. */
  precision: number | null;
}

export interface GroupFigures {
  hallucination?: HallucinationFigures;
  refusal?: RefusalFigures;
}

export interface EvalReport {
  input: string;
  /** Non-blank input lines. */
  lines: number;
  judged: number;
  errors: number;
  /** Judged rows with no hallucination or refusal label. */
  unlabelled: number;
  hallucination: HallucinationFigures | null;
  refusal: RefusalFigures | null;
  spans?: SpanFigures;
  /** Flagging per claim-count bucket, over the rows labelled for hallucination. */
  claimBuckets?: ClaimBucketFigures[];
  /** Estimated vs observed hallucination rate per answering model, and their agreement across models. */
  modelRates?: ModelRateFigures;
  /** Present when rows carry `expected.kind`: hard-case figures per kind and edit. */
  hardCases?: HardCaseFigures;
  /** Figures per group, e.g. `by.model["gpt-4o"]`, `by.task.summary`, `by.prompt_type.homonyms`. */
  by: Record<string, Record<string, GroupFigures>>;
  /** How many verdicts named each detector in `provenance` (`error` = a detector failed on the row). */
  provenance: Record<string, number>;
  /**
   * When the input holds dev rows the detectors were trained on (ids `<source>-…`), what the
   * training script measured on each such source with whole groups held out.
   */
  heldOut?: HeldOutFigures[];
  /** The config the detectors ran with, when `eval` loaded it. */
  config?: { file: string; detect: Record<string, unknown> };
  elapsedMs?: number;
  /** The first few failed lines, for the report; `errors` has the count. */
  failures: Array<{ line: number; id: string | null; error: string }>;
}

export interface HeldOutFigures {
  source: string;
  /** How the rows were held out: a whole source, FaithBench batch or answering model, or grouped folds. */
  scheme: string;
  balancedAccuracy: number;
  auroc: number;
  meanScore: number;
  rate: number;
  ece: number;
}

const MAX_FAILURES_KEPT = 20;

/** The figures every binary detector gets from its confusion counts. */
function binaryFigures(matrix: Confusion, rows: number) {
  return {
    rows,
    positives: matrix.tp + matrix.fn,
    confusion: matrix,
    precision: precision(matrix),
    recall: recall(matrix),
    f1: f1(matrix),
    balancedAccuracy: balancedAccuracy(matrix),
  };
}

function hallucinationFigures(cases: readonly HallucinationCase[], withBins: boolean): HallucinationFigures {
  const actual = cases.map((c) => c.actual);
  const scores = cases.map((c) => c.score);
  const matrix = confusion(
    cases.map((c) => c.flagged),
    actual,
  );
  const bins = calibrationBins(scores, actual);
  const grounded = cases.filter((c) => c.grounded);
  const mean = (v: number[]): number | null => (v.length === 0 ? null : v.reduce((a, b) => a + b, 0) / v.length);
  return {
    ...binaryFigures(matrix, cases.length),
    accuracy: accuracy(matrix),
    auroc: auroc(scores, actual),
    ece: ece(bins),
    rate: {
      grounded: grounded.length,
      estimated: mean(grounded.map((c) => c.score)),
      observed: mean(grounded.map((c) => (c.actual ? 1 : 0))),
      ece: ece(calibrationBins(grounded.map((c) => c.score), grounded.map((c) => c.actual))),
    },
    ...(withBins ? { calibration: bins, thresholds: thresholdSweep(scores, actual) } : {}),
  };
}

function claimBucketFigures(cases: readonly HallucinationCase[]): ClaimBucketFigures[] {
  const out: ClaimBucketFigures[] = [];
  for (const bucket of CLAIM_BUCKETS) {
    const inBucket = cases.filter((c) => c.claims >= bucket.lo && c.claims <= bucket.hi);
    if (inBucket.length === 0) continue;
    const faithful = inBucket.filter((c) => !c.actual);
    const hallucinated = inBucket.filter((c) => c.actual);
    const falsePositives = faithful.filter((c) => c.flagged).length;
    const detected = hallucinated.filter((c) => c.flagged).length;
    out.push({
      claims: bucket.name,
      faithful: faithful.length,
      falsePositives,
      falsePositiveRate: faithful.length === 0 ? null : falsePositives / faithful.length,
      hallucinated: hallucinated.length,
      detected,
      detectionRate: hallucinated.length === 0 ? null : detected / hallucinated.length,
    });
  }
  return out;
}

/** Fewer models than this cannot show a ranking worth a coefficient (two always give ±1). */
const MIN_MODELS_FOR_SPEARMAN = 3;

function modelRateFigures(byModel: ReadonlyMap<string, Group>): ModelRateFigures | undefined {
  const models: ModelRateFigures['models'] = [];
  for (const model of [...byModel.keys()].sort()) {
    const grounded = byModel.get(model)!.hallucination.filter((c) => c.grounded);
    if (grounded.length === 0) continue;
    models.push({
      model,
      grounded: grounded.length,
      estimated: grounded.reduce((a, c) => a + c.score, 0) / grounded.length,
      observed: grounded.filter((c) => c.actual).length / grounded.length,
    });
  }
  if (models.length === 0) return undefined;
  const estimated = models.map((m) => m.estimated);
  const observed = models.map((m) => m.observed);
  return {
    models,
    spearman: models.length < MIN_MODELS_FOR_SPEARMAN ? null : spearman(estimated, observed),
    meanAbsoluteError: meanAbsoluteError(estimated, observed),
  };
}

interface HardCase {
  kind: string;
  edit: string;
  pair?: string;
  actual: boolean;
  flagged: boolean;
  score: number;
}

function hardCaseGroup(kind: string, rows: readonly HardCase[]): HardCaseGroup {
  const flagged = rows.filter((r) => r.flagged).length;
  return {
    kind,
    rows: rows.length,
    hallucinated: rows.filter((r) => r.actual).length,
    flagged,
    shareFlagged: flagged / rows.length,
    meanScore: rows.reduce((a, r) => a + r.score, 0) / rows.length,
  };
}

function hardCaseFigures(rows: readonly HardCase[]): HardCaseFigures {
  const groupBy = (key: (r: HardCase) => string) => {
    const m = new Map<string, HardCase[]>();
    for (const r of rows) {
      const k = key(r);
      let list = m.get(k);
      if (list === undefined) m.set(k, (list = []));
      list.push(r);
    }
    return [...m].sort(([a], [b]) => a.localeCompare(b));
  };
  const kinds = groupBy((r) => r.kind).map(([kind, list]) => hardCaseGroup(kind, list));
  const edits = groupBy((r) => `${r.kind}\u0000${r.edit}`).map(([, list]) => ({ ...hardCaseGroup(list[0]!.kind, list), edit: list[0]!.edit }));
  let pairs = 0;
  let couples = 0;
  let above = 0;
  for (const [, list] of groupBy((r) => r.pair ?? '')) {
    if (list[0]!.pair === undefined) continue;
    pairs++;
    for (const faithful of list.filter((r) => !r.actual)) {
      for (const wrong of list.filter((r) => r.actual)) {
        couples++;
        above += wrong.score > faithful.score ? 1 : wrong.score === faithful.score ? 0.5 : 0;
      }
    }
  }
  return { kinds, edits, pairs: { pairs, couples, hallucinatedAbove: couples === 0 ? null : above / couples } };
}

function refusalFigures(cases: readonly RefusalCase[]): RefusalFigures {
  const actual = cases.map((c) => c.actual);
  const matrix = confusion(
    cases.map((c) => c.flagged),
    actual,
  );
  const kinded = cases.filter((c): c is RefusalCase & { actualKind: RefusalKind } => c.actualKind !== undefined);
  const kinds = multiclassConfusion(
    REFUSAL_KINDS,
    kinded.map((c) => c.kind),
    kinded.map((c) => c.actualKind),
  );
  return {
    ...binaryFigures(matrix, cases.length),
    auroc: auroc(
      cases.map((c) => c.score),
      actual,
    ),
    kinds: { rows: kinded.length, accuracy: multiclassAccuracy(kinds), matrix: kinds },
  };
}

type LineVerdict = Extract<LineResult, { verdict: unknown }>['verdict'];

function isRange(v: unknown): v is [number, number] {
  return Array.isArray(v) && v.length >= 2 && typeof v[0] === 'number' && typeof v[1] === 'number' && v[0] < v[1];
}

function isRecord(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

/** Which expected fields name a breakdown group, besides the verdict's model. */
const GROUP_FIELDS = ['task', 'prompt_type'] as const;

interface Group {
  hallucination: HallucinationCase[];
  refusal: RefusalCase[];
}

export class Scoreboard {
  private lines = 0;
  private judged = 0;
  private unlabelled = 0;
  private readonly failures: EvalReport['failures'] = [];
  private errors = 0;
  private readonly all: Group = { hallucination: [], refusal: [] };
  private readonly groups = new Map<string, Map<string, Group>>();
  private readonly provenance = new Map<string, number>();
  private readonly hardCases: HardCase[] = [];
  private readonly trainingSources = new Set<string>();
  private readonly spanTally = { annotated: { rows: 0, spans: 0, spansFound: 0, claimsFlagged: 0, claimsOnSpan: 0 }, clean: { rows: 0, claimsFlagged: 0 } };

  constructor(private readonly input: string) {}

  add(result: LineResult): void {
    this.lines++;
    if ('error' in result) {
      this.errors++;
      if (this.failures.length < MAX_FAILURES_KEPT) this.failures.push({ line: result.line, id: result.id, error: result.error });
      return;
    }
    this.judged++;
    const { verdict, row } = result;
    const source = TRAINED_SOURCES.find((name) => typeof row.id === 'string' && row.id.startsWith(`${name}-`));
    if (source) this.trainingSources.add(source);
    for (const tag of verdict.provenance ?? []) this.provenance.set(tag, (this.provenance.get(tag) ?? 0) + 1);
    const expected = isRecord(row.expected) ? row.expected : {};
    const targets: Group[] = [this.all, this.group('model', verdict.model), this.group('method', verdict.hallucination.method ?? 'none')];
    for (const field of GROUP_FIELDS) {
      const value = expected[field];
      if (typeof value === 'string' && value !== '') targets.push(this.group(field, value));
    }

    let labelled = false;
    if (typeof expected.hallucination === 'boolean') {
      labelled = true;
      const c: HallucinationCase = {
        actual: expected.hallucination,
        flagged: verdict.hallucination.flagged,
        score: verdict.hallucination.score,
        grounded: verdict.grounded === true && verdict.hallucination.method !== 'none',
        claims: verdict.hallucination.claims?.length ?? 0,
      };
      for (const g of targets) g.hallucination.push(c);
      if (typeof expected.kind === 'string' && expected.kind !== '') {
        this.hardCases.push({
          kind: expected.kind,
          edit: typeof expected.edit === 'string' && expected.edit !== '' ? expected.edit : '(none)',
          ...(typeof expected.pair === 'string' || typeof expected.pair === 'number' ? { pair: String(expected.pair) } : {}),
          actual: c.actual,
          flagged: c.flagged,
          score: c.score,
        });
      }
      this.tallySpans(expected, verdict);
    }
    const kindLabel = typeof expected.refusal_kind === 'string' ? EXPECTED_KIND[expected.refusal_kind] : undefined;
    const refusalLabel = typeof expected.refusal === 'boolean' ? expected.refusal : kindLabel === undefined ? undefined : kindLabel !== 'none';
    if (refusalLabel !== undefined) {
      labelled = true;
      const c: RefusalCase = {
        actual: refusalLabel,
        flagged: verdict.refusal.flagged,
        kind: verdict.refusal.kind,
        score: verdict.refusal.score,
        ...(kindLabel !== undefined ? { actualKind: kindLabel } : {}),
      };
      for (const g of targets) g.refusal.push(c);
    }
    if (!labelled) this.unlabelled++;
  }

  private tallySpans(expected: Record<string, unknown>, verdict: LineVerdict): void {
    const flagged = (verdict.hallucination.claims ?? []).filter((c) => c.support !== 'supported');
    const spans = Array.isArray(expected.spans) ? expected.spans.filter(isRange) : undefined;
    if (spans !== undefined) {
      const t = this.spanTally.annotated;
      t.rows++;
      t.spans += spans.length;
      t.spansFound += spans.filter(([a, b]) => flagged.some((c) => c.start < b && a < c.end)).length;
      t.claimsFlagged += flagged.length;
      t.claimsOnSpan += flagged.filter((c) => spans.some(([a, b]) => c.start < b && a < c.end)).length;
    } else if (expected.hallucination === false) {
      this.spanTally.clean.rows++;
      this.spanTally.clean.claimsFlagged += flagged.length;
    }
  }

  private spanFigures(): SpanFigures | undefined {
    const { annotated: a, clean } = this.spanTally;
    if (a.rows === 0) return undefined;
    const claimsFlagged = a.claimsFlagged + clean.claimsFlagged;
    return {
      rows: a.rows + clean.rows,
      spans: a.spans,
      spansFound: a.spansFound,
      recall: a.spans === 0 ? null : a.spansFound / a.spans,
      claimsFlagged,
      claimsOnSpan: a.claimsOnSpan,
      precision: claimsFlagged === 0 ? null : a.claimsOnSpan / claimsFlagged,
    };
  }

  private group(by: string, key: string): Group {
    let groups = this.groups.get(by);
    if (groups === undefined) this.groups.set(by, (groups = new Map()));
    let group = groups.get(key);
    if (group === undefined) groups.set(key, (group = { hallucination: [], refusal: [] }));
    return group;
  }

  report(): EvalReport {
    const spans = this.spanFigures();
    const byModel = this.groups.get('model');
    const modelRates = byModel ? modelRateFigures(byModel) : undefined;
    const by: EvalReport['by'] = {};
    for (const [field, groups] of this.groups) {
      const figures: Record<string, GroupFigures> = {};
      for (const key of [...groups.keys()].sort()) {
        const g = groups.get(key)!;
        if (g.hallucination.length === 0 && g.refusal.length === 0) continue;
        figures[key] = {
          ...(g.hallucination.length > 0 ? { hallucination: hallucinationFigures(g.hallucination, false) } : {}),
          ...(g.refusal.length > 0 ? { refusal: refusalFigures(g.refusal) } : {}),
        };
      }
      by[field] = figures;
    }
    return {
      input: this.input,
      lines: this.lines,
      judged: this.judged,
      errors: this.errors,
      unlabelled: this.unlabelled,
      hallucination: this.all.hallucination.length > 0 ? hallucinationFigures(this.all.hallucination, true) : null,
      refusal: this.all.refusal.length > 0 ? refusalFigures(this.all.refusal) : null,
      ...(spans ? { spans } : {}),
      ...(this.all.hallucination.length > 0 ? { claimBuckets: claimBucketFigures(this.all.hallucination) } : {}),
      ...(modelRates ? { modelRates } : {}),
      ...(this.hardCases.length > 0 ? { hardCases: hardCaseFigures(this.hardCases) } : {}),
      by,
      ...(this.trainingSources.size > 0 ? { heldOut: heldOutFor([...this.trainingSources].sort()) } : {}),
      provenance: Object.fromEntries([...this.provenance].sort(([a], [b]) => a.localeCompare(b))),
      failures: this.failures,
    };
  }
}
