import t from 'tap';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PassThrough, Readable, Writable } from 'node:stream';
import { fileURLToPath } from 'node:url';
import { checkMain, configuredAnalyser, type CommandIO } from '../src/eval/check.js';
import { evalMain, runEval } from '../src/eval/eval.js';

const fixture = fileURLToPath(new URL('./fixtures/eval/mixed.jsonl', import.meta.url));
const fixtureLines = readFileSync(fixture, 'utf8').split('\n').filter((l) => l !== '');
const fixtureIds = fixtureLines.map((l) => (JSON.parse(l) as { id: string }).id);

interface Captured extends CommandIO {
  out: () => string;
  err: () => string;
}

function io(stdinText = '', tty = false): Captured {
  const stdout = new PassThrough();
  const stderr = new PassThrough() as PassThrough & { isTTY?: boolean; columns?: number };
  if (tty) {
    stderr.isTTY = true;
    stderr.columns = 100;
  }
  const chunks = { out: [] as Buffer[], err: [] as Buffer[] };
  stdout.on('data', (c: Buffer) => chunks.out.push(c));
  stderr.on('data', (c: Buffer) => chunks.err.push(c));
  return {
    stdin: Readable.from([stdinText]),
    stdout,
    stderr,
    out: () => Buffer.concat(chunks.out).toString('utf8'),
    err: () => Buffer.concat(chunks.err).toString('utf8'),
  };
}

const tmp = (t: { teardown: (fn: () => void) => void }) => mkdtempSync(join(tmpdir(), 'veracity-eval-'));

t.test('check keeps order and ids, with bad lines answered in place', async (t) => {
  const dir = tmp(t);
  const input = join(dir, 'in.jsonl');
  const output = join(dir, 'out.jsonl');
  const lines = [
    fixtureLines[0]!,
    '{"id": "cut-off", "provider": "openai", "req',
    fixtureLines[1]!,
    '',
    JSON.stringify({ id: 'no-response', provider: 'openai', request: { model: 'm', messages: [] } }),
    JSON.stringify({ id: 'wrong-provider', provider: 'cohere', request: {}, response: {} }),
    '   ',
    ...fixtureLines.slice(2),
  ];
  writeFileSync(input, lines.join('\n') + '\n');
  const c = io();
  const code = await checkMain(['--input', input, '--output', output], c);
  t.equal(code, 1, 'exit 1 when any line failed');
  t.equal(c.out(), '', 'nothing on stdout when --output is given');

  const rows = readFileSync(output, 'utf8').trimEnd().split('\n').map((l) => JSON.parse(l) as Record<string, unknown>);
  t.equal(rows.length, lines.filter((l) => l.trim() !== '').length, 'one output line per non-blank input line');
  t.same(
    rows.map((r) => r.id),
    [fixtureIds[0], null, fixtureIds[1], 'no-response', 'wrong-provider', ...fixtureIds.slice(2)],
    'same ids in the same order; an unparseable line has id null',
  );
  t.match(rows[1], { id: null, error: /not valid JSON/ });
  t.match(rows[3], { id: 'no-response', error: /missing field: response/ });
  t.match(rows[4], { id: 'wrong-provider', error: /CaptureError.*provider/ });
  for (const i of [0, 2, 5, 6]) {
    t.notOk('error' in rows[i]!, `row ${i} judged`);
    t.match(rows[i], {
      provider: /^(openai|anthropic)$/,
      model: String,
      grounded: Boolean,
      hallucination: { flagged: Boolean, score: Number, claims: Array },
      confidence_mismatch: { flagged: Boolean, score: Number },
      refusal: { flagged: Boolean, kind: /^(none|partial|full)$/, score: Number },
    });
  }
  const err = c.err();
  t.match(err, new RegExp(`${input.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')} line 2: not valid JSON`), 'stderr names the line');
  t.match(err, /line 5 \(id "no-response"\): missing field: response/);
  t.match(err, /line 6 \(id "wrong-provider"\): CaptureError/);
  t.match(err, /3 lines failed/);
});

t.test('check reads stdin and writes stdout, exit 0 when every line is judged', async (t) => {
  const c = io(fixtureLines.join('\r\n') + '\r\n');
  t.equal(await checkMain([], c), 0);
  const ids = c
    .out()
    .trimEnd()
    .split('\n')
    .map((l) => (JSON.parse(l) as { id: string }).id);
  t.same(ids, fixtureIds);
  t.equal(c.err(), '');
});

