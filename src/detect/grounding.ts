import type { ContextPart } from '../capture/exchange.js';
import type { Claim } from './claims.js';
import { splitSentences } from './claims.js';
import { ANTONYMS, isCountWord, RELATED, roundedFrom, SIGNS, stemOf, tokenize, wordRank, type Token } from './text.js';
import { antonymAmong, contextMeaning, restatedIn, rowsOf, type ContextMeaning } from './semantics/wordnet.js';
import { afterAuxiliary, numberAttachments, PassageWindow, relationFeatures } from './relations.js';

/**
 * Per-claim support against the request's context, by lexical evidence that survives paraphrase:
 * stems, folded synonyms, canonical numbers/dates/quantities, proper names, and the best single
 * passage (a claim stitched from words scattered across a document is weaker than one a passage states).
 * Negation or antonym flips against the best passage make a claim `contradicted`.
 */

export interface Passage {
  text: string;
  keys: Set<string>;
  negated: boolean;
  /** The passage's tokens, kept so that later readings (failure modes) need not tokenise it again. */
  tokens: Token[];
  /** Its content and number keys in order (relations read word order). */
  seq: string[];
  /** Its keys' WordNet rows, looked up on first use. */
  rows?: number[] | undefined;
}

export interface ContextIndex {
  keys: Set<string>;
  /** A number for each content key, in order of first appearance: word order (`order`) is kept in these numbers. */
  ids: Map<string, number>;
  /** Where each content word stands, to tell which pairs of words the context says together. */
  order: WordOrder;
  /** Lower-cased context, for verbatim phrase look-ups. */
  readonly lower: string;
  passages: Passage[];
  postings: Map<string, number[]>;
  questionKeys: Set<string>;
  /** Numbers written in the context (canonical keys), to tell a swapped number from a new one. */
  numbers: Set<string>;
  /** Per passage, the share of question keys its window of three holds (-1 until worked out). */
  questionShare: Float64Array;
  /**
   * For each number in the context, the content words written right before it (through a few
   * small words: "staff to 600") and right after it ("40 nurses"), as `<word` and `>word`.
   */
  numberNeighbours: Map<string, Set<string>>;
  /** Claim words already looked up in WordNet against this context, and the context word that restates each (null: none). */
  restated: Map<string, string | null>;
  /** The context's words as WordNet sees them (semantics/wordnet.ts), made on the first look-up. */
  meaning?: ContextMeaning;
  /** Windows of three passages as relations read them, by middle passage, made on first use. */
  windows: Map<number, PassageWindow>;
  /** The context's names as `nameParts` reads them, made on first use. */
  names?: NameParts;
  /**
   * The failure-mode reference (failure-mode.ts) last made from this context: kept with the
   * context's shared part, so exchanges with the same context and question share it.
   */
  failureReference?: object;
}

export interface ClaimFeatures {
  /** Content tokens in the claim (numbers included). */
  n: number;
  /** Share of claim content tokens found anywhere in the context. */
  coverage: number;
  /** Share of tokens not already in the question that the context has (1 when there are none). */
  novelCoverage: number;
  /** Tokens neither in the question nor in the context. */
  novelMissing: number;
  /** Proper-name tokens missing from context and question. */
  properMissing: number;
  /** Numbers/dates missing from the context. */
  numberMissing: number;
  /** Best single passage: share of claim content tokens it holds. */
  passageCoverage: number;
  /** Share of adjacent content-word pairs that also sit together, in that order, in the context. */
  bigramCoverage: number;
  /** Share of adjacent claim content-word pairs that sit close together (any order) in the context. */
  pairCoverage: number;
  /**
   * Places where the claim joins two runs it copies word for word (two content words or more
   * each, side by side in the context) whose meeting words no passage holds together: facts from
   * different sentences made into one ("Arsenal beat Manchester United 3-2 at Turf Moor" from
   * "… beating Manchester United in the FA Cup …", "a 3-2 defeat at Stoke" and "… at Turf Moor").
   */
  spliced: number;
  /** Polarity of the claim differs from its best passage. */
  negationFlip: boolean;
  /** The claim uses a word whose antonym the best passage uses instead. */
  antonymFlip: boolean;
  /**
   * A name or number the context lacks, inside a claim whose other words the context has: the
   * signature of a swapped entity, date or quantity.
   */
  specificSwap: boolean;
  /** Only question words: the claim restates what was asked. */
  restatesQuestion: boolean;
  /** The claim talks about the source itself ("the passage does not say …"), not about the world. */
  metaReference: boolean;
  /**
   * How much of the question the context says around the claim's new words (0..1; 1 when there is
   * no question to anchor to). A right answer sits next to what was asked; a wrong entity lifted
   * from elsewhere in the context does not.
   */
  questionLocality: number;
  /** Names, rare words and specific terms (whatever their casing) that neither context nor question has. */
  specificMissing: number;
  /** Share of the claim's everyday words that neither context nor question has (paraphrase is likely). */
  commonMissingShare: number;
  /** Share of the claim's words found only as a near-synonym the context uses ("built" for "completed"). */
  relatedShare: number;
  /** Best three consecutive passages: share of claim content tokens they hold together. */
  windowCoverage: number;
  /** Share of the claim's words the context restates only through WordNet (a synonym, a narrower word). */
  meaningShare: number;
  /** Claim words standing where the passage has another word that does not mean the same (approved → rejected). */
  substituted: number;
  /** A number the context has, written beside words the context writes beside another number. */
  numberSwap: boolean;
  /**
   * Who did what to whom is reversed against the passage (voice taken into account), or the claim
   * names someone or something else where the passage names another between the same two words.
   */
  roleSwap: boolean;
  /**
   * Every name, number and specific word is in the context, and what is missing is at most one
   * everyday word ("saw", "now", "total"), most of it within three consecutive passages: the claim
   * says again, in other words, what one place in the context says.
   */
  restated: boolean;
  /**
   * Names, numbers and rare words that the context has, but not in the passages the rest of the
   * claim comes from: an entity or figure moved from one fact to another.
   */
  specificElsewhere: number;
  /**
   * A claim about what the source lacks ("the passage does not mention X"), held to the source
   * the other way round: `broken` when one place in the source says X (the claim is then a
   * flipped polarity), `holds` when the source lacks X or the claim speaks of a kind of detail
   * ("any details about the plot") that words cannot check. Only `broken` changes the reading: a
   * claim that holds is scored as any other (docs/detection.md, "What the source lacks").
   * Absent for every other claim.
   */
  absence?: 'holds' | 'broken';
  evidence: string;
}

const MAX_PASSAGES_SCORED = 64;
const JOINED = 1;
const APART = 2;
let joinScratch = new Uint8Array(64);
function joinBuffer(n: number): Uint8Array {
  if (joinScratch.length < n) joinScratch = new Uint8Array(n * 2);
  joinScratch.fill(0, 0, Math.max(0, n));
  return joinScratch;
}

