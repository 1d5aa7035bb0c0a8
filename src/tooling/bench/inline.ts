// `node dist/tooling/bench/inline.js`: what inline mode costs. One Veracity (proxy + worker + Redis) in
// front of the fake upstream; every cell is measured with inline off, annotate and block in turn
// (chosen per request with x-veracity-inline, so all three run through the same warm process),
// the order reversed every other round. See docs/inline.md for the figures.
import { mkdirSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { ConfigSchema } from '../../config/schema.js';
import { judge, type HeldAnswer } from '../../proxy/inline/judge.js';
import { Judges } from '../../proxy/inline/judge-thread.js';
import { LONG_ANSWER, LONG_CONTEXT, LONG_QUESTION } from './inline-texts.js';
import type { LoadJob, LoadResult } from './loadgen.js';
import { runLoadgen, startUpstream } from './harness.js';
import { startTarget, type Target } from './targets.js';

const here = path.dirname(fileURLToPath(import.meta.url));
const repoRoot = path.resolve(here, '../../..');

const USAGE = `usage: node dist/tooling/bench/inline.js [options]
  --rounds N        rounds; each measures every cell in every mode (default 3)
  --duration S      measured seconds per cell (default 3)
  --warmup S        warm-up seconds per cell (default 0.5)
  --latency-ms N    upstream latency before headers (default 0: the proxy's own cost, nothing hides it)
  --sizes LIST      short,long (default both)
  --config FILE     VERACITY_CONFIG for Veracity (e.g. other inline.threadAboveBytes / inline.threads)
  --no-pin          do not pin the proxy to CPU 0 and the load to the others
  --out DIR         where inline.md and inline.json go (default bench-results)`;

const MODES = ['off', 'annotate', 'block'] as const;
type Mode = (typeof MODES)[number];
type Size = 'short' | 'long';
const CONCURRENCY = [1, 16] as const;

interface Cell {
  round: number;
  size: Size;
  concurrency: number;
  mode: Mode;
  load: LoadResult;
  /** Mean time the proxy spent judging one answer inline in this cell, ms (from its /metrics). */
  judgeMs?: number;
}

function body(size: Size, latencyMs: number): string {
  const model = `bench-${latencyMs}ms${size === 'long' ? '-long' : ''}`;
  const messages =
    size === 'long'
      ? [
          { role: 'system', content: `Answer from the context.\n\n${LONG_CONTEXT}` },
          { role: 'user', content: LONG_QUESTION },
        ]
      : [
          { role: 'system', content: 'Context: The Eiffel Tower is in Paris. It was completed in 1889 for the World Fair.' },
          { role: 'user', content: 'Where is the Eiffel Tower?' },
        ];
  return JSON.stringify({ model, messages });
}



/** Sum and count of veracity_inline_analysis_seconds on the proxy, all modes. */
async function judgeTotals(origin: string): Promise<{ sum: number; count: number }> {
  const text = await (await fetch(`${origin}/metrics`)).text();
  let sum = 0;
  let count = 0;
  for (const line of text.split('\n')) {
    if (line.startsWith('veracity_inline_analysis_seconds_sum')) sum += Number(line.slice(line.lastIndexOf(' ') + 1));
    if (line.startsWith('veracity_inline_analysis_seconds_count')) count += Number(line.slice(line.lastIndexOf(' ') + 1));
  }
  return { sum, count };
}

/**
 * What inline mode adds per answer, measured where other processes move it least: the CPU time
 * of judge() (read the bytes, run the detectors) in this process, for the answers the cells get.
 */
function heldAnswer(size: Size, latencyMs: number): HeldAnswer {
  const text = size === 'long' ? LONG_ANSWER : 'The Eiffel Tower is in Paris.';
  const response = Buffer.from(JSON.stringify({ id: 'chatcmpl-bench', object: 'chat.completion', created: 1, model: 'bench', choices: [{ index: 0, message: { role: 'assistant', content: text, refusal: null }, logprobs: null, finish_reason: 'stop' }], usage: { prompt_tokens: 1, completion_tokens: 1, total_tokens: 2 } }));
  return { id: 'bench', provider: 'openai', route: 'chat.completions', upstream: 'openai', request: Buffer.from(body(size, latencyMs)), response, contentType: 'application/json', status: 200, startedAt: 0, endedAt: 0 };
}

/**
 * How long a request waits for its verdict, judged on the event loop and on a judging thread
 * (inline.threadAboveBytes decides which): wall time p50 of back-to-back judgements, the two
 * interleaved in rounds.
 */
async function judgeWaitMs(size: Size, latencyMs: number): Promise<{ loop: number; thread: number }> {
  const held = heldAnswer(size, latencyMs);
  const where = { loop: new Judges(ConfigSchema.parse({ inline: { threadAboveBytes: Number.MAX_SAFE_INTEGER } })), thread: new Judges(ConfigSchema.parse({ inline: { threadAboveBytes: 0 } })) };
  const samples = { loop: [] as number[], thread: [] as number[] };
  const n = size === 'long' ? 20 : 200;
  for (let round = 0; round < 6; round++) {
    for (const w of round % 2 ? (['thread', 'loop'] as const) : (['loop', 'thread'] as const)) {
      for (let i = 0; i < n; i++) {
        const t0 = performance.now();
        await where[w].judge(held);
        if (round > 0) samples[w].push(performance.now() - t0);
      }
    }
  }
  await Promise.all([where.loop.close(), where.thread.close()]);
  return { loop: median(samples.loop), thread: median(samples.thread) };
}

function judgeCpuMs(size: Size, latencyMs: number): number {
  const config = ConfigSchema.parse({});
  const held = heldAnswer(size, latencyMs);
  for (let i = 0; i < 50; i++) judge(held, config);
  const runs: number[] = [];
  for (let r = 0; r < 5; r++) {
    const n = size === 'long' ? 40 : 400;
    const t0 = process.cpuUsage();
    for (let i = 0; i < n; i++) judge(held, config);
    const used = process.cpuUsage(t0);
    runs.push((used.user + used.system) / 1000 / n);
  }
  return median(runs);
}

const median = (xs: number[]): number => {
  const s = xs.filter(Number.isFinite).sort((a, b) => a - b);
  if (s.length === 0) return NaN;
  return s.length % 2 ? s[(s.length - 1) / 2]! : (s[s.length / 2 - 1]! + s[s.length / 2]!) / 2;
};
const f = (x: number, digits = 2) => (Number.isFinite(x) ? x.toFixed(digits) : '–');
const load = () => os.loadavg().map((x) => x.toFixed(2)).join(' ');

async function main() {
  const { values } = parseArgs({
    options: {
      rounds: { type: 'string', default: '3' },
      duration: { type: 'string', default: '3' },
      warmup: { type: 'string', default: '0.5' },
      'latency-ms': { type: 'string', default: '0' },
      sizes: { type: 'string', default: 'short,long' },
      config: { type: 'string' },
      'no-pin': { type: 'boolean', default: false },
      out: { type: 'string', default: 'bench-results' },
      help: { type: 'boolean', default: false },
    },
  });
  if (values.help) {
    console.log(USAGE);
    return;
  }
  const rounds = Math.max(1, Number(values.rounds));
  const durationMs = Number(values.duration) * 1000;
  const warmupMs = Number(values.warmup) * 1000;
  const latencyMs = Number(values['latency-ms']);
  const sizes = values.sizes.split(',').map((s) => s.trim()) as Size[];
  for (const s of sizes) if (s !== 'short' && s !== 'long') throw new Error(`--sizes: unknown size '${s}'`);
  if (![rounds, durationMs, warmupMs, latencyMs].every((n) => Number.isFinite(n) && n >= 0)) throw new Error('--rounds, --duration, --warmup and --latency-ms take non-negative numbers');
  const cores = os.cpus().length;
  const pin = !values['no-pin'] && cores >= 2;
  const underTest = pin ? '0' : undefined;
  const loadCpus = pin ? `1-${cores - 1}` : undefined;
  const log = (m: string) => process.stderr.write(`[inline-bench] ${m}\n`);
  const loadBefore = load();
  const cpuMs = Object.fromEntries(sizes.map((size) => [size, judgeCpuMs(size, latencyMs)]));
  log(`judge() CPU time per answer: ${sizes.map((s) => `${s} ${cpuMs[s]!.toFixed(3)} ms`).join(', ')}`);
  const waits: Record<string, { loop: number; thread: number }> = {};
  for (const size of sizes) waits[size] = await judgeWaitMs(size, latencyMs);
  log(`wait for a verdict, p50: ${sizes.map((s) => `${s} ${waits[s]!.loop.toFixed(3)} ms on the event loop, ${waits[s]!.thread.toFixed(3)} ms on a thread`).join('; ')}`);

  const upstream = await startUpstream({ load: loadCpus });
  let target: Target | undefined;
  const cells: Cell[] = [];
  try {
    target = await startTarget('veracity', { upstreamPort: upstream.port, cpus: underTest, repoRoot, veracityMode: 'split', veracityConfig: values.config });
    const job = (size: Size, mode: Mode, concurrency: number, w: number, d: number): LoadJob => ({
      origin: target!.origin,
      path: '/v1/chat/completions',
      headers: { authorization: 'Bearer sk-bench', 'x-veracity-inline': mode },
      body: body(size, latencyMs),
      stream: false,
      concurrency,
      warmupMs: w,
      durationMs: d,
      drainMs: 5000,
    });
    log(`pre-warming (${sizes.join(', ')} × ${MODES.join(', ')})`);
    for (const size of sizes) for (const mode of MODES) await runLoadgen(job(size, mode, 16, 0, 1500), { load: loadCpus });

    for (let round = 1; round <= rounds; round++) {
      const order = round % 2 ? [...MODES] : [...MODES].reverse();
      for (const size of sizes) {
        for (const concurrency of CONCURRENCY) {
          for (const mode of order) {
            const before = await judgeTotals(target.origin);
            const result = await runLoadgen(job(size, mode, concurrency, warmupMs, durationMs), { load: loadCpus });
            const after = await judgeTotals(target.origin);
            const judged = after.count - before.count;
            cells.push({ round, size, concurrency, mode, load: result, judgeMs: judged > 0 ? ((after.sum - before.sum) / judged) * 1000 : undefined });
            log(`round ${round} ${size} c=${concurrency} ${mode}: ${result.throughput} req/s, p50 ${result.latency.p50} ms, p99 ${result.latency.p99} ms, errors ${result.errors}`);
          }
        }
      }
    }
  } finally {
    await target?.stop();
    upstream.stop();
  }
  const loadAfter = load();

  const find = (round: number, size: Size, c: number, mode: Mode) => cells.find((x) => x.round === round && x.size === size && x.concurrency === c && x.mode === mode)!;
  const lines: string[] = [];
  const cpu = os.cpus()[0]?.model ?? 'unknown CPU';
  lines.push(
    `## Inline mode: cost (${new Date().toISOString()})`,
    '',
    `${cpu}, ${cores} cores, Node ${process.version}; load average ${loadBefore} before, ${loadAfter} after. ` +
      `Upstream latency ${latencyMs} ms; ${rounds} rounds of ${durationMs / 1000} s cells (medians over rounds; added figures are per-round differences from off, then the median); ` +
      `${pin ? 'proxy, worker and Redis on CPU 0, load generator and upstream on the rest' : 'no pinning'}.`,
    '',
    `judge() CPU time per answer (read + detectors, one thread, median of 5 runs): ${sizes.map((s) => `${s} ${f(cpuMs[s]!, 3)} ms`).join(', ')}.`,
    `Wait for a verdict, back to back, p50: ${sizes.map((s) => `${s} ${f(waits[s]!.loop, 3)} ms on the event loop, ${f(waits[s]!.thread, 3)} ms on a thread`).join('; ')}.`,
    '',
    '| answer | mode | c=1 p50 ms | c=1 p99 ms | added p50 ms | added p99 ms | c=16 req/s | × off | judge ms (mean) | errors |',
    '|---|---|---|---|---|---|---|---|---|---|',
  );
  const summary: Record<string, unknown> = {};
  for (const size of sizes) {
    for (const mode of MODES) {
      const rs = Array.from({ length: rounds }, (_, i) => i + 1);
      const c1 = rs.map((r) => find(r, size, 1, mode));
      const c16 = rs.map((r) => find(r, size, 16, mode));
      const p50 = median(c1.map((x) => x.load.latency.p50));
      const p99 = median(c1.map((x) => x.load.latency.p99));
      const addedP50 = median(rs.map((r) => find(r, size, 1, mode).load.latency.p50 - find(r, size, 1, 'off').load.latency.p50));
      const addedP99 = median(rs.map((r) => find(r, size, 1, mode).load.latency.p99 - find(r, size, 1, 'off').load.latency.p99));
      const rps = median(c16.map((x) => x.load.throughput));
      const ratio = median(rs.map((r) => find(r, size, 16, mode).load.throughput / find(r, size, 16, 'off').load.throughput));
      const judgeMs = median([...c1, ...c16].map((x) => x.judgeMs ?? NaN));
      const errors = [...c1, ...c16].reduce((n, x) => n + x.load.errors, 0);
      summary[`${size}/${mode}`] = { p50, p99, addedP50, addedP99, rps, ratio, judgeMs, errors };
      lines.push(`| ${size} | ${mode} | ${f(p50, 3)} | ${f(p99, 3)} | ${mode === 'off' ? '' : f(addedP50, 3)} | ${mode === 'off' ? '' : f(addedP99, 3)} | ${f(rps, 0)} | ${mode === 'off' ? '1' : f(ratio)} | ${f(judgeMs, 3)} | ${errors} |`);
    }
  }
  lines.push('', `Command: \`node dist/tooling/bench/inline.js ${process.argv.slice(2).join(' ')}\``.replace(/ `$/, '`'));
  const md = lines.join('\n');
  process.stdout.write(`${md}\n`);
  const out = path.resolve(values.out);
  mkdirSync(out, { recursive: true });
  writeFileSync(path.join(out, 'inline.md'), `${md}\n`);
  writeFileSync(path.join(out, 'inline.json'), `${JSON.stringify({ loadBefore, loadAfter, judgeCpuMs: cpuMs, judgeWaitMs: waits, latencyMs, rounds, durationMs, summary, cells }, (_k, v: unknown) => (typeof v === 'number' && !Number.isFinite(v) ? null : v), 2)}\n`);
  log(`wrote ${path.join(out, 'inline.md')} and inline.json`);
}

main().catch((e: unknown) => {
  process.stderr.write(`inline bench failed: ${(e as Error).stack ?? String(e)}\n`);
  process.exit(1);
});
