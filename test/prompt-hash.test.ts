import t from 'tap';
import { createHash, createHmac } from 'node:crypto';
import { fromRecord } from '../src/capture/index.js';
import { canonicalPrompt, MIN_KEY_LENGTH, normaliseText, promptHash, promptHashKey, PromptHashKeyError } from '../src/verdicts/prompt-hash.js';
import { analyseJob } from '../src/worker/analyse-job.js';
import { ConfigSchema } from '../src/config/schema.js';
import { createMetrics } from '../src/metrics/registry.js';
import { BoundedLabel } from '../src/metrics/labels.js';
import { VerdictStore } from '../src/verdicts/store.js';
import type { RawExchange } from '../src/capture/raw.js';
import { startRedisWithClient } from './helpers/redis.js';
import { anthropicMessage, chatCompletion } from './helpers/upstream.js';

// One conversation: a system prompt in two pieces, an earlier exchange, and a follow-up question.
const SYSTEM_1 = 'You are a careful literary historian.';
const SYSTEM_2 = 'Answer in one sentence.';
const Q1 = 'Who wrote Hamlet?';
const A1 = 'William Shakespeare wrote Hamlet.';
const Q2 = 'When was it first performed?';

const openaiChat = (over: { model?: string; question?: string; extra?: Record<string, unknown>; system?: unknown[] } = {}) => ({
  id: 'o1',
  provider: 'openai' as const,
  request: {
    model: over.model ?? 'gpt-4o',
    ...over.extra,
    messages: [
      ...(over.system ?? [{ role: 'system', content: SYSTEM_1 }, { role: 'developer', content: SYSTEM_2 }]),
      { role: 'user', content: Q1 },
      { role: 'assistant', content: A1 },
      { role: 'user', content: over.question ?? Q2 },
    ],
  },
  response: chatCompletion(over.model ?? 'gpt-4o', 'It was first performed around 1600.'),
});

const openaiResponses = {
  id: 'o2',
  provider: 'openai' as const,
  request: {
    model: 'gpt-4.1',
    instructions: `${SYSTEM_1}\n${SYSTEM_2}`,
    input: [
      { role: 'user', content: [{ type: 'input_text', text: Q1 }] },
      { type: 'message', role: 'assistant', content: [{ type: 'output_text', text: A1 }] },
      { role: 'user', content: Q2 },
    ],
  },
  response: { id: 'r', object: 'response', model: 'gpt-4.1', output: [{ type: 'message', role: 'assistant', content: [{ type: 'output_text', text: 'Around 1600.' }] }] },
};

const anthropic = {
  id: 'a1',
  provider: 'anthropic' as const,
  request: {
    model: 'claude-sonnet-4',
    max_tokens: 300,
    temperature: 1,
    system: [{ type: 'text', text: SYSTEM_1 }, { type: 'text', text: SYSTEM_2, cache_control: { type: 'ephemeral' } }],
    messages: [
      { role: 'user', content: [{ type: 'text', text: Q1 }] },
      { role: 'assistant', content: [{ type: 'text', text: A1 }] },
      { role: 'user', content: `  ${Q2}\n` },
    ],
  },
  response: anthropicMessage('claude-sonnet-4', 'Hamlet was first performed in about 1600.'),
};

const hashOf = (row: Parameters<typeof fromRecord>[0], key?: Buffer) => promptHash(fromRecord(row), key);

t.test('the same conversation hashes the same in every dialect', async (t) => {
  const h = hashOf(openaiChat());
  t.match(h, /^[0-9a-f]{32}$/, '128 bits as hex');
  t.equal(hashOf(openaiResponses), h, 'OpenAI responses API: instructions and input items');
  t.equal(hashOf(anthropic), h, 'Anthropic messages: system blocks and content blocks');
});

t.test('the hash ignores the model, sampling parameters and the answer', async (t) => {
  const h = hashOf(openaiChat());
  t.equal(hashOf(openaiChat({ model: 'gpt-4o-mini', extra: { temperature: 0.2, top_p: 0.9, max_tokens: 50, stream: true, n: 3, seed: 7 } })), h);
  const other = openaiChat();
  other.response = chatCompletion('gpt-4o', 'A completely different answer.');
  t.equal(hashOf(other), h, 'the answer is not part of the prompt');
});

