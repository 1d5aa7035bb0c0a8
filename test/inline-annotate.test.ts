import t from 'tap';
import OpenAI from 'openai';
import Anthropic from '@anthropic-ai/sdk';
import { startStack } from './helpers/stack.js';
import { metricValue, settledMetric } from './helpers/metrics.js';
import { waitForVerdict } from './helpers/verdicts.js';

// Inline mode `annotate` (and `off`) through the official SDKs: the answer arrives byte for byte,
// the verdict rides along in headers or after the stream's last event, and the verdict the worker
// stores is that same verdict, judged once and counted once.

const WRONG = 'The Eiffel Tower is in Berlin, Germany. It was completed in 1925 by Karl Benz.';
const HUGE = 'The Eiffel Tower is in Paris. '.repeat(300);
const MAX_BODY = 4096;
const THREAD_ABOVE = 2000;
const MID = 'The Eiffel Tower is in Paris. It was completed in 1889. '.repeat(25).trim();

const { upstream, proxy } = await startStack(t, {
  overrides: (raw) => {
    raw.inline = { mode: 'annotate', maxBodyBytes: MAX_BODY, threadAboveBytes: THREAD_ABOVE, models: { 'gpt-quiet': { mode: 'off' } } };
  },
});
upstream.textFor = (model) => (model.includes('wrong') ? WRONG : model.includes('huge') ? HUGE : model.includes('mid') ? MID : 'The Eiffel Tower is in Paris. It was completed in 1889.');

const openai = new OpenAI({ apiKey: 'sk-test-inline', baseURL: `${proxy.url}/v1`, maxRetries: 0 });
const anthropic = new Anthropic({ apiKey: 'sk-ant-test-inline', baseURL: proxy.url, maxRetries: 0 });
const system = 'Answer from the context only.\n\nContext:\nThe Eiffel Tower is a wrought-iron lattice tower on the Champ de Mars in Paris, France. It was designed by the company of engineer Gustave Eiffel and completed in 1889 for the World Fair.';
const question = 'Where is the Eiffel Tower and when was it completed?';
const messages = [
  { role: 'system' as const, content: system },
  { role: 'user' as const, content: question },
];

const metric = (name: string, labels: Record<string, string> = {}) => metricValue(proxy.url, name, labels);
const flaggedList = (v: Record<string, any>) => ['hallucination', 'confidence_mismatch', 'refusal'].filter((k) => v[k].flagged);

/** The `: veracity {…}` comment of a relayed stream, parsed, and the bytes before it. */
function splitComment(bytes: Buffer): { before: Buffer; comment: Record<string, any> | undefined } {
  const at = bytes.lastIndexOf(': veracity ');
  if (at < 0) return { before: bytes, comment: undefined };
  const line = bytes.toString('utf8', at + ': veracity '.length).split('\n')[0]!;
  return { before: bytes.subarray(0, at), comment: JSON.parse(line) };
}

async function rawPost(path: string, body: object, headers: Record<string, string> = {}) {
  const res = await fetch(`${proxy.url}${path}`, { method: 'POST', headers: { 'content-type': 'application/json', authorization: 'Bearer sk-test-inline', ...headers }, body: JSON.stringify(body) });
  return { res, bytes: Buffer.from(await res.arrayBuffer()) };
}

