import t from 'tap';
import { request as httpRequest } from 'node:http';
import { brotliCompressSync, gzipSync } from 'node:zlib';
import { createHash } from 'node:crypto';
import { start } from '../src/app.js';
import { loadConfig } from '../src/config/load.js';
import { anthropicEvents, anthropicMessage, chatChunks, chatCompletion } from './helpers/upstream.js';
import { startStack } from './helpers/stack.js';
import { metricSum, sleep } from './helpers/processes.js';

// Input the proxy did not expect — odd content types, bytes that are not UTF-8, one enormous
// event, compressed bodies, HTML where JSON should be — is relayed as it came, never "fixed",
// and never takes the proxy or the worker down.

const MAX_CAPTURE = 1024 * 1024;

const { redis, upstream, proxy, port } = await startStack(t, {
  overrides: (raw, upstream) => {
    raw.capture = { ...(raw.capture as object), maxBodyBytes: MAX_CAPTURE };
  },
});
const host = new URL(proxy.url).hostname;

t.afterEach(() => {
  upstream.handler = null;
});

interface Reply {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  body: Buffer;
}

/** Raw HTTP: no decompression, no content-type added, bytes as they are. */
function send(path: string, body: Buffer | string | undefined, headers: Record<string, string> = {}, method = 'POST'): Promise<Reply> {
  return new Promise((resolve, reject) => {
    const r = httpRequest({ host, port, method, path, headers: { ...headers, ...(body !== undefined ? { 'content-length': String(Buffer.byteLength(body)) } : {}) } }, (res) => {
      const parts: Buffer[] = [];
      res.on('data', (d: Buffer) => parts.push(d));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body: Buffer.concat(parts) }));
      res.on('error', reject);
    });
    r.on('error', reject);
    r.end(body);
  });
}

async function verdict(id: string, ms = 20_000): Promise<{ status: number; body: any }> {
  const deadline = Date.now() + ms;
  for (;;) {
    const res = await fetch(`${proxy.url}/veracity/v1/verdicts/${id}`);
    if (res.status === 200 || Date.now() > deadline) return { status: res.status, body: res.status === 200 ? await res.json() : await res.text() };
    await sleep(30);
  }
}

const metric = async (name: string, ...match: string[]) => metricSum(await (await fetch(`${proxy.url}/metrics`)).text(), name, ...match);
const chatBody = JSON.stringify({ model: 'gpt-bad', messages: [{ role: 'system', content: 'Context: The Eiffel Tower is in Paris. It was completed in 1889.' }, { role: 'user', content: 'Where is it?' }] });

t.test('request content types are forwarded as they are, or not at all', async (t) => {
  const cases: Array<[string, Record<string, string>, string]> = [
    ['text/plain', { 'content-type': 'text/plain' }, chatBody],
    ['text/plain with charset', { 'content-type': 'text/plain; charset=ISO-8859-1' }, chatBody],
    ['form', { 'content-type': 'application/x-www-form-urlencoded' }, 'model=gpt-bad&messages=hi'],
    ['multipart', { 'content-type': 'multipart/form-data; boundary=XYZ' }, '--XYZ\r\nContent-Disposition: form-data; name="model"\r\n\r\ngpt-bad\r\n--XYZ--\r\n'],
    ['unparseable type', { 'content-type': ';;;/==' }, chatBody],
    ['none', {}, chatBody],
  ];
  for (const [name, headers, body] of cases) {
    const res = await send('/v1/chat/completions', body, headers);
    const seen = upstream.seen.at(-1)!;
    t.equal(seen.headers['content-type'], headers['content-type'], `${name}: content-type forwarded unchanged`);
    t.equal(seen.body.toString('latin1'), body, `${name}: body forwarded byte for byte`);
    t.ok(res.status === 200 || res.status === 400, `${name}: the upstream's answer (${res.status}) relayed`);
  }
  // The worker reads the request as JSON whatever it was labelled: a text/plain request is analysed.
  const res = await send('/v1/chat/completions', chatBody, { 'content-type': 'text/plain' });
  t.equal((await verdict(res.headers['x-veracity-id'] as string)).status, 200, 'a text/plain JSON request still gets its verdict');
});

