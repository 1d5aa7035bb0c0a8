import t from 'tap';
import { ConfigSchema } from '../src/config/schema.js';
import type { Exchange } from '../src/capture/exchange.js';
import type { Verdict } from '../src/detect/verdict.js';
import { BoundedLabel } from '../src/metrics/labels.js';
import { createMetrics } from '../src/metrics/registry.js';
import { aggregateKeys } from '../src/verdicts/aggregates.js';
import { VerdictStore } from '../src/verdicts/store.js';
import { recordVerdict } from '../src/worker/record.js';
import { startRedisWithClient } from './helpers/redis.js';

// The per-model counters move once per turn for the verdicts stored in it. What they show must be
// what one increment per verdict showed: every series of a model present (0 where nothing
// happened), nothing counted for a duplicate, and no lag for a reader right after the store.

const exchange = (id: string, model: string): Exchange => ({ id, provider: 'openai', route: 'chat.completions', model, context: [], question: 'q', response: { text: 'a' }, stream: false });

const verdict = (id: string, model: string, over: Partial<Verdict> = {}): Verdict => ({
  id,
  provider: 'openai',
  model,
  grounded: true,
  hallucination: { flagged: false, score: 0.25, method: 'context', claims: [] },
  confidence_mismatch: { flagged: false, score: 0 },
  refusal: { flagged: false, kind: 'none', score: 0 },
  analysed_at: new Date().toISOString(),
  ...over,
});

async function series(metrics: ReturnType<typeof createMetrics>, name: string): Promise<Record<string, number>> {
  const m = (await metrics.registry.getMetricsAsJSON()).find((x) => x.name === name);
  const out: Record<string, number> = {};
  for (const v of m?.values ?? []) out[Object.values(v.labels).join(',')] = v.value;
  return out;
}

