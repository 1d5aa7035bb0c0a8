import t from 'tap';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { PassThrough } from 'node:stream';
import { anthropicPlainConversation, buildAnthropicRequest, resampleAnthropicRequest } from '../src/capture/anthropic.js';
import { buildOpenAIRequest, openaiAnswers, openaiPlainConversation, resampleOpenAIRequest } from '../src/capture/openai.js';
import { ConfigSchema } from '../src/config/schema.js';
import { analyse } from '../src/detect/index.js';
import { applySamples, checkAgainstSamples, disagreement } from '../src/detect/samples.js';
import { fromRecord } from '../src/capture/index.js';
import { Judge } from '../src/judge/judge.js';
import { createMetrics } from '../src/metrics/registry.js';
import { runEval } from '../src/eval/eval.js';
import { rowAnalyser } from '../src/eval/pipeline.js';
import { chatCompletion } from './helpers/upstream.js';

const detect = ConfigSchema.parse({}).detect;

t.test('plain conversations: read from either dialect, anything else refused with a reason', async (t) => {
  const chat = { model: 'm', messages: [{ role: 'system', content: 'Be brief.' }, { role: 'user', content: [{ type: 'text', text: 'Hi' }] }, { role: 'assistant', content: 'Hello.' }, { role: 'user', content: 'Where is Paris?' }] };
  t.same(openaiPlainConversation('chat.completions', chat), {
    plain: true,
    conversation: { system: 'Be brief.', turns: [{ role: 'user', text: 'Hi' }, { role: 'assistant', text: 'Hello.' }, { role: 'user', text: 'Where is Paris?' }] },
  });
  t.same(openaiPlainConversation('responses', { model: 'm', instructions: 'Be brief.', input: 'Where is Paris?' }), { plain: true, conversation: { system: 'Be brief.', turns: [{ role: 'user', text: 'Where is Paris?' }] } });
  t.same(openaiPlainConversation('chat.completions', { messages: [{ role: 'user', content: [{ type: 'image_url', image_url: { url: 'x' } }] }] }), { plain: false, reason: 'images' });
  t.same(openaiPlainConversation('chat.completions', { messages: [{ role: 'user', content: 'tools' }, { role: 'assistant', tool_calls: [] }] }), { plain: false, reason: 'tools' });
  t.same(openaiPlainConversation('chat.completions', { tools: [], messages: [{ role: 'user', content: 'x' }] }), { plain: false, reason: 'tools' });
  t.same(openaiPlainConversation('chat.completions', { messages: [{ role: 'user', content: [{ type: 'file', file: {} }] }] }), { plain: false, reason: 'files' });
  t.same(openaiPlainConversation('completions', { prompt: 'x' }), { plain: false, reason: 'route' });
  t.same(openaiPlainConversation('responses', { input: [{ type: 'function_call_output', output: 'x' }] }), { plain: false, reason: 'tools' });
  t.same(anthropicPlainConversation('messages', { system: [{ type: 'text', text: 'Be brief.' }], messages: [{ role: 'user', content: 'Where is Paris?' }] }), { plain: true, conversation: { system: 'Be brief.', turns: [{ role: 'user', text: 'Where is Paris?' }] } });
  t.same(anthropicPlainConversation('messages', { messages: [{ role: 'user', content: [{ type: 'image', source: {} }] }] }), { plain: false, reason: 'images' });
  t.same(anthropicPlainConversation('messages', { messages: [{ role: 'user', content: [{ type: 'document', source: {} }] }] }), { plain: false, reason: 'files' });
  t.same(anthropicPlainConversation('messages', { messages: [{ role: 'user', content: [{ type: 'tool_result', content: 'x' }] }] }), { plain: false, reason: 'tools' });
});

