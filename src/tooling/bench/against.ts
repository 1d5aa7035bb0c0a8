/**
 * The proxy benchmark of this build beside other commits, in one run:
 *
 *   npm run build && node dist/tooling/bench/against.js --ref 63cf1c2 [--ref main] [--rounds 3]
 *
 * Each `--ref` is checked out with `git worktree add --detach` into a temporary folder, given this
 * checkout's node_modules and built with tsc. Then `serve` of every build (each on its own
 * redis-server), the fake upstream and `direct` (the upstream alone) stay up for the whole run,
 * and every cell is measured on each of them in turn, in reversed order every other round, so a
 * drifting background load falls on all alike. The table shows medians over the rounds, and the
 * ratios are medians of each round's own ratio (this build and the other measured minutes apart
 * would compare the machine's load, not the builds).
 *
 * Cells (`--cells`, all by default):
 *   c16   non-streaming JSON, upstream answers at once, 16 in flight: throughput
 *   c1    the same, one in flight: p50 and p99, and the latency each adds over direct in its round
 *   c256  upstream takes 50 ms, 256 in flight: throughput, and its ratio to direct
 *
 * Pinning as in `npm run bench`: every build's serve and redis-server on CPU 0, the load generator
 * and the fake upstream on the other core(s). Only one build is under load at a time; after each
 * of its cells the run waits for that build's analysis backlog to drain.
 */
import { execFileSync } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, symlinkSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { measure, requestBody, runLoadgen, startUpstream, VARY_MARKER, waitForIdleWorker, type Cpus } from './harness.js';
import type { LoadJob, LoadResult } from './loadgen.js';
import { markdownTable } from './report.js';
import { startTarget, type Target } from './targets.js';

const here = path.dirname(fileURLToPath(import.meta.url));
const repoRoot = path.resolve(here, '../../..');

const USAGE = `usage: node dist/tooling/bench/against.js --ref REF [--ref REF2 ...] [options]
  --ref REF               a commit (or branch, tag) to build in a temporary git worktree and compare with
  --dir DIR               instead of --ref: a checkout already built (DIR/dist/cli.js); may be repeated
  --rounds N              rounds of every cell (default 3)
  --cells LIST            c16,c1,c256 (default all)
  --duration S            measured seconds per cell (default 5)
  --warmup S              warm-up seconds per cell (default 1)
  --prewarm S             zero-latency load per build before the first round (default 4)
  --veracity-config FILE  VERACITY_CONFIG for every build's serve (e.g. inline mode on)
  --also-config FILE      also run this build with VERACITY_CONFIG=FILE, as one more target; may be repeated
  --keep                  keep the worktrees (their paths are printed) instead of removing them
  --no-pin                do not pin processes to cores
  --vary-context          every request carries a context of its own (a numbered sentence first), so
                          nothing kept for a repeated context helps: the case of many documents`;

interface CellSpec {
  name: string;
  latencyMs: number;
  concurrency: number;
}
const CELLS: Record<string, CellSpec> = {
  c16: { name: 'c16', latencyMs: 0, concurrency: 16 },
  c1: { name: 'c1', latencyMs: 0, concurrency: 1 },
  c256: { name: 'c256', latencyMs: 50, concurrency: 256 },
};

interface Build {
  label: string;
  root: string;
  /** A worktree this run made, to remove at the end. */
  worktree?: string;
}

function git(args: string[], cwd = repoRoot): string {
  return execFileSync('git', args, { cwd, encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] }).trim();
}

