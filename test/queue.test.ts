import { Queue } from 'bullmq';
import t from 'tap';
import type { RawExchange } from '../src/capture/raw.js';
import { ConfigSchema } from '../src/config/schema.js';
import { createMetrics } from '../src/metrics/registry.js';
import { MAX_BATCH, MAX_BATCH_BYTES, type Captured } from '../src/queue/batch.js';
import { CaptureBuffer, pooledSlabs } from '../src/proxy/capture-buffer.js';
import { JOB_NAME, QUEUE_NAME } from '../src/queue/names.js';
import { AnalysisProducer } from '../src/queue/producer.js';
import { createBlockingRedis, createFastFailRedis } from '../src/redis/connection.js';
import { startWorker } from '../src/worker/worker.js';
import { sleep } from './helpers/processes.js';
import { startRedisWithClient } from './helpers/redis.js';
import { chatCompletion } from './helpers/upstream.js';

// The hand-off from proxy to worker: exchanges ending together share one BullMQ job, their bytes
// travel as one binary string beside it, and the worker turns every one into a verdict, counts what
// it cannot, and leaves nothing behind in Redis.

const CONTEXT =
  'Answer from the context.\n\nContext:\nThe Eiffel Tower is a wrought-iron lattice tower on the Champ de Mars in Paris, France. It was completed in 1889 for the World Fair.';

function rawExchange(id: string, answer = 'The Eiffel Tower is in Rome. It was completed in 1925.'): RawExchange {
  return {
    id,
    provider: 'openai',
    route: 'chat.completions',
    request: JSON.stringify({ model: 'gpt-q', messages: [{ role: 'system', content: CONTEXT }, { role: 'user', content: 'Where?' }] }),
    response: JSON.stringify(chatCompletion('gpt-q', answer)),
    contentType: 'application/json',
    status: 200,
    aborted: false,
    startedAt: Date.now() - 30,
    endedAt: Date.now() - 5,
  };
}

function captured(raw: RawExchange, padding = 0): Captured {
  const { request, response, ...meta } = raw;
  const req = Buffer.from(padding ? request.replace('Where?', `Where?${' '.repeat(padding)}`) : request);
  return { meta, body: Buffer.concat([req, Buffer.from(response)]), requestBytes: req.length };
}

async function value(metrics: ReturnType<typeof createMetrics>, name: string, labels: Record<string, string> = {}): Promise<number> {
  const m = (await metrics.registry.getMetricsAsJSON()).find((x) => x.name === name);
  return (m?.values ?? [])
    .filter((v) => (v.metricName === undefined || v.metricName === name) && Object.entries(labels).every(([k, l]) => v.labels[k] === l))
    .reduce((s, v) => s + v.value, 0);
}

async function setup(t: Parameters<Parameters<typeof t.test>[1]>[0], batchWindowMs = 50, capture: Record<string, unknown> = {}) {
  const { redis, client } = await startRedisWithClient(t);
  const config = ConfigSchema.parse({ capture: { batchWindowMs, ...capture } });
  const proxyMetrics = createMetrics(undefined, { processMetrics: false });
  const producerConn = createFastFailRedis({ url: redis.url }, 'test-producer');
  await new Promise((r) => producerConn.once('ready', r));
  const producer = AnalysisProducer.fromConfig(producerConn, proxyMetrics, config);
  t.teardown(async () => {
    await producer.close();
    producerConn.disconnect();
  });
  const startAnalysis = () => {
    const metrics = createMetrics(undefined, { processMetrics: false });
    const workerClient = createFastFailRedis({ url: redis.url }, 'test-worker');
    const blocking = createBlockingRedis({ url: redis.url }, 'test-worker-blocking');
    const worker = startWorker({ config, metrics, blocking, client: workerClient, log: () => {} });
    t.teardown(async () => {
      await worker.close(true);
      workerClient.disconnect();
      blocking.disconnect();
    });
    return metrics;
  };
  const waitFor = async (what: () => Promise<boolean>, label: string, ms = 20_000) => {
    const deadline = Date.now() + ms;
    while (!(await what())) {
      if (Date.now() > deadline) throw new Error(`timed out waiting for ${label}`);
      await sleep(20);
    }
  };
  return { redis, client, config, producer, proxyMetrics, startAnalysis, waitFor };
}

