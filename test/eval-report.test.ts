import t from 'tap';
import type { Verdict, RefusalKind } from '../src/detect/verdict.js';
import { reliabilitySvg, reportHtml, escapeHtml } from '../src/eval/html.js';
import { calibrationBins } from '../src/eval/metrics.js';
import type { ExchangeRow, LineResult } from '../src/eval/run.js';
import { claimBucket, Scoreboard } from '../src/eval/score.js';
import { summaryText } from '../src/eval/summary.js';

function judged(line: number, model: string, expected: Record<string, unknown>, h: number, r: { kind: RefusalKind; score: number }): LineResult {
  const id = `row-${line}`;
  const row: ExchangeRow = { id, provider: 'openai', request: {}, response: {}, expected };
  const verdict: Verdict = {
    id,
    provider: 'openai',
    model,
    grounded: true,
    hallucination: { flagged: h >= 0.5, score: h, claims: [] },
    confidence_mismatch: { flagged: false, score: 0 },
    refusal: { flagged: r.kind !== 'none', kind: r.kind, score: r.score },
  };
  return { line, id, row, verdict };
}

const none = { kind: 'none' as const, score: 0.1 };

t.test('scoreboard scores hallucination rows overall and per model and task', async (t) => {
  const board = new Scoreboard('mem');
  board.add(judged(1, 'a', { task: 'qa', hallucination: true }, 0.9, none)); // tp
  board.add(judged(2, 'a', { task: 'qa', hallucination: false }, 0.7, none)); // fp
  board.add(judged(3, 'b', { task: 'summary', hallucination: true }, 0.2, none)); // fn
  board.add(judged(4, 'b', { task: 'summary', hallucination: false }, 0.1, none)); // tn
  board.add({ line: 5, id: null, error: 'not valid JSON' });
  board.add(judged(6, 'b', { note: 'no labels' }, 0.1, none));
  const report = board.report();
  t.match(report, { lines: 6, judged: 5, errors: 1, unlabelled: 1, refusal: null });
  t.same(report.failures, [{ line: 5, id: null, error: 'not valid JSON' }]);
  const h = report.hallucination!;
  t.same(h.confusion, { tp: 1, fp: 1, tn: 1, fn: 1 });
  t.equal(h.precision, 0.5);
  t.equal(h.balancedAccuracy, 0.5);
  // Positive scores {0.9, 0.2} vs negative {0.7, 0.1}: pairs won 1, 1, 0, 1 → 3/4.
  t.equal(h.auroc, 0.75);
  t.equal(h.calibration?.length, 10, 'overall figures carry the calibration table');
  t.same(Object.keys(report.by).sort(), ['method', 'model', 'task']);
  t.same(report.by.model!.a!.hallucination!.confusion, { tp: 1, fp: 1, tn: 0, fn: 0 });
  t.equal(report.by.model!.a!.hallucination!.auroc, 1);
  t.equal(report.by.model!.a!.hallucination!.recall, 1);
  t.equal(report.by.task!.summary!.hallucination!.recall, 0);
  t.equal(report.by.task!.summary!.hallucination!.precision, null, 'nothing flagged in summary');
  t.equal(report.by.model!.a!.hallucination!.calibration, undefined, 'breakdowns keep only ECE');
  t.notOk('refusal' in report.by.model!.a!, 'no refusal figures without refusal labels');
});

