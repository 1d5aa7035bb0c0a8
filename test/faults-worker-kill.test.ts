import t from 'tap';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Redis } from 'ioredis';
import { freePort, startRedis, type TestRedis } from './helpers/redis.js';
import { chatCompletion, startUpstream, type FakeUpstream } from './helpers/upstream.js';
import { metricSum, runCli, sleep, waitFor200, type CliProcess } from './helpers/processes.js';

// A worker is SIGKILLed while it holds jobs. BullMQ's at-least-once delivery hands its stalled
// jobs to the surviving worker; the verdict store's set-if-absent and "count only what you
// stored" turn that into exactly-once effects:
//   - every exchange sent ends with exactly one verdict (one key per id, none missing);
//   - no job is left waiting, active or failed;
//   - veracity_checks_total is never double-counted: summed over the survivor and the last value
//     the killed worker reported, it is at most the number sent. The killed worker's final count
//     died with it, so the sum may fall short by what it stored after its last scrape — at most
//     the jobs it held, which the test bounds.

const CONCURRENCY = 4;
const SENT = 40;
const prefix = 'veracity';

let redis: TestRedis;
let upstream: FakeUpstream;
const procs: CliProcess[] = [];

t.before(async () => {
  redis = await startRedis();
  upstream = await startUpstream();
  // A long answer of many checkable claims, so each analysis takes a noticeable time and jobs
  // are in flight when the worker dies.
  const answer = Array.from({ length: 2000 }, (_, i) => `Tower ${i} in Paris was completed in ${1800 + (i % 200)} by engineer number ${i}.`).join(' ');
  upstream.handler = (_req, res, body) => {
    const model = (JSON.parse(body.toString()) as { model: string }).model;
    res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify(chatCompletion(model, answer)));
  };
});

t.teardown(async () => {
  for (const p of procs) p.kill('SIGKILL');
  await Promise.all(procs.map((p) => p.exited));
  await upstream?.close();
  await redis?.stop();
});

async function locks(client: Redis): Promise<Map<string, string>> {
  const out = new Map<string, string>();
  let cursor = '0';
  do {
    const [next, keys] = await client.scan(cursor, 'MATCH', `${prefix}:exchanges:*:lock`, 'COUNT', 1000);
    cursor = next;
    for (const key of keys) {
      const token = await client.get(key);
      if (token) out.set(key.slice(`${prefix}:exchanges:`.length, -':lock'.length), token);
    }
  } while (cursor !== '0');
  return out;
}
const workerOf = (token: string) => token.slice(0, token.lastIndexOf(':'));

