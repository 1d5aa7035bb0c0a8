import t from 'tap';
import type { Exchange, ToolCall, ToolDeclaration } from '../src/capture/exchange.js';
import { fromRecord } from '../src/capture/index.js';
import { ConfigSchema } from '../src/config/schema.js';
import { analyse } from '../src/detect/index.js';
import { checkToolCalls, clearSchemaCache, compiledSchema, MAX_FINDINGS, SCHEMA_CACHE_SIZE, schemaCacheStats } from '../src/detect/tools.js';
import { withoutText } from '../src/verdicts/store.js';
import { chatToolCompletion, chatTools, TIME_SCHEMA, WEATHER_SCHEMA } from './helpers/tool-calls.js';

// Every tool call is held to the declared tools: name, JSON, schema. Findings name the path in
// the arguments and the rule broken; a failing call flags the exchange.

const cfg = ConfigSchema.parse({}).detect;
const tools: ToolDeclaration[] = [
  { name: 'get_weather', kind: 'function', parameters: WEATHER_SCHEMA },
  { name: 'get_time', kind: 'function', parameters: TIME_SCHEMA },
];
const call = (name: string, args: string, over: Partial<ToolCall> = {}): ToolCall => ({ id: `id_${name}`, name, arguments: args, kind: 'function', complete: true, ...over });
const check = (calls: ToolCall[], declared: ToolDeclaration[] | undefined = tools) => checkToolCalls({ tools: declared, response: { text: '', toolCalls: calls } })!;

t.test('a declared tool with valid arguments passes, checked against its schema', async (t) => {
  const r = check([call('get_weather', '{"city":"Paris","unit":"celsius","days":3}')]);
  t.same(r, { checked: 1, failed: 0, calls: [{ index: 0, id: 'id_get_weather', name: 'get_weather', checked: 'schema', valid: true, findings: [] }] });
});

t.test('an undeclared name is a tool_name failure that lists the declared names', async (t) => {
  const r = check([call('get_wether', '{"city":"Paris"}')]);
  t.equal(r.failed, 1);
  const c = r.calls[0]!;
  t.equal(c.failure_mode, 'tool_name');
  t.same(c.findings, [{ text: '"get_wether" is not a declared tool (declared: get_weather, get_time)', failure_mode: 'tool_name', path: '', rule: 'declared' }]);
  const none = check([call('get_weather', '{}')], []);
  t.match(none.calls[0]!.findings[0]!.text, /the request declared no tools/);
  const both = check([call('nope', '{"a":')]);
  t.same(both.calls[0]!.findings.map((f) => f.rule), ['declared', 'json'], 'an undeclared call with broken JSON says both');
  t.equal(both.calls[0]!.failure_mode, 'tool_name', 'the name decides the failure mode');
});

t.test('invalid JSON is a tool_arguments failure; the message keeps the arguments out', async (t) => {
  for (const args of ['{"city": "Paris"', '{city: "Paris"}', "{'city': 'secret-value'}", '{"city":"Paris"} trailing']) {
    const c = check([call('get_weather', args)]).calls[0]!;
    t.equal(c.failure_mode, 'tool_arguments', args);
    t.equal(c.findings.length, 1);
    t.equal(c.findings[0]!.rule, 'json');
    t.equal(c.findings[0]!.path, '');
    t.match(c.findings[0]!.text, /^get_weather: arguments are not valid JSON \(.+\)$/);
    t.notMatch(c.findings[0]!.text, /secret-value|Paris/, 'no argument text in the finding');
  }
  t.equal(check([call('get_time', '  ')]).calls[0]!.findings[0]!.rule, 'required', 'empty arguments read as {} (then the schema speaks)');
});

