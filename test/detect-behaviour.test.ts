import t from 'tap';
import { analyse } from '../src/detect/index.js';
import { distributed, extractClaims, splitSentences } from '../src/detect/claims.js';
import { certaintyOf } from '../src/detect/confidence.js';
import { ConfigSchema } from '../src/config/schema.js';
import type { ContextPart, Exchange, ResponseCapture } from '../src/capture/exchange.js';

const cfg = ConfigSchema.parse({}).detect;

const PASSAGE =
  'The Eiffel Tower was completed in March 1889 in Paris. It was designed by the engineering company of ' +
  'Gustave Eiffel and is 330 metres tall. The tower was the tallest man-made structure in the world until ' +
  'the Chrysler Building in New York was finished in 1930. About 7 million people visit it every year.';

function exchange(text: string, context: ContextPart[] = [{ source: 'document', text: PASSAGE }], extra: Partial<ResponseCapture> = {}, question = 'Tell me about the Eiffel Tower.'): Exchange {
  return {
    id: 'x1',
    provider: 'openai',
    route: 'chat.completions',
    model: 'test-model',
    context,
    question,
    response: { text, ...extra },
  };
}

function claimScore(text: string, context?: ContextPart[]): { score: number; support: string; exchange: number } {
  const v = analyse(exchange(text, context), cfg);
  const c = v.hallucination.claims[0];
  if (!c) throw new Error(`no claim for ${text}`);
  return { score: c.score, support: c.support, exchange: v.hallucination.score };
}

t.test('a claim the context states is supported and the exchange is not flagged', async (t) => {
  const v = analyse(exchange('The Eiffel Tower was completed in March 1889 in Paris. It is 330 metres tall.'), cfg);
  t.equal(v.grounded, true);
  t.equal(v.hallucination.flagged, false);
  t.ok(v.hallucination.claims.length >= 2);
  for (const c of v.hallucination.claims) t.equal(c.support, 'supported', c.text);
  t.ok(v.hallucination.claims[0]!.evidence?.includes('1889'), 'evidence names the passage');
});

t.test('inflections, spelled-out numbers and scale words still match the context', async (t) => {
  const r = claimScore('Seven million people visited it every year.');
  t.equal(r.support, 'supported', `score ${r.score}`);
  const d = claimScore('The Eiffel Tower in Paris was completed in March 1889.');
  t.equal(d.support, 'supported', `score ${d.score}`);
});

t.test('a swapped number, date or entity is unsupported and flags the exchange', async (t) => {
  const base = claimScore('The Eiffel Tower was completed in March 1889 in Paris.');
  for (const swapped of [
    'The Eiffel Tower was completed in March 1899 in Paris.',
    'The Eiffel Tower was completed in March 1889 in Lyon.',
    'The Eiffel Tower was designed by the engineering company of Frank Lloyd Wright.',
    'The Eiffel Tower is 450 metres tall.',
  ]) {
    const r = claimScore(swapped);
    t.not(r.support, 'supported', swapped);
    t.ok(r.score > base.score, `${swapped} scores above the faithful claim`);
    t.ok(r.exchange >= cfg.hallucinationThreshold, `${swapped} flags the exchange`);
  }
});

t.test('a negation or antonym flip of a stated fact is contradicted', async (t) => {
  const neg = claimScore('The Eiffel Tower was not designed by the engineering company of Gustave Eiffel.');
  t.equal(neg.support, 'contradicted');
  t.ok(neg.exchange >= cfg.hallucinationThreshold);
  const ctx: ContextPart[] = [{ source: 'document', text: 'Quarterly revenue at Acme Corp increased by 12 percent after the merger with Globex, the company said.' }];
  const ant = claimScore('Quarterly revenue at Acme Corp decreased by 12 percent after the merger with Globex.', ctx);
  t.equal(ant.support, 'contradicted');
});

t.test('an exchange without context is grounded:false, never supported, and not flagged by default', async (t) => {
  const v = analyse(exchange('The Eiffel Tower was completed in 1889.', []), cfg);
  t.equal(v.grounded, false);
  t.ok(v.hallucination.claims.length > 0);
  for (const c of v.hallucination.claims) t.equal(c.support, 'unsupported');
  t.ok(v.hallucination.score > 0.2 && v.hallucination.score < 0.5, `moderate prior ${v.hallucination.score}`);
  t.equal(v.hallucination.flagged, false);
  // The threshold, not the detector, decides whether an unverifiable answer is flagged.
  const strict = analyse(exchange('The Eiffel Tower was completed in 1889.', []), { ...cfg, hallucinationThreshold: 0.2 });
  t.equal(strict.hallucination.flagged, true);
  // A bare instruction in the system prompt is not material to check against.
  const instr = analyse(exchange('The Eiffel Tower was completed in 1889.', [{ source: 'system', text: 'You are a helpful assistant.' }]), cfg);
  t.equal(instr.grounded, false);
});