t.test('check and eval refuse bad usage with exit 2', async (t) => {
  let c = io();
  t.equal(await checkMain(['--nope'], c), 2);
  t.match(c.err(), /usage: veracity check/);
  c = io();
  t.equal(await checkMain(['--input', '/nonexistent/x.jsonl'], c), 2);
  t.match(c.err(), /cannot read --input \/nonexistent\/x\.jsonl/);
  c = io();
  t.equal(await evalMain([], c), 2);
  t.match(c.err(), /eval needs --input/);
  c = io();
  t.equal(await evalMain(['--input', fixture, '--json', '/nonexistent/dir/r.json'], c), 2);
  t.match(c.err(), /cannot write --json/);
  c = io();
  t.equal(await checkMain(['--help'], c), 0);
  t.match(c.out(), /--output FILE/);
});

t.test('a config file that does not load stops check before any line', async (t) => {
  const dir = tmp(t);
  const bad = join(dir, 'bad.yaml');
  writeFileSync(bad, 'detect:\n  hallucinationThreshold: 7\n');
  const before = process.env.VERACITY_CONFIG;
  process.env.VERACITY_CONFIG = bad;
  t.teardown(() => {
    if (before === undefined) delete process.env.VERACITY_CONFIG;
    else process.env.VERACITY_CONFIG = before;
  });
  const c = io(fixtureLines[0]! + '\n');
  t.equal(await checkMain([], c), 2);
  t.match(c.err(), /bad\.yaml[\s\S]*detect\.hallucinationThreshold/);
  t.equal(c.out(), '');
});

