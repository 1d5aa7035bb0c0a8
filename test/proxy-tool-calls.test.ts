import t from 'tap';
import OpenAI from 'openai';
import Anthropic from '@anthropic-ai/sdk';
import { startStack } from './helpers/stack.js';
import {
  anthropicToolEvents,
  anthropicToolMessage,
  anthropicTools,
  chatToolChunks,
  chatToolCompletion,
  chatTools,
  responsesToolEvents,
  responsesToolResponse,
  responsesTools,
  type Call,
} from './helpers/tool-calls.js';
import { chatCompletion } from './helpers/upstream.js';
import { waitForVerdict } from './helpers/verdicts.js';
import { metricValue } from './helpers/metrics.js';

// Apps calling tools through the proxy with the official SDKs: the answers reach them unchanged,
// every tool call is checked against the tools the request declared, and the verdict and the
// per-model tool metrics say which calls failed and how. Exchanges the worker does not analyse
// still get a verdict, marked skipped, and are not counted as checks.

const { upstream, proxy } = await startStack(t);
// The SDKs' streaming helpers do not hand out response headers: the id of the last answer is read on the way.
let lastId: string | null = null;
const recordingFetch = async (input: string | URL | Request, init?: RequestInit) => {
  const res = await fetch(input, init);
  lastId = res.headers.get('x-veracity-id');
  return res;
};
const openai = new OpenAI({ apiKey: 'sk-test-tools-0123456789', baseURL: `${proxy.url}/v1`, maxRetries: 0, fetch: recordingFetch });
const anthropic = new Anthropic({ apiKey: 'sk-ant-test-tools-0123456789', baseURL: proxy.url, maxRetries: 0, fetch: recordingFetch });

const ok = (id: string, city = 'Paris'): Call => ({ id, name: 'get_weather', arguments: JSON.stringify({ city, unit: 'celsius' }) });
const time = (id: string): Call => ({ id, name: 'get_time', arguments: '{"timezone": "Europe/Paris"}' });

/** What the upstream answers, per requested model: the calls and any text beside them. */
const scenarios: Record<string, { calls: Call[]; text?: string }> = {
  'gpt-tool-ok': { calls: [ok('call_ok')] },
  'gpt-tool-parallel': { calls: [ok('call_p1'), { id: 'call_p2', name: 'get_time', arguments: '{"tz": "UTC"}' }] },
  'gpt-tool-undeclared': { calls: [{ id: 'call_u', name: 'get_forecast', arguments: '{"city": "Paris"}' }] },
  'gpt-tool-badjson': { calls: [{ id: 'call_j', name: 'get_weather', arguments: '{"city": "Paris", unit: celsius}' }] },
  'gpt-tool-mixed': { calls: [{ id: 'call_m', name: 'get_weather', arguments: '{"city": "Paris", "unit": "kelvin"}' }], text: 'I will check the current weather in Paris for you.' },
  'resp-tool-parallel': { calls: [time('call_r1'), { id: 'call_r2', name: 'lookup_flights', arguments: '{"to": "Paris"}' }] },
  'resp-tool-enum': { calls: [{ id: 'call_e', name: 'get_weather', arguments: '{"city": "Paris", "unit": "kelvin", "days": 2}' }], text: 'Checking the weather.' },
  'claude-tool-badjson': { calls: [{ id: 'toolu_j', name: 'get_weather', arguments: '{"city": "Paris", "days": }' }], text: 'Let me look that up.' },
  'claude-tool-parallel': { calls: [ok('toolu_p1', 'Oslo'), time('toolu_p2')] },
  'claude-tool-type': { calls: [{ id: 'toolu_t', name: 'get_weather', arguments: '{"city": ["Paris"], "days": 2.5}' }] },
};

upstream.handler = (req, res, body) => {
  const json = JSON.parse(body.toString() || '{}') as { model?: string; stream?: boolean };
  const path = (req.url ?? '').split('?')[0];
  const model = json.model ?? '';
  if (model === 'gpt-ratelimited') {
    res.writeHead(429, { 'content-type': 'application/json' }).end(JSON.stringify({ error: { message: 'Rate limit reached', type: 'requests', param: null, code: 'rate_limit_exceeded' } }));
    return;
  }
  if (model === 'claude-overloaded') {
    res.writeHead(529, { 'content-type': 'application/json' }).end(JSON.stringify({ type: 'error', error: { type: 'overloaded_error', message: 'Overloaded' } }));
    return;
  }
  if (model === 'gpt-empty') {
    res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify(chatCompletion(model, '')));
    return;
  }
  const s = scenarios[model];
  if (!s) return upstream.answer(req, res, body);
  const stream = (chunks: string[]) => {
    res.writeHead(200, { 'content-type': 'text/event-stream; charset=utf-8', 'cache-control': 'no-cache' });
    for (const c of chunks) res.write(c);
    res.end();
  };
  const whole = (b: unknown) => res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify(b));
  if (path === '/v1/chat/completions') return json.stream ? stream(chatToolChunks(model, s.calls, s.text)) : whole(chatToolCompletion(model, s.calls, s.text ?? null));
  if (path === '/v1/responses') return json.stream ? stream(responsesToolEvents(model, s.calls, s.text)) : whole(responsesToolResponse(model, s.calls, s.text));
  if (path === '/v1/messages') return json.stream ? stream(anthropicToolEvents(model, s.calls, s.text)) : whole(anthropicToolMessage(model, s.calls, s.text));
  upstream.answer(req, res, body);
};

