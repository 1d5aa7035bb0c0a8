import { antonymous } from './semantics/wordnet.js';
import { roundedFrom, stemOf, type Token } from './text.js';

/** What relations read of a passage: its text (for voice) and its content keys in order. */
export interface PassageWords {
  text: string;
  seq: readonly string[];
  /** Its tokens, where the caller has them: the voice of each predicate is read from them. */
  tokens?: readonly Token[];
}

/**
 * Who did what to whom: a claim read against the passages it comes from, word order and voice
 * included, so that edits which keep every word but change the meaning are caught:
 *
 * - a word standing where the passage has another word, between the same neighbours ("the council
 *   approved the plan" → "the council rejected the plan"): a substitution, or an antonym where
 *   WordNet says the two are opposites;
 * - a number written beside words that the context writes beside another number ("hired 40 nurses
 *   … staff to 600" → "hired 600 nurses … staff to 40");
 * - two participants on either side of a predicate in the opposite order from the passage while
 *   both are in the same voice ("A sued B" → "B sued A"; "B was sued by A" is the same fact).
 */

export interface RelationFeatures {
  substituted: number;
  antonym: boolean;
  numberSwap: boolean;
  roleSwap: boolean;
  /** A name standing between the same two words as another name in the passage. */
  nameSwap: boolean;
}

/** A be-verb, an optional adverb, a participle, and later "by": the agent comes after the verb. */
const PASSIVE = /\b(?:is|are|was|were|be|been|being|got|gets|get)\s+(?:\w+ly\s+)?\w+(?:ed|en|wn|ght|lt|pt|id|ung|ade|ne)\b[^.;:]*?\bby\b/i;
/** A participle right before "by" and a capitalised agent: "a novel written by American author Joe R. Lansdale". */
const REDUCED_PASSIVE = /\b\w+(?:ed|en|wn|ght|lt|pt|id|ung|ade|ne)\s+by\s+(?:the\s+)?\p{Lu}/u;
const passive = (text: string): boolean => PASSIVE.test(text) || REDUCED_PASSIVE.test(text);

/** "of" just before a name: "the manager of Kilmarnock". */
const OF_BEFORE = /\bof\s*$/i;

/** Forms of "be" (and "get") that make the participle after them passive. */
const PASSIVE_AUXILIARY = new Set(['is', 'are', 'was', 'were', 'be', 'been', 'being', 'got', 'gets', 'get', "'s"]);

/** Whether token `at` stands right after a form of "be" or "get" ("is seen", "was defeated", "got paid"). */
export function afterAuxiliary(tokens: readonly Token[], at: number): boolean {
  const before = tokens[at - 1];
  return before !== undefined && PASSIVE_AUXILIARY.has(before.raw.toLowerCase());
}

/** A name: capitalised inside a sentence, or, in lower-cased text, a rare word. */
const isName = (t: Token): boolean => !t.number && (t.proper || t.rare);

/** Adds `value` to the set kept under `key`. */
function addTo(map: Map<string, Set<string>>, key: string, value: string): void {
  let set = map.get(key);
  if (!set) map.set(key, (set = new Set()));
  set.add(value);
}
const BY = /\bby\b/i;
/** How many tokens after a passive participle its "by" may come ("was defeated for re-election in 1994 by Bush"). */
const AGENT_REACH = 10;

const PREPOSITION = /\b(?:of|in|on|for|from|at|to|with|into|over|about|among|between|under|after|before|during|since|than|as|like)\b|[,;:()]/i;
/** How many content words away from the predicate a participant may sit in the passage. */
const ROLE_REACH = 3;

const isNumberKey = (k: string): boolean => k.startsWith('#');

/** Small words that may stand between a number and the word it belongs to ("staff to 600", "budget was $160 million"). */
const NUMBER_FILLER = new Set(['to', 'of', 'at', 'in', 'on', 'about', 'around', 'nearly', 'almost', 'some', 'by', 'the', 'a', 'an', 'than', 'over', 'under', 'just', 'only', 'roughly', 'approximately', 'more', 'less', 'least']);
/** Signs written between a word and its number ("grossed $ 181,674,817", "spent £2,956,737"). */
const NUMBER_SIGN = /^[$£€¥₹]+$/;

