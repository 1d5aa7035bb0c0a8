import t from 'tap';
import zlib from 'node:zlib';
import { readFileSync } from 'node:fs';
import { CaptureError, decodeBody, normalise } from '../src/capture/index.js';
import type { RawExchange } from '../src/capture/raw.js';

const chatJson = readFileSync(new URL('./fixtures/capture/chat.json', import.meta.url), 'utf8');
const chatSse = readFileSync(new URL('./fixtures/capture/chat.sse', import.meta.url), 'utf8');
const anthropicJson = readFileSync(new URL('./fixtures/capture/anthropic.json', import.meta.url), 'utf8');

const request = JSON.stringify({
  model: 'gpt-4o',
  messages: [
    { role: 'system', content: 'Answer from the context.' },
    { role: 'user', content: 'Context:\nThe tower is 330 m tall.\n\nQuestion: How tall is it?' },
  ],
});

function raw(extra: Partial<RawExchange>): RawExchange {
  return { id: 'n1', provider: 'openai', route: 'chat.completions', request, response: chatJson, status: 200, aborted: false, startedAt: 10, endedAt: 20, ...extra };
}

function captureErrorCode(fn: () => unknown): string | undefined {
  try {
    fn();
  } catch (err) {
    if (err instanceof CaptureError) return err.code;
    throw err;
  }
  return undefined;
}

t.test('normalise fills the exchange from raw bytes', async (t) => {
  const { exchange, truncated } = normalise(raw({ app: 'search' }));
  t.same(truncated, []);
  t.equal(exchange.id, 'n1');
  t.equal(exchange.app, 'search');
  t.equal(exchange.status, 200);
  t.equal(exchange.aborted, false);
  t.equal(exchange.startedAt, 10);
  t.equal(exchange.endedAt, 20);
  t.equal(exchange.stream, false);
  t.equal(exchange.question, 'How tall is it?');
  t.same(exchange.context, [
    { source: 'system', text: 'Answer from the context.' },
    { source: 'document', text: 'The tower is 330 m tall.' },
  ]);
  t.equal(exchange.response.text, 'The tower is 330 m — in Paris, café.');
});

t.test('gzip, deflate and br bodies round-trip, JSON and SSE alike', async (t) => {
  const plain = normalise(raw({})).exchange.response;
  const streamed = normalise(raw({ response: chatSse, contentType: 'text/event-stream' })).exchange.response;
  t.same(streamed, plain);
  const codecs: Array<[string, (b: Buffer) => Buffer]> = [
    ['gzip', zlib.gzipSync],
    ['deflate', zlib.deflateSync],
    ['deflate', zlib.deflateRawSync],
    ['br', zlib.brotliCompressSync],
  ];
  for (const [encoding, compress] of codecs) {
    for (const [body, contentType] of [[chatJson, 'application/json'], [chatSse, 'text/event-stream']] as const) {
      const response = compress(Buffer.from(body)).toString('base64');
      t.same(normalise(raw({ response, responseEncoding: encoding, contentType })).exchange.response, plain, `${encoding} ${contentType}`);
    }
  }
  const twice = zlib.brotliCompressSync(zlib.gzipSync(Buffer.from(chatJson))).toString('base64');
  t.same(normalise(raw({ response: twice, responseEncoding: 'gzip, br' })).exchange.response, plain, 'stacked codings');
  t.equal(decodeBody('plain', 'identity'), 'plain');
});

t.test('a cut compressed stream yields its prefix', async (t) => {
  const full = normalise(raw({ response: chatSse, contentType: 'text/event-stream' })).exchange.response.text;
  for (const [encoding, compress] of [['gzip', zlib.gzipSync], ['br', zlib.brotliCompressSync]] as const) {
    const bytes = compress(Buffer.from(chatSse.repeat(3)));
    let longest = 0;
    for (let n = 0; n <= bytes.length; n += 7) {
      const { exchange } = normalise(raw({ response: bytes.subarray(0, n).toString('base64'), responseEncoding: encoding, contentType: 'text/event-stream', truncated: { response: true } }));
      t.ok((full + full + full).startsWith(exchange.response.text), `${encoding} cut at ${n}`);
      longest = Math.max(longest, exchange.response.text.length);
    }
    t.ok(longest > 0, `${encoding}: some cut yields text`);
  }
});

