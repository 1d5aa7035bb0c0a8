/**
 * Logistic scorer over the claim features of grounding.ts (FEATURE_NAMES order).
 * Written by src/tooling/train/train-grounding.ts (L2=0.001) from the halueval-qa, faithbench, qags-cnndm dev rows;
 * do not edit by hand, re-run the script.
 */
export const GROUNDING_MODEL = {
  features: ["missing","novelMissingShare","novelMissingCount","properMissing","numberMissing","passageMissing","bigramMissing","negationFlip","antonymFlip","restatesQuestion","length","questionDistance","pairMissing","specificSwap","metaReference","specificMissing","commonMissingShare","relatedShare","windowMissing","specificElsewhere","meaningShare","substituted","numberSwap","roleSwap","notRestated","spliced"],
  weights: [0.5655,1.96,0,0.5029,1.0203,2.4694,0,1.5709,0,0.5159,0,0.2216,2.7632,0,-0.8605,0,-0.6052,-0.2035,-1.2864,1.5535,0.3657,0.2459,0,0,0,1.6577],
  bias: -1.6113,
  /**
   * Exchange score = sigmoid(a * (top claim logit - L) + a2 * (second claim logit - L) + c * ln n
   * + m * mean claim logit + b), n the number of claims and L = l * ln(max(1, n / n0)).
   */
  exchange: { a: 0.5434, a2: 0.7849, b: 0.4788, c: 0, m: 0, l: 1, n0: 3 },
  /** Exchange calibration: each class weighing the same within a source (balanced) or as they come. */
  calibration: 'prevalence',
  trainedOn: 'dev-v2',
  /** What the training script measured, in-sample and with whole groups held out (per dev source). */
  validation: {"threshold":0.5,"inSample":{"halueval-qa":{"balancedAccuracy":0.954,"auroc":0.9791,"meanScore":0.5303,"rate":0.5,"ece":0.109},"faithbench":{"balancedAccuracy":0.6747,"auroc":0.7549,"meanScore":0.6971,"rate":0.6642,"ece":0.0619},"qags-cnndm":{"balancedAccuracy":0.6925,"auroc":0.8108,"meanScore":0.4236,"rate":0.5191,"ece":0.0985}},"leaveSourceOut":{"halueval-qa":{"balancedAccuracy":0.954,"auroc":0.9791,"meanScore":0.5285,"rate":0.5,"ece":0.1082},"faithbench":{"balancedAccuracy":0.6488,"auroc":0.7552,"meanScore":0.7413,"rate":0.6642,"ece":0.0856},"qags-cnndm":{"balancedAccuracy":0.6771,"auroc":0.8115,"meanScore":0.3715,"rate":0.5191,"ece":0.1512}},"leaveBatchOut":{"faithbench":{"balancedAccuracy":0.6784,"auroc":0.7529,"meanScore":0.6964,"rate":0.6642,"ece":0.0554}},"leaveModelOut":{"faithbench":{"balancedAccuracy":0.6728,"auroc":0.7546,"meanScore":0.6968,"rate":0.6642,"ece":0.0614}},"grouped5Fold":{"halueval-qa":{"balancedAccuracy":0.95,"auroc":0.9809,"meanScore":0.5305,"rate":0.5,"ece":0.1052},"faithbench":{"balancedAccuracy":0.6765,"auroc":0.7544,"meanScore":0.6969,"rate":0.6642,"ece":0.0492},"qags-cnndm":{"balancedAccuracy":0.6922,"auroc":0.8143,"meanScore":0.4235,"rate":0.5191,"ece":0.107}},"longContextOut":{"faithbench":{"balancedAccuracy":0.5678,"auroc":0.7038,"meanScore":0.7894,"rate":0.745,"ece":0.0991}},"longAnswerOut":{"faithbench":{"balancedAccuracy":0.619,"auroc":0.7385,"meanScore":0.7508,"rate":0.7273,"ece":0.0669}}},
};
