import t from 'tap';
import { Redis } from 'ioredis';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { RawExchange } from '../src/capture/raw.js';
import { loadConfig } from '../src/config/load.js';
import { ConfigSchema, type Config } from '../src/config/schema.js';
import { Judge } from '../src/judge/judge.js';
import { JudgeLabeller, parseLabelAnswer } from '../src/judge/labeller.js';
import { LabelsApi } from '../src/labels/api.js';
import { snapshotOf, LabelStore } from '../src/labels/store.js';
import { BoundedLabel } from '../src/metrics/labels.js';
import { createMetrics, type Metrics } from '../src/metrics/registry.js';
import { ConsoleData } from '../src/console/data.js';
import { buildProxy } from '../src/proxy/server.js';
import { compareMain } from '../src/report/compare/main.js';
import { moments, ppiPlusPlus, rateDifference } from '../src/report/estimators.js';
import { reportMain, type ReliabilityReport } from '../src/report/report.js';
import { aggregateKeys } from '../src/verdicts/aggregates.js';
import { VerdictStore } from '../src/verdicts/store.js';
import { analyseJob, type AnalyseDeps } from '../src/worker/analyse-job.js';
import { prng, seedLabelled } from './helpers/labelled-seed.js';
import { startRedisWithClient } from './helpers/redis.js';
import { startStack } from './helpers/stack.js';
import { until } from './helpers/wait.js';
import { chatCompletion, judgeCompletion, startUpstream, type FakeUpstream } from './helpers/upstream.js';

// The judge as labeller (labels.judge): a real Redis, a loopback judge speaking the OpenAI chat
// completions wire format, the worker's own analyseJob, and the report commands reading it all back.

const CONTEXT =
  'Answer from the context.\n\nContext:\nThe Eiffel Tower is a wrought-iron lattice tower on the Champ de Mars in Paris, France. It was designed by the company of engineer Gustave Eiffel and completed in 1889 for the World Fair.';
const FAITHFUL = 'The Eiffel Tower is in Paris. It was completed in 1889.';
const GOLD = 'The Eiffel Tower is in Paris. It was completed in 1889. It is painted gold every year.';

const raw = (id: string, text: string, model = 'gpt-judged'): RawExchange => ({
  id,
  provider: 'openai',
  route: 'chat.completions',
  request: JSON.stringify({ model, messages: [{ role: 'system', content: CONTEXT }, { role: 'user', content: 'Tell me about it.' }] }),
  response: JSON.stringify(chatCompletion(model, text)),
  contentType: 'application/json',
  status: 200,
  aborted: false,
  startedAt: Date.now() - 20,
  endedAt: Date.now() - 5,
});

interface JudgeCall {
  kind: 'label' | 'verify';
  auth?: string;
  user: string;
}

/**
 * A judge on loopback: labelling prompts (system "You label …") get `{"hallucination", "claims"}`
 * with the gold claim hallucinated; verification prompts get the claims' support. `tokens` is the
 * usage it reports, which the budget settles to.
 */
async function startJudge(t: Tap.Test, options: { tokens?: number; status?: number } = {}): Promise<{ up: FakeUpstream; calls: JudgeCall[] }> {
  const up = await startUpstream();
  t.teardown(() => up.close());
  const calls: JudgeCall[] = [];
  up.handler = (req, res, body) => {
    const json = JSON.parse(body.toString('utf8'));
    const system: string = json.messages[0].content;
    const user: string = json.messages[1].content;
    const kind = system.startsWith('You label') ? 'label' : 'verify';
    calls.push({ kind, auth: req.headers.authorization, user });
    if (options.status) {
      res.writeHead(options.status, { 'content-type': 'application/json' }).end(JSON.stringify({ error: { message: 'overloaded', type: 'server_error', param: null, code: null } }));
      return;
    }
    const claims = (user.split('Claims:\n')[1] ?? '').split('\n').filter((l) => l !== '');
    const support = claims.map((c, i) => ({ i: i + 1, support: /gold/.test(c) ? 'unsupported' : 'supported' }));
    const answer = kind === 'label' ? { hallucination: /gold/.test(user.split('Answer:')[1] ?? ''), claims: support } : { claims: support };
    const tokens = options.tokens ?? 230;
    res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify(judgeCompletion(json.model, answer, tokens)));
  };
  return { up, calls };
}

