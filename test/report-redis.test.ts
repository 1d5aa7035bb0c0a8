import t from 'tap';
import { spawn } from 'node:child_process';
import { createServer, type Server } from 'node:http';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import type { AddressInfo } from 'node:net';
import { Redis } from 'ioredis';
import { AggregatorRegistry, Registry } from 'prom-client';
import { ConfigSchema } from '../src/config/schema.js';
import { BoundedLabel } from '../src/metrics/labels.js';
import { createMetrics, type Metrics } from '../src/metrics/registry.js';
import { queryInstant } from '../src/report/prometheus.js';
import { reportMain, type ReliabilityReport } from '../src/report/report.js';
import { Sampler } from '../src/sampling/sampler.js';
import { aggregateKeys } from '../src/verdicts/aggregates.js';
import { VerdictStore } from '../src/verdicts/store.js';
import type { RawExchange } from '../src/capture/raw.js';
import { analyseJob } from '../src/worker/analyse-job.js';
import { rawFromRow, rows, type Row } from './helpers/exchanges.js';
import { chatToolCompletion, chatTools, type Call } from './helpers/tool-calls.js';
import { startScriptedModel } from './helpers/model.js';
import { freePort, startRedis } from './helpers/redis.js';
import { until } from './helpers/wait.js';

// The same traffic, analysed by two real workers (each exchange delivered to both, as retries and
// redeliveries do), reported once from a real Prometheus scraping both and once from the
// aggregates in Redis: every figure must be the same. The traffic covers every check method:
// grounded answers (context), open questions the workers sample from a scripted model and a shadow
// model (samples), and ungrounded answers nobody sampled (none).

const OPEN = readFileSync(resolve(import.meta.dirname, 'fixtures', 'eval', 'samples.jsonl'), 'utf8')
  .split('\n')
  .filter(Boolean)
  .map((l) => JSON.parse(l) as Row & { samples: string[] })
  .slice(0, 12);

/** Answers that call tools (`gpt-tools`): valid calls, an undeclared tool, bad JSON, a schema violation. */
const TOOL_ANSWERS: Call[][] = [
  [{ id: 'call_ok', name: 'get_weather', arguments: '{"city": "Paris", "unit": "celsius"}' }],
  [{ id: 'call_p1', name: 'get_weather', arguments: '{"city": "Oslo"}' }, { id: 'call_p2', name: 'get_time', arguments: '{"timezone": "Europe/Oslo"}' }],
  [{ id: 'call_u', name: 'get_forecast', arguments: '{"city": "Paris"}' }],
  [{ id: 'call_j', name: 'get_weather', arguments: '{"city": "Paris", unit: celsius}' }],
  [{ id: 'call_e', name: 'get_weather', arguments: '{"city": "Paris", "unit": "kelvin"}' }, { id: 'call_t', name: 'get_time', arguments: '{"timezone": "UTC"}' }],
];

function toolRaw(i: number, calls: Call[]): RawExchange {
  const now = Date.now();
  return {
    id: `tools-${i}`,
    provider: 'openai',
    route: 'chat.completions',
    request: JSON.stringify({ model: 'gpt-tools', tools: chatTools, messages: [{ role: 'user', content: 'What is the weather, and the time?' }] }),
    response: JSON.stringify(chatToolCompletion('gpt-tools', calls)),
    contentType: 'application/json',
    status: 200,
    aborted: false,
    startedAt: now - 30,
    endedAt: now - 5,
  };
}

const PROMETHEUS = process.env.PROMETHEUS_BIN ?? ['/usr/bin/prometheus', '/usr/local/bin/prometheus'].find((p) => existsSync(p));
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/**
 * One scrape target summing the workers' registries, as `serve` sums its analysis thread's: with
 * one target, the report can be evaluated at its last scrape, where increase() extrapolates nothing.
 */
