import { spawn, type ChildProcess } from 'node:child_process';
import { Redis } from 'ioredis';

import { freePort } from '../../src/tooling/bench/targets.js';

/** A free loopback TCP port (the benchmarks' helper). */
export { freePort };

export interface TestRedis {
  url: string;
  port: number;
  process: ChildProcess;
  stop(): Promise<void>;
  /** Restart on the same port after stop(). */
  restart(): Promise<void>;
}

/** A real redis-server on a loopback port, no persistence, for one test file. */
export async function startRedis(port?: number): Promise<TestRedis> {
  const p = port ?? (await freePort());
  let child = await launch(p);
  const handle: TestRedis = {
    url: `redis://127.0.0.1:${p}`,
    port: p,
    process: child,
    async stop() {
      if (child.exitCode !== null || child.signalCode !== null) return;
      const exited = new Promise((r) => child.once('exit', r));
      child.kill('SIGKILL');
      await exited;
    },
    async restart() {
      child = await launch(p);
      handle.process = child;
    },
  };
  return handle;
}

async function launch(port: number): Promise<ChildProcess> {
  const child = spawn('redis-server', ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no'], { stdio: 'ignore' });
  await new Promise<void>((resolve, reject) => {
    child.once('error', (e) => reject(new Error(`cannot start redis-server (install Debian's redis-server package): ${e.message}`)));
    child.once('spawn', () => resolve());
  });
  const deadline = Date.now() + 5000;
  for (;;) {
    const probe = new Redis({ port, host: '127.0.0.1', lazyConnect: true, maxRetriesPerRequest: 0, retryStrategy: () => null, enableOfflineQueue: false });
    probe.on('error', () => {});
    try {
      await probe.connect();
      await probe.ping();
      probe.disconnect();
      return child;
    } catch {
      probe.disconnect();
    }
    if (Date.now() > deadline) throw new Error('redis-server did not start within 5 s');
    await new Promise((r) => setTimeout(r, 20));
  }
}

/** A real redis-server and a client connected to it, both gone when the test `t` ends. */
export async function startRedisWithClient(t: { teardown(fn: () => unknown): void }): Promise<{ redis: TestRedis; client: Redis }> {
  const redis = await startRedis();
  const client = new Redis(redis.url);
  t.teardown(async () => {
    client.disconnect();
    await redis.stop();
  });
  return { redis, client };
}
