import type { ResponseCapture, TokenLogprob, ToolCall, ToolDeclaration, Usage } from './exchange.js';
import { CaptureError, type ErrorBody } from './errors.js';
import { ContextBuilder, type ParsedRequest } from './request.js';
import { asArray, isObject, num, str, textOf, textParts, type JsonObject } from './wire.js';
import type { StreamEvent } from './sse.js';
import { isIncomplete, markComplete, markCutByLimit, markIncomplete } from './tools.js';
import { notPlain, type Answers, type BuildOptions, type BuiltRequest, type NotPlainReason, type PlainConversation, type PlainResult } from './plain.js';

/** OpenAI-compatible route families Veracity analyses. */
export type OpenAIRoute = 'chat.completions' | 'completions' | 'responses';

export function openaiRouteOf(body: unknown): OpenAIRoute {
  if (isObject(body)) {
    if (body.messages === undefined && body.prompt !== undefined) return 'completions';
    if (body.messages === undefined && (body.input !== undefined || body.instructions !== undefined)) return 'responses';
  }
  return 'chat.completions';
}

export function parseOpenAIRequest(route: string, body: unknown): ParsedRequest {
  if (!isObject(body)) throw new CaptureError('VERACITY_CAPTURE_BAD_SHAPE', `OpenAI ${route} request body is not a JSON object`);
  const model = str(body.model);
  const stream = body.stream === true;
  switch (route) {
    case 'chat.completions':
      return { model, stream, ...chatContext(body) };
    case 'completions':
      return { model, stream, ...completionsContext(body) };
    case 'responses':
      return { model, stream, ...responsesContext(body) };
    default:
      throw new CaptureError('VERACITY_CAPTURE_BAD_ROUTE', `OpenAI route "${route}" is not analysed`);
  }
}

function chatContext(body: JsonObject): Omit<ParsedRequest, 'model' | 'stream'> {
  if (!Array.isArray(body.messages)) {
    throw new CaptureError('VERACITY_CAPTURE_BAD_SHAPE', 'OpenAI chat.completions request has no "messages" array');
  }
  const messages = body.messages.filter(isObject);
  return conversation(messages.map((m) => ({ role: str(m.role) ?? '', text: textOf(m.content), parts: textParts(m.content) })));
}

interface Turn {
  role: string;
  text: string;
  /** The text parts of a user turn, when it came as several. */
  parts?: string[];
}

/**
 * The last user turn is the question; what precedes it is context by role. Tool results that
 * arrive after it (an agent loop answering the same question) are context too.
 */
function conversation(turns: Turn[]): Omit<ParsedRequest, 'model' | 'stream'> {
  const ctx = new ContextBuilder();
  let lastUser = -1;
  turns.forEach((t, i) => {
    if (t.role === 'user') lastUser = i;
  });
  let question = '';
  turns.forEach((t, i) => {
    switch (t.role) {
      case 'system':
      case 'developer':
        ctx.add('system', t.text);
        break;
      case 'tool':
      case 'function':
        ctx.add('tool', t.text);
        break;
      case 'user':
        if (i === lastUser) question = ctx.addFinalUser(t.parts ?? t.text);
        else ctx.addUserHistory(t.text);
        break;
      default:
        ctx.add('history', t.text);
    }
  });
  return { context: ctx.parts, question };
}

function completionsContext(body: JsonObject): Omit<ParsedRequest, 'model' | 'stream'> {
  const prompt = body.prompt;
  let text: string;
  if (typeof prompt === 'string') text = prompt;
  // An array is a batch of prompts; choice 0, the one captured, answers the first.
  else if (Array.isArray(prompt)) text = typeof prompt[0] === 'string' ? prompt[0] : ''; // token ids carry no text
  else throw new CaptureError('VERACITY_CAPTURE_BAD_SHAPE', 'OpenAI completions request has no "prompt"');
  const ctx = new ContextBuilder();
  const question = ctx.addFinalUser(text);
  return { context: ctx.parts, question };
}

