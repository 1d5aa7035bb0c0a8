import type { Exchange } from '../capture/exchange.js';
import type { Config } from '../config/schema.js';
import type { Verdict } from '../detect/verdict.js';
import type { StoredLabel } from '../labels/schema.js';
import { snapshotOf, type LabelStore } from '../labels/store.js';
import type { BoundedLabel } from '../metrics/labels.js';
import type { Metrics } from '../metrics/registry.js';
import { inSample } from '../sampling/decide.js';
import { jsonObjectIn, parseJudgeAnswer, type Judge } from './judge.js';

/**
 * The judge as labeller (`labels.judge`): a share of analysed exchanges, chosen uniformly at
 * random by a stable hash of the id, is labelled by the judge model and stored as a random label
 * `by: "judge:<model>"`. Reports keep those apart from people's labels (report/verified.ts).
 *
 * The choice is independent of the judge's own verification sample (`judge.sampleRates`): both
 * hash the id, so the labeller salts it. Were they the same exchanges, every judge-labelled one
 * would carry a judge-merged score while most checks do not, and the estimate would be biased.
 *
 * Each call draws on the judge's token budget, the one its verification calls use (Redis-held,
 * shared by every worker); a spent budget means no label for that exchange, nothing else.
 */

export const LABEL_RESULTS = ['stored', 'exists', 'over_budget', 'error', 'unparseable'] as const;
export type LabelResult = (typeof LABEL_RESULTS)[number] | 'not_picked';

/** Answer characters sent to the judge: an answer is judged whole, up to this. */
const MAX_ANSWER_CHARS = 12_000;

const GROUNDED = [
  'You label an assistant\'s answer for hallucination against the context it was given.',
  'The answer hallucinates if any statement in it is not supported by the context or contradicts it.',
  'Declining to answer, or saying the context does not tell, is not a hallucination.',
  'Also mark each numbered claim "supported", "unsupported" or "contradicted" against the context.',
  'Reply with JSON only: {"hallucination": true, "claims":[{"i":1,"support":"supported"}, ...]}.',
].join(' ');

const KNOWLEDGE = [
  'You label an assistant\'s answer for hallucination, from your own knowledge (it was given no context).',
  'The answer hallucinates if any statement in it is false, or is presented as fact but cannot be verified.',
  'Declining to answer is not a hallucination.',
  'Also mark each numbered claim "supported" (true), "unsupported" (cannot tell) or "contradicted" (false).',
  'Reply with JSON only: {"hallucination": true, "claims":[{"i":1,"support":"supported"}, ...]}.',
].join(' ');

export interface JudgeLabel {
  hallucination: boolean;
  claims: Array<{ index: number; hallucinated: boolean }>;
}

/**
 * The judge's label out of its answer: `hallucination` as it said, or, when it left that out but
 * read every claim listed, whether any claim is not supported. Undefined when neither.
 */
export function parseLabelAnswer(text: string, claimIndexes: number[]): JudgeLabel | undefined {
  const doc = jsonObjectIn(text);
  if (doc === undefined) return undefined;
  const judged = claimIndexes.length > 0 ? (parseJudgeAnswer(text, claimIndexes.length) ?? []) : [];
  const claims = judged.map((j) => ({ index: claimIndexes[j.index]!, hallucinated: j.support !== 'supported' }));
  const said = (doc as { hallucination?: unknown }).hallucination;
  if (typeof said === 'boolean') return { hallucination: said, claims };
  const read = new Set(judged.map((j) => j.index));
  if (claimIndexes.length > 0 && read.size === claimIndexes.length) return { hallucination: claims.some((c) => c.hallucinated), claims };
  return undefined;
}

export class JudgeLabeller {
  readonly by: string;

  constructor(
    private readonly judge: Judge,
    private readonly store: LabelStore,
    /** Share of analysed exchanges labelled, 0..1. */
    private readonly share: number,
    private readonly metrics?: Metrics,
    private readonly models?: BoundedLabel,
  ) {
    this.by = `judge:${judge.model}`;
  }

  /** Only with the judge configured and `labels.judge.enabled`. */
  static fromConfig(config: Config, judge: Judge | undefined, store: LabelStore, metrics?: Metrics, models?: BoundedLabel): JudgeLabeller | undefined {
    if (!judge || !config.labels.judge.enabled) return undefined;
    return new JudgeLabeller(judge, store, config.labels.judge.share, metrics, models);
  }

  /** Whether the exchange is in the judge's labelled sample: a stable hash of its id, salted apart from the judge's verification sample. */
  picks(id: string): boolean {
    return inSample(`label:${id}`, this.share);
  }

  private count(result: LabelResult): LabelResult {
    if (result !== 'not_picked') this.metrics?.judgeLabels.inc({ result });
    return result;
  }

  /**
   * Labels a stored primary verdict if it is in the sample and has no label by the judge yet.
   * Never throws: every way it can fail leaves the verdict and the job as they were.
   */
  async label(exchange: Exchange, verdict: Verdict, now = new Date()): Promise<LabelResult> {
    if (verdict.shadow_of !== undefined || verdict.skipped !== undefined || !this.picks(verdict.id)) return 'not_picked';
    try {
      if ((await this.store.existing([{ source: 'judge', id: verdict.id }]))[0]) return this.count('exists');
    } catch {
      return this.count('error');
    }
    const { system, user, claimIndexes } = this.prompt(exchange, verdict);
    const asked = await this.judge.ask(system, user);
    if ('failed' in asked) return this.count(asked.failed);
    const parsed = parseLabelAnswer(asked.text, claimIndexes);
    if (!parsed) return this.count('unparseable');
    const label: StoredLabel = {
      id: verdict.id,
      hallucination: parsed.hallucination,
      ...(parsed.claims.length > 0 ? { claims: parsed.claims } : {}),
      by: this.by,
      selection: 'random',
      labelled_at: now.toISOString(),
      verdict: snapshotOf(verdict),
    };
    try {
      await this.store.putAll([label]);
    } catch {
      return this.count('error');
    }
    this.metrics?.labels.inc({ provider: verdict.provider, model: this.models?.value(verdict.model) ?? verdict.model, by: this.by, selection: 'random' });
    return this.count('stored');
  }

  /** The whole answer and its claims in order (as many as the judge reads), against the context or, without one, the judge's knowledge. */
  private prompt(exchange: Exchange, verdict: Verdict): { system: string; user: string; claimIndexes: number[] } {
    const { maxClaims, maxContextChars } = this.judge.limits;
    const claims = verdict.hallucination.claims.slice(0, maxClaims);
    const claimIndexes = claims.map((_, i) => i);
    const tools = (exchange.response.toolCalls ?? []).map((c) => `${c.name}(${c.arguments})`).join('\n');
    const answer = [exchange.response.text.slice(0, MAX_ANSWER_CHARS), tools ? `Tool calls:\n${tools}` : ''].filter((s) => s !== '').join('\n\n') || '(no text)';
    const parts = verdict.grounded
      ? [`Context:\n"""\n${exchange.context.map((p) => p.text).join('\n\n').slice(0, maxContextChars)}\n"""`]
      : [`Question:\n"""\n${exchange.question.slice(0, maxContextChars)}\n"""`];
    parts.push(`Answer:\n"""\n${answer}\n"""`);
    if (claims.length > 0) parts.push(`Claims:\n${claims.map((c, n) => `${n + 1}. ${c.text}`).join('\n')}`);
    return { system: verdict.grounded ? GROUNDED : KNOWLEDGE, user: parts.join('\n\n'), claimIndexes };
  }
}
