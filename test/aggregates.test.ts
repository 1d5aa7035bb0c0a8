import t from 'tap';
import { Redis } from 'ioredis';
import { Registry } from 'prom-client';
import { ConfigSchema } from '../src/config/schema.js';
import type { Verdict } from '../src/detect/verdict.js';
import { BoundedLabel } from '../src/metrics/labels.js';
import { createMetrics, type Metrics } from '../src/metrics/registry.js';
import { AggregateReader, addCounts, aggregateFields, aggregateKeys, aggregateOptions, countsOf, cumulativeScoreBuckets, flaggedKinds, trafficOf } from '../src/verdicts/aggregates.js';
import { VerdictStore } from '../src/verdicts/store.js';
import { readExchangeText } from '../src/verdicts/text.js';
import { analyseJob } from '../src/worker/analyse-job.js';
import { rawFromRow, rows } from './helpers/exchanges.js';
import { startRedisWithClient } from './helpers/redis.js';

const base = (over: Partial<Verdict> = {}): Verdict => ({
  id: 'v1',
  provider: 'openai',
  model: 'gpt-4o',
  grounded: true,
  hallucination: {
    flagged: true,
    score: 0.734,
    method: 'context',
    claims: [
      { text: 'a', start: 0, end: 1, support: 'supported', score: 0.1 },
      { text: 'b', start: 2, end: 3, support: 'unsupported', score: 0.8, failure_mode: 'number' },
      { text: 'c', start: 4, end: 5, support: 'contradicted', score: 0.9, failure_mode: 'negation' },
    ],
  },
  confidence_mismatch: { flagged: true, score: 0.6 },
  refusal: { flagged: false, kind: 'none', score: 0.01 },
  ...over,
});

t.test('one pure function derives every counted field from a stored verdict', async (t) => {
  t.same(aggregateFields(base()), {
    checks: 1,
    grounded: 1,
    hallucinations: 1,
    claims: 3,
    unsupported_claims: 2,
    mismatches: 1,
    'score_le:0.8': 1,
    score_sum_milli: 734,
    score_sq_sum_micro: 734 * 734,
    refusal_score_sum_milli: 10,
    refusal_score_sq_sum_micro: 100,
    'method:context:checks': 1,
    'method:context:hallucinations': 1,
    'method:context:score_sum_milli': 734,
    'failure_mode:context:number': 1,
    'failure_mode:context:negation': 1,
  });
  // Scores on a bound fall in that bound's bin, as in Prometheus (le = "less or equal").
  t.equal(aggregateFields(base({ hallucination: { flagged: false, score: 0.1, claims: [] } }))['score_le:0.1'], 1);
  t.same(aggregateFields(base({ hallucination: { flagged: false, score: 0, method: 'samples', claims: [] }, refusal: { flagged: true, kind: 'full', score: 0.97 } })), {
    checks: 1,
    grounded: 1,
    mismatches: 1,
    'refusals:full': 1,
    'score_le:0.1': 1,
    refusal_score_sum_milli: 970,
    refusal_score_sq_sum_micro: 970 * 970,
    'method:samples:checks': 1,
  });
  // Claims checked against samples carry their agreement; one without a known mode counts as `unsupported`.
  const sampled = base({
    hallucination: {
      flagged: true,
      score: 0.9,
      method: 'samples',
      claims: [
        { text: 'a', start: 0, end: 1, support: 'supported', score: 0.1, agreement: { supporting: 3, samples: 3 } },
        { text: 'b', start: 2, end: 3, support: 'unsupported', score: 0.9, agreement: { supporting: 0, samples: 3 } },
      ],
    },
  });
  t.match(aggregateFields(sampled), { sampled: 1, 'method:samples:checks': 1, 'method:samples:hallucinations': 1, 'method:samples:score_sum_milli': 900, 'failure_mode:samples:unsupported': 1 });
  t.match(aggregateFields(base({ hallucination: { flagged: false, score: 0.3, claims: [] } })), { 'method:none:checks': 1, 'method:none:score_sum_milli': 300 }, 'a verdict without a method was checked against nothing, as the metrics count it');
  // Reading the fields back gives the counts both report sources share.
  const c = countsOf(aggregateFields(base()));
  t.same([c.checks, c.grounded, c.hallucinations, c.claims, c.unsupportedClaims, c.mismatches, c.sampled], [1, 1, 1, 3, 2, 1, 0]);
  t.same(c.methods, { context: { checks: 1, hallucinations: 1, scoreSum: 0.734 } });
  t.same(c.failureModes, { context: { number: 1, negation: 1 } });
  t.same(countsOf(aggregateFields(sampled)).methods.samples, { checks: 1, hallucinations: 1, scoreSum: 0.9 });
  t.same(aggregateFields(base({ skipped: 'Tool Calls Only!' })), { skipped: 1, 'skipped:tool_calls_only_': 1 }, 'skipped: counted apart, not a check');
  // Tool calls checked and failed by mode, read back as both report sources count them.
  const finding = (failure_mode: 'tool_name' | 'tool_arguments') => ({ text: 'x', failure_mode, path: '', rule: failure_mode === 'tool_name' ? 'declared' : 'json' });
  const tools = base({
    tool_calls: {
      checked: 3,
      failed: 2,
      calls: [
        { index: 0, name: 'get_forecast', checked: 'name', valid: false, failure_mode: 'tool_name', findings: [finding('tool_name')] },
        { index: 1, name: 'get_weather', checked: 'schema', valid: false, failure_mode: 'tool_arguments', findings: [finding('tool_arguments'), finding('tool_arguments')] },
        { index: 2, name: 'get_time', checked: 'schema', valid: true, findings: [] },
      ],
    },
  });
  t.match(aggregateFields(tools), { tool_calls: 3, 'tool_failures:tool_name': 1, 'tool_failures:tool_arguments': 1 }, 'a failed call counts once, whatever its number of findings');
  const tc = countsOf(aggregateFields(tools));
  t.same([tc.toolCalls, tc.toolFailures], [3, { tool_name: 1, tool_arguments: 1 }]);
  const both = addCounts(countsOf(aggregateFields(tools)), countsOf(aggregateFields(tools)));
  t.same([both.toolCalls, both.toolFailures], [6, { tool_name: 2, tool_arguments: 2 }], 'summed across models');
  t.equal(trafficOf(base()), 'primary');
  t.equal(trafficOf(base({ shadow_of: 'orig-1' })), 'shadow');
  t.same(flaggedKinds(base()).map((k) => k.kind), ['hallucination', 'mismatch']);
  t.same(flaggedKinds(base({ skipped: 'x' })), []);
  t.same(cumulativeScoreBuckets({ 'score_le:0.1': 2, 'score_le:0.5': 3 }).map((b) => b.cumulative), [2, 2, 2, 2, 5, 5, 5, 5, 5, 5, 5]);
});

