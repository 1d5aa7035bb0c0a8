import t from 'tap';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { ConfigSchema } from '../src/config/schema.js';
import { createMetrics } from '../src/metrics/registry.js';
import { BoundedLabel } from '../src/metrics/labels.js';
import { VerdictStore } from '../src/verdicts/store.js';
import { analyseJob } from '../src/worker/analyse-job.js';
import { Judge, inSample, parseJudgeAnswer } from '../src/judge/judge.js';
import type { RawExchange } from '../src/capture/raw.js';
import { startRedisWithClient } from './helpers/redis.js';
import { chatCompletion, judgeCompletion } from './helpers/upstream.js';

const CONTEXT =
  'Answer from the context.\n\nContext:\nThe Eiffel Tower is a wrought-iron lattice tower on the Champ de Mars in Paris, France. It was designed by the company of engineer Gustave Eiffel and completed in 1889 for the World Fair.';

const raw = (id: string): RawExchange => ({
  id,
  provider: 'openai',
  route: 'chat.completions',
  request: JSON.stringify({ model: 'gpt-judged', messages: [{ role: 'system', content: CONTEXT }, { role: 'user', content: 'Tell me about it.' }] }),
  response: JSON.stringify(chatCompletion('gpt-judged', 'The Eiffel Tower is in Paris. It was completed in 1889. It is painted gold every year.')),
  contentType: 'application/json',
  status: 200,
  aborted: false,
  startedAt: Date.now() - 20,
  endedAt: Date.now() - 5,
});

t.test('answers are parsed leniently and strictly at once', async (t) => {
  t.same(parseJudgeAnswer('Sure! {"claims":[{"i":1,"support":"Supported"},{"i":2,"support":"contradicted"},{"i":9,"support":"supported"},{"i":3,"support":"maybe"}]}', 3), [
    { index: 0, support: 'supported' },
    { index: 1, support: 'contradicted' },
  ]);
  t.equal(parseJudgeAnswer('no json here', 2), undefined);
  t.equal(parseJudgeAnswer('{"claims": "x"}', 2), undefined);
});

t.test('sampling is stable per exchange and close to the rate', async (t) => {
  const ids = Array.from({ length: 4000 }, (_, i) => `ex-${i}`);
  const share = ids.filter((id) => inSample(id, 0.25)).length / ids.length;
  t.ok(share > 0.22 && share < 0.28, `share ${share}`);
  t.same(ids.map((id) => inSample(id, 0.25)), ids.map((id) => inSample(id, 0.25)));
  t.notOk(inSample('x', 0));
  t.ok(inSample('x', 1));
});

t.test('the judge merges into the verdict with provenance, within its token budget', async (t) => {
  const seen: Array<{ auth?: string; body: any }> = [];
  const fake = createServer((req, res) => {
    let body = '';
    req.on('data', (d) => (body += d));
    req.on('end', () => {
      const json = JSON.parse(body);
      seen.push({ auth: req.headers.authorization, body: json });
      const claims = (json.messages[1].content as string).split('Claims:\n')[1]!.split('\n');
      const verdicts = claims.map((c, i) => ({ i: i + 1, support: /gold/.test(c) ? 'unsupported' : 'supported' }));
      res.writeHead(200, { 'content-type': 'application/json' }).end(
        JSON.stringify(judgeCompletion(json.model, { claims: verdicts }, 230)),
      );
    });
  });
  await new Promise<void>((r) => fake.listen(0, '127.0.0.1', () => r()));
  t.teardown(() => fake.close());
  const { client } = await startRedisWithClient(t);

  const config = ConfigSchema.parse({
    judge: { enabled: true, url: `http://127.0.0.1:${(fake.address() as AddressInfo).port}`, model: 'judge-small', sampleRates: { 'gpt-judged': 1, default: 0 }, tokensPerMinute: 700, weight: 0.5 },
  });
  const metrics = createMetrics();
  const judge = Judge.fromConfig(config, { VERACITY_JUDGE_API_KEY: 'sk-judge-key' }, metrics)!;
  const deps = { config, metrics, store: new VerdictStore(client, 'veracity', 60), models: new BoundedLabel([], 10), judge };

  t.equal(await analyseJob(raw('judged-1'), deps), 'stored');
  const v = JSON.parse((await client.get('veracity:verdict:judged-1'))!);
  t.equal(seen.length, 1, 'one judge call');
  t.equal(seen[0]!.auth, 'Bearer sk-judge-key', 'the judge key from its environment variable');
  t.equal(seen[0]!.body.model, 'judge-small');
  t.match(v.provenance, ['heuristic'], 'local detectors listed');
  t.ok(v.provenance.includes('judge:judge-small'), 'judge listed in provenance');
  t.equal(v.judge.model, 'judge-small');
  const gold = v.hallucination.claims.find((c: { text: string }) => /gold/.test(c.text));
  t.equal(gold.judge, 'unsupported', "the judge's reading is on the claim");
  t.ok(v.hallucination.claims.filter((c: { judge?: string }) => c.judge === 'supported').length >= 1);

  // Budget: 700 tokens a minute lets one call of this size through, not a second.
  await analyseJob(raw('judged-2'), deps);
  t.equal(seen.length, 1, 'over budget: not called again');
  const v2 = JSON.parse((await client.get('veracity:verdict:judged-2'))!);
  t.notOk(v2.judge, 'verdict without a judge part');
  const text = await metrics.registry.metrics();
  t.match(text, /veracity_judge_requests_total\{result="over_budget"\} 1/);
  t.match(text, /veracity_judge_requests_total\{result="ok"\} 1/);
});

t.test('a failing judge leaves the local verdict as it was', async (t) => {
  const config = ConfigSchema.parse({ judge: { enabled: true, url: 'http://127.0.0.1:9', sampleRates: { default: 1 }, timeoutMs: 1000 } });
  const metrics = createMetrics();
  const { client } = await startRedisWithClient(t);
  const judge = Judge.fromConfig(config, {}, metrics)!;
  t.equal(await analyseJob(raw('judged-3'), { config, metrics, store: new VerdictStore(client, 'veracity', 60), models: new BoundedLabel([], 10), judge }), 'stored');
  const v = JSON.parse((await client.get('veracity:verdict:judged-3'))!);
  t.notOk(v.judge);
  t.match(await metrics.registry.metrics(), /veracity_judge_requests_total\{result="error"\} 1/);
});
