import type { Queue } from 'bullmq';
import type { Redis } from 'ioredis';
import type { RedisConnection } from '../../src/redis/connection.js';
import { percentile, type Sent } from './load.js';
import { freePort } from './redis.js';
import { killOnExit } from './redis-ha.js';
import { metricSum, runCli, sleep, waitFor200, type CliProcess } from './processes.js';

/**
 * Several proxies and workers as separate `veracity` processes on one Redis (any mode, chosen by
 * `env`), the way a deployment runs them, with their counters summed over processes.
 */
export interface Fleet {
  proxies: string[];
  workers: string[];
  processes: CliProcess[];
  /** Sum of a metric over the proxies' (or the workers') /metrics, lines matching all of `match`. */
  sum(side: 'proxies' | 'workers', name: string, ...match: string[]): Promise<number>;
  /** Everything the processes wrote to stdout and stderr. */
  output(): string;
}

export async function startFleet(
  t: { teardown(fn: () => unknown): void },
  env: Record<string, string>,
  options: { proxies?: number; workers?: number } = {},
): Promise<Fleet> {
  const proxies: string[] = [];
  const workers: string[] = [];
  const processes: CliProcess[] = [];
  // Analysis at normal priority: the test machine's other work must not starve it.
  // tap's process-info loader (NODE_OPTIONS) doubles a child's start-up time and is not needed here.
  const common = { VERACITY_WORKER_NICE: '0', VERACITY_LOG_LEVEL: 'info', NODE_OPTIONS: '', ...env };
  for (let i = 0; i < (options.proxies ?? 2); i++) {
    const port = await freePort();
    processes.push(runCli(['proxy'], { ...common, PORT: String(port) }));
    proxies.push(`http://127.0.0.1:${port}`);
  }
  for (let i = 0; i < (options.workers ?? 2); i++) {
    const port = await freePort();
    processes.push(runCli(['worker'], { ...common, VERACITY_METRICS_PORT: String(port) }));
    workers.push(`http://127.0.0.1:${port}`);
  }
  for (const p of processes) killOnExit(p.child);
  t.teardown(async () => {
    for (const p of processes) p.kill('SIGKILL');
    await Promise.all(processes.map((p) => p.exited));
  });
  try {
    await Promise.all([...proxies, ...workers].map((u) => waitFor200(`${u}/readyz`, 120_000)));
  } catch (err) {
    const states = await Promise.all([...proxies, ...workers].map((u) => fetch(`${u}/readyz`).then((r) => r.text(), (e: Error) => e.message)));
    throw new Error(`${(err as Error).message}\n${states.join('\n')}\n${processes.map((p) => `${p.child.spawnargs.at(-1)} ${p.child.pid}:\n${p.stdout()}${p.stderr()}`).join('\n')}`);
  }
  return {
    proxies,
    workers,
    processes,
    async sum(side, name, ...match) {
      return (await metricEach(side === 'proxies' ? proxies : workers, name, ...match)).reduce((a, b) => a + b, 0);
    },
    output: () => processes.map((p) => p.stdout() + p.stderr()).join('\n'),
  };
}

/** A metric read from each process's /metrics (its lines matching all of `match`, summed), one figure per url. */
export function metricEach(urls: readonly string[], name: string, ...match: string[]): Promise<number[]> {
  return Promise.all(urls.map(async (u) => metricSum(await (await fetch(`${u}/metrics`)).text(), name, ...match)));
}

/** Reasons the proxies count an exchange as not queued. */
export const PROXY_DROPS = ['redis_unavailable', 'backpressure', 'enqueue_timeout', 'enqueue_error', 'too_large'];
/** Reasons the workers count a queued exchange as lost. */
export const WORKER_DROPS = ['expired', 'failed', 'parse_error'];

export async function proxyDrops(fleet: Fleet): Promise<Record<string, number>> {
  const out: Record<string, number> = {};
  for (const reason of PROXY_DROPS) out[reason] = await fleet.sum('proxies', 'veracity_analysis_dropped_total', `reason="${reason}"`);
  return out;
}

/**
 * Waits until every request sent is accounted for by the proxies (enqueued or dropped) and every
 * enqueued exchange by the workers (a job result each), then returns the totals.
 */
export async function settle(fleet: Fleet, sent: number, ms = 60_000, drained?: () => Promise<boolean>) {
  const deadline = Date.now() + ms;
  let enqueued = 0;
  let dropped = 0;
  let handled = 0;
  for (;;) {
    enqueued = await fleet.sum('proxies', 'veracity_analysis_enqueued_total');
    dropped = Object.values(await proxyDrops(fleet)).reduce((a, b) => a + b, 0);
    handled = await fleet.sum('workers', 'veracity_worker_jobs_total');
    // A hand-off the proxy gave up on at its timeout may still reach the queue: counted as
    // dropped, it is analysed all the same, so the workers can be busy after handled >= enqueued.
    // `drained` reads the queue itself.
    if (enqueued + dropped >= sent && handled >= enqueued && (!drained || (await drained().catch(() => false)))) break;
    if (Date.now() > deadline) break;
    await sleep(250);
  }
  return { enqueued, dropped, handled };
}

/**
 * Load after a failover: waits until every proxy has enqueued `least` more exchanges than when
 * called (or `ms` pass), then at least `afterMs` more, and at least `minMs` since `from`. On a busy
 * machine, connections left open to a hung primary can take several seconds longer to give up than
 * on a quiet one; a fixed wait would end the load before the proxies are back.
 */
