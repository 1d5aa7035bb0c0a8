import type { Provider } from './exchange.js';
import { anthropicAnswers, anthropicAuthHeaders, anthropicPlainConversation, buildAnthropicRequest, resampleAnthropicRequest } from './anthropic.js';
import { buildOpenAIRequest, openaiAnswers, openaiAuthHeaders, openaiPlainConversation, resampleOpenAIRequest } from './openai.js';
import type { Answers, BuildOptions, BuiltRequest, PlainConversation, PlainResult } from './plain.js';

export type { Answers, BuildOptions, BuiltRequest, NotPlainReason, PlainConversation, PlainResult } from './plain.js';

/**
 * What the worker asks of a wire format when it calls a model itself (sampling and shadow calls):
 * read a request as a plain conversation, build a request, read the answers, and pass a key.
 * Everything past this point is the same for every dialect.
 */
export interface Dialect {
  plainConversation(route: string, body: unknown): PlainResult;
  build(conversation: PlainConversation, opts: BuildOptions): BuiltRequest;
  resample(route: string, body: unknown, opts: Omit<BuildOptions, 'model'>): BuiltRequest | undefined;
  /** `route` is the route the request was built for (a built shadow request is always the chat form). */
  answers(route: string, body: unknown): Answers;
  authHeaders(key: string | undefined): Record<string, string>;
}

const DIALECTS: Record<Provider, Dialect> = {
  openai: {
    plainConversation: openaiPlainConversation,
    build: buildOpenAIRequest,
    resample: resampleOpenAIRequest,
    answers: openaiAnswers,
    authHeaders: openaiAuthHeaders,
  },
  anthropic: {
    plainConversation: anthropicPlainConversation,
    build: buildAnthropicRequest,
    resample: resampleAnthropicRequest,
    answers: (_route, body) => anthropicAnswers(body),
    authHeaders: anthropicAuthHeaders,
  },
};

export function dialectOf(provider: Provider): Dialect {
  return DIALECTS[provider];
}

/** The route family a built request's path stands for. */
export function routeOfPath(path: string): string {
  return path === '/v1/messages' ? 'messages' : path === '/v1/completions' ? 'completions' : path === '/v1/responses' ? 'responses' : 'chat.completions';
}
