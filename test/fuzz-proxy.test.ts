import t from 'tap';
import fc from 'fast-check';
import { connect } from 'node:net';
import { request as httpRequest } from 'node:http';
import { gzipSync } from 'node:zlib';
import { startStack } from './helpers/stack.js';
import { metricSum, sleep } from './helpers/processes.js';

// The proxy end to end under random input from both sides. Whatever a client writes on the
// socket, it gets an HTTP answer (never a hang, never a crash); whatever the upstream answers,
// the client gets that status and those bytes, and the worker analysing the copy neither crashes
// nor fails a job (anything unreadable is a counted CaptureError, not an exception).

const { redis, upstream, proxy, port } = await startStack(t, {
  overrides: (raw, upstream) => {
    raw.server = { ...(raw.server as object), bodyLimitBytes: 64 * 1024, headersTimeoutMs: 2000, requestTimeoutMs: 3000 };
    raw.upstreams = {
      ...(raw.upstreams as object),
      openai: { url: upstream.url, headersTimeoutMs: 2000, bodyTimeoutMs: 2000 },
      anthropic: { url: upstream.url, headersTimeoutMs: 2000, bodyTimeoutMs: 2000 },
      named: { local: { url: `${upstream.url}/base`, dialect: 'anthropic', prefix: '/local' } },
    };
    // One attempt: a job that throws is a final failure, visible at once.
    raw.worker = { ...(raw.worker as object), attempts: 1 };
  },
});

t.afterEach(() => {
  upstream.handler = null;
});

/** Writes bytes on a fresh connection; resolves with the status of the first answer, 0 if none came. */
function rawExchange(bytes: Buffer, ms = 6000): Promise<number> {
  return new Promise((resolve) => {
    // write, not end: Node's server takes a half-closed socket for a client that went away.
    const sock = connect(port, '127.0.0.1', () => sock.write(bytes));
    let data = '';
    const timer = setTimeout(() => {
      sock.destroy();
      resolve(-1);
    }, ms);
    sock.on('data', (d) => {
      data += d.toString('latin1');
      if (data.includes('\r\n')) sock.destroy();
    });
    sock.on('error', () => {});
    sock.on('close', () => {
      clearTimeout(timer);
      resolve(Number(/^HTTP\/1\.[01] (\d{3})/.exec(data)?.[1] ?? 0));
    });
  });
}

const pathPiece = fc.oneof(
  fc.constantFrom('v1', 'chat', 'completions', 'messages', 'responses', 'models', 'veracity', 'local', 'metrics', '..', '.', '%2e', '%2E%2e', '%2F', '%00', '%', '%zz', '', '~', '@', ':', ';', ',', '*', '\\', 'é', '\u{1F600}', 'count_tokens'),
  fc.string({ maxLength: 12 }).map(encodeURIComponent),
  fc.string({ unit: 'grapheme', maxLength: 6 }),
);
const path = fc
  .tuple(fc.constantFrom('/v1/', '/v1/', '/local/v1/', '/veracity/v1/verdicts/', '/'), fc.array(pathPiece, { minLength: 0, maxLength: 5 }), fc.option(fc.string({ maxLength: 20 }).map(encodeURI)))
  .map(([head, parts, q]) => head + parts.join('/') + (q !== null ? `?${q}` : ''));
