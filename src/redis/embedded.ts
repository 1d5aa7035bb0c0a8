import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { Redis } from 'ioredis';

export class EmbeddedRedisError extends Error {
  readonly code = 'VERACITY_ERR_EMBEDDED_REDIS';
}

export interface EmbeddedRedis {
  /** Unix socket the private server listens on (no TCP port is opened). */
  socket: string;
  dataDir: string;
  stop(): Promise<void>;
}

const MAX_SOCKET_PATH = 100; // sun_path is 108 bytes on Linux; keep a margin

/**
 * Starts a private redis-server child for the embedded default: no TCP port, a unix socket inside
 * the data directory, snapshots in that directory. It is stopped on shutdown and killed if this
 * process exits any other way.
 */
export async function startEmbeddedRedis(options: { binary: string; dataDir: string; log?: (msg: string) => void }): Promise<EmbeddedRedis> {
  const dataDir = resolve(options.dataDir);
  try {
    mkdirSync(dataDir, { recursive: true, mode: 0o700 });
  } catch (err) {
    throw new EmbeddedRedisError(`cannot create the Redis data directory ${dataDir}: ${(err as Error).message}`);
  }
  let socket = join(dataDir, 'redis.sock');
  if (socket.length > MAX_SOCKET_PATH) socket = join(tmpdir(), `veracity-redis-${process.pid}.sock`);
  if (existsSync(socket)) rmSync(socket, { force: true });

  const args = [
    '--port', '0',
    '--unixsocket', socket,
    '--unixsocketperm', '700',
    '--dir', dataDir,
    '--dbfilename', 'veracity.rdb',
    '--save', '300 1',
    '--appendonly', 'no',
    '--daemonize', 'no',
    '--maxmemory-policy', 'noeviction',
    '--loglevel', 'warning',
    '--logfile', '',
  ];
  let child: ChildProcess;
  try {
    child = await new Promise<ChildProcess>((resolveSpawn, reject) => {
      const c = spawn(options.binary, args, { stdio: ['ignore', 'ignore', 'pipe'] });
      c.once('spawn', () => resolveSpawn(c));
      c.once('error', reject);
    });
  } catch (err) {
    const e = err as NodeJS.ErrnoException;
    if (e.code === 'ENOENT') {
      throw new EmbeddedRedisError(
        `redis-server was not found (looked for "${options.binary}" on PATH). ` +
          'Install it with `sudo apt-get install redis-server` (Debian/Ubuntu) or `brew install redis` (macOS), ' +
          'or point Veracity at an existing Redis with REDIS_URL=redis://host:6379.',
      );
    }
    throw new EmbeddedRedisError(`cannot start ${options.binary}: ${e.message}`);
  }

  let stderr = '';
  child.stderr?.on('data', (d: Buffer) => {
    if (stderr.length < 4096) stderr += d.toString();
  });
  const killOnExit = () => child.kill('SIGKILL');
  process.once('exit', killOnExit);

  const exited = new Promise<void>((r) => child.once('exit', () => r()));
  let dead = false;
  void exited.then(() => {
    dead = true;
  });

  // Wait until it answers PING on the socket.
  const deadline = Date.now() + 10_000;
  for (;;) {
    if (dead) throw new EmbeddedRedisError(`redis-server exited at start: ${stderr.trim() || 'no output'}`);
    if (existsSync(socket)) {
      const probe = new Redis({ path: socket, lazyConnect: true, maxRetriesPerRequest: 0, enableOfflineQueue: false, retryStrategy: () => null });
      try {
        await probe.connect();
        await probe.ping();
        probe.disconnect();
        break;
      } catch {
        probe.disconnect();
      }
    }
    if (Date.now() > deadline) {
      child.kill('SIGKILL');
      throw new EmbeddedRedisError(`redis-server did not become ready within 10 s: ${stderr.trim() || 'no output'}`);
    }
    await new Promise((r) => setTimeout(r, 25));
  }
  options.log?.(`private redis-server started (pid ${child.pid}, socket ${socket}, data in ${dataDir})`);

  return {
    socket,
    dataDir,
    async stop() {
      process.removeListener('exit', killOnExit);
      if (dead) return;
      child.kill('SIGTERM');
      const timer = setTimeout(() => child.kill('SIGKILL'), 5000);
      await exited;
      clearTimeout(timer);
    },
  };
}
