import t from 'tap';
import fc from 'fast-check';
import { wordCount } from '../src/detect/claims.js';
import { wholeWordAt } from '../src/detect/failure-mode.js';

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
