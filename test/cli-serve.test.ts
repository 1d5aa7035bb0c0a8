import t from 'tap';
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { freePort, startRedis } from './helpers/redis.js';
import { startUpstream } from './helpers/upstream.js';
import { settledMetric } from './helpers/metrics.js';

// The built CLI as an operator runs it (npm test builds dist/ first).
const CLI = resolve(import.meta.dirname, '..', 'dist', 'cli.js');

function run(args: string[], env: Record<string, string>) {
  const child = spawn(process.execPath, [CLI, ...args], { env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  child.stdout!.on('data', (d) => (out += d));
  child.stderr!.on('data', (d) => (out += d));
  const exited = new Promise<number | null>((r) => child.once('exit', (code) => r(code)));
  return { child, exited, output: () => out };
}

async function waitFor(url: string, ms: number): Promise<Response> {
  const deadline = Date.now() + ms;
  for (;;) {
    try {
      const res = await fetch(url);
      if (res.status === 200) return res;
    } catch {}
    if (Date.now() > deadline) throw new Error(`${url} not ready within ${ms} ms`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

const alive = (pid: number) => {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
};

t.test('serve on the embedded default: verdicts flow, SIGTERM leaves no process behind', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'veracity-serve-'));
  const upstream = await startUpstream();
  t.teardown(() => upstream.close());
  const port = await freePort();
  const p = run(['serve'], { PORT: String(port), VERACITY_REDIS_DATA_DIR: join(dir, 'redis'), VERACITY_OPENAI_UPSTREAM: upstream.url, REDIS_URL: '' });
  t.teardown(() => {
    if (p.child.exitCode === null) p.child.kill('SIGKILL');
  });
  await waitFor(`http://127.0.0.1:${port}/readyz`, 60_000);
  const redisPid = Number(/redis-server started \(pid (\d+)/.exec(p.output())?.[1]);
  t.ok(redisPid > 0 && alive(redisPid), 'private redis-server running');

  const res = await fetch(`http://127.0.0.1:${port}/v1/chat/completions`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', authorization: 'Bearer sk-cli-test' },
    body: JSON.stringify({ model: 'gpt-cli', messages: [{ role: 'user', content: 'Where is the Eiffel Tower?' }] }),
  });
  t.equal(res.status, 200);
  const id = res.headers.get('x-veracity-id')!;
  const verdict = await waitFor(`http://127.0.0.1:${port}/veracity/v1/verdicts/${id}`, 20_000);
  const v = (await verdict.json()) as { id: string; grounded: boolean };
  t.equal(v.id, id);
  t.equal(v.grounded, false, 'no context in the request: not grounded');

  p.child.kill('SIGTERM');
  const code = await Promise.race([p.exited, new Promise((r) => setTimeout(() => r('timeout'), 15_000))]);
  t.equal(code, 0, 'exits cleanly');
  t.notOk(alive(redisPid), 'private redis-server stopped');
});

t.test('worker alone serves its own /metrics and processes jobs from a proxy', async (t) => {
  const redis = await startRedis();
  t.teardown(() => redis.stop());
  const upstream = await startUpstream();
  t.teardown(() => upstream.close());
  const [proxyPort, metricsPort] = [await freePort(), await freePort()];
  const env = { REDIS_URL: redis.url, VERACITY_OPENAI_UPSTREAM: upstream.url, PORT: String(proxyPort), VERACITY_METRICS_PORT: String(metricsPort) };
  const proxy = run(['proxy'], env);
  const worker = run(['worker'], env);
  t.teardown(() => {
    for (const c of [proxy.child, worker.child]) if (c.exitCode === null) c.kill('SIGKILL');
  });
  await waitFor(`http://127.0.0.1:${proxyPort}/readyz`, 60_000);
  await waitFor(`http://127.0.0.1:${metricsPort}/readyz`, 60_000);
  const res = await fetch(`http://127.0.0.1:${proxyPort}/v1/chat/completions`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ model: 'gpt-split', messages: [{ role: 'system', content: 'Context: The Eiffel Tower is in Paris and was completed in 1889.' }, { role: 'user', content: 'Where is it?' }] }),
  });
  const id = res.headers.get('x-veracity-id')!;
  await waitFor(`http://127.0.0.1:${proxyPort}/veracity/v1/verdicts/${id}`, 20_000);
  // The verdict is readable a moment before the worker moves its counters.
  t.equal(await settledMetric(`http://127.0.0.1:${metricsPort}`, 'veracity_checks_total', { provider: 'openai', model: 'gpt-split' }, 1), 1, 'worker counts the check on its own /metrics');
  proxy.child.kill('SIGTERM');
  worker.child.kill('SIGTERM');
  t.same(await Promise.all([proxy.exited, worker.exited]), [0, 0], 'both exit cleanly on SIGTERM');
});