t.test('scoreboard scores refusal kinds against XSTest labels', async (t) => {
  const board = new Scoreboard('mem');
  const exp = (kind: string) => ({ task: 'refusal', refusal: kind !== 'compliance', refusal_kind: kind, prompt_type: 'homonyms' });
  board.add(judged(1, 'm', exp('compliance'), 0, { kind: 'none', score: 0.1 }));
  board.add(judged(2, 'm', exp('compliance'), 0, { kind: 'partial', score: 0.6 }));
  board.add(judged(3, 'm', exp('partial_refusal'), 0, { kind: 'full', score: 0.8 }));
  board.add(judged(4, 'm', exp('full_refusal'), 0, { kind: 'full', score: 0.9 }));
  board.add(judged(5, 'm', exp('full_refusal'), 0, { kind: 'none', score: 0.3 }));
  // A row labelled refusal yes/no only counts for the binary figures, not the 3-class ones.
  board.add(judged(6, 'm', { refusal: true }, 0, { kind: 'full', score: 0.95 }));
  const r = board.report().refusal!;
  t.equal(r.rows, 6);
  t.equal(r.positives, 4);
  t.same(r.confusion, { tp: 3, fp: 1, tn: 1, fn: 1 });
  t.equal(r.precision, 0.75);
  t.equal(r.recall, 0.75);
  t.equal(r.kinds.rows, 5);
  t.same(r.kinds.matrix, {
    none: { none: 1, partial: 1, full: 0 },
    partial: { none: 0, partial: 0, full: 1 },
    full: { none: 1, partial: 0, full: 1 },
  });
  t.equal(r.kinds.accuracy, 2 / 5);
  // Positives {0.8, 0.9, 0.3, 0.95} vs negatives {0.1, 0.6}: 2+2+1+2 = 7 of 8 pairs.
  t.equal(r.auroc, 7 / 8);
  const board2 = board.report();
  t.ok(board2.by.prompt_type?.homonyms?.refusal, 'prompt_type breakdown');
  t.equal(board2.hallucination, null);
});

t.test('an empty run reports nothing to score', async (t) => {
  const report = new Scoreboard('empty').report();
  t.match(report, { lines: 0, judged: 0, errors: 0, hallucination: null, refusal: null, by: {} });
  t.match(summaryText(report), /nothing to score/);
  t.match(reportHtml(report), /nothing to score/);
});

t.test('summary text and HTML carry the figures', async (t) => {
  const board = new Scoreboard('dev <rows>.jsonl');
  board.add(judged(1, 'gpt-4o', { task: 'summary', hallucination: true }, 0.95, none));
  board.add(judged(2, 'gpt-4o', { task: 'summary', hallucination: false }, 0.05, none));
  board.add(judged(3, 'gpt4', { task: 'refusal', refusal_kind: 'full_refusal' }, 0, { kind: 'full', score: 0.9 }));
  board.add({ line: 4, id: 'bad', error: 'CaptureError: <oops>' });
  const report = board.report();
  const text = summaryText(report);
  t.match(text, /4 rows, 3 judged, 1 failed/);
  t.match(text, /Hallucination \(2 rows, 1 labelled hallucinated\)/);
  t.match(text, /Calibration/);
  t.match(text, /Refusal kind/);
  t.match(text, /gpt-4o/);
  t.match(text, /line 4 \(bad\): CaptureError/);

  const html = reportHtml(report, new Date(0));
  t.match(html, /^<!doctype html>/);
  t.match(html, /<svg [^>]*xmlns="http:\/\/www.w3.org\/2000\/svg"/);
  t.match(html, /<table>/);
  t.match(html, /dev &lt;rows&gt;\.jsonl/, 'input name escaped');
  t.match(html, /CaptureError: &lt;oops&gt;/, 'error text escaped');
  t.notMatch(html, /<script|<link|src="http|href="http/, 'no scripts or external assets');
  t.match(html, /1970-01-01T00:00:00.000Z/);
});

t.test('reliability diagram draws one bar per non-empty bin', async (t) => {
  const bins = calibrationBins([0.05, 0.15, 0.16, 0.95], [false, true, false, true]);
  const svg = reliabilitySvg(bins);
  t.equal((svg.match(/<rect [^>]*class="bar"/g) ?? []).length, 3);
  t.equal((svg.match(/<circle /g) ?? []).length, 3);
  t.match(svg, /class="diag"/);
  t.match(svg, /0\.1–0\.2: 2 rows, mean score 0\.155, observed 0\.500/);
  t.equal(escapeHtml(`<a href="x">'&'</a>`), '&lt;a href=&quot;x&quot;&gt;&#39;&amp;&#39;&lt;/a&gt;');
});