const target = fc.oneof(
  { weight: 6, arbitrary: path },
  { weight: 1, arbitrary: fc.constantFrom('*', 'http://127.0.0.1:1/v1/models', '//evil.example/v1/models', 'v1/models', '', '/v1/models#frag', 'http:///', '/%%%') },
);
const method = fc.oneof({ weight: 1, arbitrary: fc.stringMatching(/^[A-Z]{1,10}$/) }, { weight: 8, arbitrary: fc.constantFrom('GET', 'POST', 'PUT', 'DELETE', 'PATCH', 'HEAD', 'OPTIONS', 'CONNECT', 'TRACE', 'PROPFIND', 'QUERY', 'POST', 'POST', 'POST') });
const headerName = fc.oneof(
  { weight: 3, arbitrary: fc.stringMatching(/^x-[a-z0-9-]{0,20}$/) },
  fc.constantFrom('content-type', 'accept-encoding', 'anthropic-version', 'x-veracity-app', 'authorization', 'x-api-key', 'expect', 'connection', 'upgrade', 'te', 'host', 'x-forwarded-for', 'transfer-encoding', 'content-length'),
);
const headerValue = fc.oneof(fc.stringMatching(/^[\x20-\x7e]{0,60}$/), fc.constantFrom('application/json', 'text/event-stream', ';;;', 'gzip', 'chunked', '100-continue', 'close', 'websocket', '-1', '99999999999', '2023-06-01'));
const body = fc.oneof(
  fc.uint8Array({ maxLength: 2000 }).map((a) => Buffer.from(a)),
  fc.jsonValue().map((v) => Buffer.from(JSON.stringify(v) ?? 'null')),
  fc.record({ model: fc.string(), messages: fc.jsonValue(), stream: fc.boolean(), max_tokens: fc.integer() }, { requiredKeys: [] }).map((v) => Buffer.from(JSON.stringify(v))),
);
const request = fc.record({ method, target, headers: fc.array(fc.tuple(headerName, headerValue), { maxLength: 8 }), body, chunked: fc.boolean() }).map(({ method, target, headers, body, chunked }) => {
  const lines = [`${method} ${target} HTTP/1.1`, 'Host: 127.0.0.1', ...headers.map(([k, v]) => `${k}: ${v}`)];
  if (chunked) lines.push('Transfer-Encoding: chunked');
  else lines.push(`Content-Length: ${body.length}`);
  const payload = chunked ? Buffer.concat([Buffer.from(`${body.length.toString(16)}\r\n`), body, Buffer.from('\r\n0\r\n\r\n')]) : body;
  return Buffer.concat([Buffer.from(lines.join('\r\n') + '\r\n\r\n', 'utf8'), payload]);
});

t.test('random requests always get an HTTP answer, and the proxy stays up', async (t) => {
  // An upstream that takes any body: 200 for a JSON object on an API path, else its own 4xx.
  upstream.handler = (req, res, body) => {
    let json: unknown;
    try {
      json = JSON.parse(body.toString('utf8'));
    } catch {}
    const path = (req.url ?? '').split('?')[0]!;
    if (!/^\/(base\/)?v1\//.test(path)) return res.writeHead(404, { 'content-type': 'application/json' }).end('{"error":{"message":"not found"}}');
    if (typeof json !== 'object' || json === null) return res.writeHead(400, { 'content-type': 'application/json' }).end('{"error":{"message":"invalid JSON body"}}');
    res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ id: 'x', object: 'chat.completion', choices: [{ index: 0, message: { role: 'assistant', content: 'Paris.' } }] }));
  };
  const seen = new Map<number, number>();
  await fc.assert(
    fc.asyncProperty(request, async (bytes) => {
      const status = await rawExchange(bytes);
      seen.set(status, (seen.get(status) ?? 0) + 1);
      if (status < 100) throw new Error(`no HTTP answer (${status === -1 ? 'hung' : 'closed'}) to ${JSON.stringify(bytes.toString('latin1').slice(0, 300))}`);
    }),
    { numRuns: 250, interruptAfterTimeLimit: 40_000 },
  );
  t.comment(`statuses: ${JSON.stringify(Object.fromEntries([...seen].sort((a, b) => a[0] - b[0])))}`);
  t.ok(seen.size > 3, 'a variety of answers');
  t.equal((await fetch(`${proxy.url}/healthz`)).status, 200, 'still healthy');
});

const upstreamAnswer = fc.record({
  status: fc.oneof(fc.constantFrom(200, 200, 200, 201, 204, 400, 401, 404, 429, 500, 502, 503, 529), fc.integer({ min: 200, max: 599 })),
  contentType: fc.option(fc.constantFrom('application/json', 'text/event-stream', 'text/event-stream; charset=utf-8', 'text/html', 'text/plain', 'application/octet-stream', '', 'application/x-ndjson')),
  headers: fc.array(fc.tuple(fc.stringMatching(/^x-[a-z0-9-]{1,15}$/), fc.stringMatching(/^[\x20-\x7e]{0,40}$/).map((s) => s.trim())), { maxLength: 4 }),
  body: fc.oneof(
    fc.uint8Array({ maxLength: 3000 }).map((a) => Buffer.from(a)),
    fc.jsonValue().map((v) => Buffer.from(JSON.stringify(v) ?? '')),
    fc.array(fc.oneof(fc.jsonValue().map((v) => `data: ${JSON.stringify(v)}\n\n`), fc.constantFrom('data: [DONE]\n\n', 'event: message_stop\ndata: {"type":"message_stop"}\n\n', ': ping\n\n', 'data: {"choices":[{"delta":{"content":"Paris."}}]}\n\n', 'data: {"type":"content_block_delta","delta":{"type":"text_delta","text":"Paris."}}\n\n', 'data: {broken\n\n', '\r\n', 'data:')), { maxLength: 12 }).map((e) => Buffer.from(e.join(''))),
  ),
  gzip: fc.constantFrom('none', 'none', 'gzip', 'lying-gzip'),
  splits: fc.array(fc.nat(3000), { maxLength: 4 }),
});