function responsesContext(body: JsonObject): Omit<ParsedRequest, 'model' | 'stream'> {
  const turns: Turn[] = [];
  const instructions = str(body.instructions);
  if (instructions !== undefined) turns.push({ role: 'system', text: instructions });
  const input = body.input;
  if (typeof input === 'string') turns.push({ role: 'user', text: input });
  else if (Array.isArray(input)) {
    for (const item of input) {
      if (typeof item === 'string') turns.push({ role: 'user', text: item });
      if (!isObject(item)) continue;
      const type = str(item.type);
      if (type === 'function_call_output' || type === 'custom_tool_call_output' || type === 'computer_call_output') {
        turns.push({ role: 'tool', text: typeof item.output === 'string' ? item.output : textOf(item.output) });
      } else if ((type === undefined || type === 'message') && typeof item.role === 'string') {
        turns.push({ role: item.role, text: textOf(item.content), parts: textParts(item.content) });
      }
    }
  } else if (input !== undefined || instructions === undefined) {
    throw new CaptureError('VERACITY_CAPTURE_BAD_SHAPE', 'OpenAI responses request "input" is neither a string nor an array');
  }
  return conversation(turns);
}

export function parseOpenAIResponse(route: string, body: unknown): ResponseCapture {
  if (!isObject(body)) throw new CaptureError('VERACITY_CAPTURE_BAD_SHAPE', `OpenAI ${route} response body is not a JSON object`);
  const capture: ResponseCapture = route === 'responses' ? responsesOutput(body) : choiceOutput(route, body);
  const model = str(body.model);
  if (model !== undefined) capture.model = model;
  const usage = usageOf(body.usage);
  if (usage) capture.usage = usage;
  const calls = openaiToolCalls(route, body);
  if (calls.length > 0) {
    capture.toolCalls = calls;
    markCutByLimit(capture);
  }
  return capture;
}

function choiceOutput(route: string, body: JsonObject): ResponseCapture {
  const choices = asArray(body.choices).filter(isObject);
  const choice = choices.find((c) => c.index === 0) ?? choices[0];
  if (!choice) return { text: '' };
  const capture: ResponseCapture = { text: '' };
  if (route === 'completions') {
    capture.text = str(choice.text) ?? '';
    const lp = completionsLogprobs(choice.logprobs);
    if (lp) capture.logprobs = lp;
  } else {
    const message = isObject(choice.message) ? choice.message : {};
    capture.text = textOf(message.content);
    const refusal = str(message.refusal);
    if (refusal) capture.refusal = refusal;
    const lp = chatLogprobs(choice.logprobs);
    if (lp) capture.logprobs = lp;
  }
  const finish = str(choice.finish_reason);
  if (finish) capture.finishReason = finish;
  return capture;
}

export function chatLogprobs(logprobs: unknown): TokenLogprob[] | undefined {
  if (!isObject(logprobs) || !Array.isArray(logprobs.content)) return undefined;
  return tokenLogprobs(logprobs.content);
}

function tokenLogprobs(items: unknown[]): TokenLogprob[] {
  const out: TokenLogprob[] = [];
  for (const t of items) {
    if (!isObject(t)) continue;
    const token = str(t.token);
    const logprob = num(t.logprob);
    if (token !== undefined && logprob !== undefined) out.push({ token, logprob });
  }
  return out;
}

export function completionsLogprobs(logprobs: unknown): TokenLogprob[] | undefined {
  if (!isObject(logprobs) || !Array.isArray(logprobs.tokens)) return undefined;
  const values = asArray(logprobs.token_logprobs);
  const out: TokenLogprob[] = [];
  logprobs.tokens.forEach((token, i) => {
    const logprob = num(values[i]);
    // The first token of an echoed prompt has a null logprob; it carries no signal.
    if (typeof token === 'string' && logprob !== undefined) out.push({ token, logprob });
  });
  return out;
}

