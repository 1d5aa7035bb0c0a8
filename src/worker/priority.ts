import { readdirSync, readlinkSync } from 'node:fs';
import { getPriority, setPriority } from 'node:os';

/**
 * Analysis is deferred work: when it shares a CPU with the proxy (serve, or a worker beside a
 * proxy), it should take what the proxy leaves, never make a relayed request wait for a CPU
 * slice. Linux keeps a nice value per thread, so the analysis thread (serve) or every thread of
 * the worker process can be lowered without touching the proxy. Raising the nice value needs no
 * privilege. Returns why nothing was changed, when nothing was.
 */
export function lowerPriority(nice: number, scope: 'thread' | 'process'): string | undefined {
  if (nice <= 0) return undefined;
  if (process.platform !== 'linux') return `per-thread priority is only set on Linux (this is ${process.platform})`;
  let tids: number[];
  try {
    tids =
      scope === 'thread'
        ? [Number(readlinkSync('/proc/thread-self').split('/').pop())]
        : readdirSync('/proc/self/task').map(Number);
  } catch (err) {
    return `cannot list threads: ${(err as Error).message}`;
  }
  let failed: string | undefined;
  for (const tid of tids) {
    try {
      if (getPriority(tid) < nice) setPriority(tid, nice);
    } catch (err) {
      // A thread can end between listing and setting; anything else is reported once.
      failed ??= (err as Error).message;
    }
  }
  return failed && `cannot lower priority: ${failed}`;
}
