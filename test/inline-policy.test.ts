import t from 'tap';
import { ConfigSchema } from '../src/config/schema.js';
import { badInlineHeader, resolvePolicy } from '../src/proxy/inline/policy.js';

// Which inline settings apply to a request: its header, then its app, then its model, then the defaults.

const inline = ConfigSchema.parse({
  inline: {
    mode: 'annotate',
    retry: 0,
    models: { 'gpt-a': { mode: 'block', retry: 2, fallbackModel: 'gpt-b' }, 'gpt-off': { mode: 'off' } },
    apps: { strict: { mode: 'block', blockOn: ['hallucination'] }, quiet: { mode: 'off' } },
  },
}).inline;

t.test('defaults, then model, then app, then the request header', async (t) => {
  t.match(resolvePolicy(inline, 'gpt-x', undefined, {}), { mode: 'annotate', retry: 0, blockOn: ['hallucination', 'confidence_mismatch', 'refusal'] });
  t.match(resolvePolicy(inline, 'gpt-a', undefined, {}), { mode: 'block', retry: 2, fallbackModel: 'gpt-b' });
  t.equal(resolvePolicy(inline, 'gpt-off', undefined, {}), undefined, 'off for a model');
  t.match(resolvePolicy(inline, 'gpt-off', 'strict', {}), { mode: 'block', blockOn: ['hallucination'] }, 'the app wins over the model');
  t.match(resolvePolicy(inline, 'gpt-a', 'strict', {}), { mode: 'block', retry: 2, blockOn: ['hallucination'] }, 'what the app leaves unset comes from the model');
  t.equal(resolvePolicy(inline, 'gpt-a', 'quiet', {}), undefined, 'an app can turn it off');
  t.match(resolvePolicy(inline, 'gpt-a', 'quiet', { 'x-veracity-inline': 'annotate' }), { mode: 'annotate' }, 'the header wins over all');
  t.equal(resolvePolicy(inline, 'gpt-a', 'strict', { 'x-veracity-inline': 'OFF ' }), undefined, 'case and spaces do not matter');
});

t.test('the header is checked, and can be switched off', async (t) => {
  t.equal(badInlineHeader({}, inline), undefined);
  t.equal(badInlineHeader({ 'x-veracity-inline': 'block' }, inline), undefined);
  t.match(badInlineHeader({ 'x-veracity-inline': 'strict' }, inline), /must be one of off, annotate, block; got "strict"/);
  t.match(badInlineHeader({ 'x-veracity-inline': ['off', 'block'] }, inline), /must be one of/);
  const closed = { ...inline, header: false };
  t.match(badInlineHeader({ 'x-veracity-inline': 'off' }, closed), /not accepted here \(inline.header is false\)/);
  t.match(resolvePolicy(closed, 'gpt-x', undefined, { 'x-veracity-inline': 'off' }), { mode: 'annotate' }, 'and is then ignored');
});

t.test('bad config names the field', async (t) => {
  const r = ConfigSchema.safeParse({ inline: { mode: 'strict', apps: { a: { retry: 9 } } } });
  t.notOk(r.success);
  const paths = r.success ? [] : r.error.issues.map((i) => i.path.join('.'));
  t.ok(paths.includes('inline.mode'));
  t.ok(paths.includes('inline.apps.a.retry'));
});
