// What every proxy benchmark needs: the request bodies, the load generator run as its own pinned
// process, the fake upstream, and a wait for Veracity's analysis backlog between cells. Used by
// `npm run bench` (run.ts) and by the side-by-side comparison of two builds (against.ts).
import { spawn } from 'node:child_process';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import type { LoadJob, LoadResult } from './loadgen.js';
import { ProcWatch } from './procstat.js';
import type { Kind } from './report.js';
import { spawnChild, type Target } from './targets.js';

const here = path.dirname(fileURLToPath(import.meta.url));

/** Where a body asks the load generator for a number of its own (`LoadJob.varyMarker`). */
export const VARY_MARKER = '@seq@';

// Grounding context and a question whose fake answer it supports, so the detectors do real work.
// `varied`: the context opens with a sentence numbered per request, so no two requests share a
// context (as in retrieval over many documents) and nothing kept for a repeated context helps.
export function requestBody(kind: Kind, latencyMs: number, chunkGapMs: number, varied = false): string {
  return JSON.stringify({
    model: kind === 'stream' ? `bench-${latencyMs}ms-${chunkGapMs}ms` : `bench-${latencyMs}ms`,
    messages: [
      { role: 'system', content: `Context: ${varied ? `Bulletin ${VARY_MARKER} of the city archive. ` : ''}The Eiffel Tower is in Paris. It was completed in 1889 for the World Fair.` },
      { role: 'user', content: 'Where is the Eiffel Tower?' },
    ],
    ...(kind === 'stream' ? { stream: true, stream_options: { include_usage: false } } : {}),
  });
}

export interface Cpus {
  underTest: string | undefined;
  load: string | undefined;
}


export function runLoadgen(job: LoadJob, cpus: Pick<Cpus, 'load'>): Promise<LoadResult> {
  const args = [path.join(here, 'loadgen.js'), JSON.stringify(job)];
  const [file, argv] = cpus.load ? ['taskset', ['-c', cpus.load, process.execPath, ...args]] : [process.execPath, args];
  return new Promise((resolve, reject) => {
    const p = spawn(file, argv, { stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    let err = '';
    p.stdout.on('data', (b: Buffer) => (out += b.toString()));
    p.stderr.on('data', (b: Buffer) => (err = (err + b.toString()).slice(-2000)));
    const limit = setTimeout(() => p.kill('SIGKILL'), job.warmupMs + job.durationMs + (job.drainMs ?? 10_000) + 15_000);
    p.on('exit', (code) => {
      clearTimeout(limit);
      const line = out.trim().split('\n').at(-1);
      try {
        if (code === 0 && line) resolve(JSON.parse(line) as LoadResult);
        else reject(new Error(`load generator exited with ${code}: ${err.trim()}`));
      } catch (e) {
        reject(new Error(`load generator printed no whole result (${(e as Error).message})`));
      }
    });
  });
}

/** Runs the load while watching the target's processes over the measured window only. */
export async function measure(target: Target, job: LoadJob, cpus: Cpus) {
  let proxyWatch: ProcWatch | undefined;
  let auxWatch: ProcWatch | undefined;
  let proxyFig = { cpuPercent: NaN, peakRssMb: NaN };
  let auxFig: { cpuPercent: number; peakRssMb: number } | undefined;
  const startWatch = setTimeout(() => {
    proxyWatch = new ProcWatch(target.proxyPids());
    const aux = target.auxPids();
    if (aux.length) auxWatch = new ProcWatch(aux);
  }, job.warmupMs);
  const stopWatch = setTimeout(() => {
    if (proxyWatch) proxyFig = proxyWatch.stop();
    if (auxWatch) auxFig = auxWatch.stop();
  }, job.warmupMs + job.durationMs);
  try {
    const load = await runLoadgen(job, cpus);
    return { load, proxy: proxyFig, aux: auxFig };
  } finally {
    clearTimeout(startWatch);
    clearTimeout(stopWatch);
  }
}

/** The fake upstream on the load generator's cores; `chunks` per streamed answer (its own default when unset). */
export async function startUpstream(cpus: Pick<Cpus, 'load'>, chunks?: number): Promise<{ port: number; stop: () => void }> {
  const args = [path.join(here, 'fake-upstream.js'), '--port', '0', ...(chunks === undefined ? [] : ['--chunks', String(chunks)])];
  const child = spawnChild(process.execPath, args, { cpus: cpus.load });
  const port = await new Promise<number>((resolve, reject) => {
    let buf = '';
    const t = setTimeout(() => reject(new Error(`fake upstream did not start: ${child.tail()}`)), 10_000);
    child.proc.stdout?.on('data', (b: Buffer) => {
      buf += b.toString();
      const m = /\{"listening":(\d+)\}/.exec(buf);
      if (m) {
        clearTimeout(t);
        resolve(Number(m[1]));
      }
    });
    child.proc.once('exit', (code) => reject(new Error(`fake upstream exited with ${code}: ${child.tail()}`)));
  });
  return { port, stop: () => child.proc.kill('SIGTERM') };
}

export function sumSeries(exposition: string, name: string, labelFilter?: RegExp): number | undefined {
  let total: number | undefined;
  const re = new RegExp(`^${name}(\\{[^}]*\\})?\\s+(\\S+)`, 'gm');
  for (let m = re.exec(exposition); m; m = re.exec(exposition)) {
    if (labelFilter && !labelFilter.test(m[1] ?? '')) continue;
    total = (total ?? 0) + Number(m[2]);
  }
  return total;
}

/**
 * Waits until earlier cells' analysis backlog is worked off, so the lag run measures its own
 * exchanges: queue depth (waiting + active) 0 when exposed, else veracity_checks_total steady.
 * Returns the seconds waited.
 */
export async function waitForIdleWorker(urls: string[], maxMs: number): Promise<number> {
  const t0 = Date.now();
  let lastChecks: number | undefined;
  while (Date.now() - t0 < maxMs) {
    let depth: number | undefined;
    let checks: number | undefined;
    for (const url of urls) {
      try {
        const text = await (await fetch(url, { signal: AbortSignal.timeout(5000) })).text();
        const d = sumSeries(text, 'veracity_queue_depth', /state="(waiting|active)"/);
        if (d !== undefined) depth = (depth ?? 0) + d;
        const c = sumSeries(text, 'veracity_checks_total');
        if (c !== undefined) checks = (checks ?? 0) + c;
      } catch {
        // not exposed there
      }
    }
    if (depth === 0 || (depth === undefined && checks !== undefined && checks === lastChecks)) break;
    lastChecks = checks;
    await new Promise((r) => setTimeout(r, 500));
  }
  return Math.round((Date.now() - t0) / 100) / 10;
}