export async function untilEnqueuing(fleet: Fleet, opts: { from: number; minMs: number; afterMs: number; ms?: number; least?: number }): Promise<void> {
  const counts = () => metricEach(fleet.proxies, 'veracity_analysis_enqueued_total');
  const base = await counts();
  const deadline = Date.now() + (opts.ms ?? 30_000);
  while (Date.now() < deadline) {
    const now = await counts().catch(() => base);
    if (now.every((n, i) => n >= base[i]! + (opts.least ?? 10))) break;
    await sleep(250);
  }
  await sleep(Math.max(opts.afterMs, opts.from + opts.minMs - Date.now()));
}

/**
 * Whether BullMQ's queue holds nothing more to analyse (waiting, active, prioritized or delayed):
 * for `settle`, since a hand-off the proxy gave up on at its timeout may still reach the queue.
 */
export function queueDrained(queue: Queue): () => Promise<boolean> {
  return async () => Object.values(await queue.getJobCounts('waiting', 'active', 'prioritized', 'delayed')).every((n) => n === 0);
}

/** How many of `ids` have a stored verdict, read straight from Redis in chunks (not through the rate-limited API). */
export async function countVerdicts(redis: Redis | RedisConnection, prefix: string, ids: string[]): Promise<{ found: number; missing: string[] }> {
  let found = 0;
  const missing: string[] = [];
  for (let i = 0; i < ids.length; i += 500) {
    const chunk = ids.slice(i, i + 500);
    const values = await redis.mget(chunk.map((id) => `${prefix}:verdict:${id}`));
    values.forEach((v, j) => (v === null ? missing.push(chunk[j]!) : found++));
  }
  return { found, missing };
}

/**
 * What a failover at `killedAt` cost, from the requests sent and the exchanges that got no verdict:
 * per proxy, the window in which exchanges were lost (first to last lost, ms after the kill) and
 * when enqueueing was back for good (the first exchange queued after the last one lost), and the
 * client latencies before, during and after the window.
 */
export function failoverWindow(sent: Sent[], proxies: number, killedAt: number, missing: Set<string>) {
  const perProxy = Array.from({ length: proxies }, (_, i) => {
    const mine = sent.filter((s) => s.proxy === i && s.end >= killedAt);
    const lost = mine.filter((s) => missing.has(s.id)).map((s) => s.end);
    const lastLost = lost.length ? Math.max(...lost) : killedAt;
    const back = mine.filter((s) => !missing.has(s.id) && s.end > lastLost).map((s) => s.end);
    return { lost: lost.length, firstLost: lost.length ? Math.min(...lost) - killedAt : 0, lastLost: lastLost - killedAt, resumed: back.length ? Math.min(...back) - killedAt : NaN };
  });
  const gapEnd = killedAt + Math.max(...perProxy.map((p) => p.lastLost));
  const lat = (f: (s: Sent) => boolean) => sent.filter(f).map((s) => s.end - s.start);
  const stats = (v: number[]) => ({ n: v.length, p50: percentile(v, 0.5), p99: percentile(v, 0.99), max: v.length ? Math.max(...v) : NaN });
  return {
    perProxy,
    before: stats(lat((s) => s.end < killedAt)),
    gap: stats(lat((s) => s.start >= killedAt && s.start <= gapEnd)),
    after: stats(lat((s) => s.start > gapEnd)),
  };
}

/**
 * Every exchange sent either got a verdict or was counted as dropped by a proxy or a worker. The
 * one overlap allowed: a hand-off abandoned at capture.enqueueTimeoutMs (counted as
 * enqueue_timeout) was already written towards Redis and may still land and be analysed.
 */
export function accounting(sent: number, verdicts: number, proxyDropped: Record<string, number>, workerDropped: Record<string, number>) {
  const dropped = Object.values(proxyDropped).reduce((a, b) => a + b, 0) + Object.values(workerDropped).reduce((a, b) => a + b, 0);
  return { lostUncounted: Math.max(0, sent - verdicts - dropped), droppedButAnalysed: Math.max(0, verdicts + dropped - sent), timeouts: proxyDropped.enqueue_timeout ?? 0 };
}

/**
 * `veracity report --source redis` as an operator runs it, with `env` naming the Redis (any mode):
 * the overall figures from the aggregates the workers keep there, and what it printed.
 */
export async function reportFromRedis(t: { teardown(fn: () => unknown): void }, env: Record<string, string>): Promise<{ code: number | null; checks?: number; stderr: string; json: string }> {
  const { mkdtempSync, readFileSync, existsSync, rmSync } = await import('node:fs');
  const { tmpdir } = await import('node:os');
  const { join } = await import('node:path');
  const dir = mkdtempSync(join(tmpdir(), 'veracity-report-'));
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  const p = runCli(['report', '--source', 'redis', '--since', '1h', '--out', join(dir, 'r.html'), '--json', join(dir, 'r.json')], { NODE_OPTIONS: '', REDIS_URL: '', ...env });
  killOnExit(p.child);
  const { code } = await p.exited;
  const json = existsSync(join(dir, 'r.json')) ? readFileSync(join(dir, 'r.json'), 'utf8') : '';
  return { code, checks: json ? (JSON.parse(json) as { overall: { checks: number } }).overall.checks : undefined, stderr: p.stderr(), json };
}
