/**
 * Logistic scorer over the claim features of grounding.ts (FEATURE_NAMES order).
 * Written by src/detect/train/train-grounding.ts (L2=0.001) from the HaluEval-QA and FaithBench dev
 * rows; do not edit by hand, re-run the script.
 */
export const GROUNDING_MODEL = {
  features: ["missing","novelMissingShare","novelMissingCount","properMissing","numberMissing","passageMissing","bigramMissing","negationFlip","antonymFlip","restatesQuestion","length","questionDistance","pairMissing","specificSwap","metaReference"],
  weights: [0.313,1.6118,0,0.4063,0,0.6572,2.7993,1.8149,0,0.2444,2.2617,-1.4097,0.4963,0.5354,-0.3538],
  bias: -1.6893,
  /** Exchange score = sigmoid(a * top claim logit + a2 * second claim logit + c * ln(claim count) + b). */
  exchange: { a: 0.4825, a2: 0.9723, b: 0.4, c: -0.5361 },
  trainedOn: 'dev-v1',
};