/** Checks `ref` out beside this checkout and builds it with this checkout's tsc and node_modules. */
function buildRef(ref: string, log: (s: string) => void): Build {
  const sha = git(['rev-parse', '--short', `${ref}^{commit}`]);
  const dir = mkdtempSync(path.join(os.tmpdir(), `veracity-${sha}-`));
  git(['worktree', 'add', '--detach', dir, sha]);
  symlinkSync(path.join(repoRoot, 'node_modules'), path.join(dir, 'node_modules'), 'dir');
  log(`building ${ref} (${sha}) in ${dir}`);
  const t0 = Date.now();
  execFileSync(process.execPath, [path.join(repoRoot, 'node_modules/typescript/bin/tsc'), '-p', path.join(dir, 'tsconfig.json')], { cwd: dir, stdio: 'inherit' });
  log(`built ${sha} in ${((Date.now() - t0) / 1000).toFixed(0)} s`);
  return { label: ref === sha ? sha : `${ref} (${sha})`, root: dir, worktree: dir };
}

function removeWorktree(b: Build): void {
  if (!b.worktree) return;
  try {
    git(['worktree', 'remove', '--force', b.worktree]);
  } catch {
    rmSync(b.worktree, { recursive: true, force: true });
    git(['worktree', 'prune']);
  }
}

/**
 * CPU seconds of a process tree's threads, split by scheduling policy: threads at SCHED_IDLE (the
 * analysis thread of serve) take only what nothing else wants; everything else (the proxy's
 * thread, V8's helper threads, redis-server) competes with the proxy for its core.
 */
function cpuByPolicy(pids: number[]): { normal: number; idle: number } {
  let normal = 0;
  let idle = 0;
  for (const pid of pids) {
    let tids: string[] = [];
    try {
      tids = readdirSync(`/proc/${pid}/task`);
    } catch {
      continue;
    }
    for (const tid of tids) {
      try {
        const stat = readFileSync(`/proc/${pid}/task/${tid}/stat`, 'utf8');
        const f = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
        // After the command: utime and stime are fields 14 and 15, policy field 41 (5 = SCHED_IDLE).
        const cpu = (Number(f[11]) + Number(f[12])) / 100;
        if (Number(f[38]) === 5) idle += cpu;
        else normal += cpu;
      } catch {
        // the thread ended
      }
    }
  }
  return { normal, idle };
}

interface Sample {
  round: number;
  cell: string;
  target: string;
  load: LoadResult;
  /** serve's process (proxy and analysis thread), and its redis-server: % of one core over the window. */
  cpuPercent: number;
  auxCpuPercent?: number;
  /** From the window's start until the analysis backlog drained, per measured request, µs. */
  coreUsPerReq?: number;
  analysisUsPerReq?: number;
}

