import { readFileSync, readlinkSync } from 'node:fs';
import { basename } from 'node:path';

/**
 * What Linux says about a process, from /proc. A process that has exited but not been reaped yet
 * (a zombie, common in containers whose init does not reap) still answers kill(pid, 0): it counts
 * as gone here, since it holds no memory, sockets or locks any more.
 */
export function isAlive(pid: number): boolean {
  if (!Number.isInteger(pid) || pid <= 0) return false;
  let stat: string;
  try {
    stat = readFileSync(`/proc/${pid}/stat`, 'latin1');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT' || (err as NodeJS.ErrnoException).code === 'ESRCH') return false;
    return signalable(pid);
  }
  // "pid (comm) S ...": comm may hold spaces and parentheses, the state follows the last ')'.
  const state = stat.slice(stat.lastIndexOf(')') + 2, stat.lastIndexOf(')') + 3);
  return state !== 'Z' && state !== 'X' && state !== 'x';
}

function signalable(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/** The process's command name (/proc/<pid>/comm, at most 15 bytes), or undefined when it is gone. */
export function commandName(pid: number): string | undefined {
  try {
    return readFileSync(`/proc/${pid}/comm`, 'utf8').trim();
  } catch {
    return undefined;
  }
}

/**
 * Whether a live process is a redis-server. Its command name is the name it was executed by
 * (Debian's redis-server is a link to redis-check-rdb, so /proc/<pid>/exe names the latter), cut
 * to 15 bytes by the kernel; Redis rewrites its argv, so the command line is no help.
 */
export function isRedisServer(pid: number, binary: string): boolean {
  if (!isAlive(pid)) return false;
  const name = commandName(pid);
  if (name === undefined) return false;
  return name === 'redis-server' || name === basename(binary).slice(0, 15);
}

/** The process's working directory (redis-server changes into its data directory), or undefined. */
export function workingDirectory(pid: number): string | undefined {
  try {
    return readlinkSync(`/proc/${pid}/cwd`);
  } catch {
    return undefined;
  }
}
