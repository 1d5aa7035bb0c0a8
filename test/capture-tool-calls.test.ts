import t from 'tap';
import { captureFromStream, fromRecord, normalise } from '../src/capture/index.js';
import type { RawExchange } from '../src/capture/raw.js';
import {
  anthropicToolEvents,
  anthropicToolMessage,
  anthropicTools,
  chatToolChunks,
  chatToolCompletion,
  chatTools,
  responsesToolEvents,
  responsesToolResponse,
  responsesTools,
  WEATHER_SCHEMA,
  type Call,
} from './helpers/tool-calls.js';

// The dialect modules turn tool calls on the wire, whole or streamed, into the one ToolCall shape,
// and read the tools a request declared.

const weather: Call = { id: 'call_1', name: 'get_weather', arguments: '{"city": "Paris", "unit": "celsius"}' };
const time: Call = { id: 'call_2', name: 'get_time', arguments: '{"timezone": "Europe/Paris"}' };
const broken: Call = { id: 'call_3', name: 'get_weather', arguments: '{"city": "Par' };
const expected = (c: Call, complete = true) => ({ id: c.id, name: c.name, arguments: c.arguments, kind: 'function', complete });

t.test('OpenAI chat: whole and streamed answers give the same calls, parallel calls in index order', async (t) => {
  const whole = fromRecord({ id: 'a', provider: 'openai', request: { model: 'm', messages: [{ role: 'user', content: 'Weather and time in Paris?' }], tools: chatTools }, response: chatToolCompletion('m', [weather, time]) });
  t.same(whole.response.toolCalls, [expected(weather), expected(time)]);
  t.same(whole.tools?.map((d) => [d.name, d.kind]), [['get_weather', 'function'], ['get_time', 'function']]);
  t.same(whole.tools?.[0]?.parameters, WEATHER_SCHEMA, 'the schema as declared');

  const streamed = captureFromStream('openai', 'chat.completions', chatToolChunks('m', [weather, time], 'Let me look that up.').join(''));
  t.same(streamed.toolCalls, [expected(weather), expected(time)], 'deltas reassembled by index');
  t.equal(streamed.text, 'Let me look that up.', 'text beside the calls is kept');
  t.equal(streamed.finishReason, 'tool_calls');
});

t.test('OpenAI chat: deltas of parallel calls interleaved by index still reassemble', async (t) => {
  const base = { id: 'x', object: 'chat.completion.chunk', created: 1, model: 'm' };
  const chunk = (delta: object, finish_reason: string | null = null) => `data: ${JSON.stringify({ ...base, choices: [{ index: 0, delta, finish_reason }] })}\n\n`;
  const body = [
    chunk({ role: 'assistant', content: null }),
    chunk({ tool_calls: [{ index: 0, id: 'a', type: 'function', function: { name: 'get_weather', arguments: '' } }, { index: 1, id: 'b', type: 'function', function: { name: 'get_time', arguments: '' } }] }),
    chunk({ tool_calls: [{ index: 1, function: { arguments: '{"timezone":' } }] }),
    chunk({ tool_calls: [{ index: 0, function: { arguments: '{"city":"Oslo"}' } }] }),
    chunk({ tool_calls: [{ index: 1, function: { arguments: '"UTC"}' } }] }),
    chunk({}, 'tool_calls'),
    'data: [DONE]\n\n',
  ].join('');
  const capture = captureFromStream('openai', 'chat.completions', body);
  t.same(capture.toolCalls?.map((c) => [c.id, c.name, c.arguments, c.complete]), [
    ['a', 'get_weather', '{"city":"Oslo"}', true],
    ['b', 'get_time', '{"timezone":"UTC"}', true],
  ]);
});

t.test('OpenAI chat: a stream cut inside a call leaves that call incomplete, the earlier ones not', async (t) => {
  const chunks = chatToolChunks('m', [weather, broken], '', { finish: false });
  const capture = captureFromStream('openai', 'chat.completions', chunks.join(''), { complete: false });
  t.same(capture.toolCalls?.map((c) => [c.name, c.complete]), [['get_weather', true], ['get_weather', false]]);
});

t.test('OpenAI chat: a token-limit stop cuts the last call; legacy function_call and custom tools are read', async (t) => {
  const body = chatToolCompletion('m', [weather, broken]);
  body.choices[0]!.finish_reason = 'length';
  const cut = fromRecord({ id: 'l', provider: 'openai', request: { model: 'm', messages: [] }, response: body });
  t.same(cut.response.toolCalls?.map((c) => c.complete), [true, false]);

  const legacy = fromRecord({
    id: 'f',
    provider: 'openai',
    request: { model: 'm', messages: [], functions: [{ name: 'get_weather', parameters: WEATHER_SCHEMA }] },
    response: { model: 'm', choices: [{ index: 0, message: { role: 'assistant', content: null, function_call: { name: 'get_weather', arguments: '{"city":"Rome"}' } }, finish_reason: 'function_call' }] },
  });
  t.same(legacy.tools, [{ name: 'get_weather', kind: 'function', parameters: WEATHER_SCHEMA }]);
  t.same(legacy.response.toolCalls, [{ name: 'get_weather', arguments: '{"city":"Rome"}', kind: 'function', complete: true }]);

  const custom = fromRecord({
    id: 'c',
    provider: 'openai',
    request: { model: 'm', messages: [], tools: [{ type: 'custom', custom: { name: 'run_sql', description: 'SQL' } }, { type: 'function', function: { name: 'ping' } }] },
    response: { model: 'm', choices: [{ index: 0, message: { role: 'assistant', content: null, tool_calls: [{ id: 'c1', type: 'custom', custom: { name: 'run_sql', input: 'SELECT 1' } }] }, finish_reason: 'tool_calls' }] },
  });
  t.same(custom.tools, [{ name: 'run_sql', kind: 'custom' }, { name: 'ping', kind: 'function' }], 'a function without parameters declares no schema');
  t.same(custom.response.toolCalls, [{ id: 'c1', name: 'run_sql', arguments: 'SELECT 1', kind: 'custom', complete: true }]);
});

