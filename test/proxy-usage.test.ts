import t from 'tap';
import OpenAI from 'openai';
import { start } from '../src/app.js';
import { loadConfig } from '../src/config/load.js';
import { startRedis } from './helpers/redis.js';
import { chatChunks, startUpstream } from './helpers/upstream.js';

// capture.injectStreamUsage: usage is asked for upstream, recorded, and the extra chunk never
// reaches a client that did not ask for it.

t.test('injected include_usage is recorded and stripped from the client stream', async (t) => {
  const redis = await startRedis();
  const upstream = await startUpstream();
  const { config } = loadConfig({
    env: { REDIS_URL: redis.url, VERACITY_OPENAI_UPSTREAM: upstream.url, PORT: '0' },
    overrides: (raw) => {
      raw.capture = { ...(raw.capture as object), injectStreamUsage: true };
    },
  });
  const proxy = await start('serve', config, { logger: false });
  t.teardown(async () => {
    await proxy.stop();
    await upstream.close();
    await redis.stop();
  });

  const client = new OpenAI({ apiKey: 'sk-x', baseURL: `${proxy.url}/v1`, maxRetries: 0 });
  const stream = await client.chat.completions.create({ model: 'gpt-usage', stream: true, messages: [{ role: 'user', content: 'Where is the Eiffel Tower?' }] });
  const got: Array<{ choices: unknown[]; usage?: unknown }> = [];
  for await (const chunk of stream) got.push(chunk as never);
  const sentBody = JSON.parse(upstream.seen.at(-1)!.body.toString());
  t.same(sentBody.stream_options, { include_usage: true }, 'upstream was asked for usage');
  t.ok(got.every((c) => c.choices.length > 0 && !c.usage), 'the client saw no usage chunk');
  const expected = chatChunks('gpt-usage').filter((e) => e !== 'data: [DONE]\n\n').map((e) => JSON.parse(e.slice(6)));
  t.same(got, expected, 'the client saw exactly the stream it would have got without injection');

  // A client that asks for usage itself gets it, untouched.
  const own = await client.chat.completions.create({ model: 'gpt-usage', stream: true, stream_options: { include_usage: true }, messages: [{ role: 'user', content: 'Hi' }] });
  const mine: Array<{ usage?: unknown }> = [];
  for await (const chunk of own) mine.push(chunk as never);
  t.ok(mine.at(-1)?.usage, 'usage chunk kept when the client asked for it');

  const deadline = Date.now() + 20_000;
  let text = '';
  while (Date.now() < deadline) {
    text = await (await fetch(`${proxy.url}/metrics`)).text();
    if (/gen_ai_client_token_usage_count\{[^}]*gen_ai_token_type="output"[^}]*\} 2/.test(text)) break;
    await new Promise((r) => setTimeout(r, 50));
  }
  t.match(text, /gen_ai_client_token_usage_sum\{[^}]*gen_ai_request_model="gpt-usage"[^}]*gen_ai_token_type="output"[^}]*\} 34/, 'output tokens of both streams recorded');
});