function configFor(judgeUrl: string, judge: Record<string, unknown> = {}, labels: Record<string, unknown> = {}): Config {
  return ConfigSchema.parse({
    judge: { enabled: true, url: judgeUrl, model: 'judge-small', sampleRates: { default: 0 }, tokensPerMinute: 1_000_000, ...judge },
    labels: { judge: { enabled: true, share: 1, ...labels } },
  });
}

function depsFor(config: Config, client: Parameters<typeof Judge.fromConfig>[3], metrics: Metrics = createMetrics()): AnalyseDeps & { labels: LabelStore } {
  const models = new BoundedLabel([], 10);
  const judge = Judge.fromConfig(config, { VERACITY_JUDGE_API_KEY: 'sk-judge-key' }, metrics, client)!;
  const labels = new LabelStore(client!, config.redis.prefix);
  return {
    config,
    metrics,
    store: new VerdictStore(client!, config.redis.prefix, 3600),
    models,
    judge,
    labeller: JudgeLabeller.fromConfig(config, judge, labels, metrics, models),
    aggregates: aggregateKeys(config),
    labels,
  };
}

t.test('config: the labeller needs the judge, and a share between 0 and 1', async (t) => {
  const off = ConfigSchema.parse({});
  t.same(off.labels.judge, { enabled: false, share: 0.05 }, 'off by default');
  const alone = ConfigSchema.safeParse({ labels: { judge: { enabled: true } } });
  t.notOk(alone.success);
  t.match(JSON.stringify(alone.error?.issues), /labels.*judge.*enabled.*needs the judge/);
  t.notOk(ConfigSchema.safeParse({ judge: { enabled: true }, labels: { judge: { enabled: true, share: 1.5 } } }).success);
  t.equal(JudgeLabeller.fromConfig(ConfigSchema.parse({ judge: { enabled: true } }), Judge.fromConfig(ConfigSchema.parse({ judge: { enabled: true } }), {}), {} as LabelStore), undefined, 'judge on, labeller off: none');
});

t.test("the judge's answer becomes a label: as it said, or from every claim it read", async (t) => {
  t.same(parseLabelAnswer('{"hallucination": true, "claims":[{"i":1,"support":"supported"},{"i":2,"support":"contradicted"}]}', [0, 3]), {
    hallucination: true,
    claims: [
      { index: 0, hallucinated: false },
      { index: 3, hallucinated: true },
    ],
  });
  t.same(parseLabelAnswer('Here: {"claims":[{"i":1,"support":"supported"},{"i":2,"support":"unsupported"}]}', [0, 1]), { hallucination: true, claims: [{ index: 0, hallucinated: false }, { index: 1, hallucinated: true }] }, 'derived from all claims');
  t.equal(parseLabelAnswer('{"claims":[{"i":1,"support":"supported"}]}', [0, 1]), undefined, 'one of two claims read and no verdict: no label');
  t.same(parseLabelAnswer('{"hallucination": false}', []), { hallucination: false, claims: [] }, 'an answer without claims');
  t.equal(parseLabelAnswer('{"hallucination": "maybe"}', []), undefined);
  t.equal(parseLabelAnswer('not json', [0]), undefined);
});

