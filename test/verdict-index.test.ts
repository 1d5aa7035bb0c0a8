import t from 'tap';
import { VerdictStore } from '../src/verdicts/store.js';
import { indexedModelsKey, indexKey } from '../src/verdicts/model-index.js';
import { BoundedLabel } from '../src/metrics/labels.js';
import type { Verdict } from '../src/detect/verdict.js';
import { startRedisWithClient } from './helpers/redis.js';
import { sleep } from './helpers/processes.js';

const verdict = (id: string, at: number, model = 'gpt-4o'): Verdict => ({
  id,
  provider: 'openai',
  model,
  grounded: false,
  hallucination: { flagged: false, score: 0.1, claims: [] },
  confidence_mismatch: { flagged: false, score: 0 },
  refusal: { flagged: false, kind: 'none', score: 0 },
  analysed_at: new Date(at).toISOString(),
});

t.test('each stored verdict enters its model index once, newest kept up to the bound', async (t) => {
  const { client } = await startRedisWithClient(t);
  const store = new VerdictStore(client, 'veracity', 600, { maxIndexedPerModel: 5 });
  const t0 = Date.now() - 60_000;
  for (let i = 0; i < 8; i++) t.equal(await store.putIfAbsent(verdict(`v${i}`, t0 + i * 1000)), true);
  const key = indexKey('veracity', 'openai', 'gpt-4o');
  t.equal(await client.zcard(key), 5, 'bounded at maxIndexedPerModel on every write');
  t.same(await client.zrange(key, 0, -1), ['v3', 'v4', 'v5', 'v6', 'v7'], 'the newest kept, ordered by analysis time');
  t.equal(Number(await client.zscore(key, 'v7')), t0 + 7000, 'scored by analysed_at in ms');
  t.equal(await client.exists('veracity:verdict:v0'), 1, 'trimming the index never deletes a verdict');

  const before = await client.get('veracity:verdict:v5');
  t.equal(await store.putIfAbsent({ ...verdict('v5', t0 + 50_000), model: 'gpt-4o' }), false, 'a duplicate is refused');
  t.equal(await client.get('veracity:verdict:v5'), before, 'and changes nothing');
  t.equal(Number(await client.zscore(key, 'v5')), t0 + 5000, 'nor its index entry');
  t.equal(await client.zcard(key), 5);

  t.same(await store.index.ids({ provider: 'openai', label: 'gpt-4o' }, t0 + 4000, t0 + 6000), ['v4', 'v5', 'v6'], 'a window reads ids in time order, bounds included');
  t.same(await store.index.models(), [{ provider: 'openai', label: 'gpt-4o' }]);
  t.same((await store.getMany(['v7', 'gone', 'v4'])).map((v) => v.id), ['v7', 'v4'], 'getMany leaves out what is not stored');
});

t.test('entries older than the verdict TTL are trimmed, and every key expires', async (t) => {
  const { client } = await startRedisWithClient(t);
  const store = new VerdictStore(client, 'veracity', 60);
  const key = indexKey('veracity', 'openai', 'gpt-4o');
  const now = Date.now();
  await store.putIfAbsent(verdict('old', now - 120_000));
  await store.putIfAbsent(verdict('recent', now - 30_000));
  await store.putIfAbsent(verdict('new', now));
  t.same(await client.zrange(key, 0, -1), ['recent', 'new'], 'an entry older than the TTL is trimmed');
  for (const k of [key, indexedModelsKey('veracity')]) {
    const ttl = await client.ttl(k);
    t.ok(ttl > 0 && ttl <= 60, `${k} expires (ttl ${ttl})`);
  }

  const short = new VerdictStore(client, 'short', 1);
  await short.putIfAbsent(verdict('brief', Date.now()));
  t.equal(await client.exists(indexKey('short', 'openai', 'gpt-4o'), indexedModelsKey('short'), 'short:verdict:brief'), 3);
  const deadline = Date.now() + 5000;
  while ((await client.exists(indexKey('short', 'openai', 'gpt-4o'), indexedModelsKey('short'), 'short:verdict:brief')) > 0 && Date.now() < deadline) await sleep(100);
  t.equal(await client.exists(indexKey('short', 'openai', 'gpt-4o'), indexedModelsKey('short'), 'short:verdict:brief'), 0, 'index, model set and verdict all expire with a 1 s TTL');
});

