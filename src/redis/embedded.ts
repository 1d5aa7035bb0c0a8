import { createHash } from 'node:crypto';
import { mkdirSync, readFileSync, realpathSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { isMainThread } from 'node:worker_threads';
import { Redis } from 'ioredis';
import { EmbeddedRedisError, USE_REDIS_URL } from './embedded/errors.js';
import { DirectoryLock, readLockRecord, type LockRecord } from './embedded/lock.js';
import { formatBytes, maxmemoryBytes } from './embedded/maxmemory.js';
import { isAlive, isRedisServer, workingDirectory } from './embedded/proc.js';
import { checkVersion, probe, startServer, type Server } from './embedded/server.js';

export { EmbeddedRedisError } from './embedded/errors.js';

export interface EmbeddedLog {
  info(msg: string): void;
  warn(msg: string): void;
  error(msg: string): void;
}

export interface EmbeddedRedisOptions {
  binary: string;
  dataDir: string;
  /** `redis.maxmemory`: bytes, a size such as "512mb", or "auto". */
  maxmemory?: number | string;
  log?: Partial<EmbeddedLog>;
}

export interface EmbeddedRedis {
  /** Unix socket the private server listens on (no TCP port is opened). */
  socket: string;
  dataDir: string;
  /** Whether this process started the server ('owner') or uses one another process started ('shared'). */
  role(): 'owner' | 'shared';
  /** The server's pid as last seen. */
  pid(): number;
  stop(): Promise<void>;
}

/** sun_path holds 108 bytes on Linux, the terminating NUL included. */
export const MAX_SOCKET_PATH = 107;
const LOCK_FILE = 'redis.lock';
const PID_FILE = 'redis.pid';
const WATCH_MS = 250;
/** How long to wait for a lock whose holder is starting or saving on its way out. */
const ATTACH_TIMEOUT_MS = 60_000;

/**
 * The private redis-server of a data directory, for Veracity processes run without REDIS_URL.
 *
 * One server per directory: whoever takes the directory's lock (an flock the server inherits, so
 * it is held until the server itself has saved and exited) starts the server, under a
 * parent-death signal so that it stops with its starter even on kill -9. Every other Veracity
 * process on the same directory (`proxy` beside `worker`, a second `serve`) finds the lock taken
 * and shares that server. When the starter goes, the server saves and exits with it; the others
 * notice within a fraction of a second and one of them takes the lock and starts it again from
 * that snapshot, so the last process to leave is the one that stops it.
 */
export async function startEmbeddedRedis(options: EmbeddedRedisOptions): Promise<EmbeddedRedis> {
  if (!isMainThread) {
    throw new EmbeddedRedisError('VERACITY_ERR_REDIS_THREAD', 'the private redis-server must be started from the main thread: its parent-death signal fires when the thread that started it ends');
  }
  const log: EmbeddedLog = { info: () => {}, warn: () => {}, error: () => {}, ...options.log };
  const dataDir = prepareDataDir(resolve(options.dataDir));
  const socket = socketPath(dataDir, log);
  const { bytes: maxmemory, why } = maxmemoryBytes(options.maxmemory ?? 'auto');
  const lockPath = join(dataDir, LOCK_FILE);
  const pidPath = join(dataDir, PID_FILE);

  let role = 'shared' as 'owner' | 'shared';
  let lock: DirectoryLock | undefined;
  let server: Server | undefined;
  let record: LockRecord | undefined;
  let stopping = false;
  let watch: NodeJS.Timeout | undefined;
  let restarts: number[] = [];
  /** A restart or takeover under way, which stop() lets finish before it stops what it started. */
  let pending: Promise<unknown> | undefined;

  const becomeOwner = async (held: DirectoryLock): Promise<void> => {
    await checkVersion(options.binary, log.warn);
    await stopUnlockedServer(dataDir, socket, pidPath, options.binary, log);
    const started = new Date().toISOString();
    server = await startServer({
      binary: options.binary,
      dataDir,
      socket,
      maxmemory,
      lockFd: held.fd,
      onSpawn: (pid) => held.write({ owner: process.pid, redis: pid, socket, started }),
      log: log.info,
      warn: log.warn,
      error: log.error,
    });
    writeAtomically(pidPath, `${server.pid}\n`);
    lock = held;
    role = 'owner';
    record = { owner: process.pid, redis: server.pid, socket, started };
    const mine = server;
    void mine.exited.then((how) => {
      if (!stopping && server === mine) pending = restartAfterCrash(how);
    });
  };

  // A server that dies under its owner (killed from outside, out of memory) is started again from
  // its last snapshot, a few times at most; past that the proxy keeps serving and counts drops.
  const restartAfterCrash = async (how: string): Promise<void> => {
    const now = Date.now();
    restarts = restarts.filter((t) => now - t < 600_000);
    if (restarts.length >= 3) {
      log.error(`private redis-server (pid ${server?.pid}) exited unexpectedly (${how}) for the fourth time in ten minutes: not restarting it; analyses are dropped until Veracity is restarted`);
      return;
    }
    restarts.push(now);
    log.error(`private redis-server (pid ${server?.pid}) exited unexpectedly (${how}): starting it again from its last snapshot`);
    try {
      await becomeOwner(lock!);
    } catch (err) {
      log.error(`private redis-server could not be started again: ${(err as Error).message}`);
    }
  };

  /** Takes the lock and starts the server, or finds the server another process runs and shares it. */
  const attach = async (): Promise<void> => {
    let deadline = Date.now() + ATTACH_TIMEOUT_MS;
    const shutdownSent = new Set<number>();
    let shutdownError = '';
    for (;;) {
      if (stopping) return; // a takeover cut short by stop(): start nothing that would outlive it
      const held = await DirectoryLock.tryAcquire(lockPath);
      if (held) {
        try {
          held.write({ owner: process.pid, redis: 0, socket, started: new Date().toISOString() });
          await becomeOwner(held);
          return;
        } catch (err) {
          held.release();
          throw err;
        }
      }
      const r = readLockRecord(lockPath);
      if (r && r.redis > 0 && isRedisServer(r.redis, options.binary)) {
        if (r.owner !== process.pid && isAlive(r.owner)) {
          const state = await probe(r.socket, r.redis);
          if (state === 'ready') {
            role = 'shared';
            record = r;
            return;
          }
          if (state === 'loading') deadline = Math.max(deadline, Date.now() + ATTACH_TIMEOUT_MS);
        } else if (!shutdownSent.has(r.redis)) {
          // Its starter is gone, so it got SIGTERM and is saving on its way out; or, if it could
          // not save, it is still running and still holds the lock. Ask it to save and stop.
          shutdownSent.add(r.redis);
          log.warn(`the Veracity process (pid ${r.owner}) that started the private redis-server (pid ${r.redis}) has gone; waiting for the server to save and stop, then starting it again`);
          shutdownError = await shutdownSave(r.socket);
        }
      }
      if (shutdownError) {
        // A server that cannot save keeps its data in memory rather than exit: leave it be.
        throw new EmbeddedRedisError(
          'VERACITY_ERR_REDIS_LOCKED',
          `the Redis data directory ${dataDir} is held by redis-server pid ${r?.redis}, whose Veracity process (pid ${r?.owner}) has gone, ` +
            `and it cannot save its snapshot to stop ("${shutdownError}"; a full or read-only disk?). It keeps the data in memory until it can: ` +
            `free space there and start again (Veracity asks it to SHUTDOWN SAVE first), or kill ${r?.redis} to give that data up`,
        );
      }
      if (Date.now() > deadline) {
        throw new EmbeddedRedisError(
          'VERACITY_ERR_REDIS_LOCKED',
          `the Redis data directory ${dataDir} is locked (${lockPath}) but no private redis-server of a running Veracity process answers there` +
            (r ? ` (lock record: Veracity pid ${r.owner}, redis-server pid ${r.redis})` : '') +
            `; find the holder with \`fuser -v ${lockPath}\`, or use another redis.dataDir, ${USE_REDIS_URL}`,
        );
      }
      await new Promise((r) => setTimeout(r, 100));
    }
  };

  // A sharing process watches the server's starter and the server: when either is gone it
  // attaches again, which starts the server once the old one has saved and released the lock.
  let reattaching = false;
  let retryAt = 0;
  const watchOwner = () => {
    watch = setInterval(() => {
      if (stopping || reattaching || role !== 'shared' || !record || Date.now() < retryAt) return;
      if (isAlive(record.owner) && isAlive(record.redis)) return;
      reattaching = true;
      const gone = record;
      log.warn(`the private redis-server (pid ${gone.redis}) started by Veracity pid ${gone.owner} has stopped or is stopping; taking it over`);
      pending = attach().then(
        () => {
          reattaching = false;
          if (stopping) return;
          if (role === 'owner') log.info(`took over the private redis-server: pid ${server!.pid}, socket ${socket}, data in ${dataDir}`);
          else log.info(`sharing the private redis-server (pid ${record!.redis}) now started by Veracity pid ${record!.owner}`);
        },
        (err: Error) => {
          reattaching = false;
          retryAt = Date.now() + 10_000;
          log.error(`could not take over the private redis-server: ${err.message}; trying again in 10 s`);
        },
      );
    }, WATCH_MS);
    watch.unref();
  };

  await attach();
  if (role === 'owner') {
    log.info(`private redis-server started (pid ${server!.pid}, socket ${socket}, data in ${dataDir}, maxmemory ${formatBytes(maxmemory)} from ${why}, policy noeviction)`);
  } else {
    log.info(`sharing the private redis-server (pid ${record!.redis}, socket ${record!.socket}) started by Veracity pid ${record!.owner} on ${dataDir}; it stops with that process, and then one of those left starts it again`);
  }
  watchOwner();

  return {
    get socket() {
      return record?.socket ?? socket;
    },
    dataDir,
    role: () => role,
    pid: () => record?.redis ?? 0,
    async stop() {
      stopping = true;
      if (watch) clearInterval(watch);
      await pending;
      if (role !== 'owner' || !server) return;
      if (await server.stop()) {
        try {
          rmSync(pidPath, { force: true });
        } catch {}
      }
      lock?.release();
    },
  };
}

function prepareDataDir(dataDir: string): string {
  try {
    mkdirSync(dataDir, { recursive: true, mode: 0o700 });
  } catch (err) {
    throw new EmbeddedRedisError('VERACITY_ERR_REDIS_DATA_DIR', `cannot create the Redis data directory ${dataDir}: ${(err as Error).message}. Set VERACITY_REDIS_DATA_DIR (redis.dataDir) to a writable directory, ${USE_REDIS_URL}`);
  }
  // Redis would start and only fail at its first snapshot, minutes later, by refusing writes.
  const probeFile = join(dataDir, `.write-check-${process.pid}`);
  try {
    writeFileSync(probeFile, 'x', { flag: 'wx' });
    rmSync(probeFile, { force: true });
  } catch (err) {
    throw new EmbeddedRedisError(
      'VERACITY_ERR_REDIS_DATA_DIR',
      `the Redis data directory ${dataDir} is not writable (${(err as Error).message}): Redis could not save its snapshot there. ` +
        `Make it writable, set VERACITY_REDIS_DATA_DIR (redis.dataDir) to a directory that is, ${USE_REDIS_URL}`,
    );
  }
  return realpathSync(dataDir);
}

/**
 * The socket goes inside the data directory when its path fits in sun_path; otherwise a name in
 * the temporary directory derived from the data directory (the same for every process using it).
 */
function socketPath(dataDir: string, log: EmbeddedLog): string {
  const inside = join(dataDir, 'redis.sock');
  if (Buffer.byteLength(inside) <= MAX_SOCKET_PATH) return inside;
  const hash = createHash('sha256').update(dataDir).digest('hex').slice(0, 16);
  const outside = join(tmpdir(), `veracity-redis-${hash}.sock`);
  if (Buffer.byteLength(outside) <= MAX_SOCKET_PATH) {
    log.info(`the socket path ${inside} is ${Buffer.byteLength(inside)} bytes, over the ${MAX_SOCKET_PATH} a unix socket path may have: using ${outside}`);
    return outside;
  }
  throw new EmbeddedRedisError(
    'VERACITY_ERR_REDIS_SOCKET_PATH',
    `no unix socket path short enough for the private redis-server: ${inside} is ${Buffer.byteLength(inside)} bytes and ${outside} ` +
      `${Buffer.byteLength(outside)}, over the ${MAX_SOCKET_PATH} allowed. Use a shorter redis.dataDir or TMPDIR, ${USE_REDIS_URL}`,
  );
}

/**
 * A redis-server serving this directory without holding its lock: one left running by a Veracity
 * version before the lock existed, or one whose lock file was deleted. It is never adopted (it
 * would outlive us, having no parent-death signal towards us): it is asked to SHUTDOWN SAVE, so
 * its dataset is on disk, and a server of our own starts from that snapshot.
 */
async function stopUnlockedServer(dataDir: string, socket: string, pidPath: string, binary: string, log: EmbeddedLog): Promise<void> {
  const found = new Map<number, 'socket' | 'pid file'>();
  const onSocket = await serverOn(socket);
  if (onSocket) {
    if (onSocket.dir !== dataDir) {
      throw new EmbeddedRedisError('VERACITY_ERR_REDIS_LOCKED', `another redis-server (pid ${onSocket.pid}, serving ${onSocket.dir}) listens on ${socket}; stop it, or use another redis.dataDir`);
    }
    found.set(onSocket.pid, 'socket');
  }
  // One whose socket is elsewhere is still known by the pid file and its working directory.
  const recorded = Number(readText(pidPath).trim());
  if (!found.has(recorded) && isRedisServer(recorded, binary) && workingDirectory(recorded) === dataDir) found.set(recorded, 'pid file');
  for (const [pid, via] of found) {
    log.warn(`a redis-server from an earlier run (pid ${pid}) still serves ${dataDir} without holding its lock: stopping it with ${via === 'socket' ? 'SHUTDOWN SAVE' : 'SIGTERM'} so its data is on disk, then starting afresh from that snapshot`);
    let refused = '';
    if (via === 'socket') refused = await shutdownSave(socket);
    else process.kill(pid, 'SIGTERM');
    const deadline = Date.now() + 60_000;
    while (isAlive(pid)) {
      if (Date.now() > deadline) {
        throw new EmbeddedRedisError('VERACITY_ERR_REDIS_LOCKED', `the earlier redis-server (pid ${pid}) on ${dataDir} did not stop${refused ? `: ${refused}` : ''}; stop it yourself (kill ${pid}) and start again`);
      }
      await new Promise((r) => setTimeout(r, 50));
    }
  }
}

async function serverOn(socket: string): Promise<{ pid: number; dir: string } | undefined> {
  // A server still loading its snapshot answers INFO and CONFIG, and counts as found.
  if ((await probe(socket)) === 'down') return undefined;
  const client = new Redis({ path: socket, lazyConnect: true, enableReadyCheck: false, maxRetriesPerRequest: 0, enableOfflineQueue: false, retryStrategy: () => null });
  client.on('error', () => {});
  try {
    await client.connect();
    const pid = Number(/process_id:(\d+)/.exec(await client.info('server'))?.[1]);
    const dir = ((await client.config('GET', 'dir')) as string[])[1] ?? '';
    return { pid, dir: realOrSame(dir) };
  } catch {
    return undefined;
  } finally {
    client.disconnect();
  }
}

/** Asks the server on `socket` to save and exit; '' when it did (or was already going), else its refusal. */
async function shutdownSave(socket: string): Promise<string> {
  const client = new Redis({ path: socket, lazyConnect: true, enableReadyCheck: false, maxRetriesPerRequest: 0, enableOfflineQueue: false, retryStrategy: () => null });
  client.on('error', () => {});
  try {
    await client.connect();
    await client.call('SHUTDOWN', 'SAVE');
    return '';
  } catch (err) {
    const msg = (err as Error).message;
    // The connection closing is what a successful SHUTDOWN looks like.
    return /Connection is closed|ECONNREFUSED|ENOENT|ECONNRESET/.test(msg) ? '' : msg;
  } finally {
    client.disconnect();
  }
}

function readText(path: string): string {
  try {
    return readFileSync(path, 'utf8');
  } catch {
    return '';
  }
}

function realOrSame(path: string): string {
  try {
    return realpathSync(path);
  } catch {
    return path;
  }
}

function writeAtomically(path: string, text: string): void {
  const tmp = `${path}.${process.pid}.tmp`;
  writeFileSync(tmp, text);
  renameSync(tmp, path);
}
