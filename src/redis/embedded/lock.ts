import { spawn } from 'node:child_process';
import { closeSync, ftruncateSync, openSync, readFileSync, writeSync } from 'node:fs';
import { EmbeddedRedisError, USE_REDIS_URL } from './errors.js';

/** What the holder of a data directory's lock writes into the lock file, for the others to read. */
export interface LockRecord {
  /** The Veracity process that started the server. */
  owner: number;
  /** The redis-server it started. */
  redis: number;
  socket: string;
  started: string;
}

const CONFLICT = 75; // EX_TEMPFAIL, what flock(1) exits with here when another holds the lock

/**
 * An exclusive flock(2) on a file of the data directory, taken by util-linux's flock(1) on a
 * descriptor this process holds (Node has no flock of its own). The lock belongs to the open file,
 * not to a process: the redis-server child inherits the descriptor, so the lock is held until
 * both this process and its server are gone, the server's last snapshot included, and the kernel
 * drops it whatever way they end. Two processes asking at the same instant cannot both get it.
 */
export class DirectoryLock {
  private constructor(
    readonly path: string,
    /** The descriptor to hand to the child that must keep the lock. */
    readonly fd: number,
  ) {}

  /** The lock, or undefined when another process holds it. */
  static async tryAcquire(path: string): Promise<DirectoryLock | undefined> {
    const fd = openSync(path, 'a+', 0o600);
    let code: number | null;
    try {
      code = await new Promise<number | null>((resolve, reject) => {
        const child = spawn('flock', ['--nonblock', '--conflict-exit-code', String(CONFLICT), '3'], { stdio: ['ignore', 'ignore', 'ignore', fd] });
        child.once('error', reject);
        child.once('exit', (c) => resolve(c));
      });
    } catch (err) {
      closeSync(fd);
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') {
        throw new EmbeddedRedisError(
          'VERACITY_ERR_REDIS_PLATFORM',
          "the private redis-server needs util-linux's flock (to keep one server per data directory): install util-linux, " + USE_REDIS_URL,
        );
      }
      throw err;
    }
    if (code === 0) return new DirectoryLock(path, fd);
    closeSync(fd);
    if (code === CONFLICT) return undefined;
    throw new EmbeddedRedisError('VERACITY_ERR_REDIS_LOCKED', `flock on ${path} failed (exit code ${code})`);
  }

  write(record: LockRecord): void {
    ftruncateSync(this.fd, 0);
    writeSync(this.fd, JSON.stringify(record) + '\n');
  }

  /** Lets go of this process's hold; a server still running keeps the lock until it exits. */
  release(): void {
    try {
      closeSync(this.fd);
    } catch {}
  }
}

/** The record of whoever holds (or last held) the lock; undefined while it is being written. */
export function readLockRecord(path: string): LockRecord | undefined {
  try {
    const r = JSON.parse(readFileSync(path, 'utf8')) as Partial<LockRecord>;
    if (typeof r.owner === 'number' && typeof r.redis === 'number' && typeof r.socket === 'string') return r as LockRecord;
  } catch {}
  return undefined;
}
