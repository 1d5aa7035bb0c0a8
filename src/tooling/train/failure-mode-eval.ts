/**
 * Measures the failure-mode classifier (src/detect/failure-mode.ts) on the dev rows.
 *
 *   npm run build && node dist/tooling/train/failure-mode-eval.js [--verbose] [--speed]
 *
 * Two measures, because no dev file labels failure modes:
 * 1. FaithBench spans read by hand (failure-mode-spans.jsonl beside this file: 66 annotated
 *    spans from batches 1-7, each given the mode a reader assigns from the span and the passage).
 *    The claim covering most of the span is classified against the context; accuracy and the
 *    confusion matrix are printed beside the majority baseline (everything `unsupported`).
 * 2. Planted errors: supported claims of correct dev rows (HaluEval QA, FaithBench, QAGS, which is
 *    all lower case) are changed in one known way (a number, a name, a negation, a URL or
 *    citation, an ordinary clause) and classified against their context; per kind, the share
 *    given the planted mode. The unchanged claims show how often a mode is given for nothing.
 */
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { analyse } from '../../detect/index.js';
import { FailureReference, assignFailureModes, commonWords, failureModeOf, failureReference, isUncased, type TextFailureMode } from '../../detect/failure-mode.js';
import { buildContextIndex, contextText } from '../../detect/grounding.js';
import { tokenize } from '../../detect/text.js';
import { defaultDetectConfig, loadRows, type Row } from './data.js';

const cfg = defaultDetectConfig();
const verbose = process.argv.includes('--verbose');
const here = path.dirname(fileURLToPath(import.meta.url));
const MODES: TextFailureMode[] = ['number', 'entity', 'negation', 'reference', 'unsupported'];

const referenceOf = (row: Row) => failureReference(contextText(row.exchange.context, cfg.maxContextChars).text, row.exchange.question);

export interface SpanFigures {
  n: number;
  accuracy: number;
  baseline: number;
  confusion: Map<string, number>;
}

/** The hand-read FaithBench spans: the classifier's mode for the claim covering each span. */
export function measureSpans(dir?: string): SpanFigures {
  const file = path.resolve(here, '../../../src/tooling/train/failure-mode-spans.jsonl');
  const labels = readFileSync(file, 'utf8')
    .split('\n')
    .filter((l) => l.trim())
    .map((l) => JSON.parse(l) as { id: string; span: number; mode: TextFailureMode });
  const rows = new Map(loadRows('faithbench', dir).map((r) => [r.id, r]));
  const confusion = new Map<string, number>();
  let right = 0;
  let baseline = 0;
  let flaggedN = 0;
  let flaggedRight = 0;
  for (const l of labels) {
    const row = rows.get(l.id);
    const span = row?.expected.spans?.[l.span];
    if (!row || !span) throw new Error(`${l.id} span ${l.span}: not in the dev rows`);
    const verdict = analyse(row.exchange, cfg);
    let best = verdict.hallucination.claims[0];
    let overlap = -1;
    for (const c of verdict.hallucination.claims) {
      const o = Math.min(c.end, span[1]) - Math.max(c.start, span[0]);
      if (o > overlap) {
        overlap = o;
        best = c;
      }
    }
    const got = best ? failureModeOf(best.text, referenceOf(row)) : 'unsupported';
    confusion.set(`${l.mode}>${got}`, (confusion.get(`${l.mode}>${got}`) ?? 0) + 1);
    if (got === l.mode) right++;
    if (l.mode === 'unsupported') baseline++;
    if (best && best.support !== 'supported') {
      flaggedN++;
      if (best.failure_mode === l.mode) flaggedRight++;
    }
    if (verbose && got !== l.mode) console.log(`  ${l.id}#${l.span} want ${l.mode} got ${got}: ${best?.text}`);
  }
  return { n: labels.length, accuracy: right / labels.length, baseline: baseline / labels.length, confusion, flagged: flaggedN, flaggedRight } as SpanFigures & { flagged: number; flaggedRight: number };
}

function printSpans(): void {
  const f = measureSpans() as SpanFigures & { flagged: number; flaggedRight: number };
  console.log(`FaithBench spans read by hand: n=${f.n} accuracy=${f.accuracy.toFixed(3)} (all-unsupported baseline ${f.baseline.toFixed(3)})`);
  console.log(`  of them, claims the detector marks unsupported: n=${f.flagged}, their verdict's failure_mode matches the reader's in ${f.flaggedRight}`);
  console.log(`  confusion (reader > classifier):`);
  for (const want of MODES) {
    const cells = MODES.map((got) => `${got}=${f.confusion.get(`${want}>${got}`) ?? 0}`).join(' ');
    console.log(`    ${want.padEnd(11)} ${cells}`);
  }
}

// ---- planted errors ----

const STRANGER = 'Hollingsworth';
const AUX = /\b(is|are|was|were|has|have|had|will|can|could|would|should|did|does|do)\b/i;

