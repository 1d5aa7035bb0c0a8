/** The slice of Prometheus' HTTP API the report needs: instant queries. */

export class PrometheusError extends Error {
  readonly code = 'VERACITY_ERR_PROMETHEUS';
  constructor(message: string) {
    super(message);
    this.name = 'PrometheusError';
  }
}

export interface Sample {
  metric: Record<string, string>;
  value: number;
}

interface ApiResponse {
  status: 'success' | 'error';
  data?: { resultType: string; result: Array<{ metric: Record<string, string>; value: [number, string] }> };
  errorType?: string;
  error?: string;
}

export interface QueryOptions {
  /** Evaluation time, Unix seconds; Prometheus' "now" when unset. */
  time?: number;
  timeoutMs?: number;
}

/** POST /api/v1/query; returns the vector's samples (NaN values are dropped). */
export async function queryInstant(baseUrl: string, query: string, options: QueryOptions = {}): Promise<Sample[]> {
  const url = new URL('api/v1/query', baseUrl.endsWith('/') ? baseUrl : `${baseUrl}/`);
  const body = new URLSearchParams({ query });
  if (options.time !== undefined) body.set('time', String(options.time));
  let res: Response;
  try {
    res = await fetch(url, {
      method: 'POST',
      body,
      headers: { accept: 'application/json' },
      signal: AbortSignal.timeout(options.timeoutMs ?? 15_000),
    });
  } catch (err) {
    const cause = (err as { cause?: { code?: string } }).cause?.code ?? (err as Error).message;
    throw new PrometheusError(`cannot reach Prometheus at ${url.origin}: ${cause}`);
  }
  let json: ApiResponse;
  try {
    json = (await res.json()) as ApiResponse;
  } catch {
    throw new PrometheusError(`Prometheus at ${url.origin} answered ${res.status} without a JSON body (is this Prometheus?)`);
  }
  if (json.status !== 'success' || !json.data) {
    throw new PrometheusError(`Prometheus rejected the query ${JSON.stringify(query)}: ${json.errorType ?? res.status}: ${json.error ?? 'no detail'}`);
  }
  if (json.data.resultType !== 'vector') {
    throw new PrometheusError(`expected a vector from ${JSON.stringify(query)}, got ${json.data.resultType}`);
  }
  return json.data.result
    .map((r) => ({ metric: r.metric, value: Number(r.value[1]) }))
    .filter((s) => !Number.isNaN(s.value));
}