async function counter(metrics: Metrics[], name: 'checks' | 'hallucinations' | 'claims' | 'unsupportedClaims' | 'mismatches' | 'groundedChecks', model: string) {
  let sum = 0;
  for (const m of metrics) for (const v of (await m[name].get()).values) if (v.labels.model === model) sum += v.value;
  return sum;
}

async function sumOf(metrics: Metrics[], name: 'checksByMethod' | 'hallucinationsByMethod' | 'expectedHallucinations' | 'unsupportedClaimsByMode', where: Record<string, string>) {
  let sum = 0;
  for (const m of metrics) for (const v of (await m[name].get()).values) if (Object.entries(where).every(([k, x]) => v.labels[k] === x)) sum += v.value;
  return sum;
}

t.test('two workers, every exchange delivered to both: each verdict counted once, as the metrics count it', async (t) => {
  const { redis, client } = await startRedisWithClient(t);
  const config = ConfigSchema.parse({ verdicts: { flaggedPerModel: 5 } });
  const sample = [
    ...rows('halueval-qa.jsonl', 12).map((r) => rawFromRow(r, { model: 'gpt-a' })),
    ...rows('halueval-qa.jsonl', 12).map((r) => rawFromRow(r, { model: 'gpt-b', id: `${r.id}-b` })),
    ...rows('xstest.jsonl', 8, (r) => r.expected.refusal_kind === 'full_refusal').map((r) => rawFromRow(r, { model: 'gpt-b' })),
  ];
  const workers = [client, new Redis(redis.url)].map((c) => ({
    config,
    metrics: createMetrics(new Registry(), { processMetrics: false }),
    store: new VerdictStore(c, config.redis.prefix, config.verdicts.ttlSeconds),
    models: new BoundedLabel([], 50),
    aggregates: aggregateKeys(config),
  }));
  t.teardown(() => workers[1]!.store['redis'].disconnect());
  const results = await Promise.all(workers.flatMap((w) => sample.map((raw) => analyseJob(raw, w))));
  t.equal(results.filter((r) => r === 'stored').length, sample.length, 'each exchange stored by exactly one worker');
  t.equal(results.filter((r) => r === 'duplicate').length, sample.length);

  const reader = new AggregateReader(client, aggregateOptions(config));
  const now = Math.floor(Date.now() / 1000);
  const range = await reader.read(now - 3600, now + 1);
  t.equal(range.resolution, 60, 'a recent hour reads minute buckets');
  const coarse = await reader.read(now - 3600, now + 1, 3600);
  const verdicts = (await Promise.all(sample.map((r) => workers[0]!.store.get(r.id)))) as Verdict[];
  const metrics = workers.map((w) => w.metrics);
  for (const model of ['gpt-a', 'gpt-b']) {
    const series = range.models.find((m) => m.key.model === model && m.key.traffic === 'primary')!;
    t.ok(series, `${model} has aggregates`);
    const mine = verdicts.filter((v) => v.model === model);
    const want = {
      checks: await counter(metrics, 'checks', model),
      grounded: await counter(metrics, 'groundedChecks', model),
      hallucinations: await counter(metrics, 'hallucinations', model),
      claims: await counter(metrics, 'claims', model),
      unsupported_claims: await counter(metrics, 'unsupportedClaims', model),
      mismatches: await counter(metrics, 'mismatches', model),
    };
    t.equal(want.checks, mine.length, `${model}: the metrics count every verdict once`);
    for (const [field, n] of Object.entries(want)) t.equal(series.total[field] ?? 0, n, `${model}: ${field} = ${n} as in the metrics`);
    t.equal(series.total.hallucinations ?? 0, mine.filter((v) => v.hallucination.flagged).length);
    t.equal(series.total['refusals:full'] ?? 0, mine.filter((v) => v.refusal.kind === 'full').length);
    t.equal(series.total.score_sum_milli ?? 0, mine.reduce((s, v) => s + Math.round(v.hallucination.score * 1000), 0), 'score sum exact');
    // Per method and failure mode, as the metrics the estimated rate and the profile come from.
    for (const method of ['context', 'samples', 'none']) {
      const where = { model, method };
      t.equal(series.total[`method:${method}:checks`] ?? 0, await sumOf(metrics, 'checksByMethod', where), `${model}: ${method} checks as in the metrics`);
      t.equal(series.total[`method:${method}:hallucinations`] ?? 0, await sumOf(metrics, 'hallucinationsByMethod', where), `${model}: ${method} flagged as in the metrics`);
      t.equal((series.total[`method:${method}:score_sum_milli`] ?? 0) / 1000, Math.round((await sumOf(metrics, 'expectedHallucinations', where)) * 1000) / 1000, `${model}: ${method} score sum as in the metrics`);
      for (const mode of ['number', 'entity', 'negation', 'reference', 'unsupported']) {
        t.equal(series.total[`failure_mode:${method}:${mode}`] ?? 0, await sumOf(metrics, 'unsupportedClaimsByMode', { ...where, failure_mode: mode }), `${model}: ${method} ${mode} claims as in the metrics`);
      }
    }
    const coarseSeries = coarse.models.find((m) => m.key.model === model)!;
    t.same(coarseSeries.total, series.total, 'hour buckets hold the same counts');

    // Flagged indexes: bounded, newest first, and only flagged verdicts.
    const flagged = mine.filter((v) => v.hallucination.flagged);
    const recent = await reader.flaggedIds('recent', 'hallucination', series.key, 100);
    t.equal(recent.length, Math.min(5, flagged.length), 'index bounded by flaggedPerModel');
    for (const id of recent) t.ok(flagged.some((v) => v.id === id), `${id} is flagged`);
    const top = await reader.flaggedIds('top', 'hallucination', series.key, 100);
    const scores = top.map((id) => flagged.find((v) => v.id === id)!.hallucination.score);
    t.same(scores, [...scores].sort((a, b) => b - a), 'top index: highest score first');
    t.equal(scores[0], Math.max(...flagged.map((v) => v.hallucination.score)));
  }
  const refusals = await reader.flaggedIds('recent', 'refusal', { traffic: 'primary', provider: 'openai', model: 'gpt-b' }, 100);
  t.ok(refusals.length > 0, 'refusals indexed apart');

  // Everything expires: buckets by their absolute time, indexes and text with the verdicts.
  const keys = await client.keys(`${config.redis.prefix}:*`);
  for (const key of keys) t.ok((await client.ttl(key)) > 0, `${key} expires`);

  // The console's text: the analysed response, which claim offsets index.
  const v = verdicts.find((x) => x.hallucination.claims.length > 1)!;
  const text = (await readExchangeText(client, config.redis.prefix, v.id))!;
  t.ok(text.question.length > 0, 'question kept');
  for (const c of v.hallucination.claims) t.equal(text.response.slice(c.start, c.end), c.text, 'offsets index the stored response');
});

t.test('with storeText: false no text is kept; counts are the same', async (t) => {
  const { client } = await startRedisWithClient(t);
  const config = ConfigSchema.parse({ capture: { storeText: false } });
  const deps = {
    config,
    metrics: createMetrics(new Registry(), { processMetrics: false }),
    store: new VerdictStore(client, config.redis.prefix, config.verdicts.ttlSeconds),
    models: new BoundedLabel([], 50),
    aggregates: aggregateKeys(config),
  };
  const sample = rows('halueval-qa.jsonl', 6).map((r) => rawFromRow(r));
  for (const raw of sample) t.equal(await analyseJob(raw, deps), 'stored');
  t.same(await client.keys(`${config.redis.prefix}:text:*`), [], 'no text keys');
  const v = (await deps.store.get(sample[0]!.id))!;
  t.ok(v.hallucination.claims.every((c) => c.text === '' && c.evidence === undefined), 'claims without text');
  const now = Math.floor(Date.now() / 1000);
  const range = await new AggregateReader(client, aggregateOptions(config)).read(now - 600, now + 1);
  t.equal(range.models[0]!.total.checks, 6);
});
