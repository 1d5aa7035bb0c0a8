import t from 'tap';
import { Redis } from 'ioredis';
import { start } from '../src/app.js';
import { loadConfig } from '../src/config/load.js';
import { ANSWER } from './helpers/upstream.js';
import { startStack } from './helpers/stack.js';
import { metricSum, sleep } from './helpers/processes.js';

// Redis is SIGKILLed in the middle of a steady stream of requests through `serve` and comes back
// empty on the same port. Clients must not notice at all; exchanges that could not be queued are
// counted as dropped (every exchange is either enqueued or dropped); and once Redis is back, the
// same process — no restart — queues and analyses again, so later requests get their verdicts.

const { redis, upstream, proxy, port } = await startStack(t, {
  overrides: (raw, upstream) => {
    raw.capture = { ...(raw.capture as object), enqueueTimeoutMs: 500 };
  },
});

interface Sent {
  at: number;
  status: number;
  ok: boolean;
  id: string;
  error?: string;
}

const requests = [
  { path: '/v1/chat/completions', body: { model: 'gpt-restart', messages: [{ role: 'user', content: 'Where is the Eiffel Tower?' }] } },
  { path: '/v1/chat/completions', body: { model: 'gpt-restart', stream: true, messages: [{ role: 'user', content: 'Where is the Eiffel Tower?' }] } },
  { path: '/v1/messages', body: { model: 'claude-restart', max_tokens: 50, messages: [{ role: 'user', content: 'Where is the Eiffel Tower?' }] } },
  { path: '/v1/messages', body: { model: 'claude-restart', max_tokens: 50, stream: true, messages: [{ role: 'user', content: 'Where is the Eiffel Tower?' }] } },
];

async function one(i: number): Promise<Sent> {
  const r = requests[i % requests.length]!;
  const at = Date.now();
  try {
    const res = await fetch(`${proxy.url}${r.path}`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: 'Bearer sk-restart', ...(r.path === '/v1/messages' ? { 'anthropic-version': '2023-06-01' } : {}) },
      body: JSON.stringify(r.body),
    });
    const text = await res.text();
    // The streamed answer arrives in 7-character pieces; its first piece is enough to know the
    // body is the upstream's and complete (the stream ends with its terminal event).
    const complete = r.body.stream ? text.includes(ANSWER.slice(0, 7)) && (text.includes('[DONE]') || text.includes('message_stop')) : text.includes(ANSWER);
    return { at, status: res.status, ok: res.status === 200 && complete, id: res.headers.get('x-veracity-id') ?? '' };
  } catch (err) {
    return { at, status: 0, ok: false, id: '', error: (err as Error).message };
  }
}

const metrics = async () => (await fetch(`${proxy.url}/metrics`)).text();

