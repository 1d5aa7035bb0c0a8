import { createRequire } from 'node:module';
import type { Ajv, ErrorObject, Options, ValidateFunction } from 'ajv';
import type { Exchange, ToolCall, ToolDeclaration } from '../capture/exchange.js';
import { REDACTION_TAGS } from '../capture/redact.js';
import type { ToolCallsVerdict, ToolCallVerdict, ToolFinding, Verdict } from './verdict.js';

/**
 * Tool-call checks: every call an answer makes is held to the tools its request declared. The
 * name must be a declared tool; a function's arguments must be JSON and satisfy the declared
 * JSON Schema. Deterministic, and pure apart from a bounded cache of compiled schemas (a cache
 * changes no result, only how fast it comes).
 */

/** Calls checked per answer; more than this in one answer is not a tool-use pattern worth the CPU. */
export const MAX_TOOL_CALLS = 128;
/** Findings kept per call: enough to say what is wrong, bounded whatever the schema. */
export const MAX_FINDINGS = 10;
/** Declared schemas larger than this (serialised) are not compiled: their calls are checked as JSON only. */
export const MAX_SCHEMA_CHARS = 64 * 1024;
/** Compiled schemas kept, least recently used dropped first. */
export const SCHEMA_CACHE_SIZE = 256;
/** Characters of schema text the cache may hold as keys, all entries together. */
const SCHEMA_CACHE_CHARS = 4 * 1024 * 1024;
/**
 * Compilations per Ajv instance. Ajv keeps every value it generates code for (patterns, formats,
 * sub-validators) in its instance for good, so an instance is retired after this many
 * compilations and goes once the cache no longer holds validators made by it.
 */
const COMPILES_PER_INSTANCE = 256;

/** Rules whose outcome depends on a string's content: unknowable for a value masked by capture.redactPii. */
const CONTENT_RULES = new Set(['pattern', 'format', 'minLength', 'maxLength', 'enum', 'const']);

/** Checks every tool call of an answer; undefined when it made none. Never throws. */
export function checkToolCalls(exchange: Pick<Exchange, 'tools' | 'response'>): ToolCallsVerdict | undefined {
  const calls = Array.isArray(exchange.response?.toolCalls) ? exchange.response.toolCalls.slice(0, MAX_TOOL_CALLS) : [];
  if (calls.length === 0) return undefined;
  const declared = new Map<string, ToolDeclaration>();
  for (const tool of Array.isArray(exchange.tools) ? exchange.tools : []) {
    // As providers do, the first declaration of a name is the one that counts.
    if (tool && typeof tool.name === 'string' && !declared.has(tool.name)) declared.set(tool.name, tool);
  }
  const out: ToolCallsVerdict = { checked: 0, failed: 0, calls: [] };
  calls.forEach((call, index) => {
    const verdict = checkCall(call, index, declared);
    if (!verdict.incomplete) out.checked++;
    if (!verdict.valid) out.failed++;
    out.calls.push(verdict);
  });
  return out;
}

/**
 * Adds the tool-call checks to a verdict. A call that fails is a hallucination of the answer as
 * certain as any: the exchange is flagged with score 1, whatever its text scored.
 */
export function applyToolChecks(verdict: Verdict, exchange: Pick<Exchange, 'tools' | 'response'>): void {
  const result = checkToolCalls(exchange);
  if (!result) return;
  verdict.tool_calls = result;
  verdict.provenance = [...(verdict.provenance ?? []), 'tools'];
  holdToolFailures(verdict);
}

/** Whatever later readings of the text say (the judge), a failing tool call keeps the exchange flagged. */
export function holdToolFailures(verdict: Verdict): void {
  if ((verdict.tool_calls?.failed ?? 0) === 0) return;
  verdict.hallucination.score = 1;
  verdict.hallucination.flagged = true;
}

