import { Registry } from 'prom-client';
import { createMetrics } from '../metrics/registry.js';

/**
 * Just enough PromQL reading to list the series names an expression selects, so tests can hold
 * dashboards and rules to the metrics Veracity really exports. Not a parser: it strips label
 * matchers, ranges, grouping lists and string literals, then takes the bare identifiers that
 * are neither functions nor keywords.
 */

const KEYWORDS = new Set([
  'by', 'without', 'on', 'ignoring', 'group_left', 'group_right', 'bool', 'offset',
  'and', 'or', 'unless', 'atan2', 'inf', 'nan',
]);

export function metricNamesIn(expr: string): string[] {
  const stripped = expr
    .replace(/"(?:[^"\\]|\\.)*"|'(?:[^'\\]|\\.)*'|`[^`]*`/g, '""')
    .replace(/\{[^}]*\}/g, ' ')
    .replace(/\[[^\]]*\]/g, ' ')
    .replace(/\b(by|without|on|ignoring|group_left|group_right)\s*\([^)]*\)/gi, ' ')
    .replace(/\boffset\s+-?[0-9a-z$_]+/gi, ' ')
    .replace(/@\s*[0-9.a-z()_]+/gi, ' ');
  const names = new Set<string>();
  for (const m of stripped.matchAll(/(?<![\w$.:])([a-zA-Z_:][a-zA-Z0-9_:]*)(?![\w:])(\s*\()?/g)) {
    const [, name, call] = m;
    if (call || name === undefined || KEYWORDS.has(name.toLowerCase())) continue;
    names.add(name);
  }
  return [...names];
}

/** Every series name the metric registry exposes; histograms add _bucket, _sum and _count. */
export async function exportedSeriesNames(): Promise<Set<string>> {
  const { registry } = createMetrics(new Registry());
  const names = new Set<string>();
  for (const metric of await registry.getMetricsAsJSON()) {
    const type = String(metric.type);
    if (type === 'histogram') {
      for (const suffix of ['_bucket', '_sum', '_count']) names.add(metric.name + suffix);
    } else if (type === 'summary') {
      for (const suffix of ['', '_sum', '_count']) names.add(metric.name + suffix);
    } else {
      names.add(metric.name);
    }
  }
  return names;
}