t.test('Responses: function_call items, whole and streamed, and a stream cut before its terminal event', async (t) => {
  const request = { model: 'm', input: 'Weather and time in Paris?', tools: [...responsesTools, { type: 'web_search' }] };
  const whole = fromRecord({ id: 'r', provider: 'openai', request, response: responsesToolResponse('m', [weather, time], 'Checking.') });
  t.equal(whole.route, 'responses');
  t.same(whole.tools?.map((d) => d.name), ['get_weather', 'get_time'], 'built-in tools are not app tools');
  t.same(whole.response.toolCalls, [expected(weather), expected(time)], 'call_id is the id');
  t.equal(whole.response.text, 'Checking.');

  const streamed = captureFromStream('openai', 'responses', responsesToolEvents('m', [weather, time], 'Checking.').join(''));
  t.same(streamed.toolCalls, [expected(weather), expected(time)]);
  t.equal(streamed.text, 'Checking.');

  const cut = captureFromStream('openai', 'responses', responsesToolEvents('m', [weather, broken], '', { finish: false }).join(''), { complete: false });
  t.same(cut.toolCalls, [expected(weather), expected(broken, false)], 'items rebuilt from the events; the unfinished one marked');
});

t.test('Anthropic: tool_use blocks, whole and streamed (input_json_delta reassembled), and a cut stream', async (t) => {
  const request = { model: 'c', max_tokens: 100, messages: [{ role: 'user', content: 'Weather and time in Paris?' }], tools: [...anthropicTools, { type: 'bash_20250124', name: 'bash' }] };
  const whole = fromRecord({ id: 'w', provider: 'anthropic', request, response: anthropicToolMessage('c', [weather, time], 'Let me check.') });
  t.same(whole.tools?.map((d) => [d.name, d.parameters === undefined]), [['get_weather', false], ['get_time', false], ['bash', true]]);
  // The whole message carries parsed input, so its text is re-serialised; the parsed value is what matters.
  t.same(whole.response.toolCalls?.map((c) => [c.id, c.name, JSON.parse(c.arguments), c.complete]), [
    ['call_1', 'get_weather', { city: 'Paris', unit: 'celsius' }, true],
    ['call_2', 'get_time', { timezone: 'Europe/Paris' }, true],
  ]);
  t.equal(whole.response.text, 'Let me check.');

  const streamed = captureFromStream('anthropic', 'messages', anthropicToolEvents('c', [weather, time], 'Let me check.').join(''));
  t.same(streamed.toolCalls, whole.response.toolCalls, 'streamed JSON reads as the whole message does');
  const invalid = captureFromStream('anthropic', 'messages', anthropicToolEvents('c', [{ id: 'b', name: 'get_weather', arguments: '{"city": Paris}' }]).join(''));
  t.equal(invalid.toolCalls?.[0]?.arguments, '{"city": Paris}', 'JSON that does not parse is kept as written');
  t.equal(streamed.text, 'Let me check.');
  t.equal(streamed.finishReason, 'tool_use');

  const cut = captureFromStream('anthropic', 'messages', anthropicToolEvents('c', [weather, broken], '', { finish: false }).join(''), { complete: false });
  t.same(cut.toolCalls?.map((c) => [c.name, c.arguments, c.complete]), [['get_weather', '{"city":"Paris","unit":"celsius"}', true], ['get_weather', broken.arguments, false]]);

  const empty = captureFromStream('anthropic', 'messages', anthropicToolEvents('c', [{ id: 't', name: 'get_time', arguments: '' }]).join(''));
  t.same(empty.toolCalls?.[0]?.arguments, '{}', 'no input deltas: the block input');
});

t.test('normalise carries declared tools and calls from captured bytes, event stream or JSON', async (t) => {
  const raw = (over: Partial<RawExchange>): RawExchange => ({
    id: 'n',
    provider: 'openai',
    route: 'chat.completions',
    request: JSON.stringify({ model: 'm', stream: true, messages: [{ role: 'user', content: 'Weather?' }], tools: chatTools }),
    response: chatToolChunks('m', [weather]).join(''),
    contentType: 'text/event-stream',
    status: 200,
    aborted: false,
    startedAt: 0,
    endedAt: 1,
    ...over,
  });
  const { exchange } = normalise(raw({}));
  t.equal(exchange.tools?.length, 2);
  t.same(exchange.response.toolCalls, [expected(weather)]);
  t.equal(exchange.response.text, '');
  const none = normalise(raw({ request: JSON.stringify({ model: 'm', messages: [{ role: 'user', content: 'Hi' }] }) })).exchange;
  t.equal(none.tools, undefined, 'no tools declared, none carried');
});
