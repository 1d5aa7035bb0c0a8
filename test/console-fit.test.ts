import t from 'tap';
import OpenAI from 'openai';
import type { Verdict } from '../src/detect/verdict.js';
import { shadowExchangeId, shadowKey } from '../src/sampling/sampler.js';
import { startScriptedModel } from './helpers/model.js';
import { startStack } from './helpers/stack.js';
import { chatToolCompletion, chatTools } from './helpers/tool-calls.js';
import { chatCompletion } from './helpers/upstream.js';
import { CHROMIUM, NO_CHROMIUM, openBrowser } from './helpers/browser.js';
import { until } from './helpers/wait.js';

// Every console page in a real browser (Debian's chromium driven by puppeteer-core) at a
// 1366-px laptop window and a 390-px phone, in front of the real stack with the widest figures the
// console shows: long model names, checks against context, samples and nothing, a shadow model,
// tool calls failing both ways, refusals and exchanges skipped for each reason. At 1366 px no
// table may be wider than the box it sits in, nor the page wider than the window; on the phone
// the page may not be wider than the screen (a wide table scrolls inside its own box).

process.env.VERACITY_SAMPLING_OPENAI_KEY = 'sk-sampling-openai-fit-42';
process.env.VERACITY_SAMPLING_ANTHROPIC_KEY = 'sk-ant-sampling-fit-42';

const TOKEN = 'console-fit-token-0123456789';
const MAIN = 'gpt-4o-2024-08-06-production-eu';
const OPEN = 'gpt-4o-mini-2024-07-18-open-questions';
const SHADOW = { upstream: 'anthropic', model: 'claude-3-5-haiku-20241022-shadow' };

const CONTEXT =
  'Answer from the context.\n\nContext:\nThe Eiffel Tower is a wrought-iron lattice tower on the Champ de Mars in Paris, France. It was designed by the company of engineer Gustave Eiffel and completed in 1889 for the World Fair. It is repainted every seven years, most recently in a colour called "Eiffel Tower brown", and receives about seven million visitors a year.';
const GROUNDED = [
  'The Eiffel Tower is in Paris. It was completed in 1889. It is painted gold every year by a team of 25 painters using 60 tonnes of paint.',
  'The Eiffel Tower was definitely completed in 1925 in Rome. It was designed by Gustave Eiffel. It receives about seventy million visitors a year.',
  'The Eiffel Tower is in Paris, France. It is repainted every seven years. See https://www.toureiffel.paris/en/the-monument/history-of-the-painting for details.',
];
const MAYORS = ['Josiah Whitcombe, elected in 1847', 'Samuel Harper, elected in 1852', 'Elias Brandt, elected in 1839', 'Thomas Greeley, elected in 1861'];
let mayor = 0;

const model = await startScriptedModel((question, _k, name) => {
  const grounded = /^Tell me about it, (\d)/.exec(question);
  if (grounded) return GROUNDED[Number(grounded[1])]!;
  if (/^EMPTY/.test(question)) return '';
  if (/^REFUSE/.test(question)) return "I'm sorry, but I can't help with that request. If you are in danger, please contact your local emergency services.";
  if (/mayor/.test(question)) return name === SHADOW.model ? 'The first mayor was Anna Reyes, elected in 1850.' : `The first mayor was ${MAYORS[mayor++ % MAYORS.length]}.`;
  if (/Eiffel/.test(question)) return 'The Eiffel Tower was completed in 1889. It was designed by the company of Gustave Eiffel.';
  return 'Honey found in ancient tombs was still edible, archaeologists say.';
});
t.teardown(() => model.close());
model.fault = (call) => (/^DOWN/.test(call.question) ? 'status500' : undefined);
// Tool calls: an undeclared tool, and a declared one whose arguments break its schema.
const scripted = model.upstream.handler!;
model.upstream.handler = (req, res, body) => {
  const json = JSON.parse(body.toString() || '{}') as { messages?: Array<{ content: unknown }> };
  if (String(json.messages?.at(-1)?.content).startsWith('TOOLS')) {
    res.writeHead(200, { 'content-type': 'application/json' }).end(
      JSON.stringify(
        chatToolCompletion(MAIN, [
          { id: 'call_u', name: 'get_forecast_for_the_next_fourteen_days', arguments: '{"city": "Paris"}' },
          { id: 'call_e', name: 'get_weather', arguments: '{"city": "Paris", "unit": "kelvin", "days": 9}' },
        ]),
      ),
    );
    return;
  }
  if (String(json.messages?.at(-1)?.content).startsWith('EMPTY')) return void res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify(chatCompletion(MAIN, '')));
  scripted(req, res, body);
};

/** Widths that overflow: the page past the window, and each table past the box it sits in. */
async function overflow(page: import('puppeteer-core').Page) {
  return page.evaluate(() => ({
    page: document.documentElement.scrollWidth - window.innerWidth,
    tables: [...document.querySelectorAll('table')]
      .map((table) => {
        const box = table.parentElement!;
        return { table: table.className || table.querySelector('caption')?.textContent?.slice(0, 40) || 'table', over: Math.max(table.scrollWidth, Math.ceil(table.getBoundingClientRect().width)) - box.clientWidth };
      })
      .filter((x) => x.over > 1),
  }));
}

