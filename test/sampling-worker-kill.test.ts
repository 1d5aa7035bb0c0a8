import t from 'tap';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Redis } from 'ioredis';
import { freePort, startRedis, type TestRedis } from './helpers/redis.js';
import { startScriptedModel, type ScriptedModel } from './helpers/model.js';
import { metricSum, runCli, sleep, waitFor200, type CliProcess } from './helpers/processes.js';

// A worker is SIGKILLed while its sampling calls are in flight. Another worker takes the stalled
// jobs over: every exchange still ends with exactly one verdict (checked against samples), and
// no sampling or shadow call is paid twice except those the killed worker had in flight.

const SENT = 6;
const SAMPLING_KEY = 'sk-sampling-kill-test';
let redis: TestRedis;
let model: ScriptedModel;
const procs: CliProcess[] = [];

t.before(async () => {
  redis = await startRedis();
  model = await startScriptedModel((q) => `The answer to ${/Question (\d+)/.exec(q)?.[0] ?? 'it'} is that the Eiffel Tower was completed in 1889.`);
  // Sampling calls answer slowly, so the worker is killed while they are in flight.
  model.delay = (call) => (JSON.stringify(call.headers).includes(SAMPLING_KEY) ? 1500 : 0);
});

t.teardown(async () => {
  for (const p of procs) p.kill('SIGKILL');
  await Promise.all(procs.map((p) => p.exited));
  await model?.close();
  await redis?.stop();
});

t.test('kill -9 mid-sampling: one verdict per exchange, samples paid once beyond those in flight', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'veracity-sampling-kill-'));
  const file = join(dir, 'config.yaml');
  writeFileSync(
    file,
    [
      'worker:',
      '  concurrency: 4',
      '  lockDurationMs: 2000',
      '  stalledIntervalMs: 1000',
      'sampling:',
      '  enabled: true',
      '  rate: 1',
      '  samples: 2',
      '  timeoutMs: 3000',
      '  shadow:',
      '    - { upstream: anthropic, model: claude-kill }',
      '',
    ].join('\n'),
  );
  const [proxyPort, portA, portB] = [await freePort(), await freePort(), await freePort()];
  const env = {
    VERACITY_CONFIG: file,
    REDIS_URL: redis.url,
    VERACITY_OPENAI_UPSTREAM: model.url,
    VERACITY_ANTHROPIC_UPSTREAM: model.url,
    VERACITY_SAMPLING_OPENAI_KEY: SAMPLING_KEY,
    VERACITY_SAMPLING_ANTHROPIC_KEY: SAMPLING_KEY,
  };
  const proxy = runCli(['proxy'], { ...env, PORT: String(proxyPort) });
  const a = runCli(['worker'], { ...env, VERACITY_METRICS_PORT: String(portA) });
  procs.push(proxy, a);
  await waitFor200(`http://127.0.0.1:${proxyPort}/readyz`, 40_000).catch((err) => {
    throw new Error(`${err.message}\nproxy: ${proxy.stderr()}${proxy.stdout()}`);
  });
  await waitFor200(`http://127.0.0.1:${portA}/readyz`, 40_000);
  const client = new Redis(redis.url);
  t.teardown(() => client.disconnect());

  const ids: string[] = [];
  for (let i = 0; i < SENT; i++) {
    const res = await fetch(`http://127.0.0.1:${proxyPort}/v1/chat/completions`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: 'Bearer sk-client' },
      body: JSON.stringify({ model: 'gpt-kill', messages: [{ role: 'user', content: `Question ${i}: when was the Eiffel Tower completed?` }] }),
    });
    t.equal(res.status, 200);
    ids.push(res.headers.get('x-veracity-id')!);
    await res.arrayBuffer();
  }

  const sampling = () => model.calls.filter((c) => JSON.stringify(c.headers).includes(SAMPLING_KEY));
  for (let deadline = Date.now() + 15_000; model.inFlight() < 2 && Date.now() < deadline; ) await sleep(10);
  const killedAt = Date.now();
  a.kill('SIGKILL');
  t.equal((await a.exited).signal, 'SIGKILL');
  // In flight at the kill: calls unanswered then, counting those the worker had sent that reached
  // the model only after it (on a busy machine the model reads them late), and those answered in
  // the last 250 ms, whose answer the worker may not have read yet. No worker runs until B starts.
  await sleep(500);
  const inFlight = sampling().filter((c) => c.answeredAt === undefined || c.answeredAt > killedAt - 250).length;
  t.ok(inFlight >= 1, `worker A killed with ${inFlight} sampling calls in flight (${sampling().length} made so far)`);

  const b = runCli(['worker'], { ...env, VERACITY_METRICS_PORT: String(portB) });
  procs.push(b);
  await waitFor200(`http://127.0.0.1:${portB}/readyz`, 40_000);

  const deadline = Date.now() + 40_000;
  let found = 0;
  while (Date.now() < deadline) {
    found = await client.exists(...ids.map((id) => `veracity:verdict:${id}`));
    if (found === SENT) break;
    await sleep(200);
  }
  t.equal(found, SENT, 'every exchange has its verdict');
  for (const id of ids) {
    const v = JSON.parse((await client.get(`veracity:verdict:${id}`))!);
    t.equal(v.hallucination.method, 'samples', `${id} checked against its samples`);
  }
  const keys = await client.keys('veracity:verdict:*');
  const shadows = keys.filter((k) => k.includes('-shadow-'));
  t.equal(keys.length - shadows.length, SENT, 'no verdict beyond the exchanges sent');
  t.equal(shadows.length, SENT, 'one shadow verdict per exchange');

  // Each exchange needs two calls: one resample (n=2) and one shadow. A call is made again only
  // where the killed worker had it in flight.
  const perSlot = new Map<string, number>();
  for (const c of sampling()) {
    const key = `${/Question (\d+)/.exec(c.question)![1]} ${c.path}`;
    perSlot.set(key, (perSlot.get(key) ?? 0) + 1);
  }
  t.equal(perSlot.size, 2 * SENT, 'every call of every exchange was made');
  const twice = [...perSlot.values()].filter((n) => n === 2).length;
  t.ok([...perSlot.values()].every((n) => n <= 2), 'no call made more than twice');
  t.ok(twice <= inFlight, `${twice} calls made again, at most the ${inFlight} in flight at the kill`);
  t.comment(`sampling calls: ${sampling().length} for ${2 * SENT} needed, ${inFlight} in flight at the kill`);

  await sleep(1500);
  const textB = await (await fetch(`http://127.0.0.1:${portB}/metrics`)).text();
  t.ok(metricSum(textB, 'veracity_checks_total') <= SENT, 'checks not double-counted');
  t.equal(metricSum(textB, 'veracity_worker_jobs_total', 'result="failed"'), 0, 'no job failed');
  t.equal(await client.keys('veracity:samples:*').then((k) => k.length), 0, 'sampled answers deleted once their verdicts were stored');

  for (const p of [proxy, b]) p.kill('SIGTERM');
  const exits = await Promise.all([proxy.exited, b.exited]);
  t.same(exits.map((e) => e.code), [0, 0], 'proxy and surviving worker exit cleanly');
});
