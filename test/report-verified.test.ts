import t from 'tap';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { compareMain } from '../src/report/compare/main.js';
import { moments, ppiPlusPlus, rateDifference } from '../src/report/estimators.js';
import { reportMain, type ReliabilityReport } from '../src/report/report.js';
import { seedLabelled } from './helpers/labelled-seed.js';
import { startRedisWithClient } from './helpers/redis.js';

// Verified rates in `veracity report` and `report --compare`, from a real Redis holding verdicts
// (with the aggregates the workers keep) and labels, through the commands themselves.

const A = { provider: 'openai' as const, model: 'gpt-verified-a', checks: 400, trueRate: 0.3, randomLabels: 80, feedbackLabels: 15 };
const B = { provider: 'anthropic' as const, model: 'claude-verified-b', checks: 300, trueRate: 0.1, randomLabels: 60, feedbackLabels: 5 };

async function run(t: Tap.Test, main: () => Promise<number>): Promise<{ code: number; stderr: string; stdout: string }> {
  const errors: string[] = [];
  const outs: string[] = [];
  const orig = console.error;
  console.error = (...a: unknown[]) => void errors.push(a.join(' '));
  let code: number;
  try {
    code = await main();
  } finally {
    console.error = orig;
  }
  return { code, stderr: errors.join('\n'), stdout: outs.join('') };
}

t.test('report and compare carry verified rates from random labels and every check', async (t) => {
  const { redis, client } = await startRedisWithClient(t);
  const seeded = await seedLabelled(client, 'veracity', [A, B]);
  const dir = mkdtempSync(join(tmpdir(), 'veracity-verified-'));
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));

  const { code, stderr } = await run(t, () => reportMain(['--since', '1h', '--source', 'redis', '--redis', redis.url, '--out', join(dir, 'r.html'), '--json', join(dir, 'r.json')]));
  t.equal(code, 0, stderr);
  const report = JSON.parse(readFileSync(join(dir, 'r.json'), 'utf8')) as ReliabilityReport;
  for (const m of seeded.models) {
    const row = report.models.find((r) => r.model === m.model)!;
    t.ok(row, `${m.model} in the report`);
    const v = row.verified!;
    t.equal(v.method, 'ppi', 'the contract names the method ppi');
    t.equal(v.labels, m.randomLabels, 'random labels only');
    t.equal(v.feedback, m.feedback.length, 'feedback labels counted apart');
    t.equal(v.checks, m.checks);
    // The same estimate from the seed's own arrays: the aggregates' sums and the label store's
    // copies of the scores carry exactly what the estimator needs.
    const want = ppiPlusPlus(m.random.map((i) => ({ score: m.scores[i]!, label: m.truth[i]! })), moments(m.scores))!;
    t.ok(Math.abs(v.rate! - want.rate) < 1e-9, `${m.model}: rate ${v.rate} = ${want.rate}`);
    t.ok(Math.abs(v.ci95!.lo - want.ci95.lo) < 1e-9 && Math.abs(v.ci95!.hi - want.ci95.hi) < 1e-9, 'interval');
    t.ok(v.ci95!.lo <= m.share && m.share <= v.ci95!.hi, `${m.model}: [${v.ci95!.lo.toFixed(3)}, ${v.ci95!.hi.toFixed(3)}] covers the population's share ${m.share.toFixed(3)}`);
    const meanScore = m.scores.reduce((a, b) => a + b, 0) / m.checks;
    t.ok(Math.abs(v.rate! - m.share) < Math.abs(meanScore - m.share), `the labels correct the detector's bias (mean score ${meanScore.toFixed(3)})`);
    // Feedback labels (all hallucinated) would have pulled the estimate up, had they entered it.
    const withFeedback = ppiPlusPlus([...m.random, ...m.feedback].map((i) => ({ score: m.scores[i]!, label: m.feedback.includes(i) ? true : m.truth[i]! })), moments(m.scores))!;
    t.ok(withFeedback.rate > v.rate!, 'feedback would have biased it up');
    t.ok(v.narrowing! > 0 && v.narrowing! < 0.01, `one more label narrows by ${v.narrowing}`);
    t.ok(v.refusal && v.refusal.labels === m.randomLabels, 'a refusal estimate where refusal labels exist');
    t.ok(v.calibration.reliability.reduce((s, b) => s + b.n, 0) === m.randomLabels, 'reliability bins hold every random label');
    t.ok(v.calibration.certainty.length > 1, 'certainty bins from the labelled claims');
  }
  const html = readFileSync(join(dir, 'r.html'), 'utf8');
  t.match(html, /Verified hallucination rates/);
  t.match(html, /<title>Detector reliability<\/title>/);
  t.match(html, /<title>Model certainty vs wrongness<\/title>/);
  t.match(html, /never estimated from/, 'the page says why feedback labels are left out');
  t.equal(html.match(/<script/gi), null, 'still no script');

  // --compare: the difference between the two verified rates, with its interval.
  const out: string[] = [];
  const cmp = await compareMain(['--compare', A.model, B.model, '--since', '1h', '--redis', redis.url, '--json', join(dir, 'c.json'), '--out', join(dir, 'c.html')], {
    out: (s) => void out.push(s),
    err: (s) => void out.push(s),
  });
  t.equal(cmp, 0, out.join(''));
  const c = JSON.parse(readFileSync(join(dir, 'c.json'), 'utf8'));
  const [ma, mb] = seeded.models as [(typeof seeded.models)[0], (typeof seeded.models)[0]];
  const ea = ppiPlusPlus(ma.random.map((i) => ({ score: ma.scores[i]!, label: ma.truth[i]! })), moments(ma.scores))!;
  const eb = ppiPlusPlus(mb.random.map((i) => ({ score: mb.scores[i]!, label: mb.truth[i]! })), moments(mb.scores))!;
  const d = rateDifference(ea, eb);
  t.equal(c.verified.a.provider, 'openai', 'provider found from the labels');
  t.equal(c.verified.b.provider, 'anthropic');
  t.ok(Math.abs(c.verified.difference.difference - d.difference) < 1e-9, `difference ${c.verified.difference.difference}`);
  t.ok(Math.abs(c.verified.difference.ci95.lo - d.ci95.lo) < 1e-9 && Math.abs(c.verified.difference.ci95.hi - d.ci95.hi) < 1e-9);
  t.ok(d.ci95.hi - d.ci95.lo > ea.ci95.hi - ea.ci95.lo, 'the difference is less certain than either rate');
  t.match(out.join(''), /A − B: \+\d+\.\d pts \[/);
  t.ok(existsSync(join(dir, 'c.html')) && /Verified hallucination rates/.test(readFileSync(join(dir, 'c.html'), 'utf8')));
});

t.test('without labels the field says why there is no estimate', async (t) => {
  const { redis, client } = await startRedisWithClient(t);
  await seedLabelled(client, 'veracity', [{ ...A, randomLabels: 1, feedbackLabels: 3 }]);
  const dir = mkdtempSync(join(tmpdir(), 'veracity-verified-'));
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  const { code } = await run(t, () => reportMain(['--since', '1h', '--source', 'redis', '--redis', redis.url, '--out', join(dir, 'r.html'), '--json', join(dir, 'r.json')]));
  t.equal(code, 0);
  const v = (JSON.parse(readFileSync(join(dir, 'r.json'), 'utf8')) as ReliabilityReport).models[0]!.verified!;
  t.same({ method: v.method, labels: v.labels, rate: v.rate, ci95: v.ci95, feedback: v.feedback }, { method: 'ppi', labels: 1, rate: null, ci95: null, feedback: 3 });
  t.match(v.note, /at least 2/);
});
