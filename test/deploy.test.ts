import t from 'tap';
import { execFile } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, readdirSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parse as parseYaml, parseAllDocuments, stringify } from 'yaml';
import { Namespace, ConfigMap, Service } from 'kubernetes-models/v1';
import { Deployment } from 'kubernetes-models/apps/v1';
import { PodDisruptionBudget } from 'kubernetes-models/policy/v1';
import { ScaledObject } from '@kubernetes-models/keda/keda.sh/v1alpha1';
import jsonPatch from 'fast-json-patch';
import { loadConfig } from '../src/config/load.js';
import { ConfigSchema } from '../src/config/schema.js';
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
  // Regex-escaped, then escaped again for the PromQL string literal it lands in.
  t.equal(substitute('x{m=~"$model"}', { model: ['gpt-4.1'] }, d), 'x{m=~"gpt-4\\\\.1"}', 'single values are regex-escaped');
  t.equal(substitute('x{m=~"${model}"}', { model: '$__all' }, d), 'x{m=~".*"}', 'All is .*');
  t.ok(picked.find((q) => q.instant), 'instant queries are marked');
  const aliased = panelQueries(d, { $provider: 'openai', rateInterval: '30s', range: '6h' });
  t.match(aliased.find((q) => q.panel === 'Hallucination rate by model')!.expr, /provider=~"openai", model=~"\.\*"\}\[30s\]/, '$-prefixed names and aliases');
  t.match(aliased.find((q) => q.instant)!.expr, /\[6h\]/);
});

t.test('every dashboard expression is valid PromQL (promtool)', async (t) => {
  if (!PROMTOOL) {
    t.fail("promtool not found: install Debian's `prometheus` package (apt-get install prometheus), which CI installs too, or set PROMTOOL");
    return;
  }
  const dir = mkdtempSync(join(tmpdir(), 'veracity-dash-'));
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  const picked = [...dashboards.values()].flatMap((d) => panelQueries(d, { provider: ['openai', 'anthropic'], model: ['gpt-3.5-turbo', 'claude-3.5(new)'] }));
  const rules = [...allQueries(), ...picked].map((q, i) => ({ record: `dashboard_query_${i}`, expr: q.expr }));
  writeFileSync(join(dir, 'rules.yml'), stringify({ groups: [{ name: 'dashboards', rules }] }));
  const out = await new Promise<{ code: number; text: string }>((resolve) =>
    execFile(PROMTOOL, ['check', 'rules', join(dir, 'rules.yml')], { timeout: 60_000 }, (err, stdout, stderr) =>
      resolve({ code: err ? 1 : 0, text: stdout + stderr })),
  );
  t.equal(out.code, 0, out.text);
  t.match(out.text, new RegExp(`SUCCESS: ${rules.length} rules found`));
});

// ---------------------------------------------------------------- deploy/ and grafana/ YAML

function walk(dir: string): string[] {
  return readdirSync(dir).flatMap((name) => {
    const path = join(dir, name);
    return statSync(path).isDirectory() ? walk(path) : [path];
  });
}
const yamlFiles = [...walk('deploy'), ...walk('grafana')].filter((f) => /\.ya?ml$/.test(f)).sort();

function docsOf(file: string): Array<Record<string, any>> {
  return parseAllDocuments(readFileSync(file, 'utf8'), { merge: true })
    .map((d) => d.toJS({ maxAliasCount: 100 }) as Record<string, any> | null)
    .filter((d): d is Record<string, any> => d !== null);
}

t.test('every YAML file under deploy/ and grafana/ parses (all documents)', async (t) => {
  t.ok(yamlFiles.length >= 15, `${yamlFiles.length} YAML files`);
  for (const file of yamlFiles) {
    const docs = parseAllDocuments(readFileSync(file, 'utf8'), { merge: true });
    for (const doc of docs) t.same(doc.errors.map((e) => e.message), [], `${file} parses`);
    t.ok(docs.some((d) => d.contents !== null), `${file} is not empty`);
  }
});

