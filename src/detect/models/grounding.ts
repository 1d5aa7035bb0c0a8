/**
 * Logistic scorer over the claim features of grounding.ts (FEATURE_NAMES order).
 * Written by src/detect/train/train-grounding.ts (L2=0.001) from the HaluEval-QA and FaithBench dev
 * rows; do not edit by hand, re-run the script.
 */
export const GROUNDING_MODEL = {
  features: ["missing","novelMissingShare","novelMissingCount","properMissing","numberMissing","passageMissing","bigramMissing","negationFlip","antonymFlip","restatesQuestion","length","questionDistance","pairMissing","specificSwap","metaReference"],
  weights: [0.1691,1.6375,0,0.0534,0.035,0.6024,2.8492,1.7118,0,0.2813,2.2448,-1.5063,0.5822,0.2831,-0.37],
  bias: -1.664,
  /** Exchange score = sigmoid(a * top claim logit + a2 * second claim logit + c * ln(claim count) + b). */
  exchange: { a: 0.5935, a2: 0.8531, b: 0.3, c: -0.5642 },
  trainedOn: 'dev-v1',
};
