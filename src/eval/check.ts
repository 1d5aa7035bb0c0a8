import { parseArgs } from 'node:util';
import type { Readable, Writable } from 'node:stream';
import { ConfigError, loadConfig } from '../config/load.js';
import { rowAnalyser } from './pipeline.js';
import { PromptHashKeyError, promptHashKey } from '../verdicts/prompt-hash.js';
import { analyseLines, openInput, openOutput, OutputError, resultLine, UsageError, type LineResult, type RowAnalyser } from './run.js';

/** Where a command reads and writes; tests hand in their own streams. */
export interface CommandIO {
  stdin: Readable;
  stdout: Writable;
  stderr: Writable & { isTTY?: boolean; columns?: number };
}

export const processIO = (): CommandIO => ({ stdin: process.stdin, stdout: process.stdout, stderr: process.stderr });

export const CHECK_USAGE = `usage: veracity check [--input FILE] [--output FILE]

Reads JSONL exchanges ({id, provider, request, response}) and writes one verdict per line,
in input order, with the same id. A line that cannot be judged becomes {"id", "error"}.
  --input FILE    exchanges to judge (default: stdin)
  --output FILE   where verdicts go (default: stdout)
Exit status: 0 all lines judged, 1 some lines failed, 2 bad usage or config.`;

/** The message `check` and `eval` print on stderr for a line that failed. */
export function lineErrorMessage(source: string, result: Extract<LineResult, { error: string }>): string {
  const id = result.id === null ? '' : ` (id ${JSON.stringify(result.id)})`;
  return `veracity: ${source} line ${result.line}${id}: ${result.error}\n`;
}

/** Exit code and message for failures before any line is read. */
export function setupFailure(err: unknown, stderr: Writable, usage: string): number {
  if (err instanceof UsageError || (err instanceof TypeError && (err as { code?: string }).code?.startsWith('ERR_PARSE_ARGS'))) {
    stderr.write(`veracity: ${err.message}\n${usage}\n`);
    return 2;
  }
  if (err instanceof ConfigError) {
    stderr.write(`veracity: ${err.message}\n`);
    return 2;
  }
  throw err;
}

/**
 * Exit code for a run cut short by its streams. A reader that went away (`check … | head`) is not
 * an error worth a message: the run stops quietly like any Unix filter, returning undefined so the
 * caller reports the lines judged so far. Anything else is a message and exit 2.
 */
export function streamFailure(err: unknown, inputName: string, stderr: Writable): number | undefined {
  if (err instanceof OutputError) {
    if (err.code === 'EPIPE') return undefined;
    stderr.write(`veracity: ${err.message}\n`);
    return 2;
  }
  stderr.write(`veracity: reading ${inputName} failed: ${(err as Error).message}\n`);
  return 2;
}

/** The worker's own detectors with the loaded config: what `check` and `eval` run on every row. */
export function configuredAnalyser(): RowAnalyser {
  const { config } = loadConfig();
  let key: Buffer | undefined;
  try {
    key = promptHashKey(config.verdicts.promptHashKeyEnv);
  } catch (err) {
    if (err instanceof PromptHashKeyError) throw new ConfigError(err.message);
    throw err;
  }
  return rowAnalyser(config.detect, key);
}

export async function checkMain(argv: string[], io: CommandIO = processIO(), analyse?: RowAnalyser): Promise<number> {
  let input, output, judge: RowAnalyser;
  try {
    const { values } = parseArgs({
      args: argv,
      options: {
        input: { type: 'string', short: 'i' },
        output: { type: 'string', short: 'o' },
        help: { type: 'boolean', short: 'h' },
      },
      strict: true,
      allowPositionals: false,
    });
    if (values.help) {
      io.stdout.write(CHECK_USAGE + '\n');
      return 0;
    }
    judge = analyse ?? configuredAnalyser();
    input = await openInput(values.input, io.stdin);
    output = await openOutput(values.output, io.stdout);
  } catch (err) {
    if (input !== undefined && input.stream !== io.stdin) input.stream.destroy();
    return setupFailure(err, io.stderr, CHECK_USAGE);
  }

  let failed = 0;
  try {
    for await (const result of analyseLines(input.stream, judge)) {
      if ('error' in result) {
        failed++;
        io.stderr.write(lineErrorMessage(input.name, result));
      }
      await output.write(resultLine(result));
    }
    await output.close();
  } catch (err) {
    await output.close().catch(() => {});
    const code = streamFailure(err, input.name, io.stderr);
    if (code !== undefined) return code;
  }
  if (failed > 0) io.stderr.write(`veracity: ${failed} line${failed > 1 ? 's' : ''} failed\n`);
  return failed > 0 ? 1 : 0;
}
