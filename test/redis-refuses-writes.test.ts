import t from 'tap';
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Redis } from 'ioredis';
import { freePort } from './helpers/redis.js';
import { metricSum, runCli, waitFor200, type CliProcess } from './helpers/processes.js';
import { chat, output, ready, runEmbedded, until, processFixture, writeConfig } from './helpers/embedded.js';

// Redis that refuses writes, for want of memory (maxmemory, noeviction) or of a disk to save to:
// requests are still served, analyses are dropped and counted by reason, and the log says why.

const { upstream, procs } = await processFixture(t);

const metricsOf = async (port: number) => (await fetch(`http://127.0.0.1:${port}/metrics`)).text();

t.test('the private Redis at a tiny maxmemory refuses writes (OOM): requests served, drops counted, the log says why', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'veracity-oom-'));
  // High-water mark off, so the hand-off reaches Redis and Redis itself refuses it.
  const proxy = await runEmbedded('proxy', join(dir, 'data'), upstream.url, {
    VERACITY_REDIS_MAXMEMORY: '1mb',
    VERACITY_CONFIG: writeConfig(dir, 'redis:\n  memoryHighWater: 1\n  memoryPollMs: 200\n'),
  });
  procs.push(proxy);
  await ready(proxy);
  t.match(output(proxy), /maxmemory 1 MiB from redis\.maxmemory, policy noeviction/, 'the start line gives the limit and the policy');
  for (let i = 0; i < 3; i++) t.equal((await chat(proxy.port)).status, 200, 'the request is served');
  const text = await until('the refusals to be counted', 20_000, async () => {
    const m = await metricsOf(proxy.port);
    return metricSum(m, 'veracity_analysis_dropped_total', 'reason="redis_full"') === 3 ? m : undefined;
  });
  t.equal(metricSum(text, 'veracity_analysis_enqueued_total'), 0, 'nothing was queued');
  t.equal(metricSum(text, 'veracity_redis_memory_max_bytes'), 1024 * 1024, 'maxmemory is on /metrics');
  const used = metricSum(text, 'veracity_redis_memory_used_bytes');
  // Redis refuses at used_memory over maxmemory (less its output buffers), so the last reading sits about there.
  t.ok(used > 0.9 * 1024 * 1024, `and the memory used, about at that limit (${used} bytes)`);
  t.match(output(proxy), /Redis refuses writes \(\\"OOM command not allowed when used memory > 'maxmemory'\./, 'the log line quotes Redis');
  t.match(output(proxy), /veracity_analysis_dropped_total\{reason=\\"redis_full\\"\}; requests are still served/, 'and says where the drops are counted');
  proxy.kill('SIGTERM');
  t.equal((await proxy.exited).code, 0);
});

t.test('over the high-water mark the proxy queues nothing new, leaving the rest for verdicts', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'veracity-hw-'));
  const proxy = await runEmbedded('proxy', join(dir, 'data'), upstream.url, {
    VERACITY_REDIS_MAXMEMORY: '64mb',
    VERACITY_CONFIG: writeConfig(dir, 'redis:\n  memoryHighWater: 0.001\n  memoryPollMs: 200\n'),
  });
  procs.push(proxy);
  await ready(proxy);
  await until('the high-water warning', 20_000, () => /over redis\.memoryHighWater 0\.001/.test(output(proxy)));
  t.equal((await chat(proxy.port)).status, 200, 'the request is served');
  const text = await until('the drop to be counted', 20_000, async () => {
    const m = await metricsOf(proxy.port);
    return metricSum(m, 'veracity_analysis_dropped_total', 'reason="redis_full"') === 1 ? m : undefined;
  });
  t.equal(metricSum(text, 'veracity_redis_memory_max_bytes'), 64 * 1024 * 1024);
  t.notMatch(output(proxy), /Redis refuses writes/, 'Redis itself never had to refuse');
  proxy.kill('SIGTERM');
  await proxy.exited;
});

t.test('a Redis that cannot save its snapshot (its disk gone) refuses writes: MISCONF, counted apart', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'veracity-misconf-'));
  const port = await freePort();
  // A Redis at REDIS_URL with a save point, whose data directory then disappears: its next
  // snapshot fails as on a full or read-only disk, and with stop-writes-on-bgsave-error (the
  // default) it refuses writes.
  const redis = spawn('redis-server', ['--port', String(port), '--bind', '127.0.0.1', '--dir', dir, '--save', '3600 1', '--appendonly', 'no'], { stdio: 'ignore' });
  t.teardown(() => void redis.kill('SIGKILL'));
  const client = new Redis({ port, host: '127.0.0.1', lazyConnect: true, maxRetriesPerRequest: 0, retryStrategy: () => null });
  client.on('error', () => {});
  await until('the Redis', 20_000, async () => {
    await client.connect().catch(() => {});
    return (await client.ping()) === 'PONG';
  });
  rmSync(dir, { recursive: true, force: true });
  await client.bgsave();
  await until('the snapshot to fail', 20_000, async () => /rdb_last_bgsave_status:err/.test(await client.info('persistence')));
  client.disconnect();

  const proxyPort = await freePort();
  const proxy = runCli(['proxy'], {
    REDIS_URL: `redis://127.0.0.1:${port}`,
    PORT: String(proxyPort),
    VERACITY_OPENAI_UPSTREAM: upstream.url,
    VERACITY_CONFIG: writeConfig(mkdtempSync(join(tmpdir(), 'veracity-misconf-cfg-')), 'redis:\n  memoryPollMs: 200\n'),
  });
  procs.push(proxy);
  await waitFor200(`http://127.0.0.1:${proxyPort}/readyz`, 90_000);
  t.equal((await chat(proxyPort)).status, 200, 'the request is served');
  await until('the drop to be counted', 20_000, async () => metricSum(await metricsOf(proxyPort), 'veracity_analysis_dropped_total', 'reason="redis_cannot_persist"') === 1);
  t.match(output(proxy), /Redis refuses writes \(\\"MISCONF/, 'the log line quotes Redis');
  t.match(output(proxy), /Redis could not save its snapshot \(rdb_last_bgsave_status:err; a full or read-only disk\?\)/, 'and the memory monitor says so too');
  proxy.kill('SIGTERM');
  await proxy.exited;
});
