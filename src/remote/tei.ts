/**
 * The wire format of Hugging Face text-embeddings-inference's `/predict` route, for sequence
 * classifiers fed text pairs: the request is `{"inputs": [[text_a, text_b], ...]}`, the answer one
 * list of `{label, score}` per input (`[[...], ...]`), or, for a single input, TEI's other shape:
 * that input's list alone (`[...]`). Only this module knows it.
 */

export interface PairScore {
  /** Probability the model gives the supported label. */
  supported: number;
  /** Probability of the contradiction label, when the model has one. */
  contradicted?: number;
  /** The most likely label. */
  top: string;
}

export function predictRequest(pairs: Array<[string, string]>): string {
  // Truncated server-side rather than refused: a long passage still yields a reading.
  return JSON.stringify({ inputs: pairs, truncate: true, raw_scores: false });
}

/** Thrown when an answer is not the `/predict` format, or lacks the labels asked for. */
export class MalformedPrediction extends Error {
  readonly code = 'VERACITY_ERR_REMOTE_MALFORMED';
  constructor(message: string) {
    super(message);
    this.name = 'MalformedPrediction';
  }
}

interface Prediction {
  label: string;
  score: number;
}

function isPrediction(x: unknown): x is Prediction {
  const p = x as Prediction;
  return typeof p === 'object' && p !== null && typeof p.label === 'string' && typeof p.score === 'number' && Number.isFinite(p.score) && p.score >= 0 && p.score <= 1;
}

/** Reads a `/predict` answer for `count` inputs; labels are matched ignoring case. */
export function parsePredictions(body: unknown, count: number, supportedLabel: string, contradictionLabel = ''): PairScore[] {
  if (!Array.isArray(body) || body.length === 0) throw new MalformedPrediction('expected a JSON array of predictions');
  // One input may come back as its own list of predictions rather than a batch of one.
  const lists: unknown[] = count === 1 && body.every(isPrediction) ? [body] : body;
  if (lists.length !== count) throw new MalformedPrediction(`expected ${count} predictions, got ${lists.length}`);
  const want = supportedLabel.toLowerCase();
  const against = contradictionLabel.toLowerCase();
  return lists.map((list, i) => {
    if (!Array.isArray(list) || list.length === 0 || !list.every(isPrediction)) throw new MalformedPrediction(`prediction ${i} is not a list of {label, score}`);
    const find = (label: string) => list.find((p) => p.label.toLowerCase() === label);
    const supported = find(want);
    if (!supported) throw new MalformedPrediction(`prediction ${i} has no label "${supportedLabel}" (labels: ${list.map((p) => p.label).join(', ')})`);
    const top = list.reduce((a, b) => (b.score > a.score ? b : a));
    const out: PairScore = { supported: supported.score, top: top.label };
    const contradicted = against ? find(against) : undefined;
    if (contradicted) out.contradicted = contradicted.score;
    return out;
  });
}