t.test('Redis SIGKILLed and restarted under load: no client error, verdicts resume by themselves', async (t) => {
  const sent: Sent[] = [];
  let stop = false;
  let n = 0;
  // Four clients in a loop, each a request every ~10 ms: a steady ~150-300 requests a second.
  const clients = Array.from({ length: 4 }, async () => {
    while (!stop) {
      sent.push(await one(n++));
      await sleep(10);
    }
  });

  // Each phase lasts a while and until enough requests went through it, however slow the machine.
  const phase = async (minMs: number, enough: () => boolean, maxMs = 30_000) => {
    const from = Date.now();
    while (Date.now() - from < maxMs && (Date.now() - from < minMs || !enough())) await sleep(50);
  };
  await phase(1500, () => sent.length >= 60);
  const killedAt = Date.now();
  await redis.stop(); // SIGKILL
  await phase(2000, () => sent.filter((s) => s.at > killedAt).length >= 60);
  t.equal((await fetch(`${proxy.url}/readyz`)).status, 503, '/readyz says Redis is unavailable while it is down');
  await redis.restart();
  const restartedAt = Date.now();
  let readyAt = 0;
  while (!readyAt && Date.now() - restartedAt < 10_000) {
    if ((await fetch(`${proxy.url}/readyz`)).status === 200) readyAt = Date.now();
    else await sleep(50);
  }
  t.ok(readyAt > 0, `ready again ${readyAt - restartedAt} ms after the restart`);
  await phase(3000, () => sent.filter((s) => s.at > readyAt + 500).length >= 120);
  stop = true;
  await Promise.all(clients);

  const failed = sent.filter((s) => !s.ok);
  t.ok(sent.length >= 240, `${sent.length} requests sent`);
  t.same(failed.slice(0, 5), [], `no client-visible error (${failed.length} of ${sent.length})`);
  t.ok(sent.filter((s) => s.at > killedAt && s.at < restartedAt).length > 50, 'plenty of them while Redis was down');

  // Every exchange is accounted for: enqueued or dropped (after the enqueue timeout at most).
  const count = (text: string) => {
    const late = metricSum(text, 'veracity_analysis_dropped_total', 'reason="enqueue_timeout"') + metricSum(text, 'veracity_analysis_dropped_total', 'reason="enqueue_error"');
    return { enqueued: metricSum(text, 'veracity_analysis_enqueued_total'), late, dropped: metricSum(text, 'veracity_analysis_dropped_total', 'reason="redis_unavailable"') + late };
  };
  let counted = count(await metrics());
  for (const until = Date.now() + 10_000; counted.enqueued + counted.dropped < sent.length && Date.now() < until; ) {
    await sleep(100);
    counted = count(await metrics());
  }
  const { enqueued, dropped, late } = counted;
  t.ok(dropped > 0, `${dropped} exchanges dropped while Redis was down`);
  t.equal(enqueued + dropped, sent.length, `enqueued (${enqueued}) + dropped (${dropped}) = sent`);

  // Requests sent once Redis was back (with a moment for the worker's own connection) get verdicts.
  const after = sent.filter((s) => s.at > readyAt + 500);
  t.ok(after.length > 100, `${after.length} requests after recovery`);
  // Read from Redis itself: hundreds of look-ups, polled, would run into the admin API's rate limit.
  const reader = new Redis(redis.url);
  t.teardown(() => reader.disconnect());
  const deadline = Date.now() + 30_000;
  let missing = after;
  while (missing.length > 0 && Date.now() < deadline) {
    const found = await reader.pipeline(missing.map((s) => ['exists', `veracity:verdict:${s.id}`])).exec();
    missing = missing.filter((_, i) => found?.[i]?.[1] !== 1);
    if (missing.length) await sleep(250);
  }
  t.equal(missing.length, 0, `every request after recovery has a verdict (${after.length - missing.length}/${after.length})`);
  // A verdict is readable a moment before its counters move. Hand-offs that timed out (counted as
  // dropped) may still land once the connection is back, so they may be analysed too.
  let checks = metricSum(await metrics(), 'veracity_checks_total');
  for (const until = Date.now() + 10_000; checks < after.length && Date.now() < until; ) {
    await sleep(100);
    checks = metricSum(await metrics(), 'veracity_checks_total');
  }
  t.ok(checks >= after.length && checks <= enqueued + late, `checks (${checks}) between the post-recovery count and the enqueued count (${enqueued}, + ${late} hand-offs that timed out)`);
});

