import { assignFailureModes } from './failure-mode.js';
import type { DetectConfig } from '../config/schema.js';
import { extractClaims, type Claim } from './claims.js';
import { claimMismatch } from './confidence.js';
import { buildContextIndex, type ContextIndex } from './grounding.js';
import { scoreClaim } from './index.js';
import { tokenize } from './text.js';
import type { ClaimVerdict, Support, Verdict } from './verdict.js';

/**
 * Checking an answer without a reference: the model (and shadow models) asked the same request
 * again, and each claim of the answer held against every new answer with the very scoring that
 * holds claims against context (scoreClaim), each sample playing the part of the context.
 * A fact the model knows comes back in most samples; an invented one drifts (SelfCheckGPT,
 * Manakul et al. 2023). Across the answers, how many meaning clusters they fall into is a
 * question-level disagreement figure in the spirit of semantic entropy (Farquhar et al. 2024).
 * Pure: the worker and `eval` run this same code.
 */

export interface SampleDisagreement {
  /** Answers compared: the original and every usable sample. */
  answers: number;
  /** Meaning clusters the answers fall into (answers that support each other share one). */
  clusters: number;
  /** Entropy of the cluster sizes over log(answers): 0 all agree, 1 every answer stands alone. */
  entropy: number;
}

export interface ClaimAgreement {
  supporting: number;
  samples: number;
  /** Mean over samples of the claim's unsupported score against each. */
  score: number;
  support: Support;
  evidence?: string;
}

export interface SampleCheck {
  claims: ClaimAgreement[];
  disagreement: SampleDisagreement;
  /** Exchange score from the samples: the least supported claim's score. */
  score: number;
}

type ClaimCfg = Pick<DetectConfig, 'claimThreshold'>;

const round = (x: number): number => Math.round(Math.min(1, Math.max(0, Number.isFinite(x) ? x : 0)) * 1000) / 1000;

/** Samples that can say anything: empty answers (a tool call, a cut-off) carry no evidence. */
export function usableSamples(samples: readonly unknown[]): string[] {
  return samples.filter((s): s is string => typeof s === 'string' && s.trim() !== '');
}

/**
 * Each claim against each sample, and against all samples at once. The per-sample reading counts
 * how many samples support the claim (consistency); the pooled one, like SelfCheckGPT's n-gram
 * variant, lets a fact stated in other words across several samples count as support, which a
 * lexical scorer would otherwise miss in any single one. The claim's score is their mean.
 */
export function claimsAgainstSamples(claims: readonly Claim[], question: string, samples: readonly string[], cfg: ClaimCfg, indexes?: readonly ContextIndex[]): ClaimAgreement[] {
  if (samples.length === 0) return claims.map(() => ({ supporting: 0, samples: 0, score: 0, support: 'supported' as Support }));
  const idx = indexes ?? samples.map((s) => buildContextIndex(s, question));
  const pooled = buildContextIndex(samples.join('\n\n'), question);
  return claims.map((c) => {
    const tokens = tokenize(c.text);
    let supporting = 0;
    let contradicting = 0;
    let sum = 0;
    let evidence: string | undefined;
    let bestScore = Infinity;
    for (const index of idx) {
      const read = scoreClaim(c, index, cfg, tokens);
      sum += read.score;
      if (read.support === 'supported') supporting++;
      if (read.support === 'contradicted') contradicting++;
      if (read.score < bestScore) {
        bestScore = read.score;
        evidence = read.evidence;
      }
    }
    const n = idx.length;
    const score = (sum / n + scoreClaim(c, pooled, cfg, tokens).score) / 2;
    const support: Support = contradicting * 2 > n ? 'contradicted' : score >= cfg.claimThreshold ? 'unsupported' : 'supported';
    return { supporting, samples: n, score: round(support === 'contradicted' ? Math.max(score, cfg.claimThreshold) : score), support, ...(evidence ? { evidence } : {}) };
  });
}

/** Claims of an answer compared when clustering: enough to tell meanings apart, bounded in cost. */
const CLUSTER_CLAIMS = 12;

/** Share of `claims` that `index` supports (1 for an answer with no claims: it says nothing against). */
function supportShare(claims: readonly Claim[], index: ContextIndex, cfg: ClaimCfg): number {
  if (claims.length === 0) return 1;
  let ok = 0;
  for (const c of claims) if (scoreClaim(c, index, cfg).support === 'supported') ok++;
  return ok / claims.length;
}