async function serveMetrics(all: Metrics[]): Promise<{ server: Server; port: number }> {
  const server = createServer((_req, res) => {
    Promise.all(all.map((m) => m.registry.getMetricsAsJSON()))
      .then((json) => AggregatorRegistry.aggregate(json).metrics())
      .then((text) => res.writeHead(200, { 'content-type': all[0]!.registry.contentType }).end(text));
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  return { server, port: (server.address() as AddressInfo).port };
}

async function runReport(t: Tap.Test, args: string[]): Promise<{ code: number; report?: ReliabilityReport; stderr: string; html: string }> {
  const dir = mkdtempSync(join(tmpdir(), 'veracity-report-'));
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  const errors: string[] = [];
  const orig = console.error;
  console.error = (...a: unknown[]) => void errors.push(a.join(' '));
  let code: number;
  try {
    code = await reportMain([...args, '--out', join(dir, 'r.html'), '--json', join(dir, 'r.json')]);
  } finally {
    console.error = orig;
  }
  const report = existsSync(join(dir, 'r.json')) ? (JSON.parse(readFileSync(join(dir, 'r.json'), 'utf8')) as ReliabilityReport) : undefined;
  const html = existsSync(join(dir, 'r.html')) ? readFileSync(join(dir, 'r.html'), 'utf8') : '';
  return { code, report, stderr: errors.join('\n'), html };
}

t.test('report from Redis aggregates = report from Prometheus, on the same traffic', async (t) => {
  if (!PROMETHEUS) {
    t.fail("prometheus not found: install Debian's `prometheus` package (apt-get install prometheus), which CI installs too, or set PROMETHEUS_BIN");
    return;
  }
  const redis = await startRedis();
  // The open questions' answers: each asked again gives its pre-collected samples in turn; the
  // shadow model gives the last one.
  const byQuestion = new Map(OPEN.map((r) => [String((r.request.messages as Array<{ content: string }>).at(-1)!.content), r.samples]));
  const model = await startScriptedModel((question, k, name) => {
    const samples = byQuestion.get(question) ?? ['I am not sure.'];
    return name === 'claude-shadow' ? samples[samples.length - 1]! : samples[k % (samples.length - 1)]!;
  });
  const config = ConfigSchema.parse({
    upstreams: { openai: { url: model.url }, anthropic: { url: model.url } },
    sampling: { enabled: true, rate: 0, rates: { 'gpt-open': 1 }, samples: 3, timeoutMs: 5000, credentials: {}, shadow: [{ upstream: 'anthropic', model: 'claude-shadow' }] },
  });
  const clients = [new Redis(redis.url), new Redis(redis.url)];
  const workers = clients.map((c) => {
    const metrics = createMetrics(new Registry(), { processMetrics: false });
    const models = new BoundedLabel([], 50);
    return {
      config,
      metrics,
      store: new VerdictStore(c, config.redis.prefix, config.verdicts.ttlSeconds, { maxIndexedPerModel: config.verdicts.maxIndexedPerModel }),
      models,
      aggregates: aggregateKeys(config),
      sampler: new Sampler(config, {}, c, metrics, models),
    };
  });
  const targets = [await serveMetrics(workers.map((w) => w.metrics))];
  t.teardown(async () => {
    for (const c of clients) c.disconnect();
    for (const { server } of targets) await new Promise((r) => server.close(r));
    await model.close();
    await redis.stop();
  });

  const dir = mkdtempSync(join(tmpdir(), 'veracity-prom-'));
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  writeFileSync(
    join(dir, 'prometheus.yml'),
    `global:\n  scrape_interval: 1s\nscrape_configs:\n  - job_name: veracity-worker\n    static_configs:\n      - targets: [${targets.map((x) => `'127.0.0.1:${x.port}'`).join(', ')}]\n`,
  );
  const port = await freePort();
  const url = `http://127.0.0.1:${port}`;
  const prom = spawn(PROMETHEUS, [`--config.file=${join(dir, 'prometheus.yml')}`, `--storage.tsdb.path=${join(dir, 'data')}`, `--web.listen-address=127.0.0.1:${port}`], {
    stdio: ['ignore', 'ignore', 'pipe'],
  });
  let log = '';
  prom.stderr!.on('data', (c) => (log = (log + c).slice(-4000)));
  t.teardown(async () => {
    if (prom.exitCode === null) {
      prom.kill('SIGTERM');
      await Promise.race([new Promise((r) => prom.once('exit', r)), sleep(5000).then(() => prom.kill('SIGKILL'))]);
    }
  });

  // Labelled traffic for three models: grounded answers with and without hallucinations,
  // summaries, refusals and compliant answers to sensitive-sounding questions.
  const local = [
    ...rows('halueval-qa.jsonl', 30).map((r) => rawFromRow(r, { model: 'gpt-qa' })),
    ...rows('faithbench.jsonl', 16).map((r) => rawFromRow(r, { model: 'gpt-sum' })),
    ...rows('xstest.jsonl', 24).map((r) => rawFromRow(r, { model: 'gpt-safety' })),
    ...TOOL_ANSWERS.map((calls, i) => toolRaw(i, calls)),
  ];
  // Handled, never analysed: an upstream error. Neither source counts it as a check.
  const failed: RawExchange = { ...toolRaw(99, []), id: 'tools-error', status: 500, response: JSON.stringify({ error: { message: 'boom', type: 'server_error' } }) };
  const sampled = OPEN.map((r) => rawFromRow(r, { model: 'gpt-open' }));
  const sample = [...local, ...sampled];
  // Every series at 0 before Prometheus first scrapes it, so increase() has a true start.
  for (const w of workers) {
    for (const model of ['gpt-qa', 'gpt-sum', 'gpt-safety', 'gpt-open', 'gpt-tools']) {
      const m = { provider: 'openai', model };
      const x = w.metrics;
      for (const c of [x.checks, x.groundedChecks, x.hallucinations, x.claims, x.unsupportedClaims, x.mismatches, x.sampledExchanges, x.toolCalls]) c.inc(m, 0);
      for (const failure_mode of ['tool_name', 'tool_arguments']) x.toolCallFailures.inc({ ...m, failure_mode }, 0);
      for (const kind of ['partial', 'full']) x.refusals.inc({ ...m, kind }, 0);
      for (const method of ['context', 'samples', 'none']) {
        for (const c of [x.checksByMethod, x.hallucinationsByMethod, x.expectedHallucinations]) c.inc({ ...m, method }, 0);
        for (const failure_mode of ['number', 'entity', 'negation', 'reference', 'unsupported']) x.unsupportedClaimsByMode.inc({ ...m, method, failure_mode }, 0);
      }
      x.hallucinationScore.zero(m);
      w.models.value(model);
    }
  }
  await until('Prometheus ready', 30_000, async () => ((await fetch(`${url}/-/ready`)).ok ? true : undefined), 250).catch((err) => {
    throw new Error(`${(err as Error).message}\n${log}`);
  });
  await until('two scrapes of the zeroed series', 30_000, async () => {
    const s = await queryInstant(url, 'count_over_time(veracity_checks_total{model="gpt-qa"}[1m])');
    return (s[0]?.value ?? 0) >= 2 ? true : undefined;
  }, 250);

  const results = await Promise.all(workers.flatMap((w) => local.map((raw) => analyseJob(raw, w))));
  // Both workers at once: their skipped verdicts may be the same JSON to the millisecond, and still
  // only one attempt stores it (each write carries its own token).
  t.same((await Promise.all(workers.map((w) => analyseJob(failed, w)))).sort(), ['duplicate', 'skipped'], 'the upstream error: one skipped verdict, stored once');
  // Sampled exchanges reach the second worker once the first has stored them, so every one of
  // them is checked against its samples (two at once, one would keep its local verdict).
  for (const w of workers) for (const raw of sampled) results.push(await analyseJob(raw, w));
  t.equal(results.filter((r) => r === 'stored').length, sample.length, 'each exchange stored once');
  t.equal(model.calls.length, sampled.length * 2, 'one resampling call (n = 3) and one shadow call per sampled exchange, never repeated');

  const at = await until('scrapes of the final counts', 30_000, async () => {
    const s = await queryInstant(url, `count_over_time((sum(veracity_checks_total) == ${sample.length})[1m:1s])`);
    if ((s[0]?.value ?? 0) < 3) return undefined;
    // timestamp() of a plain selector is the sample's own time: the report ends at the last scrape.
    return (await queryInstant(url, 'timestamp(veracity_checks_total{model="gpt-qa"})'))[0]?.value;
  }, 250);

  const fromProm = await runReport(t, ['--since', '10m', '--at', at.toFixed(3), '--prometheus', url, '--source', 'prometheus', '--redis', redis.url]);
  t.equal(fromProm.code, 0, fromProm.stderr);
  const fromRedis = await runReport(t, ['--since', '10m', '--at', at.toFixed(3), '--redis', redis.url, '--source', 'redis']);
  t.equal(fromRedis.code, 0, fromRedis.stderr);
  const p = fromProm.report!;
  const r = fromRedis.report!;
  t.equal(p.source?.kind, 'prometheus');
  t.equal(r.source?.kind, 'redis');
  t.match(fromRedis.stderr, /from Redis aggregates at redis:\/\/127\.0\.0\.1:\d+/);
  t.match(fromRedis.html, /source: Redis aggregates/);
  t.equal(p.overall.checks, sample.length);
  t.ok(p.overall.hallucination.count > 0 && p.overall.refusal.count > 0 && p.overall.confidenceMismatch.count > 0, 'the traffic has every kind of flag');
  // Nothing below compares empty figures: every method, the estimate and several failure modes have counts.
  const o = p.overall;
  t.ok(o.methods.context!.of > 0 && o.methods.samples!.of === sampled.length && o.methods.none!.of > 0, `checks by method ${JSON.stringify(Object.fromEntries(Object.entries(o.methods).map(([k, f]) => [k, f.of])))}`);
  t.ok(o.methods.samples!.count > 0, 'some sampled answers flagged');
  t.equal(o.sampled, sampled.length, 'every open question checked against its samples');
  t.ok(o.estimated.checks > 0 && o.estimated.expected > 0 && o.estimated.flagged.count > 0, 'an estimated rate beside a flagged one');
  t.ok(o.failureModes.modes.filter((m) => m.count > 0).length >= 3, `failure modes ${JSON.stringify(o.failureModes.modes)}`);
  // Tool calls: checked and failed by mode, as the calls above make them (one undeclared name; bad JSON and a wrong enum value).
  t.equal(o.toolCalls.checked, TOOL_ANSWERS.flat().length, 'every tool call checked');
  t.same([o.toolCalls.failed.count, o.toolCalls.modes.tool_name!.count, o.toolCalls.modes.tool_arguments!.count], [3, 1, 2], 'tool calls failed, by failure mode');
  t.equal(p.models.find((m) => m.model === 'gpt-tools')!.toolCalls.checked, TOOL_ANSWERS.flat().length, 'tool calls on their model');
  t.same(r.models.map((m) => m.model), p.models.map((m) => m.model), 'same models, same order');
  for (const [i, pm] of p.models.entries()) t.same(r.models[i], pm, `${pm.model}: every figure the same, estimated rate, failure modes and methods included`);
  t.same(r.overall, p.overall, 'overall figures the same');
  t.ok(Object.keys(p.examples ?? {}).length > 0, 'examples from the stored verdicts');
  t.same(r.examples, p.examples, 'the same worst examples whichever source the counts came from');
  for (const html of [fromProm.html, fromRedis.html]) {
    t.match(html, /Estimated and flagged hallucination rate/);
    t.match(html, /Failure-mode profile/);
    t.match(html, /What the answers were checked against/);
    t.match(html, /<h2>Tool calls<\/h2>[\s\S]*<th scope="row">openai\/gpt-tools<\/th><td>7<\/td><td>42\.9% \[[^\]]+\] \(3\/7\)<\/td>/, 'the tool-call table');
  }
  t.match(fromRedis.stderr, /3 of 7 tool calls failed/);

  // With Prometheus unreachable and Redis given, `auto` reports from Redis and says so.
  const dead = `http://127.0.0.1:${await freePort()}`;
  const fallback = await runReport(t, ['--since', '10m', '--at', at.toFixed(3), '--prometheus', dead, '--redis', redis.url]);
  t.equal(fallback.code, 0, fallback.stderr);
  t.match(fallback.stderr, /from Redis aggregates at .* \(Prometheus unreachable\)/);
  t.match(fallback.report!.source!.note!, /Prometheus unreachable \(cannot reach Prometheus/);
  t.same(fallback.report!.overall, p.overall);
  t.ok(Object.keys(fallback.report!.examples ?? {}).length > 0, 'worst examples from the stored verdicts');

  // Neither reachable: a clear error naming both.
  const none = await runReport(t, ['--prometheus', dead, '--source', 'prometheus']);
  t.equal(none.code, 1);
  const badRedis = await runReport(t, ['--prometheus', dead, '--redis', `redis://127.0.0.1:${await freePort()}`]);
  t.equal(badRedis.code, 1);
  t.match(badRedis.stderr, /cannot reach Redis at redis:\/\/127\.0\.0\.1:\d+/);
  t.equal((await runReport(t, ['--source', 'sideways'])).code, 2);
  t.equal((await runReport(t, ['--redis', 'localhost:6379'])).code, 2, 'a Redis location must be a URL or a socket path');
});