function responsesOutput(body: JsonObject): ResponseCapture {
  const texts: string[] = [];
  const refusals: string[] = [];
  const logprobs: TokenLogprob[] = [];
  let sawLogprobs = false;
  for (const item of asArray(body.output)) {
    if (!isObject(item) || item.type !== 'message') continue;
    for (const part of asArray(item.content)) {
      if (!isObject(part)) continue;
      if (part.type === 'output_text' && typeof part.text === 'string') {
        texts.push(part.text);
        if (Array.isArray(part.logprobs)) {
          sawLogprobs = true;
          logprobs.push(...tokenLogprobs(part.logprobs));
        }
      } else if (part.type === 'refusal' && typeof part.refusal === 'string') {
        refusals.push(part.refusal);
      }
    }
  }
  const capture: ResponseCapture = { text: texts.join('') };
  if (refusals.length > 0) capture.refusal = refusals.join('');
  if (sawLogprobs && logprobs.length > 0) capture.logprobs = logprobs;
  const incomplete = isObject(body.incomplete_details) ? str(body.incomplete_details.reason) : undefined;
  const finish = incomplete ?? str(body.status);
  if (finish) capture.finishReason = finish;
  return capture;
}

export function usageOf(usage: unknown): Usage | undefined {
  if (!isObject(usage)) return undefined;
  const inputTokens = num(usage.prompt_tokens) ?? num(usage.input_tokens);
  const outputTokens = num(usage.completion_tokens) ?? num(usage.output_tokens);
  if (inputTokens === undefined && outputTokens === undefined) return undefined;
  const out: Usage = {};
  if (inputTokens !== undefined) out.inputTokens = inputTokens;
  if (outputTokens !== undefined) out.outputTokens = outputTokens;
  return out;
}

/**
 * Rebuilds the JSON body an OpenAI stream stands for, so a stream and the equivalent non-stream
 * answer go through the same parser and yield the same capture. A cut stream yields its prefix.
 */
export function reassembleOpenAIStream(route: string, events: StreamEvent[]): JsonObject {
  if (route === 'responses') return reassembleResponsesStream(events);
  const body: JsonObject = {};
  const choices = new Map<number, JsonObject>();
  for (const event of events) {
    const chunk = event.json;
    if (!isObject(chunk)) continue;
    if (body.model === undefined && typeof chunk.model === 'string') body.model = chunk.model;
    if (isObject(chunk.usage)) body.usage = chunk.usage;
    for (const c of asArray(chunk.choices)) {
      if (!isObject(c)) continue;
      const index = num(c.index) ?? 0;
      let acc = choices.get(index);
      if (!acc) {
        acc = { index, text: '', content: '', refusal: '', lpTokens: [], lpValues: [], lpContent: [], logprobs: false };
        choices.set(index, acc);
      }
      appendChoiceChunk(route, acc, c);
    }
  }
  body.choices = [...choices.values()].map((acc) => {
    if (route === 'completions') {
      return {
        index: acc.index,
        text: acc.text,
        logprobs: acc.logprobs ? { tokens: acc.lpTokens, token_logprobs: acc.lpValues } : null,
        finish_reason: acc.finish_reason ?? null,
      };
    }
    return {
      index: acc.index,
      message: { role: 'assistant', content: acc.content, refusal: acc.refusal === '' ? null : acc.refusal, ...streamedToolCalls(acc) },
      logprobs: acc.logprobs ? { content: acc.lpContent } : null,
      finish_reason: acc.finish_reason ?? null,
    };
  });
  return body;
}

function appendChoiceChunk(route: string, acc: JsonObject, c: JsonObject): void {
  const finish = str(c.finish_reason);
  if (finish) acc.finish_reason = finish;
  if (route === 'completions') {
    acc.text = (acc.text as string) + (str(c.text) ?? '');
    if (isObject(c.logprobs)) {
      acc.logprobs = true;
      (acc.lpTokens as unknown[]).push(...asArray(c.logprobs.tokens));
      (acc.lpValues as unknown[]).push(...asArray(c.logprobs.token_logprobs));
    }
    return;
  }
  const delta = isObject(c.delta) ? c.delta : {};
  acc.content = (acc.content as string) + (str(delta.content) ?? '');
  acc.refusal = (acc.refusal as string) + (str(delta.refusal) ?? '');
  appendToolCallDeltas(acc, delta);
  if (isObject(c.logprobs)) {
    acc.logprobs = true;
    (acc.lpContent as unknown[]).push(...asArray(c.logprobs.content));
  }
}

