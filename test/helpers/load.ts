import { ANSWER } from './upstream.js';

/** One request of a steady load through the proxies, as the client saw it. */
export interface Sent {
  /** Which proxy (index into the list given to steadyLoad). */
  proxy: number;
  start: number;
  end: number;
  ok: boolean;
  status: number;
  id: string;
  error?: string;
}

const REQUESTS = [
  { path: '/v1/chat/completions', body: { model: 'gpt-ha', messages: [{ role: 'system', content: 'The Eiffel Tower is in Paris and was completed in 1889.' }, { role: 'user', content: 'Where is the Eiffel Tower?' }] } },
  { path: '/v1/chat/completions', body: { model: 'gpt-ha', stream: true, messages: [{ role: 'user', content: 'Where is the Eiffel Tower?' }] } },
  { path: '/v1/messages', body: { model: 'claude-ha', max_tokens: 50, messages: [{ role: 'user', content: 'Where is the Eiffel Tower?' }] } },
  { path: '/v1/messages', body: { model: 'claude-ha', max_tokens: 50, stream: true, messages: [{ role: 'user', content: 'Where is the Eiffel Tower?' }] } },
];

/** Sends one request (JSON or stream, OpenAI or Anthropic, by `n`) and checks the answer is whole. */
export async function sendOne(base: string, n: number, proxy = 0): Promise<Sent> {
  const r = REQUESTS[n % REQUESTS.length]!;
  const start = Date.now();
  try {
    const res = await fetch(`${base}${r.path}`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: 'Bearer sk-ha-test', ...(r.path === '/v1/messages' ? { 'anthropic-version': '2023-06-01' } : {}) },
      body: JSON.stringify(r.body),
    });
    const text = await res.text();
    const complete = r.body.stream ? text.includes(ANSWER.slice(0, 7)) && (text.includes('[DONE]') || text.includes('message_stop')) : text.includes(ANSWER);
    return { proxy, start, end: Date.now(), status: res.status, ok: res.status === 200 && complete, id: res.headers.get('x-veracity-id') ?? '' };
  } catch (err) {
    return { proxy, start, end: Date.now(), status: 0, ok: false, id: '', error: (err as Error).message };
  }
}

/**
 * `clients` loops sending requests round-robin over the proxies, each pausing `pauseMs` between
 * requests, until stop() is called; stop() resolves with every request sent.
 */
export function steadyLoad(proxies: string[], options: { clients?: number; pauseMs?: number } = {}): { sent: Sent[]; stop(): Promise<Sent[]> } {
  const sent: Sent[] = [];
  let stopped = false;
  let n = 0;
  const loops = Array.from({ length: options.clients ?? 4 }, async () => {
    while (!stopped) {
      const i = n++;
      sent.push(await sendOne(proxies[i % proxies.length]!, i, i % proxies.length));
      await new Promise((r) => setTimeout(r, options.pauseMs ?? 10));
    }
  });
  return {
    sent,
    async stop() {
      stopped = true;
      await Promise.all(loops);
      return sent;
    },
  };
}

export function percentile(values: number[], p: number): number {
  if (values.length === 0) return NaN;
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.floor(sorted.length * p))]!;
}
