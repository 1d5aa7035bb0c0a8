import t from 'tap';
import { execFile } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, readdirSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseAllDocuments, stringify } from 'yaml';
import { dashboardPanels, loadDashboards, panelQueries, substitute, type Dashboard } from '../src/report/dashboards.js';
import { exportedSeriesNames, metricNamesIn } from '../src/report/promql.js';

const DATASOURCE_UID = 'veracity-prometheus';
const PROMTOOL = process.env.PROMTOOL ?? ['/usr/bin/promtool', '/usr/local/bin/promtool'].find((p) => existsSync(p));
const dashboards = loadDashboards();
const byUid = new Map<string, Dashboard>([...dashboards.values()].map((d) => [d.uid, d]));
const BUILTINS = new Set(['__rate_interval', '__interval', '__range', '__range_s', '__all']);

const allQueries = () => [...dashboards.entries()].flatMap(([file, d]) => panelQueries(d).map((q) => ({ file, ...q })));

t.test('both dashboards are present and parse', async (t) => {
  t.same([...byUid.keys()].sort(), ['veracity-models', 'veracity-proxy']);
  t.equal(byUid.get('veracity-models')?.title, 'Veracity — model reliability');
  t.equal(byUid.get('veracity-proxy')?.title, 'Veracity — proxy & pipeline');
});

t.test('every panel queries Prometheus by datasource uid', async (t) => {
  for (const [file, d] of dashboards) {
    const panels = dashboardPanels(d);
    t.ok(panels.length >= 8, `${file}: ${panels.length} panels`);
    for (const panel of panels) {
      const targets = (panel.targets ?? []).filter((x) => x.expr && x.expr.trim() !== '');
      t.ok(targets.length > 0, `${file} "${panel.title}" has a query`);
      const p = panel as unknown as { datasource?: { uid?: string }; targets: Array<{ datasource?: { uid?: string } }> };
      t.equal(p.datasource?.uid, DATASOURCE_UID, `${file} "${panel.title}" datasource by uid`);
      for (const target of p.targets) t.equal(target.datasource?.uid, DATASOURCE_UID, `${file} "${panel.title}" target datasource by uid`);
    }
  }
});

t.test('every query selects only metrics the registry exports', async (t) => {
  const known = await exportedSeriesNames();
  known.add('up');
  for (const q of allQueries()) {
    const names = metricNamesIn(q.rawExpr);
    t.ok(names.length > 0, `${q.file} "${q.panel}" ${q.refId} selects a metric`);
    for (const name of names) t.ok(known.has(name), `${q.file} "${q.panel}": ${name} is exported`);
  }
});

t.test('rates use $__rate_interval, are summed (ratio of sums), and never averaged', async (t) => {
  for (const q of allQueries()) {
    const label = `${q.file} "${q.panel}" ${q.refId}`;
    for (const m of q.rawExpr.matchAll(/\[([^\]]*)\]/g)) {
      const ok = m[1] === '$__rate_interval' || (q.instant && m[1] === '$__range');
      t.ok(ok, `${label}: range [${m[1]}] is $__rate_interval (or $__range in an instant query)`);
    }
    for (const m of q.rawExpr.matchAll(/\b(i?rate|increase)\s*\(/g)) {
      const before = q.rawExpr.slice(0, m.index).trimEnd();
      t.match(before, /\bsum(\s+by\s*\([^)]*\))?\s*\($/, `${label}: ${m[1]}() is wrapped in sum`);
    }
    t.notMatch(q.rawExpr, /\bavg(_over_time)?\b/, `${label}: no averages of ratios`);
  }
});

