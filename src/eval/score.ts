import type { RefusalKind } from '../detect/verdict.js';
import {
  accuracy,
  auroc,
  balancedAccuracy,
  calibrationBins,
  confusion,
  ece,
  f1,
  multiclassAccuracy,
  multiclassConfusion,
  precision,
  recall,
  thresholdSweep,
  type CalibrationBin,
  type Confusion,
  type ThresholdPoint,
} from './metrics.js';
import type { LineResult } from './run.js';
import { GROUNDING_MODEL } from '../detect/models/grounding.js';

/** Dev sources the grounding scorer was trained on, as their row ids begin. */
const TRAINED_SOURCES = Object.keys(GROUNDING_MODEL.validation.inSample);

const SCHEMES: Array<[keyof typeof GROUNDING_MODEL.validation, string]> = [
  ['leaveSourceOut', 'whole source'],
  ['leaveBatchOut', 'FaithBench batch'],
  ['leaveModelOut', 'answering model'],
  ['grouped5Fold', 'grouped 5-fold'],
];

function heldOutFor(sources: string[]): HeldOutFigures[] {
  const out: HeldOutFigures[] = [];
  for (const source of sources) {
    for (const [key, scheme] of SCHEMES) {
      const f = (GROUNDING_MODEL.validation[key] as Record<string, Omit<HeldOutFigures, 'source' | 'scheme'>>)[source];
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
      };
      for (const g of targets) g.hallucination.push(c);
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
      by,
      ...(this.trainingSources.size > 0 ? { heldOut: heldOutFor([...this.trainingSources].sort()) } : {}),
      provenance: Object.fromEntries([...this.provenance].sort(([a], [b]) => a.localeCompare(b))),
      failures: this.failures,
    };
  }
}