t.test('eval scores the fixture and writes JSON and HTML reports', async (t) => {
  const dir = tmp(t);
  const json = join(dir, 'report.json');
  const html = join(dir, 'report.html');
  const verdicts = join(dir, 'verdicts.jsonl');
  const c = io();
  const { code, report } = await runEval(['--input', fixture, '--json', json, '--html', html, '--output', verdicts], c);
  t.equal(code, 0);
  t.equal(c.err(), '', 'no progress bar when stderr is not a terminal');
  const written = JSON.parse(readFileSync(json, 'utf8')) as Record<string, any>;
  t.same(written, JSON.parse(JSON.stringify(report)), 'JSON file holds the report');
  t.match(written, { lines: 15, judged: 15, errors: 0, unlabelled: 0, elapsedMs: Number });
  t.match(written.config, { file: /\.ya?ml$/, detect: { hallucinationThreshold: Number, refusalThreshold: Number } });
  t.equal(typeof written.provenance, 'object', 'provenance counts are reported');
  t.match(written.hallucination, {
    rows: 9,
    positives: 4,
    confusion: { tp: Number, fp: Number, tn: Number, fn: Number },
    recall: Number,
    balancedAccuracy: Number,
    auroc: Number,
    ece: Number,
  });
  for (const key of ['precision', 'f1', 'accuracy']) {
    const v = written.hallucination[key];
    t.ok(v === null || (typeof v === 'number' && v >= 0 && v <= 1), `${key} is a share or null`);
  }
  t.equal(written.hallucination.calibration.length, 10);
  t.equal(written.hallucination.thresholds.length, 9, 'threshold sweep');
  t.equal(
    written.hallucination.calibration.reduce((s: number, b: { count: number }) => s + b.count, 0),
    9,
    'every scored row lands in one bin',
  );
  t.match(written.refusal, { rows: 6, positives: 4, kinds: { rows: 6, accuracy: Number } });
  const matrix = written.refusal.kinds.matrix as Record<string, Record<string, number>>;
  t.same(
    Object.fromEntries(Object.entries(matrix).map(([k, row]) => [k, Object.values(row).reduce((a, b) => a + b, 0)])),
    { none: 2, partial: 2, full: 2 },
    'matrix rows are the expected kinds',
  );
  t.same(Object.keys(written.by).sort(), ['method', 'model', 'prompt_type', 'task']);
  t.same(Object.keys(written.by.task).sort(), ['grounded-qa', 'refusal', 'summary']);
  t.ok(written.by.model['claude-3-5-haiku-20241022'].hallucination, 'the Anthropic row is scored under its model');
  t.equal(written.by.model['gpt-4o'].hallucination.positives, 2);

  t.equal(
    written.claimBuckets.reduce((n: number, b: { faithful: number; hallucinated: number }) => n + b.faithful + b.hallucinated, 0),
    9,
    'every hallucination row lands in one claim-count bucket',
  );
  t.same(
    written.modelRates.models.map((m: { model: string }) => m.model),
    Object.keys(written.by.model).filter((m) => written.by.model[m].hallucination?.rate.grounded > 0).sort(),
    'per-model rates for every model with grounded rows',
  );

  const page = readFileSync(html, 'utf8');
  t.match(page, /<svg[\s\S]*<\/svg>/);
  t.match(page, /By number of claims in the answer/);
  t.match(page, /estimated rate \(mean score\) vs observed/);
  t.match(page, /Refusal kind confusion matrix/);
  t.notMatch(page, /<script|<link|src="http/);

  t.equal(readFileSync(verdicts, 'utf8').trimEnd().split('\n').length, 15, '--output writes the verdicts too');
  t.match(c.out(), /Hallucination \(9 rows, 4 labelled hallucinated\)/);
  t.match(c.out(), /Refusal by prompt_type/);
  t.match(c.out(), /config .*hallucinationThreshold \d/);
});

t.test('eval draws a progress bar only on a terminal, and counts failures', async (t) => {
  const dir = tmp(t);
  const input = join(dir, 'in.jsonl');
  writeFileSync(input, [fixtureLines[0], 'nonsense', fixtureLines[8]].join('\n') + '\n');
  const c = io('', true);
  const { code, report } = await runEval(['--input', input], c);
  t.equal(code, 1);
  t.match(report, { lines: 3, judged: 2, errors: 1 });
  t.match(c.err(), /\r\[[#.]+\]\s+\d+%/, 'bar drawn');
  t.match(c.err(), /line 2: not valid JSON/);
  t.match(c.out(), /Failed lines/);
});

t.test('check holds back reading while its output is not consumed', async (t) => {
  const dir = tmp(t);
  const input = join(dir, 'big.jsonl');
  const copies = 400;
  const big = Array.from({ length: copies }, () => fixtureLines.join('\n')).join('\n') + '\n';
  writeFileSync(input, big);
  const total = copies * fixtureLines.length;

  const judge = configuredAnalyser();
  let judged = 0;
  const stdout = new PassThrough({ highWaterMark: 1024 });
  const stderr = new PassThrough();
  const run = checkMain(['--input', input], { stdin: Readable.from([]), stdout, stderr }, (row) => {
    judged++;
    return judge(row);
  });
  await new Promise((r) => setTimeout(r, 500));
  t.ok(judged < total / 4, `stalled output stops the run early (${judged} of ${total} judged)`);

  let lines = 0;
  stdout.on('data', (chunk: Buffer) => {
    for (const byte of chunk) if (byte === 10) lines++;
  });
  t.equal(await run, 0);
  t.equal(lines, total, 'every line comes out once the output drains');
});

t.test('a failing output stops check with a message; a reader that went away stops it quietly', async (t) => {
  const failing = (code: string) =>
    new Writable({
      write(_chunk, _enc, cb) {
        cb(Object.assign(new Error(`write ${code}`), { code }));
      },
    });
  const stderr = new PassThrough();
  const err: Buffer[] = [];
  stderr.on('data', (c: Buffer) => err.push(c));
  let judged = 0;
  const judge = configuredAnalyser();
  const counting = (row: Parameters<typeof judge>[0]) => {
    judged++;
    return judge(row);
  };
  const input = Readable.from([fixtureLines.join('\n') + '\n']);
  t.equal(await checkMain([], { stdin: input, stdout: failing('ENOSPC'), stderr }, counting), 2);
  t.match(Buffer.concat(err).toString(), /cannot write stdout: write ENOSPC/);
  t.ok(judged < fixtureLines.length, `stops at the failed write (${judged} judged)`);

  err.length = 0;
  const again = Readable.from([fixtureLines.join('\n') + '\n']);
  t.equal(await checkMain([], { stdin: again, stdout: failing('EPIPE'), stderr }, judge), 0);
  t.equal(Buffer.concat(err).toString(), '', 'no message for a closed pipe');
});
