import t from 'tap';
import { existsSync, mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { CliProcess } from './helpers/processes.js';
import { alive, chat, output, ready, redisServersIn, runEmbedded, snapshotKeys, startedPid, until, verdictStatus, processFixture } from './helpers/embedded.js';

// The private redis-server of the embedded default against a crash: kill -9 of its Veracity
// process, then a restart on the same directory. Real processes, a real redis-server; every
// process is stopped by its pid.

const { upstream, procs } = await processFixture(t);

const started = (p: CliProcess) => until('the private redis-server to start', 60_000, () => startedPid(output(p)));

t.test('kill -9 of serve: its redis-server saves and goes; a restart finds one server and both runs\' data', async (t) => {
  const dir = join(mkdtempSync(join(tmpdir(), 'veracity-crash-')), 'redis');
  const first = await runEmbedded('serve', dir, upstream.url);
  procs.push(first);
  await ready(first);
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
  await ready(second);
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
