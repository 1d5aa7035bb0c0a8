import t from 'tap';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { AddressInfo } from 'node:net';
import { scoreBins } from '../src/report/figures.js';
import { reportMain, type ReliabilityReport } from '../src/report/report.js';
import { wilson } from '../src/report/wilson.js';

const close = (got: number | undefined, want: number, eps = 5e-5) => got !== undefined && Math.abs(got - want) < eps;

t.test('Wilson 95% interval matches published values', async (t) => {
  const cases: Array<[number, number, number, number]> = [
    [10, 100, 0.0552, 0.1744],
    [0, 10, 0, 0.2775],
    [5, 10, 0.2366, 0.7634],
    [10, 10, 0.7225, 1],
  ];
  for (const [k, n, lo, hi] of cases) {
    const ci = wilson(k, n)!;
    t.ok(close(ci.lo, lo) && close(ci.hi, hi), `${k}/${n}: [${ci.lo.toFixed(4)}, ${ci.hi.toFixed(4)}] want [${lo}, ${hi}]`);
  }
  t.equal(wilson(0, 0), null, 'no trials, no interval');
});

t.test('score bins from cumulative buckets', async (t) => {
  const bins = scoreBins([
    { le: 0.5, cumulative: 80 },
    { le: 0.1, cumulative: 50 },
    { le: 1, cumulative: 100 },
    { le: Infinity, cumulative: 100 },
  ]);
  t.same(bins.map((b) => [b.lo, b.hi, b.count]), [[0, 0.1, 50], [0.1, 0.5, 30], [0.5, 1, 20]], 'empty +Inf bin dropped');
  t.same(bins.map((b) => b.above), [1, 0.5, 0.2]);
  t.same(bins.map((b) => b.share), [0.5, 0.3, 0.2]);
});

// A loopback stand-in for Prometheus that answers /api/v1/query in its real JSON format.
type Series = Array<{ metric: Record<string, string>; value: number }>;
const gpt = { provider: 'openai', model: 'gpt-4o' };
const odd = { provider: 'openai', model: '<b>odd</b>' };
const claude = { provider: 'anthropic', model: 'claude-sonnet' };
const buckets = (m: Record<string, string>, cum: number[]) =>
  ['0.1', '0.2', '0.3', '0.4', '0.5', '0.6', '0.7', '0.8', '0.9', '1', '+Inf'].map((le, i) => ({ metric: { ...m, le }, value: cum[Math.min(i, cum.length - 1)]! }));
const DATA: Record<string, Series> = {
  veracity_checks_total: [{ metric: gpt, value: 1000.4 }, { metric: claude, value: 10 }, { metric: odd, value: 3 }],
  veracity_grounded_checks_total: [{ metric: gpt, value: 600 }, { metric: claude, value: 10 }],
  veracity_hallucinations_total: [{ metric: gpt, value: 99.6 }, { metric: claude, value: 5 }],
  veracity_claims_total: [{ metric: gpt, value: 4000 }, { metric: claude, value: 40 }],
  veracity_unsupported_claims_total: [{ metric: gpt, value: 400 }, { metric: claude, value: 20 }],
  veracity_confidence_mismatches_total: [{ metric: gpt, value: 50 }],
  veracity_refusals_total: [{ metric: { ...gpt, kind: 'partial' }, value: 20 }, { metric: { ...gpt, kind: 'full' }, value: 10 }, { metric: { ...claude, kind: 'full' }, value: 1 }],
  veracity_checks_by_method_total: [{ metric: { ...gpt, method: 'context' }, value: 600 }, { metric: { ...gpt, method: 'none' }, value: 400.4 }, { metric: { ...claude, method: 'context' }, value: 10 }],
  // gpt-4o's ungrounded checks score a prior (0.39 each): the estimate must leave them out.
  veracity_expected_hallucinations_total: [{ metric: { ...gpt, method: 'context' }, value: 72 }, { metric: { ...gpt, method: 'none' }, value: 156 }, { metric: { ...claude, method: 'context' }, value: 4 }],
  veracity_hallucinations_by_method_total: [{ metric: { ...gpt, method: 'context' }, value: 90 }, { metric: { ...claude, method: 'context' }, value: 5 }],
  veracity_unsupported_claims_by_mode_total: [
    ...([['number', 30], ['entity', 20], ['negation', 5], ['reference', 5], ['unsupported', 40]] as const).map(([failure_mode, value]) => ({ metric: { ...gpt, method: 'context', failure_mode }, value })),
    { metric: { ...gpt, method: 'none', failure_mode: 'unsupported' }, value: 300 },
    { metric: { ...claude, method: 'samples', failure_mode: 'entity' }, value: 2 },
  ],
  veracity_tool_calls_total: [{ metric: gpt, value: 200.2 }, { metric: claude, value: 0 }],
  veracity_tool_call_failures_total: [{ metric: { ...gpt, failure_mode: 'tool_arguments' }, value: 15 }, { metric: { ...gpt, failure_mode: 'tool_name' }, value: 5 }],
  veracity_hallucination_score_bucket: [
    ...buckets(gpt, [500, 700, 800, 850, 900, 930, 950, 970, 990, 1000]),
    ...buckets(claude, [2, 2, 3, 4, 5, 6, 7, 8, 9, 10]),
  ],
};

