import t from 'tap';
import { Redis } from 'ioredis';
import { accounting, countVerdicts, failoverWindow, proxyDrops, settle, startFleet, WORKER_DROPS } from './helpers/fleet.js';
import { percentile, steadyLoad } from './helpers/load.js';
import { sleep } from './helpers/processes.js';
import { startSentinelGroup } from './helpers/redis-ha.js';
import { startUpstream } from './helpers/upstream.js';

// Sentinel failover under steady load through two proxies with two workers, all separate
// processes as deployed: the primary is SIGKILLed, the sentinels promote the replica, and nothing
// is restarted. Clients must see no error and no wait; every exchange either gets exactly one
// verdict or is counted as dropped (by reason); counts summed over the workers equal the verdicts;
// enqueueing and analysis resume by themselves. The figures are printed (t.comment) for the docs.

// Four Node processes start at once: on a busy shared machine that alone can take a minute.
t.setTimeout(300_000);

t.test('SIGKILL the Sentinel primary under load: no client error, nothing lost uncounted, resumes by itself', async (t) => {
  const group = await startSentinelGroup(t);
  const upstream = await startUpstream();
  t.teardown(() => upstream.close());
  const fleet = await startFleet(t, {
    VERACITY_REDIS_SENTINELS: group.addresses,
    VERACITY_REDIS_SENTINEL_NAME: group.name,
    VERACITY_REDIS_PASSWORD: group.password,
    VERACITY_OPENAI_UPSTREAM: upstream.url,
    VERACITY_ANTHROPIC_UPSTREAM: upstream.url,
  });
  const oldPrimary = group.primary.port;
  t.equal(await group.primaryPort(), oldPrimary, 'the sentinels agree on the first primary');

  const load = steadyLoad(fleet.proxies, { clients: 6, pauseMs: 10 });
  await sleep(3000);
  const killedAt = Date.now();
  await group.primary.kill();
  let promotedAt = 0;
  while (!promotedAt && Date.now() < killedAt + 30_000) {
    if ((await group.primaryPort().catch(() => oldPrimary)) !== oldPrimary) promotedAt = Date.now();
    else await sleep(50);
  }
  // Steady load after the promotion, long enough for every process to be back.
  await sleep(6000);
  const sent = await load.stop();

  t.ok(promotedAt > 0, 'the sentinels promoted the replica');
  t.equal(await group.primaryPort(), group.replica.port, 'the replica is the primary now');

  // Clients: no error, and no wait on Redis.
  const failed = sent.filter((s) => !s.ok);
  t.same(failed.slice(0, 5), [], `no client-visible error (${failed.length} of ${sent.length})`);

  // Accounting: every exchange is enqueued or counted as dropped, then handled by one worker.
  const totals = await settle(fleet, sent.length);
  const drops = await proxyDrops(fleet);
  t.equal(totals.enqueued + totals.dropped, sent.length, `proxies: enqueued (${totals.enqueued}) + dropped (${totals.dropped}) = sent (${sent.length})`);
  t.ok(totals.dropped > 0, 'exchanges ending during the failover were counted as dropped');

  const workerDrops: Record<string, number> = {};
  for (const reason of WORKER_DROPS) workerDrops[reason] = await fleet.sum('workers', 'veracity_analysis_dropped_total', `reason="${reason}"`);
  const checks = await fleet.sum('workers', 'veracity_checks_total');
  const duplicates = await fleet.sum('workers', 'veracity_worker_jobs_total', 'result="duplicate"');

  const redis = new Redis({ port: group.replica.port, host: '127.0.0.1', password: group.password });
  t.teardown(() => redis.disconnect());
  const { found, missing } = await countVerdicts(redis, 'veracity', sent.map((s) => s.id));
  t.equal(checks, found, `counted once: checks summed over the workers (${checks}) = verdicts stored (${found})`);
  const books = accounting(sent.length, found, drops, workerDrops);
  t.equal(books.lostUncounted, 0, `every exchange has a verdict or is counted as dropped (${missing.length} without a verdict)`);
  t.ok(books.droppedButAnalysed <= books.timeouts, `counted as dropped yet analysed (${books.droppedButAnalysed}): only hand-offs abandoned at the timeout (${books.timeouts})`);

  // Whether and when each proxy enqueued again, and what clients saw meanwhile.
  const window = failoverWindow(sent, fleet.proxies.length, killedAt, new Set(missing));
  for (const [i, p] of window.perProxy.entries()) t.ok(Number.isFinite(p.resumed), `proxy ${i + 1} enqueues again without a restart`);
  const analysedAfter = await Promise.all(
    sent.filter((s) => s.end > killedAt && !missing.includes(s.id)).slice(0, 50).map(async (s) => Date.parse(JSON.parse((await redis.get(`veracity:verdict:${s.id}`))!).analysed_at)),
  );
  const workersBack = Math.min(...analysedAfter) - killedAt;
  t.ok(Number.isFinite(workersBack), 'workers analyse again without a restart');
  t.ok(window.gap.n >= 10, `${window.gap.n} requests while exchanges were being lost`);
  // A request that waited on Redis would take the connect or enqueue timeout (2 s) at least.
  const usual = percentile(sent.filter((s) => s.end < killedAt || s.start > killedAt + window.perProxy[0]!.lastLost).map((s) => s.end - s.start), 0.5);
  t.ok(window.gap.p50 < usual + 1000, `median latency during the failover ${window.gap.p50} ms, otherwise ${usual} ms: requests did not wait for Redis`);

  t.comment(
    [
      `failover figures: ${sent.length} requests through 2 proxies and 2 workers (Sentinel: 1 replica, 3 sentinels, down-after 1000 ms); primary SIGKILLed at t=0`,
      `  replica promoted (seen by polling the sentinels): ${promotedAt - killedAt} ms; workers analysing again: ${workersBack} ms`,
      ...window.perProxy.map((p, i) => `  proxy ${i + 1}: ${p.lost} exchanges lost, ending ${p.firstLost}..${p.lastLost} ms; enqueueing back for good at ${p.resumed} ms`),
      `  client errors: ${failed.length}; latency p50/p99/max before ${window.before.p50}/${window.before.p99}/${window.before.max} ms (${window.before.n}), during the loss window ${window.gap.p50}/${window.gap.p99}/${window.gap.max} ms (${window.gap.n}), after ${window.after.p50}/${window.after.p99}/${window.after.max} ms (${window.after.n})`,
      `  not queued, counted by the proxies: ${JSON.stringify(drops)}; enqueued ${totals.enqueued}`,
      `  workers: checks ${checks}, duplicates ${duplicates}, dropped ${JSON.stringify(workerDrops)}; verdicts stored ${found} (one key per exchange); checks - verdicts = ${checks - found}; lost without being counted ${books.lostUncounted}; counted as dropped yet analysed ${books.droppedButAnalysed}`,
    ].join('\n'),
  );
  if (process.env.DEBUG_FLEET) for (const p of fleet.processes) console.error(`---- ${p.child.spawnargs.at(-1)} ${p.child.pid}\n${p.stderr()}`);
});
