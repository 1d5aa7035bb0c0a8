import t from 'tap';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import OpenAI from 'openai';
import { startStack } from './helpers/stack.js';
import { startScriptedModel } from './helpers/model.js';
import { shadowExchangeId, shadowKey } from '../src/sampling/sampler.js';
import { compareMain } from '../src/report/compare/main.js';
import type { Comparison } from '../src/report/compare/figures.js';
import { waitForVerdict } from './helpers/verdicts.js';

// The whole path of a shadow comparison: client requests through the proxy, the worker asks a
// shadow model the same requests, both verdicts are stored with one prompt_hash and indexed, and
// `report --compare` pairs each shadow verdict with its original.

process.env.VERACITY_SAMPLING_OPENAI_KEY = 'sk-sampling-openai-key-42';
process.env.VERACITY_SAMPLING_ANTHROPIC_KEY = 'sk-ant-sampling-key-42';

const MAYORS = ['Josiah Whitcombe, elected in 1847', 'Samuel Harper, elected in 1852', 'Elias Brandt, elected in 1839', 'Thomas Greeley, elected in 1861'];
let mayor = 0;
// The primary model makes up a different mayor every time; the shadow names one, always the same.
const model = await startScriptedModel((question, _k, name) => {
  if (/Eiffel/.test(question)) return 'The Eiffel Tower was completed in 1889. It was designed by the company of Gustave Eiffel.';
  if (/mayor/.test(question)) return name === 'claude-shadow' ? 'The first mayor was Anna Reyes, elected in 1850.' : `The first mayor was ${MAYORS[mayor++ % MAYORS.length]}.`;
  return 'The capital of Australia is Canberra.';
});
t.teardown(() => model.close());

const SHADOW = { upstream: 'anthropic', model: 'claude-shadow' };
const { proxy, redis } = await startStack(t, {
  overrides: (raw) => {
    raw.upstreams = { openai: { url: model.url }, anthropic: { url: model.url } };
    raw.sampling = { enabled: true, rate: 1, samples: 3, temperature: 0.9, timeoutMs: 5000, shadow: [SHADOW] };
  },
});

function verdictFor(id: string, withinMs = 30_000): Promise<Record<string, any>> {
  return waitForVerdict(proxy.url, id, withinMs);
}

t.test('shadow verdicts carry their original prompt_hash, and report --compare pairs them', async (t) => {
  const openai = new OpenAI({ apiKey: 'sk-client-0123456789', baseURL: `${proxy.url}/v1`, maxRetries: 0 });
  const questions = ['When was the Eiffel Tower completed, and who designed it?', 'Who was the first mayor of Lindenhall, Ohio?', 'What is the capital of Australia?'];
  const ids: string[] = [];
  for (const q of questions) {
    const { response } = await openai.chat.completions.create({ model: 'gpt-open', messages: [{ role: 'system', content: 'Answer in one sentence.' }, { role: 'user', content: q }] }).withResponse();
    ids.push(response.headers.get('x-veracity-id')!);
  }
  const flagged: Record<string, [boolean, boolean]> = {};
  for (const id of ids) {
    const original = await verdictFor(id);
    const shadow = await verdictFor(shadowExchangeId(id, shadowKey(SHADOW.upstream, SHADOW.model)));
    t.match(original.prompt_hash, /^[0-9a-f]{32}$/);
    t.equal(shadow.prompt_hash, original.prompt_hash, 'the shadow answered the same prompt, in the other dialect');
    t.equal(shadow.shadow_of, id);
    flagged[id] = [original.hallucination.flagged, shadow.hallucination.flagged];
  }
  t.equal(new Set(Object.values(ids)).size, 3);

  const dir = mkdtempSync(join(tmpdir(), 'veracity-compare-shadow-'));
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  const json = join(dir, 'c.json');
  let err = '';
  const code = await compareMain(['--compare', 'gpt-open', 'claude-shadow', '--redis', redis.url, '--since', '1h', '--json', json], { out: () => {}, err: (s) => void (err += s) });
  t.equal(code, 0, err);
  const c = JSON.parse(readFileSync(json, 'utf8')) as Comparison;
  t.equal(c.pairing.prompts, 3, 'one pair per question');
  t.equal(c.pairing.shadowPairs, 3, 'each through shadow_of');
  const h = c.hallucination;
  const want = { both: 0, onlyA: 0, onlyB: 0, neither: 0 };
  for (const [a, b] of Object.values(flagged)) want[a && b ? 'both' : a ? 'onlyA' : b ? 'onlyB' : 'neither']++;
  t.same({ both: h.both, onlyA: h.onlyA, onlyB: h.onlyB, neither: h.neither }, want, `the table from the stored verdicts: ${JSON.stringify(want)}`);
  t.ok(want.both + want.onlyA >= 1, "the invented mayor is flagged (the shadow's answer, checked against the primary's, may be too)");
});