/** A year (1000–2100, whole) or not: "two films" and "a 1972 film" fill no one slot. */
const isYear = (k: string): boolean => {
  const v = Number(k.slice(1));
  return Number.isInteger(v) && v >= 1000 && v <= 2100;
};
/** A whole number of four digits: a year, or a figure written like one ("a 3112 acre park"). */
const fourDigits = (k: string): boolean => {
  const v = Number(k.slice(1));
  return Number.isInteger(v) && v >= 1000 && v <= 9999;
};
/**
 * Two figures that could fill one slot: both years, or neither, or both of four digits (1312
 * looks like a year, 3112 does not, and either can be a park's acres).
 */
const sameKind = (a: string, b: string, eras?: ReadonlySet<string>): boolean =>
  (isYear(a) || eras?.has(a) === true) === (isYear(b) || eras?.has(b) === true) || (fourDigits(a) && fourDigits(b));
/** Words after a number that make it a year ("196 BC", "40 AD"), as keys written after it. */
const ERAS = new Set(['>bc', '>bce', '>ad', '>ce']);

/**
 * The one context number written beside `word` (other than `except`), or undefined when none is
 * or several are: a word the context writes beside several numbers ("UKIP spent …, the Greens
 * spent …") names no slot.
 */
function onlySlot(numberNeighbours: ReadonlyMap<string, ReadonlySet<string>>, word: string, except?: string): string | undefined {
  let slot: string | undefined;
  for (const [y, near] of numberNeighbours) {
    if (y === except || !near.has(word)) continue;
    if (slot !== undefined) return undefined;
    slot = y;
  }
  return slot;
}

/**
 * Each number's attachments: `<word` for the content word before it (through filler words),
 * `>word` for the content word right after it. Read the same way for a claim and its context, so
 * a number moved to another number's place shows as an attachment the context gives another number.
 */
export function numberAttachments(tokens: readonly Token[]): Array<[string, string]> {
  const out: Array<[string, string]> = [];
  for (let i = 0; i < tokens.length; i++) {
    const t = tokens[i]!;
    if (!t.number || !t.key.startsWith('#')) continue;
    // A score or odds ("won 5-0", "7-2 co-favourites"): the words beside the pair belong to
    // the pair, not to either of its numbers.
    if (joined(tokens[i - 1], t) || joined(t, tokens[i + 1])) continue;
    // An ordinal ("fourth album", "his first appearance") fills other slots than a count ("three
    // albums", "46 appearances"): its words are marked as an ordinal's.
    const side = ORDINAL.test(t.raw) ? 'o' : '';
    let b = i - 1;
    while (b >= 0 && !tokens[b]!.content && !tokens[b]!.number && (NUMBER_FILLER.has(tokens[b]!.raw.toLowerCase()) || NUMBER_SIGN.test(tokens[b]!.raw))) b--;
    const before = tokens[b];
    if (before && before.content && !before.number) out.push([t.key, `${side}<${before.key}`]);
    const after = tokens[i + 1];
    if (after && after.content && !after.number) out.push([t.key, `${side}>${after.key}`]);
  }
  return out;
}

/** The second content word before a number and the second after it, as `<word` and `>word`. */
function nearWords(tokens: readonly Token[], i: number): string[] {
  const out: string[] = [];
  for (let j = i - 1, seen = 0; j >= 0 && seen < 2; j--) {
    const t = tokens[j]!;
    if (t.number) break;
    if (!t.content) continue;
    if (++seen === 2) out.push(`<${t.key}`);
  }
  for (let j = i + 1, seen = 0; j < tokens.length && seen < 2; j++) {
    const t = tokens[j]!;
    if (t.number) break;
    if (!t.content) continue;
    if (++seen === 2) out.push(`>${t.key}`);
  }
  return out;
}

/** Ordinals as written: "first", "fourth", "twenty-first", "17th", "3rd". */
const ORDINAL = /^(?:[a-z]+-)?(?:first|second|third|[a-z]+th)$|^\d+(?:st|nd|rd|th)$/i;

/** Two numbers written as one pair, a hyphen, dash or colon and nothing else between ("5-0", "7-2"). */
function joined(a: Token | undefined, b: Token | undefined): boolean {
  return a !== undefined && b !== undefined && a.number && b.number && b.start - a.end === 1 && a.key.startsWith('#') && b.key.startsWith('#');
}