t.test('OpenAI SDK, JSON: unchanged answer, verdict headers, the stored verdict is the one sent, judged once', async (t) => {
  const analysedBefore = await metric('veracity_analysis_duration_seconds_count');
  const passedBefore = await metric('veracity_inline_decisions_total', { mode: 'annotate', outcome: 'passed' });
  const { data, response } = await openai.chat.completions.create({ model: 'gpt-inline-json', messages }).withResponse();
  t.same(data, JSON.parse(upstream.sent.at(-1)!.toString()), 'the SDK object equals what the upstream sent');
  const id = response.headers.get('x-veracity-id')!;
  const score = response.headers.get('x-veracity-hallucination');
  const flagged = response.headers.get('x-veracity-flagged');
  t.match(score, /^(0(\.\d+)?|1)$/, 'a score 0..1');
  t.equal(flagged, 'none', 'a supported answer flags nothing');
  t.equal(response.headers.get('x-veracity-console'), `/veracity/exchanges/${id}`);

  const verdict = await waitForVerdict(proxy.url, id);
  t.equal(verdict.hallucination.score, Number(score), 'stored score = header');
  t.equal(flaggedList(verdict).join(',') || 'none', flagged, 'stored flags = header');
  t.match(verdict.inline, { mode: 'annotate', decision: 'delivered', hallucination: Number(score), flagged: [], attempt: 1 });
  t.equal(await settledMetric(proxy.url, 'veracity_checks_total', { model: 'gpt-inline-json' }, 1), 1, 'counted once');
  t.equal(await metric('veracity_analysis_duration_seconds_count'), analysedBefore, 'the worker did not judge it again');
  t.equal(await metric('veracity_inline_decisions_total', { mode: 'annotate', outcome: 'passed' }), passedBefore + 1);

  // Raw bytes too, not only what the SDK makes of them.
  const { res, bytes } = await rawPost('/v1/chat/completions', { model: 'gpt-inline-json', messages });
  t.ok(bytes.equals(upstream.sent.at(-1)!), 'body bytes identical');
  t.equal(res.headers.get('x-veracity-flagged'), 'none');
});

t.test('OpenAI SDK, JSON: a flagged answer is delivered, flagged', async (t) => {
  const { data, response } = await openai.chat.completions.create({ model: 'gpt-inline-wrong', messages }).withResponse();
  t.equal(data.choices[0]!.message.content, WRONG, 'the answer arrives');
  t.equal(response.headers.get('x-veracity-flagged'), 'hallucination');
  t.ok(Number(response.headers.get('x-veracity-hallucination')) >= 0.5);
  const verdict = await waitForVerdict(proxy.url, response.headers.get('x-veracity-id'));
  t.equal(verdict.hallucination.flagged, true);
  t.equal(verdict.hallucination.score, Number(response.headers.get('x-veracity-hallucination')));
  t.same(verdict.inline.flagged, ['hallucination']);
});

t.test('OpenAI SDK, stream: chunks unchanged, then one comment that agrees with the stored verdict', async (t) => {
  const { data: stream, response } = await openai.chat.completions.create({ model: 'gpt-inline-stream', messages, stream: true }).withResponse();
  const got: unknown[] = [];
  for await (const chunk of stream) got.push(chunk);
  const sent = upstream.sent.at(-1)!.toString();
  const expected = sent.split('\n\n').filter((e) => e.startsWith('data: ') && e !== 'data: [DONE]').map((e) => JSON.parse(e.slice(6)));
  t.same(got, expected, 'every chunk identical');
  const verdict = await waitForVerdict(proxy.url, response.headers.get('x-veracity-id'));
  t.match(verdict.inline, { decision: 'delivered', stream: true });

  const { bytes } = await rawPost('/v1/chat/completions', { model: 'gpt-inline-stream', messages, stream: true });
  const { before, comment } = splitComment(bytes);
  t.ok(before.equals(upstream.sent.at(-1)!), 'every upstream byte, unchanged, before the comment');
  t.ok(comment, 'a veracity comment follows the last event');
  t.ok(bytes.toString().endsWith('\n\n'), 'the comment ends its own event');
  const stored = await waitForVerdict(proxy.url, comment!.id);
  t.equal(comment!.hallucination, stored.hallucination.score, 'comment score = stored');
  t.same(comment!.flagged, flaggedList(stored), 'comment flags = stored');
});

