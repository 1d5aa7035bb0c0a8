import t from 'tap';
import { Redis } from 'ioredis';
import { chat } from './helpers/embedded.js';
import { metricValue } from './helpers/metrics.js';
import { startStack } from './helpers/stack.js';
import { waitForVerdict } from './helpers/verdicts.js';

// The labels API through the real proxy (serve: proxy and analysis), a real redis-server and a
// loopback upstream: exchanges are proxied and analysed, then labelled.

const TOKEN = 'labels-api-admin-token-0123456789';

async function setup(t: Tap.Test, token?: string) {
  const stack = await startStack(t, { overrides: (raw) => void (token ? (raw.admin = { token }) : undefined) });
  const base = `http://127.0.0.1:${stack.port}`;
  const redis = new Redis(stack.redis.url);
  t.teardown(() => redis.quit());
  const auth: Record<string, string> = token ? { authorization: `Bearer ${token}` } : {};
  const ids: string[] = [];
  for (const model of ['gpt-label-a', 'gpt-label-a', 'gpt-label-b']) {
    const { status, id } = await chat(stack.port, model);
    t.equal(status, 200);
    ids.push(id);
  }
  const verdicts = await Promise.all(ids.map((id) => waitForVerdict(base, id, 20_000, auth)));
  const post = (body: unknown, headers: Record<string, string> = {}) =>
    fetch(`${base}/veracity/v1/labels`, { method: 'POST', headers: { 'content-type': 'application/json', ...auth, ...headers }, body: typeof body === 'string' ? body : JSON.stringify(body) });
  const exported = async (query = '') => {
    const res = await fetch(`${base}/veracity/v1/labels${query}`, { headers: auth });
    t.equal(res.status, 200);
    t.match(res.headers.get('content-type'), /application\/x-ndjson/);
    return (await res.text()).split('\n').filter(Boolean).map((l) => JSON.parse(l));
  };
  return { stack, base, redis, ids, verdicts, post, exported, auth };
}

t.test('labels are stored with a copy of their verdict, reported back, exported and removed', async (t) => {
  const { base, redis, ids, verdicts, post, exported } = await setup(t);
  const [a1, a2, b1] = ids as [string, string, string];

  const one = await post({ id: a1, hallucination: true, by: 'ana' });
  t.equal(one.status, 200);
  const body1 = await one.json();
  t.same(body1, { stored: [{ id: a1, provider: 'openai', model: 'gpt-label-a', by: 'ana', selection: 'random', replaced: false }], unknown: [] });

  // An array with an id nobody has seen: the known ones are stored, the unknown one reported.
  const many = await post([
    { id: a2, hallucination: false, refusal: 'none', by: 'ana', selection: 'feedback' },
    { id: 'never-seen-0001', hallucination: true },
    { id: b1, hallucination: false, claims: [{ index: 0, hallucinated: false }] },
  ]);
  t.equal(many.status, 200);
  const body2 = await many.json();
  t.same(body2.unknown, ['never-seen-0001']);
  t.same(body2.stored.map((s: { id: string; selection: string; by: string }) => [s.id, s.selection, s.by]), [[a2, 'feedback', 'ana'], [b1, 'random', 'anonymous']]);

  // Relabelling replaces, and says so.
  const again = await (await post({ id: a1, hallucination: false, by: 'ben' })).json();
  t.equal(again.stored[0].replaced, true);

  const all = await exported();
  t.equal(all.length, 3, 'one label per exchange');
  const a1Label = all.find((l) => l.id === a1)!;
  t.equal(a1Label.hallucination, false);
  t.equal(a1Label.by, 'ben');
  const v1 = verdicts[0]!;
  t.same(a1Label.verdict.hallucination, { score: v1.hallucination.score, flagged: v1.hallucination.flagged, method: v1.hallucination.method });
  t.equal(a1Label.verdict.analysed_at, v1.analysed_at);
  t.equal(a1Label.verdict.claims.length, v1.hallucination.claims.length);
  t.equal(a1Label.verdict.refusal.score, v1.refusal.score);
  t.ok(Date.parse(a1Label.labelled_at) > 0);
  t.same(await exported(`?since=${encodeURIComponent(new Date(Date.now() + 60_000).toISOString())}`), [], 'nothing labelled in the future');
  t.equal((await exported('?since=1h')).length, 3);
  const badSince = await fetch(`${base}/veracity/v1/labels?since=yesterday-ish`);
  t.equal(badSince.status, 400);

  // Labels outlive their verdicts: no TTL, and the copy stays when the verdict goes.
  t.equal(await redis.ttl(`veracity:label:human:${a1}`), -1, 'no TTL by default');
  await redis.del(`veracity:verdict:${a1}`);
  t.equal((await fetch(`${base}/veracity/v1/verdicts/${a1}`)).status, 404, 'the verdict is gone');
  t.ok((await exported()).some((l) => l.id === a1 && l.verdict.hallucination.score === v1.hallucination.score), 'its label, with the score, is not');
  // ...but a gone verdict cannot be newly labelled: it is reported unknown.
  t.same((await (await post({ id: a1, hallucination: true })).json()).unknown, [a1]);

  t.equal(await metricValue(base, 'veracity_labels_total', { model: 'gpt-label-a', by: 'ana', selection: 'random' }), 1);
  t.equal(await metricValue(base, 'veracity_labels_total', { model: 'gpt-label-a', by: 'ana', selection: 'feedback' }), 1);
  t.equal(await metricValue(base, 'veracity_labels_total', { model: 'gpt-label-b', by: 'anonymous', selection: 'random' }), 1);

  const del = await fetch(`${base}/veracity/v1/labels/${a2}`, { method: 'DELETE' });
  t.equal(del.status, 200);
  t.same(await del.json(), { removed: 1, id: a2 });
  t.equal((await fetch(`${base}/veracity/v1/labels/${a2}`, { method: 'DELETE' })).status, 404, 'removed once');
  t.same((await exported()).map((l) => l.id).sort(), [a1, b1].sort());
  t.equal(await redis.zcard('veracity:labels:ix:human|openai|gpt-label-a'), 1, 'gone from its model index too');
});

