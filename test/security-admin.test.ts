import t from 'tap';
import { Redis } from 'ioredis';
import type { FastifyInstance } from 'fastify';
import { buildProxy } from '../src/proxy/server.js';
import { loadConfig } from '../src/config/load.js';
import { createMetrics } from '../src/metrics/registry.js';
import { VerdictStore } from '../src/verdicts/store.js';
import type { Verdict } from '../src/detect/verdict.js';
import { startRedis, type TestRedis } from './helpers/redis.js';

// /veracity/* is the one place stored verdicts (claim texts from responses) can be read: it needs
// the admin token when one is set, a loopback client when none is, and it is rate limited.

const TOKEN = 'admin-token-0123456789abcdef';
const OUTSIDE = '203.0.113.9';
let redis: TestRedis;
let client: Redis;
let store: VerdictStore;

const verdict: Verdict = {
  id: 'adm-1',
  provider: 'openai',
  model: 'gpt-admin',
  grounded: false,
  hallucination: { flagged: false, score: 0.1, claims: [] },
  confidence_mismatch: { flagged: false, score: 0 },
  refusal: { flagged: false, kind: 'none', score: 0 },
};

function proxyWith(token?: string): FastifyInstance {
  // Upstreams on a closed loopback port: nothing here may leave the machine.
  const dead = 'http://127.0.0.1:9';
  const { config } = loadConfig({ env: { VERACITY_ADMIN_TOKEN: token, PORT: '0', VERACITY_OPENAI_UPSTREAM: dead, VERACITY_ANTHROPIC_UPSTREAM: dead } });
  return buildProxy({ config, metrics: createMetrics(), store, logger: false }).app;
}

const SECURITY = {
  'cache-control': 'no-store',
  'x-content-type-options': 'nosniff',
  'content-security-policy': /default-src 'none'/,
};

t.before(async () => {
  redis = await startRedis();
  client = new Redis(redis.url);
  store = new VerdictStore(client, 'veracity', 60);
  await store.putIfAbsent(verdict);
});

t.teardown(async () => {
  client?.disconnect();
  await redis?.stop();
});

t.test('with a token set: none or a wrong one is 401, the right one is 200, from anywhere', async (t) => {
  const app = proxyWith(TOKEN);
  t.teardown(() => app.close());
  const url = '/veracity/v1/verdicts/adm-1';
  const wrong: Array<Record<string, string>> = [
    {},
    { authorization: 'Bearer ' },
    { authorization: `Bearer ${TOKEN.slice(0, -1)}x` },
    { authorization: `Bearer ${TOKEN}x` },
    { authorization: `Bearer ${TOKEN.slice(0, -1)}` },
    { authorization: `bearer ${TOKEN}x` },
    { authorization: `Basic ${Buffer.from(`admin:${TOKEN}`).toString('base64')}` },
    { authorization: TOKEN },
    { 'x-api-key': TOKEN },
  ];
  for (const headers of wrong) {
    for (const remoteAddress of ['127.0.0.1', OUTSIDE]) {
      const res = await app.inject({ method: 'GET', url, headers, remoteAddress });
      t.equal(res.statusCode, 401, `${JSON.stringify(headers)} from ${remoteAddress} → 401`);
      t.match(res.headers, SECURITY, 'security headers on the refusal');
      t.notMatch(res.body, /gpt-admin/, 'no verdict content');
    }
  }
  const outside = await app.inject({ method: 'GET', url, headers: { authorization: `Bearer ${TOKEN}` }, remoteAddress: OUTSIDE });
  t.equal(outside.statusCode, 200, 'right token from outside → 200');
  t.equal(outside.json().model, 'gpt-admin');
  t.match(outside.headers, SECURITY, 'security headers on the answer');
  const missing = await app.inject({ method: 'GET', url: '/veracity/v1/verdicts/nope', headers: { authorization: `Bearer ${TOKEN}` } });
  t.equal(missing.statusCode, 404);
  const unknownRoute = await app.inject({ method: 'GET', url: '/veracity/v1/keys', remoteAddress: OUTSIDE });
  t.equal(unknownRoute.statusCode, 401, 'unknown admin routes are guarded too, not a route map');
  const badId = await app.inject({ method: 'GET', url: '/veracity/v1/verdicts/a%2Fb', headers: { authorization: `Bearer ${TOKEN}` } });
  t.equal(badId.statusCode, 400, 'ids outside the allowed alphabet are refused before Redis');
});

t.test('with no token: loopback only, whatever the forwarding headers claim', async (t) => {
  const app = proxyWith(undefined);
  t.teardown(() => app.close());
  const url = '/veracity/v1/verdicts/adm-1';
  for (const remoteAddress of ['127.0.0.1', '::1', '::ffff:127.0.0.1']) {
    const res = await app.inject({ method: 'GET', url, remoteAddress });
    t.equal(res.statusCode, 200, `${remoteAddress} → 200`);
  }
  for (const remoteAddress of [OUTSIDE, '192.0.2.2', '::ffff:203.0.113.9', '10.0.0.1', '2001:db8::1']) {
    const res = await app.inject({ method: 'GET', url, remoteAddress, headers: { 'x-forwarded-for': '127.0.0.1', forwarded: 'for=127.0.0.1', 'x-real-ip': '127.0.0.1', host: '127.0.0.1' } });
    t.equal(res.statusCode, 403, `${remoteAddress} (claiming 127.0.0.1) → 403`);
    t.match(res.headers, SECURITY);
    t.notMatch(res.body, /gpt-admin/);
  }
  const spoofedPrefix = await app.inject({ method: 'GET', url, remoteAddress: '1127.0.0.1' });
  t.equal(spoofedPrefix.statusCode, 403, 'an address that merely contains 127. is not loopback');
});

t.test('the admin API is rate limited per client address', async (t) => {
  const app = proxyWith(TOKEN);
  t.teardown(() => app.close());
  const url = '/veracity/v1/verdicts/adm-1';
  const auth = { authorization: `Bearer ${TOKEN}` };
  const statuses: number[] = [];
  for (let i = 0; i < 605; i++) statuses.push((await app.inject({ method: 'GET', url, headers: auth, remoteAddress: OUTSIDE })).statusCode);
  t.equal(statuses.filter((s) => s === 200).length, 600, 'the budget of 600 a minute is served');
  t.same(statuses.slice(600), [429, 429, 429, 429, 429], 'past it: 429');
  const limited = await app.inject({ method: 'GET', url, headers: auth, remoteAddress: OUTSIDE });
  t.match(limited.headers, SECURITY, 'security headers on 429 too');
  const guessing = await app.inject({ method: 'GET', url, headers: { authorization: 'Bearer wrong-wrong-wrong-wrong' }, remoteAddress: OUTSIDE });
  t.equal(guessing.statusCode, 429, 'token guessing from a limited address is refused before the token check');
  const other = await app.inject({ method: 'GET', url, headers: auth, remoteAddress: '198.51.100.7' });
  t.equal(other.statusCode, 200, 'another address has its own budget');
  const proxied = await app.inject({ method: 'GET', url: '/v1/models', remoteAddress: OUTSIDE });
  t.not(proxied.statusCode, 429, 'the proxied API is not limited by the admin budget');
});
