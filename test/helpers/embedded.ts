import { spawn } from 'node:child_process';
import { cpSync, mkdtempSync, readdirSync, readFileSync, readlinkSync, realpathSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Redis } from 'ioredis';
import { freePort } from './redis.js';
import { runCli, type CliProcess } from './processes.js';
import { until } from './wait.js';
import { startUpstream, type FakeUpstream } from './upstream.js';

export { until };

/** Live (not zombie) redis-server processes whose working directory is `dir` (Redis changes into its data directory). */
export function redisServersIn(dir: string): number[] {
  const want = realpathSync(dir);
  const pids: number[] = [];
  for (const name of readdirSync('/proc')) {
    if (!/^\d+$/.test(name)) continue;
    try {
      if (readFileSync(`/proc/${name}/comm`, 'utf8').trim() !== 'redis-server') continue;
      const stat = readFileSync(`/proc/${name}/stat`, 'latin1');
      if (stat.slice(stat.lastIndexOf(')') + 2, stat.lastIndexOf(')') + 3) === 'Z') continue;
      if (readlinkSync(`/proc/${name}/cwd`) === want) pids.push(Number(name));
    } catch {}
  }
  return pids;
}

export function alive(pid: number): boolean {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'latin1');
    return stat.slice(stat.lastIndexOf(')') + 2, stat.lastIndexOf(')') + 3) !== 'Z';
  } catch {
    return false;
  }
}


/** One chat completion through the proxy; its exchange id. */
export async function chat(port: number, model = 'gpt-embedded'): Promise<{ status: number; id: string }> {
  const res = await fetch(`http://127.0.0.1:${port}/v1/chat/completions`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ model, messages: [{ role: 'system', content: 'The Eiffel Tower is in Paris and was completed in 1889.' }, { role: 'user', content: 'Where is it?' }] }),
  });
  await res.arrayBuffer();
  return { status: res.status, id: res.headers.get('x-veracity-id') ?? '' };
}

export async function verdictStatus(port: number, id: string): Promise<number> {
  const res = await fetch(`http://127.0.0.1:${port}/veracity/v1/verdicts/${id}`);
  await res.arrayBuffer();
  return res.status;
}

/** The pid in a "private redis-server started (pid N" or "took over ... pid N" log line, the last one. */
export function startedPid(log: string): number | undefined {
  const all = [...log.matchAll(/(?:private redis-server started \(pid|took over the private redis-server: pid) (\d+)/g)];
  return all.length ? Number(all[all.length - 1]![1]) : undefined;
}

/**
 * The keys of a data directory's snapshot, read by a plain redis-server started on a copy of it
 * (so nothing is written back).
 */
export async function snapshotKeys(dataDir: string, pattern = '*'): Promise<string[]> {
  const copy = mkdtempSync(join(tmpdir(), 'veracity-rdb-'));
  cpSync(join(dataDir, 'veracity.rdb'), join(copy, 'veracity.rdb'));
  const port = await freePort();
  const child = spawn('redis-server', ['--port', String(port), '--bind', '127.0.0.1', '--dir', copy, '--dbfilename', 'veracity.rdb', '--save', ''], { stdio: 'ignore' });
  try {
    const client = new Redis({ port, host: '127.0.0.1', lazyConnect: true, maxRetriesPerRequest: 0, retryStrategy: () => null });
    client.on('error', () => {});
    await until('the snapshot copy to load', 20_000, async () => {
      await client.connect().catch(() => {});
      return (await client.ping()) === 'PONG';
    });
    const keys = await client.keys(pattern);
    client.disconnect();
    return keys;
  } finally {
    child.kill('SIGKILL');
  }
}

/** `serve`, `proxy` or `worker` on the embedded default in `dataDir`, with an upstream and free ports. */
export async function runEmbedded(mode: 'serve' | 'proxy' | 'worker', dataDir: string, upstream: string, env: Record<string, string> = {}): Promise<CliProcess & { port: number }> {
  const port = await freePort();
  const p = runCli([mode], {
    REDIS_URL: '',
    VERACITY_REDIS_DATA_DIR: dataDir,
    VERACITY_OPENAI_UPSTREAM: upstream,
    ...(mode === 'worker' ? { VERACITY_METRICS_PORT: String(port) } : { PORT: String(port) }),
    ...env,
  });
  return Object.assign(p, { port });
}

export function output(p: CliProcess): string {
  return p.stdout() + p.stderr();
}

/** Waits for a CLI process's /readyz; on failure the error carries the end of what it printed. */
export async function ready(p: CliProcess & { port: number }, ms = 90_000): Promise<void> {
  const deadline = Date.now() + ms;
  for (;;) {
    try {
      const res = await fetch(`http://127.0.0.1:${p.port}/readyz`);
      await res.arrayBuffer();
      if (res.status === 200) return;
    } catch {}
    if (p.child.exitCode !== null || Date.now() > deadline) {
      throw new Error(`${p.child.spawnargs.slice(-1)[0]} (pid ${p.child.pid}) not ready after ${ms} ms (exit code ${p.child.exitCode}); it printed:\n${output(p).slice(-3000)}`);
    }
    await new Promise((r) => setTimeout(r, 100));
  }
}

/**
 * What each embedded-Redis test file shares: a loopback upstream, and a list of the processes it
 * starts, all SIGKILLed when the file ends, so none outlives a test that failed before stopping it.
 */
export async function processFixture(t: { teardown(fn: () => unknown): void }): Promise<{ upstream: FakeUpstream; procs: CliProcess[] }> {
  const upstream = await startUpstream();
  const procs: CliProcess[] = [];
  t.teardown(async () => {
    for (const p of procs) p.kill('SIGKILL');
    await upstream.close();
  });
  return { upstream, procs };
}

/** Writes `yaml` as `veracity.yaml` in `dir` and returns its path, for `--config`. */
export function writeConfig(dir: string, yaml: string): string {
  const file = join(dir, 'veracity.yaml');
  writeFileSync(file, yaml);
  return file;
}
