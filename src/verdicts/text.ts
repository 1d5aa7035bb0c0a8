import type { RedisConnection as Redis } from '../redis/connection.js';
import type { Exchange } from '../capture/exchange.js';

/**
 * The text the console shows beside a verdict: the question and the response the claim offsets
 * index. Kept only with `capture.storeText: true`, after PII masking when `capture.redactPii` is
 * on, with the verdict's TTL, under `<prefix>:text:<id>`. Never headers, keys, or the context
 * (each claim's closest context passage is already its `evidence`).
 */
export interface ExchangeText {
  /** The final user turn, cut at `verdicts.questionMaxChars`. */
  question: string;
  /** The analysed response: claim `start`/`end` index this string. */
  response: string;
  /** A provider's refusal message (OpenAI `message.refusal`), when there was one. */
  refusal?: string;
  /** Which parts were cut before storing. */
  cut?: { question?: boolean; response?: boolean };
}

export const textKey = (prefix: string, id: string) => `${prefix}:text:${id}`;

export function exchangeText(exchange: Exchange, limits: { questionMaxChars: number; responseMaxChars: number }): ExchangeText {
  const question = typeof exchange.question === 'string' ? exchange.question : '';
  const response = typeof exchange.response?.text === 'string' ? exchange.response.text : '';
  const out: ExchangeText = {
    question: question.slice(0, limits.questionMaxChars),
    // The detectors read at most this much, so claim offsets never point past it.
    response: response.slice(0, limits.responseMaxChars),
  };
  if (exchange.response.refusal) out.refusal = exchange.response.refusal.slice(0, limits.questionMaxChars);
  if (question.length > limits.questionMaxChars || response.length > limits.responseMaxChars) {
    out.cut = {};
    if (question.length > limits.questionMaxChars) out.cut.question = true;
    if (response.length > limits.responseMaxChars) out.cut.response = true;
  }
  return out;
}

export async function readExchangeText(redis: Redis, prefix: string, id: string): Promise<ExchangeText | undefined> {
  const raw = await redis.get(textKey(prefix, id));
  if (raw === null) return undefined;
  try {
    return JSON.parse(raw) as ExchangeText;
  } catch {
    return undefined;
  }
}

/** The texts of several exchanges at once, by id; those not kept are left out. */
export async function readExchangeTexts(redis: Redis, prefix: string, ids: string[]): Promise<Map<string, ExchangeText>> {
  const out = new Map<string, ExchangeText>();
  if (ids.length === 0) return out;
  const raws = await redis.mget(ids.map((id) => textKey(prefix, id)));
  raws.forEach((raw, i) => {
    if (raw === null) return;
    try {
      out.set(ids[i]!, JSON.parse(raw) as ExchangeText);
    } catch {
      // an unreadable text is shown as missing
    }
  });
  return out;
}
