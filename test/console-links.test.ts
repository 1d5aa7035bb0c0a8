import t from 'tap';
import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { parseFilters, selects } from '../src/console/query.js';

// Grafana data links and the runbook open the console with filters in the URL; the console must
// read them as meant: Grafana's ${__from}/${__to} (milliseconds) and provider/model.

const ROOT = resolve(import.meta.dirname, '..');

function linksOf(node: unknown, out: Array<{ title: string; url: string }> = []) {
  if (Array.isArray(node)) for (const x of node) linksOf(x, out);
  else if (node && typeof node === 'object') {
    const o = node as Record<string, unknown>;
    if (typeof o.url === 'string' && o.url.includes('/veracity/')) out.push({ title: String(o.title), url: o.url });
    for (const v of Object.values(o)) linksOf(v, out);
  }
  return out;
}

t.test('dashboard data links open the console on the clicked model and the dashboard range', async (t) => {
  const d = JSON.parse(readFileSync(resolve(ROOT, 'grafana/dashboards/veracity-models.json'), 'utf8'));
  const links = linksOf(d);
  t.ok(links.length >= 5, `${links.length} console links`);
  t.ok(d.templating.list.some((v: { name: string }) => v.name === 'veracity_console'), '$veracity_console is defined');
  const from = 1764500000000;
  const to = from + 6 * 3600_000;
  for (const link of links) {
    const url = link.url
      .replaceAll('${veracity_console}', 'http://127.0.0.1:8080')
      .replaceAll('${__field.labels.provider:percentencode}', 'openai')
      .replaceAll('${__field.labels.model:percentencode}', encodeURIComponent('gpt-4o (2024)'))
      .replaceAll('${__from}', String(from))
      .replaceAll('${__to}', String(to));
    t.notMatch(url, /\$\{/, `${link.title}: every variable substituted`);
    const u = new URL(url);
    t.match(u.pathname, /^\/veracity\/(flagged)?$/);
    const q: Record<string, string | string[]> = {};
    for (const [k, v] of u.searchParams) q[k] = k === 'model' ? [...((q[k] as string[]) ?? []), v] : v;
    const f = parseFilters(q, Math.floor(to / 1000) + 60);
    t.same(f.errors, [], `${link.title}: the console reads every parameter`);
    t.same([f.from, f.to], [from / 1000, to / 1000], 'the dashboard range');
    if (q.model) t.ok(selects(f, { traffic: 'primary', provider: 'openai', model: 'gpt-4o (2024)' }), 'the clicked model');
  }
});

t.test('filters: presets, absolute ranges, bad input named', async (t) => {
  const now = 1_800_000_000;
  t.same([parseFilters({}, now).from, parseFilters({}, now).range], [now - 86400, '24h']);
  t.equal(parseFilters({ range: '15m' }, now).from, now - 900);
  t.same(parseFilters({ from: '2027-01-15T00:00:00Z', to: '2027-01-15T06:00:00Z' }, now).to - parseFilters({ from: '2027-01-15T00:00:00Z', to: '2027-01-15T06:00:00Z' }, now).from, 21600);
  t.match(parseFilters({ range: 'soon' }, now).errors.join(), /not a duration/);
  t.match(parseFilters({ from: '2', to: '1' }, now).errors.join(), /not a time|before/);
  t.match(parseFilters({ range: '400d' }, now).errors.join(), /at most 90 days/);
  t.equal(parseFilters({ kind: 'refusal', order: 'top' }, now).kind, 'refusal');
  t.ok(selects(parseFilters({ model: 'gpt-4o' }, now), { traffic: 'primary', provider: 'anthropic', model: 'gpt-4o' }), 'a bare model name matches any provider');
  t.notOk(selects(parseFilters({ model: 'openai/gpt-4o' }, now), { traffic: 'primary', provider: 'anthropic', model: 'gpt-4o' }));
});