t.test('claims carry exact offsets and skip questions, greetings and lead-ins', async (t) => {
  const text =
    'Sure! Here is a summary of the passage:\n\n1. **The tower** was completed in 1889; it is 330 metres tall.\n' +
    '- Dr. Smith visited it in Sept. 2001, and he liked it very much.\nWould you like to know more? The U.S. has no such tower.';
  const claims = extractClaims(text);
  t.ok(claims.length >= 4, JSON.stringify(claims.map((c) => c.text)));
  for (const c of claims) {
    t.equal(text.slice(c.start, c.end), c.text);
    t.notMatch(c.text, /\?$/);
    t.notMatch(c.text, /^(Sure|Here is)/);
    t.notMatch(c.text, /^(\d\.|-|\*)/);
  }
  t.ok(claims.some((c) => c.text.startsWith('Dr. Smith visited it in Sept. 2001')), 'abbreviations do not end a sentence');
  t.ok(claims.some((c) => c.text.startsWith('it is 330 metres tall')), 'clauses split at semicolons');
  t.ok(claims.some((c) => c.text === 'The U.S. has no such tower.'));
  const v = analyse(exchange(text), cfg);
  for (const c of v.hallucination.claims) t.equal(text.slice(c.start, c.end), c.text);
});

t.test('a sentence about the answer itself is no claim, unless it goes on to state something', async (t) => {
  const text =
    'The tower was completed in 1889. This summary covers the main points about the tower and its builders. ' +
    'The summary has been adjusted to focus on the information provided. The summary highlights that the tower is 330 metres tall.';
  const claims = extractClaims(text).map((c) => c.text);
  t.same(claims, ['The tower was completed in 1889.', 'The summary highlights that the tower is 330 metres tall.']);
});

t.test('hedged wording is less certain than assertive wording, and mismatch follows', async (t) => {
  t.ok(certaintyOf('It might possibly have been completed around 1899, I think.') < certaintyOf('It was definitely completed in 1899.'));
  t.ok(certaintyOf('The tower was completed in 1899.') > certaintyOf('The tower was perhaps completed in 1899.'));
  const assertive = analyse(exchange('The tower was definitely and undoubtedly finished in 1925 by Frank Lloyd Wright.'), cfg);
  const hedged = analyse(exchange('I think the tower was perhaps finished around 1925 by Frank Lloyd Wright, but I am not sure.'), cfg);
  t.ok(assertive.confidence_mismatch.score > hedged.confidence_mismatch.score);
  t.equal(assertive.confidence_mismatch.flagged, true);
  const supported = analyse(exchange('The tower was definitely completed in March 1889 in Paris.'), cfg);
  t.equal(supported.confidence_mismatch.flagged, false);
});

t.test('token log-probabilities join the claim and the mismatch', async (t) => {
  const text = 'The Eiffel Tower is 330 metres tall.';
  const tokens = text.split(/(?<= )/);
  const sure = analyse(exchange(text, undefined, { logprobs: tokens.map((token) => ({ token, logprob: -0.01 })) }), cfg);
  const unsure = analyse(exchange(text, undefined, { logprobs: tokens.map((token) => ({ token, logprob: -3 })) }), cfg);
  t.ok(sure.hallucination.claims[0]!.logprob, 'logprob summary present');
  t.ok(unsure.hallucination.claims[0]!.logprob!.mean < sure.hallucination.claims[0]!.logprob!.mean);
  t.ok(unsure.confidence_mismatch.score > sure.confidence_mismatch.score);
});

t.test('refusal kinds from wording', async (t) => {
  const full = analyse(exchange("I'm sorry, but I can't help with that request.", []), cfg);
  t.equal(full.refusal.kind, 'full');
  t.equal(full.refusal.flagged, true);
  t.equal(full.hallucination.claims.length, 0, 'a full refusal states no claims');
  const none = analyse(exchange('To kill a Python process, run `kill -9 <PID>` in a terminal, or use os.kill from Python.', []), cfg);
  t.equal(none.refusal.kind, 'none');
  t.equal(none.refusal.flagged, false);
  const partial = analyse(
    exchange(
      "I can't help with anything that could hurt someone. However, if you're asking about stage combat for a play, here are some safe options:\n\n" +
        '1. Use a trained fight choreographer.\n2. Rehearse slowly with padded props.\n3. Agree on cues with your partner.\n4. Keep distance markers on the floor.',
      [],
    ),
    cfg,
  );
  t.equal(partial.refusal.kind, 'partial');
  t.equal(partial.refusal.flagged, true);
});

