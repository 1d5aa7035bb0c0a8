import t from 'tap';
import fc from 'fast-check';
import { wordCount } from '../src/detect/claims.js';
import { wholeWordAt } from '../src/detect/failure-mode.js';
import { WordOrder } from '../src/detect/grounding.js';

/**
 * Hand-written scanners that stand in for regular expressions on the detectors' hot path give
 * exactly the regular expressions' answers, on text built from the characters where they could
 * part ways: letters and digits inside and outside ASCII, letters outside the basic plane
 * (surrogate pairs), lone surrogates, marks, other numbers.
 */

const PIECES = ['a', 'Z', 'é', 'ß', 'ж', '中', '𝐀', '𝟎', '\ud835', '\udc00', '7', '0', '²', '٣', '\u0301', ' ', '-', "'", '.', ',', '\n', '_', 'ab', '12', 'x1'];
const text = fc.array(fc.constantFrom(...PIECES), { maxLength: 40 }).map((p) => p.join(''));

t.test('wordCount counts the matches of /\\p{L}{2,}|\\p{N}+/gu', async (t) => {
  fc.assert(
    fc.property(text, (s) => wordCount(s) === (s.match(/\p{L}{2,}|\p{N}+/gu)?.length ?? 0)),
    { numRuns: 5000 },
  );
  t.equal(wordCount('The tower, built in 1889, is 330 m tall.'), 8);
  t.equal(wordCount(''), 0);
});

t.test('wholeWordAt finds a word exactly when splitting at non-letters and non-digits would', async (t) => {
  // Only words made of letters and ASCII digits are looked up this way ('𝟎' is a digit, not \d).
  const word = fc
    .array(fc.constantFrom('a', 'é', '中', '𝐀', '7', '𝟎', 'ab', 'x1'), { minLength: 1, maxLength: 3 })
    .map((p) => p.join(''))
    .filter((w) => /^[\p{L}\d]+$/u.test(w));
  fc.assert(
    fc.property(text, word, (s, w) => (wholeWordAt(s, w) >= 0) === s.split(/[^\p{L}\d]+/u).includes(w)),
    { numRuns: 5000 },
  );
  t.equal(wholeWordAt('the eiffel tower', 'tower'), 11);
  t.equal(wholeWordAt('towers and a tower', 'tower'), 13);
  t.equal(wholeWordAt('𝐀tower', 'tower'), -1, 'a letter outside the basic plane joins the word');
});

t.test('WordOrder answers which words sit together exactly as the sets of every pair would', async (t) => {
  const passages = fc.array(fc.array(fc.integer({ min: 0, max: 7 }), { maxLength: 12 }), { maxLength: 5 });
  fc.assert(
    fc.property(passages, (ps) => {
      // Ids numbered in order of first appearance, as the context index gives them.
      const ids = new Map<number, number>();
      const order = new WordOrder();
      const seqs = ps.map((p) => {
        const seq = p.map((w) => {
          let id = ids.get(w);
          if (id === undefined) ids.set(w, (id = ids.size));
          order.add(id);
          return id;
        });
        order.endPassage();
        return seq;
      });
      const bigrams = new Set<string>();
      const pairs = new Set<string>();
      for (const seq of seqs) {
        for (let i = 0; i < seq.length; i++) {
          if (i + 1 < seq.length) bigrams.add(`${seq[i]} ${seq[i + 1]}`);
          for (let j = i + 1; j < Math.min(seq.length, i + 5); j++) pairs.add(`${Math.min(seq[i]!, seq[j]!)} ${Math.max(seq[i]!, seq[j]!)}`);
        }
      }
      for (let a = 0; a < ids.size; a++) {
        for (let b = 0; b < ids.size; b++) {
          if (order.follows(a, b) !== bigrams.has(`${a} ${b}`)) return false;
          if (a !== b && order.near(a, b) !== pairs.has(`${Math.min(a, b)} ${Math.max(a, b)}`)) return false;
        }
      }
      return true;
    }),
    { numRuns: 2000 },
  );
});