const k8sFiles = walk('deploy/k8s').filter((f) => /\.ya?ml$/.test(f));
const k8s = k8sFiles.flatMap((file) => docsOf(file).map((doc) => ({ file, doc })));
const ofKind = (kind: string) => k8s.filter((x) => x.doc.kind === kind).map((x) => x.doc);
const deployments = () => ofKind('Deployment');
const labelsMatch = (selector: Record<string, string>, labels: Record<string, string>) =>
  Object.entries(selector).every(([k, v]) => labels[k] === v);

t.test('k8s manifests: the expected kinds are present', async (t) => {
  const kinds = k8s.map((x) => x.doc.kind).sort();
  t.same(kinds, ['ConfigMap', 'Deployment', 'Deployment', 'Kustomization', 'Namespace', 'PodDisruptionBudget', 'PodDisruptionBudget', 'ScaledObject', 'Service']);
  t.same(deployments().map((d) => d.metadata.name).sort(), ['veracity-proxy', 'veracity-worker']);
  const kustomization = ofKind('Kustomization')[0]!;
  for (const resource of kustomization.resources as string[]) t.ok(existsSync(join('deploy/k8s', resource)), `kustomization lists ${resource}, which exists`);
  t.same(
    (kustomization.resources as string[]).slice().sort(),
    k8sFiles.map((f) => f.slice('deploy/k8s/'.length)).filter((f) => f !== 'kustomization.yaml').sort(),
    'kustomization lists every manifest',
  );
});

t.test('k8s manifests validate against the Kubernetes and KEDA API schemas', async (t) => {
  const models: Record<string, new (data: any) => { validate(): void }> = {
    'v1/Namespace': Namespace,
    'v1/ConfigMap': ConfigMap,
    'v1/Service': Service,
    'apps/v1/Deployment': Deployment,
    'policy/v1/PodDisruptionBudget': PodDisruptionBudget,
    'keda.sh/v1alpha1/ScaledObject': ScaledObject,
  };
  for (const { file, doc } of k8s) {
    if (doc.kind === 'Kustomization') continue;
    const Model = models[`${doc.apiVersion}/${doc.kind}`];
    t.ok(Model, `${file}: ${doc.apiVersion} ${doc.kind} has a schema`);
    if (!Model) continue;
    t.doesNotThrow(() => new Model(doc).validate(), `${file}: ${doc.kind} ${doc.metadata?.name} is valid`);
  }
  // The validator is not a rubber stamp.
  const broken = structuredClone(deployments()[0]!);
  broken.spec.template.spec.containers[0].ports[0].containerPort = 'eighty';
  t.throws(() => new Deployment(broken).validate(), 'a wrong type is rejected');
});

