import t from 'tap';
import { readFileSync } from 'node:fs';
import { PassThrough, Readable } from 'node:stream';
import { configuredAnalyser } from '../src/eval/check.js';
import { runEval } from '../src/eval/eval.js';
import { HARD_CASES_FILE, hardCaseLines, SHAPES } from '../src/tooling/train/build-hard-cases.js';
import { PASSAGES } from '../src/tooling/train/hard-cases-source.js';
import { analyseLine } from '../src/eval/run.js';

const lines = readFileSync(HARD_CASES_FILE, 'utf8').trimEnd().split('\n');
const rows = lines.map((l) => JSON.parse(l) as { id: string; provider: string; request: Record<string, any>; response: Record<string, any>; expected: Record<string, any> });

t.test('the committed hard-case file is what the source builds', async (t) => {
  t.same(lines, hardCaseLines(), 'rerun: node dist/tooling/train/build-hard-cases.js');
  t.equal(new Set(rows.map((r) => r.id)).size, rows.length, 'ids are unique');
});

t.test('the set is labelled, varied, and holds the issue\'s six cases', async (t) => {
  t.ok(rows.length >= 120, `${rows.length} rows`);
  for (const r of rows) {
    t.equal(r.expected.hallucination, r.expected.kind === 'edit', `${r.id}: an edit is labelled hallucinated, a paraphrase is not`);
    t.match(r.expected, { task: 'hard-case', edit: /^[a-z_]+$/, pair: String, source: /^(issue-20|faithbench-|qags-cnndm-|halueval-qa-)/ });
  }
  for (const p of PASSAGES) {
    const kinds = new Set(p.rows.map((r) => r.kind));
    t.ok(kinds.has('paraphrase') && kinds.has('edit'), `${p.pair} has both a paraphrase and an edit`);
  }
  t.same(new Set(rows.map((r) => r.provider)), new Set(['openai', 'anthropic']));
  // Each way of sending context carries both labels.
  const shapeOf = (r: (typeof rows)[number]): string => {
    const req = r.request;
    if (req.tools) return `${r.provider}-tool`;
    if (r.provider === 'anthropic') return req.system ? 'anthropic-system' : 'anthropic-document';
    return req.messages[0].role === 'system' ? 'openai-system' : 'openai-context';
  };
  for (const shape of SHAPES) {
    const labels = new Set(rows.filter((r) => shapeOf(r) === shape).map((r) => r.expected.hallucination));
    t.same(labels, new Set([true, false]), `${shape} carries faithful and hallucinated answers`);
  }
  const answer = (r: (typeof rows)[number]): string =>
    r.provider === 'openai' ? r.response.choices[0].message.content : r.response.content[0].text;
  const issueCases: Array<[string, boolean]> = [
    ['In March, exports decreased by 8 percent.', false],
    ['After adding 40 nurses last year, the firm employs 600 people.', false],
    ['The museum, which opened its doors in 1998, draws around 2 million visitors annually.', false],
    ['The new parking plan was approved by the city council on Tuesday.', false],
    ['The city council rejected the new parking plan on Tuesday.', true],
    ['The firm hired 600 nurses last year, bringing its staff to 40.', true],
  ];
  for (const [text, hallucination] of issueCases) {
    const row = rows.find((r) => answer(r) === text);
    t.equal(row?.expected.hallucination, hallucination, `issue case present: ${text}`);
  }
});

t.test('every row is checked against its context, whichever way the context came', async (t) => {
  const analyse = configuredAnalyser();
  let grounded = 0;
  for (const [i, line] of lines.entries()) {
    const result = analyseLine(line, i + 1, analyse);
    if ('error' in result) {
      t.fail(`${result.id}: ${result.error}`);
      continue;
    }
    if (result.verdict.grounded && result.verdict.hallucination.method === 'context') grounded++;
    else t.fail(`${result.id} was not checked against its context`);
  }
  t.equal(grounded, lines.length);
});

t.test('eval reports the hard cases per kind, edit and pair', async (t) => {
  const stdout = new PassThrough();
  let out = '';
  stdout.on('data', (c: Buffer) => (out += c.toString('utf8')));
  const { code, report } = await runEval(['--input', HARD_CASES_FILE], { stdin: Readable.from(['']), stdout, stderr: new PassThrough() });
  t.equal(code, 0);
  const hc = report!.hardCases!;
  t.same(hc.kinds.map((k) => [k.kind, k.rows, k.hallucinated]), [
    ['edit', rows.filter((r) => r.expected.kind === 'edit').length, rows.filter((r) => r.expected.kind === 'edit').length],
    ['paraphrase', rows.filter((r) => r.expected.kind === 'paraphrase').length, 0],
  ]);
  t.equal(hc.pairs.pairs, PASSAGES.length);
  t.equal(hc.edits.reduce((n, e) => n + e.rows, 0), rows.length, 'every row lands in one edit group');
  t.ok(hc.pairs.hallucinatedAbove !== null && hc.pairs.hallucinatedAbove >= 0 && hc.pairs.hallucinatedAbove <= 1);
  t.match(out, /Hard cases: share flagged per kind and edit/);
  t.match(out, /paraphrase\s+voice\s+\d+\s+0\s+\d+/);
});
