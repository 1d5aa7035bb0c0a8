import { createHash } from 'node:crypto';
import type { Verdict } from '../../src/detect/verdict.js';
import type { Comparison, PairedMeasure } from '../../src/report/compare/figures.js';

/**
 * A seeded set of verdicts for `report --compare` with every count known by construction.
 *
 * A = openai gpt-4o, B = anthropic claude-sonnet, on 263 prompts both answered:
 *   hallucination        both 60, only A 21, only B 9, neither 173
 *   refusal              both 2,  only A 1,  only B 7, neither 253
 *   confidence mismatch  none flagged
 * plus everything the pairing must see through: shadow pairs (prompts 0..9, 12, 13), an older A
 * verdict on prompt 10 and an older B verdict on prompt 11 flagged the other way, a newer
 * non-shadow B verdict on shadow-paired prompt 12 flagged the other way, a legacy shadow pair
 * without prompt_hash (13), 40 prompts only A answered and 3 only B answered, 5 pairs outside a
 * 24 h window, a skipped B verdict on an A-only prompt, and a third model on every prompt.
 */

export const MODEL_A = 'gpt-4o';
export const MODEL_B = 'claude-sonnet';
export const N_PAIRS = 263;

const hashOf = (i: number | string) => createHash('sha256').update(`prompt ${i}`).digest('hex').slice(0, 32);

type Flags = { h: boolean; r: boolean };

function make(id: string, provider: 'openai' | 'anthropic', model: string, at: number, flags: Flags, hScore: number, extra: Partial<Verdict> = {}): Verdict {
  const claimText = `Claim ${id} that the context does not support.`;
  return {
    id,
    provider,
    model,
    grounded: true,
    hallucination: {
      flagged: flags.h,
      score: hScore,
      claims: [
        { text: 'A supported sentence.', start: 0, end: 21, support: 'supported', score: 0.05 },
        ...(flags.h ? [{ text: claimText, start: 22, end: 22 + claimText.length, support: 'unsupported' as const, score: hScore }] : []),
      ],
    },
    confidence_mismatch: { flagged: false, score: 0.1 },
    refusal: flags.r ? { flagged: true, kind: 'full', score: 0.9 } : { flagged: false, kind: 'none', score: 0.02 },
    analysed_at: new Date(at).toISOString(),
    ...extra,
  };
}

export interface Seed {
  verdicts: Verdict[];
  /** End of the window, Unix seconds. */
  atSeconds: number;
}

/** Category of prompt i for hallucination (h) and refusal (r): which of A and B are flagged. */
export function expectedFlags(i: number): { a: Flags; b: Flags } {
  const h = i < 60 ? [true, true] : i < 81 ? [true, false] : i < 90 ? [false, true] : [false, false];
  const r = i < 2 ? [true, true] : i < 3 ? [true, false] : i < 10 ? [false, true] : [false, false];
  return { a: { h: h[0]!, r: r[0]! }, b: { h: h[1]!, r: r[1]! } };
}

