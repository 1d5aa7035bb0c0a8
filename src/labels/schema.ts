import { z } from 'zod';
import type { RefusalKind } from '../detect/verdict.js';

/**
 * What `POST /veracity/v1/labels` takes: one label or an array of up to 1,000. Unknown fields are
 * refused rather than ignored, so a misspelt `hallucinated` is an error, not a silently missing label.
 */

export const MAX_LABELS_PER_REQUEST = 1000;
const ID = /^[A-Za-z0-9_.:-]{1,128}$/;

export const LabelInputSchema = z.strictObject({
  id: z.string().regex(ID, 'exchange ids are 1-128 characters of letters, digits and _.:-'),
  hallucination: z.boolean(),
  refusal: z.enum(['none', 'partial', 'full']).optional(),
  claims: z
    .array(z.strictObject({ index: z.number().int().nonnegative(), hallucinated: z.boolean() }))
    .max(1000)
    .optional(),
  by: z.string().trim().min(1).max(100).optional(),
  selection: z.enum(['random', 'feedback']).default('random'),
});

export const LabelsBodySchema = z.union([LabelInputSchema, z.array(LabelInputSchema).min(1).max(MAX_LABELS_PER_REQUEST)]);

export type LabelInput = z.infer<typeof LabelInputSchema>;
export type Selection = LabelInput['selection'];

/**
 * Who labelled: people, or a judge model (`by: "judge:<model>"`). Kept apart in storage and in the
 * reports, so an estimate always says which it used.
 */
export type LabelSource = 'human' | 'judge';
export const sourceOf = (by: string): LabelSource => (by.startsWith('judge:') ? 'judge' : 'human');
export const ANONYMOUS = 'anonymous';

/**
 * What the estimators need from the verdict, copied into the label when it is stored: labels
 * outlive verdicts (they are the team's work), and an estimate must not lose them when a verdict expires.
 */
export interface VerdictSnapshot {
  provider: string;
  model: string;
  traffic: 'primary' | 'shadow';
  /** When the exchange was analysed (ISO 8601): windows select labels by it, as they select checks. */
  analysed_at: string;
  hallucination: { score: number; flagged: boolean; method?: string };
  /** Mean certainty of the answer's claims (0 hedged .. 1 assertive); null without claims. */
  certainty: number | null;
  /** Per claim, by index: its certainty and score. */
  claims: Array<{ certainty: number | null; score: number }>;
  refusal: { kind: RefusalKind; score: number; flagged: boolean };
}

/** A stored label: what was posted, who and when, and the verdict's snapshot. */
export interface StoredLabel {
  id: string;
  hallucination: boolean;
  refusal?: RefusalKind;
  claims?: Array<{ index: number; hallucinated: boolean }>;
  by: string;
  selection: Selection;
  /** When it was stored (ISO 8601). */
  labelled_at: string;
  verdict: VerdictSnapshot;
}

/** Readable zod issues: `[3].hallucination: expected boolean, received string`. */
export function describeIssues(error: z.ZodError, max = 20): string[] {
  return error.issues.slice(0, max).map((i) => {
    const path = i.path.map((p) => (typeof p === 'number' ? `[${p}]` : `.${String(p)}`)).join('').replace(/^\./, '');
    return `${path || '(body)'}: ${i.message}`;
  });
}
