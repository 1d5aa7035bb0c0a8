import t from 'tap';
import { Redis } from 'ioredis';
import OpenAI from 'openai';
import { ConfigSchema } from '../src/config/schema.js';
import type { Verdict } from '../src/detect/verdict.js';
import { buildReportFromRedis } from '../src/report/from-redis.js';
import { aggregateOptions } from '../src/verdicts/aggregates.js';
import { startStack } from './helpers/stack.js';
import { chatToolCompletion, chatTools, type Call } from './helpers/tool-calls.js';
import { chatCompletion } from './helpers/upstream.js';
import { waitForVerdict } from './helpers/verdicts.js';
import { CHROMIUM, NO_CHROMIUM, openBrowser } from './helpers/browser.js';
import { until } from './helpers/wait.js';

// Tool calls and skipped exchanges in a real browser (Debian's chromium driven by puppeteer-core)
// in front of the real stack: an app calls tools through the proxy with the official SDK, the
// upstream answers with valid calls, an undeclared tool, bad JSON and schema violations, fails
// once and answers once with nothing. The console must show each call as its verdict holds it,
// each skipped exchange with its reason, and per model the tool calls checked and failed as the
// report computes them from the same counts.


/** What the upstream answers `gpt-tools`, by the question's first word. */
const ANSWERS: Record<string, Call[]> = {
  valid: [{ id: 'call_ok', name: 'get_weather', arguments: '{"city": "Paris", "unit": "celsius"}' }],
  undeclared: [{ id: 'call_u', name: 'get_forecast', arguments: '{"city": "Paris"}' }],
  badjson: [{ id: 'call_j', name: 'get_weather', arguments: '{"city": "Paris", unit: celsius}' }],
  schema: [
    { id: 'call_e', name: 'get_weather', arguments: '{"city": "Paris", "unit": "kelvin", "days": 9}' },
    { id: 'call_t', name: 'get_time', arguments: '{"timezone": "Europe/Paris"}' },
  ],
};