t.test('every console page fits a 1366-px window and a phone', async (t) => {
  if (!CHROMIUM) {
    t.fail(NO_CHROMIUM);
    return;
  }
  const stack = await startStack(t, {
    overrides: (raw) => {
      raw.admin = { token: TOKEN };
      raw.upstreams = { openai: { url: model.url }, anthropic: { url: model.url } };
      raw.sampling = { enabled: true, rate: 0, rates: { [OPEN]: 1 }, samples: 3, temperature: 0.9, timeoutMs: 5000, shadow: [SHADOW] };
    },
  });
  const base = `http://127.0.0.1:${stack.port}`;
  const openai = new OpenAI({ baseURL: `${base}/v1`, apiKey: 'sk-client-fit-0123456789', maxRetries: 0 });
  const send = async (name: string, messages: Array<{ role: 'system' | 'user'; content: string }>, extra: object = {}) => {
    try {
      const { response } = await openai.chat.completions.create({ model: name, messages, ...extra }).withResponse();
      return response.headers.get('x-veracity-id')!;
    } catch (err) {
      if (err instanceof OpenAI.APIError && err.headers) return err.headers.get('x-veracity-id')!;
      throw err;
    }
  };
  const ids: Record<string, string> = {};
  for (let i = 0; i < GROUNDED.length; i++) ids[`grounded${i}`] = await send(MAIN, [{ role: 'system', content: CONTEXT }, { role: 'user', content: `Tell me about it, ${i}.` }]);
  ids.tools = await send(MAIN, [{ role: 'user', content: 'TOOLS: the weather in Paris and the forecast.' }], { tools: chatTools });
  ids.refusal = await send(MAIN, [{ role: 'user', content: 'REFUSE: how do I pick a lock?' }]);
  ids.plain = await send(MAIN, [{ role: 'user', content: 'Tell me a fun fact.' }]);
  ids.down = await send(MAIN, [{ role: 'user', content: 'DOWN: anyone there?' }]);
  ids.empty = await send(MAIN, [{ role: 'user', content: 'EMPTY: say nothing.' }]);
  const open: string[] = [];
  for (const q of ['When was the Eiffel Tower completed?', 'Who was the first mayor of Lindenhall, Ohio?', 'Who was the first mayor of Brookfield, Ohio?']) open.push(await send(OPEN, [{ role: 'user', content: q }]));
  ids.open = open[1]!;
  ids.shadow = shadowExchangeId(open[1]!, shadowKey(SHADOW.upstream, SHADOW.model));

  const auth = { authorization: `Bearer ${TOKEN}` };
  const verdicts = new Map<string, Verdict>();
  for (const id of [...Object.values(ids), ...open, ...open.map((o) => shadowExchangeId(o, shadowKey(SHADOW.upstream, SHADOW.model)))]) {
    verdicts.set(
      id,
      await until(`verdict ${id}`, 30_000, async () => {
        const res = await fetch(`${base}/veracity/v1/verdicts/${encodeURIComponent(id)}`, { headers: auth });
        return res.status === 200 ? ((await res.json()) as Verdict) : undefined;
      }),
    );
  }
  const v = (k: string) => verdicts.get(ids[k]!)!;
  t.same(
    [v('grounded1').hallucination.method, v('open').hallucination.method, v('plain').hallucination.method, v('tools').tool_calls?.failed, v('refusal').refusal.kind !== 'none', v('down').skipped, v('empty').skipped, v('shadow').shadow_of],
    ['context', 'samples', 'none', 2, true, 'upstream_error', 'empty_response', ids.open],
    'the traffic covers every kind of figure the console shows',
  );

  const { page, shot } = await openBrowser(t);
  const pages: Array<[string, string]> = [
    ['signin', '/veracity/'],
    ['overview', '/veracity/?range=1h'],
    ['flagged', '/veracity/flagged?range=1h'],
    ['flagged-refusal', '/veracity/flagged?range=1h&kind=refusal'],
    ['recent', '/veracity/exchanges?range=1h'],
    ['exchange-grounded', `/veracity/exchanges/${ids.grounded1}`],
    ['exchange-tools', `/veracity/exchanges/${ids.tools}`],
    ['exchange-samples', `/veracity/exchanges/${ids.open}`],
    ['exchange-shadow', `/veracity/exchanges/${encodeURIComponent(ids.shadow!)}`],
    ['exchange-skipped', `/veracity/exchanges/${ids.down}`],
    ['compare', `/veracity/compare?range=1h&a=${encodeURIComponent(`openai:${OPEN}`)}&b=${encodeURIComponent(`anthropic:${SHADOW.model}`)}`],
  ];
  for (const [width, height, suffix] of [
    [1366, 768, '1366'],
    [390, 844, '390'],
  ] as const) {
    await page.setViewport({ width, height, isMobile: width < 600 });
    for (const [name, path] of pages) {
      await page.setExtraHTTPHeaders(name === 'signin' ? {} : auth);
      const res = await page.goto(`${base}${path}`);
      t.equal(res!.status(), name === 'signin' ? 401 : 200, `${name} answers`);
      if (name === 'signin') t.ok(await page.$('form[action="/veracity/sign-in"]'), 'the sign-in form');
      else t.ok(await page.$(name === 'exchange-skipped' ? 'main dl.facts' : 'main table, main .list'), `${name}: shows its content`);
      const o = await overflow(page);
      t.ok(o.page <= 0, `${name} at ${width} px: the page is no wider than the window (by ${o.page} px)`);
      if (width === 1366) t.same(o.tables, [], `${name} at ${width} px: no table wider than its box`);
      await shot(`fit-${name}-${suffix}.png`);
    }
  }
});
