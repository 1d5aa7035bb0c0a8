import { constants } from 'node:fs';
import { access, writeFile } from 'node:fs/promises';
import { dirname, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { loadConfig } from '../config/load.js';
import { lineErrorMessage, processIO, setupFailure, streamFailure, type CommandIO } from './check.js';
import { reportHtml } from './html.js';
import { rowAnalyser } from './pipeline.js';
import { ProgressBar } from './progress.js';
import { analyseLines, openInput, openOutput, resultLine, UsageError, type RowAnalyser } from './run.js';
import { Scoreboard, type EvalReport } from './score.js';
import { summaryText } from './summary.js';

export const EVAL_USAGE = `usage: veracity eval --input FILE [--json FILE] [--html FILE] [--output FILE]

Runs the same detectors as \`check\` over labelled JSONL rows and scores the verdicts against each
row's "expected" (hallucination: bool; refusal: bool / refusal_kind). Prints a summary on stdout.
  --input FILE    labelled exchanges (required; - for stdin)
  --json FILE     write every figure as JSON
  --html FILE     write a self-contained HTML report with a reliability diagram
  --output FILE   also write the verdicts as JSONL, as \`check\` would
Exit status: 0 all lines judged, 1 some lines failed, 2 bad usage, config or output file.`;

/** Fails before the run, not after it, when a report could not be written. */
async function checkWritable(option: string, file: string | undefined): Promise<void> {
  if (file === undefined) return;
  try {
    await access(dirname(resolve(file)), constants.W_OK);
  } catch (err) {
    throw new UsageError(`cannot write ${option} ${file}: ${(err as Error).message}`);
  }
}

async function writeReportFile(option: string, file: string, text: string, stderr: CommandIO['stderr']): Promise<boolean> {
  try {
    await writeFile(file, text);
    return true;
  } catch (err) {
    stderr.write(`veracity: cannot write ${option} ${file}: ${(err as Error).message}\n`);
    return false;
  }
}

/** Runs `eval` and returns the report alongside the exit code, for callers that want the figures. */
export async function runEval(argv: string[], io: CommandIO = processIO(), analyse?: RowAnalyser): Promise<{ code: number; report?: EvalReport }> {
  let values, input, verdictsOut, judge: RowAnalyser;
  let configUsed: EvalReport['config'];
  try {
    ({ values } = parseArgs({
      args: argv,
      options: {
        input: { type: 'string', short: 'i' },
        json: { type: 'string' },
        html: { type: 'string' },
        output: { type: 'string', short: 'o' },
        help: { type: 'boolean', short: 'h' },
      },
      strict: true,
      allowPositionals: false,
    }));
    if (values.help) {
      io.stdout.write(EVAL_USAGE + '\n');
      return { code: 0 };
    }
    if (values.input === undefined) throw new UsageError('eval needs --input FILE');
    if (analyse) judge = analyse;
    else {
      const { config, file } = loadConfig();
      judge = rowAnalyser(config.detect);
      configUsed = { file, detect: config.detect };
    }
    await checkWritable('--json', values.json);
    await checkWritable('--html', values.html);
    input = await openInput(values.input, io.stdin);
    verdictsOut = values.output === undefined ? undefined : await openOutput(values.output, io.stdout);
  } catch (err) {
    if (input !== undefined && input.stream !== io.stdin) input.stream.destroy();
    return { code: setupFailure(err, io.stderr, EVAL_USAGE) };
  }

  const started = performance.now();
  const board = new Scoreboard(input.name);
  const progress = new ProgressBar(io.stderr, input.size);
  progress.track(input.stream);
  try {
    for await (const result of analyseLines(input.stream, judge)) {
      if ('error' in result) progress.note(lineErrorMessage(input.name, result));
      board.add(result);
      if (verdictsOut) await verdictsOut.write(resultLine(result));
      progress.tick();
    }
    await verdictsOut?.close();
  } catch (err) {
    progress.done();
    await verdictsOut?.close().catch(() => {});
    // Scores from part of the input would read as scores for all of it: no report.
    return { code: streamFailure(err, input.name, io.stderr) ?? 2 };
  }
  progress.done();

  const report: EvalReport = { ...board.report(), elapsedMs: Math.round(performance.now() - started) };
  if (configUsed) report.config = configUsed;
  io.stdout.write(summaryText(report));
  let written = true;
  if (values.json !== undefined) written = (await writeReportFile('--json', values.json, JSON.stringify(report, null, 2) + '\n', io.stderr)) && written;
  if (values.html !== undefined) written = (await writeReportFile('--html', values.html, reportHtml(report), io.stderr)) && written;
  if (!written) return { code: 2, report };
  if (report.errors > 0) io.stderr.write(`veracity: ${report.errors} line${report.errors > 1 ? 's' : ''} failed\n`);
  return { code: report.errors > 0 ? 1 : 0, report };
}

export async function evalMain(argv: string[], io: CommandIO = processIO(), analyse?: RowAnalyser): Promise<number> {
  return (await runEval(argv, io, analyse)).code;
}
