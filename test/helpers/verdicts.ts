/**
 * The verdict of exchange `id` from a proxy's admin API, waited for: the worker handles the
 * exchange after the client has its answer. Fails with the last status when none comes in time.
 */
export async function waitForVerdict<T = Record<string, any>>(baseUrl: string, id: string | null, withinMs = 20_000, headers: Record<string, string> = {}): Promise<T> {
  if (!id) throw new Error('no x-veracity-id');
  const deadline = Date.now() + withinMs;
  for (;;) {
    const res = await fetch(`${baseUrl}/veracity/v1/verdicts/${id}`, { headers });
    if (res.status === 200) return (await res.json()) as T;
    if (Date.now() > deadline) throw new Error(`no verdict for ${id} within ${withinMs} ms (last status ${res.status})`);
    await new Promise((r) => setTimeout(r, 25));
  }
}
