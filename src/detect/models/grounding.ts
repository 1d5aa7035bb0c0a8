/**
 * Logistic scorer over the claim features of grounding.ts (FEATURE_NAMES order).
 * Written by src/detect/train/train-grounding.ts; hand-set starting values until trained.
 */
export const GROUNDING_MODEL = {
  features: [
    'missing',
    'novelMissingShare',
    'novelMissingCount',
    'properMissing',
    'numberMissing',
    'passageMissing',
    'bigramMissing',
    'negationFlip',
    'antonymFlip',
    'restatesQuestion',
    'length',
  ],
  weights: [2.0, 2.5, 2.0, 1.5, 2.0, 1.0, 0.5, 1.5, 1.5, 0.5, 0],
  bias: -3.0,
  /** Exchange score = sigmoid(a * max claim logit + b). */
  exchange: { a: 1, b: 0 },
  trainedOn: 'hand-set',
};
