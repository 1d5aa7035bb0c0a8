import type { IncomingMessage, ServerResponse } from 'node:http';
import { startUpstream, type FakeUpstream } from './upstream.js';

/**
 * A scripted "model" behind a loopback upstream that speaks both real wire formats (OpenAI chat
 * completions with `n` choices, Anthropic messages): `script` says what it answers to a question
 * on its k-th answer to that question, so a test can make some questions come back the same every
 * time and others differently. Streams are answered as streams, in each dialect's event format.
 */

export interface ModelCall {
  path: string;
  headers: IncomingMessage['headers'];
  body: Record<string, any>;
  question: string;
  /** When its answer (or fault) was sent; unset while in flight. */
  answeredAt?: number;
}

export interface ScriptedModel {
  upstream: FakeUpstream;
  url: string;
  /** Every request, in arrival order. */
  calls: ModelCall[];
  /** Requests whose answer has not been sent yet. */
  inFlight(): number;
  /** Delay before answering a request (ms), per request. */
  delay: (call: ModelCall) => number;
  /** Set to answer some requests with a fault: 'status500' | 'reset' | 'stall'. */
  fault: (call: ModelCall) => 'status500' | 'reset' | 'stall' | undefined;
  close(): Promise<void>;
}

function lastUserText(body: Record<string, any>): string {
  const messages: any[] = Array.isArray(body.messages) ? body.messages : [];
  for (let i = messages.length - 1; i >= 0; i--) {
    const m = messages[i];
    if (m?.role !== 'user') continue;
    if (typeof m.content === 'string') return m.content;
    if (Array.isArray(m.content)) return m.content.filter((p: any) => typeof p?.text === 'string').map((p: any) => p.text).join('\n');
  }
  return '';
}

export async function startScriptedModel(script: (question: string, k: number, model: string) => string): Promise<ScriptedModel> {
  const upstream = await startUpstream();
  const counts = new Map<string, number>();
  let pending = 0;
  const model: ScriptedModel = {
    upstream,
    url: upstream.url,
    calls: [],
    inFlight: () => pending,
    delay: () => 0,
    fault: () => undefined,
    close: () => upstream.close(),
  };
  const next = (question: string, name: string) => {
    const key = `${name}\u0000${question}`;
    const k = counts.get(key) ?? 0;
    counts.set(key, k + 1);
    return script(question, k, name);
  };
  upstream.handler = (req: IncomingMessage, res: ServerResponse, raw: Buffer) => {
    let body: Record<string, any>;
    try {
      body = JSON.parse(raw.toString('utf8'));
    } catch {
      res.writeHead(400).end();
      return;
    }
    const path = (req.url ?? '').split('?')[0]!;
    const call: ModelCall = { path, headers: req.headers, body, question: lastUserText(body) };
    model.calls.push(call);
    pending++;
    const finish = () => {
      pending--;
      call.answeredAt = Date.now();
    };
    const fault = model.fault(call);
    if (fault === 'stall') {
      res.on('close', finish);
      return; // never answers; the caller's timeout ends it
    }
    if (fault === 'reset') {
      finish();
      req.socket.destroy();
      return;
    }
    setTimeout(() => {
      finish();
      if (res.destroyed) return;
      if (fault === 'status500') {
        res.writeHead(500, { 'content-type': 'application/json' }).end(JSON.stringify({ error: { message: 'upstream overloaded', type: 'server_error', param: null, code: null } }));
        return;
      }
      const name = typeof body.model === 'string' ? body.model : 'unknown-model';
      if (path === '/v1/messages') {
        const text = next(call.question, name);
        if (body.stream) {
          const ev = (type: string, data: object) => `event: ${type}\ndata: ${JSON.stringify({ type, ...data })}\n\n`;
          res.writeHead(200, { 'content-type': 'text/event-stream' });
          res.end(
            [
              ev('message_start', { message: { id: 'msg_s', type: 'message', role: 'assistant', model: name, content: [], stop_reason: null, stop_sequence: null, usage: { input_tokens: 20, output_tokens: 1 } } }),
              ev('content_block_start', { index: 0, content_block: { type: 'text', text: '' } }),
              ev('content_block_delta', { index: 0, delta: { type: 'text_delta', text } }),
              ev('content_block_stop', { index: 0 }),
              ev('message_delta', { delta: { stop_reason: 'end_turn', stop_sequence: null }, usage: { output_tokens: 15 } }),
              ev('message_stop', {}),
            ].join(''),
          );
          return;
        }
        res.writeHead(200, { 'content-type': 'application/json' }).end(
          JSON.stringify({ id: 'msg_s', type: 'message', role: 'assistant', model: name, content: [{ type: 'text', text }], stop_reason: 'end_turn', stop_sequence: null, usage: { input_tokens: 20, output_tokens: 15 } }),
        );
        return;
      }
      if (path === '/v1/chat/completions') {
        const n = typeof body.n === 'number' && body.n > 0 ? body.n : 1;
        const texts = Array.from({ length: n }, () => next(call.question, name));
        if (body.stream) {
          const base = { id: 'chatcmpl-s', object: 'chat.completion.chunk', created: 1700000000, model: name };
          res.writeHead(200, { 'content-type': 'text/event-stream' });
          res.end(
            [
              { ...base, choices: [{ index: 0, delta: { role: 'assistant', content: texts[0] }, finish_reason: null }] },
              { ...base, choices: [{ index: 0, delta: {}, finish_reason: 'stop' }] },
            ]
              .map((e) => `data: ${JSON.stringify(e)}\n\n`)
              .join('') + 'data: [DONE]\n\n',
          );
          return;
        }
        res.writeHead(200, { 'content-type': 'application/json' }).end(
          JSON.stringify({
            id: 'chatcmpl-s',
            object: 'chat.completion',
            created: 1700000000,
            model: name,
            choices: texts.map((text, index) => ({ index, message: { role: 'assistant', content: text, refusal: null }, logprobs: null, finish_reason: 'stop' })),
            usage: { prompt_tokens: 20, completion_tokens: 15 * n, total_tokens: 20 + 15 * n },
          }),
        );
        return;
      }
      upstream.answer(req, res, raw);
    }, model.delay(call));
  };
  return model;
}
