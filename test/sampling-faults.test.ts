import t from 'tap';
import { ConfigSchema } from '../src/config/schema.js';
import { createMetrics } from '../src/metrics/registry.js';
import { BoundedLabel } from '../src/metrics/labels.js';
import { VerdictStore } from '../src/verdicts/store.js';
import { analyseJob } from '../src/worker/analyse-job.js';
import { Sampler } from '../src/sampling/sampler.js';
import { inSample } from '../src/sampling/decide.js';
import type { RawExchange } from '../src/capture/raw.js';
import { startRedisWithClient } from './helpers/redis.js';
import { startScriptedModel, type ScriptedModel } from './helpers/model.js';
import { chatCompletion } from './helpers/upstream.js';
import { rawChat } from './helpers/exchanges.js';
import { withinOneMinute } from './helpers/wait.js';

// The worker's side of sampling, driven through analyseJob with a real Redis and a scripted
// upstream: the budget, the sampling rate, upstream faults, and paying for samples only once.

const ANSWER = 'The Eiffel Tower was completed in 1889.';
const raw = (id: string, question = `Question ${id}: when was the Eiffel Tower completed?`, over: Partial<RawExchange> = {}): RawExchange =>
  rawChat(id, 'gpt-f', [{ role: 'user', content: question }], ANSWER, over);

async function setup(t: Tap.Test, sampling: Record<string, unknown>, env: Record<string, string> = { KEY_O: 'sk-o' }) {
  const model = await startScriptedModel(() => ANSWER);
  t.teardown(() => model.close());
  const { client } = await startRedisWithClient(t);
  const config = ConfigSchema.parse({
    upstreams: { openai: { url: model.url }, anthropic: { url: model.url } },
    sampling: { enabled: true, rate: 1, samples: 2, timeoutMs: 800, credentials: { openai: 'KEY_O', anthropic: 'KEY_A' }, ...sampling },
  });
  const metrics = createMetrics();
  const models = new BoundedLabel([], 10);
  const sampler = Sampler.fromConfig(config, env, client, metrics, models)!;
  t.teardown(() => sampler.close());
  const deps = { config, metrics, store: new VerdictStore(client, 'veracity', 60), models, sampler };
  return { model, client, config, metrics, deps, sampler };
}

async function count(metrics: ReturnType<typeof createMetrics>, name: string, labels: Record<string, string> = {}): Promise<number> {
  const m = (await metrics.registry.getMetricsAsJSON()).find((x) => x.name === name);
  return (m?.values ?? []).filter((v) => Object.entries(labels).every(([k, want]) => String(v.labels[k]) === want)).reduce((s, v) => s + v.value, 0);
}

const samplingCalls = (model: ScriptedModel) => model.calls.length;

t.test('over budget: no call is made, the local verdict stands and the skip is counted', async (t) => {
  const { model, client, metrics, deps } = await setup(t, { tokensPerMinute: 250, maxTokens: 100 });
  await withinOneMinute();
  // An exchange's estimate, its body (about 40 tokens) + 2 answers x 100 tokens, fits in 250 once.
  // The call then reports 50 tokens used, which is what stays spent: 50 + 240 no longer fits.
  t.equal(await analyseJob(raw('b-1'), deps), 'stored');
  t.equal(samplingCalls(model), 1, 'the first fits the budget');
  t.equal(await analyseJob(raw('b-2'), deps), 'stored');
  t.equal(samplingCalls(model), 1, 'the second does not: no call');
  const v = JSON.parse((await client.get('veracity:verdict:b-2'))!);
  t.equal(v.hallucination.method, 'none', 'local verdict kept');
  t.notOk(v.hallucination.claims[0].agreement);
  t.equal(await count(metrics, 'veracity_sampling_skipped_total', { reason: 'over_budget' }), 1);
  t.equal(JSON.parse((await client.get('veracity:verdict:b-1'))!).hallucination.method, 'samples');
});

t.test('the budget is one per minute for every worker sharing the Redis', async (t) => {
  const { model, client, config, metrics } = await setup(t, { tokensPerMinute: 250, maxTokens: 100 });
  const other = Sampler.fromConfig(config, { KEY_O: 'sk-o' }, client, metrics, new BoundedLabel([], 10))!;
  t.teardown(() => other.close());
  const models = new BoundedLabel([], 10);
  const store = new VerdictStore(client, 'veracity', 60);
  await withinOneMinute();
  await analyseJob(raw('w-1'), { config, metrics, store, models, sampler: Sampler.fromConfig(config, { KEY_O: 'sk-o' }, client, metrics, models)! });
  await analyseJob(raw('w-2'), { config, metrics, store, models, sampler: other });
  t.equal(samplingCalls(model), 1, 'a second worker finds the minute spent');
});

