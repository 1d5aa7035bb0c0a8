import type { TokenLogprob } from '../capture/exchange.js';

/**
 * How sure a claim sounds, from its wording (boosters raise it, hedges and disclaimers lower it),
 * and how sure the model was, from token log-probabilities when the upstream returned them.
 * A confidence mismatch is an assertive claim that the evidence does not back.
 */

const BOOSTERS =
  /\b(?:definitely|certainly|clearly|undoubtedly|undeniably|obviously|always|never|absolutely|without (?:a )?doubt|in fact|indeed|of course|surely|proven|guaranteed|exactly|precisely|everyone knows|it is (?:a )?(?:well[- ]known )?fact|no doubt|confirmed|must be|will (?:definitely|certainly))\b/gi;

const HEDGES =
  /\b(?:(?<!\d )may(?! \d)|might|could|possibly|perhaps|probably|likely|unlikely|apparently|seemingly|seems?|appears?|suggests?|(?:roughly|approximately|around|about|some) (?=[\d$£€])|estimated|reportedly|allegedly|arguably|somewhat|typically|generally|usually|often|sometimes|i think|i believe|i guess|i suppose|if i recall|as far as i know|not sure|uncertain|unclear|it is possible|potentially|presumably|supposedly)\b/gi;

const DISCLAIMERS =
  /\b(?:i(?:'m| am) not (?:sure|certain)|i (?:don't|do not) know|i (?:can't|cannot) (?:verify|confirm)|(?:to )?the best of my knowledge|as of my (?:last|knowledge)|my (?:knowledge|training) (?:cutoff|data)|(?:may|might) be (?:outdated|inaccurate|incorrect)|please (?:verify|double[- ]check|consult)|not (?:mentioned|specified|stated|provided) in the (?:context|passage|text|document)|(?:the )?(?:context|passage|text|document) does not (?:mention|say|specify|state|provide))\b/gi;

/** Matches of a global pattern that never matches empty text, counted without listing them. */
function count(re: RegExp, text: string): number {
  re.lastIndex = 0;
  let n = 0;
  while (re.exec(text) !== null) n++;
  return n;
}

/** 0 (hedged) .. 1 (assertive). A plain declarative sentence sits at 0.7. */
export function certaintyOf(text: string): number {
  const boosters = count(BOOSTERS, text);
  const hedges = count(HEDGES, text);
  const disclaimers = count(DISCLAIMERS, text);
  const raw = 0.7 + 0.12 * Math.min(boosters, 2) - 0.18 * Math.min(hedges, 3) - 0.35 * Math.min(disclaimers, 2);
  return Math.min(1, Math.max(0, raw));
}

/**
 * Mean and minimum log-probability of the tokens that fall inside [start, end) of `text`.
 * Tokens are laid end to end over the text; a stream whose tokens do not spell the text is
 * aligned only as far as it agrees.
 */
export function logprobSpan(
  logprobs: TokenLogprob[] | undefined,
  text: string,
  start: number,
  end: number,
): { mean: number; min: number } | undefined {
  if (!logprobs || logprobs.length === 0) return undefined;
  let pos = 0;
  let sum = 0;
  let n = 0;
  let min = 0;
  for (const t of logprobs) {
    const tok = typeof t?.token === 'string' ? t.token : '';
    const lp = typeof t?.logprob === 'number' && Number.isFinite(t.logprob) ? Math.min(0, t.logprob) : undefined;
    const tStart = pos;
    const tEnd = pos + tok.length;
    pos = tEnd;
    if (tEnd <= start) continue;
    if (tStart >= end) break;
    if (lp === undefined) continue;
    sum += lp;
    n++;
    if (lp < min) min = lp;
  }
  if (n === 0) return undefined;
  return { mean: sum / n, min };
}

/** Probability-scale doubt from token log-probabilities: 0 when every token was near-certain. */
export function tokenDoubt(lp: { mean: number; min: number }): number {
  const meanDoubt = 1 - Math.exp(lp.mean);
  const minDoubt = 1 - Math.exp(lp.min);
  return Math.min(1, Math.max(0, 0.7 * meanDoubt + 0.3 * minDoubt));
}

/**
 * Mismatch of one claim: assertive wording over weak support, or over tokens the model itself
 * was unsure of. `risk` is the claim's unsupported score (0..1).
 */
export function claimMismatch(certainty: number, risk: number, lp?: { mean: number; min: number }): number {
  let doubt = risk;
  if (lp) doubt = Math.max(risk * 0.6 + tokenDoubt(lp) * 0.4, tokenDoubt(lp) * 0.8);
  // A hedged claim that turns out unsupported is honest; only confident wording makes a mismatch.
  const assertive = Math.max(0, (certainty - 0.4) / 0.6);
  return Math.min(1, Math.max(0, assertive * doubt));
}

export type CertaintyCueKind = 'booster' | 'hedge' | 'disclaimer';

/** The words behind `certaintyOf`, with their offsets in `text`, for explanation. */
export function certaintyCues(text: string): Array<{ kind: CertaintyCueKind; start: number; end: number; text: string }> {
  const out: Array<{ kind: CertaintyCueKind; start: number; end: number; text: string }> = [];
  for (const [kind, re] of [['booster', BOOSTERS], ['hedge', HEDGES], ['disclaimer', DISCLAIMERS]] as const) {
    for (const m of text.matchAll(re)) out.push({ kind, start: m.index, end: m.index + m[0].length, text: m[0] });
  }
  return out.sort((a, b) => a.start - b.start || b.end - a.end);
}
