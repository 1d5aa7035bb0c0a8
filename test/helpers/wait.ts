/**
 * Polls `probe` until it gives a value (anything but undefined, null or false), then returns it;
 * after `ms`, fails naming what was awaited and the probe's last error. A probe that throws is
 * tried again: what it reads may not be up yet.
 */
export async function until<T>(what: string, ms: number, probe: () => T | null | undefined | false | Promise<T | null | undefined | false>, everyMs = 50): Promise<T> {
  const deadline = Date.now() + ms;
  let last: unknown;
  for (;;) {
    try {
      const v = await probe();
      if (v !== undefined && v !== null && v !== false) return v;
    } catch (err) {
      last = err;
    }
    if (Date.now() > deadline) throw new Error(`timed out after ${ms} ms waiting for ${what}${last ? `: ${(last as Error).message}` : ''}`);
    await new Promise((r) => setTimeout(r, everyMs));
  }
}

/**
 * Budgets that Redis keeps per clock minute (`RedisTokenBudget`) start afresh when the minute
 * turns. A test that spends a minute's budget and then expects it spent waits, when fewer than
 * `ms` are left of the current minute, for the next one to begin, so both steps fall in one.
 */
export async function withinOneMinute(ms = 5_000): Promise<void> {
  const left = 60_000 - (Date.now() % 60_000);
  if (left < ms) await new Promise((r) => setTimeout(r, left + 50));
}