interface ToolCallV { index: number; id?: string; name: string; checked: string; valid: boolean; failure_mode?: string; findings: Array<{ failure_mode: string; path: string; rule: string; text: string }> }
type V = Record<string, any> & { tool_calls?: { checked: number; failed: number; calls: ToolCallV[] } };

function verdictFor(id: string | null, withinMs = 20_000): Promise<V> {
  return waitForVerdict<V>(proxy.url, id, withinMs);
}

function metric(name: string, labels: Record<string, string>): Promise<number> {
  return metricValue(proxy.url, name, labels);
}

/**
 * The verdict becomes visible a moment before the worker's counters move (the store's index write
 * sits between them), so the counts are read until they settle on what is expected, or time out
 * and are compared as they are.
 */
async function expectToolMetrics(t: Tap.Test, provider: string, model: string, expected: Record<string, number>, withinMs = 10_000) {
  const deadline = Date.now() + withinMs;
  let now = await readToolMetrics(provider, model);
  while (JSON.stringify(now) !== JSON.stringify(expected) && Date.now() < deadline) {
    await new Promise((r) => setTimeout(r, 50));
    now = await readToolMetrics(provider, model);
  }
  t.same(now, expected, `metrics of ${provider}/${model}`);
}

/** A counter's value once it reaches `expected`, or as it stands after `withinMs`. */
async function settled(name: string, labels: Record<string, string>, expected: number, withinMs = 10_000): Promise<number> {
  const deadline = Date.now() + withinMs;
  let now = await metric(name, labels);
  while (now !== expected && Date.now() < deadline) {
    await new Promise((r) => setTimeout(r, 50));
    now = await metric(name, labels);
  }
  return now;
}

async function readToolMetrics(provider: string, model: string) {
  return {
    checks: await metric('veracity_checks_total', { provider, model }),
    calls: await metric('veracity_tool_calls_total', { provider, model }),
    tool_name: await metric('veracity_tool_call_failures_total', { provider, model, failure_mode: 'tool_name' }),
    tool_arguments: await metric('veracity_tool_call_failures_total', { provider, model, failure_mode: 'tool_arguments' }),
    hallucinations: await metric('veracity_hallucinations_total', { provider, model }),
  };
}

const userTurn = [{ role: 'user' as const, content: 'What is the weather in Paris right now?' }];
const summary = (v: V) => v.tool_calls?.calls.map((c) => [c.name, c.valid, c.failure_mode ?? null, c.findings.map((f) => `${f.path} ${f.rule}`)]);

t.test('OpenAI chat, streamed: a tool-call-only answer gets a verdict, unflagged when the call is valid', async (t) => {
  const { data: stream, response } = await openai.chat.completions.create({ model: 'gpt-tool-ok', messages: userTurn, tools: chatTools, stream: true }).withResponse();
  const args: string[] = [];
  for await (const chunk of stream) for (const d of chunk.choices[0]?.delta.tool_calls ?? []) args.push(d.function?.arguments ?? '');
  t.equal(args.join(''), ok('').arguments, 'the SDK got the arguments as sent');
  const v = await verdictFor(response.headers.get('x-veracity-id'));
  t.equal(v.skipped, undefined);
  t.same([v.tool_calls?.checked, v.tool_calls?.failed], [1, 0]);
  t.same(summary(v), [['get_weather', true, null, []]]);
  t.equal(v.tool_calls?.calls[0]?.checked, 'schema');
  t.equal(v.hallucination.flagged, false);
  await expectToolMetrics(t, 'openai', 'gpt-tool-ok', { checks: 1, calls: 1, tool_name: 0, tool_arguments: 0, hallucinations: 0 });
});

