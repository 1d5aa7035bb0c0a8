/**
 * Profiles `serve` under the c=16 load of the side-by-side benchmark, for this build and for
 * other built checkouts, one after the other:
 *
 *   npm run build && node dist/tooling/bench/profile-serve.js [--dir /tmp/other-build ...] [--seconds 8] [--concurrency 16] [--out bench-results/profile]
 *
 * Each build's serve runs pinned with its redis-server on CPU 0 (load generator and fake upstream
 * on the other core), with `--import dist/tooling/bench/profile/loop-probe.js`; after a pre-warm the
 * probe records, over the measured window only, a CPU profile and the CPU time of every thread,
 * garbage collections, and the main thread's event-loop delay. It prints throughput, CPU per
 * request by thread and Redis, Redis commands per request (`INFO commandstats` from the window's
 * start until the analysis backlog drained), the top self-time functions of each thread, and GC figures.
 */
import { existsSync, mkdirSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { parseArgs } from 'node:util';
import { measure, requestBody, runLoadgen, startUpstream, waitForIdleWorker, type Cpus } from './harness.js';
import type { LoadJob } from './loadgen.js';
import { summarise } from './profile/cpuprofile-top.js';
import { startTarget } from './targets.js';
import { Redis } from 'ioredis';

const here = path.dirname(fileURLToPath(import.meta.url));
const repoRoot = path.resolve(here, '../../..');

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      dir: { type: 'string', multiple: true, default: [] },
      seconds: { type: 'string', default: '8' },
      concurrency: { type: 'string', default: '16' },
      latency: { type: 'string', default: '0' },
      top: { type: 'string', default: '25' },
      out: { type: 'string', default: 'bench-results/profile' },
      'veracity-config': { type: 'string' },
    },
  });
  const ncpu = os.cpus().length;
  const cpus: Cpus = ncpu >= 2 ? { underTest: '0', load: ncpu === 2 ? '1' : `1-${ncpu - 1}` } : { underTest: undefined, load: undefined };
  const builds = [{ label: 'this', root: repoRoot }, ...values.dir.map((d) => ({ label: path.basename(path.resolve(d)), root: path.resolve(d) }))];
  const probe = pathToFileURL(path.join(here, 'profile/loop-probe.js')).href;
  const upstream = await startUpstream(cpus, 200);
  const log = (s: string) => process.stderr.write(`${s}\n`);
  const headers = { authorization: 'Bearer sk-bench-not-a-real-key' };
  const seconds = Number(values.seconds);
  const top = Number(values.top);
  try {
    for (const b of builds) {
      const out = path.resolve(values.out, b.label);
      rmSync(out, { recursive: true, force: true });
      mkdirSync(out, { recursive: true });
      process.env.VERACITY_PROBE_OUT = out;
      const target = await startTarget('veracity', {
        upstreamPort: upstream.port,
        cpus: cpus.underTest,
        repoRoot: b.root,
        veracityMode: 'serve',
        veracityConfig: values['veracity-config'],
        nodeArgs: ['--import', probe],
      });
      delete process.env.VERACITY_PROBE_OUT;
      try {
        const job = (durationMs: number): LoadJob => ({
          origin: target.origin,
          path: '/v1/chat/completions',
          headers,
          body: requestBody('json', Number(values.latency), 0),
          stream: false,
          concurrency: Number(values.concurrency),
          warmupMs: 0,
          durationMs,
          drainMs: 5000,
        });
        await runLoadgen(job(4000), cpus);
        await waitForIdleWorker([`${target.origin}/metrics`], 30_000);
        const pid = target.proxyPids()[0]!;
        const redis = new Redis({ port: target.redisPort, host: '127.0.0.1', lazyConnect: true });
        await redis.connect();
        await redis.config('RESETSTAT');
        const redisCpu0 = redisCpuSeconds(await redis.info('cpu'));
        const load0 = os.loadavg()[0]!;
        process.kill(pid, 'SIGUSR2');
        const m = await measure(target, { ...job(seconds * 1000) }, cpus);
        process.kill(pid, 'SIGUSR2');
        // The backlog the window left is analysed after it: counted apart.
        const t0 = Date.now();
        await new Promise((r) => setTimeout(r, 1500));
        await waitForIdleWorker([`${target.origin}/metrics`], 60_000);
        const requests = m.load.throughput * seconds;
        const redisCpu = redisCpuSeconds(await redis.info('cpu')) - redisCpu0;
        const commands = commandStats(await redis.info('commandstats'));
        await redis.quit();
        log(`${b.label}: ${m.load.throughput} req/s, p50 ${m.load.latency.p50} p99 ${m.load.latency.p99} ms, serve ${m.proxy.cpuPercent}% redis ${m.aux?.cpuPercent}%, backlog drained ${(Date.now() - t0) / 1000} s after; load ${load0.toFixed(2)}`);
        console.log(`\n# ${b.label} (${b.root}): c=${values.concurrency}, ${m.load.throughput.toFixed(0)} req/s, p50 ${m.load.latency.p50} ms, p99 ${m.load.latency.p99} ms, load average ${load0.toFixed(2)}`);
        console.log(`serve process ${m.proxy.cpuPercent}% of a core, its redis-server ${m.aux?.cpuPercent ?? NaN}%: ${((m.proxy.cpuPercent * 10 * seconds) / requests * 1000).toFixed(0)} + ${(((m.aux?.cpuPercent ?? 0) * 10 * seconds) / requests * 1000).toFixed(0)} µs CPU per request`);
        const total = commands.reduce((n, c) => n + c.calls, 0);
        const usec = commands.reduce((n, c) => n + c.usec, 0);
        console.log(
          `Redis, window until drained: ${(total / requests).toFixed(2)} commands per request, ${(usec / requests).toFixed(1)} µs inside commands, redis-server CPU ${((redisCpu * 1e6) / requests).toFixed(1)} µs per request; ` +
            commands.map((c) => `${c.name} ${(c.calls / requests).toFixed(2)} (${(c.usec / requests).toFixed(1)} µs)`).join(', '),
        );
        for (const f of readdirSync(out).filter((f) => f.endsWith('.json')).sort()) {
          const j = JSON.parse(readFileSync(path.join(out, f), 'utf8')) as { thread: string; cpuSeconds: number; loopDelayMs?: object; gc: Record<string, { count: number; totalMs: number; maxMs: number }> };
          const gc = Object.entries(j.gc).map(([k, v]) => `${k} ${v.count}× ${v.totalMs.toFixed(0)} ms (max ${v.maxMs.toFixed(1)})`).join(', ');
          console.log(`- ${j.thread}: ${((j.cpuSeconds / requests) * 1e6).toFixed(0)} µs CPU per request in the window; GC: ${gc || 'none'}${j.loopDelayMs ? `; event-loop delay ${JSON.stringify(j.loopDelayMs)}` : ''}`);
        }
        for (const f of readdirSync(out).filter((f) => f.endsWith('.cpuprofile')).sort()) {
          const s = summarise(JSON.parse(readFileSync(path.join(out, f), 'utf8')));
          const idle = s.functions.find((r) => r.name === '(idle)')?.ms ?? 0;
          const busy = s.totalMs - idle;
          console.log(`\n## ${f}: ${(busy / 1000).toFixed(2)} s busy of ${(s.totalMs / 1000).toFixed(2)} s; µs per request = self ms × 1000 / ${requests.toFixed(0)}\n`);
          console.log('| µs/req | % busy | function |\n|---|---|---|');
          for (const r of s.functions.filter((r) => r.name !== '(idle)').slice(0, top)) console.log(`| ${((r.ms * 1000) / requests).toFixed(2)} | ${((100 * r.ms) / busy).toFixed(1)} | ${r.name} |`);
          console.log('\n| µs/req | % busy | file or package |\n|---|---|---|');
          for (const r of s.files.filter((r) => r.name !== '(idle)').slice(0, top)) console.log(`| ${((r.ms * 1000) / requests).toFixed(2)} | ${((100 * r.ms) / busy).toFixed(1)} | ${r.name} |`);
        }
      } finally {
        await target.stop();
      }
    }
  } finally {
    upstream.stop();
  }
  if (!existsSync(values.out)) return;
}

function redisCpuSeconds(info: string): number {
  const field = (name: string) => Number(new RegExp(`^${name}:([0-9.]+)`, 'm').exec(info)?.[1] ?? NaN);
  return field('used_cpu_sys') + field('used_cpu_user');
}

/** `INFO commandstats` as calls and µs per command (scripts' inner commands counted as Redis counts them), most called first. */
function commandStats(info: string): Array<{ name: string; calls: number; usec: number }> {
  const out: Array<{ name: string; calls: number; usec: number }> = [];
  for (const m of info.matchAll(/^cmdstat_([^:]+):calls=(\d+),usec=(\d+)/gm)) {
    if (m[1] === 'config' || m[1] === 'info') continue;
    out.push({ name: m[1]!.toUpperCase(), calls: Number(m[2]), usec: Number(m[3]) });
  }
  return out.sort((a, b) => b.calls - a.calls);
}

main().catch((e: unknown) => {
  process.stderr.write(`profile-serve failed: ${(e as Error).stack ?? String(e)}\n`);
  process.exit(1);
});