t.test('unsupported claims are scored against annotated spans', async (t) => {
  const claim = (start: number, end: number, support: 'supported' | 'unsupported' | 'contradicted') => ({ text: 'x', start, end, support, score: 0.5 });
  const withClaims = (line: number, expected: Record<string, unknown>, claims: ReturnType<typeof claim>[]): LineResult => {
    const r = judged(line, 'm', expected, 0.5, none);
    if ('verdict' in r) r.verdict.hallucination.claims = claims;
    return r;
  };
  const board = new Scoreboard('spans');
  // Spans [10,20) and [40,50): the first is hit by an unsupported claim, the second only by a supported one.
  board.add(withClaims(1, { hallucination: true, spans: [[10, 20], [40, 50]] }, [claim(0, 15, 'unsupported'), claim(30, 60, 'supported'), claim(60, 70, 'contradicted')]));
  // A clean row: its one unsupported claim is a false alarm.
  board.add(withClaims(2, { hallucination: false }, [claim(0, 10, 'unsupported')]));
  // Adjacent, not overlapping: [20,30) does not touch [10,20).
  board.add(withClaims(3, { hallucination: true, spans: [[10, 20]] }, [claim(20, 30, 'unsupported')]));
  t.same(board.report().spans, { rows: 3, spans: 3, spansFound: 1, recall: 1 / 3, claimsFlagged: 4, claimsOnSpan: 1, precision: 1 / 4 });

  const noSpans = new Scoreboard('qa');
  noSpans.add(withClaims(1, { hallucination: false }, [claim(0, 10, 'unsupported')]));
  t.equal(noSpans.report().spans, undefined, 'no span figures when no row carries spans');
});

/** A judged row whose verdict holds `claims` claims, for the claim-count and hard-case figures. */
function withClaimCount(line: number, model: string, expected: Record<string, unknown>, score: number, claims: number): LineResult {
  const r = judged(line, model, expected, score, none);
  if ('verdict' in r) {
    r.verdict.hallucination.claims = Array.from({ length: claims }, (_, i) => ({ text: `c${i}`, start: i * 10, end: i * 10 + 9, support: 'supported' as const, score }));
  }
  return r;
}

t.test('claim-count buckets split false alarms on faithful rows from hits on hallucinated ones', async (t) => {
  t.same([0, 1, 2, 3, 4, 5, 8, 9, 40].map(claimBucket), ['0', '1–2', '1–2', '3–4', '3–4', '5–8', '5–8', '9+', '9+']);
  const board = new Scoreboard('buckets');
  board.add(withClaimCount(1, 'm', { hallucination: false }, 0.2, 1)); // 1–2, faithful, not flagged
  board.add(withClaimCount(2, 'm', { hallucination: false }, 0.7, 2)); // 1–2, faithful, false positive
  board.add(withClaimCount(3, 'm', { hallucination: true }, 0.9, 2)); // 1–2, detected
  board.add(withClaimCount(4, 'm', { hallucination: false }, 0.8, 6)); // 5–8, false positive
  board.add(withClaimCount(5, 'm', { hallucination: true }, 0.3, 12)); // 9+, missed
  board.add(withClaimCount(6, 'm', { refusal: true }, 0.9, 3)); // no hallucination label: not counted
  const report = board.report();
  t.same(report.claimBuckets, [
    { claims: '1–2', faithful: 2, falsePositives: 1, falsePositiveRate: 0.5, hallucinated: 1, detected: 1, detectionRate: 1 },
    { claims: '5–8', faithful: 1, falsePositives: 1, falsePositiveRate: 1, hallucinated: 0, detected: 0, detectionRate: null },
    { claims: '9+', faithful: 0, falsePositives: 0, falsePositiveRate: null, hallucinated: 1, detected: 0, detectionRate: 0 },
  ]);
  const text = summaryText(report);
  t.match(text, /By number of claims/);
  t.match(text, /1–2\s+2\s+1\s+0\.500\s+1\s+1\s+1\.000/);
  t.match(text, /9\+\s+0\s+0\s+—\s+1\s+0\s+0\.000/);
  t.match(reportHtml(report), /<th scope="row">5–8<\/th><td>1<\/td><td>1<\/td><td>1\.000<\/td>/);
});

