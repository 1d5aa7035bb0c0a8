import type { Exchange } from '../capture/exchange.js';
import type { DetectConfig } from '../config/schema.js';
import { analyse } from '../detect/index.js';
import { applySamples } from '../detect/samples.js';
import type { Verdict } from '../detect/verdict.js';
import { shadowExchangeId, type SampleSet, type ShadowAnswer } from './sampler.js';

/**
 * The pure half of sampling: what the collected answers do to the verdicts. The original answer
 * is checked against every other answer (its own resamples and the shadow models'); each shadow
 * answer becomes an exchange of its own (same conversation, the shadow model's answer), run
 * through the same detectors and checked against all the other answers, the original included.
 */

export interface ShadowExchange {
  exchange: Exchange;
  verdict: Verdict;
}

export function shadowExchange(original: Exchange, answer: ShadowAnswer): Exchange {
  return {
    id: shadowExchangeId(original.id, answer.key),
    provider: answer.dialect,
    route: answer.route,
    model: answer.model,
    ...(original.app !== undefined ? { app: original.app } : {}),
    context: original.context,
    question: original.question,
    response: { text: answer.text, ...(answer.usage ? { usage: answer.usage } : {}), model: answer.model },
    stream: false,
    status: 200,
    aborted: false,
    ...(original.startedAt !== undefined ? { startedAt: original.startedAt } : {}),
    ...(original.endedAt !== undefined ? { endedAt: original.endedAt } : {}),
  };
}

/**
 * Applies a sample set: updates the original verdict in place and returns the shadow exchanges'
 * verdicts. Like the detectors, it never fails a job: on an answer it cannot read, the original
 * verdict says so in its provenance and no shadow verdict is made.
 */
export function applySampleSet(original: Exchange, verdict: Verdict, set: SampleSet, cfg: DetectConfig): ShadowExchange[] {
  try {
    return applyUnguarded(original, verdict, set, cfg);
  } catch {
    verdict.provenance = [...(verdict.provenance ?? []), 'samples:error'];
    return [];
  }
}

function applyUnguarded(original: Exchange, verdict: Verdict, set: SampleSet, cfg: DetectConfig): ShadowExchange[] {
  const shadowTexts = set.shadows.map((s) => s.text);
  applySamples(verdict, { question: original.question, answer: original.response.text }, [...set.samples, ...shadowTexts], cfg);
  return set.shadows.map((answer, i) => {
    const exchange = shadowExchange(original, answer);
    const v = analyse(exchange, cfg);
    const others = [original.response.text, ...set.samples, ...shadowTexts.filter((_, j) => j !== i)];
    applySamples(v, { question: exchange.question, answer: answer.text }, others, cfg);
    v.shadow_of = original.id;
    return { exchange, verdict: v };
  });
}
