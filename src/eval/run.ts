import { createReadStream, createWriteStream } from 'node:fs';
import { stat } from 'node:fs/promises';
import { once } from 'node:events';
import { createInterface } from 'node:readline';
import type { Readable, Writable } from 'node:stream';
import type { Verdict } from '../detect/verdict.js';

/**
 * The line loop shared by `check` and `eval`: JSONL in, one result per non-blank line, in order.
 * A bad line becomes an error result in its place and the run goes on.
 */

/** One input row as `check` reads it; `expected` and anything else ride along untouched. */
export interface ExchangeRow {
  id: string;
  provider: string;
  request: unknown;
  response: unknown;
  route?: string;
  expected?: unknown;
  [key: string]: unknown;
}

/** Turns one row into a verdict; throws on input it cannot judge. */
export type RowAnalyser = (row: ExchangeRow) => Verdict;

export type LineResult =
  | { line: number; id: string; row: ExchangeRow; verdict: Verdict }
  | { line: number; id: string | null; row?: undefined; error: string };

const REQUIRED = ['id', 'provider', 'request', 'response'] as const;

function message(err: unknown): string {
  if (err instanceof Error) {
    const code = (err as { code?: unknown }).code;
    return typeof code === 'string' ? `${err.name} ${code}: ${err.message}` : `${err.name}: ${err.message}`;
  }
  return String(err);
}

/** Parses and analyses one line; never throws. */
export function analyseLine(text: string, line: number, analyse: RowAnalyser): LineResult {
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch (err) {
    return { line, id: null, error: `not valid JSON (${(err as Error).message})` };
  }
  if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) {
    return { line, id: null, error: 'not a JSON object' };
  }
  const record = parsed as Record<string, unknown>;
  const id = typeof record.id === 'string' && record.id !== '' ? record.id : null;
  const missing = REQUIRED.filter((k) => record[k] === undefined || record[k] === null);
  if (id === null && !missing.includes('id')) missing.unshift('id');
  if (missing.length > 0) {
    const what = missing.map((k) => (k === 'id' && record.id !== undefined ? 'id (not a non-empty string)' : k));
    return { line, id, error: `missing field${missing.length > 1 ? 's' : ''}: ${what.join(', ')}` };
  }
  const row = record as ExchangeRow;
  try {
    return { line, id: row.id, row, verdict: analyse(row) };
  } catch (err) {
    return { line, id: row.id, error: message(err) };
  }
}

/**
 * Reads JSONL from `input` line by line and yields a result for every non-blank line.
 * Memory stays bounded: readline pauses the input while results are not being consumed.
 */
export async function* analyseLines(input: Readable, analyse: RowAnalyser): AsyncGenerator<LineResult> {
  const lines = createInterface({ input, crlfDelay: Infinity });
  let line = 0;
  try {
    for await (const text of lines) {
      line++;
      if (text.trim() === '') continue;
      yield analyseLine(text, line, analyse);
    }
  } finally {
    lines.close();
  }
}

/** The JSONL line `check` prints for a result. */
export function resultLine(result: LineResult): string {
  return 'error' in result ? JSON.stringify({ id: result.id, error: result.error }) : JSON.stringify(result.verdict);
}

/** Writes a line, waiting for the stream to drain when it is full so output never piles up in memory. */
export async function writeLine(out: Writable, text: string): Promise<void> {
  if (!out.write(text + '\n')) await once(out, 'drain');
}

export class UsageError extends Error {
  readonly code = 'VERACITY_ERR_USAGE';
  constructor(message: string) {
    super(message);
    this.name = 'UsageError';
  }
}

export interface OpenedInput {
  stream: Readable;
  /** Bytes in the file; undefined for stdin. */
  size?: number;
  name: string;
}

/** Opens `file` for reading (stdin when undefined or `-`), failing with a message that names the file. */
export async function openInput(file: string | undefined, stdin: Readable = process.stdin): Promise<OpenedInput> {
  if (file === undefined || file === '-') return { stream: stdin, name: 'stdin' };
  let size: number;
  try {
    const info = await stat(file);
    if (!info.isFile()) throw new Error('not a regular file');
    size = info.size;
  } catch (err) {
    throw new UsageError(`cannot read --input ${file}: ${(err as Error).message}`);
  }
  return { stream: createReadStream(file), size, name: file };
}

/** Opens `file` for writing (stdout when undefined or `-`); resolves once the file is open. */
export async function openOutput(file: string | undefined, stdout: Writable = process.stdout): Promise<{ stream: Writable; close: () => Promise<void> }> {
  if (file === undefined || file === '-') return { stream: stdout, close: async () => {} };
  const stream = createWriteStream(file);
  try {
    await once(stream, 'open');
  } catch (err) {
    throw new UsageError(`cannot write --output ${file}: ${(err as Error).message}`);
  }
  return {
    stream,
    close: async () => {
      const finished = once(stream, 'finish');
      stream.end();
      await finished;
    },
  };
}
