import type { ContextPart, Exchange, Provider, ResponseCapture } from './exchange.js';
import type { RawExchange } from './raw.js';
import { CaptureError } from './errors.js';
import { openaiDeclaredTools, openaiRouteOf, parseOpenAIRequest, parseOpenAIResponse, reassembleOpenAIStream } from './openai.js';
import { anthropicDeclaredTools, parseAnthropicRequest, parseAnthropicResponse, reassembleAnthropicStream } from './anthropic.js';
import type { ParsedRequest } from './request.js';
import { decodeBody } from './decode.js';
import { isEventStream, parseEventStream } from './sse.js';

export { CaptureError, errorBody } from './errors.js';
export { decodeBody } from './decode.js';
export { isEventStream, parseEventStream } from './sse.js';
export { createUsageChunkStripper, injectIncludeUsage } from './stream-usage.js';
export type { CaptureErrorCode, ErrorBody } from './errors.js';

/** One offline exchange, as a `check` JSONL line carries it: both bodies already parsed. */
export interface RecordInput {
  id: string;
  provider: Provider;
  request: unknown;
  response: unknown;
  route?: string;
}

export function fromRecord(row: RecordInput): Exchange {
  if (row === null || typeof row !== 'object') throw new CaptureError('VERACITY_CAPTURE_BAD_SHAPE', 'record is not an object');
  const { provider } = row;
  if (provider !== 'openai' && provider !== 'anthropic') {
    throw new CaptureError('VERACITY_CAPTURE_BAD_SHAPE', `record "provider" must be "openai" or "anthropic", got ${JSON.stringify(provider) ?? 'nothing'}`);
  }
  const id = typeof row.id === 'string' ? row.id : String(row.id ?? '');
  const route = row.route ?? defaultRoute(provider, row.request);
  const request = parseRequest(provider, route, row.request);
  const response = parseResponse(provider, route, row.response);
  return assemble(id, provider, route, request, response);
}

/** The one place an Exchange is put together from a parsed request and response. */
function assemble(id: string, provider: Provider, route: string, request: ParsedRequest, response: ResponseCapture): Exchange {
  const exchange: Exchange = {
    id,
    provider,
    route,
    model: request.model ?? response.model ?? 'unknown',
    context: request.context,
    question: request.question,
    response,
    stream: request.stream,
  };
  if (request.tools) exchange.tools = request.tools;
  return exchange;
}

function defaultRoute(provider: Provider, request: unknown): string {
  return provider === 'anthropic' ? 'messages' : openaiRouteOf(request);
}

function parseRequest(provider: Provider, route: string, body: unknown): ParsedRequest {
  const parsed = provider === 'openai' ? parseOpenAIRequest(route, body) : parseAnthropicRequest(route, body);
  const tools = provider === 'openai' ? openaiDeclaredTools(body) : anthropicDeclaredTools(body);
  if (tools.length > 0) parsed.tools = tools;
  return parsed;
}

function parseResponse(provider: Provider, route: string, body: unknown): ResponseCapture {
  return provider === 'openai' ? parseOpenAIResponse(route, body) : parseAnthropicResponse(body);
}

export interface NormaliseLimits {
  /** Longest response text kept, characters (config `detect.maxResponseChars`). */
  maxResponseChars?: number;
  /** Longest total context kept, characters (config `detect.maxContextChars`). */
  maxContextChars?: number;
}

export interface Normalised {
  exchange: Exchange;
  /** Parts cut to the limits: 'response', 'context'. */
  truncated: string[];
}

/**
 * The worker's entry: captured bytes → Exchange. Throws CaptureError only for a request that is
 * not understood or a 2xx body that cannot be read; error answers yield an empty response.
 */
