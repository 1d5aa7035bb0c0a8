/**
 * Logistic scorer over the claim features of grounding.ts (FEATURE_NAMES order).
 * Written by src/detect/train/train-grounding.ts (L2=0.001) from the HaluEval-QA and FaithBench dev
 * rows; do not edit by hand, re-run the script.
 */
export const GROUNDING_MODEL = {
  features: ["missing","novelMissingShare","novelMissingCount","properMissing","numberMissing","passageMissing","bigramMissing","negationFlip","antonymFlip","restatesQuestion","length","questionDistance","pairMissing","specificSwap"],
  weights: [-0.3428,1.487,0,0.1363,0,0.3911,2.9856,1.6272,0,0.2928,2.3416,-1.512,0.8892,0.3022],
  bias: -1.7003,
  /** Exchange score = sigmoid(a * max claim logit + c * ln(claim count) + b). */
  exchange: { a: 1.2967, b: 0.6, c: -1.15 },
  trainedOn: 'dev-v1',
};