t.test('undecodable or unreadable 2xx bodies are CaptureErrors', async (t) => {
  t.equal(captureErrorCode(() => normalise(raw({ response: chatJson.slice(0, 100), truncated: { response: true } }))), 'VERACITY_CAPTURE_BAD_JSON');
  t.equal(captureErrorCode(() => normalise(raw({ response: 'not json' }))), 'VERACITY_CAPTURE_BAD_JSON');
  t.equal(captureErrorCode(() => normalise(raw({ response: Buffer.from(chatJson).toString('base64'), responseEncoding: 'gzip' }))), 'VERACITY_CAPTURE_BAD_ENCODING');
  t.equal(captureErrorCode(() => normalise(raw({ response: 'AAAA', responseEncoding: 'compress' }))), 'VERACITY_CAPTURE_BAD_ENCODING');
  t.equal(captureErrorCode(() => normalise(raw({ request: request.slice(0, 50), truncated: { request: true } }))), 'VERACITY_CAPTURE_BAD_JSON');
  t.equal(captureErrorCode(() => normalise(raw({ route: 'embeddings' }))), 'VERACITY_CAPTURE_BAD_ROUTE');
  t.equal(captureErrorCode(() => normalise(raw({ provider: 'anthropic', route: 'messages', request: '{"messages":"x"}' }))), 'VERACITY_CAPTURE_BAD_SHAPE');
});

t.test('error answers and aborted empty bodies give an empty response, not an error', async (t) => {
  const cases: Array<Partial<RawExchange>> = [
    { status: 429, response: '{"error":{"message":"Rate limit reached","type":"requests","param":null,"code":"rate_limit_exceeded"}}' },
    { status: 500, response: '<html>Internal Server Error</html>' },
    { status: 502, response: '' },
    { status: 503, response: 'garbage', responseEncoding: 'gzip' },
    { status: 529, provider: 'anthropic', route: 'messages', request: '{"model":"claude-opus-4-6","max_tokens":5,"messages":[{"role":"user","content":"hi"}]}', response: '{"type":"error","error":{"type":"overloaded_error","message":"Overloaded"}}' },
    { status: 200, aborted: true, response: '' },
  ];
  for (const c of cases) {
    const { exchange } = normalise(raw(c));
    t.equal(exchange.response.text, '', `status ${c.status}`);
    t.equal(exchange.status, c.status);
  }
});

t.test('texts beyond the limits are cut and named', async (t) => {
  const { exchange, truncated } = normalise(raw({}), { maxResponseChars: 9, maxContextChars: 30 });
  t.same(truncated, ['response', 'context']);
  t.equal(exchange.response.text, 'The tower');
  t.same(exchange.response.logprobs, [{ token: 'The', logprob: -0.0001 }, { token: ' tower', logprob: -0.25 }]);
  t.equal(exchange.context.reduce((n, p) => n + p.text.length, 0), 30);
  t.same(exchange.context[0], { source: 'system', text: 'Answer from the context.' });

  const history = JSON.stringify({
    model: 'gpt-4o',
    messages: [
      { role: 'user', content: 'x'.repeat(50) },
      { role: 'assistant', content: 'y'.repeat(50) },
      { role: 'tool', tool_call_id: 'c', content: 'Tool fact.' },
      { role: 'user', content: 'And?' },
    ],
  });
  const cut = normalise(raw({ request: history }), { maxContextChars: 20 });
  t.same(cut.exchange.context, [
    { source: 'history', text: 'x'.repeat(10) },
    { source: 'tool', text: 'Tool fact.' },
  ], 'grounding kept before history, request order kept');
  t.same(normalise(raw({}), { maxResponseChars: 1000, maxContextChars: 1000 }).truncated, []);
});

t.test('Anthropic raw capture', async (t) => {
  const { exchange } = normalise(raw({ provider: 'anthropic', route: 'messages', request: '{"model":"claude-opus-4-6","max_tokens":5,"system":"Be brief.","messages":[{"role":"user","content":"hi"}]}', response: anthropicJson }));
  t.equal(exchange.model, 'claude-opus-4-6');
  t.equal(exchange.response.model, 'claude-sonnet-4-5-20250929');
  t.same(exchange.context, [{ source: 'system', text: 'Be brief.' }]);
});
