// Turns measured cells into figures compared within the same run, and renders them as Markdown.
import type { LoadResult } from './loadgen.js';
import { diff, ratio, type Summary } from './stats.js';

export type Kind = 'json' | 'stream';

export interface Cell {
  target: string;
  kind: Kind;
  latencyMs: number;
  concurrency: number;
  load: LoadResult;
  /** Request-path processes; NaN for direct, which has none. */
  cpuPercent: number;
  peakRssMb: number;
  /** Veracity's worker and Redis, when run apart from the proxy. */
  auxCpuPercent?: number;
  auxPeakRssMb?: number;
  /** Each round's figures when the cell was measured more than once (see mergeRounds). */
  rounds?: { throughput: number; p99: number; ttfcP99: number | undefined }[];
}

/** The middle value (the mean of the two middle ones for an even count); NaN when there is none. */
function median(xs: readonly number[]): number {
  const v = xs.filter(Number.isFinite).sort((a, b) => a - b);
  if (v.length === 0) return NaN;
  const m = v.length >> 1;
  return v.length % 2 ? (v[m] as number) : ((v[m - 1] as number) + (v[m] as number)) / 2;
}

function medianSummary(xs: readonly (Summary | undefined)[]): Summary | undefined {
  const present = xs.filter((x): x is Summary => x !== undefined);
  if (present.length === 0) return undefined;
  const f = (k: keyof Summary) => median(present.map((x) => x[k]));
  return { count: present.reduce((n, x) => n + x.count, 0), p50: f('p50'), p90: f('p90'), p99: f('p99'), max: Math.max(...present.map((x) => x.max)), mean: f('mean') };
}

/**
 * One cell out of the same cell measured in several rounds: each percentile, throughput and CPU
 * figure is the median of the rounds (one disturbed round cannot move it), counts are summed,
 * peak memory is the highest seen, and `rounds` keeps each round's p99 so the spread shows.
 */
export function mergeRounds(cells: readonly Cell[]): Cell[] {
  const groups = new Map<string, Cell[]>();
  for (const c of cells) {
    const k = `${c.target}|${key(c)}`;
    const g = groups.get(k);
    if (g) g.push(c);
    else groups.set(k, [c]);
  }
  return [...groups.values()].map((g) => {
    if (g.length === 1) return g[0] as Cell;
    const loads = g.map((c) => c.load);
    const sum = (f: (l: LoadResult) => number | undefined) => loads.reduce((n, l) => n + (f(l) ?? 0), 0);
    const first = g[0] as Cell;
    const aux = g.some((c) => c.auxCpuPercent !== undefined);
    return {
      ...first,
      load: {
        ...first.load,
        requests: sum((l) => l.requests),
        errors: sum((l) => l.errors),
        errorSamples: loads.flatMap((l) => l.errorSamples).slice(0, 5),
        seconds: sum((l) => l.seconds),
        throughput: median(loads.map((l) => l.throughput)),
        latency: medianSummary(loads.map((l) => l.latency)) as Summary,
        ttfc: medianSummary(loads.map((l) => l.ttfc)),
        interChunk: medianSummary(loads.map((l) => l.interChunk)),
        truncated: first.load.truncated === undefined ? undefined : sum((l) => l.truncated),
        unfinished: sum((l) => l.unfinished),
      },
      cpuPercent: median(g.map((c) => c.cpuPercent)),
      peakRssMb: Math.max(...g.map((c) => c.peakRssMb)),
      ...(aux ? { auxCpuPercent: median(g.map((c) => c.auxCpuPercent ?? NaN)), auxPeakRssMb: Math.max(...g.map((c) => c.auxPeakRssMb ?? NaN)) } : {}),
      rounds: g.map((c) => ({ throughput: c.load.throughput, p99: c.load.latency.p99, ttfcP99: c.load.ttfc?.p99 })),
    };
  });
}

export interface Derived extends Cell {
  addedP50: number;
  addedP99: number;
  addedTtfcP50: number;
  addedTtfcP99: number;
  rpsVsDirect: number;
  rpsVsNginx: number;
  /** This target's added p99 divided by nginx's added p99. */
  addedP99VsNginx: number;
  /**
   * Added p99 (and TTFC p99) of each round against direct's p99 of the same round, when both were
   * measured in rounds: their spread says how much of the median's difference is noise.
   */
  addedP99Rounds?: number[];
  addedTtfcP99Rounds?: number[];
}

const key = (c: Pick<Cell, 'kind' | 'latencyMs' | 'concurrency'>) => `${c.kind}/${c.latencyMs}/${c.concurrency}`;