t.test('k8s deployments: probes, resources and a non-root, read-only container', async (t) => {
  for (const d of deployments()) {
    const name = d.metadata.name as string;
    const pod = d.spec.template.spec;
    t.ok(labelsMatch(d.spec.selector.matchLabels, d.spec.template.metadata.labels), `${name}: selector matches the pod labels`);
    t.equal(pod.securityContext?.runAsNonRoot, true, `${name}: pod runAsNonRoot`);
    t.not(pod.securityContext?.runAsUser, 0, `${name}: pod does not run as uid 0`);
    t.equal(pod.automountServiceAccountToken, false, `${name}: no service account token`);
    t.equal(pod.volumes?.find((v: any) => v.name === 'config')?.configMap?.name, 'veracity-config', `${name}: mounts the ConfigMap`);
    for (const c of pod.containers) {
      const portNames = new Set((c.ports ?? []).map((p: any) => p.name));
      const portNumbers = new Set((c.ports ?? []).map((p: any) => p.containerPort));
      t.equal(c.livenessProbe?.httpGet?.path, '/healthz', `${name}: liveness on /healthz`);
      t.equal(c.readinessProbe?.httpGet?.path, '/readyz', `${name}: readiness on /readyz`);
      for (const probe of [c.livenessProbe, c.readinessProbe]) {
        const port = probe?.httpGet?.port;
        t.ok(portNames.has(port) || portNumbers.has(port), `${name}: probe port ${port} is a container port`);
      }
      for (const kind of ['requests', 'limits']) {
        t.ok(c.resources?.[kind]?.cpu && c.resources?.[kind]?.memory, `${name}: ${kind} for cpu and memory`);
      }
      const sc = c.securityContext ?? {};
      t.equal(sc.readOnlyRootFilesystem, true, `${name}: read-only root filesystem`);
      t.equal(sc.allowPrivilegeEscalation, false, `${name}: no privilege escalation`);
      t.ok(sc.runAsNonRoot === true || pod.securityContext?.runAsNonRoot === true, `${name}: non-root`);
      t.same(sc.capabilities?.drop, ['ALL'], `${name}: drops all capabilities`);
      t.equal(c.env.find((e: any) => e.name === 'VERACITY_CONFIG')?.value, '/app/deploy-config/veracity.yaml', `${name}: reads the mounted config`);
      t.ok(c.env.find((e: any) => e.name === 'REDIS_URL')?.valueFrom?.secretKeyRef, `${name}: REDIS_URL from a Secret`);
    }
  }
  const proxy = deployments().find((d) => d.metadata.name === 'veracity-proxy')!;
  const worker = deployments().find((d) => d.metadata.name === 'veracity-worker')!;
  t.same(proxy.spec.template.spec.containers[0].command, ['node', 'dist/cli.js', 'proxy']);
  t.same(worker.spec.template.spec.containers[0].command, ['node', 'dist/cli.js', 'worker']);
  t.equal(worker.spec.template.spec.containers[0].ports[0].containerPort, 9464, 'worker metrics port');
});