/**
 * A claim's numbers, as the context writes them (a rounder figure as the number it rounds), each
 * with the words the claim writes beside it.
 */
function numbersOf(tokens: readonly Token[], numbers: ReadonlySet<string>): Map<string, Set<string>> {
  const asWritten = (k: string) => (numbers.has(k) ? k : (roundedFrom(k, numbers) ?? k));
  const out = new Map<string, Set<string>>();
  for (const t of tokens) if (t.number && t.key.startsWith('#')) out.set(asWritten(t.key), new Set());
  for (const [k, word] of numberAttachments(tokens)) out.get(asWritten(k))!.add(word);
  return out;
}

/**
 * The passages a claim is read against, as relations read them: their keys in order, the set of
 * them, where each first stands, and their voice. Made once per window of a context and read by
 * every claim that window is the best place for.
 */
export class PassageWindow {
  readonly seq: string[] = [];
  readonly words: Set<string>;
  readonly first = new Map<string, number>();
  /** Per position in `seq`, which of the window's passages it is in. */
  readonly part: number[] = [];
  private passive?: boolean;
  private agentMap?: Map<string, Set<string>>;
  private nameSet?: Set<string>;
  private dateMap?: Map<string, Set<string>>;
  private prepositionMap?: Map<string, Set<string>>;

  constructor(private readonly passages: readonly PassageWords[]) {
    passages.forEach((p, n) => {
      for (const k of p.seq) {
        this.seq.push(k);
        this.part.push(n);
      }
    });
    this.words = new Set(this.seq);
    this.seq.forEach((k, i) => {
      if (!this.first.has(k)) this.first.set(k, i);
    });
  }

  /** Whether the window says content word `k` exactly once. */
  once(k: string): boolean {
    const at = this.first.get(k);
    return at !== undefined && this.seq.indexOf(k, at + 1) < 0;
  }

  /**
   * Whether the window writes content word `b` right after `a` (stop words between them do not
   * count), where `b` is a word it says once.
   */
  precedes(a: string, b: string): boolean {
    const at = this.first.get(b);
    return at !== undefined && at > 0 && this.seq[at - 1] === a;
  }

  /** Whether the window writes content word `b` right after `a`, where `a` is a word it says once. */
  followedBy(a: string, b: string): boolean {
    const at = this.first.get(a);
    return at !== undefined && this.seq[at + 1] === b;
  }

  /**
   * For each predicate the passages write in the passive with an agent ("was defeated … by George
   * W. Bush"), the agent's first content word: `defeat` → {`georg`}.
   */
  get agents(): ReadonlyMap<string, ReadonlySet<string>> {
    if (this.agentMap) return this.agentMap;
    const map = new Map<string, Set<string>>();
    for (const p of this.passages) {
      const tokens = p.tokens;
      // No "by", no agent: most passages are skipped without reading their tokens.
      if (!tokens || !BY.test(p.text)) continue;
      for (let i = 0; i + 1 < tokens.length; i++) {
        if (!PASSIVE_AUXILIARY.has(tokens[i]!.raw.toLowerCase())) continue;
        let v = i + 1;
        if (/ly$/i.test(tokens[v]!.raw) && v + 1 < tokens.length) v++;
        const verb = tokens[v]!;
        if (!verb.content || verb.number) continue;
        for (let b = v + 1; b < tokens.length && b <= v + AGENT_REACH; b++) {
          if (/[.;:]/.test(p.text.slice(tokens[b - 1]!.end, tokens[b]!.start))) break;
          if (tokens[b]!.raw.toLowerCase() !== 'by') continue;
          const agent = tokens.slice(b + 1, b + 4).find((t) => t.content);
          if (agent && !agent.number) addTo(map, verb.key, agent.key);
          break;
        }
      }
    }
    return (this.agentMap = map);
  }

  /** Per name, the prepositions the passages write right before it ("on loan from Chelsea": chelsea → {from}). */
  get prepositions(): ReadonlyMap<string, ReadonlySet<string>> {
    if (!this.prepositionMap) {
      this.prepositionMap = new Map();
      for (const p of this.passages) if (p.tokens) for (const [name, prep] of namesAfterPrepositions(p.tokens)) addTo(this.prepositionMap, name, prep);
    }
    return this.prepositionMap;
  }