t.test('rate 0.1 samples about a tenth, the same ids on every run', async (t) => {
  const { model, deps, client } = await setup(t, { rate: 0.1, rates: { 'gpt-never': 0 } });
  const ids = Array.from({ length: 300 }, (_, i) => `rate-${i}`);
  for (const id of ids) await analyseJob(raw(id), deps);
  const asked = () => new Set(model.calls.map((c) => /Question (\S+):/.exec(c.question)![1]!));
  const first = asked();
  t.ok(first.size >= 18 && first.size <= 45, `${first.size} of 300 sampled`);
  t.same([...first].sort(), ids.filter((id) => inSample(id, 0.1)).sort(), 'exactly the ids the stable hash picks');
  // A second run over the same ids (verdicts cleared) picks the very same ones.
  await client.flushdb();
  model.calls.length = 0;
  for (const id of ids) await analyseJob(raw(id), deps);
  t.same([...asked()].sort(), [...first].sort(), 'the same ids on a rerun');
  // Per-model rates override the default.
  model.calls.length = 0;
  for (let i = 0; i < 50; i++) await analyseJob(raw(`never-${i}`, undefined, { request: JSON.stringify({ model: 'gpt-never', messages: [{ role: 'user', content: `Question never-${i}: hi` }] }) }), deps);
  t.equal(model.calls.length, 0, 'a model with rate 0 is never sampled');
});

for (const fault of ['status500', 'reset', 'stall'] as const) {
  t.test(`upstream ${fault}: local verdict kept, counted, no retry`, async (t) => {
    const { model, client, metrics, deps } = await setup(t, {});
    model.fault = () => fault;
    const started = Date.now();
    t.equal(await analyseJob(raw(`f-${fault}`), deps), 'stored');
    const v = JSON.parse((await client.get(`veracity:verdict:f-${fault}`))!);
    t.equal(v.hallucination.method, 'none', 'the local verdict');
    t.equal(model.calls.length, 1, 'one call, not retried');
    const result = { status500: 'http_5xx', reset: 'reset', stall: 'timeout' }[fault];
    t.equal(await count(metrics, 'veracity_sampling_calls_total', { result, role: 'resample' }), 1, `counted as ${result}`);
    if (fault === 'stall') t.ok(Date.now() - started < 3000, 'given up after sampling.timeoutMs');
    // The job runs again (a retry, a duplicate): the verdict is there, nothing is asked again.
    t.equal(await analyseJob(raw(`f-${fault}`), deps), 'duplicate');
    t.equal(model.calls.length, 1, 'a retried job does not call again');
  });
}

t.test('answers already collected are reused: a job run twice pays once', async (t) => {
  const { model, sampler, client, deps } = await setup(t, { shadow: [{ upstream: 'anthropic', model: 'claude-s' }] }, { KEY_O: 'sk-o', KEY_A: 'sk-a' });
  const { normalise } = await import('../src/capture/index.js');
  const { analyse } = await import('../src/detect/index.js');
  const r = raw('p-1');
  const { exchange } = normalise(r);
  const verdict = analyse(exchange, deps.config.detect);
  const first = await sampler.collect(r, exchange, verdict);
  t.equal(model.calls.length, 2, 'one resample call, one shadow call');
  t.equal(first?.samples.length, 2);
  t.equal(first?.shadows.length, 1);
  t.ok(await client.exists('veracity:samples:p-1'), 'stored under the exchange id before use');
  const again = await sampler.collect(r, exchange, verdict);
  t.equal(model.calls.length, 2, 'the second run calls nothing');
  t.same(again, first, 'and gets the same answers');
  // Two duplicates at once: the second waits for the first's claim, then reuses its answers.
  model.calls.length = 0;
  model.delay = () => 300;
  const r2 = raw('p-2');
  const n2 = normalise(r2).exchange;
  const v2 = analyse(n2, deps.config.detect);
  const [a, b] = await Promise.all([sampler.collect(r2, n2, v2), sampler.collect(r2, n2, v2)]);
  t.equal(model.calls.length, 2, 'concurrent duplicates call once');
  t.same(a, b);
});

