import { spawn, type ChildProcess } from 'node:child_process';
import { resolve } from 'node:path';
import { Redis } from 'ioredis';

/** The built CLI (npm test builds dist/ before tap runs). */
export const CLI = resolve(import.meta.dirname, '..', '..', 'dist', 'cli.js');

export interface CliProcess {
  child: ChildProcess;
  exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
  stdout(): string;
  stderr(): string;
  kill(signal?: NodeJS.Signals): void;
}

/** Runs `node dist/cli.js <args>` with stdout and stderr kept apart. */
export function runCli(args: string[], env: Record<string, string>): CliProcess {
  const child = spawn(process.execPath, [CLI, ...args], { env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  let err = '';
  child.stdout!.on('data', (d) => (out += d));
  child.stderr!.on('data', (d) => (err += d));
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((r) => child.once('exit', (code, signal) => r({ code, signal })));
  return {
    child,
    exited,
    stdout: () => out,
    stderr: () => err,
    kill(signal = 'SIGKILL') {
      if (child.exitCode === null && child.signalCode === null) child.kill(signal);
    },
  };
}

/** Polls a URL until it answers 200. */
export async function waitFor200(url: string, ms: number, headers: Record<string, string> = {}): Promise<Response> {
  const deadline = Date.now() + ms;
  for (;;) {
    try {
      const res = await fetch(url, { headers });
      if (res.status === 200) return res;
      await res.arrayBuffer();
    } catch {}
    if (Date.now() > deadline) throw new Error(`${url} did not answer 200 within ${ms} ms`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

/** Sums every sample of a metric in Prometheus text whose line contains all of `match`. */
export function metricSum(text: string, name: string, ...match: string[]): number {
  let total = 0;
  for (const line of text.split('\n')) {
    if (!line.startsWith(name + '{') && !line.startsWith(name + ' ')) continue;
    if (match.every((m) => line.includes(m))) total += Number(line.slice(line.lastIndexOf(' ') + 1));
  }
  return total;
}

export const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/**
 * Every key in a Redis database with its type and everything it holds, read by type (strings,
 * hashes, lists, sets, sorted sets, streams), as one line per key for searching.
 */
export async function dumpRedis(url: string): Promise<Map<string, string>> {
  const redis = new Redis(url, { maxRetriesPerRequest: 1 });
  const out = new Map<string, string>();
  try {
    let cursor = '0';
    do {
      const [next, keys] = await redis.scan(cursor, 'COUNT', 500);
      cursor = next;
      for (const key of keys) {
        const type = await redis.type(key);
        let value: unknown;
        switch (type) {
          case 'string':
            value = (await redis.getBuffer(key))?.toString('latin1');
            break;
          case 'hash':
            value = await redis.hgetall(key);
            break;
          case 'list':
            value = await redis.lrange(key, 0, -1);
            break;
          case 'set':
            value = await redis.smembers(key);
            break;
          case 'zset':
            value = await redis.zrange(key, 0, -1, 'WITHSCORES');
            break;
          case 'stream':
            value = await redis.xrange(key, '-', '+');
            break;
          case 'none':
            continue; // expired or deleted between SCAN and TYPE
          default:
            value = `<unread type ${type}>`;
        }
        out.set(key, `${type} ${JSON.stringify(value)}`);
      }
    } while (cursor !== '0');
  } finally {
    redis.disconnect();
  }
  return out;
}
