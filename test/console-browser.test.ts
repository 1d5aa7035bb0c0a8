import t from 'tap';
import OpenAI from 'openai';
import Anthropic from '@anthropic-ai/sdk';
import type { Verdict } from '../src/detect/verdict.js';
import { rows, type Row } from './helpers/exchanges.js';
import { settledMetric } from './helpers/metrics.js';
import { startStack } from './helpers/stack.js';
import { chatCompletion } from './helpers/upstream.js';
import { CHROMIUM, NO_CHROMIUM, openBrowser } from './helpers/browser.js';
import { until } from './helpers/wait.js';

// The console in a real browser (Debian's chromium driven by puppeteer-core) in front of the real
// stack: proxy and worker, a real Redis, a loopback upstream speaking the OpenAI and Anthropic
// wire formats, traffic sent with the official SDKs.

const TOKEN = 'console-test-token-0123456789';

const XSS_ANSWER =
  'The Eiffel Tower is in Paris. <script>window.__pwned = "script"</script> It was painted <img src=x onerror="window.__pwned=\'img\'"> gold in 1925. <b onmouseover="window.__pwned=1">bold</b>';
const CONTEXT = 'Context:\nThe Eiffel Tower is a wrought-iron lattice tower on the Champ de Mars in Paris, France. It was completed in 1889.';

