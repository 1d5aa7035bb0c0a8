import t, { type Test } from 'tap';
import { Queue } from 'bullmq';
import { Redis } from 'ioredis';
import { QUEUE_NAME } from '../src/queue/names.js';
import { accounting, countVerdicts, failoverWindow, proxyDrops, queueDrained, reportFromRedis, settle, startFleet, untilEnqueuing, WORKER_DROPS, type Fleet } from './helpers/fleet.js';
import { percentile, steadyLoad, type Sent } from './helpers/load.js';
import { sleep } from './helpers/processes.js';
import { startSentinelGroup, type Node, type SentinelGroup } from './helpers/redis-ha.js';
import { startUpstream } from './helpers/upstream.js';

// Sentinel failovers under steady load through two proxies with two workers, all separate
// processes as deployed, none restarted: first the primary is SIGKILLed; then, with the old
// primary back as a replica, the new primary hangs (SIGSTOP) instead of dying. Clients must see no
// error and no wait; every exchange gets exactly one verdict or is counted as dropped (by reason);
// counts summed over the workers equal the verdicts; enqueueing and analysis resume by themselves.
// The figures are printed (t.comment) for the docs.

// Four Node processes start at once: on a busy shared machine that alone can take a minute.
t.setTimeout(360_000);

interface Totals {
  drops: Record<string, number>;
  workerDrops: Record<string, number>;
  checks: number;
  duplicates: number;
}

async function totals(fleet: Fleet): Promise<Totals> {
  const workerDrops: Record<string, number> = {};
  for (const reason of WORKER_DROPS) workerDrops[reason] = await fleet.sum('workers', 'veracity_analysis_dropped_total', `reason="${reason}"`);
  return {
    drops: await proxyDrops(fleet),
    workerDrops,
    checks: await fleet.sum('workers', 'veracity_checks_total'),
    duplicates: await fleet.sum('workers', 'veracity_worker_jobs_total', 'result="duplicate"'),
  };
}

const minus = (a: Record<string, number>, b: Record<string, number>) => Object.fromEntries(Object.entries(a).map(([k, v]) => [k, v - (b[k] ?? 0)]));

/**
 * One failover under load: `fail` takes the primary down at t=0; load goes on until the
 * sentinels name another primary and for `afterMs` more. Checks and prints what it cost.
 */
