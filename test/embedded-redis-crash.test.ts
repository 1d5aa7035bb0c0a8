import t from 'tap';
import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Redis } from 'ioredis';
import { startUpstream, type FakeUpstream } from './helpers/upstream.js';
import type { CliProcess } from './helpers/processes.js';
import { alive, chat, output, ready, redisServersIn, runEmbedded, snapshotKeys, startedPid, until, verdictStatus } from './helpers/embedded.js';

// The private redis-server of the embedded default against crashes: kill -9 of its Veracity
// process, a restart on the same directory, a server left behind by an earlier version. Real processes, a real redis-server; every process
// is stopped by its pid.

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

t.test('kill -9 of serve: its redis-server saves and goes; a restart finds one server and both runs\' data', async (t) => {
  const dir = join(mkdtempSync(join(tmpdir(), 'veracity-crash-')), 'redis');
  const first = await runEmbedded('serve', dir, upstream.url);
  procs.push(first);
  await ready(first);
  const redisPid = await started(first);
  t.ok(alive(redisPid), `private redis-server running (pid ${redisPid})`);
  t.equal(readFileSync(join(dir, 'redis.pid'), 'utf8').trim(), String(redisPid), 'the pid file names it');
  t.match(JSON.parse(readFileSync(join(dir, 'redis.lock'), 'utf8')), { owner: first.child.pid, redis: redisPid }, 'the lock file names both');

  const one = await chat(first.port);
  t.equal(one.status, 200);
  await until('verdict of the first run', 20_000, async () => (await verdictStatus(first.port, one.id)) === 200);

  const killedAt = Date.now();
  first.kill('SIGKILL');
  await first.exited;
  await until('the orphaned redis-server to go', 10_000, () => !alive(redisPid));
  const goneMs = Date.now() - killedAt;
  t.comment(`redis-server gone ${goneMs} ms after kill -9 of its parent`);
  t.ok(goneMs < 5000, `gone within seconds (${goneMs} ms; the machine is shared, so the bound is loose)`);
  t.same(redisServersIn(dir), [], 'no redis-server left on the directory');
  t.same(await snapshotKeys(dir, `veracity:verdict:${one.id}`), [`veracity:verdict:${one.id}`], 'its dataset was saved on the way out (SIGTERM from the parent-death signal)');

  const second = await runEmbedded('serve', dir, upstream.url);
  procs.push(second);
  await ready(second);
  const secondPid = await started(second);
  t.same(redisServersIn(dir), [secondPid], 'exactly one redis-server on the directory after the restart');
  t.equal(await verdictStatus(second.port, one.id), 200, 'the first run\'s verdict is served by the second');
  const two = await chat(second.port);
  await until('verdict of the second run', 20_000, async () => (await verdictStatus(second.port, two.id)) === 200);

  second.kill('SIGTERM');
  t.equal((await second.exited).code, 0, 'clean exit on SIGTERM');
  t.notOk(alive(secondPid), 'its redis-server stopped with it');
  const keys = await snapshotKeys(dir, 'veracity:verdict:*');
  t.ok(keys.includes(`veracity:verdict:${one.id}`) && keys.includes(`veracity:verdict:${two.id}`), 'the snapshot holds the verdicts of both runs');
  t.notOk(existsSync(join(dir, 'redis.pid')), 'the pid file is removed on a clean stop');
});

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