t.test('k8s services, disruption budgets and the autoscaler point at the right pods', async (t) => {
  const pods = deployments().map((d) => ({ name: d.metadata.name as string, labels: d.spec.template.metadata.labels, spec: d.spec.template.spec }));
  const [service] = ofKind('Service');
  const target = pods.filter((p) => labelsMatch(service!.spec.selector, p.labels));
  t.same(target.map((p) => p.name), ['veracity-proxy'], 'the Service selects the proxy only');
  const proxyPorts = target[0]!.spec.containers[0].ports.map((p: any) => p.name);
  for (const port of service!.spec.ports) t.ok(proxyPorts.includes(port.targetPort), `Service targetPort ${port.targetPort} exists`);

  const budgets = ofKind('PodDisruptionBudget');
  t.same(
    budgets.map((b) => pods.filter((p) => labelsMatch(b.spec.selector.matchLabels, p.labels)).map((p) => p.name)).sort(),
    [['veracity-proxy'], ['veracity-worker']],
    'one disruption budget per Deployment',
  );

  const [scaled] = ofKind('ScaledObject');
  t.equal(scaled!.spec.scaleTargetRef.name, 'veracity-worker');
  const trigger = scaled!.spec.triggers[0];
  t.equal(trigger.type, 'prometheus');
  t.match(trigger.metadata.query, /veracity_queue_depth\{state="waiting"\}/);
  const known = await exportedSeriesNames();
  for (const name of metricNamesIn(trigger.metadata.query)) t.ok(known.has(name), `ScaledObject query: ${name} is exported`);
  t.ok(Number(trigger.metadata.threshold) > 0, 'threshold is a positive number');
  t.ok(scaled!.spec.minReplicaCount >= 2 && scaled!.spec.maxReplicaCount > scaled!.spec.minReplicaCount, 'replica bounds');
  t.match(readFileSync('deploy/k8s/worker.yaml', 'utf8'), /# kind: HorizontalPodAutoscaler/, 'HPA alternative documented');
});

t.test('the container config (compose file and ConfigMap) is one valid config', async (t) => {
  const fromFile = parseYaml(readFileSync('deploy/config/veracity.yaml', 'utf8'));
  const fromMap = parseYaml(ofKind('ConfigMap')[0]!.data['veracity.yaml']);
  for (const [what, raw] of [['deploy/config/veracity.yaml', fromFile], ['ConfigMap', fromMap]] as const) {
    const parsed = ConfigSchema.safeParse(raw);
    t.ok(parsed.success, `${what} is valid: ${parsed.success ? '' : JSON.stringify(parsed.error.issues)}`);
    if (parsed.success) {
      t.equal(parsed.data.server.host, '0.0.0.0', `${what}: proxy listens beyond loopback`);
      t.equal(parsed.data.worker.metricsHost, '0.0.0.0', `${what}: worker metrics reachable by Prometheus`);
    }
  }
  t.same(fromMap, fromFile, 'ConfigMap and compose config agree');
});

t.test('docker-compose: the services, their commands, and mounts that exist', async (t) => {
  const compose = docsOf('deploy/docker-compose.yml')[0]!;
  const s = compose.services;
  t.same(Object.keys(s).sort(), ['alertmanager', 'grafana', 'prometheus', 'proxy', 'redis', 'worker']);
  t.same(s.proxy.command, ['node', 'dist/cli.js', 'proxy']);
  t.same(s.worker.command, ['node', 'dist/cli.js', 'worker']);
  t.equal(s.worker.deploy.replicas, 2);
  for (const name of ['proxy', 'worker']) {
    t.equal(s[name].environment.REDIS_URL, 'redis://redis:6379', `${name}: REDIS_URL`);
    t.equal(s[name].build.dockerfile, 'deploy/Dockerfile', `${name}: built from deploy/Dockerfile`);
  }
  for (const [name, svc] of Object.entries<any>(s)) {
    for (const v of svc.volumes ?? []) {
      const [src] = String(v).split(':');
      if (!src!.startsWith('.')) continue; // named volume
      t.ok(existsSync(join('deploy', src!)), `${name}: mounted ${src} exists`);
    }
  }
  const mounts = (svc: string) => (s[svc].volumes as string[]).map((v) => v.split(':')[1]);
  for (const f of ['prometheus.yml', 'recording-rules.yml', 'alert-rules.yml']) t.ok(mounts('prometheus').includes(`/etc/prometheus/${f}`), `prometheus mounts ${f}`);
  t.ok(mounts('alertmanager').includes('/etc/alertmanager/alertmanager.yml'), 'alertmanager config mounted');
  const provider = docsOf('grafana/provisioning/dashboards/veracity.yml')[0]!.providers[0];
  t.ok(mounts('grafana').includes(provider.options.path), 'grafana mounts the dashboards where the provider looks');
  t.ok(mounts('grafana').includes('/etc/grafana/provisioning/datasources'), 'grafana datasource provisioning mounted');
});

t.test('Prometheus scrapes the proxy and the workers; Grafana reaches Prometheus by uid', async (t) => {
  const prom = docsOf('deploy/prometheus/prometheus.yml')[0]!;
  const job = (name: string) => prom.scrape_configs.find((j: any) => j.job_name === name);
  t.same(job('veracity-proxy')?.static_configs[0].targets, ['proxy:8080']);
  t.same(job('veracity-worker')?.dns_sd_configs[0].names, ['worker']);
  t.equal(job('veracity-worker')?.dns_sd_configs[0].port, 9464);
  t.same(prom.alerting.alertmanagers[0].static_configs[0].targets, ['alertmanager:9093']);
  const ds = docsOf('grafana/provisioning/datasources/prometheus.yml')[0]!.datasources[0];
  t.equal(ds.uid, DATASOURCE_UID);
  t.equal(ds.type, 'prometheus');
});

t.test('Dockerfile: multi-stage on node:20-bookworm-slim, non-root, production deps only', async (t) => {
  const text = readFileSync('deploy/Dockerfile', 'utf8');
  const lines = text.split('\n').map((l) => l.trim()).filter((l) => l && !l.startsWith('#'));
  const froms = lines.filter((l) => /^FROM\s/i.test(l));
  t.ok(froms.length >= 2, 'multi-stage');
  for (const f of froms) t.match(f, /^FROM node:20-bookworm-slim\b/, f);
  t.match(text, /RUN npm ci\b/);
  t.match(text, /RUN npm run build/);
  t.match(text, /npm ci --omit=dev/);
  const runtime = text.slice(text.lastIndexOf('\nFROM '));
  t.match(runtime, /COPY .*dist \.\/dist/, 'runtime copies dist');
  t.match(runtime, /COPY .*config \.\/config/, 'runtime copies config');
  t.match(runtime, /COPY .*node_modules \.\/node_modules/, 'runtime copies node_modules');
  const user = runtime.match(/^USER\s+(\S+)/m)?.[1];
  t.ok(user && !/^(root|0)(:|$)/.test(user), `runtime runs as ${user}`);
  t.match(runtime, /^EXPOSE 8080 9464$/m);
  t.match(runtime, /^CMD \["node", "dist\/cli\.js", "proxy"\]$/m);
  for (const m of text.matchAll(/^COPY ((?:--\S+\s+)*)(\S+)\s/gm)) {
    if (/--from=/.test(m[1]!)) continue; // from another stage
    t.ok(existsSync(m[2]!), `COPY source ${m[2]} exists in the build context`);
  }
  const ignore = readFileSync('deploy/Dockerfile.dockerignore', 'utf8');
  for (const needed of ['src', 'config', 'package.json', 'package-lock.json', 'tsconfig.json']) t.match(ignore, new RegExp(`^!${needed.replace('.', '\\.')}`, 'm'), `build context keeps ${needed}`);
});

function run(cmd: string, args: string[]): Promise<{ code: number; text: string }> {
  return new Promise((resolve) =>
    execFile(cmd, args, { timeout: 60_000 }, (err, stdout, stderr) => resolve({ code: err ? 1 : 0, text: stdout + stderr })),
  );
}
const onPath = (bin: string) => ['/usr/bin', '/usr/local/bin'].map((d) => join(d, bin)).find((p) => existsSync(p));

// Optional tools: CI does not install them, so these checks run where they are present.
t.test('amtool accepts alertmanager.yml', { skip: !onPath('amtool') && 'amtool not installed (Debian: prometheus-alertmanager)' }, async (t) => {
  const r = await run(onPath('amtool')!, ['check-config', 'deploy/alertmanager/alertmanager.yml']);
  t.equal(r.code, 0, r.text);
});

t.test('docker-compose accepts docker-compose.yml', { skip: !onPath('docker-compose') && 'docker-compose not installed (Debian: docker-compose)' }, async (t) => {
  const r = await run(onPath('docker-compose')!, ['-f', 'deploy/docker-compose.yml', 'config', '-q']);
  t.equal(r.code, 0, r.text);
});

// ---------------------------------------------------------------- Redis modes: Sentinel and Cluster

/**
 * Renders a kustomize overlay of the base the way `kubectl apply -k` does for what the overlays
 * here use: `resources: [../k8s]` and JSON 6902 patch files aimed at a kind and name.
 */
function renderOverlay(dir: string): Array<Record<string, any>> {
  const kustomization = docsOf(join(dir, 'kustomization.yaml'))[0]!;
  const docs: Array<Record<string, any>> = [];
  for (const resource of kustomization.resources as string[]) {
    const base = join(dir, resource);
    const baseKustomization = docsOf(join(base, 'kustomization.yaml'))[0]!;
    for (const file of baseKustomization.resources as string[]) docs.push(...docsOf(join(base, file)).map((d) => structuredClone(d)));
  }
  for (const patch of kustomization.patches as Array<{ path: string; target: { kind: string; name: string } }>) {
    const ops = parseYaml(readFileSync(join(dir, patch.path), 'utf8'));
    const targets = docs.filter((d) => d.kind === patch.target.kind && d.metadata?.name === patch.target.name);
    if (targets.length !== 1) throw new Error(`${dir}: patch ${patch.path} matches ${targets.length} resources`);
    // applyPatch validates each operation; a failing `test` op throws.
    jsonPatch.applyPatch(targets[0], ops, true, true);
  }
  return docs;
}

/** What a container's environment gives Veracity: literal values, and a stand-in for each secret. */
function containerEnv(container: any): Record<string, string> {
  return Object.fromEntries((container.env as any[]).map((e) => [e.name, e.value ?? `secret:${e.valueFrom.secretKeyRef.key}`]));
}

for (const [mode, variable] of [['sentinel', 'VERACITY_REDIS_SENTINELS'], ['cluster', 'VERACITY_REDIS_CLUSTER_NODES']] as const) {
  t.test(`k8s overlay for ${mode} mode: renders onto the base, validates, and gives Veracity a valid ${mode} config`, async (t) => {
    const dir = `deploy/k8s-${mode}`;
    const docs = renderOverlay(dir);
    const base = k8s.filter((x) => x.doc.kind !== 'Kustomization').map((x) => x.doc);
    t.equal(docs.length, base.length, 'every base resource is there');
    const deps = docs.filter((d) => d.kind === 'Deployment');
    t.same(deps.map((d) => d.metadata.name).sort(), ['veracity-proxy', 'veracity-worker']);
    for (const d of deps) {
      t.doesNotThrow(() => new Deployment(d).validate(), `${d.metadata.name}: valid Deployment`);
      const container = d.spec.template.spec.containers[0];
      const env = containerEnv(container);
      t.notOk('REDIS_URL' in env, `${d.metadata.name}: no REDIS_URL`);
      t.ok(env[variable], `${d.metadata.name}: ${variable}`);
      t.same(container.env.find((e: any) => e.name === 'VERACITY_REDIS_PASSWORD')?.valueFrom?.secretKeyRef, { name: 'veracity-secrets', key: 'redis-password' }, `${d.metadata.name}: the password from the Secret`);
      t.equal(env.VERACITY_CONFIG, '/app/deploy-config/veracity.yaml', `${d.metadata.name}: still reads the mounted config`);
      const { config } = loadConfig({ file: 'deploy/config/veracity.yaml', env });
      t.ok(mode === 'sentinel' ? config.redis.sentinels && config.redis.sentinelName : config.redis.clusterNodes, `${d.metadata.name}: the config loads in ${mode} mode`);
      if (mode === 'cluster') t.equal(config.redis.prefix, '{veracity}', 'hash-tagged prefix');
      // The rest of the pod is the base's, unchanged.
      const original = base.find((b) => b.kind === 'Deployment' && b.metadata.name === d.metadata.name)!;
      const withoutEnv = (x: any) => ({ ...x.spec.template.spec.containers[0], env: undefined });
      t.same(withoutEnv(d), withoutEnv(original), `${d.metadata.name}: only the environment changed`);
    }
    const scaled = docs.find((d) => d.kind === 'ScaledObject')!;
    t.match(scaled.spec.triggers[0].metadata.query, /veracity_queue_depth\{state="waiting"\}/, 'KEDA still scales on the queue depth the workers export (read from the cluster by BullMQ)');
    t.equal(docs.find((d) => d.kind === 'Deployment' && d.metadata.name === 'veracity-proxy')!.spec.template.spec.containers[0].env.find((e: any) => e.name === 'VERACITY_ADMIN_TOKEN')?.valueFrom?.secretKeyRef?.key, 'admin-token', 'the proxy keeps its admin token');
    // The patch must fail loudly if the base ever moves REDIS_URL.
    const broken = structuredClone(base.find((b) => b.kind === 'Deployment')!);
    broken.spec.template.spec.containers[0].env.splice(1, 1, { name: 'VERACITY_REDIS_URL_MOVED', value: 'x' });
    t.throws(() => jsonPatch.applyPatch(broken, parseYaml(readFileSync(join(dir, 'redis-env.yaml'), 'utf8')), true, true), 'the patch checks it replaces REDIS_URL');
  });
}

const composeOverrides = { sentinel: 'deploy/docker-compose.sentinel.yml', cluster: 'deploy/docker-compose.cluster.yml' } as const;

t.test('docker-compose overrides for Sentinel and Cluster: the servers, Veracity in that mode, no password on a command line', async (t) => {
  for (const [mode, file] of Object.entries(composeOverrides)) {
    const services = docsOf(file)[0]!.services;
    const names = Object.keys(services).sort();
    if (mode === 'sentinel') t.same(names, ['proxy', 'redis', 'redis-replica', 'sentinel-1', 'sentinel-2', 'sentinel-3', 'worker'], `${mode}: services`);
    else t.same(names, ['proxy', 'redis', 'redis-2', 'redis-3', 'redis-4', 'redis-5', 'redis-6', 'redis-cluster-init', 'worker'], `${mode}: services`);
    for (const name of ['proxy', 'worker']) {
      const env = services[name].environment as Record<string, string>;
      t.equal(env.REDIS_URL, '', `${mode} ${name}: REDIS_URL emptied (the base's single Redis is not used)`);
      t.equal(env.VERACITY_REDIS_PASSWORD, '${REDIS_PASSWORD:?set REDIS_PASSWORD}', `${mode} ${name}: the password from the environment, required`);
      const { config } = loadConfig({ file: 'deploy/config/veracity.yaml', env: { ...env, VERACITY_REDIS_PASSWORD: 'x' } });
      t.ok(mode === 'sentinel' ? config.redis.sentinels?.length === 3 : config.redis.clusterNodes?.length === 3, `${mode} ${name}: loads in ${mode} mode`);
    }
    for (const [name, svc] of Object.entries<any>(services)) {
      const command = [svc.command ?? []].flat().join(' ');
      t.notMatch(command, /requirepass\s+(?!"\$\$REDIS_PASSWORD")/, `${mode} ${name}: requirepass only from the environment`);
      if (/redis-(server|cli|sentinel)/.test(command) && /REDIS_PASSWORD/.test(command)) t.equal(svc.environment?.REDIS_PASSWORD, '${REDIS_PASSWORD:?set REDIS_PASSWORD}', `${mode} ${name}: REDIS_PASSWORD in its environment`);
    }
    for (const svc of Object.values<any>(services)) for (const v of svc.volumes ?? []) {
      const [src] = String(v).split(':');
      if (src!.startsWith('.')) t.ok(existsSync(join('deploy', src!)), `${mode}: mounted ${src} exists`);
    }
  }
  const cluster = docsOf(composeOverrides.cluster)[0]!.services;
  t.match(cluster['redis-cluster-init'].command.join(' '), /--cluster create redis:6379 redis-2:6379 redis-3:6379 redis-4:6379 redis-5:6379 redis-6:6379\s+--cluster-replicas 1/, 'six nodes, one replica per primary');
  t.equal(cluster.proxy.depends_on['redis-cluster-init'].condition, 'service_completed_successfully', 'Veracity starts once the cluster is formed');
  const sentinel = docsOf(composeOverrides.sentinel)[0]!.services;
  t.match(sentinel['sentinel-1'].command.join(' '), /sentinel monitor veracity redis 6379 2/, 'sentinels watch the primary with quorum 2');
  t.equal(docsOf(composeOverrides.sentinel)[0]!.services.proxy.environment.VERACITY_REDIS_SENTINEL_NAME, 'veracity', 'the name the sentinels monitor');
});

t.test('docker-compose accepts the base with each Redis-mode override', { skip: !onPath('docker-compose') && 'docker-compose not installed (Debian: docker-compose)' }, async (t) => {
  for (const file of Object.values(composeOverrides)) {
    const r = await new Promise<{ code: number; text: string }>((resolve) =>
      execFile(onPath('docker-compose')!, ['-f', 'deploy/docker-compose.yml', '-f', file, 'config', '-q'], { timeout: 60_000, env: { ...process.env, REDIS_PASSWORD: 'compose-check' } }, (err, stdout, stderr) =>
        resolve({ code: err ? 1 : 0, text: stdout + stderr }),
      ),
    );
    t.equal(r.code, 0, `${file}: ${r.text}`);
  }
});