t.test('bytes that are not UTF-8 go through byte for byte, both ways', async (t) => {
  const bad = Buffer.concat([Buffer.from('{"model":"gpt-bad","messages":[{"role":"user","content":"'), Buffer.from([0xff, 0xfe, 0xc3, 0x28, 0xa0, 0xa1, 0xe2, 0x28, 0xa1, 0xf0, 0x90, 0x28, 0xbc, 0xed, 0xa0, 0x80, 0x00]), Buffer.from('"}]}')]);
  const badAnswer = Buffer.concat([Buffer.from(JSON.stringify(chatCompletion('gpt-bad')).slice(0, -1) + ',"x":"'), Buffer.from([0xc0, 0xaf, 0xff, 0x80]), Buffer.from('"}')]);
  upstream.handler = (_req, res) => res.writeHead(200, { 'content-type': 'application/json' }).end(badAnswer);
  const res = await send('/v1/chat/completions', bad, { 'content-type': 'application/json' });
  t.ok(upstream.seen.at(-1)!.body.equals(bad), 'request bytes identical upstream');
  t.equal(res.status, 200);
  t.ok(res.body.equals(badAnswer), 'response bytes identical at the client');
  const v = await verdict(res.headers['x-veracity-id'] as string);
  t.ok(v.status === 200 || v.status === 404, `the worker coped (verdict ${v.status})`);
});

t.test('one 2 MB event relays intact; the analysis copy is cut at maxBodyBytes and counted', async (t) => {
  const huge = 'The Eiffel Tower is in Paris. '.repeat(Math.ceil((2 * 1024 * 1024) / 30));
  const stream = Buffer.from(
    `data: ${JSON.stringify({ id: 'c', object: 'chat.completion.chunk', created: 1, model: 'gpt-big', choices: [{ index: 0, delta: { content: huge }, finish_reason: null }] })}\n\n` + 'data: [DONE]\n\n',
  );
  upstream.handler = (_req, res) => {
    res.writeHead(200, { 'content-type': 'text/event-stream' });
    res.end(stream);
  };
  const before = await metric('veracity_analysis_truncated_total', 'part="response_body"');
  const res = await send('/v1/chat/completions', JSON.stringify({ model: 'gpt-big', stream: true, messages: [{ role: 'user', content: 'Tell me' }] }), { 'content-type': 'application/json' });
  t.equal(res.status, 200);
  t.ok(stream.length > 2 * 1024 * 1024, `event of ${stream.length} bytes`);
  t.equal(createHash('sha256').update(res.body).digest('hex'), createHash('sha256').update(stream).digest('hex'), 'relayed intact');
  const deadline = Date.now() + 3000;
  while ((await metric('veracity_analysis_truncated_total', 'part="response_body"')) === before && Date.now() < deadline) await sleep(20);
  t.equal(await metric('veracity_analysis_truncated_total', 'part="response_body"'), before + 1, 'truncation counted once');
  const v = await verdict(res.headers['x-veracity-id'] as string);
  t.ok(v.status === 200 || v.status === 404, `the worker coped with the cut copy (verdict ${v.status})`);
  // A request body over the capture limit is cut for analysis too, and still forwarded whole.
  const bigRequest = JSON.stringify({ model: 'gpt-big', messages: [{ role: 'user', content: 'x'.repeat(MAX_CAPTURE + 10) }] });
  const r2 = await send('/v1/chat/completions', bigRequest, { 'content-type': 'application/json' });
  t.equal(r2.status, 200);
  t.equal(upstream.seen.at(-1)!.body.length, Buffer.byteLength(bigRequest), 'request forwarded whole');
  const deadline2 = Date.now() + 3000;
  while ((await metric('veracity_analysis_truncated_total', 'part="request_body"')) === 0 && Date.now() < deadline2) await sleep(20);
  t.equal(await metric('veracity_analysis_truncated_total', 'part="request_body"'), 1, 'request truncation counted');
});

