import { Agent, request } from 'undici';
import { dialectOf, routeOfPath, type Answers, type BuiltRequest } from '../capture/dialect.js';
import type { Provider } from '../capture/exchange.js';

/**
 * One sampling or shadow call: a non-streaming request to a configured upstream with a key from
 * the environment, and its answers read by the upstream's dialect. Never retried, never thrown:
 * every failure comes back as a result the caller counts, and the local verdict stands.
 */

export const CALL_RESULTS = ['ok', 'http_4xx', 'http_5xx', 'timeout', 'reset', 'refused', 'bad_answer', 'error'] as const;
export type CallResult = (typeof CALL_RESULTS)[number];

export interface CallTarget {
  /** Configured upstream name (`openai`, `anthropic` or a named one). */
  upstream: string;
  dialect: Provider;
  /** The upstream's base URL; the request's path is appended to its path. */
  base: URL;
  tlsVerify: boolean;
}

export interface CallOutcome extends Partial<Answers> {
  result: CallResult;
}

/** Largest answer body read; a larger one is not an answer to a sampling call. */
const MAX_ANSWER_BYTES = 8 * 1024 * 1024;

function classify(err: unknown): CallResult {
  const e = err as { code?: string; name?: string; cause?: { code?: string } };
  const code = e?.code ?? e?.cause?.code ?? '';
  if (e?.name === 'TimeoutError' || e?.name === 'AbortError' || code === 'UND_ERR_HEADERS_TIMEOUT' || code === 'UND_ERR_BODY_TIMEOUT' || code === 'UND_ERR_CONNECT_TIMEOUT' || code === 'ETIMEDOUT') return 'timeout';
  if (code === 'ECONNRESET' || code === 'UND_ERR_SOCKET' || code === 'EPIPE' || code === 'UND_ERR_CLOSED') return 'reset';
  if (code === 'ECONNREFUSED' || code === 'ENOTFOUND' || code === 'EAI_AGAIN') return 'refused';
  return 'error';
}

export class ModelCaller {
  private readonly agents = new Map<boolean, Agent>();

  constructor(private readonly timeoutMs: number) {}

  private agent(tlsVerify: boolean): Agent {
    let a = this.agents.get(tlsVerify);
    if (!a) {
      a = new Agent({ connections: 64, headersTimeout: this.timeoutMs, bodyTimeout: this.timeoutMs, connect: { rejectUnauthorized: tlsVerify, timeout: Math.min(this.timeoutMs, 10_000) } });
      this.agents.set(tlsVerify, a);
    }
    return a;
  }

  async call(target: CallTarget, built: BuiltRequest, key: string | undefined): Promise<CallOutcome> {
    const dialect = dialectOf(target.dialect);
    const url = new URL(target.base.toString());
    url.pathname = url.pathname.replace(/\/+$/, '') + built.path;
    const signal = AbortSignal.timeout(this.timeoutMs);
    try {
      const res = await request(url, {
        method: 'POST',
        dispatcher: this.agent(target.tlsVerify),
        headers: { 'content-type': 'application/json', accept: 'application/json', ...dialect.authHeaders(key) },
        body: JSON.stringify(built.body),
        signal,
      });
      const chunks: Buffer[] = [];
      let size = 0;
      for await (const chunk of res.body) {
        size += (chunk as Buffer).length;
        if (size > MAX_ANSWER_BYTES) {
          res.body.destroy();
          return { result: 'bad_answer' };
        }
        chunks.push(chunk as Buffer);
      }
      if (res.statusCode >= 500) return { result: 'http_5xx' };
      if (res.statusCode < 200 || res.statusCode >= 300) return { result: 'http_4xx' };
      let answers: Answers;
      try {
        answers = dialect.answers(routeOfPath(built.path), JSON.parse(Buffer.concat(chunks).toString('utf8')));
      } catch {
        return { result: 'bad_answer' };
      }
      return { result: 'ok', ...answers };
    } catch (err) {
      return { result: signal.aborted ? 'timeout' : classify(err) };
    }
  }

  async close(): Promise<void> {
    await Promise.all([...this.agents.values()].map((a) => a.close().catch(() => {})));
  }
}
