import t from 'tap';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import OpenAI from 'openai';
import Anthropic from '@anthropic-ai/sdk';
import { errorBody } from '../src/capture/index.js';

t.test('OpenAI error bodies', async (t) => {
  const cases: Array<[number, string]> = [
    [400, 'invalid_request_error'],
    [413, 'invalid_request_error'],
    [502, 'server_error'],
    [503, 'server_error'],
    [504, 'timeout'],
    [500, 'server_error'],
  ];
  for (const [status, type] of cases) {
    const e = errorBody('openai', status, `failed ${status}`);
    t.equal(e.contentType, 'application/json');
    const body = JSON.parse(e.body);
    t.same(Object.keys(body.error).sort(), ['code', 'message', 'param', 'type']);
    t.equal(body.error.type, type, `${status}`);
    t.equal(body.error.message, `failed ${status}`);
    t.equal(body.error.param, null);
  }
});

t.test('Anthropic error bodies', async (t) => {
  const cases: Array<[number, string]> = [
    [400, 'invalid_request_error'],
    [413, 'request_too_large'],
    [502, 'api_error'],
    [500, 'api_error'],
    [504, 'timeout_error'],
    [529, 'overloaded_error'],
  ];
  for (const [status, type] of cases) {
    const body = JSON.parse(errorBody('anthropic', status, 'nope').body);
    t.same(body, { type: 'error', error: { type, message: 'nope' } }, `${status}`);
  }
});

t.test('the official SDKs read our error answers as API errors', async (t) => {
  const server = createServer((req, res) => {
    req.resume();
    const dialect = req.url?.startsWith('/v1/messages') ? 'anthropic' : 'openai';
    const e = errorBody(dialect, 502, 'upstream unavailable');
    res.writeHead(502, { 'content-type': e.contentType });
    res.end(e.body);
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  t.teardown(() => server.close());
  const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;

  const openai = new OpenAI({ apiKey: 'k', baseURL: `${url}/v1`, maxRetries: 0 });
  const oe = await openai.chat.completions.create({ model: 'gpt-4o', messages: [{ role: 'user', content: 'hi' }] }).catch((e: unknown) => e);
  t.ok(oe instanceof OpenAI.APIError);
  t.equal((oe as InstanceType<typeof OpenAI.APIError>).status, 502);
  t.equal((oe as InstanceType<typeof OpenAI.APIError>).type, 'server_error');
  t.match((oe as Error).message, /upstream unavailable/);

  const anthropic = new Anthropic({ apiKey: 'k', baseURL: url, maxRetries: 0 });
  const ae = await anthropic.messages.create({ model: 'claude-opus-4-6', max_tokens: 5, messages: [{ role: 'user', content: 'hi' }] }).catch((e: unknown) => e);
  t.ok(ae instanceof Anthropic.APIError);
  t.equal((ae as InstanceType<typeof Anthropic.APIError>).status, 502);
  t.match((ae as Error).message, /upstream unavailable/);
  t.match((ae as { error?: { error?: { type?: string } } }).error?.error?.type, 'api_error');
});