t.test('gzip and br bodies, JSON and event streams, relay byte-identical and still get verdicts', async (t) => {
  const kinds = [
    ['gzip', gzipSync],
    ['br', brotliCompressSync],
  ] as const;
  for (const [encoding, compress] of kinds) {
    for (const dialect of ['openai', 'anthropic'] as const) {
      for (const stream of [false, true]) {
        const model = `${dialect}-${encoding}-${stream ? 'sse' : 'json'}`;
        const plain = stream
          ? Buffer.from((dialect === 'openai' ? chatChunks(model) : anthropicEvents(model)).join(''))
          : Buffer.from(JSON.stringify(dialect === 'openai' ? chatCompletion(model) : anthropicMessage(model)));
        const wire = compress(plain);
        upstream.handler = (_req, res) => {
          res.writeHead(200, { 'content-type': stream ? 'text/event-stream' : 'application/json', 'content-encoding': encoding, vary: 'accept-encoding' });
          // In two writes, so the proxy sees the compressed stream in pieces.
          res.write(wire.subarray(0, wire.length >> 1));
          setTimeout(() => res.end(wire.subarray(wire.length >> 1)), 5);
        };
        const path = dialect === 'openai' ? '/v1/chat/completions' : '/v1/messages';
        const body = JSON.stringify({ model, max_tokens: 50, stream, messages: [{ role: 'user', content: 'Where is the Eiffel Tower?' }] });
        const res = await send(path, body, { 'content-type': 'application/json', 'accept-encoding': 'gzip, br', ...(dialect === 'anthropic' ? { 'anthropic-version': '2023-06-01' } : {}) });
        t.equal(res.status, 200);
        t.equal(res.headers['content-encoding'], encoding, `${model}: content-encoding intact`);
        t.ok(res.body.equals(wire), `${model}: compressed bytes identical`);
        t.equal(upstream.seen.at(-1)!.headers['accept-encoding'], 'gzip, br', 'accept-encoding forwarded');
        const v = await verdict(res.headers['x-veracity-id'] as string);
        t.equal(v.status, 200, `${model}: verdict produced from the worker's decoded copy`);
        t.equal(v.body.model, model);
        t.ok(v.body.hallucination?.claims?.length > 0, `${model}: claims found in the decoded answer`);
      }
    }
  }
});

t.test('unexpected upstream answers do not crash anything', async (t) => {
  const answers: Array<[string, Record<string, string>, Buffer]> = [
    ['text/html 200', { 'content-type': 'text/html; charset=utf-8' }, Buffer.from('<!doctype html><html><body><h1>Welcome to nginx!</h1></body></html>')],
    ['empty JSON 200', { 'content-type': 'application/json' }, Buffer.alloc(0)],
    ['empty, no type', {}, Buffer.alloc(0)],
    ['event stream of garbage', { 'content-type': 'text/event-stream' }, Buffer.from('data: {not json\n\nevent: x\ndata:\n\n:comment\n\ndata: [DONE]\n\n')],
    ['JSON of the wrong shape', { 'content-type': 'application/json' }, Buffer.from('{"choices":"nope","content":42}')],
    ['gzip header over plain bytes', { 'content-type': 'application/json', 'content-encoding': 'gzip' }, Buffer.from('{"not":"gzipped"}')],
    ['unknown encoding', { 'content-type': 'application/json', 'content-encoding': 'zstd-x' }, Buffer.from([1, 2, 3, 4])],
    ['binary', { 'content-type': 'application/octet-stream' }, Buffer.from(Array.from({ length: 4096 }, (_, i) => (i * 7919) & 0xff))],
  ];
  const failedBefore = await metric('veracity_worker_jobs_total', 'result="failed"');
  for (const [name, headers, body] of answers) {
    upstream.handler = (_req, res) => res.writeHead(200, headers).end(body);
    for (const path of ['/v1/chat/completions', '/v1/messages']) {
      const res = await send(path, chatBody, { 'content-type': 'application/json' });
      t.equal(res.status, 200, `${name} ${path}: status relayed`);
      t.ok(res.body.equals(body), `${name} ${path}: body relayed as it was`);
      if (headers['content-type']) t.equal(res.headers['content-type'], headers['content-type']);
    }
  }
  await sleep(500);
  upstream.handler = null;
  t.equal((await fetch(`${proxy.url}/healthz`)).status, 200, 'proxy alive');
  const res = await send('/v1/chat/completions', chatBody, { 'content-type': 'application/json' });
  t.equal((await verdict(res.headers['x-veracity-id'] as string)).status, 200, 'the worker still produces verdicts afterwards');
  t.equal(await metric('veracity_worker_jobs_total', 'result="failed"'), failedBefore, 'no job failed: odd bodies are skipped or counted unparseable');
  t.ok((await metric('veracity_worker_jobs_total', 'result="unparseable"')) + (await metric('veracity_worker_jobs_total', 'result="skipped"')) > 0, 'and counted as such');
});

