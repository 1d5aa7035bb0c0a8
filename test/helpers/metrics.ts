/** Reading Prometheus text from a running process's /metrics, as a scrape would. */

/** Sum of the samples of `name` whose labels include all of `labels`. */
export async function metricValue(baseUrl: string, name: string, labels: Record<string, string> = {}): Promise<number> {
  const text = await (await fetch(`${baseUrl}/metrics`)).text();
  const want = Object.entries(labels).map(([k, v]) => `${k}="${v}"`);
  let total = 0;
  for (const line of text.split('\n')) {
    if (!line.startsWith(name + '{') && !line.startsWith(name + ' ')) continue;
    if (want.every((w) => line.includes(w))) total += Number(line.slice(line.lastIndexOf(' ') + 1));
  }
  return total;
}

/**
 * A counter's value once it reaches `expected`, or as it stands after `withinMs`. A verdict is
 * readable the moment the worker's write lands in Redis, a moment before that worker moves its
 * counters, so a count read right after the verdict may lag it; the caller still compares what
 * this returns, so a count that never arrives, or overshoots, fails.
 */
export async function settledMetric(baseUrl: string, name: string, labels: Record<string, string>, expected: number, withinMs = 10_000): Promise<number> {
  const deadline = Date.now() + withinMs;
  let now = await metricValue(baseUrl, name, labels);
  while (now < expected && Date.now() < deadline) {
    await new Promise((r) => setTimeout(r, 50));
    now = await metricValue(baseUrl, name, labels);
  }
  return now;
}
