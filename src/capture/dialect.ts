import type { Provider } from './exchange.js';
import { anthropicAnswers, anthropicAuthHeaders, anthropicBlockedError, anthropicPlainConversation, buildAnthropicRequest, resampleAnthropicRequest } from './anthropic.js';
import type { ErrorBody } from './errors.js';
import { buildOpenAIRequest, openaiAnswers, openaiAuthHeaders, openaiBlockedError, openaiPlainConversation, resampleOpenAIRequest } from './openai.js';
import type { Answers, BuildOptions, BuiltRequest, PlainConversation, PlainResult } from './plain.js';

export type { Answers, BuildOptions, BuiltRequest, NotPlainReason, PlainConversation, PlainResult } from './plain.js';

/**
 * What the worker asks of a wire format when it calls a model itself (sampling and shadow calls):
 * read a request as a plain conversation, build a request, read the answers, and pass a key; and
 * what the proxy's inline mode asks: the error that stands for a withheld answer, and the same
 * request for another model. Everything past this point is the same for every dialect.
 */
export interface Dialect {
  plainConversation(route: string, body: unknown): PlainResult;
  build(conversation: PlainConversation, opts: BuildOptions): BuiltRequest;
  resample(route: string, body: unknown, opts: Omit<BuildOptions, 'model'>): BuiltRequest | undefined;
  /** `route` is the route the request was built for (a built shadow request is always the chat form). */
  answers(route: string, body: unknown): Answers;
  authHeaders(key: string | undefined): Record<string, string>;
  /** A withheld answer (inline `block`), as this API's error body with type `veracity_blocked`. */
  blockedError(message: string, veracity: object): ErrorBody;
  /** The request body asking `model` instead, every other field as sent; undefined when it is not a JSON object. */
  withModel(body: Buffer, model: string): Buffer | undefined;
}

/** Both APIs name the model in a top-level `model` field. */
function withModel(body: Buffer, model: string): Buffer | undefined {
  try {
    const parsed: unknown = JSON.parse(body.toString('utf8'));
    if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) return undefined;
    return Buffer.from(JSON.stringify({ ...parsed, model }));
  } catch {
    return undefined;
  }
}

const DIALECTS: Record<Provider, Dialect> = {
  openai: {
    plainConversation: openaiPlainConversation,
    build: buildOpenAIRequest,
    resample: resampleOpenAIRequest,
    answers: openaiAnswers,
    authHeaders: openaiAuthHeaders,
    blockedError: openaiBlockedError,
    withModel,
  },
  anthropic: {
    plainConversation: anthropicPlainConversation,
    build: buildAnthropicRequest,
    resample: resampleAnthropicRequest,
    answers: (_route, body) => anthropicAnswers(body),
    authHeaders: anthropicAuthHeaders,
    blockedError: anthropicBlockedError,
    withModel,
  },
};

export function dialectOf(provider: Provider): Dialect {
  return DIALECTS[provider];
}

/** The route family a built request's path stands for. */
export function routeOfPath(path: string): string {
  return path === '/v1/messages' ? 'messages' : path === '/v1/completions' ? 'completions' : path === '/v1/responses' ? 'responses' : 'chat.completions';
}