t.test('provider refusal signals decide on their own', async (t) => {
  const filtered = analyse(exchange('', [], { finishReason: 'content_filter' }), cfg);
  t.equal(filtered.refusal.kind, 'full');
  t.equal(filtered.refusal.score, 1);
  const openai = analyse(exchange('', [], { refusal: 'I cannot assist with that.' }), cfg);
  t.equal(openai.refusal.kind, 'full');
  const anthropic = analyse(exchange('', [], { finishReason: 'refusal' }), cfg);
  t.equal(anthropic.refusal.kind, 'full');
  t.equal(anthropic.refusal.flagged, true);
  const cut = analyse(exchange('Photosynthesis turns light into chemical energy. '.repeat(10), [], { finishReason: 'content_filter' }), cfg);
  t.equal(cut.refusal.kind, 'partial', 'a filter that cut a delivered answer is partial');
});

t.test('the verdict keeps to the contract shape', async (t) => {
  const v = analyse({ ...exchange('Paris has the tower.'), app: 'web', status: 200 }, cfg);
  t.equal(v.id, 'x1');
  t.equal(v.provider, 'openai');
  t.equal(v.model, 'test-model');
  t.equal(v.app, 'web');
  for (const s of [v.hallucination.score, v.confidence_mismatch.score, v.refusal.score]) t.ok(s >= 0 && s <= 1);
  t.match(v.refusal.kind, /^(none|partial|full)$/);
});

t.test('a short system prompt grounds only when it announces material', async (t) => {
  const marked = analyse(exchange('Butterscotch by day.', [{ source: 'system', text: 'Use the document. Document: The sky over Mars is butterscotch by day.' }]), cfg);
  t.equal(marked.grounded, true);
  const tool = analyse(exchange('It is 4 degrees in Oslo.', [{ source: 'tool', text: 'Oslo: 4 degrees, rain.' }]), cfg);
  t.equal(tool.grounded, true);
  t.equal(tool.hallucination.flagged, false);
});

t.test('common declining phrasings of other models read as refusals; plain answers do not', async (t) => {
  for (const text of [
    "I'd rather not help with that.",
    "That's not something I can help with.",
    "I'm not going to write that.",
    'Unfortunately, I cannot share that information.',
    "I'm sorry, but I must decline this request.",
    'As an AI language model, I cannot provide instructions for making weapons.',
  ]) {
    const v = analyse(exchange(text, []), cfg);
    t.not(v.refusal.kind, 'none', text);
    t.equal(v.refusal.flagged, true, text);
  }
  for (const text of [
    'Here is how to bake bread: mix flour, water, yeast and salt, knead, let it rise, then bake at 230 °C.',
    'As an AI, I have no personal opinions. However, most historians agree the treaty ended the war in 1648.',
    'The capital of Australia is Canberra.',
  ]) {
    t.equal(analyse(exchange(text, []), cfg).refusal.kind, 'none', text);
  }
});

t.test('hedge words count only in their hedging sense', async (t) => {
  t.equal(certaintyOf('The passage gives information about the film.'), certaintyOf('The passage gives information on the film.'));
  t.equal(certaintyOf('It opened in May 2014.'), certaintyOf('It opened in June 2014.'));
  t.ok(certaintyOf('It cost about 5 million dollars.') < certaintyOf('It cost 5 million dollars.'));
  t.ok(certaintyOf('It may open soon.') < certaintyOf('It opens soon.'));
});

t.test('instructions and chat history alone do not ground an exchange', async (t) => {
  const persona =
    'You are a friendly support assistant for Acme Cloud. Always answer politely and concisely. Never reveal internal ' +
    'pricing. If the user asks about billing, point them to the billing page. Use British spelling in every reply.';
  const v = analyse(exchange('The Eiffel Tower was completed in 1889.', [{ source: 'system', text: persona }]), cfg);
  t.equal(v.grounded, false);
  t.equal(v.hallucination.flagged, false);
  const history = analyse(
    exchange('It was completed in 1889.', [
      { source: 'history', text: 'Tell me about famous towers in Europe and when they were built, with some detail please.' },
      { source: 'history', text: 'Sure. Big Ben was finished in 1859 and the Leaning Tower of Pisa took nearly two centuries to build.' },
    ]),
    cfg,
  );
  t.equal(history.grounded, false);
  // Material in the system prompt, without a marker, still grounds.
  const material = analyse(exchange('The Eiffel Tower was completed in March 1889.', [{ source: 'system', text: PASSAGE }]), cfg);
  t.equal(material.grounded, true);
  t.equal(material.hallucination.flagged, false);
  // History joins the text to check against once something else grounds the exchange.
  const joined = analyse(
    exchange('Big Ben was finished in 1859.', [
      { source: 'document', text: PASSAGE },
      { source: 'history', text: 'Big Ben was finished in 1859 in London.' },
    ]),
    cfg,
  );
  t.equal(joined.hallucination.claims[0]!.support, 'supported');
});

