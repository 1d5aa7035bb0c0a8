/**
 * Which verdicts of model A and model B answered the same prompt, and which one of each counts.
 *
 * The unit is the prompt: verdicts with the same `prompt_hash` answered the same prompt, and a
 * shadow model's verdict answered exactly its original's request (`shadow_of`), whatever the
 * hashes say. Each prompt that both models answered gives one pair, so that a prompt asked a
 * thousand times weighs as much as one asked once and the pairs stay independent, as McNemar's
 * test assumes. When a model answered a prompt several times, its most recent verdict counts; a
 * shadow pair (the two answers to one request) is preferred over any other, being the closest
 * comparison there is. The rest are counted as set aside.
 */

export type Measure = 'hallucination' | 'refusal' | 'confidence_mismatch';
export const MEASURES: readonly Measure[] = ['hallucination', 'refusal', 'confidence_mismatch'];

/** What the comparison needs of a verdict. */
export interface Scored {
  id: string;
  provider: string;
  model: string;
  /** Analysis time, epoch ms, when the verdict carries one. */
  at?: number;
  promptHash?: string;
  shadowOf?: string;
  app?: string;
  flagged: Record<Measure, boolean>;
  score: Record<Measure, number>;
  refusalKind: string;
  /** The least supported claims (text is empty when it was not stored). */
  claims: Array<{ text: string; support: string; score: number }>;
}

export interface Pair {
  a: Scored;
  b: Scored;
  /** One answered the other's request as a shadow model, or both shadowed one request. */
  shadow: boolean;
}

export interface PairingCounts {
  /** Verdicts of each model considered (in the window, analysed, not skipped). */
  verdicts: { a: number; b: number };
  /** Verdicts on prompts the other model did not answer. */
  unpaired: { a: number; b: number };
  /** Older (or non-shadow) verdicts on a prompt that is paired through another verdict. */
  setAside: { a: number; b: number };
  /** Verdicts without a prompt_hash (stored before it existed): they pair only through shadow_of. */
  withoutHash: { a: number; b: number };
  prompts: number;
  shadowPairs: number;
}

export interface Pairing extends PairingCounts {
  pairs: Pair[];
}

const root = (v: Scored) => v.shadowOf ?? v.id;
const newer = (x: Scored, y: Scored) => (x.at ?? -Infinity) - (y.at ?? -Infinity) || (x.id < y.id ? -1 : x.id > y.id ? 1 : 0);
const latest = (list: Scored[]) => list.reduce((best, v) => (newer(v, best) > 0 ? v : best));

/** Union-find over prompt keys, so a shadow link joins the prompts its two ends hashed to. */
class Units {
  private readonly parent = new Map<string, string>();
  find(k: string): string {
    let r = k;
    for (let p = this.parent.get(r); p !== undefined && p !== r; p = this.parent.get(r)) r = p;
    if (!this.parent.has(r)) this.parent.set(r, r);
    this.parent.set(k, r);
    return r;
  }
  union(x: string, y: string): void {
    const rx = this.find(x);
    const ry = this.find(y);
    if (rx !== ry) this.parent.set(rx < ry ? ry : rx, rx < ry ? rx : ry);
  }
}

export function pairVerdicts(a: Scored[], b: Scored[]): Pairing {
  const keyOf = (v: Scored) => (v.promptHash ? `h:${v.promptHash}` : `r:${root(v)}`);
  const units = new Units();
  const aByRoot = new Map<string, Scored[]>();
  for (const v of a) {
    const list = aByRoot.get(root(v)) ?? [];
    list.push(v);
    aByRoot.set(root(v), list);
  }
  const shadowLinks: Array<[Scored, Scored]> = [];
  for (const v of b) {
    for (const u of aByRoot.get(root(v)) ?? []) {
      shadowLinks.push([u, v]);
      units.union(keyOf(u), keyOf(v));
    }
  }

  const groups = new Map<string, { a: Scored[]; b: Scored[]; shadow: Array<[Scored, Scored]> }>();
  const group = (v: Scored) => {
    const k = units.find(keyOf(v));
    let g = groups.get(k);
    if (!g) groups.set(k, (g = { a: [], b: [], shadow: [] }));
    return g;
  };
  for (const v of a) group(v).a.push(v);
  for (const v of b) group(v).b.push(v);
  for (const link of shadowLinks) group(link[0]).shadow.push(link);

  const out: Pairing = {
    pairs: [],
    verdicts: { a: a.length, b: b.length },
    unpaired: { a: 0, b: 0 },
    setAside: { a: 0, b: 0 },
    withoutHash: { a: a.filter((v) => !v.promptHash).length, b: b.filter((v) => !v.promptHash).length },
    prompts: 0,
    shadowPairs: 0,
  };
  for (const g of groups.values()) {
    if (g.a.length === 0 || g.b.length === 0) {
      out.unpaired.a += g.a.length;
      out.unpaired.b += g.b.length;
      continue;
    }
    let pair: Pair;
    if (g.shadow.length > 0) {
      const [x, y] = g.shadow.reduce((best, link) => {
        const top = (l: [Scored, Scored]) => (newer(l[0], l[1]) >= 0 ? l[0] : l[1]);
        return newer(top(link), top(best)) > 0 ? link : best;
      });
      pair = { a: x, b: y, shadow: true };
      out.shadowPairs++;
    } else {
      pair = { a: latest(g.a), b: latest(g.b), shadow: false };
    }
    out.pairs.push(pair);
    out.setAside.a += g.a.length - 1;
    out.setAside.b += g.b.length - 1;
  }
  out.prompts = out.pairs.length;
  // A stable order (newest first) keeps reports of the same data identical.
  out.pairs.sort((x, y) => newer(y.a, x.a) || newer(y.b, x.b));
  return out;
}
