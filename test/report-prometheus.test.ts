import t from 'tap';
import { spawn } from 'node:child_process';
import { createServer } from 'node:http';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { AddressInfo } from 'node:net';
import { Registry } from 'prom-client';
import { createMetrics } from '../src/metrics/registry.js';
import { queryInstant } from '../src/report/prometheus.js';
import { reportMain, type ReliabilityReport } from '../src/report/report.js';
import { until } from './helpers/wait.js';

// `veracity report` against a real Prometheus scraping a real metrics registry on loopback.

const PROMETHEUS = process.env.PROMETHEUS_BIN ?? ['/usr/bin/prometheus', '/usr/local/bin/prometheus'].find((p) => existsSync(p));
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

async function freePort(): Promise<number> {
  const s = createServer();
  await new Promise<void>((r) => s.listen(0, '127.0.0.1', r));
  const port = (s.address() as AddressInfo).port;
  await new Promise((r) => s.close(r));
  return port;
}

t.test('report from a live Prometheus', async (t) => {
  if (!PROMETHEUS) {
    t.fail("prometheus not found: install Debian's `prometheus` package (apt-get install prometheus), which CI installs too, or set PROMETHEUS_BIN");
    return;
  }
  const metrics = createMetrics(new Registry());
  const target = createServer((_req, res) => {
    metrics.registry.metrics().then((text) => res.writeHead(200, { 'content-type': metrics.registry.contentType }).end(text));
  });
  await new Promise<void>((r) => target.listen(0, '127.0.0.1', r));
  t.teardown(() => new Promise<void>((r) => target.close(() => r())));
  const targetPort = (target.address() as AddressInfo).port;

  const dir = mkdtempSync(join(tmpdir(), 'veracity-prom-'));
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  writeFileSync(
    join(dir, 'prometheus.yml'),
    `global:\n  scrape_interval: 1s\nscrape_configs:\n  - job_name: veracity-worker\n    static_configs:\n      - targets: ['127.0.0.1:${targetPort}']\n`,
  );
  const port = await freePort();
  const url = `http://127.0.0.1:${port}`;
  const prom = spawn(PROMETHEUS, [
    `--config.file=${join(dir, 'prometheus.yml')}`,
    `--storage.tsdb.path=${join(dir, 'data')}`,
    `--web.listen-address=127.0.0.1:${port}`,
  ], { stdio: ['ignore', 'ignore', 'pipe'] });
  let log = '';
  prom.stderr!.on('data', (c) => (log = (log + c).slice(-4000)));
  t.teardown(async () => {
    if (prom.exitCode === null) {
      prom.kill('SIGTERM');
      await Promise.race([new Promise((r) => prom.once('exit', r)), sleep(5000).then(() => prom.kill('SIGKILL'))]);
    }
  });

  const gpt = { provider: 'openai', model: 'gpt-4o' };
  const claude = { provider: 'anthropic', model: 'claude-sonnet' };
  // Every series exists at 0 before the first scrape, so increase() has a true starting point.
  for (const m of [gpt, claude]) {
    for (const c of [metrics.checks, metrics.groundedChecks, metrics.hallucinations, metrics.claims, metrics.unsupportedClaims, metrics.mismatches]) c.inc(m, 0);
    for (const kind of ['partial', 'full']) metrics.refusals.inc({ ...m, kind }, 0);
    metrics.hallucinationScore.zero(m);
    for (const method of ['context', 'none']) {
      for (const c of [metrics.checksByMethod, metrics.expectedHallucinations, metrics.hallucinationsByMethod]) c.inc({ ...m, method }, 0);
      for (const failure_mode of ['number', 'entity', 'unsupported']) metrics.unsupportedClaimsByMode.inc({ ...m, method, failure_mode }, 0);
    }
  }

  await until('Prometheus ready', 20_000, async () => ((await fetch(`${url}/-/ready`)).ok ? true : undefined), 250).catch((err) => {
    throw new Error(`${(err as Error).message}\n${log}`);
  });
  // Two scrapes of the zeroed series.
  await until('two scrapes', 20_000, async () => {
    const s = await queryInstant(url, 'count_over_time(veracity_checks_total{model="gpt-4o"}[1m])');
    return (s[0]?.value ?? 0) >= 2 ? true : undefined;
  }, 250);

  // gpt-4o: 200 checks, 30 hallucinated; claude: 20 checks, 1 hallucinated.
  metrics.checks.inc(gpt, 200);
  metrics.groundedChecks.inc(gpt, 150);
  metrics.hallucinations.inc(gpt, 30);
  metrics.claims.inc(gpt, 800);
  metrics.unsupportedClaims.inc(gpt, 120);
  metrics.mismatches.inc(gpt, 10);
  metrics.refusals.inc({ ...gpt, kind: 'partial' }, 4);
  for (let i = 0; i < 200; i++) metrics.hallucinationScore.observe(gpt, i < 30 ? 0.95 : 0.05);
  // 150 grounded checks with a score mass of 21 (mean 0.14), 28 of them flagged; 50 ungrounded at a prior.
  metrics.checksByMethod.inc({ ...gpt, method: 'context' }, 150);
  metrics.expectedHallucinations.inc({ ...gpt, method: 'context' }, 21);
  metrics.hallucinationsByMethod.inc({ ...gpt, method: 'context' }, 28);
  metrics.checksByMethod.inc({ ...gpt, method: 'none' }, 50);
  metrics.expectedHallucinations.inc({ ...gpt, method: 'none' }, 19.5);
  metrics.unsupportedClaimsByMode.inc({ ...gpt, method: 'context', failure_mode: 'number' }, 30);
  metrics.unsupportedClaimsByMode.inc({ ...gpt, method: 'context', failure_mode: 'entity' }, 10);
  metrics.unsupportedClaimsByMode.inc({ ...gpt, method: 'context', failure_mode: 'unsupported' }, 40);
  metrics.unsupportedClaimsByMode.inc({ ...gpt, method: 'none', failure_mode: 'unsupported' }, 40);
  metrics.checks.inc(claude, 20);
  metrics.hallucinations.inc(claude, 1);
  metrics.refusals.inc({ ...claude, kind: 'full' }, 2);
  for (let i = 0; i < 20; i++) metrics.hallucinationScore.observe(claude, 0.3);

  // Two scrapes after the change; evaluate at the last scrape so nothing is extrapolated past it.
  const at = await until('scrapes of the new values', 20_000, async () => {
    const counts = await queryInstant(url, 'count_over_time((veracity_checks_total{model="gpt-4o"} == 200)[1m:1s])');
    if ((counts[0]?.value ?? 0) < 2) return undefined;
    // timestamp() of a plain selector is the sample's own time (of anything else, the query's).
    return (await queryInstant(url, 'timestamp(veracity_checks_total{model="gpt-4o"})'))[0]?.value;
  }, 250);

  const out = join(dir, 'report.html');
  const json = join(dir, 'report.json');
  const errors: string[] = [];
  const orig = console.error;
  console.error = (...a: unknown[]) => void errors.push(a.join(' '));
  let code: number;
  try {
    code = await reportMain(['--since', '5m', '--at', at.toFixed(3), '--out', out, '--json', json, '--prometheus', url]);
  } finally {
    console.error = orig;
  }
  t.equal(code, 0, errors.join('\n'));
  const report = JSON.parse(readFileSync(json, 'utf8')) as ReliabilityReport;
  t.same(report.models.map((m) => `${m.provider}/${m.model}`), ['openai/gpt-4o', 'anthropic/claude-sonnet'], 'ranked by hallucination rate');
  const g = report.models[0]!;
  t.same([g.checks, g.hallucination.count, g.unsupportedClaims.count, g.unsupportedClaims.of, g.confidenceMismatch.count, g.refusal.count], [200, 30, 120, 800, 10, 4]);
  t.equal(g.hallucination.rate, 0.15);
  t.same(g.scores.map((b) => b.count), [170, 0, 0, 0, 0, 0, 0, 0, 0, 30]);
  t.same([g.estimated!.checks, g.estimated!.expected, g.estimated!.flagged.count], [150, 21, 28], 'estimated rate on grounded checks only');
  t.ok(Math.abs(g.estimated!.rate! - 0.14) < 1e-9, `estimated rate ${g.estimated!.rate}`);
  t.same(g.failureModes!.modes.filter((m) => m.count > 0).map((m) => [m.mode, m.count]), [['number', 30], ['entity', 10], ['unsupported', 40]], 'profile of checked claims');
  const c = report.models[1]!;
  t.same([c.checks, c.hallucination.count, c.refusalByKind.full?.count], [20, 1, 2]);
  t.same([report.overall.checks, report.overall.hallucination.count], [220, 31]);
  t.match(readFileSync(out, 'utf8'), /15\.0% \[/);
});
