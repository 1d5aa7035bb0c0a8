import { execFileSync } from 'node:child_process';
import { readdirSync, readlinkSync } from 'node:fs';
import { getPriority, setPriority } from 'node:os';

/**
 * Analysis is deferred work: when it shares a CPU with the proxy (serve, or a worker beside a
 * proxy), it should take what the proxy leaves, never make a relayed request wait for a CPU
 * slice. Linux keeps a nice value per thread, so the analysis thread (serve) or every thread of
 * the worker process can be lowered without touching the proxy. Raising the nice value needs no
 * privilege. With `idle`, the threads also move to SCHED_IDLE (below). Returns what could not be
 * done, if anything.
 */
export function lowerPriority(nice: number, scope: 'thread' | 'process', idle = false): string | undefined {
  if (nice <= 0) return undefined;
  return setNice(nice, scope) ?? (idle ? idleScheduling(scope) : undefined);
}

/**
 * Moves analysis to the SCHED_IDLE policy, through util-linux's `chrt` (Node has no call for
 * it). A thread at nice 19 still keeps the CPU for the rest of its time slice when a proxy thread
 * wakes up: with a busy worker on the proxy's core, one request in a hundred waited 1 to 2 ms for
 * it at concurrency 1. Any runnable thread of the normal policy preempts a SCHED_IDLE one at once.
 * Needs no privilege; threads started later inherit the policy from the thread that starts them.
 */
function idleScheduling(scope: 'thread' | 'process'): string | undefined {
  let args: string[];
  try {
    args = scope === 'thread' ? ['--idle', '--pid', '0', String(threadId())] : ['--all-tasks', '--idle', '--pid', '0', String(process.pid)];
  } catch (err) {
    return `cannot find this thread: ${(err as Error).message}`;
  }
  try {
    execFileSync('chrt', args, { stdio: ['ignore', 'ignore', 'pipe'], timeout: 5000 });
  } catch (err) {
    const e = err as NodeJS.ErrnoException & { stderr?: Buffer };
    const why = e.code === 'ENOENT' ? 'chrt (util-linux) is not installed' : (e.stderr?.toString().trim() || e.message);
    return `cannot move analysis to SCHED_IDLE, it runs at its nice value only: ${why}`;
  }
  return undefined;
}

function setNice(nice: number, scope: 'thread' | 'process'): string | undefined {
  if (process.platform !== 'linux') return `per-thread priority is only set on Linux (this is ${process.platform})`;
  let tids: number[];
  try {
    tids = scope === 'thread' ? [threadId()] : readdirSync('/proc/self/task').map(Number);
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

/** The kernel's id of the calling thread. */
function threadId(): number {
  return Number(readlinkSync('/proc/thread-self').split('/').pop());
}
