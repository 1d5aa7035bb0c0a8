/**
 * Answers that call tools, in the three wire formats, as JSON and as event streams: what the
 * real APIs send (OpenAI chat `tool_calls` streamed as indexed deltas, Responses `function_call`
 * items and their argument deltas, Anthropic `tool_use` blocks and `input_json_delta`s).
 * Arguments are sent as given, so a test can make a model write invalid JSON.
 */

export interface Call {
  id: string;
  name: string;
  /** Argument JSON text exactly as the model wrote it (not necessarily valid). */
  arguments: string;
}

const pieces = (s: string, n = 5): string[] => s.match(new RegExp(`.{1,${n}}`, 'gs')) ?? [];
const sse = (data: object) => `data: ${JSON.stringify(data)}\n\n`;
const named = (type: string, data: object) => `event: ${type}\ndata: ${JSON.stringify({ type, ...data })}\n\n`;

// ---- OpenAI chat completions ----

export function chatToolCompletion(model: string, calls: Call[], text: string | null = null) {
  return {
    id: 'chatcmpl-tools',
    object: 'chat.completion',
    created: 1700000000,
    model,
    choices: [
      {
        index: 0,
        message: {
          role: 'assistant',
          content: text,
          refusal: null,
          tool_calls: calls.map((c) => ({ id: c.id, type: 'function', function: { name: c.name, arguments: c.arguments } })),
        },
        logprobs: null,
        finish_reason: 'tool_calls',
      },
    ],
    usage: { prompt_tokens: 80, completion_tokens: 20, total_tokens: 100 },
    system_fingerprint: 'fp_test',
  };
}

/** Text first, then each call: a delta naming it, then its arguments in pieces, as OpenAI streams them. */
export function chatToolChunks(model: string, calls: Call[], text = '', { finish = true }: { finish?: boolean } = {}): string[] {
  const base = { id: 'chatcmpl-tools', object: 'chat.completion.chunk', created: 1700000000, model, system_fingerprint: 'fp_test' };
  const chunk = (delta: object, finish_reason: string | null = null) => sse({ ...base, choices: [{ index: 0, delta, logprobs: null, finish_reason }] });
  const out = [chunk({ role: 'assistant', content: text === '' ? null : '', refusal: null })];
  for (const p of pieces(text, 7)) out.push(chunk({ content: p }));
  calls.forEach((c, index) => {
    out.push(chunk({ tool_calls: [{ index, id: c.id, type: 'function', function: { name: c.name, arguments: '' } }] }));
    for (const p of pieces(c.arguments)) out.push(chunk({ tool_calls: [{ index, function: { arguments: p } }] }));
  });
  if (!finish) return out;
  out.push(chunk({}, 'tool_calls'));
  out.push('data: [DONE]\n\n');
  return out;
}

// ---- OpenAI Responses ----

function responseObject(model: string, output: object[], status = 'completed') {
  return {
    id: 'resp_tools',
    object: 'response',
    created_at: 1700000000,
    status,
    error: null,
    incomplete_details: null,
    instructions: null,
    model,
    output,
    parallel_tool_calls: true,
    tool_choice: 'auto',
    tools: [],
    usage: status === 'completed' ? { input_tokens: 80, output_tokens: 20, total_tokens: 100, input_tokens_details: { cached_tokens: 0 }, output_tokens_details: { reasoning_tokens: 0 } } : null,
  };
}

const messageItem = (text: string) => ({
  id: 'msg_tools',
  type: 'message',
  status: 'completed',
  role: 'assistant',
  content: [{ type: 'output_text', text, annotations: [] }],
});
const functionItem = (c: Call, status = 'completed', args = c.arguments) => ({ id: `fc_${c.id}`, type: 'function_call', status, call_id: c.id, name: c.name, arguments: args });

export function responsesToolResponse(model: string, calls: Call[], text = '') {
  return responseObject(model, [...(text ? [messageItem(text)] : []), ...calls.map((c) => functionItem(c))]);
}

