// Soak test: runs `veracity serve` (or `proxy` + `worker`) as a child process against a loopback
// fake upstream speaking both dialects, at a steady open-loop rate of mixed JSON and streamed
// requests, for a fixed time, and checks that nothing leaks or drifts:
//
//   npm run build && node dist/tooling/bench/soak.js                 # 10 minutes, 50 requests/s, serve
//   node dist/tooling/bench/soak.js --minutes 2 --rps 50 --split     # proxy + worker as two processes
//
// Every --sample-s seconds (10) it reads the proxy's /metrics: resident memory
// (veracity_process_resident_memory_bytes: prom-client's name under the registry's
// prefix) and event-loop lag (veracity_nodejs_eventloop_lag_*,
// which prom-client resets at each scrape, so each sample covers the interval since the last).
// At the end it prints a table and exits non-zero unless:
//   - no client saw an error (status, broken stream, truncated body, connection error);
//   - requests sent == veracity_checks_total == verdicts found in Redis, and nothing was dropped;
//   - RSS is flat: last-quarter mean within 20 % (or 16 MiB) of the second-quarter mean;
//   - event-loop lag is flat: last-quarter mean p99 within 20 % (or 5 ms) of the second quarter's.
// Needs redis-server on PATH (Debian's redis-server package); sends traffic to 127.0.0.1 only.
import { spawn, type ChildProcess } from 'node:child_process';
import { NODE_FLAGS } from '../../node-flags.js';
import { freePort } from './targets.js';
import http from 'node:http';
import { resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { Redis } from 'ioredis';

const CLI = resolve(import.meta.dirname, '..', '..', 'cli.js');
const ANSWER = 'The Eiffel Tower is in Paris. It was completed in 1889 for the World Fair. It is about 330 metres tall.';
const CONTEXT =
  'The Eiffel Tower is a wrought-iron lattice tower on the Champ de Mars in Paris, France. It was designed by the company of Gustave Eiffel and completed in 1889 for the World Fair. It is 330 metres tall.';

interface Options {
  minutes: number;
  rps: number;
  sampleS: number;
  split: boolean;
}

function options(argv: string[]): Options {
  const { values } = parseArgs({
    args: argv,
    options: {
      minutes: { type: 'string', default: '10' },
      rps: { type: 'string', default: '50' },
      'sample-s': { type: 'string', default: '10' },
      split: { type: 'boolean', default: false },
    },
  });
  const num = (name: string, v: string | undefined) => {
    const n = Number(v);
    if (!Number.isFinite(n) || n <= 0) throw new Error(`--${name} must be a positive number, got ${v}`);
    return n;
  };
  return { minutes: num('minutes', values.minutes), rps: num('rps', values.rps), sampleS: num('sample-s', values['sample-s']), split: values.split ?? false };
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

// ---- the fake upstream: OpenAI chat completions and Anthropic messages, JSON and streamed ----

function openaiChunks(model: string): string[] {
  const base = { id: 'chatcmpl-soak', object: 'chat.completion.chunk', created: 1700000000, model };
  const pieces = ANSWER.match(/.{1,12}/gs) ?? [];
  return [
    { ...base, choices: [{ index: 0, delta: { role: 'assistant', content: '' }, finish_reason: null }] },
    ...pieces.map((p) => ({ ...base, choices: [{ index: 0, delta: { content: p }, finish_reason: null }] })),
    { ...base, choices: [{ index: 0, delta: {}, finish_reason: 'stop' }] },
  ]
    .map((e) => `data: ${JSON.stringify(e)}\n\n`)
    .concat('data: [DONE]\n\n');
}

function anthropicEvents(model: string): string[] {
  const ev = (type: string, data: object) => `event: ${type}\ndata: ${JSON.stringify({ type, ...data })}\n\n`;
  const pieces = ANSWER.match(/.{1,12}/gs) ?? [];
  return [
    ev('message_start', { message: { id: 'msg_soak', type: 'message', role: 'assistant', model, content: [], stop_reason: null, usage: { input_tokens: 40, output_tokens: 1 } } }),
    ev('content_block_start', { index: 0, content_block: { type: 'text', text: '' } }),
    ...pieces.map((p) => ev('content_block_delta', { index: 0, delta: { type: 'text_delta', text: p } })),
    ev('content_block_stop', { index: 0 }),
    ev('message_delta', { delta: { stop_reason: 'end_turn' }, usage: { output_tokens: 25 } }),
    ev('message_stop', {}),
  ];
}

function startUpstream(port: number): Promise<http.Server> {
  const server = http.createServer((req, res) => {
    const parts: Buffer[] = [];
    req.on('data', (b: Buffer) => parts.push(b));
    req.on('end', () => {
      let json: { model?: string; stream?: boolean } = {};
      try {
        json = JSON.parse(Buffer.concat(parts).toString('utf8'));
      } catch {}
      const model = json.model ?? 'unknown';
      const anthropic = req.url === '/v1/messages';
      if (json.stream) {
        res.writeHead(200, { 'content-type': 'text/event-stream; charset=utf-8', 'cache-control': 'no-cache' });
        const events = anthropic ? anthropicEvents(model) : openaiChunks(model);
        let i = 0;
        // A few milliseconds between events, as a model streams.
        const next = () => {
          if (res.destroyed) return;
          if (i >= events.length) return void res.end();
          res.write(events[i++]);
          setTimeout(next, 2);
        };
        return next();
      }
      const body = anthropic
        ? { id: 'msg_soak', type: 'message', role: 'assistant', model, content: [{ type: 'text', text: ANSWER }], stop_reason: 'end_turn', usage: { input_tokens: 40, output_tokens: 25 } }
        : { id: 'chatcmpl-soak', object: 'chat.completion', created: 1700000000, model, choices: [{ index: 0, message: { role: 'assistant', content: ANSWER }, finish_reason: 'stop' }], usage: { prompt_tokens: 40, completion_tokens: 25, total_tokens: 65 } };
      res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify(body));
    });
  });
  return new Promise((r) => server.listen(port, '127.0.0.1', () => r(server)));
}

// ---- processes ----

function launch(cmd: string, args: string[], env: NodeJS.ProcessEnv, name: string): ChildProcess {
  const child = spawn(cmd, args, { env: { ...process.env, ...env }, stdio: ['ignore', 'ignore', 'pipe'] });
  let tail = '';
  child.stderr!.on('data', (d) => (tail = (tail + d).slice(-4000)));
  child.once('exit', (code, signal) => {
    if (!stopping) console.error(`${name} exited early (code ${code}, signal ${signal})\n${tail}`);
  });
  return child;
}

async function waitUntil(what: string, ms: number, probe: () => Promise<boolean>): Promise<void> {
  const deadline = Date.now() + ms;
  for (;;) {
    try {
      if (await probe()) return;
    } catch {}
    if (Date.now() > deadline) throw new Error(`${what} not ready within ${ms} ms`);
    await sleep(100);
  }
}

let stopping = false;
const children: ChildProcess[] = [];

function killChildren(): void {
  stopping = true;
  for (const c of children) if (c.exitCode === null && c.signalCode === null) c.kill('SIGKILL');
}

// ---- load ----

interface Shot {
  path: string;
  headers: Record<string, string>;
  body: string;
  stream: boolean;
  dialect: 'openai' | 'anthropic';
}

const SHOTS: Shot[] = (['openai', 'anthropic'] as const).flatMap((dialect) =>
  [false, true].map((stream) => ({
    dialect,
    stream,
    path: dialect === 'openai' ? '/v1/chat/completions' : '/v1/messages',
    headers: { 'content-type': 'application/json', authorization: 'Bearer sk-soak', ...(dialect === 'anthropic' ? { 'anthropic-version': '2023-06-01' } : {}) },
    body: JSON.stringify(
      dialect === 'openai'
        ? { model: `soak-${dialect}`, stream, messages: [{ role: 'system', content: `Answer from the context.\n\nContext:\n${CONTEXT}` }, { role: 'user', content: 'Where and when was the Eiffel Tower built?' }] }
        : { model: `soak-${dialect}`, stream, max_tokens: 200, system: `Answer from the context.\n\nContext:\n${CONTEXT}`, messages: [{ role: 'user', content: 'Where and when was the Eiffel Tower built?' }] },
    ),
  })),
);

const agent = new http.Agent({ keepAlive: true, maxSockets: 256 });

function shoot(port: number, shot: Shot): Promise<{ ok: boolean; id?: string; ms: number; error?: string }> {
  const t0 = performance.now();
  return new Promise((done) => {
    const req = http.request({ host: '127.0.0.1', port, method: 'POST', path: shot.path, headers: shot.headers, agent }, (res) => {
      const parts: Buffer[] = [];
      res.on('data', (d: Buffer) => parts.push(d));
      res.on('error', (e) => done({ ok: false, ms: performance.now() - t0, error: e.message }));
      res.on('end', () => {
        const text = Buffer.concat(parts).toString('utf8');
        const complete = shot.stream ? (shot.dialect === 'openai' ? text.endsWith('data: [DONE]\n\n') : text.includes('event: message_stop')) : text.includes(ANSWER);
        const id = res.headers['x-veracity-id'] as string | undefined;
        const ok = res.statusCode === 200 && complete && id !== undefined;
        done({ ok, id, ms: performance.now() - t0, error: ok ? undefined : `status ${res.statusCode}${complete ? '' : ', incomplete body'}` });
      });
    });
    req.on('error', (e) => done({ ok: false, ms: performance.now() - t0, error: e.message }));
    req.end(shot.body);
  });
}

// ---- metrics ----

function sample(text: string, name: string): number | undefined {
  const line = text.split('\n').find((l) => l.startsWith(name + ' ') || l.startsWith(name + '{'));
  return line === undefined ? undefined : Number(line.slice(line.lastIndexOf(' ') + 1));
}

function sum(text: string, name: string, match = ''): number {
  let total = 0;
  for (const l of text.split('\n')) if ((l.startsWith(name + ' ') || l.startsWith(name + '{')) && l.includes(match)) total += Number(l.slice(l.lastIndexOf(' ') + 1));
  return total;
}

/** prom-client's process_resident_memory_bytes under the registry's `veracity_process_` prefix. */
function rss(text: string): number {
  const bytes = sample(text, 'veracity_process_resident_memory_bytes');
  return (bytes ?? NaN) / 2 ** 20;
}

interface Row {
  t: number;
  sent: number;
  errors: number;
  rssMiB: number;
  workerRssMiB?: number;
  lagMeanMs: number;
  lagP99Ms: number;
  lagMaxMs: number;
  p50Ms: number;
  p99Ms: number;
}

const pct = (xs: number[], q: number) => {
  if (xs.length === 0) return 0;
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.floor(q * s.length))]!;
};
const mean = (xs: number[]) => (xs.length ? xs.reduce((a, b) => a + b, 0) / xs.length : 0);

