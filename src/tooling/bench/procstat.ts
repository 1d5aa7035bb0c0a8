// CPU time and memory of the processes under test, read from /proc (Linux only).
import { readFileSync, readdirSync, writeFileSync } from 'node:fs';

const CLK_TCK = 100; // USER_HZ: 100 on every Linux architecture Node runs on.

/** utime + stime of one process in seconds; NaN once it is gone. */
export function cpuSeconds(pid: number): number {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    // The command name may hold spaces and parentheses: fields are counted after the last ')'.
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    // fields[0] is field 3 (state); utime and stime are fields 14 and 15.
    return (Number(fields[11]) + Number(fields[12])) / CLK_TCK;
  } catch {
    return NaN;
  }
}

function statusKb(pid: number, key: 'VmRSS' | 'VmHWM'): number {
  try {
    const m = new RegExp(`^${key}:\\s+(\\d+) kB`, 'm').exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
    return m ? Number(m[1]) : NaN;
  } catch {
    return NaN;
  }
}

export const rssKb = (pid: number) => statusKb(pid, 'VmRSS');
export const peakRssKb = (pid: number) => statusKb(pid, 'VmHWM');

/** Resets VmHWM so the next read is the peak since now. Needs the right to write clear_refs. */
export function resetPeak(pid: number): boolean {
  try {
    writeFileSync(`/proc/${pid}/clear_refs`, '5');
    return true;
  } catch {
    return false;
  }
}

/** The process and all its descendants (nginx master and workers, a CLI and its children). */
export function processTree(root: number): number[] {
  const children = new Map<number, number[]>();
  for (const name of readdirSync('/proc')) {
    if (!/^\d+$/.test(name)) continue;
    try {
      const stat = readFileSync(`/proc/${name}/stat`, 'utf8');
      const ppid = Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]);
      const list = children.get(ppid) ?? [];
      list.push(Number(name));
      children.set(ppid, list);
    } catch {
      // gone between readdir and read
    }
  }
  const out: number[] = [];
  const queue = [root];
  while (queue.length) {
    const pid = queue.shift() as number;
    out.push(pid);
    queue.push(...(children.get(pid) ?? []));
  }
  return out;
}

/**
 * Watches a set of processes over one bench cell: CPU seconds used, and the peak resident memory
 * (kernel VmHWM after a reset, cross-checked by sampling VmRSS, whichever is higher).
 */
export class ProcWatch {
  private readonly cpu0: number[];
  private readonly t0 = process.hrtime.bigint();
  private sampledPeakKb = 0;
  private readonly timer: NodeJS.Timeout;
  private readonly hwmReset: boolean;

  constructor(private readonly pids: number[]) {
    this.cpu0 = pids.map(cpuSeconds);
    this.hwmReset = pids.length > 0 && pids.every(resetPeak);
    this.sample();
    this.timer = setInterval(() => this.sample(), 100);
    this.timer.unref();
  }

  private sample() {
    const total = this.pids.reduce((s, p) => s + (rssKb(p) || 0), 0);
    if (total > this.sampledPeakKb) this.sampledPeakKb = total;
  }

  /** cpuPercent: of one core, over the watch. peakRssMb: summed over the processes. */
  stop(): { cpuPercent: number; peakRssMb: number } {
    clearInterval(this.timer);
    this.sample();
    const wall = Number(process.hrtime.bigint() - this.t0) / 1e9;
    const used = this.pids.reduce((s, p, i) => s + (cpuSeconds(p) - (this.cpu0[i] as number)), 0);
    const hwm = this.hwmReset ? this.pids.reduce((s, p) => s + (peakRssKb(p) || 0), 0) : 0;
    const peakKb = Math.max(hwm, this.sampledPeakKb);
    return {
      cpuPercent: this.pids.length ? Math.round((used / wall) * 1000) / 10 : NaN,
      peakRssMb: this.pids.length ? Math.round(peakKb / 102.4) / 10 : NaN,
    };
  }
}
