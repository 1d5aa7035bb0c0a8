import type { ResponseCapture } from './exchange.js';

/**
 * What the two dialect modules share about tool calls, none of it wire format: how a
 * reassembled stream marks a call that never finished, and which stops cut the last call short.
 */

/**
 * Set by a stream reassembler on a tool call (or block, or output item) whose end it did not
 * see. A symbol, so it can never collide with a field of the wire format it sits in.
 */
export const INCOMPLETE: unique symbol = Symbol('veracity.incomplete');

export function markIncomplete(target: object): void {
  (target as { [INCOMPLETE]?: boolean })[INCOMPLETE] = true;
}

export function markComplete(target: object): void {
  delete (target as { [INCOMPLETE]?: boolean })[INCOMPLETE];
}

export function isIncomplete(target: unknown): boolean {
  return typeof target === 'object' && target !== null && (target as { [INCOMPLETE]?: boolean })[INCOMPLETE] === true;
}

/** Finish reasons meaning the model ran out of tokens: OpenAI chat, Responses, Anthropic. */
const TOKEN_LIMIT = new Set(['length', 'max_output_tokens', 'max_tokens']);

/** An answer stopped by its token limit was cut inside its last tool call, if it ended in one. */
export function markCutByLimit(capture: ResponseCapture): void {
  const last = capture.toolCalls?.at(-1);
  if (last && capture.finishReason !== undefined && TOKEN_LIMIT.has(capture.finishReason)) last.complete = false;
}
