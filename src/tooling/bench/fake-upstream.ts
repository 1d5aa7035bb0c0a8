// A fast stand-in for the OpenAI chat completions API, speaking its real wire format, so the
// benchmark measures the proxies and not a remote model. Plain node:http: nothing on this path
// may cost more than the proxies it is compared with.
import http from 'node:http';
import { pathToFileURL } from 'node:url';
import { parseArgs } from 'node:util';
import { LONG_ANSWER } from './inline-texts.js';

export interface FakeUpstreamOptions {
  /** Milliseconds between reading the request and sending headers. Default 0. */
  latencyMs?: number;
  /** Content chunks in a streamed answer (role and finish chunks come on top). Default 200. */
  chunks?: number;
  /** Milliseconds between streamed chunks; 0 writes them back to back. Default 0. */
  chunkDelayMs?: number;
}

export interface FakeUpstream {
  port: number;
  close(): Promise<void>;
}

/**
 * A request may choose its own latency, and optionally its chunk gap, through the model name
 * `bench-<latency>ms` or `bench-<latency>ms-<gap>ms`, so one upstream serves every scenario and
 * every proxy passes the choice through untouched in the body. A `-long` suffix asks for the
 * ~1,000-token JSON answer of inline-texts.ts instead of the one-sentence one.
 */
const MODEL_LATENCY = /^bench-(\d+)ms(?:-(\d+)ms)?(-long)?$/;

const ANSWER_WORDS = 'The Eiffel Tower is in Paris and was completed in 1889 for the World Fair. '.split(' ');

interface Parsed {
  stream: boolean;
  model: string;
  latencyMs: number | undefined;
  chunkDelayMs: number | undefined;
  long: boolean;
}

function parseBody(body: string): Parsed {
  try {
    const json = JSON.parse(body) as { stream?: unknown; model?: unknown };
    const model = typeof json.model === 'string' ? json.model : 'gpt-4o-mini';
    const m = MODEL_LATENCY.exec(model);
    return {
      stream: json.stream === true,
      model,
      latencyMs: m ? Number(m[1]) : undefined,
      chunkDelayMs: m?.[2] !== undefined ? Number(m[2]) : undefined,
      long: m?.[3] !== undefined,
    };
  } catch {
    return { stream: false, model: 'gpt-4o-mini', latencyMs: undefined, chunkDelayMs: undefined, long: false };
  }
}

function completion(id: string, model: string, created: number, text: string): string {
  return JSON.stringify({
    id,
    object: 'chat.completion',
    created,
    model,
    system_fingerprint: 'fp_bench',
    choices: [
      {
        index: 0,
        message: { role: 'assistant', content: text, refusal: null },
        logprobs: null,
        finish_reason: 'stop',
      },
    ],
    usage: { prompt_tokens: 14, completion_tokens: 8, total_tokens: 22 },
  });
}

function chunk(id: string, model: string, created: number, delta: object, finish: string | null): string {
  return `data: ${JSON.stringify({
    id,
    object: 'chat.completion.chunk',
    created,
    model,
    system_fingerprint: 'fp_bench',
    choices: [{ index: 0, delta, logprobs: null, finish_reason: finish }],
  })}\n\n`;
}

let counter = 0;

export function startFakeUpstream(port: number, host = '127.0.0.1', opts: FakeUpstreamOptions = {}): Promise<FakeUpstream> {
  const defaultLatency = opts.latencyMs ?? 0;
  const nChunks = opts.chunks ?? 200;
  const chunkDelay = opts.chunkDelayMs ?? 0;

  const server = http.createServer((req, res) => {
    const parts: Buffer[] = [];
    req.on('data', (b: Buffer) => parts.push(b));
    req.on('end', () => {
      if (req.method !== 'POST' || !req.url?.startsWith('/v1/chat/completions')) {
        res.writeHead(404, { 'content-type': 'application/json' });
        res.end('{"error":{"message":"not found","type":"invalid_request_error"}}');
        return;
      }
      const p = parseBody(Buffer.concat(parts).toString('utf8'));
      const latency = p.latencyMs ?? defaultLatency;
      const go = () => (p.stream ? stream(res, p.model, p.chunkDelayMs ?? chunkDelay) : single(res, p.model, p.long ? LONG_ANSWER : 'The Eiffel Tower is in Paris.'));
      if (latency > 0) setTimeout(go, latency);
      else go();
    });
  });

  function single(res: http.ServerResponse, model: string, text: string) {
    const body = completion(`chatcmpl-bench${++counter}`, model, Math.floor(Date.now() / 1000), text);
    res.writeHead(200, {
      'content-type': 'application/json',
      'content-length': Buffer.byteLength(body),
      'x-request-id': `req_bench${counter}`,
    });
    res.end(body);
  }

  function stream(res: http.ServerResponse, model: string, chunkDelay: number) {
    const id = `chatcmpl-bench${++counter}`;
    const created = Math.floor(Date.now() / 1000);
    res.writeHead(200, {
      'content-type': 'text/event-stream; charset=utf-8',
      'cache-control': 'no-cache',
      'x-request-id': `req_bench${counter}`,
    });
    res.write(chunk(id, model, created, { role: 'assistant', content: '', refusal: null }, null));
    let i = 0;
    let closed = false;
    res.on('close', () => (closed = true));
    const finish = () => {
      res.write(chunk(id, model, created, {}, 'stop'));
      res.end('data: [DONE]\n\n');
    };
    if (chunkDelay <= 0) {
      for (; i < nChunks; i++) res.write(chunk(id, model, created, { content: word(i) }, null));
      finish();
      return;
    }
    const tick = () => {
      if (closed) return;
      res.write(chunk(id, model, created, { content: word(i) }, null));
      if (++i < nChunks) setTimeout(tick, chunkDelay);
      else finish();
    };
    setTimeout(tick, chunkDelay);
  }

  server.keepAliveTimeout = 65_000;
  server.headersTimeout = 66_000;
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, () => {
      const addr = server.address();
      resolve({
        port: typeof addr === 'object' && addr ? addr.port : port,
        close: () =>
          new Promise<void>((r) => {
            server.closeAllConnections();
            server.close(() => r());
          }),
      });
    });
  });
}

function word(i: number): string {
  return (i === 0 ? '' : ' ') + ANSWER_WORDS[i % ANSWER_WORDS.length];
}

async function main() {
  const { values } = parseArgs({
    options: {
      port: { type: 'string', default: '0' },
      host: { type: 'string', default: '127.0.0.1' },
      'latency-ms': { type: 'string', default: '0' },
      chunks: { type: 'string', default: '200' },
      'chunk-delay-ms': { type: 'string', default: '0' },
    },
  });
  const up = await startFakeUpstream(Number(values.port), values.host, {
    latencyMs: Number(values['latency-ms']),
    chunks: Number(values.chunks),
    chunkDelayMs: Number(values['chunk-delay-ms']),
  });
  // The orchestrator reads this line to learn the port.
  process.stdout.write(`${JSON.stringify({ listening: up.port })}\n`);
  const stop = () => void up.close().then(() => process.exit(0));
  process.on('SIGTERM', stop);
  process.on('SIGINT', stop);
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) void main();
