import type { Redis } from 'ioredis';
import type { RawExchange } from '../capture/raw.js';

/**
 * The job format shared by proxies (which write it) and workers (which read it).
 *
 * One BullMQ job carries a batch of exchanges: BullMQ's per-job work (job object, serialisation,
 * its add script in Redis, then the worker's fetch, lock and finish scripts) is paid once per
 * batch. The captured bodies do not travel inside the job's JSON: each exchange's bytes go to
 * Redis as one binary string, written as soon as the exchange ends, so the proxy never decodes,
 * escapes or re-encodes them and copies them once. The job carries the small metadata only.
 */

/** Most exchanges carried by one job. */
export const MAX_BATCH = 64;
/** A batch stops taking exchanges once it holds this many captured bytes (a larger exchange goes alone). */
export const MAX_BATCH_BYTES = 1024 * 1024;
/** Bodies of a job that never completes are kept this long, like failed jobs, then expire. */
export const BODY_TTL_MS = 24 * 3600 * 1000;

export type ExchangeMeta = Omit<RawExchange, 'request' | 'response'>;

/** An exchange as the proxy captured it: metadata, and the request then the response bytes. */
export interface Captured {
  meta: ExchangeMeta;
  /** Request body as sent upstream (possibly cut at capture.maxBodyBytes), then the response body as received (still content-encoded when `meta.responseEncoding` is set). */
  body: Buffer;
  /** Where the request ends and the response starts in `body`. */
  requestBytes: number;
}

/** An exchange inside a job: its metadata and where its bytes are. */
export interface QueuedExchange extends ExchangeMeta {
  /** Redis key of the body bytes. */
  body: string;
  requestBytes: number;
}

export interface BatchJob {
  exchanges: QueuedExchange[];
}

/** A job's data: a batch, or (from older proxies) one exchange with its bodies inline. */
export type JobData = BatchJob | RawExchange;

export function bodyKey(prefix: string, id: string): string {
  return `${prefix}:body:${id}`;
}

export function batchSize(data: JobData): number {
  return isBatch(data) ? data.exchanges.length : 1;
}

function isBatch(data: JobData): data is BatchJob {
  return Array.isArray((data as BatchJob).exchanges);
}

/**
 * Rebuilds the RawExchanges of a job. An exchange whose bytes are gone (expired, evicted) comes
 * back as undefined, so the caller can count it as lost instead of analysing empty text.
 */
export async function readExchanges(redis: Redis, data: JobData): Promise<Array<RawExchange | undefined>> {
  if (!isBatch(data)) return [data];
  if (data.exchanges.length === 0) return [];
  const bodies = await redis.mgetBuffer(...data.exchanges.map((e) => e.body));
  return data.exchanges.map(({ body: _key, requestBytes, ...meta }, i) => {
    const body = bodies[i];
    if (!body || body.length < requestBytes) return undefined;
    return {
      ...meta,
      request: body.toString('utf8', 0, requestBytes),
      // RawExchange carries a compressed body as base64 (see decode.ts).
      response: body.toString(meta.responseEncoding ? 'base64' : 'utf8', requestBytes),
    };
  });
}

/** Frees a batch's bodies once every exchange in it has been analysed. */
export async function deleteBodies(redis: Redis, data: JobData): Promise<void> {
  if (isBatch(data) && data.exchanges.length > 0) await redis.unlink(...data.exchanges.map((e) => e.body));
}
