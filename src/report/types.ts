import type { Example } from './examples.js';
import type { ModelFigures } from './figures.js';
import type { VerifiedRate } from './verified.js';

/*
 * The reliability report as data: what report.ts builds from Prometheus and from-redis.ts from
 * the aggregates in Redis, what html.ts renders and `--json` writes. It lives apart from all
 * three so that each can name it without importing another.
 */

export interface ReportSource {
  kind: 'prometheus' | 'redis';
  /** Prometheus base URL, or the Redis the aggregates were read from (never credentials). */
  location: string;
  /** The window actually summed (Redis widens it to whole buckets), Unix seconds. */
  window?: { from: number; to: number };
  /** How the figures were obtained, and why this source. */
  note?: string;
}

export interface ReliabilityReport {
  /** Prometheus base URL when Prometheus was the source, else empty. */
  prometheus: string;
  source?: ReportSource;
  since: string;
  /** When the queries were evaluated (Unix seconds). */
  evaluatedAt: number;
  overall: ModelFigures;
  /** Highest hallucination rate first; `verified` where Redis (labels and aggregates) was read. */
  models: Array<ModelFigures & { verified?: VerifiedRate; verifiedJudge?: VerifiedRate }>;
  /** Highest-scoring flagged exchanges in the window per `provider/model`, from stored verdicts (with Redis). */
  examples?: Record<string, Example[]>;
}
