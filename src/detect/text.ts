import { stemmer } from 'stemmer';

/**
 * Word-level normalisation shared by the detectors: one tokeniser, one notion of "content word",
 * one way of writing numbers, dates and units, so that a claim and its context meet on equal terms.
 */

export interface Token {
  /** Surface form as written. */
  raw: string;
  /** Normalised key: a stem for words, a canonical value for numbers (`#181674817`), months (`@3`). */
  key: string;
  start: number;
  end: number;
  /** Not a function word. */
  content: boolean;
  /** Written with a capital letter somewhere other than a sentence start, or all caps. */
  proper: boolean;
  number: boolean;
}

const STOPWORDS = new Set(
  (
    'a an the and or but if then else of to in on at by for with from as into onto upon about over under ' +
    'this that these those there here it its it\'s he she they them his her their theirs we us our you your i me my ' +
    'is are was were be been being am do does did done doing have has had having will would shall should can could ' +
    'may might must also so such than too very just only which who whom whose what when where why how ' +
    'all any both each few more most other some own same s t ll d re ve m o y via per while during ' +
    'after before between through against above below up down out off again further once because until ' +
    'one\'s is\'s passage text article summary mentions mentioned describes states stated says said notes ' +
    'discusses highlights provides reports reported explains according yes yeah'
  ).split(/\s+/),
);

/** Words that flip the polarity of a clause. */
export const NEGATIONS = new Set([
  'not', 'no', 'never', 'none', 'nobody', 'nothing', 'neither', 'nor', 'without', 'cannot', "can't", "won't",
  "don't", "doesn't", "didn't", "isn't", "aren't", "wasn't", "weren't", "hasn't", "haven't", "hadn't",
  "shouldn't", "wouldn't", "couldn't", 'nowhere', 'n\'t', 'fail', 'fails', 'failed', 'denied', 'denies', 'deny',
]);

const MONTHS: Record<string, number> = {
  january: 1, jan: 1, february: 2, feb: 2, march: 3, mar: 3, april: 4, apr: 4, may: 5, june: 6, jun: 6,
  july: 7, jul: 7, august: 8, aug: 8, september: 9, sep: 9, sept: 9, october: 10, oct: 10,
  november: 11, nov: 11, december: 12, dec: 12,
};

const NUMBER_WORDS: Record<string, number> = {
  zero: 0, one: 1, two: 2, three: 3, four: 4, five: 5, six: 6, seven: 7, eight: 8, nine: 9, ten: 10,
  eleven: 11, twelve: 12, thirteen: 13, fourteen: 14, fifteen: 15, sixteen: 16, seventeen: 17, eighteen: 18,
  nineteen: 19, twenty: 20, thirty: 30, forty: 40, fifty: 50, sixty: 60, seventy: 70, eighty: 80, ninety: 90,
  hundred: 100, dozen: 12, first: 1, second: 2, third: 3, fourth: 4, fifth: 5, sixth: 6, seventh: 7,
  eighth: 8, ninth: 9, tenth: 10, twice: 2, thrice: 3, single: 1, double: 2, triple: 3, half: 0.5,
};

const SCALES: Record<string, number> = {
  thousand: 1e3, k: 1e3, million: 1e6, m: 1e6, mn: 1e6, billion: 1e9, bn: 1e9, b: 1e9, trillion: 1e12,
};

/**
 * Spelling variants and near-synonyms folded to one key so that a paraphrase is not read as a new fact.
 * Kept small and general on purpose: a wrong synonym hides a hallucination.
 */
