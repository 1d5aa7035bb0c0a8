// Turns measured cells into figures compared within the same run, and renders them as Markdown.
import type { LoadResult } from './loadgen.js';
import { diff, ratio } from './stats.js';

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
    };
  });
  for (const d of derived) {
    const n = derived.find((x) => x.target === 'nginx' && key(x) === key(d));
    d.addedP99VsNginx = ratio(d.addedP99, n?.addedP99);
  }
  return derived;
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
      ...(stream ? ['+TTFC p50', '+TTFC p99', 'gap p99 ms'] : []),
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
      ...(stream ? [fmt(c.addedTtfcP50), fmt(c.addedTtfcP99), fmt(c.load.interChunk?.p99)] : []),
      fmt(c.cpuPercent, 0) + (c.auxCpuPercent !== undefined ? ` (+${fmt(c.auxCpuPercent, 0)})` : ''),
      fmt(c.peakRssMb, 0) + (c.auxPeakRssMb !== undefined ? ` (+${fmt(c.auxPeakRssMb, 0)})` : ''),
      String(c.load.errors + (c.load.truncated ?? 0)) + (c.load.unfinished ? ` (+${c.load.unfinished} cut)` : ''),
    ]);
    out.push(markdownTable(header, body), '');
  }
  return out.join('\n');
}
