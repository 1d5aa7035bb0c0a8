import type { RawExchange } from '../capture/raw.js';
import type { Exchange } from '../capture/exchange.js';
import { normalise } from '../capture/index.js';
import type { Verdict } from '../detect/verdict.js';
import type { Config } from '../config/schema.js';
import type { BoundedLabel } from '../metrics/labels.js';
import type { AggregateKeys } from '../verdicts/aggregates.js';
import { withoutText, type VerdictStore } from '../verdicts/store.js';

/**
 * Why the worker handled an exchange without analysing it:
 * - `upstream_error`: the upstream answered with a non-2xx status (the verdict's `status` says which),
 *   or never answered and the proxy sent the client a 502 or 504 itself (`error` says why);
 * - `empty_response`: a 2xx answer with no text, no refusal and no tool call;
 * - `unparseable`: the captured request or answer could not be read (also counted as a
 *   `parse_error` drop).
 */
export type SkipReason = 'upstream_error' | 'empty_response' | 'unparseable';

/**
 * The verdict of an exchange that was handled but not analysed, so that a look-up by id can tell
 * "never will be" from "not yet". Its sections are present and unflagged, so readers of verdicts
 * need no special case; `skipped` says they are not a judgement.
 */
export function skippedVerdict(raw: RawExchange, reason: SkipReason, model: string, now = Date.now()): Verdict {
  const verdict: Verdict = {
    id: raw.id,
    provider: raw.provider,
    model,
    grounded: false,
    hallucination: { flagged: false, score: 0, method: 'none', claims: [] },
    confidence_mismatch: { flagged: false, score: 0 },
    refusal: { flagged: false, kind: 'none', score: 0 },
    skipped: reason,
    route: raw.route,
    status: raw.status,
    analysed_at: new Date(now).toISOString(),
    detection_lag_ms: Math.max(0, now - raw.endedAt),
  };
  if (raw.app) verdict.app = raw.app;
  if (raw.aborted) verdict.aborted = true;
  else if (raw.error) verdict.error = raw.error;
  return verdict;
}

/**
 * Stores a skipped verdict, set-if-absent like every verdict: `skipped` when this call stored
 * it, `duplicate` when a retried job already had. Skipped exchanges are not checks: no
 * per-model metric moves, and the aggregates count them apart.
 */
export async function storeSkipped(
  raw: RawExchange,
  reason: SkipReason,
  deps: { config: Config; store: VerdictStore; models: BoundedLabel; aggregates?: AggregateKeys },
  exchange?: Exchange,
): Promise<'skipped' | 'duplicate'> {
  const verdict = skippedVerdict(raw, reason, exchange?.model ?? requestedModel(raw));
  const kept = deps.config.capture.storeText ? verdict : withoutText(verdict);
  const writes = deps.aggregates?.writesFor(kept, deps.models.value(verdict.model), Date.parse(verdict.analysed_at!));
  const stored = await deps.store.putIfAbsent(kept, writes);
  return stored ? 'skipped' : 'duplicate';
}

/** The model an error answer was for, when its request can be read. */
function requestedModel(raw: RawExchange): string {
  try {
    return normalise(raw).exchange.model;
  } catch {
    return 'unknown';
  }
}