const SYNONYMS: Record<string, string> = {
  us: 'usa', 'u.s': 'usa', 'u.s.': 'usa', america: 'usa', american: 'usa', 'united states': 'usa',
  uk: 'britain', 'u.k': 'britain', british: 'britain', england: 'britain', english: 'britain',
  film: 'movie', films: 'movie', movies: 'movie', picture: 'movie',
  begin: 'start', began: 'start', begun: 'start', starts: 'start', commenced: 'start', commence: 'start',
  purchase: 'buy', purchased: 'buy', bought: 'buy', acquire: 'buy', acquired: 'buy', acquisition: 'buy',
  killed: 'die', died: 'die', dead: 'die', death: 'die', deaths: 'die',
  big: 'large', huge: 'large', larger: 'large', bigger: 'large', largest: 'large', biggest: 'large',
  small: 'little', smaller: 'little', smallest: 'little', tiny: 'little',
  car: 'vehicle', cars: 'vehicle', automobile: 'vehicle',
  kid: 'child', kids: 'child', children: 'child',
  man: 'male', men: 'male', woman: 'female', women: 'female',
  people: 'person', persons: 'person', individuals: 'person', individual: 'person',
  nation: 'country', nations: 'country', countries: 'country',
  town: 'city', cities: 'city', towns: 'city',
  author: 'writer', authors: 'writer', writers: 'writer', wrote: 'write', written: 'write', writes: 'write',
  said: 'say', says: 'say', told: 'say', stated: 'say', claimed: 'say',
  cop: 'police', cops: 'police', officers: 'police', officer: 'police',
  approximately: 'about', around: 'about', roughly: 'about', nearly: 'about', almost: 'about',
  percent: '%', 'per cent': '%', pct: '%',
  dollars: '$', dollar: '$', usd: '$', pounds: '£', gbp: '£', euros: '€', euro: '€',
  km: 'kilometre', kilometers: 'kilometre', kilometres: 'kilometre', kilometer: 'kilometre',
  mi: 'mile', miles: 'mile', kg: 'kilogram', kilograms: 'kilogram', lb: 'pound', lbs: 'pound',
  ft: 'foot', feet: 'foot', metres: 'metre', meters: 'metre', meter: 'metre',
  hrs: 'hour', hr: 'hour', hours: 'hour', mins: 'minute', minutes: 'minute', yrs: 'year', years: 'year',
};

/** Word pairs whose swap turns a supported statement into a contradicted one. */
const ANTONYM_PAIRS: [string, string][] = [
  ['increase', 'decrease'], ['rise', 'fall'], ['rose', 'fell'], ['gain', 'loss'], ['win', 'lose'],
  ['won', 'lost'], ['before', 'after'], ['first', 'last'], ['higher', 'lower'], ['more', 'less'],
  ['most', 'least'], ['larger', 'smaller'], ['older', 'younger'], ['earlier', 'later'], ['above', 'below'],
  ['accept', 'reject'], ['accepted', 'rejected'], ['approve', 'deny'], ['approved', 'denied'], ['allow', 'forbid'],
  ['allowed', 'banned'], ['support', 'oppose'], ['supported', 'opposed'], ['open', 'closed'], ['alive', 'dead'],
  ['male', 'female'], ['north', 'south'], ['east', 'west'], ['guilty', 'innocent'], ['success', 'failure'],
  ['successful', 'unsuccessful'], ['positive', 'negative'], ['true', 'false'], ['legal', 'illegal'],
  ['public', 'private'], ['cheap', 'expensive'], ['cheapest', 'expensive'], ['start', 'end'], ['begin', 'end'],
  ['started', 'ended'], ['arrive', 'leave'], ['buy', 'sell'], ['bought', 'sold'], ['hire', 'fire'],
  ['hired', 'fired'], ['join', 'leave'], ['joined', 'left'], ['include', 'exclude'], ['included', 'excluded'],
  ['maximum', 'minimum'], ['majority', 'minority'], ['strong', 'weak'], ['up', 'down'], ['high', 'low'],
];

const stemCache = new Map<string, string>();

export const ANTONYMS: Map<string, Set<string>> = (() => {
  const m = new Map<string, Set<string>>();
  const add = (a: string, b: string): void => {
    const ka = stemOf(a);
    const kb = stemOf(b);
    if (!m.has(ka)) m.set(ka, new Set());
    m.get(ka)!.add(kb);
  };
  for (const [a, b] of ANTONYM_PAIRS) {
    add(a, b);
    add(b, a);
  }
  return m;
})();