t.test('odd upstream response heads: non-ASCII header bytes, repeated headers, bad framing', async (t) => {
  const { createServer: createTcpServer } = await import('node:net');
  let head = '';
  const rawUpstream = createTcpServer((sock) => {
    sock.once('data', () => sock.end(Buffer.from(head, 'latin1')));
    sock.on('error', () => {});
  });
  await new Promise<void>((r) => rawUpstream.listen(0, '127.0.0.1', () => r()));
  t.teardown(() => new Promise((r) => rawUpstream.close(r)));
  const rawPort = (rawUpstream.address() as { port: number }).port;
  const { config } = loadConfig({ env: { REDIS_URL: redis.url, VERACITY_OPENAI_UPSTREAM: `http://127.0.0.1:${rawPort}`, VERACITY_ANTHROPIC_UPSTREAM: `http://127.0.0.1:${rawPort}`, PORT: '0' } });
  const p = await start('proxy', config, { logger: false });
  t.teardown(() => p.stop());
  const utf8 = (s: string) => Buffer.from(s, 'utf8').toString('latin1');
  const cases: Array<[string, string, (status: number) => boolean]> = [
    ['UTF-8 bytes in a header value', `HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nX-Note: ${utf8('café € 😀')}\r\nContent-Length: 2\r\nConnection: close\r\n\r\n{}`, (s) => s === 200],
    ['repeated set-cookie and custom headers', 'HTTP/1.1 200 OK\r\nSet-Cookie: a=1\r\nSet-Cookie: b=2\r\nX-A: 1\r\nX-A: 2\r\nContent-Length: 2\r\nConnection: close\r\n\r\n{}', (s) => s === 200],
    ['conflicting content-lengths', 'HTTP/1.1 200 OK\r\nContent-Length: 2\r\nContent-Length: 5\r\nConnection: close\r\n\r\n{}', (s) => s === 502 || s === 200],
    ['body shorter than its content-length', 'HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: 100\r\nConnection: close\r\n\r\n{"a":', (s) => s === 200 || s === 502 || s === 0],
    ['no status line', 'garbage\r\n\r\n', (s) => s === 502],
    ['NUL in a header', 'HTTP/1.1 200 OK\r\nX-Bad: a\u0000b\r\nContent-Length: 2\r\nConnection: close\r\n\r\n{}', (s) => s === 502 || s === 200],
    ['status 999', 'HTTP/1.1 999 Odd\r\nContent-Length: 2\r\nConnection: close\r\n\r\n{}', (s) => s >= 100],
    ['HTTP/1.0 without length', 'HTTP/1.0 200 OK\r\nContent-Type: application/json\r\n\r\n{"ok":true}', (s) => s === 200],
  ];
  for (const [name, wire, ok] of cases) {
    head = wire;
    const status = await new Promise<number>((resolve) => {
      const u = new URL(p.url);
      const r = httpRequest({ host: u.hostname, port: u.port, method: 'POST', path: '/v1/chat/completions', headers: { 'content-type': 'application/json' } }, (res) => {
        res.resume();
        res.on('end', () => resolve(res.statusCode ?? 0));
        res.on('error', () => resolve(res.statusCode ?? 0));
      });
      r.on('error', () => resolve(0));
      r.end(chatBody);
    });
    t.ok(ok(status), `${name}: answered ${status || '(connection closed)'}`);
  }
  t.equal((await fetch(`${p.url}/healthz`)).status, 200, 'the proxy is still up');
});
