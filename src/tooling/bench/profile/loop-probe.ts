// Loaded into a process under test with `node --import <this file>`, in every thread: between one
// SIGUSR2 and the next it records, for the window only,
// - the main thread's event-loop delay (perf_hooks.monitorEventLoopDelay, 1 ms sampling),
// - every garbage collection of each thread's heap (PerformanceObserver 'gc'),
// - each thread's CPU time (/proc/thread-self/stat) and a V8 CPU profile of each thread,
// and writes them under $VERACITY_PROBE_OUT (main.json, main.cpuprofile, thread-N.json, ...).
// The main thread tells worker threads when to start and stop over a BroadcastChannel.
// A tool for profile-serve.ts, never loaded by Veracity itself.
import { readFileSync, writeFileSync } from 'node:fs';
import { Session } from 'node:inspector';
import path from 'node:path';
import { constants, monitorEventLoopDelay, PerformanceObserver } from 'node:perf_hooks';
import { BroadcastChannel, isMainThread, threadId } from 'node:worker_threads';

const KINDS: Record<number, string> = {
  [constants.NODE_PERFORMANCE_GC_MINOR]: 'scavenge',
  [constants.NODE_PERFORMANCE_GC_MAJOR]: 'mark-compact',
  [constants.NODE_PERFORMANCE_GC_INCREMENTAL]: 'incremental',
  [constants.NODE_PERFORMANCE_GC_WEAKCB]: 'weak-callbacks',
};

function threadCpuSeconds(): number {
  const stat = readFileSync('/proc/thread-self/stat', 'utf8');
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  return (Number(fields[11]) + Number(fields[12])) / 100;
}

const dir = process.env.VERACITY_PROBE_OUT;
if (dir) {
  const name = isMainThread ? 'main' : `thread-${threadId}`;
  const session = new Session();
  session.connect();
  const post = (method: string, params?: object) =>
    new Promise<unknown>((resolve, reject) => session.post(method, params ?? {}, (err, res) => (err ? reject(err) : resolve(res))));
  let on = false;
  let gcs: { kind: string; ms: number }[] = [];
  let t0 = 0;
  let cpu0 = 0;
  let delay: ReturnType<typeof monitorEventLoopDelay> | undefined;
  new PerformanceObserver((list) => {
    if (!on) return;
    for (const e of list.getEntries()) {
      const kind = ((e as unknown as { detail?: { kind?: number } }).detail)?.kind ?? -1;
      gcs.push({ kind: KINDS[kind] ?? String(kind), ms: e.duration });
    }
  }).observe({ entryTypes: ['gc'] });

  const start = async () => {
    on = true;
    gcs = [];
    t0 = performance.now();
    cpu0 = threadCpuSeconds();
    if (isMainThread) {
      delay = monitorEventLoopDelay({ resolution: 1 });
      delay.enable();
    }
    await post('Profiler.enable');
    await post('Profiler.setSamplingInterval', { interval: 200 });
    await post('Profiler.start');
  };
  const stop = async () => {
    on = false;
    const seconds = (performance.now() - t0) / 1000;
    const cpu = threadCpuSeconds() - cpu0;
    const { profile } = (await post('Profiler.stop')) as { profile: unknown };
    writeFileSync(path.join(dir, `${name}.cpuprofile`), JSON.stringify(profile));
    const byKind: Record<string, { count: number; totalMs: number; maxMs: number }> = {};
    for (const g of gcs) {
      const k = (byKind[g.kind] ??= { count: 0, totalMs: 0, maxMs: 0 });
      k.count++;
      k.totalMs = Math.round((k.totalMs + g.ms) * 1000) / 1000;
      k.maxMs = Math.max(k.maxMs, Math.round(g.ms * 1000) / 1000);
    }
    const ms = (ns: number) => Math.round(ns / 1e3) / 1e3;
    const loop = delay ? { p50: ms(delay.percentile(50)), p99: ms(delay.percentile(99)), max: ms(delay.max), mean: ms(delay.mean) } : undefined;
    delay?.disable();
    writeFileSync(path.join(dir, `${name}.json`), JSON.stringify({ thread: name, seconds, cpuSeconds: cpu, loopDelayMs: loop, gc: byKind }));
  };

  const channel = new BroadcastChannel('veracity-probe');
  channel.unref();
  if (isMainThread) {
    process.on('SIGUSR2', () => {
      const msg = on ? 'stop' : 'start';
      channel.postMessage(msg);
      void (msg === 'start' ? start() : stop());
    });
  } else {
    channel.onmessage = (e) => void ((e as { data?: unknown }).data === 'start' ? start() : stop());
  }
}
