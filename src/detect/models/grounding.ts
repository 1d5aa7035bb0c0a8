/**
 * Logistic scorer over the claim features of grounding.ts (FEATURE_NAMES order).
 * Written by src/detect/train/train-grounding.ts (L2=0.001) from the HaluEval-QA and FaithBench dev
 * rows; do not edit by hand, re-run the script.
 */
export const GROUNDING_MODEL = {
  features: ["missing","novelMissingShare","novelMissingCount","properMissing","numberMissing","passageMissing","bigramMissing","negationFlip","antonymFlip","restatesQuestion","length","questionDistance","pairMissing","specificSwap","metaReference"],
  weights: [0.1333,1.6315,0,0.0577,0,0.6422,2.8715,1.7197,0,0.2227,2.2494,-1.5113,0.5768,0.279,-0.3691],
  bias: -1.6761,
  /** Exchange score = sigmoid(a * top claim logit + a2 * second claim logit + c * ln(claim count) + b). */
  exchange: { a: 0.565, a2: 0.8878, b: 0.3, c: -0.5679 },
  trainedOn: 'dev-v1',
};
