import t from 'tap';
import OpenAI from 'openai';
import Anthropic from '@anthropic-ai/sdk';
import { startStack } from './helpers/stack.js';
import { metricValue, settledMetric } from './helpers/metrics.js';
import { waitForVerdict } from './helpers/verdicts.js';

// Inline mode `block` through the official SDKs: a flagged answer becomes a 422 in the dialect's
// own error shape that the SDK raises as an API error and does not retry; with inline.retry the
// upstream is asked again and the first passing answer is delivered, every attempt an exchange
// of its own, linked to the others.

const GOOD = 'The Eiffel Tower is in Paris. It was completed in 1889.';
const WRONG = 'The Eiffel Tower is in Berlin, Germany. It was completed in 1925 by Karl Benz.';

const { upstream, proxy } = await startStack(t, {
  overrides: (raw) => {
    raw.inline = {
      mode: 'block',
      sseEvent: true,
      apps: {
        'retry-openai': { retry: 1, fallbackModel: 'gpt-good' },
        'retry-anthropic': { retry: 1, fallbackModel: 'claude-good' },
        'retry-same': { retry: 2 },
      },
    };
  },
});
upstream.textFor = (model) => (model.includes('wrong') ? WRONG : GOOD);

const system = 'Answer from the context only.\n\nContext:\nThe Eiffel Tower is a wrought-iron lattice tower on the Champ de Mars in Paris, France. It was designed by the company of engineer Gustave Eiffel and completed in 1889 for the World Fair.';
const question = 'Where is the Eiffel Tower and when was it completed?';
const messages = [
  { role: 'system' as const, content: system },
  { role: 'user' as const, content: question },
];
// The SDKs' own retries are left on: a 422 must not be retried by them.
const openai = (app?: string) => new OpenAI({ apiKey: 'sk-test-block', baseURL: `${proxy.url}/v1`, maxRetries: 2, defaultHeaders: app ? { 'x-veracity-app': app } : {} });
const anthropic = (app?: string) => new Anthropic({ apiKey: 'sk-ant-test-block', baseURL: proxy.url, maxRetries: 2, defaultHeaders: app ? { 'x-veracity-app': app } : {} });
const metric = (labels: Record<string, string>) => metricValue(proxy.url, 'veracity_inline_decisions_total', labels);
const requestsFor = (model: string) => upstream.seen.filter((s) => JSON.parse(s.body.toString()).model === model).length;

t.test('OpenAI SDK: a flagged answer is a 422 APIError of type veracity_blocked, raised once, not retried', async (t) => {
  const before = await metric({ mode: 'block', outcome: 'blocked' });
  const err = await openai().chat.completions.create({ model: 'gpt-wrong-1', messages }).catch((e) => e);
  t.ok(err instanceof OpenAI.APIError, 'an APIError');
  t.ok(err instanceof OpenAI.UnprocessableEntityError, 'the 422 class');
  t.equal(err.status, 422);
  t.equal(err.type, 'veracity_blocked');
  t.equal(err.code, 'veracity_blocked');
  t.match(err.message, /withheld this answer: flagged hallucination/);
  t.equal(requestsFor('gpt-wrong-1'), 1, 'the SDK did not ask again');
  t.equal(err.headers.get('x-should-retry'), 'false');
  const id = err.headers.get('x-veracity-id');
  t.equal(err.error.veracity.id, id, 'the error names the exchange');
  t.same(err.error.veracity.flagged, ['hallucination']);
  t.equal(err.headers.get('x-veracity-flagged'), 'hallucination');

  const verdict = await waitForVerdict(proxy.url, id);
  t.match(verdict.inline, { mode: 'block', decision: 'blocked', attempt: 1, flagged: ['hallucination'] });
  t.equal(verdict.hallucination.score, err.error.veracity.hallucination, 'stored score = the one in the error');
  t.equal(verdict.hallucination.score, Number(err.headers.get('x-veracity-hallucination')));
  t.equal(await metric({ mode: 'block', outcome: 'blocked' }), before + 1);
  t.equal(await settledMetric(proxy.url, 'veracity_checks_total', { model: 'gpt-wrong-1' }, 1), 1, 'counted once');
  t.equal(await settledMetric(proxy.url, 'veracity_requests_total', { provider: 'openai', status_class: '4xx' }, 1), 1, 'the client got a 4xx');
});

t.test('OpenAI SDK: an answer that passes is delivered unchanged, with its verdict', async (t) => {
  const { data, response } = await openai().chat.completions.create({ model: 'gpt-fine', messages }).withResponse();
  t.same(data, JSON.parse(upstream.sent.at(-1)!.toString()));
  t.equal(response.status, 200);
  t.equal(response.headers.get('x-veracity-flagged'), 'none');
  const verdict = await waitForVerdict(proxy.url, response.headers.get('x-veracity-id'));
  t.match(verdict.inline, { mode: 'block', decision: 'delivered' });
});