t.test('OpenAI chat, streamed parallel calls: deltas reassembled by index, the bad one named', async (t) => {
  const runner = openai.chat.completions.stream({ model: 'gpt-tool-parallel', messages: userTurn, tools: chatTools });
  const final = await runner.finalChatCompletion();
  t.same(final.choices[0]?.message.tool_calls?.map((c) => c.type === 'function' && c.function.name), ['get_weather', 'get_time'], 'the SDK reassembled both');
  const v = await verdictFor(lastId);
  t.same([v.tool_calls?.checked, v.tool_calls?.failed], [2, 1]);
  t.same(summary(v), [
    ['get_weather', true, null, []],
    ['get_time', false, 'tool_arguments', ['/timezone required', '/tz additionalProperties']],
  ]);
  t.equal(v.hallucination.flagged, true);
  t.equal(v.hallucination.score, 1);
  await expectToolMetrics(t, 'openai', 'gpt-tool-parallel', { checks: 1, calls: 2, tool_name: 0, tool_arguments: 1, hallucinations: 1 });
});

t.test('OpenAI chat, JSON: an undeclared tool is a tool_name failure', async (t) => {
  const { data, response } = await openai.chat.completions.create({ model: 'gpt-tool-undeclared', messages: userTurn, tools: chatTools }).withResponse();
  t.equal(data.choices[0]?.finish_reason, 'tool_calls');
  const v = await verdictFor(response.headers.get('x-veracity-id'));
  t.same(summary(v), [['get_forecast', false, 'tool_name', [' declared']]]);
  t.match(v.tool_calls?.calls[0]?.findings[0]?.text, '"get_forecast" is not a declared tool (declared: get_weather, get_time)');
  await expectToolMetrics(t, 'openai', 'gpt-tool-undeclared', { checks: 1, calls: 1, tool_name: 1, tool_arguments: 0, hallucinations: 1 });
});

t.test('OpenAI chat, streamed: arguments that are not JSON', async (t) => {
  const { data: stream, response } = await openai.chat.completions.create({ model: 'gpt-tool-badjson', messages: userTurn, tools: chatTools, stream: true }).withResponse();
  for await (const _ of stream);
  const v = await verdictFor(response.headers.get('x-veracity-id'));
  t.same(summary(v), [['get_weather', false, 'tool_arguments', [' json']]]);
  await expectToolMetrics(t, 'openai', 'gpt-tool-badjson', { checks: 1, calls: 1, tool_name: 0, tool_arguments: 1, hallucinations: 1 });
});

t.test('OpenAI chat, JSON: text beside a call is analysed as text, the call as a call', async (t) => {
  const { data, response } = await openai.chat.completions.create({ model: 'gpt-tool-mixed', messages: userTurn, tools: chatTools }).withResponse();
  t.equal(data.choices[0]?.message.content, scenarios['gpt-tool-mixed']!.text);
  const v = await verdictFor(response.headers.get('x-veracity-id'));
  t.ok(v.hallucination.claims.length > 0, 'the text has claims');
  t.same(summary(v), [['get_weather', false, 'tool_arguments', ['/unit enum']]]);
  t.match(v.tool_calls?.calls[0]?.findings[0]?.text, 'get_weather: /unit must be one of "celsius", "fahrenheit"');
  await expectToolMetrics(t, 'openai', 'gpt-tool-mixed', { checks: 1, calls: 1, tool_name: 0, tool_arguments: 1, hallucinations: 1 });
});

t.test('Responses API, streamed: function_call items and their argument deltas', async (t) => {
  const { data: stream, response } = await openai.responses.create({ model: 'resp-tool-parallel', input: 'Time in Paris, and a flight there?', tools: responsesTools, stream: true }).withResponse();
  const types = new Set<string>();
  for await (const event of stream) types.add(event.type);
  t.ok(types.has('response.function_call_arguments.delta') && types.has('response.completed'), 'the SDK saw the events');
  const v = await verdictFor(response.headers.get('x-veracity-id'));
  t.equal(v.route, 'responses');
  t.same(summary(v), [
    ['get_time', true, null, []],
    ['lookup_flights', false, 'tool_name', [' declared']],
  ]);
  t.same(v.tool_calls?.calls.map((c) => c.id), ['call_r1', 'call_r2'], 'call ids');
  await expectToolMetrics(t, 'openai', 'resp-tool-parallel', { checks: 1, calls: 2, tool_name: 1, tool_arguments: 0, hallucinations: 1 });
});

t.test('Responses API, JSON: an invented enum value', async (t) => {
  const { data, response } = await openai.responses.create({ model: 'resp-tool-enum', input: 'Weather in Paris?', tools: responsesTools }).withResponse();
  t.equal(data.output_text, 'Checking the weather.');
  const v = await verdictFor(response.headers.get('x-veracity-id'));
  t.same(summary(v), [['get_weather', false, 'tool_arguments', ['/unit enum']]]);
  await expectToolMetrics(t, 'openai', 'resp-tool-enum', { checks: 1, calls: 1, tool_name: 0, tool_arguments: 1, hallucinations: 1 });
});

