import t from 'tap';
import { readFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import OpenAI from 'openai';
import Anthropic from '@anthropic-ai/sdk';
import { captureFromStream, fromRecord, isEventStream, normalise, parseEventStream } from '../src/capture/index.js';
import type { RawExchange } from '../src/capture/raw.js';
import type { Provider } from '../src/capture/exchange.js';

const fixture = (name: string) => readFileSync(new URL(`./fixtures/capture/${name}`, import.meta.url), 'utf8');

interface Case {
  name: string;
  provider: Provider;
  route: string;
  request: Record<string, unknown>;
  sse: string;
  json: string;
}

const question = [{ role: 'user', content: 'Who built the Eiffel Tower?' }];
const cases: Case[] = [
  { name: 'chat', provider: 'openai', route: 'chat.completions', request: { model: 'gpt-4o', messages: question, logprobs: true }, sse: fixture('chat.sse'), json: fixture('chat.json') },
  { name: 'chat refusal', provider: 'openai', route: 'chat.completions', request: { model: 'gpt-4o', messages: question }, sse: fixture('chat-refusal.sse'), json: fixture('chat-refusal.json') },
  { name: 'completions', provider: 'openai', route: 'completions', request: { model: 'gpt-3.5-turbo-instruct', prompt: 'Who built the Eiffel Tower?', logprobs: 1 }, sse: fixture('completions.sse'), json: fixture('completions.json') },
  { name: 'responses', provider: 'openai', route: 'responses', request: { model: 'gpt-4.1', input: 'Who built the Eiffel Tower?' }, sse: fixture('responses.sse'), json: fixture('responses.json') },
  { name: 'anthropic', provider: 'anthropic', route: 'messages', request: { model: 'claude-opus-4-6', max_tokens: 256, messages: question }, sse: fixture('anthropic.sse'), json: fixture('anthropic.json') },
];

function raw(c: Case, response: string, extra: Partial<RawExchange> = {}): RawExchange {
  return {
    id: 'x',
    provider: c.provider,
    route: c.route,
    request: JSON.stringify({ ...c.request, stream: true }),
    response,
    status: 200,
    aborted: false,
    startedAt: 1,
    endedAt: 2,
    ...extra,
  };
}

t.test('a stream and the equivalent JSON body give the same capture', async (t) => {
  for (const c of cases) {
    const streamed = normalise(raw(c, c.sse, { contentType: 'text/event-stream; charset=utf-8' })).exchange.response;
    const sniffed = normalise(raw(c, c.sse)).exchange.response;
    const whole = normalise(raw(c, c.json, { contentType: 'application/json' })).exchange.response;
    t.same(streamed, whole, `${c.name}: stream = JSON`);
    t.same(sniffed, whole, `${c.name}: stream found without a content-type`);
    t.ok(whole.text.length > 0 || whole.refusal, `${c.name}: non-empty`);
    t.same(fromRecord({ id: 'x', provider: c.provider, route: c.route, request: c.request, response: JSON.parse(c.json) }).response, whole);
  }
});

t.test('the captures hold what each wire format carries', async (t) => {
  const [chat, refusal, completions, responses, anthropic] = cases.map((c) => captureFromStream(c.provider, c.route, c.sse));
  t.same(chat, {
    text: 'The tower is 330 m — in Paris, café.',
    finishReason: 'stop',
    logprobs: [
      { token: 'The', logprob: -0.0001 },
      { token: ' tower', logprob: -0.25 },
      { token: ' is', logprob: -0.01 },
      { token: ' 330 m — in Paris, café', logprob: -1.5 },
      { token: '.', logprob: -0.002 },
    ],
    model: 'gpt-4o-2024-08-06',
    usage: { inputTokens: 31, outputTokens: 5 },
  });
  t.same(refusal, { text: '', refusal: "I'm sorry, I can't help with that.", finishReason: 'stop', model: 'gpt-4o-2024-08-06' });
  t.equal(completions?.text, " Gustave Eiffel's company");
  t.equal(completions?.finishReason, 'length');
  t.equal(completions?.logprobs?.length, 5);
  t.same(completions?.usage, { inputTokens: 40, outputTokens: 5 });
  t.same(responses, { text: "Gustave Eiffel's company — 1889.", finishReason: 'completed', model: 'gpt-4.1-2025-04-14', usage: { inputTokens: 37, outputTokens: 11 } });
  t.same(anthropic, {
    text: "Gustave Eiffel's company built it (1887–1889). Anything else?",
    finishReason: 'end_turn',
    model: 'claude-sonnet-4-5-20250929',
    usage: { inputTokens: 572, outputTokens: 89 },
    toolCalls: [{ id: 'toolu_01T1x1fJ34qAmk2tNTrN7Up6', name: 'get_weather', arguments: '{"location":"Paris"}', kind: 'function', complete: true }],
  });
});

t.test('events split at every boundary reassemble to the same capture', async (t) => {
  for (const c of cases) {
    const whole = captureFromStream(c.provider, c.route, c.sse);
    let mismatches = 0;
    for (let i = 0; i <= c.sse.length; i++) {
      const events = parseEventStream([c.sse.slice(0, i), c.sse.slice(i)]);
      if (JSON.stringify(events) !== JSON.stringify(parseEventStream(c.sse))) mismatches++;
    }
    t.equal(mismatches, 0, `${c.name}: ${c.sse.length + 1} splits`);
    t.same(captureFromStream(c.provider, c.route, c.sse.replace(/\n/g, '\r\n')), whole, `${c.name}: CRLF line ends`);
  }
});

t.test('a stream cut at any point yields a prefix of the answer and never throws', async (t) => {
  for (const c of cases) {
    const whole = captureFromStream(c.provider, c.route, c.sse);
    let bad = 0;
    for (let i = 0; i <= c.sse.length; i++) {
      const { exchange } = normalise(raw(c, c.sse.slice(0, i), { contentType: 'text/event-stream', truncated: { response: true } }));
      const text = exchange.response.refusal ?? exchange.response.text;
      const full = whole.refusal ?? whole.text;
      if (!full.startsWith(text)) bad++;
    }
    t.equal(bad, 0, `${c.name}: every cut is a prefix`);
    const half = normalise(raw(c, c.sse.slice(0, Math.floor(c.sse.length * 0.6)), { truncated: { response: true } })).exchange.response;
    t.ok((whole.refusal ?? whole.text).startsWith(half.refusal ?? half.text), `${c.name}: cut without content-type`);
  }
});

t.test('event stream detection', async (t) => {
  t.ok(isEventStream('text/event-stream', '{"a":1}'));
  t.ok(isEventStream(undefined, 'event: message_start\ndata: {}'));
  t.ok(isEventStream(undefined, ': keep-alive\n\ndata: {}'));
  t.ok(isEventStream(undefined, 'dat'));
  t.notOk(isEventStream('application/json', '{"data": 1}'));
  t.notOk(isEventStream(undefined, '  {"choices":[]}'));
});

t.test('error and ping events in a stream do not break the capture', async (t) => {
  const sse =
    'event: message_start\ndata: {"type":"message_start","message":{"id":"m","type":"message","role":"assistant","model":"claude-3-5-haiku-latest","content":[],"stop_reason":null,"stop_sequence":null,"usage":{"input_tokens":5,"output_tokens":1}}}\n\n' +
    'event: content_block_start\ndata: {"type":"content_block_start","index":0,"content_block":{"type":"text","text":""}}\n\n' +
    'event: ping\ndata: {"type": "ping"}\n\n' +
    'event: content_block_delta\ndata: {"type":"content_block_delta","index":0,"delta":{"type":"text_delta","text":"Partial"}}\n\n' +
    'event: error\ndata: {"type":"error","error":{"type":"overloaded_error","message":"Overloaded"}}\n\n';
  t.same(captureFromStream('anthropic', 'messages', sse), { text: 'Partial', model: 'claude-3-5-haiku-latest', usage: { inputTokens: 5, outputTokens: 1 } });
  const openaiError = 'data: {"error":{"message":"The server had an error","type":"server_error","param":null,"code":null}}\n\n';
  t.same(captureFromStream('openai', 'chat.completions', openaiError), { text: '' });
});

/** Serves a fixture body the way the real API would, so the official SDKs can read it. */
async function serve(body: string, contentType: string): Promise<{ server: Server; url: string }> {
  const server = createServer((req, res) => {
    req.resume();
    req.on('end', () => {
      res.writeHead(200, { 'content-type': contentType });
      // Small writes so the SDK's own parser also meets split events.
      let i = 0;
      const step = () => {
        if (i >= body.length) return res.end();
        res.write(body.slice(i, (i += 37)));
        setImmediate(step);
      };
      step();
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return { server, url: `http://127.0.0.1:${(server.address() as AddressInfo).port}` };
}

t.test('the official SDKs reassemble the fixture streams to what we capture', async (t) => {
  const byName = new Map(cases.map((c) => [c.name, c]));
  {
    const c = byName.get('chat')!;
    const { server, url } = await serve(c.sse, 'text/event-stream');
    t.teardown(() => server.close());
    const client = new OpenAI({ apiKey: 'test', baseURL: `${url}/v1`, maxRetries: 0 });
    const final = await client.chat.completions.stream({ model: 'gpt-4o', messages: [{ role: 'user', content: 'hi' }], logprobs: true }).finalChatCompletion();
    const ours = captureFromStream('openai', 'chat.completions', c.sse);
    t.equal(final.choices[0]?.message.content, ours.text, 'chat text');
    t.equal(final.choices[0]?.finish_reason, ours.finishReason, 'chat finish reason');
    t.same(final.choices[0]?.logprobs?.content?.map((l) => ({ token: l.token, logprob: l.logprob })), ours.logprobs, 'chat logprobs');
    t.same(fromRecord({ id: 'x', provider: 'openai', request: { model: 'gpt-4o', messages: question }, response: final }).response.text, ours.text);
  }
  {
    const c = byName.get('responses')!;
    const { server, url } = await serve(c.sse, 'text/event-stream');
    t.teardown(() => server.close());
    const client = new OpenAI({ apiKey: 'test', baseURL: `${url}/v1`, maxRetries: 0 });
    const final = await client.responses.stream({ model: 'gpt-4.1', input: 'hi' }).finalResponse();
    const ours = captureFromStream('openai', 'responses', c.sse);
    t.equal(final.output_text, ours.text, 'responses text');
    t.equal(final.usage?.output_tokens, ours.usage?.outputTokens, 'responses usage');
  }
  {
    const c = byName.get('anthropic')!;
    const { server, url } = await serve(c.sse, 'text/event-stream');
    t.teardown(() => server.close());
    const client = new Anthropic({ apiKey: 'test', baseURL: url, maxRetries: 0 });
    const final = await client.messages.stream({ model: 'claude-opus-4-6', max_tokens: 256, messages: [{ role: 'user', content: 'hi' }] }).finalMessage();
    const ours = captureFromStream('anthropic', 'messages', c.sse);
    t.same(fromRecord({ id: 'x', provider: 'anthropic', request: c.request, response: final }).response, ours, 'anthropic SDK message = our capture');
  }
});
