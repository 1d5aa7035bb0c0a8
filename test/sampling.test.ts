import t from 'tap';
import OpenAI from 'openai';
import Anthropic from '@anthropic-ai/sdk';
import { startStack } from './helpers/stack.js';
import { startScriptedModel } from './helpers/model.js';
import { shadowExchangeId, shadowKey } from '../src/sampling/sampler.js';
import { metricValue as readMetric, settledMetric } from './helpers/metrics.js';
import { waitForVerdict } from './helpers/verdicts.js';

// Open-ended questions through the real SDKs and the proxy; the worker re-asks the same scripted
// model (and a shadow model in the other dialect) and checks each answer against the others.
// Questions the model answers the same way every time are not flagged; questions it answers
// differently each time are, with per-claim agreement counts.

const CLIENT_OPENAI_KEY = 'sk-client-secret-openai-0123456789';
const CLIENT_ANTHROPIC_KEY = 'sk-ant-client-secret-0123456789';
const SAMPLING_OPENAI_KEY = 'sk-sampling-openai-key-42';
const SAMPLING_ANTHROPIC_KEY = 'sk-ant-sampling-key-42';
process.env.VERACITY_SAMPLING_OPENAI_KEY = SAMPLING_OPENAI_KEY;
process.env.VERACITY_SAMPLING_ANTHROPIC_KEY = SAMPLING_ANTHROPIC_KEY;

const MAYORS = ['Josiah Whitcombe, elected in 1847', 'Samuel Harper, elected in 1852', 'Elias Brandt, elected in 1839', 'Thomas Greeley, elected in 1861', 'Margaret Olsen, elected in 1874', 'Walter Pryce, elected in 1868'];
let mayor = 0;
const model = await startScriptedModel((question) => {
  if (/Eiffel/.test(question)) return 'The Eiffel Tower was completed in 1889. It was designed by the company of Gustave Eiffel.';
  if (/Lindenhall/.test(question)) return `The first mayor of Lindenhall was ${MAYORS[mayor++ % MAYORS.length]}.`;
  if (/Australia/.test(question)) return 'The capital of Australia is Canberra.';
  return 'I am not sure.';
});
t.teardown(() => model.close());

const SHADOW = { upstream: 'anthropic', model: 'claude-shadow' };
const { proxy } = await startStack(t, {
  overrides: (raw) => {
    raw.upstreams = { openai: { url: model.url }, anthropic: { url: model.url } };
    raw.sampling = { enabled: true, rate: 1, samples: 3, temperature: 0.9, timeoutMs: 5000, shadow: [SHADOW] };
  },
});

function verdictFor(id: string, withinMs = 10_000): Promise<Record<string, any>> {
  return waitForVerdict(proxy.url, id, withinMs);
}

function metricValue(name: string, labels: Record<string, string>): Promise<number> {
  return readMetric(proxy.url, name, labels);
}

const openai = new OpenAI({ apiKey: CLIENT_OPENAI_KEY, baseURL: `${proxy.url}/v1`, maxRetries: 0 });
const anthropic = new Anthropic({ apiKey: CLIENT_ANTHROPIC_KEY, baseURL: proxy.url, maxRetries: 0 });

async function ask(question: string, stream = false): Promise<string> {
  if (stream) {
    const { response, data } = await openai.chat.completions.create({ model: 'gpt-open', stream: true, messages: [{ role: 'user', content: question }] }).withResponse();
    for await (const _ of data) {
      // drain
    }
    return response.headers.get('x-veracity-id')!;
  }
  const { response } = await openai.chat.completions.create({ model: 'gpt-open', messages: [{ role: 'user', content: question }] }).withResponse();
  return response.headers.get('x-veracity-id')!;
}

