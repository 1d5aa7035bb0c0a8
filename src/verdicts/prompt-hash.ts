import * as crypto from 'node:crypto';
import { createHash, createHmac } from 'node:crypto';
import type { ContextPart, Exchange } from '../capture/exchange.js';

/**
 * `prompt_hash`: a fingerprint of what a model was asked, so that verdicts of different models on
 * the same prompt can be paired (`veracity report --compare`). It covers the request's context
 * parts (system prompt, documents, tool results, earlier turns) and the final question, and nothing
 * else: not the model, not sampling parameters, not the app label, not the answer.
 *
 * It is computed from the normalised Exchange, so the dialect does not matter: the same
 * conversation sent as OpenAI chat, OpenAI responses or Anthropic messages hashes the same.
 * Within it, text is Unicode NFC with every run of whitespace made one space and the ends trimmed,
 * and consecutive parts of one kind are joined (Anthropic's system blocks and OpenAI's several
 * system messages read alike). Case and punctuation are kept: a model sees them.
 *
 * The hash reveals no text, but anyone holding a stored hash can test a guess of the whole prompt
 * against it. With a key (an environment variable named by `verdicts.promptHashKeyEnv`) it is an
 * HMAC-SHA-256, which no one without the key can test guesses against; without one it is a plain
 * SHA-256. Either way it is cut to 128 bits, far beyond any chance collision at verdict volumes.
 */

/** Bumped if the canonical form ever changes: hashes of different versions never pair. */
const VERSION = 'veracity-prompt-v1';
const HEX_CHARS = 32;
/** A shorter key is guessable itself, which would undo the point of keying. */
export const MIN_KEY_LENGTH = 16;

export class PromptHashKeyError extends Error {
  readonly code = 'VERACITY_ERR_PROMPT_HASH_KEY';
  constructor(message: string) {
    super(message);
    this.name = 'PromptHashKeyError';
  }
}

/** Text NFC leaves as it is without looking: nothing past U+02FF (no combining mark, no composable letter). */
const BELOW_COMBINING = /^[\u0000-\u02ff]*$/;

export function normaliseText(text: string): string {
  // NFC goes through ICU for every string; most prompts have nothing it would change.
  const nfc = BELOW_COMBINING.test(text) ? text : text.normalize('NFC');
  return nfc.replace(/\s+/g, ' ').trim();
}

/** One-shot SHA-256 (Node 20.12 and later): no Hash object per prompt. */
const oneShot = (crypto as { hash?: (algorithm: string, data: string, encoding: 'hex') => string }).hash;

/** The exact string that is hashed; exported for tests and for anyone checking a hash by hand. */
export function canonicalPrompt(exchange: Pick<Exchange, 'context' | 'question'>): string {
  const parts: Array<[ContextPart['source'], string]> = [];
  for (const part of exchange.context ?? []) {
    const text = normaliseText(typeof part.text === 'string' ? part.text : '');
    if (text === '') continue;
    const last = parts[parts.length - 1];
    if (last && last[0] === part.source) last[1] = `${last[1]} ${text}`;
    else parts.push([part.source, text]);
  }
  const question = normaliseText(typeof exchange.question === 'string' ? exchange.question : '');
  return JSON.stringify([VERSION, parts, question]);
}

/** The prompt fingerprint: 32 hex characters, keyed when `key` is given. Pure. */
export function promptHash(exchange: Pick<Exchange, 'context' | 'question'>, key?: Buffer): string {
  const canonical = canonicalPrompt(exchange);
  const digest = key ? createHmac('sha256', key).update(canonical).digest('hex') : oneShot ? oneShot('sha256', canonical, 'hex') : createHash('sha256').update(canonical).digest('hex');
  return digest.slice(0, HEX_CHARS);
}

/**
 * The key from the environment variable `envName` names, or undefined when it is unset or empty.
 * Every worker (and `check`, to match its output with stored verdicts) must see the same value;
 * changing it means prompts hashed before and after no longer pair.
 */
export function promptHashKey(envName: string, env: Record<string, string | undefined> = process.env): Buffer | undefined {
  const value = env[envName];
  if (value === undefined || value === '') return undefined;
  if (value.length < MIN_KEY_LENGTH) {
    throw new PromptHashKeyError(`environment variable ${envName} (the prompt_hash key) must be at least ${MIN_KEY_LENGTH} characters`);
  }
  return Buffer.from(value, 'utf8');
}
