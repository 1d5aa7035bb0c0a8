import type { DetectConfig } from '../config/schema.js';
import { fromRecord, type RecordInput } from '../capture/index.js';
import { analyse } from '../detect/index.js';
import { applySamples } from '../detect/samples.js';
import type { RowAnalyser } from './run.js';
import { promptHash } from '../verdicts/prompt-hash.js';

/** A row's `samples` is not an array of strings. */
export class SamplesFieldError extends Error {
  readonly code = 'VERACITY_ERR_SAMPLES_FIELD';
  constructor(message: string) {
    super(message);
    this.name = 'SamplesFieldError';
  }
}

/**
 * What `check` and `eval` run on a row: the capture layer's normalisation and the worker's own
 * detectors, nothing else, so offline figures describe what production computes. A row that
 * carries pre-collected answers (`samples`: strings beside `response`) is also checked against
 * them, by the same code the worker runs on answers it sampled itself.
 */
export function rowAnalyser(cfg: DetectConfig, promptHashKey?: Buffer): RowAnalyser {
  // fromRecord checks `provider` itself and throws a CaptureError naming it.
  return (row) => {
    const samples = row.samples;
    if (samples !== undefined && (!Array.isArray(samples) || !samples.every((s) => typeof s === 'string'))) {
      throw new SamplesFieldError('"samples" must be an array of strings (answers to the same request)');
    }
    const exchange = fromRecord(row as RecordInput);
    const verdict = analyse(exchange, cfg);
    if (samples) applySamples(verdict, { question: exchange.question, answer: exchange.response.text }, samples, cfg);
    // As the worker stores it, so `report --compare --verdicts` can pair check's output.
    verdict.prompt_hash = promptHash(exchange, promptHashKey);
    return verdict;
  };
}
