import t from 'tap';
import { request as httpRequest } from 'node:http';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { freePort, startRedis, type TestRedis } from './helpers/redis.js';
import { anthropicEvents, anthropicMessage, chatChunks, chatCompletion, startUpstream, type FakeUpstream } from './helpers/upstream.js';
import { dumpRedis, runCli, sleep, waitFor200, type CliProcess } from './helpers/processes.js';

// Credentials go to the upstream and nowhere else: not to a log line (even at trace level), not
// to Redis (jobs, verdicts, BullMQ's own bookkeeping), not to /metrics, not to a verdict — also
// when the request fails in every way a request can fail.

const CORE = 'QZXSECRET';
const MARKERS = {
  authorization: `sk-${CORE}-authz-4f1e9a`,
  xApiKey: `sk-ant-${CORE}-xapikey-77c2`,
  apiKey: `${CORE}-azure-apikey-a1b2`,
};

let redis: TestRedis;
let upstream: FakeUpstream;
let serve: CliProcess;
let base = '';

t.before(async () => {
  redis = await startRedis();
  upstream = await startUpstream();
  // Each request names its failure in a header the proxy forwards.
  upstream.handler = (req, res, body) => {
    switch (req.headers['x-test-case']) {
      case '500':
        res.writeHead(500, { 'content-type': 'application/json' }).end('{"error":{"message":"internal","type":"server_error"}}');
        return;
      case 'hang':
        return; // never answers: the proxy times out
      case 'invalid-json':
        res.writeHead(200, { 'content-type': 'application/json' }).end('{"choices": [ not json');
        return;
      case 'reset':
        res.writeHead(200, { 'content-type': 'text/event-stream' });
        res.write(chatChunks('gpt-secret')[0]);
        setTimeout(() => res.socket?.destroy(), 20);
        return;
      case 'json':
        res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify(chatCompletion('gpt-secret')));
        return;
    }
    let json: { stream?: boolean };
    try {
      json = JSON.parse(body.toString() || '{}');
    } catch {
      return res.writeHead(400, { 'content-type': 'application/json' }).end('{"error":{"message":"invalid JSON body","type":"invalid_request_error"}}');
    }
    const path = req.url ?? '';
    if (path === '/v1/models') return res.writeHead(200, { 'content-type': 'application/json' }).end('{"object":"list","data":[]}');
    const anthropic = path === '/v1/messages';
    if (json.stream) {
      res.writeHead(200, { 'content-type': 'text/event-stream' });
      return res.end((anthropic ? anthropicEvents('claude-secret') : chatChunks('gpt-secret')).join(''));
    }
    res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify(anthropic ? anthropicMessage('claude-secret') : chatCompletion('gpt-secret')));
  };
  const dir = mkdtempSync(join(tmpdir(), 'veracity-secrets-'));
  const dead = await freePort();
  const file = join(dir, 'config.yaml');
  writeFileSync(
    file,
    [
      'upstreams:',
      `  openai: { url: "${upstream.url}", headersTimeoutMs: 400, bodyTimeoutMs: 400 }`,
      `  anthropic: { url: "${upstream.url}", headersTimeoutMs: 400, bodyTimeoutMs: 400 }`,
      '  named:',
      `    dead: { url: "http://127.0.0.1:${dead}", dialect: openai, prefix: /dead }`,
      'server:',
      '  bodyLimitBytes: 65536',
      '',
    ].join('\n'),
  );
  const port = await freePort();
  base = `http://127.0.0.1:${port}`;
  serve = runCli(['serve'], { VERACITY_CONFIG: file, REDIS_URL: redis.url, PORT: String(port), VERACITY_LOG_LEVEL: 'trace' });
  await waitFor200(`${base}/readyz`, 15_000);
});

t.teardown(async () => {
  serve?.kill('SIGKILL');
  await upstream?.close();
  await redis?.stop();
});

/** A raw HTTP request, so headers and bodies go exactly as written. */
function send(method: string, path: string, headers: Record<string, string>, body?: string | Buffer): Promise<{ status: number; id?: string; body: string }> {
  return new Promise((resolve) => {
    const u = new URL(base);
    const r = httpRequest({ host: u.hostname, port: u.port, method, path, headers }, (res) => {
      let text = '';
      res.on('data', (d) => (text += d));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, id: res.headers['x-veracity-id'] as string | undefined, body: text }));
      res.on('error', () => resolve({ status: res.statusCode ?? 0, id: res.headers['x-veracity-id'] as string | undefined, body: text }));
    });
    r.on('error', () => resolve({ status: -1, body: '' }));
    r.end(body);
  });
}

const creds = [
  { authorization: `Bearer ${MARKERS.authorization}` },
  { 'x-api-key': MARKERS.xApiKey },
  { 'api-key': MARKERS.apiKey },
  { authorization: `Bearer ${MARKERS.authorization}`, 'x-api-key': MARKERS.xApiKey, 'api-key': MARKERS.apiKey },
];
const chat = (extra: object = {}) => JSON.stringify({ model: 'gpt-secret', messages: [{ role: 'user', content: 'Where is the Eiffel Tower?' }], ...extra });
const msg = (extra: object = {}) => JSON.stringify({ model: 'claude-secret', max_tokens: 50, messages: [{ role: 'user', content: 'Where is the Eiffel Tower?' }], ...extra });

