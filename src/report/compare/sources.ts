import { createReadStream } from 'node:fs';
import { createInterface } from 'node:readline';
import type { RedisConnection as Redis } from '../../redis/connection.js';
import { VerdictStore } from '../../verdicts/store.js';
import { OVERFLOW_LABEL } from '../../verdicts/model-index.js';
import { connectReportRedis, describeLocation, type RedisLocation } from '../from-redis.js';
import type { Measure, Scored } from './pairing.js';

/** Where `report --compare` reads verdicts: Redis (the per-model index) or a JSONL file. */

export class CompareError extends Error {
  constructor(
    readonly code: 'VERACITY_ERR_COMPARE_INPUT' | 'VERACITY_ERR_COMPARE_MODEL' | 'VERACITY_ERR_COMPARE_REDIS',
    message: string,
  ) {
    super(message);
    this.name = 'CompareError';
  }
}

export type Provider = 'openai' | 'anthropic';

/** A model as named on the command line: `gpt-4o`, or `openai:gpt-4o` to name its provider too. */
export interface ModelSpec {
  provider?: Provider;
  model: string;
}

export function parseModelSpec(text: string): ModelSpec {
  const m = /^(openai|anthropic):(.+)$/.exec(text);
  const spec: ModelSpec = m ? { provider: m[1] as Provider, model: m[2]! } : { model: text };
  if (spec.model.trim() === '') throw new CompareError('VERACITY_ERR_COMPARE_MODEL', `model ${JSON.stringify(text)} has no name`);
  return spec;
}

export const specText = (s: ModelSpec) => (s.provider ? `${s.provider}:${s.model}` : s.model);
const matches = (s: ModelSpec, v: { provider: string; model: string }) => v.model === s.model && (s.provider === undefined || v.provider === s.provider);

export interface Window {
  /** Epoch ms, inclusive; undefined = no lower bound. */
  fromMs?: number;
  toMs: number;
}

export interface Loaded {
  a: Scored[];
  b: Scored[];
  /** Providers each model was found under. */
  providers: { a: string[]; b: string[] };
  /** Verdicts the worker handled without analysing (`skipped`): not comparable. */
  skipped: number;
  /** Lines or stored values that were not verdicts (check's error lines, unreadable values). */
  ignored: number;
  /** Verdicts of the two models outside the window (or, with a window, without a time). */
  outsideWindow: number;
  /** What was read, for the report's header (never credentials). */
  source: string;
  /** Set when a model's index held more verdicts in the window than were read: how many were. */
  cappedAt?: number;
}

const isObj = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);
const num01 = (v: unknown) => typeof v === 'number' && Number.isFinite(v);

/** The comparison's view of one verdict, or why it is not one. */
export function toScored(v: unknown): Scored | string {
  if (!isObj(v)) return 'not a JSON object';
  const missing: string[] = [];
  if (typeof v.id !== 'string' || v.id === '') missing.push('id');
  if (typeof v.provider !== 'string') missing.push('provider');
  if (typeof v.model !== 'string') missing.push('model');
  const part = (name: Measure) => {
    const p = v[name];
    if (!isObj(p) || typeof p.flagged !== 'boolean' || !num01(p.score)) {
      missing.push(`${name}.flagged/score`);
      return { flagged: false, score: 0 };
    }
    return { flagged: p.flagged, score: p.score as number };
  };
  const h = part('hallucination');
  const r = part('refusal');
  const c = part('confidence_mismatch');
  if (missing.length > 0) return `not a verdict (missing or invalid: ${missing.join(', ')})`;
  const hallucination = v.hallucination as Record<string, unknown>;
  const refusal = v.refusal as Record<string, unknown>;
  const claims = (Array.isArray(hallucination.claims) ? hallucination.claims : [])
    .filter(isObj)
    .filter((cl) => cl.support !== 'supported' && num01(cl.score))
    .map((cl) => ({ text: typeof cl.text === 'string' ? cl.text : '', support: String(cl.support ?? 'unsupported'), score: cl.score as number }))
    .sort((x, y) => y.score - x.score)
    .slice(0, 3);
  const at = typeof v.analysed_at === 'string' ? Date.parse(v.analysed_at) : NaN;
  const out: Scored = {
    id: v.id as string,
    provider: v.provider as string,
    model: v.model as string,
    flagged: { hallucination: h.flagged, refusal: r.flagged, confidence_mismatch: c.flagged },
    score: { hallucination: h.score, refusal: r.score, confidence_mismatch: c.score },
    refusalKind: typeof refusal.kind === 'string' ? refusal.kind : 'none',
    claims,
  };
  if (Number.isFinite(at)) out.at = at;
  if (typeof v.prompt_hash === 'string' && v.prompt_hash !== '') out.promptHash = v.prompt_hash;
  if (typeof v.shadow_of === 'string' && v.shadow_of !== '') out.shadowOf = v.shadow_of;
  if (typeof v.app === 'string') out.app = v.app;
  return out;
}

/** Sorts verdicts into A, B or neither, and checks each model is found under one provider only. */
class Collector {
  readonly loaded: Loaded;
  private readonly seen = { a: new Set<string>(), b: new Set<string>() };
  private readonly providerSets = { a: new Set<string>(), b: new Set<string>() };

  constructor(
    private readonly specA: ModelSpec,
    private readonly specB: ModelSpec,
    private readonly window: Window | undefined,
    source: string,
  ) {
    this.loaded = { a: [], b: [], providers: { a: [], b: [] }, skipped: 0, ignored: 0, outsideWindow: 0, source };
  }

