import type { CalibrationBin } from './metrics.js';
import { REFUSAL_KINDS, type EvalReport, type GroupFigures, type HardCaseGroup } from './score.js';

/** The plain-text tables `eval` prints on stdout. */

export function fmt(v: number | null | undefined, digits = 3): string {
  return v === null || v === undefined ? '—' : v.toFixed(digits);
}

/** Left-aligns the first column and right-aligns the rest. */
export function table(header: string[], rows: string[][]): string[] {
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => (r[i] ?? '').length)));
  const line = (cells: string[]) =>
    cells.map((c, i) => (i === 0 ? c.padEnd(widths[i]!) : c.padStart(widths[i]!))).join('  ').trimEnd();
  return [line(header), line(widths.map((w) => '-'.repeat(w))), ...rows.map(line)];
}

export function binLabel(bin: CalibrationBin): string {
  return `${bin.lo.toFixed(1)}–${bin.hi.toFixed(1)}`;
}

/** The `…Threshold` settings of the detect config, which decide every `flagged`. */
export function thresholds(detect: Record<string, unknown>): string {
  return Object.entries(detect)
    .filter(([k, v]) => k.endsWith('Threshold') && typeof v === 'number')
    .map(([k, v]) => `${k} ${v}`)
    .join(', ');
}

const indent = (lines: string[]) => lines.map((l) => '  ' + l);

function groupRows(groups: Record<string, GroupFigures>, pick: 'hallucination' | 'refusal'): string[][] {
  const rows: string[][] = [];
  for (const [name, g] of Object.entries(groups)) {
    if (pick === 'hallucination' && g.hallucination) {
      const h = g.hallucination;
      rows.push([name, String(h.rows), String(h.positives), fmt(h.precision), fmt(h.recall), fmt(h.f1), fmt(h.balancedAccuracy), fmt(h.auroc), fmt(h.ece), fmt(h.rate.estimated), fmt(h.rate.observed)]);
    } else if (pick === 'refusal' && g.refusal) {
      const r = g.refusal;
      rows.push([name, String(r.rows), String(r.positives), fmt(r.precision), fmt(r.recall), fmt(r.f1), fmt(r.balancedAccuracy), fmt(r.auroc), fmt(r.kinds.accuracy)]);
    }
  }
  return rows;
}

export function claimBucketRows(report: EvalReport): string[][] {
  return (report.claimBuckets ?? []).map((b) => [b.claims, String(b.faithful), String(b.falsePositives), fmt(b.falsePositiveRate), String(b.hallucinated), String(b.detected), fmt(b.detectionRate)]);
}

export function modelRateRows(report: EvalReport): string[][] {
  return (report.modelRates?.models ?? []).map((m) => [m.model, String(m.grounded), fmt(m.estimated), fmt(m.observed), fmt(m.estimated - m.observed)]);
}

export function hardCaseRows(report: EvalReport): string[][] {
  const hc = report.hardCases;
  if (!hc) return [];
  const row = (kind: string, edit: string, g: HardCaseGroup) => [kind, edit, String(g.rows), String(g.hallucinated), String(g.flagged), fmt(g.shareFlagged), fmt(g.meanScore)];
  return [...hc.kinds.map((g) => row(g.kind, 'all', g)), ...hc.edits.map((g) => row(g.kind, g.edit, g))];
}

