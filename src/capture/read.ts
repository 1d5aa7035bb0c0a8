import type { Config } from '../config/schema.js';
import type { Exchange } from './exchange.js';
import { normalise, type Normalised } from './index.js';
import type { RawExchange } from './raw.js';
import { redactPii } from './redact.js';

/**
 * The one way captured bytes become the Exchange the detectors judge, for the worker and for the
 * proxy's inline mode alike, so both give one exchange the same verdict: normalise within the
 * detect limits, then mask PII when capture.redactPii is on. Throws CaptureError for bytes that
 * cannot be read (see normalise).
 */
export function readCaptured(raw: RawExchange, config: Pick<Config, 'detect' | 'capture'>): Normalised {
  const read = normalise(raw, { maxResponseChars: config.detect.maxResponseChars, maxContextChars: config.detect.maxContextChars });
  if (config.capture.redactPii) redactExchange(read.exchange);
  return read;
}

/** An answer with nothing to judge: no text, no refusal, no tool call (and not cut short). */
export function isEmptyAnswer(exchange: Exchange, aborted: boolean): boolean {
  const r = exchange.response;
  return r.text.trim() === '' && !r.refusal && !r.toolCalls?.length && !aborted;
}

/**
 * The proxy masks PII in the raw copy, but a streamed answer arrives in pieces (one per event), so
 * an e-mail address split across events survives that pass and would be whole again in the
 * verdict's claim texts. Masking the reassembled texts keeps it out of verdicts.
 */
function redactExchange(exchange: Exchange): void {
  const mask = (s: string) => redactPii(s).text;
  exchange.question = mask(exchange.question);
  for (const part of exchange.context) part.text = mask(part.text);
  const masked = mask(exchange.response.text);
  // Token logprobs are aligned with the text; once it changes they no longer are.
  if (masked !== exchange.response.text) exchange.response.logprobs = undefined;
  exchange.response.text = masked;
  if (exchange.response.refusal) exchange.response.refusal = mask(exchange.response.refusal);
}