t.test('built requests: each dialect in its own format, resamples keep the original request', async (t) => {
  const conversation = { system: 'Be brief.', turns: [{ role: 'assistant' as const, text: 'Welcome!' }, { role: 'user' as const, text: 'Hi' }, { role: 'user' as const, text: 'Where is Paris?' }] };
  const a = buildAnthropicRequest(conversation, { model: 'claude-x', temperature: 1.5, n: 1, maxTokens: 200 });
  t.same(a, { path: '/v1/messages', answers: 1, body: { model: 'claude-x', max_tokens: 200, temperature: 1, system: 'Be brief.', messages: [{ role: 'user', content: 'Hi\n\nWhere is Paris?' }] } }, 'alternating turns from the user, temperature within the API range');
  const o = buildOpenAIRequest(conversation, { model: 'gpt-x', temperature: 1.5, n: 3, maxTokens: 200 });
  t.same(o.body, { model: 'gpt-x', temperature: 1.5, max_tokens: 200, n: 3, messages: [{ role: 'system', content: 'Be brief.' }, { role: 'assistant', content: 'Welcome!' }, { role: 'user', content: 'Hi' }, { role: 'user', content: 'Where is Paris?' }] });
  const original = { model: 'gpt-x', stream: true, stream_options: { include_usage: true }, max_tokens: 4000, tools: [{ type: 'function' }], messages: [{ role: 'user', content: 'x' }] };
  const r = resampleOpenAIRequest('chat.completions', original, { temperature: 1, n: 3, maxTokens: 1024 })!;
  t.same(r.body, { model: 'gpt-x', stream: false, max_tokens: 1024, tools: [{ type: 'function' }], messages: [{ role: 'user', content: 'x' }], temperature: 1, n: 3 });
  t.equal(r.answers, 3);
  t.equal(resampleOpenAIRequest('responses', { model: 'gpt-x', input: 'x', stream: true }, { temperature: 1, n: 3, maxTokens: 100 })!.answers, 1, 'responses has no n');
  const ar = resampleAnthropicRequest('messages', { model: 'c', max_tokens: 50, stream: true, messages: [] }, { temperature: 2, n: 3, maxTokens: 1024 })!;
  t.same(ar.body, { model: 'c', max_tokens: 50, stream: false, temperature: 1, messages: [] });
  t.same(openaiAnswers('chat.completions', { choices: [{ index: 1, message: { content: 'b' } }, { index: 0, message: { content: 'a' } }], usage: { prompt_tokens: 5, completion_tokens: 7 } }), { texts: ['a', 'b'], usage: { inputTokens: 5, outputTokens: 7 } });
});

t.test('the sample check: agreement counts, disagreement clusters', async (t) => {
  const q = 'When was the Eiffel Tower completed?';
  const a = 'The Eiffel Tower was completed in 1889. It was designed by the company of Gustave Eiffel.';
  const same = checkAgainstSamples(a, q, [a, a, a], detect);
  t.same(same.claims.map((c) => [c.supporting, c.samples, c.support]), [[3, 3, 'supported'], [3, 3, 'supported']]);
  t.ok(same.score < 0.5);
  t.same(same.disagreement, { answers: 4, clusters: 1, entropy: 0 });
  const drift = checkAgainstSamples(a, q, ['It was completed in 1887 and designed by Stephen Sauvestre.', 'It was completed in 1901 by Maurice Koechlin.', 'The tower opened in 1893; Emile Nouguier designed it.', ''], detect);
  t.same(drift.claims.map((c) => [c.supporting, c.samples, c.support]), [[0, 3, 'unsupported'], [0, 3, 'unsupported']], 'an empty sample is no evidence');
  t.ok(drift.score > 0.9);
  t.same(drift.disagreement, { answers: 4, clusters: 4, entropy: 1 });
  t.same(disagreement(['Paris is the capital of France.', 'Paris is the capital of France.', 'Lyon is the capital of France.'], 'What is the capital of France?', detect).clusters, 2);
});

t.test('samples: an ungrounded verdict becomes method samples; a grounded one keeps context and takes the worse reading', async (t) => {
  const row = (messages: unknown[], text: string) => fromRecord({ id: 'x', provider: 'openai', request: { model: 'm', messages }, response: chatCompletion('m', text) });
  const open = row([{ role: 'user', content: 'When was the Eiffel Tower completed?' }], 'The Eiffel Tower was completed in 1889.');
  const v = analyse(open, detect);
  t.equal(v.hallucination.method, 'none');
  t.ok(applySamples(v, { question: open.question, answer: open.response.text }, ['The Eiffel Tower was completed in 1901.', 'It was completed in 1925.'], detect));
  t.equal(v.hallucination.method, 'samples');
  t.equal(v.hallucination.flagged, true);
  t.same(v.hallucination.claims[0]!.agreement, { supporting: 0, samples: 2 });
  t.notOk(applySamples(analyse(open, detect), { question: open.question, answer: open.response.text }, ['', '  '], detect), 'no usable sample: untouched');
  const grounded = row([{ role: 'system', content: 'Context: The Eiffel Tower in Paris was completed in 1889.' }, { role: 'user', content: 'When?' }], 'The Eiffel Tower was completed in 1889.');
  const g = analyse(grounded, detect);
  t.equal(g.hallucination.method, 'context');
  applySamples(g, { question: grounded.question, answer: grounded.response.text }, ['It was completed in 1889.', 'The Eiffel Tower was completed in 1889.'], detect);
  t.equal(g.hallucination.method, 'context', 'checked against context, samples added');
  t.ok(g.hallucination.claims[0]!.agreement);
});

