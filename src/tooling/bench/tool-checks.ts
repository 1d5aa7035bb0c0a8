import { parseArgs } from 'node:util';
import { availableParallelism, cpus, loadavg } from 'node:os';
import type { ToolCall, ToolDeclaration } from '../../capture/exchange.js';
import { fromRecord } from '../../capture/index.js';
import { ConfigSchema } from '../../config/schema.js';
import { analyse } from '../../detect/index.js';
import { checkToolCalls, clearSchemaCache, compiledSchema, schemaCacheStats } from '../../detect/tools.js';

/**
 * Tool-call checks per second on one thread (so one core), side by side in one run with
 * JSON.parse of the same arguments: the least any check must do. Each case runs for
 * `--duration` seconds per round, the cases in turn, over `--rounds` rounds; the table shows
 * each case's median and the rounds' spread. On a shared machine compare the ratios, not the
 * absolute figures.
 *
 *   node dist/tooling/bench/tool-checks.js [--rounds 5] [--duration 1]
 */

const SCHEMA = {
  type: 'object',
  properties: {
    city: { type: 'string', description: 'City name' },
    unit: { type: 'string', enum: ['celsius', 'fahrenheit'] },
    days: { type: 'integer', minimum: 1, maximum: 7 },
    include: { type: 'array', items: { type: 'string', enum: ['wind', 'rain', 'uv'] }, uniqueItems: true },
  },
  required: ['city'],
  additionalProperties: false,
};
const tools: ToolDeclaration[] = [
  { name: 'get_weather', kind: 'function', parameters: SCHEMA },
  { name: 'get_time', kind: 'function', parameters: { type: 'object', properties: { timezone: { type: 'string' } }, required: ['timezone'] } },
];
const VALID = '{"city":"Paris","unit":"celsius","days":3,"include":["wind","rain"]}';
const call = (name: string, args: string): ToolCall => ({ id: 'call_1', name, arguments: args, kind: 'function', complete: true });

interface Case {
  name: string;
  /** What one operation is. */
  unit: string;
  op: () => unknown;
}

function cases(): Case[] {
  // Every request brings its declarations parsed afresh, so a case parses them per operation as
  // the worker does: the compiled schema is then found by the schema's text, as in production.
  const toolsText = JSON.stringify(tools);
  const answer = (...toolCalls: ToolCall[]) => () => ({ tools: JSON.parse(toolsText) as ToolDeclaration[], response: { text: '', toolCalls } });
  const valid = answer(call('get_weather', VALID));
  const violations = answer(call('get_weather', '{"unit":"kelvin","days":"3","country":"FR"}'));
  const badJson = answer(call('get_weather', '{"city": "Paris", unit: celsius}'));
  const undeclared = answer(call('get_forecast', VALID));
  const parallel = answer(call('get_weather', VALID), call('get_time', '{"timezone":"Europe/Paris"}'), call('get_weather', '{"city":"Oslo"}'));
  const cfg = ConfigSchema.parse({}).detect;
  const record = {
    id: 'bench',
    provider: 'openai' as const,
    request: { model: 'gpt-bench', messages: [{ role: 'user', content: 'Weather in Paris?' }], tools: tools.map((t) => ({ type: 'function', function: { name: t.name, parameters: t.parameters } })) },
    response: { model: 'gpt-bench', choices: [{ index: 0, message: { role: 'assistant', content: null, tool_calls: [{ id: 'call_1', type: 'function', function: { name: 'get_weather', arguments: VALID } }] }, finish_reason: 'tool_calls' }] },
  };
  // As `check` reads a JSONL row: the whole row parsed, normalised and judged.
  const recordText = JSON.stringify(record);
  let n = 0;
  return [
    { name: 'JSON.parse of the arguments and the declarations (floor)', unit: 'parses', op: () => [JSON.parse(VALID), JSON.parse(toolsText)] },
    { name: 'valid call, schema compiled before', unit: 'calls', op: () => checkToolCalls(valid()) },
    { name: 'call with 4 schema violations', unit: 'calls', op: () => checkToolCalls(violations()) },
    { name: 'arguments not JSON', unit: 'calls', op: () => checkToolCalls(badJson()) },
    { name: 'undeclared tool', unit: 'calls', op: () => checkToolCalls(undeclared()) },
    { name: 'answer with 3 parallel calls', unit: 'answers', op: () => checkToolCalls(parallel()) },
    { name: 'schema seen for the first time (compile)', unit: 'schemas', op: () => compiledSchema({ ...SCHEMA, properties: { ...SCHEMA.properties, city: { type: 'string', maxLength: 100 + n++ } } }) },
    { name: 'tool-call-only exchange: JSON row parsed, captured, every detector', unit: 'exchanges', op: () => analyse(fromRecord(JSON.parse(recordText)), cfg) },
  ];
}

/**
 * Operations per second of wall time and per second of the process's CPU time, over `seconds`,
 * in batches so the clock is read rarely. On a machine shared with other work the CPU figure is
 * the one that says what a core of its own would do.
 */
function measure(op: () => unknown, seconds: number): { wall: number; cpu: number } {
  let done = 0;
  let batch = 64;
  const cpu0 = process.cpuUsage();
  const start = performance.now();
  const end = start + seconds * 1000;
  let now = start;
  while (now < end) {
    for (let i = 0; i < batch; i++) op();
    done += batch;
    now = performance.now();
    if (now - start < 50) batch *= 2;
  }
  const used = process.cpuUsage(cpu0);
  return { wall: (done * 1000) / (now - start), cpu: (done * 1e6) / Math.max(1, used.user + used.system) };
}

function main(): void {
  const { values } = parseArgs({ options: { rounds: { type: 'string', default: '5' }, duration: { type: 'string', default: '1' } } });
  const rounds = Math.max(1, Number(values.rounds));
  const duration = Math.max(0.1, Number(values.duration));
  const all = cases();
  for (const c of all) measure(c.op, 0.2); // warm up: JIT, caches
  const results = new Map<string, Array<{ wall: number; cpu: number }>>(all.map((c) => [c.name, []]));
  for (let r = 0; r < rounds; r++) {
    // Reversed every other round, so drifting background load falls on every case alike.
    const order = r % 2 === 0 ? all : [...all].reverse();
    for (const c of order) results.get(c.name)!.push(measure(c.op, duration));
  }
  const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
  const floor = median(results.get(all[0]!.name)!.map((r) => r.cpu));
  const fmt = (x: number) => Math.round(x).toLocaleString('en-US');
  const cpu = cpus()[0]?.model ?? 'unknown CPU';
  console.log(`# Tool-call checks, one thread (${cpu}, ${availableParallelism()} cores, Node ${process.version}, load average ${loadavg().map((l) => l.toFixed(2)).join(' ')})`);
  console.log(`${rounds} rounds × ${duration} s per case; medians, and [lowest … highest] round of the CPU figure.\n`);
  console.log('| case | per CPU-second | rounds | per wall-second | × JSON.parse (CPU) |');
  console.log('|---|---|---|---|---|');
  for (const c of all) {
    const cpu = results.get(c.name)!.map((r) => r.cpu);
    const wall = results.get(c.name)!.map((r) => r.wall);
    const m = median(cpu);
    console.log(`| ${c.name} | ${fmt(m)} ${c.unit} | [${fmt(Math.min(...cpu))} … ${fmt(Math.max(...cpu))}] | ${fmt(median(wall))} | ${(m / floor).toFixed(3)} |`);
  }
  const s = schemaCacheStats();
  console.log(`\nschema cache: ${s.size} entries held, ${s.compiles} compilations, ${s.hits} hits`);
  clearSchemaCache();
}

main();
