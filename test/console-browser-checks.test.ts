import t from 'tap';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { Redis } from 'ioredis';
import OpenAI from 'openai';
import type { Verdict } from '../src/detect/verdict.js';
import { buildReportFromRedis } from '../src/report/from-redis.js';
import { pct } from '../src/report/format.js';
import { shadowExchangeId, shadowKey } from '../src/sampling/sampler.js';
import { ConfigSchema } from '../src/config/schema.js';
import { aggregateOptions } from '../src/verdicts/aggregates.js';
import { startScriptedModel } from './helpers/model.js';
import { startStack } from './helpers/stack.js';
import { CHROMIUM, NO_CHROMIUM, openBrowser } from './helpers/browser.js';
import { until } from './helpers/wait.js';

// How each answer was checked, in a real browser (Debian's chromium driven by puppeteer-core) in
// front of the real stack: answers checked against their context and a remote NLI scorer
// (a loopback server speaking text-embeddings-inference's /predict), open questions the worker
// re-asks a scripted model and a shadow model in the other dialect, and answers checked against
// nothing. The console must show what the report computes from the same counts, and each
// exchange's evidence as its verdict holds it.

process.env.VERACITY_SAMPLING_OPENAI_KEY = 'sk-sampling-openai-key-42';
process.env.VERACITY_SAMPLING_ANTHROPIC_KEY = 'sk-ant-sampling-key-42';

const CONTEXT =
  'Answer from the context.\n\nContext:\nThe Eiffel Tower is a wrought-iron lattice tower on the Champ de Mars in Paris, France. It was designed by the company of engineer Gustave Eiffel and completed in 1889 for the World Fair. It is repainted every seven years.';
const GROUNDED_ANSWERS = [
  'The Eiffel Tower is in Paris. It was completed in 1889. It is painted gold every year.',
  'The Eiffel Tower was completed in 1925 in Rome. It was designed by Gustave Eiffel.',
  'The Eiffel Tower is in Paris, France. It is repainted every seven years.',
];
const MAYORS = ['Josiah Whitcombe, elected in 1847', 'Samuel Harper, elected in 1852', 'Elias Brandt, elected in 1839', 'Thomas Greeley, elected in 1861', 'Margaret Olsen, elected in 1874'];
let mayor = 0;
const model = await startScriptedModel((question, _k, name) => {
  const grounded = /^Tell me about it, (\d)/.exec(question);
  if (grounded) return GROUNDED_ANSWERS[Number(grounded[1])]!;
  if (/Eiffel/.test(question)) return 'The Eiffel Tower was completed in 1889. It was designed by the company of Gustave Eiffel.';
  if (/mayor/.test(question)) return name === 'claude-shadow' ? 'The first mayor was Anna Reyes, elected in 1850.' : `The first mayor was ${MAYORS[mayor++ % MAYORS.length]}.`;
  if (/Australia/.test(question)) return 'The capital of Australia is Canberra.';
  return 'Honey found in ancient tombs was still edible.';
});
t.teardown(() => model.close());

// A loopback /predict endpoint: contradiction for the invented claims, entailment for the rest.
const tei = createServer((req, res) => {
  let text = '';
  req.on('data', (d) => (text += d));
  req.on('end', () => {
    const inputs = (JSON.parse(text) as { inputs: Array<[string, string]> }).inputs;
    const lists = inputs.map(([, claim]) =>
      /gold|1925|Rome/.test(claim)
        ? [{ label: 'contradiction', score: 0.9 }, { label: 'neutral', score: 0.08 }, { label: 'entailment', score: 0.02 }]
        : [{ label: 'entailment', score: 0.97 }, { label: 'neutral', score: 0.02 }, { label: 'contradiction', score: 0.01 }],
    );
    res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify(lists.length === 1 ? lists[0] : lists));
  });
});
await new Promise<void>((r) => tei.listen(0, '127.0.0.1', () => r()));
t.teardown(() => new Promise<void>((r) => tei.close(() => r())));

const SHADOW = { upstream: 'anthropic', model: 'claude-shadow' };