  /** Returns why `raw` is not a verdict, for the caller to report or count. */
  add(raw: unknown): string | undefined {
    const side = isObj(raw) && typeof raw.provider === 'string' && typeof raw.model === 'string'
      ? matches(this.specA, raw as { provider: string; model: string }) ? 'a' : matches(this.specB, raw as { provider: string; model: string }) ? 'b' : undefined
      : undefined;
    if (isObj(raw) && typeof raw.skipped === 'string') {
      if (side) this.loaded.skipped++;
      return undefined;
    }
    const v = toScored(raw);
    if (typeof v === 'string') return v;
    if (!side) return undefined;
    if (this.window && (v.at === undefined || v.at > this.window.toMs || (this.window.fromMs !== undefined && v.at < this.window.fromMs))) {
      this.loaded.outsideWindow++;
      return undefined;
    }
    // The same verdict read twice (a file holding it twice) counts once.
    if (this.seen[side].has(v.id)) return undefined;
    this.seen[side].add(v.id);
    this.providerSets[side].add(v.provider);
    this.loaded[side].push(v);
    return undefined;
  }

  finish(): Loaded {
    for (const side of ['a', 'b'] as const) {
      const spec = side === 'a' ? this.specA : this.specB;
      const providers = [...this.providerSets[side]].sort();
      if (providers.length > 1) {
        throw new CompareError(
          'VERACITY_ERR_COMPARE_MODEL',
          `model ${JSON.stringify(spec.model)} answered under ${providers.join(' and ')}: name one, e.g. ${providers[0]}:${spec.model}`,
        );
      }
      this.loaded.providers[side] = providers;
    }
    return this.loaded;
  }
}

/**
 * Verdicts from a JSONL file (the output of `check`, or verdicts saved from the API). Lines that
 * `check` wrote for rows it could not judge (`{"id", "error"}`) are counted and passed over;
 * anything else that is not a verdict stops the run with its line number, since a comparison
 * over a damaged file would mislead.
 */
export async function loadFromFile(path: string, specA: ModelSpec, specB: ModelSpec, window: Window | undefined): Promise<Loaded> {
  const c = new Collector(specA, specB, window, path);
  const input = createReadStream(path, { encoding: 'utf8' });
  const opened = new Promise<void>((resolve, reject) => {
    input.once('open', () => resolve());
    input.once('error', reject);
  });
  try {
    await opened;
  } catch (err) {
    throw new CompareError('VERACITY_ERR_COMPARE_INPUT', `cannot read --verdicts ${path}: ${(err as Error).message}`);
  }
  const lines = createInterface({ input, crlfDelay: Infinity });
  let n = 0;
  try {
    for await (const text of lines) {
      n++;
      if (text.trim() === '') continue;
      let parsed: unknown;
      try {
        parsed = JSON.parse(text);
      } catch (err) {
        throw new CompareError('VERACITY_ERR_COMPARE_INPUT', `${path} line ${n}: not valid JSON (${(err as Error).message})`);
      }
      if (isObj(parsed) && typeof parsed.error === 'string' && parsed.hallucination === undefined) {
        c.loaded.ignored++;
        continue;
      }
      const why = c.add(parsed);
      if (why) throw new CompareError('VERACITY_ERR_COMPARE_INPUT', `${path} line ${n}: ${why}`);
    }
  } catch (err) {
    if (err instanceof CompareError) throw err;
    throw new CompareError('VERACITY_ERR_COMPARE_INPUT', `reading ${path} failed: ${(err as Error).message}`);
  } finally {
    lines.close();
    input.destroy();
  }
  return c.finish();
}

/**
 * Verdicts from Redis through the per-model time index: for each model, its own index and the
 * shared `other` ones (a model past the label bound), read in the window and kept when the
 * verdict's own model matches. Verdicts that expired since they were indexed are simply gone.
 */
export async function loadFromRedis(location: RedisLocation, prefix: string, specA: ModelSpec, specB: ModelSpec, window: Window): Promise<Loaded> {
  let redis: Redis;
  try {
    redis = await connectReportRedis(location);
  } catch (err) {
    throw new CompareError('VERACITY_ERR_COMPARE_REDIS', (err as Error).message);
  }
  try {
    return await loadFromClient(redis, prefix, specA, specB, window, `${describeLocation(location)} (prefix ${prefix})`);
  } finally {
    redis.disconnect();
  }
}

/**
 * The same from a connection already open (the console's). With `maxPerModel`, each index is
 * read from its newest entry down to that many, and the result says where it stopped.
 */
export async function loadFromClient(redis: Redis, prefix: string, specA: ModelSpec, specB: ModelSpec, window: Window, source: string, maxPerModel?: number): Promise<Loaded> {
  const c = new Collector(specA, specB, window, source);
  try {
    const store = new VerdictStore(redis, prefix, 1);
    const indexed = await store.index.models();
    for (const spec of [specA, specB]) {
      const label = spec.model.length > 120 ? spec.model.slice(0, 120) : spec.model;
      const keys = indexed.filter((m) => (spec.provider === undefined || m.provider === spec.provider) && (m.label === label || m.label === OVERFLOW_LABEL));
      for (const key of keys) {
        let ids: string[];
        if (maxPerModel === undefined) ids = await store.index.ids(key, window.fromMs ?? 0, window.toMs);
        else {
          ids = await store.index.newest(key, maxPerModel + 1, window.fromMs ?? 0, window.toMs);
          if (ids.length > maxPerModel) {
            ids = ids.slice(0, maxPerModel);
            c.loaded.cappedAt = maxPerModel;
          }
        }
        for (const v of await store.getMany(ids)) if (c.add(v) !== undefined) c.loaded.ignored++;
      }
    }
  } catch (err) {
    if (err instanceof CompareError) throw err;
    throw new CompareError('VERACITY_ERR_COMPARE_REDIS', `reading verdicts from Redis failed: ${(err as Error).message}`);
  }
  return c.finish();
}
