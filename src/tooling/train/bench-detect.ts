/**
 * Detector throughput on one core over the FaithBench dev rows.
 *
 *   npm run build && node dist/tooling/train/bench-detect.js [--rounds 7] [--rows faithbench] [--against DIR]
 *   npm run build && node dist/tooling/train/bench-detect.js --instructions [--rounds 4]
 *
 * A shared machine moves wall-clock rates with everybody else's load, so every figure is printed
 * beside what measured it:
 *
 * - `analyse` in exchanges per second of wall time and per second of this process's CPU time (the
 *   second moves far less when other processes take the CPU), with the load average at the time;
 * - a fixed reference workload in the same rounds, interleaved: the naive detector (lower-case the
 *   texts, split them into words, count the answer's words the context lacks), written here and
 *   never optimised, so `analyse`'s cost as a multiple of it can be compared between releases
 *   and machines;
 * - with `--against DIR`, the `analyse` of another build (DIR holds its `dist/`), interleaved in
 *   the same rounds: the ratio of the two is the honest before/after figure;
 * - with `--instructions`, instructions per exchange counted by valgrind's callgrind, which no
 *   other process can disturb: this script runs itself under callgrind twice, over 1 and over
 *   1 + rounds passes of the rows, and the difference is divided by the extra exchanges (the
 *   count includes JIT compilation and garbage collection, as a real worker pays them).
 */
import { spawnSync } from 'node:child_process';
import { loadavg } from 'node:os';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import type { Exchange } from '../../capture/exchange.js';
import type { DetectConfig } from '../../config/schema.js';
import { analyse } from '../../detect/index.js';
import { defaultDetectConfig, loadRows } from './data.js';

type Analyse = (exchange: Exchange, cfg: DetectConfig) => unknown;

const arg = (name: string): string | undefined => {
  const at = process.argv.indexOf(name);
  return at >= 0 ? process.argv[at + 1] : undefined;
};
const cfg = defaultDetectConfig();
const rowsName = arg('--rows') ?? 'faithbench';
const rows = loadRows(rowsName);
const exchanges = rows.map((r) => r.exchange);

/** The naive detector: the least any word-level check must do with the same texts. */
function reference(exchange: Exchange): number {
  const words = (s: string): string[] => s.toLowerCase().match(/[\p{L}\p{N}]+/gu) ?? [];
  const context = new Set<string>();
  for (const part of exchange.context) for (const w of words(part.text)) context.add(w);
  const answer = words(exchange.response.text);
  let missing = 0;
  for (const w of answer) if (!context.has(w)) missing++;
  return answer.length > 0 ? missing / answer.length : 0;
}

interface Rate {
  wall: number;
  cpu: number;
}

function measure(fn: (e: Exchange) => unknown): Rate {
  const c0 = process.cpuUsage();
  const t0 = process.hrtime.bigint();
  for (const e of exchanges) fn(e);
  const wall = Number(process.hrtime.bigint() - t0) / 1e9;
  const c = process.cpuUsage(c0);
  return { wall: exchanges.length / wall, cpu: exchanges.length / ((c.user + c.system) / 1e6) };
}

const median = (v: number[]): number => [...v].sort((a, b) => a - b)[Math.floor(v.length / 2)]!;
const fmt = (x: number): string => x.toFixed(0).padStart(7);
const load = (): string => loadavg().map((l) => l.toFixed(1)).join(' ');