async function failover(
  t: Test,
  ctx: { group: SentinelGroup; fleet: Fleet; sentBefore: number; label: string; fail: () => Promise<void>; newPrimary: number },
): Promise<Sent[]> {
  const { group, fleet } = ctx;
  const oldPrimary = await group.primaryPort();
  const start = await totals(fleet);
  const load = steadyLoad(fleet.proxies, { clients: 6, pauseMs: 10 });
  await sleep(2500);
  const killedAt = Date.now();
  await ctx.fail();
  let promotedAt = 0;
  while (!promotedAt && Date.now() < killedAt + 30_000) {
    if ((await group.primaryPort().catch(() => oldPrimary)) !== oldPrimary) promotedAt = Date.now();
    else await sleep(50);
  }
  // Steady load after the promotion until every proxy enqueues again, and long enough after that
  // for the workers to be back.
  await untilEnqueuing(fleet, { from: promotedAt || killedAt, minMs: 6000, afterMs: 3000 });
  const sent = await load.stop();

  t.ok(promotedAt > 0, 'the sentinels promoted the replica');
  t.equal(await group.primaryPort(), ctx.newPrimary, 'the replica is the primary now');
  const failed = sent.filter((s) => !s.ok);
  t.same(failed.slice(0, 5), [], `no client-visible error (${failed.length} of ${sent.length})`);

  // Accounting: every exchange is enqueued or counted as dropped, then handled by one worker,
  // once nothing is left in the queue (read on the new primary).
  const queueConnection = new Redis({ port: ctx.newPrimary, host: '127.0.0.1', password: group.password, maxRetriesPerRequest: 1 });
  const queue = new Queue(QUEUE_NAME, { connection: queueConnection, prefix: 'veracity' });
  queue.on('error', () => {});
  let settled: Awaited<ReturnType<typeof settle>>;
  try {
    settled = await settle(fleet, ctx.sentBefore + sent.length, 60_000, queueDrained(queue));
  } finally {
    await queue.close().catch(() => {});
    queueConnection.disconnect();
  }
  t.equal(settled.enqueued + settled.dropped, ctx.sentBefore + sent.length, `proxies: enqueued + dropped = sent, over both failovers (${settled.enqueued} + ${settled.dropped})`);
  const end = await totals(fleet);
  const drops = minus(end.drops, start.drops);
  const workerDrops = minus(end.workerDrops, start.workerDrops);
  const checks = end.checks - start.checks;
  t.ok(Object.values(drops).reduce((a, b) => a + b, 0) > 0, 'exchanges ending during the failover were counted as dropped');

  const redis = new Redis({ port: ctx.newPrimary, host: '127.0.0.1', password: group.password });
  try {
    const { found, missing } = await countVerdicts(redis, 'veracity', sent.map((s) => s.id));
    t.equal(checks, found, `counted once: checks summed over the workers (${checks}) = verdicts stored (${found})`);
    const books = accounting(sent.length, found, drops, workerDrops);
    t.equal(books.lostUncounted, 0, `every exchange has a verdict or is counted as dropped (${missing.length} without a verdict)`);
    // Every request here is well formed: bytes that do not parse were corrupted on the way.
    t.equal(workerDrops.parse_error, 0, 'no exchange reaches a worker corrupted (e.g. written again after a reconnect from a reused buffer)');
    t.ok(books.droppedButAnalysed <= books.timeouts, `counted as dropped yet analysed (${books.droppedButAnalysed}): only hand-offs abandoned at the timeout (${books.timeouts})`);

    // Whether and when each proxy enqueued again, and what clients saw meanwhile.
    const window = failoverWindow(sent, fleet.proxies.length, killedAt, new Set(missing));
    for (const [i, p] of window.perProxy.entries()) t.ok(Number.isFinite(p.resumed), `proxy ${i + 1} enqueues again without a restart`);
    // The first exchanges queued after the loss window: when their analysis ran.
    const lastLost = Math.max(...window.perProxy.map((p) => p.lastLost));
    const analysedAfter = await Promise.all(
      sent.filter((s) => s.end > killedAt + lastLost && !missing.includes(s.id)).slice(0, 20).map(async (s) => Date.parse(JSON.parse((await redis.get(`veracity:verdict:${s.id}`))!).analysed_at)),
    );
    const workersBack = Math.min(...analysedAfter) - killedAt;
    t.ok(Number.isFinite(workersBack), 'workers analyse again without a restart');
    t.ok(window.gap.n >= 5, `${window.gap.n} requests while exchanges were being lost`);
    // A request that waited on Redis would take the connect or enqueue timeout (2 s) at least.
    const usual = percentile(sent.filter((s) => s.end < killedAt || s.start > killedAt + lastLost).map((s) => s.end - s.start), 0.5);
    // A request that waited on Redis would take at least the enqueue timeout (2 s) more; smaller
    // differences are this shared machine's noise, and are printed below.
    t.ok(window.gap.p50 < usual + 2000, `median latency during the failover ${window.gap.p50} ms, otherwise ${usual} ms: requests did not wait for Redis`);

    t.comment(
      [
        `${ctx.label}: ${sent.length} requests through 2 proxies and 2 workers (Sentinel: 1 replica, 3 sentinels, down-after 1000 ms); t=0 at the fault`,
        `  replica promoted (seen by polling the sentinels): ${promotedAt - killedAt} ms; workers analysing again: ${workersBack} ms`,
        ...window.perProxy.map((p, i) => `  proxy ${i + 1}: ${p.lost} exchanges lost, ending ${p.firstLost}..${p.lastLost} ms; enqueueing back for good at ${p.resumed} ms`),
        `  client errors: ${failed.length}; latency p50/p99/max before ${window.before.p50}/${window.before.p99}/${window.before.max} ms (${window.before.n}), during the loss window ${window.gap.p50}/${window.gap.p99}/${window.gap.max} ms (${window.gap.n}), after ${window.after.p50}/${window.after.p99}/${window.after.max} ms (${window.after.n})`,
        `  not queued, counted by the proxies: ${JSON.stringify(drops)}`,
        `  workers: checks ${checks}, duplicates ${end.duplicates - start.duplicates}, dropped ${JSON.stringify(workerDrops)}; verdicts stored ${found} (one key per exchange); checks - verdicts = ${checks - found}; lost without being counted ${books.lostUncounted}; counted as dropped yet analysed ${books.droppedButAnalysed}`,
      ].join('\n'),
    );
  } finally {
    redis.disconnect();
  }
  return sent;
}

t.test('Sentinel failovers under load: no client error, nothing lost uncounted, resumes by itself', async (t) => {
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
  t.equal(await group.primaryPort(), group.primary.port, 'the sentinels agree on the first primary');

  let sent = 0;
  await t.test('the primary is SIGKILLed', async (t) => {
    sent += (await failover(t, { group, fleet, sentBefore: sent, label: 'failover figures (SIGKILL)', fail: () => group.primary.kill(), newPrimary: group.replica.port })).length;
  });

  // The old primary comes back as a replica of the new one; then the new one hangs.
  const rejoined: Node = await group.rejoin(group.primary, group.replica.port);
  await t.test('the primary hangs (SIGSTOP): connections left open to it move to the new one', async (t) => {
    const hung = group.replica;
    t.teardown(() => hung.kill());
    sent += (await failover(t, { group, fleet, sentBefore: sent, label: 'failover figures (SIGSTOP)', fail: async () => void hung.process.kill('SIGSTOP'), newPrimary: rejoined.port })).length;
  });
  // The aggregates the console and the report read, kept by both workers through both failovers.
  const report = await reportFromRedis(t, { VERACITY_REDIS_SENTINELS: group.addresses, VERACITY_REDIS_SENTINEL_NAME: group.name, VERACITY_REDIS_PASSWORD: group.password });
  t.equal(report.code, 0, report.stderr);
  t.equal(report.checks, await fleet.sum('workers', 'veracity_checks_total'), `veracity report from the aggregates, through the sentinels: ${report.checks} checks, as the workers counted`);
  t.notMatch(report.stderr + report.json, group.password, 'the report shows no password');
  if (process.env.DEBUG_FLEET) for (const p of fleet.processes) console.error(`---- ${p.child.spawnargs.at(-1)} ${p.child.pid}\n${p.stderr()}`);
});