export function normalise(raw: RawExchange, limits: NormaliseLimits = {}): Normalised {
  const { provider, route } = raw;
  if (provider !== 'openai' && provider !== 'anthropic') {
    throw new CaptureError('VERACITY_CAPTURE_BAD_SHAPE', `provider must be "openai" or "anthropic", got ${JSON.stringify(provider)}`);
  }
  const request = parseRequest(provider, route, parseJson(raw.request, 'request', raw.truncated?.request === true));
  const response = readResponse(raw);
  const truncated: string[] = [];
  const exchange: Exchange = {
    ...assemble(raw.id, provider, route, request, response),
    status: raw.status,
    aborted: raw.aborted,
    startedAt: raw.startedAt,
    endedAt: raw.endedAt,
  };
  if (raw.app !== undefined) exchange.app = raw.app;
  if (limits.maxResponseChars !== undefined && cutResponse(exchange.response, limits.maxResponseChars)) truncated.push('response');
  if (limits.maxContextChars !== undefined) {
    const cut = cutContext(exchange.context, limits.maxContextChars);
    if (cut) {
      exchange.context = cut;
      truncated.push('context');
    }
  }
  return { exchange, truncated };
}

function parseJson(text: string, part: 'request' | 'response', cut: boolean): unknown {
  try {
    return JSON.parse(text);
  } catch (err) {
    const why = cut ? 'was cut at capture.maxBodyBytes' : 'is not valid JSON';
    throw new CaptureError('VERACITY_CAPTURE_BAD_JSON', `${part} body ${why}`, { cause: err });
  }
}

/**
 * A captured event stream read as its dialect's answer. The event parsing is shared (sse.ts);
 * putting the events back together is each dialect's own business, so the choice is made here,
 * where both dialects are known, and the stream reader knows neither.
 */
export function captureFromStream(provider: Provider, route: string, text: string, options?: { complete?: boolean }): ResponseCapture {
  const events = parseEventStream(text, options);
  return provider === 'anthropic'
    ? parseAnthropicResponse(reassembleAnthropicStream(events))
    : parseOpenAIResponse(route, reassembleOpenAIStream(route, events));
}

function readResponse(raw: RawExchange): ResponseCapture {
  const ok = raw.status >= 200 && raw.status < 300;
  const cut = raw.truncated?.response === true;
  let body: string;
  try {
    body = decodeBody(raw.response, raw.responseEncoding);
  } catch (err) {
    if (ok) throw err;
    return { text: '' };
  }
  if (isEventStream(raw.contentType, body)) return captureFromStream(raw.provider, raw.route, body, { complete: !cut });
  if (!ok) {
    // An error answer: the worker decides what it means; its shape is not ours to insist on.
    try {
      return parseResponse(raw.provider, raw.route, JSON.parse(body));
    } catch {
      return { text: '' };
    }
  }
  if (body.trim() === '' && raw.aborted) return { text: '' };
  return parseResponse(raw.provider, raw.route, parseJson(body, 'response', cut));
}

function cutResponse(response: ResponseCapture, max: number): boolean {
  if (response.text.length <= max) return false;
  response.text = response.text.slice(0, max);
  if (response.logprobs) {
    let length = 0;
    const kept = response.logprobs.findIndex((t) => (length += t.token.length) > max);
    if (kept >= 0) response.logprobs = response.logprobs.slice(0, kept);
  }
  return true;
}

/**
 * Keeps the context within budget. Grounding (system, documents, tool results) is served before
 * conversation history; the parts kept stay in request order.
 */
function cutContext(parts: ContextPart[], max: number): ContextPart[] | undefined {
  const total = parts.reduce((n, p) => n + p.text.length, 0);
  if (total <= max) return undefined;
  const budgets = new Map<ContextPart, number>();
  let left = max;
  const byPriority = [...parts.filter((p) => p.source !== 'history'), ...parts.filter((p) => p.source === 'history')];
  for (const part of byPriority) {
    const take = Math.min(part.text.length, left);
    budgets.set(part, take);
    left -= take;
  }
  return parts
    .filter((p) => (budgets.get(p) ?? 0) > 0)
    .map((p) => ({ source: p.source, text: p.text.slice(0, budgets.get(p)) }));
}