t.test('Anthropic, streamed: input_json_delta reassembled; broken JSON is a tool_arguments failure', async (t) => {
  const { data: stream, response } = await anthropic.messages
    .create({ model: 'claude-tool-badjson', max_tokens: 200, messages: userTurn, tools: anthropicTools, stream: true })
    .withResponse();
  let partial = '';
  for await (const event of stream) if (event.type === 'content_block_delta' && event.delta.type === 'input_json_delta') partial += event.delta.partial_json;
  t.equal(partial, scenarios['claude-tool-badjson']!.calls[0]!.arguments, 'the SDK got the JSON pieces as sent');
  const v = await verdictFor(response.headers.get('x-veracity-id'));
  t.same(summary(v), [['get_weather', false, 'tool_arguments', [' json']]]);
  await expectToolMetrics(t, 'anthropic', 'claude-tool-badjson', { checks: 1, calls: 1, tool_name: 0, tool_arguments: 1, hallucinations: 1 });
});

t.test('Anthropic, streamed parallel tool_use blocks, all valid', async (t) => {
  const stream = anthropic.messages.stream({ model: 'claude-tool-parallel', max_tokens: 200, messages: userTurn, tools: anthropicTools });
  const final = await stream.finalMessage();
  t.same(final.content.map((b) => (b.type === 'tool_use' ? [b.name, b.input] : b.type)), [
    ['get_weather', { city: 'Oslo', unit: 'celsius' }],
    ['get_time', { timezone: 'Europe/Paris' }],
  ], 'the SDK reassembled both');
  const v = await verdictFor(lastId);
  t.same(summary(v), [['get_weather', true, null, []], ['get_time', true, null, []]]);
  t.equal(v.hallucination.flagged, false);
  await expectToolMetrics(t, 'anthropic', 'claude-tool-parallel', { checks: 1, calls: 2, tool_name: 0, tool_arguments: 0, hallucinations: 0 });
});

t.test('Anthropic, JSON: wrong types in a tool_use input', async (t) => {
  const { response } = await anthropic.messages.create({ model: 'claude-tool-type', max_tokens: 200, messages: userTurn, tools: anthropicTools }).withResponse();
  const v = await verdictFor(response.headers.get('x-veracity-id'));
  t.same(summary(v), [['get_weather', false, 'tool_arguments', ['/city type', '/days type']]]);
  await expectToolMetrics(t, 'anthropic', 'claude-tool-type', { checks: 1, calls: 1, tool_name: 0, tool_arguments: 1, hallucinations: 1 });
});

t.test('an upstream error gets a skipped verdict, not a check', async (t) => {
  const skippedBefore = await metric('veracity_worker_jobs_total', { result: 'skipped' });
  const err = await openai.chat.completions.create({ model: 'gpt-ratelimited', messages: userTurn }).catch((e: unknown) => e);
  t.ok(err instanceof OpenAI.APIError && err.status === 429, 'the app sees the 429');
  const v = await verdictFor((err as InstanceType<typeof OpenAI.APIError>).headers?.get('x-veracity-id') ?? null);
  t.same([v.skipped, v.status, v.model, v.route, v.hallucination.flagged, v.hallucination.claims], ['upstream_error', 429, 'gpt-ratelimited', 'chat.completions', false, []]);
  const aErr = await anthropic.messages.create({ model: 'claude-overloaded', max_tokens: 10, messages: userTurn }).catch((e: unknown) => e);
  t.ok(aErr instanceof Anthropic.APIError && aErr.status === 529);
  const av = await verdictFor((aErr as InstanceType<typeof Anthropic.APIError>).headers?.get('x-veracity-id') ?? null);
  t.same([av.skipped, av.status, av.provider], ['upstream_error', 529, 'anthropic']);
  t.equal(await settled('veracity_worker_jobs_total', { result: 'skipped' }, skippedBefore + 2), skippedBefore + 2, 'counted as skipped jobs');
  t.equal(await metric('veracity_checks_total', { model: 'gpt-ratelimited' }), 0, 'and not as checks');
});

t.test('an empty answer gets a skipped verdict, not a check', async (t) => {
  const skippedBefore = await metric('veracity_worker_jobs_total', { result: 'skipped' });
  const { response } = await openai.chat.completions.create({ model: 'gpt-empty', messages: userTurn }).withResponse();
  const v = await verdictFor(response.headers.get('x-veracity-id'));
  t.same([v.skipped, v.status, v.model], ['empty_response', 200, 'gpt-empty']);
  t.equal(v.tool_calls, undefined);
  t.equal(await settled('veracity_worker_jobs_total', { result: 'skipped' }, skippedBefore + 1), skippedBefore + 1, 'counted as a skipped job');
  t.equal(await metric('veracity_checks_total', { model: 'gpt-empty' }), 0, 'and not as a check');
});
