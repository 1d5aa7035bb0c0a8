import t from 'tap';
import { start, type Running } from '../src/app.js';
import { loadConfig } from '../src/config/load.js';
import { startRedis, type TestRedis } from './helpers/redis.js';
import { startUpstream, type FakeUpstream, ANSWER } from './helpers/upstream.js';
import { metricSum, sleep } from './helpers/processes.js';

// Redis is SIGKILLed in the middle of a steady stream of requests through `serve` and comes back
// empty on the same port. Clients must not notice at all; exchanges that could not be queued are
// counted as dropped (every exchange is either enqueued or dropped); and once Redis is back, the
// same process — no restart — queues and analyses again, so later requests get their verdicts.

let redis: TestRedis;
let upstream: FakeUpstream;
let proxy: Running;

t.before(async () => {
  redis = await startRedis();
  upstream = await startUpstream();
  const { config } = loadConfig({
    env: { REDIS_URL: redis.url, VERACITY_OPENAI_UPSTREAM: upstream.url, VERACITY_ANTHROPIC_UPSTREAM: upstream.url, PORT: '0' },
    overrides: (raw) => {
      raw.capture = { ...(raw.capture as object), enqueueTimeoutMs: 500 };
    },
  });
  proxy = await start('serve', config, { logger: false });
});

t.teardown(async () => {
  await proxy?.stop();
  await upstream?.close();
  await redis?.stop();
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

  await sleep(1500);
  const killedAt = Date.now();
  await redis.stop(); // SIGKILL
  await sleep(2000);
  t.equal((await fetch(`${proxy.url}/readyz`)).status, 503, '/readyz says Redis is unavailable while it is down');
  await redis.restart();
  const restartedAt = Date.now();
  let readyAt = 0;
  while (!readyAt && Date.now() - restartedAt < 10_000) {
    if ((await fetch(`${proxy.url}/readyz`)).status === 200) readyAt = Date.now();
    else await sleep(50);
  }
  t.ok(readyAt > 0, `ready again ${readyAt - restartedAt} ms after the restart`);
  await sleep(3000);
  stop = true;
  await Promise.all(clients);

  const failed = sent.filter((s) => !s.ok);
  t.ok(sent.length > 300, `${sent.length} requests sent`);
  t.same(failed.slice(0, 5), [], `no client-visible error (${failed.length} of ${sent.length})`);
  t.ok(sent.filter((s) => s.at > killedAt && s.at < restartedAt).length > 50, 'plenty of them while Redis was down');

  // Every exchange is accounted for: enqueued or dropped (after the enqueue timeout at most).
  await sleep(800);
  const text = await metrics();
  const enqueued = metricSum(text, 'veracity_analysis_enqueued_total');
  const dropped = metricSum(text, 'veracity_analysis_dropped_total', 'reason="redis_unavailable"') + metricSum(text, 'veracity_analysis_dropped_total', 'reason="enqueue_timeout"') + metricSum(text, 'veracity_analysis_dropped_total', 'reason="enqueue_error"');
  t.ok(dropped > 0, `${dropped} exchanges dropped while Redis was down`);
  t.equal(enqueued + dropped, sent.length, `enqueued (${enqueued}) + dropped (${dropped}) = sent`);

  // Requests sent once Redis was back (with a moment for the worker's own connection) get verdicts.
  const after = sent.filter((s) => s.at > readyAt + 500);
  t.ok(after.length > 100, `${after.length} requests after recovery`);
  const deadline = Date.now() + 15_000;
  let missing = after;
  while (missing.length > 0 && Date.now() < deadline) {
    const still: Sent[] = [];
    for (const s of missing) {
      const r = await fetch(`${proxy.url}/veracity/v1/verdicts/${s.id}`);
      await r.arrayBuffer();
      if (r.status !== 200) still.push(s);
    }
    missing = still;
    if (missing.length) await sleep(250);
  }
  t.equal(missing.length, 0, `every request after recovery has a verdict (${after.length - missing.length}/${after.length})`);
  const checks = metricSum(await metrics(), 'veracity_checks_total');
  t.ok(checks >= after.length && checks <= enqueued, `checks (${checks}) between the post-recovery count and the enqueued count`);
});
