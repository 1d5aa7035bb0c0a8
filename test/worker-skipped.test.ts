import t from 'tap';
import { analyseJob } from '../src/worker/analyse-job.js';
import { ConfigSchema } from '../src/config/schema.js';
import { createMetrics } from '../src/metrics/registry.js';
import { BoundedLabel } from '../src/metrics/labels.js';
import { VerdictStore } from '../src/verdicts/store.js';
import type { RawExchange } from '../src/capture/raw.js';
import { startRedisWithClient } from './helpers/redis.js';
import { chatCompletion } from './helpers/upstream.js';
import { chatToolChunks, chatTools } from './helpers/tool-calls.js';
import type { Judge } from '../src/judge/judge.js';
import { aggregateKeys } from '../src/verdicts/aggregates.js';
import { rawChat } from './helpers/exchanges.js';

// Every exchange the worker handles ends with a verdict: analysed, or skipped with the reason.
// Skipped ones are counted as skipped jobs, never as checks, and keep no text.

const raw = (id: string, over: Partial<RawExchange> = {}): RawExchange =>
  rawChat(id, 'gpt-skip', [{ role: 'user', content: 'Write to jane.doe@example.com about order 42.' }], '', { app: 'billing', ...over });

async function values(metrics: ReturnType<typeof createMetrics>, name: string): Promise<Record<string, number>> {
  const m = (await metrics.registry.getMetricsAsJSON()).find((x) => x.name === name);
  const out: Record<string, number> = {};
  for (const v of m?.values ?? []) out[Object.values(v.labels).join(',')] = v.value;
  return out;
}

async function setup(t: Parameters<typeof startRedisWithClient>[0], raw: Record<string, unknown> = {}) {
  const { client } = await startRedisWithClient(t);
  const config = ConfigSchema.parse(raw);
  const metrics = createMetrics();
  const store = new VerdictStore(client, config.redis.prefix, config.verdicts.ttlSeconds);
  return { client, metrics, deps: { config, metrics, store, models: new BoundedLabel([], 10) } };
}

t.test('non-2xx, empty and unparseable exchanges get a skipped verdict and count as no check', async (t) => {
  const { client, metrics, deps } = await setup(t);
  t.equal(await analyseJob(raw('s-500', { status: 500, response: '{"error":{"message":"boom"}}' }), deps), 'skipped');
  t.equal(await analyseJob(raw('s-empty'), deps), 'skipped');
  t.equal(await analyseJob(raw('s-bad', { request: '{"model": nope' }), deps), 'unparseable');
  t.equal(await analyseJob(raw('s-400-bad', { status: 400, request: 'not json' }), deps), 'skipped', 'an error answer to an unreadable request is skipped, not a drop');

  const get = async (id: string) => JSON.parse((await client.get(`veracity:verdict:${id}`))!) as Record<string, any>;
  const err = await get('s-500');
  t.same([err.skipped, err.status, err.model, err.provider, err.route, err.app], ['upstream_error', 500, 'gpt-skip', 'openai', 'chat.completions', 'billing']);
  t.same(err.hallucination, { flagged: false, score: 0, method: 'none', claims: [] }, 'present, unflagged sections');
  t.ok(typeof err.analysed_at === 'string' && err.detection_lag_ms >= 0);
  t.same([(await get('s-empty')).skipped, (await get('s-bad')).skipped, (await get('s-400-bad')).model], ['empty_response', 'unparseable', 'unknown']);
  t.ok(await client.ttl('veracity:verdict:s-500') > 0, 'expires like every verdict');

  t.same(await values(metrics, 'veracity_checks_total'), {}, 'no check counted');
  t.same(await values(metrics, 'veracity_tool_calls_total'), {});
  t.equal((await values(metrics, 'veracity_analysis_dropped_total')).parse_error, 1, 'the unparseable one is still a counted drop');
});

t.test('a retried job finds its skipped verdict and reports a duplicate', async (t) => {
  const { deps } = await setup(t);
  t.equal(await analyseJob(raw('s-dup', { status: 503 }), deps), 'skipped');
  t.equal(await analyseJob(raw('s-dup', { status: 503 }), deps), 'duplicate');
});

t.test('a tool-call-only answer is analysed, not skipped', async (t) => {
  const { client, metrics, deps } = await setup(t);
  const request = JSON.stringify({ model: 'gpt-tools', stream: true, messages: [{ role: 'user', content: 'Weather?' }], tools: chatTools });
  const calls = [{ id: 'c1', name: 'get_weather', arguments: '{"city":"Paris"}' }, { id: 'c2', name: 'get_weather', arguments: '{"town":"Paris"}' }];
  const response = chatToolChunks('gpt-tools', calls).join('');
  t.equal(await analyseJob(raw('t-1', { request, response, contentType: 'text/event-stream' }), deps), 'stored');
  const v = JSON.parse((await client.get('veracity:verdict:t-1'))!);
  t.equal(v.skipped, undefined);
  t.same([v.tool_calls.checked, v.tool_calls.failed, v.hallucination.flagged], [2, 1, true]);
  t.same(await values(metrics, 'veracity_tool_calls_total'), { 'openai,gpt-tools': 2 });
  t.same(await values(metrics, 'veracity_tool_call_failures_total'), { 'openai,gpt-tools,tool_name': 0, 'openai,gpt-tools,tool_arguments': 1 });
  t.same(await values(metrics, 'veracity_checks_total'), { 'openai,gpt-tools': 1 });

  // An ordinary answer moves the tool series by zero, so every model reads a real 0 rate.
  await analyseJob(raw('t-2', { request: JSON.stringify({ model: 'gpt-text', messages: [{ role: 'user', content: 'Hi' }] }), response: JSON.stringify(chatCompletion('gpt-text')) }), deps);
  t.same((await values(metrics, 'veracity_tool_calls_total'))['openai,gpt-text'], 0);
  t.same((await values(metrics, 'veracity_tool_call_failures_total'))['openai,gpt-text,tool_arguments'], 0);
});

