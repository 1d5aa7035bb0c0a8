import { z } from 'zod';
import type { Verdict } from '../detect/verdict.js';
import { BoundedLabel } from '../metrics/labels.js';
import type { Metrics } from '../metrics/registry.js';
import { DURATION, durationMs } from '../report/duration.js';
import type { VerdictStore } from '../verdicts/store.js';
import { ANONYMOUS, LabelInputSchema, MAX_LABELS_PER_REQUEST, describeIssues, sourceOf, type LabelInput, type StoredLabel } from './schema.js';
import { LabelStore, snapshotOf } from './store.js';

/**
 * The labels API's logic, apart from HTTP: validate a whole body first (a malformed body stores
 * nothing), look the exchanges up, store every label of known ones in one transaction, and say
 * which ids were unknown (expired or never seen: reported, not fatal).
 */

export interface ApiAnswer {
  status: number;
  body: unknown;
}

export interface LabelsApiDeps {
  labels: LabelStore;
  verdicts: VerdictStore;
  metrics?: Metrics;
  modelLabels?: BoundedLabel;
}

const error = (status: number, code: string, message: string, details?: string[]): ApiAnswer => ({
  status,
  body: { error: { code, message, ...(details ? { details } : {}) } },
});

export class LabelsApi {
  private readonly byLabels = new BoundedLabel([ANONYMOUS], 20);
  private readonly models: BoundedLabel;
  constructor(private readonly deps: LabelsApiDeps) {
    this.models = deps.modelLabels ?? new BoundedLabel([], 50);
  }

  get store(): LabelStore {
    return this.deps.labels;
  }

  /** Parses a body: one label or an array of 1 to 1,000; everything wrong in it, at once. */
  parse(body: unknown): { labels: LabelInput[] } | { error: ApiAnswer } {
    if (body === undefined || body === null || (typeof body !== 'object' && !Array.isArray(body))) {
      return { error: error(400, 'bad_body', 'the body must be a JSON label object or an array of them (content-type: application/json)') };
    }
    const many = Array.isArray(body);
    if (many && body.length === 0) return { error: error(400, 'bad_body', 'an empty array labels nothing') };
    if (many && body.length > MAX_LABELS_PER_REQUEST) {
      return { error: error(400, 'too_many', `at most ${MAX_LABELS_PER_REQUEST} labels per request (got ${body.length}); send them in several requests`) };
    }
    const parsed = (many ? z.array(LabelInputSchema) : LabelInputSchema).safeParse(body);
    if (!parsed.success) return { error: error(400, 'invalid_label', 'the labels are not valid; nothing was stored', describeIssues(parsed.error)) };
    const labels = (many ? parsed.data : [parsed.data]) as LabelInput[];
    const seen = new Map<string, number>();
    const dup: string[] = [];
    labels.forEach((l, i) => {
      const key = `${sourceOf(l.by ?? ANONYMOUS)}:${l.id}`;
      if (seen.has(key)) dup.push(`[${i}].id: ${l.id} is labelled twice in this request (first at [${seen.get(key)}])`);
      else seen.set(key, i);
    });
    if (dup.length > 0) return { error: error(400, 'duplicate_id', 'an exchange is labelled twice by the same kind of labeller; nothing was stored', dup.slice(0, 20)) };
    return { labels };
  }

  async post(body: unknown, now = new Date()): Promise<ApiAnswer> {
    const parsed = this.parse(body);
    if ('error' in parsed) return parsed.error;
    const ids = [...new Set(parsed.labels.map((l) => l.id))];
    let verdicts: Map<string, Verdict>;
    try {
      verdicts = new Map((await this.deps.verdicts.getMany(ids)).map((v) => [v.id, v]));
    } catch {
      return error(503, 'redis_unavailable', 'verdict storage (Redis) is unreachable; nothing was stored');
    }
    const unknown: string[] = [];
    const notAnalysed: string[] = [];
    const problems: string[] = [];
    const records: StoredLabel[] = [];
    parsed.labels.forEach((l, i) => {
      const v = verdicts.get(l.id);
      if (!v) return void unknown.push(l.id);
      if (v.skipped !== undefined) return void notAnalysed.push(l.id);
      const nClaims = v.hallucination?.claims?.length ?? 0;
      for (const c of l.claims ?? []) {
        if (c.index >= nClaims) problems.push(`[${i}].claims: index ${c.index} is past the exchange's ${nClaims} claims`);
      }
      records.push({
        id: l.id,
        hallucination: l.hallucination,
        ...(l.refusal ? { refusal: l.refusal } : {}),
        ...(l.claims ? { claims: l.claims } : {}),
        by: l.by ?? ANONYMOUS,
        selection: l.selection,
        labelled_at: now.toISOString(),
        verdict: snapshotOf(v),
      });
    });
    if (problems.length > 0) return error(400, 'invalid_label', 'the labels do not fit their exchanges; nothing was stored', problems.slice(0, 20));
    let replaced: boolean[];
    try {
      replaced = await this.deps.labels.existing(records.map((r) => ({ source: sourceOf(r.by), id: r.id })));
      await this.deps.labels.putAll(records);
    } catch {
      return error(503, 'redis_unavailable', 'label storage (Redis) is unreachable; nothing was stored');
    }
    for (const r of records) {
      this.deps.metrics?.labels.inc({ provider: r.verdict.provider, model: this.models.value(r.verdict.model), by: this.byLabels.value(r.by), selection: r.selection });
    }
    return {
      status: 200,
      body: {
        stored: records.map((r, i) => ({ id: r.id, provider: r.verdict.provider, model: r.verdict.model, by: r.by, selection: r.selection, replaced: replaced[i] ?? false })),
        unknown,
        ...(notAnalysed.length > 0 ? { not_analysed: notAnalysed } : {}),
      },
    };
  }

  /** `since`: a duration back from now (24h), Unix seconds or milliseconds, or ISO 8601; absent = all. */
  parseSince(since: unknown, now = Date.now()): number | { error: ApiAnswer } {
    if (since === undefined || since === '') return 0;
    if (typeof since !== 'string') return { error: error(400, 'bad_since', 'give since once') };
    if (DURATION.test(since)) return now - (durationMs(since) ?? 0);
    if (/^\d{9,13}$/.test(since)) {
      const n = Number(since);
      return n > 1e11 ? n : n * 1000;
    }
    const t = Date.parse(since);
    if (Number.isFinite(t)) return t;
    return { error: error(400, 'bad_since', `since ${JSON.stringify(since)} is neither a duration (24h, 7d), a Unix time nor an ISO 8601 time`) };
  }

  async remove(id: string): Promise<ApiAnswer> {
    if (!/^[A-Za-z0-9_.:-]{1,128}$/.test(id)) return error(400, 'bad_id', 'exchange ids are 1-128 characters of letters, digits and _.:-');
    let n: number;
    try {
      n = await this.deps.labels.remove(id);
    } catch {
      return error(503, 'redis_unavailable', 'label storage (Redis) is unreachable');
    }
    if (n === 0) return error(404, 'not_found', `no label for ${id}`);
    return { status: 200, body: { removed: n, id } };
  }
}
