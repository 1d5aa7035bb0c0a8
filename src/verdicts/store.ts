import type { Redis } from 'ioredis';
import type { Verdict } from '../detect/verdict.js';

/**
 * Verdicts live in Redis under `<prefix>:verdict:<id>` with a TTL. Writes are set-if-absent, so a
 * retried or duplicated job can never rewrite a verdict already stored.
 */
export class VerdictStore {
  constructor(
    private readonly redis: Redis,
    private readonly prefix: string,
    private readonly ttlSeconds: number,
  ) {}

  key(id: string): string {
    return `${this.prefix}:verdict:${id}`;
  }

  /** True when this call stored the verdict, false when one was already there. */
  async putIfAbsent(verdict: Verdict): Promise<boolean> {
    const res = await this.redis.set(this.key(verdict.id), JSON.stringify(verdict), 'EX', this.ttlSeconds, 'NX');
    return res === 'OK';
  }

  async get(id: string): Promise<Verdict | undefined> {
    const text = await this.redis.get(this.key(id));
    return text === null ? undefined : (JSON.parse(text) as Verdict);
  }
}

/** Removes every piece of prompt or response text from a verdict (capture.storeText: false). */
export function withoutText(verdict: Verdict): Verdict {
  return {
    ...verdict,
    hallucination: {
      ...verdict.hallucination,
      claims: verdict.hallucination.claims.map(({ text: _t, evidence: _e, ...rest }) => ({ ...rest, text: '' })),
    },
  };
}
