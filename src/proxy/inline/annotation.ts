import { FLAG_NAMES, type FlagName } from '../../config/schema.js';
import type { Verdict } from '../../detect/verdict.js';

/**
 * How a verdict is written into a response: headers on a held answer, a comment line (and
 * optionally an event) after a stream's last event, the summary a withheld answer's error
 * carries. These names and shapes are the inline contract (CONTRACTS.md, docs/inline.md).
 */

/** The flagged conditions of a verdict, in contract order. */
export function flaggedOf(verdict: Verdict): FlagName[] {
  return FLAG_NAMES.filter((name) => verdict[name].flagged);
}

export function consoleLink(base: string | undefined, id: string): string {
  return `${base ? base.replace(/\/+$/, '') : ''}/veracity/exchanges/${id}`;
}

/** Response headers of an answer judged inline. `attempts`: every attempt's id when the answer was retried. */
export function verdictHeaders(verdict: Verdict, id: string, consoleBase: string | undefined, attempts?: readonly string[]): Record<string, string> {
  const flagged = flaggedOf(verdict);
  const headers: Record<string, string> = {
    'x-veracity-hallucination': String(verdict.hallucination.score),
    'x-veracity-flagged': flagged.length > 0 ? flagged.join(',') : 'none',
    'x-veracity-console': consoleLink(consoleBase, id),
  };
  if (attempts && attempts.length > 1) headers['x-veracity-attempts'] = attempts.join(',');
  return headers;
}

/**
 * The SSE comment after a stream's last event: `: veracity {"hallucination": …, "flagged": […], "id": "…"}`.
 * Every SSE parser skips a line that starts with a colon.
 */
export function streamComment(verdict: Verdict, id: string): string {
  const flagged = flaggedOf(verdict).map((f) => `"${f}"`).join(', ');
  return `: veracity {"hallucination": ${verdict.hallucination.score}, "flagged": [${flagged}], "id": ${JSON.stringify(id)}}\n\n`;
}

/** The optional structured event (inline.sseEvent) for clients that parse it. */
export function streamEvent(verdict: Verdict, id: string, consoleBase: string | undefined): string {
  return `event: veracity\ndata: ${JSON.stringify(summary(verdict, id, consoleBase))}\n\n`;
}

/** The verdict in brief: what a withheld answer's error and the structured event carry. */
export function summary(verdict: Verdict, id: string, consoleBase: string | undefined, attempts?: readonly string[]) {
  return {
    id,
    hallucination: verdict.hallucination.score,
    flagged: flaggedOf(verdict),
    confidence_mismatch: verdict.confidence_mismatch.score,
    refusal: verdict.refusal.kind,
    console: consoleLink(consoleBase, id),
    ...(attempts && attempts.length > 1 ? { attempts } : {}),
  };
}

export function blockedMessage(verdict: Verdict, id: string, attempts: number): string {
  const flagged = flaggedOf(verdict);
  const tries = attempts > 1 ? ` after ${attempts} attempts` : '';
  return `Veracity withheld this answer${tries}: flagged ${flagged.join(', ')} (hallucination score ${verdict.hallucination.score}). Exchange ${id}.`;
}