t.test('exchanges ending within the batch window share one job; every one gets a verdict and nothing is left behind', async (t) => {
  const { client, producer, proxyMetrics, startAnalysis, waitFor } = await setup(t);
  const ids = Array.from({ length: 10 }, (_, i) => `batch-${i}`);
  for (const id of ids) producer.submit(captured(rawExchange(id)));
  await waitFor(async () => (await value(proxyMetrics, 'veracity_analysis_enqueued_total')) === ids.length, 'enqueue');

  t.equal(await client.llen('veracity:exchanges:wait'), 1, 'one job for the ten exchanges');
  const data = JSON.parse((await client.hget('veracity:exchanges:batch-0', 'data'))!);
  t.equal(data.exchanges.length, 10, 'the job lists all ten');
  t.notMatch(JSON.stringify(data), /Eiffel|Rome/, 'the job data carries metadata, not the bodies');
  t.same(await client.keys('veracity:body:*'), ['veracity:body:batch-0'], "the batch's bytes are one binary string, named like its job");
  const stored = (await client.getBuffer('veracity:body:batch-0'))!;
  t.ok(stored.equals(Buffer.concat(ids.map((id) => captured(rawExchange(id)).body))), 'holding each exchange in turn, byte for byte');
  t.same(
    data.exchanges.map((e: { offset: number; bytes: number }) => [e.offset, e.bytes]),
    ids.map((id, i) => {
      const n = captured(rawExchange(id)).body.length;
      return [i * n, n];
    }),
    'the job says where each one is',
  );
  const ttl = await client.pttl('veracity:body:batch-0');
  t.ok(ttl > 0, `the bytes expire if never analysed (pttl ${ttl})`);

  const metrics = startAnalysis();
  await waitFor(async () => (await client.exists(...ids.map((id) => `veracity:verdict:${id}`))) === ids.length, 'verdicts');
  const verdict = JSON.parse((await client.get('veracity:verdict:batch-7'))!);
  t.equal(verdict.hallucination.flagged, true, 'the wrong city and year are flagged');
  await waitFor(async () => (await value(metrics, 'veracity_worker_jobs_total', { result: 'stored' })) === ids.length, 'job counts');
  t.equal(await value(metrics, 'veracity_checks_total'), ids.length, 'counted once each');
  const wait = (await metrics.registry.getMetricsAsJSON()).find((m) => m.name === 'veracity_queue_wait_seconds')!;
  t.equal(wait.values.find((v) => v.metricName === 'veracity_queue_wait_seconds_count')?.value, ids.length, 'queue wait observed per exchange');
  await waitFor(async () => (await client.keys('veracity:body:*')).length === 0, 'bodies freed');
  t.pass('bodies are deleted once the batch is analysed');
});

t.test('a batch closes at 1 MiB of captured bytes; a larger exchange travels alone', async (t) => {
  const { client, producer, proxyMetrics, waitFor } = await setup(t, 1000);
  const third = Math.ceil(MAX_BATCH_BYTES / 3);
  producer.submit(captured(rawExchange('big-0'), third));
  producer.submit(captured(rawExchange('big-1'), third));
  producer.submit(captured(rawExchange('big-2'), third)); // would pass 1 MiB: starts a new batch
  producer.submit(captured(rawExchange('big-3'), MAX_BATCH_BYTES * 2)); // alone, at once
  producer.submit(captured(rawExchange('big-4'))); // waits for the 1 s window
  await waitFor(async () => (await value(proxyMetrics, 'veracity_analysis_enqueued_total')) === 4, 'the full batches');
  t.same((await client.lrange('veracity:exchanges:wait', 0, -1)).sort(), ['big-0', 'big-2', 'big-3'], 'three jobs sent before the window ended');
  const sizes = await Promise.all(['big-0', 'big-2', 'big-3'].map(async (id) => JSON.parse((await client.hget(`veracity:exchanges:${id}`, 'data'))!).exchanges.length));
  t.same(sizes, [2, 1, 1], 'two exchanges, then one, then the large one alone');
  await producer.close();
  t.equal(await value(proxyMetrics, 'veracity_analysis_enqueued_total'), 5, 'close sends what is left');
  t.equal(await client.llen('veracity:exchanges:wait'), 4);
});

t.test('a batch whose bytes expired is counted as lost, exchange by exchange; the job does not fail', async (t) => {
  const { client, producer, proxyMetrics, startAnalysis, waitFor } = await setup(t);
  producer.submit(captured(rawExchange('gone-0')));
  producer.submit(captured(rawExchange('gone-1')));
  await waitFor(async () => (await value(proxyMetrics, 'veracity_analysis_enqueued_total')) === 2, 'enqueue');
  await client.del('veracity:body:gone-0');

  const metrics = startAnalysis();
  await waitFor(async () => (await value(metrics, 'veracity_analysis_dropped_total', { reason: 'expired' })) === 2, 'both counted');
  t.equal(await client.exists('veracity:verdict:gone-0', 'veracity:verdict:gone-1'), 0, 'no verdict made from missing bytes');
  t.equal(await value(metrics, 'veracity_worker_jobs_total', { result: 'expired' }), 2);
  t.equal(await value(metrics, 'veracity_worker_jobs_total', { result: 'failed' }), 0, 'the job itself does not fail');
});

t.test('a job from older proxies, with a string per exchange, is analysed; one missing string loses only its exchange', async (t) => {
  const { client, startAnalysis, waitFor } = await setup(t);
  const exchanges = ['old-0', 'old-1'].map((id) => {
    const c = captured(rawExchange(id));
    return { c, queued: { ...c.meta, body: `veracity:body:${id}`, requestBytes: c.requestBytes } };
  });
  await client.set('veracity:body:old-0', exchanges[0]!.c.body);
  const queue = new Queue(QUEUE_NAME, { connection: client, prefix: 'veracity' });
  await queue.add(JOB_NAME, { exchanges: exchanges.map((e) => e.queued) }, { jobId: 'old-0', removeOnComplete: true });
  const metrics = startAnalysis();
  await waitFor(async () => (await client.exists('veracity:verdict:old-0')) === 1, 'the verdict of the one with bytes');
  await waitFor(async () => (await value(metrics, 'veracity_analysis_dropped_total', { reason: 'expired' })) === 1, 'the other counted');
  t.equal(await client.exists('veracity:verdict:old-1'), 0);
  await waitFor(async () => (await client.exists('veracity:body:old-0')) === 0, 'its string freed');
  await queue.close();
});

