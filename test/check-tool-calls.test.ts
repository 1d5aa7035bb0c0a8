import t from 'tap';
import { execFile } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { CLI } from './helpers/processes.js';
import { anthropicToolMessage, anthropicTools, chatToolCompletion, chatTools, responsesToolResponse, responsesTools } from './helpers/tool-calls.js';

// `check` runs the worker's detectors on JSONL rows: rows whose answers call tools come out with
// the same tool_calls section and flags the worker would store.

const rows = [
  {
    id: 'chat-ok',
    provider: 'openai',
    request: { model: 'gpt-x', messages: [{ role: 'user', content: 'Weather in Paris?' }], tools: chatTools },
    response: chatToolCompletion('gpt-x', [{ id: 'c1', name: 'get_weather', arguments: '{"city":"Paris"}' }]),
  },
  {
    id: 'chat-parallel-bad',
    provider: 'openai',
    request: { model: 'gpt-x', messages: [{ role: 'user', content: 'Weather and time in Paris?' }], tools: chatTools },
    response: chatToolCompletion('gpt-x', [
      { id: 'c1', name: 'get_weather', arguments: '{"city":"Paris","unit":"kelvin"}' },
      { id: 'c2', name: 'get_clock', arguments: '{"timezone":"Europe/Paris"}' },
      { id: 'c3', name: 'get_time', arguments: '{"timezone": Europe/Paris}' },
    ]),
  },
  {
    id: 'responses-mixed',
    provider: 'openai',
    request: { model: 'gpt-r', input: 'Weather in Paris?', tools: responsesTools },
    response: responsesToolResponse('gpt-r', [{ id: 'r1', name: 'get_weather', arguments: '{}' }], 'Let me check.'),
  },
  {
    id: 'anthropic-ok',
    provider: 'anthropic',
    request: { model: 'claude-x', max_tokens: 100, messages: [{ role: 'user', content: 'Time in Paris?' }], tools: anthropicTools },
    response: anthropicToolMessage('claude-x', [{ id: 'toolu_1', name: 'get_time', arguments: '{"timezone":"Europe/Paris"}' }], 'Checking the time.'),
  },
];

t.test('check judges tool calls in JSONL rows, as the worker does', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'veracity-check-tools-'));
  const input = join(dir, 'rows.jsonl');
  writeFileSync(input, rows.map((r) => JSON.stringify(r)).join('\n') + '\n');
  const { VERACITY_CONFIG: _ignored, ...env } = process.env;
  const { code, stdout, stderr } = await new Promise<{ code: number; stdout: string; stderr: string }>((resolve) => {
    execFile(process.execPath, [CLI, 'check', '--input', input], { timeout: 60_000, env }, (err, stdout, stderr) =>
      resolve({ code: err ? Number((err as { code?: number }).code ?? 1) : 0, stdout, stderr }),
    );
  });
  t.equal(code, 0, stderr);
  const verdicts = stdout.trimEnd().split('\n').map((l) => JSON.parse(l));
  t.same(verdicts.map((v) => v.id), rows.map((r) => r.id), 'one verdict per row, in order');
  const view = verdicts.map((v) => [
    v.id,
    v.hallucination.flagged,
    v.tool_calls.checked,
    v.tool_calls.failed,
    v.tool_calls.calls.map((c: { name: string; failure_mode?: string; findings: Array<{ path: string; rule: string }> }) => [c.name, c.failure_mode ?? null, c.findings.map((f) => `${f.path} ${f.rule}`)]),
  ]);
  t.same(view, [
    ['chat-ok', false, 1, 0, [['get_weather', null, []]]],
    ['chat-parallel-bad', true, 3, 3, [['get_weather', 'tool_arguments', ['/unit enum']], ['get_clock', 'tool_name', [' declared']], ['get_time', 'tool_arguments', [' json']]]],
    ['responses-mixed', true, 1, 1, [['get_weather', 'tool_arguments', ['/city required']]]],
    ['anthropic-ok', false, 1, 0, [['get_time', null, []]]],
  ]);
});
