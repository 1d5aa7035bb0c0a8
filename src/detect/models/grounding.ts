/**
 * Logistic scorer over the claim features of grounding.ts (FEATURE_NAMES order).
 * Written by src/detect/train/train-grounding.ts (L2=0.001) from the HaluEval-QA and FaithBench dev
 * rows; do not edit by hand, re-run the script.
 */
export const GROUNDING_MODEL = {
  features: ["missing","novelMissingShare","novelMissingCount","properMissing","numberMissing","passageMissing","bigramMissing","negationFlip","antonymFlip","restatesQuestion","length","questionDistance","pairMissing","specificSwap"],
  weights: [0.1333,1.6185,0,0.0093,0,0.5888,2.8762,1.6346,0,0.269,2.2761,-1.5452,0.5525,0.3139],
  bias: -1.6494,
  /** Exchange score = sigmoid(a * top claim logit + a2 * second claim logit + c * ln(claim count) + b). */
  exchange: { a: 0.5391, a2: 0.8963, b: 0.3, c: -0.5502 },
  trainedOn: 'dev-v1',
};