t.test('Anthropic SDK: a flagged answer is a 422 APIError of type veracity_blocked, not retried', async (t) => {
  const err = await anthropic()
    .messages.create({ model: 'claude-wrong-1', max_tokens: 100, system, messages: [{ role: 'user', content: question }] })
    .catch((e) => e);
  t.ok(err instanceof Anthropic.APIError, 'an APIError');
  t.ok(err instanceof Anthropic.UnprocessableEntityError, 'the 422 class');
  t.equal(err.status, 422);
  t.equal(err.type, 'veracity_blocked');
  t.equal(err.error.type, 'error');
  t.equal(err.error.error.type, 'veracity_blocked');
  t.match(err.error.error.message, /withheld this answer/);
  t.equal(requestsFor('claude-wrong-1'), 1, 'the SDK did not ask again');
  const verdict = await waitForVerdict(proxy.url, err.headers.get('x-veracity-id'));
  t.equal(verdict.provider, 'anthropic');
  t.match(verdict.inline, { decision: 'blocked' });
  t.equal(verdict.hallucination.score, err.error.error.veracity.hallucination);
});

t.test('streams cannot be recalled: block annotates them, text unchanged', async (t) => {
  const { data: stream, response } = await openai().chat.completions.create({ model: 'gpt-wrong-stream', messages, stream: true }).withResponse();
  let text = '';
  for await (const chunk of stream) text += chunk.choices[0]?.delta.content ?? '';
  t.equal(response.status, 200);
  t.equal(text, WRONG, 'the flagged answer arrives whole');
  const verdict = await waitForVerdict(proxy.url, response.headers.get('x-veracity-id'));
  t.match(verdict.inline, { mode: 'block', decision: 'delivered', stream: true, flagged: ['hallucination'] });

  const { data: astream, response: ar } = await anthropic()
    .messages.create({ model: 'claude-wrong-stream', max_tokens: 100, system, messages: [{ role: 'user', content: question }], stream: true })
    .withResponse();
  let atext = '';
  for await (const e of astream) if (e.type === 'content_block_delta' && e.delta.type === 'text_delta') atext += e.delta.text;
  t.equal(atext, WRONG);
  const relayed = await fetch(`${proxy.url}/v1/messages`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', 'x-api-key': 'k', 'anthropic-version': '2023-06-01' },
    body: JSON.stringify({ model: 'claude-wrong-stream', max_tokens: 100, system, messages: [{ role: 'user', content: question }], stream: true }),
  });
  const bytes = Buffer.from(await relayed.arrayBuffer());
  const comment = bytes.toString().split('\n').find((l) => l.startsWith(': veracity '));
  t.ok(comment, 'the verdict comes as a comment after the last event');
  t.same(JSON.parse(comment!.slice(': veracity '.length)).flagged, ['hallucination']);
  t.ok(bytes.subarray(0, bytes.indexOf(': veracity ')).equals(upstream.sent.at(-1)!), 'every event before it unchanged');
  // inline.sseEvent: a structured event after the comment, which the SDKs above ignored.
  const event = bytes.toString().slice(bytes.indexOf(': veracity ')).split('\n\n')[1]!;
  t.match(event, /^event: veracity\ndata: \{/);
  const data = JSON.parse(event.slice(event.indexOf('data: ') + 6));
  t.match(data, { id: relayed.headers.get('x-veracity-id'), flagged: ['hallucination'], refusal: 'none' });
  t.equal((await waitForVerdict(proxy.url, ar.headers.get('x-veracity-id'))).inline.stream, true);
});

