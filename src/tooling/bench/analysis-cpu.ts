/**
 * CPU that the analysis side of `serve` spends per exchange, without the proxy or its load beside
 * it. The proxy's load makes an analysis thread's figures move with the machine; this runs it
 * alone:
 *
 *   npm run build && node dist/tooling/bench/analysis-cpu.js [--dir /tmp/other-build ...] [--exchanges 4000] [--rounds 3]
 *
 * Per build and round: a private redis-server; the build's own producer puts N exchanges of the
 * benchmark's shape (the grounded chat completion of `npm run bench`, as the proxy captures it)
 * on the queue; then the build's own worker, at the config's defaults, takes them until every one
 * has a verdict. The figures cover only that second part: CPU of this process (every thread, V8's
 * helpers included) and of redis-server per exchange, Redis commands and time inside them
 * (`INFO commandstats`). Builds run in turn, in reversed order every other round; medians are
 * printed. A build given with --dir must share this one's module layout (dist/queue/producer.js,
 * dist/worker/worker.js, dist/metrics/registry.js, dist/config/schema.js).
 */
import { spawn } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { parseArgs } from 'node:util';
import { Redis } from 'ioredis';
import { requestBody } from './harness.js';
import { freePort } from './targets.js';

const here = path.dirname(fileURLToPath(import.meta.url));
const repoRoot = path.resolve(here, '../../..');

interface Figures {
  cpuUs: number;
  redisCpuUs: number;
  commands: number;
  redisUs: number;
}

const answer = (i: number) =>
  JSON.stringify({
    id: `chatcmpl-${i}`,
    object: 'chat.completion',
    created: 1,
    model: 'bench-0ms',
    system_fingerprint: 'fp_bench',
    choices: [{ index: 0, message: { role: 'assistant', content: 'The Eiffel Tower is in Paris.', refusal: null }, logprobs: null, finish_reason: 'stop' }],
    usage: { prompt_tokens: 14, completion_tokens: 8, total_tokens: 22 },
  });

const cpuOf = (info: string) => Number(/used_cpu_sys:([\d.]+)/.exec(info)?.[1]) + Number(/used_cpu_user:([\d.]+)/.exec(info)?.[1]);

/** One round of one build, in a process of its own so that builds share no module or heap. */
async function measureBuild(root: string, n: number): Promise<Figures> {
  const dist = (p: string) => import(pathToFileURL(path.join(root, 'dist', p)).href);
  const [{ AnalysisProducer }, { startWorker }, { createMetrics }, { ConfigSchema }] = await Promise.all([
    dist('queue/producer.js'),
    dist('worker/worker.js'),
    dist('metrics/registry.js'),
    dist('config/schema.js'),
  ]);
  const port = await freePort();
  const server = spawn('redis-server', ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no'], { stdio: 'ignore' });
  const connect = async () => {
    const r = new Redis({ port, host: '127.0.0.1', maxRetriesPerRequest: null, retryStrategy: (k) => (k > 50 ? null : 100) });
    if (r.status !== 'ready') await new Promise((resolve) => r.once('ready', resolve));
    return r;
  };
  try {
    const config = ConfigSchema.parse({});
    const metrics = createMetrics(undefined, { processMetrics: false });
    const producerConnection = await connect();
    const producer = AnalysisProducer.fromConfig(producerConnection, metrics, config);
    const request = requestBody('json', 0, 0);
    const requestBytes = Buffer.byteLength(request);
    for (let i = 0; i < n; i++) {
      const now = Date.now();
      producer.submit({
        meta: { id: randomUUID(), provider: 'openai', route: 'chat.completions', upstream: 'openai', contentType: 'application/json', status: 200, aborted: false, startedAt: now, endedAt: now },
        body: Buffer.from(request + answer(i)),
        requestBytes,
      });
      // As a proxy hands them off: a batch at a time, never the whole backlog at once.
      if (i % 64 === 63) await new Promise((r) => setTimeout(r, 1));
    }
    await producer.close();
    const admin = await connect();
    await admin.config('RESETSTAT');
    const redis0 = cpuOf(await admin.info('cpu'));
    const cpu0 = process.cpuUsage();
    const client = await connect();
    const blocking = await connect();
    const worker = startWorker({ config, metrics, blocking, client, log: () => {} });
    const handled = async () => {
      const jobs = (await metrics.registry.getSingleMetric('veracity_worker_jobs_total')?.get()) as { values: Array<{ value: number }> } | undefined;
      return (jobs?.values ?? []).reduce((sum, v) => sum + v.value, 0);
    };
    const deadline = Date.now() + 10 * 60_000;
    while ((await handled()) < n) {
      if (Date.now() > deadline) throw new Error(`${root}: ${await handled()} of ${n} exchanges analysed in 10 minutes`);
      await new Promise((r) => setTimeout(r, 20));
    }
    const cpu = process.cpuUsage(cpu0);
    const redisCpu = cpuOf(await admin.info('cpu')) - redis0;
    const stats = [...(await admin.info('commandstats')).matchAll(/^cmdstat_([^:]+):calls=(\d+),usec=(\d+)/gm)].filter((m) => m[1] !== 'config' && m[1] !== 'info');
    await worker.close();
    for (const r of [client, blocking, admin, producerConnection]) r.disconnect();
    return {
      cpuUs: (cpu.user + cpu.system) / n,
      redisCpuUs: (redisCpu * 1e6) / n,
      commands: stats.reduce((sum, m) => sum + Number(m[2]), 0) / n,
      redisUs: stats.reduce((sum, m) => sum + Number(m[3]), 0) / n,
    };
  } finally {
    server.kill();
  }
}

function runChild(root: string, n: number): Promise<Figures> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [fileURLToPath(import.meta.url), '--child', root, '--exchanges', String(n)], { stdio: ['ignore', 'pipe', 'inherit'] });
    let out = '';
    child.stdout.on('data', (b: Buffer) => (out += b.toString()));
    child.on('exit', (code) => {
      try {
        if (code !== 0) throw new Error(`measuring ${root} exited with ${code}`);
        resolve(JSON.parse(out.trim().split('\n').at(-1)!) as Figures);
      } catch (e) {
        reject(e as Error);
      }
    });
  });
}