/** Lower-case stem of a word, through the synonym table first; memoised because the same words recur. */
export function stemOf(word: string): string {
  const lower = word.toLowerCase();
  const cached = stemCache.get(lower);
  if (cached !== undefined) return cached;
  const syn = SYNONYMS[lower];
  let key: string;
  if (syn !== undefined) key = /^[a-z]{4,}$/.test(syn) ? stemmer(syn) : syn;
  else if (lower.length <= 3) key = lower;
  else key = stemmer(lower);
  if (stemCache.size > 200_000) stemCache.clear();
  stemCache.set(lower, key);
  return key;
}

// Numbers with thousands separators or decimals, words with inner apostrophes/hyphens/dots, currency and % signs.
const TOKEN_RE = /\d{1,3}(?:,\d{3})+(?:\.\d+)?|\d+(?:\.\d+)?(?:st|nd|rd|th|s)?|[\p{L}\p{M}]+(?:['’][\p{L}]+)*(?:\.(?=[\p{L}]\.))?|[$£€%]/gu;

function canonicalNumber(n: number): string {
  if (!Number.isFinite(n)) return '#?';
  const rounded = Math.round(n * 1000) / 1000;
  return `#${rounded}`;
}

/**
 * Tokenise with offsets. Numbers become canonical values (a scale word after a number multiplies it,
 * `$ 160 million` and `$160 million` agree); month names become `@n`; words become stems.
 */
export function tokenize(text: string): Token[] {
  const out: Token[] = [];
  TOKEN_RE.lastIndex = 0;
  let m: RegExpExecArray | null;
  let prevEnd = -1;
  let sentenceStart = true;
  while ((m = TOKEN_RE.exec(text)) !== null) {
    const raw = m[0];
    const start = m.index;
    const end = start + raw.length;
    if (prevEnd >= 0 && /[.!?:\n]/.test(text.slice(prevEnd, start))) sentenceStart = true;
    const lower = raw.toLowerCase();
    let key: string;
    let isNumber = false;
    let content = true;
    if (/^\d/.test(raw)) {
      isNumber = true;
      const digits = raw.replace(/,/g, '').replace(/(st|nd|rd|th|s)$/, '');
      key = canonicalNumber(Number(digits));
    } else if (lower in MONTHS && (raw[0] !== raw[0]!.toLowerCase() || lower.length > 3) && lower !== 'may') {
      key = `@${MONTHS[lower]}`;
      isNumber = true;
    } else if (lower === 'may' && raw === 'May' && !sentenceStart) {
      key = '@5';
      isNumber = true;
    } else if (lower in NUMBER_WORDS) {
      key = canonicalNumber(NUMBER_WORDS[lower]!);
      isNumber = true;
    } else if (raw === '$' || raw === '£' || raw === '€' || raw === '%') {
      key = raw;
      content = false;
    } else {
      // Possessives match their noun: "Disney's" / "Disney".
      key = stemOf(STOPWORDS.has(lower) ? raw : raw.replace(/['’]s$/i, ''));
      content = !STOPWORDS.has(lower) && !STOPWORDS.has(key) && !NEGATIONS.has(lower) && key.length > 0;
    }
    const prev = out[out.length - 1];
    // "160 million", "2.5bn": fold the scale into the number before it.
    if (!isNumber && prev && prev.number && prev.key.startsWith('#') && lower in SCALES && /^\s*$/.test(text.slice(prev.end, start))) {
      const value = Number(prev.key.slice(1)) * SCALES[lower]!;
      prev.key = canonicalNumber(value);
      prev.raw = text.slice(prev.start, end);
      prev.end = end;
      prevEnd = end;
      continue;
    }
    const hasUpper = raw !== lower;
    out.push({
      raw,
      key,
      start,
      end,
      content,
      proper: hasUpper && content && !isNumber && (!sentenceStart || (raw.length > 1 && raw === raw.toUpperCase())),
      number: isNumber,
    });
    prevEnd = end;
    sentenceStart = false;
  }
  return out;
}

export function isNegation(raw: string): boolean {
  const lower = raw.toLowerCase().replace(/’/g, "'");
  return NEGATIONS.has(lower) || lower.endsWith("n't");
}