t.test('verdicts stored in one turn are counted per model once, as one increment each would count them', async (t) => {
  const { client } = await startRedisWithClient(t);
  const config = ConfigSchema.parse({});
  const metrics = createMetrics(undefined, { processMetrics: false });
  const deps = { config, metrics, store: new VerdictStore(client, config.redis.prefix, 600), models: new BoundedLabel([], 10), aggregates: aggregateKeys(config) };
  const contradicted = { text: 'x', start: 0, end: 1, support: 'contradicted' as const, score: 0.9, failure_mode: 'number' as const };
  const unsupported = { text: 'y', start: 2, end: 3, support: 'unsupported' as const, score: 0.7 };
  const supported = { text: 'z', start: 4, end: 5, support: 'supported' as const, score: 0.1 };
  const batch: Array<[Verdict, Exchange, 'primary' | 'shadow']> = [
    [verdict('a1', 'gpt-a', { hallucination: { flagged: true, score: 0.75, method: 'context', claims: [contradicted, unsupported, supported] }, refusal: { flagged: true, kind: 'partial', score: 0.6 } }), exchange('a1', 'gpt-a'), 'primary'],
    [verdict('a2', 'gpt-a', { grounded: false, hallucination: { flagged: false, score: 0.5, method: 'none', claims: [supported] }, confidence_mismatch: { flagged: true, score: 0.8 } }), exchange('a2', 'gpt-a'), 'primary'],
    [verdict('a3', 'gpt-a', { tool_calls: { checked: 2, flagged: true, calls: [{ index: 0, name: 'nope', failure_mode: 'tool_name', findings: [] }, { index: 1, name: 'get', findings: [] }] } as unknown as Verdict['tool_calls'] }), exchange('a3', 'gpt-a'), 'primary'],
    [verdict('b1', 'gpt-b', { refusal: { flagged: true, kind: 'full', score: 0.9 } }), exchange('b1', 'gpt-b'), 'primary'],
    [verdict('s1', 'gpt-c', { shadow_of: 'a1', hallucination: { flagged: true, score: 0.8, method: 'samples', claims: [unsupported] } }), exchange('s1', 'gpt-c'), 'shadow'],
  ];
  // All at once: the store answers them in one turn, and the counts are read before the next.
  const stored = await Promise.all(batch.map(([v, e, traffic]) => recordVerdict(v, e, traffic, deps)));
  t.same(stored, [true, true, true, true, true]);
  t.same(await series(metrics, 'veracity_checks_total'), { 'openai,gpt-a': 3, 'openai,gpt-b': 1 }, 'a read right after the store sees every check; shadows are not checks');
  t.same(await series(metrics, 'veracity_grounded_checks_total'), { 'openai,gpt-a': 2, 'openai,gpt-b': 1 });
  t.same(await series(metrics, 'veracity_hallucinations_total'), { 'openai,gpt-a': 1, 'openai,gpt-b': 0 }, 'a model with none reads 0, not missing');
  t.same(await series(metrics, 'veracity_claims_total'), { 'openai,gpt-a': 4, 'openai,gpt-b': 0 });
  t.same(await series(metrics, 'veracity_unsupported_claims_total'), { 'openai,gpt-a': 2, 'openai,gpt-b': 0 });
  t.same(await series(metrics, 'veracity_confidence_mismatches_total'), { 'openai,gpt-a': 1, 'openai,gpt-b': 0 });
  t.same(await series(metrics, 'veracity_refusals_total'), { 'openai,gpt-a,partial': 1, 'openai,gpt-a,full': 0, 'openai,gpt-b,partial': 0, 'openai,gpt-b,full': 1 });
  t.same(await series(metrics, 'veracity_tool_calls_total'), { 'openai,gpt-a': 2, 'openai,gpt-b': 0 });
  t.same(await series(metrics, 'veracity_tool_call_failures_total'), { 'openai,gpt-a,tool_name': 1, 'openai,gpt-a,tool_arguments': 0, 'openai,gpt-b,tool_name': 0, 'openai,gpt-b,tool_arguments': 0 });
  t.same(await series(metrics, 'veracity_checks_by_method_total'), {
    'openai,gpt-a,context': 2, 'openai,gpt-a,samples': 0, 'openai,gpt-a,none': 1,
    'openai,gpt-b,context': 1, 'openai,gpt-b,samples': 0, 'openai,gpt-b,none': 0,
  });
  t.same(await series(metrics, 'veracity_expected_hallucinations_total'), { 'openai,gpt-a,context': 1, 'openai,gpt-a,none': 0.5, 'openai,gpt-b,context': 0.25 }, 'score sums for the methods checked only');
  const modes = await series(metrics, 'veracity_unsupported_claims_by_mode_total');
  t.equal(modes['openai,gpt-a,context,number'], 1);
  t.equal(modes['openai,gpt-a,context,unsupported'], 1);
  t.equal(modes['openai,gpt-a,none,number'], 0, 'failure modes of a method move together too');
  t.same(await series(metrics, 'veracity_shadow_checks_total'), { 'openai,gpt-c,context': 0, 'openai,gpt-c,samples': 1, 'openai,gpt-c,none': 0 });
  t.same(await series(metrics, 'veracity_shadow_unsupported_claims_total'), { 'openai,gpt-c': 1 });
  const score = (await metrics.registry.getMetricsAsJSON()).find((m) => m.name === 'veracity_hallucination_score');
  t.equal(score?.values.filter((v) => v.metricName === 'veracity_hallucination_score_count').reduce((n, v) => n + v.value, 0), 4, 'one score observed per primary verdict');

  // The same verdicts again (a retried job): duplicates, counted nowhere.
  t.same(await Promise.all(batch.map(([v, e, traffic]) => recordVerdict(v, e, traffic, deps))), [false, false, false, false, false]);
  await new Promise((r) => setImmediate(r));
  t.same(await series(metrics, 'veracity_checks_total'), { 'openai,gpt-a': 3, 'openai,gpt-b': 1 }, 'nothing counted twice');
  // One more in a later turn adds to the same series.
  await recordVerdict(verdict('b2', 'gpt-b'), exchange('b2', 'gpt-b'), 'primary', deps);
  await new Promise((r) => setImmediate(r));
  t.same(await series(metrics, 'veracity_checks_total'), { 'openai,gpt-a': 3, 'openai,gpt-b': 2 });
});