function plant(kind: Kind, claim: string, context: string): string | undefined {
  const lower = isUncased(claim);
  const tokens = tokenize(claim);
  switch (kind) {
    case 'none':
      return claim;
    case 'number': {
      const t = tokens.find((x) => x.number && /^\d/.test(x.raw));
      if (!t) return undefined;
      const digits = t.raw.replace(/[^\d]/g, '');
      const n = Number(digits);
      const changed = String(n >= 1000 && n < 2100 ? n + 3 : n + 7);
      return claim.slice(0, t.start) + changed + claim.slice(t.end);
    }
    case 'entity': {
      const words = commonWords();
      const t = tokens.find((x) => x.content && !x.number && (x.proper || (lower && x.raw.length > 3 && !words.has(x.raw.toLowerCase()))));
      if (!t || context.toLowerCase().includes(STRANGER.toLowerCase())) return undefined;
      return claim.slice(0, t.start) + (lower ? STRANGER.toLowerCase() : STRANGER) + claim.slice(t.end);
    }
    case 'swap': {
      // Two names the claim (and so the context) has, exchanged.
      const words = commonWords();
      const names = tokens.filter((x) => x.content && !x.number && (x.proper || (lower && x.raw.length > 3 && !words.has(x.raw.toLowerCase()))));
      // Two separate names, not two words of one ("Sarah Storey").
      const a = names[0];
      const b = names.find((x) => x.key !== a?.key && tokens.some((y) => y.content && y.start > a!.end && y.end < x.start && !names.includes(y)));
      if (!a || !b) return undefined;
      return claim.slice(0, a.start) + b.raw + claim.slice(a.end, b.start) + a.raw + claim.slice(b.end);
    }
    case 'negation': {
      const m = AUX.exec(claim);
      if (!m || /\bnot\b|n't\b|\bnever\b/i.test(claim)) return undefined;
      const at = m.index + m[0].length;
      return `${claim.slice(0, at)} not${claim.slice(at)}`;
    }
    case 'reference': {
      // A different kind of reference by claim length, so every pattern family is exercised.
      const refs = [`(see https://docs.example.org/${tokens.length}/notes)`, 'according to Okonkwo et al. (2017)', 'as the parse_settings() helper shows', 'as documented in config/loader.yaml'];
      return `${claim.replace(/[.!?]\s*$/, '')} ${refs[tokens.length % refs.length]}.`;
    }
    case 'unsupported':
      return `${claim.replace(/[.!?]\s*$/, '')}, which was widely praised at the time.`;
  }
}

export type Tally = Map<string, { n: number; right: number; got: Map<string, number> }>;

/** Planted errors in supported claims of correct rows: per kind, how often the planted mode comes back. */
export function measurePlanted(rows: Row[], perRow = 2): Tally {
  const tally: Tally = new Map();
  for (const row of rows) {
    const verdict = analyse(row.exchange, cfg);
    if (!verdict.grounded) continue;
    const context = contextText(row.exchange.context, cfg.maxContextChars).text;
    const ref = failureReference(context, row.exchange.question);
    const claims = verdict.hallucination.claims.filter((c) => c.support === 'supported').slice(0, perRow);
    for (const c of claims) {
      for (const kind of KINDS) {
        const text = plant(kind, c.text, context);
        if (text === undefined) continue;
        const got = failureModeOf(text, ref);
        const want = kind === 'none' ? 'unsupported' : kind === 'swap' ? 'entity' : kind;
        const t = tally.get(kind) ?? { n: 0, right: 0, got: new Map() };
        t.n++;
        if (got === want) t.right++;
        t.got.set(got, (t.got.get(got) ?? 0) + 1);
        tally.set(kind, t);
        if (verbose && got !== want) console.log(`  ${row.id} ${kind} → ${got}: ${text}`);
      }
    }
  }
  return tally;
}

type Kind = TextFailureMode | 'none' | 'swap';
const KINDS: Kind[] = ['none', 'number', 'entity', 'swap', 'negation', 'reference', 'unsupported'];

function printPlanted(name: string, rows: Row[]): void {
  const tally = measurePlanted(rows);
  const kinds = KINDS;
  const cells = kinds.map((k) => {
    const t = tally.get(k);
    return t ? `${k === 'none' ? 'unchanged' : k}=${(t.right / t.n).toFixed(3)} (n=${t.n})` : `${k}=n/a`;
  });
  console.log(`${name.padEnd(12)} ${cells.join(' ')}`);
  const none = tally.get('none');
  if (none) console.log(`${''.padEnd(12)} unchanged supported claims given a mode: ${[...none.got].map(([m, n]) => `${m}=${n}`).join(' ')}`);
}

/**
 * The classifier's share of analyse time, side by side in one run: analyse (which includes it) over
 * the rows, then the classification alone over the same verdicts, three rounds.
 */
function printSpeed(name: string): void {
  const rows = loadRows(name);
  commonWords();
  const prepared = rows.map((r) => {
    const ctx = contextText(r.exchange.context, cfg.maxContextChars).text;
    return { r, v: analyse(r.exchange, cfg), ctx, index: buildContextIndex(ctx, r.exchange.question) };
  });
  for (let round = 0; round < 3; round++) {
    let t0 = performance.now();
    for (let k = 0; k < 5; k++) for (const r of rows) analyse(r.exchange, cfg);
    const full = performance.now() - t0;
    t0 = performance.now();
    for (let k = 0; k < 5; k++) {
      for (const p of prepared) assignFailureModes(p.v.hallucination.claims, p.v.grounded ? FailureReference.fromIndex(p.index, p.ctx, p.r.exchange.question) : undefined);
    }
    const modes = performance.now() - t0;
    console.log(`${name.padEnd(12)} round ${round + 1}: analyse ${((5 * rows.length) / full * 1000).toFixed(0)} exchanges/s; failure modes ${((modes / full) * 100).toFixed(1)}% of it`);
  }
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  if (process.argv.includes('--speed')) {
    printSpeed('faithbench');
    printSpeed('qags-cnndm');
    process.exit(0);
  }
  printSpans();
  console.log('Planted errors (share given the planted mode; "unchanged" = share left `unsupported`):');
  printPlanted('halueval-qa', loadRows('halueval-qa').filter((r) => r.expected.hallucination === false));
  printPlanted('faithbench', loadRows('faithbench').filter((r) => r.expected.hallucination === false));
  printPlanted('qags-cnndm', loadRows('qags-cnndm').filter((r) => r.expected.hallucination === false));
}
