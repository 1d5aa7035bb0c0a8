import t from 'tap';
import type { FastifyInstance } from 'fastify';
import { Registry } from 'prom-client';
import { loadConfig } from '../src/config/load.js';
import { ConsoleSessions } from '../src/console/auth.js';
import { ConsoleData } from '../src/console/data.js';
import { BoundedLabel } from '../src/metrics/labels.js';
import { createMetrics } from '../src/metrics/registry.js';
import { buildProxy } from '../src/proxy/server.js';
import { aggregateKeys } from '../src/verdicts/aggregates.js';
import { VerdictStore } from '../src/verdicts/store.js';
import { analyseJob } from '../src/worker/analyse-job.js';
import { rawFromRow, rows } from './helpers/exchanges.js';
import { startRedisWithClient } from './helpers/redis.js';

// The console's protection and its handling of hostile text, through Fastify's inject (the
// browser test covers the same in chromium): who gets in, how the sign-in resists forgery and
// guessing, and that no text the model wrote becomes markup.

const TOKEN = 'console-security-token-0123456789';
const OUTSIDE = '203.0.113.9';

async function setup(t: Tap.Test, opts: { token?: string; storeText?: boolean } = {}) {
  const { client } = await startRedisWithClient(t);
  const dead = 'http://127.0.0.1:9';
  const { config } = loadConfig({
    env: { VERACITY_ADMIN_TOKEN: opts.token, PORT: '0', VERACITY_OPENAI_UPSTREAM: dead, VERACITY_ANTHROPIC_UPSTREAM: dead },
    overrides: (raw) => void (raw.capture = { storeText: opts.storeText ?? true }),
  });
  const store = new VerdictStore(client, config.redis.prefix, config.verdicts.ttlSeconds);
  const deps = { config, metrics: createMetrics(new Registry(), { processMetrics: false }), store, models: new BoundedLabel([], 50), aggregates: aggregateKeys(config) };
  const row = rows('halueval-qa.jsonl', 4).find((r) => r.expected.hallucination === true)!;
  const hostile = { ...row, response: { ...row.response, choices: [{ index: 0, message: { role: 'assistant', content: 'It is <script>alert(1)</script> in "Rome" & <img src=x onerror=alert(2)>.' }, finish_reason: 'stop' }] } };
  const raws = [rawFromRow(row, { id: 'ex-plain', model: 'gpt-<b>bold</b>' }), rawFromRow(hostile, { id: 'ex-hostile', model: 'gpt-<b>bold</b>' })];
  for (const raw of raws) t.equal(await analyseJob(raw, deps), 'stored');
  const app: FastifyInstance = buildProxy({ config, metrics: createMetrics(), store, console: new ConsoleData(client, config), logger: false }).app;
  t.teardown(() => app.close());
  return { app, client, config };
}

const cookieOf = (res: { headers: Record<string, unknown> }, name: string) => {
  const raw = res.headers['set-cookie'];
  const all = Array.isArray(raw) ? raw : raw ? [String(raw)] : [];
  const c = all.find((x: string) => x.startsWith(`${name}=`));
  return c ? { header: c as string, value: (c as string).slice(name.length + 1).split(';')[0]! } : undefined;
};

t.test('without a token: loopback only, every page', async (t) => {
  const { app } = await setup(t);
  for (const url of ['/veracity/', '/veracity/flagged', '/veracity/exchanges', '/veracity/exchanges/ex-plain', `/veracity/compare?a=${encodeURIComponent('openai:gpt-<b>bold</b>')}&b=openai:x`]) {
    const inside = await app.inject({ method: 'GET', url, remoteAddress: '127.0.0.1' });
    t.equal(inside.statusCode, 200, `${url} on loopback`);
    t.match(inside.headers['content-type'], /text\/html/);
    const outside = await app.inject({ method: 'GET', url, remoteAddress: OUTSIDE, headers: { 'x-forwarded-for': '127.0.0.1' } });
    t.equal(outside.statusCode, 403, `${url} from outside`);
    t.notMatch(outside.body, /gpt-/);
  }
  const signIn = await app.inject({ method: 'GET', url: '/veracity/sign-in', remoteAddress: '127.0.0.1' });
  t.equal(signIn.statusCode, 303, 'nothing to sign in to');
  const redirect = await app.inject({ method: 'GET', url: '/veracity', remoteAddress: '127.0.0.1' });
  t.equal(redirect.headers.location, '/veracity/');
});

t.test('a range that ends on the first second of a minute shows what was analysed in that minute', async (t) => {
  const { app, client, config } = await setup(t);
  const analysed = Date.parse(JSON.parse((await client.get(`${config.redis.prefix}:verdict:ex-plain`))!).analysed_at);
  const minute = Math.floor(analysed / 60_000) * 60_000;
  // "to" is a whole second and includes it, as the lists read it: the minute's bucket overlaps it.
  const overview = await app.inject({ method: 'GET', url: `/veracity/?from=${minute - 3_600_000}&to=${minute}`, remoteAddress: '127.0.0.1' });
  t.equal(overview.statusCode, 200);
  t.match(overview.body, 'gpt-&lt;b&gt;bold&lt;/b&gt;');
});