export function seedVerdicts(nowMs = Date.now()): Seed {
  const atSeconds = Math.floor(nowMs / 1000);
  const end = atSeconds * 1000;
  const out: Verdict[] = [];
  for (let i = 0; i < N_PAIRS; i++) {
    const f = expectedFlags(i);
    const tA = end - 3_600_000 - i * 10_000;
    const tB = tA + 1000;
    // Only-A hallucinations: A's score rises with i, B's stays at 0.2, so prompt 80 has the widest gap (0.95 - 0.2).
    const scoreA = f.a.h ? (i >= 60 && i < 81 ? 0.55 + (i - 60) * 0.02 : 0.8) : 0.1;
    const scoreB = f.b.h ? (i >= 81 && i < 90 ? 0.6 + (i - 81) * 0.01 : 0.7) : i >= 60 && i < 81 ? 0.2 : 0.1;
    const hash = i === 13 ? undefined : hashOf(i);
    const withHash = (v: Verdict) => (hash ? { ...v, prompt_hash: hash } : v);
    out.push(withHash(make(`a-${i}`, 'openai', MODEL_A, tA, f.a, scoreA)));
    const shadow = i < 10 || i === 12 || i === 13;
    out.push(withHash(make(`b-${i}`, 'anthropic', MODEL_B, tB, f.b, scoreB, shadow ? { shadow_of: `a-${i}` } : {})));
    // A third model on every prompt: never part of the comparison.
    out.push(withHash(make(`c-${i}`, 'openai', 'gpt-4o-mini', tB, { h: true, r: true }, 0.99)));
  }
  const flip = (f: Flags) => ({ h: !f.h, r: !f.r });
  // Prompt 10: an older A verdict flagged the other way: the newer one counts.
  out.push({ ...make('a-10-old', 'openai', MODEL_A, end - 7_200_000, flip(expectedFlags(10).a), 0.5), prompt_hash: hashOf(10) });
  // Prompt 11: an older B verdict flagged the other way.
  out.push({ ...make('b-11-old', 'anthropic', MODEL_B, end - 7_200_000, flip(expectedFlags(11).b), 0.5), prompt_hash: hashOf(11) });
  // Prompt 12: a shadow pair, and a newer ordinary B verdict flagged the other way: the shadow pair counts.
  out.push({ ...make('b-12-new', 'anthropic', MODEL_B, end - 60_000, flip(expectedFlags(12).b), 0.5), prompt_hash: hashOf(12) });
  // Prompts only one model answered.
  for (let i = 0; i < 40; i++) out.push({ ...make(`a-only-${i}`, 'openai', MODEL_A, end - 1_800_000 - i * 1000, { h: true, r: true }, 0.9), prompt_hash: hashOf(`a-only-${i}`) });
  for (let i = 0; i < 3; i++) out.push({ ...make(`b-only-${i}`, 'anthropic', MODEL_B, end - 1_800_000 - i * 1000, { h: true, r: true }, 0.9), prompt_hash: hashOf(`b-only-${i}`) });
  // A verdict the worker skipped, on a prompt only A answered: it must not make a pair.
  out.push({ ...make('b-skipped', 'anthropic', MODEL_B, end - 1_800_000, { h: false, r: false }, 0), prompt_hash: hashOf('a-only-0'), skipped: 'tool_calls_only' });
  // Five pairs analysed 25 hours before the window's end.
  for (let i = 0; i < 5; i++) {
    out.push({ ...make(`a-old-${i}`, 'openai', MODEL_A, end - 25 * 3_600_000, { h: true, r: true }, 0.9), prompt_hash: hashOf(`old-${i}`) });
    out.push({ ...make(`b-old-${i}`, 'anthropic', MODEL_B, end - 25 * 3_600_000 + 1000, { h: false, r: false }, 0.1), prompt_hash: hashOf(`old-${i}`) });
  }
  return { verdicts: out, atSeconds };
}

// ---- Expected values, computed here without the code under test --------------------------------

/** Two-sided exact McNemar p as an exact rational, 2·Σ_{i≤min(b,c)} C(b+c, i) / 2^(b+c), capped at 1. */
export function exactMcNemar(b: number, c: number): number {
  const m = BigInt(b + c);
  if (m === 0n) return 1;
  let coef = 1n; // C(m, 0)
  let sum = 1n;
  for (let i = 1n; i <= BigInt(Math.min(b, c)); i++) {
    coef = (coef * (m - i + 1n)) / i;
    sum += coef;
  }
  const num = 2n * sum;
  const den = 2n ** m;
  if (num >= den) return 1;
  // Forty decimal digits of the ratio, then to a double.
  return Number((num * 10n ** 40n) / den) / 1e40;
}

/** Wilson score interval written out from Wilson (1927), z = 1.959964. */
export function wilsonByHand(k: number, n: number): [number, number] {
  const z = 1.959963984540054;
  const p = k / n;
  const centre = p + (z * z) / (2 * n);
  const spread = z * Math.sqrt((p * (1 - p)) / n + (z * z) / (4 * n * n));
  const denom = 1 + (z * z) / n;
  return [(centre - spread) / denom, (centre + spread) / denom];
}

export const near = (got: number | undefined | null, want: number, eps: number) => typeof got === 'number' && Math.abs(got - want) <= eps;

// ---- The seeded set: expected figures ----------------------------------------------------------

