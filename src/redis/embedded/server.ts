import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { existsSync, renameSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { RedisConnection } from 'bullmq';
import { Redis } from 'ioredis';
import { EmbeddedRedisError, USE_REDIS_URL } from './errors.js';

export const RDB_FILE = 'veracity.rdb';

export interface ServerOptions {
  binary: string;
  dataDir: string;
  socket: string;
  /** Bytes; 0 = no limit. */
  maxmemory: number;
  /** Descriptor of the data directory's lock, inherited so the server holds the lock as long as it runs. */
  lockFd: number;
  /** Called as soon as the process exists, before it answers (loading a snapshot can take a while). */
  onSpawn?: (pid: number) => void;
  log: (msg: string) => void;
  warn: (msg: string) => void;
  error: (msg: string) => void;
}

export interface Server {
  pid: number;
  /** Settles when the process has exited, with how it ended. */
  exited: Promise<string>;
  /**
   * SIGTERM: Redis saves its snapshot, then exits. If it cannot save (a full disk), Redis stays up
   * with the data in memory, and so it is left, said loudly; SIGKILL only for a server that neither
   * exits nor says why within a minute. True when the server has exited.
   */
  stop(): Promise<boolean>;
}

/** The version of a redis-server binary, refused when BullMQ would refuse it. */
export async function checkVersion(binary: string, warn: (msg: string) => void): Promise<string> {
  const out = await new Promise<string>((resolve, reject) => {
    execFile(binary, ['--version'], { timeout: 10_000 }, (err, stdout) => (err ? reject(err) : resolve(stdout)));
  }).catch((err: NodeJS.ErrnoException) => {
    if (err.code === 'ENOENT') {
      throw new EmbeddedRedisError(
        'VERACITY_ERR_REDIS_NOT_FOUND',
        `redis-server was not found (looked for "${binary}" on PATH). ` +
          'Install it with `sudo apt-get install redis-server` (Debian/Ubuntu), ' +
          'or point Veracity at an existing Redis with REDIS_URL=redis://host:6379.',
      );
    }
    throw new EmbeddedRedisError('VERACITY_ERR_REDIS_START', `cannot run ${binary} --version: ${err.message}`);
  });
  const version = /\bv=(\d+\.\d+\.\d+)/.exec(out)?.[1];
  if (!version) throw new EmbeddedRedisError('VERACITY_ERR_REDIS_START', `${binary} --version printed no Redis version: ${out.trim().slice(0, 200)}`);
  // BullMQ's own floor (it refuses older servers at connect time) and the version it recommends.
  if (older(version, RedisConnection.minimumVersion)) {
    throw new EmbeddedRedisError(
      'VERACITY_ERR_REDIS_TOO_OLD',
      `${binary} is Redis ${version}; the analysis queue (BullMQ) needs Redis ${RedisConnection.minimumVersion} or newer ` +
        `(${RedisConnection.recommendedMinimumVersion} recommended). Install a newer redis-server (redis.binary names another one), ${USE_REDIS_URL}`,
    );
  }
  if (older(version, RedisConnection.recommendedMinimumVersion)) {
    warn(`${binary} is Redis ${version}; BullMQ recommends ${RedisConnection.recommendedMinimumVersion} or newer`);
  }
  return version;
}

function older(version: string, than: string): boolean {
  const a = version.split('.').map(Number);
  const b = than.split('.').map(Number);
  for (let i = 0; i < 3; i++) if ((a[i] ?? 0) !== (b[i] ?? 0)) return (a[i] ?? 0) < (b[i] ?? 0);
  return false;
}

/**
 * Starts redis-server and waits until it answers. A snapshot it cannot load is checked with the
 * binary's own RDB checker; if the checker confirms the damage, the file is moved aside under a
 * timestamped name, said loudly, and the server started once more on an empty dataset. Any other
 * failure, or a second one, is an error: never a loop of restarts.
 */
export async function startServer(options: ServerOptions): Promise<Server> {
  try {
    return await launch(options);
  } catch (err) {
    if (!(err instanceof ExitedAtStart)) throw err;
    const rdb = join(options.dataDir, RDB_FILE);
    const damage = existsSync(rdb) ? await checkRdb(options.binary, rdb) : undefined;
    if (!damage) throw new EmbeddedRedisError('VERACITY_ERR_REDIS_START', `redis-server exited at start: ${err.message}`);
    const aside = `${rdb}.corrupt-${new Date().toISOString().replace(/[:.]/g, '-')}`;
    renameSync(rdb, aside);
    options.error(
      `THE REDIS SNAPSHOT ${rdb} IS DAMAGED (${damage}) and redis-server cannot load it. It was moved to ${aside} ` +
        'and Redis starts with an empty dataset: queued exchanges and stored verdicts from before are not available. ' +
        `Inspect it with: redis-check-rdb ${aside}`,
    );
    try {
      return await launch(options);
    } catch (again) {
      throw new EmbeddedRedisError('VERACITY_ERR_REDIS_START', `redis-server exited at start again after the damaged snapshot was moved aside: ${(again as Error).message}`);
    }
  }
}

class ExitedAtStart extends Error {}

/** What redis-check-rdb says is wrong with the file, or undefined when it finds it sound. */
async function checkRdb(binary: string, file: string): Promise<string | undefined> {
  // redis-server runs as its RDB checker when started under that name.
  const { code, out } = await new Promise<{ code: number | null; out: string }>((resolve) => {
    const c = spawn(binary, [file], { argv0: 'redis-check-rdb', stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    c.stdout!.on('data', (d) => (out += d));
    c.stderr!.on('data', (d) => (out += d));
    const timer = setTimeout(() => c.kill('SIGKILL'), 120_000);
    c.once('error', () => resolve({ code: null, out }));
    c.once('close', (code) => {
      clearTimeout(timer);
      resolve({ code, out });
    });
  });
  if (code === 0 || code === null) return undefined;
  const lines = out.split('\n');
  const at = lines.findIndex((l) => l.includes('RDB ERROR DETECTED'));
  if (at < 0) return undefined;
  return lines[at + 1]?.replace(/^\[offset \d+\]\s*/, '').trim() || 'unreadable';
}

async function launch(options: ServerOptions): Promise<Server> {
  const { socket, dataDir } = options;
  rmSync(socket, { force: true });
  const args = [
    '--port', '0',
    '--unixsocket', socket,
    '--unixsocketperm', '700',
    '--dir', dataDir,
    '--dbfilename', RDB_FILE,
    '--save', '300 1',
    '--appendonly', 'no',
    '--daemonize', 'no',
    '--maxmemory', String(options.maxmemory),
    '--maxmemory-policy', 'noeviction',
    '--loglevel', 'warning',
    '--logfile', '',
  ];
  // setpriv sets the parent-death signal and then becomes redis-server: when this process ends,
  // however it ends, the kernel sends the server SIGTERM, on which Redis saves and exits. The
  // signal follows the thread that forked, hence the main-thread check in embedded.ts. In a
  // session of its own, a Ctrl-C in a terminal reaches Veracity only, which drains and then stops it.
  let child: ChildProcess;
  try {
    child = await new Promise<ChildProcess>((resolve, reject) => {
      const c = spawn('setpriv', ['--pdeathsig', 'TERM', '--', options.binary, ...args], {
        stdio: ['ignore', 'pipe', 'pipe', options.lockFd],
        detached: true,
      });
      c.once('spawn', () => resolve(c));
      c.once('error', reject);
    });
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') {
      throw new EmbeddedRedisError(
        'VERACITY_ERR_REDIS_PLATFORM',
        "the private redis-server needs util-linux's setpriv (so it stops with Veracity even on kill -9): install util-linux, " + USE_REDIS_URL,
      );
    }
    throw new EmbeddedRedisError('VERACITY_ERR_REDIS_START', `cannot start ${options.binary}: ${(err as Error).message}`);
  }

  let output = '';
  let ready = false;
  let stopping = false;
  let cannotExit: ((why: string) => void) | undefined;
  const refusedToExit = new Promise<string>((r) => (cannotExit = r));
  const onOutput = (d: Buffer) => {
    const text = d.toString();
    if (!ready) {
      output = (output + text).slice(-8192);
      return;
    }
    // Once running, Redis speaks at warning level only when something is wrong (a snapshot that
    // cannot be written, a fork that failed) or when it shuts down: the former are warnings.
    for (const line of text.split('\n')) {
      const msg = /^\d+:[A-Z] [^#]*# (.*)$/.exec(line)?.[1];
      if (!msg) continue;
      const trouble = /error|fail|can't|cannot|unable/i.test(msg);
      (stopping && !trouble ? options.log : options.warn)(`redis-server: ${msg}`);
      if (stopping && /can't exit/i.test(msg)) cannotExit?.(msg);
    }
  };
  child.stdout!.on('data', onOutput);
  child.stderr!.on('data', onOutput);
  let dead = false;
  const exited = new Promise<string>((r) => child.once('exit', (code, signal) => r(signal ? `killed by ${signal}` : `exit code ${code}`)));
  void exited.then(() => (dead = true));
  const pid = child.pid!;
  options.onSpawn?.(pid);

  const started = Date.now();
  let loadingSince: number | undefined;
  for (;;) {
    if (dead) throw new ExitedAtStart(lastLines(output) || 'no output');
    const state = await probe(socket, pid);
    if (state === 'ready') break;
    if (state === 'loading') loadingSince ??= Date.now();
    // Loading a large snapshot takes as long as it takes (it answers LOADING meanwhile); silence
    // for 10 s is a failure.
    const limit = loadingSince ? loadingSince + 600_000 : started + 10_000;
    if (Date.now() > limit) {
      child.kill('SIGKILL');
      throw new EmbeddedRedisError('VERACITY_ERR_REDIS_START', `redis-server did not become ready within ${loadingSince ? '10 minutes of loading' : '10 s'}: ${lastLines(output) || 'no output'}`);
    }
    await new Promise((r) => setTimeout(r, 25));
  }
  ready = true;

  return {
    pid,
    exited,
    async stop() {
      if (dead) return true;
      stopping = true;
      child.kill('SIGTERM');
      let timer: NodeJS.Timeout | undefined;
      const hung = new Promise<'hung'>((r) => (timer = setTimeout(() => r('hung'), 60_000)));
      const outcome = await Promise.race([exited.then(() => 'exited' as const), refusedToExit, hung]);
      clearTimeout(timer);
      if (outcome === 'hung') {
        options.error(`redis-server (pid ${pid}) did not exit within 60 s of SIGTERM: killed, its last snapshot may be older`);
        child.kill('SIGKILL');
        await exited;
      } else if (outcome !== 'exited') {
        options.error(
          `redis-server (pid ${pid}) could not save its snapshot in ${dataDir} ("${outcome}"; a full or read-only disk?) and stays up ` +
            `with the data in memory rather than lose it. Free space there, then stop it with \`redis-cli -s ${socket} shutdown save\`, ` +
            'or start Veracity again, which does that first.',
        );
        return false;
      }
      return true;
    },
  };
}

function lastLines(output: string): string {
  return output
    .split('\n')
    .filter((l) => l.trim() && !l.includes('Memory overcommit must be enabled'))
    .slice(-6)
    .join('\n')
    .trim();
}

/** Whether the server on `socket` is up, and is the process `pid` (not a stranger on the same path). */
export async function probe(socket: string, pid?: number): Promise<'ready' | 'loading' | 'down'> {
  if (!existsSync(socket)) return 'down';
  // No ready check: ioredis' own would wait out a LOADING server instead of saying so.
  const client = new Redis({ path: socket, lazyConnect: true, enableReadyCheck: false, maxRetriesPerRequest: 0, enableOfflineQueue: false, retryStrategy: () => null, connectTimeout: 2000 });
  client.on('error', () => {});
  try {
    await client.connect();
    const info = await client.info('server');
    if (pid !== undefined && Number(/process_id:(\d+)/.exec(info)?.[1]) !== pid) return 'down';
    await client.ping();
    return 'ready';
  } catch (err) {
    return /LOADING/.test((err as Error).message) ? 'loading' : 'down';
  } finally {
    client.disconnect();
  }
}