const median = (xs: number[]) => {
  const s = [...xs].sort((a, b) => a - b);
  return s.length % 2 ? s[(s.length - 1) / 2]! : (s[s.length / 2 - 1]! + s[s.length / 2]!) / 2;
};

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      dir: { type: 'string', multiple: true, default: [] },
      exchanges: { type: 'string', default: '4000' },
      rounds: { type: 'string', default: '3' },
      child: { type: 'string' },
    },
  });
  const n = Number(values.exchanges);
  if (values.child) {
    process.stdout.write(`${JSON.stringify(await measureBuild(values.child, n))}\n`);
    process.exit(0);
  }
  const builds = [repoRoot, ...values.dir.map((d) => path.resolve(d))];
  const results = new Map<string, Figures[]>(builds.map((b) => [b, []]));
  for (let round = 0; round < Number(values.rounds); round++) {
    for (const b of round % 2 ? [...builds].reverse() : builds) {
      const f = await runChild(b, n);
      results.get(b)!.push(f);
      process.stderr.write(`round ${round + 1} ${b}: ${f.cpuUs.toFixed(0)} µs CPU, redis ${f.redisCpuUs.toFixed(1)} µs, ${f.commands.toFixed(2)} commands per exchange\n`);
    }
  }
  console.log(`Analysis alone, ${n} exchanges per round, ${values.rounds} rounds (medians); load average at the end ${(await import('node:os')).loadavg().map((l) => l.toFixed(2)).join(' ')}\n`);
  console.log('| build | µs CPU per exchange (analysis process) | redis-server µs CPU per exchange | Redis commands per exchange | µs inside Redis commands |\n|---|---|---|---|---|');
  for (const [b, fs] of results) {
    const m = (k: keyof Figures) => median(fs.map((f) => f[k]));
    console.log(`| ${b === repoRoot ? 'this build' : b} | ${m('cpuUs').toFixed(0)} | ${m('redisCpuUs').toFixed(1)} | ${m('commands').toFixed(2)} | ${m('redisUs').toFixed(1)} |`);
  }
}

main().catch((e: unknown) => {
  process.stderr.write(`analysis-cpu failed: ${(e as Error).stack ?? String(e)}\n`);
  process.exit(1);
});