t.test('Anthropic SDK, JSON and stream: unchanged, annotated, agreeing', async (t) => {
  const { data, response } = await anthropic.messages.create({ model: 'claude-inline-wrong', max_tokens: 100, system, messages: [{ role: 'user', content: question }] }).withResponse();
  t.same(data, JSON.parse(upstream.sent.at(-1)!.toString()), 'the SDK object equals what the upstream sent');
  t.equal(response.headers.get('x-veracity-flagged'), 'hallucination');
  const verdict = await waitForVerdict(proxy.url, response.headers.get('x-veracity-id'));
  t.equal(verdict.provider, 'anthropic');
  t.equal(verdict.hallucination.score, Number(response.headers.get('x-veracity-hallucination')));

  const { data: stream, response: sr } = await anthropic.messages
    .create({ model: 'claude-inline-stream', max_tokens: 100, system, messages: [{ role: 'user', content: question }], stream: true })
    .withResponse();
  const events: any[] = [];
  for await (const e of stream) events.push(e);
  const sentEvents = upstream.sent.at(-1)!.toString().split('\n\n').filter((e) => e.includes('data: ')).map((e) => JSON.parse(e.slice(e.indexOf('data: ') + 6))).filter((e) => e.type !== 'ping');
  t.same(events, sentEvents, 'every event identical');
  const text = events.filter((e) => e.type === 'content_block_delta').map((e) => e.delta.text).join('');
  t.equal(text, 'The Eiffel Tower is in Paris. It was completed in 1889.');
  const streamed = await waitForVerdict(proxy.url, sr.headers.get('x-veracity-id'));
  t.match(streamed.inline, { decision: 'delivered', stream: true, flagged: [] });
  t.equal(await settledMetric(proxy.url, 'veracity_checks_total', { model: 'claude-inline-stream' }, 1), 1, 'counted once');
});

t.test('a larger answer is judged on a thread, with the same outcome', async (t) => {
  const before = await metric('veracity_inline_analysis_seconds_count', { where: 'thread' });
  for (const stream of [false, true]) {
    // Streamed, even the one-sentence answer takes a few thousand bytes of events.
    const { res, bytes } = await rawPost('/v1/chat/completions', { model: stream ? 'gpt-inline-thread' : 'gpt-inline-mid', messages, stream });
    const size = upstream.seen.at(-1)!.body.length + upstream.sent.at(-1)!.length;
    t.ok(size > THREAD_ABOVE && size <= MAX_BODY, 'over inline.threadAboveBytes, within inline.maxBodyBytes');
    const verdict = await waitForVerdict(proxy.url, res.headers.get('x-veracity-id'));
    t.match(verdict.inline, { mode: 'annotate', decision: 'delivered' });
    if (stream) {
      const { before: relayed, comment } = splitComment(bytes);
      t.ok(relayed.equals(upstream.sent.at(-1)!));
      t.equal(comment!.hallucination, verdict.hallucination.score);
    } else {
      t.ok(bytes.equals(upstream.sent.at(-1)!));
      t.equal(Number(res.headers.get('x-veracity-hallucination')), verdict.hallucination.score);
    }
  }
  t.equal(await metric('veracity_inline_analysis_seconds_count', { where: 'thread' }), before + 2, 'both judged on the thread');
});