t.test('whitespace, line endings and Unicode composition do not change the hash', async (t) => {
  const h = hashOf(openaiChat());
  t.equal(hashOf(openaiChat({ question: '\tWhen  was it\r\nfirst   performed?  ' })), h, 'runs of spaces, tabs and CRLF');
  t.equal(hashOf(openaiChat({ system: [{ role: 'system', content: `${SYSTEM_1}\n\n${SYSTEM_2}` }] })), h, 'one system message or two');

  const nfc = { context: [], question: 'Is the caf\u00e9 open?' };
  const nfd = { context: [], question: 'Is the cafe\u0301 open?' };
  t.not(nfc.question, nfd.question, 'the two spellings differ as strings');
  t.equal(promptHash(nfd), promptHash(nfc), 'composed and decomposed é hash alike');
});

t.test('a different prompt hashes differently', async (t) => {
  const h = hashOf(openaiChat());
  const variants: Record<string, string> = {
    'another question': hashOf(openaiChat({ question: 'When was it first printed?' })),
    'case of a word': hashOf(openaiChat({ question: 'When was it first Performed?' })),
    'another system prompt': hashOf(openaiChat({ system: [{ role: 'system', content: SYSTEM_1 }] })),
    'no system prompt': hashOf(openaiChat({ system: [] })),
    'the system text as a user document': hashOf({
      ...openaiChat(),
      request: { model: 'gpt-4o', messages: [{ role: 'user', content: `${SYSTEM_1} ${SYSTEM_2}` }, { role: 'assistant', content: A1 }, { role: 'user', content: Q2 }] },
    }),
  };
  const history = openaiChat();
  (history.request.messages[3] as { content: string }).content = 'Francis Bacon wrote Hamlet.';
  variants['another earlier answer'] = hashOf(history);
  for (const [what, v] of Object.entries(variants)) t.not(v, h, what);
  t.equal(new Set(Object.values(variants)).size, Object.keys(variants).length, 'all variants differ from each other too');
  // The boundary between kinds of context is part of the prompt: the same words as system
  // prompt and as question are not the same prompt.
  t.not(promptHash({ context: [{ source: 'system', text: 'a b' }], question: 'c' }), promptHash({ context: [{ source: 'system', text: 'a' }], question: 'b c' }));
});

t.test('the canonical form, and the digest over it, as documented', async (t) => {
  const ex = fromRecord(anthropic);
  const canonical = canonicalPrompt(ex);
  // Consecutive parts of one kind are joined: the two system blocks, and the earlier turns.
  t.equal(canonical, JSON.stringify(['veracity-prompt-v1', [['system', `${SYSTEM_1} ${SYSTEM_2}`], ['history', `${Q1} ${A1}`]], Q2]));
  t.equal(promptHash(ex), createHash('sha256').update(canonical).digest('hex').slice(0, 32), 'unkeyed: SHA-256, first 128 bits');
  const key = Buffer.from('k'.repeat(32));
  t.equal(promptHash(ex, key), createHmac('sha256', key).update(canonical).digest('hex').slice(0, 32), 'keyed: HMAC-SHA-256');
  // Stored hashes must stay comparable across releases: this pins the whole scheme.
  t.equal(promptHash({ context: [{ source: 'system', text: 'Be brief.' }], question: 'What is 2 + 2?' }), createHash('sha256').update('["veracity-prompt-v1",[["system","Be brief."]],"What is 2 + 2?"]').digest('hex').slice(0, 32));
});

t.test('a key makes the hash unguessable without it', async (t) => {
  const ex = fromRecord(openaiChat());
  const k1 = Buffer.from('first-secret-key-0123456789');
  const k2 = Buffer.from('second-secret-key-0123456789');
  t.not(promptHash(ex, k1), promptHash(ex), 'keyed differs from unkeyed');
  t.not(promptHash(ex, k1), promptHash(ex, k2), 'different keys differ');
  t.equal(promptHash(fromRecord(anthropic), k1), promptHash(ex, k1), 'the same key still pairs dialects');

  t.equal(promptHashKey('VERACITY_PROMPT_HASH_KEY', {}), undefined, 'unset: unkeyed');
  t.equal(promptHashKey('VERACITY_PROMPT_HASH_KEY', { VERACITY_PROMPT_HASH_KEY: '' }), undefined, 'empty: unkeyed');
  t.same(promptHashKey('K', { K: 'x'.repeat(MIN_KEY_LENGTH) }), Buffer.from('x'.repeat(MIN_KEY_LENGTH)));
  let caught: unknown;
  try {
    promptHashKey('K', { K: 'short' });
  } catch (err) {
    caught = err;
  }
  t.ok(caught instanceof PromptHashKeyError, 'a short key is refused');
  t.equal((caught as PromptHashKeyError).code, 'VERACITY_ERR_PROMPT_HASH_KEY');
  t.match((caught as Error).message, /variable K .*at least 16 characters/);
  t.notMatch((caught as Error).message, /short/, 'the message does not echo the key');
});