t.test('the console shows tool-call findings and skipped exchanges', async (t) => {
  if (!CHROMIUM) {
    t.fail(NO_CHROMIUM);
    return;
  }
  const stack = await startStack(t);
  stack.upstream.handler = (req, res, body) => {
    const json = JSON.parse(body.toString() || '{}') as { model?: string; messages?: Array<{ content: string }> };
    const send = (status: number, b: unknown) => res.writeHead(status, { 'content-type': 'application/json' }).end(JSON.stringify(b));
    if (json.model === 'gpt-down') return send(500, { error: { message: 'The server had an error while processing your request.', type: 'server_error', param: null, code: null } });
    if (json.model === 'gpt-empty') return send(200, chatCompletion('gpt-empty', ''));
    const calls = ANSWERS[String(json.messages?.at(-1)?.content).split(' ')[0]!];
    if (json.model === 'gpt-tools' && calls) return send(200, chatToolCompletion('gpt-tools', calls));
    stack.upstream.answer(req, res, body);
  };
  const base = `http://127.0.0.1:${stack.port}`;
  const openai = new OpenAI({ baseURL: `${base}/v1`, apiKey: 'sk-client-tools-0123456789', maxRetries: 0 });
  const ids: Record<string, string> = {};
  for (const kind of Object.keys(ANSWERS)) {
    const { response } = await openai.chat.completions
      .create({ model: 'gpt-tools', tools: chatTools, messages: [{ role: 'user', content: `${kind} please: the weather in Paris, and the time.` }] })
      .withResponse();
    ids[kind] = response.headers.get('x-veracity-id')!;
  }
  const failed = await openai.chat.completions.create({ model: 'gpt-down', messages: [{ role: 'user', content: 'Hello?' }] }).catch((err: unknown) => err);
  t.ok(failed instanceof OpenAI.APIError && failed.status === 500, 'the app gets the upstream error unchanged');
  ids.down = (failed as InstanceType<typeof OpenAI.APIError>).headers!.get('x-veracity-id')!;
  const { response: empty } = await openai.chat.completions.create({ model: 'gpt-empty', messages: [{ role: 'user', content: 'Say nothing.' }] }).withResponse();
  ids.empty = empty.headers.get('x-veracity-id')!;
  t.ok(Object.values(ids).every(Boolean), 'every exchange has an id');

  const verdicts = new Map<string, Verdict>();
  for (const [kind, id] of Object.entries(ids)) {
    verdicts.set(kind, await waitForVerdict<Verdict>(base, id, 30_000));
  }
  const v = (kind: string) => verdicts.get(kind)!;
  t.same(
    Object.keys(ANSWERS).map((k) => [v(k).tool_calls?.checked, v(k).tool_calls?.failed]),
    [[1, 0], [1, 1], [1, 1], [2, 1]],
    'tool calls checked and failed, per answer',
  );
  t.same([v('down').skipped, v('empty').skipped], ['upstream_error', 'empty_response']);

  // The report's figures from the same counts, to hold the overview to; read once the counts settle.
  const client = new Redis(stack.redis.url);
  t.teardown(() => client.disconnect());
  const report = await until('the tool calls counted', 20_000, async () => {
    const r = await buildReportFromRedis({ redis: client, location: 'test', aggregates: aggregateOptions(ConfigSchema.parse({})), since: '1h' });
    return r.overall.toolCalls.checked === 5 ? r : undefined;
  });
  const tools = report.models.find((m) => m.model === 'gpt-tools')!;
  t.same([tools.toolCalls.checked, tools.toolCalls.failed.count, tools.toolCalls.modes.tool_name!.count, tools.toolCalls.modes.tool_arguments!.count], [5, 3, 1, 2]);

  const { page, requested, shot } = await openBrowser(t);
  const callRows = () =>
    page.$$eval('table.tool-calls tbody tr', (trs) =>
      trs.map((tr) => ({
        index: Number(tr.getAttribute('data-call')),
        name: tr.querySelector('[data-field=name] code')?.textContent ?? '',
        checked: tr.querySelector('[data-field=checked]')!.getAttribute('data-checked'),
        valid: tr.querySelector('[data-field=valid]')!.textContent!.trim(),
        mode: tr.querySelector('[data-field=failure_mode]')!.textContent!.trim(),
        rules: [...tr.querySelectorAll('[data-field=findings] li')].map((li) => `${li.getAttribute('data-rule')} ${li.getAttribute('data-path')}`),
        errors: [...tr.querySelectorAll('[data-field=findings] li')].map((li) => li.textContent!),
      })),
    );

  t.test('each tool call: name, checked how, valid or not, failure mode, the errors', async (t) => {
    for (const kind of Object.keys(ANSWERS)) {
      const res = await page.goto(`${base}/veracity/exchanges/${ids[kind]}`);
      t.equal(res!.status(), 200);
      const rows = await callRows();
      const want = v(kind).tool_calls!.calls;
      t.same(
        rows.map(({ errors: _e, ...r }) => r),
        want.map((c) => ({ index: c.index, name: c.name, checked: c.checked, valid: c.valid ? 'valid' : 'invalid', mode: c.failure_mode ?? '—', rules: c.findings.map((f) => `${f.rule} ${f.path}`) })),
        `${kind}: every call as the verdict holds it`,
      );
      for (const [i, c] of want.entries()) for (const [j, f] of c.findings.entries()) t.match(rows[i]!.errors[j], f.text, `${kind}: the error's text`);
      t.match(await page.$eval('[data-field=tool-summary]', (e) => e.textContent!), `${v(kind).tool_calls!.checked} ${v(kind).tool_calls!.checked === 1 ? 'call' : 'calls'} checked against the tools the request declared: ${v(kind).tool_calls!.failed} failed`);
      if (kind === 'schema') await shot('exchange-tool-calls.png');
    }
    // The findings these answers must produce, so the comparison above is never between empty lists.
    const rules = (kind: string) => v(kind).tool_calls!.calls.flatMap((c) => c.findings.map((f) => `${c.failure_mode}:${f.rule}`));
    t.same(rules('undeclared'), ['tool_name:declared']);
    t.same(rules('badjson'), ['tool_arguments:json']);
    t.same([...rules('schema')].sort(), ['tool_arguments:enum', 'tool_arguments:maximum']);
    t.match(await page.$eval('[data-field=tool-flag]', (e) => e.textContent!), '1 of 2 tool calls failed', 'the failing call flags the exchange');
    t.match(await page.$eval('main', (e) => e.textContent!), /Hallucinationscore 1\.00, flagged: a tool call fails its declared tool/, 'the reading says the flag comes from the tool call');
    t.match(await page.$eval('.response', (e) => e.textContent!), 'no text: the answer is tool calls only');
  });

  t.test('a skipped exchange says why it was not analysed', async (t) => {
    for (const [kind, reason, words] of [
      ['down', 'upstream_error', /the upstream answered with an error status[\s\S]*HTTP 500/],
      ['empty', 'empty_response', /the answer held no text, no refusal and no tool call/],
    ] as const) {
      await page.goto(`${base}/veracity/exchanges/${ids[kind]}`);
      t.equal(await page.$eval('[data-field=skipped] [data-reason]', (e) => e.getAttribute('data-reason')), reason, `${kind}: the reason`);
      t.match(await page.$eval('[data-field=skipped]', (e) => e.textContent!), words, `${kind}: in words`);
      const headings = await page.$$eval('main h2', (hs) => hs.map((h) => h.textContent));
      t.notOk(headings.includes('Claims') || headings.includes('Readings') || headings.includes('Tool calls'), `${kind}: no readings of an answer that was not analysed`);
      t.match(await page.$eval('main', (e) => e.textContent!), 'An exchange that was not analysed keeps no text.');
      if (kind === 'down') await shot('exchange-skipped.png');
    }
  });

  t.test('per model: tool calls checked and failed, and exchanges not analysed', async (t) => {
    await page.goto(`${base}/veracity/?range=1h`);
    const rows = await page.$$eval('table.models-table tbody tr', (trs) =>
      trs.map((tr) => {
        const tool = tr.querySelector('[data-field=tool_calls]')!;
        const skipped = tr.querySelector('[data-field=skipped]')!;
        return {
          model: tr.getAttribute('data-model'),
          checked: Number(tool.getAttribute('data-checked') ?? 0),
          failed: Number(tool.getAttribute('data-failed') ?? 0),
          rate: tool.querySelector('b')?.textContent ?? '—',
          modes: Object.fromEntries([...tool.querySelectorAll('[data-mode]')].map((s) => [s.getAttribute('data-mode'), Number(s.textContent!.replace(/\D+/g, ''))])),
          skipped: Object.fromEntries([...skipped.querySelectorAll('[data-reason]')].map((s) => [s.getAttribute('data-reason'), Number(s.textContent!.replace(/\D+/g, ''))])),
        };
      }),
    );
    const row = (model: string) => rows.find((r) => r.model === model)!;
    const { pct } = await import('../src/report/format.js');
    t.same(
      row('openai/gpt-tools'),
      {
        model: 'openai/gpt-tools',
        checked: tools.toolCalls.checked,
        failed: tools.toolCalls.failed.count,
        rate: pct(tools.toolCalls.failed.rate),
        modes: Object.fromEntries(Object.entries(tools.toolCalls.modes).map(([k, f]) => [k, f.count])),
        skipped: {},
      },
      'tool calls as the report has them',
    );
    t.same(row('openai/gpt-down').skipped, { upstream_error: 1 }, 'the upstream error, not analysed');
    t.same(row('openai/gpt-empty').skipped, { empty_response: 1 }, 'the empty answer, not analysed');
    t.same([row('openai/gpt-down').checked, row('openai/gpt-empty').checked], [0, 0]);
    await shot('overview-tools.png');

    await page.goto(`${base}/veracity/exchanges?range=1h&model=openai/gpt-tools`);
    const badges = await page.$$eval('ol.recent li', (lis) => lis.map((li) => [li.getAttribute('data-id'), li.querySelector('[data-field=tool_calls]')?.textContent]));
    t.same(
      Object.fromEntries(badges),
      Object.fromEntries(Object.keys(ANSWERS).map((k) => [ids[k], `tool calls: ${v(k).tool_calls!.failed} of ${v(k).tool_calls!.checked} failed`])),
      'the recent list says how many calls failed',
    );

    // Flagged by a failing call, with no claim behind the flag: the list says which call.
    await page.goto(`${base}/veracity/flagged?range=1h&kind=hallucination&model=openai/gpt-tools`);
    const flagged = await page.$$eval('main ol li', (lis) => lis.map((li) => [li.getAttribute('data-id'), li.querySelector('[data-field=tool_calls]')?.textContent ?? '']));
    const failing = ['undeclared', 'badjson', 'schema'];
    t.same(flagged.map(([id]) => id).sort(), failing.map((k) => ids[k]).sort(), 'the three answers with a failing call, and only them');
    for (const k of failing) {
      const call = v(k).tool_calls!.calls.find((c) => c.failure_mode)!;
      t.match(Object.fromEntries(flagged)[ids[k]!], `tool ${v(k).tool_calls!.checked === 1 ? 'call' : 'calls'} failed: ${call.name} (${call.failure_mode}): ${call.findings[0]!.text}`, `${k}: which call failed, and why`);
    }
    await shot('flagged-tools.png');
    t.same(requested.filter((u) => !u.startsWith(`${base}/veracity/`)), [], 'nothing fetched from elsewhere');
  });
});