t.test('retry with a fallback model: the first passing answer is delivered, both attempts stored and linked', async (t) => {
  const retriedBefore = await metric({ mode: 'block', outcome: 'retried' });
  const { data, response } = await openai('retry-openai').chat.completions.create({ model: 'gpt-wrong-2', messages }).withResponse();
  t.equal(response.status, 200);
  t.equal(data.choices[0]!.message.content, GOOD, 'the passing answer');
  t.equal(data.model, 'gpt-good', 'from the fallback model');
  t.equal(requestsFor('gpt-wrong-2'), 1);
  t.equal(requestsFor('gpt-good'), 1, 'asked once more, with the fallback model');
  t.equal(upstream.seen.at(-1)!.headers.authorization, 'Bearer sk-test-block', 'with the client\'s credentials');
  const attempts = response.headers.get('x-veracity-attempts')!.split(',');
  const id = response.headers.get('x-veracity-id')!;
  t.equal(attempts.length, 2);
  t.equal(attempts[1], id, 'the delivered answer is the last attempt');
  t.equal(response.headers.get('x-veracity-flagged'), 'none');

  const first = await waitForVerdict(proxy.url, attempts[0]!);
  const second = await waitForVerdict(proxy.url, id);
  t.match(first.inline, { decision: 'retried', attempt: 1, retried_as: id, flagged: ['hallucination'] });
  t.equal(first.model, 'gpt-wrong-2');
  t.match(second.inline, { decision: 'delivered', attempt: 2, retry_of: attempts[0] });
  t.equal(second.model, 'gpt-good');
  t.equal(second.hallucination.score, Number(response.headers.get('x-veracity-hallucination')));
  t.equal(await metric({ mode: 'block', outcome: 'retried' }), retriedBefore + 1);
  t.equal(await settledMetric(proxy.url, 'veracity_checks_total', { model: 'gpt-good' }, 1), 1, 'each attempt counted once');
  t.equal(await settledMetric(proxy.url, 'veracity_checks_total', { model: 'gpt-wrong-2' }, 1), 1);
});

t.test('Anthropic retry with a fallback model', async (t) => {
  const { data, response } = await anthropic('retry-anthropic')
    .messages.create({ model: 'claude-wrong-2', max_tokens: 100, system, messages: [{ role: 'user', content: question }] })
    .withResponse();
  t.equal(data.model, 'claude-good');
  t.same(data.content, [{ type: 'text', text: GOOD }]);
  const [firstId] = response.headers.get('x-veracity-attempts')!.split(',');
  const first = await waitForVerdict(proxy.url, firstId!);
  t.match(first.inline, { decision: 'retried', retried_as: response.headers.get('x-veracity-id') });
});

t.test('retries that never pass end in the 422 of the last attempt, naming every attempt', async (t) => {
  const err = await openai('retry-same').chat.completions.create({ model: 'gpt-wrong-3', messages }).catch((e) => e);
  t.equal(err.status, 422);
  t.equal(err.type, 'veracity_blocked');
  t.equal(requestsFor('gpt-wrong-3'), 3, 'the request and two retries of it; none by the SDK');
  const ids: string[] = err.error.veracity.attempts;
  t.equal(ids.length, 3);
  t.equal(ids[2], err.headers.get('x-veracity-id'));
  t.match(err.message, /after 3 attempts/);
  const verdicts = await Promise.all(ids.map((id) => waitForVerdict(proxy.url, id)));
  t.match(verdicts[0]!.inline, { decision: 'retried', attempt: 1, retried_as: ids[1] });
  t.match(verdicts[1]!.inline, { decision: 'retried', attempt: 2, retry_of: ids[0], retried_as: ids[2] });
  t.match(verdicts[2]!.inline, { decision: 'blocked', attempt: 3, retry_of: ids[1] });

  // The console shows what was withheld and how the attempts link up.
  const page = async (path: string) => (await fetch(`${proxy.url}${path}`)).text();
  const blocked = await page(`/veracity/exchanges/${ids[2]}`);
  t.match(blocked, /data-field="inline" data-decision="blocked"/);
  t.match(blocked, /the client got a 422 \(veracity_blocked\) instead of this answer/);
  t.ok(blocked.includes(`href="/veracity/exchanges/${ids[1]}"`), 'links the attempt it retried');
  const retried = await page(`/veracity/exchanges/${ids[0]}`);
  t.match(retried, /data-decision="retried"/);
  t.ok(retried.includes(`href="/veracity/exchanges/${ids[1]}"`), 'links the retry');
  const recent = await page('/veracity/exchanges?models=openai%2Fgpt-wrong-3');
  t.match(recent, /blocked \(422\) after 3 attempts/);
  t.match(recent, /withheld, retried as/);
});

t.test('the request header opts out of block, or into annotate', async (t) => {
  const { data, response } = await openai().chat.completions.create({ model: 'gpt-wrong-4', messages }, { headers: { 'x-veracity-inline': 'off' } }).withResponse();
  t.equal(data.choices[0]!.message.content, WRONG);
  t.equal(response.headers.get('x-veracity-flagged'), null);
  const annotated = await openai().chat.completions.create({ model: 'gpt-wrong-4', messages }, { headers: { 'x-veracity-inline': 'annotate' } }).withResponse();
  t.equal(annotated.data.choices[0]!.message.content, WRONG);
  t.equal(annotated.response.headers.get('x-veracity-flagged'), 'hallucination');
});
