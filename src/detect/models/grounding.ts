/**
 * Logistic scorer over the claim features of grounding.ts (FEATURE_NAMES order).
 * Written by src/tooling/train/train-grounding.ts (L2=0.001) from the halueval-qa, faithbench, qags-cnndm dev rows;
 * do not edit by hand, re-run the script.
 */
export const GROUNDING_MODEL = {
  features: ["missing","novelMissingShare","novelMissingCount","properMissing","numberMissing","passageMissing","bigramMissing","negationFlip","antonymFlip","restatesQuestion","length","questionDistance","pairMissing","specificSwap","metaReference","specificMissing","commonMissingShare","relatedShare","windowMissing","specificElsewhere","meaningShare","substituted","numberSwap","roleSwap","notRestated","spliced"],
  weights: [0.5655,1.96,0,0.5029,0,2.4694,0,1.5709,0,0.5159,0,0.2216,2.7632,0,-0.8605,0,-0.6052,-0.2035,-1.2864,1.5535,0.3657,0.2459,0,0,0,1.6577],
  bias: -1.609,
  /**
   * Exchange score = sigmoid(a * (top claim logit - L) + a2 * (second claim logit - L) + c * ln n
   * + m * mean claim logit + b), n the number of claims and L = l * ln(max(1, n / n0)).
   */
  exchange: { a: 0.5434, a2: 0.7849, b: 0.4788, c: 0, m: 0, l: 1, n0: 3 },
  /** Exchange calibration: each class weighing the same within a source (balanced) or as they come. */
  calibration: 'prevalence',
  trainedOn: 'dev-v2',
  /** What the training script measured, in-sample and with whole groups held out (per dev source). */
  validation: {"threshold":0.5,"inSample":{"halueval-qa":{"balancedAccuracy":0.954,"auroc":0.9814,"meanScore":0.5298,"rate":0.5,"ece":0.1098},"faithbench":{"balancedAccuracy":0.6804,"auroc":0.745,"meanScore":0.7063,"rate":0.6642,"ece":0.0792},"qags-cnndm":{"balancedAccuracy":0.6881,"auroc":0.8038,"meanScore":0.4241,"rate":0.5191,"ece":0.0976}},"leaveSourceOut":{"halueval-qa":{"balancedAccuracy":0.954,"auroc":0.9814,"meanScore":0.5302,"rate":0.5,"ece":0.1103},"faithbench":{"balancedAccuracy":0.6358,"auroc":0.7435,"meanScore":0.7515,"rate":0.6642,"ece":0.0972},"qags-cnndm":{"balancedAccuracy":0.6613,"auroc":0.804,"meanScore":0.3466,"rate":0.5191,"ece":0.1745}},"leaveBatchOut":{"faithbench":{"balancedAccuracy":0.6804,"auroc":0.7445,"meanScore":0.7061,"rate":0.6642,"ece":0.0773}},"leaveModelOut":{"faithbench":{"balancedAccuracy":0.6804,"auroc":0.7444,"meanScore":0.706,"rate":0.6642,"ece":0.0774}},"grouped5Fold":{"halueval-qa":{"balancedAccuracy":0.952,"auroc":0.9827,"meanScore":0.5302,"rate":0.5,"ece":0.1081},"faithbench":{"balancedAccuracy":0.6785,"auroc":0.7455,"meanScore":0.7069,"rate":0.6642,"ece":0.0731},"qags-cnndm":{"balancedAccuracy":0.6836,"auroc":0.8063,"meanScore":0.4238,"rate":0.5191,"ece":0.1053}},"longContextOut":{"faithbench":{"balancedAccuracy":0.5712,"auroc":0.6965,"meanScore":0.792,"rate":0.745,"ece":0.0963}},"longAnswerOut":{"faithbench":{"balancedAccuracy":0.628,"auroc":0.7217,"meanScore":0.7535,"rate":0.7273,"ece":0.0635}}},
};
