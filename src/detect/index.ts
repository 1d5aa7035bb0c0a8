import type { Exchange } from '../capture/exchange.js';
import type { DetectConfig } from '../config/schema.js';
import { distributed, extractClaims, type Claim } from './claims.js';
import { certaintyOf, claimMismatch, logprobSpan } from './confidence.js';
import { buildContextIndex, claimFeatures, contextText, contradicts, featureVector, type ClaimFeatures, type ContextIndex } from './grounding.js';
import { tokenize, type Token } from './text.js';
import { GROUNDING_MODEL } from './models/grounding.js';
import { detectRefusal } from './refusal.js';
import { applyToolChecks } from './tools.js';
import { FailureReference, assignFailureModes } from './failure-mode.js';
import type { ClaimVerdict, Support, Verdict } from './verdict.js';

export { extractClaims } from './claims.js';
export { detectRefusal } from './refusal.js';
export { certaintyOf } from './confidence.js';

/**
 * Hallucination score of an exchange that carried no context. Nothing can be checked, so the
 * score is a prior, not evidence: moderate, nudged up by assertive wording and down by hedging,
 * and always below 0.5 so that the default threshold never flags an answer merely for being
 * unverifiable. Its claims are `unsupported` (never `supported`) with the same moderate score.
 */
const UNGROUNDED_BASE = 0.25;
const UNGROUNDED_SPAN = 0.2;


const sigmoid = (z: number): number => 1 / (1 + Math.exp(-z));
const clamp01 = (x: number): number => (Number.isFinite(x) ? Math.min(1, Math.max(0, x)) : 0);
const round = (x: number): number => Math.round(clamp01(x) * 1000) / 1000;

export function claimLogit(f: ClaimFeatures): number {
  const v = featureVector(f);
  let z = GROUNDING_MODEL.bias;
  for (let i = 0; i < v.length; i++) z += (GROUNDING_MODEL.weights[i] ?? 0) * v[i]!;
  return z;
}

/** One claim read against one body of text: its logit, score, support and best evidence. */
export interface ClaimReading {
  z: number;
  score: number;
  support: Support;
  evidence?: string;
  /** What a contradicted claim got wrong: a number moved to another's place, the participants of a predicate reversed, or its polarity. */
  flip?: 'number' | 'entity' | 'negation';
}

/**
 * The claim-support scoring of the context check, for one claim against one index. Sample-based
 * checks (detect/samples.ts) call it with each resampled answer as the index, so both checks
 * always score claims the same way.
 */
export function scoreClaim(c: Claim, index: ContextIndex, cfg: Pick<DetectConfig, 'claimThreshold'>, tokens?: readonly Token[]): ClaimReading {
  const f = scoredFeatures(c, index, tokens);
  const z = claimLogit(f);
  // Calibrated as a one-claim exchange, so a lone claim and its exchange agree.
  const e = GROUNDING_MODEL.exchange;
  let score = sigmoid((e.a + e.a2 + e.m) * z + e.b);
  const evidence = f.evidence || undefined;
  let support: Support;
  // A flipped polarity or antonym, a number moved to another number's place, or roles reversed:
  // the passage states the opposite of the claim, whatever the learned score says.
  if (contradicts(f)) {
    support = 'contradicted';
    score = Math.max(score, cfg.claimThreshold);
    const flip = f.negationFlip || f.antonymFlip ? 'negation' : f.numberSwap ? 'number' : 'entity';
    return { z, score, support, flip, ...(evidence ? { evidence } : {}) };
  }
  support = score >= cfg.claimThreshold ? 'unsupported' : 'supported';
  return { z, score, support, ...(evidence ? { evidence } : {}) };
}

/**
 * The features a claim is scored by. Said of two names (`distributed`), a claim holds only as far
 * as it holds of each: the features of its least supported statement, a contradicted one first.
 * The training script reads claims through this too.
 */
export function scoredFeatures(c: Claim, index: ContextIndex, tokens?: readonly Token[]): ClaimFeatures {
  let f = claimFeatures(c, index, tokens);
  const parts = distributed(c);
  if (parts.length === 0) return f;
  let z = claimLogit(f);
  for (const part of parts) {
    if (contradicts(f)) break;
    const p = claimFeatures(part, index);
    const pz = claimLogit(p);
    if (contradicts(p) || pz > z) {
      f = p;
      z = pz;
    }
  }
  return f;
}

function verdictShell(exchange: Exchange): Verdict {
  return {
    id: typeof exchange?.id === 'string' ? exchange.id : '',
    provider: exchange?.provider === 'anthropic' ? 'anthropic' : 'openai',
    model: typeof exchange?.model === 'string' ? exchange.model : '',
    grounded: false,
    hallucination: { flagged: false, score: 0, claims: [] },
    confidence_mismatch: { flagged: false, score: 0 },
    refusal: { flagged: false, kind: 'none', score: 0 },
  };
}

export function analyse(exchange: Exchange, cfg: DetectConfig): Verdict {
  const verdict = verdictShell(exchange);
  try {
    return analyseInner(exchange, cfg, verdict);
  } catch {
    // Detection must never fail a job: an exchange we cannot read gets an empty, unflagged verdict.
    verdict.provenance = ['heuristic', 'error'];
    return verdict;
  }
}