  /** Keys the passages write as names (`isName`). */
  get names(): ReadonlySet<string> {
    if (!this.nameSet) {
      this.nameSet = new Set();
      for (const p of this.passages) for (const t of p.tokens ?? []) if (isName(t)) this.nameSet.add(t.key);
    }
    return this.nameSet;
  }

  /** The dates the passages write, as month–year and day–month pairs (`datesOf`). */
  get dates(): ReadonlyMap<string, ReadonlySet<string>> {
    if (!this.dateMap) {
      this.dateMap = new Map();
      for (const p of this.passages) if (p.tokens) for (const [slot, value] of datesOf(p.tokens)) addTo(this.dateMap, slot, value);
    }
    return this.dateMap;
  }

  get isPassive(): boolean {
    return (this.passive ??= passive(this.passages.map((p) => p.text).join(' ')));
  }

  /**
   * The names written right before `a` and `b` (content words in that order, nothing but small
   * words and no punctuation between the name and `a`).
   */
  doersBefore(a: string, b: string): string[] {
    const out: string[] = [];
    for (const p of this.passages) {
      const t = p.tokens;
      if (!t) continue;
      for (let k = 1; k < t.length; k++) {
        if (t[k]!.key !== a) continue;
        let m = k + 1;
        while (m < t.length && !t[m]!.content && !t[m]!.number) m++;
        if (t[m]?.key !== b) continue;
        let y = k - 1;
        while (y >= 0 && !t[y]!.content && !t[y]!.number) y--;
        if (y < 0 || !isName(t[y]!) || /[,;:()]/.test(p.text.slice(t[y]!.end, t[k]!.start))) continue;
        out.push(t[y]!.key);
      }
    }
    return out;
  }
}

/**
 * `tokens`: the claim's tokens; `keys`: its content keys after the context's synonyms were put in
 * (so they meet the passage's words), one per token of `content`. `window`: the passages the
 * claim comes from, as passages or as a window already made of them.
 */
