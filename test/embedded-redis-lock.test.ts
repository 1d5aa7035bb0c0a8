import t from 'tap';
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { Worker } from 'node:worker_threads';
import { redisServersIn, until } from './helpers/embedded.js';

// The data directory's lock, straight through the embedded module in dist/: processes released
// at the same instant, and the main-thread rule.

const ROOT = resolve(import.meta.dirname, '..');
const children: ChildProcess[] = [];
t.teardown(() => {
  for (const c of children) if (c.exitCode === null) c.kill('SIGKILL');
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
    children.push(c);
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

t.test('a server killed under its running owner is started again from its snapshot', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'veracity-restart-'));
  const script = `
    const { startEmbeddedRedis } = await import(${JSON.stringify(join(ROOT, 'dist', 'redis', 'embedded.js'))});
    const say = (m) => console.log(m);
    const e = await startEmbeddedRedis({ binary: 'redis-server', dataDir: ${JSON.stringify(dir)}, maxmemory: '64mb', log: { info: say, warn: say, error: say } });
    process.stdin.on('end', async () => { await e.stop(); process.exit(0); });
    process.stdin.resume();`;
  const c = spawn(process.execPath, ['--input-type=module', '-e', script], { stdio: ['pipe', 'pipe', 'inherit'] });
  children.push(c);
  let out = '';
  c.stdout!.on('data', (d) => (out += d));
  const first = Number((await until('the server', 60_000, () => /started \(pid (\d+)/.exec(out)))[1]);
  process.kill(first, 'SIGKILL');
  const second = await until('a new server', 30_000, () => redisServersIn(dir).find((p) => p !== first));
  t.match(out, new RegExp(`private redis-server \\(pid ${first}\\) exited unexpectedly \\(killed by SIGKILL\\): starting it again`), 'the log says so');
  t.same(redisServersIn(dir), [second], 'one server again');
  c.stdin!.end();
  await until('the owner to exit', 30_000, () => c.exitCode !== null);
  t.same(redisServersIn(dir), [], 'and it stops with its owner');
});
