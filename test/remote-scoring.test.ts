import t from 'tap';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { ConfigSchema } from '../src/config/schema.js';
import { normalise } from '../src/capture/index.js';
import type { RawExchange } from '../src/capture/raw.js';
import { analyse } from '../src/detect/index.js';
import type { Verdict } from '../src/detect/verdict.js';
import { createMetrics } from '../src/metrics/registry.js';
import { BoundedLabel } from '../src/metrics/labels.js';
import { RemoteScorer, passageFor } from '../src/remote/scorer.js';
import { MalformedPrediction, parsePredictions } from '../src/remote/tei.js';
import { VerdictStore } from '../src/verdicts/store.js';
import { analyseJob } from '../src/worker/analyse-job.js';
import { startRedisWithClient } from './helpers/redis.js';
import { chatCompletion } from './helpers/upstream.js';

const CONTEXT =
  'Answer from the context.\n\nContext:\nThe Eiffel Tower is a wrought-iron lattice tower on the Champ de Mars in Paris, France. It was designed by the company of engineer Gustave Eiffel and completed in 1889 for the World Fair. It is repainted every seven years.';
const ANSWER = 'The Eiffel Tower is in Paris. It was completed in 1889. It was designed by Gustave Eiffel. It is repainted every seven years. It is painted gold every year.';

const raw = (id: string, answer = ANSWER): RawExchange => ({
  id,
  provider: 'openai',
  route: 'chat.completions',
  request: JSON.stringify({ model: 'gpt-remote', messages: [{ role: 'system', content: CONTEXT }, { role: 'user', content: 'Tell me about it.' }] }),
  response: JSON.stringify(chatCompletion('gpt-remote', answer)),
  contentType: 'application/json',
  status: 200,
  aborted: false,
  startedAt: Date.now() - 20,
  endedAt: Date.now() - 5,
});

type Predictions = Array<{ label: string; score: number }>;
/** What an NLI model behind TEI would say: the gold claim is contradicted, the rest entailed. */
function nli(claim: string): Predictions {
  return /gold/.test(claim)
    ? [{ label: 'contradiction', score: 0.9 }, { label: 'neutral', score: 0.08 }, { label: 'entailment', score: 0.02 }]
    : [{ label: 'entailment', score: 0.97 }, { label: 'neutral', score: 0.02 }, { label: 'contradiction', score: 0.01 }];
}

interface Seen {
  auth?: string;
  body: { inputs: Array<[string, string]>; truncate?: boolean };
}