export function relationFeatures(
  claimText: string,
  tokens: readonly Token[],
  content: readonly Token[],
  keys: readonly string[],
  window: readonly PassageWords[] | PassageWindow,
  index: { numberNeighbours: ReadonlyMap<string, ReadonlySet<string>>; numbers: ReadonlySet<string>; keys: ReadonlySet<string> },
): RelationFeatures {
  const out: RelationFeatures = { substituted: 0, antonym: false, numberSwap: false, roleSwap: false, nameSwap: false };
  if (keys.length === 0) return out;

  // Numbers: a word the claim writes beside a number, which the context writes on the same side
  // of another number and never of this one: a number moved into another's place. A rounder
  // figure of a context number is read as that number ("$181.7 million" for 181,674,817); a
  // figure the context never gives is left to the missing-number features (a total worked out
  // from the context's numbers is no contradiction).
  let claimNumbers: Map<string, Set<string>> | undefined;
  const attachments = numberAttachments(tokens);
  /** Numbers written with an era ("196 BC"), in the claim or the context: years, however small. Found when a slot is first compared. */
  let eras: Set<string> | undefined;
  const kindOf = (a: string, b: string): boolean => {
    if (eras === undefined) {
      eras = new Set();
      for (const [k, word] of attachments) if (ERAS.has(word)) eras.add(k);
      for (const [k, near] of index.numberNeighbours) for (const e of ERAS) if (near.has(e)) eras.add(k);
    }
    return sameKind(a, b, eras);
  };
  /** Context numbers the claim writes beside a word the context writes beside them too: in their own place. */
  let placed: Set<string> | undefined;
  /** Words the claim writes beside two numbers or more ("28 points, 27 points and 25 points"): they name no slot. */
  let shared: Set<string> | undefined;
  for (let i = 0; i < attachments.length; i++) {
    const [claimed, word] = attachments[i]!;
    if (!ERAS.has(word) && index.numberNeighbours.get(claimed)?.has(word)) (placed ??= new Set()).add(claimed);
    for (let j = 0; j < i; j++) if (attachments[j]![1] === word && attachments[j]![0] !== claimed) (shared ??= new Set()).add(word);
  }
  // One word further on either side may be the number's own too ("four gold medals at the 2012
  // London Paralympics" against "four golds at the 2012 Games"). Read only for a number that
  // would otherwise have moved.
  const placedFurther = (x: string): boolean => {
    const own = index.numberNeighbours.get(x);
    if (!own) return false;
    for (let i = 0; i < tokens.length; i++) if (tokens[i]!.key === x && nearWords(tokens, i).some((w) => own.has(w))) return true;
    return false;
  };
  for (const [claimed, word] of attachments) {
    if (shared?.has(word)) continue;
    const x = index.numbers.has(claimed) ? claimed : roundedFrom(claimed, index.numbers);
    if (x === undefined) {
      // A figure the context never gives, in a slot the context fills with one other figure
      // ("a budget of $60 million" where it says "a budget of $160 million"): a changed number,
      // unless the claim also gives the context's figure (then it is a figure worked out from it).
      const slot = onlySlot(index.numberNeighbours, word);
      if (slot === undefined || !kindOf(claimed, slot) || (claimNumbers ??= numbersOf(tokens, index.numbers)).has(slot)) continue;
      out.numberSwap = true;
      break;
    }
    const own = index.numberNeighbours.get(x);
    // A number with one of its own words beside it stands in its own place, whatever else the
    // claim writes beside it ("has scored five goals" where the context has "five goals" and
    // "scored four times").
    if (own?.has(word) || placed?.has(x)) continue;
    // The word must name one slot: a word the context writes beside several numbers ("UKIP
    // spent …, the Greens spent …, the SNP's …") says nothing of which number a claim moved. A
    // count does not take a year's place, nor a year a count's ("22 medals, eleven of them"
    // against "six medals at the 1992 Paralympics").
    const slot = onlySlot(index.numberNeighbours, word, x);
    if (slot === undefined || !kindOf(x, slot)) continue;
    // A number the context writes beside no word at all moved only if the claim also writes
    // the number it took the place of, elsewhere ("spent £2,980,815, while … was £2,956,737");
    // a list that gives the word to both ("UKIP spent …, the Tories spent …") moved nothing.
    if (!own) {
      const there = (claimNumbers ??= numbersOf(tokens, index.numbers)).get(slot);
      if (!there || there.has(word)) continue;
    }
    if (placedFurther(x)) continue;
    out.numberSwap = true;
    break;
  }

  if (!(window instanceof PassageWindow)) window = new PassageWindow(window);
  if (window.seq.length === 0) return out;
  if (!out.numberSwap && (changedDate(tokens, window) || changedWeekday(keys, window))) out.numberSwap = true;
  const seq = window.seq;
  const inWindow = window.words;
  let claimSet: Set<string> | undefined;

  // Substitutions: a claim word between two neighbours that the passage has around another word.
  // An opposite needs only one neighbour ("has lost just once in seven games" → "has won just
  // once …"), and is looked for under the word as written too when WordNet let a context word
  // restate it (a far sense of "win" is "manage").
  for (let i = 0; i < keys.length; i++) {
    const k = keys[i]!;
    if (content[i]!.number) continue;
    const absent = !inWindow.has(k);
    const written = content[i]!.key;
    const opposite = absent ? k : written !== k && !inWindow.has(written) ? written : undefined;
    if (opposite === undefined) continue;
    const prev = keys[i - 1];
    const next = keys[i + 1];
    if (prev === undefined && next === undefined) continue;
    for (let j = 0; j < seq.length; j++) {
      // Both neighbours where the claim has both; one is enough only at an end of the claim.
      const both = (prev === undefined || seq[j - 1] === prev) && (next === undefined || seq[j + 1] === next);
      const one = (prev !== undefined && seq[j - 1] === prev) || (next !== undefined && seq[j + 1] === next);
      if (!both && !one) continue;
      const there = seq[j]!;
      if (there === k || isNumberKey(there) || (claimSet ??= new Set(keys)).has(there)) continue;
      if (antonymous(opposite, there)) {
        out.antonym = true;
        break;
      }
      if (!both || !absent) continue;
      out.substituted++;
      // A name the passage lacks where it writes another name, between the same two words: "at
      // Newbury on Saturday" for "at Sandown on Saturday".
      // One name written two ways ("o'malley" and "o' malley") is no other name.
      if (prev !== undefined && next !== undefined && isName(content[i]!) && window.names.has(there) && !k.endsWith(there) && !there.endsWith(k)) out.nameSwap = true;
      break;
    }
  }

  // Roles: a predicate whose neighbours in the claim sit on the other sides of it in the passage
  // ("Jones sued Smith" against "Smith sued Jones"). A preposition between them reads as a
  // nominalisation ("a fall in exports" is "exports fell"), not as an agent and a patient.
  const first = window.first;
  let flipped = false;
  for (let j = 1; j + 1 < keys.length && !flipped; j++) {
    const anchor = first.get(keys[j]!);
    const left = first.get(keys[j - 1]!);
    const right = first.get(keys[j + 1]!);
    if (anchor === undefined || left === undefined || right === undefined) continue;
    // A name is no predicate: "senior England caps" against "caps for England … senior debut".
    if (content[j]!.number || content[j]!.proper || content[j - 1]!.number || content[j + 1]!.number) continue;
    if (!(left > anchor && left - anchor <= ROLE_REACH && right < anchor && anchor - right <= ROLE_REACH)) continue;
    // All three in one sentence: "… scale-covered wings. Butterfly wings are covered …" puts
    // "covered", "wings" and "butterfly" in that order across two sentences, reversing nothing.
    const part = window.part;
    if (part[left] !== part[anchor] || part[right] !== part[anchor]) continue;
    const gaps = claimText.slice(content[j - 1]!.end, content[j]!.start) + ' ' + claimText.slice(content[j]!.end, content[j + 1]!.start);
    flipped = !PREPOSITION.test(gaps);
  }
  if (!flipped) flipped = exchanged(claimText, keys, content, window);
  if (flipped) out.roleSwap = passive(claimText) === window.isPassive;
  if (!out.roleSwap) out.roleSwap = agentAsPatient(claimText, tokens, content, keys, window);
  if (!out.roleSwap) out.roleSwap = prepositionsExchanged(tokens, window);
  if (!out.roleSwap && !out.nameSwap) out.nameSwap = anotherDoer(keys, content, window, index.keys);
  return out;
}