t.test('kill -9 of a worker mid-batch: one verdict per exchange, checks never double-counted', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'veracity-kill-'));
  const file = join(dir, 'config.yaml');
  writeFileSync(
    file,
    [
      'worker:',
      `  concurrency: ${CONCURRENCY}`,
      '  lockDurationMs: 2000',
      '  stalledIntervalMs: 1000',
      'detect:',
      '  maxResponseChars: 250000',
      '',
    ].join('\n'),
  );
  const [proxyPort, portA, portB] = [await freePort(), await freePort(), await freePort()];
  const env = { VERACITY_CONFIG: file, REDIS_URL: redis.url, VERACITY_OPENAI_UPSTREAM: upstream.url, VERACITY_ANTHROPIC_UPSTREAM: upstream.url };
  const proxy = runCli(['proxy'], { ...env, PORT: String(proxyPort) });
  const a = runCli(['worker'], { ...env, VERACITY_METRICS_PORT: String(portA) });
  procs.push(proxy, a);
  await waitFor200(`http://127.0.0.1:${proxyPort}/readyz`, 15_000);
  await waitFor200(`http://127.0.0.1:${portA}/readyz`, 15_000);

  const client = new Redis(redis.url);
  t.teardown(() => client.disconnect());

  // A steady stream of exchanges, faster than two workers analyse them, so a backlog builds.
  const ids: string[] = [];
  const statuses: number[] = [];
  const load = (async () => {
    for (let i = 0; i < SENT; i++) {
      const res = await fetch(`http://127.0.0.1:${proxyPort}/v1/chat/completions`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ model: `gpt-kill`, messages: [{ role: 'system', content: 'Context: The Eiffel Tower in Paris was completed in 1889.' }, { role: 'user', content: `Question ${i}?` }] }),
      });
      await res.arrayBuffer();
      statuses.push(res.status);
      ids.push(res.headers.get('x-veracity-id')!);
      await sleep(25);
    }
  })();

  // Learn worker A's token prefix while it is the only worker, then start B.
  let prefixA = '';
  for (let deadline = Date.now() + 10_000; !prefixA && Date.now() < deadline; await sleep(20)) {
    const held = [...(await locks(client)).values()];
    if (held.length) prefixA = workerOf(held[0]!);
  }
  t.ok(prefixA, 'worker A took jobs');
  const b = runCli(['worker'], { ...env, VERACITY_METRICS_PORT: String(portB) });
  procs.push(b);
  await waitFor200(`http://127.0.0.1:${portB}/readyz`, 15_000);

  // Scrape A continuously: its last answer before death is what it had reported.
  let lastA = '';
  let scraping = true;
  const scraper = (async () => {
    while (scraping) {
      try {
        lastA = await (await fetch(`http://127.0.0.1:${portA}/metrics`)).text();
      } catch {}
      await sleep(30);
    }
  })();

  // Kill A while it holds jobs and B is working too.
  let heldByA: string[] = [];
  for (let deadline = Date.now() + 15_000; Date.now() < deadline; await sleep(10)) {
    const held = await locks(client);
    const mine = [...held].filter(([, tok]) => workerOf(tok) === prefixA).map(([id]) => id);
    const others = [...held.values()].filter((tok) => workerOf(tok) !== prefixA);
    if (mine.length >= 1 && others.length >= 1 && lastA) {
      heldByA = mine;
      break;
    }
  }
  a.kill('SIGKILL');
  scraping = false;
  await scraper;
  t.ok(heldByA.length >= 1, `worker A killed holding ${heldByA.length} active jobs (${heldByA.join(', ')})`);
  t.equal((await a.exited).signal, 'SIGKILL');
  const checksA = metricSum(lastA, 'veracity_checks_total');

  await load;
  t.same(statuses, Array(SENT).fill(200), 'every client request answered 200');
  t.equal(new Set(ids).size, SENT, 'distinct exchange ids');

  // Everything sent ends with a verdict, including the jobs A died holding.
  const deadline = Date.now() + 40_000;
  let found = 0;
  while (Date.now() < deadline) {
    found = await client.exists(...ids.map((id) => `${prefix}:verdict:${id}`));
    if (found === SENT) break;
    await sleep(200);
  }
  t.equal(found, SENT, `a verdict for each of the ${SENT} exchanges`);
  const verdictKeys: string[] = [];
  let cursor = '0';
  do {
    const [next, keys] = await client.scan(cursor, 'MATCH', `${prefix}:verdict:*`, 'COUNT', 1000);
    cursor = next;
    verdictKeys.push(...keys);
  } while (cursor !== '0');
  t.equal(verdictKeys.length, SENT, 'and no verdict beyond them');
  for (const id of heldByA) t.equal(await client.exists(`${prefix}:verdict:${id}`), 1, `job ${id}, held by the killed worker, has its verdict`);

  await sleep(2500); // let B's queue-depth poll and acknowledgements settle
  const counts = await Promise.all(['wait', 'active', 'failed'].map((s) => (s === 'failed' ? client.zcard(`${prefix}:exchanges:failed`) : client.llen(`${prefix}:exchanges:${s}`))));
  t.same(counts, [0, 0, 0], 'nothing left waiting, active or failed');

  const textB = await (await fetch(`http://127.0.0.1:${portB}/metrics`)).text();
  const checksB = metricSum(textB, 'veracity_checks_total');
  const duplicatesB = metricSum(textB, 'veracity_worker_jobs_total', 'result="duplicate"');
  t.comment(`sent ${SENT}; checks: A ${checksA} (last scrape) + B ${checksB} = ${checksA + checksB}; B saw ${duplicatesB} duplicate job(s)`);
  t.ok(checksA + checksB <= SENT, `checks not double-counted: ${checksA} + ${checksB} <= ${SENT}`);
  t.ok(SENT - (checksA + checksB) <= heldByA.length + CONCURRENCY, `short by at most what A could store after its last scrape (${SENT - checksA - checksB})`);
  t.ok(checksB > 0, 'the survivor took over');
  t.equal(metricSum(textB, 'veracity_worker_jobs_total', 'result="failed"'), 0, 'no job failed');

  for (const p of [proxy, b]) p.kill('SIGTERM');
  const exits = await Promise.all([proxy.exited, b.exited]);
  t.same(exits.map((e) => e.code), [0, 0], 'proxy and surviving worker exit cleanly');
});