t.test('Redis frozen (SIGSTOP) under load: clients never wait on it', async (t) => {
  const before = await metrics();
  const enqueued0 = metricSum(before, 'veracity_analysis_enqueued_total');
  const dropped0 = metricSum(before, 'veracity_analysis_dropped_total');
  const checks0 = metricSum(before, 'veracity_checks_total');
  const sent: Sent[] = [];
  const latencies: number[] = [];
  let stop = false;
  let n = 0;
  const clients = Array.from({ length: 4 }, async () => {
    while (!stop) {
      const t0 = Date.now();
      sent.push(await one(n++));
      latencies.push(Date.now() - t0);
      await sleep(10);
    }
  });
  await sleep(500);
  redis.process.kill('SIGSTOP');
  const frozenAt = Date.now();
  await sleep(2500);
  redis.process.kill('SIGCONT');
  const thawedAt = Date.now();
  await sleep(1500);
  stop = true;
  await Promise.all(clients);

  const failed = sent.filter((s) => !s.ok);
  t.same(failed.slice(0, 5), [], `no client-visible error (${failed.length} of ${sent.length})`);
  const during = sent.filter((s) => s.at > frozenAt && s.at < thawedAt).length;
  t.ok(during > 30, `${during} requests answered while Redis was frozen`);
  const sorted = [...latencies].sort((a, b) => a - b);
  const p99 = sorted[Math.floor(sorted.length * 0.99)]!;
  t.ok(p99 < 1000, `p99 latency ${p99} ms: the request path never waited for the frozen Redis`);

  // Hand-offs that waited past enqueueTimeoutMs count as dropped; the rest as enqueued.
  await sleep(1000);
  const deadline = Date.now() + 10_000;
  let text = await metrics();
  while (Date.now() < deadline) {
    text = await metrics();
    if (metricSum(text, 'veracity_analysis_enqueued_total') - enqueued0 + metricSum(text, 'veracity_analysis_dropped_total') - dropped0 >= sent.length) break;
    await sleep(200);
  }
  const enqueued = metricSum(text, 'veracity_analysis_enqueued_total') - enqueued0;
  const dropped = metricSum(text, 'veracity_analysis_dropped_total') - dropped0;
  t.equal(enqueued + dropped, sent.length, `enqueued (${enqueued}) + dropped (${dropped}) = sent (${sent.length})`);
  await sleep(2000);
  const checks = metricSum(await metrics(), 'veracity_checks_total') - checks0;
  // An add abandoned at the timeout was already written to the socket: when Redis wakes it can
  // still land and be analysed, so an exchange counted as dropped may get a verdict after all.
  t.comment(`checks ${checks}, enqueued ${enqueued}, dropped ${dropped}: ${Math.max(0, checks - enqueued)} timed-out hand-offs landed after all`);
  t.ok(checks <= sent.length, 'never more checks than exchanges');
});

t.test('a frozen Redis holds at most capture.maxInFlightEnqueues hand-offs', async (t) => {
  // Its own proxy, with a small bound, against the shared Redis.
  const { config } = loadConfig({
    env: { REDIS_URL: redis.url, VERACITY_OPENAI_UPSTREAM: upstream.url, VERACITY_ANTHROPIC_UPSTREAM: upstream.url, PORT: '0' },
    overrides: (raw) => {
      raw.capture = { ...(raw.capture as object), enqueueTimeoutMs: 200, maxInFlightEnqueues: 10 };
    },
  });
  const small = await start('proxy', config, { logger: false });
  t.teardown(() => small.stop());
  const text = async () => (await fetch(`${small.url}/metrics`)).text();
  for (let i = 0; i < 100 && (await fetch(`${small.url}/readyz`)).status !== 200; i++) await sleep(50);
  redis.process.kill('SIGSTOP');
  let statuses: number[] = [];
  try {
    // 60 exchanges over ~1.2 s: every add times out long before Redis wakes.
    for (let i = 0; i < 60; i++) {
      const res = await fetch(`${small.url}/v1/chat/completions`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ model: 'gpt-frozen', messages: [] }) });
      await res.arrayBuffer();
      statuses.push(res.status);
      await sleep(20);
    }
    await sleep(300);
    const m = await text();
    t.equal(metricSum(m, 'veracity_analysis_enqueue_inflight'), 10, 'the in-flight gauge stays at the bound');
    t.equal(metricSum(m, 'veracity_analysis_dropped_total', 'reason="enqueue_timeout"'), 10, 'only the bound were written towards Redis, then timed out');
    t.equal(metricSum(m, 'veracity_analysis_dropped_total', 'reason="backpressure"'), 50, 'the rest were refused at once');
  } finally {
    redis.process.kill('SIGCONT');
  }
  t.same(statuses, Array(60).fill(200), 'clients unaffected');
  // Once Redis answers, the slots come back.
  const deadline = Date.now() + 5000;
  while (metricSum(await text(), 'veracity_analysis_enqueued_total') === 0 && Date.now() < deadline) {
    const res = await fetch(`${small.url}/v1/chat/completions`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ model: 'gpt-frozen', messages: [] }) });
    await res.arrayBuffer();
    await sleep(100);
  }
  t.ok(metricSum(await text(), 'veracity_analysis_enqueued_total') > 0, 'hand-offs flow again after Redis wakes');
});
