// `npm run bench`: direct, Veracity, nginx and Portkey side by side against one fake upstream,
// on loopback, with bounded run times. See src/tooling/bench/README.md.
import { mkdirSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { measure, requestBody, runLoadgen, startUpstream, waitForIdleWorker, type Cpus } from './harness.js';
import type { LoadJob, LoadResult } from './loadgen.js';
import { derive, markdownTable, mergeRounds, renderCells, type Cell, type Kind } from './report.js';
import { bucketQuantile, percentile } from './stats.js';
import { TARGET_NAMES, TargetUnavailable, startTarget, type Target, type TargetName } from './targets.js';

const here = path.dirname(fileURLToPath(import.meta.url));
const repoRoot = path.resolve(here, '../../..');

const USAGE = `usage: npm run bench -- [options]
  --quick                 ~1 minute subset (json+stream, latency 50 ms, concurrency 1 and 64, 0.5+1.5 s cells,
                          streams and lag runs shortened and through Veracity only)
  --targets LIST          direct,veracity,node-min,nginx,portkey (default all; direct is always added;
                          node-min is a 40-line node:http + undici proxy, the floor for any Node proxy)
  --kinds LIST            json,stream (default both)
  --latencies LIST        upstream latency ms before headers (default 0,50)
  --concurrency LIST      in-flight requests (default 1,16,64,256)
  --duration S            measured seconds per cell (default 5)
  --warmup S              warm-up seconds per cell (default 1)
  --rounds N              measure every cell N times, the targets in turn and in reversed order every
                          other round; tables show the median of the rounds (default 1)
  --prewarm S             load per target before the first cell, so JIT compilation is over (default 4; 2 in --quick)
  --chunks N              streamed content chunks (default 200)
  --chunk-gap-ms N        upstream delay between streamed chunks (default 5)
  --sub LIST              extra runs: streams,lag or none (default streams,lag)
  --streams N             concurrent streams for the 'streams' run (default 1000)
  --lag-rps N             offered rate for the 'lag' run (default 200)
  --lag-seconds S         length of the 'lag' run (default 30)
  --veracity-mode M       split (proxy + worker processes) or serve (one process) (default split)
  --veracity-config FILE  VERACITY_CONFIG for Veracity's processes (default: its own default)
  --no-pin                do not pin processes to cores with taskset
  --out DIR               where bench.md and bench.json go (default bench-results)`;

function list(s: string): string[] {
  return s.split(',').map((x) => x.trim()).filter(Boolean);
}

function numbers(s: string, name: string): number[] {
  return list(s).map((x) => {
    const n = Number(x);
    if (!Number.isFinite(n) || n < 0) throw new Error(`--${name}: '${x}' is not a non-negative number`);
    return n;
  });
}

interface Options {
  targets: TargetName[];
  kinds: Kind[];
  latencies: number[];
  concurrency: number[];
  durationMs: number;
  warmupMs: number;
  prewarmMs: number;
  chunks: number;
  chunkGapMs: number;
  sub: ('streams' | 'lag')[];
  streams: number;
  lagRps: number;
  lagSeconds: number;
  veracityMode: 'split' | 'serve';
  veracityConfig: string | undefined;
  pin: boolean;
  out: string;
  quick: boolean;
  rounds: number;
}

function parseOptions(argv: string[]): Options {
  const { values } = parseArgs({
    args: argv,
    options: {
      quick: { type: 'boolean', default: false },
      prewarm: { type: 'string' },
      targets: { type: 'string' },
      kinds: { type: 'string' },
      latencies: { type: 'string' },
      concurrency: { type: 'string' },
      duration: { type: 'string' },
      warmup: { type: 'string' },
      rounds: { type: 'string', default: '1' },
      chunks: { type: 'string', default: '200' },
      'chunk-gap-ms': { type: 'string', default: '5' },
      sub: { type: 'string' },
      streams: { type: 'string' },
      'lag-rps': { type: 'string', default: '200' },
      'lag-seconds': { type: 'string' },
      'veracity-mode': { type: 'string', default: 'split' },
      'veracity-config': { type: 'string' },
      'no-pin': { type: 'boolean', default: false },
      out: { type: 'string', default: 'bench-results' },
      help: { type: 'boolean', default: false },
    },
  });
  if (values.help) {
    console.log(USAGE);
    process.exit(0);
  }
  const q = values.quick;
  const targets = list(values.targets ?? TARGET_NAMES.join(','));
  for (const t of targets) if (!TARGET_NAMES.includes(t as TargetName)) throw new Error(`--targets: unknown target '${t}'`);
  if (!targets.includes('direct')) targets.unshift('direct');
  const kinds = list(values.kinds ?? 'json,stream');
  for (const k of kinds) if (k !== 'json' && k !== 'stream') throw new Error(`--kinds: unknown kind '${k}'`);
  const sub = list(values.sub ?? 'streams,lag').filter((s) => s !== 'none');
  for (const s of sub) if (s !== 'streams' && s !== 'lag') throw new Error(`--sub: unknown run '${s}'`);
  const mode = values['veracity-mode'];
  if (mode !== 'split' && mode !== 'serve') throw new Error(`--veracity-mode: '${mode}' is not split or serve`);
  return {
    targets: targets as TargetName[],
    kinds: kinds as Kind[],
    latencies: numbers(values.latencies ?? (q ? '50' : '0,50'), 'latencies'),
    concurrency: numbers(values.concurrency ?? (q ? '1,64' : '1,16,64,256'), 'concurrency').map((c) => Math.max(1, c)),
    durationMs: numbers(values.duration ?? (q ? '1.5' : '5'), 'duration')[0]! * 1000,
    warmupMs: numbers(values.warmup ?? (q ? '0.5' : '1'), 'warmup')[0]! * 1000,
    prewarmMs: numbers(values.prewarm ?? (q ? '2' : '4'), 'prewarm')[0]! * 1000,
    chunks: numbers(values.chunks, 'chunks')[0]!,
    chunkGapMs: numbers(values['chunk-gap-ms'], 'chunk-gap-ms')[0]!,
    sub: sub as ('streams' | 'lag')[],
    streams: numbers(values.streams ?? '1000', 'streams')[0]!,
    lagRps: numbers(values['lag-rps'], 'lag-rps')[0]!,
    lagSeconds: numbers(values['lag-seconds'] ?? (q ? '10' : '30'), 'lag-seconds')[0]!,
    veracityMode: mode,
    veracityConfig: values['veracity-config'],
    pin: !values['no-pin'],
    out: values.out,
    quick: q,
    rounds: Math.max(1, Math.round(numbers(values.rounds, 'rounds')[0]!)),
  };
}





interface StreamsResult {
  target: string;
  streams: number;
  load: LoadResult;
  cpuPercent: number;
  peakRssMb: number;
  auxCpuPercent?: number;
  auxPeakRssMb?: number;
}

interface LagResult {
  offeredRps: number;
  seconds: number;
  load: LoadResult;
  verdictsFound: number;
  verdictsMissing: number;
  /** From verdicts' detection_lag_ms, in ms. */
  lagP50Ms: number;
  lagP99Ms: number;
  lagMaxMs: number;
  /** From the veracity_detection_lag_seconds histogram on /metrics (bucket interpolation), in ms. */
  metricsLagP50Ms: number;
  metricsLagP99Ms: number;
  metricsSource?: string;
  /** Cumulative counts the histogram gained during the run (le in seconds). */
  metricsBuckets?: Buckets;
  /** Seconds spent before the run waiting for earlier cells' analysis to finish. */
  backlogWaitS: number;
  note?: string;
}

/** Evenly spread picks, at most `n`, keeping order. */
function spread<T>(xs: readonly T[], n: number): T[] {
  if (xs.length <= n) return [...xs];
  return Array.from({ length: n }, (_, i) => xs[Math.floor((i * xs.length) / n)] as T);
}

// The admin API allows 600 requests a minute per client, so the verdict read-back takes a sample
// below that; the /metrics histogram covers every exchange.
const VERDICT_SAMPLE = 500;

async function fetchVerdictLags(origin: string, ids: string[], waitMs: number): Promise<{ lags: number[]; missing: number }> {
  const pending = new Set(ids);
  const lags: number[] = [];
  const deadline = Date.now() + waitMs;
  while (pending.size && Date.now() < deadline) {
    const batch = [...pending];
    let i = 0;
    const worker = async () => {
      while (i < batch.length) {
        const id = batch[i++] as string;
        try {
          const res = await fetch(`${origin}/veracity/v1/verdicts/${encodeURIComponent(id)}`, { signal: AbortSignal.timeout(5000) });
          if (res.status === 200) {
            const v = (await res.json()) as { detection_lag_ms?: unknown };
            pending.delete(id);
            if (typeof v.detection_lag_ms === 'number') lags.push(v.detection_lag_ms);
          } else {
            await res.arrayBuffer();
            if (res.status === 429) i = batch.length; // wait for the next round
          }
        } catch {
          // retried next round
        }
      }
    };
    await Promise.all(Array.from({ length: 16 }, worker));
    if (pending.size) await new Promise((r) => setTimeout(r, 500));
  }
  return { lags, missing: pending.size };
}

/** Sums veracity_detection_lag_seconds buckets over all label sets of one exposition. */
export function lagBuckets(exposition: string): { le: number; count: number }[] {
  const sums = new Map<number, number>();
  const re = /^veracity_detection_lag_seconds_bucket\{([^}]*)\}\s+(\S+)/gm;
  for (let m = re.exec(exposition); m; m = re.exec(exposition)) {
    const le = /le="([^"]+)"/.exec(m[1] ?? '')?.[1];
    if (!le) continue;
    const bound = le === '+Inf' ? Infinity : Number(le);
    sums.set(bound, (sums.get(bound) ?? 0) + Number(m[2]));
  }
  return [...sums].map(([le, count]) => ({ le, count }));
}



