import type { DetectConfig } from '../config/schema.js';
import { fromRecord, type RecordInput } from '../capture/index.js';
import { analyse } from '../detect/index.js';
import type { RowAnalyser } from './run.js';

/**
 * What `check` and `eval` run on a row: the capture layer's normalisation and the worker's own
 * detectors, nothing else, so offline figures describe what production computes.
 */
export function rowAnalyser(cfg: DetectConfig): RowAnalyser {
  // fromRecord checks `provider` itself and throws a CaptureError naming it.
  return (row) => analyse(fromRecord(row as RecordInput), cfg);
}
