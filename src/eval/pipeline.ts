import type { DetectConfig } from '../config/schema.js';
import { fromRecord } from '../capture/index.js';
import { analyse } from '../detect/index.js';
import type { RowAnalyser } from './run.js';

/**
 * What `check` and `eval` run on a row: the capture layer's normalisation and the worker's own
 * detectors, nothing else, so offline figures describe what production computes.
 */
export function rowAnalyser(cfg: DetectConfig): RowAnalyser {
  return (row) => analyse(fromRecord(row), cfg);
}