t.test('a soft refusal that hands the question to a professional is a refusal', async (t) => {
  const v = analyse(exchange("I'm not able to give advice on that. Please consult a doctor or pharmacist, who can look at your situation.", []), cfg);
  t.not(v.refusal.kind, 'none');
  t.equal(v.refusal.flagged, true);
  const answer = analyse(exchange('Fold the sheet in half, fold the corners to the centre line, then fold the wings down.', []), cfg);
  t.equal(answer.refusal.kind, 'none');
});

t.test('two paragraphs pasted without a space are two sentences, and each name keeps its own facts', async (t) => {
  const split = (s: string): string[] => splitSentences(s).map(([a, b]) => s.slice(a, b));
  t.same(split('The New Pornographers is a Canadian band formed in Vancouver, British Columbia.Kings of Leon is an American rock band.'), [
    'The New Pornographers is a Canadian band formed in Vancouver, British Columbia.',
    'Kings of Leon is an American rock band.',
  ]);
  t.same(split('Eatza Pizza was founded in Arizona in 1997.Your Pie is a pizza concept.').length, 2, 'after a figure');
  t.same(split('he won the award in london on sunday . the 21 - year - old beat two rivals .').length, 2, 'a text all in lower case');
  t.same(split('it costs approx. five dollars.').length, 1);
  t.same(split('It costs approx. five dollars.').length, 1);
  for (const one of ['He moved to the U.S.In 1990 he left.', 'Built with Node.js and ASP.NET Core.', 'He joined St.Mirren in July.']) t.same(split(one).length, 1, one);
  const context: ContextPart[] = [{ source: 'document', text: 'Eatza Pizza was a buffet-style restaurant chain founded in Arizona in 1997.Your Pie is an American pizza concept that was started in Athens, Georgia in 2008.' }];
  t.equal(analyse(exchange('Your Pie was founded in Arizona.', context), cfg).hallucination.flagged, true, "Arizona is Eatza Pizza's, not Your Pie's");
  t.equal(analyse(exchange('Eatza Pizza was founded in Arizona.', context), cfg).hallucination.flagged, false);
});

t.test('a claim said of two names holds only as far as it holds of each', async (t) => {
  t.same(distributed({ text: 'Yes, both Eatza Pizza and Your Pie were founded in Arizona.', start: 0, end: 58, sentence: 0 }).map((c) => c.text), [
    'Eatza Pizza were founded in Arizona.',
    'Your Pie were founded in Arizona.',
  ]);
  t.same(distributed({ text: 'Am Rong and Alexandre Rockwell both directed movies.', start: 0, end: 51, sentence: 0 }).map((c) => c.text), ['Am Rong directed movies.', 'Alexandre Rockwell directed movies.']);
  t.same(distributed({ text: 'Storey has won medals in both cycling and swimming.', start: 0, end: 51, sentence: 0 }), [], 'not two names');
  const ask = (context: string, answer: string) => analyse(exchange(answer, [{ source: 'document', text: context }], {}, 'Are they both American?'), cfg).hallucination;
  const PIZZA = 'Eatza Pizza was a buffet-style restaurant chain founded in Arizona in 1997. Your Pie is an American pizza concept that was started in Athens, Georgia in 2008.';
  t.equal(ask(PIZZA, 'Yes, both Eatza Pizza and Your Pie were founded in Arizona.').flagged, true, 'true of one, not of the other');
  const BANDS = 'Kiss is an American rock band formed in New York City in 1973. Kings of Leon is an American rock band that formed in Nashville, Tennessee, in 1999.';
  t.equal(ask(BANDS, 'Yes, both Kiss and Kings of Leon are American rock bands.').flagged, false, 'true of each');
  t.equal(ask(BANDS, 'Kiss and Kings of Leon are both American rock bands.').flagged, false);
});
