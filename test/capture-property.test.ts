import t from 'tap';
import fc from 'fast-check';
import zlib from 'node:zlib';
import { CaptureError, fromRecord, normalise } from '../src/capture/index.js';
import { splitUserTurn } from '../src/capture/documents.js';

/** Runs fn; fails the property if it throws anything but a CaptureError. */
function onlyCaptureErrors(fn: () => unknown): boolean {
  try {
    fn();
  } catch (err) {
    if (err instanceof CaptureError) return true;
    throw err;
  }
  return true;
}

const text = fc.oneof(
  fc.string(),
  fc.constantFrom('Context:\n', 'Question: ', '<document>', '</document>', '```', '"""', 'Summarize the following: ', '\n\n', 'Text:', '## Passage', '?'),
);
const content = fc.oneof(
  text,
  fc.constant(null),
  fc.array(
    fc.oneof(
      fc.record({ type: fc.constantFrom('text', 'input_text', 'output_text', 'image_url', 'document', 'tool_result', 'search_result'), text: fc.oneof(text, fc.jsonValue()) }, { requiredKeys: [] }),
      fc.record({ type: fc.constantFrom('document', 'tool_result'), source: fc.oneof(fc.jsonValue(), fc.record({ type: fc.constantFrom('text', 'content', 'base64'), data: fc.jsonValue(), content: fc.jsonValue() })), content: fc.jsonValue() }, { requiredKeys: [] }),
      fc.jsonValue(),
    ),
    { maxLength: 4 },
  ),
);
const message = fc.oneof(
  fc.record({ role: fc.constantFrom('system', 'developer', 'user', 'assistant', 'tool', 'function', 'other'), content }, { requiredKeys: [] }),
  fc.jsonValue(),
);
const requestBody = fc.oneof(
  fc.jsonValue(),
  fc.record(
    {
      model: fc.oneof(fc.string(), fc.jsonValue()),
      messages: fc.oneof(fc.array(message, { maxLength: 5 }), fc.jsonValue()),
      prompt: fc.oneof(text, fc.array(fc.oneof(fc.string(), fc.integer())), fc.jsonValue()),
      input: fc.oneof(text, fc.array(fc.oneof(message, fc.record({ type: fc.constantFrom('message', 'function_call_output'), role: fc.string(), output: content, content }, { requiredKeys: [] })), { maxLength: 4 })),
      instructions: fc.oneof(text, fc.jsonValue()),
      system: content,
      stream: fc.jsonValue(),
    },
    { requiredKeys: [] },
  ),
);
const choice = fc.record(
  {
    index: fc.oneof(fc.nat(2), fc.jsonValue()),
    message: fc.oneof(fc.record({ content, refusal: fc.jsonValue() }, { requiredKeys: [] }), fc.jsonValue()),
    delta: fc.oneof(fc.record({ content: fc.oneof(fc.string(), fc.jsonValue()), refusal: fc.jsonValue() }, { requiredKeys: [] }), fc.jsonValue()),
    text: fc.jsonValue(),
    finish_reason: fc.jsonValue(),
    logprobs: fc.oneof(fc.jsonValue(), fc.record({ content: fc.array(fc.record({ token: fc.jsonValue(), logprob: fc.jsonValue() })), tokens: fc.jsonValue(), token_logprobs: fc.jsonValue() }, { requiredKeys: [] })),
  },
  { requiredKeys: [] },
);
const responseBody = fc.oneof(
  fc.jsonValue(),
  fc.record(
    {
      type: fc.constantFrom('message', 'message_start', 'content_block_delta', 'message_delta', 'response.output_text.delta', 'response.completed', 'error'),
      model: fc.jsonValue(),
      choices: fc.oneof(fc.array(choice, { maxLength: 3 }), fc.jsonValue()),
      content: content,
      output: fc.oneof(fc.array(fc.record({ type: fc.constantFrom('message', 'reasoning'), content }, { requiredKeys: [] })), fc.jsonValue()),
      usage: fc.oneof(fc.jsonValue(), fc.record({ prompt_tokens: fc.jsonValue(), input_tokens: fc.jsonValue(), output_tokens: fc.jsonValue(), cache_read_input_tokens: fc.jsonValue() }, { requiredKeys: [] })),
      message: fc.jsonValue(),
      delta: fc.jsonValue(),
      index: fc.jsonValue(),
      response: fc.jsonValue(),
      status: fc.jsonValue(),
      incomplete_details: fc.jsonValue(),
      stop_reason: fc.jsonValue(),
    },
    { requiredKeys: [] },
  ),
);
const provider = fc.constantFrom('openai', 'anthropic', 'other');
const route = fc.option(fc.constantFrom('chat.completions', 'completions', 'responses', 'messages', 'embeddings'), { nil: undefined });

