import { totalmem } from 'node:os';

const UNITS: Record<string, number> = { '': 1, kb: 1024, mb: 1024 ** 2, gb: 1024 ** 3 };

/** `redis.maxmemory` as bytes: a byte count, a size such as "512mb", or "auto". */
export function maxmemoryBytes(value: number | string): { bytes: number; why: string } {
  if (typeof value === 'number') return { bytes: value, why: 'redis.maxmemory' };
  const m = /^(\d+)\s*(kb|mb|gb)?$/i.exec(value.trim());
  if (m) return { bytes: Number(m[1]) * UNITS[(m[2] ?? '').toLowerCase()]!, why: 'redis.maxmemory' };
  // A quarter of the memory this process may use (its cgroup's limit in a container): a snapshot
  // forks the server, and copy-on-write can briefly need as much again.
  const constrained = process.constrainedMemory?.();
  const available = constrained && constrained > 0 && constrained < totalmem() ? constrained : totalmem();
  const bytes = Math.max(64 * 1024 ** 2, Math.floor(available / 4));
  return { bytes, why: `a quarter of the ${formatBytes(available)} available` };
}

export function formatBytes(n: number): string {
  if (n >= 1024 ** 3) return `${(n / 1024 ** 3).toFixed(1)} GiB`;
  if (n >= 1024 ** 2) return `${(n / 1024 ** 2).toFixed(0)} MiB`;
  if (n >= 1024) return `${(n / 1024).toFixed(0)} KiB`;
  return `${n} B`;
}
