import { DURATION, durationSeconds } from '../report/duration.js';
import { FLAG_KINDS, type FlagKind, type ModelKey } from '../verdicts/aggregates.js';

/**
 * The console's filters live in the URL, so a view can be shared from an alert, a runbook or a
 * Grafana data link: `range` (a duration such as 1h, 24h, 7d) or `from`/`to` (Unix milliseconds,
 * as Grafana's ${__from}/${__to}, or ISO 8601), `model` (repeatable, `provider/model` or a bare
 * model name), on the flagged list `kind` and `order`, on the recent list `before` and `skip` (a page:
 * Unix milliseconds and how many newer ones were shown), on the compare page `a` and `b` (models as `report --compare` names them).
 */

export const RANGES = ['15m', '1h', '6h', '24h', '7d'] as const;
const MAX_RANGE = 90 * 86400;

export interface Filters {
  /** Unix seconds. */
  from: number;
  to: number;
  /** The preset this range is, when it is one and ends now. */
  range?: string;
  models: string[];
  kind: FlagKind;
  order: 'recent' | 'top';
  /** The recent list's next page: exchanges analysed at or before `before` (Unix ms), past the first `skip`. */
  before?: number;
  skip?: number;
  /** The two models of the compare page. */
  a?: string;
  b?: string;
  /** Problems with the query, shown to the user; the filters fall back to defaults. */
  errors: string[];
}

function time(value: string): number | undefined {
  if (/^\d{9,13}$/.test(value)) {
    const n = Number(value);
    return n > 1e11 ? Math.floor(n / 1000) : n; // milliseconds (Grafana) or seconds
  }
  const t = Date.parse(value);
  return Number.isFinite(t) ? Math.floor(t / 1000) : undefined;
}

const one = (q: Record<string, unknown>, name: string): string | undefined => {
  const v = q[name];
  if (Array.isArray(v)) return typeof v[0] === 'string' ? v[0] : undefined;
  return typeof v === 'string' && v !== '' ? v : undefined;
};

export function parseFilters(q: Record<string, unknown>, nowSec = Math.floor(Date.now() / 1000)): Filters {
  const errors: string[] = [];
  let to = nowSec;
  let from: number | undefined;
  let range: string | undefined = '24h';
  const r = one(q, 'range');
  const f = one(q, 'from');
  const t = one(q, 'to');
  if (t !== undefined) {
    const v = time(t);
    if (v === undefined) errors.push(`"to" is not a time: ${t}`);
    else {
      to = v;
      range = undefined;
    }
  }
  if (f !== undefined) {
    const v = time(f);
    if (v === undefined) errors.push(`"from" is not a time: ${f}`);
    else {
      from = v;
      range = undefined;
    }
  }
  if (from === undefined) {
    const d = r ?? '24h';
    if (!DURATION.test(d) || durationSeconds(d) <= 0) {
      errors.push(`"range" is not a duration such as 1h, 24h or 7d: ${d}`);
      from = to - 86400;
    } else {
      from = to - durationSeconds(d);
      if (t === undefined) range = d;
    }
  }
  if (from >= to) {
    errors.push('"from" must be before "to"');
    from = to - 86400;
  }
  if (to - from > MAX_RANGE) {
    errors.push('ranges are at most 90 days');
    from = to - MAX_RANGE;
  }
  const rawModels = q.model;
  const models = (Array.isArray(rawModels) ? rawModels : rawModels === undefined ? [] : [rawModels])
    .filter((m): m is string => typeof m === 'string' && m !== '' && m.length <= 300)
    .slice(0, 50);
  const k = one(q, 'kind') ?? 'hallucination';
  const kind = (FLAG_KINDS as readonly string[]).includes(k) ? (k as FlagKind) : 'hallucination';
  if (kind !== k) errors.push(`"kind" is one of ${FLAG_KINDS.join(', ')}`);
  const order = one(q, 'order') === 'top' ? 'top' : 'recent';
  const out: Filters = { from, to, range, models, kind, order, errors };
  const before = one(q, 'before');
  if (before !== undefined) {
    if (/^\d{1,15}$/.test(before)) out.before = Number(before);
    else errors.push(`"before" is a time in Unix milliseconds: ${before}`);
  }
  const skip = one(q, 'skip');
  if (skip !== undefined) {
    if (/^\d{1,6}$/.test(skip)) out.skip = Number(skip);
    else errors.push(`"skip" is a whole number below a million: ${skip}`);
  }
  for (const side of ['a', 'b'] as const) {
    const v = one(q, side);
    if (v !== undefined && v.length <= 300) out[side] = v;
  }
  return out;
}

/** Does the model filter select this model? An empty filter selects every model. */
export function selects(filters: Filters, key: ModelKey): boolean {
  if (filters.models.length === 0) return true;
  return filters.models.some((m) => m === `${key.provider}/${key.model}` || m === key.model);
}

/** A console URL with these filters, changed by `patch`. */
export function link(
  path: string,
  filters: Filters,
  patch: Partial<Record<'range' | 'from' | 'to' | 'kind' | 'order', string | undefined>> & { models?: string[]; page?: { before: number; skip: number }; compare?: [string, string] } = {},
): string {
  const q = new URLSearchParams();
  const range = 'range' in patch ? patch.range : filters.range;
  if (range) q.set('range', range);
  else {
    q.set('from', String('from' in patch ? patch.from : filters.from * 1000));
    q.set('to', String('to' in patch ? patch.to : filters.to * 1000));
  }
  for (const m of patch.models ?? filters.models) q.append('model', m);
  const kind = 'kind' in patch ? patch.kind : filters.kind;
  if (kind && kind !== 'hallucination') q.set('kind', kind);
  const order = 'order' in patch ? patch.order : filters.order;
  if (order && order !== 'recent') q.set('order', order);
  if (patch.page) {
    q.set('before', String(patch.page.before));
    q.set('skip', String(patch.page.skip));
  }
  if (patch.compare) {
    q.set('a', patch.compare[0]);
    q.set('b', patch.compare[1]);
  }
  const s = q.toString();
  return s ? `${path}?${s}` : path;
}
