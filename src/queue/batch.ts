import type { RedisConnection as Redis } from '../redis/connection.js';
import type { RawExchange } from '../capture/raw.js';

/**
 * The job format shared by proxies (which write it) and workers (which read it).
 *
 * One BullMQ job carries a batch of exchanges: BullMQ's per-job work (job object, serialisation,
 * its add script in Redis, then the worker's fetch, lock and finish scripts) is paid once per
 * batch. The captured bodies do not travel inside the job's JSON: the batch's bytes go to Redis
 * as one binary string (every exchange's request then response, one after another), so the proxy
 * never decodes, escapes or re-encodes them. The job carries the small metadata only, with where
 * each exchange's bytes sit in that string. The string is written in the same socket write as
 * the job, just before it, on the same connection: Redis runs the two in order, so a worker that
 * sees the job finds the bytes.
 */

/** Most exchanges carried by one job. */
export const MAX_BATCH = 64;
/** A batch stops taking exchanges once it holds this many captured bytes (a larger exchange goes alone). */
export const MAX_BATCH_BYTES = 1024 * 1024;
/** Bodies of a job that never completes are kept this long, like failed jobs, then expire. */
export const BODY_TTL_MS = 24 * 3600 * 1000;

export type ExchangeMeta = Omit<RawExchange, 'request' | 'response'>;

/**
 * Captured bytes still where the proxy copied them as they passed (its CaptureBuffer): the
 * producer copies them once, straight into the batch's string, then gives their memory back.
 */
export interface HeldBytes {
  readonly byteLength: number;
  copyTo(target: Buffer, at: number): number;
  release(): void;
}

/** Bytes already in a buffer of their own, held the same way (releasing them is a no-op). */
export function heldBuffer(bytes: Buffer): HeldBytes {
  return { byteLength: bytes.length, copyTo: (target, at) => bytes.copy(target, at), release: () => {} };
}

/** An exchange as the proxy captured it: metadata, and the request then the response bytes. */
export interface Captured {
  meta: ExchangeMeta;
  /** Request body as sent upstream (possibly cut at capture.maxBodyBytes), then the response body as received (still content-encoded when `meta.responseEncoding` is set). */
  body: Buffer | HeldBytes;
  /** Where the request ends and the response starts in `body`. */
  requestBytes: number;
}

/** An exchange inside a job: its metadata and where its bytes are. */
export interface QueuedExchange extends ExchangeMeta {
  /** Redis key of the bytes. */
  body: string;
  /** Where the exchange's bytes start in that string, and how many there are. Absent in jobs from older proxies, which wrote a string per exchange. */
  offset?: number;
  bytes?: number;
  requestBytes: number;
}

export interface BatchJob {
  exchanges: QueuedExchange[];
}

/** A job's data: a batch, or (from older proxies) one exchange with its bodies inline. */
export type JobData = BatchJob | RawExchange;

/** The key of a batch's bytes: named after its first exchange, like its job. */
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
  const keys = bodyKeys(data);
  const values = await redis.mgetBuffer(...keys);
  const byKey = new Map(keys.map((k, i) => [k, values[i]]));
  return data.exchanges.map(({ body: key, offset, bytes, requestBytes, ...meta }) => {
    let body = byKey.get(key) ?? undefined;
    if (body && offset !== undefined) {
      const end = offset + (bytes ?? 0);
      body = body.length >= end ? body.subarray(offset, end) : undefined;
    }
    if (!body || body.length < requestBytes) return undefined;
    return {
      ...meta,
      request: body.toString('utf8', 0, requestBytes),
      // RawExchange carries a compressed body as base64 (see decode.ts).
      response: body.toString(meta.responseEncoding ? 'base64' : 'utf8', requestBytes),
    };
  });
}

/** The distinct keys holding a batch's bytes: one, or one per exchange from older proxies. */
function bodyKeys(data: BatchJob): string[] {
  return [...new Set(data.exchanges.map((e) => e.body))];
}

/** Frees a batch's bytes once every exchange in it has been analysed. */
export async function deleteBodies(redis: Redis, data: JobData): Promise<void> {
  if (isBatch(data) && data.exchanges.length > 0) await redis.unlink(...bodyKeys(data));
}