const median = (xs: readonly number[]): number => {
  const v = xs.filter(Number.isFinite).sort((a, b) => a - b);
  if (v.length === 0) return NaN;
  const m = v.length >> 1;
  return v.length % 2 ? v[m]! : (v[m - 1]! + v[m]!) / 2;
};
const f = (x: number, d = 0) => (Number.isFinite(x) ? x.toLocaleString('en-US', { minimumFractionDigits: d, maximumFractionDigits: d }) : '–');
const loadAvg = () => os.loadavg().map((x) => x.toFixed(2)).join(' ');

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      ref: { type: 'string', multiple: true, default: [] },
      dir: { type: 'string', multiple: true, default: [] },
      rounds: { type: 'string', default: '3' },
      cells: { type: 'string', default: 'c16,c1,c256' },
      duration: { type: 'string', default: '5' },
      warmup: { type: 'string', default: '1' },
      prewarm: { type: 'string', default: '4' },
      'veracity-config': { type: 'string' },
      'also-config': { type: 'string', multiple: true, default: [] },
      keep: { type: 'boolean', default: false },
      'no-pin': { type: 'boolean', default: false },
      'vary-context': { type: 'boolean', default: false },
      help: { type: 'boolean', default: false },
    },
  });
  if (values.help) {
    console.log(USAGE);
    return;
  }
  const num = (s: string, name: string) => {
    const n = Number(s);
    if (!Number.isFinite(n) || n < 0) throw new Error(`--${name}: '${s}' is not a non-negative number`);
    return n;
  };
  const rounds = Math.max(1, Math.round(num(values.rounds, 'rounds')));
  const durationMs = num(values.duration, 'duration') * 1000;
  const warmupMs = num(values.warmup, 'warmup') * 1000;
  const prewarmMs = num(values.prewarm, 'prewarm') * 1000;
  const varied = values['vary-context'];
  const vary = varied ? { varyMarker: VARY_MARKER } : {};
  const cells = values.cells.split(',').map((c) => {
    const spec = CELLS[c.trim()];
    if (!spec) throw new Error(`--cells: unknown cell '${c}' (known: ${Object.keys(CELLS).join(', ')})`);
    return spec;
  });
  if (values.ref.length + values.dir.length === 0 && values['also-config'].length === 0) throw new Error(`give at least one --ref or --dir\n${USAGE}`);
  if (!existsSync(path.join(repoRoot, 'dist/cli.js'))) throw new Error('this build has no dist/cli.js: run npm run build first');
  const log = (s: string) => process.stderr.write(`${s}\n`);

  const ncpu = os.cpus().length;
  const cpus: Cpus = !values['no-pin'] && ncpu >= 2 ? { underTest: '0', load: ncpu === 2 ? '1' : `1-${ncpu - 1}` } : { underTest: undefined, load: undefined };
  const head = git(['rev-parse', '--short', 'HEAD']);
  const dirty = git(['status', '--porcelain', '--untracked-files=no']) !== '';
  const thisLabel = `this build (${head}${dirty ? '+changes' : ''})`;
  const others: Build[] = [];
  const running: { label: string; target: Target }[] = [];
  let upstream: Awaited<ReturnType<typeof startUpstream>> | undefined;
  const cleanup = async () => {
    for (const r of running) await r.target.stop().catch(() => undefined);
    upstream?.stop();
    if (!values.keep) for (const b of others) removeWorktree(b);
    else for (const b of others) if (b.worktree) log(`kept ${b.worktree} (git worktree remove --force ${b.worktree})`);
  };
  const onSignal = () => void cleanup().finally(() => process.exit(130));
  process.once('SIGINT', onSignal);
  process.once('SIGTERM', onSignal);

  const samples: Sample[] = [];
  const loadStart = loadAvg();
  try {
    for (const ref of values.ref) others.push(buildRef(ref, log));
    for (const dir of values.dir) {
      if (!existsSync(path.join(dir, 'dist/cli.js'))) throw new Error(`--dir ${dir}: no dist/cli.js there`);
      others.push({ label: path.basename(path.resolve(dir)), root: path.resolve(dir) });
    }
    upstream = await startUpstream(cpus, 200);
    const ctx = { upstreamPort: upstream.port, cpus: cpus.underTest, veracityMode: 'serve' as const, veracityConfig: values['veracity-config'] };
    running.push({ label: 'direct', target: await startTarget('direct', { ...ctx, repoRoot }) });
    running.push({ label: thisLabel, target: await startTarget('veracity', { ...ctx, repoRoot }) });
    for (const also of values['also-config']) running.push({ label: `this build, ${path.basename(also)}`, target: await startTarget('veracity', { ...ctx, repoRoot, veracityConfig: also }) });
    for (const b of others) running.push({ label: b.label, target: await startTarget('veracity', { ...ctx, repoRoot: b.root }) });
    const headers = { authorization: 'Bearer sk-bench-not-a-real-key' };
    const drain = async (t: Target) => {
      if (t.metricsUrls.length) await waitForIdleWorker([`${t.origin}/metrics`, ...t.metricsUrls], 30_000);
    };

    // Freshly started processes are still compiling their hot paths; production ones are not.
    for (const { label, target } of running) {
      if (target.name === 'direct' || prewarmMs === 0) continue;
      const job: LoadJob = { origin: target.origin, path: '/v1/chat/completions', headers, body: requestBody('json', 0, 0, varied), stream: false, concurrency: 16, warmupMs: 0, durationMs: prewarmMs, drainMs: 5000, ...vary };
      await runLoadgen(job, cpus).catch((e: Error) => log(`${label}: pre-warm failed: ${e.message}`));
      await drain(target);
    }

    for (let round = 0; round < rounds; round++) {
      log(`round ${round + 1}/${rounds}, load average ${loadAvg()}`);
      for (const cell of cells) {
        for (const { label, target } of round % 2 ? [...running].reverse() : running) {
          const job: LoadJob = {
            origin: target.origin,
            path: '/v1/chat/completions',
            headers,
            body: requestBody('json', cell.latencyMs, 0, varied),
            stream: false,
            concurrency: cell.concurrency,
            warmupMs,
            durationMs,
            drainMs: 5000,
            ...vary,
          };
          const pids = () => [...target.proxyPids(), ...target.auxPids()];
          let cpu0: ReturnType<typeof cpuByPolicy> | undefined;
          const at = setTimeout(() => (cpu0 = cpuByPolicy(pids())), warmupMs);
          const m = await measure(target, job, cpus);
          clearTimeout(at);
          await drain(target);
          const cpu1 = cpuByPolicy(pids());
          const perReq = (a: number, b: number | undefined) => (b !== undefined && m.load.requests > 0 ? ((a - b) / m.load.requests) * 1e6 : NaN);
          samples.push({
            round,
            cell: cell.name,
            target: label,
            load: m.load,
            cpuPercent: m.proxy.cpuPercent,
            auxCpuPercent: m.aux?.cpuPercent,
            ...(target.name === 'veracity' ? { coreUsPerReq: perReq(cpu1.normal, cpu0?.normal), analysisUsPerReq: perReq(cpu1.idle, cpu0?.idle) } : {}),
          });
          log(
            `  ${cell.name.padEnd(5)} ${label.padEnd(28)} ${f(m.load.throughput)} req/s p50 ${f(m.load.latency.p50, 3)} p99 ${f(m.load.latency.p99, 3)} ms` +
              ` cpu ${f(m.proxy.cpuPercent)}%${m.aux ? ` (+redis ${f(m.aux.cpuPercent)}%)` : ''}` +
              (target.name === 'veracity' ? ` core ${f(samples.at(-1)!.coreUsPerReq ?? NaN)} µs/req, analysis ${f(samples.at(-1)!.analysisUsPerReq ?? NaN)} µs/req` : '') +
              ` err ${m.load.errors}${m.load.errorSamples[0] ? ` (${m.load.errorSamples[0]})` : ''}`,
          );
        }
      }
    }
  } finally {
    await cleanup();
  }
  process.stdout.write(render(samples, cells, running.map((r) => r.label), thisLabel, { rounds, durationMs, warmupMs, loadStart, loadEnd: loadAvg(), cpus }));
}