type Buckets = { le: number; count: number }[];

async function scrapeLag(urls: string[]): Promise<Map<string, Buckets>> {
  const out = new Map<string, Buckets>();
  for (const url of urls) {
    try {
      out.set(url, lagBuckets(await (await fetch(url, { signal: AbortSignal.timeout(5000) })).text()));
    } catch {
      // not exposed there
    }
  }
  return out;
}

/** Lag quantiles of what the histogram gained between two scrapes (it counts since start). */
function metricsLag(before: Map<string, Buckets>, after: Map<string, Buckets>): { p50: number; p99: number; source?: string; buckets?: Buckets } {
  for (const [url, b] of after) {
    const prev = new Map((before.get(url) ?? []).map((x) => [x.le, x.count]));
    const delta = b.map((x) => ({ le: x.le, count: x.count - (prev.get(x.le) ?? 0) }));
    if (delta.some((x) => x.count > 0)) {
      return { p50: bucketQuantile(delta, 0.5) * 1000, p99: bucketQuantile(delta, 0.99) * 1000, source: url, buckets: delta };
    }
  }
  return { p50: NaN, p99: NaN };
}

function machine() {
  const cpus = os.cpus();
  return {
    cpuModel: cpus[0]?.model ?? 'unknown',
    cores: cpus.length,
    memoryGb: Math.round(os.totalmem() / 2 ** 30),
    node: process.version,
    os: `${os.type()} ${os.release()}`,
  };
}

