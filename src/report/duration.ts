/** Durations as Prometheus writes them (`90m`, `1h30m`, `7d`), for every window the report, the comparison and the console take. */

export const DURATION = /^(\d+(ms|s|m|h|d|w|y))+$/;

const UNIT_MS: Record<string, number> = { ms: 1, s: 1000, m: 60_000, h: 3_600_000, d: 86_400_000, w: 604_800_000, y: 31_536_000_000 };

/** The duration in milliseconds, or undefined when `text` is not one or is zero. */
export function durationMs(text: string): number | undefined {
  if (!DURATION.test(text)) return undefined;
  let total = 0;
  for (const [, n, unit] of text.matchAll(/(\d+)(ms|s|m|h|d|w|y)/g)) total += Number(n) * UNIT_MS[unit!]!;
  return total > 0 ? total : undefined;
}

/** Whole seconds in a duration; 0 when `text` is not one. */
export function durationSeconds(text: string): number {
  return Math.floor((durationMs(text) ?? 0) / 1000);
}