t.test('consistent answers are not flagged; inconsistent ones are, with agreement per claim', async (t) => {
  const consistent = await ask('When was the Eiffel Tower completed, and who designed it?', true);
  const inconsistent = await ask('Who was the first mayor of the town of Lindenhall, Ohio?');
  const good = await verdictFor(consistent);
  const bad = await verdictFor(inconsistent);

  t.equal(good.hallucination.method, 'samples', 'an open question is checked against samples');
  t.equal(good.hallucination.flagged, false, 'the answer the model always gives is not flagged');
  t.ok(good.hallucination.claims.length >= 2);
  for (const c of good.hallucination.claims) {
    t.same(c.agreement, { supporting: 4, samples: 4 }, `"${c.text}" supported by all 3 resamples and the shadow answer`);
    t.equal(c.support, 'supported');
  }
  t.same(good.hallucination.disagreement, { answers: 5, clusters: 1, entropy: 0 });

  t.equal(bad.hallucination.method, 'samples');
  t.equal(bad.hallucination.flagged, true, 'an answer the model changes every time is flagged');
  const claim = bad.hallucination.claims[0];
  t.same(claim.agreement, { supporting: 0, samples: 4 }, 'no sample supports the invented mayor');
  t.equal(claim.support, 'unsupported');
  t.ok(bad.hallucination.disagreement.clusters >= 4, `answers scatter over ${bad.hallucination.disagreement.clusters} clusters`);
  t.ok(bad.provenance.includes('samples:4'));

  // The shadow model's answers are exchanges of their own, pointing back at the original.
  const shadowId = shadowExchangeId(inconsistent, shadowKey(SHADOW.upstream, SHADOW.model));
  const shadow = await verdictFor(shadowId);
  t.equal(shadow.shadow_of, inconsistent);
  t.equal(shadow.provider, 'anthropic');
  t.equal(shadow.model, 'claude-shadow');
  t.equal(shadow.hallucination.method, 'samples');
  t.equal(shadow.hallucination.flagged, true, 'the shadow invents a mayor too, and no other answer agrees');
  const goodShadow = await verdictFor(shadowExchangeId(consistent, shadowKey(SHADOW.upstream, SHADOW.model)));
  t.equal(goodShadow.hallucination.flagged, false);

  // What went upstream: the client's request, one resample call with n=3, one shadow call.
  const forGood = model.calls.filter((c) => /Eiffel/.test(c.question));
  t.equal(forGood.length, 3, 'client request + one resample call + one shadow call');
  const resample = forGood.find((c) => c.path === '/v1/chat/completions' && c.body.n === 3)!;
  t.ok(resample, 'resampled in one call with n=3');
  t.equal(resample.body.stream, false, 'resampled without streaming');
  t.equal(resample.body.temperature, 0.9, 'at the configured temperature');
  t.notOk('stream_options' in resample.body);
  const shadowCall = forGood.find((c) => c.path === '/v1/messages')!;
  t.ok(shadowCall, 'the shadow model asked in the Anthropic format');
  t.equal(shadowCall.body.model, 'claude-shadow');
  t.same(shadowCall.body.messages, [{ role: 'user', content: 'When was the Eiffel Tower completed, and who designed it?' }]);
  t.equal(shadowCall.body.stream, undefined);

  // Counted apart: primary checks count the two client exchanges only.
  t.equal(await settledMetric(proxy.url, 'veracity_checks_total', { model: 'gpt-open' }, 2), 2);
  t.equal(await metricValue('veracity_checks_total', { model: 'claude-shadow' }), 0, 'shadow answers never in primary checks');
  t.equal(await metricValue('veracity_shadow_checks_total', { model: 'claude-shadow', method: 'samples' }), 2);
  t.equal(await metricValue('veracity_shadow_hallucinations_total', { model: 'claude-shadow' }), 1);
  t.equal(await metricValue('veracity_checks_by_method_total', { model: 'gpt-open', method: 'samples' }), 2);
  t.equal(await metricValue('veracity_hallucinations_by_method_total', { model: 'gpt-open', method: 'samples' }), 1);
  t.equal(await metricValue('veracity_sampling_calls_total', { upstream: 'openai', model: 'gpt-open', role: 'resample', result: 'ok' }), 2);
  t.equal(await metricValue('veracity_sampling_calls_total', { upstream: 'anthropic', model: 'claude-shadow', role: 'shadow', result: 'ok' }), 2);
  t.equal(await metricValue('veracity_sampling_tokens_total', { role: 'resample', type: 'output' }), 2 * 45, 'tokens as the API reported them');
});

t.test('Anthropic primary: N separate calls (no n in that API), and its shadow', async (t) => {
  const { response } = await anthropic.messages.create({ model: 'claude-open', max_tokens: 300, system: 'Be brief.', messages: [{ role: 'user', content: 'What is the capital of Australia?' }] }).withResponse();
  const id = response.headers.get('x-veracity-id')!;
  const v = await verdictFor(id);
  t.equal(v.hallucination.method, 'samples');
  t.equal(v.hallucination.flagged, false);
  const calls = model.calls.filter((c) => /Australia/.test(c.question));
  const resamples = calls.filter((c) => c.path === '/v1/messages' && c.body.model === 'claude-open' && c.body.stream === false);
  t.equal(resamples.length, 3, 'three calls for three samples');
  for (const c of resamples) {
    t.equal(c.body.max_tokens, 300, "the request's own token limit (under sampling.maxTokens)");
    t.equal(c.body.system, 'Be brief.');
  }
  t.equal(calls.filter((c) => c.body.model === 'claude-shadow').length, 1);
});

t.test('client credentials never reach a sampling or shadow call; the configured keys do', async (t) => {
  const own = model.calls.filter((c) => JSON.stringify(c.headers).includes('client-secret'));
  const sampling = model.calls.filter((c) => !JSON.stringify(c.headers).includes('client-secret'));
  t.equal(own.length, 3, 'the three client requests carried the client keys');
  t.equal(sampling.length, model.calls.length - 3);
  t.ok(sampling.length >= 8, `${sampling.length} sampling and shadow calls`);
  for (const c of sampling) {
    const headers = JSON.stringify(c.headers);
    t.notMatch(headers, /client-secret/, `${c.path} ${c.body.model}: no client key`);
    if (c.path === '/v1/messages') {
      t.equal(c.headers['x-api-key'], SAMPLING_ANTHROPIC_KEY, 'the configured Anthropic key');
      t.equal(c.headers.authorization, undefined);
      t.equal(c.headers['anthropic-version'], '2023-06-01');
    } else {
      t.equal(c.headers.authorization, `Bearer ${SAMPLING_OPENAI_KEY}`, 'the configured OpenAI key');
      t.equal(c.headers['x-api-key'], undefined);
    }
  }
});