async function fakePrometheus(handler?: (query: string, res: ServerResponse) => boolean) {
  const seen: Array<{ query: string; time: string | null }> = [];
  const server = createServer((req: IncomingMessage, res: ServerResponse) => {
    let body = '';
    req.on('data', (c) => (body += c));
    req.on('end', () => {
      const params = new URLSearchParams(body);
      const query = params.get('query') ?? '';
      seen.push({ query, time: params.get('time') });
      if (req.method !== 'POST' || req.url !== '/api/v1/query') {
        res.writeHead(404, { 'content-type': 'text/plain' }).end('404 page not found\n');
        return;
      }
      if (handler?.(query, res)) return;
      const metric = Object.keys(DATA).find((m) => query.includes(`(${m}[`));
      const result = (metric ? DATA[metric]! : []).map((s) => ({ metric: s.metric, value: [1700000000, String(s.value)] }));
      res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ status: 'success', data: { resultType: 'vector', result } }));
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  return { url, seen, close: () => new Promise<void>((r) => server.close(() => r())) };
}

function quietStderr(t: { teardown(fn: () => void): void }) {
  const lines: string[] = [];
  const orig = console.error;
  console.error = (...a: unknown[]) => void lines.push(a.join(' '));
  t.teardown(() => void (console.error = orig));
  return lines;
}

t.test('report: per-model rates with intervals, ranking, calibration view, self-contained HTML', async (t) => {
  const prom = await fakePrometheus();
  t.teardown(prom.close);
  const dir = mkdtempSync(join(tmpdir(), 'veracity-report-'));
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  const stderr = quietStderr(t);
  const out = join(dir, 'r.html');
  const json = join(dir, 'r.json');

  const code = await reportMain(['--since', '24h', '--out', out, '--json', json, '--prometheus', prom.url, '--at', '1700000000']);
  t.equal(code, 0, stderr.join('\n'));

  t.ok(prom.seen.length >= 8, `${prom.seen.length} queries`);
  for (const q of prom.seen) {
    t.match(q.query, /^sum by \(provider, model(, kind|, le|, method|, method, failure_mode|, failure_mode)?\) \(increase\(\w+\[24h\]\)\)$/, q.query);
    t.equal(q.time, '1700000000', 'evaluated at --at');
  }

  const report = JSON.parse(readFileSync(json, 'utf8')) as ReliabilityReport;
  t.same(report.models.map((m) => m.model), ['claude-sonnet', 'gpt-4o', '<b>odd</b>'], 'ranked by hallucination rate, no-flag models last');
  const g = report.models.find((m) => m.model === 'gpt-4o')!;
  t.equal(g.checks, 1000, 'increase() rounded to whole exchanges');
  t.same([g.hallucination.count, g.hallucination.of], [100, 1000]);
  t.equal(g.hallucination.rate, 0.1);
  t.ok(close(g.hallucination.ci95!.lo, 0.0829, 1e-4) && close(g.hallucination.ci95!.hi, 0.1202, 1e-4), 'Wilson interval of 100/1000');
  t.equal(g.unsupportedClaims.rate, 0.1, 'unsupported claims per claim');
  t.equal(g.confidenceMismatch.rate, 0.05);
  t.equal(g.refusal.rate, 0.03);
  t.same(Object.keys(g.refusalByKind).sort(), ['full', 'partial']);
  t.equal(g.refusalByKind.partial!.rate, 0.02);
  t.equal(g.grounded.rate, 0.6);
  t.same(g.scores.map((b) => b.count), [500, 200, 100, 50, 50, 30, 20, 20, 20, 10]);
  t.equal(g.scores[5]!.above, 0.1, 'share above 0.5 = flag rate at threshold 0.5');
  t.same([g.estimated!.checks, g.estimated!.rate, g.estimated!.flagged.rate], [600, 0.12, 0.15], 'estimated (mean score) beside flagged, grounded checks only');
  t.ok(g.estimated!.ci95!.lo < 0.12 && g.estimated!.ci95!.hi > 0.12, 'with an interval');
  t.same(g.failureModes!.modes.map((m) => [m.mode, m.count, m.share]), [['number', 30, 0.3], ['entity', 20, 0.2], ['negation', 5, 0.05], ['reference', 5, 0.05], ['unsupported', 40, 0.4]], 'failure-mode profile of checked claims only');
  t.same([g.toolCalls.checked, g.toolCalls.failed.count, g.toolCalls.failed.rate, g.toolCalls.modes.tool_name!.count, g.toolCalls.modes.tool_arguments!.rate], [200, 20, 0.1, 5, 0.075], 'tool calls checked, failed, by failure mode');
  const cl = report.models.find((m) => m.model === 'claude-sonnet')!;
  t.same([cl.toolCalls.checked, cl.toolCalls.failed.rate], [0, null], 'no tool calls: no rate');
  t.same([cl.failureModes!.claims, cl.failureModes!.modes.find((m) => m.mode === 'entity')!.share], [2, 1], 'claims checked against samples count in the profile');

  const o = report.overall;
  t.equal(o.checks, 1013);
  t.same([o.hallucination.count, o.hallucination.of], [105, 1013], 'overall is a ratio of sums');
  t.same([o.unsupportedClaims.count, o.unsupportedClaims.of], [420, 4040]);
  t.equal(o.refusal.count, 31);
  t.equal(o.scores.reduce((s, b) => s + b.count, 0), 1010);
  t.same([o.estimated!.checks, o.estimated!.expected, o.estimated!.flagged.count], [610, 76, 95]);
  t.equal(o.failureModes!.claims, 102);
  t.same([o.toolCalls.checked, o.toolCalls.failed.count], [200, 20]);

  const html = readFileSync(out, 'utf8');
  t.match(html, /^<!doctype html>/);
  t.match(html, /openai\/gpt-4o/);
  t.match(html, /10\.0% \[8\.3%–12\.0%\] \(100\/1000\)/, 'rate, interval and counts shown');
  t.match(html, /<svg[\s\S]*Wilson 95% interval/);
  t.match(html, /calibration view/);
  t.match(html, /Estimated and flagged hallucination rate/);
  t.match(html, /12\.0% \[[\d.]+%–[\d.]+%\] \(72\.0\/600\)/, 'estimated rate with its expected count');
  t.match(html, /Failure-mode profile[\s\S]*30\.0% \(30\)/);
  t.match(html, /<h2>Tool calls<\/h2>[\s\S]*<th scope="row">openai\/gpt-4o<\/th><td>200<\/td><td>10\.0% \[[^\]]+\] \(20\/200\)<\/td><td>2\.5% [^<]*\(5\/200\)<\/td><td>7\.5% [^<]*\(15\/200\)<\/td>/, 'tool calls per model, failed and by mode');
  t.notMatch(html, /<b>odd<\/b>/, 'model names are escaped');
  t.match(html, /&lt;b&gt;odd&lt;\/b&gt;/);
  t.notMatch(html, /<script|<link|src=|href="?https?:/i, 'no scripts or external assets');
  t.match(stderr.join('\n'), /3 models, 1013 checks over 24h.*; 20 of 200 tool calls failed/);
});

t.test('report: Prometheus errors and bad arguments', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'veracity-report-'));
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  const out = join(dir, 'r.html');

  const failing = await fakePrometheus((_q, res) => {
    res.writeHead(400, { 'content-type': 'application/json' }).end(JSON.stringify({ status: 'error', errorType: 'bad_data', error: 'invalid parameter "query": 1:1: parse error' }));
    return true;
  });
  let stderr = quietStderr(t);
  t.equal(await reportMain(['--out', out, '--prometheus', failing.url]), 1, 'Prometheus error -> 1');
  t.match(stderr.join('\n'), /bad_data: invalid parameter/);
  await failing.close();

  stderr = quietStderr(t);
  t.equal(await reportMain(['--out', out, '--prometheus', failing.url]), 1, 'unreachable -> 1');
  t.match(stderr.join('\n'), /cannot reach Prometheus at http:\/\/127\.0\.0\.1:\d+: ECONNREFUSED/);

  t.equal(await reportMain(['--since', 'yesterday', '--out', out]), 2, 'bad --since -> 2');
  t.equal(await reportMain(['--bogus']), 2, 'unknown option -> 2');
  t.equal(await reportMain(['--prometheus', 'not a url']), 2, 'bad URL -> 2');
});