function analyseInner(exchange: Exchange, cfg: DetectConfig, verdict: Verdict): Verdict {
  const response = exchange.response ?? { text: '' };
  const fullText = typeof response.text === 'string' ? response.text : '';
  const text = fullText.length > cfg.maxResponseChars ? fullText.slice(0, cfg.maxResponseChars) : fullText;
  const question = typeof exchange.question === 'string' ? exchange.question.slice(0, 20_000) : '';
  const { text: ctx, grounded, truncated: contextCut } = contextText(exchange.context, cfg.maxContextChars);
  verdict.grounded = grounded;
  if (contextCut || text.length < fullText.length) {
    verdict.truncated = {};
    if (text.length < fullText.length) verdict.truncated.response = true;
    if (contextCut) verdict.truncated.context = true;
  }
  if (typeof exchange.app === 'string') verdict.app = exchange.app;
  if (typeof exchange.route === 'string') verdict.route = exchange.route;
  if (exchange.aborted === true) verdict.aborted = true;
  if (typeof exchange.status === 'number') verdict.status = exchange.status;

  const refusal = detectRefusal({ ...response, text });
  verdict.refusal = {
    kind: refusal.kind,
    score: round(refusal.score),
    flagged: refusal.kind !== 'none' && refusal.score >= cfg.refusalThreshold,
  };
  verdict.provenance = ['heuristic', `grounding:${GROUNDING_MODEL.trainedOn}`];

  // A full refusal states nothing about the world; there is nothing to hold against the context.
  const claims = refusal.kind === 'full' ? [] : extractClaims(text);
  const logprobs = Array.isArray(response.logprobs) ? response.logprobs : undefined;
  const out: ClaimVerdict[] = [];
  let maxLogit = -Infinity;
  let secondLogit = -Infinity;
  let sumLogit = 0;
  let mismatch = 0;

  const index = grounded ? buildContextIndex(ctx, question) : undefined;
  // Each claim is tokenised once, for grounding and failure modes alike.
  const claimTokens = index ? claims.map((c) => tokenize(c.text)) : undefined;
  const flips: Array<ClaimReading['flip']> = [];
  for (let i = 0; i < claims.length; i++) {
    const c = claims[i]!;
    const certainty = certaintyOf(c.text);
    const lp = logprobSpan(logprobs, fullText, c.start, c.end);
    let score: number;
    let support: Support;
    let evidence: string | undefined;
    if (index) {
      const read = scoreClaim(c, index, cfg, claimTokens![i]);
      const z = read.z;
      sumLogit += z;
      if (z > maxLogit) {
        secondLogit = maxLogit;
        maxLogit = z;
      } else if (z > secondLogit) secondLogit = z;
      ({ score, support, evidence } = read);
      flips[i] = read.flip;
    } else {
      score = UNGROUNDED_BASE + UNGROUNDED_SPAN * certainty;
      support = 'unsupported';
    }
    mismatch = Math.max(mismatch, claimMismatch(certainty, score, lp));
    const cv: ClaimVerdict = { text: c.text, start: c.start, end: c.end, support, score: round(score), certainty: round(certainty) };
    if (lp) cv.logprob = { mean: Math.round(lp.mean * 1000) / 1000, min: Math.round(lp.min * 1000) / 1000 };
    if (evidence) cv.evidence = evidence;
    out.push(cv);
  }

  let score = 0;
  if (index) {
    if (out.length > 0) {
      const { a, a2, b, c, m, l, n0 } = GROUNDING_MODEL.exchange;
      // One bad claim can be noise, a second rarely is. The highest of many faithful claims' logits
      // climbs with their number, so an answer longer than n0 claims takes an allowance off (l · ln(n / n0)) before the
      // calibration, fitted by likelihood so that the mean score over many exchanges estimates their
      // hallucination rate.
      const allowance = l * Math.log(Math.max(1, out.length / n0));
      score = sigmoid(a * (maxLogit - allowance) + a2 * ((secondLogit === -Infinity ? maxLogit : secondLogit) - allowance) + c * Math.log(out.length) + m * (sumLogit / out.length) + b);
    }
    // A contradicted claim is at least as bad as the threshold says.
    if (out.some((c) => c.support === 'contradicted')) score = Math.max(score, cfg.hallucinationThreshold);
  } else if (out.length > 0) {
    score = UNGROUNDED_BASE + (UNGROUNDED_SPAN * out.reduce((s, c) => s + (c.certainty ?? 0.7), 0)) / out.length;
  }
  assignFailureModes(out, index && FailureReference.fromIndex(index, ctx, question), claimTokens, flips);
  verdict.hallucination = { flagged: score >= cfg.hallucinationThreshold, score: round(score), method: index ? 'context' : 'none', claims: out };
  verdict.confidence_mismatch = { flagged: mismatch >= cfg.mismatchThreshold, score: round(mismatch) };
  applyToolChecks(verdict, exchange);
  return verdict;
}