/** Up to `CLUSTER_CLAIMS` claims spread evenly over the answer. */
function spread(claims: Claim[]): Claim[] {
  if (claims.length <= CLUSTER_CLAIMS) return claims;
  return Array.from({ length: CLUSTER_CLAIMS }, (_, i) => claims[Math.floor((i * claims.length) / CLUSTER_CLAIMS)]!);
}

/**
 * Clusters answers by mutual support (each supports most of the other's claims: the lexical
 * stand-in for bidirectional entailment), greedily against each cluster's first answer.
 */
export function disagreement(answers: readonly string[], question: string, cfg: ClaimCfg, built?: readonly ContextIndex[]): SampleDisagreement {
  const claims = answers.map((a) => spread(extractClaims(a)));
  const indexes = built ?? answers.map((a) => buildContextIndex(a, question));
  const clusters: number[][] = [];
  for (let i = 0; i < answers.length; i++) {
    const home = clusters.find(([j]) => supportShare(claims[i]!, indexes[j!]!, cfg) >= 0.5 && supportShare(claims[j!]!, indexes[i]!, cfg) >= 0.5);
    if (home) home.push(i);
    else clusters.push([i]);
  }
  const n = answers.length;
  let h = 0;
  for (const c of clusters) {
    const p = c.length / n;
    h -= p * Math.log(p);
  }
  return { answers: n, clusters: clusters.length, entropy: n > 1 ? round(h / Math.log(n)) : 0 };
}

/** The whole sample check of an answer: per-claim agreement and the question-level disagreement. */
export function checkAgainstSamples(answer: string, question: string, samples: readonly string[], cfg: ClaimCfg, claims: readonly Claim[] = extractClaims(answer)): SampleCheck {
  const usable = usableSamples(samples);
  const indexes = [answer, ...usable].map((a) => buildContextIndex(a, question));
  const per = claimsAgainstSamples(claims, question, usable, cfg, indexes.slice(1));
  return {
    claims: per,
    disagreement: disagreement([answer, ...usable], question, cfg, indexes),
    score: round(per.reduce((m, c) => Math.max(m, c.score), 0)),
  };
}

/**
 * Folds a sample check into a verdict. An exchange without context is now checked against the
 * samples (`method: "samples"`); one with context keeps `method: "context"` and each claim takes
 * the worse of its two readings. Confidence mismatch is read again on the new claim scores.
 * No usable samples, or no claims: the verdict is left as it was.
 */
export function applySamples(verdict: Verdict, text: { question: string; answer: string }, samples: readonly string[], cfg: Pick<DetectConfig, 'claimThreshold' | 'hallucinationThreshold' | 'mismatchThreshold'>): boolean {
  const usable = usableSamples(samples);
  const claims = verdict.hallucination.claims;
  if (usable.length === 0 || verdict.refusal.kind === 'full') return false;
  const asClaims: Claim[] = claims.map((c, i) => ({ text: c.text, start: c.start, end: c.end, sentence: i }));
  const check = checkAgainstSamples(text.answer, text.question, usable, cfg, asClaims);
  const withContext = verdict.hallucination.method === 'context';
  let mismatch = 0;
  claims.forEach((c: ClaimVerdict, i) => {
    const a = check.claims[i]!;
    c.agreement = { supporting: a.supporting, samples: a.samples };
    if (!withContext) {
      c.score = a.score;
      c.support = a.support;
      if (a.evidence) c.evidence = a.evidence;
      else delete c.evidence;
    } else if (a.score > c.score) {
      c.score = a.score;
      if (c.support === 'supported' && a.support !== 'supported') c.support = a.support;
    }
    mismatch = Math.max(mismatch, claimMismatch(c.certainty ?? 0.7, c.score, c.logprob));
  });
  // Claims the samples do not bear out fail in a way the samples can tell (a different number, a
  // different name); with context, the context's reading stays, and a claim only the samples
  // doubt has nothing more specific to say.
  if (!withContext) assignFailureModes(claims, { text: usable.join('\n\n') });
  else for (const c of claims) if (c.support !== 'supported' && !c.failure_mode) c.failure_mode = 'unsupported';
  const h = verdict.hallucination;
  h.score = withContext ? Math.max(h.score, check.score) : check.score;
  h.flagged = h.score >= cfg.hallucinationThreshold;
  if (!withContext) h.method = 'samples';
  h.disagreement = check.disagreement;
  verdict.confidence_mismatch = { flagged: mismatch >= cfg.mismatchThreshold, score: round(mismatch) };
  verdict.provenance = [...(verdict.provenance ?? []), `samples:${usable.length}`];
  return true;
}
