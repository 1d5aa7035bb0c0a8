import t from 'tap';
import { loadConfig } from '../src/config/load.js';
import { ConsoleData } from '../src/console/data.js';
import { ReviewData } from '../src/console/review.js';
import { LabelsApi } from '../src/labels/api.js';
import { LabelStore } from '../src/labels/store.js';
import { createMetrics } from '../src/metrics/registry.js';
import { buildProxy } from '../src/proxy/server.js';
import { VerdictStore } from '../src/verdicts/store.js';
import { seedLabelled } from './helpers/labelled-seed.js';
import { startRedisWithClient } from './helpers/redis.js';

// The review queue's draw, against a real Redis: uniform over the model's analysed traffic (so the
// flagged share of draws is the flagged share of traffic, not 100%), never an exchange already
// labelled at random; and the page's protection and CSP through the proxy's admin scope.

const TOKEN = 'review-queue-admin-token-0123456789';

t.test('draws are uniform over the window and skip random-labelled exchanges', async (t) => {
  const { client } = await startRedisWithClient(t);
  const { config } = loadConfig({ env: { PORT: '0' } });
  const seeded = await seedLabelled(client, config.redis.prefix, [{ provider: 'openai', model: 'gpt-draw', checks: 200, trueRate: 0.3, randomLabels: 50, feedbackLabels: 10 }]);
  const m = seeded.models[0]!;
  const flaggedShare = m.scores.filter((s) => s >= 0.5).length / m.checks;
  const random = new Set(m.random.map((i) => m.ids[i]!));
  const feedback = new Set(m.feedback.map((i) => m.ids[i]!));
  const review = new ReviewData(client, config);
  const now = Date.now();
  let flagged = 0;
  let feedbackDrawn = 0;
  const DRAWS = 600;
  for (let i = 0; i < DRAWS; i++) {
    const d = (await review.draw({ provider: 'openai', label: 'gpt-draw' }, now - 3600_000, now))!;
    if (random.has(d.verdict.id)) {
      t.fail(`drew ${d.verdict.id}, already labelled at random`);
      break;
    }
    if (d.verdict.hallucination.flagged) flagged++;
    if (feedback.has(d.verdict.id)) feedbackDrawn++;
  }
  // 150 unlabelled-at-random exchanges: the flagged share among them, give or take sampling noise.
  const pool = m.ids.filter((id) => !random.has(id));
  const poolFlagged = pool.filter((id) => m.scores[m.ids.indexOf(id)]! >= 0.5).length / pool.length;
  const se = Math.sqrt((poolFlagged * (1 - poolFlagged)) / DRAWS);
  t.ok(Math.abs(flagged / DRAWS - poolFlagged) < 4 * se, `flagged share of draws ${(flagged / DRAWS).toFixed(3)} ≈ ${poolFlagged.toFixed(3)} (traffic ${flaggedShare.toFixed(3)})`);
  t.ok(feedbackDrawn > 0, 'exchanges labelled as feedback can still be drawn at random');
  t.pass('no draw was an exchange already labelled at random');
  // Only the window: nothing before it.
  t.equal(await review.draw({ provider: 'openai', label: 'gpt-draw' }, now - 7200_000, now - 3600_000), undefined);

  const models = await review.models(now - 3600_000, now);
  t.equal(models.length, 1);
  t.match(models[0], { provider: 'openai', model: 'gpt-draw', indexed: 200 });
  t.equal(models[0]!.verified.labels, 50);
  t.equal(models[0]!.verified.feedback, 10);
  t.ok(models[0]!.verified.narrowing! > 0);
});

t.test('the page: protected like the console, its own script allowed, nothing else', async (t) => {
  const { client } = await startRedisWithClient(t);
  const dead = 'http://127.0.0.1:9';
  const { config } = loadConfig({ env: { VERACITY_ADMIN_TOKEN: TOKEN, PORT: '0', VERACITY_OPENAI_UPSTREAM: dead, VERACITY_ANTHROPIC_UPSTREAM: dead } });
  await seedLabelled(client, config.redis.prefix, [{ provider: 'openai', model: 'gpt-page', checks: 30, trueRate: 0.3, randomLabels: 5, feedbackLabels: 0 }]);
  const store = new VerdictStore(client, config.redis.prefix, config.verdicts.ttlSeconds);
  const labels = new LabelsApi({ labels: new LabelStore(client, config.redis.prefix), verdicts: store });
  const app = buildProxy({ config, metrics: createMetrics(), store, console: new ConsoleData(client, config), labels, logger: false }).app;
  t.teardown(() => app.close());
  const auth = { authorization: `Bearer ${TOKEN}` };
  const anon = await app.inject({ method: 'GET', url: '/veracity/review', remoteAddress: '127.0.0.1' });
  t.equal(anon.statusCode, 401, 'the sign-in form without a session');
  t.notMatch(anon.body, /gpt-page/);
  const res = await app.inject({ method: 'GET', url: '/veracity/review?range=1h', headers: auth, remoteAddress: '127.0.0.1' });
  t.equal(res.statusCode, 200);
  const csp = String(res.headers['content-security-policy']);
  t.match(csp, /script-src 'self'/);
  t.match(csp, /connect-src 'self'/);
  t.notMatch(csp, /unsafe/);
  t.match(res.body, /data-id="gpt-page-\d+"/, 'an exchange to label');
  t.equal(res.body.match(/<script/g)?.length, 1, 'one script element, no inline code');
  const src = res.body.match(/<script src="([^"]+)"/)![1]!;
  const js = await app.inject({ method: 'GET', url: src, headers: auth, remoteAddress: '127.0.0.1' });
  t.equal(js.statusCode, 200);
  t.match(js.headers['content-type'], /javascript/);
  t.match(js.body, /\/veracity\/v1\/labels/);
  const overview = await app.inject({ method: 'GET', url: '/veracity/?range=1h', headers: auth, remoteAddress: '127.0.0.1' });
  t.notMatch(String(overview.headers['content-security-policy']), /script-src/, 'other pages still run no script');
  t.match(overview.body, /data-field="verified"><b>[\d.]+%<\/b><small>5 random labels/);
});
