import type { Verdict } from '../../src/detect/verdict.js';
import type { RedisConnection } from '../../src/redis/connection.js';
import { LabelsApi } from '../../src/labels/api.js';
import { LabelStore } from '../../src/labels/store.js';
import { AggregateKeys } from '../../src/verdicts/aggregates.js';
import { VerdictStore } from '../../src/verdicts/store.js';

/**
 * A seeded population of verdicts whose truth is known: per model, each exchange is hallucinated
 * with the model's true probability, and the detector's score is informative but biased (it reads
 * 0.25 + 0.5·truth + noise: its mean overstates a rate of 0.3). Stored as the worker stores
 * verdicts (with their aggregates), then a uniformly random sample is labelled with the truth
 * through the labels API's logic, and a few flagged ones are labelled as feedback.
 */

/** mulberry32. */
export function prng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let x = a;
    x = Math.imul(x ^ (x >>> 15), x | 1);
    x ^= x + Math.imul(x ^ (x >>> 7), x | 61);
    return ((x ^ (x >>> 14)) >>> 0) / 4294967296;
  };
}

export interface SeededModel {
  provider: 'openai' | 'anthropic';
  model: string;
  checks: number;
  trueRate: number;
  randomLabels: number;
  feedbackLabels: number;
}

export interface Seeded {
  /** Per model: every exchange's id, truth and score, and which were labelled how. */
  models: Array<
    SeededModel & {
      ids: string[];
      truth: boolean[];
      scores: number[];
      certainty: number[];
      random: number[];
      feedback: number[];
      /** The population's own hallucinated share (what a verified rate estimates). */
      share: number;
    }
  >;
}

const round3 = (x: number) => Math.round(Math.min(1, Math.max(0, x)) * 1000) / 1000;

export async function seedLabelled(redis: RedisConnection, prefix: string, specs: SeededModel[], options: { seed?: number; nowMs?: number } = {}): Promise<Seeded> {
  const rand = prng(options.seed ?? 7);
  const gauss = () => Math.sqrt(-2 * Math.log(1 - rand())) * Math.cos(2 * Math.PI * rand());
  const now = options.nowMs ?? Date.now();
  const store = new VerdictStore(redis, prefix, 7 * 86400);
  const keys = new AggregateKeys({ prefix, ttlSeconds: 7 * 86400, fineRetentionSeconds: 48 * 3600, flaggedPerModel: 200 });
  const api = new LabelsApi({ labels: new LabelStore(redis, prefix), verdicts: store });
  const out: Seeded = { models: [] };
  for (const spec of specs) {
    const m = { ...spec, ids: [] as string[], truth: [] as boolean[], scores: [] as number[], certainty: [] as number[], random: [] as number[], feedback: [] as number[], share: 0 };
    for (let i = 0; i < spec.checks; i++) {
      const id = `${spec.model}-${i}`;
      const truth = rand() < spec.trueRate;
      const score = round3(0.25 + 0.5 * (truth ? 1 : 0) + 0.15 * gauss());
      // Sure-sounding wording goes with being wrong for this model: it is overconfident.
      const certainty = round3(truth ? 0.55 + 0.45 * rand() : 0.2 + 0.8 * rand());
      const at = now - 1000 - i * 1000;
      const v: Verdict = {
        id,
        provider: spec.provider,
        model: spec.model,
        grounded: true,
        hallucination: {
          flagged: score >= 0.5,
          score,
          method: 'context',
          claims: [{ text: `Claim ${i}.`, start: 0, end: 9, support: score >= 0.5 ? 'unsupported' : 'supported', score, certainty, ...(score >= 0.5 ? { failure_mode: 'unsupported' as const } : {}) }],
        },
        confidence_mismatch: { flagged: false, score: 0.1 },
        refusal: { flagged: false, kind: 'none', score: 0.02 },
        analysed_at: new Date(at).toISOString(),
      };
      await store.putIfAbsent(v, keys.writesFor(v, spec.model, at));
      m.ids.push(id);
      m.truth.push(truth);
      m.scores.push(score);
      m.certainty.push(certainty);
    }
    m.share = m.truth.filter(Boolean).length / spec.checks;
    // A uniformly random sample without replacement (partial Fisher-Yates).
    const order = m.ids.map((_, i) => i);
    for (let k = 0; k < spec.randomLabels; k++) {
      const j = k + Math.floor(rand() * (order.length - k));
      [order[k], order[j]] = [order[j]!, order[k]!];
    }
    m.random = order.slice(0, spec.randomLabels);
    const chosen = new Set(m.random);
    // Feedback: flagged exchanges someone complained about, all truly hallucinated, none in the random sample.
    m.feedback = m.ids.map((_, i) => i).filter((i) => !chosen.has(i) && m.truth[i] && m.scores[i]! >= 0.5).slice(0, spec.feedbackLabels);
    const body = [
      ...m.random.map((i) => ({ id: m.ids[i]!, hallucination: m.truth[i]!, refusal: 'none', by: 'reviewer', claims: [{ index: 0, hallucinated: m.truth[i]! }] })),
      ...m.feedback.map((i) => ({ id: m.ids[i]!, hallucination: true, by: 'support-desk', selection: 'feedback' })),
    ];
    const answer = await api.post(body);
    if (answer.status !== 200) throw new Error(`seeding labels failed: ${JSON.stringify(answer.body)}`);
    out.models.push(m);
  }
  return out;
}