t.test('the console shows how each answer was checked', async (t) => {
  if (!CHROMIUM) {
    t.fail(NO_CHROMIUM);
    return;
  }
  const stack = await startStack(t, {
    overrides: (raw) => {
      raw.upstreams = { openai: { url: model.url }, anthropic: { url: model.url } };
      raw.sampling = { enabled: true, rate: 0, rates: { 'gpt-open': 1 }, samples: 3, temperature: 0.9, timeoutMs: 5000, shadow: [SHADOW] };
      raw.detect = { remote: { enabled: true, url: `http://127.0.0.1:${(tei.address() as AddressInfo).port}`, name: 'nli-test' } };
    },
  });
  const base = `http://127.0.0.1:${stack.port}`;
  const openai = new OpenAI({ baseURL: `${base}/v1`, apiKey: 'sk-client-0123456789', maxRetries: 0 });
  const send = async (modelName: string, messages: Array<{ role: 'system' | 'user'; content: string }>) => {
    const { response } = await openai.chat.completions.create({ model: modelName, messages }).withResponse();
    return response.headers.get('x-veracity-id')!;
  };
  const grounded = [];
  for (let i = 0; i < GROUNDED_ANSWERS.length; i++) grounded.push(await send('gpt-grounded', [{ role: 'system', content: CONTEXT }, { role: 'user', content: `Tell me about it, ${i}.` }]));
  const open = [];
  for (const q of ['When was the Eiffel Tower completed?', 'Who was the first mayor of Lindenhall, Ohio?', 'What is the capital of Australia?', 'Who was the first mayor of Brookfield, Ohio?']) {
    open.push(await send('gpt-open', [{ role: 'user', content: q }]));
  }
  const plain = [await send('gpt-plain', [{ role: 'user', content: 'Tell me a fun fact.' }]), await send('gpt-plain', [{ role: 'user', content: 'Another one, please.' }])];

  const verdict = (id: string) =>
    until(`verdict ${id}`, 30_000, async () => {
      const res = await fetch(`${base}/veracity/v1/verdicts/${encodeURIComponent(id)}`);
      return res.status === 200 ? ((await res.json()) as Verdict) : undefined;
    });
  const verdicts = new Map<string, Verdict>();
  const shadowOf = (id: string) => shadowExchangeId(id, shadowKey(SHADOW.upstream, SHADOW.model));
  for (const id of [...grounded, ...open, ...open.map(shadowOf), ...plain]) verdicts.set(id, await verdict(id));
  const v = (id: string) => verdicts.get(id)!;
  t.ok(grounded.every((id) => v(id).hallucination.method === 'context' && v(id).remote?.name === 'nli-test'), 'grounded answers: context and remote scoring');
  t.ok(open.every((id) => v(id).hallucination.method === 'samples' && v(id).hallucination.disagreement), 'open questions: checked against samples');
  t.ok(plain.every((id) => v(id).hallucination.method === 'none'), 'plain chat: checked against nothing');
  const mayorId = open[1]!;
  t.ok(v(mayorId).hallucination.flagged, 'the invented mayor is flagged');

  // What the report computes from the same counts, to hold the console to.
  const client = new Redis(stack.redis.url);
  t.teardown(() => client.disconnect());
  const report = await buildReportFromRedis({ redis: client, location: 'test', aggregates: aggregateOptions(ConfigSchema.parse({})), since: '1h' });
  t.same(report.models.map((m) => m.model).sort(), ['gpt-grounded', 'gpt-open', 'gpt-plain']);

  const { page, requested, shot } = await openBrowser(t);

  t.test('overview: flagged and estimated rates, checks per method, failure modes, primary vs shadow', async (t) => {
    const res = await page.goto(`${base}/veracity/?range=1h`);
    t.equal(res!.status(), 200);
    const rows = await page.$$eval('table.models-table tbody tr', (trs) =>
      trs.map((tr) => ({
        model: tr.getAttribute('data-model'),
        flagged: tr.querySelector('[data-field=flagged] b')?.textContent ?? '—',
        estimated: tr.querySelector('[data-field=estimated] b')!.textContent,
        estimatedNote: tr.querySelector('[data-field=estimated] small')!.textContent,
        methods: Object.fromEntries([...tr.querySelectorAll('[data-method]')].map((s) => [s.getAttribute('data-method'), Number(s.textContent!.replace(/\D+/g, ''))])),
      })),
    );
    for (const m of report.models) {
      const row = rows.find((r) => r.model === `openai/${m.model}`);
      t.ok(row, `a row for ${m.model}`);
      t.equal(row!.flagged, pct(m.hallucination.rate), `${m.model}: flagged rate as the report's`);
      if (m.estimated.rate !== null) t.equal(row!.estimated, pct(m.estimated.rate), `${m.model}: estimated rate as the report's`);
      else t.same([row!.estimated, row!.estimatedNote], ['—', 'no grounded checks'], `${m.model}: no estimate without grounded checks`);
      t.same(row!.methods, Object.fromEntries(Object.entries(m.methods).filter(([, f]) => f.of > 0).map(([k, f]) => [k, f.of])), `${m.model}: checks per method`);
    }
    t.same(rows.find((r) => r.model === 'openai/gpt-open')!.methods, { samples: open.length });
    t.match(await page.$eval('main', (e) => e.textContent!), /Flagged: share of checks whose score reached the threshold[\s\S]*Estimated: mean calibrated hallucination score of the grounded checks/, 'says which rate is which');

    // Failure-mode profile: per model, each mode's count as the report has it.
    const profileRows = await page.$$eval('table.profile tbody tr', (trs) =>
      trs.map((tr) => ({ model: tr.getAttribute('data-model'), modes: Object.fromEntries([...tr.querySelectorAll('[data-mode]')].map((td) => [td.getAttribute('data-mode'), Number(td.querySelector('[data-count]')?.textContent ?? 0)])) })),
    );
    for (const m of report.models.filter((x) => x.failureModes.claims > 0)) {
      const row = profileRows.find((r) => r.model === `openai/${m.model}`)!;
      t.same(row.modes, Object.fromEntries(m.failureModes.modes.map((x) => [x.mode, x.count])), `${m.model}: failure-mode profile`);
    }

    // Primary vs shadow: the primary's sample-checked answers beside the shadow's.
    const split = await page.$$eval('table.split tbody tr', (trs) => trs.map((tr) => ({ model: tr.getAttribute('data-model'), traffic: tr.getAttribute('data-traffic'), checks: Number(tr.querySelectorAll('td')[1]!.textContent) })));
    t.same(split, [
      { model: 'openai/gpt-open', traffic: 'primary', checks: open.length },
      { model: 'anthropic/claude-shadow', traffic: 'shadow', checks: open.length },
    ]);
    await shot('overview-checks.png');
  });

  t.test('a sample-checked exchange: agreement, disagreement, failure modes, its shadow', async (t) => {
    const mine = v(mayorId);
    await page.goto(`${base}/veracity/exchanges/${mayorId}`);
    const claims = await page.$$eval('table tbody tr[id^=claim-]', (trs) =>
      trs.map((tr) => ({ mode: tr.querySelector('[data-field=failure_mode]')!.textContent!.trim(), agreement: tr.querySelector('[data-field=agreement]')?.textContent ?? '' })),
    );
    t.same(claims.map((c) => c.mode), mine.hallucination.claims.map((c) => c.failure_mode ?? '—'), 'each claim’s failure mode');
    t.same(claims.map((c) => c.agreement), mine.hallucination.claims.map((c) => `${c.agreement!.supporting} of ${c.agreement!.samples} sampled answers support it`), 'each claim’s agreement');
    const d = mine.hallucination.disagreement!;
    t.match(await page.$eval('[data-field=disagreement]', (e) => e.textContent!), `${d.answers} answers compared`);
    t.match(await page.$eval('[data-field=disagreement]', (e) => e.textContent!), `${d.clusters} meaning cluster`);
    t.match(await page.$eval('[data-field=method]', (e) => e.textContent!), /^samples: against other answers/);
    const shadowLinks = await page.$$eval('#shadows a[href^="/veracity/exchanges/"]', (as) => as.map((a) => a.getAttribute('href')));
    t.same(shadowLinks, [`/veracity/exchanges/${shadowOf(mayorId)}`], 'the original links to its shadow');
    await shot('exchange-samples.png');
    await Promise.all([page.waitForNavigation(), page.click('#shadows a[href^="/veracity/exchanges/"]')]);
    t.equal(new URL(page.url()).pathname, `/veracity/exchanges/${shadowOf(mayorId)}`);
    t.equal(await page.$eval('[data-field=shadow_of]', (a) => a.getAttribute('href')), `/veracity/exchanges/${mayorId}`, 'and the shadow back to its original');
  });

  t.test('a grounded exchange scored remotely says so', async (t) => {
    const id = grounded.find((x) => v(x).hallucination.flagged)!;
    t.ok(id, 'a flagged grounded answer');
    await page.goto(`${base}/veracity/exchanges/${id}`);
    t.match(await page.$eval('dd[data-field=remote]', (e) => e.textContent!), `nli-test scored ${v(id).remote!.claims}`);
    t.match(await page.$eval('dd[data-field=provenance]', (e) => e.textContent!), 'remote:nli-test');
    const remote = await page.$$eval('table tbody tr[id^=claim-] [data-field=remote]', (s) => s.map((e) => e.textContent));
    t.same(remote, v(id).hallucination.claims.filter((c) => c.remote !== undefined).map((c) => `remote model: ${c.remote!.toFixed(2)} not supported`), 'each claim’s remote reading');
    const modes = await page.$$eval('table tbody tr[id^=claim-] [data-field=failure_mode]', (s) => s.map((e) => e.textContent!.trim()));
    t.same(modes, v(id).hallucination.claims.map((c) => c.failure_mode ?? '—'));
    await shot('exchange-remote.png');
  });

  t.test('every recent exchange of a model, from its time index', async (t) => {
    await page.goto(`${base}/veracity/exchanges?range=1h&model=openai/gpt-open`);
    const listed = await page.$$eval('ol.recent li', (lis) => lis.map((li) => li.getAttribute('data-id')));
    t.same(listed, [...open].reverse(), 'all of them, flagged or not, newest first');
    await page.goto(`${base}/veracity/exchanges?range=1h`);
    const sections = await page.$$eval('main section h2', (hs) => hs.map((h) => h.textContent));
    t.same([...sections].sort(), ['anthropic/claude-shadow', 'openai/gpt-grounded', 'openai/gpt-open', 'openai/gpt-plain'], 'every model, shadow answers included');
    await shot('recent.png');
  });

  t.test('the comparison, one click from the overview', async (t) => {
    await page.goto(`${base}/veracity/?range=1h`);
    await Promise.all([page.waitForNavigation(), page.click('a[href*="/veracity/compare"][href*="claude-shadow"]')]);
    t.equal(new URL(page.url()).pathname, '/veracity/compare');
    const text = await page.$eval('main', (e) => e.textContent!);
    t.match(text, `Prompts answered by both: ${open.length} (${open.length} as shadow pairs)`);
    const h = await page.$$eval('table tbody tr', (trs) => trs.filter((tr) => tr.querySelector('th')?.textContent === 'hallucination').map((tr) => [...tr.querySelectorAll('td')].map((td) => td.textContent)));
    const flags = open.map((id) => [v(id).hallucination.flagged, v(shadowOf(id)).hallucination.flagged]);
    const want = [flags.filter(([a, b]) => a && b).length, flags.filter(([a, b]) => a && !b).length, flags.filter(([a, b]) => !a && b).length, flags.filter(([a, b]) => !a && !b).length];
    t.same(h[0]!.slice(0, 5).map(Number), [open.length, ...want], 'prompts, both, only A, only B, neither');
    await shot('compare.png');
    t.same(requested.filter((u) => !u.startsWith(`${base}/veracity/`)), [], 'nothing fetched from elsewhere');
  });
});
