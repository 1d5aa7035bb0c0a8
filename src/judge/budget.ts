/**
 * A per-minute allowance of estimated tokens, shared by the calls of one optional scorer (the
 * judge, remote scoring). A call reserves its estimate before it is made; once this minute's
 * allowance is spent, calls are refused until the next minute begins.
 */
export class TokenBudget {
  private windowStart: number;
  private spent = 0;

  constructor(
    private readonly perMinute: number,
    private readonly now: () => number = Date.now,
  ) {
    this.windowStart = now();
  }

  /** Reserves `tokens`; false when they do not fit in this minute's allowance. */
  reserve(tokens: number): boolean {
    const now = this.now();
    if (now - this.windowStart >= 60_000) {
      this.windowStart = now;
      this.spent = 0;
    }
    if (this.spent + tokens > this.perMinute) return false;
    this.spent += tokens;
    return true;
  }
}