async function main(): Promise<number> {
  const opts = options(process.argv.slice(2));
  const [redisPort, upstreamPort, proxyPort, workerPort] = await Promise.all([freePort(), freePort(), freePort(), freePort()]);
  process.once('SIGINT', () => {
    killChildren();
    process.exit(130);
  });

  const redisChild = launch('redis-server', ['--port', String(redisPort), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no'], {}, 'redis-server');
  children.push(redisChild);
  const redis = new Redis({ port: redisPort, host: '127.0.0.1', maxRetriesPerRequest: 1, retryStrategy: () => 100 });
  redis.on('error', () => {});
  await waitUntil('redis-server', 5000, async () => (await redis.ping()) === 'PONG');
  const upstream = await startUpstream(upstreamPort);

  const env = {
    REDIS_URL: `redis://127.0.0.1:${redisPort}`,
    VERACITY_OPENAI_UPSTREAM: `http://127.0.0.1:${upstreamPort}`,
    VERACITY_ANTHROPIC_UPSTREAM: `http://127.0.0.1:${upstreamPort}`,
    PORT: String(proxyPort),
    VERACITY_METRICS_PORT: String(workerPort),
    VERACITY_LOG_LEVEL: 'warn',
  };
  if (opts.split) {
    children.push(launch(process.execPath, [...NODE_FLAGS, CLI, 'proxy'], env, 'veracity proxy'));
    children.push(launch(process.execPath, [...NODE_FLAGS, CLI, 'worker'], env, 'veracity worker'));
  } else {
    children.push(launch(process.execPath, [...NODE_FLAGS, CLI, 'serve'], env, 'veracity serve'));
  }
  const base = `http://127.0.0.1:${proxyPort}`;
  const workerBase = opts.split ? `http://127.0.0.1:${workerPort}` : base;
  await waitUntil('veracity', 20_000, async () => (await fetch(`${base}/readyz`)).status === 200);
  if (opts.split) await waitUntil('veracity worker', 20_000, async () => (await fetch(`${workerBase}/readyz`)).status === 200);

  console.log(`soak: ${opts.split ? 'proxy + worker' : 'serve'}, ${opts.rps} requests/s, ${opts.minutes} min, sampling every ${opts.sampleS} s`);
  const ids: string[] = [];
  const errors: string[] = [];
  let sent = 0;
  let inFlight = 0;
  let windowLatencies: number[] = [];
  const rows: Row[] = [];
  const started = Date.now();
  const endAt = started + opts.minutes * 60_000;

  // Open loop: requests leave on schedule whether or not earlier ones have finished.
  const pending = new Set<Promise<void>>();
  const fire = () => {
    const shot = SHOTS[sent % SHOTS.length]!;
    sent++;
    inFlight++;
    const p = shoot(proxyPort, shot).then((r) => {
      inFlight--;
      windowLatencies.push(r.ms);
      if (r.id) ids.push(r.id);
      if (!r.ok) errors.push(r.error ?? 'error');
      pending.delete(p);
    });
    pending.add(p);
  };
  const ticker = setInterval(() => {
    const due = Math.floor(((Math.min(Date.now(), endAt) - started) / 1000) * opts.rps);
    while (sent < due) fire();
  }, 5);

  // Scrape once now so the first sample covers one interval only.
  await fetch(`${base}/metrics`).then((r) => r.text());
  if (opts.split) await fetch(`${workerBase}/metrics`).then((r) => r.text());
  while (Date.now() < endAt) {
    await sleep(Math.min(opts.sampleS * 1000, Math.max(0, endAt - Date.now())));
    const text = await (await fetch(`${base}/metrics`)).text();
    const workerText = opts.split ? await (await fetch(`${workerBase}/metrics`)).text() : undefined;
    const row: Row = {
      t: Math.round((Date.now() - started) / 1000),
      sent,
      errors: errors.length,
      rssMiB: rss(text),
      workerRssMiB: workerText ? rss(workerText) : undefined,
      lagMeanMs: (sample(text, 'veracity_nodejs_eventloop_lag_mean_seconds') ?? NaN) * 1000,
      lagP99Ms: (sample(text, 'veracity_nodejs_eventloop_lag_p99_seconds') ?? NaN) * 1000,
      lagMaxMs: (sample(text, 'veracity_nodejs_eventloop_lag_max_seconds') ?? NaN) * 1000,
      p50Ms: pct(windowLatencies, 0.5),
      p99Ms: pct(windowLatencies, 0.99),
    };
    windowLatencies = [];
    rows.push(row);
    console.log(
      `  t=${String(row.t).padStart(4)}s sent ${String(row.sent).padStart(6)} errors ${row.errors} in flight ${inFlight} rss ${row.rssMiB.toFixed(1)} MiB${row.workerRssMiB !== undefined ? ` (worker ${row.workerRssMiB.toFixed(1)})` : ''} lag mean ${row.lagMeanMs.toFixed(2)} p99 ${row.lagP99Ms.toFixed(2)} max ${row.lagMaxMs.toFixed(2)} ms  latency p50 ${row.p50Ms.toFixed(1)} p99 ${row.p99Ms.toFixed(1)} ms`,
    );
  }
  clearInterval(ticker);
  await Promise.all([...pending]);

  // Let the worker finish what was queued, then count.
  let checks = 0;
  let dropped = 0;
  let lastChange = Date.now();
  const drainStart = Date.now();
  while (Date.now() - lastChange < 3000 && Date.now() - drainStart < 120_000) {
    const text = await (await fetch(`${workerBase}/metrics`)).text();
    const proxyText = opts.split ? await (await fetch(`${base}/metrics`)).text() : text;
    const c = sum(text, 'veracity_checks_total');
    dropped = sum(proxyText, 'veracity_analysis_dropped_total') + (opts.split ? sum(text, 'veracity_analysis_dropped_total') : 0);
    if (c !== checks) lastChange = Date.now();
    checks = c;
    if (checks >= sent) break;
    await sleep(250);
  }
  let verdicts = 0;
  for (let i = 0; i < ids.length; i += 500) {
    const batch = ids.slice(i, i + 500);
    verdicts += await redis.exists(...batch.map((id) => `veracity:verdict:${id}`));
  }

  stopping = true;
  for (const c of children.slice(1)) c.kill('SIGTERM');
  await Promise.all(children.slice(1).map((c) => new Promise((r) => (c.exitCode !== null ? r(null) : c.once('exit', r)))));
  redis.disconnect();
  killChildren();
  upstream.closeAllConnections();
  upstream.close();
  agent.destroy();

  // ---- verdict ----
  const q = Math.max(1, Math.floor(rows.length / 4));
  const second = rows.slice(q, 2 * q);
  const last = rows.slice(rows.length - q);
  const flat = (name: string, pick: (r: Row) => number, margin: number, unit: string) => {
    const a = mean(second.map(pick));
    const b = mean(last.map(pick));
    const ok = b <= a * 1.2 || b - a <= margin;
    return { name, ok, text: `${name}: second quarter ${a.toFixed(2)} ${unit}, last quarter ${b.toFixed(2)} ${unit} (${a > 0 ? (((b - a) / a) * 100).toFixed(1) : '—'} %, allowed +20 % or +${margin} ${unit})` };
  };
  const checksList = [
    { name: 'errors', ok: errors.length === 0, text: `client errors: ${errors.length}${errors.length ? ` (first: ${errors.slice(0, 3).join('; ')})` : ''}` },
    { name: 'counts', ok: sent === checks && checks === verdicts, text: `requests sent ${sent}, veracity_checks_total ${checks}, verdicts found ${verdicts}` },
    { name: 'dropped', ok: dropped === 0, text: `veracity_analysis_dropped_total ${dropped}` },
    ...(rows.length >= 4
      ? [
          flat('proxy RSS', (r) => r.rssMiB, 16, 'MiB'),
          ...(opts.split ? [flat('worker RSS', (r) => r.workerRssMiB ?? 0, 16, 'MiB')] : []),
          flat('event-loop lag p99', (r) => r.lagP99Ms, 5, 'ms'),
        ]
      : [{ name: 'samples', ok: false, text: `only ${rows.length} samples: run longer or sample more often to judge drift` }]),
  ];

  console.log('\n| t (s) | sent | errors | RSS (MiB) |' + (opts.split ? ' worker RSS (MiB) |' : '') + ' lag mean (ms) | lag p99 (ms) | lag max (ms) | latency p50 (ms) | latency p99 (ms) |');
  console.log('|---:|---:|---:|---:|' + (opts.split ? '---:|' : '') + '---:|---:|---:|---:|---:|');
  for (const r of rows) {
    console.log(
      `| ${r.t} | ${r.sent} | ${r.errors} | ${r.rssMiB.toFixed(1)} |${opts.split ? ` ${r.workerRssMiB?.toFixed(1)} |` : ''} ${r.lagMeanMs.toFixed(2)} | ${r.lagP99Ms.toFixed(2)} | ${r.lagMaxMs.toFixed(2)} | ${r.p50Ms.toFixed(1)} | ${r.p99Ms.toFixed(1)} |`,
    );
  }
  console.log('');
  for (const c of checksList) console.log(`${c.ok ? 'PASS' : 'FAIL'}  ${c.text}`);
  const failed = checksList.filter((c) => !c.ok).length;
  console.log(failed === 0 ? '\nsoak passed' : `\nsoak FAILED (${failed} check${failed > 1 ? 's' : ''})`);
  return failed === 0 ? 0 : 1;
}

main().then(
  (code) => process.exit(code),
  (err) => {
    console.error(`soak: ${(err as Error).message}`);
    killChildren();
    process.exit(2);
  },
);