t.test('random upstream answers reach the client as they were; the worker never fails a job', async (t) => {
  const metrics = async () => (await fetch(`${proxy.url}/metrics`)).text();
  let n = 0;
  await fc.assert(
    fc.asyncProperty(upstreamAnswer, fc.constantFrom('/v1/chat/completions', '/v1/messages', '/v1/responses', '/v1/completions', '/local/v1/messages'), async (a, route) => {
      const wire = a.gzip === 'gzip' ? gzipSync(a.body) : a.body;
      const noBody = a.status === 204 || a.status === 304;
      upstream.handler = (_req, res) => {
        const headers: Record<string, string> = Object.fromEntries(a.headers);
        if (a.contentType !== null) headers['content-type'] = a.contentType;
        if (a.gzip !== 'none') headers['content-encoding'] = 'gzip';
        res.writeHead(a.status, headers);
        if (noBody) return res.end();
        const cuts = [...new Set(a.splits.map((s) => s % (wire.length + 1)))].sort((x, y) => x - y);
        let at = 0;
        for (const c of cuts) {
          res.write(wire.subarray(at, c));
          at = c;
        }
        res.end(wire.subarray(at));
      };
      const got = await new Promise<{ status: number; body: Buffer }>((resolve, reject) => {
        const r = httpRequest({ host: '127.0.0.1', port, method: 'POST', path: route, headers: { 'content-type': 'application/json', 'anthropic-version': '2023-06-01' } }, (res) => {
          const parts: Buffer[] = [];
          res.on('data', (d: Buffer) => parts.push(d));
          res.on('end', () => resolve({ status: res.statusCode ?? 0, body: Buffer.concat(parts) }));
          res.on('error', reject);
        });
        r.on('error', reject);
        r.end(JSON.stringify({ model: `fuzz-${n++ % 3}`, max_tokens: 10, stream: true, messages: [{ role: 'user', content: 'Where is the Eiffel Tower?' }] }));
      });
      if (got.status !== a.status) throw new Error(`status ${got.status}, upstream said ${a.status}`);
      if (!noBody && !got.body.equals(wire)) throw new Error(`body differs (${got.body.length} vs ${wire.length} bytes)`);
    }),
    { numRuns: 200, interruptAfterTimeLimit: 30_000 },
  );
  t.pass(`${n} random upstream answers relayed exactly`);

  // Let the worker catch up, then look at what it made of those copies.
  const deadline = Date.now() + 10_000;
  let text = await metrics();
  while (Date.now() < deadline) {
    text = await metrics();
    const done = metricSum(text, 'veracity_worker_jobs_total');
    if (done >= metricSum(text, 'veracity_analysis_enqueued_total')) break;
    await sleep(200);
  }
  const enqueued = metricSum(text, 'veracity_analysis_enqueued_total');
  const jobs = metricSum(text, 'veracity_worker_jobs_total');
  t.comment(`enqueued ${enqueued}; jobs: ${['stored', 'duplicate', 'skipped', 'unparseable', 'failed'].map((r) => `${r} ${metricSum(text, 'veracity_worker_jobs_total', `result="${r}"`)}`).join(', ')}`);
  t.ok(enqueued > 0, 'copies were queued');
  t.equal(jobs, enqueued, 'every queued copy was taken by the worker');
  t.equal(metricSum(text, 'veracity_worker_jobs_total', 'result="failed"'), 0, 'no job failed with an exception');
  t.equal((await fetch(`${proxy.url}/healthz`)).status, 200, 'still healthy');
});