/** Responses API: the terminal event carries the whole response; deltas cover a cut stream. */
function reassembleResponsesStream(events: StreamEvent[]): JsonObject {
  let latest: JsonObject | undefined;
  let text = '';
  let refusal = '';
  const logprobs: unknown[] = [];
  let sawLogprobs = false;
  const toolItems = new Map<number, JsonObject>();
  for (const event of events) {
    const data = event.json;
    if (!isObject(data)) continue;
    if (isObject(data.response)) latest = data.response;
    trackToolItem(toolItems, data, str(data.type) ?? event.event);
    switch (data.type ?? event.event) {
      case 'response.output_text.delta':
        text += str(data.delta) ?? '';
        if (Array.isArray(data.logprobs)) {
          sawLogprobs = true;
          logprobs.push(...data.logprobs);
        }
        break;
      case 'response.refusal.delta':
        refusal += str(data.delta) ?? '';
        break;
      default:
    }
  }
  const body: JsonObject = { ...(latest ?? {}) };
  const hasMessage = asArray(body.output).some((item) => isObject(item) && item.type === 'message');
  if (!hasMessage && (text !== '' || refusal !== '')) {
    const content: JsonObject[] = [];
    if (text !== '') content.push({ type: 'output_text', text, annotations: [], ...(sawLogprobs ? { logprobs } : {}) });
    if (refusal !== '') content.push({ type: 'refusal', refusal });
    body.output = [...asArray(body.output), { type: 'message', role: 'assistant', content }];
  }
  addStreamedToolItems(body, toolItems);
  return body;
}

// ---- tool calls: declared in the request, made in the answer ----

/**
 * The tools a request declares: chat `tools` (`function` nests its definition, `custom` too) and
 * the legacy `functions`; Responses `tools` of type `function` or `custom` (definition inline).
 * Built-in tools (web search, file search, MCP…) are run by the provider, not called by the app.
 */
export function openaiDeclaredTools(body: unknown): ToolDeclaration[] {
  if (!isObject(body)) return [];
  const out: ToolDeclaration[] = [];
  for (const tool of asArray(body.tools)) {
    if (!isObject(tool)) continue;
    if (tool.type === 'function') {
      const def = isObject(tool.function) ? tool.function : tool;
      const name = str(def.name);
      if (name !== undefined) out.push(functionTool(name, def.parameters));
    } else if (tool.type === 'custom') {
      const name = str((isObject(tool.custom) ? tool.custom : tool).name);
      if (name !== undefined) out.push({ name, kind: 'custom' });
    }
  }
  for (const fn of asArray(body.functions)) {
    if (isObject(fn) && typeof fn.name === 'string') out.push(functionTool(fn.name, fn.parameters));
  }
  return out;
}

function functionTool(name: string, parameters: unknown): ToolDeclaration {
  // OpenAI reads a function without `parameters` as one with no parameter list: nothing to hold its arguments to.
  return parameters === undefined || parameters === null ? { name, kind: 'function' } : { name, kind: 'function', parameters };
}

/** Tool calls of choice 0 (chat `tool_calls` and the legacy `function_call`) or of a Responses output. */
function openaiToolCalls(route: string, body: JsonObject): ToolCall[] {
  if (route === 'responses') return responsesToolCalls(body);
  if (route !== 'chat.completions') return [];
  const choices = asArray(body.choices).filter(isObject);
  const choice = choices.find((c) => c.index === 0) ?? choices[0];
  const message = choice && isObject(choice.message) ? choice.message : undefined;
  if (!message) return [];
  const out: ToolCall[] = [];
  for (const call of asArray(message.tool_calls)) {
    if (!isObject(call)) continue;
    const id = str(call.id);
    if (call.type === 'custom' || isObject(call.custom)) {
      const custom = isObject(call.custom) ? call.custom : {};
      out.push(toolCall(id, str(custom.name) ?? '', textArgument(custom.input), 'custom', call));
    } else {
      const fn = isObject(call.function) ? call.function : {};
      out.push(toolCall(id, str(fn.name) ?? '', jsonArgument(fn.arguments), 'function', call));
    }
  }
  if (isObject(message.function_call)) {
    const fn = message.function_call;
    out.push(toolCall(undefined, str(fn.name) ?? '', jsonArgument(fn.arguments), 'function', fn));
  }
  return out;
}

