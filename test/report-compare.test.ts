import t from 'tap';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { mcnemarExact, binomialHalfCdf, minDiscordantFor } from '../src/report/compare/stats.js';
import { pairVerdicts, type Scored } from '../src/report/compare/pairing.js';
import { compareMain } from '../src/report/compare/main.js';
import { durationMs } from '../src/report/duration.js';
import { reportMain } from '../src/report/report.js';
import type { Comparison } from '../src/report/compare/figures.js';
import { VerdictStore } from '../src/verdicts/store.js';
import { startRedisWithClient } from './helpers/redis.js';
import { checkFigures, exactMcNemar, MODEL_A, MODEL_B, N_PAIRS, seedVerdicts } from './helpers/compare-seed.js';

t.test('McNemar exact p equals the binomial sums written out', async (t) => {
  // 1 against 7: 2·(C(8,0) + C(8,1))/2^8 = 2·9/256.
  t.equal(mcnemarExact(1, 7), 18 / 256);
  t.equal(mcnemarExact(7, 1), 18 / 256, 'symmetric');
  // 0 against 5: 2/32; 0 against 6: 2/64 — the fewest disagreements that can reach p < 0.05 is 6.
  t.equal(mcnemarExact(0, 5), 2 / 32);
  t.equal(mcnemarExact(0, 6), 2 / 64);
  t.equal(minDiscordantFor(0.05), 6);
  t.equal(mcnemarExact(0, 0), 1, 'no disagreement: no evidence');
  t.equal(mcnemarExact(4, 4), 1, 'an even split caps at 1');
  t.equal(mcnemarExact(5, 4), 1);
  for (const [b, c] of [[21, 9], [9, 21], [3, 12], [150, 86], [40, 60], [1200, 1350], [10_000, 10_400]] as const) {
    const want = exactMcNemar(b, c);
    t.ok(Math.abs(mcnemarExact(b, c) - want) <= 1e-9 * want, `${b} vs ${c}: ${mcnemarExact(b, c)} = ${want}`);
  }
  // Agresti's presidential-approval table (794, 150, 86, 570): the large-sample McNemar
  // statistic is (150 − 86)²/236 = 17.36 (p ≈ 3.1e-5); the exact test agrees to the order.
  const p = mcnemarExact(150, 86);
  t.ok(p > 2e-5 && p < 6e-5, `exact p ${p} near the large-sample 3.1e-5`);
  t.equal(binomialHalfCdf(10, 10), 1);
  t.equal(binomialHalfCdf(-1, 10), 0);
  t.throws(() => mcnemarExact(-1, 2), RangeError);
});

t.test('durations', async (t) => {
  t.equal(durationMs('24h'), 86_400_000);
  t.equal(durationMs('1h30m'), 5_400_000);
  t.equal(durationMs('7d'), 604_800_000);
  t.equal(durationMs('500ms'), 500);
  t.equal(durationMs('yesterday'), undefined);
  t.equal(durationMs('0h'), undefined);
});

const scored = (id: string, over: Partial<Scored> = {}): Scored => ({
  id,
  provider: 'openai',
  model: 'm',
  flagged: { hallucination: false, refusal: false, confidence_mismatch: false },
  score: { hallucination: 0, refusal: 0, confidence_mismatch: 0 },
  refusalKind: 'none',
  claims: [],
  ...over,
});

t.test('pairing: one pair per prompt, latest verdict, shadow links first', async (t) => {
  const a = [
    scored('a1', { promptHash: 'p1', at: 1 }),
    scored('a1-new', { promptHash: 'p1', at: 5 }),
    scored('a2', { promptHash: 'p2', at: 2 }),
    scored('a3', { promptHash: 'p3', at: 3 }),
    scored('a4', { at: 4 }), // no hash: pairs only through a shadow link
    scored('a5', { promptHash: 'p5', at: 5 }),
  ];
  const b = [
    scored('b1', { promptHash: 'p1', at: 2 }),
    scored('b2-shadow', { promptHash: 'p2', shadowOf: 'a2', at: 3 }),
    scored('b2-later', { promptHash: 'p2', at: 9 }),
    scored('b4-shadow', { shadowOf: 'a4', at: 5 }),
    // The shadow answer hashed differently (its translation changed something): the link still pairs it.
    scored('b5-shadow', { promptHash: 'p5-translated', shadowOf: 'a5', at: 6 }),
    scored('b6', { promptHash: 'p6', at: 6 }),
  ];
  const p = pairVerdicts(a, b);
  const pairs = Object.fromEntries(p.pairs.map((x) => [x.a.id, [x.b.id, x.shadow]]));
  t.same(pairs, { 'a1-new': ['b1', false], a2: ['b2-shadow', true], a4: ['b4-shadow', true], a5: ['b5-shadow', true] });
  t.equal(p.prompts, 4);
  t.equal(p.shadowPairs, 3);
  t.same(p.setAside, { a: 1, b: 1 });
  t.same(p.unpaired, { a: 1, b: 1 });
  t.same(p.withoutHash, { a: 1, b: 1 });
});

