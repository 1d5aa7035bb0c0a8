import t from 'tap';
import OpenAI from 'openai';
import Anthropic from '@anthropic-ai/sdk';
import { startStack } from './helpers/stack.js';
import { metricValue as readMetric, settledMetric } from './helpers/metrics.js';
import { waitForVerdict } from './helpers/verdicts.js';

// The app side of the contract: official SDKs pointed at Veracity get exactly what the upstream
// sent, in both dialects, streaming and not; each exchange gets a verdict and is counted.

const OPENAI_KEY = 'sk-test-marker-openai-0123456789';
const ANTHROPIC_KEY = 'sk-ant-test-marker-0123456789';

const { redis, upstream, proxy, port } = await startStack(t);

function verdictFor(id: string, withinMs = 20_000): Promise<Record<string, any>> {
  return waitForVerdict(proxy.url, id, withinMs);
}

function metricValue(name: string, labels: Record<string, string>): Promise<number> {
  return readMetric(proxy.url, name, labels);
}

const question = [
  { role: 'system' as const, content: 'Answer from the context only.\n\nContext:\nThe Eiffel Tower is a wrought-iron lattice tower on the Champ de Mars in Paris, France. It was designed by the company of engineer Gustave Eiffel and completed in 1889 for the World Fair.' },
  { role: 'user' as const, content: 'Where is the Eiffel Tower and when was it completed?' },
];

t.test('OpenAI SDK, non-streaming: identical body, verdict, metrics', async (t) => {
  const client = new OpenAI({ apiKey: OPENAI_KEY, baseURL: `${proxy.url}/v1`, maxRetries: 0 });
  const before = await metricValue('veracity_checks_total', { provider: 'openai', model: 'gpt-sdk-json' });
  const { data, response } = await client.chat.completions.create({ model: 'gpt-sdk-json', messages: question }).withResponse();
  const sent = JSON.parse(upstream.sent.at(-1)!.toString());
  t.same(data, sent, 'SDK object equals what the upstream sent');
  const seen = upstream.seen.at(-1)!;
  t.equal(seen.headers.authorization, `Bearer ${OPENAI_KEY}`, 'credentials reach the upstream');
  const id = response.headers.get('x-veracity-id');
  t.ok(id, 'x-veracity-id header present');
  const verdict = await verdictFor(id!);
  t.equal(verdict.id, id);
  t.equal(verdict.provider, 'openai');
  t.equal(verdict.model, 'gpt-sdk-json');
  t.equal(verdict.grounded, true);
  t.ok(verdict.hallucination.claims.length > 0, 'claims extracted');
  t.notOk(JSON.stringify(verdict).includes(OPENAI_KEY), 'no key in the verdict');
  t.equal(await settledMetric(proxy.url, 'veracity_checks_total', { provider: 'openai', model: 'gpt-sdk-json' }, before + 1), before + 1, 'counted once');
});

t.test('OpenAI SDK, streaming: identical chunks and bytes, verdict, metrics', async (t) => {
  const client = new OpenAI({ apiKey: OPENAI_KEY, baseURL: `${proxy.url}/v1`, maxRetries: 0 });
  const { data: stream, response } = await client.chat.completions.create({ model: 'gpt-sdk-stream', messages: question, stream: true }).withResponse();
  const got: unknown[] = [];
  for await (const chunk of stream) got.push(chunk);
  const sent = upstream.sent.at(-1)!.toString();
  const expected = sent
    .split('\n\n')
    .filter((e) => e.startsWith('data: ') && e !== 'data: [DONE]')
    .map((e) => JSON.parse(e.slice(6)));
  t.same(got, expected, 'every chunk identical');
  const id = response.headers.get('x-veracity-id')!;
  const verdict = await verdictFor(id);
  t.equal(verdict.model, 'gpt-sdk-stream');
  t.equal(await settledMetric(proxy.url, 'veracity_checks_total', { provider: 'openai', model: 'gpt-sdk-stream' }, 1), 1);

  // Raw bytes too, not only what the SDK makes of them.
  const raw = await fetch(`${proxy.url}/v1/chat/completions`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', authorization: `Bearer ${OPENAI_KEY}` },
    body: JSON.stringify({ model: 'gpt-sdk-stream', messages: question, stream: true }),
  });
  const bytes = Buffer.from(await raw.arrayBuffer());
  t.ok(bytes.equals(upstream.sent.at(-1)!), 'relayed bytes identical to upstream bytes');
  t.match(raw.headers.get('content-type'), /text\/event-stream/);
});

t.test('Anthropic SDK, non-streaming: identical body, verdict, metrics', async (t) => {
  const client = new Anthropic({ apiKey: ANTHROPIC_KEY, baseURL: proxy.url, maxRetries: 0 });
  const { data, response } = await client.messages
    .create({ model: 'claude-sdk-json', max_tokens: 100, system: question[0]!.content, messages: [{ role: 'user', content: question[1]!.content }] })
    .withResponse();
  const sent = JSON.parse(upstream.sent.at(-1)!.toString());
  t.same(data, sent, 'SDK object equals what the upstream sent');
  const h = upstream.seen.at(-1)!.headers;
  t.ok(h['x-api-key'] === ANTHROPIC_KEY || h.authorization === `Bearer ${ANTHROPIC_KEY}`, 'credentials reach the upstream');
  const id = response.headers.get('x-veracity-id')!;
  const verdict = await verdictFor(id);
  t.equal(verdict.provider, 'anthropic');
  t.equal(verdict.model, 'claude-sdk-json');
  t.equal(verdict.grounded, true);
  t.equal(await settledMetric(proxy.url, 'veracity_checks_total', { provider: 'anthropic', model: 'claude-sdk-json' }, 1), 1);
});

t.test('Anthropic SDK, streaming: identical events and text, verdict, metrics', async (t) => {
  const client = new Anthropic({ apiKey: ANTHROPIC_KEY, baseURL: proxy.url, maxRetries: 0 });
  const { data: stream, response } = await client.messages
    .create({ model: 'claude-sdk-stream', max_tokens: 100, system: question[0]!.content, messages: [{ role: 'user', content: question[1]!.content }], stream: true })
    .withResponse();
  const got: unknown[] = [];
  for await (const event of stream) got.push(event);
  const sent = upstream.sent.at(-1)!.toString();
  const expected = sent
    .split('\n\n')
    .filter((e) => e.includes('data: '))
    .map((e) => JSON.parse(e.slice(e.indexOf('data: ') + 6)))
    .filter((e) => e.type !== 'ping');
  t.same(got, expected, 'every event identical');
  const id = response.headers.get('x-veracity-id')!;
  const verdict = await verdictFor(id);
  t.equal(verdict.model, 'claude-sdk-stream');
  t.ok(verdict.hallucination.claims.length > 0);
  t.equal(await settledMetric(proxy.url, 'veracity_checks_total', { provider: 'anthropic', model: 'claude-sdk-stream' }, 1), 1);
  t.ok((await metricValue('veracity_time_to_first_chunk_seconds_count', { provider: 'anthropic' })) >= 1, 'time to first chunk observed');
});

t.test('pass-through routes are relayed and not analysed', async (t) => {
  const client = new OpenAI({ apiKey: OPENAI_KEY, baseURL: `${proxy.url}/v1`, maxRetries: 0 });
  const models = await client.models.list();
  t.equal(models.data[0]?.id, 'gpt-test');
  t.equal(upstream.seen.at(-1)!.url, '/v1/models');
});
