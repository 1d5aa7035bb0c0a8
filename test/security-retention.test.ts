import t from 'tap';
import { gzipSync } from 'node:zlib';
import { Redis } from 'ioredis';
import { start, type Running } from '../src/app.js';
import { loadConfig } from '../src/config/load.js';
import { anthropicEvents, chatChunks, chatCompletion, startUpstream, type FakeUpstream } from './helpers/upstream.js';
import { startRedis, type TestRedis } from './helpers/redis.js';
import { dumpRedis, sleep, waitFor200 } from './helpers/processes.js';

// What Redis keeps, and for how long: verdict keys expire after verdicts.ttlSeconds; with
// storeText off no prompt or response text outlives the analysis; with redactPii on, PII in
// prompts and answers never reaches Redis — not in queued jobs, not in verdicts.

let upstream: FakeUpstream;
/** The answer the upstream gives, set per test. */
let answer = '';

t.before(async () => {
  upstream = await startUpstream();
  upstream.handler = (req, res, body) => {
    const json = JSON.parse(body.toString() || '{}') as { stream?: boolean; model?: string };
    const model = json.model ?? 'm';
    const anthropic = req.url === '/v1/messages';
    const gzip = req.headers['x-test-gzip'] === '1';
    if (json.stream) {
      // The answer arrives split into 7-character deltas, as a real model streams tokens.
      res.writeHead(200, { 'content-type': 'text/event-stream' });
      const events = anthropic ? anthropicEvents(model, answer) : chatChunks(model, answer);
      let i = 0;
      const next = () => (i < events.length ? (res.write(events[i++]), setImmediate(next)) : res.end());
      return next();
    }
    const bytes = Buffer.from(JSON.stringify(chatCompletion(model, answer)));
    if (gzip) return res.writeHead(200, { 'content-type': 'application/json', 'content-encoding': 'gzip' }).end(gzipSync(bytes));
    res.writeHead(200, { 'content-type': 'application/json' }).end(bytes);
  };
});
t.teardown(() => upstream?.close());

async function run(mode: 'serve' | 'proxy' | 'worker', redis: TestRedis, capture: object, verdicts: object = {}): Promise<Running> {
  const { config } = loadConfig({
    env: { REDIS_URL: redis.url, VERACITY_OPENAI_UPSTREAM: upstream.url, VERACITY_ANTHROPIC_UPSTREAM: upstream.url, PORT: '0', VERACITY_METRICS_PORT: '0' },
    overrides: (raw) => {
      raw.capture = { ...(raw.capture as object), ...capture };
      raw.verdicts = { ...(raw.verdicts as object), ...verdicts };
    },
  });
  const running = await start(mode, config, { logger: false });
  // The request path's Redis connection queues nothing while it connects (an exchange sent
  // before it is ready is dropped, by design), so requests wait until the proxy says it is ready.
  if (mode !== 'worker') await waitFor200(`${running.url}/readyz`, 15_000);
  return running;
}

async function chat(url: string, content: string, opts: { stream?: boolean; gzip?: boolean; anthropic?: boolean } = {}): Promise<string> {
  const path = opts.anthropic ? '/v1/messages' : '/v1/chat/completions';
  const res = await fetch(`${url}${path}`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', ...(opts.gzip ? { 'x-test-gzip': '1' } : {}), ...(opts.anthropic ? { 'anthropic-version': '2023-06-01' } : {}) },
    body: JSON.stringify({
      model: 'gpt-retain',
      max_tokens: 100,
      stream: opts.stream ?? false,
      messages: [{ role: 'user', content }],
    }),
  });
  await res.arrayBuffer();
  if (res.status !== 200) throw new Error(`status ${res.status}`);
  return res.headers.get('x-veracity-id')!;
}

async function verdictKeys(url: string, ids: string[], ms = 20_000): Promise<void> {
  const redis = new Redis(url);
  try {
    const deadline = Date.now() + ms;
    for (;;) {
      const n = await redis.exists(...ids.map((id) => `veracity:verdict:${id}`));
      if (n === ids.length) return;
      if (Date.now() > deadline) throw new Error(`only ${n} of ${ids.length} verdicts within ${ms} ms`);
      await sleep(50);
    }
  } finally {
    redis.disconnect();
  }
}

t.test('verdict keys carry a TTL equal to verdicts.ttlSeconds', async (t) => {
  const redis = await startRedis();
  t.teardown(() => redis.stop());
  const proxy = await run('serve', redis, {}, { ttlSeconds: 321 });
  t.teardown(() => proxy.stop());
  answer = 'The Eiffel Tower is in Paris. It was completed in 1889.';
  const ids = [await chat(proxy.url, 'Where is it?'), await chat(proxy.url, 'Where is it?', { stream: true }), await chat(proxy.url, 'Where?', { anthropic: true, stream: true })];
  await verdictKeys(redis.url, ids);
  const client = new Redis(redis.url);
  t.teardown(() => client.disconnect());
  for (const id of ids) {
    const ttl = await client.ttl(`veracity:verdict:${id}`);
    t.ok(ttl > 315 && ttl <= 321, `verdict ${id} expires in ${ttl} s`);
  }
  // Nothing Veracity keeps lives forever except BullMQ's bounded bookkeeping.
  const dump = await dumpRedis(redis.url);
  for (const key of dump.keys()) {
    if (!key.includes(':verdict:')) continue;
    t.ok((await client.ttl(key)) > 0, `${key} has a TTL`);
  }
});