t.test('a malformed body is a 400 that names what is wrong and stores nothing', async (t) => {
  const { ids, post, exported, redis } = await setup(t);
  const [a1, a2] = ids as [string, string];
  const cases: Array<[string, unknown, RegExp]> = [
    ['not a boolean', [{ id: a1, hallucination: true }, { id: a2, hallucination: 'yes' }], /\[1\]\.hallucination/],
    ['unknown field', { id: a1, hallucinated: true }, /hallucinat/],
    ['bad refusal', { id: a1, hallucination: false, refusal: 'maybe' }, /refusal/],
    ['bad selection', { id: a1, hallucination: false, selection: 'flagged' }, /selection/],
    ['bad id', { id: 'has space', hallucination: false }, /id/],
    ['negative claim index', { id: a1, hallucination: false, claims: [{ index: -1, hallucinated: true }] }, /claims/],
    ['claim past the end', [{ id: a2, hallucination: true }, { id: a1, hallucination: false, claims: [{ index: 99, hallucinated: true }] }], /\[1\]\.claims: index 99/],
    ['twice in one body', [{ id: a1, hallucination: true }, { id: a1, hallucination: false }], /labelled twice/],
    ['empty array', [], /empty/],
    ['a number', 42, /JSON label object/],
  ];
  for (const [what, body, detail] of cases) {
    const res = await post(body);
    t.equal(res.status, 400, what);
    const text = await res.text();
    t.match(text, detail, `${what}: ${text}`);
    t.match(text, /nothing was stored|labels nothing|JSON label object/);
  }
  const tooMany = await post(Array.from({ length: 1001 }, (_, i) => ({ id: `x-${i}`, hallucination: false })));
  t.equal(tooMany.status, 400);
  t.match(await tooMany.text(), /at most 1000/);
  const notJson = await post('{"id": ');
  t.equal(notJson.status, 400);
  t.match(await notJson.text(), /not JSON/);
  const form = await post('id=x', { 'content-type': 'application/x-www-form-urlencoded' });
  t.equal(form.status, 415, 'a form post (which any site can send) is refused');
  const crossSite = await post({ id: a1, hallucination: true }, { 'sec-fetch-site': 'cross-site' });
  t.equal(crossSite.status, 403);
  t.same(await exported(), [], 'nothing stored by any of them');
  t.same(await redis.keys('veracity:label*'), []);
});

t.test('protected like /veracity/*: the admin token when one is set', async (t) => {
  const { base, ids, post, exported } = await setup(t, TOKEN);
  const open = await fetch(`${base}/veracity/v1/labels`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ id: ids[0], hallucination: true }) });
  t.equal(open.status, 401);
  t.equal((await fetch(`${base}/veracity/v1/labels`)).status, 401);
  t.equal((await fetch(`${base}/veracity/v1/labels/${ids[0]}`, { method: 'DELETE' })).status, 401);
  t.equal((await post({ id: ids[0], hallucination: true })).status, 200, 'with the bearer token');
  t.equal((await exported()).length, 1);
});