/** A loopback text-embeddings-inference `/predict` endpoint; `behave` can answer otherwise. */
async function teiServer(t: { teardown(fn: () => unknown): void }, behave?: (req: IncomingMessage, res: ServerResponse, body: Seen['body']) => boolean) {
  const seen: Seen[] = [];
  const server = createServer((req, res) => {
    let text = '';
    req.on('data', (d) => (text += d));
    req.on('end', () => {
      if (req.method !== 'POST' || req.url !== '/predict') {
        res.writeHead(404).end();
        return;
      }
      const body = JSON.parse(text) as Seen['body'];
      seen.push({ auth: req.headers.authorization, body });
      if (behave?.(req, res, body)) return;
      // TEI answers a batch with one list per input, and a single input with its list alone.
      const lists = body.inputs.map(([, claim]) => nli(claim));
      res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify(lists.length === 1 ? lists[0] : lists));
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
  t.teardown(() => new Promise<void>((r) => server.close(() => r())));
  return { url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, seen };
}

const configFor = (url: string, remote: Record<string, unknown> = {}) => ConfigSchema.parse({ detect: { remote: { enabled: true, url, ...remote } } });

function localVerdict(id: string): { exchange: ReturnType<typeof normalise>['exchange']; verdict: Verdict } {
  const config = ConfigSchema.parse({});
  const { exchange } = normalise(raw(id), { maxResponseChars: config.detect.maxResponseChars, maxContextChars: config.detect.maxContextChars });
  return { exchange, verdict: analyse(exchange, config.detect) };
}

t.test('the /predict answer in both of its shapes, and what is not one', async (t) => {
  t.same(parsePredictions([[{ label: 'ENTAILMENT', score: 0.9 }, { label: 'contradiction', score: 0.1 }], [{ label: 'entailment', score: 0.2 }]], 2, 'entailment', 'contradiction'), [
    { supported: 0.9, contradicted: 0.1, top: 'ENTAILMENT' },
    { supported: 0.2, top: 'entailment' },
  ]);
  t.same(parsePredictions([{ label: 'consistent', score: 0.7 }, { label: 'hallucinated', score: 0.3 }], 1, 'consistent'), [{ supported: 0.7, top: 'consistent' }], 'a single input answered with its list alone');
  t.throws(() => parsePredictions({ error: 'x' }, 1, 'entailment'), MalformedPrediction);
  t.throws(() => parsePredictions([[{ label: 'entailment', score: 0.5 }]], 2, 'entailment'), /expected 2 predictions, got 1/);
  t.throws(() => parsePredictions([[{ label: 'LABEL_0', score: 0.5 }]], 1, 'entailment'), /no label "entailment" \(labels: LABEL_0\)/);
  t.throws(() => parsePredictions([[{ label: 'entailment', score: 7 }]], 1, 'entailment'), /not a list of \{label, score\}/);
  t.throws(() => parsePredictions([], 1, 'entailment'), MalformedPrediction);
});

t.test('the passage sent with a claim is the window around its evidence', async (t) => {
  const ctx = `${'a'.repeat(5000)} The tower is 330 metres tall. ${'b'.repeat(5000)}`;
  const p = passageFor(ctx, 'The tower is 330 metres tall.', 200);
  t.equal(p.length, 200);
  t.ok(p.includes('The tower is 330 metres tall.'));
  t.equal(passageFor('short', 'x', 200), 'short');
  t.equal(passageFor(ctx, undefined, 100), ctx.slice(0, 100));
});

t.test('scores are merged by weight, in batches, with provenance and failure modes', async (t) => {
  const tei = await teiServer(t);
  const config = configFor(tei.url, { batchSize: 2, weight: 0.5, name: 'nli-test' });
  const metrics = createMetrics();
  const scorer = RemoteScorer.fromConfig(config, { VERACITY_REMOTE_API_KEY: 'rk-secret-key' }, metrics)!;
  const { exchange, verdict } = localVerdict('remote-1');
  const local = structuredClone(verdict);
  const claims = local.hallucination.claims.length;
  t.equal(claims, 5, 'five claims');

  await scorer.apply(exchange, verdict, config.detect);
  t.equal(tei.seen.length, 3, '5 claims in batches of 2: three requests');
  t.same(tei.seen.map((s) => s.body.inputs.length), [2, 2, 1]);
  t.equal(tei.seen[0]!.auth, 'Bearer rk-secret-key', 'the key from its environment variable');
  t.ok(tei.seen.every((s) => s.body.inputs.every(([passage, claim]) => passage.includes('Eiffel') && typeof claim === 'string')), 'pairs are (context passage, claim)');
  t.ok(verdict.provenance?.includes('remote:nli-test'), 'provenance says so');
  t.same(verdict.remote, { name: 'nli-test', score: 0.98, claims: 5 });

  for (const [i, c] of verdict.hallucination.claims.entries()) {
    const before = local.hallucination.claims[i]!;
    const r = /gold/.test(c.text) ? 0.98 : 0.03;
    t.equal(c.remote, r, `remote part on "${c.text}"`);
    t.ok(Math.abs(c.score - (0.5 * before.score + 0.5 * r)) <= 0.0015, `claim score is the weighted blend (${before.score} → ${c.score})`);
    if (c.support === 'supported') t.equal(c.failure_mode, undefined);
    else t.ok(c.failure_mode, `${c.support} claim carries a failure mode`);
  }
  const gold = verdict.hallucination.claims.find((c) => /gold/.test(c.text))!;
  t.equal(gold.support, 'contradicted', 'the model contradicts it');
  t.ok(Math.abs(verdict.hallucination.score - (0.5 * local.hallucination.score + 0.5 * 0.98)) <= 0.0015 || verdict.hallucination.score === config.detect.hallucinationThreshold);
  t.equal(verdict.hallucination.flagged, verdict.hallucination.score >= config.detect.hallucinationThreshold);
  t.match(await metrics.registry.metrics(), /veracity_remote_requests_total\{result="ok"\} 3/);
  t.notMatch(JSON.stringify(verdict), /rk-secret-key/, 'the key is in no verdict');
});

t.test('a failing endpoint leaves the local verdict, counted by reason', async (t) => {
  const cases: Array<[string, (req: IncomingMessage, res: ServerResponse, body: Seen['body']) => boolean, string]> = [
    ['5xx', (_q, res) => (res.writeHead(503, { 'content-type': 'application/json' }).end('{"error":"Model is overloaded","error_type":"overloaded"}'), true), 'http_error'],
    ['not JSON', (_q, res) => (res.writeHead(200, { 'content-type': 'application/json' }).end('<html>oops'), true), 'malformed'],
    ['wrong shape', (_q, res) => (res.writeHead(200, { 'content-type': 'application/json' }).end('{"predictions":[]}'), true), 'malformed'],
    ['labels the config does not name', (_q, res, body) => (res.writeHead(200).end(JSON.stringify(body.inputs.map(() => [{ label: 'LABEL_1', score: 0.6 }, { label: 'LABEL_0', score: 0.4 }]))), true), 'malformed'],
    ['too few predictions', (_q, res) => (res.writeHead(200).end(JSON.stringify([nli('x')])), true), 'malformed'],
    ['slower than the timeout', (_q, res) => (setTimeout(() => res.writeHead(200).end('[]'), 1500).unref(), true), 'timeout'],
    ['reset', (req) => (req.socket.destroy(), true), 'unreachable'],
  ];
  for (const [what, behave, reason] of cases) {
    const tei = await teiServer(t, behave);
    const config = configFor(tei.url, { timeoutMs: 300, batchSize: 8 });
    const metrics = createMetrics();
    const scorer = RemoteScorer.fromConfig(config, {}, metrics)!;
    const { exchange, verdict } = localVerdict(`remote-${reason}`);
    const local = structuredClone(verdict);
    const started = Date.now();
    await scorer.apply(exchange, verdict, config.detect);
    t.same(verdict, local, `${what}: the local verdict is left as it was`);
    t.ok(Date.now() - started < 1200, `${what}: bounded in time`);
    t.match(await metrics.registry.metrics(), new RegExp(`veracity_remote_requests_total\\{result="${reason}"\\} 1`), `${what}: counted as ${reason}`);
  }

  // Nothing listening.
  const config = configFor('http://127.0.0.1:9', { timeoutMs: 1000 });
  const metrics = createMetrics();
  const { exchange, verdict } = localVerdict('remote-refused');
  const local = structuredClone(verdict);
  await RemoteScorer.fromConfig(config, {}, metrics)!.apply(exchange, verdict, config.detect);
  t.same(verdict, local);
  t.match(await metrics.registry.metrics(), /veracity_remote_requests_total\{result="unreachable"\} 1/);
});

t.test('within its token budget, and only for grounded exchanges', async (t) => {
  const tei = await teiServer(t);
  // About 600 estimated tokens per exchange of this size: one fits in 700, a second does not.
  const config = configFor(tei.url, { tokensPerMinute: 700 });
  const metrics = createMetrics();
  const scorer = RemoteScorer.fromConfig(config, {}, metrics)!;
  const a = localVerdict('remote-budget-1');
  await scorer.apply(a.exchange, a.verdict, config.detect);
  const b = localVerdict('remote-budget-2');
  const local = structuredClone(b.verdict);
  await scorer.apply(b.exchange, b.verdict, config.detect);
  t.equal(tei.seen.length, 1, 'over budget: not called');
  t.same(b.verdict, local);
  t.match(await metrics.registry.metrics(), /veracity_remote_requests_total\{result="over_budget"\} 1/);

  const ungrounded = normalise({ ...raw('remote-none'), request: JSON.stringify({ model: 'gpt-remote', messages: [{ role: 'user', content: 'Tell me about the Eiffel Tower.' }] }) }, { maxResponseChars: 20000, maxContextChars: 200000 }).exchange;
  const v = analyse(ungrounded, config.detect);
  await RemoteScorer.fromConfig(configFor(tei.url), {}, createMetrics())!.apply(ungrounded, v, config.detect);
  t.equal(tei.seen.length, 1, 'an exchange without context is not sent');
  t.equal(RemoteScorer.fromConfig(ConfigSchema.parse({}), {}), undefined, 'off by default');
});

t.test('config: enabled needs a URL, and names the field', async (t) => {
  const r = ConfigSchema.safeParse({ detect: { remote: { enabled: true } } });
  t.notOk(r.success);
  t.same(r.error?.issues[0]?.path, ['detect', 'remote', 'url']);
  t.notOk(ConfigSchema.safeParse({ detect: { remote: { weight: 2 } } }).success, 'weight is 0..1');
  t.notOk(ConfigSchema.safeParse({ detect: { remote: { url: 'ftp://x' } } }).success, 'http(s) only');
});

t.test('in the worker: remote scoring merged before the verdict is stored, metrics by failure mode and method', async (t) => {
  const tei = await teiServer(t);
  const { client } = await startRedisWithClient(t);
  const config = configFor(tei.url);
  const metrics = createMetrics();
  const remote = RemoteScorer.fromConfig(config, {}, metrics)!;
  const deps = { config, metrics, store: new VerdictStore(client, 'veracity', 60), models: new BoundedLabel([], 10), remote };
  t.equal(await analyseJob(raw('remote-job-1'), deps), 'stored');
  const ungrounded: RawExchange = { ...raw('remote-job-2', 'The Eiffel Tower was finished in 1889 by Gustave Eiffel.'), request: JSON.stringify({ model: 'gpt-remote', messages: [{ role: 'user', content: 'Who built it?' }] }) };
  t.equal(await analyseJob(ungrounded, deps), 'stored');

  const v = JSON.parse((await client.get('veracity:verdict:remote-job-1'))!) as Verdict;
  t.ok(v.provenance?.includes('remote:nli'));
  t.equal(tei.seen.length, 1);

  const json = await metrics.registry.getMetricsAsJSON();
  const values = (name: string) => (json.find((m) => m.name === name)?.values ?? []) as Array<{ labels: Record<string, string>; value: number }>;
  const sum = (name: string, keep: (l: Record<string, string>) => boolean = () => true) => values(name).filter((x) => keep(x.labels)).reduce((a, x) => a + x.value, 0);
  const unsupported = sum('veracity_unsupported_claims_total');
  t.ok(unsupported > 0);
  t.equal(sum('veracity_unsupported_claims_by_mode_total'), unsupported, 'by mode adds up to the unsupported claims');
  const bad = v.hallucination.claims.filter((c) => c.support !== 'supported');
  for (const mode of ['number', 'entity', 'negation', 'reference', 'unsupported']) {
    t.equal(
      sum('veracity_unsupported_claims_by_mode_total', (l) => l.method === 'context' && l.failure_mode === mode),
      bad.filter((c) => c.failure_mode === mode).length,
      `${mode}: counted as the verdict says`,
    );
  }
  t.equal(sum('veracity_unsupported_claims_by_mode_total', (l) => l.method === 'none' && l.failure_mode === 'unsupported'), 1, "the ungrounded claim: compared with nothing, so 'unsupported'");
  t.same([sum('veracity_checks_by_method_total', (l) => l.method === 'context'), sum('veracity_checks_by_method_total', (l) => l.method === 'none')], [1, 1]);
  t.equal(sum('veracity_expected_hallucinations_total', (l) => l.method === 'context'), v.hallucination.score, 'the score mass of grounded checks');
  t.equal(sum('veracity_hallucinations_by_method_total', (l) => l.method === 'context'), v.hallucination.flagged ? 1 : 0);
});