/** Punctuation between two claim words: a copied run that ends there ends a clause, not a fact. */
const CLAUSE_MARK = /[,;:()\u2013\u2014"]|\s-\s/;

/**
 * Junctions of two copied runs from different places: a pair `APART` with a `JOINED` pair on
 * each side, its two words in no passage together, and no break in the claim's own clause
 * between them (a list or an inserted clause may join facts from anywhere). Runs from one
 * passage in another order are how a summary reorders ("James Taylor's fourteenth studio album"
 * for "the fourteenth studio album by James Taylor"), so they do not count.
 */
function splices(joins: Uint8Array, claim: string, content: Token[], keys: string[], index: ContextIndex): number {
  let n = 0;
  for (let i = 1; i + 2 < keys.length; i++) {
    if (joins[i] !== APART || joins[i - 1] !== JOINED || joins[i + 1] !== JOINED) continue;
    if (CLAUSE_MARK.test(claim.slice(content[i]!.end, content[i + 1]!.start))) continue;
    if (sharePassage(index, keys[i]!, keys[i + 1]!)) continue;
    n++;
  }
  return n;
}

function sharePassage(index: ContextIndex, a: string, b: string): boolean {
  const pa = index.postings.get(a);
  const pb = index.postings.get(b);
  return pa !== undefined && pb !== undefined && pa.some((p) => pb.includes(p));
}
const YEAR = stemOf('year');
const OLD = stemOf('old');

/**
 * Whether the number at `i` begins an age the context writes as a bare number: "Keating, a
 * 21-year-old striker" says what "Striker Keating, 21," says, and news summaries write ages both
 * ways. Only where the context gives that number and never writes "year" beside it.
 */
function ageAt(tokens: readonly Token[], i: number, index: ContextIndex): boolean {
  const t = tokens[i]!;
  return (
    i + 2 < tokens.length && tokens[i + 1]!.key === YEAR && tokens[i + 2]!.key === OLD &&
    index.numbers.has(t.key) && !index.numberNeighbours.get(t.key)?.has(`>${YEAR}`)
  );
}

/**
 * Positions of the claim tokens that count as neither found nor missing: the "year" and "old" of
 * an age written two ways (`ageAt`), and small count words (`COUNT_WORDS`) the context never
 * gives. A different number in a slot the context fills is still read by the relations (they see
 * every token). A count word the question asks with is kept ("Which was founded first?"): there
 * the word is the answer.
 */
function passedOver(tokens: readonly Token[], index: ContextIndex): Set<number> | undefined {
  let out: Set<number> | undefined;
  for (let i = 0; i < tokens.length; i++) {
    const t = tokens[i]!;
    if (!t.number) continue;
    if (ageAt(tokens, i, index)) (out ??= new Set()).add(i + 1).add(i + 2);
    else if (isCountWord(t) && !index.numbers.has(t.key) && !index.questionKeys.has(t.key)) (out ??= new Set()).add(i);
  }
  return out;
}

/** Words this frequent ("saw", "made", "total", "now") carry phrasing more than content. */
const LIGHT_RANK = 1500;
const META_REFERENCE =
  /\b(?:the|this|that|provided|given|above|original) (?:passage|text|article|context|document|excerpt|source|summary|information provided)\b|\b(?:it(?:'s| is) (?:important|worth) (?:to note|noting))\b/i;
/** How many content words apart two context words may sit and still count as related. */
const PAIR_WINDOW = 4;
/** Verbs whose meaning sits in the noun they take ("give approval", "make a decision"), as keys. */
const LIGHT_VERBS = new Set(
  ['give', 'gave', 'given', 'make', 'made', 'take', 'took', 'taken', 'see', 'saw', 'seen', 'hold', 'held', 'get', 'got', 'put', 'pay', 'paid', 'carry', 'carried'].map(stemOf),
);

/** A content word or a number: what word pairs, passages and coverage read. */
const isWord = (t: Token): boolean => t.content || t.number;

function keysOf(tokens: Token[]): Set<string> {
  const s = new Set<string>();
  for (const t of tokens) if (isWord(t)) s.add(t.key);
  return s;
}

/**
 * Sentences, cut again at semicolons: "take 200–400 mg …; do not exceed 1,200 mg" holds two
 * statements of opposite polarity, and a claim restating the first must not inherit the second's "not".
 */
function passagesOf(text: string): string[] {
  const out: string[] = [];
  for (const [s, e] of splitSentences(text)) {
    const sentence = text.slice(s, e);
    if (!sentence.includes(';')) out.push(sentence);
    else for (const part of sentence.split(/;\s+/)) out.push(part);
  }
  return out;
}

/**
 * A passage's asides: a relative clause between commas (", who voiced Olaf …,"), a bracket, or
 * words between dashes. Summaries leave them out and join what stood on either side.
 */
const ASIDE = /, (?:who|which|whose|whom|where)\b[^,;()]*,|\([^()]*\)| (?:--|–|—) [^-–—]* (?:--|–|—)/g;

/** What summaries of a passage leave out or move, as ranges of its tokens ([first, end)). */
interface Stretches {
  /** Its asides (`ASIDE`). */
  asides: Array<[number, number]>;
  /**
   * Its runs of numbers, dates included ("aired from October 3, 2013 to July 18, 2015 and ran 34
   * episodes over two seasons on CBS": "aired on CBS"). Figures are compared by the number
   * readings and the relations, not by word pairs.
   */
  numbers: Array<[number, number]>;
}

function leftOut(text: string, tokens: readonly Token[]): Stretches {
  const asides: Array<[number, number]> = [];
  ASIDE.lastIndex = 0;
  // Matches come in order and do not overlap: one walk through the tokens serves them all.
  let end = 0;
  for (let m = ASIDE.exec(text); m !== null; m = ASIDE.exec(text)) {
    let first = end;
    while (first < tokens.length && tokens[first]!.start < m.index) first++;
    end = first;
    while (end < tokens.length && tokens[end]!.start < ASIDE.lastIndex) end++;
    if (end > first) asides.push([first, end]);
  }
  // A run: numbers with no other word between them (small words and signs may stand between).
  const numbers: Array<[number, number]> = [];
  let from = -1;
  let to = -1;
  for (let i = 0; i <= tokens.length; i++) {
    const t = tokens[i];
    if (t !== undefined && !isWord(t)) continue;
    if (t?.number) {
      if (from < 0) from = i;
      to = i + 1;
    } else if (from >= 0) {
      numbers.push([from, to]);
      from = -1;
    }
  }
  return { asides, numbers };
}

const ASIDE_TOKEN = 1;
const NUMBER_TOKEN = 2;

/**
 * Around each stretch that `leftOut` found, the words on either side of it once more, side by side,
 * as a loose reading (`WordOrder.add`: for word pairs, not for copied runs): "Josh Gad, who voiced
 * Olaf the snowman in Frozen, is also on board as Gaston's sidekick LeFou" holds "Gad … LeFou" as
 * closely as a summary that leaves the clause out. Only pairs across a stretch are new, so only
 * PAIR_WINDOW words each side are written. Around an aside no aside's words are written; around
 * a run of numbers neither an aside's words nor any number ("Veeram (Valour) is a 2014 Indian
 * Tamil action film": "Veeram … Indian Tamil action film"), while a figure beside an aside stays
 * beside the words across it ("the Lib Dems, who lost 11 of their 12 MEPs, £1.45").
 */
function writeAround(order: WordOrder, wordIds: Int32Array, tokens: readonly Token[], { asides, numbers }: Stretches): void {
  if (asides.length === 0 && numbers.length === 0) return;
  const flags = insideBuffer(tokens.length);
  for (const [first, end] of asides) flags.fill(ASIDE_TOKEN, first, end);
  for (const [first, end] of numbers) for (let i = first; i < end; i++) flags[i]! |= NUMBER_TOKEN;
  const write = (first: number, end: number, skip: number): void => {
    const kept = (i: number): boolean => (flags[i]! & skip) === 0 && isWord(tokens[i]!);
    let from = first;
    let before = 0;
    while (from > 0 && before < PAIR_WINDOW) if (kept(--from)) before++;
    let after = 0;
    for (let i = from; i < tokens.length && after < PAIR_WINDOW; i++) {
      if ((i >= first && i < end) || !kept(i)) continue;
      order.add(wordIds[i]!, true);
      if (i >= end) after++;
    }
    order.endPassage();
  };
  for (const [first, end] of asides) write(first, end, ASIDE_TOKEN);
  for (const [first, end] of numbers) write(first, end, ASIDE_TOKEN | NUMBER_TOKEN);
}

/** Pronouns that open a sentence about someone the sentence before named. */
const LEADING_PRONOUN = new Set(['he', 'she', 'his', 'her', 'they', 'their']);

/**
 * The first name a passage writes, as word ids: capitalised words inside the sentence, or an
 * uncommon one that opens it ("Sheerin, 39, has been …"), with the names right after it.
 */
function namesIn(tokens: readonly Token[], wordIds: Int32Array): number[] | undefined {
  let run: number[] | undefined;
  for (let i = 0; i < tokens.length; i++) {
    const t = tokens[i]!;
    if (isNamePart(t) && (t.proper || t.rare || tokens[i + 1]?.proper === true)) (run ??= []).push(wordIds[i]!);
    else if (run) break;
  }
  return run;
}

/**
 * A passage that opens with "He", "She", "His", "They" …: the words after the pronoun once more,
 * after the first name of the passage before, as a loose reading (word pairs only). "Sheerin, 39,
 * has been player-manager at Arbroath since 2010. He previously played for Aberdeen" holds
 * "Sheerin … played for Aberdeen" as closely as a summary that names him.
 */
function writeForPronoun(order: WordOrder, wordIds: Int32Array, tokens: readonly Token[], name: readonly number[] | undefined): void {
  if (!name || tokens.length === 0 || !LEADING_PRONOUN.has(tokens[0]!.raw.toLowerCase())) return;
  for (const id of name) order.add(id, true);
  let after = 0;
  for (let i = 1; i < tokens.length && after < PAIR_WINDOW; i++) {
    if (!isWord(tokens[i]!)) continue;
    order.add(wordIds[i]!, true);
    after++;
  }
  order.endPassage();
}

/** Per token of the passage being indexed, its word id; and which tokens `leftOut` covers. Reused, grown as needed. */
let wordIdBuffer = new Int32Array(256);
let insideFlags = new Uint8Array(256);
function idBuffer(n: number): Int32Array {
  if (wordIdBuffer.length < n) wordIdBuffer = new Int32Array(Math.max(n, wordIdBuffer.length * 2));
  return wordIdBuffer;
}
function insideBuffer(n: number): Uint8Array {
  if (insideFlags.length < n) insideFlags = new Uint8Array(Math.max(n, insideFlags.length * 2));
  insideFlags.fill(0, 0, n);
  return insideFlags;
}

/**
 * The context's content words by id, passage after passage, and where each id stands: which two
 * words sit side by side, or close together, is read from the positions of the first word when a
 * claim asks, instead of storing every pair the context has (most of which no claim asks about).
 */
export class WordOrder {
  /** Word ids in order, -1 between passages and after each extra reading of one (`add`'s `loose`). */
  private readonly seq: number[] = [];
  /** Per position, 1 where it belongs to an extra reading: word pairs read it, `follows` does not. */
  private readonly loose: number[] = [];
  /** Per id, its first position in `seq`. */
  private readonly first: number[] = [];
  /** Per position, the next position of the same id (-1: none). */
  private readonly next: number[] = [];
  private readonly last: number[] = [];

  /**
   * `loose`: the word belongs to an extra reading of a passage (the words around an aside, side by
   * side), which makes words close but copies no run of the passage.
   */
  add(id: number, loose = false): void {
    const at = this.seq.length;
    this.seq.push(id);
    this.next.push(-1);
    this.loose.push(loose ? 1 : 0);
    if (id >= this.first.length) {
      this.first.push(at);
      this.last.push(at);
    } else {
      this.next[this.last[id]!] = at;
      this.last[id] = at;
    }
  }

  endPassage(): void {
    this.seq.push(-1);
    this.next.push(-1);
    this.loose.push(0);
  }

  /** `b` right after `a` in some passage, as written. */
  follows(a: number, b: number): boolean {
    const seq = this.seq;
    for (let p = this.first[a] ?? -1; p >= 0; p = this.next[p]!) if (seq[p + 1] === b && this.loose[p] === 0) return true;
    return false;
  }

  /** `a` and `b` within PAIR_WINDOW words of each other, in either order, in some passage. */
  near(a: number, b: number): boolean {
    const seq = this.seq;
    for (let p = this.first[a] ?? -1; p >= 0; p = this.next[p]!) {
      for (let q = p + 1; q <= p + PAIR_WINDOW && q < seq.length && seq[q]! >= 0; q++) if (seq[q] === b) return true;
      for (let q = p - 1; q >= p - PAIR_WINDOW && q >= 0 && seq[q]! >= 0; q--) if (seq[q] === b) return true;
    }
    return false;
  }
}

/** What an index holds that depends on the context text alone: shared by every exchange with that context. */
interface ContextCore {
  keys: Set<string>;
  ids: Map<string, number>;
  order: WordOrder;
  passages: Passage[];
  postings: Map<string, number[]>;
  numbers: Set<string>;
  numberNeighbours: Map<string, Set<string>>;
  restated: Map<string, string | null>;
  meaning?: ContextMeaning;
  windows: Map<number, PassageWindow>;
  names?: NameParts;
  failureReference?: object;
  lower?: string;
  text: string;
}

function indexContext(contextText: string): ContextCore {
  const keys = new Set<string>();
  const ids = new Map<string, number>();
  const numbers = new Set<string>();
  const passages: Passage[] = [];
  const postings = new Map<string, number[]>();
  const order = new WordOrder();
  const numberNeighbours = new Map<string, Set<string>>();
  // Per word id, its postings list and the last passage that added to it: one look-up of the
  // word per occurrence, the sets and maps written only for a word's first occurrence.
  const lists: number[][] = [];
  const lastPassage: number[] = [];
  /** The first name the latest passage with a name writes: whom a leading "He" or "She" means. */
  let previousName: number[] | undefined;
  for (const text of passagesOf(contextText)) {
    const tokens = tokenize(text);
    let contentCount = 0;
    for (const t of tokens) if (isWord(t)) contentCount++;
    if (contentCount === 0) continue;
    const id = passages.length;
    const pk = new Set<string>();
    const seqKeys: string[] = [];
    let negated = false;
    const wordIds = idBuffer(tokens.length);
    for (let i = 0; i < tokens.length; i++) {
      const t = tokens[i]!;
      if (t.negation) negated = !negated;
      if (!isWord(t)) continue;
      const k = t.key;
      let wordId = ids.get(k);
      if (wordId === undefined) {
        ids.set(k, (wordId = ids.size));
        keys.add(k);
        const list: number[] = [];
        postings.set(k, list);
        lists.push(list);
        lastPassage.push(-1);
      }
      if (t.number) numbers.add(k);
      if (lastPassage[wordId] !== id) {
        lastPassage[wordId] = id;
        pk.add(k);
        lists[wordId]!.push(id);
      }
      order.add(wordId);
      wordIds[i] = wordId;
      seqKeys.push(k);
    }
    order.endPassage();
    writeAround(order, wordIds, tokens, leftOut(text, tokens));
    writeForPronoun(order, wordIds, tokens, previousName);
    previousName = namesIn(tokens, wordIds) ?? previousName;
    for (const [x, word] of numberAttachments(tokens)) {
      let near = numberNeighbours.get(x);
      if (!near) numberNeighbours.set(x, (near = new Set()));
      near.add(word);
    }
    passages.push({ text, keys: pk, negated, tokens, seq: seqKeys, rows: undefined });
  }
  return { keys, ids, order, passages, postings, numbers, numberNeighbours, restated: new Map(), windows: new Map(), text: contextText };
}

/** One exchange's index: the context's shared core, and what the exchange's question adds. */
class ExchangeIndex implements ContextIndex {
  readonly keys: Set<string>;
  readonly ids: Map<string, number>;
  readonly order: WordOrder;
  readonly passages: Passage[];
  readonly postings: Map<string, number[]>;
  readonly numbers: Set<string>;
  readonly numberNeighbours: Map<string, Set<string>>;
  readonly restated: Map<string, string | null>;
  readonly windows: Map<number, PassageWindow>;
  private share?: Float64Array;

  constructor(
    private readonly core: ContextCore,
    readonly questionKeys: Set<string>,
  ) {
    this.keys = core.keys;
    this.ids = core.ids;
    this.order = core.order;
    this.passages = core.passages;
    this.postings = core.postings;
    this.numbers = core.numbers;
    this.numberNeighbours = core.numberNeighbours;
    this.restated = core.restated;
    this.windows = core.windows;
  }

  get lower(): string {
    return (this.core.lower ??= this.core.text.toLowerCase());
  }

  get failureReference(): object | undefined {
    return this.core.failureReference;
  }

  set failureReference(ref: object | undefined) {
    this.core.failureReference = ref;
  }

  get meaning(): ContextMeaning | undefined {
    return this.core.meaning;
  }

  set meaning(meaning: ContextMeaning | undefined) {
    this.core.meaning = meaning;
  }

  get names(): NameParts | undefined {
    return this.core.names;
  }

  set names(names: NameParts | undefined) {
    this.core.names = names;
  }

  get questionShare(): Float64Array {
    return (this.share ??= new Float64Array(this.passages.length).fill(-1));
  }
}

/**
 * Indexes of contexts seen again, most recently used last. A document asked about many times in
 * a row (one article and its summaries, one system prompt and its conversation) is read once. A
 * context is kept only when it comes back within a few exchanges, and only the latest such
 * context is kept: on the FaithBench dev rows (ten answers per article) keeping sixteen ran no
 * faster than keeping one, and more than doubled the bytes the young generation promoted and the
 * time spent collecting, since kept indexes outlive it and become garbage the old generation must
 * collect. What a core memoises (WordNet look-ups, the lower-cased text, windows) depends on the
 * context alone, so sharing it leaves every verdict as it was.
 */
const cores = new Map<string, ContextCore>();
let coreChars = 0;
const CORE_ENTRIES = 1;
const CORE_CHARS = 1_000_000;
/** Hashes of the last few contexts built and not kept: a context among them when it comes again is kept. */
const SIGHTINGS = 8;
const sightings = new Int32Array(SIGHTINGS);
let sightingAt = 0;

function textHash(s: string): number {
  let h = 0x811c9dc5 ^ s.length;
  for (let i = 0; i < s.length; i++) h = Math.imul(h ^ s.charCodeAt(i), 0x01000193);
  // Never 0, which marks a free sighting.
  return h | 1;
}

/** The last core built and not kept: the context's second sighting keeps it rather than building it again. */
let lastBuilt: ContextCore | undefined;

function coreOf(contextText: string): ContextCore {
  const kept = cores.get(contextText);
  if (kept !== undefined) {
    cores.delete(contextText);
    cores.set(contextText, kept);
    return kept;
  }
  let core: ContextCore;
  if (lastBuilt !== undefined && lastBuilt.text === contextText) core = lastBuilt;
  else {
    core = indexContext(contextText);
    if (contextText.length > CORE_CHARS / 4) return core;
    const h = textHash(contextText);
    const seen = sightings.indexOf(h);
    if (seen < 0) {
      sightings[sightingAt] = h;
      sightingAt = (sightingAt + 1) % SIGHTINGS;
      lastBuilt = core;
      return core;
    }
    sightings[seen] = 0;
  }
  lastBuilt = undefined;
  cores.set(contextText, core);
  coreChars += contextText.length;
  for (const [text] of cores) {
    if (cores.size <= CORE_ENTRIES && coreChars <= CORE_CHARS) break;
    cores.delete(text);
    coreChars -= text.length;
  }
  return core;
}

export function buildContextIndex(contextText: string, question: string): ContextIndex {
  return new ExchangeIndex(coreOf(contextText), keysOf(tokenize(question)));
}

/** No passages: relations then read only numbers. */
const NO_WINDOW = new PassageWindow([]);

/** Passages `id - 1` to `id + 1` as relations read them, made once per context. */
function windowAt(index: ContextIndex, id: number): PassageWindow {
  let w = index.windows.get(id);
  if (w === undefined) {
    const p = index.passages;
    w = new PassageWindow([p[id - 1], p[id], p[id + 1]].filter((x): x is Passage => x !== undefined));
    index.windows.set(id, w);
  }
  return w;
}

/** Share of the question's keys that passage `id` and its neighbours hold, worked out once per passage. */
function questionShareAt(index: ContextIndex, id: number): number {
  let share = index.questionShare[id]!;
  if (share < 0) {
    const q = index.questionKeys;
    const here = index.passages[id]!.keys;
    const before = index.passages[id - 1]?.keys;
    const after = index.passages[id + 1]?.keys;
    let shared = 0;
    for (const k of q) if (here.has(k) || before?.has(k) || after?.has(k)) shared++;
    share = shared / q.size;
    index.questionShare[id] = share;
  }
  return share;
}

/**
 * Per passage, how many of the claim's keys it holds, and which of the first 31 as bits: buffers
 * reused by every claim and zeroed after each (see `touched`).
 */
let hitBuffer = new Int32Array(256);
let maskBuffer = new Int32Array(256);
function scratch(passages: number): void {
  if (hitBuffer.length >= passages) return;
  const size = Math.max(passages, hitBuffer.length * 2);
  hitBuffer = new Int32Array(size);
  maskBuffer = new Int32Array(size);
}
/** Claim keys up to this many are tracked as bits; a claim's further keys are looked up one by one. */
const MASK_KEYS = 31;
/** A key in more passages than this is looked up one by one rather than through its postings. */
const MASK_POSTINGS = 64;

function bitCount(x: number): number {
  x -= (x >>> 1) & 0x55555555;
  x = (x & 0x33333333) + ((x >>> 2) & 0x33333333);
  return (((x + (x >>> 4)) & 0x0f0f0f0f) * 0x01010101) >>> 24;
}

/**
 * The first `k` passages of `ids` by hits, most first, ties in the order given (as a stable sort
 * would leave them), without sorting them all.
 */
function topByHits(ids: readonly number[], hits: Int32Array, k: number): number[] {
  const top: number[] = [];
  for (const id of ids) {
    const h = hits[id]!;
    if (top.length === k && h <= hits[top[k - 1]!]!) continue;
    let at = top.length;
    while (at > 0 && hits[top[at - 1]!]! < h) at--;
    top.splice(at, 0, id);
    if (top.length > k) top.pop();
  }
  return top;
}

/**
 * Whether a negation of the passage governs a word the claim says (`governs`): "has not been
 * fined over the incident and will be in the squad" negates "fined", not "will be in the squad".
 * A word the passage says twice does not count.
 */
function negatesClaimWord(passage: Passage, claimKeys: readonly string[]): boolean {
  return governs(passage.tokens, passage.text, (w) => claimKeys.includes(w.key) && !saidTwice(passage.tokens, w.key));
}

/**
 * Whether a negation in `tokens` governs a word that `says` accepts: one of the first three
 * content words after it, before a comma, a dash or a word that opens another clause.
 */
function governs(t: readonly Token[], text: string, says: (w: Token) => boolean): boolean {
  for (let i = 0; i < t.length; i++) {
    if (!t[i]!.negation || notUntil(t, text, i)) continue;
    for (let j = i + 1, seen = 0; j < t.length && seen < NEGATION_REACH; j++) {
      const w = t[j]!;
      if (CLAUSE_BREAK.test(text.slice(t[j - 1]!.end, w.start)) || CLAUSE_WORD.test(w.raw)) break;
      if (!w.content && !w.number) continue;
      if (says(w)) return true;
      seen++;
    }
  }
  return false;
}
/**
 * "will not be finalised until Friday" says when it will be, as "will be finalised on Friday"
 * does: a negation whose clause goes on to "until" denies only the time before.
 */
function notUntil(t: readonly Token[], text: string, at: number): boolean {
  for (let j = at + 1; j < t.length && j <= at + UNTIL_REACH; j++) {
    const w = t[j]!;
    if (CLAUSE_BREAK.test(text.slice(t[j - 1]!.end, w.start)) || CLAUSE_WORD.test(w.raw)) return false;
    if (w.raw.toLowerCase() === 'until' || w.raw.toLowerCase() === 'till') return true;
  }
  return false;
}
/** How far after a negation (in words of any kind) an "until" still belongs to its clause. */
const UNTIL_REACH = 8;
/** A word said twice may be said once outside the negation ("taken five bets …, with not a single bet on Labour"). */
function saidTwice(tokens: readonly Token[], key: string): boolean {
  let n = 0;
  for (const t of tokens) if (t.key === key && ++n === 2) return true;
  return false;
}
/** How many content words after a negation it governs. */
const NEGATION_REACH = 3;
/** "No, …" answering a question denies the whole claim. */
const ANSWER_NO = /^\s*no\s*[,.!;:]/i;
const CLAUSE_BREAK = /[,;:()]|\s[-–—]+\s/;
const CLAUSE_WORD = /^(?:and|but|or|while|whereas|although|though|who|which)$/i;

/**
 * The WordNet rows an antonym check passes over: the claim's own words, and "old" where the
 * passage only gives an age with it ("the 39-year-old" is no opposite of "new" or "recent").
 */
function notOpposed(claimKeys: readonly string[], passage: Passage): Set<number> {
  const rows = new Set(rowsOf(claimKeys));
  if (!passage.keys.has('old')) return rows;
  const t = passage.tokens;
  for (let i = 0; i < t.length; i++) if (t[i]!.key === 'old' && (i === 0 || !AGE_UNITS.test(t[i - 1]!.raw))) return rows;
  for (const r of rowsOf(['old'])) rows.add(r);
  return rows;
}
const AGE_UNITS = /^(?:years?|months?|weeks?|days?)$/i;

/** The keys in order of first appearance, each once (a claim has few: no set is needed to tell). */
function distinct(keys: readonly string[]): string[] {
  if (keys.length > 48) return [...new Set(keys)];
  const out: string[] = [];
  for (const k of keys) if (!out.includes(k)) out.push(k);
  return out;
}

/**
 * The context's capitalised words, and those of them it ever writes next to another capitalised
 * word ("Neil Cooper", "Dundee United"): a word written on its own is a name's part used alone.
 */
interface NameParts {
  capitalised: Set<string>;
  joined: Set<string>;
}

const CAPITAL = /^\p{Lu}/u;
const POSSESSIVE = /['’]s?$/;

function isNamePart(t: Token): boolean {
  return !t.number && t.content && CAPITAL.test(t.raw);
}

/** Only spaces between two tokens of one text: written side by side. */
function sideBySide(a: Token, b: Token, text: string): boolean {
  for (let i = a.start + a.raw.length; i < b.start; i++) if (text.charCodeAt(i) !== 32) return false;
  return true;
}

function nameParts(index: ContextIndex): NameParts {
  if (index.names) return index.names;
  const capitalised = new Set<string>();
  const joined = new Set<string>();
  for (const p of index.passages) {
    let prev: Token | undefined;
    for (const t of p.tokens) {
      if (!isNamePart(t)) {
        prev = undefined;
        continue;
      }
      // A capital that only opens a sentence ("Despite …") makes no name.
      if (t.proper) capitalised.add(t.key);
      if (prev && !POSSESSIVE.test(prev.raw) && sideBySide(prev, t, p.text)) {
        joined.add(prev.key);
        joined.add(t.key);
      }
      prev = t;
    }
  }
  return (index.names = { capitalised, joined });
}

/**
 * A full name the context writes in parts: the claim's "Paul Sheerin" or "Cammy Smith" where the
 * context has "Sheerin, 39, …" and, elsewhere, "Paul's services" or "Cammy is a really good
 * player". Each part is a capitalised word the context writes, and never beside another name:
 * "Kyle Johnstone" against "Kyle McAusland" and "Denny Johnstone" is two people made into one.
 */
function namedApart(a: Token, b: Token, text: string, index: ContextIndex): boolean {
  if (!isNamePart(a) || !isNamePart(b) || POSSESSIVE.test(a.raw) || !sideBySide(a, b, text)) return false;
  const names = nameParts(index);
  return names.capitalised.has(a.key) && names.capitalised.has(b.key) && !names.joined.has(a.key) && !names.joined.has(b.key);
}

const SOURCE = String.raw`(?:the|this|that|provided|given|above|original)\s+(?:passage|text|article|context|document|excerpt|source)(?:\s+(?:provided|given|above))?`;
const LACK_VERB = String.raw`(?:mention|provide|give|include|contain|specify|state|describe|discuss|say|detail|offer|explain|clarify|elaborate\s+on|reveal|indicate|identify|name|list|cover|address)`;
const LACKS_ACTIVE = new RegExp(String.raw`\b${SOURCE}\s+(?:does\s+not|doesn['’]t|did\s+not|didn['’]t|do\s+not|fails\s+to)\s+(?:\w+ly\s+)?${LACK_VERB}\s+(.+)$`, 'i');
const LACKS_PASSIVE = new RegExp(
  String.raw`^(?:(?:but|and|however|yet|although|though)\s*,?\s+)?(.+?)\s+(?:is|are|was|were)\s+not\s+(?:\w+ly\s+)?(?:mentioned|described|provided|specified|given|stated|included|discussed|detailed|explained|identified|named|listed|covered|addressed)\s+in\s+${SOURCE}(?:\s+that\s+(.+?))?\s*[.!]?$`,
  'i',
);
/** Where the thing said to be missing ends: "X, so the summary …", "X; …". */
const LACK_END = /,\s+(?:so|and|but|which|as|because|while)\b|[;.!?]/i;
/** "information about …": what follows is the thing said to be missing. */
const ABOUT = /^(?:any\s+|specific\s+|further\s+|additional\s+|more\s+)?(?:information|info|mention)\s+(?:about|on|regarding|concerning|of)\s+/i;
/** Words for a kind of detail rather than a fact: "any details about the plot", "specific numbers". */
const DETAIL_KIND = /\b(?:details?|information|info|specifics?|numbers?|figures?|data|statistics|plot|content|dates?|reasons?|explanation|background|description|context|connection|link)\b/i;

/** What an absence claim says the source lacks, or undefined for any other claim. */
function lackedIn(text: string): string | undefined {
  let m = LACKS_ACTIVE.exec(text);
  let x = m?.[1];
  if (x === undefined && (m = LACKS_PASSIVE.exec(text))) x = m[2] ?? m[1];
  if (x === undefined) return undefined;
  const end = LACK_END.exec(x);
  return (end ? x.slice(0, end.index) : x).trim();
}

/**
 * An absence claim held to the source: what it says is missing, read as a claim of its own.
 * Said in one place of the source, the claim is broken; mostly missing, or a kind of detail
 * rather than a fact, it holds.
 */
function absenceOf(claim: Claim, index: ContextIndex): ClaimFeatures['absence'] {
  const lacked = lackedIn(claim.text);
  if (lacked === undefined) return undefined;
  // "X or Y": broken if the source says either, holding if it lacks either.
  let absence: ClaimFeatures['absence'];
  for (const part of lacked.split(/\s+(?:or|nor)\s+/i)) {
    const read = lackedReading(claim, part.replace(ABOUT, ''), index);
    if (read === 'broken') return read;
    absence ??= read;
  }
  return absence;
}

function lackedReading(claim: Claim, lacked: string, index: ContextIndex): ClaimFeatures['absence'] {
  if (DETAIL_KIND.test(lacked)) return 'holds';
  const f = claimFeatures({ ...claim, text: lacked }, index);
  if (f.n === 0) return undefined;
  // Said in so many words: at most one word in four restated through WordNet ("Belgian" clubs
  // for "Belgium"), since a looser restatement ("length" for "basis") is no saying.
  if (f.n >= 2 && f.coverage === 1 && f.meaningShare <= 0.25 && f.windowCoverage >= 0.8) return 'broken';
  if (f.coverage < 0.5) return 'holds';
  return undefined;
}

/**
 * The passage states the opposite of the claim: a flipped polarity or antonym, a number moved to
 * another number's place, or roles reversed, where one passage holds most of the claim.
 */
export function contradicts(f: ClaimFeatures): boolean {
  return (f.negationFlip || f.antonymFlip || f.numberSwap || f.roleSwap) && f.passageCoverage >= 0.6;
}

/** `tokens`: the claim's tokens, where the caller has them already (they are only read). */
export function claimFeatures(claim: Claim, index: ContextIndex, tokens: readonly Token[] = tokenize(claim.text)): ClaimFeatures {
  const skipped = passedOver(tokens, index);
  // A currency or percent word ("160 million dollars") is the sign the context writes ("$ 160
  // million"), which is no content word there: where the context has the sign, the word is not
  // counted either. Nor are the "year" and "old" of an age the context gives as a bare number.
  const content = tokens.filter((t, i) => (t.content || t.number) && !(SIGNS.has(t.key) && index.lower.includes(t.key)) && !skipped?.has(i));
  const n = content.length;
  // A word the context lacks meets a near-synonym the context has under the context's key, so
  // word pairs and passages are compared on the words the context used.
  const keys = content.map((t) => t.key);
  let related = 0;
  for (let i = 0; i < content.length; i++) {
    const k = keys[i]!;
    if (content[i]!.number || index.keys.has(k)) continue;
    const near = RELATED.get(k);
    if (!near) continue;
    for (const r of near) {
      if (index.keys.has(r)) {
        keys[i] = r;
        related++;
        break;
      }
    }
  }
  // Then WordNet: a synonym, a narrower word or a derivation the context uses ("exports fell" for
  // "exports decreased", "nurses" for "people", "approval" for "approved").
  let meaning = 0;
  for (let i = 0; i < content.length; i++) {
    const k = keys[i]!;
    if (index.keys.has(k) || index.questionKeys.has(k)) continue;
    if (content[i]!.number) {
      // A rounder figure of a context number ("$181.7 million" for 181,674,817).
      const r = roundedFrom(k, index.numbers);
      if (r !== undefined) keys[i] = r;
      continue;
    }
    let m = index.restated.get(k);
    if (m === undefined) index.restated.set(k, (m = restatedIn(k, (index.meaning ??= contextMeaning(index.keys))) ?? null));
    if (m === null) continue;
    keys[i] = m;
    meaning++;
  }
  // A light verb carries its meaning in the common noun after it ("gave its approval" is
  // "approved", "made a decision" is "decided"): when that noun is the context's word, the verb
  // says nothing more and counts as that word. Not in a passive ("is seen with", "was held in",
  // "given by"), where the verb is the predicate.
  for (let i = 0; i + 1 < content.length; i++) {
    if (!LIGHT_VERBS.has(keys[i]!) || index.keys.has(keys[i]!)) continue;
    const at = tokens.indexOf(content[i]!);
    if (afterAuxiliary(tokens, at) || tokens[at + 1]?.raw.toLowerCase() === 'by') continue;
    // A figure may stand between them: "saw an 8 percent fall", "made a $5 million profit".
    let j = i + 1;
    while (j < content.length - 1 && content[j]!.number) j++;
    const noun = content[j]!;
    if (noun.number || noun.proper || noun.rare || !index.keys.has(keys[j]!)) continue;
    keys[i] = keys[j]!;
  }
  let found = 0;
  let novel = 0;
  let novelFound = 0;
  let properMissing = 0;
  let numberMissing = 0;
  let specificMissing = 0;
  let common = 0;
  let commonMissing = 0;
  /** Missing everyday words that are not among the most frequent ones: content, not phrasing. */
  let plainMissing = 0;
  for (let i = 0; i < content.length; i++) {
    const t = content[i]!;
    const k = keys[i]!;
    const inContext = index.keys.has(k);
    const inQuestion = index.questionKeys.has(k);
    const specific = t.proper || t.rare;
    if (!t.number && !specific) common++;
    if (inContext) found++;
    if (!inQuestion) {
      novel++;
      if (inContext) novelFound++;
    }
    if (!inContext && !inQuestion) {
      if (t.number) numberMissing++;
      else {
        if (t.proper) properMissing++;
        if (specific) specificMissing++;
        else {
          commonMissing++;
          if (wordRank(t.raw.toLowerCase()) >= LIGHT_RANK) plainMissing++;
        }
      }
    }
  }
  let bigramTotal = 0;
  let bigramFound = 0;
  let pairFound = 0;
  let prevId = keys.length > 0 ? index.ids.get(keys[0]!) : undefined;
  /** Per adjacent pair of claim words: 1 the context writes them side by side, 2 both there but never close, 0 otherwise. */
  const joins = joinBuffer(keys.length);
  for (let i = 0; i + 1 < keys.length; i++) {
    const a = prevId;
    const b = index.ids.get(keys[i + 1]!);
    prevId = b;
    // Two words the context says with one ("construction was finished" for "completed") are no pair.
    if (keys[i] === keys[i + 1]) continue;
    bigramTotal++;
    if (a === undefined || b === undefined) continue;
    if (index.order.follows(a, b)) {
      bigramFound++;
      joins[i] = JOINED;
    }
    if (index.order.near(a, b) || namedApart(content[i]!, content[i + 1]!, claim.text, index)) pairFound++;
    else joins[i] = APART;
  }
  const spliced = splices(joins, claim.text, content, keys, index);

  // Best passage: count shared keys through the postings, score only the top candidates.
  const passages = index.passages;
  const claimKeys = distinct(keys);
  scratch(passages.length);
  const hits = hitBuffer;
  const masks = maskBuffer;
  const touched: number[] = [];
  /** Claim keys that the masks do not track: the window check looks them up in the passages. */
  const unmasked: string[] = [];
  let bestId = -1;
  let bestHits = 0;
  let windowHits = 0;
  let windowId = -1;
  try {
    for (let j = 0; j < claimKeys.length; j++) {
      const list = index.postings.get(claimKeys[j]!);
      if (!list) continue;
      const bit = j < MASK_KEYS && list.length <= MASK_POSTINGS ? 1 << j : 0;
      if (bit === 0) unmasked.push(claimKeys[j]!);
      // A key in most passages says little about which passage is meant.
      if (list.length > 200) continue;
      for (const id of list) {
        if (hits[id]!++ === 0) touched.push(id);
        masks[id] = masks[id]! | bit;
      }
    }
    for (let i = 0; i < touched.length; i++) {
      const id = touched[i]!;
      if (hits[id]! > bestHits) {
        bestHits = hits[id]!;
        bestId = id;
      }
      if (i + 1 > MAX_PASSAGES_SCORED * 50) break;
    }
    // Summaries fuse neighbouring sentences: the best window of three passages, among the passages
    // that share the most keys with the claim.
    windowHits = bestHits;
    windowId = bestId;
    if (touched.length > 1) {
      const last = passages.length - 1;
      for (const id of topByHits(touched, hits, 12)) {
        // A key counts once however many of the three passages hold it.
        let h = bitCount(masks[id]! | (id > 0 ? masks[id - 1]! : 0) | (id < last ? masks[id + 1]! : 0));
        if (unmasked.length > 0) {
          const here = passages[id]!.keys;
          const before = passages[id - 1]?.keys;
          const after = passages[id + 1]?.keys;
          for (const k of unmasked) if (here.has(k) || before?.has(k) || after?.has(k)) h++;
        }
        if (h > windowHits) {
          windowHits = h;
          windowId = id;
        }
      }
    }
  } finally {
    for (const id of touched) {
      hits[id] = 0;
      masks[id] = 0;
    }
  }
  const best = bestId >= 0 ? passages[bestId] : undefined;
  const passageCoverage = claimKeys.length > 0 ? bestHits / claimKeys.length : 0;
  const windowCoverage = claimKeys.length > 0 ? windowHits / claimKeys.length : 0;
  let specificElsewhere = 0;
  if (windowId >= 0 && windowCoverage >= 0.5) {
    const here = passages[windowId]!.keys;
    const before = passages[windowId - 1]?.keys;
    const after = passages[windowId + 1]?.keys;
    for (let i = 0; i < content.length; i++) {
      const t = content[i]!;
      const k = keys[i]!;
      if (!(t.number || t.proper || t.rare) || isCountWord(t)) continue;
      if (index.keys.has(k) && !index.questionKeys.has(k) && !(here.has(k) || before?.has(k) === true || after?.has(k) === true)) specificElsewhere++;
    }
  }
  // The answer names one of the question's names, but what it says of it comes from a passage
  // that names another and not this one: "Stanford University is located in Chestnut Hill",
  // asked "… Boston College or Stanford University?", against "Boston College … located in …
  // Chestnut Hill. Stanford University … is … in Stanford, California".
  if (best && passageCoverage >= 0.5 && passages.length > 1 && index.questionKeys.size > 0) {
    let away = 0;
    for (let i = 0; i < content.length; i++) {
      const t = content[i]!;
      const k = keys[i]!;
      if (isNamePart(t) && index.questionKeys.has(k) && index.keys.has(k) && !best.keys.has(k)) away++;
    }
    if (away > 0 && best.tokens.some((t) => isNamePart(t) && index.questionKeys.has(t.key) && !claimKeys.includes(t.key))) specificElsewhere += away;
  }

  let negationFlip = false;
  let antonymFlip = false;
  // Polarity is only comparable when the claim says enough to be matched to one passage.
  if (best && passageCoverage >= 0.5 && n >= 3) {
    let negated = false;
    for (const t of tokens) if (t.negation) negated = !negated;
    // A negation governs the words of its own clause. A negated claim against a plain passage is
    // flipped when its negation governs a word of the passage ("did not approve" against
    // "approved"; not "… admits the feature is not as secure" against a passage that never speaks
    // of security), or when it answers "No, …". A plain claim against a negated passage is held
    // to the passage's polarity when it says nearly everything the passage says and the
    // passage's negation governs a word of the claim.
    negationFlip =
      negated !== best.negated &&
      (negated
        ? ANSWER_NO.test(claim.text) || governs(tokens, claim.text, (w) => best.keys.has(w.key) || best.keys.has(keys[content.indexOf(w)] ?? ''))
        : n >= 5 && passageCoverage >= 0.8 && negatesClaimWord(best, claimKeys));
    // An opposite the claim also says is restated, not flipped: "leads …, followed by" against
    // "lead", "relegation … and promotion" against "promotion".
    let claimRows: Set<number> | undefined;
    for (const k of claimKeys) {
      if (best.keys.has(k)) continue;
      const ants = ANTONYMS.get(k);
      if (ants) for (const a of ants) if (best.keys.has(a) && !claimKeys.includes(a)) antonymFlip = true;
      // The words to pass over are worked out only for a word that has an opposite there at all.
      const rows = (best.rows ??= rowsOf(best.keys));
      if (!antonymFlip && !k.startsWith('#') && antonymAmong(k, rows) && antonymAmong(k, rows, (claimRows ??= notOpposed(claimKeys, best)))) antonymFlip = true;
    }
  }
  // Word order and substitutions say something only of a claim that one place in the context mostly holds.
  const window = windowId >= 0 && windowCoverage >= 0.5 ? windowAt(index, windowId) : NO_WINDOW;
  const rel = relationFeatures(claim.text, tokens, content, keys, window, index);
  if (rel.antonym && passageCoverage >= 0.5) antonymFlip = true;
  const novelMissing = novel - novelFound;
  let questionLocality = 1;
  const q = index.questionKeys;
  if (q.size >= 2 && novelFound > 0) {
    questionLocality = 0;
    for (const t of content) {
      if (q.has(t.key)) continue;
      const list = index.postings.get(t.key);
      if (!list) continue;
      const stop = Math.min(list.length, 50);
      for (let i = 0; i < stop; i++) {
        const share = questionShareAt(index, list[i]!);
        if (share > questionLocality) questionLocality = share;
      }
    }
  }
  // A claim about what the source lacks, where one place of the source says it: a flipped polarity.
  const absence = absenceOf(claim, index);
  const broken = absence === 'broken';
  return {
    n,
    coverage: n > 0 ? found / n : 1,
    novelCoverage: novel > 0 ? novelFound / novel : 1,
    novelMissing,
    properMissing,
    numberMissing,
    passageCoverage: broken ? 1 : passageCoverage,
    bigramCoverage: bigramTotal > 0 ? bigramFound / bigramTotal : 1,
    pairCoverage: bigramTotal > 0 ? pairFound / bigramTotal : 1,
    spliced,
    negationFlip: negationFlip || broken,
    antonymFlip,
    restatesQuestion: n > 0 && novel === 0,
    metaReference: META_REFERENCE.test(claim.text),
    specificSwap: properMissing + numberMissing > 0 && n - novelMissing >= 2 && (found + properMissing + numberMissing) / Math.max(1, n) >= 0.99,
    questionLocality,
    specificMissing,
    commonMissingShare: common > 0 ? commonMissing / common : 0,
    relatedShare: n > 0 ? related / n : 0,
    windowCoverage,
    specificElsewhere,
    meaningShare: n > 0 ? meaning / n : 0,
    substituted: rel.substituted,
    numberSwap: rel.numberSwap,
    roleSwap: rel.roleSwap || rel.nameSwap,
    restated:
      n >= 2 && numberMissing + specificMissing + plainMissing === 0 && commonMissing <= 1 && windowCoverage >= 0.8 &&
      !negationFlip && !broken && !antonymFlip && !rel.numberSwap && !rel.roleSwap && rel.substituted === 0,
    evidence: best ? best.text.trim().slice(0, 300) : '',
    absence,
  };
}

/** The features the learned scorer reads, in a fixed order (see models/grounding.ts). */
export function featureVector(f: ClaimFeatures): number[] {
  return [
    1 - f.coverage,
    1 - f.novelCoverage,
    Math.min(f.novelMissing, 6) / 6,
    Math.min(f.properMissing, 3) / 3,
    Math.min(f.numberMissing, 3) / 3,
    1 - f.passageCoverage,
    1 - f.bigramCoverage,
    f.negationFlip ? 1 : 0,
    f.antonymFlip ? 1 : 0,
    f.restatesQuestion ? 1 : 0,
    Math.min(f.n, 30) / 30,
    1 - f.questionLocality,
    1 - f.pairCoverage,
    f.specificSwap ? 1 : 0,
    f.metaReference ? 1 : 0,
    Math.min(f.specificMissing, 3) / 3,
    f.commonMissingShare,
    f.relatedShare,
    1 - f.windowCoverage,
    Math.min(f.specificElsewhere, 3) / 3,
    f.meaningShare,
    Math.min(f.substituted, 2) / 2,
    f.numberSwap ? 1 : 0,
    f.roleSwap ? 1 : 0,
    f.restated ? 0 : 1,
    Math.min(f.spliced, 2) / 2,
  ];
}

export const FEATURE_NAMES = [
  'missing',
  'novelMissingShare',
  'novelMissingCount',
  'properMissing',
  'numberMissing',
  'passageMissing',
  'bigramMissing',
  'negationFlip',
  'antonymFlip',
  'restatesQuestion',
  'length',
  'questionDistance',
  'pairMissing',
  'specificSwap',
  'metaReference',
  'specificMissing',
  'commonMissingShare',
  'relatedShare',
  'windowMissing',
  'specificElsewhere',
  'meaningShare',
  'substituted',
  'numberSwap',
  'roleSwap',
  'notRestated',
  'spliced',
];

const MATERIAL_MARKER = /\b(?:context|document|passage|source|reference|article|excerpt|knowledge|facts?)\s*:|<(?:document|context|source)\b/i;
/** Material must say at least this much (content words) before it is worth checking against. */
const MIN_MARKED_WORDS = 4;
const MIN_MATERIAL_WORDS = 4;
/**
 * The opening of a sentence that tells the model how to behave: who it is, how to answer, what
 * to avoid. "Do not exceed 1,200 mg" is no such sentence: its verb is about the world, not the
 * conversation, and is read as material.
 */
const BEHAVIOUR =
  /^\s*(?:[-*•\d.)]+\s*)?(?:(?:please|always|never|only|do not|don't|must|should|you should|you must|you will|you can|kindly)\s+)*(?:you(?:'re| are|'ll| will| must| should| can| may)?\b|your\b|i want you\b|(?:be|act|behave|respond|reply|answer|write|speak|talk|use|keep|avoid|ensure|make sure|format|cite|explain|think|ask|refuse|decline|follow|help|assist|pretend|imagine|roleplay|stay|remember|consider|include|summari[sz]e|translate|greet|introduce|mention|reveal|say|tell|share|provide|give|list|output|return|limit|focus|stick|rely|prefer|adopt|maintain|treat|address|ignore|encourage|guide|correct)\b|if (?:the user|you|asked|a user|someone)\b|when (?:the user|asked|answering|responding|you)\b)/i;
/** Sentences about the conversation itself (the user, the answers, tone, format), not the world. */
const ABOUT_CONVERSATION =
  /\b(?:the user|users?'s?|assistant|chatbot|this conversation|the conversation|your (?:answers?|responses?|replies|role|task|job|goal|tone|output|style)|(?:answers?|responses?|replies|writing) (?:style|format|length|tone)|tone of voice|markdown|emojis?|language model|instructions?|system prompt|persona)\b/i;

/** A sentence that states something checkable: not instruction, not about the conversation. */
function isMaterial(sentence: string): boolean {
  if (BEHAVIOUR.test(sentence)) return false;
  if (ABOUT_CONVERSATION.test(sentence)) return false;
  return /\p{L}{2,}|\d/u.test(sentence);
}

/**
 * A system prompt grounds when it announces material, or when any of its sentences states facts
 * rather than behaviour, however short: a two-line dosage leaflet or an API table is something
 * to check against. Instruction-only prompts ("You are a helpful assistant. Be concise.") ground
 * nothing, so their answers are not held against them.
 */
function systemGrounds(text: string): boolean {
  const sample = text.slice(0, 8000);
  if (MATERIAL_MARKER.test(sample) && tokenize(sample).filter((t) => t.content || t.number).length >= MIN_MARKED_WORDS) return true;
  // Lines first (tables, "key: value" lists), then sentences within them.
  let materialWords = 0;
  for (const line of sample.split(/\n+/)) {
    for (const [s, e] of splitSentences(line)) {
      const sentence = line.slice(s, e);
      if (!isMaterial(sentence)) continue;
      materialWords += tokenize(sentence).filter((t) => t.content || t.number).length;
      if (materialWords >= MIN_MATERIAL_WORDS) return true;
    }
  }
  return false;
}

/**
 * The context text to check against, cut at `max` characters, and whether there is any to check
 * against: documents and tool results always ground; a system prompt grounds when it carries
 * material rather than instructions ("You are a helpful assistant. Be concise." grounds nothing);
 * earlier turns of the conversation join the text but never ground an exchange on their own, or
 * every answer in a plain multi-turn chat would be held against what was said before.
 */
export function contextText(parts: ContextPart[] | undefined, max: number): { text: string; grounded: boolean; truncated: boolean } {
  if (!Array.isArray(parts)) return { text: '', grounded: false, truncated: false };
  let truncated = false;
  const texts: string[] = [];
  let grounded = false;
  let total = 0;
  for (const p of parts) {
    const t = typeof p?.text === 'string' ? p.text : '';
    if (t.trim() === '') continue;
    const room = max - total;
    if (room <= 0) {
      truncated = true;
      break;
    }
    if (t.length > room) truncated = true;
    const piece = t.length > room ? t.slice(0, room) : t;
    texts.push(piece);
    total += piece.length + 1;
    if (!grounded) {
      if (p.source === 'document' || p.source === 'tool') grounded = true;
      else if (p.source === 'system' || p.source === undefined) grounded = systemGrounds(piece);
    }
  }
  return { text: texts.join('\n'), grounded, truncated };
}