/** The direct children of `pid` (Linux). */
const childrenOf = (pid: number): number[] => {
  try {
    return readFileSync(`/proc/${pid}/task/${pid}/children`, 'utf8').trim().split(/\s+/).filter(Boolean).map(Number);
  } catch {
    return [];
  }
};
/** The nice value of every thread of `pid`. */
const niceOfThreads = (pid: number): number[] =>
  readdirSync(`/proc/${pid}/task`).map((tid) => {
    const stat = readFileSync(`/proc/${pid}/task/${tid}/stat`, 'utf8');
    return Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[16]);
  });

t.test('serve with worker.isolation: process analyses in a child at low priority, gone when serve goes', async (t) => {
  const redis = await startRedis();
  t.teardown(() => redis.stop());
  const upstream = await startUpstream();
  t.teardown(() => upstream.close());
  const dir = mkdtempSync(join(tmpdir(), 'veracity-isolation-'));
  const config = join(dir, 'process.yaml');
  writeFileSync(config, 'worker:\n  isolation: process\n');
  const start = async () => {
    const port = await freePort();
    const p = run(['serve'], { VERACITY_CONFIG: config, REDIS_URL: redis.url, VERACITY_OPENAI_UPSTREAM: upstream.url, PORT: String(port) });
    t.teardown(() => {
      if (p.child.exitCode === null) p.child.kill('SIGKILL');
    });
    await waitFor(`http://127.0.0.1:${port}/readyz`, 60_000);
    const analysis = childrenOf(p.child.pid!);
    return { p, port, analysis };
  };

  const { p, port, analysis } = await start();
  t.equal(analysis.length, 1, 'one child process: the analysis side');
  const res = await fetch(`http://127.0.0.1:${port}/v1/chat/completions`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ model: 'gpt-isolated', messages: [{ role: 'system', content: 'Context: The Eiffel Tower is in Paris and was completed in 1889.' }, { role: 'user', content: 'Where is it?' }] }),
  });
  t.equal(res.status, 200);
  const id = res.headers.get('x-veracity-id')!;
  const v = (await (await waitFor(`http://127.0.0.1:${port}/veracity/v1/verdicts/${id}`, 20_000)).json()) as { id: string; grounded: boolean };
  t.equal(v.id, id, 'the child analysed the exchange and stored its verdict');
  t.equal(v.grounded, true);
  t.equal(await settledMetric(`http://127.0.0.1:${port}`, 'veracity_checks_total', { provider: 'openai', model: 'gpt-isolated' }, 1), 1, "serve's /metrics merges the child's counters");
  if (process.platform === 'linux') {
    t.same([...new Set(niceOfThreads(analysis[0]!))], [19], 'every thread of the analysis process runs at nice 19, V8 helpers included');
    t.equal(niceOfThreads(p.child.pid!)[0], 0, "the proxy's thread is left alone");
  }

  // The analysis process dies (an out-of-memory kill, say): serve says so and starts another.
  process.kill(analysis[0]!, 'SIGKILL');
  const until = Date.now() + 15_000;
  let again: number[] = [];
  while (Date.now() < until) {
    again = childrenOf(p.child.pid!).filter((pid) => pid !== analysis[0]);
    if (again.length > 0) break;
    await new Promise((r) => setTimeout(r, 100));
  }
  t.equal(again.length, 1, 'a new analysis process replaces the dead one');
  t.match(p.output(), /analysis process exited unexpectedly; starting another/, 'and serve says why on stderr');
  const after = await fetch(`http://127.0.0.1:${port}/v1/chat/completions`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ model: 'gpt-isolated', messages: [{ role: 'user', content: 'Where is the Eiffel Tower?' }] }),
  });
  t.equal(after.status, 200, 'the proxy served throughout');
  const id2 = after.headers.get('x-veracity-id')!;
  t.equal(((await (await waitFor(`http://127.0.0.1:${port}/veracity/v1/verdicts/${id2}`, 30_000)).json()) as { id: string }).id, id2, 'and the new analysis process analyses');

  p.child.kill('SIGTERM');
  t.equal(await Promise.race([p.exited, new Promise((r) => setTimeout(() => r('timeout'), 15_000))]), 0, 'exits cleanly on SIGTERM');
  t.notOk(alive(analysis[0]!), 'and its analysis process with it');
  t.notOk(alive(again[0]!), 'the one started again too');

  // Killed outright, serve cannot say stop: the child sees its channel close and ends.
  const killed = await start();
  t.equal(killed.analysis.length, 1);
  killed.p.child.kill('SIGKILL');
  await killed.p.exited;
  const deadline = Date.now() + 10_000;
  while (alive(killed.analysis[0]!) && Date.now() < deadline) await new Promise((r) => setTimeout(r, 100));
  t.notOk(alive(killed.analysis[0]!), 'a serve killed with SIGKILL leaves no analysis process behind');
});