function responsesToolCalls(body: JsonObject): ToolCall[] {
  const out: ToolCall[] = [];
  for (const item of asArray(body.output)) {
    if (!isObject(item)) continue;
    const id = str(item.call_id) ?? str(item.id);
    const cut = item.status === 'incomplete';
    if (item.type === 'function_call') {
      out.push(toolCall(id, str(item.name) ?? '', jsonArgument(item.arguments), 'function', item, cut));
    } else if (item.type === 'custom_tool_call') {
      out.push(toolCall(id, str(item.name) ?? '', textArgument(item.input), 'custom', item, cut));
    }
  }
  return out;
}

function toolCall(id: string | undefined, name: string, args: string, kind: ToolCall['kind'], source: object, cut = false): ToolCall {
  const call: ToolCall = { name, arguments: args, kind, complete: !cut && !isIncomplete(source) };
  if (id !== undefined) call.id = id;
  return call;
}

/** Arguments are a JSON text on the wire; a few compatible servers send the object itself. */
function jsonArgument(v: unknown): string {
  if (typeof v === 'string') return v;
  return v === undefined || v === null ? '' : JSON.stringify(v);
}

function textArgument(v: unknown): string {
  return typeof v === 'string' ? v : '';
}

/**
 * Streamed chat tool calls arrive as deltas keyed by `index`: the first names the call, the rest
 * carry pieces of its arguments. Calls stream one after another, so a call is over once the next
 * one starts, and all are once the choice has a finish reason.
 */
function appendToolCallDeltas(acc: JsonObject, delta: JsonObject): void {
  if (isObject(delta.function_call)) {
    const call = (acc.functionCall ??= startCall({ name: '', arguments: '' })) as JsonObject;
    appendNamed(call, delta.function_call, 'arguments');
  }
  if (!Array.isArray(delta.tool_calls)) return;
  const calls = ((acc.toolCalls as JsonObject[] | undefined) ??= []);
  for (const d of delta.tool_calls) {
    if (!isObject(d)) continue;
    // Some compatible servers leave out `index`: a new id starts a call, anything else continues the last.
    const index = num(d.index) ?? (typeof d.id === 'string' && !calls.some((c) => c?.id === d.id) ? calls.length : Math.max(0, calls.length - 1));
    let call = calls[index];
    if (!call) {
      for (const earlier of calls) if (earlier) markComplete(earlier);
      call = startCall({ type: 'function' });
      calls[index] = call;
    }
    if (typeof d.id === 'string') call.id = d.id;
    if (typeof d.type === 'string') call.type = d.type;
    if (isObject(d.function)) appendNamed((call.function ??= { name: '', arguments: '' }) as JsonObject, d.function, 'arguments');
    if (isObject(d.custom)) appendNamed((call.custom ??= { name: '', input: '' }) as JsonObject, d.custom, 'input');
  }
}

function startCall(call: JsonObject): JsonObject {
  markIncomplete(call);
  return call;
}

/** The name comes whole in the first delta (some servers repeat it); the payload comes in pieces. */
function appendNamed(target: JsonObject, piece: JsonObject, payload: 'arguments' | 'input'): void {
  const name = str(piece.name);
  const had = str(target.name) ?? '';
  if (name !== undefined && name !== had) target.name = had + name;
  target[payload] = (str(target[payload]) ?? '') + (str(piece[payload]) ?? '');
}

function streamedToolCalls(acc: JsonObject): JsonObject {
  const calls = (acc.toolCalls as JsonObject[] | undefined)?.filter((c) => c !== undefined) ?? [];
  const legacy = acc.functionCall as JsonObject | undefined;
  if (acc.finish_reason !== undefined) for (const call of [...calls, ...(legacy ? [legacy] : [])]) markComplete(call);
  const out: JsonObject = {};
  if (calls.length > 0) out.tool_calls = calls;
  if (legacy) out.function_call = legacy;
  return out;
}

