import t from 'tap';
import { spawn } from 'node:child_process';
import { chmodSync, mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Redis } from 'ioredis';
import { freePort } from './helpers/redis.js';
import { CLI, metricSum, waitFor200, type CliProcess } from './helpers/processes.js';
import { alive, chat, output, ready, redisServersIn, runEmbedded, startedPid, until, processFixture, writeConfig } from './helpers/embedded.js';

// The private redis-server on a disk that stops taking its snapshot (full, or read-only): Redis
// refuses writes, the proxy serves requests and counts the drops, and on stop the server keeps its
// data in memory rather than exit without it, until the disk takes a snapshot again.

const { upstream, procs } = await processFixture(t);

const metricsOf = async (port: number) => (await fetch(`http://127.0.0.1:${port}/metrics`)).text();

t.test('the private Redis on a disk that refuses its snapshot: writes refused and counted; on stop it keeps the data until it can save', async (t) => {
  const base = mkdtempSync(join(tmpdir(), 'veracity-rodisk-'));
  const dir = join(base, 'data');
  const cfg = writeConfig(base, 'redis:\n  memoryPollMs: 200\n');
  // The directory is made read-only under the running server. Root writes anywhere by
  // CAP_DAC_OVERRIDE, so as root Veracity (and its redis-server) run without it.
  const asRoot = process.getuid?.() === 0;
  const port = await freePort();
  const argv = [...(asRoot ? ['setpriv', '--bounding-set', '-dac_override,-dac_read_search', '--'] : []), process.execPath, CLI, 'proxy'];
  const child = spawn(argv[0]!, argv.slice(1), {
    env: { ...process.env, REDIS_URL: '', VERACITY_REDIS_DATA_DIR: dir, PORT: String(port), VERACITY_OPENAI_UPSTREAM: upstream.url, VERACITY_CONFIG: cfg },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  child.stdout!.on('data', (d) => (out += d));
  child.stderr!.on('data', (d) => (out += d));
  const exited = new Promise<number | null>((r) => child.once('exit', r));
  let redisPid = 0;
  t.teardown(() => {
    if (child.exitCode === null) child.kill('SIGKILL');
    if (redisPid && alive(redisPid)) process.kill(redisPid, 'SIGKILL');
  });
  await waitFor200(`http://127.0.0.1:${port}/readyz`, 90_000);
  redisPid = startedPid(out)!;

  const client = new Redis({ path: join(dir, 'redis.sock'), maxRetriesPerRequest: 1 });
  client.on('error', () => {});
  await client.set('veracity:kept', 'yes');
  chmodSync(dir, 0o555);
  await client.bgsave();
  await until('the snapshot to fail', 20_000, async () => /rdb_last_bgsave_status:err/.test(await client.info('persistence')));
  t.equal((await chat(port)).status, 200, 'the request is served');
  await until('the drop to be counted', 20_000, async () => metricSum(await metricsOf(port), 'veracity_analysis_dropped_total', 'reason="redis_cannot_persist"') === 1);
  await until('the warnings', 20_000, () => /Redis could not save its snapshot/.test(out));
  t.match(out, /redis-server: Failed opening the temp RDB file .*Permission denied/, "Redis's own words are in the log");
  client.disconnect();

  child.kill('SIGTERM');
  t.equal(await exited, 0, 'Veracity still stops');
  t.match(out, /could not save its snapshot in .* and stays up with the data in memory rather than lose it/, 'and says why its Redis did not');
  // Veracity's exit sends the server SIGTERM once more (the parent-death signal): it tries to save
  // again, fails again, and stays.
  await new Promise((r) => setTimeout(r, 2000));
  t.ok(alive(redisPid), 'the server keeps the data');
  t.same(redisServersIn(dir), [redisPid]);

  // Space again: the next start asks the server to save and stop, then starts from that snapshot.
  chmodSync(dir, 0o700);
  const next = await runEmbedded('proxy', dir, upstream.url, { VERACITY_CONFIG: cfg });
  procs.push(next);
  await ready(next);
  t.match(output(next), /has gone; waiting for the server to save and stop/, 'the next start says what it found', { out: output(next) });
  t.notOk(alive(redisPid), 'the old server saved and stopped');
  const check = new Redis({ path: join(dir, 'redis.sock'), maxRetriesPerRequest: 1 });
  t.equal(await check.get('veracity:kept'), 'yes', 'nothing was lost');
  check.disconnect();
  next.kill('SIGTERM');
  await next.exited;
});
