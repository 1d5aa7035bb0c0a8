import { escapeHtml } from '../../eval/html.js';
import { wilson } from '../../report/wilson.js';
import type { RatePoint } from '../data.js';
import { pct, utc } from '../html.js';

/**
 * A rate over time as inline SVG, drawn on the server: the rate per interval as a line, its
 * Wilson 95% interval as a band, a point per interval with its counts as a tooltip, and a text
 * alternative for screen readers. Intervals without checks leave a gap.
 */
export function rateChart(points: RatePoint[], title: string, id: string): string {
  const size = { w: 320, h: 140 };
  const pad = { left: 40, right: 8, top: 22, bottom: 22 };
  const w = size.w - pad.left - pad.right;
  const h = size.h - pad.top - pad.bottom;
  const from = points[0]?.start ?? 0;
  const to = points[points.length - 1]?.end ?? 1;
  const withData = points.filter((p) => p.checks > 0);
  const cis = withData.map((p) => ({ p, rate: p.events / p.checks, ci: wilson(p.events, p.checks)! }));
  const top = Math.max(0.05, ...cis.map((c) => c.ci.hi));
  const step = [0.01, 0.02, 0.05, 0.1, 0.2, 0.25].find((s) => top / s <= 4) ?? 0.25;
  const max = Math.min(1, Math.ceil(top / step - 1e-9) * step);
  const x = (t: number) => pad.left + ((t - from) / Math.max(1, to - from)) * w;
  const y = (v: number) => pad.top + (1 - Math.min(v, max) / max) * h;
  const f = (v: number) => v.toFixed(1);
  const mid = (p: RatePoint) => (p.start + p.end) / 2;
  const total = withData.reduce((s, p) => ({ e: s.e + p.events, n: s.n + p.checks }), { e: 0, n: 0 });
  const desc = `${title}: ${total.n > 0 ? `${pct(total.e / total.n)} overall (${total.e} of ${total.n})` : 'no checks'} from ${utc(from * 1000)} to ${utc(to * 1000)}, in ${points.length} intervals.`;
  const parts = [
    `<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 ${size.w} ${size.h}" width="${size.w}" height="${size.h}" role="img" aria-labelledby="${id}-t ${id}-d">`,
    `<title id="${id}-t">${escapeHtml(title)}</title><desc id="${id}-d">${escapeHtml(desc)}</desc>`,
    `<text x="${pad.left}" y="14" class="t">${escapeHtml(title)}</text>`,
  ];
  for (let v = 0; v <= max + 1e-9; v += step) {
    parts.push(`<line x1="${pad.left}" x2="${pad.left + w}" y1="${f(y(v))}" y2="${f(y(v))}" class="grid"/>`);
    parts.push(`<text x="${pad.left - 4}" y="${f(y(v) + 4)}" text-anchor="end">${pct(v, step < 0.01 ? 1 : 0)}</text>`);
  }
  const label = (t: number) => new Date(t * 1000).toISOString().slice(to - from > 2 * 86400 ? 5 : 11, to - from > 2 * 86400 ? 10 : 16);
  parts.push(`<text x="${pad.left}" y="${size.h - 6}">${label(from)}</text><text x="${pad.left + w}" y="${size.h - 6}" text-anchor="end">${label(to)} UTC</text>`);
  // Contiguous runs of intervals with checks: one band and one line each.
  const runs: Array<typeof cis> = [];
  let last = -1;
  for (const c of cis) {
    const i = points.indexOf(c.p);
    if (i !== last + 1 || runs.length === 0) runs.push([]);
    runs[runs.length - 1]!.push(c);
    last = i;
  }
  for (const run of runs) {
    const upper = run.map((c) => `${f(x(mid(c.p)))},${f(y(c.ci.hi))}`);
    const lower = run.map((c) => `${f(x(mid(c.p)))},${f(y(c.ci.lo))}`).reverse();
    if (run.length > 1) {
      parts.push(`<polygon points="${[...upper, ...lower].join(' ')}" class="band"/>`);
      parts.push(`<polyline points="${run.map((c) => `${f(x(mid(c.p)))},${f(y(c.rate))}`).join(' ')}" class="line"/>`);
    } else {
      const c = run[0]!;
      parts.push(`<line x1="${f(x(mid(c.p)))}" x2="${f(x(mid(c.p)))}" y1="${f(y(c.ci.lo))}" y2="${f(y(c.ci.hi))}" class="ci"/>`);
    }
  }
  for (const c of cis) {
    const tip = `${utc(c.p.start * 1000)} to ${utc(c.p.end * 1000)}: ${c.p.events} of ${c.p.checks} (${pct(c.rate)}, 95% CI ${pct(c.ci.lo)}–${pct(c.ci.hi)})`;
    parts.push(`<circle cx="${f(x(mid(c.p)))}" cy="${f(y(c.rate))}" r="2.5" class="pt"><title>${escapeHtml(tip)}</title></circle>`);
  }
  if (cis.length === 0) parts.push(`<text x="${pad.left + w / 2}" y="${pad.top + h / 2}" text-anchor="middle" class="muted">no checks in this range</text>`);
  parts.push('</svg>');
  return parts.join('');
}