/** The Responses event stream: item added, argument deltas, arguments done, item done; then the whole response. */
export function responsesToolEvents(model: string, calls: Call[], text = '', { finish = true }: { finish?: boolean } = {}): string[] {
  let seq = 0;
  const ev = (type: string, data: object) => named(type, { sequence_number: seq++, ...data });
  const out = [ev('response.created', { response: responseObject(model, [], 'in_progress') }), ev('response.in_progress', { response: responseObject(model, [], 'in_progress') })];
  const items: object[] = [];
  if (text) {
    const item = messageItem(text);
    out.push(ev('response.output_item.added', { output_index: 0, item: { ...item, status: 'in_progress', content: [] } }));
    out.push(ev('response.content_part.added', { item_id: item.id, output_index: 0, content_index: 0, part: { type: 'output_text', text: '', annotations: [] } }));
    for (const p of pieces(text, 7)) out.push(ev('response.output_text.delta', { item_id: item.id, output_index: 0, content_index: 0, delta: p, logprobs: [] }));
    out.push(ev('response.output_text.done', { item_id: item.id, output_index: 0, content_index: 0, text, logprobs: [] }));
    out.push(ev('response.output_item.done', { output_index: 0, item }));
    items.push(item);
  }
  for (const c of calls) {
    const output_index = items.length;
    const id = `fc_${c.id}`;
    out.push(ev('response.output_item.added', { output_index, item: functionItem(c, 'in_progress', '') }));
    for (const p of pieces(c.arguments)) out.push(ev('response.function_call_arguments.delta', { item_id: id, output_index, delta: p }));
    if (!finish && c === calls.at(-1)) return out;
    out.push(ev('response.function_call_arguments.done', { item_id: id, output_index, arguments: c.arguments }));
    out.push(ev('response.output_item.done', { output_index, item: functionItem(c) }));
    items.push(functionItem(c));
  }
  out.push(ev('response.completed', { response: responseObject(model, items) }));
  return out;
}

// ---- Anthropic messages ----

/** A whole message carries each tool_use `input` as an object: the JSON must be valid to be built here. */
export function anthropicToolMessage(model: string, calls: Call[], text = '') {
  return {
    id: 'msg_tools',
    type: 'message',
    role: 'assistant',
    model,
    content: [...(text ? [{ type: 'text', text }] : []), ...calls.map((c) => ({ type: 'tool_use', id: c.id, name: c.name, input: JSON.parse(c.arguments) }))],
    stop_reason: 'tool_use',
    stop_sequence: null,
    usage: { input_tokens: 80, output_tokens: 20 },
  };
}

export function anthropicToolEvents(model: string, calls: Call[], text = '', { finish = true }: { finish?: boolean } = {}): string[] {
  const out = [
    named('message_start', { message: { id: 'msg_tools', type: 'message', role: 'assistant', model, content: [], stop_reason: null, stop_sequence: null, usage: { input_tokens: 80, output_tokens: 1 } } }),
    named('ping', {}),
  ];
  let index = 0;
  if (text) {
    out.push(named('content_block_start', { index, content_block: { type: 'text', text: '' } }));
    for (const p of pieces(text, 7)) out.push(named('content_block_delta', { index, delta: { type: 'text_delta', text: p } }));
    out.push(named('content_block_stop', { index }));
    index++;
  }
  for (const c of calls) {
    out.push(named('content_block_start', { index, content_block: { type: 'tool_use', id: c.id, name: c.name, input: {} } }));
    for (const p of pieces(c.arguments)) out.push(named('content_block_delta', { index, delta: { type: 'input_json_delta', partial_json: p } }));
    if (!finish && c === calls.at(-1)) return out;
    out.push(named('content_block_stop', { index }));
    index++;
  }
  out.push(named('message_delta', { delta: { stop_reason: 'tool_use', stop_sequence: null }, usage: { output_tokens: 20 } }));
  out.push(named('message_stop', {}));
  return out;
}

// ---- declared tools, in each request format ----

export const WEATHER_SCHEMA = {
  type: 'object',
  properties: {
    city: { type: 'string', description: 'City name' },
    unit: { type: 'string', enum: ['celsius', 'fahrenheit'] },
    days: { type: 'integer', minimum: 1, maximum: 7 },
  },
  required: ['city'],
  additionalProperties: false,
};

export const TIME_SCHEMA = {
  type: 'object',
  properties: { timezone: { type: 'string' } },
  required: ['timezone'],
  additionalProperties: false,
};

export const chatTools = [
  { type: 'function' as const, function: { name: 'get_weather', description: 'Current weather in a city', parameters: WEATHER_SCHEMA } },
  { type: 'function' as const, function: { name: 'get_time', description: 'Current time in a time zone', parameters: TIME_SCHEMA } },
];

export const responsesTools = [
  { type: 'function' as const, name: 'get_weather', description: 'Current weather in a city', parameters: WEATHER_SCHEMA, strict: false },
  { type: 'function' as const, name: 'get_time', description: 'Current time in a time zone', parameters: TIME_SCHEMA, strict: false },
];

export const anthropicTools = [
  { name: 'get_weather', description: 'Current weather in a city', input_schema: WEATHER_SCHEMA },
  { name: 'get_time', description: 'Current time in a time zone', input_schema: TIME_SCHEMA },
];
