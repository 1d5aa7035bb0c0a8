import type { Exchange, Provider } from './exchange.js';
import { CaptureError } from './errors.js';
import { openaiRouteOf, parseOpenAIRequest, parseOpenAIResponse } from './openai.js';
import { parseAnthropicRequest, parseAnthropicResponse } from './anthropic.js';

export { CaptureError, errorBody } from './errors.js';
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
  const request = provider === 'openai' ? parseOpenAIRequest(route, row.request) : parseAnthropicRequest(route, row.request);
  const response = provider === 'openai' ? parseOpenAIResponse(route, row.response) : parseAnthropicResponse(row.response);
  return {
    id,
    provider,
    route,
    model: request.model ?? response.model ?? 'unknown',
    context: request.context,
    question: request.question,
    response,
    stream: request.stream,
  };
}

function defaultRoute(provider: Provider, request: unknown): string {
  return provider === 'anthropic' ? 'messages' : openaiRouteOf(request);
}