t.test('template variables $provider and $model exist, multi-value with All as .*', async (t) => {
  for (const [file, d] of dashboards) {
    const vars = d.templating?.list ?? [];
    for (const [name, query] of [
      ['provider', 'label_values(veracity_checks_total, provider)'],
      ['model', 'label_values(veracity_checks_total{provider=~"$provider"}, model)'],
    ] as const) {
      const v = vars.find((x) => x.name === name) as
        | { query: { query: string }; multi: boolean; includeAll: boolean; allValue: string; datasource: { uid: string } }
        | undefined;
      t.ok(v, `${file}: $${name} exists`);
      if (!v) continue;
      t.equal(v.query.query, query, `${file}: $${name} query`);
      t.ok(v.multi && v.includeAll, `${file}: $${name} multi + All`);
      t.equal(v.allValue, '.*', `${file}: $${name} All is .*`);
      t.equal(v.datasource.uid, DATASOURCE_UID);
    }
    const defined = new Set(vars.map((v) => v.name));
    for (const q of panelQueries(d)) {
      for (const m of q.rawExpr.matchAll(/\$\{?(\w+)/g)) {
        t.ok(defined.has(m[1]!) || BUILTINS.has(m[1]!), `${file} "${q.panel}": $${m[1]} is defined`);
      }
    }
  }
});

t.test('the model dashboard shows every per-model rate, calibration and a ranking', async (t) => {
  const d = byUid.get('veracity-models')!;
  const exprs = panelQueries(d).map((q) => q.rawExpr);
  const has = (re: RegExp, what: string) => t.ok(exprs.some((e) => re.test(e)), what);
  has(/veracity_hallucinations_total[\s\S]*\/[\s\S]*veracity_checks_total/, 'hallucination rate');
  has(/veracity_unsupported_claims_total[\s\S]*\/[\s\S]*veracity_claims_total/, 'unsupported-claim rate');
  has(/veracity_confidence_mismatches_total[\s\S]*\/[\s\S]*veracity_checks_total/, 'confidence-mismatch rate');
  has(/sum by \(provider, model, kind\) \(rate\(veracity_refusals_total/, 'refusal rate by kind');
  has(/^sum by \(provider, model\) \(rate\(veracity_checks_total[^/]*$/, 'checks/s');
  has(/veracity_hallucination_score_bucket/, 'calibration view');
  const panels = dashboardPanels(d);
  t.ok(panels.some((p) => p.type === 'heatmap'), 'calibration heatmap');
  const ranking = panels.find((p) => /ranked/i.test(p.title));
  t.ok(ranking && ['bargauge', 'table'].includes(ranking.type), 'ranking panel');
  t.match(ranking?.targets?.[0]?.expr ?? '', /^sort_desc\(/, 'ranking is sorted');
});

t.test('the proxy dashboard covers the request path and the pipeline', async (t) => {
  const d = byUid.get('veracity-proxy')!;
  const names = new Set(panelQueries(d).flatMap((q) => metricNamesIn(q.rawExpr)));
  for (const m of [
    'veracity_requests_total', 'veracity_upstream_errors_total', 'gen_ai_client_operation_duration_seconds_bucket',
    'veracity_time_to_first_chunk_seconds_bucket', 'veracity_proxy_overhead_seconds_bucket', 'gen_ai_client_token_usage_sum',
    'veracity_queue_depth', 'veracity_queue_wait_seconds_bucket', 'veracity_detection_lag_seconds_bucket',
    'veracity_analysis_dropped_total', 'veracity_worker_jobs_total',
  ]) t.ok(names.has(m), `queries ${m}`);
  const exprs = panelQueries(d).map((q) => q.rawExpr);
  for (const metric of ['gen_ai_client_operation_duration_seconds_bucket', 'veracity_proxy_overhead_seconds_bucket', 'veracity_detection_lag_seconds_bucket']) {
    for (const p of ['0.5', '0.99']) t.ok(exprs.some((e) => e.startsWith(`histogram_quantile(${p},`) && e.includes(metric)), `${metric} p${Number(p) * 100}`);
  }
});

t.test('panelQueries substitutes variables the way Grafana does', async (t) => {
  const d = byUid.get('veracity-models')!;
  const all = panelQueries(d);
  t.ok(all.length >= 10);
  for (const q of all) t.notMatch(q.expr, /\$/, `"${q.panel}" has no variable left`);
  const picked = panelQueries(d, { provider: ['openai', 'anthropic'], model: 'gpt-4o', __rate_interval: '2m' });
  const rate = picked.find((q) => q.panel === 'Hallucination rate by model')!;
  t.equal(
    rate.expr,
    'sum by (provider, model) (rate(veracity_hallucinations_total{provider=~"(openai|anthropic)", model=~"gpt-4o"}[2m]))\n/\n' +
      'sum by (provider, model) (rate(veracity_checks_total{provider=~"(openai|anthropic)", model=~"gpt-4o"}[2m]))',
  );
  t.equal(substitute('x{m=~"$model"}', { model: ['gpt-4.1'] }, d), 'x{m=~"gpt-4\\.1"}', 'single values are regex-escaped');
  t.equal(substitute('x{m=~"${model}"}', { model: '$__all' }, d), 'x{m=~".*"}', 'All is .*');
  t.ok(picked.find((q) => q.instant), 'instant queries are marked');
});

t.test('every dashboard expression is valid PromQL (promtool)', async (t) => {
  if (!PROMTOOL) {
    t.fail("promtool not found: install Debian's `prometheus` package (apt-get install prometheus), which CI installs too, or set PROMTOOL");
    return;
  }
  const dir = mkdtempSync(join(tmpdir(), 'veracity-dash-'));
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  const rules = allQueries().map((q, i) => ({ record: `dashboard_query_${i}`, expr: q.expr }));
  writeFileSync(join(dir, 'rules.yml'), stringify({ groups: [{ name: 'dashboards', rules }] }));
  const out = await new Promise<{ code: number; text: string }>((resolve) =>
    execFile(PROMTOOL, ['check', 'rules', join(dir, 'rules.yml')], { timeout: 60_000 }, (err, stdout, stderr) =>
      resolve({ code: err ? 1 : 0, text: stdout + stderr })),
  );
  t.equal(out.code, 0, out.text);
  t.match(out.text, new RegExp(`SUCCESS: ${rules.length} rules found`));
});
