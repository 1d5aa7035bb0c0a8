import t from 'tap';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { loadConfig } from '../src/config/load.js';
import { ConsoleData } from '../src/console/data.js';
import { createMetrics } from '../src/metrics/registry.js';
import { buildProxy } from '../src/proxy/server.js';
import type { Comparison } from '../src/report/compare/figures.js';
import { fmtP, MEASURE_NAMES } from '../src/report/compare/figures.js';
import { compareMain } from '../src/report/compare/main.js';
import { MEASURES } from '../src/report/compare/pairing.js';
import { loadFromClient } from '../src/report/compare/sources.js';
import { formatRate } from '../src/report/format.js';
import { VerdictStore } from '../src/verdicts/store.js';
import { MODEL_A, MODEL_B, N_PAIRS, seedVerdicts } from './helpers/compare-seed.js';
import { startRedisWithClient } from './helpers/redis.js';

// The console's compare page is `report --compare` rendered by the proxy: on the seeded set whose
// every count is known, the page shows the CLI's figures, cell for cell.

const unescape = (s: string) => s.replace(/<[^>]+>/g, '').replaceAll('&lt;', '<').replaceAll('&gt;', '>').replaceAll('&quot;', '"').replaceAll('&#39;', "'").replaceAll('&amp;', '&').trim();

t.test('the compare page shows the figures of report --compare', async (t) => {
  const { redis, client } = await startRedisWithClient(t);
  const seed = seedVerdicts();
  const store = new VerdictStore(client, 'veracity', 7 * 86_400);
  for (const v of seed.verdicts) await store.putIfAbsent(v);
  const dead = 'http://127.0.0.1:9';
  const { config } = loadConfig({ env: { PORT: '0', VERACITY_OPENAI_UPSTREAM: dead, VERACITY_ANTHROPIC_UPSTREAM: dead } });
  const data = new ConsoleData(client, config);
  const app = buildProxy({ config, metrics: createMetrics(), store, console: data, logger: false }).app;
  t.teardown(() => app.close());

  const dir = mkdtempSync(join(tmpdir(), 'veracity-console-compare-'));
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  const json = join(dir, 'c.json');
  let err = '';
  const code = await compareMain(['--compare', MODEL_A, MODEL_B, '--redis', redis.url, '--since', '24h', '--at', String(seed.atSeconds), '--json', json], { out: () => {}, err: (s) => void (err += s) });
  t.equal(code, 0, err);
  const cli = JSON.parse(readFileSync(json, 'utf8')) as Comparison;
  t.equal(cli.pairing.prompts, N_PAIRS);

  const from = (seed.atSeconds - 86_400) * 1000;
  const to = seed.atSeconds * 1000;
  const res = await app.inject({ method: 'GET', url: `/veracity/compare?from=${from}&to=${to}&a=${MODEL_A}&b=${MODEL_B}`, remoteAddress: '127.0.0.1' });
  t.equal(res.statusCode, 200);
  t.notMatch(res.body, /<script|<style/, 'no script, no inline style (the CSP allows neither)');

  // Each measure's row: the same cells the CLI's figures give.
  const rows = [...res.body.matchAll(/<tr><th scope="row">([^<]+)<\/th>((?:<td>[^<]*<\/td>)+)<\/tr>/g)].map((m) => [unescape(m[1]!), ...[...m[2]!.matchAll(/<td>([^<]*)<\/td>/g)].map((c) => unescape(c[1]!))]);
  for (const m of MEASURES) {
    const f = cli[m];
    const row = rows.find((r) => r[0] === MEASURE_NAMES[m]);
    t.ok(row, `a row for ${m}`);
    t.same(row!.slice(1, 8), [String(f.n), String(f.both), String(f.onlyA), String(f.onlyB), String(f.neither), formatRate(f.a), formatRate(f.b)], `${m}: counts and rates as the CLI gives them`);
    t.equal(row![9], fmtP(f.mcnemar.p), `${m}: McNemar p`);
  }
  t.same(rows.find((r) => r[0] === 'hallucination')!.slice(2, 6), ['60', '21', '9', '173'], 'the known table');
  t.match(unescape(res.body), /Prompts answered by both: 263 \(12 as shadow pairs\)/);
  for (const n of cli.notes) t.match(unescape(res.body), n, 'the same reading in words');
  t.match(res.body, /a-80/, 'the most telling disagreement');
  // The page's figures are the comparison's own: the console reads the same verdicts the CLI does.
  const page = await data.compare({ model: MODEL_A }, { model: MODEL_B }, { since: null, fromMs: from, toMs: to });
  for (const m of MEASURES) t.same({ ...page[m], examples: undefined }, { ...cli[m], examples: undefined }, `${m}: same figures`);
  t.same(page.pairing, cli.pairing);

  // The form offers every indexed model; a model answering under two providers must be named.
  const form = await app.inject({ method: 'GET', url: '/veracity/compare', remoteAddress: '127.0.0.1' });
  t.equal(form.statusCode, 200);
  for (const m of [`openai:${MODEL_A}`, `anthropic:${MODEL_B}`, 'openai:gpt-4o-mini']) t.match(form.body, `<option value="${m}">`);
  t.match(form.body, /Choose two models/);

  // Bounded in the proxy: past the cap, the newest verdicts are read and the page says so.
  const capped = await loadFromClient(client, 'veracity', { model: MODEL_A }, { model: MODEL_B }, { fromMs: from, toMs: to }, 'test', 100);
  t.equal(capped.cappedAt, 100);
  t.equal(capped.a.length, 100);
});