t.test('no credential appears in logs, Redis, verdicts or metrics, whatever happens to the request', async (t) => {
  const json = { 'content-type': 'application/json' };
  const cases: Array<[string, string, Record<string, string>, string | Buffer | undefined, number | number[]]> = [
    ['POST', '/v1/chat/completions', { 'x-test-case': 'json' }, chat(), 200],
    ['POST', '/v1/chat/completions', {}, chat({ stream: true }), 200],
    ['POST', '/v1/messages', { 'anthropic-version': '2023-06-01' }, msg(), 200],
    ['POST', '/v1/messages', { 'anthropic-version': '2023-06-01' }, msg({ stream: true }), 200],
    ['POST', '/v1/chat/completions', { 'x-test-case': '500' }, chat(), 500],
    ['POST', '/v1/chat/completions', { 'x-test-case': 'hang' }, chat(), 504],
    ['POST', '/v1/chat/completions', { 'x-test-case': 'invalid-json' }, chat(), 200],
    ['POST', '/v1/chat/completions', { 'x-test-case': 'reset' }, chat({ stream: true }), 200],
    ['POST', '/v1/chat/completions', {}, '{"model": nope', 400],
    ['POST', '/dead/v1/chat/completions', {}, chat(), 502],
    ['POST', '/v1/chat/completions', {}, 'x'.repeat(70_000), 413],
    ['GET', '/v1/models', {}, undefined, 200],
    ['GET', '/not-routed', {}, undefined, 404],
    ['GET', '/v1/%2e%2e/x', {}, undefined, 400],
    ['GET', '/veracity/v1/verdicts/does-not-exist', {}, undefined, 404],
  ];
  const ids: string[] = [];
  for (const cred of creds) {
    for (const [method, path, headers, body, want] of cases) {
      const res = await send(method, path, { ...json, ...cred, ...headers }, body);
      t.ok([want].flat().includes(res.status), `${method} ${path} ${headers['x-test-case'] ?? ''} → ${res.status}`);
      if (res.id) ids.push(res.id);
    }
  }
  // The credentials did reach the upstream: the markers are real and would be found if leaked.
  t.ok(upstream.seen.some((s) => s.headers.authorization === `Bearer ${MARKERS.authorization}`), 'Authorization forwarded');
  t.ok(upstream.seen.some((s) => s.headers['x-api-key'] === MARKERS.xApiKey), 'x-api-key forwarded');
  t.ok(upstream.seen.some((s) => s.headers['api-key'] === MARKERS.apiKey), 'api-key forwarded');

  // Let the worker analyse everything it was given and the enqueues settle.
  const deadline = Date.now() + 10_000;
  let metrics = '';
  for (;;) {
    metrics = await (await fetch(`${base}/metrics`)).text();
    const waiting = /veracity_queue_depth\{state="(?:waiting|active|delayed)"\} [1-9]/.test(metrics);
    if ((!waiting && /veracity_worker_jobs_total/.test(metrics)) || Date.now() > deadline) break;
    await sleep(200);
  }
  await sleep(2500); // one more queue-depth poll, and any stragglers

  const verdicts: string[] = [];
  for (const id of ids) {
    const r = await fetch(`${base}/veracity/v1/verdicts/${id}`);
    if (r.status === 200) verdicts.push(await r.text());
  }
  t.ok(verdicts.length >= creds.length * 4, `verdicts stored for the successful exchanges (${verdicts.length})`);

  const dump = await dumpRedis(redis.url);
  t.ok(dump.size > 0, `Redis holds ${dump.size} keys`);
  t.ok([...dump.keys()].some((k) => k.includes(':verdict:')), 'verdict keys are among them');
  t.ok([...dump.keys()].some((k) => k.includes(':exchanges:')), 'BullMQ keys are among them');
  metrics = await (await fetch(`${base}/metrics`)).text();

  serve.kill('SIGTERM');
  await serve.exited;
  const stdout = serve.stdout();
  const stderr = serve.stderr();
  t.ok(stdout.length + stderr.length > 0, 'the process did log');
  t.match(stderr + stdout, /upstream request failed|request failed/, 'failures were logged, so their log lines were checked too');

  const leaks = (where: string, text: string) => {
    for (const m of [CORE, ...Object.values(MARKERS)]) t.notOk(text.includes(m), `${m} not in ${where}`);
  };
  leaks('stdout', stdout);
  leaks('stderr', stderr);
  leaks('/metrics', metrics);
  leaks('verdicts', verdicts.join('\n'));
  for (const [key, value] of dump) {
    if (key.includes(CORE) || value.includes(CORE)) t.fail(`credential found in Redis key ${key}`);
  }
  leaks('Redis', [...dump].join('\n'));
});
