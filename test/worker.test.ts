import t from 'tap';
import { analyseJob } from '../src/worker/analyse-job.js';
import { ConfigSchema } from '../src/config/schema.js';
import { createMetrics } from '../src/metrics/registry.js';
import { BoundedLabel } from '../src/metrics/labels.js';
import { VerdictStore } from '../src/verdicts/store.js';
import type { RawExchange } from '../src/capture/raw.js';
import { startRedisWithClient } from './helpers/redis.js';
import { rawChat } from './helpers/exchanges.js';

const raw = (id: string, over: Partial<RawExchange> = {}): RawExchange =>
  rawChat(id, 'gpt-w', [{ role: 'system', content: 'Answer from the context.\n\nContext:\nThe Eiffel Tower is a wrought-iron lattice tower on the Champ de Mars in Paris, France. It was designed by the company of engineer Gustave Eiffel and completed in 1889 for the World Fair.' }, { role: 'user', content: 'Where?' }], 'The Eiffel Tower is in Rome. It was completed in 1925.', over);

async function counter(metrics: ReturnType<typeof createMetrics>, name: string): Promise<number> {
  const m = (await metrics.registry.getMetricsAsJSON()).find((x) => x.name === name);
  return (m?.values ?? []).reduce((s, v) => s + (v.metricName === undefined || v.metricName === name ? v.value : 0), 0);
}

t.test('a duplicated job neither rewrites the verdict nor counts twice', async (t) => {
  const { client } = await startRedisWithClient(t);
  const config = ConfigSchema.parse({ verdicts: { ttlSeconds: 60 } });
  const metrics = createMetrics();
  const store = new VerdictStore(client, config.redis.prefix, config.verdicts.ttlSeconds);
  const deps = { config, metrics, store, models: new BoundedLabel([], 10) };

  t.equal(await analyseJob(raw('dup-1'), deps), 'stored');
  const first = await client.get('veracity:verdict:dup-1');
  t.equal(await analyseJob(raw('dup-1', { endedAt: Date.now() }), deps), 'duplicate');
  t.equal(await client.get('veracity:verdict:dup-1'), first, 'verdict unchanged');
  t.equal(await counter(metrics, 'veracity_checks_total'), 1, 'counted once');
  const ttl = await client.ttl('veracity:verdict:dup-1');
  t.ok(ttl > 0 && ttl <= 60, `verdict expires (ttl ${ttl})`);
  const v = JSON.parse(first!);
  t.equal(v.hallucination.flagged, true, 'wrong city and year are flagged');
});

t.test('storeText: false keeps scores and offsets but no text', async (t) => {
  const { client } = await startRedisWithClient(t);
  const config = ConfigSchema.parse({ capture: { storeText: false } });
  const metrics = createMetrics();
  const store = new VerdictStore(client, config.redis.prefix, config.verdicts.ttlSeconds);
  await analyseJob(raw('notext-1'), { config, metrics, store, models: new BoundedLabel([], 10) });
  const text = (await client.get('veracity:verdict:notext-1'))!;
  t.notMatch(text, /Eiffel|Rome|Paris/, 'no response or context text stored');
  t.ok(JSON.parse(text).hallucination.claims.every((c: { end: number }) => c.end > 0), 'offsets kept');
});

t.test('upstream errors and unparseable captures are not counted as checks', async (t) => {
  const { client } = await startRedisWithClient(t);
  const config = ConfigSchema.parse({});
  const metrics = createMetrics();
  const deps = { config, metrics, store: new VerdictStore(client, 'veracity', 60), models: new BoundedLabel([], 10) };
  t.equal(await analyseJob(raw('err-1', { status: 500, response: '{"error":{"message":"boom"}}' }), deps), 'skipped');
  t.equal(await analyseJob(raw('bad-1', { request: '{"model": nope' }), deps), 'unparseable');
  t.equal(await counter(metrics, 'veracity_checks_total'), 0);
  t.equal(await counter(metrics, 'veracity_analysis_dropped_total'), 1, 'the unparseable one is a counted drop');
});

t.test('model labels are bounded', async (t) => {
  const label = new BoundedLabel(['gpt-4o'], 2);
  t.same(['gpt-4o', 'a', 'b', 'c', 'a', '', 'x'.repeat(500)].map((m) => label.value(m)), ['gpt-4o', 'a', 'b', 'other', 'a', 'unknown', 'other']);
});