t.test('off: by model, or by the request header, nothing is added', async (t) => {
  const byModel = await rawPost('/v1/chat/completions', { model: 'gpt-quiet', messages });
  t.ok(byModel.bytes.equals(upstream.sent.at(-1)!));
  t.equal(byModel.res.headers.get('x-veracity-hallucination'), null);
  t.equal(byModel.res.headers.get('x-veracity-flagged'), null);
  const byHeader = await rawPost('/v1/chat/completions', { model: 'gpt-inline-optout', messages, stream: true }, { 'x-veracity-inline': 'off' });
  t.ok(byHeader.bytes.equals(upstream.sent.at(-1)!), 'a stream exactly as sent: no comment');
  t.notOk(upstream.seen.at(-1)!.headers['x-veracity-inline'], 'the header is not forwarded upstream');
  // The worker judges it as ever.
  const verdict = await waitForVerdict(proxy.url, byHeader.res.headers.get('x-veracity-id'));
  t.equal(verdict.inline, undefined);
  t.ok(verdict.hallucination.claims.length > 0);

  // And through the SDKs: the JSON answer as sent, the stream's events as sent.
  const { data, response } = await openai.chat.completions.create({ model: 'gpt-quiet', messages }).withResponse();
  t.same(data, JSON.parse(upstream.sent.at(-1)!.toString()));
  t.equal(response.headers.get('x-veracity-flagged'), null);
  const { data: stream, response: sr } = await anthropic.messages
    .create({ model: 'claude-inline-optout', max_tokens: 100, system, messages: [{ role: 'user', content: question }], stream: true }, { headers: { 'x-veracity-inline': 'off' } })
    .withResponse();
  const events: unknown[] = [];
  for await (const e of stream) events.push(e);
  const sentEvents = upstream.sent.at(-1)!.toString().split('\n\n').filter((e) => e.includes('data: ')).map((e) => JSON.parse(e.slice(e.indexOf('data: ') + 6))).filter((e) => e.type !== 'ping');
  t.same(events, sentEvents);
  t.equal((await waitForVerdict(proxy.url, sr.headers.get('x-veracity-id'))).inline, undefined, 'not judged inline');
});

t.test('an answer over inline.maxBodyBytes passes through unannotated and is counted; the worker still judges it', async (t) => {
  const before = await metric('veracity_inline_decisions_total', { mode: 'annotate', outcome: 'oversize' });
  const json = await rawPost('/v1/chat/completions', { model: 'gpt-inline-huge', messages });
  t.ok(json.bytes.length > MAX_BODY);
  t.ok(json.bytes.equals(upstream.sent.at(-1)!), 'bytes unchanged');
  t.equal(json.res.headers.get('x-veracity-hallucination'), null, 'no verdict header');
  const stream = await rawPost('/v1/chat/completions', { model: 'gpt-inline-huge', messages, stream: true });
  t.ok(stream.bytes.equals(upstream.sent.at(-1)!), 'a stream exactly as sent: no comment');
  t.equal(await metric('veracity_inline_decisions_total', { mode: 'annotate', outcome: 'oversize' }), before + 2, 'counted');
  const verdict = await waitForVerdict(proxy.url, json.res.headers.get('x-veracity-id'));
  t.equal(verdict.inline, undefined);
  t.ok(verdict.hallucination.claims.length > 0, 'judged by the worker');
});

t.test('an answer the detectors cannot read is passed through and counted as an error', async (t) => {
  upstream.handler = (_req, res) => {
    const body = '{"id": "chatcmpl-broken", "choices": [';
    upstream.sent.push(Buffer.from(body));
    res.writeHead(200, { 'content-type': 'application/json' }).end(body);
  };
  t.teardown(() => void (upstream.handler = null));
  const before = await metric('veracity_inline_decisions_total', { mode: 'annotate', outcome: 'error' });
  const { res, bytes } = await rawPost('/v1/chat/completions', { model: 'gpt-inline-broken', messages });
  t.equal(res.status, 200);
  t.equal(bytes.toString(), '{"id": "chatcmpl-broken", "choices": [');
  t.equal(res.headers.get('x-veracity-flagged'), null);
  t.equal(await metric('veracity_inline_decisions_total', { mode: 'annotate', outcome: 'error' }), before + 1);
});

t.test('a request header with an unknown mode is a 400 the SDK raises, and nothing goes upstream', async (t) => {
  const seen = upstream.seen.length;
  const err = await openai.chat.completions.create({ model: 'gpt-inline-json', messages }, { headers: { 'x-veracity-inline': 'loud' } }).catch((e) => e);
  t.ok(err instanceof OpenAI.BadRequestError, 'BadRequestError');
  t.match(err.message, /x-veracity-inline must be one of off, annotate, block/);
  t.equal(upstream.seen.length, seen);
});
