import t from 'tap';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fromRecord } from '../src/capture/index.js';
import type { Verdict } from '../src/detect/verdict.js';
import type { Comparison } from '../src/report/compare/figures.js';
import { promptHash } from '../src/verdicts/prompt-hash.js';
import { VerdictStore } from '../src/verdicts/store.js';
import { runCli } from './helpers/processes.js';
import { startRedisWithClient } from './helpers/redis.js';
import { anthropicMessage, chatCompletion } from './helpers/upstream.js';
import { checkFigures, MODEL_A, MODEL_B, seedVerdicts } from './helpers/compare-seed.js';

/** The built CLI as its own process, bounded in time. */
async function cli(args: string[], env: Record<string, string> = {}, ms = 60_000) {
  const p = runCli(args, env);
  const timer = setTimeout(() => p.kill(), ms);
  const { code } = await p.exited;
  clearTimeout(timer);
  return { code, stdout: p.stdout(), stderr: p.stderr() };
}

const tmp = (t: { teardown(fn: () => void): void }) => {
  const dir = mkdtempSync(join(tmpdir(), 'veracity-compare-cli-'));
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  return dir;
};

t.test('report --compare as a process against a real redis-server', async (t) => {
  const { redis, client } = await startRedisWithClient(t);
  const seed = seedVerdicts();
  // Written through the store the workers use, under the default prefix the CLI reads from config.
  const store = new VerdictStore(client, 'veracity', 7 * 86_400);
  for (const v of seed.verdicts) await store.putIfAbsent(v);
  const dir = tmp(t);
  const json = join(dir, 'compare.json');
  const html = join(dir, 'compare.html');
  const r = await cli(['report', '--compare', MODEL_A, MODEL_B, '--since', '24h', '--at', String(seed.atSeconds), '--json', json, '--out', html, '--examples', '3'], { REDIS_URL: redis.url });
  t.equal(r.code, 0, r.stderr);
  t.match(r.stdout, /hallucination\s+60\s+21\s+9\s+173\s/);
  t.match(r.stdout, /Prompts answered by both: 263 \(12 as shadow pairs\)/);
  checkFigures(t, JSON.parse(readFileSync(json, 'utf8')) as Comparison, 'redis');
  t.match(readFileSync(html, 'utf8'), /<h1>Veracity paired comparison<\/h1>/);

  const help = await cli(['report', '--compare', '--help']);
  t.equal(help.code, 0);
  t.match(help.stdout, /usage: veracity report --compare MODEL_A MODEL_B/);
  const bad = await cli(['report', '--compare', MODEL_A], { REDIS_URL: redis.url });
  t.equal(bad.code, 2);
  t.match(bad.stderr, /--compare takes two models/);
});

// Four facts, each asked twice; A (OpenAI dialect) and B (Anthropic dialect) get the same prompts.
const FACTS = [
  {
    context: 'The Eiffel Tower is a wrought-iron lattice tower on the Champ de Mars in Paris, France. It was completed in 1889 for the World Fair.',
    questions: ['Where is the Eiffel Tower?', 'When was the Eiffel Tower completed?'],
    right: 'The Eiffel Tower is in Paris, France. It was completed in 1889.',
    wrong: 'The Eiffel Tower is in Rome, Italy. It was completed in 1925.',
  },
  {
    context: 'Apollo 11 landed on the Moon on 20 July 1969. Neil Armstrong was the first person to walk on its surface, followed by Buzz Aldrin.',
    questions: ['When did Apollo 11 land?', 'Who walked on the Moon first?'],
    right: 'Apollo 11 landed on 20 July 1969, and Neil Armstrong walked on the Moon first.',
    wrong: 'Apollo 11 landed in March 1972, and Yuri Gagarin walked on the Moon first.',
  },
  {
    context: 'Mount Everest is 8,849 metres high. It lies in the Mahalangur range on the border between Nepal and China.',
    questions: ['How high is Mount Everest?', 'Where does Mount Everest lie?'],
    right: 'Mount Everest is 8,849 metres high and lies on the border between Nepal and China.',
    wrong: 'Mount Everest is 6,100 metres high and lies in the Andes of Peru.',
  },
  {
    context: 'The Danube is the second-longest river in Europe at 2,850 kilometres. It flows through Vienna, Budapest and Belgrade into the Black Sea.',
    questions: ['How long is the Danube?', 'Where does the Danube end?'],
    right: 'The Danube is 2,850 kilometres long and flows into the Black Sea.',
    wrong: 'The Danube is 900 kilometres long and flows into the Baltic Sea.',
  },
];