function checkCall(given: ToolCall | null | undefined, index: number, declared: Map<string, ToolDeclaration>): ToolCallVerdict {
  const call: Partial<ToolCall> = typeof given === 'object' && given !== null ? given : {};
  const name = typeof call.name === 'string' ? call.name : '';
  const verdict: ToolCallVerdict = { index, name, checked: 'none', valid: true, findings: [] };
  if (typeof call.id === 'string') verdict.id = call.id;
  if (call.complete === false) {
    verdict.incomplete = true;
    return verdict;
  }
  const tool = declared.get(name);
  const args = typeof call.arguments === 'string' ? call.arguments : '';
  if (!tool) {
    const names = [...declared.keys()];
    const known = names.length === 0 ? 'the request declared no tools' : `declared: ${names.slice(0, 10).join(', ')}${names.length > 10 ? ', …' : ''}`;
    verdict.findings.push({ text: `${JSON.stringify(name)} is not a declared tool (${known})`, failure_mode: 'tool_name', path: '', rule: 'declared' });
    if (call.kind !== 'custom') {
      verdict.checked = 'json';
      parseArguments(name, args, verdict);
    }
  } else if (tool.kind === 'custom' || call.kind === 'custom') {
    // Free-text input (or a function declared and called as custom, which the provider would refuse).
    verdict.checked = 'name';
  } else {
    verdict.checked = 'json';
    const parsed = parseArguments(name, args, verdict);
    if (parsed.ok && tool.parameters !== undefined) {
      const compiled = compiledSchema(tool.parameters);
      if ('error' in compiled) verdict.schema_error = compiled.error;
      else {
        verdict.checked = 'schema';
        if (compiled.unchecked.length > 0) verdict.unchecked = [...compiled.unchecked];
        validate(name, compiled.validate, parsed.value, verdict);
      }
    }
  }
  finish(verdict);
  return verdict;
}

function finish(verdict: ToolCallVerdict): void {
  if (verdict.findings.length > MAX_FINDINGS) verdict.findings = verdict.findings.slice(0, MAX_FINDINGS);
  verdict.valid = verdict.findings.length === 0;
  if (!verdict.valid) verdict.failure_mode = verdict.findings.some((f) => f.failure_mode === 'tool_name') ? 'tool_name' : 'tool_arguments';
}

function parseArguments(name: string, args: string, verdict: ToolCallVerdict): { ok: true; value: unknown } | { ok: false } {
  // An empty argument string is how some servers write "no arguments".
  if (args.trim() === '') return { ok: true, value: {} };
  try {
    return { ok: true, value: JSON.parse(args) };
  } catch (err) {
    // V8 quotes the input in its message; the position is enough and keeps arguments out of verdicts.
    const why = err instanceof Error ? err.message.replace(/,? ".*" is not valid JSON$/s, '').replace(/^Unexpected token '.*?'/s, 'Unexpected token') : 'unreadable';
    verdict.findings.push({ text: `${name}: arguments are not valid JSON (${why})`, failure_mode: 'tool_arguments', path: '', rule: 'json' });
    return { ok: false };
  }
}

function validate(name: string, fn: ValidateFunction, value: unknown, verdict: ToolCallVerdict): void {
  let ok: boolean;
  try {
    ok = fn(value) === true;
  } catch (err) {
    verdict.schema_error = `validation failed: ${err instanceof Error ? err.message : String(err)}`;
    verdict.checked = 'json';
    return;
  }
  if (ok) return;
  let masked = false;
  for (const e of fn.errors ?? []) {
    if (CONTENT_RULES.has(e.keyword) && typeof e.data === 'string' && REDACTION_TAGS.some((tag) => (e.data as string).includes(tag))) {
      masked = true;
      continue;
    }
    verdict.findings.push(finding(name, e));
    if (verdict.findings.length > MAX_FINDINGS) break;
  }
  if (masked) verdict.unchecked = [...(verdict.unchecked ?? []), 'values masked by capture.redactPii'];
}

