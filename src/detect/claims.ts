/**
 * Splits a response into the statements worth checking: sentences, cut further at clause
 * boundaries (`;`, `, and …`, `, but …`) when both halves carry content of their own.
 * Offsets are exact: `text.slice(start, end) === claim.text` always holds.
 */
import { SCALE_AFTER_DECIMAL } from './text.js';

export interface Claim {
  text: string;
  start: number;
  end: number;
  /** Index of the sentence the claim came from (clauses of one sentence share it). */
  sentence: number;
}

// Abbreviations whose trailing dot does not end a sentence.
const ABBREVIATIONS = new Set([
  'mr', 'mrs', 'ms', 'dr', 'prof', 'sr', 'jr', 'st', 'mt', 'ft', 'vs', 'etc', 'e.g', 'i.e', 'inc', 'ltd', 'co',
  'corp', 'no', 'nos', 'fig', 'gen', 'col', 'lt', 'sgt', 'capt', 'gov', 'sen', 'rep', 'rev', 'hon', 'approx',
  'jan', 'feb', 'mar', 'apr', 'jun', 'jul', 'aug', 'sep', 'sept', 'oct', 'nov', 'dec', 'u.s', 'u.k', 'u.n',
  'a.m', 'p.m', 'al', 'est', 'dept', 'univ', 'ave', 'blvd', 'op', 'vol', 'ed', 'pp', 'cf',
]);

/** Sentence-level text that states nothing about the world. */
const META_RE =
  /^(?:(?:sure|certainly|of course|absolutely|okay|ok|great|hello|hi|hey|thanks|thank you|you're welcome|no problem)\b[\s\S]{0,40}$|here(?:'s| is| are)\b|(?:below|following) (?:is|are)\b|in summary[,:]?$|to summari[sz]e[,:]?$|summary:?$|answer:?$|i hope (?:this|that) helps|let me know\b|feel free\b|please note\b[\s\S]{0,10}$)/i;

/**
 * A sentence about the answer itself ("This summary covers the main points …", "The summary has
 * been adjusted to …") says nothing a context could support; one that goes on with "that …"
 * states something and stays.
 */
const SELF_DESCRIPTION_RE =
  /^(?:this|the|my)\s+(?:summary|response|answer|overview)(?:\s+(?:provided|above|below))?\s+(?:covers|focuses|captures|includes|has been|is|aims|attempts|tries|provides|summari[sz]es|highlights|condenses|retains|omits|leaves out|touches)\b(?![\s\S]*\bthat\b)/i;

const CLAUSE_SPLIT_RE = /;\s+|,\s+(?=(?:and|but|while|whereas|although|though|yet|which|who)\s)|\s+(?=(?:but|whereas)\s)/g;

const LETTER = /^\p{L}$/u;
const NUMBER = /^\p{N}$/u;
const OTHER = 0;
const IN_LETTERS = 1;
const IN_NUMBER = 2;

/**
 * Words of two letters or more, and numbers: the matches of /\p{L}{2,}|\p{N}+/gu, counted by
 * one pass over the characters instead of building the list of matches.
 */
export function wordCount(s: string): number {
  let count = 0;
  let letters = 0;
  let prev = OTHER;
  for (let i = 0; i < s.length; ) {
    const c = s.charCodeAt(i);
    let kind: number;
    let width = 1;
    if (c < 128) kind = (c >= 97 && c <= 122) || (c >= 65 && c <= 90) ? IN_LETTERS : c >= 48 && c <= 57 ? IN_NUMBER : OTHER;
    else {
      const cp = s.codePointAt(i)!;
      if (cp > 0xffff) width = 2;
      const ch = String.fromCodePoint(cp);
      kind = LETTER.test(ch) ? IN_LETTERS : NUMBER.test(ch) ? IN_NUMBER : OTHER;
    }
    if (kind === IN_LETTERS) letters++;
    else {
      if (letters >= 2) count++;
      letters = 0;
      if (kind === IN_NUMBER && prev !== IN_NUMBER) count++;
    }
    prev = kind;
    i += width;
  }
  if (letters >= 2) count++;
  return count;
}

/** What follows the dot of a decimal written apart ("31. 8 million"), which tokenize reads as one number. */
const DECIMAL_APART = new RegExp(String.raw`^ \d+ (?:${SCALE_AFTER_DECIMAL})\b`);