t.test('a stable, uniformly random share is labelled by judge:<model>, apart from the verification sample, and reported apart', async (t) => {
  const { redis, client } = await startRedisWithClient(t);
  const { up, calls } = await startJudge(t);
  const SHARE = 0.2;
  // The judge also verifies a 20% sample: were both chosen by the same hash, they would coincide.
  const config = configFor(up.url, { sampleRates: { default: SHARE } }, { share: SHARE });
  const deps = depsFor(config, client);
  const N = 300;
  const ids = Array.from({ length: N }, (_, i) => `jl-${i}`);
  const rand = prng(21);
  const gold = new Set(ids.filter(() => rand() < 0.3));
  const results: string[] = [];
  for (const id of ids) results.push(await analyseJob(raw(id, gold.has(id) ? GOLD : FAITHFUL), deps));
  t.same(results, Array(N).fill('stored'), 'every exchange stored');

  const labelled = (await deps.labels.forModel('judge', 'openai', 'gpt-judged', 0, Date.now() + 1000)).sort((a, b) => Number(a.id.slice(3)) - Number(b.id.slice(3)));
  const n = labelled.length;
  // Binomial(300, 0.2): mean 60, sd 6.9.
  t.ok(n >= 40 && n <= 80, `${n} of ${N} labelled by the judge (share ${SHARE})`);
  t.equal(calls.filter((c) => c.kind === 'label').length, n, 'one judge call per label');
  t.same(labelled.map((l) => l.id), ids.filter((id) => deps.labeller!.picks(id)), 'exactly the ids the stable hash picks: a rerun picks the same');
  t.same(await deps.labels.forModel('human', 'openai', 'gpt-judged', 0, Date.now() + 1000), [], "no label among people's");

  const verifiedIds = new Set<string>();
  for (const id of ids) if (JSON.parse((await client.get(`veracity:verdict:${id}`))!).judge) verifiedIds.add(id);
  t.ok(verifiedIds.size >= 40 && verifiedIds.size <= 80, `${verifiedIds.size} verified by the judge`);
  const both = labelled.filter((l) => verifiedIds.has(l.id)).length;
  // Independent samples overlap on about 0.2 · 0.2 · 300 = 12; the same sample would on all ~60.
  t.ok(both < 30, `${both} exchanges in both samples: the labelled sample is independent of the verified one`);

  t.ok(labelled.every((l) => l.by === 'judge:judge-small' && l.selection === 'random'), 'random labels by judge:judge-small');
  t.same(labelled.map((l) => l.hallucination), labelled.map((l) => gold.has(l.id)), "each the judge's reading");
  t.ok(labelled.some((l) => l.hallucination) && labelled.some((l) => !l.hallucination), 'both readings among them');
  const first = labelled[0]!;
  const stored = JSON.parse((await client.get(`veracity:verdict:${first.id}`))!);
  t.same(first.verdict, snapshotOf(stored), "the label carries the stored verdict's snapshot");
  t.ok(first.claims && first.claims.length === stored.hallucination.claims.length, 'claim labels by index');
  t.ok(calls.every((c) => c.auth === 'Bearer sk-judge-key'), "the judge's key from its variable");
  const text = await deps.metrics.registry.metrics();
  t.match(text, new RegExp(`veracity_labels_total\\{provider="openai",model="gpt-judged",by="judge:judge-small",selection="random"\\} ${n}`));
  t.match(text, new RegExp(`veracity_judge_labels_total\\{result="stored"\\} ${n}`));

  // The report: no person labelled, so the verified rate is the judge's and says so; the judge's
  // own estimate is there apart, and the calibration heading names the judge.
  const dir = mkdtempSync(join(tmpdir(), 'veracity-judge-labels-'));
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  const errs: string[] = [];
  const orig = console.error;
  console.error = (...a: unknown[]) => void errs.push(a.join(' '));
  let code: number;
  try {
    code = await reportMain(['--since', '1h', '--source', 'redis', '--redis', redis.url, '--out', join(dir, 'r.html'), '--json', join(dir, 'r.json')]);
  } finally {
    console.error = orig;
  }
  t.equal(code, 0, errs.join('\n'));
  const row = (JSON.parse(readFileSync(join(dir, 'r.json'), 'utf8')) as ReliabilityReport).models.find((m) => m.model === 'gpt-judged')!;
  t.equal(row.verified!.method, 'ppi');
  t.equal(row.verified!.by, 'judge', "the estimate says it used the judge's labels");
  t.equal(row.verified!.labels, n);
  t.match(row.verified!.note, /no random labels from people.*judge:judge-small/);
  t.equal(row.verifiedJudge!.by, 'judge');
  t.equal(row.verifiedJudge!.labels, n);
  t.equal(row.verifiedJudge!.rate, row.verified!.rate);
  t.same(row.verifiedJudge!.agreement, { both: 0, agree: 0 });
  const html = readFileSync(join(dir, 'r.html'), 'utf8');
  t.match(html, /judge-labelled estimate/);
  t.match(html, /openai\/gpt-judged \(judge&#39;s labels: judge:judge-small\)|openai\/gpt-judged \(judge's labels: judge:judge-small\)/);
});

t.test('never twice: an exchange the judge labelled is not labelled again; people\'s labels do not stop it', async (t) => {
  const { client } = await startRedisWithClient(t);
  const { up, calls } = await startJudge(t);
  const config = configFor(up.url);
  const deps = depsFor(config, client);
  const api = new LabelsApi({ labels: deps.labels, verdicts: deps.store });

  t.equal(await analyseJob(raw('once-1', GOLD), deps), 'stored');
  t.equal(calls.length, 1);
  const v = (await deps.store.get('once-1'))!;
  t.equal(await deps.labeller!.label({} as never, v), 'exists', 'a second try finds the label');
  t.equal(calls.length, 1, 'and does not call the judge');
  t.equal(await analyseJob(raw('once-1', GOLD), deps), 'duplicate', 'a retried job stores nothing, labels nothing');
  t.equal(calls.length, 1);

  // A person labelled it first: the judge labels it too, kept apart.
  const other = depsFor(ConfigSchema.parse({ judge: { enabled: true, url: up.url, model: 'judge-small', sampleRates: { default: 0 } } }), client);
  t.equal(await analyseJob(raw('once-2', FAITHFUL), other), 'stored', 'stored without the labeller');
  t.equal((await api.post({ id: 'once-2', hallucination: true, by: 'ana' })).status, 200);
  const v2 = (await deps.store.get('once-2'))!;
  const exchange = { response: { text: FAITHFUL }, context: [{ source: 'system', text: CONTEXT }], question: 'Tell me about it.' } as never;
  t.equal(await deps.labeller!.label(exchange, v2), 'stored');
  t.equal((await deps.labels.get('human', 'once-2'))!.hallucination, true, "the person's label stands");
  t.equal((await deps.labels.get('judge', 'once-2'))!.hallucination, false, "the judge's is its own");
});

t.test('a spent budget (one, in Redis, for every worker) stops judge labelling and fails nothing', async (t) => {
  const { client } = await startRedisWithClient(t);
  // Each call reports 600 tokens; 900 a minute lets one through, not two.
  const { up, calls } = await startJudge(t, { tokens: 600 });
  const config = configFor(up.url, { tokensPerMinute: 900 });
  const a = depsFor(config, client);
  const b = depsFor(config, client);
  const results: string[] = [];
  for (let i = 0; i < 12; i++) results.push(await analyseJob(raw(`budget-${i}`, GOLD), i % 2 === 0 ? a : b));
  t.same(results, Array(12).fill('stored'), 'every exchange analysed and stored');
  const labels = await a.labels.forModel('judge', 'openai', 'gpt-judged', 0, Date.now() + 1000);
  // One label; two only if the minute turned over during the test.
  t.ok(labels.length >= 1 && labels.length <= 2, `${labels.length} labelled within the budget`);
  t.equal(calls.length, labels.length, 'no call over the budget');
  const over = async (m: Metrics) => Number((await m.registry.metrics()).match(/veracity_judge_labels_total\{result="over_budget"\} (\d+)/)?.[1] ?? 0);
  t.ok((await over(b.metrics)) >= 5, "the second worker found the first one's spending in Redis");
  t.equal((await over(a.metrics)) + (await over(b.metrics)), 12 - labels.length, 'every other one counted over budget');
});

t.test('a failing judge leaves no label and the verdict stored', async (t) => {
  const { client } = await startRedisWithClient(t);
  const { up } = await startJudge(t, { status: 500 });
  const deps = depsFor(configFor(up.url), client);
  t.equal(await analyseJob(raw('fail-1', GOLD), deps), 'stored');
  t.equal(await deps.labels.get('judge', 'fail-1'), undefined);
  t.match(await deps.metrics.registry.metrics(), /veracity_judge_labels_total\{result="error"\} 1/);
  const down = depsFor(configFor('http://127.0.0.1:9', { timeoutMs: 1000 }), client);
  t.equal(await analyseJob(raw('fail-2', GOLD), down), 'stored', 'an unreachable judge: the same');
  t.equal(await deps.labels.get('judge', 'fail-2'), undefined);
});

t.test("report and compare: people's labels make the estimate, the judge's stand apart, differences never mix them", async (t) => {
  const { redis, client } = await startRedisWithClient(t);
  const A = { provider: 'openai' as const, model: 'gpt-people', checks: 300, trueRate: 0.3, randomLabels: 60, feedbackLabels: 0 };
  const C = { provider: 'openai' as const, model: 'gpt-judge-only', checks: 200, trueRate: 0.2, randomLabels: 1, feedbackLabels: 0 };
  const seeded = await seedLabelled(client, 'veracity', [A, C]);
  const [ma, mc] = seeded.models as [(typeof seeded.models)[0], (typeof seeded.models)[0]];
  // The judge labels its own random sample of each (some overlapping people's), agreeing with the
  // detector rather than the truth: its estimate must differ from people's and never join it.
  const api = new LabelsApi({ labels: new LabelStore(client, 'veracity'), verdicts: new VerdictStore(client, 'veracity', 3600) });
  const judgeSample = (m: typeof ma) => m.ids.map((_, i) => i).filter((i) => i % 4 === 1 || i % 4 === 2);
  for (const m of [ma, mc]) {
    const body = judgeSample(m).map((i) => ({ id: m.ids[i]!, hallucination: m.scores[i]! >= 0.5, by: 'judge:judge-small' }));
    t.equal((await api.post(body)).status, 200);
  }
  const dir = mkdtempSync(join(tmpdir(), 'veracity-judge-apart-'));
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  const orig = console.error;
  console.error = () => {};
  let code: number;
  try {
    code = await reportMain(['--since', '1h', '--source', 'redis', '--redis', redis.url, '--out', join(dir, 'r.html'), '--json', join(dir, 'r.json')]);
  } finally {
    console.error = orig;
  }
  t.equal(code, 0);
  const report = JSON.parse(readFileSync(join(dir, 'r.json'), 'utf8')) as ReliabilityReport;
  const people = report.models.find((m) => m.model === A.model)!;
  const human = ppiPlusPlus(ma.random.map((i) => ({ score: ma.scores[i]!, label: ma.truth[i]! })), moments(ma.scores))!;
  const judgeA = ppiPlusPlus(judgeSample(ma).map((i) => ({ score: ma.scores[i]!, label: ma.scores[i]! >= 0.5 })), moments(ma.scores))!;
  t.equal(people.verified!.by, 'human');
  t.equal(people.verified!.labels, A.randomLabels, "people's labels only");
  t.ok(Math.abs(people.verified!.rate! - human.rate) < 1e-9, "the estimate is people's alone");
  t.equal(people.verifiedJudge!.labels, judgeSample(ma).length);
  t.ok(Math.abs(people.verifiedJudge!.rate! - judgeA.rate) < 1e-9, "the judge's estimate is the judge's alone");
  t.notOk(Math.abs(judgeA.rate - human.rate) < 1e-6, 'and they differ');
  const overlap = ma.random.filter((i) => i % 4 === 1 || i % 4 === 2);
  t.same(people.verifiedJudge!.agreement, { both: overlap.length, agree: overlap.filter((i) => (ma.scores[i]! >= 0.5) === ma.truth[i]).length }, 'agreement with people where both labelled');
  t.notOk('judge' in people.verified!, 'no judge figures inside the contract field');

  const judgeOnly = report.models.find((m) => m.model === C.model)!;
  const judgeC = ppiPlusPlus(judgeSample(mc).map((i) => ({ score: mc.scores[i]!, label: mc.scores[i]! >= 0.5 })), moments(mc.scores))!;
  t.equal(judgeOnly.verified!.by, 'judge');
  t.same(judgeOnly.verified!.judges, ['judge:judge-small']);
  t.ok(Math.abs(judgeOnly.verified!.rate! - judgeC.rate) < 1e-9);
  t.match(judgeOnly.verified!.note, /only 1 random label from people.*judge/);
  t.equal(judgeOnly.verifiedJudge!.labels, judgeSample(mc).length);
  const html = readFileSync(join(dir, 'r.html'), 'utf8');
  t.match(html, /kept apart from people/);
  t.match(html, /judge agrees with people/);

  // Compare: one model has people's estimate, the other only the judge's: the difference is the
  // judges' on both sides, and says so.
  const out: string[] = [];
  const cmp = await compareMain(['--compare', A.model, C.model, '--since', '1h', '--redis', redis.url, '--json', join(dir, 'c.json'), '--out', join(dir, 'c.html')], {
    out: (s) => void out.push(s),
    err: (s) => void out.push(s),
  });
  t.equal(cmp, 0, out.join(''));
  const c = JSON.parse(readFileSync(join(dir, 'c.json'), 'utf8'));
  const d = rateDifference(judgeA, judgeC);
  t.equal(c.verified.difference.by, 'judge');
  t.ok(Math.abs(c.verified.difference.difference - d.difference) < 1e-9, "the judge's estimates on both sides");
  t.equal(c.verified.a.verified.by, 'human');
  t.equal(c.verified.b.verified.by, 'judge');
  t.match(out.join(''), /A − B \(judge's labels\)/);
  t.match(out.join(''), /judge-labelled, apart/);
});

t.test("the console: the overview and the review queue show the judge's labels apart from people's", async (t) => {
  const { client } = await startRedisWithClient(t);
  const dead = 'http://127.0.0.1:9';
  const { config } = loadConfig({ env: { PORT: '0', VERACITY_OPENAI_UPSTREAM: dead, VERACITY_ANTHROPIC_UPSTREAM: dead } });
  const seeded = await seedLabelled(client, config.redis.prefix, [
    { provider: 'openai', model: 'gpt-people', checks: 40, trueRate: 0.3, randomLabels: 6, feedbackLabels: 0 },
    { provider: 'openai', model: 'gpt-judged', checks: 40, trueRate: 0.3, randomLabels: 1, feedbackLabels: 0 },
  ]);
  const store = new VerdictStore(client, config.redis.prefix, config.verdicts.ttlSeconds);
  const labels = new LabelsApi({ labels: new LabelStore(client, config.redis.prefix), verdicts: store });
  for (const m of seeded.models) {
    const body = m.ids.filter((_, i) => i % 3 === 0).map((id, k) => ({ id, hallucination: k % 2 === 0, by: 'judge:judge-small' }));
    t.equal((await labels.post(body)).status, 200);
  }
  const app = buildProxy({ config, metrics: createMetrics(), store, console: new ConsoleData(client, config), labels, logger: false }).app;
  t.teardown(() => app.close());
  const review = await app.inject({ method: 'GET', url: '/veracity/review?range=1h', remoteAddress: '127.0.0.1' });
  t.equal(review.statusCode, 200);
  const row = (model: string, body: string) => body.match(new RegExp(`<tr data-model="openai/${model}">[\\s\\S]*?</tr>`))?.[0] ?? '';
  t.match(row('gpt-people', review.body), /data-field="labels">6<\/td>/, "people's labels counted alone");
  t.match(row('gpt-people', review.body), /data-field="verified" data-by="human"/);
  t.match(row('gpt-people', review.body), /data-field="judge-labels">14<\/td>/, "the judge's apart");
  t.match(row('gpt-judged', review.body), /data-field="verified" data-by="judge"/);
  t.match(row('gpt-judged', review.body), /from the judge&#39;s labels: none by people yet|from the judge's labels: none by people yet/);
  t.match(review.body, /judge-labelled rate/);
  const overview = await app.inject({ method: 'GET', url: '/veracity/?range=1h', remoteAddress: '127.0.0.1' });
  t.match(overview.body, /data-field="verified"><b>[\d.]+%<\/b><small>6 random labels<\/small>/);
  t.match(overview.body, /data-field="verified-judge">judge: [\d.]+% \(14 labels\)/);
  t.match(overview.body, /14 random labels by the judge, none by people/);
});

t.test('through serve: a proxied exchange is analysed, then labelled by the judge', async (t) => {
  const judged: string[] = [];
  const stack = await startStack(t, {
    overrides: (raw, upstream) => {
      raw.judge = { enabled: true, url: upstream.url, model: 'judge-small', sampleRates: { default: 0 } };
      raw.labels = { judge: { enabled: true, share: 1 } };
      upstream.handler = (req, res, body) => {
        const json = JSON.parse(body.toString('utf8'));
        if (json.model !== 'judge-small') return upstream.answer(req, res, body);
        judged.push(json.messages[0].content);
        res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ ...chatCompletion('judge-small', '{"hallucination": true}') }));
      };
    },
  });
  const res = await fetch(`${stack.proxy.url}/v1/chat/completions`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ model: 'gpt-e2e', messages: [{ role: 'system', content: CONTEXT }, { role: 'user', content: 'Tell me about it.' }] }),
  });
  t.equal(res.status, 200);
  await res.text();
  const id = res.headers.get('x-veracity-id')!;
  const client = new Redis(stack.redis.url);
  t.teardown(() => client.disconnect());
  const label = await until('the judge label', 20_000, () => new LabelStore(client, 'veracity').get('judge', id));
  t.match(label, { id, by: 'judge:judge-small', selection: 'random', hallucination: true, verdict: { model: 'gpt-e2e', traffic: 'primary' } });
  t.equal(judged.length, 1, 'one labelling call');
  t.match(judged[0], /^You label/);
});
