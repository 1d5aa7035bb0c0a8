import t from 'tap';
import { Queue } from 'bullmq';
import { Redis } from 'ioredis';
import calculateSlot from 'cluster-key-slot';
import { loadConfig } from '../src/config/load.js';
import { QUEUE_NAME } from '../src/queue/names.js';
import { createFastFailRedis, redisTarget } from '../src/redis/connection.js';
import { accounting, countVerdicts, failoverWindow, proxyDrops, queueDrained, reportFromRedis, settle, startFleet, untilEnqueuing, WORKER_DROPS } from './helpers/fleet.js';
import { percentile, sendOne, steadyLoad, type Sent } from './helpers/load.js';
import { sleep } from './helpers/processes.js';
import { startCluster } from './helpers/redis-ha.js';
import { startUpstream } from './helpers/upstream.js';

// Redis Cluster made with `redis-cli --cluster create`: three primaries, each with a replica.
// Two proxies and two workers, separate processes as deployed, share it: BullMQ's multi-key scripts and Veracity's own multi-key
// commands work because every key carries the {veracity} hash tag; counts summed over the
// workers equal the requests sent; the queue-depth gauge (what KEDA scales on) reads the cluster.
// Then the primary holding Veracity's slot is SIGKILLed under load and its replica takes over.

const PREFIX = '{veracity}';

// Four Node processes start: on a busy shared machine that alone can take a minute.
t.setTimeout(300_000);