t.test('the console in a browser', async (t) => {
  if (!CHROMIUM) {
    t.fail(NO_CHROMIUM);
    return;
  }
  const stack = await startStack(t, { overrides: (raw) => void (raw.admin = { token: TOKEN }) });
  const base = `http://127.0.0.1:${stack.port}`;

  // Labelled rows answered by the upstream by id: grounded answers with and without
  // hallucinations, refusals; one answer full of markup.
  const sample: Array<{ row: Row; model: string }> = [
    ...rows('halueval-qa.jsonl', 10).map((row) => ({ row, model: 'gpt-qa' })),
    ...rows('xstest.jsonl', 6, (r) => r.expected.refusal_kind === 'full_refusal').map((row) => ({ row, model: 'gpt-safety' })),
    ...rows('xstest.jsonl', 2, (r) => r.expected.refusal_kind === 'compliance').map((row) => ({ row, model: 'gpt-safety' })),
  ];
  const byId = new Map(sample.map((s) => [s.row.id, s.row]));
  stack.upstream.handler = (req, res, body) => {
    const json = JSON.parse(body.toString() || '{}');
    const row = byId.get(json.user);
    if (row) return void res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ ...row.response, model: json.model }));
    if (json.user === 'xss') return void res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify(chatCompletion(json.model, XSS_ANSWER)));
    stack.upstream.answer(req, res, body);
  };

  const openai = new OpenAI({ baseURL: `${base}/v1`, apiKey: 'sk-test', maxRetries: 0 });
  const anthropic = new Anthropic({ baseURL: base, apiKey: 'sk-ant-test', maxRetries: 0 });
  const ids: string[] = [];
  for (const { row, model } of sample) {
    const { response } = await openai.chat.completions.create({ ...(row.request as object), model, user: row.id } as never).withResponse();
    ids.push(response.headers.get('x-veracity-id')!);
  }
  const xss = await openai.chat.completions
    .create({ model: 'gpt-qa', user: 'xss', messages: [{ role: 'system', content: CONTEXT }, { role: 'user', content: 'Tell me about <b>it</b> <script>alert(1)</script>' }] })
    .withResponse();
  const xssId = xss.response.headers.get('x-veracity-id')!;
  ids.push(xssId);
  for (let i = 0; i < 3; i++) {
    const stream = await anthropic.messages.create({ model: 'claude-stream', max_tokens: 50, stream: true, messages: [{ role: 'user', content: 'Where is the Eiffel Tower?' }] }).withResponse();
    ids.push(stream.response.headers.get('x-veracity-id')!);
    for await (const _ of stream.data) void _;
  }

  const auth = { authorization: `Bearer ${TOKEN}` };
  const verdicts = new Map<string, Verdict>();
  for (const id of ids) {
    verdicts.set(
      id,
      await until(`verdict ${id}`, 15_000, async () => {
        const res = await fetch(`${base}/veracity/v1/verdicts/${id}`, { headers: auth });
        return res.status === 200 ? ((await res.json()) as Verdict) : undefined;
      }),
    );
  }
  // The metrics the proxy exports (its own and its analysis thread's), per model, once the
  // worker has counted every job (a verdict is readable a moment before its counters move).
  await settledMetric(base, 'veracity_worker_jobs_total', {}, ids.length, 15_000);
  const metricsText = await (await fetch(`${base}/metrics`)).text();
  const checks = new Map<string, number>();
  for (const m of metricsText.matchAll(/^veracity_checks_total\{provider="([^"]+)",model="([^"]+)"\} (\d+)/gm)) checks.set(`${m[1]}/${m[2]}`, Number(m[3]));
  t.same([...checks.keys()].sort(), ['anthropic/claude-stream', 'openai/gpt-qa', 'openai/gpt-safety']);

  const { browser, page, requested, shot } = await openBrowser(t);
  const dialogs: string[] = [];
  page.on('dialog', (d) => {
    dialogs.push(d.message());
    void d.dismiss();
  });

  t.test('refused without the token', async (t) => {
    const res = await page.goto(`${base}/veracity/?range=1h`);
    t.equal(res!.status(), 401);
    t.ok(await page.$('form[action="/veracity/sign-in"] input[type=password]'), 'the sign-in form');
    const body = await page.content();
    for (const model of checks.keys()) t.notMatch(body, model.split('/')[1]!, `nothing about ${model}`);
    const ex = await fetch(`${base}/veracity/exchanges/${ids[0]}`);
    t.equal(ex.status, 401);
    t.notMatch(await ex.text(), /Claims/);
    const api = await fetch(`${base}/veracity/v1/verdicts/${ids[0]}`);
    t.equal(api.status, 401, 'the API too');
    // A sign-in posted without the form's CSRF cookie, or from another site, is refused.
    const forged = await fetch(`${base}/veracity/sign-in`, { method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded' }, body: `token=${TOKEN}&csrf=x&next=/veracity/`, redirect: 'manual' });
    t.equal(forged.status, 403);
    t.notOk(forged.headers.get('set-cookie')?.includes('veracity_session=1'), 'no session');
    const crossSite = await fetch(`${base}/veracity/sign-in`, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded', origin: 'https://evil.example', cookie: 'veracity_csrf=abc' },
      body: `token=${TOKEN}&csrf=abc`,
      redirect: 'manual',
    });
    t.equal(crossSite.status, 403);
  });

  t.test('signs in once with the token, into an HttpOnly SameSite=Strict cookie', async (t) => {
    await page.type('#token', 'not-the-token-at-all');
    await Promise.all([page.waitForNavigation(), page.click('button[type=submit]')]);
    t.match(await page.$eval('.error', (e) => e.textContent), /not the admin token/);
    await page.type('#token', TOKEN);
    const [res] = await Promise.all([page.waitForNavigation(), page.click('.signin button[type=submit]')]);
    t.equal(res!.status(), 200);
    t.equal(new URL(page.url()).pathname + new URL(page.url()).search, '/veracity/?range=1h', 'back where the sign-in was asked for');
    const cookies = await browser.cookies();
    const session = cookies.find((c) => c.name === 'veracity_session')!;
    t.ok(session, 'session cookie');
    t.ok(session.httpOnly, 'HttpOnly');
    t.equal(session.sameSite, 'Strict');
    t.equal(session.path, '/veracity');
    t.notOk(session.value.includes(TOKEN), 'the cookie does not hold the token');
    t.notMatch(page.url(), TOKEN, 'never in a URL');
    t.notMatch(await page.content(), TOKEN, 'never in the page');
  });

  t.test('the overview lists every model with the counts of the metrics', async (t) => {
    const rowsSeen = await page.$$eval('table.models-table tbody tr', (trs) =>
      trs.map((tr) => ({ model: tr.querySelector('th')!.textContent!.trim(), checks: Number(tr.querySelector('[data-field=checks]')!.textContent) })),
    );
    t.same(Object.fromEntries(rowsSeen.map((r) => [r.model, r.checks])), Object.fromEntries(checks), 'same models, same counts');
    const csp = (await fetch(`${base}/veracity/`, { headers: auth })).headers.get('content-security-policy')!;
    t.match(csp, /default-src 'none'/);
    t.notMatch(csp, /script-src|unsafe-inline/, 'no script allowed at all');
    t.ok((await page.$$('svg[role=img]')).length >= 9, 'a chart per rate and model');
    await shot('overview.png');
    // Filters live in the URL.
    await page.goto(`${base}/veracity/?range=1h&model=openai/gpt-safety`);
    t.same(await page.$$eval('table.models-table tbody th', (ths) => ths.map((th) => th.textContent!.trim())), ['openai/gpt-safety']);
    await page.setViewport({ width: 390, height: 844, isMobile: true });
    await page.goto(`${base}/veracity/?range=1h`);
    const overflow = await page.evaluate(() => document.documentElement.scrollWidth - window.innerWidth);
    t.ok(overflow <= 1, `fits a phone's width (overflow ${overflow}px)`);
    await shot('overview-phone.png', false);
    await page.setViewport({ width: 1280, height: 900 });
  });

  t.test('flagged exchanges, by kind', async (t) => {
    const flaggedQa = [...verdicts.values()].filter((v) => v.model === 'gpt-qa' && v.hallucination.flagged).map((v) => v.id);
    t.ok(flaggedQa.length > 0, 'traffic has hallucinations');
    await page.goto(`${base}/veracity/flagged?range=1h&model=openai/gpt-qa`);
    const listed = await page.$$eval('ol.list li > a', (as) => as.map((a) => a.textContent!.trim()));
    t.same([...listed].sort(), [...flaggedQa].sort(), 'every flagged exchange of the model, and only those');
    await page.goto(`${base}/veracity/flagged?range=1h&kind=refusal&model=gpt-safety`);
    const refusals = await page.$$eval('ol.list li > a', (as) => as.map((a) => a.textContent!.trim()));
    t.same(refusals.sort(), [...verdicts.values()].filter((v) => v.model === 'gpt-safety' && v.refusal.flagged).map((v) => v.id).sort());
  });

  t.test('an exchange page highlights exactly the unsupported claims', async (t) => {
    const v = [...verdicts.values()].find((x) => x.id !== xssId && x.hallucination.flagged && x.hallucination.claims.some((c) => c.support === 'supported') && x.hallucination.claims.length >= 2)
      ?? [...verdicts.values()].find((x) => x.id !== xssId && x.hallucination.flagged)!;
    const res = await page.goto(`${base}/veracity/exchanges/${v.id}`);
    t.equal(res!.status(), 200);
    const marked = await page.$$eval('.response mark.claim', (ms) => ms.map((m) => ({ support: m.getAttribute('data-support'), text: m.firstChild!.textContent })));
    const notSupported = marked.filter((m) => m.support !== 'supported').map((m) => m.text);
    t.same(notSupported, v.hallucination.claims.filter((c) => c.support !== 'supported').map((c) => c.text), 'marked unsupported = the verdict’s unsupported claims');
    t.same(marked.filter((m) => m.support === 'supported').map((m) => m.text), v.hallucination.claims.filter((c) => c.support === 'supported').map((c) => c.text));
    t.equal(await page.$$eval('table tbody tr[id^=claim-]', (r) => r.length), v.hallucination.claims.length, 'a row per claim');
    t.match(await page.$eval('pre.json', (p) => p.textContent), `"id": "${v.id}"`, 'raw verdict JSON');
    await shot('exchange.png');
  });

  t.test('an answer carrying <script> and <img onerror> executes nothing', async (t) => {
    const before = requested.length;
    await page.goto(`${base}/veracity/exchanges/${xssId}`);
    t.equal(await page.evaluate(() => (window as unknown as { __pwned?: unknown }).__pwned), undefined, 'no payload ran');
    t.same(dialogs, [], 'no dialog opened');
    t.equal(await page.$$eval('main script, main img, main b[onmouseover]', (e) => e.length), 0, 'no element made from the answer');
    const shown = await page.$eval('.response', (e) => e.textContent!);
    t.match(shown, '<script>window.__pwned = "script"</script>', 'the script shown as text');
    t.match(shown, `<img src=x onerror="window.__pwned='img'">`, 'the img shown as text');
    t.match(await page.$eval('.text[aria-label=Question]', (e) => e.textContent!), '<script>alert(1)</script>');
    const after = requested.slice(before).filter((u) => !u.endsWith('.css') && !u.includes(`/exchanges/${xssId}`));
    t.same(after, [], 'no other request made by the page');
    await shot('exchange-markup.png');
  });

  t.test('signing out ends the session', async (t) => {
    await page.goto(`${base}/veracity/`);
    await Promise.all([page.waitForNavigation(), page.click('header form button')]);
    t.equal(new URL(page.url()).pathname, '/veracity/sign-in');
    const res = await page.goto(`${base}/veracity/`);
    t.equal(res!.status(), 401);
  });
});
