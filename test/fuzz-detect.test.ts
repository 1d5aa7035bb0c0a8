import t from 'tap';
import fc from 'fast-check';
import { analyse } from '../src/detect/index.js';
import { ConfigSchema } from '../src/config/schema.js';
import type { Exchange } from '../src/capture/exchange.js';

// analyse() is what every worker job and `check` line runs. test/detect-property.test.ts covers
// well-typed random exchanges and one huge input; this adds arbitrary junk in place of an
// exchange (the worker's catch-all must still give a contract-shaped verdict: every score finite
// and in 0..1, claim offsets inside the text) and a set of adversarial text shapes, each timed at
// the default input limits (detect.maxResponseChars / maxContextChars).

const cfg = ConfigSchema.parse({}).detect;

function checkShape(v: ReturnType<typeof analyse>, text: string): void {
  const unit = (x: unknown, what: string) => {
    if (typeof x !== 'number' || !Number.isFinite(x) || x < 0 || x > 1) throw new Error(`${what} = ${x} is not a score in 0..1`);
  };
  unit(v.hallucination.score, 'hallucination.score');
  unit(v.confidence_mismatch.score, 'confidence_mismatch.score');
  unit(v.refusal.score, 'refusal.score');
  if (!['none', 'partial', 'full'].includes(v.refusal.kind)) throw new Error(`refusal.kind ${v.refusal.kind}`);
  if (typeof v.grounded !== 'boolean') throw new Error('grounded not boolean');
  for (const c of v.hallucination.claims) {
    unit(c.score, 'claim.score');
    if (!['supported', 'unsupported', 'contradicted'].includes(c.support)) throw new Error(`claim.support ${c.support}`);
    if (!(Number.isInteger(c.start) && Number.isInteger(c.end) && 0 <= c.start && c.start <= c.end && c.end <= text.length)) {
      throw new Error(`claim offsets ${c.start}..${c.end} outside a text of ${text.length}`);
    }
  }
}

t.test('malformed objects (wrong types, missing fields) still give a verdict', async (t) => {
  fc.assert(
    fc.property(fc.oneof(fc.anything(), fc.record({ response: fc.anything(), context: fc.anything(), question: fc.anything() }, { requiredKeys: [] })), (junk) => {
      const v = analyse(junk as Exchange, cfg);
      checkShape(v, typeof (junk as Exchange)?.response?.text === 'string' ? (junk as Exchange).response.text : '');
      return true;
    }),
    { numRuns: 300 },
  );
  t.pass('300 malformed exchanges');
});

t.test('adversarial texts at the default size limits finish in bounded time', async (t) => {
  const context = 'The Eiffel Tower in Paris was completed in 1889 by the company of Gustave Eiffel. '.repeat(2500).slice(0, cfg.maxContextChars);
  const shapes: Record<string, string> = {
    'tiny sentences': 'A b. '.repeat(5000),
    'numbered list': '1. 2. 3. '.repeat(3000),
    'one long word': 'x'.repeat(cfg.maxResponseChars),
    'no punctuation': 'word '.repeat(5000),
    'many claims': 'Tower 12 in Paris was completed in 1889 by engineer 7. '.repeat(400),
    newlines: 'a\n'.repeat(10_000),
    bullets: '- The tower is tall\n'.repeat(1100),
    astral: '𝒜𝒷𝒸. '.repeat(3000),
    dots: '.'.repeat(cfg.maxResponseChars),
    hedges: 'I think it might possibly perhaps be, but I am not sure. '.repeat(400),
  };
  const budgetMs = 5000; // generous for a shared 2-core CI machine; measured worst case ~1 s
  for (const [name, raw] of Object.entries(shapes)) {
    const text = raw.slice(0, cfg.maxResponseChars);
    for (const ctx of ['', context]) {
      const ex = { id: 'x', provider: 'openai', route: 'chat.completions', model: 'm', context: ctx ? [{ source: 'system', text: ctx }] : [], question: 'Where?', response: { text } } as Exchange;
      const t0 = performance.now();
      const v = analyse(ex, cfg);
      const ms = performance.now() - t0;
      checkShape(v, text);
      t.ok(ms < budgetMs, `${name}${ctx ? ' with 200k context' : ''}: ${ms.toFixed(0)} ms`);
    }
  }
});