t.test('offline: check writes prompt_hash, and report --compare --verdicts pairs its output', async (t) => {
  const dir = tmp(t);
  const key = 'offline-prompt-key-0123456789';
  const rows: Array<Record<string, unknown>> = [];
  const pairs: Array<[string, string]> = [];
  let i = 0;
  for (const f of FACTS) {
    for (const q of f.questions) {
      const system = `Answer from the context only.\n\nContext:\n${f.context}`;
      // A is wrong on every third prompt, B on every other: they agree on some and not on others.
      const answerA = i % 3 === 0 ? f.wrong : f.right;
      const answerB = i % 2 === 0 ? f.wrong : f.right;
      rows.push({ id: `a-${i}`, provider: 'openai', request: { model: 'gpt-a', temperature: 0, messages: [{ role: 'system', content: system }, { role: 'user', content: q }] }, response: chatCompletion('gpt-a', answerA) });
      rows.push({ id: `b-${i}`, provider: 'anthropic', request: { model: 'claude-b', max_tokens: 300, system: [{ type: 'text', text: system }], messages: [{ role: 'user', content: [{ type: 'text', text: ` ${q} ` }] }] }, response: anthropicMessage('claude-b', answerB) });
      pairs.push([`a-${i}`, `b-${i}`]);
      i++;
    }
  }
  const input = join(dir, 'exchanges.jsonl');
  const verdictsFile = join(dir, 'verdicts.jsonl');
  writeFileSync(input, rows.map((r) => JSON.stringify(r)).join('\n') + '\n');

  const check = await cli(['check', '--input', input, '--output', verdictsFile], { VERACITY_PROMPT_HASH_KEY: key });
  t.equal(check.code, 0, check.stderr);
  const verdicts = readFileSync(verdictsFile, 'utf8').trim().split('\n').map((l) => JSON.parse(l) as Verdict);
  const byId = new Map(verdicts.map((v) => [v.id, v]));
  for (const row of rows) {
    const want = promptHash(fromRecord(row as Parameters<typeof fromRecord>[0]), Buffer.from(key));
    t.equal(byId.get(row.id as string)?.prompt_hash, want, `${row.id as string}: check's prompt_hash is the keyed hash of its prompt`);
  }

  // The expected table, from check's own verdicts and the pairs as built.
  const expected = { both: 0, onlyA: 0, onlyB: 0, neither: 0 };
  for (const [a, b] of pairs) {
    const fa = byId.get(a)!.hallucination.flagged;
    const fb = byId.get(b)!.hallucination.flagged;
    expected[fa && fb ? 'both' : fa ? 'onlyA' : fb ? 'onlyB' : 'neither']++;
  }
  t.ok(expected.both + expected.onlyA + expected.onlyB > 0, `the detectors flag some wrong answers: ${JSON.stringify(expected)}`);

  const json = join(dir, 'compare.json');
  const r = await cli(['report', '--compare', 'gpt-a', 'claude-b', '--verdicts', verdictsFile, '--json', json]);
  t.equal(r.code, 0, r.stderr);
  const c = JSON.parse(readFileSync(json, 'utf8')) as Comparison;
  t.equal(c.pairing.prompts, 8, 'every prompt paired across the two dialects');
  t.same(c.pairing.unpaired, { a: 0, b: 0 });
  const h = c.hallucination;
  t.same({ both: h.both, onlyA: h.onlyA, onlyB: h.onlyB, neither: h.neither }, expected);
  t.match(r.stdout, /Paired comparison: A = openai:gpt-a, B = anthropic:claude-b/);

  const short = await cli(['check', '--input', input, '--output', join(dir, 'never.jsonl')], { VERACITY_PROMPT_HASH_KEY: 'short' });
  t.equal(short.code, 2, 'a key too short to protect anything is a config error');
  t.match(short.stderr, /VERACITY_PROMPT_HASH_KEY \(the prompt_hash key\) must be at least 16 characters/);
});
