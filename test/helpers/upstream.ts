import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';

/**
 * A loopback stand-in for the paid model APIs, speaking their real wire formats: OpenAI chat
 * completions, completions and responses, and Anthropic messages, as JSON or as event streams.
 * Tests may replace the handler to script errors, stalls and resets.
 */

export interface Seen {
  method: string;
  url: string;
  headers: IncomingMessage['headers'];
  body: Buffer;
}

export type Handler = (req: IncomingMessage, res: ServerResponse, body: Buffer) => void;

export interface FakeUpstream {
  url: string;
  server: Server;
  seen: Seen[];
  /** Set to script the next responses; null restores the default wire-format answers. */
  handler: Handler | null;
  /** The default wire-format answers, for a scripted handler to fall back on. */
  answer: Handler;
  /** Bytes the default handler sent, per request, in order. */
  sent: Buffer[];
  /** Requests whose connection closed before the response ended. */
  aborted: number;
  /** The answer text the default handler gives a model (default: ANSWER for every model). */
  textFor: (model: string) => string;
  close(): Promise<void>;
}

export const ANSWER = 'The Eiffel Tower is in Paris. It was completed in 1889.';

export function chatCompletion(model: string, text = ANSWER) {
  return {
    id: 'chatcmpl-test123',
    object: 'chat.completion',
    created: 1700000000,
    model,
    choices: [{ index: 0, message: { role: 'assistant', content: text, refusal: null }, logprobs: null, finish_reason: 'stop' }],
    usage: { prompt_tokens: 42, completion_tokens: 17, total_tokens: 59 },
    system_fingerprint: 'fp_test',
  };
}

/** A judge model's answer: the JSON verdict as the message, `tokens` spent in all (30 of them answering). */
export function judgeCompletion(model: string, verdict: unknown, tokens: number) {
  return { ...chatCompletion(model, JSON.stringify(verdict)), usage: { prompt_tokens: tokens - 30, completion_tokens: 30, total_tokens: tokens } };
}

export function chatChunks(model: string, text = ANSWER, includeUsage = false): string[] {
  const base = { id: 'chatcmpl-test123', object: 'chat.completion.chunk', created: 1700000000, model, system_fingerprint: 'fp_test' };
  const pieces = text.match(/.{1,7}/gs) ?? [];
  const events = [
    { ...base, choices: [{ index: 0, delta: { role: 'assistant', content: '', refusal: null }, logprobs: null, finish_reason: null }] },
    ...pieces.map((p) => ({ ...base, choices: [{ index: 0, delta: { content: p }, logprobs: null, finish_reason: null }] })),
    { ...base, choices: [{ index: 0, delta: {}, logprobs: null, finish_reason: 'stop' }] },
  ];
  if (includeUsage) events.push({ ...base, choices: [], usage: { prompt_tokens: 42, completion_tokens: 17, total_tokens: 59 } } as never);
  return [...events.map((e) => `data: ${JSON.stringify(e)}\n\n`), 'data: [DONE]\n\n'];
}

export function anthropicMessage(model: string, text = ANSWER) {
  return {
    id: 'msg_test123',
    type: 'message',
    role: 'assistant',
    model,
    content: [{ type: 'text', text }],
    stop_reason: 'end_turn',
    stop_sequence: null,
    usage: { input_tokens: 42, output_tokens: 17 },
  };
}

export function anthropicEvents(model: string, text = ANSWER): string[] {
  const pieces = text.match(/.{1,7}/gs) ?? [];
  const ev = (type: string, data: object) => `event: ${type}\ndata: ${JSON.stringify({ type, ...data })}\n\n`;
  return [
    ev('message_start', { message: { id: 'msg_test123', type: 'message', role: 'assistant', model, content: [], stop_reason: null, stop_sequence: null, usage: { input_tokens: 42, output_tokens: 1 } } }),
    ev('content_block_start', { index: 0, content_block: { type: 'text', text: '' } }),
    ev('ping', {}),
    ...pieces.map((p) => ev('content_block_delta', { index: 0, delta: { type: 'text_delta', text: p } })),
    ev('content_block_stop', { index: 0 }),
    ev('message_delta', { delta: { stop_reason: 'end_turn', stop_sequence: null }, usage: { output_tokens: 17 } }),
    ev('message_stop', {}),
  ];
}

