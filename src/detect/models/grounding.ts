/**
 * Logistic scorer over the claim features of grounding.ts (FEATURE_NAMES order).
 * Written by src/detect/train/train-grounding.ts (L2=0.001) from the halueval-qa, faithbench, qags-cnndm dev rows;
 * do not edit by hand, re-run the script.
 */
export const GROUNDING_MODEL = {
  features: ["missing","novelMissingShare","novelMissingCount","properMissing","numberMissing","passageMissing","bigramMissing","negationFlip","antonymFlip","restatesQuestion","length","questionDistance","pairMissing","specificSwap","metaReference","specificMissing","commonMissingShare","relatedShare","windowMissing","specificElsewhere"],
  weights: [0.165,1.9925,0,0.0832,0,2.384,2.4093,1.5313,0,0.261,1.4059,-0.2958,0.4868,0,-0.6195,0,-1.2407,-0.2706,-1.1238,1.6503],
  bias: -1.7251,
  /** Exchange score = sigmoid(a * top claim logit + a2 * second claim logit + c * ln(claim count) + m * mean claim logit + b). */
  exchange: { a: 0.5003, a2: 0.7155, b: 0.2895, c: 0, m: 0, l: 0, n0: 1 },
  trainedOn: 'dev-v2',
  /** What the training script measured, in-sample and with whole groups held out (per dev source). */
  validation: {"threshold":0.5,"inSample":{"halueval-qa":{"balancedAccuracy":0.968,"auroc":0.9909,"meanScore":0.5197,"rate":0.5,"ece":0.1093},"faithbench":{"balancedAccuracy":0.6526,"auroc":0.7644,"meanScore":0.76,"rate":0.6642,"ece":0.1069},"qags-cnndm":{"balancedAccuracy":0.6685,"auroc":0.7543,"meanScore":0.4036,"rate":0.5191,"ece":0.133}},"leaveSourceOut":{"halueval-qa":{"balancedAccuracy":0.934,"auroc":0.9385,"meanScore":0.575,"rate":0.5,"ece":0.2521},"faithbench":{"balancedAccuracy":0.5428,"auroc":0.7441,"meanScore":0.9427,"rate":0.6642,"ece":0.2826},"qags-cnndm":{"balancedAccuracy":0.54,"auroc":0.7083,"meanScore":0.188,"rate":0.5191,"ece":0.3312}},"leaveBatchOut":{"faithbench":{"balancedAccuracy":0.647,"auroc":0.7468,"meanScore":0.7627,"rate":0.6642,"ece":0.1091}},"leaveModelOut":{"faithbench":{"balancedAccuracy":0.6526,"auroc":0.7566,"meanScore":0.7601,"rate":0.6642,"ece":0.1088}},"grouped5Fold":{"halueval-qa":{"balancedAccuracy":0.958,"auroc":0.9882,"meanScore":0.5196,"rate":0.5,"ece":0.1067},"faithbench":{"balancedAccuracy":0.6414,"auroc":0.7414,"meanScore":0.7656,"rate":0.6642,"ece":0.1097},"qags-cnndm":{"balancedAccuracy":0.6597,"auroc":0.7368,"meanScore":0.4041,"rate":0.5191,"ece":0.132}}},
};