t.test('schema violations: path, rule and schema path for required, type, enum, additionalProperties, bounds', async (t) => {
  const c = check([call('get_weather', '{"unit":"kelvin","days":"three","country":"FR"}')]).calls[0]!;
  t.equal(c.failure_mode, 'tool_arguments');
  const got = c.findings.map((f) => [f.path, f.rule, f.schema_path]);
  t.same(got.sort(), [
    ['/city', 'required', '#/required'],
    ['/country', 'additionalProperties', '#/additionalProperties'],
    ['/days', 'type', '#/properties/days/type'],
    ['/unit', 'enum', '#/properties/unit/enum'],
  ].sort());
  const text = c.findings.map((f) => f.text).join('\n');
  t.match(text, 'get_weather: /city is required but missing');
  t.match(text, 'get_weather: /country is not a declared parameter (additionalProperties: false)');
  t.match(text, 'get_weather: /unit must be one of "celsius", "fahrenheit"');
  t.match(text, 'get_weather: /days must be integer');
  const bounds = check([call('get_weather', '{"city":"Oslo","days":10}')]).calls[0]!;
  t.same(bounds.findings.map((f) => [f.path, f.rule]), [['/days', 'maximum']]);
  const notObject = check([call('get_weather', '["Paris"]')]).calls[0]!;
  t.same(notObject.findings.map((f) => [f.path, f.rule]), [['', 'type']], 'arguments that are not an object');
});

t.test('parallel calls are checked one by one; findings are bounded per call', async (t) => {
  const r = check([call('get_weather', '{"city":"Paris"}'), call('get_time', '{"tz":"UTC"}'), call('get_time', '{"timezone":"UTC"}')]);
  t.same([r.checked, r.failed], [3, 1]);
  t.same(r.calls.map((c) => [c.index, c.valid]), [[0, true], [1, false], [2, true]]);
  const wide = { type: 'object', properties: Object.fromEntries(Array.from({ length: 30 }, (_, i) => [`p${i}`, { type: 'integer' }])) };
  const args = JSON.stringify(Object.fromEntries(Array.from({ length: 30 }, (_, i) => [`p${i}`, 'x'])));
  const many = check([call('wide', args)], [{ name: 'wide', kind: 'function', parameters: wide }]).calls[0]!;
  t.equal(many.findings.length, MAX_FINDINGS);
});

t.test('incomplete calls are listed but neither checked nor counted', async (t) => {
  const r = check([call('get_weather', '{"city":"Paris"}'), call('get_weather', '{"city": "Pa', { complete: false })]);
  t.same([r.checked, r.failed], [1, 0]);
  t.same(r.calls[1], { index: 1, id: 'id_get_weather', name: 'get_weather', checked: 'none', valid: true, findings: [], incomplete: true });
});

