import t from 'tap';
import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { Worker } from 'node:worker_threads';
import { Redis } from 'ioredis';
import { startUpstream, type FakeUpstream } from './helpers/upstream.js';
import { waitFor200, type CliProcess } from './helpers/processes.js';
import { alive, chat, output, redisServersIn, runEmbedded, snapshotKeys, startedPid, until, verdictStatus } from './helpers/embedded.js';

// The private redis-server of the embedded default against crashes: kill -9 of its Veracity
// process, a restart on the same directory, a server left behind by an earlier version, and
// several processes racing for one directory. Real processes, a real redis-server; every process
// is stopped by its pid.

const ROOT = resolve(import.meta.dirname, '..');
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
  await waitFor200(`http://127.0.0.1:${first.port}/readyz`, 60_000);
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
  await waitFor200(`http://127.0.0.1:${second.port}/readyz`, 60_000);
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
  await waitFor200(`http://127.0.0.1:${serve.port}/readyz`, 60_000);
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

t.test('processes racing for one directory: one server, everyone on it', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'veracity-race-'));
  // Four processes take the embedded module straight from dist/, released together.
  const at = Date.now() + 1500;
  const script = `
    const { startEmbeddedRedis } = await import(${JSON.stringify(join(ROOT, 'dist', 'redis', 'embedded.js'))});
    await new Promise((r) => setTimeout(r, ${at} - Date.now()));
    const e = await startEmbeddedRedis({ binary: 'redis-server', dataDir: ${JSON.stringify(dir)}, maxmemory: '64mb' });
    console.log(JSON.stringify({ role: e.role(), redis: e.pid() }));
    process.stdin.on('end', async () => { await e.stop(); process.exit(0); });
    process.stdin.resume();`;
  const racers = Array.from({ length: 4 }, () => {
    const c = spawn(process.execPath, ['--input-type=module', '-e', script], { stdio: ['pipe', 'pipe', 'inherit'] });
    let out = '';
    c.stdout!.on('data', (d) => (out += d));
    strays.push(c.pid!);
    return { c, out: () => out };
  });
  const said = await until('every racer to attach', 60_000, () => (racers.every((r) => r.out().includes('}')) ? racers.map((r) => JSON.parse(r.out()) as { role: string; redis: number }) : undefined));
  t.equal(said.filter((s) => s.role === 'owner').length, 1, 'exactly one started a server');
  t.equal(new Set(said.map((s) => s.redis)).size, 1, 'all four use the same server');
  t.same(redisServersIn(dir), [said[0]!.redis], 'and only that server runs on the directory');
  for (const r of racers.filter((_, i) => said[i]!.role !== 'owner')) r.c.stdin!.end();
  const owner = racers[said.findIndex((s) => s.role === 'owner')]!;
  owner.c.stdin!.end();
  await until('every racer to exit', 30_000, () => racers.every((r) => r.c.exitCode !== null));
  await until('the server to stop', 10_000, () => redisServersIn(dir).length === 0);
  t.pass('the server stops when its owner does');
});

t.test('the server is never started from a worker thread (the parent-death signal follows the thread)', async (t) => {
  const code = `
    const { parentPort, workerData } = require('node:worker_threads');
    import(workerData.module).then((m) => m.startEmbeddedRedis({ binary: 'redis-server', dataDir: workerData.dir }))
      .then(() => parentPort.postMessage('started'), (err) => parentPort.postMessage(err.code));`;
  const w = new Worker(code, { eval: true, workerData: { module: join(ROOT, 'dist', 'redis', 'embedded.js'), dir: mkdtempSync(join(tmpdir(), 'veracity-thread-')) } });
  const [msg] = (await new Promise((r) => w.once('message', (m) => r([m])))) as [string];
  await w.terminate();
  t.equal(msg, 'VERACITY_ERR_REDIS_THREAD');
});
