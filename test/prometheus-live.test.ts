import t from 'tap';
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { loadDashboards, panelQueries } from '../src/report/dashboards.js';
import { freePort, startRedis } from './helpers/redis.js';
import { startUpstream } from './helpers/upstream.js';
import { anthropicToolEvents, anthropicTools, chatToolChunks, chatTools } from './helpers/tool-calls.js';
import { until } from './helpers/wait.js';

// A real Prometheus scrapes a real proxy and worker while a known mix of labelled exchanges goes
// through; then every dashboard panel's query must succeed and return data, and the counts
// Prometheus holds must match the verdicts.

const ROOT = resolve(import.meta.dirname, '..');
const CLI = join(ROOT, 'dist', 'cli.js');
const DATA = resolve(ROOT, '..', 'shared', 'datasets', 'dev');

interface Row { id: string; request: Record<string, unknown>; response: Record<string, unknown>; expected: Record<string, unknown> }
const rows = (file: string, n: number, keep: (r: Row) => boolean): Row[] =>
  readFileSync(join(DATA, file), 'utf8')
    .split('\n')
    .filter(Boolean)
    .map((l) => JSON.parse(l) as Row)
    .filter(keep)
    .slice(0, n);

function spawnLogged(cmd: string, args: string[], env: Record<string, string> = {}): { child: ChildProcess; log: () => string } {
  const child = spawn(cmd, args, { env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  child.stdout!.on('data', (d) => (out += d));
  child.stderr!.on('data', (d) => (out += d));
  return { child, log: () => out };
}

t.test('dashboards and counts against a live Prometheus', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'veracity-prom-'));
  const redis = await startRedis();
  const upstream = await startUpstream();
  const [proxyPort, workerPort, promPort] = [await freePort(), await freePort(), await freePort()];
  const procs: ChildProcess[] = [];
  t.teardown(async () => {
    for (const p of procs) if (p.exitCode === null) p.kill('SIGKILL');
    await upstream.close();
    await redis.stop();
  });

  // Labelled rows: grounded QA with and without hallucination, and refusals.
  const sample = [
    ...rows('halueval-qa.jsonl', 8, (r) => r.expected.hallucination === true),
    ...rows('halueval-qa.jsonl', 8, (r) => r.expected.hallucination === false),
    ...rows('xstest.jsonl', 6, (r) => r.expected.refusal_kind === 'full_refusal'),
    ...rows('xstest.jsonl', 4, (r) => r.expected.refusal_kind === 'compliance'),
  ];
  const byId = new Map(sample.map((r) => [r.id, r]));
  upstream.handler = (req, res, body) => {
    const json = JSON.parse(body.toString() || '{}');
    const row = byId.get(json.user);
    if (json.model === 'gpt-reset') {
      res.writeHead(200, { 'content-type': 'text/event-stream' });
      res.write('data: {"choices":[{"index":0,"delta":{"content":"Hel"}}]}\n\n');
      setTimeout(() => res.socket?.destroy(), 10);
      return;
    }
    if (json.model === 'gpt-tools' || json.model === 'claude-tools') {
      // One valid call and one with an invented enum value.
      const calls = [{ id: 't1', name: 'get_weather', arguments: '{"city":"Paris"}' }, { id: 't2', name: 'get_weather', arguments: '{"city":"Oslo","unit":"kelvin"}' }];
      res.writeHead(200, { 'content-type': 'text/event-stream' });
      res.end((json.model === 'gpt-tools' ? chatToolChunks(json.model, calls) : anthropicToolEvents(json.model, calls)).join(''));
      return;
    }
    if (row) {
      res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ ...row.response, usage: { prompt_tokens: 50, completion_tokens: 20, total_tokens: 70 } }));
      return;
    }
    upstream.answer(req, res, body);
  };

  // Sampling on for the streamed open questions, with a shadow model in the other dialect, so the
  // sampling panels have data and the primary counts below show that shadow answers stay out of
  // them. A sampled verdict waits for its calls, and analysis runs at idle priority: verdicts get
  // 30 s on a busy machine.
  writeFileSync(join(dir, 'veracity.yaml'), 'sampling: { enabled: true, rates: { gpt-stream: 1, claude-stream: 1, default: 0 }, samples: 2, shadow: [{ upstream: anthropic, model: claude-shadow }] }\n');
  const env = {
    VERACITY_CONFIG: join(dir, 'veracity.yaml'),
    VERACITY_SAMPLING_OPENAI_KEY: 'sk-sampling-live',
    VERACITY_SAMPLING_ANTHROPIC_KEY: 'sk-sampling-live',
    REDIS_URL: redis.url,
    VERACITY_OPENAI_UPSTREAM: upstream.url,
    VERACITY_ANTHROPIC_UPSTREAM: upstream.url,
    PORT: String(proxyPort),
    VERACITY_METRICS_PORT: String(workerPort),
  };
  const proxy = spawnLogged(process.execPath, [CLI, 'proxy'], env);
  const worker = spawnLogged(process.execPath, [CLI, 'worker'], env);
  procs.push(proxy.child, worker.child);

  const rules = ['recording-rules.yml', 'alert-rules.yml'].map((f) => join(ROOT, 'deploy', 'prometheus', f));
  writeFileSync(
    join(dir, 'prometheus.yml'),
    [
      'global: { scrape_interval: 1s, evaluation_interval: 1s }',
      `rule_files: [${rules.map((r) => JSON.stringify(r)).join(', ')}]`,
      'scrape_configs:',
      `  - { job_name: veracity-proxy, static_configs: [{ targets: ['127.0.0.1:${proxyPort}'] }] }`,
      `  - { job_name: veracity-worker, static_configs: [{ targets: ['127.0.0.1:${workerPort}'] }] }`,
      '',
    ].join('\n'),
  );
  const prom = spawnLogged('prometheus', [
    `--config.file=${join(dir, 'prometheus.yml')}`,
    `--storage.tsdb.path=${join(dir, 'data')}`,
    `--web.listen-address=127.0.0.1:${promPort}`,
  ]);
  procs.push(prom.child);
  const promUrl = `http://127.0.0.1:${promPort}`;
  const query = async (expr: string) => {
    const res = await fetch(`${promUrl}/api/v1/query?query=${encodeURIComponent(expr)}`);
    const body = (await res.json()) as { status: string; error?: string; data: { result: Array<{ metric: Record<string, string>; value: [number, string] }> } };
    if (body.status !== 'success') throw new Error(`${expr}: ${body.error}`);
    return body.data.result;
  };

  await until('both targets up in Prometheus', 30_000, async () => {
    const up = await query('up');
    return up.length === 2 && up.every((s) => s.value[1] === '1') ? true : undefined;
  });

  // Traffic: the labelled rows (JSON), streams in both dialects, and one upstream reset.
  const base = `http://127.0.0.1:${proxyPort}`;
  const post = (path: string, body: unknown, headers: Record<string, string> = {}) =>
    fetch(`${base}${path}`, { method: 'POST', headers: { 'content-type': 'application/json', ...headers }, body: JSON.stringify(body) });
  const ids: string[] = [];
  for (const row of sample) {
    const res = await post('/v1/chat/completions', { ...row.request, user: row.id });
    t.equal(res.status, 200);
    ids.push(res.headers.get('x-veracity-id')!);
    await res.arrayBuffer();
  }
  for (let i = 0; i < 3; i++) {
    const a = await post('/v1/chat/completions', { model: 'gpt-stream', stream: true, messages: [{ role: 'user', content: 'Where is the Eiffel Tower?' }] });
    ids.push(a.headers.get('x-veracity-id')!);
    await a.text();
    const b = await post('/v1/messages', { model: 'claude-stream', max_tokens: 50, stream: true, messages: [{ role: 'user', content: 'Where is the Eiffel Tower?' }] }, { 'anthropic-version': '2023-06-01' });
    ids.push(b.headers.get('x-veracity-id')!);
    await b.text();
  }
  // Tool calls, streamed, in both dialects.
  const toolCallsMade = 4;
  for (const [path, body] of [
    ['/v1/chat/completions', { model: 'gpt-tools', stream: true, tools: chatTools, messages: [{ role: 'user', content: 'Weather in Paris and Oslo?' }] }],
    ['/v1/messages', { model: 'claude-tools', max_tokens: 50, stream: true, tools: anthropicTools, messages: [{ role: 'user', content: 'Weather in Paris and Oslo?' }] }],
  ] as const) {
    const res = await post(path, body, path === '/v1/messages' ? { 'anthropic-version': '2023-06-01' } : {});
    ids.push(res.headers.get('x-veracity-id')!);
    await res.text();
  }
  // Cut off mid-stream: still analysed (and counted) as an aborted exchange.
  const reset = await post('/v1/chat/completions', { model: 'gpt-reset', stream: true, messages: [] });
  ids.push(reset.headers.get('x-veracity-id')!);
  await reset.text().catch(() => {});

  // One look-up at a time: polling them all at once would run into the admin API's rate limit.
  type Seen = { hallucination: { flagged: boolean }; refusal: { kind: string }; tool_calls?: { checked: number; failed: number } };
  const verdicts: Seen[] = [];
  for (const id of ids) {
    verdicts.push(
      await until(`verdict ${id}`, 30_000, async () => {
        const res = await fetch(`${base}/veracity/v1/verdicts/${id}`);
        return res.status === 200 ? ((await res.json()) as Seen) : undefined;
      }),
    );
  }
  const flagged = verdicts.filter((v) => v.hallucination.flagged).length;
  const refusals = verdicts.filter((v) => v.refusal.kind !== 'none').length;
  t.ok(flagged > 0 && refusals > 0, `the mix has hallucinations (${flagged}) and refusals (${refusals})`);

  // Prometheus must hold exactly what the verdicts say.
  const scalar = async (expr: string) => Number((await query(expr))[0]?.value[1] ?? 'NaN');
  let checks = NaN;
  await until('Prometheus to scrape the final counts', 15_000, async () => {
    checks = await scalar('sum(veracity_checks_total)');
    return checks === ids.length ? true : undefined;
  }).catch((err) => t.fail(`${(err as Error).message}: sum(veracity_checks_total) = ${checks}, exchanges = ${ids.length}`));
  t.equal(await scalar('sum(veracity_hallucinations_total)'), flagged, 'hallucination count matches the verdicts');
  t.equal(await scalar('sum(veracity_refusals_total)'), refusals, 'refusal count matches the verdicts');
  const toolFailures = verdicts.reduce((n, v) => n + (v.tool_calls?.failed ?? 0), 0);
  t.equal(toolFailures, 2, 'one failing call per tool-call answer');
  t.equal(await scalar('sum(veracity_tool_calls_total)'), toolCallsMade, 'tool calls checked match the traffic');
  t.equal(await scalar('sum(veracity_tool_call_failures_total{failure_mode="tool_arguments"})'), toolFailures, 'tool-call failures match the verdicts');
  await new Promise((r) => setTimeout(r, 2500)); // a few more scrapes and rule evaluations

  const dashboards = loadDashboards();
  t.equal(dashboards.size, 2, 'two dashboards');
  const selections: Array<Record<string, string | string[] | undefined>> = [
    { __rate_interval: '1m' },
    { __rate_interval: '1m', provider: ['openai'], model: ['gpt-3.5-turbo', 'gpt-stream'] },
  ];
  for (const [file, dashboard] of dashboards) {
    for (const vars of selections) {
      for (const q of panelQueries(dashboard, vars)) {
        const label = `${file} · ${q.panel} (${q.refId}) with ${JSON.stringify(vars)}`;
        try {
          const result = await query(q.expr);
          t.ok(result.length > 0, `${label} returns data`, { expr: q.expr });
        } catch (err) {
          t.fail(`${label} fails: ${(err as Error).message}`);
        }
      }
    }
  }
  const failedRules = (await (await fetch(`${promUrl}/api/v1/rules`)).json()) as { data: { groups: Array<{ rules: Array<{ name: string; health: string; lastError?: string }> }> } };
  for (const rule of failedRules.data.groups.flatMap((g) => g.rules)) {
    // Groups with a long interval may not have run yet ('unknown'); none may have failed.
    t.not(rule.health, 'err', `rule ${rule.name} evaluates${rule.lastError ? `: ${rule.lastError}` : ''}`);
  }
});