t.test('skipped and tool verdicts honour storeText: false and redactPii', async (t) => {
  const { client, deps } = await setup(t, { capture: { storeText: false, redactPii: true } });
  await analyseJob(raw('p-500', { status: 500, response: '{"error":{"message":"jane.doe@example.com is over quota"}}' }), deps);
  await analyseJob(raw('p-empty'), deps);
  const request = JSON.stringify({ model: 'gpt-tools', messages: [{ role: 'user', content: 'Mail jane.doe@example.com' }], tools: [{ type: 'function', function: { name: 'send_mail', parameters: { type: 'object', properties: { to: { type: 'string', format: 'email' } }, additionalProperties: false } } }] });
  const response = JSON.stringify({ model: 'gpt-tools', choices: [{ index: 0, message: { role: 'assistant', content: null, tool_calls: [{ id: 'a', type: 'function', function: { name: 'send_mail', arguments: '{"to":"[EMAIL]","subject":"Order 42"}' } }] }, finish_reason: 'tool_calls' }] });
  await analyseJob(raw('p-tool', { request, response }), deps);
  for (const id of ['p-500', 'p-empty', 'p-tool']) {
    const text = (await client.get(`veracity:verdict:${id}`))!;
    t.notMatch(text, /jane|example\.com|Order 42|over quota/, `${id}: no text from the exchange`);
  }
  const v = JSON.parse((await client.get('veracity:verdict:p-tool'))!);
  t.same(v.tool_calls.calls[0].findings.map((f: { path: string; rule: string; text: string }) => [f.path, f.rule, f.text]), [['/subject', 'additionalProperties', '']], 'the masked address is not judged; the extra parameter is');
});

t.test('later readings of the text never unflag a failing tool call', async (t) => {
  const { client, deps } = await setup(t);
  // A judge (a paid model API, so a stand-in here) that finds the text fully supported.
  const judge = {
    async apply(_e: unknown, v: { hallucination: { flagged: boolean; score: number } }) {
      v.hallucination.flagged = false;
      v.hallucination.score = 0;
    },
  } as unknown as Judge;
  const request = JSON.stringify({ model: 'gpt-tools', messages: [{ role: 'system', content: 'Context: The Eiffel Tower is in Paris.' }, { role: 'user', content: 'Where is it?' }], tools: chatTools });
  const response = JSON.stringify({ model: 'gpt-tools', choices: [{ index: 0, message: { role: 'assistant', content: 'The Eiffel Tower is in Paris.', tool_calls: [{ id: 'a', type: 'function', function: { name: 'get_wether', arguments: '{}' } }] }, finish_reason: 'tool_calls' }] });
  t.equal(await analyseJob(raw('j-1', { request, response }), { ...deps, judge }), 'stored');
  const v = JSON.parse((await client.get('veracity:verdict:j-1'))!);
  t.same([v.hallucination.flagged, v.hallucination.score, v.tool_calls.failed], [true, 1, 1]);
});

t.test('the aggregates count skipped exchanges apart, and tool calls by failure mode', async (t) => {
  const { client, deps } = await setup(t);
  const withAggregates = { ...deps, aggregates: aggregateKeys(deps.config) };
  await analyseJob(raw('a-500', { status: 500 }), withAggregates);
  const request = JSON.stringify({ model: 'gpt-tools', messages: [{ role: 'user', content: 'Weather?' }], tools: chatTools });
  const calls = [{ id: 'c1', name: 'get_weather', arguments: '{"city":"Paris"}' }, { id: 'c2', name: 'get_forecast', arguments: '{}' }];
  await analyseJob(raw('a-tools', { request, response: chatToolChunks('gpt-tools', calls).join(''), contentType: 'text/event-stream' }), withAggregates);
  const fields: Record<string, number> = {};
  for (const key of await client.keys('veracity:agg:60:*')) {
    for (const [f, n] of Object.entries(await client.hgetall(key))) fields[f] = (fields[f] ?? 0) + Number(n);
  }
  t.same(
    [fields['skipped|primary|openai|gpt-skip'], fields['skipped:upstream_error|primary|openai|gpt-skip'], fields['checks|primary|openai|gpt-skip']],
    [1, 1, undefined],
    'skipped, with its reason, and not a check',
  );
  t.same([fields['checks|primary|openai|gpt-tools'], fields['tool_calls|primary|openai|gpt-tools'], fields['tool_failures:tool_name|primary|openai|gpt-tools']], [1, 2, 1]);
});