/**
 * Two sentences glued without a space, as pasted paragraphs often are ("… formed in 1997 in
 * Vancouver, British Columbia.Kings of Leon is …", "… in Arizona in 1997.Your Pie is …"): a full
 * stop after a word of two letters or more (no abbreviation) or a figure, then a capitalised word.
 * Not "U.S.", "Node.js", "ASP.NET" or "St.Mirren".
 */
function gluedSentence(text: string, start: number, dot: number, next: number): boolean {
  if (text[dot] !== '.' || !/^\p{Lu}\p{Ll}/u.test(text.slice(next, next + 2))) return false;
  const before = /(\p{L}+|\d+)[)\]"”’']?$/u.exec(text.slice(Math.max(start, dot - 24), dot))?.[1];
  if (before === undefined) return false;
  if (/^\d+$/.test(before)) return true;
  return before.length >= 2 && /^\p{Ll}+$/u.test(before.slice(1)) && !ABBREVIATIONS.has(before.toLowerCase()) && text[dot - before.length - 1] !== '.';
}

/** Sentence spans [start, end) over `text`, skipping fenced code blocks. */
export function splitSentences(text: string): Array<[number, number]> {
  const spans: Array<[number, number]> = [];
  const n = text.length;
  let i = 0;
  let start = 0;
  /** Where the line holding `i` starts: kept as the scan passes line breaks, not searched back for. */
  let lineStart = 0;
  const caseless = !/\p{Lu}/u.test(text);
  const push = (s: number, e: number): void => {
    if (e > s) spans.push([s, e]);
  };
  while (i < n) {
    const ch = text[i]!;
    if (ch === '`' && text.startsWith('```', i) && (i === 0 || text[i - 1] === '\n' || /\s/.test(text[i - 1]!))) {
      push(start, i);
      const close = text.indexOf('```', i + 3);
      i = close < 0 ? n : close + 3;
      start = i;
      lineStart = text.lastIndexOf('\n', i - 1) + 1;
      continue;
    }
    if (ch === '\n') {
      push(start, i);
      i++;
      start = i;
      lineStart = i;
      continue;
    }
    if (ch === '.' || ch === '!' || ch === '?' || ch === '。') {
      let j = i + 1;
      while (j < n && /[.!?"'”’)\]]/.test(text[j]!)) j++;
      const atEnd = j >= n;
      const followedBySpace = atEnd || /\s/.test(text[j]!);
      if (!followedBySpace && gluedSentence(text, start, i, j)) {
        push(start, j);
        start = j;
        i = j;
        continue;
      }
      if (followedBySpace) {
        let boundary = true;
        if (ch === '.') {
          const before = text.slice(Math.max(start, i - 12), i);
          const wordAsWritten = /([\p{L}.]+)$/u.exec(before)?.[1] ?? '';
          const word = wordAsWritten.toLowerCase();
          let k = j;
          while (k < n && text[k] === ' ') k++;
          const next = text[k] ?? '';
          if (ABBREVIATIONS.has(word) && !atEnd) boundary = false;
          // A numbered list marker ("1. ") at the start of a line.
          else if (/^\s*(?:\d{1,3}|[a-zA-Z])$/.test(text.slice(Math.max(lineStart, start), i))) boundary = false;
          // An initial ("H. Bruce") or a dotted acronym ("U.S.") followed by a capitalised word.
          else if (/^(?:\p{Lu}|(?:\p{L}\.)+\p{L})$/u.test(wordAsWritten) && /\p{Lu}/u.test(next)) boundary = false;
          // A lower-case continuation after a dot is rarely a new sentence ("approx. five"), unless
          // the whole text is in lower case, as some news corpora are.
          else if (!caseless && /\p{Ll}/u.test(next) && k === j + 1) boundary = false;
          // A decimal some sources write apart ("31. 8 million"), read as one number by tokenize.
          else if (/\d$/.test(before) && DECIMAL_APART.test(text.slice(j, j + 24))) boundary = false;
        } else if (/\p{Ll}/u.test(text[j + 1] ?? '') && /["”’')\]]/.test(text[j - 1] ?? '')) {
          // A title that ends in ! or ? inside quotes, then the sentence goes on ("Fantabulosa!" is …).
          boundary = false;
}
        if (boundary) {
          push(start, j);
          start = j;
          i = j;
          continue;
        }
      }
      i = j;
      continue;
    }
    i++;
  }
  push(start, n);
  return spans;
}

/** Narrow [s, e) past whitespace, list markers, markdown emphasis and quotes. */
function trimSpan(text: string, s: number, e: number): [number, number] {
  const lead = /^(?:\s|#{1,6}\s|[-*•+>]\s|\d{1,3}[.)]\s|\(?[a-z]\)\s|\*\*|__|["“'`])+/u.exec(text.slice(s, e));
  if (lead) s += lead[0].length;
  const trail = /(?:\s|\*\*|__|["”`])+$/u.exec(text.slice(s, e));
  if (trail) e -= trail[0].length;
  return [s, Math.max(s, e)];
}

function isCheckable(piece: string): boolean {
  if (wordCount(piece) < 1) return false;
  if (/\?["”')\]]*$/.test(piece)) return false;
  // A heading or lead-in that ends with a colon introduces content rather than stating it.
  if (/:\s*$/.test(piece)) return false;
  if (META_RE.test(piece) || SELF_DESCRIPTION_RE.test(piece)) return false;
  return true;
}

/** A name as a claim writes it: capitalised words or figures, with "of", "the", "de" … between them. */
const NAME = String.raw`(?:[A-Z0-9][^\s,]*)(?:\s+(?:(?:of|the|de|del|la|le|von|van|du|da|for|in)\s+)*[A-Z0-9][^\s,]*)*`;
const BOTH_FIRST = new RegExp(String.raw`^(?:(?:Yes|No)\s*,?\s+)?[Bb]oth\s+(${NAME})\s+and\s+(${NAME})\s+(?=[a-z])(.+)$`);
const BOTH_AFTER = new RegExp(String.raw`^(?:(?:Yes|No)\s*,?\s+)?(${NAME})\s+and\s+(${NAME})\s+((?:are|were|have|had|can|could|will|would)\s+)?both\s+(.+)$`);

/**
 * A claim that says one thing of two names ("Yes, both The New Pornographers and Kings of Leon are
 * American rock bands", "Am Rong and Alexandre Rockwell both directed movies") says it of each:
 * the two statements, each read on its own ("The New Pornographers are American rock bands"). A
 * claim is as well supported as the less supported of them. Empty for any other claim. The parts
 * keep the claim's offsets; their text is not the response's.
 */
export function distributed(claim: Claim): Claim[] {
  let m = BOTH_FIRST.exec(claim.text);
  let parts: string[] | undefined;
  if (m) parts = [`${m[1]} ${m[3]}`, `${m[2]} ${m[3]}`];
  else if ((m = BOTH_AFTER.exec(claim.text))) parts = [`${m[1]} ${m[3] ?? ''}${m[4]}`, `${m[2]} ${m[3] ?? ''}${m[4]}`];
  return parts ? parts.map((text) => ({ ...claim, text })) : [];
}

export function extractClaims(text: string): Claim[] {
  const claims: Claim[] = [];
  let sentence = 0;
  for (const [s0, e0] of splitSentences(text)) {
    const [s, e] = trimSpan(text, s0, e0);
    if (e <= s) continue;
    const piece = text.slice(s, e);
    if (!isCheckable(piece)) continue;
    // "Heading: statement" — check only the statement part.
    let bodyStart = s;
    // (not a colon inside a quoted title: 'The actor in "Kenneth Williams: Fantabulosa!" …')
    const colon = /^[^:"“”]{1,60}:\s+(?=\S)/.exec(piece);
    if (colon && wordCount(piece.slice(colon[0].length)) >= 3) bodyStart = s + colon[0].length;
    const cuts: number[] = [bodyStart];
    CLAUSE_SPLIT_RE.lastIndex = 0;
    const body = text.slice(bodyStart, e);
    let m: RegExpExecArray | null;
    while ((m = CLAUSE_SPLIT_RE.exec(body)) !== null) {
      const at = bodyStart + m.index + m[0].length;
      const prev = cuts[cuts.length - 1]!;
      if (wordCount(text.slice(prev, bodyStart + m.index)) >= 4 && wordCount(text.slice(at, e)) >= 4) cuts.push(at);
      if (m[0].length === 0) CLAUSE_SPLIT_RE.lastIndex++;
    }
    cuts.push(e);
    for (let c = 0; c + 1 < cuts.length; c++) {
      let [cs, ce] = trimSpan(text, cuts[c]!, cuts[c + 1]!);
      // Drop the separator left at a clause end ("…, " or "…; ").
      while (ce > cs && /[,;\s]/.test(text[ce - 1]!)) ce--;
      if (ce <= cs) continue;
      const clause = text.slice(cs, ce);
      if (wordCount(clause) < 1) continue;
      claims.push({ text: clause, start: cs, end: ce, sentence });
    }
    sentence++;
  }
  return claims;
}
