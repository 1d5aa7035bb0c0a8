import t from 'tap';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { metricSum, type CliProcess } from './helpers/processes.js';
import { chat, output, ready, redisServersIn, runEmbedded, snapshotKeys, startedPid, until, verdictStatus, processFixture } from './helpers/embedded.js';
import { settledMetric } from './helpers/metrics.js';

// `proxy` and `worker` as two processes on one data directory without REDIS_URL: one private
// redis-server, shared; the proxy that started it leaves and the worker carries on with a server
// of its own; a new proxy shares that one; the last to leave stops it. Real processes, a real
// redis-server.

const { upstream, procs } = await processFixture(t);

const SHARING = /sharing the private redis-server \(pid (\d+)/;

t.test('proxy and worker without REDIS_URL share one server; the last to leave stops it', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'veracity-split-'));
  const proxy = await runEmbedded('proxy', dir, upstream.url);
  procs.push(proxy);
  await ready(proxy);
  const redisPid = startedPid(output(proxy))!;
  const worker = await runEmbedded('worker', dir, upstream.url);
  procs.push(worker);
  await ready(worker);
  t.equal(Number(SHARING.exec(output(worker))?.[1]), redisPid, 'the worker shares the proxy\'s server');
  t.same(redisServersIn(dir), [redisPid], 'one redis-server');

  const one = await chat(proxy.port);
  await until('the worker\'s verdict', 20_000, async () => (await verdictStatus(proxy.port, one.id)) === 200);
  // The verdict is readable a moment before the worker moves its counters.
  t.equal(await settledMetric(`http://127.0.0.1:${worker.port}`, 'veracity_checks_total', {}, 1), 1, 'the worker analysed it');
  const metrics = await (await fetch(`http://127.0.0.1:${worker.port}/metrics`)).text();
  t.ok(metricSum(metrics, 'veracity_redis_memory_used_bytes') > 0, 'the worker reports Redis memory');

  // The proxy started the server; stopping it stops the server, and the worker starts it again.
  const stoppedAt = Date.now();
  proxy.kill('SIGTERM');
  t.equal((await proxy.exited).code, 0);
  const workerPid = await until('the worker to take over', 60_000, () => startedPid(output(worker)));
  t.comment(`the worker had a server of its own ${Date.now() - stoppedAt} ms after SIGTERM to the proxy`);
  t.same(redisServersIn(dir), [workerPid], 'one redis-server, now the worker\'s');
  const again = await runEmbedded('proxy', dir, upstream.url);
  procs.push(again);
  await ready(again);
  t.equal(Number(SHARING.exec(output(again))?.[1]), workerPid, 'a new proxy shares the worker\'s server');
  t.equal(await verdictStatus(again.port, one.id), 200, 'the verdict from before is still there');
  const two = await until('an exchange analysed after the handover', 30_000, async () => {
    const r = await chat(again.port);
    for (let i = 0; i < 40; i++) {
      if ((await verdictStatus(again.port, r.id)) === 200) return r;
      await new Promise((res) => setTimeout(res, 100));
    }
    return undefined;
  });
  t.ok(two.id, 'new exchanges are analysed');

  again.kill('SIGTERM');
  t.equal((await again.exited).code, 0);
  t.same(redisServersIn(dir), [workerPid], 'a sharing process leaving does not stop the server');
  worker.kill('SIGTERM');
  t.equal((await worker.exited).code, 0);
  t.same(redisServersIn(dir), [], 'the last to leave stopped it');
  const keys = await snapshotKeys(dir, 'veracity:verdict:*');
  t.ok(keys.includes(`veracity:verdict:${one.id}`) && keys.includes(`veracity:verdict:${two.id}`), 'both verdicts are in the snapshot');
});
