import type { DetectConfig } from '../config/schema.js';
import { fromRecord, type RecordInput } from '../capture/index.js';
import { analyse } from '../detect/index.js';
import type { RowAnalyser } from './run.js';
import { promptHash } from '../verdicts/prompt-hash.js';

/**
 * What `check` and `eval` run on a row: the capture layer's normalisation and the worker's own
 * detectors, nothing else, so offline figures describe what production computes.
 */
export function rowAnalyser(cfg: DetectConfig, promptHashKey?: Buffer): RowAnalyser {
  return (row) => {
    // fromRecord checks `provider` itself and throws a CaptureError naming it.
    const exchange = fromRecord(row as RecordInput);
    const verdict = analyse(exchange, cfg);
    // As the worker stores it, so `report --compare --verdicts` can pair check's output.
    verdict.prompt_hash = promptHash(exchange, promptHashKey);
    return verdict;
  };
}