export function summaryText(report: EvalReport): string {
  const out: string[] = [];
  out.push(`veracity eval: ${report.input}`);
  out.push(`  ${report.lines} rows, ${report.judged} judged, ${report.errors} failed, ${report.unlabelled} without labels${report.elapsedMs === undefined ? '' : ` in ${(report.elapsedMs / 1000).toFixed(1)} s`}`);
  if (report.config) out.push(`  config ${report.config.file}: ${thresholds(report.config.detect)}`);
  const detectorErrors = report.provenance.error ?? 0;
  if (detectorErrors > 0) out.push(`  ${detectorErrors} verdicts marked provenance "error": a detector failed on those rows`);

  const h = report.hallucination;
  if (h) {
    out.push('', `Hallucination (${h.rows} rows, ${h.positives} labelled hallucinated)`);
    out.push(
      ...indent(
        table(
          ['precision', 'recall', 'F1', 'accuracy', 'balanced acc', 'AUROC', 'ECE'],
          [[fmt(h.precision), fmt(h.recall), fmt(h.f1), fmt(h.accuracy), fmt(h.balancedAccuracy), fmt(h.auroc), fmt(h.ece)]],
        ),
      ),
    );
    const c = h.confusion;
    out.push(`  flagged: ${c.tp} true positives, ${c.fp} false positives, ${c.fn} missed, ${c.tn} true negatives`);
    out.push(
      `  estimated rate (mean score over the ${h.rate.grounded} grounded rows) ${fmt(h.rate.estimated)} vs observed ${fmt(h.rate.observed)}, ECE ${fmt(h.rate.ece)};` +
        ` flagged rate ${fmt(h.rows === 0 ? null : (c.tp + c.fp) / h.rows)}`,
    );
    if (h.calibration) {
      out.push('', '  Calibration (hallucination score)');
      out.push(
        ...indent(
          table(
            ['score bin', 'rows', 'mean score', 'observed rate'],
            h.calibration.map((b) => [binLabel(b), String(b.count), fmt(b.meanScore), fmt(b.observedRate)]),
          ),
        ),
      );
    }
  }

  const sp = report.spans;
  if (sp) {
    out.push('', `  Annotated spans (${sp.rows} rows): ${sp.spansFound} of ${sp.spans} spans overlapped by an unsupported claim (recall ${fmt(sp.recall)});`);
    out.push(`  ${sp.claimsOnSpan} of ${sp.claimsFlagged} unsupported claims overlap a span (precision ${fmt(sp.precision)})`);
  }
  if (report.claimBuckets && report.claimBuckets.length > 0) {
    out.push('', '  By number of claims in the answer (counted from the verdict)');
    out.push(...indent(table(['claims', 'faithful', 'false pos.', 'FP rate', 'hallucinated', 'detected', 'detection rate'], claimBucketRows(report))));
  }
  if (report.modelRates) {
    const m = report.modelRates;
    out.push('', `  Per answering model: estimated rate (mean score, grounded rows) vs observed (labels)`);
    out.push(...indent(table(['model', 'rows', 'estimated', 'observed', 'error'], modelRateRows(report))));
    out.push(`  across ${m.models.length} model${m.models.length === 1 ? '' : 's'}: Spearman ${fmt(m.spearman)}${m.models.length < 3 ? ' (needs 3 models)' : ''}, mean absolute error ${fmt(m.meanAbsoluteError)}`);
  }
  if (report.hardCases) {
    const hc = report.hardCases;
    out.push('', '  Hard cases: share flagged per kind and edit (a paraphrase should not be flagged; an edit should)');
    out.push(...indent(table(['kind', 'edit', 'rows', 'labelled hall.', 'flagged', 'share flagged', 'mean score'], hardCaseRows(report))));
    out.push(
      `  within a pair (same passage), a hallucinated row scored above a faithful one in ${fmt(hc.pairs.hallucinatedAbove)} of ${hc.pairs.couples} couples over ${hc.pairs.pairs} pairs (ties count ½)`,
    );
  }
  if (h?.thresholds) {
    out.push('', '  Flagging at other thresholds (score >= t)');
    out.push(
      ...indent(
        table(
          ['t', 'precision', 'recall', 'F1', 'balanced acc'],
          h.thresholds.map((p) => [p.threshold.toFixed(1), fmt(p.precision), fmt(p.recall), fmt(p.f1), fmt(p.balancedAccuracy)]),
        ),
      ),
    );
  }

  const r = report.refusal;
  if (r) {
    out.push('', `Refusal (${r.rows} rows, ${r.positives} labelled refusal, full or partial)`);
    out.push(
      ...indent(
        table(
          ['precision', 'recall', 'F1', 'balanced acc', 'AUROC', '3-class acc'],
          [[fmt(r.precision), fmt(r.recall), fmt(r.f1), fmt(r.balancedAccuracy), fmt(r.auroc), fmt(r.kinds.accuracy)]],
        ),
      ),
    );
    if (r.kinds.rows > 0) {
      out.push('', `  Refusal kind, expected (rows) × predicted (columns), ${r.kinds.rows} rows`);
      out.push(...indent(table(['expected', ...REFUSAL_KINDS], REFUSAL_KINDS.map((a) => [a, ...REFUSAL_KINDS.map((p) => String(r.kinds.matrix[a][p]))]))));
    }
  }

  for (const [field, groups] of Object.entries(report.by)) {
    const hRows = groupRows(groups, 'hallucination');
    if (hRows.length > 0) {
      out.push('', `Hallucination by ${field}`);
      out.push(...indent(table([field, 'rows', 'pos', 'P', 'R', 'F1', 'BAcc', 'AUROC', 'ECE', 'est.rate', 'obs.rate'], hRows)));
    }
    const rRows = groupRows(groups, 'refusal');
    if (rRows.length > 0) {
      out.push('', `Refusal by ${field}`);
      out.push(...indent(table([field, 'rows', 'pos', 'P', 'R', 'F1', 'BAcc', 'AUROC', '3-cls'], rRows)));
    }
  }

  if (report.heldOut && report.heldOut.length > 0) {
    out.push('', 'These rows are training rows: the figures above are in-sample. Held out by whole groups, the training script measured:');
    out.push(
      ...indent(
        table(
          ['source', 'held out', 'BAcc', 'AUROC', 'est.rate', 'obs.rate', 'ECE'],
          report.heldOut.map((x) => [x.source, x.scheme, fmt(x.balancedAccuracy), fmt(x.auroc), fmt(x.meanScore), fmt(x.rate), fmt(x.ece)]),
        ),
      ),
    );
  }

  if (report.failures.length > 0) {
    out.push('', `Failed lines (first ${report.failures.length} of ${report.errors})`);
    for (const f of report.failures) out.push(`  line ${f.line}${f.id === null ? '' : ` (${f.id})`}: ${f.error}`);
  }
  if (!h && !r) out.push('', 'No row carried expected.hallucination or expected.refusal / refusal_kind: nothing to score.');
  return out.join('\n') + '\n';
}