t.test('a job holding one exchange inline (older proxies) is still analysed', async (t) => {
  const { client, startAnalysis, waitFor } = await setup(t);
  const queue = new Queue(QUEUE_NAME, { connection: client, prefix: 'veracity' });
  await queue.add(JOB_NAME, rawExchange('inline-1'), { jobId: 'inline-1', removeOnComplete: true });
  const metrics = startAnalysis();
  await waitFor(async () => (await client.exists('veracity:verdict:inline-1')) === 1, 'verdict');
  await waitFor(async () => (await value(metrics, 'veracity_worker_jobs_total', { result: 'stored' })) === 1, 'job count');
  t.equal(await value(metrics, 'veracity_checks_total'), 1);
  await queue.close();
});

t.test('with Redis unreachable, exchanges are dropped and counted at once', async (t) => {
  const { redis, producer, proxyMetrics } = await setup(t);
  await redis.stop();
  await sleep(100);
  producer.submit(captured(rawExchange('down-1')));
  t.equal(await value(proxyMetrics, 'veracity_analysis_dropped_total', { reason: 'redis_unavailable' }), 1);
});

t.test('an exchange larger than the whole hand-off budget is dropped as too_large; smaller ones still go', async (t) => {
  const { client, producer, proxyMetrics, waitFor } = await setup(t, 0, { maxInFlightEnqueueBytes: 4096 });
  producer.submit(captured(rawExchange('huge-1'), 5000));
  producer.submit(captured(rawExchange('small-1')));
  t.equal(await value(proxyMetrics, 'veracity_analysis_dropped_total', { reason: 'too_large' }), 1, 'counted at once');
  t.equal(await value(proxyMetrics, 'veracity_analysis_dropped_total', { reason: 'backpressure' }), 0, 'not mistaken for backpressure');
  await waitFor(async () => (await value(proxyMetrics, 'veracity_analysis_enqueued_total')) === 1, 'the small one');
  t.same(await client.lrange('veracity:exchanges:wait', 0, -1), ['small-1']);
});

t.test('bytes held in captures are copied straight into the batch, and the shared assembly buffer is reused safely', async (t) => {
  const { client, producer, proxyMetrics, waitFor } = await setup(t, 1000);
  // Two full batches flushed in the same turn: the second is assembled in the buffer the first
  // was just sent from, so the first must already have been copied out of it.
  const ids = Array.from({ length: 2 * MAX_BATCH }, (_, i) => `held-${i}`);
  const expected = new Map<string, Buffer>();
  const before = pooledSlabs();
  for (const id of ids) {
    const c = captured(rawExchange(id, `Answer number ${id}. `.repeat(1 + (id.length % 7))));
    const held = new CaptureBuffer((c.body as Buffer).subarray(0, c.requestBytes), 1 << 20);
    held.append((c.body as Buffer).subarray(c.requestBytes));
    expected.set(id, c.body as Buffer);
    producer.submit({ ...c, body: held });
  }
  t.ok(pooledSlabs() >= before, "the captures' slabs went back to the pool once copied");
  await waitFor(async () => (await value(proxyMetrics, 'veracity_analysis_enqueued_total')) === ids.length, 'enqueue');
  for (const first of ['held-0', `held-${MAX_BATCH}`]) {
    const stored = (await client.getBuffer(`veracity:body:${first}`))!;
    const data = JSON.parse((await client.hget(`veracity:exchanges:${first}`, 'data'))!);
    t.equal(data.exchanges.length, MAX_BATCH);
    const wrong = data.exchanges.filter((e: { id: string; offset: number; bytes: number }) => !stored.subarray(e.offset, e.offset + e.bytes).equals(expected.get(e.id)!));
    t.same(wrong.map((e: { id: string }) => e.id), [], `every exchange of the batch starting at ${first} is intact`);
  }
});

t.test('a capture refused at the door gives its slabs back', async (t) => {
  const { redis, producer, proxyMetrics } = await setup(t);
  await redis.stop();
  await sleep(100);
  const held = new CaptureBuffer(Buffer.from('{"model":"m"}'), 1 << 20);
  held.append(Buffer.alloc(40_000, 'x'));
  const before = pooledSlabs();
  producer.submit({ ...captured(rawExchange('refused-1')), body: held });
  t.equal(await value(proxyMetrics, 'veracity_analysis_dropped_total', { reason: 'redis_unavailable' }), 1);
  t.equal(pooledSlabs(), Math.min(512, before + 3), 'its three slabs are back in the pool');
});
