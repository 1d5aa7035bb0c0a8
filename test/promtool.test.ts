import t from 'tap';
import { execFile } from 'node:child_process';
import { existsSync, readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { parse as parseYaml } from 'yaml';
import { exportedSeriesNames, metricNamesIn } from '../src/report/promql.js';

const PROM = 'deploy/prometheus';
const TESTS = join(PROM, 'tests');
const PROMTOOL = process.env.PROMTOOL ?? ['/usr/bin/promtool', '/usr/local/bin/promtool'].find((p) => existsSync(p));

interface Run { code: number; out: string }

function promtool(args: string[]): Promise<Run> {
  return new Promise((resolve) => {
    execFile(PROMTOOL!, args, { timeout: 60_000 }, (err, stdout, stderr) => {
      const code = err ? (typeof err.code === 'number' ? err.code : 1) : 0;
      resolve({ code, out: `${stdout}${stderr}` });
    });
  });
}

interface Rule { alert?: string; record?: string; expr: string; for?: string; annotations?: Record<string, string> }
const groups = (file: string): Array<{ name: string; rules: Rule[] }> =>
  (parseYaml(readFileSync(join(PROM, file), 'utf8')) as { groups: Array<{ name: string; rules: Rule[] }> }).groups;
const alerts = groups('alert-rules.yml').flatMap((g) => g.rules);
const records = groups('recording-rules.yml').flatMap((g) => g.rules);
const testFiles = readdirSync(TESTS).filter((f) => f.endsWith('.yml')).map((f) => join(TESTS, f));

t.test('promtool is installed', async (t) => {
  t.ok(PROMTOOL, "promtool not found: install Debian's `prometheus` package (apt-get install prometheus), which CI installs too, or set PROMTOOL");
});

t.test('promtool check config accepts prometheus.yml and its rule files', { skip: !PROMTOOL && 'promtool missing (see above)' }, async (t) => {
  const r = await promtool(['check', 'config', join(PROM, 'prometheus.yml')]);
  t.equal(r.code, 0, r.out);
  t.match(r.out, /SUCCESS/);
});

t.test('promtool check rules accepts the recording and alert rules', { skip: !PROMTOOL && 'promtool missing (see above)' }, async (t) => {
  const r = await promtool(['check', 'rules', join(PROM, 'recording-rules.yml'), join(PROM, 'alert-rules.yml')]);
  t.equal(r.code, 0, r.out);
  t.match(r.out, new RegExp(`SUCCESS: ${records.length} rules found`));
  t.match(r.out, new RegExp(`SUCCESS: ${alerts.length} rules found`));
});

t.test('promtool test rules passes every unit test file', { skip: !PROMTOOL && 'promtool missing (see above)' }, async (t) => {
  t.ok(testFiles.length >= 3, 'unit test files present');
  const r = await promtool(['test', 'rules', ...testFiles]);
  t.equal(r.code, 0, r.out);
  t.notMatch(r.out, /FAILED/);
});

t.test('every alert carries summary, description and a runbook anchor that exists', async (t) => {
  const runbook = readFileSync('deploy/RUNBOOK.md', 'utf8');
  // GitHub's anchor for a heading: lower-cased, punctuation dropped, spaces to dashes.
  const anchors = new Set(
    [...runbook.matchAll(/^#{1,6}\s+(.+)$/gm)].map((m) => m[1]!.trim().toLowerCase().replace(/[^\w\- ]/g, '').replace(/ /g, '-')),
  );
  t.ok(alerts.length >= 8, `${alerts.length} alerts`);
  for (const rule of alerts) {
    t.ok(rule.alert, 'alerting rule has a name');
    const a = rule.annotations ?? {};
    t.ok(a.summary && a.description, `${rule.alert}: summary and description`);
    const m = /^deploy\/RUNBOOK\.md#(.+)$/.exec(a.runbook_url ?? '');
    t.ok(m && anchors.has(m[1]!), `${rule.alert}: runbook_url ${a.runbook_url} names a section of RUNBOOK.md`);
    t.ok(rule.for, `${rule.alert}: has a for: duration`);
  }
});

t.test('every alert is tested both firing and not firing', async (t) => {
  const fired = new Set<string>();
  const quiet = new Set<string>();
  for (const file of testFiles) {
    const doc = parseYaml(readFileSync(file, 'utf8')) as {
      tests: Array<{ alert_rule_test?: Array<{ alertname: string; exp_alerts?: unknown[] }> }>;
    };
    for (const test of doc.tests) {
      for (const a of test.alert_rule_test ?? []) (a.exp_alerts?.length ? fired : quiet).add(a.alertname);
    }
  }
  for (const rule of alerts) {
    t.ok(fired.has(rule.alert!), `${rule.alert} has a firing case`);
    t.ok(quiet.has(rule.alert!), `${rule.alert} has a not-firing case`);
  }
});

t.test('rules select only metrics the registry exports (or other rules record)', async (t) => {
  const known = await exportedSeriesNames();
  known.add('up');
  for (const r of records) known.add(r.record!);
  for (const rule of [...records, ...alerts]) {
    const names = metricNamesIn(rule.expr);
    t.ok(names.length > 0, `${rule.alert ?? rule.record} selects something`);
    for (const name of names) t.ok(known.has(name), `${rule.alert ?? rule.record}: ${name} exists`);
  }
});
