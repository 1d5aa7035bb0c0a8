import t from 'tap';
import { Redis } from 'ioredis';
import { countVerdicts, proxyDrops, settle, startFleet, WORKER_DROPS } from './helpers/fleet.js';
import { percentile, steadyLoad, type Sent } from './helpers/load.js';
import { sleep } from './helpers/processes.js';
import { startSentinelGroup } from './helpers/redis-ha.js';
import { startUpstream } from './helpers/upstream.js';

// Sentinel failover under steady load through two proxies with two workers, all separate
// processes as deployed: the primary is SIGKILLed, the sentinels promote the replica, and nothing
// is restarted. Clients must see no error and no wait; every exchange either gets exactly one
// verdict or is counted as dropped (by reason); counts summed over the workers equal the verdicts;
// enqueueing and analysis resume by themselves. The figures are printed (t.comment) for the docs.

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
  const lostUncounted = sent.length - found - totals.dropped - Object.values(workerDrops).reduce((a, b) => a + b, 0);
  t.equal(checks, found, `counted once: checks summed over the workers (${checks}) = verdicts stored (${found})`);
  t.equal(lostUncounted, 0, `every exchange has a verdict or is counted as dropped (${missing.length} without a verdict)`);

  // When each proxy enqueued again: the first exchange through it that ended after the kill and
  // reached a worker (an exchange ending after the kill cannot have been queued on the dead primary).
  const verdicted = new Set(sent.map((s) => s.id).filter((id) => !missing.includes(id)));
  const resumedAt = fleet.proxies.map((_, i) => Math.min(...sent.filter((s) => s.proxy === i && s.end > killedAt && verdicted.has(s.id)).map((s) => s.end)));
  for (const [i, at] of resumedAt.entries()) t.ok(Number.isFinite(at), `proxy ${i + 1} enqueues again without a restart`);
  const analysed = await Promise.all(
    sent.filter((s) => s.end > killedAt && verdicted.has(s.id)).slice(0, 50).map(async (s) => Date.parse(JSON.parse((await redis.get(`veracity:verdict:${s.id}`))!).analysed_at)),
  );
  const workersResumedAt = Math.min(...analysed);
  t.ok(Number.isFinite(workersResumedAt), 'workers analyse again without a restart');

  const gapEnd = Math.max(...resumedAt);
  const lat = (f: (s: Sent) => boolean) => sent.filter(f).map((s) => s.end - s.start);
  const before = lat((s) => s.end < killedAt);
  const gap = lat((s) => s.start >= killedAt && s.start < gapEnd);
  const after = lat((s) => s.start >= gapEnd);
  const inGap = sent.filter((s) => s.end > killedAt && s.end < gapEnd).length;
  t.ok(gap.length >= 10, `${gap.length} requests while the proxies could not enqueue`);
  // A request that waited on Redis would take the connect or enqueue timeout (2 s) at least.
  const usual = percentile([...before, ...after], 0.5);
  t.ok(percentile(gap, 0.5) < usual + 1000, `median latency during the failover ${percentile(gap, 0.5)} ms, otherwise ${usual} ms: requests did not wait for Redis`);

  const ms = (at: number) => `${at - killedAt} ms`;
  t.comment(
    [
      `failover figures: ${sent.length} requests through 2 proxies and 2 workers (Sentinel, 1 replica, 3 sentinels, down-after 1000 ms); primary SIGKILLed at t=0`,
      `  replica promoted (seen by the sentinels): ${ms(promotedAt)}; enqueueing resumed: ${resumedAt.map(ms).join(', ')} (per proxy); workers analysing again: ${ms(workersResumedAt)}`,
      `  client errors: ${failed.length}; latency p50/p99/max before ${percentile(before, 0.5)}/${percentile(before, 0.99)}/${Math.max(...before)} ms, during the gap ${percentile(gap, 0.5)}/${percentile(gap, 0.99)}/${Math.max(...gap)} ms, after ${percentile(after, 0.5)}/${percentile(after, 0.99)}/${Math.max(...after)} ms`,
      `  exchanges ending in the gap: ${inGap}; not queued, counted by the proxies: ${JSON.stringify(drops)}; enqueued ${totals.enqueued}`,
      `  workers: checks ${checks}, duplicates ${duplicates}, dropped ${JSON.stringify(workerDrops)}; verdicts stored ${found}; lost without being counted ${lostUncounted}; verdicts per exchange: at most 1 by key, checks - verdicts = ${checks - found}`,
    ].join('\n'),
  );
  if (process.env.DEBUG_FLEET) for (const p of fleet.processes) console.error(`---- ${p.child.spawnargs.at(-1)} ${p.child.pid}\n${p.stderr()}`);
});
