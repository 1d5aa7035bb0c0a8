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

/** A write to the output failed (disk full, reader gone); `code` is the system's, e.g. EPIPE. */
export class OutputError extends Error {
  readonly code: string | undefined;
  constructor(target: string, cause: Error) {
    super(`cannot write ${target}: ${cause.message}`, { cause });
    this.name = 'OutputError';
    this.code = (cause as NodeJS.ErrnoException).code;
  }
}

/**
 * JSONL output that waits for the stream to drain when it is full, so results never pile up in
 * memory, and turns a stream error into an `OutputError` on the next write instead of a crash.
 */
export class LineWriter {
  private failure: Error | undefined;
  private readonly onError = (err: Error) => {
    this.failure ??= err;
  };

  constructor(
    readonly stream: Writable,
    readonly name: string,
    /** Whether close() ends the stream (a file we opened) or leaves it open (stdout). */
    private readonly owned: boolean,
  ) {
    stream.on('error', this.onError);
  }

  async write(text: string): Promise<void> {
    this.check();
    if (!this.stream.write(text + '\n')) {
      await new Promise<void>((resolve, reject) => {
        const done = (err?: Error) => {
          this.stream.off('drain', done);
          this.stream.off('error', done);
          this.stream.off('close', done);
          if (err) reject(new OutputError(this.name, err));
          else resolve();
        };
        this.stream.on('drain', done);
        this.stream.on('error', done);
        this.stream.on('close', done);
      });
      this.check();
    }
  }

  async close(): Promise<void> {
    try {
      if (this.owned && !this.stream.destroyed) {
        await new Promise<void>((resolve, reject) => {
          this.stream.end((err?: Error | null) => (err ? reject(err) : resolve()));
        });
      }
      if (this.failure) throw new OutputError(this.name, this.failure);
    } finally {
      this.stream.off('error', this.onError);
    }
  }

  private check(): void {
    if (this.failure) throw new OutputError(this.name, this.failure);
    if (this.stream.destroyed) throw new OutputError(this.name, new Error('stream closed'));
  }
}

/** Opens `file` for writing (stdout when undefined or `-`); resolves once the file is open. */
export async function openOutput(file: string | undefined, stdout: Writable = process.stdout, option = '--output'): Promise<LineWriter> {
  if (file === undefined || file === '-') return new LineWriter(stdout, 'stdout', false);
  const stream = createWriteStream(file);
  try {
    await once(stream, 'open');
  } catch (err) {
    throw new UsageError(`cannot write ${option} ${file}: ${(err as Error).message}`);
  }
  return new LineWriter(stream, file, true);
}
