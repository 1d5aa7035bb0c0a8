/**
 * The one shape everything downstream of the dialect modules sees.
 * Only src/capture/openai.ts and src/capture/anthropic.ts know wire formats.
 */

export type Provider = 'openai' | 'anthropic';

/** Where a piece of grounding context came from in the request. */
export type ContextSource =
  | 'system' // system prompt / developer message / Anthropic `system`
  | 'document' // a delimited document inside a user message, or an Anthropic `document` block
  | 'tool' // OpenAI role:"tool" / function result, Anthropic `tool_result`
  | 'history'; // earlier turns of the conversation (user and assistant)

export interface ContextPart {
  source: ContextSource;
  text: string;
}

export interface TokenLogprob {
  token: string;
  logprob: number;
}

export interface Usage {
  inputTokens?: number;
  outputTokens?: number;
}

export interface ResponseCapture {
  /** The assistant text the detectors judge (first choice / all text blocks joined). */
  text: string;
  /** Provider finish/stop reason, verbatim (`stop`, `length`, `content_filter`, `end_turn`, `refusal`, …). */
  finishReason?: string;
  /** OpenAI `message.refusal` when the provider returned one. */
  refusal?: string;
  usage?: Usage;
  /** Per-token log-probabilities when the upstream returned them, aligned with `text`. */
  logprobs?: TokenLogprob[];
  /** Model name the upstream reported (may differ from the requested one). */
  model?: string;
  /** Tool calls in the answer, in answer order (streamed pieces already reassembled). */
  toolCalls?: ToolCall[];
}

export interface Exchange {
  id: string;
  provider: Provider;
  /** Route family: `chat.completions`, `completions`, `responses`, `messages`. */
  route: string;
  /** Requested model (falls back to the response's model). */
  model: string;
  /** Optional app label from `x-veracity-app`. */
  app?: string;
  /** Grounding context found in the request, in request order. */
  context: ContextPart[];
  /** The final user turn: what the response answers. */
  question: string;
  response: ResponseCapture;
  /** Whether the request asked for a streamed answer. */
  stream?: boolean;
  /** HTTP status the upstream answered with (absent for offline `check` input). */
  status?: number;
  /** The client went away before the response ended. */
  aborted?: boolean;
  /** Epoch milliseconds. */
  startedAt?: number;
  endedAt?: number;
  /** Tools the request declared; absent when it declared none. */
  tools?: ToolDeclaration[];
}

/**
 * `function` tools take JSON arguments (OpenAI functions, Anthropic tools); `custom` tools take
 * free text (OpenAI custom tools), so only their name can be checked.
 */
export type ToolKind = 'function' | 'custom';

/** A tool as the request declared it. */
export interface ToolDeclaration {
  name: string;
  kind: ToolKind;
  /** JSON Schema of the arguments, as sent; absent when the tool declares none. */
  parameters?: unknown;
}

/** A tool call as the answer made it. */
export interface ToolCall {
  /** The provider's call id (`call_…`, `toolu_…`) when it gave one. */
  id?: string;
  name: string;
  /** The arguments as text: JSON for `function` calls (not necessarily valid), free text for `custom`. */
  arguments: string;
  kind: ToolKind;
  /**
   * False when the answer ended before this call did (a stream cut short, or the model stopped
   * at its token limit): its arguments are a prefix, and a prefix says nothing about the model.
   */
  complete: boolean;
}