t.test('eval scores the sample check on rows with pre-collected samples, with no model call', async (t) => {
  const out = new PassThrough();
  let text = '';
  out.on('data', (d) => (text += d));
  const { code, report } = await runEval(['--input', 'test/fixtures/eval/samples.jsonl'], { stdin: new PassThrough(), stdout: out, stderr: new PassThrough() }, rowAnalyser(detect));
  t.equal(code, 0);
  const h = report!.hallucination!;
  t.equal(h.rows, 31);
  t.equal(h.positives, 15);
  t.equal(report!.by.method!.samples!.hallucination!.rows, 31, 'every row checked against its samples');
  t.equal(report!.provenance['samples:4'], 31);
  // The figures docs/open-ended.md quotes for this set.
  t.same(h.confusion, { tp: 12, fp: 2, tn: 14, fn: 3 });
  t.equal(h.auroc!.toFixed(3), '0.863');
  t.match(text, /Hallucination by method/);
  // Without the samples, the same rows carry no signal.
  const bare = rowAnalyser(detect);
  const rows = (await import('node:fs')).readFileSync('test/fixtures/eval/samples.jsonl', 'utf8').trim().split('\n').map((l) => JSON.parse(l));
  t.ok(rows.every((r) => bare({ ...r, samples: undefined }).hallucination.flagged === false), 'no row flagged without its samples');
  t.throws(() => bare({ ...rows[0], samples: 'not a list' }), { code: 'VERACITY_ERR_SAMPLES_FIELD' });
});

t.test('judge without context: claims put to the judge to verify from its own knowledge', async (t) => {
  const seen: Array<{ system: string; user: string }> = [];
  const fake = createServer((req, res) => {
    let body = '';
    req.on('data', (d) => (body += d));
    req.on('end', () => {
      const json = JSON.parse(body);
      seen.push({ system: json.messages[0].content, user: json.messages[1].content });
      res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ choices: [{ index: 0, message: { role: 'assistant', content: '{"claims":[{"i":1,"support":"contradicted"}]}' } }], usage: { total_tokens: 120 } }));
    });
  });
  await new Promise<void>((r) => fake.listen(0, '127.0.0.1', () => r()));
  t.teardown(() => fake.close());
  const url = `http://127.0.0.1:${(fake.address() as AddressInfo).port}`;
  const exchange = fromRecord({ id: 'j-1', provider: 'openai', request: { model: 'm', messages: [{ role: 'user', content: 'What is the capital of Canada?' }] }, response: chatCompletion('m', 'The capital of Canada is Toronto.') });

  const off = ConfigSchema.parse({ judge: { enabled: true, url, sampleRates: { default: 1 } } });
  const v0 = analyse(exchange, detect);
  await Judge.fromConfig(off, {}, createMetrics())!.apply(exchange, v0, 0.5);
  t.equal(seen.length, 0, 'without judge.ungrounded, exchanges without context are not judged');

  const on = ConfigSchema.parse({ judge: { enabled: true, ungrounded: true, url, sampleRates: { default: 1 } } });
  const v = analyse(exchange, detect);
  await Judge.fromConfig(on, {}, createMetrics())!.apply(exchange, v, 0.5);
  t.equal(seen.length, 1);
  t.match(seen[0]!.system, /own knowledge/);
  t.match(seen[0]!.user, /Question:[\s\S]*capital of Canada[\s\S]*Claims:\n1\. The capital of Canada is Toronto\./);
  t.equal(v.hallucination.claims[0]!.judge, 'contradicted');
  t.equal(v.judge?.basis, 'knowledge');
  t.ok(v.provenance?.includes('judge-knowledge:gpt-4o-mini'), 'provenance says the judge read it from its own knowledge');
  t.equal(v.hallucination.flagged, true);
});