const pointerToken = (key: string) => key.replace(/~/g, '~0').replace(/\//g, '~1');

function finding(name: string, e: ErrorObject): ToolFinding {
  let path = e.instancePath;
  let text: string;
  const params = e.params as Record<string, unknown>;
  switch (e.keyword) {
    case 'required':
      path += `/${pointerToken(String(params.missingProperty))}`;
      text = `${path} is required but missing`;
      break;
    case 'additionalProperties':
      path += `/${pointerToken(String(params.additionalProperty))}`;
      text = `${path} is not a declared parameter (additionalProperties: false)`;
      break;
    case 'enum': {
      const allowed = Array.isArray(params.allowedValues) ? params.allowedValues : [];
      const shown = allowed.slice(0, 10).map((v) => JSON.stringify(v)).join(', ');
      text = `${path || 'arguments'} must be one of ${shown}${allowed.length > 10 ? ', …' : ''}`;
      break;
    }
    default:
      text = `${path || 'arguments'} ${e.message ?? `breaks ${e.keyword}`}`;
  }
  return { text: `${name}: ${text}`, failure_mode: 'tool_arguments', path, rule: e.keyword, schema_path: e.schemaPath };
}

// ---- compiled schemas ----

type Compiled = { validate: ValidateFunction; unchecked: string[] } | { error: string };
type Dialect = 'draft-07' | '2019-09' | '2020-12';

/** Keyed by the schema's text, so a schema parsed afresh from every request is found again. */
const cache = new Map<string, Compiled>();
let cachedChars = 0;
/** The same declaration object met again (parallel calls of one tool): no need to serialise it twice. */
let byObject = new WeakMap<object, Compiled>();
const instances = new Map<Dialect, { ajv: Ajv; compiles: number }>();
let stats = { compiles: 0, hits: 0 };
/** Collects, during one compilation, the patterns left unenforced. */
let uncheckedPatterns: string[] | undefined;

/**
 * Patterns come from requests; a pattern that can backtrack without bound (`(a+)+$`) would stall
 * the worker on a crafted argument. Those are left unenforced, and the call's verdict says so.
 */
const regExpEngine = Object.assign(
  (pattern: string, flags: string) => {
    const re = new RegExp(pattern, flags); // an invalid pattern fails the compilation, as it should
    if (validators().safeRegex(re)) return re;
    uncheckedPatterns?.push(`pattern ${JSON.stringify(pattern)} (could backtrack without bound)`);
    return { test: () => true, toString: () => `unchecked:${pattern}` };
  },
  { code: 'new RegExp' },
);

/**
 * The validator and its companions are loaded when the first schema is compiled: Ajv takes a
 * noticeable part of a second to load on a busy machine, which every start of `serve`, `worker`
 * and `check` would pay whether or not any answer ever calls a tool.
 */
interface Validators {
  Ajv: typeof import('ajv').Ajv;
  Ajv2019: typeof import('ajv/dist/2019.js').Ajv2019;
  Ajv2020: typeof import('ajv/dist/2020.js').Ajv2020;
  addFormats: typeof import('ajv-formats').default;
  safeRegex: typeof import('safe-regex2');
}
let loaded: Validators | undefined;
function validators(): Validators {
  if (!loaded) {
    const require = createRequire(import.meta.url);
    // CommonJS modules: each exports its main function or class, and names it too.
    loaded = {
      Ajv: (require('ajv') as typeof import('ajv')).Ajv,
      Ajv2019: (require('ajv/dist/2019.js') as typeof import('ajv/dist/2019.js')).Ajv2019,
      Ajv2020: (require('ajv/dist/2020.js') as typeof import('ajv/dist/2020.js')).Ajv2020,
      addFormats: (require('ajv-formats') as typeof import('ajv-formats')).default,
      safeRegex: require('safe-regex2') as typeof import('safe-regex2'),
    };
  }
  return loaded;
}

const AJV_OPTIONS: Options = {
  // Schemas in the wild carry keywords and formats of their own; unknown ones are ignored, as providers do.
  strict: false,
  allErrors: true,
  verbose: true,
  // Compiled schemas are cached here, not registered by $id: two apps may reuse an $id for different schemas.
  addUsedSchema: false,
  logger: false,
  // `[a-z\-]` is common in tool schemas and invalid under the u flag.
  unicodeRegExp: false,
  code: { regExp: regExpEngine },
};

function ajvFor(dialect: Dialect): Ajv {
  let entry = instances.get(dialect);
  if (!entry || entry.compiles >= COMPILES_PER_INSTANCE) {
    const v = validators();
    const ajv = dialect === '2020-12' ? new v.Ajv2020(AJV_OPTIONS) : dialect === '2019-09' ? new v.Ajv2019(AJV_OPTIONS) : new v.Ajv(AJV_OPTIONS);
    v.addFormats(ajv, { mode: 'fast' });
    entry = { ajv, compiles: 0 };
    instances.set(dialect, entry);
  }
  entry.compiles++;
  return entry.ajv;
}

function dialectOf(schema: unknown): Dialect {
  const id = typeof schema === 'object' && schema !== null ? (schema as { $schema?: unknown }).$schema : undefined;
  if (typeof id === 'string' && id.includes('2020-12')) return '2020-12';
  if (typeof id === 'string' && id.includes('2019-09')) return '2019-09';
  return 'draft-07';
}

/** The validator for a declared schema, compiled once and cached; a schema that cannot be used says why. */
export function compiledSchema(schema: unknown): Compiled {
  if (typeof schema !== 'boolean' && (typeof schema !== 'object' || schema === null || Array.isArray(schema))) {
    return { error: 'the declared parameters are not a JSON Schema (neither an object nor a boolean)' };
  }
  const seen = typeof schema === 'object' ? byObject.get(schema) : undefined;
  if (seen) {
    stats.hits++;
    return seen;
  }
  const core = withoutAnnotations(schema, 0);
  const text = JSON.stringify(core);
  if (text.length > MAX_SCHEMA_CHARS) return { error: `the declared schema is larger than ${MAX_SCHEMA_CHARS} characters without its descriptions` };
  // The text says which dialect, through its $schema: it is the whole key.
  let compiled = cache.get(text);
  if (compiled) {
    stats.hits++;
    cache.delete(text);
    cache.set(text, compiled);
  } else {
    compiled = compile(core as object | boolean, dialectOf(core));
    stats.compiles++;
    cache.set(text, compiled);
    cachedChars += text.length;
    while (cache.size > SCHEMA_CACHE_SIZE || cachedChars > SCHEMA_CACHE_CHARS) {
      const oldest = cache.keys().next().value!;
      cache.delete(oldest);
      cachedChars -= oldest.length;
    }
  }
  if (typeof schema === 'object') byObject.set(schema, compiled);
  return compiled;
}

/** Keywords that describe and never constrain: dropped, so only what validates is compiled and keyed. */
const ANNOTATIONS = new Set(['description', 'title', 'examples', 'default', '$comment', 'deprecated', 'readOnly', 'writeOnly']);
/** Keywords whose value is a schema, an array of schemas, or a map of names to schemas. */
const SUBSCHEMA = new Set(['items', 'additionalItems', 'contains', 'not', 'if', 'then', 'else', 'additionalProperties', 'propertyNames', 'unevaluatedItems', 'unevaluatedProperties', 'allOf', 'anyOf', 'oneOf', 'prefixItems']);
const SUBSCHEMA_MAP = new Set(['properties', 'patternProperties', '$defs', 'definitions', 'dependentSchemas', 'dependencies']);
/** Deeper than this, a schema is kept as it came (and Ajv decides what to make of it). */
const MAX_WALK_DEPTH = 64;

/**
 * The schema without its annotations. Tool schemas carry long descriptions written for the
 * model, sometimes with per-request content (a date, a user's name), which would otherwise make
 * every request's schema a new one to compile. Only schema positions are walked, so a property
 * named `description` stays.
 */
function withoutAnnotations(schema: unknown, depth: number): unknown {
  if (typeof schema !== 'object' || schema === null || depth > MAX_WALK_DEPTH) return schema;
  if (Array.isArray(schema)) return schema.map((s) => withoutAnnotations(s, depth + 1));
  const out: Record<string, unknown> = {};
  for (const [key, value] of Object.entries(schema)) {
    if (ANNOTATIONS.has(key) || key === '__proto__') continue;
    if (SUBSCHEMA.has(key)) out[key] = withoutAnnotations(value, depth + 1);
    else if (SUBSCHEMA_MAP.has(key) && typeof value === 'object' && value !== null && !Array.isArray(value)) {
      out[key] = Object.fromEntries(Object.entries(value).map(([name, sub]) => [name, Array.isArray(sub) ? sub : withoutAnnotations(sub, depth + 1)]));
    } else out[key] = value;
  }
  return out;
}

function compile(schema: object | boolean, dialect: Dialect): Compiled {
  // Any other $schema (draft-04, -06, an unknown URI) is read as draft-07, the closest Ajv knows.
  let input = schema;
  if (dialect === 'draft-07' && typeof schema === 'object' && '$schema' in schema) {
    const { $schema: _ignored, ...rest } = schema as Record<string, unknown>;
    input = rest;
  }
  uncheckedPatterns = [];
  try {
    const validate = ajvFor(dialect).compile(input);
    return { validate, unchecked: uncheckedPatterns };
  } catch (err) {
    const message = err instanceof Error ? err.message : String(err);
    return { error: `the declared schema does not compile: ${message.length > 300 ? `${message.slice(0, 300)}…` : message}` };
  } finally {
    uncheckedPatterns = undefined;
  }
}

/** Cache figures, for tests and the benchmark. */
export function schemaCacheStats(): { size: number; compiles: number; hits: number } {
  return { size: cache.size, ...stats };
}

export function clearSchemaCache(): void {
  cache.clear();
  cachedChars = 0;
  byObject = new WeakMap();
  instances.clear();
  stats = { compiles: 0, hits: 0 };
}
