/**
 * Logistic scorer over the claim features of grounding.ts (FEATURE_NAMES order).
 * Written by src/tooling/train/train-grounding.ts (L2=0.001) from the halueval-qa, faithbench, qags-cnndm dev rows;
 * do not edit by hand, re-run the script.
 */
export const GROUNDING_MODEL = {
  features: ["missing","novelMissingShare","novelMissingCount","properMissing","numberMissing","passageMissing","bigramMissing","negationFlip","antonymFlip","restatesQuestion","length","questionDistance","pairMissing","specificSwap","metaReference","specificMissing","commonMissingShare","relatedShare","windowMissing","specificElsewhere","meaningShare","substituted","numberSwap","roleSwap","notRestated"],
  weights: [0.5655,1.96,0,0.5029,0,2.4694,0,1.5709,0,0.5159,0,0.2216,2.7632,0,-0.8605,0,-0.6052,-0.2035,-1.2864,1.5535,0.3657,0.2459,0,0,0],
  bias: -1.5829,
  /**
   * Exchange score = sigmoid(a * (top claim logit - L) + a2 * (second claim logit - L) + c * ln n
   * + m * mean claim logit + b), n the number of claims and L = l * ln(max(1, n / n0)).
   */
  exchange: { a: 0.5434, a2: 0.7849, b: 0.4788, c: 0, m: 0, l: 1, n0: 3 },
  trainedOn: 'dev-v2',
  /** What the training script measured, in-sample and with whole groups held out (per dev source). */
  validation: {"threshold":0.5,"inSample":{"halueval-qa":{"balancedAccuracy":0.956,"auroc":0.9814,"meanScore":0.5321,"rate":0.5,"ece":0.1218},"faithbench":{"balancedAccuracy":0.6655,"auroc":0.7375,"meanScore":0.7186,"rate":0.6642,"ece":0.0674},"qags-cnndm":{"balancedAccuracy":0.6435,"auroc":0.7471,"meanScore":0.4392,"rate":0.5191,"ece":0.0835}},"leaveSourceOut":{"halueval-qa":{"balancedAccuracy":0.916,"auroc":0.9145,"meanScore":0.6074,"rate":0.5,"ece":0.2145},"faithbench":{"balancedAccuracy":0.5875,"auroc":0.736,"meanScore":0.8899,"rate":0.6642,"ece":0.2334},"qags-cnndm":{"balancedAccuracy":0.5764,"auroc":0.7069,"meanScore":0.2955,"rate":0.5191,"ece":0.2327}},"leaveBatchOut":{"faithbench":{"balancedAccuracy":0.6599,"auroc":0.7232,"meanScore":0.722,"rate":0.6642,"ece":0.0742}},"leaveModelOut":{"faithbench":{"balancedAccuracy":0.6636,"auroc":0.7316,"meanScore":0.7186,"rate":0.6642,"ece":0.0662}},"grouped5Fold":{"halueval-qa":{"balancedAccuracy":0.94,"auroc":0.9717,"meanScore":0.5309,"rate":0.5,"ece":0.1082},"faithbench":{"balancedAccuracy":0.6487,"auroc":0.7192,"meanScore":0.7232,"rate":0.6642,"ece":0.0942},"qags-cnndm":{"balancedAccuracy":0.6469,"auroc":0.7321,"meanScore":0.4408,"rate":0.5191,"ece":0.089}}},
};