t.test('refusals, tool-only answers, aborted and error answers are not sampled', async (t) => {
  const { model, metrics, deps } = await setup(t, {});
  const refusal = { ...chatCompletion('gpt-f', ''), choices: [{ index: 0, message: { role: 'assistant', content: null, refusal: 'I cannot help with that.' }, finish_reason: 'stop' }] };
  await analyseJob(raw('n-1', undefined, { response: JSON.stringify(refusal) }), deps);
  await analyseJob(raw('n-2', undefined, { response: JSON.stringify(chatCompletion('gpt-f', "I'm sorry, but I can't help with that request.")) }), deps);
  const toolOnly = { ...chatCompletion('gpt-f', ''), choices: [{ index: 0, message: { role: 'assistant', content: null, tool_calls: [{ id: 'c1', type: 'function', function: { name: 'f', arguments: '{}' } }] }, finish_reason: 'tool_calls' }] };
  await analyseJob(raw('n-3', undefined, { response: JSON.stringify(toolOnly) }), deps);
  await analyseJob(raw('n-4', undefined, { aborted: true }), deps);
  await analyseJob(raw('n-5', undefined, { status: 500 }), deps);
  t.equal(model.calls.length, 0, 'no sampling call for any of them');
  t.ok((await count(metrics, 'veracity_sampling_skipped_total', { reason: 'refusal' })) >= 1, 'refusals counted');
  t.equal(await count(metrics, 'veracity_sampling_skipped_total', { reason: 'aborted' }), 1);
});

t.test('no key in the environment: no call, counted; shadows of a non-plain request skipped', async (t) => {
  const { model, metrics, deps } = await setup(t, { shadow: [{ upstream: 'anthropic', model: 'claude-s' }] }, {});
  await analyseJob(raw('k-1'), deps);
  t.equal(model.calls.length, 0);
  t.equal(await count(metrics, 'veracity_sampling_skipped_total', { reason: 'no_credentials' }), 1);
  const withTools = JSON.stringify({ model: 'gpt-f', tools: [{ type: 'function', function: { name: 'f', parameters: {} } }], messages: [{ role: 'user', content: 'Question k-2: when?' }] });
  const s = await setup(t, { shadow: [{ upstream: 'anthropic', model: 'claude-s' }] }, { KEY_O: 'sk-o', KEY_A: 'sk-a' });
  await analyseJob(raw('k-2', undefined, { request: withTools }), s.deps);
  t.equal(s.model.calls.length, 1, 'the same model is resampled with its tools intact');
  t.ok(s.model.calls[0]!.body.tools, 'tools re-sent to the same model');
  t.equal(await count(s.metrics, 'veracity_sampling_skipped_total', { reason: 'not_plain' }), 1, 'the shadow call is skipped and counted');
});

t.test('bounded: a worker samples `concurrency` exchanges at once and skips beyond 8x that many waiting', async (t) => {
  const { model, metrics, deps } = await setup(t, { concurrency: 1 });
  model.delay = () => 200;
  let most = 0;
  const timer = setInterval(() => (most = Math.max(most, model.inFlight())), 5);
  t.teardown(() => clearInterval(timer));
  const results = await Promise.all(Array.from({ length: 12 }, (_, i) => analyseJob(raw(`c-${i}`), deps)));
  t.same(results, Array(12).fill('stored'), 'every exchange gets its verdict');
  t.equal(most, 1, 'one sampling call at a time');
  t.equal(model.calls.length, 9, 'one sampling, eight waiting');
  t.equal(await count(metrics, 'veracity_sampling_skipped_total', { reason: 'busy' }), 3, 'the rest keep their local verdict, counted');
});

t.test('a shadow model on an upstream that is not configured stops start-up, naming the field', async (t) => {
  const parsed = ConfigSchema.safeParse({ sampling: { shadow: [{ upstream: 'nowhere', model: 'm' }] } });
  t.notOk(parsed.success);
  t.same(parsed.error?.issues[0]?.path, ['sampling', 'shadow', 0, 'upstream']);
  t.match(parsed.error?.issues[0]?.message, /names no configured upstream \(one of: openai, anthropic\)/);
  t.ok(ConfigSchema.safeParse({ upstreams: { named: { local: { url: 'http://127.0.0.1:1', dialect: 'openai' } } }, sampling: { shadow: [{ upstream: 'local', model: 'm' }] } }).success, 'a named upstream will do');
});

t.test('an exchange of a named upstream is resampled there, under the base path, without a key when none is named', async (t) => {
  const model = await startScriptedModel(() => ANSWER);
  t.teardown(() => model.close());
  const { client } = await startRedisWithClient(t);
  const config = ConfigSchema.parse({
    upstreams: { named: { local: { url: `${model.url}/base`, dialect: 'openai', prefix: '/local' } } },
    sampling: { enabled: true, rate: 1, samples: 2, timeoutMs: 800 },
  });
  const metrics = createMetrics();
  const models = new BoundedLabel([], 10);
  const sampler = Sampler.fromConfig(config, {}, client, metrics, models)!;
  t.teardown(() => sampler.close());
  await analyseJob(raw('named-1', undefined, { upstream: 'local' }), { config, metrics, store: new VerdictStore(client, 'veracity', 60), models, sampler });
  t.equal(model.upstream.seen.length, 1);
  t.equal(model.upstream.seen[0]!.url, '/base/v1/chat/completions', "the named upstream's own base path");
  t.equal(model.upstream.seen[0]!.headers.authorization, undefined, 'no credentials entry: no key sent');
});
