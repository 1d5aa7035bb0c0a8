import type { ResponseCapture, ToolCall, ToolDeclaration, Usage } from './exchange.js';
import { CaptureError, type ErrorBody } from './errors.js';
import { ContextBuilder, type ParsedRequest } from './request.js';
import { asArray, isObject, num, str, textOf, type JsonObject } from './wire.js';
import type { StreamEvent } from './sse.js';
import { isIncomplete, markComplete, markCutByLimit, markIncomplete } from './tools.js';
import { notPlain, type Answers, type BuildOptions, type BuiltRequest, type NotPlainReason, type PlainConversation, type PlainResult } from './plain.js';

export function parseAnthropicRequest(route: string, body: unknown): ParsedRequest {
  if (route !== 'messages') throw new CaptureError('VERACITY_CAPTURE_BAD_ROUTE', `Anthropic route "${route}" is not analysed`);
  if (!isObject(body)) throw new CaptureError('VERACITY_CAPTURE_BAD_SHAPE', 'Anthropic messages request body is not a JSON object');
  if (!Array.isArray(body.messages)) {
    throw new CaptureError('VERACITY_CAPTURE_BAD_SHAPE', 'Anthropic messages request has no "messages" array');
  }
  const ctx = new ContextBuilder();
  ctx.add('system', textOf(body.system));

  const messages = body.messages.filter(isObject);
  let lastUser = -1;
  messages.forEach((m, i) => {
    if (m.role === 'user' && hasUserText(m.content)) lastUser = i;
  });
  let question = '';
  messages.forEach((m, i) => {
    if (m.role === 'user') {
      const texts = userContent(m.content, ctx);
      if (i === lastUser) question = ctx.addFinalUser(texts);
      else ctx.addUserHistory(texts.join('\n\n'));
    } else {
      ctx.add('history', assistantText(m.content));
    }
  });
  return { model: str(body.model), stream: body.stream === true, context: ctx.parts, question };
}

/** A user turn that only returns tool results is not where the question is. */
function hasUserText(content: unknown): boolean {
  if (typeof content === 'string') return content.trim() !== '';
  return asArray(content).some((b) => isObject(b) && b.type === 'text' && typeof b.text === 'string' && b.text.trim() !== '');
}

/** Adds the turn's document and tool_result blocks to context; returns its own text blocks. */
function userContent(content: unknown, ctx: ContextBuilder): string[] {
  if (typeof content === 'string') return [content];
  const texts: string[] = [];
  for (const block of asArray(content)) {
    if (!isObject(block)) continue;
    switch (block.type) {
      case 'text':
        if (typeof block.text === 'string') texts.push(block.text);
        break;
      case 'document':
        ctx.add('document', documentText(block));
        break;
      case 'tool_result':
        ctx.add('tool', toolResultText(block.content));
        break;
      case 'search_result':
        ctx.add('document', [str(block.title), textOf(block.content)].filter(Boolean).join('\n'));
        break;
      default:
      // images, base64 PDFs, thinking, … carry no text we can check against
    }
  }
  return texts;
}

function documentText(block: JsonObject): string {
  const source = isObject(block.source) ? block.source : {};
  let body = '';
  if (source.type === 'text') body = str(source.data) ?? '';
  else if (source.type === 'content') body = textOf(source.content);
  const title = str(block.title);
  const context = str(block.context);
  return [title, context, body].filter((s) => s !== undefined && s !== '').join('\n');
}

function toolResultText(content: unknown): string {
  if (typeof content === 'string') return content;
  const texts: string[] = [];
  for (const block of asArray(content)) {
    if (!isObject(block)) continue;
    if (block.type === 'text' && typeof block.text === 'string') texts.push(block.text);
    else if (block.type === 'document') texts.push(documentText(block));
    else if (block.type === 'search_result') texts.push([str(block.title), textOf(block.content)].filter(Boolean).join('\n'));
  }
  return texts.join('\n\n');
}

function assistantText(content: unknown): string {
  if (typeof content === 'string') return content;
  return asArray(content)
    .filter(isObject)
    .filter((b) => b.type === 'text' && typeof b.text === 'string')
    .map((b) => b.text as string)
    .join('');
}

export function parseAnthropicResponse(body: unknown): ResponseCapture {
  if (!isObject(body)) throw new CaptureError('VERACITY_CAPTURE_BAD_SHAPE', 'Anthropic messages response body is not a JSON object');
  const capture: ResponseCapture = { text: assistantText(body.content) };
  const stop = str(body.stop_reason);
  if (stop) capture.finishReason = stop;
  const model = str(body.model);
  if (model !== undefined) capture.model = model;
  const usage = anthropicUsage(body.usage);
  if (usage) capture.usage = usage;
  const calls = anthropicToolCalls(body.content);
  if (calls.length > 0) {
    capture.toolCalls = calls;
    markCutByLimit(capture);
  }
  return capture;
}