function render(samples: Sample[], cells: CellSpec[], labels: string[], thisLabel: string, o: { rounds: number; durationMs: number; warmupMs: number; loadStart: string; loadEnd: string; cpus: Cpus }): string {
  const veracities = labels.filter((l) => l !== 'direct');
  const others = veracities.filter((l) => l !== thisLabel);
  const get = (cell: string, target: string, round: number) => samples.find((s) => s.cell === cell && s.target === target && s.round === round);
  const perRound = (cell: string, target: string, fn: (s: Sample, direct: Sample | undefined) => number) =>
    median(Array.from({ length: o.rounds }, (_, r) => {
      const s = get(cell, target, r);
      return s ? fn(s, get(cell, 'direct', r)) : NaN;
    }));
  // Each round's figure of this build over the other's, then the median of those.
  const ratioToThis = (cell: string, other: string, fn: (s: Sample, d: Sample | undefined) => number) =>
    median(Array.from({ length: o.rounds }, (_, r) => {
      const a = get(cell, thisLabel, r);
      const b = get(cell, other, r);
      return a && b ? fn(a, get(cell, 'direct', r)) / fn(b, get(cell, 'direct', r)) : NaN;
    }));
  const rows: string[][] = [];
  const row = (cell: string, figure: string, fn: (s: Sample, d: Sample | undefined) => number, digits: number, withDirect: boolean, ratio: boolean) => {
    rows.push([
      cell,
      figure,
      withDirect ? f(perRound(cell, 'direct', fn), digits) : '',
      ...veracities.map((t) => f(perRound(cell, t, fn), digits)),
      ...others.map((t) => (ratio ? `${f(ratioToThis(cell, t, fn), 2)}×` : '')),
    ]);
  };
  const tput = (s: Sample) => s.load.throughput;
  const cpuPerK = (s: Sample) => ((s.cpuPercent + (s.auxCpuPercent ?? 0)) * 10 * (o.durationMs / 1000)) / Math.max(1, s.load.throughput * (o.durationMs / 1000)) * 1000;
  for (const c of cells) {
    if (c.name === 'c16' || c.name === 'c256') {
      row(c.name, 'req/s', tput, 0, true, true);
      row(c.name, '× direct (same round)', (s, d) => (d ? s.load.throughput / d.load.throughput : NaN), 3, false, true);
      row(c.name, 'CPU ms per 1,000 req (serve + redis, window)', cpuPerK, 0, false, true);
      row(c.name, 'µs/req competing with the proxy (until drained)', (s) => s.coreUsPerReq ?? NaN, 0, false, true);
      row(c.name, 'µs/req of analysis at SCHED_IDLE (until drained)', (s) => s.analysisUsPerReq ?? NaN, 0, false, true);
    } else {
      row(c.name, 'p50 ms', (s) => s.load.latency.p50, 3, true, true);
      row(c.name, 'p99 ms', (s) => s.load.latency.p99, 3, true, true);
      row(c.name, '+p50 ms over direct (same round)', (s, d) => (d ? s.load.latency.p50 - d.load.latency.p50 : NaN), 3, false, true);
      row(c.name, '+p99 ms over direct (same round)', (s, d) => (d ? s.load.latency.p99 - d.load.latency.p99 : NaN), 3, false, true);
    }
  }
  const errs = samples.filter((s) => s.load.errors > 0).map((s) => `${s.target} ${s.cell} round ${s.round + 1}: ${s.load.errors} errors (${s.load.errorSamples[0] ?? ''})`);
  return [
    `# Proxy benchmark, side by side (${new Date().toISOString()})`,
    '',
    `Machine: ${os.cpus()[0]?.model ?? 'unknown'}, ${os.cpus().length} cores, Node ${process.version}. Load average (1/5/15 min) at start ${o.loadStart}, at end ${o.loadEnd}.`,
    `Pinning: ${o.cpus.underTest ? `every serve and its redis-server on CPU ${o.cpus.underTest}; load generator and fake upstream on CPU ${o.cpus.load}` : 'none'}.`,
    `${o.rounds} rounds, each cell ${o.warmupMs / 1000} s warm-up + ${o.durationMs / 1000} s measured on every target in turn (reversed every other round). Figures: medians over rounds; ratios: median of each round's own ratio, this build / the other (throughput: above 1 is better; CPU and latency: below 1 is better).`,
    `Cells: c16 = upstream answers at once, 16 in flight; c1 = the same, 1 in flight; c256 = upstream takes 50 ms, 256 in flight. Non-streaming chat completions with a grounding context.`,
    "`µs/req competing with the proxy`: CPU of serve's threads not at SCHED_IDLE (the proxy's own, V8's helpers) and of its redis-server, from the window's start until the analysis backlog drained, per request: what bounds throughput at c16 on a quiet machine. `analysis at SCHED_IDLE`: the analysis thread's, which only takes what nothing else wants.",
    `Command: node dist/tooling/bench/against.js ${process.argv.slice(2).join(' ')}`,
    '',
    markdownTable(['cell', 'figure', 'direct', ...veracities, ...others.map((t) => `this / ${t.replace(/ \(.*\)$/, '')}`)], rows),
    '',
    ...(errs.length ? ['Errors:', ...errs.map((e) => `- ${e}`), ''] : []),
  ].join('\n');
}

main().catch((e: unknown) => {
  process.stderr.write(`against failed: ${(e as Error).stack ?? String(e)}\n`);
  process.exit(1);
});
