import { readFileSync, readdirSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { packageRoot } from '../config/load.js';

/** The Grafana dashboards shipped in grafana/dashboards/, and the PromQL their panels run. */

export const dashboardsDir = resolve(packageRoot, 'grafana', 'dashboards');

export interface DashboardTarget {
  refId?: string;
  expr?: string;
  legendFormat?: string;
  instant?: boolean;
  range?: boolean;
  format?: string;
}

export interface DashboardPanel {
  id?: number;
  type: string;
  title: string;
  targets?: DashboardTarget[];
  /** Panels inside a collapsed row. */
  panels?: DashboardPanel[];
}

export interface TemplateVariable {
  name: string;
  type: string;
  query?: string | { query?: string };
  multi?: boolean;
  includeAll?: boolean;
  allValue?: string;
}

export interface Dashboard {
  uid: string;
  title: string;
  panels: DashboardPanel[];
  templating?: { list: TemplateVariable[] };
}

export interface PanelQuery {
  panelId: number | undefined;
  panel: string;
  panelType: string;
  refId: string;
  /** The expression with every variable replaced: ready for Prometheus' /api/v1/query. */
  expr: string;
  /** The expression as stored in the dashboard. */
  rawExpr: string;
  /** The panel asks for one instant value rather than a range. */
  instant: boolean;
}

/**
 * Values for dashboard variables, by name without the `$`. A string array is a multi-value
 * selection (joined the way Grafana does for Prometheus: `(a|b)`, regex-escaped); unset
 * template variables mean "All" (`.*`). Built-ins default to `__rate_interval=5m`,
 * `__interval=1m`, `__range=1h`.
 */
export type QueryVars = Record<string, string | string[] | undefined>;

const BUILTIN_DEFAULTS: Record<string, string> = {
  __rate_interval: '5m',
  __interval: '1m',
  __range: '1h',
  __range_s: '3600',
};

export function loadDashboard(file: string): Dashboard {
  return JSON.parse(readFileSync(file, 'utf8')) as Dashboard;
}

/** Every dashboard in grafana/dashboards/, by file name. */
export function loadDashboards(dir = dashboardsDir): Map<string, Dashboard> {
  const out = new Map<string, Dashboard>();
  for (const file of readdirSync(dir).filter((f) => f.endsWith('.json')).sort()) {
    out.set(file, loadDashboard(join(dir, file)));
  }
  return out;
}

/** Every panel that can hold queries, rows flattened (panels of collapsed rows included). */
export function dashboardPanels(dashboard: Dashboard): DashboardPanel[] {
  const out: DashboardPanel[] = [];
  const walk = (panels: DashboardPanel[]) => {
    for (const panel of panels) {
      if (panel.type === 'row') walk(panel.panels ?? []);
      else out.push(panel);
    }
  };
  walk(dashboard.panels);
  return out;
}

const escapeRegex = (s: string) => s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');

function variableValue(name: string, vars: QueryVars, dashboard: Dashboard): string | undefined {
  const value = vars[name];
  const variable = dashboard.templating?.list.find((v) => v.name === name);
  if (value === undefined) return BUILTIN_DEFAULTS[name] ?? (variable ? (variable.allValue ?? '.*') : undefined);
  if (Array.isArray(value)) {
    if (value.length === 0 || value.includes('$__all')) return variable?.allValue ?? '.*';
    // Regex-escaped, then escaped again for the PromQL string literal the value lands in.
    const promqlString = (v: string) => escapeRegex(v).replace(/\\/g, '\\\\');
    return value.length === 1 ? promqlString(value[0]!) : `(${value.map(promqlString).join('|')})`;
  }
  if (value === '$__all') return variable?.allValue ?? '.*';
  return value;
}

/** Replaces `$name`, `${name}`, `${name:format}` and `[[name]]` with their values. */
export function substitute(expr: string, vars: QueryVars = {}, dashboard: Dashboard = { uid: '', title: '', panels: [] }): string {
  return expr.replace(/\$\{(\w+)(?::\w+)?\}|\[\[(\w+)\]\]|\$(\w+)/g, (whole, a?: string, b?: string, c?: string) => {
    const name = (a ?? b ?? c)!;
    return variableValue(name, vars, dashboard) ?? whole;
  });
}

const ALIASES: Record<string, string> = {
  rate_interval: '__rate_interval',
  rateInterval: '__rate_interval',
  interval: '__interval',
  range: '__range',
};

/** Accepts names with or without `$`, and the built-ins without their `__` (rateInterval, range). */
function normaliseVars(vars: QueryVars): QueryVars {
  const out: QueryVars = {};
  for (const [key, value] of Object.entries(vars)) {
    const name = key.replace(/^\$/, '');
    out[ALIASES[name] ?? name] = value;
  }
  return out;
}

/** Every panel's expressions, variables substituted, in panel order. */
export function panelQueries(dashboard: Dashboard, vars: QueryVars = {}): PanelQuery[] {
  vars = normaliseVars(vars);
  const out: PanelQuery[] = [];
  for (const panel of dashboardPanels(dashboard)) {
    for (const target of panel.targets ?? []) {
      if (!target.expr) continue;
      out.push({
        panelId: panel.id,
        panel: panel.title,
        panelType: panel.type,
        refId: target.refId ?? 'A',
        rawExpr: target.expr,
        expr: substitute(target.expr, vars, dashboard),
        instant: target.instant === true && target.range !== true,
      });
    }
  }
  return out;
}
