import { existsSync, readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import path from 'node:path';
import { fromRecord } from '../../capture/index.js';
import type { Exchange } from '../../capture/exchange.js';
import { ConfigSchema, type DetectConfig } from '../../config/schema.js';

/** Labelled dev rows as Exchanges, for the evaluation and training scripts (never at run time). */

export interface Row {
  id: string;
  exchange: Exchange;
  expected: {
    hallucination?: boolean;
    refusal?: boolean;
    refusal_kind?: 'compliance' | 'partial_refusal' | 'full_refusal';
    spans?: Array<[number, number]>;
    [k: string]: unknown;
  };
}

const here = path.dirname(fileURLToPath(import.meta.url));

/** `VERACITY_DEV_DATA` or the shared dev folder beside the checkout. */
export function datasetDir(): string {
  if (process.env.VERACITY_DEV_DATA) return process.env.VERACITY_DEV_DATA;
  const candidates = [
    path.resolve(here, '../../../../shared/datasets/dev'),
    path.resolve(here, '../../../../../shared/datasets/dev'),
    path.resolve(process.cwd(), '../shared/datasets/dev'),
  ];
  for (const c of candidates) if (existsSync(path.join(c, 'xstest.jsonl'))) return c;
  return candidates[0]!;
}

export function loadRows(name: string, dir = datasetDir()): Row[] {
  const file = path.join(dir, `${name}.jsonl`);
  const rows: Row[] = [];
  for (const line of readFileSync(file, 'utf8').split('\n')) {
    if (line.trim() === '') continue;
    const rec = JSON.parse(line) as { id: string; expected: Row['expected'] } & Record<string, unknown>;
    rows.push({ id: rec.id, exchange: fromRecord(rec as unknown as Parameters<typeof fromRecord>[0]), expected: rec.expected });
  }
  return rows;
}

export const defaultDetectConfig = (): DetectConfig => ConfigSchema.parse({}).detect;