t.test('serve with worker.isolation: thread analyses on a thread of its own process', async (t) => {
  const redis = await startRedis();
  t.teardown(() => redis.stop());
  const upstream = await startUpstream();
  t.teardown(() => upstream.close());
  const dir = mkdtempSync(join(tmpdir(), 'veracity-isolation-'));
  const config = join(dir, 'thread.yaml');
  writeFileSync(config, 'worker:\n  isolation: thread\n');
  const port = await freePort();
  const p = run(['serve'], { VERACITY_CONFIG: config, REDIS_URL: redis.url, VERACITY_OPENAI_UPSTREAM: upstream.url, PORT: String(port) });
  t.teardown(() => {
    if (p.child.exitCode === null) p.child.kill('SIGKILL');
  });
  await waitFor(`http://127.0.0.1:${port}/readyz`, 60_000);
  t.same(childrenOf(p.child.pid!), [], 'no child process');
  const res = await fetch(`http://127.0.0.1:${port}/v1/chat/completions`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ model: 'gpt-thread', messages: [{ role: 'user', content: 'Where is the Eiffel Tower?' }] }),
  });
  const id = res.headers.get('x-veracity-id')!;
  const v = (await (await waitFor(`http://127.0.0.1:${port}/veracity/v1/verdicts/${id}`, 20_000)).json()) as { id: string };
  t.equal(v.id, id, 'the thread analysed the exchange');
  t.equal(await settledMetric(`http://127.0.0.1:${port}`, 'veracity_checks_total', { provider: 'openai', model: 'gpt-thread' }, 1), 1, "serve's /metrics merges the thread's counters");
  if (process.platform === 'linux') t.ok(niceOfThreads(p.child.pid!).includes(19), 'one thread of the process runs at nice 19');
  p.child.kill('SIGTERM');
  t.equal(await Promise.race([p.exited, new Promise((r) => setTimeout(() => r('timeout'), 15_000))]), 0, 'exits cleanly on SIGTERM');
});

t.test('an invalid config value fails at start, naming the field and the file', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'veracity-config-'));
  const file = join(dir, 'bad.yaml');
  writeFileSync(file, 'server:\n  port: "eighty"\nworker:\n  concurrency: 0\n');
  const p = run(['serve'], { VERACITY_CONFIG: file, REDIS_URL: 'redis://127.0.0.1:1' });
  t.equal(await p.exited, 1);
  t.match(p.output(), file, 'names the file');
  t.match(p.output(), /server\.port/, 'names the field');
  t.match(p.output(), /worker\.concurrency/, 'names every bad field');

  const typo = join(dir, 'typo.yaml');
  writeFileSync(typo, 'sever:\n  port: 1\n');
  const q = run(['proxy'], { VERACITY_CONFIG: typo, REDIS_URL: 'redis://127.0.0.1:1' });
  t.equal(await q.exited, 1);
  t.match(q.output(), /sever/, 'an unknown key is refused, not ignored');

  const env = run(['proxy'], { PORT: 'abc', REDIS_URL: 'redis://127.0.0.1:1' });
  t.equal(await env.exited, 1);
  t.match(env.output(), /PORT/, 'names the environment variable');
});

t.test('a missing redis-server binary gives a clear way out', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'veracity-nobin-'));
  const file = join(dir, 'c.yaml');
  writeFileSync(file, `redis:\n  binary: ${join(dir, 'no-such-redis-server')}\n  dataDir: ${join(dir, 'data')}\n`);
  const p = run(['serve'], { VERACITY_CONFIG: file, REDIS_URL: '' });
  t.equal(await p.exited, 1);
  t.match(p.output(), /apt-get install redis-server/);
  t.match(p.output(), /REDIS_URL/);
});