/** The assertions of a tap test that checkFigures uses. */
// eslint-disable-next-line @typescript-eslint/no-explicit-any
type Assert = (...args: any[]) => unknown;
interface T {
  equal: Assert;
  same: Assert;
  ok: Assert;
  match: Assert;
}

export function checkFigures(t: T, c: Comparison, source: 'file' | 'redis') {
  t.equal(c.pairing.prompts, N_PAIRS, '263 prompts answered by both');
  t.equal(c.pairing.shadowPairs, 12);
  t.same(c.pairing.verdicts, { a: 304, b: 268 }, 'verdicts in the window: paired + older + unpaired');
  t.same(c.pairing.setAside, { a: 1, b: 2 }, 'the older A on prompt 10, the older B on 11, the newer non-shadow B on 12');
  t.same(c.pairing.unpaired, { a: 40, b: 3 });
  t.same(c.pairing.withoutHash, { a: 1, b: 1 });
  t.equal(c.pairing.skipped, 1);
  // Read from a file every verdict is seen and those before the window counted; Redis reads only the window.
  t.equal(c.pairing.outsideWindow, source === 'file' ? 10 : 0);

  const table = (m: PairedMeasure) => [m.both, m.onlyA, m.onlyB, m.neither, m.n];
  t.same(table(c.hallucination), [60, 21, 9, 173, 263]);
  t.same(table(c.refusal), [2, 1, 7, 253, 263]);
  t.same(table(c.confidence_mismatch), [0, 0, 0, 263, 263]);

  // A's hallucination rate, 81/263, is Newcombe's (1998, Statistics in Medicine 17:857) worked
  // example for the Wilson interval: 0.2553 to 0.3662.
  const h = c.hallucination;
  t.same([h.a.count, h.a.of], [81, 263]);
  t.ok(near(h.a.ci95?.lo, 0.2553, 5e-5) && near(h.a.ci95?.hi, 0.3662, 5e-5), `Wilson 81/263 = [${h.a.ci95?.lo}, ${h.a.ci95?.hi}]`);
  for (const [fig, k] of [[h.a, 81], [h.b, 69], [c.refusal.a, 3], [c.refusal.b, 9], [c.confidence_mismatch.a, 0]] as const) {
    const [lo, hi] = wilsonByHand(k, 263);
    t.ok(near(fig.rate, k / 263, 1e-12) && near(fig.ci95?.lo, lo, 1e-12) && near(fig.ci95?.hi, hi, 1e-12), `${k}/263 rate and Wilson interval`);
  }
  t.ok(near(c.confidence_mismatch.b.ci95?.hi, 3.841458820694124 / (263 + 3.841458820694124), 1e-12), '0/263: upper bound z²/(n + z²)');
  t.ok(near(h.difference, 12 / 263, 1e-12), 'A − B = (21 − 9)/263');

  t.equal(h.mcnemar.discordant, 30);
  t.ok(near(h.mcnemar.p, exactMcNemar(21, 9), 1e-12), `hallucination p ${h.mcnemar.p}`);
  t.ok(h.mcnemar.p > 0.04 && h.mcnemar.p < 0.05, 'just under 0.05');
  t.equal(c.refusal.mcnemar.p, 18 / 256, 'refusal p = 2·(1 + 8)/256');
  t.equal(c.confidence_mismatch.mcnemar.p, 1);

  const ex = h.examples.onlyA;
  t.equal(ex.length, 3, '--examples 3');
  t.same(ex.map((e) => e.a.id), ['a-80', 'a-79', 'a-78'], 'widest score gap first');
  t.ok(near(ex[0]!.gap, 0.75, 1e-9));
  t.equal(ex[0]!.b.id, 'b-80');
  t.match(ex[0]!.a.claims[0]?.text ?? '', /^Claim a-80 /, 'the flagged claim, with its text');
  t.same(h.examples.onlyB.map((e) => e.b.id), ['b-89', 'b-88', 'b-87']);
  t.ok(c.notes.some((n) => /hallucination: gpt-4o is flagged more often than claude-sonnet .*p = 0\.04/.test(n)), c.notes.join('\n'));
  t.ok(c.notes.some((n) => /refusal: no difference shown at the 5% level/.test(n)));
  t.ok(c.notes.some((n) => /confidence mismatch: the models disagree on 0 prompts; with fewer than 6/.test(n)));
}