t.test('report: the worst examples in the window, from the stored verdicts', async (t) => {
  const { startRedis } = await import('./helpers/redis.js');
  const { Redis } = await import('ioredis');
  const { VerdictStore } = await import('../src/verdicts/store.js');
  const { AggregateKeys } = await import('../src/verdicts/aggregates.js');
  const redis = await startRedis();
  const client = new Redis(redis.url);
  const prom = await fakePrometheus();
  t.teardown(async () => {
    client.disconnect();
    await redis.stop();
    await prom.close();
  });
  const store = new VerdictStore(client, 'veracity', 600);
  // Stored as the worker stores them: with their aggregates and flagged indexes, in one step.
  const keys = new AggregateKeys({ prefix: 'veracity', ttlSeconds: 600, fineRetentionSeconds: 600, flaggedPerModel: 200 });
  const verdict = (id: string, score: number, text: string, at = Date.now()) => ({
    id,
    provider: 'openai' as const,
    model: 'gpt-4o',
    grounded: true,
    hallucination: { flagged: true, score, claims: [{ text, start: 0, end: text.length, support: 'unsupported' as const, score }] },
    confidence_mismatch: { flagged: false, score: 0 },
    refusal: { flagged: false, kind: 'none' as const, score: 0 },
    analysed_at: new Date(at).toISOString(),
  });
  const examples = [
    verdict('a', 0.6, 'The tower is <b>gold</b>.'),
    verdict('b', 0.95, 'It opened in 1925.'),
    verdict('c', 0.7, 'It is in Rome.'),
    // Higher than all of them, but two days old: outside the 24 h window.
    verdict('old', 0.99, 'It was built by the Romans.', Date.now() - 2 * 86_400_000),
  ];
  for (const v of examples) t.ok(await store.putIfAbsent(v, keys.writesFor(v, v.model, Date.parse(v.analysed_at))));
  const dir = mkdtempSync(join(tmpdir(), 'veracity-report-'));
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  const stderr = quietStderr(t);
  const out = join(dir, 'r.html');
  const json = join(dir, 'r.json');
  const code = await reportMain(['--out', out, '--json', json, '--prometheus', prom.url, '--redis', redis.url, '--examples', '2']);
  t.equal(code, 0, stderr.join('\n'));
  const report = JSON.parse(readFileSync(json, 'utf8')) as ReliabilityReport;
  t.same(report.examples!['openai/gpt-4o']!.map((e) => e.id), ['b', 'c'], 'highest scores in the window first, --examples of them');
  const html = readFileSync(out, 'utf8');
  t.match(html, /Worst examples/);
  t.match(html, /It opened in 1925\./);
  t.notMatch(html, /The tower is/, 'only the worst N');
});