/**
 * Responses streams announce each output item (`response.output_item.added`), stream a function
 * call's arguments or a custom call's input in deltas, and repeat the whole item when it is done.
 */
function trackToolItem(items: Map<number, JsonObject>, data: JsonObject, type: string | undefined): void {
  const index = num(data.output_index);
  if (index === undefined) return;
  switch (type) {
    case 'response.output_item.added':
    case 'response.output_item.done': {
      const item = data.item;
      if (!isObject(item) || (item.type !== 'function_call' && item.type !== 'custom_tool_call')) return;
      const copy = { ...item };
      if (type === 'response.output_item.added') markIncomplete(copy);
      items.set(index, copy);
      return;
    }
    case 'response.function_call_arguments.delta':
    case 'response.custom_tool_call_input.delta': {
      const item = items.get(index);
      const field = type === 'response.function_call_arguments.delta' ? 'arguments' : 'input';
      if (item && isIncomplete(item)) item[field] = (str(item[field]) ?? '') + (str(data.delta) ?? '');
      return;
    }
    default:
  }
}

/** A stream cut before its terminal event: the response object seen so far lacks the calls. */
function addStreamedToolItems(body: JsonObject, items: Map<number, JsonObject>): void {
  if (items.size === 0) return;
  const output = asArray(body.output);
  if (output.some((item) => isObject(item) && (item.type === 'function_call' || item.type === 'custom_tool_call'))) return;
  const calls = [...items.entries()].sort(([a], [b]) => a - b).map(([, item]) => item);
  body.output = [...output, ...calls];
}

// ---- sampling and shadow calls: plain conversations in and out of the OpenAI formats ----

const PART_REASON: Record<string, NotPlainReason> = {
  image_url: 'images',
  input_image: 'images',
  input_audio: 'files',
  file: 'files',
  input_file: 'files',
};

/** The text of a content value made only of text parts, or why it is something else. */
function plainContent(content: unknown): { text: string } | { reason: NotPlainReason } {
  if (content === null || content === undefined) return { text: '' };
  if (typeof content === 'string') return { text: content };
  if (!Array.isArray(content)) return { reason: 'other_content' };
  const texts: string[] = [];
  for (const part of content) {
    if (typeof part === 'string') texts.push(part);
    else if (isObject(part) && (part.type === 'text' || part.type === 'input_text' || part.type === 'output_text') && typeof part.text === 'string') texts.push(part.text);
    else return { reason: (isObject(part) && PART_REASON[str(part.type) ?? '']) || 'other_content' };
  }
  return { text: texts.join('\n\n') };
}

/** Reads an OpenAI request as a plain text conversation, when it is one. */
export function openaiPlainConversation(route: string, body: unknown): PlainResult {
  if (!isObject(body)) return notPlain('other_content');
  if (route === 'completions') return notPlain('route'); // a bare prompt is not a conversation
  if (body.tools !== undefined || body.functions !== undefined) return notPlain('tools');
  const conversation: PlainConversation = { turns: [] };
  const system: string[] = [];
  const add = (role: string, content: unknown, item: JsonObject): NotPlainReason | undefined => {
    if (role === 'tool' || role === 'function' || item.tool_calls !== undefined || item.function_call !== undefined) return 'tools';
    const read = plainContent(content);
    if ('reason' in read) return read.reason;
    const text = read.text;
    if (role === 'system' || role === 'developer') system.push(text);
    else if (role === 'user' || role === 'assistant') conversation.turns.push({ role, text });
    else return 'other_content';
    return undefined;
  };
  if (route === 'responses') {
    const instructions = str(body.instructions);
    if (instructions) system.push(instructions);
    const input = body.input;
    if (typeof input === 'string') conversation.turns.push({ role: 'user', text: input });
    else if (Array.isArray(input)) {
      for (const item of input) {
        if (typeof item === 'string') {
          conversation.turns.push({ role: 'user', text: item });
          continue;
        }
        if (!isObject(item)) return notPlain('other_content');
        const type = str(item.type);
        if (type !== undefined && type !== 'message') return notPlain(/call/.test(type) ? 'tools' : 'other_content');
        const why = add(str(item.role) ?? '', item.content, item);
        if (why) return notPlain(why);
      }
    } else if (input !== undefined) return notPlain('other_content');
  } else {
    for (const m of asArray(body.messages)) {
      if (!isObject(m)) return notPlain('other_content');
      const why = add(str(m.role) ?? '', m.content, m);
      if (why) return notPlain(why);
    }
  }
  if (system.length > 0) conversation.system = system.join('\n\n');
  if (!conversation.turns.some((t) => t.role === 'user' && t.text.trim() !== '')) return notPlain('empty');
  return { plain: true, conversation };
}