t.test('storeText: false leaves no prompt or response text in Redis after analysis', async (t) => {
  const redis = await startRedis();
  t.teardown(() => redis.stop());
  const proxy = await run('serve', redis, { storeText: false });
  t.teardown(() => proxy.stop());
  answer = 'Okapiresponse grazes in Zanzibarville every spring. Okapiresponse was born in 1931.';
  const prompt = 'Context: Pangolinprompt lives near Quokkatown.\n\nQuestion: where does Okapiresponse graze?';
  const ids = [
    await chat(proxy.url, prompt),
    await chat(proxy.url, prompt, { stream: true }),
    await chat(proxy.url, prompt, { gzip: true }),
    await chat(proxy.url, prompt, { anthropic: true, stream: true }),
  ];
  await verdictKeys(redis.url, ids);
  await sleep(200); // removeOnComplete runs as the job is acknowledged
  const dump = [...(await dumpRedis(redis.url))].join('\n');
  t.ok(dump.includes(':verdict:'), 'verdicts stored');
  for (const word of ['Okapiresponse', 'Zanzibarville', 'Pangolinprompt', 'Quokkatown', 'Okapire', 'Zanziba']) t.notOk(dump.includes(word), `"${word}" not in Redis`);
});

t.test('redactPii: PII never reaches Redis, while queued or after analysis', async (t) => {
  const redis = await startRedis();
  t.teardown(() => redis.stop());
  // The proxy alone: jobs stay queued until a worker starts.
  const proxy = await run('proxy', redis, { redactPii: true });
  t.teardown(() => proxy.stop());
  const pii = ['jane.doe@example.com', '+1 415-555-0132', '4111 1111 1111 1111', '123-45-6789', '198.51.100.23'];
  const prompt = `Context: The customer Jane wrote from jane.doe@example.com, phone +1 415-555-0132, card 4111 1111 1111 1111, SSN 123-45-6789, from 198.51.100.23.\n\nQuestion: what is her e-mail address?`;
  answer = 'Her e-mail address is jane.doe@example.com and her phone is +1 415-555-0132.';
  const ids = [
    await chat(proxy.url, prompt),
    await chat(proxy.url, prompt, { gzip: true }),
    await chat(proxy.url, prompt, { stream: true }),
    await chat(proxy.url, prompt, { anthropic: true, stream: true }),
  ];
  // Wait until all four exchanges are queued (a job carries a batch of them).
  const client = new Redis(redis.url);
  t.teardown(() => client.disconnect());
  const queuedExchanges = async () => {
    let n = 0;
    for (const jobId of await client.lrange('veracity:exchanges:wait', 0, -1)) {
      n += (JSON.parse((await client.hget(`veracity:exchanges:${jobId}`, 'data'))!) as { exchanges: unknown[] }).exchanges.length;
    }
    return n;
  };
  // Returns as soon as all are queued; the bound is for a machine busy with the rest of the suite.
  const deadline = Date.now() + 15_000;
  while ((await queuedExchanges()) < ids.length && Date.now() < deadline) await sleep(50);
  t.equal(await queuedExchanges(), ids.length, 'all exchanges queued, none analysed');

  const scan = async (when: string) => {
    const dump = [...(await dumpRedis(redis.url))].join('\n');
    for (const p of pii) t.notOk(dump.includes(p), `${when}: "${p}" not in Redis`);
    t.notOk(dump.includes('jane.doe'), `${when}: no e-mail local part`);
    return dump;
  };
  const queued = await scan('queued');
  t.match(queued, /\[EMAIL\]/, 'the queued copy holds the masked prompt');
  t.match(queued, /what is her e-mail address/, 'and the rest of the prompt');

  const worker = await run('worker', redis, { redactPii: true });
  t.teardown(() => worker.stop());
  await verdictKeys(redis.url, ids);
  await sleep(200);
  const analysed = await scan('analysed');
  t.match(analysed, /\[EMAIL\]/, 'the verdicts hold the masked answer');
  // A streamed answer is queued in 7-character pieces that the proxy's pass cannot recognise as
  // PII; reassembled by the worker, they must not come back whole in the verdicts' claim texts.
  const client2 = new Redis(redis.url);
  t.teardown(() => client2.disconnect());
  for (const id of ids) {
    const v = (await client2.get(`veracity:verdict:${id}`))!;
    t.notMatch(v, /jane|415.?555|example\.com/, `verdict ${id} carries no reassembled PII`);
  }
});

t.test('a client cannot choose the exchange id its verdict is stored under', async (t) => {
  const redis = await startRedis();
  t.teardown(() => redis.stop());
  const proxy = await run('serve', redis, {});
  t.teardown(() => proxy.stop());
  answer = 'The Eiffel Tower is in Paris.';
  const victim = await chat(proxy.url, 'Where is it?');
  await verdictKeys(redis.url, [victim]);
  const client = new Redis(redis.url);
  t.teardown(() => client.disconnect());
  const original = await client.get(`veracity:verdict:${victim}`);
  answer = 'The Eiffel Tower is in Rome. It was built in 1999.';
  const res = await fetch(`${proxy.url}/v1/chat/completions`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', 'x-veracity-id': victim, 'idempotency-key': victim },
    body: JSON.stringify({ model: 'gpt-retain', id: victim, messages: [{ role: 'user', content: 'Where is it?' }] }),
  });
  await res.arrayBuffer();
  const id = res.headers.get('x-veracity-id')!;
  t.not(id, victim, 'the proxy assigns its own id');
  t.match(id, /^[0-9a-f-]{36}$/, 'a random UUID');
  t.equal(upstream.seen.at(-1)!.headers['x-veracity-id'], undefined, 'the client header is not passed upstream');
  await verdictKeys(redis.url, [id]);
  t.equal(await client.get(`veracity:verdict:${victim}`), original, "the first exchange's verdict is untouched");
});