t.test('keys stay under the prefix; labels are bounded; the script survives a flush', async (t) => {
  const { client } = await startRedisWithClient(t);
  const store = new VerdictStore(client, '{vt}', 600, { modelLabels: new BoundedLabel([], 1) });
  const now = Date.now();
  await store.putIfAbsent(verdict('m1-a', now, 'model-one'));
  await store.putIfAbsent(verdict('m2-a', now, 'model-two'));
  await store.putIfAbsent({ ...verdict('c-a', now, 'claude'), provider: 'anthropic' });
  const keys = (await client.keys('*')).sort();
  t.ok(keys.length >= 5 && keys.every((k) => k.startsWith('{vt}:')), `every key is hash-tagged by the prefix, so one Cluster slot holds them: ${keys.join(' ')}`);
  t.same(
    await store.index.models(),
    [
      { provider: 'anthropic', label: 'other' },
      { provider: 'openai', label: 'model-one' },
      { provider: 'openai', label: 'other' },
    ],
    'models past the label bound share `other`',
  );
  t.same(await store.index.ids({ provider: 'openai', label: 'other' }, 0, now + 1), ['m2-a']);

});

t.test('entries past the TTL go on a writer\'s first write and every indexTrimEvery writes after', async (t) => {
  const { client } = await startRedisWithClient(t);
  // No time-based trim during the test, however slow the machine.
  const store = new VerdictStore(client, 'veracity', 60, { indexTrimEvery: 3, indexTrimEveryMs: 3_600_000 });
  const key = indexKey('veracity', 'openai', 'gpt-4o');
  const now = Date.now();
  await store.putIfAbsent(verdict('n1', now)); // trims (first write)
  await store.putIfAbsent(verdict('stale', now - 120_000)); // as if analysed two TTLs ago
  await store.putIfAbsent(verdict('n2', now));
  t.same(await client.zrange(key, 0, -1), ['stale', 'n1', 'n2'], 'between trims an old entry may stay');
  await store.putIfAbsent(verdict('n3', now)); // the 4th write: trims again
  t.same(await client.zrange(key, 0, -1), ['n1', 'n2', 'n3'], 'the next trim removes it');
});

t.test('the index entry rides with the aggregate writes, in the same script', async (t) => {
  const { client } = await startRedisWithClient(t);
  const { ConfigSchema } = await import('../src/config/schema.js');
  const { aggregateKeys } = await import('../src/verdicts/aggregates.js');
  const config = ConfigSchema.parse({});
  const store = new VerdictStore(client, config.redis.prefix, config.verdicts.ttlSeconds);
  const now = Date.now();
  const v = { ...verdict('with-aggregates', now), hallucination: { flagged: true, score: 0.9, claims: [] } };
  const writes = aggregateKeys(config).writesFor(v, 'gpt-4o', now);
  const before = JSON.stringify(writes);
  t.equal(await store.putIfAbsent(v, writes), true);
  t.equal(JSON.stringify(writes), before, "the caller's writes are left as they were");
  t.same(await client.zrange(indexKey('veracity', 'openai', 'gpt-4o'), 0, -1), ['with-aggregates'], 'indexed');
  t.ok((await client.keys('veracity:agg:*')).length > 0 && (await client.keys('veracity:ix:*')).length > 0, 'and the aggregates written too');
  const aggregatesBefore = JSON.stringify(await Promise.all((await client.keys('veracity:agg:*')).sort().map((k) => client.hgetall(k))));
  const later = { ...v, analysed_at: new Date(now + 5).toISOString() };
  t.equal(await store.putIfAbsent(later, aggregateKeys(config).writesFor(later, 'gpt-4o', now + 5)), false, 'a duplicate (another attempt, analysed later) writes nothing');
  // The same bytes from another call are another attempt (only the very command resent after a
  // lost reply is recognised as the same write: test/redis-replay.test.ts): a duplicate too.
  t.equal(await store.putIfAbsent(v, aggregateKeys(config).writesFor(v, 'gpt-4o', now)), false, 'the same verdict from another attempt is a duplicate');
  t.equal(JSON.stringify(await Promise.all((await client.keys('veracity:agg:*')).sort().map((k) => client.hgetall(k)))), aggregatesBefore, 'neither counted anything again');
  t.equal(await client.zcard(indexKey('veracity', 'openai', 'gpt-4o')), 1);
  t.equal(Number(await client.zscore(indexKey('veracity', 'openai', 'gpt-4o'), 'with-aggregates')), now);
});

