/**
 * The verdicts `analyse` gives on every dev row, fingerprinted: a SHA-256 per dev file over the
 * verdict JSON of its rows in order, and a short digest per row to point at what changed. A speed
 * change must leave every fingerprint as it was; a retrain or a feature change moves them on
 * purpose, and is written again with --write in the same commit.
 *
 *   npm run build && node dist/tooling/train/golden.js           # compare with the stored file
 *   npm run build && node dist/tooling/train/golden.js --write   # store the current verdicts' fingerprints
 *
 * Stored in src/tooling/train/golden.json; test/detect-golden.test.ts runs the same comparison.
 */
import { createHash } from 'node:crypto';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { analyse } from '../../detect/index.js';
import { applySamples } from '../../detect/samples.js';
import { datasetDir, defaultDetectConfig, loadRows, type Row } from './data.js';

/**
 * The four dev files through `analyse`, and `faithbench-samples`: each FaithBench summary checked
 * against the other summaries of its article as resampled answers (applySamples), once beside
 * the article and once without it, so that the sample check's path is held to the same account.
 */
export const GOLDEN_FILES = ['halueval-qa', 'faithbench', 'qags-cnndm', 'xstest', 'faithbench-samples'] as const;
const SAMPLES_PER_ROW = 4;

export interface GoldenFile {
  rows: number;
  sha256: string;
  /** Row id → first 16 hex characters of the SHA-256 of its verdict JSON. */
  perRow: Record<string, string>;
}
export type Golden = Record<string, GoldenFile>;

const here = path.dirname(fileURLToPath(import.meta.url));
/** The stored fingerprints live beside the source, whether this runs from src/ or dist/. */
export const GOLDEN_PATH = path.resolve(here, '../../../src/tooling/train/golden.json');

/** Verdicts of FaithBench summaries checked against other summaries of the same article. */
function sampleVerdicts(rows: Row[]): Array<{ id: string; verdict: unknown }> {
  const cfg = defaultDetectConfig();
  const byArticle = new Map<string, string[]>();
  const article = (r: Row): string => r.exchange.context.map((c) => c.text).join('\n');
  for (const r of rows) {
    const list = byArticle.get(article(r)) ?? [];
    list.push(r.exchange.response.text);
    byArticle.set(article(r), list);
  }
  const out: Array<{ id: string; verdict: unknown }> = [];
  for (const r of rows) {
    const answer = r.exchange.response.text;
    const samples = byArticle.get(article(r))!.filter((a) => a !== answer).slice(0, SAMPLES_PER_ROW);
    const question = r.exchange.question ?? '';
    const withContext = analyse(r.exchange, cfg);
    applySamples(withContext, { question, answer }, samples, cfg);
    const without = analyse({ ...r.exchange, context: [] }, cfg);
    applySamples(without, { question, answer }, samples, cfg);
    out.push({ id: r.id, verdict: [withContext, without] });
  }
  return out;
}

export function fingerprint(name: string, dir = datasetDir()): GoldenFile {
  const cfg = defaultDetectConfig();
  const whole = createHash('sha256');
  const perRow: Record<string, string> = {};
  const verdicts =
    name === 'faithbench-samples'
      ? sampleVerdicts(loadRows('faithbench', dir))
      : loadRows(name, dir).map((r) => ({ id: r.id, verdict: analyse(r.exchange, cfg) }));
  for (const r of verdicts) {
    const json = JSON.stringify(r.verdict);
    whole.update(json).update('\n');
    perRow[r.id] = createHash('sha256').update(json).digest('hex').slice(0, 16);
  }
  return { rows: verdicts.length, sha256: whole.digest('hex'), perRow };
}

/** The dev file a fingerprint reads. */
export const sourceFile = (name: string): string => (name === 'faithbench-samples' ? 'faithbench' : name);

export function readGolden(file = GOLDEN_PATH): Golden {
  return JSON.parse(readFileSync(file, 'utf8')) as Golden;
}

/** Ids of the rows whose verdict differs from the stored one (or is new, or gone). */
export function changedRows(stored: GoldenFile, now: GoldenFile): string[] {
  const ids = new Set([...Object.keys(stored.perRow), ...Object.keys(now.perRow)]);
  return [...ids].filter((id) => stored.perRow[id] !== now.perRow[id]);
}

const isMain = process.argv[1] !== undefined && path.resolve(process.argv[1]) === fileURLToPath(import.meta.url);
if (isMain) {
  const dir = datasetDir();
  const now: Golden = {};
  for (const name of GOLDEN_FILES) {
    if (!existsSync(path.join(dir, `${sourceFile(name)}.jsonl`))) throw new Error(`dev file ${name}.jsonl not found under ${dir} (set VERACITY_DEV_DATA)`);
    now[name] = fingerprint(name, dir);
  }
  if (process.argv.includes('--write')) {
    writeFileSync(GOLDEN_PATH, `${JSON.stringify(now, null, 1)}\n`);
    for (const name of GOLDEN_FILES) console.log(`${name.padEnd(12)} ${now[name]!.rows} rows ${now[name]!.sha256}`);
    console.log(`written to ${GOLDEN_PATH}`);
  } else {
    const stored = readGolden();
    let differ = 0;
    for (const name of GOLDEN_FILES) {
      const s = stored[name];
      const changed = s ? changedRows(s, now[name]!) : Object.keys(now[name]!.perRow);
      const same = s?.sha256 === now[name]!.sha256;
      if (!same) differ++;
      console.log(`${name.padEnd(12)} ${same ? 'same' : `CHANGED (${changed.length} rows: ${changed.slice(0, 8).join(', ')}${changed.length > 8 ? ', …' : ''})`}`);
    }
    process.exitCode = differ > 0 ? 1 : 0;
  }
}