t.test('report --compare from a JSONL file of verdicts', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'veracity-compare-'));
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  const seed = seedVerdicts();
  const file = join(dir, 'verdicts.jsonl');
  // check writes {"id","error"} for rows it could not judge: they are passed over.
  writeFileSync(file, [...seed.verdicts.map((v) => JSON.stringify(v)), '', JSON.stringify({ id: 'x', error: 'missing field: response' })].join('\n') + '\n');
  const json = join(dir, 'c.json');
  const html = join(dir, 'c.html');
  let out = '';
  let err = '';
  const io = { out: (s: string) => void (out += s), err: (s: string) => void (err += s) };
  const code = await compareMain(['--compare', MODEL_A, MODEL_B, '--verdicts', file, '--since', '24h', '--at', String(seed.atSeconds), '--json', json, '--out', html, '--examples', '3'], io);
  t.equal(code, 0, err);
  const c = JSON.parse(readFileSync(json, 'utf8')) as Comparison;
  checkFigures(t, c, 'file');
  t.equal(c.pairing.ignored, 1, "check's error line counted");
  t.same([c.a.provider, c.b.provider], ['openai', 'anthropic']);

  t.match(out, /^Paired comparison: A = openai:gpt-4o, B = anthropic:claude-sonnet/);
  t.match(out, /hallucination\s+60\s+21\s+9\s+173\s+30\.8% \[25\.5%–36\.6%\]\s+26\.2% \[21\.3%–31\.9%\]\s+\+4\.6 pts\s+0\.04\d/);
  t.match(out, /refusal\s+2\s+1\s+7\s+253\s.*0\.070/);
  t.match(out, /gap 0\.75\s+A a-80 0\.95 · B b-80 0\.20\s+"Claim a-80/);

  const page = readFileSync(html, 'utf8');
  t.match(page, /^<!doctype html>/);
  t.match(page, /30\.8% \[25\.5%–36\.6%\] \(81\/263\)/);
  t.match(page, /Claim a-80 that the context does not support\./);
  t.notMatch(page, /<script|<link|src=|href="?https?:/i, 'self-contained');

  // Without a window, the five older pairs count too.
  out = '';
  t.equal(await compareMain(['--compare', MODEL_A, MODEL_B, '--verdicts', file, '--json', json], io), 0);
  const all = JSON.parse(readFileSync(json, 'utf8')) as Comparison;
  t.equal(all.pairing.prompts, N_PAIRS + 5);
  t.equal(all.hallucination.onlyA, 21 + 5);
  t.equal(all.since, null);
});

t.test('report --compare from Redis, through the per-model index the store writes', async (t) => {
  const { redis, client } = await startRedisWithClient(t);
  const seed = seedVerdicts();
  // The workers' store path, with bounded labels that push claude-sonnet into `other`.
  const { BoundedLabel } = await import('../src/metrics/labels.js');
  const store = new VerdictStore(client, 'cmp', 7 * 86_400, { modelLabels: new BoundedLabel([], 2) });
  for (const v of seed.verdicts) await store.putIfAbsent(v);
  const models = await store.index.models();
  t.ok(models.some((m) => m.label === 'other'), `some model indexed under other: ${JSON.stringify(models)}`);

  const dir = mkdtempSync(join(tmpdir(), 'veracity-compare-'));
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  const json = join(dir, 'c.json');
  let err = '';
  const io = { out: () => {}, err: (s: string) => void (err += s) };
  // Through `report`, as the CLI dispatches it.
  const orig = process.stdout.write.bind(process.stdout);
  let printed = '';
  process.stdout.write = ((s: string) => ((printed += s), true)) as typeof process.stdout.write;
  let code: number;
  try {
    code = await reportMain(['--compare', `openai:${MODEL_A}`, MODEL_B, '--redis', redis.url, '--prefix', 'cmp', '--at', String(seed.atSeconds), '--json', json, '--examples', '3']);
  } finally {
    process.stdout.write = orig;
  }
  t.equal(code, 0);
  t.match(printed, /Source: redis:\/\/127\.0\.0\.1:\d+ \(prefix cmp\), last 24h/);
  checkFigures(t, JSON.parse(readFileSync(json, 'utf8')) as Comparison, 'redis');

  t.equal(await compareMain(['--compare', MODEL_A, MODEL_B, '--redis', 'redis://127.0.0.1:1', '--prefix', 'cmp'], io), 1, 'unreachable Redis -> 1');
  t.match(err, /cannot reach Redis at redis:\/\/127\.0\.0\.1:1/);
});

