/**
 * Logistic scorer over the claim features of grounding.ts (FEATURE_NAMES order).
 * Written by src/detect/train/train-grounding.ts (L2=0.001) from the halueval-qa, faithbench, qags-cnndm dev rows;
 * do not edit by hand, re-run the script.
 */
export const GROUNDING_MODEL = {
  features: ["missing","novelMissingShare","novelMissingCount","properMissing","numberMissing","passageMissing","bigramMissing","negationFlip","antonymFlip","restatesQuestion","length","questionDistance","pairMissing","specificSwap","metaReference","specificMissing","commonMissingShare","relatedShare","windowMissing","specificElsewhere"],
  weights: [0.1888,1.9665,0,0.0593,0,2.413,2.4125,1.6475,0,0.3153,1.4902,-0.3345,0.4997,0,-0.6193,0,-1.2416,-0.4401,-1.1238,1.6595],
  bias: -1.7286,
  /** Exchange score = sigmoid(a * top claim logit + a2 * second claim logit + c * ln(claim count) + m * mean claim logit + b). */
  exchange: { a: 0.5159, a2: 0.6959, b: 0.2832, c: 0, m: 0 },
  trainedOn: 'dev-v2',
  /** What the training script measured, in-sample and with whole groups held out (per dev source). */
  validation: {"threshold":0.5,"inSample":{"halueval-qa":{"balancedAccuracy":0.966,"auroc":0.9912,"meanScore":0.5208,"rate":0.5,"ece":0.1076},"faithbench":{"balancedAccuracy":0.6507,"auroc":0.7594,"meanScore":0.7554,"rate":0.6642,"ece":0.1012},"qags-cnndm":{"balancedAccuracy":0.6679,"auroc":0.7544,"meanScore":0.4069,"rate":0.5191,"ece":0.1221}},"leaveSourceOut":{"halueval-qa":{"balancedAccuracy":0.924,"auroc":0.9358,"meanScore":0.5653,"rate":0.5,"ece":0.2533},"faithbench":{"balancedAccuracy":0.5372,"auroc":0.7423,"meanScore":0.9398,"rate":0.6642,"ece":0.2798},"qags-cnndm":{"balancedAccuracy":0.54,"auroc":0.7095,"meanScore":0.1883,"rate":0.5191,"ece":0.3309}},"leaveBatchOut":{"faithbench":{"balancedAccuracy":0.647,"auroc":0.7438,"meanScore":0.7591,"rate":0.6642,"ece":0.1026}},"leaveModelOut":{"faithbench":{"balancedAccuracy":0.6488,"auroc":0.7526,"meanScore":0.756,"rate":0.6642,"ece":0.1058}},"grouped5Fold":{"halueval-qa":{"balancedAccuracy":0.962,"auroc":0.9887,"meanScore":0.5204,"rate":0.5,"ece":0.1063},"faithbench":{"balancedAccuracy":0.6451,"auroc":0.7378,"meanScore":0.7615,"rate":0.6642,"ece":0.1057},"qags-cnndm":{"balancedAccuracy":0.6553,"auroc":0.7352,"meanScore":0.4066,"rate":0.5191,"ece":0.1224}}},
};