export function derive(cells: readonly Cell[]): Derived[] {
  const by = new Map<string, Map<string, Cell>>();
  for (const c of cells) {
    const m = by.get(key(c)) ?? new Map<string, Cell>();
    m.set(c.target, c);
    by.set(key(c), m);
  }
  const derived = cells.map((c): Derived => {
    const peers = by.get(key(c));
    const direct = peers?.get('direct');
    const nginx = peers?.get('nginx');
    return {
      ...c,
      addedP50: diff(c.load.latency.p50, direct?.load.latency.p50),
      addedP99: diff(c.load.latency.p99, direct?.load.latency.p99),
      addedTtfcP50: diff(c.load.ttfc?.p50, direct?.load.ttfc?.p50),
      addedTtfcP99: diff(c.load.ttfc?.p99, direct?.load.ttfc?.p99),
      rpsVsDirect: ratio(c.load.throughput, direct?.load.throughput),
      rpsVsNginx: ratio(c.load.throughput, nginx?.load.throughput),
      addedP99VsNginx: NaN,
      ...pairedRounds(c, direct),
    };
  });
  for (const d of derived) {
    const n = derived.find((x) => x.target === 'nginx' && key(x) === key(d));
    d.addedP99VsNginx = ratio(d.addedP99, n?.addedP99);
  }
  return derived;
}

/** Round i of a cell against round i of direct: rounds run targets in turn, so they are close in time. */
function pairedRounds(c: Cell, direct: Cell | undefined): Pick<Derived, 'addedP99Rounds' | 'addedTtfcP99Rounds'> {
  const mine = c.rounds;
  const theirs = direct?.rounds;
  if (!mine || !theirs || mine.length !== theirs.length) return {};
  const pairs = mine.map((r, i) => [r, theirs[i]!] as const);
  const ttfc = pairs.map(([r, d]) => diff(r.ttfcP99, d.ttfcP99)).filter(Number.isFinite);
  return {
    addedP99Rounds: pairs.map(([r, d]) => diff(r.p99, d.p99)),
    ...(ttfc.length > 0 ? { addedTtfcP99Rounds: ttfc } : {}),
  };
}

/** `min…max` of a few figures, or – without any. */
function span(xs: readonly number[] | undefined): string {
  const v = (xs ?? []).filter(Number.isFinite);
  if (v.length === 0) return '–';
  return `${fmt(Math.min(...v))}…${fmt(Math.max(...v))}`;
}

function fmt(x: number | undefined, digits = 2): string {
  if (x === undefined || !Number.isFinite(x)) return '–';
  if (Math.abs(x) >= 1000) return Math.round(x).toString();
  return x.toFixed(digits);
}

export function markdownTable(header: readonly string[], rows: readonly (readonly string[])[]): string {
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => (r[i] ?? '').length), 3));
  const line = (cells: readonly string[]) => `| ${cells.map((c, i) => c.padEnd(widths[i] as number)).join(' | ')} |`;
  return [line(header), `|${widths.map((w) => '-'.repeat(w + 2)).join('|')}|`, ...rows.map(line)].join('\n');
}

/** One table per scenario (kind × upstream latency), rows by concurrency then target. */
export function renderCells(cells: readonly Derived[]): string {
  const out: string[] = [];
  const scenarios = [...new Set(cells.map((c) => `${c.kind}/${c.latencyMs}`))];
  for (const s of scenarios) {
    const [kind, lat] = s.split('/') as [Kind, string];
    const rows = cells.filter((c) => c.kind === kind && String(c.latencyMs) === lat);
    const stream = kind === 'stream';
    const rounds = rows.some((c) => c.rounds !== undefined);
    out.push(`### ${stream ? 'Streaming' : 'Non-streaming JSON'}, upstream latency ${lat} ms\n`);
    const header = [
      'conc',
      'target',
      'req/s',
      '×direct',
      '×nginx',
      'p50 ms',
      'p99 ms',
      '+p50 ms',
      '+p99 ms',
      ...(rounds ? ['p99 rounds', '+p99 rounds'] : []),
      ...(stream ? ['+TTFC p50', '+TTFC p99', ...(rounds ? ['+TTFC p99 rounds'] : []), 'gap p99 ms'] : []),
      'CPU %',
      'RSS MB',
      'err',
    ];
    const body = rows.map((c) => [
      String(c.concurrency),
      c.target,
      fmt(c.load.throughput, 1),
      fmt(c.rpsVsDirect),
      fmt(c.rpsVsNginx),
      fmt(c.load.latency.p50),
      fmt(c.load.latency.p99),
      fmt(c.addedP50),
      fmt(c.addedP99),
      ...(rounds ? [span(c.rounds?.map((r) => r.p99)), span(c.addedP99Rounds)] : []),
      ...(stream ? [fmt(c.addedTtfcP50), fmt(c.addedTtfcP99), ...(rounds ? [span(c.addedTtfcP99Rounds)] : []), fmt(c.load.interChunk?.p99)] : []),
      fmt(c.cpuPercent, 0) + (c.auxCpuPercent !== undefined ? ` (+${fmt(c.auxCpuPercent, 0)})` : ''),
      fmt(c.peakRssMb, 0) + (c.auxPeakRssMb !== undefined ? ` (+${fmt(c.auxPeakRssMb, 0)})` : ''),
      String(c.load.errors + (c.load.truncated ?? 0)) + (c.load.unfinished ? ` (+${c.load.unfinished} cut)` : ''),
    ]);
    out.push(markdownTable(header, body), '');
  }
  return out.join('\n');
}
