// The things a request can go through on its way to the fake upstream: nothing (direct), nginx,
// Portkey's gateway, a minimal Node.js proxy (the floor for any proxy on Node), and Veracity. Each is started as child processes on loopback, pinned to the
// cores given, and stopped at the end. A target that cannot start says why instead of failing
// the run.
import { spawn, type ChildProcess } from 'node:child_process';
import { NODE_FLAGS } from '../../node-flags.js';
import { existsSync, mkdtempSync, mkdirSync, writeFileSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { processTree } from './procstat.js';

export type TargetName = 'direct' | 'veracity' | 'node-min' | 'nginx' | 'portkey';
export const TARGET_NAMES: readonly TargetName[] = ['direct', 'veracity', 'node-min', 'nginx', 'portkey'];

export interface Target {
  name: TargetName;
  origin: string;
  /** Extra request headers this target needs to reach the fake upstream. */
  headers: Record<string, string>;
  /** The request-path processes whose CPU and memory are reported. */
  proxyPids(): number[];
  /** Processes the target needs besides the request path (Veracity's worker and Redis). */
  auxPids(): number[];
  /** Where else Prometheus metrics of this target are exposed (Veracity's worker). */
  metricsUrls: string[];
  /** The Redis a Veracity target runs on (profiling reads its command counts). */
  redisPort?: number;
  stop(): Promise<void>;
}

export interface StartContext {
  upstreamPort: number;
  /** `taskset -c` list for the processes under test, or undefined to leave them unpinned. */
  cpus: string | undefined;
  repoRoot: string;
  veracityMode: 'split' | 'serve';
  /** VERACITY_CONFIG for the Veracity processes; unset = its default config. */
  veracityConfig?: string;
  /** Extra node flags for the Veracity processes (profiling: --cpu-prof, --import a probe). */
  nodeArgs?: string[];
}

export class TargetUnavailable extends Error {
  override name = 'TargetUnavailable';
}

export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = createServer();
    s.once('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const addr = s.address();
      const port = typeof addr === 'object' && addr ? addr.port : 0;
      s.close(() => resolve(port));
    });
  });
}

interface Child {
  proc: ChildProcess;
  /** Last output, to explain a failure to start. */
  tail(): string;
}