async function timed(rounds: number, againstDir: string | undefined): Promise<void> {
  const runs: Array<{ name: string; fn: (e: Exchange) => unknown; rates: Rate[] }> = [
    { name: 'analyse (this build)', fn: (e) => analyse(e, cfg), rates: [] },
    { name: 'reference (naive)', fn: reference, rates: [] },
  ];
  if (againstDir) {
    const url = pathToFileURL(path.resolve(againstDir, 'dist/detect/index.js')).href;
    const other = (await import(url)) as { analyse: Analyse };
    runs.push({ name: `analyse (${againstDir})`, fn: (e) => other.analyse(e, cfg), rates: [] });
  }
  // Warm up each until the JIT has settled, then interleave, so a burst of load elsewhere falls on all.
  for (const r of runs) for (let k = 0; k < 3; k++) measure(r.fn);
  const loadBefore = load();
  for (let k = 0; k < rounds; k++) for (const r of runs) r.rates.push(measure(r.fn));
  console.log(`${exchanges.length} ${rowsName} rows, ${rounds} rounds interleaved, one core (Node ${process.version}); load average ${loadBefore} before, ${load()} after`);
  console.log(`${'workload'.padEnd(44)} ${'wall/s'.padStart(7)} ${'cpu/s'.padStart(7)}  (exchanges per second, median of rounds)`);
  const med = runs.map((r) => ({ wall: median(r.rates.map((x) => x.wall)), cpu: median(r.rates.map((x) => x.cpu)) }));
  runs.forEach((r, i) => console.log(`${r.name.padEnd(44)} ${fmt(med[i]!.wall)} ${fmt(med[i]!.cpu)}`));
  // Ratios per round, then their median: both sides of a ratio saw the same moment's load.
  const ratio = (a: number, b: number, pick: (x: Rate) => number): number => median(runs[a]!.rates.map((x, k) => pick(runs[b]!.rates[k]!) / pick(x)));
  console.log(`analyse costs ${ratio(0, 1, (x) => x.cpu).toFixed(2)}x the reference (cpu time; ${ratio(0, 1, (x) => x.wall).toFixed(2)}x wall)`);
  if (againstDir) console.log(`this build runs at ${(1 / ratio(0, 2, (x) => x.cpu)).toFixed(2)}x the rate of ${againstDir} (cpu time; ${(1 / ratio(0, 2, (x) => x.wall)).toFixed(2)}x wall)`);
}

/** Instructions for `passes` passes over the rows, counted by callgrind; undefined without valgrind. */
function instructions(passes: number): number | undefined {
  const out = spawnSync(
    'valgrind',
    ['--tool=callgrind', '--callgrind-out-file=/dev/null', process.execPath, process.argv[1]!, '--passes', String(passes), '--rows', rowsName, ...(arg('--against') ? ['--against', arg('--against')!] : [])],
    { encoding: 'utf8', maxBuffer: 64 << 20 },
  );
  if (out.error) return undefined;
  const m = /Collected\s*:\s*(\d+)/.exec(out.stderr);
  if (!m) throw new Error(`callgrind gave no count (exit ${out.status}): ${out.stderr.slice(-500)}`);
  return Number(m[1]);
}

async function counted(rounds: number): Promise<void> {
  const one = instructions(1);
  if (one === undefined) {
    console.log('valgrind is not installed (apt-get install valgrind): no instruction count');
    return;
  }
  const more = instructions(1 + rounds)!;
  const perExchange = (more - one) / (rounds * exchanges.length);
  console.log(`${(perExchange / 1e6).toFixed(3)} million instructions per exchange (callgrind, ${rounds} passes over ${exchanges.length} ${rowsName} rows beyond a first)`);
}

/** Under callgrind: just the passes, nothing timed. */
async function passes(n: number, againstDir: string | undefined): Promise<void> {
  let fn: Analyse = analyse;
  if (againstDir) fn = ((await import(pathToFileURL(path.resolve(againstDir, 'dist/detect/index.js')).href)) as { analyse: Analyse }).analyse;
  for (let k = 0; k < n; k++) for (const e of exchanges) fn(e, cfg);
}

const rounds = Number(arg('--rounds') ?? (process.argv.includes('--instructions') ? 4 : 7));
if (arg('--passes') !== undefined) await passes(Number(arg('--passes')), arg('--against'));
else if (process.argv.includes('--instructions')) await counted(rounds);
else await timed(rounds, arg('--against'));