/**
 * The passage's agent made the patient: the claim writes a predicate in the active with, right
 * after it, the word the passage gives as that predicate's agent ("Richards defeated George W.
 * Bush" against "Richards … was defeated … by George W. Bush"). "George W. Bush defeated
 * Richards" and "Richards was defeated by George W. Bush" say the same as the passage.
 */
function agentAsPatient(claimText: string, tokens: readonly Token[], content: readonly Token[], keys: readonly string[], window: PassageWindow): boolean {
  const agents = window.agents;
  if (agents.size === 0) return false;
  for (let j = 0; j + 1 < keys.length; j++) {
    const who = agents.get(keys[j]!);
    if (!who || content[j + 1]!.number || !who.has(keys[j + 1]!)) continue;
    // Passive in the claim too ("was defeated by"), or the next word is not the verb's object.
    if (afterAuxiliary(tokens, tokens.indexOf(content[j]!))) continue;
    if (/\bby\b|[,;:()]/i.test(claimText.slice(content[j]!.end, content[j + 1]!.start))) continue;
    return true;
  }
  return false;
}

const WEEKDAYS = new Set(['monday', 'tuesday', 'wednesday', 'thursday', 'friday', 'saturday', 'sunday'].map(stemOf));

/**
 * A day of the week the passage gives another: the word before it in the claim stands before
 * another day in the passage, and never before this one ("reunited with his dog on Thursday"
 * against "reunited with his dog on Saturday after a tornado hit on Thursday").
 */
function changedWeekday(keys: readonly string[], window: PassageWindow): boolean {
  const seq = window.seq;
  for (let i = 1; i < keys.length; i++) {
    const k = keys[i]!;
    if (!WEEKDAYS.has(k)) continue;
    const prev = keys[i - 1]!;
    let own = false;
    let other = false;
    for (let j = 1; j < seq.length; j++) {
      if (seq[j - 1] !== prev || !WEEKDAYS.has(seq[j]!)) continue;
      if (seq[j] === k) own = true;
      else other = true;
    }
    if (other && !own) return true;
  }
  return false;
}

const isDay = (k: string): boolean => /^#(?:[1-9]|[12]\d|3[01])$/.test(k);