const fmt = (x: number, d = 1) => (Number.isFinite(x) ? x.toFixed(d) : '–');

async function main() {
  const opts = parseOptions(process.argv.slice(2));
  const started = new Date();
  // Other work on the machine skews every figure; the load average says how much there was.
  const loadAvgStart = os.loadavg().map((x) => Math.round(x * 100) / 100);
  const ncpu = os.cpus().length;
  // The proxy under test (and what it needs) gets core 0; the load generator and fake upstream
  // share the rest, so the generator never competes with the proxy for a core.
  const cpus: Cpus = opts.pin && ncpu >= 2 ? { underTest: '0', load: ncpu === 2 ? '1' : `1-${ncpu - 1}` } : { underTest: undefined, load: undefined };
  const log = (s: string) => process.stderr.write(`${s}\n`);

  const upstream = await startUpstream(cpus, opts.chunks);
  log(`fake upstream on 127.0.0.1:${upstream.port}`);
  const cells: Cell[] = [];
  const skipped: { target: string; reason: string }[] = [];
  const streamsResults: StreamsResult[] = [];
  let lag: LagResult | undefined;
  const running: Target[] = [];
  const subFailures: string[] = [];
  // Ctrl-C or a kill must not leave proxies, Redis or nginx behind.
  const onSignal = (sig: NodeJS.Signals) => {
    log(`${sig}: stopping targets`);
    void Promise.all(running.map((t) => t.stop())).finally(() => {
      upstream.stop();
      process.exit(130);
    });
  };
  process.once('SIGINT', onSignal);
  process.once('SIGTERM', onSignal);
  const ctx = { upstreamPort: upstream.port, cpus: cpus.underTest, repoRoot, veracityMode: opts.veracityMode, veracityConfig: opts.veracityConfig };
  const baseHeaders = { authorization: 'Bearer sk-bench-not-a-real-key' };

  try {
    // Every target is up for the whole run and the cells go round the targets in turn, so
    // background load on the machine drifts over all of them alike.
    for (const name of opts.targets) {
      try {
        running.push(await startTarget(name, ctx));
      } catch (e) {
        const reason = e instanceof TargetUnavailable ? e.message : String((e as Error).stack ?? e);
        log(`${name}: skipped: ${reason}`);
        skipped.push({ target: name, reason });
      }
    }
    // A process that has just started is still compiling its hot paths (V8's optimising compiler
    // runs on extra threads of the same pinned core); a proxy in production has long finished.
    // Each target first gets zero-latency JSON and back-to-back streams at concurrency 64.
    if (opts.prewarmMs > 0) {
      for (const target of running) {
        for (const [kind, share] of [['json', 0.75], ['stream', 0.25]] as const) {
          const body = requestBody(kind, 0, 0);
          await runLoadgen(
            { origin: target.origin, path: '/v1/chat/completions', headers: { ...baseHeaders, ...target.headers }, body, stream: kind === 'stream', concurrency: 64, warmupMs: 0, durationMs: Math.round(opts.prewarmMs * share), drainMs: 5000 },
            cpus,
          ).catch((e: Error) => log(`${target.name}: pre-warm ${kind} failed: ${e.message}`));
        }
        if (target.metricsUrls.length) {
          const waited = await waitForIdleWorker([`${target.origin}/metrics`, ...target.metricsUrls], 60_000);
          log(`${target.name}: pre-warmed; waited ${waited} s for its analysis backlog`);
        }
      }
    }
    const scenarios = opts.kinds.flatMap((kind) =>
      opts.latencies.flatMap((latencyMs) => opts.concurrency.map((concurrency) => ({ kind, latencyMs, concurrency }))),
    );
    for (const { kind, latencyMs, concurrency } of scenarios) {
      for (let round = 0; round < opts.rounds; round++) {
        // Reversed every other round, so no target always follows the same one.
        for (const target of round % 2 ? [...running].reverse() : running) {
          const name = target.name;
          const job: LoadJob = {
            origin: target.origin,
            path: '/v1/chat/completions',
            headers: { ...baseHeaders, ...target.headers },
            body: requestBody(kind, latencyMs, opts.chunkGapMs),
            stream: kind === 'stream',
            concurrency,
            warmupMs: opts.warmupMs,
            durationMs: opts.durationMs,
            drainMs: 5000,
          };
          let m: Awaited<ReturnType<typeof measure>>;
          try {
            m = await measure(target, job, cpus);
          } catch (e) {
            subFailures.push(`${name} ${kind} lat=${latencyMs} c=${concurrency}: ${(e as Error).message}`);
            log(`${name} ${kind} lat=${latencyMs} c=${concurrency} failed: ${(e as Error).message}`);
            continue;
          }
          cells.push({
            target: name,
            kind,
            latencyMs,
            concurrency,
            load: m.load,
            cpuPercent: m.proxy.cpuPercent,
            peakRssMb: m.proxy.peakRssMb,
            ...(m.aux ? { auxCpuPercent: m.aux.cpuPercent, auxPeakRssMb: m.aux.peakRssMb } : {}),
          });
          log(
            `${name.padEnd(8)} ${kind.padEnd(6)} lat=${latencyMs} c=${String(concurrency).padEnd(3)} ` +
              `${fmt(m.load.throughput)} req/s p50=${fmt(m.load.latency.p50, 2)} p99=${fmt(m.load.latency.p99, 2)} ms ` +
              `err=${m.load.errors}${m.load.errorSamples.length ? ` (${m.load.errorSamples[0]})` : ''}`,
          );
          // Veracity's analysis backlog would otherwise run on the core of the next target.
          if (target.metricsUrls.length) {
            const waited = await waitForIdleWorker([`${target.origin}/metrics`, ...target.metricsUrls], 30_000);
            if (waited > 1) log(`${name}: waited ${waited} s for its analysis backlog`);
          }
        }
      }
    }
    // Lag before the streams run, whose cut-off streams would still be analysed during it.
    const veracity = running.find((t) => t.name === 'veracity');
    if (opts.sub.includes('lag') && veracity) try {
      const target = veracity;
      const job: LoadJob = {
        origin: target.origin,
        path: '/v1/chat/completions',
        headers: baseHeaders,
        body: requestBody('json', 0, 0),
        stream: false,
        concurrency: 256,
        rate: opts.lagRps,
        warmupMs: 2000,
        durationMs: opts.lagSeconds * 1000,
        collectHeader: 'x-veracity-id',
        drainMs: 10_000,
      };
      const metricUrls = [`${target.origin}/metrics`, ...target.metricsUrls];
      const backlogWaitS = await waitForIdleWorker(metricUrls, 60_000);
      log(`veracity: waited ${backlogWaitS} s for the analysis backlog of earlier cells`);
      const before = await scrapeLag(metricUrls);
      const load = await runLoadgen(job, cpus);
      const ids = spread(load.collected ?? [], VERDICT_SAMPLE);
      const { lags, missing } = await fetchVerdictLags(target.origin, ids, 30_000);
      const ml = metricsLag(before, await scrapeLag(metricUrls));
      lag = {
        offeredRps: opts.lagRps,
        seconds: opts.lagSeconds,
        load: { ...load, collected: undefined },
        verdictsFound: ids.length - missing,
        verdictsMissing: missing,
        lagP50Ms: percentile(lags, 50),
        lagP99Ms: percentile(lags, 99),
        lagMaxMs: lags.length ? Math.max(...lags) : NaN,
        metricsLagP50Ms: ml.p50,
        metricsLagP99Ms: ml.p99,
        backlogWaitS,
        ...(ml.source ? { metricsSource: ml.source, metricsBuckets: ml.buckets } : {}),
        ...(ids.length === 0 ? { note: 'no x-veracity-id header on responses' } : {}),
        ...(ids.length > 0 && lags.length === 0 && ids.length > missing ? { note: 'verdicts carry no detection_lag_ms' } : {}),
      };
      log(`veracity lag @${opts.lagRps} rps: verdict p99 ${fmt(lag.lagP99Ms)} ms, metrics p99 ${fmt(lag.metricsLagP99Ms)} ms`);
    } catch (e) {
      // One failed sub-run must not throw away the matrix measured before it.
      subFailures.push(`lag: ${(e as Error).message}`);
      log(`lag run failed: ${(e as Error).stack ?? String(e)}`);
    }
    // Direct shows what the generator and the fake upstream manage alone on their core.
    for (const target of running) {
      const name = target.name;
      if (!opts.sub.includes('streams') || !(name === 'veracity' || (!opts.quick && (name === 'nginx' || name === 'direct' || name === 'node-min')))) continue;
      // Long streams (200 chunks, 20 ms apart: ~4 s; 10 ms and ~2 s in --quick) so all of
      // them are open at once. No warm-up: the opening burst of connections is part of it.
      const job: LoadJob = {
        origin: target.origin,
        path: '/v1/chat/completions',
        headers: { ...baseHeaders, ...target.headers },
        body: requestBody('stream', 0, opts.quick ? 10 : 20),
        stream: true,
        concurrency: opts.streams,
        warmupMs: 0,
        durationMs: opts.quick ? 4000 : 10_000,
        drainMs: opts.quick ? 3000 : 6000,
      };
      let m: Awaited<ReturnType<typeof measure>>;
      try {
        m = await measure(target, job, cpus);
      } catch (e) {
        subFailures.push(`streams through ${name}: ${(e as Error).message}`);
        log(`streams run through ${name} failed: ${(e as Error).stack ?? String(e)}`);
        continue;
      }
      streamsResults.push({
        target: name,
        streams: opts.streams,
        load: m.load,
        cpuPercent: m.proxy.cpuPercent,
        peakRssMb: m.proxy.peakRssMb,
        ...(m.aux ? { auxCpuPercent: m.aux.cpuPercent, auxPeakRssMb: m.aux.peakRssMb } : {}),
      });
      log(`${name} ${opts.streams} streams: peak RSS ${fmt(m.proxy.peakRssMb)} MB, err=${m.load.errors} ${m.load.errorSamples[0] ?? ''}`);
      if (target.metricsUrls.length) await waitForIdleWorker([`${target.origin}/metrics`, ...target.metricsUrls], 30_000);
    }
  } finally {
    for (const t of running) await t.stop();
    upstream.stop();
  }

  const derived = derive(mergeRounds(cells));
  const m = { ...machine(), loadAvgStart, loadAvgEnd: os.loadavg().map((x) => Math.round(x * 100) / 100) };
  const header = [
    `# Proxy benchmark — ${started.toISOString()}`,
    '',
    `Machine: ${m.cpuModel}, ${m.cores} cores, ${m.memoryGb} GiB, Node ${m.node}, ${m.os}. ` +
      `Load average (1/5/15 min) at start ${m.loadAvgStart.join(' / ')}, at end ${m.loadAvgEnd.join(' / ')}.`,
    `Pinning: ${cpus.underTest ? `proxy under test (with its worker and Redis) on CPU ${cpus.underTest}; load generator and fake upstream on CPU ${cpus.load}` : 'none'}.`,
    `Each target pre-warmed with ${opts.prewarmMs / 1000} s of zero-latency load. Cells: ${opts.warmupMs / 1000} s warm-up + ${opts.durationMs / 1000} s measured, closed loop${opts.rounds > 1 ? `, each measured ${opts.rounds} times (targets in turn, reversed every other round); figures are medians of the rounds` : ''}. Streams: ${opts.chunks} chunks, ${opts.chunkGapMs} ms apart.`,
    `Command: npm run bench${process.argv.length > 2 ? ` -- ${process.argv.slice(2).join(' ')}` : ''}`,
    '',
    'Columns: `+p50/+p99` latency added over direct in the same run; `×direct/×nginx` throughput ratio; ' +
      '`+TTFC` added time to first body chunk; `gap p99` 99th percentile of the delay between body chunks; ' +
      (opts.rounds > 1
        ? "`p99 rounds` the lowest and highest p99 of the rounds; `+p99 rounds` and `+TTFC p99 rounds` the lowest and highest of each round's p99 less direct's p99 in the same round (how far the median's difference is from noise); "
        : '') +
      "`CPU %` of one core and `RSS MB` peak resident memory of the proxy's processes (Veracity's worker and Redis in brackets); " +
      '`err` failed or truncated requests (`cut` = still unfinished when the drain time ran out).',
    '',
  ];
  const parts = [...header, renderCells(derived)];
  if (streamsResults.length) {
    parts.push(
      `### ${opts.streams} concurrent streams (${opts.chunks} chunks, ${opts.quick ? 10 : 20} ms apart, closed loop for ${opts.quick ? 4 : 10} s)\n`,
      markdownTable(
        ['target', 'streams/s', 'TTFC p99 ms', 'gap p99 ms', 'stream p50 ms', 'CPU %', 'peak RSS MB', 'err', 'cut off'],
        streamsResults.map((s) => [
          s.target,
          fmt(s.load.throughput),
          fmt(s.load.ttfc?.p99 ?? NaN, 2),
          fmt(s.load.interChunk?.p99 ?? NaN, 2),
          fmt(s.load.latency.p50, 0),
          fmt(s.cpuPercent, 0) + (s.auxCpuPercent !== undefined ? ` (+${fmt(s.auxCpuPercent, 0)})` : ''),
          fmt(s.peakRssMb) + (s.auxPeakRssMb !== undefined ? ` (+${fmt(s.auxPeakRssMb)})` : ''),
          String(s.load.errors + (s.load.truncated ?? 0)),
          String(s.load.unfinished),
        ]),
      ),
      '',
    );
  }
  if (lag) {
    parts.push(
      `### Detection lag, ${lag.offeredRps} req/s offered for ${lag.seconds} s through Veracity\n`,
      markdownTable(
        ['achieved req/s', 'req p99 ms', 'verdicts read', 'missing', 'lag p50 ms', 'lag p99 ms', 'lag max ms', '/metrics p50 ms', '/metrics p99 ms'],
        [
          [
            fmt(lag.load.throughput),
            fmt(lag.load.latency.p99, 2),
            String(lag.verdictsFound),
            String(lag.verdictsMissing),
            fmt(lag.lagP50Ms),
            fmt(lag.lagP99Ms),
            fmt(lag.lagMaxMs),
            fmt(lag.metricsLagP50Ms),
            fmt(lag.metricsLagP99Ms),
          ],
        ],
      ),
      `\nlag p50/p99/max from \`detection_lag_ms\` of ${lag.verdictsFound + lag.verdictsMissing} verdicts sampled evenly over the run; /metrics figures interpolate what the \`veracity_detection_lag_seconds\` buckets gained during the run (all its exchanges), after waiting ${lag.backlogWaitS} s for earlier cells' analysis backlog to drain.`,
      lag.note ? `\nNote: ${lag.note}.` : '',
      '',
    );
  }
  if (subFailures.length) {
    parts.push('### Runs that failed\n', ...subFailures.map((f) => `- ${f.replace(/\s+/g, ' ').slice(0, 500)}`), '');
  }
  if (skipped.length) {
    parts.push('### Targets left out\n', ...skipped.map((s) => `- ${s.target}: ${s.reason.replace(/\s+/g, ' ')}`), '');
  }
  const md = parts.join('\n');
  process.stdout.write(`${md}\n`);
  const outDir = path.resolve(opts.out);
  mkdirSync(outDir, { recursive: true });
  writeFileSync(path.join(outDir, 'bench.md'), `${md}\n`);
  writeFileSync(
    path.join(outDir, 'bench.json'),
    `${JSON.stringify(
      { started: started.toISOString(), finished: new Date().toISOString(), machine: m, options: opts, pinning: cpus, cells: derived, streams: streamsResults, lag, skipped, subFailures },
      (_k, v: unknown) => (typeof v === 'number' && !Number.isFinite(v) ? null : v),
      2,
    )}\n`,
  );
  log(`wrote ${path.join(outDir, 'bench.md')} and bench.json`);
}

main().catch((e: unknown) => {
  process.stderr.write(`bench failed: ${(e as Error).stack ?? String(e)}\n`);
  process.exit(1);
});
