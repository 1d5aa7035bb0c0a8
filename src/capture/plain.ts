import type { Usage } from './exchange.js';

/**
 * A conversation of plain text turns, the one shape a request takes on its way from one dialect
 * to another: a system prompt, then user and assistant turns. Requests that carry anything else
 * (tool definitions or calls, images, files) are not plain and are never translated.
 */
export interface PlainConversation {
  system?: string;
  turns: Array<{ role: 'user' | 'assistant'; text: string }>;
}

/** Why a request is not a plain text conversation. */
export type NotPlainReason = 'tools' | 'images' | 'files' | 'other_content' | 'route' | 'empty';

export type PlainResult = { plain: true; conversation: PlainConversation } | { plain: false; reason: NotPlainReason };

/** What a sampling or shadow call needs: a path under the upstream's base URL and a JSON body. */
export interface BuiltRequest {
  path: string;
  body: Record<string, unknown>;
  /** Answers one call of this body yields (`n` where the dialect and route support it). */
  answers: number;
}

export interface BuildOptions {
  model: string;
  temperature: number;
  /** Answers wanted; a dialect without `n` yields one per call and the caller repeats it. */
  n: number;
  maxTokens: number;
}

/** The answers of a non-streaming call: one text per choice, and the tokens it cost. */
export interface Answers {
  texts: string[];
  usage?: Usage;
}

export const notPlain = (reason: NotPlainReason): PlainResult => ({ plain: false, reason });
