import t from 'tap';
import fc from 'fast-check';
import { analyse } from '../src/detect/index.js';
import { extractClaims } from '../src/detect/claims.js';
import { ConfigSchema } from '../src/config/schema.js';
import type { Exchange } from '../src/capture/exchange.js';

const cfg = ConfigSchema.parse({}).detect;

// Text built from pieces that stress the splitter and tokeniser: abbreviations, numbers with
// separators, list markers, fences, odd unicode (combining marks, RTL, emoji, lone surrogates).
const piece = fc.oneof(
  fc.string(),
  fc.string({ unit: 'grapheme' }),
  fc.string({ unit: 'binary' }),
  fc.constantFrom(
    'Dr. ', 'U.S. ', 'e.g. ', '1. ', '- ', '**', '```', '```js\nx()\n```', '?', '!', '...', ';', ', and ', ': ',
    '\n', '\n\n', ' 1,234,567.89 ', ' 3.5 million ', ' March 17, 2017 ', '$ 160 million', 'not ', "can't ",
    "I'm sorry, but I can't help with that.", 'However, here are some options:', 'The Eiffel Tower', 'é', '\u0301',
    '\u202e', '\ud800', '👩‍👩‍👧', 'ǅ', 'İ', '\u0000', '\t',
  ),
);
const text = fc.array(piece, { maxLength: 40 }).map((xs) => xs.join(''));

const exchangeArb = fc.record({
  text,
  context: fc.array(
    fc.record({ source: fc.constantFrom('system', 'document', 'tool', 'history'), text }),
    { maxLength: 3 },
  ),
  question: text,
  finishReason: fc.option(fc.constantFrom('stop', 'length', 'content_filter', 'refusal', 'end_turn'), { nil: undefined }),
  refusal: fc.option(fc.string(), { nil: undefined }),
  logprobs: fc.option(fc.array(fc.record({ token: fc.string({ maxLength: 6 }), logprob: fc.double({ min: -50, max: 0.1 }) }), { maxLength: 30 }), { nil: undefined }),
});

function toExchange(r: { text: string; context: Exchange['context']; question: string; finishReason?: string; refusal?: string; logprobs?: Exchange['response']['logprobs'] }): Exchange {
  return {
    id: 'p',
    provider: 'anthropic',
    route: 'messages',
    model: 'm',
    context: r.context,
    question: r.question,
    response: { text: r.text, finishReason: r.finishReason, refusal: r.refusal, logprobs: r.logprobs },
  };
}

t.test('analyse never throws, keeps scores in 0..1 and offsets exact, on arbitrary text', async (t) => {
  fc.assert(
    fc.property(exchangeArb, (r) => {
      const ex = toExchange(r);
      const v = analyse(ex, cfg);
      for (const s of [v.hallucination.score, v.confidence_mismatch.score, v.refusal.score]) {
        if (!(s >= 0 && s <= 1)) return false;
      }
      for (const c of v.hallucination.claims) {
        if (ex.response.text.slice(c.start, c.end) !== c.text) return false;
        if (!(c.score >= 0 && c.score <= 1)) return false;
      }
      if (!v.grounded && v.hallucination.claims.some((c) => c.support === 'supported')) return false;
      // Well-typed input must be analysed, not rescued by the catch-all.
      return !v.provenance?.includes('error');
    }),
    { numRuns: 400 },
  );
  t.pass('400 arbitrary exchanges analysed');
});

t.test('extractClaims offsets are exact on arbitrary text', async (t) => {
  fc.assert(
    fc.property(text, (s) => extractClaims(s).every((c) => s.slice(c.start, c.end) === c.text && c.start < c.end)),
    { numRuns: 400 },
  );
  t.pass('offsets exact');
});

t.test('analyse survives malformed exchanges and stays bounded on huge input', async (t) => {
  const broken = [
    {},
    { response: null },
    { response: { text: 42 }, context: 'nope' },
    { response: { text: 'The sky is green.' }, context: [null, { source: 'document' }, { text: 7 }] },
    { response: { text: 'x', logprobs: [null, { token: 5, logprob: 'a' }] } },
  ] as unknown as Exchange[];
  for (const ex of broken) {
    const v = analyse(ex, cfg);
    t.ok(v.hallucination.score >= 0 && v.hallucination.score <= 1);
  }
  const sentence = 'The committee approved the 2019 budget of 4.5 million dollars after a long debate in Geneva. ';
  const huge = toExchange({
    text: sentence.repeat(5000) + 'x'.repeat(200_000),
    context: [{ source: 'document', text: sentence.repeat(20_000) }],
    question: 'What happened?',
  });
  const t0 = Date.now();
  const v = analyse(huge, cfg);
  const ms = Date.now() - t0;
  t.ok(ms < 5000, `huge exchange analysed in ${ms} ms`);
  t.ok(v.hallucination.claims.every((c) => c.end <= cfg.maxResponseChars), 'response cut at maxResponseChars');
  t.equal(v.grounded, true);
  t.same(v.truncated, { response: true, context: true }, 'the cut is reported for counting');
});