const rawOf = (id: string, row: { provider: 'openai' | 'anthropic'; request: unknown; response: unknown }, route: string): RawExchange => ({
  id,
  provider: row.provider,
  route,
  request: JSON.stringify(row.request),
  response: JSON.stringify(row.response),
  contentType: 'application/json',
  status: 200,
  aborted: false,
  startedAt: Date.now() - 50,
  endedAt: Date.now() - 10,
});

t.test('the worker stores prompt_hash on every verdict, without prompt text', async (t) => {
  const { client } = await startRedisWithClient(t);
  for (const storeText of [true, false]) {
    const config = ConfigSchema.parse({ capture: { storeText } });
    const store = new VerdictStore(client, config.redis.prefix, 60);
    const key = Buffer.from('worker-key-0123456789abcdef');
    const deps = { config, metrics: createMetrics(), store, models: new BoundedLabel([], 10), promptHashKey: key };
    t.equal(await analyseJob(rawOf(`o-${storeText}`, openaiChat(), 'chat.completions'), deps), 'stored');
    t.equal(await analyseJob(rawOf(`a-${storeText}`, anthropic, 'messages'), deps), 'stored');
    const o = (await client.get(`veracity:verdict:o-${storeText}`))!;
    const a = (await client.get(`veracity:verdict:a-${storeText}`))!;
    const want = promptHash(fromRecord(openaiChat()), key);
    t.equal(JSON.parse(o).prompt_hash, want, `storeText ${storeText}: OpenAI verdict carries the keyed hash`);
    t.equal(JSON.parse(a).prompt_hash, want, `storeText ${storeText}: Anthropic verdict of the same conversation carries the same hash`);
    if (!storeText) {
      for (const text of [o, a]) t.notMatch(text, /Hamlet|historian|performed|Shakespeare/, 'no prompt or answer text stored');
    }
  }
});

t.test('a worker warns when text is not stored but the hash is unkeyed, and refuses a short key', async (t) => {
  const { mkdtempSync, rmSync, writeFileSync } = await import('node:fs');
  const { tmpdir } = await import('node:os');
  const { join } = await import('node:path');
  const { runCli, sleep } = await import('./helpers/processes.js');
  const { freePort } = await import('./helpers/redis.js');
  const { redis } = await startRedisWithClient(t);
  const dir = mkdtempSync(join(tmpdir(), 'veracity-hashkey-'));
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  const file = join(dir, 'config.yaml');
  writeFileSync(file, 'capture:\n  storeText: false\n');
  const env = { VERACITY_CONFIG: file, REDIS_URL: redis.url, VERACITY_METRICS_PORT: String(await freePort()), VERACITY_PROMPT_HASH_KEY: '' };

  const warned = runCli(['worker'], env);
  t.teardown(() => warned.kill());
  const deadline = Date.now() + 30_000;
  while (!warned.stderr().includes('prompt_hash is unkeyed') && Date.now() < deadline && warned.child.exitCode === null) await sleep(100);
  t.match(warned.stderr(), /"env":"VERACITY_PROMPT_HASH_KEY".*storeText is false but prompt_hash is unkeyed/);
  warned.kill('SIGTERM');
  await warned.exited;

  const refused = runCli(['worker'], { ...env, VERACITY_PROMPT_HASH_KEY: 'too-short' });
  const timer = setTimeout(() => refused.kill(), 30_000);
  const { code } = await refused.exited;
  clearTimeout(timer);
  t.equal(code, 1, 'exits before starting');
  t.match(refused.stderr(), /^veracity: environment variable VERACITY_PROMPT_HASH_KEY \(the prompt_hash key\) must be at least 16 characters/m);
  t.notMatch(refused.stderr(), /too-short/, 'the key is not echoed');
});

t.test('text is normalised as NFC would, whether or not it needs ICU, and the digest is SHA-256 of the canonical string', async (t) => {
  const samples = ['plain ASCII  text', 'na\u00efve caf\u00e9 \u00c5ngstr\u00f6m', 'A\u030angstro\u0308m', '\u1100\u1161 jamo', 'tab\there\u00a0nbsp\u2003em', '\u0300 leading mark', 'emoji \u{1F600} and \u0401'];
  for (const s of samples) t.equal(normaliseText(s), s.normalize('NFC').replace(/\s+/gu, ' ').trim(), JSON.stringify(s));
  t.equal(normaliseText('A\u030angstr\u00f6m'), normaliseText('\u00c5ngstr\u00f6m'), 'a decomposed Å reads as the composed one');
  for (const s of samples) {
    const x = { context: [{ source: 'system' as const, text: s }], question: s };
    t.equal(promptHash(x), createHash('sha256').update(canonicalPrompt(x)).digest('hex').slice(0, 32));
  }
});