/**
 * The dates in some tokens, each as a slot and what fills it: the month of a year (`Y#2017` →
 * `@3` for "March 2017", "17 March 2017", "March 17, 2017") and the day of a month (`M@3` →
 * `#17`).
 */
function datesOf(tokens: readonly Token[]): Array<[string, string]> {
  const out: Array<[string, string]> = [];
  for (let i = 0; i < tokens.length; i++) {
    const m = tokens[i]!;
    if (!m.key.startsWith('@')) continue;
    let j = i + 1;
    if (tokens[j] && isDay(tokens[j]!.key)) {
      out.push([`M${m.key}`, tokens[j]!.key]);
      j++;
    } else if (tokens[i - 1] && isDay(tokens[i - 1]!.key)) out.push([`M${m.key}`, tokens[i - 1]!.key]);
    const y = tokens[j];
    if (y && y.number && isYear(y.key)) out.push([`Y${y.key}`, m.key]);
  }
  return out;
}

/**
 * A date the passage writes otherwise: the claim gives a year (or a month) the passage dates
 * with another month (or day), and never with the claim's ("in January 2017" against "on 17
 * March 2017").
 */
function changedDate(tokens: readonly Token[], window: PassageWindow): boolean {
  const claimed = datesOf(tokens);
  // The window's dates are read only for a claim that gives one.
  return claimed.some(([slot, value]) => {
    const there = window.dates.get(slot);
    return there !== undefined && !there.has(value);
  });
}

/**
 * Two names in each other's places: exchanging them puts back, at both places, a pair of
 * neighbours the passage writes and the claim lacks ("United loaned Smith to the Dons" against
 * "The Dons loaned Smith to United"). Both are the passage's, and each is said once by the claim
 * and once by the passage. Names only: other words that trade places are mostly a phrase moved
 * ("finishing bottom … in the 2013-14 season" for "finishing season 2013-14 bottom").
 */
function exchanged(claimText: string, keys: readonly string[], content: readonly Token[], window: PassageWindow): boolean {
  const n = keys.length;
  if (n < 4) return false;
  // A word said twice, by the claim or the passage, has no one place to be exchanged from.
  const once = (k: string): boolean => keys.indexOf(k) === keys.lastIndexOf(k) && window.once(k);
  /** A name, or a capitalised word opening the claim ("United loaned …"). */
  const nameLike = (i: number): boolean => content[i]!.proper || (i === 0 && /^\p{Lu}/u.test(content[i]!.raw));
  let candidates: number[] | undefined;
  for (let i = 0; i < n; i++) {
    const k = keys[i]!;
    if (!nameLike(i) || !window.words.has(k) || !once(k)) continue;
    const left = i > 0 && !window.precedes(keys[i - 1]!, k);
    const right = i + 1 < n && !window.followedBy(k, keys[i + 1]!);
    if (left || right) (candidates ??= []).push(i);
  }
  if (candidates === undefined || candidates.length < 2) return false;
  /**
   * Whether the name at `other` meets a neighbour of the name at `at` that the passage gives it,
   * where the name at `at` meets none; the neighbour too is said once by each ("New Jersey" twice
   * in a passage pairs with anything).
   */
  const fits = (at: number, other: number): boolean => {
    // A name of several words ("Borussia Monchengladbach") is read as one: its neighbours are the
    // words beside the whole name, in the claim and in the passage.
    const [s, e] = nameRun(at);
    const [os, oe] = nameRun(other);
    return (
      (s > 0 && once(keys[s - 1]!) && !window.precedes(keys[s - 1]!, keys[s]!) && window.precedes(keys[s - 1]!, keys[os]!)) ||
      (e + 1 < n && once(keys[e + 1]!) && !window.followedBy(keys[e]!, keys[e + 1]!) && window.followedBy(keys[oe]!, keys[e + 1]!))
    );
  };
  /** The claim's text between content word `at` and the one before it. */
  const before = (at: number): string => (at > 0 ? claimText.slice(content[at - 1]!.end, content[at]!.start) : '');
  /** The words of the name at `at` that the passage writes together with it, first and last. */
  const nameRun = (at: number): [number, number] => {
    let s = at;
    while (s > 0 && nameLike(s - 1) && window.precedes(keys[s - 1]!, keys[s]!)) s--;
    let e = at;
    while (e + 1 < n && content[e + 1]!.proper && window.followedBy(keys[e]!, keys[e + 1]!)) e++;
    return [s, e];
  };
  for (let a = 0; a < candidates.length; a++) {
    for (let b = a + 1; b < candidates.length; b++) {
      const p = candidates[a]!;
      const q = candidates[b]!;
      // Words one apart reorder a phrase ("senior England caps" for "caps for England … senior
      // debut"); "Jones sued Smith" is the order check's.
      if (q - p < 3 || keys[p] === keys[q]) continue;
      // "Gary Locke, the interim manager of Kilmarnock" is "Kilmarnock interim manager Gary
      // Locke": a name after "of" has traded places with its owner, not its role.
      if (OF_BEFORE.test(before(nameRun(q)[0]))) continue;
      if (fits(p, q) && fits(q, p)) return true;
    }
  }
  return false;
}