export function spawnChild(cmd: string, args: string[], opts: { cpus?: string; env?: NodeJS.ProcessEnv; cwd?: string }): Child {
  const [file, argv] = opts.cpus ? ['taskset', ['-c', opts.cpus, cmd, ...args]] : [cmd, args];
  const proc = spawn(file, argv, {
    cwd: opts.cwd,
    env: opts.env ?? process.env,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  const keep = (b: Buffer) => {
    out = (out + b.toString('utf8')).slice(-4000);
  };
  proc.stdout?.on('data', keep);
  proc.stderr?.on('data', keep);
  proc.on('error', (e) => keep(Buffer.from(String(e))));
  return { proc, tail: () => out };
}

async function stopChild(c: Child | undefined, graceMs = 3000): Promise<void> {
  if (!c || c.proc.exitCode !== null || c.proc.signalCode !== null) return;
  const exited = new Promise<void>((r) => c.proc.once('exit', () => r()));
  c.proc.kill('SIGTERM');
  const t = setTimeout(() => c.proc.kill('SIGKILL'), graceMs);
  await exited;
  clearTimeout(t);
}

/** Polls until `url` answers with `okStatus` (any status when undefined), or throws. */
export async function waitFor(url: string, child: Child | undefined, timeoutMs = 15_000, okStatus?: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  let last = '';
  while (Date.now() < deadline) {
    if (child && child.proc.exitCode !== null) {
      throw new TargetUnavailable(`exited with code ${child.proc.exitCode}: ${child.tail().trim().slice(-600)}`);
    }
    try {
      const res = await fetch(url, { signal: AbortSignal.timeout(1000) });
      await res.arrayBuffer();
      if (okStatus === undefined || res.status === okStatus) return;
      last = `HTTP ${res.status}`;
    } catch (e) {
      last = String((e as Error).message);
    }
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new TargetUnavailable(`${url} not ready after ${timeoutMs} ms (${last}); output: ${child?.tail().trim().slice(-600) ?? ''}`);
}

export async function startTarget(name: TargetName, ctx: StartContext): Promise<Target> {
  switch (name) {
    case 'direct':
      return {
        name,
        origin: `http://127.0.0.1:${ctx.upstreamPort}`,
        headers: {},
        proxyPids: () => [],
        auxPids: () => [],
        metricsUrls: [],
        stop: async () => undefined,
      };
    case 'node-min':
      return startMinimalProxy(ctx);
    case 'nginx':
      return startNginx(ctx);
    case 'portkey':
      return startPortkey(ctx);
    case 'veracity':
      return startVeracity(ctx);
  }
}

async function startNginx(ctx: StartContext): Promise<Target> {
  const dir = mkdtempSync(path.join(tmpdir(), 'bench-nginx-'));
  for (const d of ['client_body', 'proxy', 'fastcgi', 'uwsgi', 'scgi']) mkdirSync(path.join(dir, d));
  const port = await freePort();
  // One worker: the same one core every other proxy gets. Keepalive to the upstream and no
  // buffering, as one would configure nginx in front of a streaming API.
  writeFileSync(
    path.join(dir, 'nginx.conf'),
    `daemon off;
master_process on;
worker_processes 1;
pid ${dir}/nginx.pid;
error_log ${dir}/error.log warn;
events { worker_connections 8192; }
http {
  access_log off;
  client_body_temp_path ${dir}/client_body;
  proxy_temp_path ${dir}/proxy;
  fastcgi_temp_path ${dir}/fastcgi;
  uwsgi_temp_path ${dir}/uwsgi;
  scgi_temp_path ${dir}/scgi;
  keepalive_requests 1000000;
  keepalive_timeout 65s;
  upstream fake {
    server 127.0.0.1:${ctx.upstreamPort};
    keepalive 1024;
    keepalive_requests 1000000;
  }
  server {
    listen 127.0.0.1:${port} backlog=4096;
    location / {
      proxy_pass http://fake;
      proxy_http_version 1.1;
      proxy_set_header Connection "";
      proxy_buffering off;
      proxy_request_buffering off;
      proxy_read_timeout 120s;
    }
  }
}
`,
  );
  const child = spawnChild('nginx', ['-p', dir, '-c', path.join(dir, 'nginx.conf'), '-e', path.join(dir, 'error.log')], { cpus: ctx.cpus });
  return oneProcessTarget('nginx', child, port, { readyPath: '/healthz', cleanup: () => rmSync(dir, { recursive: true, force: true }) });
}

/** A target that is one child process: waits until it answers on `port`, then describes it. */
async function oneProcessTarget(
  name: TargetName,
  child: Child,
  port: number,
  opts: { readyPath?: string; headers?: Record<string, string>; cleanup?: () => void } = {},
): Promise<Target> {
  try {
    await waitFor(`http://127.0.0.1:${port}${opts.readyPath ?? '/'}`, child);
  } catch (e) {
    await stopChild(child);
    opts.cleanup?.();
    throw e;
  }
  const pid = child.proc.pid as number;
  return {
    name,
    origin: `http://127.0.0.1:${port}`,
    headers: opts.headers ?? {},
    proxyPids: () => processTree(pid),
    auxPids: () => [],
    metricsUrls: [],
    stop: async () => {
      await stopChild(child);
      opts.cleanup?.();
    },
  };
}

async function startMinimalProxy(ctx: StartContext): Promise<Target> {
  const entry = path.join(ctx.repoRoot, 'dist/tooling/bench/minimal-proxy.js');
  if (!existsSync(entry)) throw new TargetUnavailable(`${entry} missing: the benchmark is not built yet`);
  const port = await freePort();
  const child = spawnChild(process.execPath, [...NODE_FLAGS, entry, `--port=${port}`, `--upstream=http://127.0.0.1:${ctx.upstreamPort}`], { cpus: ctx.cpus });
  return oneProcessTarget('node-min', child, port);
}

async function startPortkey(ctx: StartContext): Promise<Target> {
  const entry = path.join(ctx.repoRoot, 'node_modules/@portkey-ai/gateway/build/start-server.js');
  if (!existsSync(entry)) throw new TargetUnavailable(`@portkey-ai/gateway is not installed (${entry} missing); run npm install`);
  const port = await freePort();
  const child = spawnChild(process.execPath, [entry, `--port=${port}`, '--headless'], {
    cpus: ctx.cpus,
    env: { ...process.env, NODE_ENV: 'production' },
  });
  return oneProcessTarget('portkey', child, port, {
    headers: {
      'x-portkey-provider': 'openai',
      'x-portkey-custom-host': `http://127.0.0.1:${ctx.upstreamPort}/v1`,
    },
  });
}

async function startVeracity(ctx: StartContext): Promise<Target> {
  const cli = path.join(ctx.repoRoot, 'dist/cli.js');
  if (!existsSync(cli)) throw new TargetUnavailable(`${cli} missing: the CLI is not built yet`);
  const redisPort = await freePort();
  const port = await freePort();
  const metricsPort = await freePort();
  const redis = spawnChild(
    'redis-server',
    ['--port', String(redisPort), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no', '--protected-mode', 'yes'],
    { cpus: ctx.cpus },
  );
  const children: Child[] = [redis];
  const stopAll = async () => {
    for (const c of children.reverse()) await stopChild(c);
  };
  try {
    await waitForRedis(redis, redisPort);
    const env: NodeJS.ProcessEnv = {
      ...process.env,
      NODE_ENV: 'production',
      REDIS_URL: `redis://127.0.0.1:${redisPort}`,
      VERACITY_OPENAI_UPSTREAM: `http://127.0.0.1:${ctx.upstreamPort}`,
      PORT: String(port),
      HOST: '127.0.0.1',
      VERACITY_METRICS_PORT: String(metricsPort),
      ...(ctx.veracityConfig ? { VERACITY_CONFIG: path.resolve(ctx.veracityConfig) } : {}),
    };
    const cwd = ctx.repoRoot;
    const flags = [...NODE_FLAGS, ...(ctx.nodeArgs ?? [])];
    if (ctx.veracityMode === 'serve') {
      children.push(spawnChild(process.execPath, [...flags, cli, 'serve'], { cpus: ctx.cpus, env, cwd }));
    } else {
      children.push(spawnChild(process.execPath, [...flags, cli, 'proxy'], { cpus: ctx.cpus, env, cwd }));
      children.push(spawnChild(process.execPath, [...flags, cli, 'worker'], { cpus: ctx.cpus, env, cwd }));
    }
    await waitFor(`http://127.0.0.1:${port}/readyz`, children[1], 20_000, 200);
    if (children[2]) {
      // The worker has no route to poll in every build; it must at least stay up.
      await new Promise((r) => setTimeout(r, 500));
      if (children[2].proc.exitCode !== null) {
        throw new TargetUnavailable(`worker exited with code ${children[2].proc.exitCode}: ${children[2].tail().trim().slice(-600)}`);
      }
    }
  } catch (e) {
    await stopAll();
    throw e;
  }
  const proxyPid = children[1]?.proc.pid as number;
  const auxRoots = children.filter((c) => c !== children[1]).map((c) => c.proc.pid as number);
  return {
    name: 'veracity',
    origin: `http://127.0.0.1:${port}`,
    headers: {},
    proxyPids: () => processTree(proxyPid),
    auxPids: () => auxRoots.flatMap(processTree),
    metricsUrls: [`http://127.0.0.1:${metricsPort}/metrics`],
    redisPort,
    stop: stopAll,
  };
}

async function waitForRedis(redis: Child, port: number): Promise<void> {
  const { connect } = await import('node:net');
  const deadline = Date.now() + 10_000;
  while (Date.now() < deadline) {
    if (redis.proc.exitCode !== null) throw new TargetUnavailable(`redis-server exited: ${redis.tail().slice(-400)}`);
    const ok = await new Promise<boolean>((resolve) => {
      const s = connect(port, '127.0.0.1');
      s.once('connect', () => {
        s.write('PING\r\n');
      });
      s.once('data', (b) => {
        s.destroy();
        resolve(b.toString().startsWith('+PONG'));
      });
      s.once('error', () => resolve(false));
    });
    if (ok) return;
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new TargetUnavailable('redis-server did not answer PING within 10 s');
}
