/**
 * Longer contexts without longer answers: each dev row's context gets other rows' contexts
 * appended as further documents, and the detectors run again. Held-out sets with contexts several
 * times longer than the dev rows flag nearly every faithful answer; this tells whether length
 * alone does it (unrelated text beside the source), or the answers written from longer sources.
 *
 *   npm run build && node dist/tooling/train/pad-contexts.js [--rows faithbench] [--pads 0,1,2,4]
 *
 * Run from the repository root. Data: VERACITY_DEV_DATA or ../shared/datasets/dev. For each number
 * of appended contexts, prints the mean score and the share flagged of faithful and of
 * hallucinated answers, and the balanced accuracy and AUROC.
 */
import { parseArgs } from 'node:util';
import { analyse } from '../../detect/index.js';
import type { ContextPart, Exchange } from '../../capture/exchange.js';
import { defaultDetectConfig, loadRows } from './data.js';
import { auroc, balancedAccuracy } from './metrics.js';

const { values } = parseArgs({ options: { rows: { type: 'string', default: 'faithbench' }, pads: { type: 'string', default: '0,1,2,4' } } });
const pads = values.pads.split(',').map(Number);
if (pads.some((p) => !Number.isInteger(p) || p < 0)) {
  console.error(`pad-contexts: --pads takes whole numbers of contexts to append, separated by commas (0,1,2,4), not "${values.pads}"`);
  process.exit(2);
}
const cfg = defaultDetectConfig();
const rows = loadRows(values.rows);
const textOf = (ex: Exchange): string => ex.context.map((c) => c.text).join('\n');
/** The distinct contexts, in order of first appearance: the padding is drawn from them. */
const contexts = [...new Set(rows.map((r) => textOf(r.exchange)))];
if (contexts.length < 2) {
  console.error(`pad-contexts: ${values.rows} has ${contexts.length} distinct context; padding needs two or more`);
  process.exit(2);
}

for (const pad of pads) {
  const labels: boolean[] = [];
  const scores: number[] = [];
  const flags: boolean[] = [];
  for (const r of rows) {
    const own = contexts.indexOf(textOf(r.exchange));
    const extra: ContextPart[] = [];
    // Other articles, a fixed stride apart, never the row's own.
    for (let k = 1; extra.length < pad; k++) {
      const other = contexts[(own + 7 * k) % contexts.length]!;
      if (other !== contexts[own]) extra.push({ source: 'document', text: other });
      if (k > pad + contexts.length) break;
    }
    const v = analyse({ ...r.exchange, context: [...r.exchange.context, ...extra] }, cfg).hallucination;
    labels.push(r.expected.hallucination === true);
    scores.push(v.score);
    flags.push(v.flagged);
  }
  const share = (want: boolean, of: (i: number) => number): string => {
    const idx = labels.map((l, i) => (l === want ? i : -1)).filter((i) => i >= 0);
    return (idx.reduce((s, i) => s + of(i), 0) / Math.max(1, idx.length)).toFixed(3);
  };
  const chars = rows.reduce((s, r) => s + textOf(r.exchange).length, 0) / rows.length;
  console.log(
    `${values.rows} +${pad} contexts: faithful mean ${share(false, (i) => scores[i]!)} flagged ${share(false, (i) => (flags[i] ? 1 : 0))} | ` +
      `hallucinated mean ${share(true, (i) => scores[i]!)} flagged ${share(true, (i) => (flags[i] ? 1 : 0))} | ` +
      `balanced_acc ${balancedAccuracy(labels, flags).toFixed(3)} auroc ${auroc(labels, scores).toFixed(3)} (own context ${Math.round(chars)} characters on average)`,
  );
}