t.test('Cluster: many proxies and workers, one slot, exact counts, then a shard failover', async (t) => {
  const cluster = await startCluster(t, { primaries: 3, replicasPer: 1, nodeTimeoutMs: 1000 });
  const upstream = await startUpstream();
  t.teardown(() => upstream.close());
  const env = { VERACITY_REDIS_CLUSTER_NODES: cluster.addresses, VERACITY_OPENAI_UPSTREAM: upstream.url, VERACITY_ANTHROPIC_UPSTREAM: upstream.url };
  const { config } = loadConfig({ env });
  t.equal(config.redis.prefix, PREFIX, 'the prefix is hash-tagged in Cluster mode');

  // Proxies first: what they queue waits for the workers, so the cluster's queue has a depth.
  const proxiesOnly = await startFleet(t, env, { proxies: 2, workers: 0 });
  const early: Sent[] = [];
  for (let i = 0; i < 20; i++) early.push(await sendOne(proxiesOnly.proxies[i % 2]!, i, i % 2));
  t.same(early.filter((s) => !s.ok), [], 'clients answered');
  const client = createFastFailRedis(redisTarget(config.redis)!, 'veracity-test');
  t.teardown(() => client.disconnect());
  const queue = new Queue(QUEUE_NAME, { connection: client, prefix: PREFIX });
  
  let waiting = 0;
  for (let i = 0; i < 50 && waiting === 0; i++) {
    waiting = (await queue.getJobCounts('waiting')).waiting ?? 0;
    if (waiting === 0) await sleep(100);
  }
  t.ok(waiting > 0, `BullMQ's job counts read the cluster: ${waiting} jobs waiting`);

  const workers = await startFleet(t, env, { proxies: 0, workers: 2 });
  const fleet = { ...proxiesOnly, workers: workers.workers, sum: async (side: 'proxies' | 'workers', name: string, ...match: string[]) => (side === 'proxies' ? proxiesOnly : workers).sum(side, name, ...match) };
  const load = steadyLoad(fleet.proxies, { clients: 4, pauseMs: 10 });
  await sleep(2500);
  const steady = await load.stop();
  const sent1 = [...early, ...steady];
  t.same(sent1.filter((s) => !s.ok).slice(0, 3), [], `no client error (${sent1.length} requests)`);
  const totals1 = await settle(fleet, sent1.length);
  t.equal(totals1.enqueued, sent1.length, 'every exchange enqueued');
  const { found: found1 } = await countVerdicts(client, PREFIX, sent1.map((s) => s.id));
  t.equal(found1, sent1.length, 'one verdict per exchange');
  t.equal(await fleet.sum('workers', 'veracity_checks_total'), sent1.length, 'checks summed over the workers = requests sent');
  const depth = await fleet.sum('workers', 'veracity_queue_depth', 'state="waiting"');
  t.match(await (await fetch(`${fleet.workers[0]}/metrics`)).text(), /veracity_queue_depth\{state="waiting"\} \d+/, `the queue-depth gauge is read from the cluster (waiting now: ${depth})`);

  // Redis memory is read on the primary of Veracity's slot, not on whichever node the cluster
  // client picks: give every node a different maxmemory and the gauge names the owner's.
  const limits = new Map<number, number>();
  for (const [i, n] of cluster.nodes.entries()) {
    const r = new Redis({ port: n.port, host: '127.0.0.1' });
    limits.set(n.port, (512 + i) * 1024 * 1024);
    await r.config('SET', 'maxmemory', String(limits.get(n.port)));
    r.disconnect();
  }
  const slotOwner = await cluster.primaryFor(PREFIX);
  let gauge = 0;
  for (let i = 0; i < 150 && gauge !== limits.get(slotOwner); i++) {
    gauge = (await fleet.sum('proxies', 'veracity_redis_memory_max_bytes')) / fleet.proxies.length;
    if (gauge !== limits.get(slotOwner)) await sleep(100);
  }
  t.equal(gauge, limits.get(slotOwner), `each proxy reads maxmemory on the slot's primary (port ${slotOwner})`);

  // Every key Veracity and BullMQ wrote is in the one slot.
  const slot = calculateSlot(PREFIX);
  const keys: string[] = [];
  for (const n of cluster.nodes) {
    const r = new Redis({ port: n.port, host: '127.0.0.1' });
    keys.push(...(await r.keys('*')));
    r.disconnect();
  }
  t.ok(keys.length > sent1.length, `${keys.length} keys stored`);
  t.same(keys.filter((k) => calculateSlot(k) !== slot), [], `all in slot ${slot}`);
  t.same(keys.filter((k) => !k.startsWith(`${PREFIX}:`)), [], `all under ${PREFIX}:`);

  // The shard failover: SIGKILL the primary of that slot under load.
  const primaryPort = await cluster.primaryFor(PREFIX);
  const primary = cluster.nodes.find((n) => n.port === primaryPort)!;
  // This process runs the clients and the upstream: it keeps no cluster connection of its own
  // through the failover.
  await queue.close();
  client.disconnect();
  const load2 = steadyLoad(fleet.proxies, { clients: 4, pauseMs: 10 });
  await sleep(1500);
  const killedAt = Date.now();
  await primary.kill();
  // Asked of a surviving node over one connection: a new connection per poll costs this process,
  // which also runs the clients and the upstream, enough to show in the latencies.
  const witness = new Redis({ port: cluster.nodes.find((n) => n.port !== primaryPort)!.port, host: '127.0.0.1' });
  t.teardown(() => witness.disconnect());
  const owner = async () => {
    const ranges = (await witness.call('CLUSTER', 'SLOTS')) as Array<[number, number, [string, number]]>;
    return ranges.find(([from, to]) => slot >= from && slot <= to)?.[2][1];
  };
  let promotedAt = 0;
  while (!promotedAt && Date.now() < killedAt + 30_000) {
    const now = await owner().catch(() => primaryPort);
    if (now !== primaryPort) promotedAt = Date.now();
    else await sleep(100);
  }
  t.ok(promotedAt > 0, 'the replica took over the slot');
  await untilEnqueuing(fleet, { from: promotedAt || killedAt, minMs: 6000, afterMs: 3000 });
  const sent2 = await load2.stop();
  const failed = sent2.filter((s) => !s.ok);
  t.same(failed.slice(0, 5), [], `no client-visible error (${failed.length} of ${sent2.length})`);

  const all = [...sent1, ...sent2];
  // Hand-offs given up at the proxy's timeout may still reach the queue and be analysed: read the
  // queue until it is empty before counting.
  const totals = await settle(fleet, all.length, 60_000, queueDrained(queue));
  t.equal(totals.enqueued + totals.dropped, all.length, `proxies: enqueued (${totals.enqueued}) + dropped (${totals.dropped}) = sent (${all.length})`);
  const drops = await proxyDrops(fleet);
  const workerDrops: Record<string, number> = {};
  for (const reason of WORKER_DROPS) workerDrops[reason] = await fleet.sum('workers', 'veracity_analysis_dropped_total', `reason="${reason}"`);
  const checks = await fleet.sum('workers', 'veracity_checks_total');
  const reader = createFastFailRedis(redisTarget(config.redis)!, 'veracity-test');
  t.teardown(() => reader.disconnect());
  await new Promise((r) => reader.once('ready', r));
  const { found, missing } = await countVerdicts(reader, PREFIX, all.map((s) => s.id));
  t.equal(checks, found, `counted once: checks (${checks}) = verdicts (${found})`);
  const books = accounting(all.length, found, drops, workerDrops);
  t.equal(books.lostUncounted, 0, `every exchange has a verdict or is counted as dropped (${missing.length} without a verdict)`);
  t.equal(workerDrops.parse_error, 0, 'no exchange reaches a worker corrupted');
  t.ok(books.droppedButAnalysed <= books.timeouts, `counted as dropped yet analysed (${books.droppedButAnalysed}): only hand-offs abandoned at the timeout (${books.timeouts})`);

  // The aggregates the console and the report read, kept by every worker in the same slot.
  const report = await reportFromRedis(t, { VERACITY_REDIS_CLUSTER_NODES: cluster.addresses });
  t.equal(report.code, 0, report.stderr);
  t.equal(report.checks, checks, `veracity report from the cluster's aggregates: ${report.checks} checks, as the workers counted`);
  t.match(report.stderr, /from Redis aggregates at cluster:127\.0\.0\.1:\d+/, 'it names the cluster it read');

  const window = failoverWindow(sent2, fleet.proxies.length, killedAt, new Set(missing));
  for (const [i, p] of window.perProxy.entries()) t.ok(Number.isFinite(p.resumed), `proxy ${i + 1} enqueues again without a restart`);
  const usual = percentile(sent2.filter((s) => s.end < killedAt || s.start > killedAt + Math.max(...window.perProxy.map((p) => p.lastLost))).map((s) => s.end - s.start), 0.5);
  // A request that waited on Redis would take at least the enqueue timeout (2 s) more; smaller
  // differences are this shared machine's noise, and are printed below.
  t.ok(!(window.gap.p50 >= usual + 2000), `median latency during the failover ${window.gap.p50} ms, otherwise ${usual} ms`);
  t.comment(
    [
      `cluster failover figures: ${sent2.length} requests through 2 proxies and 2 workers (3 primaries + 3 replicas, cluster-node-timeout 1000 ms); the primary of ${PREFIX}'s slot SIGKILLed at t=0`,
      `  replica took over the slot (seen by polling CLUSTER SLOTS): ${promotedAt - killedAt} ms`,
      ...window.perProxy.map((p, i) => `  proxy ${i + 1}: ${p.lost} exchanges lost, ending ${p.firstLost}..${p.lastLost} ms; enqueueing back for good at ${p.resumed} ms`),
      `  client errors: ${failed.length}; latency p50/p99/max before ${window.before.p50}/${window.before.p99}/${window.before.max} ms (${window.before.n}), during the loss window ${window.gap.p50}/${window.gap.p99}/${window.gap.max} ms (${window.gap.n}), after ${window.after.p50}/${window.after.p99}/${window.after.max} ms (${window.after.n})`,
      `  not queued, counted by the proxies: ${JSON.stringify(drops)}; workers dropped ${JSON.stringify(workerDrops)}; checks ${checks} = verdicts ${found}; lost without being counted ${books.lostUncounted}; counted as dropped yet analysed ${books.droppedButAnalysed}`,
    ].join('\n'),
  );
});