t.test('fromRecord throws nothing but CaptureError on arbitrary JSON', async (t) => {
  fc.assert(
    fc.property(provider, route, requestBody, responseBody, (p, r, request, response) =>
      onlyCaptureErrors(() => fromRecord({ id: 'p', provider: p as 'openai', route: r, request, response })),
    ),
    { numRuns: 3000 },
  );
  t.pass('3000 runs');
});

const sse = fc.array(fc.tuple(fc.option(fc.constantFrom('message_start', 'content_block_delta', 'response.completed', 'ping', 'error')), responseBody), { maxLength: 6 }).map((events) =>
  events.map(([event, data]) => `${event ? `event: ${event}\n` : ''}data: ${JSON.stringify(data)}\n\n`).join(''),
);

t.test('normalise throws nothing but CaptureError on arbitrary captures', async (t) => {
  const raw = fc.record({
    provider,
    route: fc.constantFrom('chat.completions', 'completions', 'responses', 'messages', 'other'),
    request: fc.oneof(fc.string(), requestBody.map((b) => JSON.stringify(b))),
    body: fc.oneof(fc.string(), sse, responseBody.map((b) => JSON.stringify(b))),
    encoding: fc.constantFrom(undefined, 'gzip', 'br', 'deflate', 'identity', 'zstd'),
    compress: fc.boolean(),
    cut: fc.nat(400),
    contentType: fc.constantFrom(undefined, 'text/event-stream', 'application/json'),
    status: fc.constantFrom(200, 400, 429, 500),
    truncated: fc.boolean(),
    aborted: fc.boolean(),
  });
  fc.assert(
    fc.property(raw, (r) => {
      let response = r.body;
      if (r.encoding && r.compress) {
        const bytes = Buffer.from(r.body);
        const packed = r.encoding === 'gzip' ? zlib.gzipSync(bytes) : r.encoding === 'br' ? zlib.brotliCompressSync(bytes) : zlib.deflateSync(bytes);
        response = packed.subarray(0, r.truncated ? r.cut : packed.length).toString('base64');
      } else if (r.truncated) {
        response = r.body.slice(0, r.cut);
      }
      return onlyCaptureErrors(() =>
        normalise(
          {
            id: 'p',
            provider: r.provider as 'openai',
            route: r.route,
            request: r.request,
            response,
            responseEncoding: r.encoding,
            contentType: r.contentType,
            status: r.status,
            aborted: r.aborted,
            truncated: { response: r.truncated },
            startedAt: 0,
            endedAt: 1,
          },
          { maxResponseChars: 50, maxContextChars: 100 },
        ),
      );
    }),
    { numRuns: 3000 },
  );
  t.pass('3000 runs');
});

t.test('splitting a user turn never loses the question', async (t) => {
  fc.assert(
    fc.property(fc.array(text, { maxLength: 12 }).map((p) => p.join('')), (s) => {
      const { question, documents } = splitUserTurn(s);
      if (s.trim() !== '' && question === '') return false;
      return documents.every((d) => d.trim() !== '');
    }),
    { numRuns: 5000 },
  );
  t.pass('5000 runs');
});

t.test('large and adversarial user turns split in bounded time', async (t) => {
  const inputs = [
    '<a '.repeat(60_000),
    '<doc>'.repeat(40_000),
    `${'<doc>'.repeat(40_000)}</doc>`,
    `${'<b>x '.repeat(30_000)}</b>`,
    '<b>x</b> '.repeat(30_000),
    `${'<doc>'.repeat(20_000)}${'</document>'.repeat(20_000)}`,
    '```'.repeat(50_000),
    `${'Context: '.repeat(20_000)}?`,
    'x:'.repeat(100_000),
    `${'word '.repeat(100_000)}What?`,
    `${'Sentence here. '.repeat(20_000)}\n\nWhat?`,
  ];
  for (const input of inputs) {
    const started = performance.now();
    splitUserTurn(input);
    const ms = performance.now() - started;
    t.ok(ms < 2000, `${input.slice(0, 12)}… (${input.length} chars) in ${ms.toFixed(0)} ms`);
  }
});
