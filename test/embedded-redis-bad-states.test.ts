import t from 'tap';
import { spawn } from 'node:child_process';
import { chmodSync, existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { CLI, runCli, type CliProcess } from './helpers/processes.js';
import { output, ready, runEmbedded, processFixture, writeConfig } from './helpers/embedded.js';

// The embedded default in bad states: each one a clear error naming what to do, or a loud message
// and a working start, never silent loss and never a restart loop. Real processes, a real
// redis-server (and, for the version check, a stand-in binary printing an old version).

const { upstream, procs } = await processFixture(t);

t.test('a data directory that is not writable: a clear error at start', async (t) => {
  const base = mkdtempSync(join(tmpdir(), 'veracity-ro-'));
  const dir = join(base, 'redis');
  mkdirSync(dir);
  chmodSync(dir, 0o555);
  // Root passes file permissions by its capabilities; without CAP_DAC_OVERRIDE (dropped from the
  // bounding set by util-linux's setpriv) the kernel applies them to root as to anyone.
  const asRoot = process.getuid?.() === 0;
  const argv = asRoot ? ['setpriv', '--bounding-set', '-dac_override,-dac_read_search', '--', process.execPath, CLI, 'serve'] : [process.execPath, CLI, 'serve'];
  const child = spawn(argv[0]!, argv.slice(1), { env: { ...process.env, REDIS_URL: '', VERACITY_REDIS_DATA_DIR: dir }, stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  child.stdout!.on('data', (d) => (out += d));
  child.stderr!.on('data', (d) => (out += d));
  const code = await new Promise((r) => child.once('exit', r));
  t.equal(code, 1, 'exits with 1');
  t.match(out, `the Redis data directory ${dir} is not writable`, 'says which directory');
  t.match(out, /EACCES|permission denied/i, 'and why');
  t.match(out, /VERACITY_REDIS_DATA_DIR/, 'and what to do');
  t.same(readdirSync(dir), [], 'leaves nothing behind');

  const file = join(base, 'a-file');
  writeFileSync(file, '');
  const under = runCli(['proxy'], { REDIS_URL: '', VERACITY_REDIS_DATA_DIR: join(file, 'redis') });
  t.equal((await under.exited).code, 1);
  t.match(under.stderr(), /cannot create the Redis data directory .*ENOTDIR/, 'a path under a file: cannot create it, and why');
});

t.test('a socket path over the 107 bytes of sun_path: a shorter one in the temporary directory, or a clear error', async (t) => {
  const dir = join(mkdtempSync(join(tmpdir(), 'veracity-long-')), 'd'.repeat(100));
  const proxy = await runEmbedded('proxy', dir, upstream.url);
  procs.push(proxy);
  await ready(proxy);
  const used = /using (\S+\.sock)/.exec(output(proxy))?.[1];
  t.match(output(proxy), /redis\.sock is \d+ bytes, over the 107 a unix socket path may have/, 'says why');
  t.ok(used && used.startsWith(tmpdir()) && existsSync(used), `and which path it uses instead (${used})`);
  t.equal(JSON.parse(readFileSync(join(dir, 'redis.lock'), 'utf8')).socket, used, 'the lock record tells other processes where it is');
  proxy.kill('SIGTERM');
  await proxy.exited;

  const longTmp = join(mkdtempSync(join(tmpdir(), 'veracity-longtmp-')), 't'.repeat(100));
  mkdirSync(longTmp);
  const refused = runCli(['proxy'], { REDIS_URL: '', VERACITY_REDIS_DATA_DIR: dir, TMPDIR: longTmp });
  t.equal((await refused.exited).code, 1);
  t.match(refused.stderr(), /no unix socket path short enough for the private redis-server/, 'when no path fits: a clear error');
  t.match(refused.stderr(), /shorter redis\.dataDir or TMPDIR/, 'saying what to do');
});

t.test('a redis-server older than BullMQ accepts is refused, naming both versions', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'veracity-old-'));
  // Stands in for an old installed binary: prints what Redis 4.0.9 prints for --version.
  const binary = join(dir, 'redis-server');
  writeFileSync(binary, '#!/bin/sh\necho "Redis server v=4.0.9 sha=00000000:0 malloc=jemalloc-4.0.3 bits=64 build=76095d16786fbcba"\n', { mode: 0o755 });
  const p = runCli(['proxy'], { REDIS_URL: '', VERACITY_CONFIG: writeConfig(dir, `redis:\n  binary: ${binary}\n  dataDir: ${join(dir, 'data')}\n`) });
  t.equal((await p.exited).code, 1);
  t.match(p.stderr(), /is Redis 4\.0\.9; the analysis queue \(BullMQ\) needs Redis 5\.0\.0 or newer/);
  t.match(p.stderr(), /REDIS_URL/);
});