/** A chat.completions request for a plain conversation (the shadow-model form). */
export function buildOpenAIRequest(conversation: PlainConversation, opts: BuildOptions): BuiltRequest {
  const messages: JsonObject[] = [];
  if (conversation.system) messages.push({ role: 'system', content: conversation.system });
  for (const t of conversation.turns) messages.push({ role: t.role, content: t.text });
  const body: JsonObject = { model: opts.model, messages, temperature: opts.temperature, max_tokens: opts.maxTokens };
  if (opts.n > 1) body.n = opts.n;
  return { path: '/v1/chat/completions', body, answers: Math.max(1, opts.n) };
}

const ROUTE_PATH: Record<string, string> = { 'chat.completions': '/v1/chat/completions', completions: '/v1/completions', responses: '/v1/responses' };

/**
 * The original request again, as a non-streaming call at the sampling temperature: the most
 * faithful way to ask the same model the same thing (its tools, formats and settings intact).
 * chat.completions and completions take `n`; responses yields one answer per call.
 */
export function resampleOpenAIRequest(route: string, body: unknown, opts: Omit<BuildOptions, 'model'>): BuiltRequest | undefined {
  const path = ROUTE_PATH[route];
  if (!path || !isObject(body)) return undefined;
  const out: JsonObject = { ...body, stream: false, temperature: opts.temperature };
  delete out.stream_options; // only valid on streams
  delete out.store; // a stored copy of every sample is not what the client asked for
  const cap = (field: string) => {
    const own = num(out[field]);
    out[field] = own === undefined ? opts.maxTokens : Math.min(own, opts.maxTokens);
  };
  if (route === 'responses') {
    cap('max_output_tokens');
    return { path, body: out, answers: 1 };
  }
  if (out.max_completion_tokens !== undefined) cap('max_completion_tokens');
  else cap('max_tokens');
  out.n = Math.max(1, opts.n);
  return { path, body: out, answers: Math.max(1, opts.n) };
}

/** Every answer text of a non-streaming OpenAI response (all choices), with its usage. */
export function openaiAnswers(route: string, body: unknown): Answers {
  if (!isObject(body)) throw new CaptureError('VERACITY_CAPTURE_BAD_SHAPE', `OpenAI ${route} response body is not a JSON object`);
  const usage = usageOf(body.usage);
  let texts: string[];
  if (route === 'responses') texts = [responsesOutput(body).text];
  else {
    const choices = asArray(body.choices).filter(isObject);
    choices.sort((a, b) => (num(a.index) ?? 0) - (num(b.index) ?? 0));
    texts = choices.map((c) => (route === 'completions' ? (str(c.text) ?? '') : textOf(isObject(c.message) ? c.message.content : undefined)));
  }
  return usage ? { texts, usage } : { texts };
}

/** How an OpenAI-compatible API takes a key. */
export function openaiAuthHeaders(key: string | undefined): Record<string, string> {
  return key ? { authorization: `Bearer ${key}` } : {};
}

/**
 * Inline `block`: the answer withheld, as an OpenAI API error (status 422). The SDKs read
 * `error.type`, `error.code` and `error.message`; `error.veracity` carries the verdict's summary.
 */
export function openaiBlockedError(message: string, veracity: object): ErrorBody {
  return {
    contentType: 'application/json',
    body: JSON.stringify({ error: { message, type: 'veracity_blocked', param: null, code: 'veracity_blocked', veracity } }),
  };
}
