// The load generator, run as its own process (pinned apart from the proxy under test by the
// orchestrator) so its CPU does not blur the proxy's. Takes one JSON job as argv[2], prints one
// JSON result line. Timing uses process.hrtime.bigint(); histograms hold microseconds.
import { pathToFileURL } from 'node:url';
import { Pool } from 'undici';
import { newHistogram, summarise, type Histogram, type Summary } from './stats.js';

export interface LoadJob {
  /** Origin, e.g. http://127.0.0.1:8080 */
  origin: string;
  path: string;
  headers: Record<string, string>;
  body: string;
  stream: boolean;
  /** Closed loop: this many requests in flight at all times. */
  concurrency: number;
  /** Open loop instead: start requests at this fixed rate per second (concurrency caps connections). */
  rate?: number;
  warmupMs: number;
  durationMs: number;
  /** Collect this response header of every measured request (e.g. x-veracity-id). */
  collectHeader?: string;
  /** Give in-flight requests this long to finish after the window closes. */
  drainMs?: number;
  /** Each request puts its own sequence number where the body says this, so no two carry the same text. */
  varyMarker?: string;
}

export interface LoadResult {
  requests: number;
  errors: number;
  /** First error messages seen, to say why a cell failed. */
  errorSamples: string[];
  seconds: number;
  throughput: number;
  latency: Summary;
  /** Streaming only: time to first body chunk, and the gaps between body chunks. */
  ttfc?: Summary;
  interChunk?: Summary;
  /** Streams whose body did not end with `data: [DONE]`. */
  truncated?: number;
  /** Measured requests still in flight when the drain time ran out (cut off by the generator). */
  unfinished: number;
  collected?: string[];
}

const DONE = Buffer.from('data: [DONE]');

export async function runLoad(job: LoadJob): Promise<LoadResult> {
  const pool = new Pool(job.origin, {
    connections: job.concurrency,
    pipelining: 1,
    keepAliveTimeout: 60_000,
    headersTimeout: 60_000,
    bodyTimeout: 60_000,
  });
  const lat = newHistogram();
  const ttfc: Histogram | undefined = job.stream ? newHistogram() : undefined;
  const gaps: Histogram | undefined = job.stream ? newHistogram() : undefined;
  const collected: string[] = [];
  const errorSamples: string[] = [];
  let errors = 0;
  let truncated = 0;
  let unfinished = 0;
  let stopping = false;
  let completedInWindow = 0;

  const t0 = process.hrtime.bigint();
  const windowStart = t0 + BigInt(job.warmupMs) * 1_000_000n;
  const windowEnd = windowStart + BigInt(job.durationMs) * 1_000_000n;
  const headers = { 'content-type': 'application/json', ...job.headers };
  let sequence = 0;
  const marker = job.varyMarker;
  const bodyOf = marker ? () => job.body.replace(marker, String(sequence++)) : () => job.body;

  async function one(): Promise<void> {
    const start = process.hrtime.bigint();
    const measured = start >= windowStart && start < windowEnd;
    try {
      const res = await pool.request({ path: job.path, method: 'POST', headers, body: bodyOf() });
      if (res.statusCode !== 200) {
        const text = await res.body.text();
        throw new Error(`HTTP ${res.statusCode}: ${text.slice(0, 200)}`);
      }
      if (job.collectHeader && measured) {
        const v = res.headers[job.collectHeader];
        if (typeof v === 'string') collected.push(v);
      }
      if (!job.stream) {
        await res.body.dump({ limit: Infinity });
      } else {
        let prev = 0n;
        let last: Buffer | undefined;
        for await (const part of res.body as AsyncIterable<Buffer>) {
          const now = process.hrtime.bigint();
          if (measured) {
            if (prev === 0n) ttfc!.recordValue(Number((now - start) / 1000n));
            else gaps!.recordValue(Number((now - prev) / 1000n));
          }
          prev = now;
          last = part;
        }
        if (!last || last.lastIndexOf(DONE) < 0) {
          if (measured) truncated++;
        }
      }
      const end = process.hrtime.bigint();
      if (measured) lat.recordValue(Number((end - start) / 1000n));
      // Throughput counts what finished inside the window, whenever it started, so long streams
      // straddling the window edges are not lost.
      if (end >= windowStart && end <= windowEnd) completedInWindow++;
    } catch (err) {
      if (stopping) {
        if (measured) unfinished++;
      } else if (measured) {
        errors++;
        if (errorSamples.length < 5) errorSamples.push(String((err as Error).message ?? err));
      }
    }
  }

  if (job.rate) {
    // Open loop: a fixed schedule, independent of how fast answers come back, so a slow proxy
    // cannot lower the offered load.
    const interval = 1e9 / job.rate;
    const inflight = new Set<Promise<void>>();
    let n = 0;
    for (;;) {
      const due = t0 + BigInt(Math.round(n * interval));
      if (due >= windowEnd) break;
      const now = process.hrtime.bigint();
      if (due > now) await sleep(Number(due - now) / 1e6);
      const p = one().finally(() => inflight.delete(p));
      inflight.add(p);
      n++;
    }
    await Promise.race([Promise.all(inflight), sleep(job.drainMs ?? 10_000)]);
  } else {
    const loop = async () => {
      while (process.hrtime.bigint() < windowEnd) await one();
    };
    await Promise.race([
      Promise.all(Array.from({ length: job.concurrency }, loop)),
      sleep(job.warmupMs + job.durationMs + (job.drainMs ?? 10_000)),
    ]);
  }
  stopping = true;
  await pool.destroy().catch(() => undefined);

  const seconds = job.durationMs / 1000;
  const result: LoadResult = {
    requests: lat.totalCount,
    errors,
    errorSamples,
    seconds,
    throughput: Math.round((completedInWindow / seconds) * 10) / 10,
    latency: summarise(lat),
    unfinished,
  };
  if (ttfc && gaps) {
    result.ttfc = summarise(ttfc);
    result.interChunk = summarise(gaps);
    result.truncated = truncated;
  }
  if (job.collectHeader) result.collected = collected;
  return result;
}

function sleep(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, Math.max(0, ms)));
}

async function main() {
  const job = JSON.parse(process.argv[2] ?? '') as LoadJob;
  const result = await runLoad(job);
  // Exit only once the line is flushed: a large result (collected ids) outgrows the pipe buffer.
  process.stdout.write(`${JSON.stringify(result)}\n`, () => process.exit(0));
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) void main();