t.test('report --compare: bad input and bad arguments', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'veracity-compare-'));
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  let err = '';
  const io = { out: () => {}, err: (s: string) => void (err += s) };
  const run = async (...args: string[]) => {
    err = '';
    return compareMain(['--compare', ...args], io);
  };
  const file = join(dir, 'v.jsonl');
  const seed = seedVerdicts();
  writeFileSync(file, `${JSON.stringify(seed.verdicts[0])}\n{"id": "cut", "provi\n`);
  t.equal(await run(MODEL_A, MODEL_B, '--verdicts', file), 1);
  t.match(err, /v\.jsonl line 2: not valid JSON/);
  writeFileSync(file, `${JSON.stringify({ id: 'x', provider: 'openai', model: 'gpt-4o', hallucination: { flagged: 'yes', score: 0.5 } })}\n`);
  t.equal(await run(MODEL_A, MODEL_B, '--verdicts', file), 1);
  t.match(err, /line 1: not a verdict \(missing or invalid: hallucination\.flagged\/score, refusal\.flagged\/score, confidence_mismatch\.flagged\/score\)/);
  t.equal(await run(MODEL_A, MODEL_B, '--verdicts', join(dir, 'missing.jsonl')), 1);
  t.match(err, /cannot read --verdicts .*missing\.jsonl: ENOENT/);

  // The same model name under two providers needs provider:name.
  const twice = [seed.verdicts[0]!, { ...seed.verdicts[0]!, id: 'other-provider', provider: 'anthropic' }];
  writeFileSync(file, twice.map((v) => JSON.stringify(v)).join('\n'));
  t.equal(await run(MODEL_A, MODEL_B, '--verdicts', file), 2);
  t.match(err, /model "gpt-4o" answered under anthropic and openai: name one, e\.g\. anthropic:gpt-4o/);
  t.equal(await run(`openai:${MODEL_A}`, MODEL_B, '--verdicts', file), 0, 'provider:name settles it');

  // Nothing paired: a clear note, exit 0.
  let out = '';
  t.equal(await compareMain(['--compare', 'nobody', 'none', '--verdicts', file], { out: (s) => void (out += s), err: () => {} }), 0);
  t.match(out, /Prompts answered by both: 0/);
  t.match(out, /nothing to compare/);

  const env = process.env.REDIS_URL;
  delete process.env.REDIS_URL;
  t.teardown(() => void (env === undefined ? delete process.env.REDIS_URL : (process.env.REDIS_URL = env)));
  t.equal(await compareMain(['--compare', 'a', 'b'], io), 2, 'no source');
  t.match(err, /give --redis URL \(or set REDIS_URL\), or --verdicts FILE/);
  t.equal(await run('a'), 2);
  t.match(err, /--compare takes two models/);
  t.equal(await run('a', 'b', 'c'), 2);
  t.equal(await run('a', 'a', '--verdicts', file), 2);
  t.match(err, /two different models/);
  t.equal(await run('a', 'b', '--verdicts', file, '--since', 'yesterday'), 2);
  t.match(err, /--since "yesterday" is not a duration/);
  t.equal(await run('a', 'b', '--verdicts', file, '--at', 'noon'), 2);
  t.equal(await run('a', 'b', '--verdicts', file, '--examples', '-1'), 2);
  t.equal(await run('a', 'b', '--verdicts', file, '--redis', 'redis://127.0.0.1:1'), 2);
  t.match(err, /not both/);
  t.equal(await run('a', 'b', '--redis', 'not a url'), 2);
  t.equal(await run('a', 'b', '--bogus'), 2);
});