/** Input tokens include cache reads and writes: all of them were sent to the model. */
export function anthropicUsage(usage: unknown): Usage | undefined {
  if (!isObject(usage)) return undefined;
  const input = num(usage.input_tokens);
  const cached = (num(usage.cache_creation_input_tokens) ?? 0) + (num(usage.cache_read_input_tokens) ?? 0);
  const output = num(usage.output_tokens);
  if (input === undefined && output === undefined) return undefined;
  const out: Usage = {};
  if (input !== undefined) out.inputTokens = input + cached;
  if (output !== undefined) out.outputTokens = output;
  return out;
}

/**
 * Rebuilds the Message an Anthropic event stream stands for, so streamed and non-streamed answers
 * go through the same parser. A cut stream yields the blocks it got so far.
 */
export function reassembleAnthropicStream(events: StreamEvent[]): JsonObject {
  let message: JsonObject = { type: 'message', role: 'assistant', content: [] };
  const blocks: JsonObject[] = [];
  let usage: JsonObject = {};
  for (const event of events) {
    const data = event.json;
    if (!isObject(data)) continue;
    switch (data.type ?? event.event) {
      case 'message_start':
        if (isObject(data.message)) {
          message = { ...data.message };
          if (isObject(data.message.usage)) usage = { ...data.message.usage };
        }
        break;
      case 'content_block_start': {
        const index = num(data.index);
        if (index !== undefined && isObject(data.content_block)) blocks[index] = startBlock(data.content_block);
        break;
      }
      case 'content_block_stop': {
        const block = blocks[num(data.index) ?? -1];
        if (block) markComplete(block);
        break;
      }
      case 'content_block_delta': {
        const index = num(data.index);
        const delta = isObject(data.delta) ? data.delta : {};
        if (index !== undefined && delta.type === 'input_json_delta') appendInputJson(blocks[index], delta);
        if (index === undefined || delta.type !== 'text_delta' || typeof delta.text !== 'string') break;
        const block = (blocks[index] ??= { type: 'text', text: '' });
        block.text = (str(block.text) ?? '') + delta.text;
        break;
      }
      case 'message_delta':
        if (isObject(data.delta)) {
          if (data.delta.stop_reason !== undefined) message.stop_reason = data.delta.stop_reason;
          if (data.delta.stop_sequence !== undefined) message.stop_sequence = data.delta.stop_sequence;
        }
        // Cumulative counts: a field here replaces the one from message_start.
        if (isObject(data.usage)) {
          for (const [k, v] of Object.entries(data.usage)) if (v !== null && v !== undefined) usage[k] = v;
        }
        break;
      default:
      // ping, message_stop, error: nothing to add
    }
  }
  message.content = blocks.filter((b) => b !== undefined);
  message.usage = usage;
  return message;
}

// ---- tool calls: declared in the request, made in the answer ----

/**
 * The tools a request declares: custom tools with their `input_schema`, and Anthropic-defined
 * ones (`bash`, `str_replace_based_edit_tool`, `computer`, server tools…), which carry a name and
 * a versioned `type` but no schema.
 */
export function anthropicDeclaredTools(body: unknown): ToolDeclaration[] {
  if (!isObject(body)) return [];
  const out: ToolDeclaration[] = [];
  for (const tool of asArray(body.tools)) {
    if (!isObject(tool) || typeof tool.name !== 'string') continue;
    const schema = tool.input_schema;
    out.push(schema === undefined || schema === null ? { name: tool.name, kind: 'function' } : { name: tool.name, kind: 'function', parameters: schema });
  }
  return out;
}

/**
 * `tool_use` blocks: calls the app runs. (`server_tool_use` and `mcp_tool_use` are run by
 * Anthropic itself and answered in the same message.)
 */
function anthropicToolCalls(content: unknown): ToolCall[] {
  const out: ToolCall[] = [];
  for (const block of asArray(content)) {
    if (!isObject(block) || block.type !== 'tool_use') continue;
    const streamed = (block as StreamedBlock)[PARTIAL_JSON];
    const args = streamed !== undefined && streamed !== '' ? canonicalJson(streamed) : JSON.stringify(block.input ?? {});
    const call: ToolCall = { name: str(block.name) ?? '', arguments: args, kind: 'function', complete: !isIncomplete(block) };
    if (typeof block.id === 'string') call.id = block.id;
    out.push(call);
  }
  return out;
}

/**
 * A whole message carries the input already parsed, a stream the JSON text the model wrote: text
 * that parses is written the way the whole message's would be, so a streamed answer and the same
 * answer unstreamed give the same call; text that does not is kept as it came, to be judged.
 */
function canonicalJson(text: string): string {
  try {
    return JSON.stringify(JSON.parse(text));
  } catch {
    return text;
  }
}

/** The streamed input of a tool_use block, kept beside the block, never in a wire field. */
const PARTIAL_JSON: unique symbol = Symbol('veracity.partialJson');
type StreamedBlock = JsonObject & { [PARTIAL_JSON]?: string };