t.test('tools without a schema, custom tools, and schemas Ajv cannot compile are reported, never a crash', async (t) => {
  const declared: ToolDeclaration[] = [
    { name: 'bash', kind: 'function' },
    { name: 'run_sql', kind: 'custom' },
    { name: 'broken', kind: 'function', parameters: { type: 'strng' } },
    { name: 'remote', kind: 'function', parameters: { $ref: 'https://example.com/schema.json' } },
    { name: 'badregex', kind: 'function', parameters: { type: 'object', properties: { a: { type: 'string', pattern: '(' } } } },
    { name: 'notschema', kind: 'function', parameters: 'a string' },
  ];
  const r = check(
    [call('bash', '{"command":"ls"}'), call('bash', 'not json'), call('run_sql', 'SELECT 1', { kind: 'custom' }), call('broken', '{}'), call('remote', '{}'), call('badregex', '{}'), call('notschema', '{}')],
    declared,
  );
  t.same(r.calls.map((c) => [c.name, c.checked, c.valid]), [
    ['bash', 'json', true],
    ['bash', 'json', false],
    ['run_sql', 'name', true],
    ['broken', 'json', true],
    ['remote', 'json', true],
    ['badregex', 'json', true],
    ['notschema', 'json', true],
  ]);
  t.match(r.calls[3]!.schema_error, /^the declared schema does not compile: schema is invalid/);
  t.match(r.calls[4]!.schema_error, /can't resolve reference/);
  t.match(r.calls[5]!.schema_error, /Invalid regular expression/);
  t.match(r.calls[6]!.schema_error, /not a JSON Schema/);
  t.same(check([call('broken', '{"a":')], declared).calls[0]!.failure_mode, 'tool_arguments', 'the JSON is still checked');
});

t.test('a pattern that could backtrack without bound is left unenforced, and the verdict says so', async (t) => {
  const declared: ToolDeclaration[] = [{ name: 'f', kind: 'function', parameters: { type: 'object', properties: { a: { type: 'string', pattern: '^(a+)+$' }, b: { type: 'string', pattern: '^[a-z]+$' } } } }];
  const started = performance.now();
  const c = check([call('f', JSON.stringify({ a: 'a'.repeat(40) + '!', b: 'B' }))], declared).calls[0]!;
  t.ok(performance.now() - started < 1000, 'no catastrophic backtracking');
  t.same(c.findings.map((f) => [f.path, f.rule]), [['/b', 'pattern']], 'the safe pattern still holds');
  t.same(c.unchecked, ['pattern "^(a+)+$" (could backtrack without bound)']);
});

t.test('JSON Schema dialects: draft-07 by default, 2020-12 and 2019-09 by $schema, $defs references, formats', async (t) => {
  const draft2020 = { $schema: 'https://json-schema.org/draft/2020-12/schema', type: 'object', properties: { items: { type: 'array', prefixItems: [{ type: 'integer' }] } } };
  const pydantic = { type: 'object', properties: { when: { $ref: '#/$defs/When' } }, required: ['when'], $defs: { When: { type: 'string', format: 'date' } } };
  const draft4 = { $schema: 'http://json-schema.org/draft-04/schema#', type: 'object', required: ['x'] };
  const declared: ToolDeclaration[] = [
    { name: 'a', kind: 'function', parameters: draft2020 },
    { name: 'b', kind: 'function', parameters: pydantic },
    { name: 'c', kind: 'function', parameters: draft4 },
  ];
  const r = check([call('a', '{"items":["x"]}'), call('b', '{"when":"next Tuesday"}'), call('b', '{"when":"2025-03-01"}'), call('c', '{}')], declared);
  t.same(r.calls.map((c) => c.findings.map((f) => [f.path, f.rule])), [[['/items/0', 'type']], [['/when', 'format']], [], [['/x', 'required']]]);
  t.same(r.calls.map((c) => c.checked), ['schema', 'schema', 'schema', 'schema']);
});

t.test('values masked by capture.redactPii are not held to content rules', async (t) => {
  const declared: ToolDeclaration[] = [{ name: 'mail', kind: 'function', parameters: { type: 'object', properties: { to: { type: 'string', format: 'email' }, n: { type: 'integer' } } } }];
  const c = check([call('mail', '{"to":"[EMAIL]","n":"x"}')], declared).calls[0]!;
  t.same(c.findings.map((f) => f.path), ['/n'], 'the type error stays, the format of a mask is unknowable');
  t.same(c.unchecked, ['values masked by capture.redactPii']);
});

t.test('schemas are compiled once and cached, within a bound', async (t) => {
  clearSchemaCache();
  for (let i = 0; i < 50; i++) check([call('get_weather', '{"city":"Paris"}'), call('get_time', '{"timezone":"UTC"}')]);
  // A schema parsed afresh from each request is the same schema.
  check([call('get_weather', '{}')], [{ name: 'get_weather', kind: 'function', parameters: JSON.parse(JSON.stringify(WEATHER_SCHEMA)) }]);
  let s = schemaCacheStats();
  t.same([s.compiles, s.size], [2, 2], 'two schemas, two compilations');
  t.equal(s.hits, 99);
  for (let i = 0; i < SCHEMA_CACHE_SIZE + 100; i++) compiledSchema({ type: 'object', properties: { [`p${i}`]: { type: 'string' } } });
  s = schemaCacheStats();
  t.equal(s.size, SCHEMA_CACHE_SIZE, 'the cache stays bounded');
  const again = compiledSchema(JSON.parse(JSON.stringify(WEATHER_SCHEMA)));
  t.ok('validate' in again, 'an evicted schema compiles again');
  t.equal(schemaCacheStats().compiles, s.compiles + 1);
});

t.test('descriptions do not make a schema new: only what validates is compiled and keyed', async (t) => {
  clearSchemaCache();
  const schema = (when: string) => ({
    type: 'object',
    description: `Book a table. Today is ${when}.`,
    properties: {
      description: { type: 'string', description: 'What the booking is for', examples: ['dinner'] },
      guests: { type: 'integer', title: 'Guests', default: 2 },
    },
    required: ['description'],
  });
  const calls = ['2025-01-01', '2025-01-02', '2025-01-03'].map((d) => check([call('book', '{"guests":"two"}')], [{ name: 'book', kind: 'function', parameters: schema(d) }]).calls[0]!);
  t.equal(schemaCacheStats().compiles, 1, 'one compilation for three days');
  t.same(calls[2]!.findings.map((f) => [f.path, f.rule]), [['/description', 'required'], ['/guests', 'type']], 'a property named description is still a property');
});

t.test('analyse: a failing call flags the exchange with score 1; a passing one leaves the text verdict alone', async (t) => {
  const record = (calls: Parameters<typeof chatToolCompletion>[1], text: string | null = null) =>
    fromRecord({ id: 'x', provider: 'openai', request: { model: 'm', messages: [{ role: 'user', content: 'Weather in Paris?' }], tools: chatTools }, response: chatToolCompletion('m', calls, text) });
  const ok = analyse(record([{ id: 'c1', name: 'get_weather', arguments: '{"city":"Paris"}' }]), cfg);
  t.equal(ok.hallucination.flagged, false);
  t.equal(ok.hallucination.score, 0);
  t.same([ok.tool_calls?.checked, ok.tool_calls?.failed], [1, 0]);
  t.ok(ok.provenance?.includes('tools'));

  const bad = analyse(record([{ id: 'c1', name: 'get_weather', arguments: '{"city":"Paris","unit":"kelvin"}' }], 'Let me check the weather in Paris for you.'), cfg);
  t.equal(bad.hallucination.flagged, true);
  t.equal(bad.hallucination.score, 1);
  t.equal(bad.tool_calls?.calls[0]?.failure_mode, 'tool_arguments');
  t.ok(bad.hallucination.claims.every((c) => c.failure_mode === undefined || !c.failure_mode.startsWith('tool')), 'tool findings stay out of the text claims');

  const plain = analyse(fromRecord({ id: 'p', provider: 'openai', request: { model: 'm', messages: [{ role: 'user', content: 'Hi' }] }, response: chatToolCompletion('m', [], 'Hello there.') }), cfg);
  t.equal(plain.tool_calls, undefined, 'no calls, no section');
});

t.test('storeText: false drops finding texts and invented names, keeps paths and rules', async (t) => {
  const v = analyse(
    fromRecord({ id: 's', provider: 'openai', request: { model: 'm', messages: [], tools: chatTools }, response: chatToolCompletion('m', [{ id: 'a', name: 'get_wether', arguments: '{}' }, { id: 'b', name: 'get_weather', arguments: '{"unit":"kelvin","city":"Paris"}' }]) }),
    cfg,
  );
  const stripped = withoutText(v);
  const json = JSON.stringify(stripped.tool_calls);
  t.notMatch(json, /get_wether|kelvin|must be one of/);
  t.same(stripped.tool_calls?.calls.map((c) => [c.name, c.findings.map((f) => [f.path, f.rule, f.text])]), [
    ['', [['', 'declared', '']]],
    ['get_weather', [['/unit', 'enum', '']]],
  ]);
});

t.test('never throws on hostile shapes', async (t) => {
  const odd = [
    { tools: [null, 1, { name: 7 }] as unknown as ToolDeclaration[], response: { text: '', toolCalls: [null, { name: 'x' }] as unknown as ToolCall[] } },
    { tools: [{ name: 'deep', kind: 'function', parameters: JSON.parse('{"properties":{"a":'.repeat(2000) + '{}' + '}}'.repeat(2000)) }] as ToolDeclaration[], response: { text: '', toolCalls: [call('deep', '['.repeat(5000) + ']'.repeat(5000))] } },
  ] as Array<Pick<Exchange, 'tools' | 'response'>>;
  for (const e of odd) t.doesNotThrow(() => checkToolCalls(e));
  const v = analyse({ id: 'h', provider: 'openai', route: 'chat.completions', model: 'm', context: [], question: '', response: odd[0]!.response }, cfg);
  t.equal(v.provenance?.includes('error'), false, 'analysed, not failed');
});
