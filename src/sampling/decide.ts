import { createHash } from 'node:crypto';
import type { Exchange } from '../capture/exchange.js';
import type { Verdict } from '../detect/verdict.js';

/**
 * Which exchanges are sampled. A stable hash of the exchange id decides, so a retried or
 * duplicated job makes the same choice, and a rerun over the same ids picks the same ones.
 * The optional judge decides with the same function.
 */

/** Stable per-exchange sampling: the same id is always in or out of the sample. */
export function inSample(id: string, rate: number): boolean {
  if (rate >= 1) return true;
  if (rate <= 0) return false;
  const h = createHash('sha1').update(id).digest();
  return h.readUInt32BE(0) / 0x1_0000_0000 < rate;
}

/** A per-model rate with a default: `rates[model]`, else `rates.default`, else `fallback`. */
export function rateFor(rates: Record<string, number>, model: string, fallback = 0): number {
  return rates[model] ?? rates.default ?? fallback;
}

/** Why an exchange picked for sampling was not sampled after all (`veracity_sampling_skipped_total{reason}`). */
export const SKIP_REASONS = ['refusal', 'no_text', 'aborted', 'status', 'truncated', 'over_budget', 'budget_error', 'no_credentials', 'not_plain', 'busy', 'in_progress'] as const;
export type SkipReason = (typeof SKIP_REASONS)[number];

/**
 * What an answer's own content says about sampling it: nothing to check in a refusal, an answer
 * that is only tool calls, a cut-off stream or an error answer.
 */
export function contentSkip(exchange: Exchange, verdict: Verdict): SkipReason | undefined {
  if (exchange.status !== undefined && (exchange.status < 200 || exchange.status >= 300)) return 'status';
  if (exchange.aborted) return 'aborted';
  if (verdict.refusal.kind !== 'none' || exchange.response.refusal) return 'refusal';
  if (exchange.response.text.trim() === '' || verdict.hallucination.claims.length === 0) return 'no_text';
  if (verdict.truncated?.response) return 'truncated';
  return undefined;
}