function startBlock(block: JsonObject): JsonObject {
  const copy: StreamedBlock = { ...block };
  if (copy.type === 'tool_use') {
    copy[PARTIAL_JSON] = '';
    markIncomplete(copy);
  }
  return copy;
}

function appendInputJson(block: StreamedBlock | undefined, delta: JsonObject): void {
  if (!block || block[PARTIAL_JSON] === undefined) return;
  block[PARTIAL_JSON] += str(delta.partial_json) ?? '';
}

// ---- sampling and shadow calls: plain conversations in and out of the Anthropic format ----

/** The API version sampling and shadow calls speak (client headers are never copied). */
export const ANTHROPIC_VERSION = '2023-06-01';

const BLOCK_REASON: Record<string, NotPlainReason> = {
  tool_use: 'tools',
  tool_result: 'tools',
  server_tool_use: 'tools',
  image: 'images',
  document: 'files',
  search_result: 'files',
};

function plainBlocks(content: unknown): { text: string } | { reason: NotPlainReason } {
  if (typeof content === 'string') return { text: content };
  if (!Array.isArray(content)) return { reason: 'other_content' };
  const texts: string[] = [];
  for (const block of content) {
    if (isObject(block) && block.type === 'text' && typeof block.text === 'string') texts.push(block.text);
    else return { reason: (isObject(block) && BLOCK_REASON[str(block.type) ?? '']) || 'other_content' };
  }
  return { text: texts.join('\n\n') };
}

/** Reads an Anthropic messages request as a plain text conversation, when it is one. */
export function anthropicPlainConversation(route: string, body: unknown): PlainResult {
  if (route !== 'messages') return notPlain('route');
  if (!isObject(body)) return notPlain('other_content');
  if (body.tools !== undefined) return notPlain('tools');
  const conversation: PlainConversation = { turns: [] };
  if (body.system !== undefined) {
    const system = plainBlocks(body.system);
    if ('reason' in system) return notPlain(system.reason);
    if (system.text !== '') conversation.system = system.text;
  }
  for (const m of asArray(body.messages)) {
    if (!isObject(m) || (m.role !== 'user' && m.role !== 'assistant')) return notPlain('other_content');
    const read = plainBlocks(m.content);
    if ('reason' in read) return notPlain(read.reason);
    conversation.turns.push({ role: m.role, text: read.text });
  }
  if (!conversation.turns.some((t) => t.role === 'user' && t.text.trim() !== '')) return notPlain('empty');
  return { plain: true, conversation };
}

/**
 * A messages request for a plain conversation (the shadow-model form). Turns of the same role in
 * a row are joined, and a leading assistant turn dropped: the API wants them alternating, from
 * the user.
 */
export function buildAnthropicRequest(conversation: PlainConversation, opts: BuildOptions): BuiltRequest {
  const messages: Array<{ role: 'user' | 'assistant'; content: string }> = [];
  for (const t of conversation.turns) {
    if (t.text.trim() === '') continue;
    const last = messages[messages.length - 1];
    if (last && last.role === t.role) last.content += `\n\n${t.text}`;
    else if (last || t.role === 'user') messages.push({ role: t.role, content: t.text });
  }
  const body: JsonObject = { model: opts.model, max_tokens: opts.maxTokens, temperature: Math.min(1, opts.temperature), messages };
  if (conversation.system) body.system = conversation.system;
  return { path: '/v1/messages', body, answers: 1 };
}

/** The original request again, non-streaming, at the sampling temperature (one answer per call). */
export function resampleAnthropicRequest(route: string, body: unknown, opts: Omit<BuildOptions, 'model'>): BuiltRequest | undefined {
  if (route !== 'messages' || !isObject(body)) return undefined;
  const own = num(body.max_tokens);
  const out: JsonObject = { ...body, stream: false, temperature: Math.min(1, opts.temperature), max_tokens: own === undefined ? opts.maxTokens : Math.min(own, opts.maxTokens) };
  return { path: '/v1/messages', body: out, answers: 1 };
}

/** The answer text of a non-streaming messages response, with its usage. */
export function anthropicAnswers(body: unknown): Answers {
  const capture = parseAnthropicResponse(body);
  return capture.usage ? { texts: [capture.text], usage: capture.usage } : { texts: [capture.text] };
}

/** How the Anthropic API takes a key. */
export function anthropicAuthHeaders(key: string | undefined): Record<string, string> {
  return { 'anthropic-version': ANTHROPIC_VERSION, ...(key ? { 'x-api-key': key } : {}) };
}

/**
 * Inline `block`: the answer withheld, as an Anthropic API error (status 422): the SDKs read
 * `error.type` and `error.message`; `error.veracity` carries the verdict's summary.
 */
export function anthropicBlockedError(message: string, veracity: object): ErrorBody {
  return {
    contentType: 'application/json',
    body: JSON.stringify({ type: 'error', error: { type: 'veracity_blocked', message, veracity } }),
  };
}