t.test('per-model estimated rates are ranked against observed ones', async (t) => {
  const board = new Scoreboard('models');
  // Estimated (mean score) a 0.2, b 0.5, c 0.8; observed a 0, b 1/2, c 1/2 (tied): ranks (1, 2, 3) vs (1, 2.5, 2.5).
  board.add(withClaimCount(1, 'a', { hallucination: false }, 0.1, 1));
  board.add(withClaimCount(2, 'a', { hallucination: false }, 0.3, 1));
  board.add(withClaimCount(3, 'b', { hallucination: true }, 0.6, 1));
  board.add(withClaimCount(4, 'b', { hallucination: false }, 0.4, 1));
  board.add(withClaimCount(5, 'c', { hallucination: true }, 0.9, 1));
  board.add(withClaimCount(6, 'c', { hallucination: false }, 0.7, 1));
  // An ungrounded row carries a prior, not evidence: it is left out of the rates.
  const ungrounded = withClaimCount(7, 'c', { hallucination: false }, 0.99, 0);
  if ('verdict' in ungrounded) ungrounded.verdict.grounded = false;
  board.add(ungrounded);
  const m = board.report().modelRates!;
  t.same(
    m.models.map((x) => [x.model, x.grounded, Math.round(x.estimated * 1000) / 1000, x.observed]),
    [['a', 2, 0.2, 0], ['b', 2, 0.5, 0.5], ['c', 2, 0.8, 0.5]],
  );
  // Ranks about the mean 2: dx (−1, 0, 1), dy (−1, 0.5, 0.5): Σdxdy = 1.5, Σdx² = 2, Σdy² = 1.5 → 1.5/√3 = √3/2.
  t.ok(Math.abs(m.spearman! - Math.sqrt(3) / 2) < 1e-12, `spearman ${m.spearman}`);
  // |0.2 − 0| + |0.5 − 0.5| + |0.8 − 0.5| = 0.5, over 3 models.
  t.ok(Math.abs(m.meanAbsoluteError! - 0.5 / 3) < 1e-12, `mae ${m.meanAbsoluteError}`);
  const text = summaryText(board.report());
  t.match(text, /across 3 models: Spearman 0\.866, mean absolute error 0\.167/);
  t.match(reportHtml(board.report()), /Across 3 models: Spearman 0\.866/);

  const two = new Scoreboard('two');
  two.add(withClaimCount(1, 'a', { hallucination: false }, 0.1, 1));
  two.add(withClaimCount(2, 'b', { hallucination: true }, 0.9, 1));
  t.equal(two.report().modelRates!.spearman, null, 'two models give no coefficient');
  t.match(summaryText(two.report()), /Spearman — \(needs 3 models\)/);
});

t.test('hard cases are reported per kind and edit, with the within-pair ranking', async (t) => {
  const board = new Scoreboard('hard');
  const hc = (line: number, pair: string, kind: string, edit: string, hallucination: boolean, score: number) =>
    board.add(withClaimCount(line, 'm', { task: 'hard-case', hallucination, kind, edit, pair }, score, 1));
  hc(1, 'p1', 'paraphrase', 'voice', false, 0.3);
  hc(2, 'p1', 'paraphrase', 'synonym', false, 0.6); // flagged
  hc(3, 'p1', 'edit', 'antonym', true, 0.6); // flagged; ties with row 2
  hc(4, 'p2', 'paraphrase', 'voice', false, 0.2);
  hc(5, 'p2', 'edit', 'role_swap', true, 0.1); // missed, below its paraphrase
  board.add(withClaimCount(6, 'm', { hallucination: true }, 0.9, 1)); // not a hard case
  const h = board.report().hardCases!;
  t.same(h.kinds, [
    { kind: 'edit', rows: 2, hallucinated: 2, flagged: 1, shareFlagged: 0.5, meanScore: 0.35 },
    { kind: 'paraphrase', rows: 3, hallucinated: 0, flagged: 1, shareFlagged: 1 / 3, meanScore: (0.3 + 0.6 + 0.2) / 3 },
  ]);
  t.same(
    h.edits.map((e) => [e.kind, e.edit, e.rows, e.flagged]),
    [['edit', 'antonym', 1, 1], ['edit', 'role_swap', 1, 0], ['paraphrase', 'synonym', 1, 1], ['paraphrase', 'voice', 2, 0]],
  );
  // p1: antonym 0.6 vs voice 0.3 (above) and vs synonym 0.6 (tie, ½); p2: role_swap 0.1 vs voice 0.2 (below).
  t.same(h.pairs, { pairs: 2, couples: 3, hallucinatedAbove: 1.5 / 3 });
  const text = summaryText(board.report());
  t.match(text, /Hard cases: share flagged/);
  t.match(text, /paraphrase\s+voice\s+2\s+0\s+0\s+0\.000/);
  t.match(text, /in 0\.500 of 3 couples over 2 pairs/);
  t.match(reportHtml(board.report()), /<th scope="row">edit<\/th><td>role_swap<\/td>/);
  t.equal(new Scoreboard('none').report().hardCases, undefined, 'no hard-case figures without expected.kind');
});
