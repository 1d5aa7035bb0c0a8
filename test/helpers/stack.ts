import { start, type Mode, type Running } from '../../src/app.js';
import { loadConfig } from '../../src/config/load.js';
import { startRedis, type TestRedis } from './redis.js';
import { startUpstream, type FakeUpstream } from './upstream.js';

export interface Stack {
  redis: TestRedis;
  upstream: FakeUpstream;
  proxy: Running;
  /** Loopback port the proxy listens on. */
  port: number;
}

/**
 * A real redis-server, a fake upstream serving both dialects, and Veracity in front of them, for
 * one test file; torn down when the file's tests end. `overrides` edits the raw config.
 */
export async function startStack(
  t: { teardown(fn: () => unknown): void },
  options: { mode?: Mode; overrides?: (raw: Record<string, unknown>, upstream: FakeUpstream) => void } = {},
): Promise<Stack> {
  const redis = await startRedis();
  const upstream = await startUpstream();
  const { config } = loadConfig({
    env: { REDIS_URL: redis.url, VERACITY_OPENAI_UPSTREAM: upstream.url, VERACITY_ANTHROPIC_UPSTREAM: upstream.url, PORT: '0' },
    overrides: (raw) => options.overrides?.(raw, upstream),
  });
  const proxy = await start(options.mode ?? 'serve', config, { logger: false });
  t.teardown(async () => {
    await proxy.stop();
    await upstream.close();
    await redis.stop();
  });
  return { redis, upstream, proxy, port: Number(new URL(proxy.url).port) };
}
