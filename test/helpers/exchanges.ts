import { readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import type { RawExchange } from '../../src/capture/raw.js';
import { chatCompletion } from './upstream.js';

/** Labelled dev rows (shared/datasets/dev) turned into the raw exchanges a worker receives. */

export const DATASETS = resolve(import.meta.dirname, '..', '..', '..', 'shared', 'datasets', 'dev');

export interface Row {
  id: string;
  provider: 'openai' | 'anthropic';
  request: Record<string, unknown>;
  response: Record<string, unknown>;
  expected: Record<string, unknown>;
}

export function rows(file: string, n: number, keep: (r: Row) => boolean = () => true): Row[] {
  return readFileSync(join(DATASETS, file), 'utf8')
    .split('\n')
    .filter(Boolean)
    .map((l) => JSON.parse(l) as Row)
    .filter(keep)
    .slice(0, n);
}

/** The row as the proxy would have captured it, answered by `model` (the row's own by default). */
export function rawFromRow(row: Row, options: { id?: string; model?: string } = {}): RawExchange {
  const request = options.model ? { ...row.request, model: options.model } : row.request;
  const response = options.model ? { ...row.response, model: options.model } : row.response;
  const now = Date.now();
  return {
    id: options.id ?? row.id,
    provider: row.provider,
    route: row.provider === 'anthropic' ? 'messages' : 'chat.completions',
    request: JSON.stringify(request),
    response: JSON.stringify(response),
    contentType: 'application/json',
    status: 200,
    aborted: false,
    startedAt: now - 30,
    endedAt: now - 5,
  };
}

/** An OpenAI chat exchange as the proxy captures it: `messages` sent to `model`, answered with `answer`. */
export function rawChat(id: string, model: string, messages: unknown[], answer: string, over: Partial<RawExchange> = {}): RawExchange {
  return {
    id,
    provider: 'openai',
    route: 'chat.completions',
    request: JSON.stringify({ model, messages }),
    response: JSON.stringify(chatCompletion(model, answer)),
    contentType: 'application/json',
    status: 200,
    aborted: false,
    startedAt: Date.now() - 50,
    endedAt: Date.now() - 10,
    ...over,
  };
}
