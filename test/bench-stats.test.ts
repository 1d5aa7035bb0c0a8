import t from 'tap';
import { bucketQuantile, diff, newHistogram, percentile, ratio, summarise } from '../src/tooling/bench/stats.js';
import { derive, markdownTable, mergeRounds, renderCells, type Cell } from '../src/tooling/bench/report.js';
import type { LoadResult } from '../src/tooling/bench/loadgen.js';

t.test('percentile is nearest-rank over raw samples', async (t) => {
  const xs = Array.from({ length: 100 }, (_, i) => 100 - i); // 100..1, unsorted order
  t.equal(percentile(xs, 50), 50);
  t.equal(percentile(xs, 99), 99);
  t.equal(percentile(xs, 100), 100);
  t.equal(percentile(xs, 0), 1);
  t.equal(percentile([7], 99), 7);
  t.ok(Number.isNaN(percentile([], 50)));
  t.throws(() => percentile(xs, 101), RangeError);
});

t.test('bucketQuantile interpolates inside the bucket like histogram_quantile', async (t) => {
  const buckets = [
    { le: 0.01, count: 50 },
    { le: 0.1, count: 100 },
    { le: Infinity, count: 100 },
  ];
  t.equal(bucketQuantile(buckets, 0.5), 0.01);
  t.ok(Math.abs(bucketQuantile(buckets, 0.75) - 0.055) < 1e-12);
  t.ok(Math.abs(bucketQuantile(buckets, 0.25) - 0.005) < 1e-12);
  t.ok(Number.isNaN(bucketQuantile([{ le: Infinity, count: 0 }], 0.99)));
  // Everything above the last finite bound: report that bound, as Prometheus does.
  t.equal(bucketQuantile([{ le: 1, count: 0 }, { le: Infinity, count: 10 }], 0.99), 1);
});

t.test('summarise reports HDR microseconds as milliseconds', async (t) => {
  const h = newHistogram();
  for (let us = 1; us <= 10_000; us++) h.recordValue(us * 10); // 10 µs .. 100 ms
  const s = summarise(h);
  t.equal(s.count, 10_000);
  t.ok(Math.abs(s.p50 - 50) / 50 < 0.002, `p50 ${s.p50}`);
  t.ok(Math.abs(s.p99 - 99) / 99 < 0.002, `p99 ${s.p99}`);
  t.ok(Number.isNaN(summarise(newHistogram()).p50));
});

t.test('diff and ratio refuse missing or zero peers', async (t) => {
  t.equal(diff(5.5, 2), 3.5);
  t.ok(Number.isNaN(diff(1, undefined)));
  t.ok(Number.isNaN(diff(NaN, 1)));
  t.equal(ratio(900, 1000), 0.9);
  t.ok(Number.isNaN(ratio(1, 0)));
});

function load(rps: number, p50: number, p99: number): LoadResult {
  const s = { count: 100, p50, p90: p99, p99, max: p99, mean: p50 };
  return { requests: 100, errors: 0, errorSamples: [], seconds: 5, throughput: rps, latency: s, unfinished: 0 };
}

const cell = (target: string, rps: number, p50: number, p99: number): Cell => ({
  target,
  kind: 'json',
  latencyMs: 0,
  concurrency: 16,
  load: load(rps, p50, p99),
  cpuPercent: target === 'direct' ? NaN : 50,
  peakRssMb: target === 'direct' ? NaN : 60,
});

t.test('derive compares each cell with direct and nginx of the same scenario', async (t) => {
  const d = derive([cell('direct', 1000, 1, 2), cell('nginx', 800, 1.5, 3), cell('veracity', 400, 3, 6)]);
  const v = d.find((c) => c.target === 'veracity')!;
  t.equal(v.addedP50, 2);
  t.equal(v.addedP99, 4);
  t.equal(v.rpsVsDirect, 0.4);
  t.equal(v.rpsVsNginx, 0.5);
  t.equal(v.addedP99VsNginx, 4);
  const other = derive([cell('veracity', 400, 3, 6)])[0]!;
  t.ok(Number.isNaN(other.rpsVsDirect), 'no direct cell, no ratio');
});

t.test('tables render aligned Markdown with a dash for missing figures', async (t) => {
  const md = markdownTable(['a', 'bb'], [['1', '22222']]);
  t.equal(md, '| a   | bb    |\n|-----|-------|\n| 1   | 22222 |');
  const out = renderCells(derive([cell('direct', 1000, 1, 2), cell('veracity', 400, 3, 6)]));
  t.match(out, /### Non-streaming JSON, upstream latency 0 ms/);
  t.match(out, /\| 16 +\| veracity \| 400\.0 +\| 0\.40 +\| – /);
});

t.test('rounds of one cell merge into medians; one disturbed round does not move them', async (t) => {
  const rounds = [cell('veracity', 400, 3, 6), cell('veracity', 420, 3.2, 40), cell('veracity', 380, 2.8, 7)];
  rounds[1]!.peakRssMb = 90;
  const other = cell('direct', 1000, 1, 2);
  const merged = mergeRounds([rounds[0]!, other, rounds[1]!, rounds[2]!]);
  t.equal(merged.length, 2, 'one cell per target and scenario');
  const v = merged.find((c) => c.target === 'veracity')!;
  t.equal(v.load.throughput, 400);
  t.equal(v.load.latency.p50, 3);
  t.equal(v.load.latency.p99, 7, 'the 40 ms round is outvoted');
  t.equal(v.load.latency.max, 40, 'but the worst case is kept');
  t.equal(v.load.requests, 300, 'counts add up');
  t.equal(v.peakRssMb, 90, 'peak memory is the highest round');
  t.same(
    v.rounds?.map((r) => r.p99),
    [6, 40, 7],
    'each round stays on record',
  );
  t.equal(merged.find((c) => c.target === 'direct'), other, 'a cell measured once is left as it is');
  const even = mergeRounds([cell('nginx', 100, 1, 2), cell('nginx', 200, 1, 4)])[0]!;
  t.equal(even.load.throughput, 150, 'an even count takes the mean of the middle two');
  t.equal(even.load.latency.p99, 3);
});

t.test('rounds are compared pairwise with direct, and their spread is shown', async (t) => {
  const direct = [cell('direct', 1000, 1, 2), cell('direct', 1000, 1, 5), cell('direct', 1000, 1, 3)];
  const vera = [cell('veracity', 400, 3, 6), cell('veracity', 420, 3, 4), cell('veracity', 380, 3, 9)];
  const d = derive(mergeRounds([direct[0]!, vera[0]!, vera[1]!, direct[1]!, direct[2]!, vera[2]!]));
  const v = d.find((c) => c.target === 'veracity')!;
  t.same(v.addedP99Rounds, [4, -1, 6], 'round i against direct round i, not against the median');
  t.equal(v.addedP99, 3, 'the headline stays the difference of medians');
  const out = renderCells(d);
  t.match(out, /\| p99 rounds \| \+p99 rounds \|/);
  t.match(out, /\| veracity \|.*\| 4\.00…9\.00 +\| -1\.00…6\.00 +\|/);
  t.match(out, /\| direct +\|.*\| 2\.00…5\.00 +\| 0\.00…0\.00 +\|/);
  const once = renderCells(derive([cell('direct', 1000, 1, 2), cell('veracity', 400, 3, 6)]));
  t.notMatch(once, /rounds/, 'a single round has no spread to show');
  t.equal(derive(mergeRounds([...vera, direct[0]!]))[0]!.addedP99Rounds, undefined, 'rounds that do not pair are not compared');
});