t.test('maxIndexedPerModel 0 stores verdicts without an index', async (t) => {
  const { client } = await startRedisWithClient(t);
  const store = new VerdictStore(client, 'plain', 600, { maxIndexedPerModel: 0 });
  t.equal(await store.putIfAbsent(verdict('p1', Date.now())), true);
  t.equal(await store.putIfAbsent(verdict('p1', Date.now())), false, 'still set-if-absent');
  const plain = (await client.keys('plain:*')).sort();
  t.equal(plain.length, 2);
  t.equal(plain[1], 'plain:verdict:p1', 'nothing but the verdict...');
  t.match(plain[0], /^plain:verdict-write:/, "...and, for two minutes, its call's write token");
  t.ok((await client.ttl(plain[0]!)) <= 120, 'the token goes soon');
});

t.test('verdicts put in the same turn are stored by one script call, each counted and indexed as if stored alone', async (t) => {
  const { client } = await startRedisWithClient(t);
  const { ConfigSchema } = await import('../src/config/schema.js');
  const { aggregateKeys } = await import('../src/verdicts/aggregates.js');
  const config = ConfigSchema.parse({ verdicts: { maxIndexedPerModel: 5, flaggedPerModel: 3 } });
  const now = Date.now();
  const flagged = (id: string, at: number, model = 'gpt-4o'): Verdict => ({ ...verdict(id, at, model), hallucination: { flagged: true, score: 0.9, claims: [] } });
  const batch = [
    ...Array.from({ length: 7 }, (_, i) => flagged(`b${i}`, now + i)),
    verdict('c0', now + 10, 'claude'),
    flagged('b2', now + 20), // the same id again, in the same call: a duplicate
  ];
  const keys = aggregateKeys(config);
  const write = (store: VerdictStore, v: Verdict) => store.putIfAbsent(v, keys.writesFor(v, v.model, now));
  // All put before any is awaited: one flush, one script call.
  const together = new VerdictStore(client, 'veracity', 600, { maxIndexedPerModel: 5 });
  await new VerdictStore(client, 'warm', 600).putIfAbsent(verdict('warm', now)); // the script is loaded: EVALSHA from here on
  const scriptCalls = async () => {
    const info = await client.info('commandstats');
    return [...info.matchAll(/^cmdstat_(?:evalsha|eval):calls=(\d+)/gm)].reduce((n, m) => n + Number(m[1]), 0);
  };
  const callsBefore = await scriptCalls();
  t.same(await Promise.all(batch.map((v) => write(together, v))), [true, true, true, true, true, true, true, true, false]);
  t.equal((await scriptCalls()) - callsBefore, 1, 'one script call for the nine puts');
  // The same verdicts one by one, under another prefix.
  const config2 = ConfigSchema.parse({ redis: { prefix: 'alone' }, verdicts: { maxIndexedPerModel: 5, flaggedPerModel: 3 } });
  const keys2 = aggregateKeys(config2);
  const alone = new VerdictStore(client, 'alone', 600, { maxIndexedPerModel: 5 });
  for (const v of batch) await alone.putIfAbsent(v, keys2.writesFor(v, v.model, now));
  const dump = async (prefix: string) => {
    const out: Record<string, unknown> = {};
    for (const k of (await client.keys(`${prefix}:*`)).sort()) {
      const rest = k.slice(prefix.length);
      const type = await client.type(k);
      if (type === 'hash') out[rest] = await client.hgetall(k);
      else if (type === 'zset') out[rest] = await client.zrange(k, 0, -1, 'WITHSCORES');
      else if (type === 'set') out[rest] = (await client.smembers(k)).sort();
      else if (rest.startsWith(':verdict-write:')) continue; // one per call: counted below
      else out[rest] = await client.get(k);
      out[`${rest} expires`] = (await client.ttl(k)) > 0;
    }
    return out;
  };
  const a = await dump('veracity');
  t.same(a, await dump('alone'), 'the same keys, counts, index members and expiries as one call per verdict');
  t.equal((await client.keys('veracity:verdict-write:*')).length, 1, 'one write token for the call');
  t.equal((await client.keys('alone:verdict-write:*')).length, batch.length - 1, 'where one call per verdict left one for each verdict it stored');
  t.equal(a[`:agg:60:${Math.floor(now / 60_000) * 60}`] && (a[`:agg:60:${Math.floor(now / 60_000) * 60}`] as Record<string, string>)['checks|primary|openai|gpt-4o'], '7', 'seven checks counted for the model, the duplicate not');
  t.same(await client.zrange(indexKey('veracity', 'openai', 'gpt-4o'), 0, -1), ['b2', 'b3', 'b4', 'b5', 'b6'], 'the model index keeps the five newest');
});

