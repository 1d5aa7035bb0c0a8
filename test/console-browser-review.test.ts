import t from 'tap';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { reportMain } from '../src/report/report.js';
import { openBrowser, CHROMIUM, NO_CHROMIUM, ARTIFACTS } from './helpers/browser.js';
import { chat } from './helpers/embedded.js';
import { seedLabelled } from './helpers/labelled-seed.js';
import { startRedisWithClient } from './helpers/redis.js';
import { startStack } from './helpers/stack.js';
import { waitForVerdict } from './helpers/verdicts.js';
import { until } from './helpers/wait.js';

// The review queue in chromium, against the real proxy: an exchange drawn at random, labelled by
// key press, stored through the labels API; the reviewer's name remembered. Then a report with
// verified rates and both calibration curves, rendered. Screenshots at 1366 px.

t.test('label an exchange by key press in the review queue', async (t) => {
  if (!CHROMIUM) return t.fail(NO_CHROMIUM);
  const stack = await startStack(t);
  const base = `http://127.0.0.1:${stack.port}`;
  const ids: string[] = [];
  for (let i = 0; i < 4; i++) ids.push((await chat(stack.port, 'gpt-review')).id);
  await Promise.all(ids.map((id) => waitForVerdict(base, id)));

  const { page, shot, requested } = await openBrowser(t);
  await page.setViewport({ width: 1366, height: 900 });
  const errors: string[] = [];
  page.on('pageerror', (e) => void errors.push(String(e)));
  await page.goto(`${base}/veracity/review?range=1h&model=openai/gpt-review`, { waitUntil: 'load' });
  const firstId = await page.$eval('#review-form', (f) => (f as HTMLElement).dataset.id!);
  t.ok(ids.includes(firstId), `drew one of the model's exchanges (${firstId})`);
  t.match(await page.$eval('main', (m) => m.textContent ?? ''), /Eiffel Tower/, 'shown as the exchange page shows it');
  t.equal(await page.$eval('tr[data-model="openai/gpt-review"] [data-field=labels]', (c) => c.textContent), '0');

  // No name yet: the label is refused on the page, nothing is stored.
  await page.keyboard.press('h');
  await until('the page to ask for a name', 5000, async () => /Enter your name/.test(await page.$eval('#review-status', (s) => s.textContent ?? '')));
  t.equal((await (await fetch(`${base}/veracity/v1/labels`)).text()).trim(), '', 'nothing stored without a name');

  await page.type('#review-by', 'Rosa');
  await page.$eval('#review-by', (el) => (el as HTMLInputElement).blur());
  await page.keyboard.press('3'); // refusal: full
  await Promise.all([page.waitForNavigation({ waitUntil: 'load' }), page.keyboard.press('h')]);
  const stored = (await (await fetch(`${base}/veracity/v1/labels`)).text()).split('\n').filter(Boolean).map((l) => JSON.parse(l));
  t.equal(stored.length, 1);
  t.match(stored[0], { id: firstId, hallucination: true, refusal: 'full', by: 'Rosa', selection: 'random' });

  // The next draw: another exchange, the name remembered, the table counting the label.
  const secondId = await page.$eval('#review-form', (f) => (f as HTMLElement).dataset.id!);
  t.not(secondId, firstId, 'a labelled exchange is not drawn again');
  t.equal(await page.$eval('#review-by', (el) => (el as HTMLInputElement).value), 'Rosa', 'name remembered in localStorage');
  t.equal(await page.$eval('tr[data-model="openai/gpt-review"] [data-field=labels]', (c) => c.textContent), '1');
  await shot('review-queue.png', false);
  await Promise.all([page.waitForNavigation({ waitUntil: 'load' }), page.keyboard.press('f')]);
  const after = (await (await fetch(`${base}/veracity/v1/labels`)).text()).split('\n').filter(Boolean).map((l) => JSON.parse(l));
  t.match(after.find((l) => l.id === secondId), { hallucination: false, by: 'Rosa' }, 'f labels faithful');
  t.same(errors, [], 'no script errors');
  t.ok(requested.every((u) => u.startsWith(base)), 'nothing fetched from elsewhere');

  // The overview shows the verified rate beside the flagged and estimated ones.
  await page.goto(`${base}/veracity/?range=1h`, { waitUntil: 'load' });
  t.match(await page.$eval('tr[data-model="openai/gpt-review"] [data-field=verified]', (c) => c.textContent ?? ''), /2 random labels/);
});

t.test('a report with verified rates and both calibration curves, rendered', async (t) => {
  if (!CHROMIUM) return t.fail(NO_CHROMIUM);
  const { redis, client } = await startRedisWithClient(t);
  await seedLabelled(client, 'veracity', [
    { provider: 'openai', model: 'gpt-verified-a', checks: 400, trueRate: 0.3, randomLabels: 80, feedbackLabels: 15 },
    { provider: 'anthropic', model: 'claude-verified-b', checks: 300, trueRate: 0.1, randomLabels: 60, feedbackLabels: 5 },
  ]);
  const dir = mkdtempSync(join(tmpdir(), 'veracity-verified-html-'));
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  const orig = console.error;
  console.error = () => {};
  let code: number;
  try {
    code = await reportMain(['--since', '1h', '--source', 'redis', '--redis', redis.url, '--out', join(dir, 'report.html'), '--json', join(dir, 'report.json')]);
  } finally {
    console.error = orig;
  }
  t.equal(code, 0);
  const { page, shot } = await openBrowser(t);
  await page.setViewport({ width: 1366, height: 900 });
  await page.goto(`file://${join(dir, 'report.html')}`, { waitUntil: 'load' });
  t.equal(await page.$$eval('svg.calibration', (s) => s.length), 4, 'two curves per labelled model');
  const headings = await page.$$eval('h2', (hs) => hs.map((h) => h.textContent));
  t.ok(headings.includes('Verified hallucination rates (from labels)') && headings.includes('Calibration from labels'), 'both sections are there');
  const scrollTo = (text: string) =>
    page.evaluate((want) => {
      const h = [...document.querySelectorAll('h2')].find((x) => x.textContent === want)!;
      window.scrollTo(0, h.getBoundingClientRect().top + window.scrollY - 8);
    }, text);
  await scrollTo('Verified hallucination rates (from labels)');
  await shot('report-verified.png', false);
  await scrollTo('Calibration from labels');
  await shot('report-calibration.png', false);
  t.comment(`screenshots in ${ARTIFACTS}`);
});
