import t from 'tap';
import { readFileSync } from 'node:fs';
import { Readable, Writable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { createUsageChunkStripper, injectIncludeUsage } from '../src/capture/index.js';

const chatSse = readFileSync(new URL('./fixtures/capture/chat.sse', import.meta.url), 'utf8');
const usageEvent = chatSse.split('\n\n').find((e) => e.includes('"choices":[]'))! + '\n\n';
const withoutUsage = chatSse.replace(usageEvent, '');

t.test('injectIncludeUsage adds include_usage to OpenAI streaming requests only', async (t) => {
  const chat = Buffer.from('{"model":"gpt-4o","stream":true,"messages":[{"role":"user","content":"hi"}],"seed":12345678901234567890}');
  const out = injectIncludeUsage(chat);
  t.ok(out);
  const parsed = JSON.parse(out!.toString());
  t.same(parsed.stream_options, { include_usage: true });
  t.ok(out!.toString().includes('"seed":12345678901234567890'), 'other bytes untouched');
  t.equal(out!.toString().replace('"stream_options":{"include_usage":true},', ''), chat.toString());

  const completions = injectIncludeUsage(Buffer.from(' {"model":"gpt-3.5-turbo-instruct","prompt":"x","stream":true}'));
  t.same(JSON.parse(completions!.toString()).stream_options, { include_usage: true });

  const merged = injectIncludeUsage(Buffer.from('{"model":"m","stream":true,"messages":[],"stream_options":{"include_obfuscation":false}}'));
  t.same(JSON.parse(merged!.toString()).stream_options, { include_obfuscation: false, include_usage: true });

  for (const body of [
    '{"model":"m","stream":false,"messages":[]}',
    '{"model":"m","messages":[]}',
    '{"model":"m","stream":true,"messages":[],"stream_options":{"include_usage":true}}',
    '{"model":"m","stream":true,"input":"responses API"}',
    '{"model":"m","stream":true}',
    'not json',
    '[1,2]',
    '',
  ]) {
    t.equal(injectIncludeUsage(Buffer.from(body)), null, body);
  }
});

async function strip(chunks: Buffer[]): Promise<string> {
  const out: Buffer[] = [];
  await pipeline(
    Readable.from(chunks),
    createUsageChunkStripper(),
    new Writable({
      write(chunk: Buffer, _e, cb) {
        out.push(chunk);
        cb();
      },
    }),
  );
  return Buffer.concat(out).toString('utf8');
}

t.test('the stripper removes only the usage chunk, whatever the chunking', async (t) => {
  for (const [name, input, expected] of [
    ['LF', chatSse, withoutUsage],
    ['CRLF', chatSse.replace(/\n/g, '\r\n'), withoutUsage.replace(/\n/g, '\r\n')],
    ['CR', chatSse.replace(/\n/g, '\r'), withoutUsage.replace(/\n/g, '\r')],
  ] as const) {
    const bytes = Buffer.from(input);
    let bad = 0;
    for (let i = 0; i <= bytes.length; i++) {
      if ((await strip([bytes.subarray(0, i), bytes.subarray(i)])) !== expected) bad++;
    }
    t.equal(bad, 0, `${name}: ${bytes.length + 1} two-way splits`);
    const oneByte = [...bytes].map((b) => Buffer.from([b]));
    t.equal(await strip(oneByte), expected, `${name}: one byte at a time`);
  }
});

t.test('the stripper passes every other stream through byte for byte', async (t) => {
  const anthropic = readFileSync(new URL('./fixtures/capture/anthropic.sse', import.meta.url));
  const noTrailingBlank = Buffer.from('data: {"choices":[{"delta":{"content":"x"}}],"usage":null}\n\ndata: [DONE]\n');
  const usageInChoices = Buffer.from('data: {"choices":[{"index":0,"delta":{"content":"\\"usage\\": {}"}}],"usage":null}\n\n');
  const comment = Buffer.from(': keep-alive\n\ndata: {"choices":[{"delta":{}}]}\n\n');
  for (const body of [withoutUsage, anthropic, noTrailingBlank, usageInChoices, comment].map((b) => Buffer.from(b))) {
    for (let i = 0; i <= body.length; i += 3) {
      const out = await strip([body.subarray(0, i), body.subarray(i)]);
      if (out !== body.toString('utf8')) {
        t.fail(`changed at split ${i}: ${body.toString('utf8').slice(0, 40)}`);
        break;
      }
    }
  }
  t.pass('all passed through');
});

t.test('the stripper holds back at most one event', async (t) => {
  const stripper = createUsageChunkStripper();
  const seen: string[] = [];
  stripper.on('data', (c: Buffer) => seen.push(c.toString()));
  stripper.write('data: {"choices":[{"delta":{"content":"a"}}]}\n\ndata: {"cho');
  await new Promise((r) => setImmediate(r));
  t.equal(seen.join(''), 'data: {"choices":[{"delta":{"content":"a"}}]}\n\n');
  stripper.end('ices":[]}\n\n');
  await new Promise((r) => stripper.on('end', r));
  t.equal(seen.join(''), 'data: {"choices":[{"delta":{"content":"a"}}]}\n\ndata: {"choices":[]}\n\n');
});