t.test('hostile text and model names are escaped, and the CSP allows no script', async (t) => {
  const { app } = await setup(t);
  const overview = await app.inject({ method: 'GET', url: '/veracity/?range=1h', remoteAddress: '127.0.0.1' });
  t.match(overview.body, 'gpt-&lt;b&gt;bold&lt;/b&gt;');
  t.notMatch(overview.body, '<b>bold</b>');
  const csp = String(overview.headers['content-security-policy']);
  t.match(csp, /default-src 'none'/);
  t.notMatch(csp, /script-src|unsafe/);
  t.equal(overview.body.match(/<script/gi), null, 'no script element on the overview');
  const ex = await app.inject({ method: 'GET', url: '/veracity/exchanges/ex-hostile', remoteAddress: '127.0.0.1' });
  t.equal(ex.statusCode, 200);
  t.equal(ex.body.match(/<script|<img/gi), null, 'no script or img element on the exchange page');
  t.match(ex.body, '&lt;script&gt;alert(1)&lt;/script&gt;');
  t.match(ex.body, '&lt;img src=x onerror=alert(2)&gt;');
  const css = await app.inject({ method: 'GET', url: overview.body.match(/href="(\/veracity\/static\/[^"]+)"/)![1]!, remoteAddress: '127.0.0.1' });
  t.equal(css.statusCode, 200);
  t.match(css.headers['content-type'], /text\/css/);
  const bad = await app.inject({ method: 'GET', url: '/veracity/exchanges/%3Cscript%3E', remoteAddress: '127.0.0.1' });
  t.equal(bad.statusCode, 400);
  t.notMatch(bad.body, '<script>');
  const missing = await app.inject({ method: 'GET', url: '/veracity/exchanges/nope', remoteAddress: '127.0.0.1' });
  t.equal(missing.statusCode, 404);
  // The recent list and the compare page write model names and verdict ids from Redis, and the
  // compare page echoes what the URL asked for: all escaped.
  const recent = await app.inject({ method: 'GET', url: '/veracity/exchanges?range=1h', remoteAddress: '127.0.0.1' });
  t.equal(recent.statusCode, 200);
  t.match(recent.body, 'openai/gpt-&lt;b&gt;bold&lt;/b&gt;');
  t.match(recent.body, /href="\/veracity\/exchanges\/ex-hostile"/, 'every stored exchange listed');
  t.equal(recent.body.match(/<script|<b>bold/gi), null);
  const compare = await app.inject({ method: 'GET', url: `/veracity/compare?range=1h&a=${encodeURIComponent('openai:gpt-<b>bold</b>')}&b=${encodeURIComponent('anthropic:<script>alert(3)</script>')}`, remoteAddress: '127.0.0.1' });
  t.equal(compare.statusCode, 200);
  t.match(compare.body, '&lt;script&gt;alert(3)&lt;/script&gt;');
  t.equal(compare.body.match(/<script|<b>bold/gi), null, 'no markup from the URL or the model names');
  t.match(compare.body, /No prompt was answered by both models/);
  const same = await app.inject({ method: 'GET', url: '/veracity/compare?a=gpt-x&b=gpt-x', remoteAddress: '127.0.0.1' });
  t.equal(same.statusCode, 400);
  t.match(same.body, /two different models/);
  const badRange = await app.inject({ method: 'GET', url: '/veracity/?range=%3Cscript%3E', remoteAddress: '127.0.0.1' });
  t.equal(badRange.statusCode, 200);
  t.match(badRange.body, /not a duration/);
  t.notMatch(badRange.body, '<script>');
});

t.test('with storeText: false the exchange page shows offsets and scores only, and says why', async (t) => {
  const { app, client, config } = await setup(t, { storeText: false });
  t.same(await client.keys(`${config.redis.prefix}:text:*`), []);
  const ex = await app.inject({ method: 'GET', url: '/veracity/exchanges/ex-plain', remoteAddress: '127.0.0.1' });
  t.equal(ex.statusCode, 200);
  t.match(ex.body, /capture\.storeText: false/);
  t.match(ex.body, /offsets \d+–\d+/);
  t.notMatch(ex.body, /Question<\/h2>/);
});

t.test('with a token: a sign-in form, a session cookie, no forgery, no guessing', async (t) => {
  const { app } = await setup(t, { token: TOKEN });
  const refused = await app.inject({ method: 'GET', url: '/veracity/?range=1h', remoteAddress: OUTSIDE });
  t.equal(refused.statusCode, 401);
  t.match(refused.body, /<form method="post" action="\/veracity\/sign-in">/);
  t.notMatch(refused.body, /gpt-/);
  t.match(String(refused.headers['content-security-policy']), /default-src 'none'/);
  const bearer = await app.inject({ method: 'GET', url: '/veracity/', remoteAddress: OUTSIDE, headers: { authorization: `Bearer ${TOKEN}` } });
  t.equal(bearer.statusCode, 200, 'the bearer header works too');

  const csrf = cookieOf(refused, 'veracity_csrf')!;
  t.match(csrf.header, /HttpOnly; SameSite=Strict/);
  const form = (fields: Record<string, string>) => new URLSearchParams(fields).toString();
  const post = (body: string, headers: Record<string, string> = {}) =>
    app.inject({ method: 'POST', url: '/veracity/sign-in', remoteAddress: OUTSIDE, headers: { 'content-type': 'application/x-www-form-urlencoded', ...headers }, body });

  t.equal((await post(form({ token: TOKEN, csrf: csrf.value, next: '/veracity/' }))).statusCode, 403, 'without the CSRF cookie');
  t.equal((await post(form({ token: TOKEN, csrf: 'other', next: '/veracity/' }), { cookie: `veracity_csrf=${csrf.value}` })).statusCode, 403, 'with a CSRF field that does not match');
  t.equal((await post(form({ token: TOKEN, csrf: csrf.value }), { cookie: `veracity_csrf=${csrf.value}`, origin: 'https://evil.example', host: 'proxy.local' })).statusCode, 403, 'from another origin');
  t.equal((await post(form({ token: TOKEN, csrf: csrf.value }), { cookie: `veracity_csrf=${csrf.value}`, 'sec-fetch-site': 'cross-site' })).statusCode, 403, 'cross-site');

  const ok = await post(form({ token: TOKEN, csrf: csrf.value, next: '//evil.example/x' }), { cookie: `veracity_csrf=${csrf.value}`, origin: 'null' });
  t.equal(ok.statusCode, 303);
  t.equal(ok.headers.location, '/veracity/', 'never redirected off the console');
  const session = cookieOf(ok, 'veracity_session')!;
  t.match(session.header, /Path=\/veracity; Max-Age=\d+; HttpOnly; SameSite=Strict/);
  t.notMatch(session.header, TOKEN);
  const inside = await app.inject({ method: 'GET', url: '/veracity/', remoteAddress: OUTSIDE, headers: { cookie: `veracity_session=${session.value}` } });
  t.equal(inside.statusCode, 200);
  t.match(inside.body, /Sign out/);
  const api = await app.inject({ method: 'GET', url: '/veracity/v1/verdicts/ex-plain', remoteAddress: OUTSIDE, headers: { cookie: `veracity_session=${session.value}` } });
  t.equal(api.statusCode, 200, 'the session opens the API as well');

  // Sessions are HMACs of their expiry: a forged, altered or expired one is refused.
  const [exp, sig] = session.value.split('.');
  for (const forged of [`${Number(exp) + 3600}.${sig}`, `${exp}.${'A'.repeat(sig!.length)}`, new ConsoleSessions('another-token-0123456789').issue(), new ConsoleSessions(TOKEN, -10).issue()]) {
    const res = await app.inject({ method: 'GET', url: '/veracity/', remoteAddress: OUTSIDE, headers: { cookie: `veracity_session=${forged}` } });
    t.equal(res.statusCode, 401, `session ${forged.slice(0, 14)}… refused`);
  }

  // Sign-out needs the session's own CSRF token.
  const signOutToken = inside.body.match(/name="csrf" value="([^"]+)"/)![1]!;
  const noToken = await app.inject({ method: 'POST', url: '/veracity/sign-out', remoteAddress: OUTSIDE, headers: { cookie: `veracity_session=${session.value}`, 'content-type': 'application/x-www-form-urlencoded' }, body: 'csrf=nope' });
  t.equal(noToken.statusCode, 403);
  const out = await app.inject({ method: 'POST', url: '/veracity/sign-out', remoteAddress: OUTSIDE, headers: { cookie: `veracity_session=${session.value}`, 'content-type': 'application/x-www-form-urlencoded' }, body: `csrf=${signOutToken}` });
  t.equal(out.statusCode, 303);
  t.match(cookieOf(out, 'veracity_session')!.header, /Max-Age=0/);

  // Guessing: ten wrong tokens a minute per address, then 429 even for the right one.
  const statuses: number[] = [];
  for (let i = 0; i < 11; i++) statuses.push((await post(form({ token: `wrong-${i}`, csrf: csrf.value }), { cookie: `veracity_csrf=${csrf.value}` })).statusCode);
  t.same(statuses, [...Array(10).fill(401), 429]);
  t.equal((await post(form({ token: TOKEN, csrf: csrf.value }), { cookie: `veracity_csrf=${csrf.value}` })).statusCode, 429);
});

t.test('Redis down: the console says so, the proxy lives on', async (t) => {
  const { app, client } = await setup(t);
  client.disconnect();
  const res = await app.inject({ method: 'GET', url: '/veracity/', remoteAddress: '127.0.0.1' });
  t.equal(res.statusCode, 503);
  t.match(res.body, /unreachable/);
  t.equal((await app.inject({ method: 'GET', url: '/healthz' })).statusCode, 200);
});