/** Prepositions that give a name its part in a fact: where from, where to, at whose hands. */
const ROLE_PREPOSITIONS = new Set(['from', 'to', 'at', 'by', 'against', 'into', 'over', 'for', 'with', 'in', 'on']);

/** Each name written right after one of `ROLE_PREPOSITIONS` ("the" may stand between), with that preposition. */
function namesAfterPrepositions(tokens: readonly Token[]): Array<[string, string]> {
  const out: Array<[string, string]> = [];
  for (let i = 0; i + 1 < tokens.length; i++) {
    const prep = tokens[i]!.raw.toLowerCase();
    if (!ROLE_PREPOSITIONS.has(prep)) continue;
    let j = i + 1;
    if (tokens[j]!.raw.toLowerCase() === 'the' && j + 1 < tokens.length) j++;
    if (isName(tokens[j]!)) out.push([tokens[j]!.key, prep]);
  }
  return out;
}

/**
 * Two names that have traded prepositions: "on loan at Chelsea from Middlesbrough" against "on
 * loan at Middlesbrough from Chelsea", "moved from Paris to London" against "from London to
 * Paris". Each name is one the passage writes after the other's preposition and never after its
 * own, so a name the passage writes both ways ("in Paris … from Paris") decides nothing.
 */
function prepositionsExchanged(tokens: readonly Token[], window: PassageWindow): boolean {
  const claimed = namesAfterPrepositions(tokens);
  if (claimed.length < 2) return false;
  const there = window.prepositions;
  for (let a = 0; a < claimed.length; a++) {
    const [x, p] = claimed[a]!;
    const px = there.get(x);
    if (!px || px.has(p)) continue;
    for (let b = a + 1; b < claimed.length; b++) {
      const [y, q] = claimed[b]!;
      if (q === p || y === x) continue;
      const py = there.get(y);
      if (py && !py.has(q) && px.has(q) && py.has(p)) return true;
    }
  }
  return false;
}

/**
 * Another doer: a name brought from another part of the context before two words the passage
 * writes right after another name, which the claim never says: "Ramsey scored in QPR's 3-3 draw"
 * against "Charlie Austin celebrates with Matt Phillips after scoring during QPR's 3-3 draw",
 * where the article names Ramsey elsewhere. A name the passage itself has is left alone (two
 * people of one name, aliases, a name said twice), and so is a name set off by punctuation ("Bayern,
 * who beat Hertha").
 */
function anotherDoer(keys: readonly string[], content: readonly Token[], window: PassageWindow, contextKeys: ReadonlySet<string>): boolean {
  const n = keys.length;
  let claimSet: Set<string> | undefined;
  for (let i = 0; i + 2 < n; i++) {
    const x = keys[i]!;
    if (!isName(content[i]!) || window.words.has(x) || !contextKeys.has(x)) continue;
    let j = i + 1;
    while (j < n && isName(content[j]!)) j++;
    if (j + 1 >= n) continue;
    const a = keys[j]!;
    const b = keys[j + 1]!;
    if (content[j]!.number || content[j + 1]!.number || isName(content[j]!)) continue;
    if (!window.words.has(a) || !window.words.has(b)) continue;
    for (const y of window.doersBefore(a, b)) if (!(claimSet ??= new Set(keys)).has(y)) return true;
  }
  return false;
}
