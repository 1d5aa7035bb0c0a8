/**
 * Logistic scorer over the claim features of grounding.ts (FEATURE_NAMES order).
 * Written by src/detect/train/train-grounding.ts (L2=0.001) from the HaluEval-QA and FaithBench dev
 * rows; do not edit by hand, re-run the script.
 */
export const GROUNDING_MODEL = {
  features: ["missing","novelMissingShare","novelMissingCount","properMissing","numberMissing","passageMissing","bigramMissing","negationFlip","antonymFlip","restatesQuestion","length","questionDistance"],
  weights: [-0.0315,1.8069,-1.1823,0.4742,-0.3134,0.6273,3.7775,0.9035,-0.1703,0.3602,2.8807,-1.3332],
  bias: -1.9101,
  /** Exchange score = sigmoid(a * max claim logit + c * ln(claim count) + b). */
  exchange: { a: 1.4425, b: 0.1269, c: -0.9613 },
  trainedOn: 'dev-v1',
};