function defaultHandler(up: FakeUpstream): Handler {
  return (req, res, body) => {
    let json: Record<string, unknown> = {};
    try {
      json = JSON.parse(body.toString('utf8') || '{}');
    } catch {
      res.writeHead(400, { 'content-type': 'application/json' }).end(JSON.stringify({ error: { message: 'invalid JSON body', type: 'invalid_request_error', param: null, code: null } }));
      return;
    }
    const model = typeof json.model === 'string' ? json.model : 'unknown-model';
    const text = up.textFor(model);
    const path = (req.url ?? '').split('?')[0];
    const send = (chunks: string[], contentType: string, interval = 1) => {
      res.writeHead(200, { 'content-type': contentType, 'cache-control': 'no-cache', 'x-request-id': 'req_upstream' });
      const all: Buffer[] = [];
      let i = 0;
      const next = () => {
        if (res.destroyed) return;
        if (i >= chunks.length) {
          up.sent.push(Buffer.concat(all));
          res.end();
          return;
        }
        const b = Buffer.from(chunks[i++]!);
        all.push(b);
        res.write(b);
        setTimeout(next, interval);
      };
      next();
    };
    if (path === '/v1/chat/completions') {
      if (json.stream) {
        const opts = json.stream_options as { include_usage?: boolean } | undefined;
        return send(chatChunks(model, text, opts?.include_usage === true), 'text/event-stream; charset=utf-8');
      }
      const b = JSON.stringify(chatCompletion(model, text));
      up.sent.push(Buffer.from(b));
      res.writeHead(200, { 'content-type': 'application/json', 'x-request-id': 'req_upstream' }).end(b);
      return;
    }
    if (path === '/v1/messages') {
      if (json.stream) return send(anthropicEvents(model, text), 'text/event-stream; charset=utf-8');
      const b = JSON.stringify(anthropicMessage(model, text));
      up.sent.push(Buffer.from(b));
      res.writeHead(200, { 'content-type': 'application/json', 'request-id': 'req_upstream' }).end(b);
      return;
    }
    if (path === '/v1/models') {
      res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ object: 'list', data: [{ id: 'gpt-test', object: 'model', created: 1, owned_by: 'test' }] }));
      return;
    }
    res.writeHead(404, { 'content-type': 'application/json' }).end(JSON.stringify({ error: { message: `unknown path ${path}`, type: 'invalid_request_error', param: null, code: null } }));
  };
}

export async function startUpstream(): Promise<FakeUpstream> {
  const up: FakeUpstream = {
    url: '',
    server: undefined as unknown as Server,
    seen: [],
    handler: null,
    answer: () => {},
    sent: [],
    aborted: 0,
    textFor: () => ANSWER,
    close: async () => {},
  };
  const fallback = defaultHandler(up);
  up.answer = fallback;
  up.server = createServer((req, res) => {
    const parts: Buffer[] = [];
    req.on('data', (c: Buffer) => parts.push(c));
    req.on('end', () => {
      const body = Buffer.concat(parts);
      up.seen.push({ method: req.method ?? '', url: req.url ?? '', headers: req.headers, body });
      res.on('close', () => {
        if (!res.writableFinished) up.aborted++;
      });
      (up.handler ?? fallback)(req, res, body);
    });
  });
  await new Promise<void>((r) => up.server.listen(0, '127.0.0.1', () => r()));
  up.url = `http://127.0.0.1:${(up.server.address() as AddressInfo).port}`;
  up.close = async () => {
    up.server.closeAllConnections();
    await new Promise((r) => up.server.close(() => r(undefined)));
  };
  return up;
}
