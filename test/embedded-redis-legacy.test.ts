import t from 'tap';
import { spawn } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Redis } from 'ioredis';
import { startUpstream, type FakeUpstream } from './helpers/upstream.js';
import type { CliProcess } from './helpers/processes.js';
import { alive, output, ready, redisServersIn, runEmbedded, startedPid, until } from './helpers/embedded.js';

// A redis-server left serving the data directory by an earlier Veracity (no lock, no
// parent-death signal): stopped with SHUTDOWN SAVE, its data loaded by the new server, never run
// beside it. Real processes, a real redis-server; every process is stopped by its pid.

let upstream: FakeUpstream;
const procs: CliProcess[] = [];
const strays: number[] = [];

t.before(async () => {
  upstream = await startUpstream();
});
t.teardown(async () => {
  for (const p of procs) p.kill('SIGKILL');
  for (const pid of strays) {
    try {
      process.kill(pid, 'SIGKILL');
    } catch {}
  }
  await upstream.close();
});

const started = (p: CliProcess) => until('the private redis-server to start', 60_000, () => startedPid(output(p)));

t.test('a redis-server left by an earlier version (no lock) is stopped with SHUTDOWN SAVE, never run beside', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'veracity-legacy-'));
  // What the embedded default used to start: same socket and snapshot, no lock, no parent-death signal.
  const socket = join(dir, 'redis.sock');
  const legacy = spawn('redis-server', ['--port', '0', '--unixsocket', socket, '--dir', dir, '--dbfilename', 'veracity.rdb', '--save', '300 1', '--appendonly', 'no'], { stdio: 'ignore', detached: true });
  strays.push(legacy.pid!);
  const client = new Redis({ path: socket, lazyConnect: true, maxRetriesPerRequest: 0, retryStrategy: () => null });
  client.on('error', () => {});
  await until('the earlier server', 20_000, async () => {
    await client.connect().catch(() => {});
    return (await client.set('veracity:legacy-key', 'kept')) === 'OK';
  });
  client.disconnect();

  const serve = await runEmbedded('serve', dir, upstream.url);
  procs.push(serve);
  await ready(serve);
  const pid = await started(serve);
  t.match(output(serve), new RegExp(`redis-server from an earlier run \\(pid ${legacy.pid}\\).*SHUTDOWN SAVE`), 'the log says what it found and did');
  t.notOk(alive(legacy.pid!), 'the earlier server is gone');
  t.same(redisServersIn(dir), [pid], 'one server on the directory: the new one');
  const check = new Redis({ path: socket, maxRetriesPerRequest: 1 });
  t.equal(await check.get('veracity:legacy-key'), 'kept', 'the earlier server\'s data was saved and loaded');
  check.disconnect();
  serve.kill('SIGTERM');
  await serve.exited;
});
