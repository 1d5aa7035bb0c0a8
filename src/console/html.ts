import { escapeHtml } from '../eval/html.js';

/**
 * HTML built with `html\`...\``: every interpolated value is escaped unless it is itself the
 * result of `html` (or of `trusted`, for markup this code generated, such as SVG charts). Model
 * output and request text are hostile; escaping by default means a missed call cannot let them in.
 */

export class Html {
  constructor(readonly value: string) {}
  toString(): string {
    return this.value;
  }
}

type Part = Html | string | number | boolean | null | undefined | readonly Part[];

function render(v: Part): string {
  if (v instanceof Html) return v.value;
  if (Array.isArray(v)) return v.map(render).join('');
  if (v === undefined || v === null || v === false) return '';
  return escapeHtml(String(v));
}

export function html(strings: TemplateStringsArray, ...values: Part[]): Html {
  let out = strings[0]!;
  for (let i = 0; i < values.length; i++) out += render(values[i]!) + strings[i + 1]!;
  return new Html(out);
}

/** Markup generated here from numbers and escaped labels (the report's SVG charts). */
export const trusted = (markup: string) => new Html(markup);

export { pct } from '../report/format.js';

export function utc(ms: number): string {
  return new Date(ms).toISOString().replace('T', ' ').replace(/\.\d+Z$/, ' UTC');
}
