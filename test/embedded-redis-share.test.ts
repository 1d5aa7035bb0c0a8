import t from 'tap';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { CliProcess } from './helpers/processes.js';
import { alive, chat, output, ready, redisServersIn, runEmbedded, snapshotKeys, startedPid, until, verdictStatus, processFixture } from './helpers/embedded.js';

// Several Veracity processes on one data directory without REDIS_URL share one private
// redis-server: the first starts it, the others use it; when the starter goes (cleanly or by
// kill -9) one of the others starts it again from the snapshot it saved; the last to leave
// stops it. Real processes, a real redis-server.

const { upstream, procs } = await processFixture(t);

const SHARING = /sharing the private redis-server \(pid (\d+)/;

t.test('two serve started together on one directory: one server, shared; kill -9 of its starter, the other takes over', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'veracity-two-'));
  const [a, b] = await Promise.all([runEmbedded('serve', dir, upstream.url), runEmbedded('serve', dir, upstream.url)]);
  procs.push(a, b);
  await Promise.all([a, b].map((p) => ready(p)));
  const owner = startedPid(output(a)) ? a : b;
  const other = owner === a ? b : a;
  const redisPid = startedPid(output(owner))!;
  t.notOk(startedPid(output(other)), 'only one of them started a server');
  t.equal(Number(SHARING.exec(output(other))?.[1]), redisPid, 'the other says it shares that server');
  t.same(redisServersIn(dir), [redisPid], 'one redis-server on the directory');

  const x = await chat(owner.port);
  const y = await chat(other.port);
  for (const [p, id] of [[owner, x.id], [other, y.id], [owner, y.id], [other, x.id]] as const) {
    await until(`verdict ${id} through ${p.port}`, 20_000, async () => (await verdictStatus(p.port, id)) === 200);
  }
  t.pass('each sees the verdicts of both');

  const killedAt = Date.now();
  owner.kill('SIGKILL');
  await owner.exited;
  const newPid = await until('the survivor to take the server over', 60_000, () => startedPid(output(other)));
  t.comment(`the survivor had a server of its own ${Date.now() - killedAt} ms after kill -9 of the starter`);
  t.not(newPid, redisPid, 'a new server');
  t.notOk(alive(redisPid), 'the old one is gone');
  t.match(output(other), /has stopped or is stopping; taking it over/, 'the log says what happened');
  t.same(redisServersIn(dir), [newPid], 'still one redis-server on the directory');
  await ready(other);
  t.equal(await verdictStatus(other.port, x.id), 200, 'verdicts from before the kill are there');
  t.equal(await verdictStatus(other.port, y.id), 200);
  const z = await until('an exchange analysed after the takeover', 30_000, async () => {
    const r = await chat(other.port);
    for (let i = 0; i < 40; i++) {
      if ((await verdictStatus(other.port, r.id)) === 200) return r;
      await new Promise((res) => setTimeout(res, 100));
    }
    return undefined;
  });
  other.kill('SIGTERM');
  t.equal((await other.exited).code, 0, 'the survivor exits cleanly');
  t.same(redisServersIn(dir), [], 'the last to leave stopped the server');
  const keys = await snapshotKeys(dir, 'veracity:verdict:*');
  t.ok([x.id, y.id, z.id].every((id) => keys.includes(`veracity:verdict:${id}`)), 'nothing was overwritten: the snapshot holds all three verdicts');
});