t.test('a call whose verdicts are all new sends the shared writes summed; one already stored sends it the general way; both leave what one call per verdict leaves', async (t) => {
  const { client } = await startRedisWithClient(t);
  const { ConfigSchema } = await import('../src/config/schema.js');
  const { aggregateKeys } = await import('../src/verdicts/aggregates.js');
  const now = Date.now();
  const flagged = (id: string, at: number, model = 'gpt-4o'): Verdict => ({
    ...verdict(id, at, model),
    grounded: true,
    hallucination: { flagged: true, score: 0.75, method: 'context', claims: [{ text: 'x', start: 0, end: 1, support: 'contradicted', score: 0.8, failure_mode: 'number' }] },
    refusal: { flagged: true, kind: 'partial', score: 0.6 },
  });
  const fresh = [...Array.from({ length: 6 }, (_, i) => flagged(`n${i}`, now + i)), verdict('n6', now + 7, 'claude'), flagged('n7', now + 8, 'claude')];
  const stored = [verdict('s0', now + 20), flagged('s1', now + 21)];
  const scriptCalls = async () => {
    const info = await client.info('commandstats');
    return [...info.matchAll(/^cmdstat_(?:evalsha|eval):calls=(\d+)/gm)].reduce((n, m) => n + Number(m[1]), 0);
  };
  const store = (prefix: string) => {
    const config = ConfigSchema.parse({ redis: { prefix }, verdicts: { maxIndexedPerModel: 4, flaggedPerModel: 3 } });
    const keys = aggregateKeys(config);
    const s = new VerdictStore(client, prefix, 600, { maxIndexedPerModel: 4 });
    return (v: Verdict) => s.putIfAbsent(v, { ...keys.writesFor(v, v.model, now), strings: [{ key: `${prefix}:text:${v.id}`, value: `text of ${v.id}` }] });
  };
  const together = store('together');
  const alone = store('alone');
  await together(verdict('warm', now));
  await alone(verdict('warm', now));
  // Already stored before the calls below.
  await together(stored[0]!);
  await alone(stored[0]!);

  let calls = await scriptCalls();
  t.same(await Promise.all(fresh.map(together)), fresh.map(() => true), 'every new verdict stored');
  t.equal((await scriptCalls()) - calls, 1, 'one script call, the summed one');
  calls = await scriptCalls();
  const mixed = [flagged('m0', now + 30), stored[0]!, stored[1]!, flagged('m1', now + 31, 'claude')];
  t.same(await Promise.all(mixed.map(together)), [true, false, true, true], 'the one already stored is a duplicate');
  t.equal((await scriptCalls()) - calls, 2, 'the summed script wrote nothing and said so; the general one stored the rest');

  for (const v of [...fresh, ...mixed]) await alone(v);
  const dump = async (prefix: string) => {
    const out: Record<string, unknown> = {};
    for (const k of (await client.keys(`${prefix}:*`)).sort()) {
      const rest = k.slice(prefix.length);
      if (rest.startsWith(':verdict-write:')) continue;
      const type = await client.type(k);
      if (type === 'hash') out[rest] = await client.hgetall(k);
      else if (type === 'zset') out[rest] = await client.zrange(k, 0, -1, 'WITHSCORES');
      else if (type === 'set') out[rest] = (await client.smembers(k)).sort();
      else out[rest] = await client.get(k);
      const ttl = await client.ttl(k);
      out[`${rest} expires`] = ttl > 0 ? (ttl > 3600 ? 'bucket' : ttl > 500 ? 'verdict' : ttl) : ttl;
    }
    return out;
  };
  const a = await dump('together');
  t.same(a, await dump('alone'), 'the same keys, counts, index members, texts and expiries');
  const hour = `:agg:3600:${Math.floor(now / 3_600_000) * 3600}`;
  t.equal((a[hour] as Record<string, string>)['checks|primary|openai|gpt-4o'], '10', 'warm, s0, six new, m0 and s1: ten checks of gpt-4o, the duplicate not counted');
  t.equal((a[hour] as Record<string, string>)['refusals:partial|primary|openai|gpt-4o'], '8', 'the flagged ones (six new, m0, s1) summed');
  t.equal((await client.keys('together:verdict-write:*')).length, 4, 'a token for each call that stored something (two puts alone, the summed call, the general call)');
});
